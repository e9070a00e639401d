"""Docker's config.json and Podman's auth.json: find them, read them, edit them safely.

Unlike docker/cli (which re-encodes a fixed struct), an edit keeps everything it does not
change: unknown keys, key order, the file's indentation (Docker's tab by default). A save is
atomic (a temporary file beside the real one, fsync, rename onto the symlink's target, so a
symlinked config stays a symlink), keeps the file's mode and owner (new files 0600, new
folders 0700), and runs under a lock, so concurrent credctl runs never lose each other's
change. A file that does not parse is never written (docker/cli overwrites it: docker/cli#5075).
"""

from __future__ import annotations

from credctl.errors import ConfigError
from credctl.gojson import JSONError, encode, identical, parse, top_level_members
from credctl.names import IDENTITY_TOKEN_USER, helper_key
from credctl.paths import expand_home, home, locked, make_private_dirs, read_file, write_atomically
from credctl.posixfs import ENVIRON, abspath, basename, dirname, exists, join, realpath

TYPE_CHECKING = False  # typing and collections are too slow to import on the kubelet plugin's path
if TYPE_CHECKING:
    from collections.abc import Callable


def docker_config_path(config_dir: str | None = None, environ=ENVIRON) -> str:
    """Docker's rule: --config DIR, else $DOCKER_CONFIG, else ~/.docker; then config.json."""
    directory = config_dir or environ.get("DOCKER_CONFIG") or join(home(environ), ".docker")
    return join(abspath(expand_home(directory, environ)), "config.json")


def podman_auth_path(environ=ENVIRON) -> str:
    """The auth file credctl writes Podman's credHelpers to.

    $REGISTRY_AUTH_FILE when set (then Podman reads only that file); otherwise
    ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, which containers/image also reads and
    which, unlike $XDG_RUNTIME_DIR/containers/auth.json (a tmpfs), survives a reboot.
    """
    explicit = environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return abspath(expand_home(explicit, environ))
    base = environ.get("XDG_CONFIG_HOME") or join(home(environ), ".config")
    return join(base, "containers", "auth.json")


