"""The OS keyring through the `keyring` library: macOS Keychain, Windows Credential Manager,
KWallet, the Secret Service, or any backend a user configured.

Entries (docs/stores/keyring.md):
    service "credctl:<ServerURL>", username <Username>, password <Secret>
    service "credctl-index", username "docker-credential-keyring", password
        {"<ServerURL>": "<Username>", ...} as JSON: keyring cannot enumerate, so `list` (and
        `get`, which needs the username) read this index, kept in step under a lock. Its
        service lacks the "credctl:" of every entry, so no ServerURL a client sends reaches it.
        Until a store or erase first writes it there, the index is read where credctl kept it
        before, "credctl:index" (where the entry of ServerURL "index" lives now).

The backend is found without keyring's auto-detection on every call (~180 ms, it spawns
processes): PYTHON_KEYRING_BACKEND or keyringrc.cfg if set, else the backend credctl remembered
in its settings the first time it detected one.
"""

from __future__ import annotations

import os

from credctl import settings
from credctl.errors import CredentialsNotFound, StoreError, StoreUnavailable, Stuck
from credctl.gojson import JSONError, parse
from credctl.paths import cache_dir, locked
from credctl.process import call_within, lock_timeout, prompt_timeout
from credctl.stores.base import Health, Store
from credctl.stores.keyring_secretservice import NAME, NativeSecretService

SERVICE_PREFIX = "credctl:"
# No entry's service (SERVICE_PREFIX + ServerURL) can be this one: the index is out of clients' reach.
INDEX_SERVICE = "credctl-index"
LEGACY_INDEX_SERVICE = SERVICE_PREFIX + "index"  # where the index was kept, reachable as ServerURL "index"
INDEX_USER = "docker-credential-keyring"
SETTING = "keyring_backend"
# Backends that store nothing; never worth remembering.
_NOT_A_STORE = ("keyring.backends.fail.Keyring", "keyring.backends.null.Keyring")
NO_BACKEND = (
    "no usable keyring backend here: on Linux run a Secret Service (GNOME Keyring, KWallet), or name a "
    "backend in PYTHON_KEYRING_BACKEND / keyringrc.cfg (see `keyring --list-backends`)"
)


