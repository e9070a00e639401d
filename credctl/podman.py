"""Where Podman, Buildah and Skopeo (containers/image) keep logins: the one home of those rules.

Measured with Debian 12's podman 4.3.1, buildah 1.28.2 and skopeo 1.9.3 (containers/image 5.23,
containers/common 0.50), and read in their source:

- The *primary* auth file is where `podman login` writes and where containers/image honours
  `credHelpers` for writes: the --authfile default of containers/common's GetDefaultAuthFile
  ($REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json), else containers/image's
  getPathToAuth: $XDG_RUNTIME_DIR/containers/auth.json, else /run/containers/$UID/auth.json
  (both on tmpfs: gone after a reboot).
- Reads go through every auth file in order (pkg/docker/config getAuthFilePaths): the primary
  file, ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, $DOCKER_CONFIG/config.json or else
  ~/.docker/config.json, then ~/.dockercfg (the legacy format: a bare map of auths). Setting
  REGISTRY_AUTH_FILE only changes the first file: podman 4.3 still reads the others.

Standard library only.
"""

from __future__ import annotations

import os

from credctl.paths import expand_home, home


class AuthFile:
    """One file containers/image reads logins from, and what it is to Podman."""

    __slots__ = ("legacy", "path", "role")

    def __init__(self, path: str, role: str, legacy: bool = False) -> None:
        self.path, self.role, self.legacy = path, role, legacy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthFile) and (self.path, self.role, self.legacy) == (
            other.path,
            other.role,
            other.legacy,
        )

    def __repr__(self) -> str:
        return f"AuthFile({self.path!r}, {self.role!r}{', legacy=True' if self.legacy else ''})"


PRIMARY = "primary"  # where podman login writes
PERSISTENT = "persistent"  # ~/.config/containers/auth.json: read, never written by podman login
DOCKER = "docker"  # Docker's config.json, read by containers/image too
LEGACY = "legacy"  # ~/.dockercfg


def _absolute(path: str, environ) -> str:
    return os.path.abspath(expand_home(path, environ))


def primary_auth_path(environ=os.environ, uid: int | None = None) -> str:
    """The file `podman login` (and buildah's and skopeo's) writes, in their default set-up."""
    explicit = environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return _absolute(explicit, environ)
    docker_config = environ.get("DOCKER_CONFIG")
    if docker_config:
        return os.path.join(_absolute(docker_config, environ), "config.json")
    runtime_dir = environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        return os.path.join(_absolute(runtime_dir, environ), "containers", "auth.json")
    return f"/run/containers/{os.getuid() if uid is None else uid}/auth.json"


def persistent_auth_path(environ=os.environ) -> str:
    """${XDG_CONFIG_HOME:-~/.config}/containers/auth.json: read by containers/image, survives a reboot."""
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(home(environ), ".config")
    return os.path.join(_absolute(base, environ), "containers", "auth.json")


def auth_files(environ=os.environ, uid: int | None = None) -> list[AuthFile]:
    """Every file containers/image reads logins from, in its order, each path once."""
    docker_dir = environ.get("DOCKER_CONFIG") or os.path.join(home(environ), ".docker")
    candidates = [
        AuthFile(primary_auth_path(environ, uid), PRIMARY),
        AuthFile(persistent_auth_path(environ), PERSISTENT),
        AuthFile(os.path.join(_absolute(docker_dir, environ), "config.json"), DOCKER),
        AuthFile(os.path.join(home(environ), ".dockercfg"), LEGACY, legacy=True),
    ]
    seen: set[str] = set()
    files = []
    for candidate in candidates:
        if candidate.path not in seen:
            seen.add(candidate.path)
            files.append(candidate)
    return files
