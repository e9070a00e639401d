"""Freedesktop Secret Service (GNOME Keyring, KeePassXC, KWallet), sharing items with Go's
docker-credential-secretservice.

Items, as libsecret writes them for the Go helper (every version): in the default collection,
attributes {label: "Docker Credentials", server: <ServerURL>, username: <Username>,
docker_cli: "1", xdg:schema: "io.docker.Credentials"}, the Secret as text/plain, and the
display label <ServerURL> (what Go v0.8 wrote; v0.9's "Registry credentials for ..." turns
into `list` keys there). Differences from Go (docs/stores/secretservice.md): `list` keys are the
server attribute, `store` leaves one item per server, a locked keyring that cannot prompt gets
a line that says how to unlock it.

Secrets travel over the local bus with the Secret Service's "plain" algorithm rather than an
encrypted session: the numbers and the security reasoning are in the docs page.
"""

from __future__ import annotations

from credctl.dbus import FOREIGN_BUS, TIMED_OUT, Connection, DBusError, Variant, session_bus_address
from credctl.errors import CredentialsNotFound, StoreError, StoreUnavailable, Stuck
from credctl.paths import cache_dir, locked
from credctl.posixfs import ENVIRON, join
from credctl.process import lock_timeout, prompt_timeout, reply_timeout
from credctl.stores.base import Health, Store

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Mapping

BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
SERVICE = "org.freedesktop.Secret.Service"
ITEM = "org.freedesktop.Secret.Item"
COLLECTION = "org.freedesktop.Secret.Collection"
PROMPT = "org.freedesktop.Secret.Prompt"
PROPERTIES = "org.freedesktop.DBus.Properties"
SCHEMA = "io.docker.Credentials"
CREDS_LABEL = "Docker Credentials"
NO_PROMPT = "/"

HEADLESS_HINT = "on a headless machine use the pass store (`credctl pass init`), or run under dbus-run-session"
NO_BUS = f"no D-Bus session bus here (DBUS_SESSION_BUS_ADDRESS is not set): {HEADLESS_HINT}"
NO_SERVICE = (
    "no Secret Service is running on this D-Bus session (org.freedesktop.secrets): start GNOME Keyring, "
    "KeePassXC (Secret Service integration) or KWallet, or use the pass store (`credctl pass init`)"
)
LOCKED = "the keyring is locked"
HOW_TO_UNLOCK = (
    "unlock it from your desktop session, or with `gnome-keyring-daemon --unlock` (type the password, then Ctrl-D)"
)
# How often a get looks again when what it found was deleted under it. Each new look follows a
# store that replaced the item (it creates the new one before deleting the old), so only
# back-to-back replacements by other writers keep a get looking; a bound, never a wait.
LOOKS = 10
RETRY_IN_SESSION = "try again in a running session (log in again, or run under dbus-run-session)"
CANNOT_PROMPT = f"{LOCKED} and no unlock prompt can be shown here (no display): {HOW_TO_UNLOCK}"
NO_DEFAULT = "the Secret Service has no default keyring: create one (e.g. in Seahorse, GNOME's Passwords and Keys)"


def _on_the_bus(text: str) -> bool:
    """Whether text can be a D-Bus string: valid UTF-8 without NUL (the bus drops us otherwise).

    a server URL with invalid UTF-8 (kept as lone surrogates)
    raised UnicodeEncodeError in the message writer, so `get`/`erase` answered "unexpected
    UnicodeEncodeError; please report this as a credctl bug"; a NUL made the bus daemon close
    the connection. No item can carry such a string, so there is nothing to find or erase.
    """
    if "\0" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Errors for an item deleted between a search and a read of it.
_VANISHED = (
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.Secret.Error.NoSuchObject",
)


def explain(err: DBusError) -> Exception:
    """One line for what went wrong on the bus."""
    if err.name == "credctl.Disconnected":
        # the bus going away mid-request got the headless hint, which is no fix for it.
        return StoreUnavailable(f"{err.message} during the request (did the session end?): {RETRY_IN_SESSION}")
    if err.name == FOREIGN_BUS:  # another user's bus: the line says why and what to do
        return StoreUnavailable(err.message)
    if err.name == TIMED_OUT:
        return Stuck.silent_keyring("the Secret Service", err.message)
    if err.name.startswith("credctl."):  # no bus, refused
        return StoreUnavailable(f"{err.message}: {HEADLESS_HINT}")
    if err.name == "org.freedesktop.DBus.Error.NoReply" and "disconnected" in err.message:
        # the Secret Service quitting (crashed, killed) mid-request was "the Secret Service
        # failed: <D-Bus error>". When it is started again, its keyring is usually locked.
        return StoreUnavailable(
            f"the Secret Service quit without answering: try again; if the keyring is locked now, {HOW_TO_UNLOCK}"
        )
    if err.name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner") or (
        err.name.startswith("org.freedesktop.DBus.Error.Spawn")
    ):
        return StoreUnavailable(NO_SERVICE)
    if err.name == "org.freedesktop.Secret.Error.IsLocked":
        return StoreUnavailable(f"{LOCKED}: {HOW_TO_UNLOCK}")
    return StoreError(f"the Secret Service failed: {err}")


UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
TRANSIENT_RETRIES = 5  # 50 ms apart: a quarter second at most before an answer is believed


def _pause() -> None:
    import time

    time.sleep(0.05)


class ServiceConnection:
    """One connection to the Secret Service, with the calls the stores need (this one, and
    keyring's Secret Service items: stores/keyring_secretservice.py)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        address = session_bus_address(environ)
        if address is None:
            raise StoreUnavailable(NO_BUS)
        self.environ = environ
        self.bus = Connection(address, reply_timeout(environ))
        self._session: str | None = None

    def call(self, path: str, interface: str, member: str, signature: str = "", *args: object) -> tuple:
        # gnome-keyring answers UnknownMethod on its service object for a moment while it
        # re-exports it (seen with concurrent writers, as `docker compose pull` makes them); the
        # method did not run, so asking again is safe. (On an item, it means the item is gone.)
        retries = TRANSIENT_RETRIES if path == SERVICE_PATH else 0
        while True:
            try:
                return self.bus.call(BUS_NAME, path, interface, member, signature, *args)
            except DBusError as err:
                if err.name != UNKNOWN_METHOD or not retries:
                    raise
            retries -= 1
            _pause()

    def default_collection(self) -> str:
        """The default collection's path, or NO_PROMPT ("/") when there is none. gnome-keyring
        briefly has none while it reloads the keyring file another writer changed: look again."""
        for _ in range(TRANSIENT_RETRIES):
            collection = self.call(SERVICE_PATH, SERVICE, "ReadAlias", "s", "default")[0]
            if collection != NO_PROMPT:
                return collection
            _pause()
        return self.call(SERVICE_PATH, SERVICE, "ReadAlias", "s", "default")[0]

    def search(self, attributes: dict[str, str]) -> tuple[list[str], list[str]]:
        """(unlocked items, locked items) whose attributes include these."""
        unlocked, locked = self.call(SERVICE_PATH, SERVICE, "SearchItems", "a{ss}", attributes)
        return unlocked, locked

    def properties(self, path: str, interface: str = ITEM) -> dict:
        return self.call(path, PROPERTIES, "GetAll", "s", interface)[0]

    def session(self) -> str:
        if self._session is None:
            self._session = self.call(SERVICE_PATH, SERVICE, "OpenSession", "sv", "plain", Variant("s", ""))[1]
        return self._session

    def secret(self, item: str) -> bytes:
        secrets = self.call(SERVICE_PATH, SERVICE, "GetSecrets", "aoo", [item], self.session())[0]
        if item not in secrets:  # deleted since the search (a locked one was unlocked before)
            raise CredentialsNotFound()
        return secrets[item][2]

    def unlock(self, objects: list[str]) -> None:
        if objects:
            prompt = self.call(SERVICE_PATH, SERVICE, "Unlock", "ao", objects)[1]
            self.prompt(prompt)

    def prompt(self, prompt: str) -> None:
        """Run a Secret Service prompt (an unlock dialog) when there is a display to show it on."""
        if prompt == NO_PROMPT:
            return
        if not (self.environ.get("DISPLAY") or self.environ.get("WAYLAND_DISPLAY")):
            raise StoreUnavailable(CANNOT_PROMPT)
        rule = f"type='signal',interface='{PROMPT}',member='Completed',path='{prompt}'"
        self.bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", rule)
        self.call(prompt, PROMPT, "Prompt", "s", "")
        timeout = prompt_timeout(self.environ)
        try:
            dismissed = self.bus.wait_signal(prompt, PROMPT, "Completed", timeout)[0]
        except DBusError as err:
            if err.name != TIMED_OUT:
                raise
            self._dismiss(prompt)
            raise Stuck(
                f"the keyring's unlock prompt was not answered within {timeout:g} s, so nothing was unlocked or stored"
            ) from None
        if dismissed:
            raise StoreError("the keyring prompt was dismissed, so nothing was unlocked or stored")

    def _dismiss(self, prompt: str) -> None:
        """Take down a dialog nobody answered, if the Secret Service still listens."""
        try:
            self.call(prompt, PROMPT, "Dismiss")
        except DBusError:
            pass

    def quick_login(self, server_url: str) -> tuple[str, str] | None:
        """The usual get in two round trips: the search and a session, then the items' properties
        and their secrets, each pair sent together (calls that do not wait for each other's
        answers). None when anything is unusual (a locked or vanished item, an error): the
        careful path decides then. CredentialsNotFound as that path would raise it."""
        search, session = self.bus.call_all(
            [
                (BUS_NAME, SERVICE_PATH, SERVICE, "SearchItems", "a{ss}", {"server": server_url, "docker_cli": "1"}),
                (BUS_NAME, SERVICE_PATH, SERVICE, "OpenSession", "sv", "plain", Variant("s", "")),
            ]
        )
        if _careful_path_needed(search, session) or search[1]:
            return None
        self._session, unlocked = session[1], search[0]
        if not unlocked:
            raise CredentialsNotFound()
        replies = self.bus.call_all(
            [(BUS_NAME, path, PROPERTIES, "GetAll", "s", ITEM) for path in unlocked]
            + [(BUS_NAME, SERVICE_PATH, SERVICE, "GetSecrets", "aoo", unlocked, self._session)]
        )
        if _careful_path_needed(*replies):
            return None
        secrets = replies[-1][0]
        items = [(path, reply[0], False) for path, reply in zip(unlocked, replies, strict=False)]
        found = [item for item in items if item[1]["Attributes"].get("xdg:schema", SCHEMA) == SCHEMA]
        if not found:
            raise CredentialsNotFound()
        path, properties, _locked = newest(found)
        if path not in secrets:
            return None
        return login_of(properties, secrets[path][2])

    def docker_items(self, attributes: dict[str, str], attempts: int = LOOKS) -> list[tuple[str, dict, bool]]:
        """(path, item properties, locked) of the Docker items matching attributes.

        An item deleted since the search is skipped (a concurrent store replacing it). When
        every item found went that way, the search is made again: the store that deleted them
        created their replacement first, and a get must not answer not-found in between."""
        for _ in range(attempts):
            unlocked, locked = self.search({**attributes, "docker_cli": "1"})
            found, vanished = [], False
            for path, is_locked in [(path, False) for path in unlocked] + [(path, True) for path in locked]:
                try:
                    properties = self.properties(path)
                except DBusError as err:
                    if err.name not in _VANISHED:
                        raise
                    vanished = True
                    continue
                # Go skips items of another schema that happen to carry the same attributes.
                if properties["Attributes"].get("xdg:schema", SCHEMA) == SCHEMA:
                    found.append((path, properties, is_locked))
            if found or not vanished:
                break
        return found


# Answers the careful path handles (it asks again, or looks again, or unlocks): any other error
# of a quick call is the answer.
_HANDLED_CAREFULLY = (UNKNOWN_METHOD, "org.freedesktop.Secret.Error.IsLocked", *_VANISHED)


def _careful_path_needed(*replies: tuple | DBusError) -> bool:
    """Whether a quick call's replies need the careful path; an error it does not handle is raised."""
    for reply in replies:
        if isinstance(reply, DBusError):
            if reply.name in _HANDLED_CAREFULLY:
                return True
            raise reply
    return False