def _name(backend: object) -> str:
    if isinstance(backend, NativeSecretService):
        return NAME
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _keyringrc_exists(environ) -> bool:
    """Whether keyring would read a keyringrc.cfg (keyring.util.platform_: the config root, and
    the data root it used before), which may name a backend or set its properties."""
    home = environ.get("HOME") or os.path.expanduser("~")
    roots = (environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"),)
    roots += (environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"),)
    return any(os.path.exists(os.path.join(root, "python_keyring", "keyringrc.cfg")) for root in roots)


def _native_backend(environ):
    """credctl's own client of keyring's Secret Service items (stores/keyring_secretservice.py)
    where keyring would use that backend as it is: named in PYTHON_KEYRING_BACKEND, or remembered
    by credctl with no keyringrc.cfg. None: keyring itself decides."""
    named = environ.get("PYTHON_KEYRING_BACKEND")
    if named:
        return NativeSecretService(environ, _named_unusable) if named == NAME else None
    if _keyringrc_exists(environ) or settings.load(environ).get(SETTING) != NAME:
        return None
    return NativeSecretService(environ, lambda reason: _remembered_unusable(NAME, reason, environ))


def _named_unusable(reason: object) -> StoreUnavailable:
    return StoreUnavailable(
        f"the keyring backend named in PYTHON_KEYRING_BACKEND or keyringrc.cfg cannot work here ({reason})"
    )


def _remembered_unusable(remembered: str, reason: object, environ) -> StoreUnavailable:
    return StoreUnavailable(
        f"the keyring backend credctl remembered ({remembered}) cannot work here ({reason}): remove "
        f'"{SETTING}" from {settings.settings_path(environ)} to detect the backend again'
    )


def load_backend(environ=os.environ):
    """The keyring backend to use, detecting (and remembering) it only when nothing names one."""
    import keyring.core

    try:
        configured = keyring.core.load_env() or keyring.core.load_config()
    except Exception as err:  # a named backend that is not viable here raises RuntimeError
        raise _named_unusable(err) from None
    if configured is not None:
        return configured
    remembered = settings.load(environ).get(SETTING)
    if isinstance(remembered, str):
        try:
            return keyring.core.load_keyring(remembered)
        except Exception as err:
            raise _remembered_unusable(remembered, err, environ) from None
    backend = keyring.get_keyring()  # auto-detection: once per machine
    # The chainer re-detects all backends each time; its first choice is what it would use.
    chosen = next(iter(getattr(backend, "backends", [])), backend)
    if _name(chosen) not in _NOT_A_STORE:
        try:
            settings.update(environ, **{SETTING: _name(chosen)})
        except OSError:
            pass  # then detect again next time
    return chosen


TRANSIENT_RETRIES = 5


def _vanished_item(err: Exception) -> bool:
    """secretstorage's ItemNotFoundException (matched by name: other backends never import it)."""
    return type(err).__name__ == "ItemNotFoundException"


class KeyringStore(Store):
    def __init__(self, environ=os.environ) -> None:
        self.environ = environ
        self._backend = None

    @property
    def backend(self):
        if self._backend is None:
            self._backend = _native_backend(self.environ) or load_backend(self.environ)
            if _name(self._backend) in _NOT_A_STORE:
                raise StoreUnavailable(NO_BACKEND)
        return self._backend

    def _call(self, method: str, *args: str):
        if isinstance(self.backend, NativeSecretService):  # credctl's errors, its own bounds
            return getattr(self.backend, method)(*args)
        import keyring.errors

        try:
            return self._call_again_if_transient(method, *args)
        except keyring.errors.KeyringLocked:
            raise StoreUnavailable(f"the keyring ({_name(self.backend)}) is locked: unlock it and try again") from None
        except keyring.errors.NoKeyringError:
            raise StoreUnavailable(NO_BACKEND) from None
        except keyring.errors.PasswordDeleteError:
            raise CredentialsNotFound() from None
        except keyring.errors.KeyringError as err:
            raise StoreError(f"the keyring ({_name(self.backend)}) failed: {type(err).__name__}: {err}") from None

    def _call_again_if_transient(self, method: str, *args: str):
        """The Secret Service backend fails for a moment while gnome-keyring reloads the keyring
        file another writer changed: InitError ("Failed to create the collection") when it has no
        default collection yet, secretstorage's ItemNotFoundException when an item its search
        found is gone before it is read or written (the reload gives items new paths). Every
        keyring call is idempotent (set replaces, get reads, delete of nothing is an error we
        map), so it is made again, a quarter second at most; a fault that lasts is a StoreError."""
        import time

        import keyring.errors

        for _ in range(TRANSIENT_RETRIES):
            try:
                return self._within_bound(method, *args)
            except keyring.errors.InitError:
                time.sleep(0.05)
            except Exception as err:
                if not _vanished_item(err):
                    raise
                time.sleep(0.05)
        try:
            return self._within_bound(method, *args)
        except Exception as err:
            if _vanished_item(err):
                raise StoreError(
                    f"the keyring ({_name(self.backend)}) kept changing under credctl (items vanished while it "
                    "read them): try again"
                ) from None
            raise

    def _within_bound(self, method: str, *args: str):
        """backend.method(*args), given at most the prompt timeout (it may show an unlock dialog):
        keyring's backends wait for their service without a limit (secretstorage's D-Bus calls
        have none)."""
        seconds = prompt_timeout(self.environ)
        answered, value = call_within(seconds, lambda: getattr(self.backend, method)(*args), f"keyring {method}")
        if not answered:
            which = _name(self._backend) if self._backend is not None else "its backend"
            raise Stuck.silent_keyring(f"the keyring ({which})", f"{seconds:g} s")
        return value

    def _index_text(self) -> str | None:
        """The stored index, or None. Once written at INDEX_SERVICE (by any store, or an erase of
        an indexed server), the legacy place is never read again: it may hold a user's entry then."""
        text = self._call("get_password", INDEX_SERVICE, INDEX_USER)
        if text is None:
            text = self._call("get_password", LEGACY_INDEX_SERVICE, INDEX_USER)
        return text

    def _index(self) -> dict[str, str]:
        text = self._index_text()
        try:
            index = parse(text, lone_surrogates=True) if text else {}  # servers may hold undecodable bytes
        except JSONError:
            raise StoreError(f"the credctl index in the keyring ({INDEX_SERVICE}) is damaged: erase it") from None
        return (
            {k: v for k, v in index.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(index, dict)
            else {}
        )

    def _save_index(self, index: dict[str, str]) -> None:
        import json  # writes only: ~7 ms to import (re, enum), which get and list never pay

        self._call("set_password", INDEX_SERVICE, INDEX_USER, json.dumps(index, sort_keys=True, separators=(",", ":")))

    def _lock(self) -> locked:
        return locked(
            os.path.join(cache_dir(self.environ), "keyring.lock"), private=True, timeout=lock_timeout(self.environ)
        )

    def get(self, server_url: str) -> tuple[str, str]:
        for _ in range(3):
            username = self._index().get(server_url)
            secret = None if username is None else self._call("get_password", SERVICE_PREFIX + server_url, username)
            if secret is not None:
                return username, secret  # type: ignore[return-value]
            if username is None:
                break
            # Indexed but gone: a concurrent store replaced the username; the index has moved on.
        raise CredentialsNotFound()

    def add(self, server_url: str, username: str, secret: str) -> None:
        with self._lock():
            index = self._index()
            self._call("set_password", SERVICE_PREFIX + server_url, username, secret)
            previous = index.get(server_url)
            index[server_url] = username
            # The index moves to the new entry before the old one goes: get takes no lock, and
            # deleting first let a concurrent get read the old username and find nothing.
            self._save_index(index)
            if previous is not None and previous != username:
                try:
                    self._call("delete_password", SERVICE_PREFIX + server_url, previous)
                except CredentialsNotFound:
                    pass

    def delete(self, server_url: str) -> None:
        with self._lock():
            index = self._index()
            if server_url not in index:
                return  # nothing stored: nothing to do (Store.delete)
            try:
                self._call("delete_password", SERVICE_PREFIX + server_url, index[server_url])
            except CredentialsNotFound:
                pass  # gone already; the index entry goes too
            del index[server_url]
            self._save_index(index)

    def list(self) -> dict[str, str]:
        return self._index()

    def health(self) -> Health:
        try:
            self._index()
        except (StoreUnavailable, StoreError) as err:
            return Health(False, str(err))
        return Health(True, f"keyring backend {_name(self.backend)} is usable")
