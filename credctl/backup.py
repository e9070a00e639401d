"""Every login of the configured stores in one gpg-encrypted file, and back: what `credctl
backup` and `credctl restore` share.

The configured stores (configured_stores) are credctl's login stores that Docker's config.json
names (credsStore, credHelpers), that Podman's registries.conf credential-helpers names, and,
under the router, those its routes and default route name.

The file is an OpenPGP message (gpg) holding one JSON document:
`{"credctl-backup": 1, "created": RFC 3339, "logins": [{"store", "server", "username", "secret",
"expires"?}]}`, encrypted to the pass store's keys (its .gpg-id), or with a passphrase
(symmetric, AES256). The passphrase reaches gpg as the first line of its stdin
(--passphrase-fd 0), never on a command line or in the environment; the plaintext only ever
passes through pipes. Every gpg run is bounded (process.prompt_timeout: it may ask for the key's
passphrase).
"""

from __future__ import annotations

import json
import os
import time

from credctl.errors import ConfigError, CredctlError, StoreError, Stuck
from credctl.stores import LOGIN_STORES, ROUTERS, canonical

FORMAT = 1
MARKER = "credctl-backup"
_SYMMETRIC_TAG, _PUBLIC_KEY_TAG = 3, 1  # OpenPGP packet tags: SKESK, PKESK (RFC 4880, section 4.3)


class Saved:
    """One login of a backup: the store it came from, its key, username, secret, given expiry."""

    __slots__ = ("expires", "secret", "server", "store", "username")

    def __init__(self, store: str, server: str, username: str, secret: str, expires: int | None = None) -> None:
        self.store, self.server, self.username, self.secret, self.expires = store, server, username, secret, expires

    def __repr__(self) -> str:
        return f"Saved({self.store!r}, {self.server!r}, {self.username!r}, '***')"


# --- which stores -------------------------------------------------------------------------------


def configured_stores(docker_path: str, environ=os.environ) -> list[str]:
    """credctl's login stores Docker, Podman and the router are set to use, in that order, once each."""
    from credctl import podman
    from credctl.dockerconfig import ConfigFile

    config = ConfigFile.read(docker_path)
    named = [config.creds_store, *config.helpers.values()]
    try:
        named += list(podman.credential_helpers(environ).helpers)
    except ConfigError:
        pass  # a registries.conf podman refuses: Podman uses no store then
    if any(canonical(name) in ROUTERS for name in named):
        from credctl.routes import Routes

        named += Routes.load(environ).helpers()
    return list(dict.fromkeys(canonical(name) for name in named if canonical(name) in LOGIN_STORES))


def read_logins(stores: list[str], environ=os.environ) -> list[Saved]:
    """Every login each store holds, secrets read; StoreError naming a store that cannot be read
    (a backup is whole, or not written)."""
    from credctl.expiry import given
    from credctl.stores import open_store

    found = []
    for name in stores:
        store = open_store(name, environ)
        try:
            listed = store.list()
            for server in sorted(listed):
                username, secret = store.get(server)
                found.append(Saved(name, server, username, secret, given(server, username, environ)))
        except CredctlError as err:
            raise StoreError(f"cannot read the {name} store: {err}; no backup written") from None
    return found


# --- the document ---------------------------------------------------------------------------------


def document(logins: list[Saved]) -> bytes:
    rows = []
    for login in logins:
        row = {"store": login.store, "server": login.server, "username": login.username, "secret": login.secret}
        if login.expires is not None:
            row["expires"] = login.expires
        rows.append(row)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps({MARKER: FORMAT, "created": created, "logins": rows}, ensure_ascii=False).encode()