class ConfigFile:
    """A parsed config file, edited in place; render() gives the text to write.

    A plain class, not a dataclass: `dataclasses` imports `inspect` (about 6 ms), and the kubelet
    plugin reads this file on every image pull."""

    def __init__(
        self,
        path: str,
        data: dict | None = None,
        indent: str = "\t",
        trailing_newline: bool = False,
        text: str = "",  # as read ("" for a new file)
        original: dict | None = None,  # the data as read, to tell whether anything changed
    ) -> None:
        self.path, self.data, self.indent = path, {} if data is None else data, indent
        self.trailing_newline, self.text, self.original = trailing_newline, text, {} if original is None else original

    @classmethod
    def read(cls, path: str) -> ConfigFile:
        try:
            data = read_file(path)  # never waits: a FIFO is refused
        except OSError as err:
            raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
        if data is None:
            return cls(path)
        try:
            if not data.strip(b" \t\n\r"):
                return cls(path, text=data.decode("utf-8"))
            parsed = parse(data, _merge_duplicates, keep_numbers=True)
        except (JSONError, UnicodeDecodeError) as err:
            reason = err if isinstance(err, JSONError) else "it is not UTF-8 text"
            raise ConfigError(
                f"{path} is not valid JSON ({reason}): fix or remove it; credctl never overwrites a file it cannot read"
            ) from None
        if not isinstance(parsed, dict):
            raise ConfigError(f"{path} must hold a JSON object: fix or remove it")
        text = data.decode("utf-8")
        config = cls(path, parsed, _indent_of(text), text.endswith("\n"), text, parse(text, _merge_duplicates, True))
        config._check_types()
        return config

    def _check_types(self) -> None:
        for name, kind in (("auths", dict), ("credHelpers", dict), ("credsStore", str)):
            for key in self._spellings(name):
                value = self.data[key]
                if value is not None and not isinstance(value, kind):
                    wanted = "an object" if kind is dict else "a string"
                    raise ConfigError(f"{self.path}: {key!r} must be {wanted}: fix it, credctl will not guess")
        for key in self._spellings("credHelpers"):
            for name, value in (self.data[key] or {}).items():
                if not isinstance(value, str):
                    raise ConfigError(f"{self.path}: {key}[{name!r}] must be a string: fix it")
        for key in self._spellings("auths"):
            for name, value in (self.data[key] or {}).items():
                if value is not None and not isinstance(value, dict):
                    raise ConfigError(f"{self.path}: {key}[{name!r}] must be an object: fix it")

    def _spellings(self, key: str) -> list[str]:
        """The keys of this file Go decodes into the field named key, in document order.

        Go's encoding/json matches object keys to struct fields case-insensitively (Unicode simple
        folding), so docker and containers/image read "credhelpers", "CredHelpers", "Auths"... too."""
        wanted = _go_fold(key)
        return [k for k in self.data if _go_fold(k) == wanted]

    def get(self, key: str) -> object:
        """The value Go decodes for key: for credctl's sections (maps) every spelling merged in
        document order, later entries winning and null emptying the map; else the last non-null."""
        spellings = self._spellings(key)
        if _go_fold(key) in _MAP_FIELDS:
            if not spellings:
                return None
            merged: dict = {}
            for spelling in spellings:
                value = self.data[spelling]
                merged = {} if value is None else {**merged, **value} if isinstance(value, dict) else merged
            return merged
        values = [self.data[k] for k in spellings if self.data[k] is not None]
        return values[-1] if values else None

    def set(self, key: str, value: object) -> None:
        """Set key (canonical spelling) where the file had it last, or at the end; the other
        spellings go, so that what Go reads is value."""
        spellings = self._spellings(key)
        if not spellings:
            self.data[key] = value
            return
        kept = spellings[-1]
        others = set(spellings) - {kept}
        pairs = [(k, v) for k, v in self.data.items() if k not in others]
        self.data = {(key if k == kept else k): (value if k == kept else v) for k, v in pairs}

    def remove(self, key: str) -> None:
        """Remove key under every spelling."""
        for spelling in self._spellings(key):
            del self.data[spelling]

    def _set_entry(self, section: str, key: str, value: object | None) -> None:
        """Set section[key] to value (None: remove it) as Go reads the section: one entry in one
        spelling, none in the others. A spelling this empties goes (docker writes no empty credHelpers)."""
        holding = [s for s in self._spellings(section) if isinstance(self.data[s], dict) and key in self.data[s]]
        if value is None and not holding:
            return
        if value is not None:
            self._drop_before_null(section)
            holding = [s for s in holding if s in self.data]
            target = (
                holding[-1]
                if holding
                else next((s for s in reversed(self._spellings(section)) if isinstance(self.data[s], dict)), None)
            )
            if target is None:
                target = section
                self.data[section] = {}
            self.data[target][key] = value
            holding = [s for s in holding if s != target]
        for spelling in holding:
            del self.data[spelling][key]
            if not self.data[spelling]:
                del self.data[spelling]

    def _drop_before_null(self, section: str) -> None:
        """Go empties a map field at a null: drop the spellings it never sees, and the null."""
        spellings = self._spellings(section)
        nulls = [i for i, s in enumerate(spellings) if self.data[s] is None]
        for spelling in spellings[: nulls[-1] + 1] if nulls else []:
            del self.data[spelling]

    # -- the sections credctl reads and edits (read() has checked their types) --

    @property
    def helpers(self) -> dict[str, str]:
        """credHelpers: registry key → helper suffix; {} when the file has none. Change it with set_helpers."""
        value = self.get("credHelpers")
        return value if isinstance(value, dict) else {}

    @property
    def auths(self) -> dict[str, dict]:
        """auths: registry key → its entry (plaintext login, or Docker's {} marker); {} when absent."""
        value = self.get("auths")
        return value if isinstance(value, dict) else {}

    @property
    def creds_store(self) -> str:
        """credsStore, the default helper's suffix; "" when the file names none (as docker reads it)."""
        value = self.get("credsStore")
        return value if isinstance(value, str) else ""

    @creds_store.setter
    def creds_store(self, suffix: str) -> None:
        self.set("credsStore", suffix)

    @property
    def contains_auth(self) -> bool:
        """docker's ContainsAuth: a credsStore, a credHelpers entry or an auths entry."""
        return bool(self.creds_store or self.helpers or self.auths)

    def set_helpers(self, changes: dict[str, str | None]) -> None:
        """Set credHelpers entries (key → suffix), or remove them (key → None), under every
        spelling of credHelpers the file has, so that docker reads exactly these changes.

        An entry goes where the file has it (or its last credHelpers), or a new section at the
        end; a section is removed when its last entry is, as docker writes no empty credHelpers."""
        for key, suffix in changes.items():
            self._set_entry("credHelpers", key, suffix)

    def set_auth(self, key: str, entry: dict) -> None:
        """Replace (or add) the auths entry for key, under whichever spelling of auths holds it."""
        self._set_entry("auths", key, entry)

    def remove_auth(self, key: str) -> None:
        """Remove the auths entry for key from every spelling of auths that holds it."""
        self._set_entry("auths", key, None)

    def helper_for(self, registry: str, podman: bool = False, automatic: str = "") -> Route:
        """Which helper serves registry by this file: credctl's one answer, for every command.

        docker/cli (configfile.GetCredentialsStore): the credHelpers entry under Docker's key
        (names.helper_key: that exact key, no other spelling counts); an entry whose value is ""
        sends the registry to the file's auths (plaintext), not to credsStore. Else credsStore,
        else the auths. registry "" asks for the default alone, as docker's
        GetCredentialsStore("") does.

        automatic: the store docker's CLI picks by itself (programs.docker_default_store()), which
        it applies only to a file with no credsStore, no credHelpers and no auths
        (config.LoadDefaultConfigFile); "" leaves docker's own default out.

        podman: containers/image's rule instead (pkg/docker/config findCredentialsInFile): the
        credHelpers entry under its key (docker.io for Docker Hub), whatever its value (an
        empty one names the program docker-credential-, which does not exist); credsStore is
        ignored; else the auths.
        """
        key = helper_key(registry, podman) if registry else ""
        helpers = self.helpers
        if key and key in helpers:
            if helpers[key] or podman:
                return Route(helpers[key], CRED_HELPERS, key)
            return Route("", PLAINTEXT, key)
        if not podman and self.creds_store:
            return Route(self.creds_store, CREDS_STORE, key)
        if automatic and not podman and not self.contains_auth:
            return Route(automatic, AUTOMATIC, key)
        return Route("", PLAINTEXT, key)

    def render(self, masked: bool = False) -> str:
        """The text to write: each top-level member credctl did not change exactly as the file has
        it, every other one as Docker's MarshalIndent writes it, in this file's indentation.

        masked replaces every value that can carry a secret with *** (for showing to people; see _masked).
        """
        data = self._masked() if masked else self.data
        text = encode(data, self.indent, raw=self._unchanged_members(data))
        return text + "\n" if self.trailing_newline else text

    def _unchanged_members(self, data: dict) -> dict[str, str]:
        """key → source text of each top-level member (written once in the file) data still holds as read."""
        if not self.text.strip():
            return {}
        members = top_level_members(self.text)
        once = [(key, start, end) for key, start, end in members if sum(k == key for k, _, _ in members) == 1]
        return {
            key: self.text[start:end]
            for key, start, end in once
            if key in data and key in self.original and identical(data[key], self.original[key])
        }

    def _masked(self) -> dict:
        """The data with every value that can carry a secret shown as ***, keys and order as the file
        has them. Sections are matched in any spelling, as Go matches keys (`Proxies`, `Auths`):
        in auths, the secret fields of each entry (any spelling; an entry that is no object whole);
        every HttpHeaders value (an Authorization or token header); the userinfo of every proxies
        URL (`http://user:pw@proxy` shows as `http://***@proxy`); every plugins option value."""
        return {key: _masked_section(_go_fold(key), value) for key, value in self.data.items()}

    @property
    def changed(self) -> bool:
        return not identical(self.data, self.original)


