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

from credctl.names import PODMAN_HUB, is_docker_hub
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
HELPERS_KEY = "credential-helpers"


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
    return _last(helper_setters(environ))


def _last(setters: list[tuple[str, tuple[str, ...]]]) -> HelperSetting:
    if not setters:
        return HelperSetting(DEFAULT_HELPERS, "")
    path, helpers = setters[-1]
    return HelperSetting(helpers or DEFAULT_HELPERS, path)


def helper_setters(environ=os.environ) -> list[tuple[str, tuple[str, ...]]]:
    """(file, the helpers it sets) for each registries.conf file that sets `credential-helpers`,
    in load order (registries_conf_files); ConfigError for a file that is not valid TOML."""
    from credctl.errors import ConfigError
    from credctl.paths import read_file

    setters = []
    for path in registries_conf_files(environ):
        try:
            data = read_file(path)
        except OSError:
            continue
        if data is None:
            continue
        try:
            document = _loads(data.decode("utf-8"))
        except ValueError as err:  # TOMLDecodeError and UnicodeDecodeError both are
            raise ConfigError(f"{path} is not valid TOML ({err}): podman refuses it too; fix or remove it") from None
        helpers = document.get(HELPERS_KEY)
        if isinstance(helpers, list) and all(isinstance(helper, str) for helper in helpers):
            setters.append((path, tuple(helpers)))
    return setters


def _loads(text: str) -> dict:
    """TOML text parsed (tomllib.TOMLDecodeError, a ValueError, when it is not)."""
    import tomllib  # only here: the helper path never reads registries.conf

    return tomllib.loads(text)


# -- credctl's drop-in: Podman's own equivalent of Docker's credsStore ------------------------------
#
# Podman ignores credsStore; what routes its logins is registries.conf's `credential-helpers`
# (containers/image 5.23 pkg/docker/config SetCredentials tries each helper in order and stops at
# the first that succeeds; "containers-auth.json" means the auth files, writing plaintext to the
# primary file). credctl writes one file, DROPIN_NAME, in the user's drop-in folder:
#
# - The user folder, for root too. containers/image's newConfigWrapperWithHomeDir
#   (pkg/sysregistriesv2/system_registries_v2.go) reads $HOME/.config/containers/registries.conf.d
#   for every user, root included, and after every other file; a user registries.conf hides the
#   system file and the system folder, never the user folder (tests/test_podman_files.py, against
#   real podman 4.3 as root with HOME=/root). /etc/containers/registries.conf.d would change every
#   user's Podman on the machine and send their logins to a store only root has set up.
# - Named 90-credctl.conf: a folder loads in byte order of the names, a later file overriding,
#   so 90- comes after the usual numbered drop-ins (00- to 89-) and still leaves 91- to 99- (and
#   every name that starts with a letter) for a person who means to override it; `credctl verify`
#   names the file that does.

DROPIN_NAME = "90-credctl.conf"
DROPIN_HEADER = (
    "# Written by credctl (`credctl setup --podman`): podman, buildah and skopeo login store through\n"
    "# the first helper below, then fall back to the auth files (containers-auth.json).\n"
    "# Undo: `credctl unmap --podman-default`.\n"
)
# What `credctl map REGISTRY STORE --podman` writes when nothing routes Podman's logins yet: the
# drop-in then exists for mapped registries alone, and `credctl unmap REGISTRY --podman` takes it
# out with the last Podman credHelpers entry for its store (setup's drop-in stays until undone).
MAP_DROPIN_HEADER = (
    "# Written by credctl (`credctl map REGISTRY STORE --podman`): podman, buildah and skopeo login\n"
    "# store through the first helper below, then fall back to the auth files (containers-auth.json).\n"
    "# Undo: `credctl unmap REGISTRY --podman` for the last such registry, or `credctl unmap --podman-default`.\n"
)
HEADERS = (DROPIN_HEADER, MAP_DROPIN_HEADER)
UNSAFE_DROPIN_ADVICE = (
    "podman loads every .conf file there, so credctl writes none in a folder another user controls: "
    "fix its owner or mode first"
)


def dropin_path(environ=os.environ) -> str:
    """credctl's drop-in: ~/.config/containers/registries.conf.d/90-credctl.conf (see above)."""
    return os.path.join(user_dropin_folder(environ), DROPIN_NAME)


def helpers_line(helpers: tuple[str, ...]) -> str:
    """`credential-helpers = ["pass", "containers-auth.json"]`, TOML (JSON strings are TOML strings)."""
    import json

    return f"{HELPERS_KEY} = [{', '.join(json.dumps(helper) for helper in helpers)}]\n"


