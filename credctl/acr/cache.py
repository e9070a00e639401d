"""Issued ACR tokens on disk, so a warm `get` needs neither the SDK nor the network.

$XDG_CACHE_HOME/credctl/acr/<sha256 of (credential fingerprint, region, instance)>.token,
mode 0600 in a 0700 folder of the user's own (credctl.paths.own_folder), written atomically;
reused until MARGIN before expiry. Standard library only (and its small sha256 module, not
hashlib's OpenSSL): this is the hot path.
"""

from __future__ import annotations

import posix
import time

from credctl.paths import cache_dir, read_file, write_atomically
from credctl.posixfs import ENVIRON, join

try:  # the C module behind hashlib's sha256, without OpenSSL (4 ms less per helper call)
    from _sha256 import sha256
except ImportError:  # Python 3.12+ renamed it
    try:
        from _sha2 import sha256  # type: ignore[no-redef]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]

MAGIC = "credctl-acr-token-1"
MARGIN = 300  # seconds before expiry from which a token counts as expired


class Token:
    __slots__ = ("domain", "expires", "owner", "password", "username")

    def __init__(self, domain: str, username: str, password: str, expires: int, owner: str = "") -> None:
        self.domain, self.username, self.password, self.expires, self.owner = domain, username, password, expires, owner

    def fresh(self, now: float) -> bool:
        return self.expires - MARGIN > now


def folder(environ=ENVIRON) -> str:
    return join(cache_dir(environ), "acr")


def owner_of(identity: str) -> str:
    """A short, one-way name for a credential source (kept in each file to list and drop by)."""
    return sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def path_for(identity: str, region: str, instance: str, environ=ENVIRON) -> str:
    key = sha256(f"{identity}\0{region}\0{instance}".encode("utf-8", "surrogateescape")).hexdigest()
    return join(folder(environ), key[:40] + ".token")


def load(path: str) -> Token | None:
    """The token in path, or None when there is none or it cannot be read; UnsafePath when
    another user controls the file or its folder (or it is a FIFO): such a token is not served."""
    try:
        data = read_file(path, private=True)
        if data is None:
            return None
        magic, owner, domain, username, password, expires = data.decode("utf-8").split("\n")[:6]
        if magic != MAGIC:
            return None
        return Token(domain, username, password, int(expires), owner)
    except (OSError, ValueError, UnicodeError):
        return None


def save(path: str, token: Token) -> None:
    lines = (MAGIC, token.owner, token.domain, token.username, token.password, str(token.expires))
    if any("\n" in line for line in lines):
        return  # not a token we can keep in this format; the next call asks the API again
    write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"), private=True)


def tokens(environ=ENVIRON) -> list[tuple[str, Token]]:
    """(path, token) for every readable cache file."""
    base = folder(environ)
    try:
        paths = [join(base, name) for name in posix.listdir(base) if name.endswith(".token")]
    except OSError:
        return []
    return [(path, token) for path, token in ((path, load(path)) for path in paths) if token is not None]


def drop(domain: str, environ=ENVIRON) -> int:
    """Remove the cached tokens for a registry domain, whichever credentials they came from."""
    removed = 0
    for path, token in tokens(environ):
        if token.domain == domain:
            try:
                posix.unlink(path)
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def listing(owner: str, environ=ENVIRON) -> dict[str, str]:
    """{domain: username} of this credential source's tokens that are still fresh."""
    now = time.time()
    return {
        token.domain: token.username for _path, token in tokens(environ) if token.owner == owner and token.fresh(now)
    }
