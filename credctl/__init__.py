"""credctl: keep container-registry credentials safe and wire them into Docker and Podman."""

__version__ = "0.1.0"