def login_helpers(suffix: str) -> tuple[str, ...]:
    """What credctl's drop-in sets for a login store's helper: it first, then the auth files (for
    what a helper cannot take: containers/image sends it no namespaced login such as quay.io/team)."""
    return (suffix, AUTH_FILES_HELPER)


def _toml(path: str, text: str) -> dict:
    """text parsed as TOML; ConfigError naming path when it is not (then it is never written)."""
    from credctl.errors import ConfigError

    try:
        return _loads(text)
    except ValueError as err:
        raise ConfigError(
            f"{path} is not valid TOML ({err}): fix or remove it; credctl never overwrites a file it cannot read"
        ) from None


def _decoded(path: str, data: bytes | None) -> str | None:
    from credctl.errors import ConfigError

    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text: fix or remove it; credctl never overwrites it") from None


def _helpers_span(text: str) -> tuple[int, int] | None:
    """(first, last + 1) line index of the top-level `credential-helpers = [...]` assignment
    (an array may run over several lines), or None when the file has none before its first table."""
    import re

    lines = text.splitlines(keepends=True)
    key = re.compile(r"""\s*(?:credential-helpers|"credential-helpers"|'credential-helpers')\s*=""")
    for first, line in enumerate(lines):
        if line.lstrip().startswith("["):
            return None  # a table: keys below it are not top-level
        if key.match(line):
            for last in range(first, len(lines)):
                if HELPERS_KEY in _parsed("".join(lines[first : last + 1])):
                    return first, last + 1
    return None


def _parsed(text: str) -> dict:
    """text as TOML, {} when it is not (yet: an array that goes on on the next line)."""
    try:
        return _loads(text)
    except ValueError:
        return {}


def _first_table(lines: list[str]) -> int:
    return next((number for number, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))


def with_helpers(text: str | None, helpers: tuple[str, ...], header: str = DROPIN_HEADER) -> str:
    """credctl's drop-in text (None: no file yet) with `credential-helpers` set to helpers; every
    other line kept as it is (unknown content stays). The key goes where it was, else before the
    first table (a top-level key cannot follow one), else at the end. header is what a new file
    starts with; setup's header replaces map's (the drop-in is setup's from then on), never the
    other way round."""
    if not text:
        return header + helpers_line(helpers)
    if header == DROPIN_HEADER and text.startswith(MAP_DROPIN_HEADER):
        text = DROPIN_HEADER + text[len(MAP_DROPIN_HEADER) :]
    lines = text.splitlines(keepends=True)
    span = _helpers_span(text)
    if span is not None:
        lines[span[0] : span[1]] = [helpers_line(helpers)]
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        at = _first_table(lines)
        lines.insert(at, helpers_line(helpers))
    return "".join(lines)


def without_helpers(text: str) -> str | None:
    """credctl's drop-in text with what credctl wrote taken out (its header and its
    `credential-helpers` line); None when nothing else is left (the file goes)."""
    span = _helpers_span(text)
    lines = text.splitlines(keepends=True)
    if span is not None:
        del lines[span[0] : span[1]]
    rest = "".join(lines)
    for header in HEADERS:
        rest = rest.removeprefix(header)
    return rest if rest.strip() else None


def written_by_map(text: str | None) -> bool:
    """Whether credctl's drop-in is one `credctl map --podman` wrote (and setup has not taken over)."""
    return text is not None and text.startswith(MAP_DROPIN_HEADER)


class DropinChange:
    """One edit of credctl's drop-in: the text before and after (None: no file), so a command
    that fails later can put it back (restore_dropin)."""

    __slots__ = ("after", "before", "path")

    def __init__(self, path: str, before: str | None, after: str | None) -> None:
        self.path, self.before, self.after = path, before, after

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _check_folder(folder: str) -> None:
    """UnsafePath when another user could change what folder holds (paths.folder_risk)."""
    from credctl.errors import UnsafePath
    from credctl.paths import folder_risk

    where, reason = folder_risk(folder, (os.geteuid(),))
    if reason:
        raise UnsafePath(where, reason, UNSAFE_DROPIN_ADVICE)


def read_dropin(environ=os.environ) -> str | None:
    """credctl's drop-in as text (None: there is none), checked: a folder another user controls
    is UnsafePath, a file that is not valid TOML (or UTF-8) ConfigError."""
    from credctl.paths import read_file

    path = dropin_path(environ)
    _check_folder(os.path.dirname(path))
    text = _decoded(path, read_file(path))
    if text is not None:
        _toml(path, text)
    return text


def plan_dropin(helpers: tuple[str, ...] | None, environ=os.environ, header: str = DROPIN_HEADER) -> DropinChange:
    """The edit that sets credctl's drop-in to helpers (None: takes out what credctl wrote);
    nothing is written (see read_dropin for what is refused)."""
    before = read_dropin(environ)
    if helpers is not None:
        after = with_helpers(before, helpers, header)
    else:
        after = None if before is None else without_helpers(before)
    return DropinChange(dropin_path(environ), before, after)


