"""GnuPG keys for people: find, describe and generate them (python-gnupg).

Admin path only: the helper decrypts with gpg directly (credctl.stores.passstore).
python-gnupg is imported when a key is looked at, not when the CLI starts.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping

from credctl.errors import GpgUnavailable

_UNUSABLE = set("rdein")  # validity: revoked, disabled, expired, invalid, not valid


class Key:
    """A key that can encrypt, as shown to a person choosing one."""

    def __init__(self, listing: dict, has_secret: bool) -> None:
        self.fingerprint: str = listing["fingerprint"]
        self.uid: str = (listing.get("uids") or ["(no user id)"])[0]
        self.created: str = _day(listing.get("date"))
        self.expires: str = _day(listing.get("expires")) or "never"
        self.has_secret = has_secret
        # Keygrips of the encryption subkeys: what gpg-agent knows them by.
        self.keygrips = [
            sub["keygrip"]
            for sub in (listing.get("subkey_info") or {}).values()
            if "e" in sub.get("cap", "") and sub.get("trust", "") not in _UNUSABLE and sub.get("keygrip")
        ]


def _day(timestamp: str | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(int(timestamp))) if timestamp else ""


def _gpg(environ: Mapping[str, str] = os.environ):
    import gnupg

    home = environ.get("GNUPGHOME") or None
    if home and not os.path.isdir(home):
        os.makedirs(home, mode=0o700, exist_ok=True)  # as gpg makes its home; python-gnupg refuses
    try:
        return gnupg.GPG(gnupghome=home)
    except (OSError, ValueError) as err:
        raise GpgUnavailable(f"gpg cannot run ({err}): install gnupg (apt-get install gnupg)") from None


def _can_encrypt(listing: dict) -> bool:
    return "E" in listing.get("cap", "") and listing.get("trust", "") not in _UNUSABLE


def usable_keys(environ: Mapping[str, str] = os.environ) -> list[Key]:
    """Keys that can encrypt and whose secret part is here, so they can also decrypt."""
    return [Key(listing, True) for listing in _gpg(environ).list_keys(secret=True) if _can_encrypt(listing)]


def find_key(ident: str, environ: Mapping[str, str] = os.environ) -> Key | None:
    """The encryption-capable public key ident names (fingerprint, key id or user id)."""
    gpg = _gpg(environ)
    matches = [listing for listing in gpg.list_keys(keys=[ident]) if _can_encrypt(listing)]
    if not matches:
        return None
    secret = {listing["fingerprint"] for listing in gpg.list_keys(secret=True, keys=[ident])}
    return Key(matches[0], matches[0]["fingerprint"] in secret)


def encrypts_to(key: Key, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether gpg encrypts to key as pass asks it to: in batch mode, without --always-trust.

    That refuses a key of unknown validity, as one just imported from elsewhere is.
    """
    return bool(_gpg(environ).encrypt(b"", key.fingerprint).ok)


def generate_key(name: str, email: str, passphrase: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """Make an ed25519 signing key with a cv25519 encryption subkey; return its fingerprint.

    The passphrase travels to gpg on its stdin (batch parameters), never on argv.
    """
    gpg = _gpg(environ)
    params = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        subkey_usage="encrypt",
        name_real=name,
        name_email=email,
        expire_date=0,
        **({"passphrase": passphrase} if passphrase else {"no_protection": True}),
    )
    result = gpg.gen_key(params)
    if not result.fingerprint:
        raise GpgUnavailable(
            f"gpg could not generate the key: {result.status or result.stderr.strip().splitlines()[-1:]}"
        )
    return result.fingerprint


def passphrase_needed(key: Key, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether decrypting will ask for a passphrase now: protected and not cached in gpg-agent."""
    for grip in key.keygrips:
        try:
            answer = subprocess.run(
                ["gpg-connect-agent", f"KEYINFO {grip}", "/bye"],
                capture_output=True,
                text=True,
                timeout=10,
                env=dict(environ),
                check=False,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return True
        # "S KEYINFO <grip> <type> <serial> <idstr> <cached> <protection> ..."
        fields = next((line.split() for line in answer.splitlines() if line.startswith("S KEYINFO")), [])
        if len(fields) > 7 and fields[7] == "P" and fields[6] != "1":
            return True
    return False


def read_gpg_ids(store_root: str) -> list[str]:
    try:
        with open(os.path.join(store_root, ".gpg-id"), encoding="utf-8") as ids:
            return [line.split("#")[0].strip() for line in ids if line.split("#")[0].strip()]
    except OSError:
        return []


def recipients_problem(store_root: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Why the keys in .gpg-id cannot both encrypt and decrypt here, or None if they can."""
    ids = read_gpg_ids(store_root)
    if not ids:
        return f"{store_root}/.gpg-id names no key: run `credctl pass init`"
    try:
        keys = [(ident, find_key(ident, environ)) for ident in ids]
    except GpgUnavailable as err:
        return str(err)
    for ident, key in keys:
        if key is None:
            return (
                f"gpg has no usable encryption key for {ident} (named in .gpg-id): import it or run `credctl pass init`"
            )
    if not any(key.has_secret for _, key in keys):  # type: ignore[union-attr]
        return (
            "none of the keys in .gpg-id has its secret key here, so nothing can be decrypted: run `credctl pass init`"
        )
    return None
