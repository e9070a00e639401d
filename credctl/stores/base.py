"""The one small interface every credential store implements (standard library only)."""

from __future__ import annotations

import abc
import sys


def notice(line: str) -> None:
    """A store's notice for the person running Docker (a fallback taken, a route left out): one
    line on stderr, which docker shows from a helper; stdout stays the protocol's."""
    sys.stderr.write(line.replace("\r", " ").replace("\n", " ") + "\n")
    sys.stderr.flush()


class Health:
    """A store's answer to "can I work here, and if not, why?" (used by setup, verify and helpers)."""

    __slots__ = ("detail", "ok")

    def __init__(self, ok: bool, detail: str) -> None:
        self.ok, self.detail = ok, detail

    def __repr__(self) -> str:
        return f"Health(ok={self.ok!r}, detail={self.detail!r})"


class Store(abc.ABC):
    """Credentials keyed by server URL: one username and one secret per server."""

    @abc.abstractmethod
    def add(self, server_url: str, username: str, secret: str) -> None:
        """Store (or replace) the credentials for server_url."""

    @abc.abstractmethod
    def get(self, server_url: str) -> tuple[str, str]:
        """Return (username, secret); raise CredentialsNotFound if there are none."""

    @abc.abstractmethod
    def delete(self, server_url: str) -> None:
        """Remove the credentials for server_url; nothing stored for it is not an error.

        As Go's secretservice helper answers: containers/image 5.23 turns a helper's "not found"
        from erase into a crash (`podman logout`) or a failure (`podman logout --all`); see
        docs/helper-protocol.md."""

    @abc.abstractmethod
    def list(self) -> dict[str, str]:
        """Return {server URL: username} for every stored credential, never secrets."""

    def revision(self, server_url: str) -> str | None:
        """A short text that changes whenever the login stored for server_url does, read without
        decrypting anything (credctl.expiry remembers what it read from a login by it); None when
        the store cannot tell cheaply, or holds nothing for server_url."""
        return None

    @abc.abstractmethod
    def health(self) -> Health:
        """Check whether this store can work on this machine; the detail names any fix."""