def newest(items: list[tuple[str, dict, bool]]) -> tuple[str, dict, bool]:
    """The item a get answers with, of the Docker items found for one server.

    Go takes whichever item libsecret lists last; the newest is the one meant. Modified counts
    whole seconds, so Go's duplicates often tie: then the last listed, as Go does and as list()
    does (max() alone took the first, so get and list named different usernames for one server).
    """
    return items[max(range(len(items)), key=lambda index: (items[index][1].get("Modified", 0), index))]


def login_of(properties: dict, secret: bytes) -> tuple[str, str]:
    """(username, secret) of an item; Go answers an empty secret with not-found (its get tests
    secret == ""), and so does this."""
    if not secret:
        raise CredentialsNotFound()
    return properties["Attributes"].get("username", ""), secret.decode("utf-8", "surrogateescape")


class _Opened:
    """A connection to the Secret Service for one action: closed after it, and a D-Bus error
    turned into credctl's one line (explain)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        try:
            self.service = ServiceConnection(environ)
        except DBusError as err:
            raise explain(err) from None

    def __enter__(self) -> ServiceConnection:
        return self.service

    def __exit__(self, kind, error, traceback) -> None:
        self.service.bus.close()
        if isinstance(error, DBusError):
            raise explain(error) from None


class SecretServiceStore(Store):
    def __init__(self, environ: Mapping[str, str] = ENVIRON) -> None:
        self.environ = environ

    def _open(self) -> _Opened:
        """`with self._open() as service:` one connection, closed after, its errors explained."""
        return _Opened(self.environ)

    def get(self, server_url: str) -> tuple[str, str]:
        if not _on_the_bus(server_url):
            raise CredentialsNotFound()
        with self._open() as service:
            return service.quick_login(server_url) or self._newest(service, server_url)

    def _newest(self, service: ServiceConnection, server_url: str, attempts: int = LOOKS) -> tuple[str, str]:
        """The newest item's credentials; searched again if it vanishes under a concurrent store."""
        for attempt in range(attempts):
            items = service.docker_items({"server": server_url})
            if not items:
                raise CredentialsNotFound()
            path, properties, locked = newest(items)
            try:
                if locked:
                    service.unlock([path])
                secret = service.secret(path)
            except CredentialsNotFound:
                if attempt + 1 < attempts:
                    continue  # the item went between the search and the read: look again
                raise
            except DBusError as err:
                if err.name in _VANISHED and attempt + 1 < attempts:
                    continue
                raise
            return login_of(properties, secret)
        raise CredentialsNotFound()

    def add(self, server_url: str, username: str, secret: str) -> None:
        if not (_on_the_bus(server_url) and _on_the_bus(username)):
            raise StoreError(
                "the Secret Service cannot store a server URL or username with a NUL byte or invalid UTF-8"
            )
        attributes = {
            "label": CREDS_LABEL,
            "server": server_url,
            "username": username,
            "docker_cli": "1",
            "xdg:schema": SCHEMA,
        }
        properties = {
            "org.freedesktop.Secret.Item.Label": Variant("s", server_url),
            "org.freedesktop.Secret.Item.Attributes": Variant("a{ss}", attributes),
        }
        # Two stores for one server must not each delete the other's new item.
        with (
            self._open() as service,
            locked(
                join(cache_dir(self.environ), "secretservice.lock"),
                private=True,
                timeout=lock_timeout(self.environ),
            ),
        ):
            collection = self._default_collection(service)
            value = (service.session(), b"", secret.encode("utf-8"), "text/plain")
            service.prompt(
                service.call(collection, COLLECTION, "CreateItem", "a{sv}(oayays)b", properties, value, True)[1]
            )
            # Go keeps an item per username; Docker can use one, and Go's get picks at random.
            for path, other, is_locked in service.docker_items({"server": server_url}):
                if other["Attributes"].get("username") != username:
                    self._delete(service, path, is_locked)

    @staticmethod
    def _default_collection(service: ServiceConnection) -> str:
        collection = service.default_collection()
        if collection == NO_PROMPT:
            raise StoreUnavailable(NO_DEFAULT)
        if service.properties(collection, COLLECTION)["Locked"]:
            service.unlock([collection])
        return collection

    @staticmethod
    def _delete(service: ServiceConnection, path: str, is_locked: bool) -> None:
        if is_locked:
            service.unlock([path])
        service.prompt(service.call(path, ITEM, "Delete")[0])

    def delete(self, server_url: str) -> None:
        """Remove every Docker item for the server; nothing there is not an error (as in Go)."""
        if not _on_the_bus(server_url):
            return
        with self._open() as service:
            for path, _properties, is_locked in service.docker_items({"server": server_url}):
                self._delete(service, path, is_locked)

    def list(self) -> dict[str, str]:
        """{server attribute: username} of every Docker item; no unlocking needed."""
        with self._open() as service:
            items = service.docker_items({})
        listing = {}
        for _path, properties, _locked in sorted(items, key=lambda item: item[1].get("Modified", 0)):
            attributes = properties["Attributes"]
            if "server" in attributes:
                listing[attributes["server"]] = attributes.get("username", "")
        return listing

    def health(self) -> Health:
        try:
            with self._open() as service:
                collection = service.default_collection()
                if collection == NO_PROMPT:
                    return Health(False, NO_DEFAULT)
                if service.properties(collection, COLLECTION)["Locked"]:
                    return Health(False, f"{LOCKED}: {HOW_TO_UNLOCK}")
        except (StoreUnavailable, StoreError) as err:
            return Health(False, str(err))
        return Health(True, "the Secret Service is running and its default keyring is unlocked")
