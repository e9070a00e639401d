"""keyring's Secret Service backend, spoken directly: the items keyring.backends.SecretService.Keyring
reads and writes, over credctl.dbus, without importing keyring (~80 ms: jaraco.context pulls in
urllib and email) or secretstorage and cryptography.

The items are keyring's (keyring 25, its default scheme): in the default collection, attributes
{username: <username>, service: <service>, application: "Python keyring library"}, the label
"Password for '<username>' on '<service>'", the secret as text/plain in UTF-8; a get or delete
takes the first item the collection's SearchItems gives for {username, service}, as keyring does.
Secrets travel with the "plain" algorithm, as credctl's Secret Service store sends them
(docs/stores/secretservice.md); what is stored is the same either way.

KeyringStore uses this only where keyring would pick this backend without a setting this module
does not read: PYTHON_KEYRING_BACKEND naming it, or credctl's remembered backend with no
keyringrc.cfg (which may name another backend, or properties such as a preferred collection).
"""

from __future__ import annotations

from credctl.dbus import TIMED_OUT, DBusError, Variant
from credctl.errors import CredentialsNotFound, StoreUnavailable, Stuck
from credctl.stores.secretservice import (
    COLLECTION,
    NO_PROMPT,
    PROPERTIES,
    SERVICE,
    SERVICE_PATH,
    ServiceConnection,
    explain,
)

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Mapping

NAME = "keyring.backends.SecretService.Keyring"
APPID = "Python keyring library"  # keyring's Keyring.appid
NO_BUS = "Unable to initialize SecretService: Environment variable DBUS_SESSION_BUS_ADDRESS is unset"
LOOKS = 5  # an item found, then gone before its secret was read (another writer replaced it)


def _explained(err: DBusError) -> Exception:
    """The Secret Service store's line for err, naming the keyring backend where it names a service."""
    if err.name == TIMED_OUT:
        return Stuck.silent_keyring(f"the keyring ({NAME})", err.message)
    return explain(err)


class NativeSecretService:
    """get_password, set_password and delete_password as keyring's backend answers them; errors
    are credctl's (a locked keyring, no bus, a foreign bus: one line each). unusable(reason) is
    the error for a backend that cannot work here, worded by whoever chose this backend."""

    def __init__(self, environ: Mapping[str, str], unusable) -> None:
        self.environ, self.unusable = environ, unusable
        self._service: ServiceConnection | None = None
        self._unlocked: str | None = None  # the default collection, once found unlocked

    def _connected(self) -> ServiceConnection:
        if self._service is None:
            # keyring's backend (secretstorage, jeepney) takes this variable only, never
            # $XDG_RUNTIME_DIR/bus: neither does this, so both reach the same Secret Service.
            if not self.environ.get("DBUS_SESSION_BUS_ADDRESS"):
                raise self.unusable(NO_BUS)
            try:
                self._service = ServiceConnection(self.environ)
            except DBusError as err:
                raise _explained(err) from None
        return self._service

    def _collection(self, service: ServiceConnection) -> str:
        """The default collection, unlocked (keyring asks for the unlock prompt, and so does this);
        looked up once per process, not for each of a get's two reads (the index, the entry)."""
        if self._unlocked is not None:
            return self._unlocked
        collection = service.default_collection()
        if collection == NO_PROMPT:
            raise StoreUnavailable(f"the keyring ({NAME}) failed: InitError: the Secret Service has no default keyring")
        if self._locked(service, collection):
            try:
                service.unlock([collection])
            except StoreUnavailable:
                pass  # no display for the prompt: said as keyring says it, below
            if self._locked(service, collection):
                raise StoreUnavailable(f"the keyring ({NAME}) is locked: unlock it and try again")
        self._unlocked = collection
        return collection

    @staticmethod
    def _locked(service: ServiceConnection, path: str) -> bool:
        return bool(service.call(path, PROPERTIES, "Get", "ss", COLLECTION, "Locked")[0])

    def _call(self, action):
        """action(service, collection), its D-Bus errors turned into credctl's one line."""
        try:
            service = self._connected()
            return action(service, self._collection(service))
        except DBusError as err:
            raise _explained(err) from None

    @staticmethod
    def _items(service: ServiceConnection, collection: str, service_name: str, username: str) -> list[str]:
        query = {"username": username, "service": service_name}
        return service.call(collection, COLLECTION, "SearchItems", "a{ss}", query)[0]

    def get_password(self, service_name: str, username: str) -> str | None:
        def read(service: ServiceConnection, collection: str) -> str | None:
            for _ in range(LOOKS):
                items = self._items(service, collection, service_name, username)
                if not items:
                    return None
                secrets = service.call(SERVICE_PATH, SERVICE, "GetSecrets", "aoo", items[:1], service.session())[0]
                if items[0] in secrets:
                    return secrets[items[0]][2].decode("utf-8")
            return None

        return self._call(read)

    def set_password(self, service_name: str, username: str, password: str) -> None:
        def write(service: ServiceConnection, collection: str) -> None:
            attributes = {"username": username, "service": service_name, "application": APPID}
            properties = {
                "org.freedesktop.Secret.Item.Label": Variant("s", f"Password for '{username}' on '{service_name}'"),
                "org.freedesktop.Secret.Item.Attributes": Variant("a{ss}", attributes),
            }
            secret = (service.session(), b"", password.encode("utf-8"), "text/plain")
            created = service.call(collection, COLLECTION, "CreateItem", "a{sv}(oayays)b", properties, secret, True)
            service.prompt(created[1])

        self._call(write)

    def delete_password(self, service_name: str, username: str) -> None:
        """The first item's removal; CredentialsNotFound when there is none (keyring's
        PasswordDeleteError, which KeyringStore reads as that)."""

        def delete(service: ServiceConnection, collection: str) -> None:
            items = self._items(service, collection, service_name, username)
            if not items:
                raise CredentialsNotFound()
            service.prompt(service.call(items[0], "org.freedesktop.Secret.Item", "Delete")[0])

        self._call(delete)