# Route.via: why a helper serves a registry.
CRED_HELPERS, CREDS_STORE, AUTOMATIC, PLAINTEXT = "credHelpers", "credsStore", "automatic", "plaintext"


class Route:
    """ConfigFile.helper_for's answer: the helper a tool runs for one registry, and why.

    helper: the docker-credential-* suffix, "" when no program runs (the file's auths serve).
    via: CRED_HELPERS, CREDS_STORE, AUTOMATIC (docker's own default store) or PLAINTEXT.
    key: the credHelpers key the tool looked up ("" when only the default was asked for)."""

    __slots__ = ("helper", "key", "via")

    def __init__(self, helper: str, via: str, key: str) -> None:
        self.helper, self.via, self.key = helper, via, key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Route) and (self.helper, self.via, self.key) == (other.helper, other.via, other.key)

    def __repr__(self) -> str:
        return f"Route(helper={self.helper!r}, via={self.via!r}, key={self.key!r})"


_MAP_FIELDS = ("auths", "credhelpers")  # the sections credctl edits, as _go_fold writes their names


def _go_fold(key: str) -> str:
    """key as Go's encoding/json compares it with a field name: case folded, with the long s
    (U+017F) as s; the Kelvin sign (U+212A) lowers to k, and no other non-ASCII letter folds to ASCII."""
    return key.replace("\u017f", "s").lower()


def _merge_duplicates(pairs: list[tuple[str, object]]) -> dict:
    """Go decodes a repeated object key into the same map (two "auths" merge); scalars: last wins."""
    result: dict = {}
    for key, value in pairs:
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result


