"""Every error credctl raises on purpose; str(error) is the one line a user sees.

Standard library only: the helper path imports this module.
"""


class CredctlError(Exception):
    """A failure that is reported as one clear line and exit status 1."""


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


class UsageError(CredctlError):
    """A command line credctl cannot run as given; reported as one line and exit status 2."""

    exit_status = 2


class UnknownStore(CredctlError):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown store {name!r}: choose one of {', '.join(known)}")


class ConfigError(CredctlError):
    """A config file credctl cannot read or write; it names the file and what to do."""


class ProfileError(CredctlError):
    """An ACR profile name or wrapper credctl cannot use."""


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