def parse(data: bytes, path: str) -> list[Saved]:
    """The logins of a decrypted backup; ConfigError (naming path) for anything else."""
    not_one = f"{path} is not a credctl backup"
    try:
        found = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{not_one}: it decrypts, but not to a backup's JSON") from None
    if not isinstance(found, dict) or found.get(MARKER) != FORMAT or not isinstance(found.get("logins"), list):
        raise ConfigError(f"{not_one} of format {FORMAT}")
    logins = []
    for row in found["logins"]:
        fields = [
            row.get(name) if isinstance(row, dict) else None for name in ("store", "server", "username", "secret")
        ]
        if not all(isinstance(value, str) for value in fields):
            raise ConfigError(f"{path}: a login in it lacks its store, server, username or secret")
        expires = row.get("expires")
        logins.append(Saved(*fields, expires if isinstance(expires, int) and not isinstance(expires, bool) else None))
    return logins


# --- gpg -----------------------------------------------------------------------------------------


def encrypt(plaintext: bytes, recipients: list[str], passphrase: str | None, environ=os.environ) -> bytes:
    """plaintext as an OpenPGP message: symmetric with passphrase, else to recipients."""
    if passphrase is not None:
        options = ["--symmetric", "--cipher-algo", "AES256", *_loopback()]
        return _gpg(options, passphrase.encode() + b"\n" + plaintext, "encrypt", "the backup", environ)
    options = ["--encrypt", "--no-encrypt-to", *(arg for ident in recipients for arg in ("-r", ident))]
    return _gpg(options, plaintext, "encrypt", "the backup", environ)


def decrypt(message: bytes, path: str, passphrase: str | None, environ=os.environ) -> bytes:
    """A backup's plaintext: with passphrase for a symmetric one, else through gpg-agent (which may
    ask for the key's passphrase). ConfigError for a file that is no OpenPGP message."""
    if passphrase is not None:
        return _gpg(["--decrypt", *_loopback()], passphrase.encode() + b"\n" + message, "decrypt", path, environ)
    return _gpg(["--decrypt"], message, "decrypt", path, environ)


def symmetric(message: bytes, path: str) -> bool:
    """Whether the message opens with a passphrase (an SKESK packet) rather than a key (a PKESK)."""
    tag = _first_tag(message)
    if tag not in (_SYMMETRIC_TAG, _PUBLIC_KEY_TAG):
        raise ConfigError(f"{path} is not a credctl backup: not a gpg-encrypted file")
    return tag == _SYMMETRIC_TAG


def _first_tag(message: bytes) -> int | None:
    if not message or not message[0] & 0x80:
        return None
    first = message[0]
    return first & 0x3F if first & 0x40 else (first >> 2) & 0x0F


def _loopback() -> list[str]:
    return ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]


def _gpg(options: list[str], data: bytes, verb: str, subject: str, environ) -> bytes:
    """gpg's output for options on data; one line (StoreError, ConfigError, Stuck) when it fails:
    verb and subject say what it was doing (`decrypt`, the file)."""
    from credctl.process import prompt_timeout
    from credctl.spawn import run
    from credctl.stores.passstore import explain_gpg_failure, gpg_program

    argv = [gpg_program(environ), "--batch", "--quiet", "--yes", "--status-fd", "2", *options]
    timeout = prompt_timeout(environ)
    try:
        result = run(argv, input=data, env=environ, timeout=timeout)
    except FileNotFoundError:
        raise StoreError("gpg is not installed: install gnupg") from None
    except TimeoutError:
        raise Stuck(
            f"gpg did not {verb} {subject} within {timeout:g} s (a passphrase prompt nobody answered?)"
        ) from None
    if result.status != 0:
        if b"BAD_PASSPHRASE" in result.stderr:
            raise StoreError(f"cannot {verb} {subject}: wrong passphrase; nothing restored")
        if b"NODATA" in result.stderr or b"no valid OpenPGP data" in result.stderr:
            raise ConfigError(f"{subject} is not a credctl backup: not a gpg-encrypted file")
        raise StoreError(explain_gpg_failure(result.stderr, subject))
    return result.stdout
