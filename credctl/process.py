"""What a helper process does to itself: keep secrets out of core files, and bound its waits.

The docker-credential-* programs' get and store, and the kubelet plugin, call
keep_secrets_in_memory() before they read stdin; the stores ask prompt_timeout() and
lock_timeout() how long to wait for a child (gpg, pass), a D-Bus reply or prompt, and a lock.
Standard library C modules only: this is Docker's hot path.
"""

from __future__ import annotations

import sys

from credctl.errors import StoreUnavailable

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# The defaults docs/cli.md states (tests/test_hostile_hang.py checks they agree).
PROMPT_TIMEOUT = 120.0  # a person typing a passphrase or a keyring password
LOCK_TIMEOUT = 10.0  # far above any store's own work: a lock held longer has a stuck holder
REPLY_TIMEOUT = 25.0  # a D-Bus method call that is not a prompt (libdbus's default)
MAX_TIMEOUT = 3600.0
PROMPT_SETTING = "CREDCTL_PROMPT_TIMEOUT"
LOCK_SETTING = "CREDCTL_LOCK_TIMEOUT"
_PR_SET_DUMPABLE = 4  # linux/prctl.h
_RLIMIT_CORE = 4  # the same on every Linux architecture, and on the BSDs and macOS


def prompt_timeout(environ: Mapping[str, str]) -> float:
    """Seconds a child that may be asking a person (gpg, pass) or an unlock prompt may take."""
    return _seconds(environ, PROMPT_SETTING, PROMPT_TIMEOUT)


def lock_timeout(environ: Mapping[str, str]) -> float:
    """Seconds to wait for a store's lock before saying who must be stuck."""
    return _seconds(environ, LOCK_SETTING, LOCK_TIMEOUT)


def reply_timeout(environ: Mapping[str, str]) -> float:
    """Seconds a D-Bus method call may take: REPLY_TIMEOUT, or the prompt timeout when shorter."""
    return min(REPLY_TIMEOUT, prompt_timeout(environ))


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "")
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan and inf
        raise StoreUnavailable(f"{name} must be a number of seconds (at most {MAX_TIMEOUT:g}), not {text!r}")
    return seconds


def keep_secrets_in_memory() -> None:
    """No core file of this process, and no ptrace or /proc/PID/mem by other processes of the
    user: it is about to hold a secret. Children get their own (execve resets dumpability).

    setrlimit(RLIMIT_CORE, 0) and prctl(PR_SET_DUMPABLE, 0), both called through the _ctypes C
    module alone: the ctypes package costs three times as much to import (docs/design.md), the
    standard library has no prctl, and the resource module would be one more C module to load on
    every helper start. Without _ctypes (or its call_function) resource sets the core limit.
    """
    # struct rlimit {rlim_cur, rlim_max}: two zero unsigned longs, passed as a pointer to bytes.
    if not _libc_call("setrlimit", _RLIMIT_CORE, bytes(16)):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # raises with the system's reason
    if sys.platform.startswith("linux"):
        # None is passed as a null pointer: the 64-bit zero that prctl reads as its unsigned long.
        _libc_call("prctl", _PR_SET_DUMPABLE, None)


def _libc_call(name: str, *args: object) -> bool:
    """Whether the C library's function name, called with args (an int as a C int, bytes as a
    pointer to them, None as a null pointer), returned 0; False where _ctypes, its call_function
    or the function is missing (then the core limit is resource's to set)."""
    try:
        import _ctypes

        function = _ctypes.dlsym(_ctypes.dlopen(None), name)
        return _ctypes.call_function(function, args) == 0
    except (ImportError, AttributeError, OSError):
        return False


def call_within(seconds: float, function: Callable[[], object], name: str) -> tuple[bool, object]:
    """(True, what function() returned) when it returns within seconds; its exception is raised
    here. (False, None) when it is still running then: for calls that have no bound of their own
    (a library's blocking D-Bus call, a DNS lookup). It runs in a daemon thread named name,
    which goes on, and ends with the process."""
    import threading

    answers: list[object] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            answers.append(function())
        except BaseException as err:  # raised again in the caller's thread, as it is
            errors.append(err)

    worker = threading.Thread(target=call, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    if errors:
        raise errors[0]
    return (True, answers[0]) if answers else (False, None)
