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


# -- registries.conf: which credential helpers containers/image asks --------------------------------

SYSTEM_REGISTRIES_CONF = "/etc/containers/registries.conf"
SYSTEM_DROPIN_FOLDER = "/etc/containers/registries.conf.d"
AUTH_FILES_HELPER = "containers-auth.json"  # containers/image's name for "the auth files above"
DEFAULT_HELPERS = (AUTH_FILES_HELPER,)


def user_registries_conf(environ=os.environ) -> str:
    """~/.config/containers/registries.conf: under HOME, whatever XDG_CONFIG_HOME says (5.23)."""
    return os.path.join(home(environ), ".config", "containers", "registries.conf")


def user_dropin_folder(environ=os.environ) -> str:
    """~/.config/containers/registries.conf.d: read for every user, root included."""
    return user_registries_conf(environ) + ".d"


def registries_conf_files(environ=os.environ) -> list[str]:
    """The registries.conf files containers/image loads, in order; a later one overrides.

    sysregistriesv2 newConfigWrapperWithHomeDir (containers/image 5.23), as real podman 4.3 shows:
    $CONTAINERS_REGISTRIES_CONF replaces the system file; a user registries.conf, when it exists,
    replaces the system file *and* the system drop-in folder; the user's drop-in folder is read
    in every case, last. In a folder, the *.conf files load in byte order of their names."""
    user_file = user_registries_conf(environ)
    explicit = environ.get("CONTAINERS_REGISTRIES_CONF")
    if explicit:
        files, folders = [_absolute(explicit, environ)], [SYSTEM_DROPIN_FOLDER]
    elif os.path.exists(user_file):
        files, folders = [user_file], []
    else:
        files, folders = [SYSTEM_REGISTRIES_CONF], [SYSTEM_DROPIN_FOLDER]
    folders.append(user_dropin_folder(environ))
    for folder in folders:
        try:
            names = sorted(name for name in os.listdir(folder) if name.endswith(".conf"))
        except OSError:
            continue
        files += [os.path.join(folder, name) for name in names]
    return files


class HelperSetting:
    """The credential helpers containers/image asks, in order, and the file that set them ("" when
    none did: then the default, the auth files alone)."""

    __slots__ = ("helpers", "source")

    def __init__(self, helpers: tuple[str, ...], source: str) -> None:
        self.helpers, self.source = helpers, source

    def __repr__(self) -> str:
        return f"HelperSetting({self.helpers!r}, {self.source!r})"


def credential_helpers(environ=os.environ) -> HelperSetting:
    """`credential-helpers` as containers/image resolves it: the last file that sets the key wins
    (an empty list included, which means the default). Raises ConfigError naming a file that is not
    valid TOML, as podman itself then refuses to run."""
    import tomllib  # only here: the helper path never reads registries.conf

    from credctl.errors import ConfigError
    from credctl.paths import read_file

    setting = HelperSetting(DEFAULT_HELPERS, "")
    for path in registries_conf_files(environ):
        try:
            data = read_file(path)
        except OSError:
            continue
        if data is None:
            continue
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path} is not valid TOML ({err}): podman refuses it too; fix or remove it") from None
        helpers = document.get("credential-helpers")
        if isinstance(helpers, list) and all(isinstance(helper, str) for helper in helpers):
            setting = HelperSetting(tuple(helpers) or DEFAULT_HELPERS, path)
    return setting


# -- auths keys: which registry (and namespace) a key of an auth file gives a login for -------------

_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")  # normalizeRegistry's Docker Hub


def auth_key_scope(key: str, legacy: bool = False) -> tuple[str, str]:
    """(registry, namespace) an `auths` key gives containers/image a login for.

    pkg/docker/config findCredentialsInFile (containers/image 5.23): a bare `host[:port]` key, or a
    URL (its scheme and path dropped: normalizeAuthFileKey; every key of ~/.dockercfg is read this
    way) serves the whole registry, namespace ""; a bare key with a path (`quay.io/team`) serves
    only the images under it (authKeysForKey tries the image, then each parent, most specific
    first), namespace "team". Docker Hub in any spelling (docker.io, index.docker.io,
    registry-1.docker.io: normalizeRegistry) is docker.io, the key Podman asks helpers for."""
    stripped = key.removeprefix("http://").removeprefix("https://")
    if legacy or stripped != key:
        host, namespace = stripped.split("/", 1)[0], ""
    else:
        host, _, namespace = stripped.partition("/")
    if not namespace and host in _HUB_HOSTS:
        host = _HUB_HOSTS[0]
    return host, namespace