def _indent_of(text: str) -> str:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            return line[: len(line) - len(stripped)]
    return "\t"


def edit(path: str, change: Callable[[ConfigFile], None]) -> tuple[str, str]:
    """Read path, apply change, write it back atomically under a lock; returns (before, after) text."""
    target = realpath(path)  # edit the symlink's target, keep the link
    if not exists(target):
        probe = ConfigFile(target)
        change(probe)
        if not probe.changed:
            return "", ""  # nothing to do: create neither folder nor lock file
    make_private_dirs(dirname(target))
    lock = join(dirname(target), f".{basename(target)}.credctl-lock")
    with locked(lock):
        config = ConfigFile.read(target)
        change(config)
        if not config.changed:
            return config.text, config.text
        after = config.render()
        write_atomically(target, after.encode("utf-8"))
    return config.text, after


def preview(path: str, change: Callable[[ConfigFile], None]) -> str:
    """The unified diff change would make to path, secrets masked; nothing is written."""
    import difflib

    config = ConfigFile.read(realpath(path))
    before = config.render(masked=True) if config.text.strip() else ""
    change(config)
    after = config.render(masked=True) if config.changed else before
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), path, f"{path} (after)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


SECRET_FIELDS = ("auth", "password", "identitytoken")
_SHOWN_MASKED = (*SECRET_FIELDS, "registrytoken")  # in lower case: Go matches field names in any case
MASK = "***"


def _masked_section(name: str, value: object) -> object:
    """value of the top-level section name (lower case) as ConfigFile._masked shows it."""
    if not isinstance(value, dict):
        return value
    if name == "auths":
        return {registry: _masked_auth(entry) for registry, entry in value.items()}
    if name == "httpheaders":
        return {header: MASK for header in value}
    if name == "proxies":
        return {
            host: {field: _masked_url(url) for field, url in proxy.items()} if isinstance(proxy, dict) else MASK
            for host, proxy in value.items()
        }
    if name == "plugins":
        return {
            plugin: {option: MASK for option in options} if isinstance(options, dict) else MASK
            for plugin, options in value.items()
        }
    return value


def _masked_auth(entry: object) -> object:
    if not isinstance(entry, dict):
        return MASK
    return {field: (MASK if _go_fold(field) in _SHOWN_MASKED else value) for field, value in entry.items()}


def _masked_url(url: object) -> object:
    """A proxy URL with everything between its scheme and its last `@` shown as ***: the
    userinfo, even when a password holds an unescaped `/` (a value that is no string: whole)."""
    if not isinstance(url, str):
        return MASK
    if "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    return f"{scheme}{sep}{MASK}@{rest.rpartition('@')[2]}"


def plaintext_credentials(entry: object) -> tuple[str, str] | None:
    """(username, secret) an `auths` entry holds in plaintext, as Docker would store them, or None.

    An identity token wins (Docker stores it under the username IDENTITY_TOKEN_USER); else `auth`
    (base64 of user:password, split at the first colon) or `username`/`password`.
    Raises ConfigError for an `auth` Docker itself would reject.
    """
    if not isinstance(entry, dict):
        return None
    entry = auth_fields(entry)
    if entry.get("identitytoken"):
        return IDENTITY_TOKEN_USER, str(entry["identitytoken"])
    if entry.get("auth"):
        import binascii

        try:
            decoded = binascii.a2b_base64(str(entry["auth"]).encode("ascii"), strict_mode=True).decode("utf-8")
        except (ValueError, UnicodeError):
            raise ConfigError("an `auth` value is not valid base64 of user:password") from None
        username, colon, password = decoded.partition(":")
        if not colon or not username:
            raise ConfigError("an `auth` value does not hold user:password")
        return username, password.strip("\x00")
    if entry.get("username") or entry.get("password"):
        return str(entry.get("username", "")), str(entry.get("password", ""))
    return None


def auth_fields(entry: dict) -> dict:
    """An `auths` entry's fields as Go decodes them into its AuthConfig: names matched in any case
    ("Password" is password), the later of two spellings winning, a null leaving the field unset."""
    return {_go_fold(name): value for name, value in entry.items() if value is not None}


# What a migrated entry loses, in Go's folded case. "username" too: a lone username left behind
# reads as a plaintext login with an empty password, which the next migrate would store over the real one.
STRIPPED_FIELDS = (*SECRET_FIELDS, "username")


def without_credentials(entry: dict) -> dict:
    """entry without every field that holds its login, in whatever spelling the file has it
    (what is left, such as email, stays for Docker)."""
    return {name: value for name, value in entry.items() if _go_fold(name) not in STRIPPED_FIELDS}
