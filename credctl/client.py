"""Run any docker-credential-* program from Python, as Docker does.

The Python counterpart of the Go `client` package of docker-credential-helpers: the same
stdin for every action, the same reading of stdout, and typed errors for the three messages
Docker recognises. Programs run through credctl.spawn (posix_spawn): `credctl list` runs one
per helper, and subprocess, shutil and dataclasses would cost it more than the helper's run.

Secrets stay out of every exception message and repr; a helper's stderr is captured and
dropped, because it may hold anything.
"""

from __future__ import annotations

import os

from credctl import spawn, terminal
from credctl.errors import KNOWN_MESSAGES, HelperFailed
from credctl.gojson import JSONObject, first_json_value, json_string, json_type, string_fields, valid_unicode
from credctl.helperinput import GO_SPACE
from credctl.names import PREFIX
from credctl.protocol import CREDENTIAL_FIELDS, encode_credentials

TYPE_CHECKING = False  # typing and collections cost `credctl list` a start
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NoReturn

DEFAULT_TIMEOUT = 60.0
NOT_FOUND_STATUS = 127  # as a shell reports a command it cannot find
CANNOT_RUN_STATUS = 126  # as a shell reports a command it found but cannot execute
TIMEOUT_STATUS = 124  # as coreutils' timeout(1) reports a command it stopped


class Credentials:
    """One registry login, unchangeable; the secret is never shown in the repr."""

    __slots__ = ("secret", "server_url", "username")

    def __init__(self, server_url: str, username: str, secret: str) -> None:
        for name, value in (("server_url", server_url), ("username", username), ("secret", secret)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Credentials cannot be changed ({name})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.server_url, self.username, self.secret) == (other.server_url, other.username, other.secret)

    def __hash__(self) -> int:
        return hash((self.server_url, self.username, self.secret))

    def __repr__(self) -> str:
        shown = "'***'" if self.secret else "''"
        return f"Credentials(server_url={self.server_url!r}, username={self.username!r}, secret={shown})"


