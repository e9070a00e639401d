"""What a registry is called, by each tool that names one: the one home of these rules.

A registry reaches credctl in many spellings: `docker login`'s server address, an `auths` or
`credHelpers` key, an image reference, a kubelet request, a URL. Each function below says
whose rule it follows, because the tools differ and credctl must agree with each of them:

- docker/cli keys credHelpers and auths by host[:port], and Docker Hub by its v1 URL;
- containers/image (Podman, Buildah, Skopeo) keys credHelpers by host[:port], Docker Hub as
  docker.io;
- the distribution reference rules decide which part of an image reference is the registry;
- an ACR domain is matched on the bare host name (no port, no userinfo, lower case).

A helper is named by its suffix; the program Docker and Podman run is PREFIX + suffix.

Standard library only, nothing imported: every hot path imports this module.
"""

from __future__ import annotations

# The keys Docker Hub goes by: docker login's, then what containers/image and others ask for.
DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io")
DOCKER_HUB, PODMAN_HUB = DOCKER_HUB_KEYS[:2]  # docker/cli's key for Docker Hub; containers/image's
DOCKER_HUB_API = "registry-1.docker.io"  # where Docker Hub's /v2/ API lives
PREFIX = "docker-credential-"  # Docker and Podman run PREFIX + the helper named in credsStore or credHelpers
IDENTITY_TOKEN_USER = "<token>"  # docker-credential-helpers' username for an identity (refresh) token

_HUB_NAMES = frozenset(key.rstrip("/") for key in DOCKER_HUB_KEYS)


def helper_program(suffix: str) -> str:
    """The program Docker runs for a credsStore or credHelpers value: PREFIX + suffix, found on PATH.

    A value is a name, never a path: Docker looks up docker-credential-<value>, so a value such as
    ./evil.sh names no program Docker would find, and credctl refuses it instead of running it.
    Raises ConfigError (a value from a config file) naming the value."""
    if not suffix or "/" in suffix or "\0" in suffix:
        from credctl.errors import ConfigError

        raise ConfigError(f"{suffix!r} is not a helper name: Docker runs {PREFIX}<name> from PATH, never a path")
    return PREFIX + suffix


def registry_host(address: str) -> str:
    """docker/cli's ConvertToHostname: scheme and path dropped, port kept (reg.example:5000)."""
    address = address.strip()
    if "://" in address:
        address = address.split("://", 1)[1]
    return address.split("/", 1)[0]


def is_docker_hub(address: str) -> bool:
    """Whether address is one of Docker Hub's names, in any of the spellings above."""
    return address.rstrip("/") in _HUB_NAMES or registry_host(address) in _HUB_NAMES


def helper_key(registry: str, podman: bool = False) -> str:
    """The credHelpers (and auths) key a tool looks up for registry: an exact key, no wildcards.

    docker/cli asks with https://index.docker.io/v1/ for Docker Hub and host[:port] for any other
    registry; containers/image asks with docker.io and host[:port] (podman=True)."""
    if is_docker_hub(registry):
        return PODMAN_HUB if podman else DOCKER_HUB
    return registry_host(registry)


def image_registry(image: str) -> str:
    """The registry (host[:port]) of an image reference, by the distribution reference rule
    docker and the kubelet share: the first path part if it has a '.' or ':', is 'localhost' or
    has capitals; otherwise Docker Hub ('docker.io')."""
    first, slash, _ = image.strip().partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        return first
    return PODMAN_HUB


def api_host(registry: str) -> str:
    """host[:port] that serves a registry's v2 API (Docker Hub's is registry-1.docker.io)."""
    return DOCKER_HUB_API if is_docker_hub(registry) else registry_host(registry)


def bare_host(server: str) -> str:
    """The host name alone, as ACR domains are matched: scheme, userinfo, port and path dropped,
    lower case, no trailing dot. An IPv6 literal stays in its brackets (it is never ACR)."""
    host = server.strip().split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.lower()
    return host.split(":", 1)[0].lower().rstrip(".")


# -- Docker Hub's OAuth bookkeeping --------------------------------------------------------------

# The keys docker/cli's web sign-in to Docker Hub (`docker login` with no username: the OAuth
# device flow, internal/oauth/manager/manager.go accessTokenKey and refreshTokenKey, docker 27.4
# and later) stores its tokens under, beside the Hub login: through the helper that serves Docker
# Hub, or in config.json's auths when none does. They are not registries.
HUB_BOOKKEEPING_KEYS = (DOCKER_HUB + "access-token", DOCKER_HUB + "refresh-token")


def is_hub_bookkeeping(key: str) -> bool:
    """Whether key is one of Docker Hub's OAuth bookkeeping keys: exactly as docker/cli writes
    and reads them (it asks for no other spelling), so no other key counts."""
    return key in HUB_BOOKKEEPING_KEYS
