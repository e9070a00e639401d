"""Docker's config.json and Podman's auth.json: find them, read them, edit them safely.

Unlike docker/cli (which re-encodes a fixed struct), an edit keeps everything it does not
change: unknown keys, key order, the file's indentation (Docker's tab by default). A save is
atomic (a temporary file beside the real one, fsync, rename onto the symlink's target, so a
symlinked config stays a symlink), keeps the file's mode and owner (new files 0600, new
folders 0700), and runs under a lock, so concurrent credctl runs never lose each other's
change. A file that does not parse is never written (docker/cli overwrites it: docker/cli#5075).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from credctl.errors import ConfigError
from credctl.gojson import loads
from credctl.names import IDENTITY_TOKEN_USER, helper_key
from credctl.paths import expand_home, home, locked, make_private_dirs, read_file, write_atomically


def docker_config_path(config_dir: str | None = None, environ=os.environ) -> str:
    """Docker's rule: --config DIR, else $DOCKER_CONFIG, else ~/.docker; then config.json."""
    directory = config_dir or environ.get("DOCKER_CONFIG") or os.path.join(home(environ), ".docker")
    return os.path.join(os.path.abspath(expand_home(directory, environ)), "config.json")


def podman_auth_path(environ=os.environ) -> str:
    """The auth file credctl writes Podman's credHelpers to.

    $REGISTRY_AUTH_FILE when set (then Podman reads only that file); otherwise
    ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, which containers/image also reads and
    which, unlike $XDG_RUNTIME_DIR/containers/auth.json (a tmpfs), survives a reboot.
    """
    explicit = environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return os.path.abspath(expand_home(explicit, environ))
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(home(environ), ".config")
    return os.path.join(base, "containers", "auth.json")


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
            if data is None:
                return cls(path)
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
        if not text.strip():
            return cls(path, text=text)
        try:
            data = loads(text, object_pairs_hook=_merge_duplicates)
        except (ValueError, RecursionError) as err:  # json.JSONDecodeError, or nested too deeply
            where = f"{err.msg} at line {err.lineno} column {err.colno}" if isinstance(err, ValueError) else "too deep"
            raise ConfigError(
                f"{path} is not valid JSON ({where}): fix or remove it; credctl never overwrites a file it cannot read"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a JSON object: fix or remove it")
        config = cls(
            path,
            data,
            _indent_of(text),
            text.endswith("\n"),
            text,
            loads(text, object_pairs_hook=_merge_duplicates),
        )
        config._check_types()
        return config

    def _check_types(self) -> None:
        for key, kind in (("auths", dict), ("credHelpers", dict), ("credsStore", str)):
            value = self.get(key)
            if value is not None and not isinstance(value, kind):
                wanted = "an object" if kind is dict else "a string"
                raise ConfigError(f"{self.path}: {key!r} must be {wanted}: fix it, credctl will not guess")
        for name, value in self.helpers.items():
            if not isinstance(value, str):
                raise ConfigError(f"{self.path}: credHelpers[{name!r}] must be a string: fix it")

    def _actual_key(self, key: str) -> str | None:
        """Go reads keys case-insensitively; find the spelling this file uses."""
        if key in self.data:
            return key
        return next((k for k in self.data if k.lower() == key.lower()), None)

    def get(self, key: str) -> object:
        actual = self._actual_key(key)
        return None if actual is None else self.data[actual]

    def set(self, key: str, value: object) -> None:
        """Set key (canonical spelling) where the file had it, or at the end."""
        actual = self._actual_key(key)
        if actual is None or actual == key:
            self.data[key] = value
        else:
            self.data = {(key if k == actual else k): (value if k == actual else v) for k, v in self.data.items()}

    def remove(self, key: str) -> None:
        actual = self._actual_key(key)
        if actual is not None:
            del self.data[actual]

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
        """Set credHelpers entries (key → suffix), or remove them (key → None).

        An entry goes where the file has credHelpers, or a new section at the end; the section
        is removed when its last entry is, as docker writes no empty credHelpers."""
        section = self.get("credHelpers")
        if not isinstance(section, dict):
            if all(suffix is None for suffix in changes.values()):
                return  # nothing to remove
            section = {}
            self.set("credHelpers", section)
        for key, suffix in changes.items():
            if suffix is not None:
                section[key] = suffix
            elif section.pop(key, None) is not None and not section:
                self.remove("credHelpers")

    def set_auth(self, key: str, entry: dict) -> None:
        """Replace (or add) the auths entry for key."""
        section = self.get("auths")
        if not isinstance(section, dict):
            section = {}
            self.set("auths", section)
        section[key] = entry

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
        """The text Docker's MarshalIndent would write for this data, in this file's indentation.

        masked replaces every secret in `auths` with *** (for showing to people).
        """
        import json  # only to write: readers (the kubelet plugin) need not import it

        data = self._masked() if masked else self.data
        text = json.dumps(data, indent=self.indent, ensure_ascii=False)
        for char, escape in _GO_HTML_ESCAPES:  # these appear only inside strings in JSON text
            text = text.replace(char, escape)
        return text + "\n" if self.trailing_newline else text

    def _masked(self) -> dict:
        """The data with every secret in auths shown as ***, in the spelling and place the file has."""
        key = self._actual_key("auths")
        if key is None or not isinstance(self.data[key], dict):
            return self.data
        auths = {
            registry: {k: ("***" if k in _SHOWN_MASKED else v) for k, v in entry.items()}
            if isinstance(entry, dict)
            else entry
            for registry, entry in self.data[key].items()
        }
        return {**self.data, key: auths}

    @property
    def changed(self) -> bool:
        return self.data != self.original


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


_GO_HTML_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


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
    target = os.path.realpath(path)  # edit the symlink's target, keep the link
    if not os.path.exists(target):
        probe = ConfigFile(target)
        change(probe)
        if not probe.changed:
            return "", ""  # nothing to do: create neither folder nor lock file
    make_private_dirs(os.path.dirname(target))
    lock = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.credctl-lock")
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

    config = ConfigFile.read(os.path.realpath(path))
    before = config.render(masked=True) if config.text.strip() else ""
    change(config)
    after = config.render(masked=True) if config.changed else before
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), path, f"{path} (after)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


SECRET_FIELDS = ("auth", "password", "identitytoken")
_SHOWN_MASKED = (*SECRET_FIELDS, "registrytoken")


def plaintext_credentials(entry: object) -> tuple[str, str] | None:
    """(username, secret) an `auths` entry holds in plaintext, as Docker would store them, or None.

    An identity token wins (Docker stores it under the username IDENTITY_TOKEN_USER); else `auth`
    (base64 of user:password, split at the first colon) or `username`/`password`.
    Raises ConfigError for an `auth` Docker itself would reject.
    """
    if not isinstance(entry, dict):
        return None
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