def store(
    program: str,
    credentials: Credentials,
    env: Mapping[str, str] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> None:
    """Save credentials with `program store`."""
    data = encode_credentials(credentials.server_url, credentials.username, credentials.secret)
    _call(program, "store", data, env, timeout, secret=credentials.secret)


def get(
    program: str, server_url: str, env: Mapping[str, str] | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> Credentials:
    """The credentials `program get` returns for server_url; CredentialsNotFound if it has none."""
    name, output = _call(program, "get", _raw(server_url), env, timeout)
    try:
        fields = string_fields(_decode(output), CREDENTIAL_FIELDS)
    except ValueError as err:
        _bad_answer(name, "get", str(err))
    # Go pre-fills ServerURL with the requested one, so a helper may leave it out.
    return Credentials(fields.get("ServerURL", server_url), fields.get("Username", ""), fields.get("Secret", ""))


def erase(
    program: str, server_url: str, env: Mapping[str, str] | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> None:
    """Remove the credentials for server_url with `program erase`."""
    _call(program, "erase", _raw(server_url), env, timeout)


def list_credentials(
    program: str, env: Mapping[str, str] | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> dict[str, str]:
    """The server URL → username map that `program list` returns."""
    name, output = _call(program, "list", b"unused", env, timeout)
    try:
        value = _decode(output)
    except ValueError as err:
        _bad_answer(name, "list", str(err))
    if value is None:
        return {}
    if not isinstance(value, JSONObject):
        _bad_answer(name, "list", f"expected a JSON object, not {json_type(value)}")
    listing: dict[str, str] = {}
    for key, item in value:
        if item is not None and not isinstance(item, str):
            _bad_answer(name, "list", f"a username must be a string, not {json_type(item)}")
        listing[valid_unicode(key)] = "" if item is None else valid_unicode(item)
    return listing


def program_path(program: str) -> str:
    """What to run: a path (contains '/') as given, else docker-credential-<name>."""
    if "/" in program:
        return program
    return program if program.startswith(PREFIX) else PREFIX + program


def _call(
    program: str,
    action: str,
    data: bytes,
    env: Mapping[str, str] | None,
    timeout: float | None,
    secret: str = "",
) -> tuple[str, bytes]:
    """Run `program action` with data on stdin; return (program name, stdout) or raise."""
    name = program_path(program)
    # As Go's client.NewShellProgramFuncWithEnv: env adds to (and overrides) our environment.
    # GPG_TTY: gpg in the helper can ask for a passphrase on our terminal (credctl.terminal).
    child_env = terminal.child_environ({**os.environ, **(env or {})})
    argv = [_locate(name, action, child_env), action]
    with terminal.lent_to_child():
        return name, _run(name, action, argv, data, child_env, timeout, secret)


def _run(
    name: str, action: str, argv: list[str], data: bytes, child_env: dict[str, str], timeout: float | None, secret: str
) -> bytes:
    """Run argv with data on stdin; its stdout when it succeeds, else raise the error its failure means."""
    try:
        done = spawn.run(argv, data, child_env, timeout)
    except FileNotFoundError:
        raise HelperFailed(name, action, NOT_FOUND_STATUS, f"{name} not found") from None
    except TimeoutError:  # it, and every process below it, were killed
        raise HelperFailed(name, action, TIMEOUT_STATUS, f"no answer within {timeout:g} s; stopped it") from None
    except OSError as err:
        raise HelperFailed(name, action, CANNOT_RUN_STATUS, f"{name}: cannot run it: {err.strerror}") from None
    status, stdout = done.status, done.stdout
    if status == 0:
        return stdout
    text = _text(stdout).strip(GO_SPACE)
    known = KNOWN_MESSAGES.get(text)
    if known is not None:
        raise known()
    if status < 0:  # killed by a signal: report it as a shell would
        number = -status
        status, text = 128 + number, text or f"killed by {_signal_name(number)}"
    for form in sorted({secret, json_string(secret)[1:-1]} - {""}, key=len, reverse=True):
        # A helper that echoes its input must not put the secret into our error text.
        text = text.replace(form, "***")
    raise HelperFailed(name, action, status, text)


def _locate(name: str, action: str, env: Mapping[str, str]) -> str:
    """The absolute path of name on env's PATH (like Go's exec.LookPath), or name if it is a path."""
    if "/" in name:
        return name
    found = _which(name, env.get("PATH", os.defpath))
    if found is None:
        raise HelperFailed(name, action, NOT_FOUND_STATUS, f"{name} not found on PATH")
    if not os.path.isabs(found):
        # Go refuses a program found through a relative PATH entry such as "." (exec.ErrDot).
        raise HelperFailed(name, action, NOT_FOUND_STATUS, f"{name} found only in the current directory ({found})")
    return found


def _which(name: str, path: str) -> str | None:
    """The first file named name on path that this process may execute (shutil.which's rule)."""
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate) and os.path.exists(candidate):
            return candidate
    return None


def _decode(output: bytes) -> object:
    """The first JSON value on stdout; a ValueError's reason never quotes it (it may hold a secret)."""
    return first_json_value(_text(output))


def _bad_answer(name: str, action: str, reason: str) -> NoReturn:
    """The program succeeded (exit status 0) but its output cannot be used."""
    raise HelperFailed(name, action, 0, reason)


def _raw(server_url: str) -> bytes:
    """The server URL as Go sends it: its bytes, no newline."""
    return server_url.encode("utf-8", "surrogateescape")


def _text(output: bytes) -> str:
    # Go keeps invalid UTF-8 bytes in strings and replaces them with U+FFFD when decoding JSON.
    return output.decode("utf-8", "replace")


def _signal_name(number: int) -> str:
    import signal  # enum: only to name the signal that killed a helper

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
