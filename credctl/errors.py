"""Every error credctl raises on purpose, and the one line a user sees for any exception.

str(error) of a CredctlError is that line; one_line() and exit_status() say what the helpers,
the kubelet plugin and the CLI report for whatever ended a run.
Standard library only, and cheap: the helper path imports this module.
"""

from __future__ import annotations


class CredctlError(Exception):
    """A failure that is reported as one clear line and exit status 1."""

    exit_status = 1


class CredentialsNotFound(CredctlError):
    """The store has nothing for that server (Docker then carries on without credentials)."""

    def __init__(self, message: str = "credentials not found in native keychain") -> None:
        super().__init__(message)


class MissingServerURL(CredctlError):
    def __init__(self) -> None:
        super().__init__("no credentials server URL")


class MissingUsername(CredctlError):
    def __init__(self) -> None:
        super().__init__("no credentials username")


class BadInput(CredctlError):
    """What arrived on stdin cannot be used (not JSON, wrong types, too large)."""


class StoreUnavailable(CredctlError):
    """The store cannot work on this machine as it is; the message names the fix."""


class StoreError(CredctlError):
    """The store was reachable but the operation failed."""


class RouteFailed(StoreError):
    """The helper a route of docker-credential-credctl names failed for one registry; the
    message names the registry, the route and the helper, then the helper's own reason."""


class NoTemporaryTokens(StoreError):
    """An ACR registry whose edition no Alibaba Cloud API issues temporary tokens for (the new
    Personal Edition): only a stored login serves it; the message says how to make one."""


class Stuck(CredctlError):
    """A program, a lock holder or a D-Bus peer did not answer within its bound; the line says
    which and how long was waited."""

    @classmethod
    def silent_keyring(cls, which: str, within: str) -> Stuck:
        """A keyring service (which: "the Secret Service", "the keyring (backend)") that did not
        answer within (such as "25 s"): the line, and what a person can do about it."""
        return cls(
            f"{which} did not answer within {within}: restart it (log in again), or use the pass store "
            "(`credctl pass init`)"
        )


class UsageError(CredctlError):
    """A command line credctl cannot run as given: exit status 2, and the CLI shows it as click
    shows its own usage errors (the command's usage line, then "Error: <message>").

    option: the option whose value is refused; the message then reads as click's own for a bad
    value, "Invalid value for --store: <message>".
    """

    exit_status = 2

    def __init__(self, message: str, option: str = "") -> None:
        super().__init__(f"Invalid value for {option}: {message}" if option else message)


class UnknownStore(CredctlError):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown store {name!r}: choose one of {', '.join(known)}")


class ConfigError(CredctlError):
    """A config file credctl cannot read or write; it names the file and what to do."""


class ProfileError(CredctlError):
    """An ACR profile name or wrapper credctl cannot use."""


class UnsafePath(CredctlError):
    """A file or folder credctl would trust that another user controls, or that is not the kind
    of file expected there (a FIFO, a symbolic link where a lock goes): refused, never used."""

    def __init__(self, path: str, reason: str, advice: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}: {advice}")


class GpgUnavailable(StoreUnavailable):
    """gpg cannot run here, or has no usable key; the message names the fix."""


class HelperFailed(CredctlError):
    """A docker-credential-* program, run by credctl.client, reported an error."""

    def __init__(self, program: str, action: str, status: int, output: str) -> None:
        self.program, self.action, self.status, self.output = program, action, status, output
        super().__init__(f"{program} {action} failed (exit status {status}): {output or '(no output)'}")


# The three messages Docker's client recognises by text (whitespace-trimmed stdout).
KNOWN_MESSAGES = {
    str(CredentialsNotFound()): CredentialsNotFound,
    str(MissingServerURL()): MissingServerURL,
    str(MissingUsername()): MissingUsername,
}


def one_line(err: BaseException, what: str = "", advice: bool = False) -> str:
    """The line a user sees for err, which ended `what` (e.g. "docker-credential-pass get").

    - A CredctlError says it all: str(err), never prefixed (Docker matches three messages by text).
    - Anything else is prefixed with `what: ` when what is given. Ctrl-C is "interrupted".
    - A system error (OSError) gives the system's message and the file name only, never the data
      being handled; with advice (for people, the CLI) the file comes first, then what to do.
    - Any other exception is a bug in credctl, named by its type alone: its text may hold anything.

    The caller keeps the line on one line as its output requires.
    """
    if isinstance(err, CredctlError):
        return str(err)
    if isinstance(err, KeyboardInterrupt):
        text = "interrupted"
    elif isinstance(err, OSError):
        text = _system_error(err, advice)
    else:
        text = f"unexpected {type(err).__name__}; please report this as a credctl bug"
    return f"{what}: {text}" if what else text


def exit_status(err: BaseException) -> int:
    """The exit status a run that err ended has: 2 for a usage error, else 1."""
    return err.exit_status if isinstance(err, CredctlError) else 1


def _system_error(err: OSError, advice: bool) -> str:
    message = err.strerror or type(err).__name__
    if not advice:
        return f"{message} ({err.filename})" if err.filename else message
    import errno  # built in: no cost on the helpers' path, which never asks for advice

    where = f"{err.filename}: " if err.filename else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space there (or raise the quota), then run the command again"
    elif err.errno == errno.EROFS:
        fix = "that file system is mounted read-only: remount it read-write or point credctl elsewhere"
    elif err.errno in (errno.EACCES, errno.EPERM):
        fix = "check who owns it and its permissions (credctl writes as the user who runs it)"
    else:
        fix = "check that path, then try again"
    return f"{where}{message}: {fix}"