def edit_dropin(helpers: tuple[str, ...] | None, environ=os.environ, header: str = DROPIN_HEADER) -> DropinChange:
    """Set credctl's drop-in to helpers (None: take out what credctl wrote, the file too when
    nothing else is left in it), as config.json is written: under a lock (on the folder itself, so
    nothing but the drop-in is ever left there), atomically, 0600 in 0700 folders of the user, a
    file that does not parse never overwritten. Returns what changed."""
    from credctl.paths import locked, make_private_dirs

    path = dropin_path(environ)
    folder = os.path.dirname(path)
    if helpers is None and not os.path.lexists(path):
        return DropinChange(path, None, None)  # nothing to take out: make no folder
    _check_folder(folder)
    make_private_dirs(folder)
    with locked(folder):
        change = plan_dropin(helpers, environ, header)
        _write(change)
    return change


def restore_dropin(change: DropinChange) -> bool:
    """Put the drop-in back as it was before change, if it is still as change left it; whether it was."""
    from credctl.paths import locked, read_file

    if not change.changed:
        return True
    folder = os.path.dirname(change.path)
    with locked(folder):
        now = _decoded(change.path, read_file(change.path))
        if now != change.after:
            return False  # changed again meanwhile: that change stays
        _write(DropinChange(change.path, change.after, change.before))
    return True


def _write(change: DropinChange) -> None:
    from credctl.paths import write_atomically

    if not change.changed:
        return
    if change.after is None:
        os.unlink(change.path)
    else:
        write_atomically(change.path, change.after.encode("utf-8"), private=True)


def dropin_helpers(text: str | None) -> tuple[str, ...] | None:
    """The helpers a drop-in's text sets (() for an empty list), None when it sets none."""
    if text is None:
        return None
    helpers = _parsed(text).get(HELPERS_KEY)
    if isinstance(helpers, list) and all(isinstance(helper, str) for helper in helpers):
        return tuple(helpers)
    return None


# -- the wiring `credctl verify` shows ----------------------------------------------------------------


class Wiring:
    """How a `podman login` (buildah's, skopeo's) is handled here, as containers/image 5.23 decides.

    primary: the file it writes plaintext to when the auth files take it; setting: the helpers
    asked, in order, and the file that set them; dropin: credctl's drop-in's path; dropin_sets: the
    helpers it sets (None: no such file, or it sets none); overridden_by: the last file loaded after
    credctl's drop-in (a later name in its folder) that sets `credential-helpers` too, so that
    credctl's drop-in, there or written, is not the one that counts ("" when none is)."""

    __slots__ = ("dropin", "dropin_sets", "overridden_by", "primary", "setting")

    def __init__(
        self,
        primary: str,
        setting: HelperSetting,
        dropin: str,
        dropin_sets: tuple[str, ...] | None,
        overridden_by: str = "",
    ) -> None:
        self.primary, self.setting, self.dropin = primary, setting, dropin
        self.dropin_sets, self.overridden_by = dropin_sets, overridden_by

    @property
    def login_helper(self) -> str:
        """The helper a login is stored through ("" when the auth files come first: plaintext)."""
        first = self.setting.helpers[0]
        return "" if first == AUTH_FILES_HELPER else first

    @property
    def active(self) -> bool:
        """credctl's drop-in is there, sets the helpers and is the file that counts."""
        return self.dropin_sets is not None and self.setting.source == self.dropin


def wiring(environ=os.environ, uid: int | None = None) -> Wiring:
    """Podman's wiring here. ConfigError when a registries.conf file (credctl's drop-in included)
    is not valid TOML (podman then refuses to run); UnsafePath for a drop-in folder another user
    controls."""
    dropin = dropin_path(environ)
    sets = dropin_helpers(read_dropin(environ))
    setters = helper_setters(environ)
    later = [path for path, _ in setters if _loaded_after_dropin(path, dropin)]
    return Wiring(primary_auth_path(environ, uid), _last(setters), dropin, sets, later[-1] if later else "")


def _loaded_after_dropin(path: str, dropin: str) -> bool:
    """The user's drop-in folder is the last loaded, in byte order of the names (str order is
    code point order, the same as UTF-8's byte order)."""
    return os.path.dirname(path) == os.path.dirname(dropin) and os.path.basename(path) > DROPIN_NAME


# -- auths keys: which registry (and namespace) a key of an auth file gives a login for -------------


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
    if not namespace and is_docker_hub(host):
        host = PODMAN_HUB
    return host, namespace
