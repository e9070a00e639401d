"""Which stores exist and the program each one is served as: the one place to add a store.

Each store is one StoreSpec in STORES. Everything else that lists stores reads it: the helper
programs' names, the login stores setup and migrate offer, the generated docs, the test worlds.
A new store also needs its console script in pyproject.toml (an entry.py function), its page
in docs/stores/ and its world in tests/world.py; tests/test_store_specs.py checks all three.

Store modules are imported only when asked for, so a helper pays for its own store alone; this
module itself imports next to nothing (the pass helper's head start, credctl.stores.passread,
runs before os is loaded).
"""

from __future__ import annotations

from credctl.names import PREFIX

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from credctl.stores.base import Health, Store


class StoreSpec:
    """One store: where its class lives, the program that serves it, and what it is for.

    login: the store keeps the logins Docker stores (a credsStore candidate, a migration target);
    router: it keeps nothing itself but sends each registry to the store its route names
    (credctl.router; a credsStore, never a migration target); neither: it issues tokens per
    registry (mapped with credHelpers) and keeps no logins of its own (ACR's `docker login`
    lands in a login store: credctl.stores.fallback).
    """

    __slots__ = ("class_name", "docs", "login", "module", "name", "router", "suffix", "summary")

    def __init__(
        self, name: str, module: str, class_name: str, suffix: str, login: bool, summary: str, router: bool = False
    ) -> None:
        self.name, self.module, self.class_name, self.suffix = name, module, class_name, suffix
        self.login, self.summary, self.router = login, summary, router
        self.docs = f"docs/stores/{name}.md"  # what the store keeps where, for people

    @property
    def tokens(self) -> bool:
        """The store issues tokens per registry and keeps no logins of its own (ACR)."""
        return not self.login and not self.router

    @property
    def program(self) -> str:
        """The docker-credential-* program that serves this store."""
        return PREFIX + self.suffix

    def __repr__(self) -> str:
        return f"StoreSpec({self.name!r})"


STORES = {
    spec.name: spec
    for spec in (
        StoreSpec(
            "pass",
            "credctl.stores.passstore",
            "PassStore",
            "pass",
            login=True,
            summary="your gpg-encrypted password store (`pass`), in the Go helper's layout",
        ),
        StoreSpec(
            "secretservice",
            "credctl.stores.secretservice",
            "SecretServiceStore",
            "secretservice",
            login=True,
            summary="the desktop's Secret Service (GNOME Keyring, KeePassXC, KWallet) over D-Bus",
        ),
        StoreSpec(
            "keyring",
            "credctl.stores.keyringstore",
            "KeyringStore",
            "keyring",
            login=True,
            summary="any backend of the Python `keyring` library (macOS Keychain, Windows Credential Manager, …)",
        ),
        StoreSpec(
            "acr",
            "credctl.stores.acr",
            "AcrStore",
            "acr-helper",
            login=False,
            summary="a temporary Alibaba Cloud Container Registry token (cached on disk) for `get`, else the "
            "login `docker login` kept in your login store; `erase` drops both",
        ),
        StoreSpec(
            "credctl",
            "credctl.router",
            "RouterStore",
            "credctl",
            login=False,
            summary="the router: each registry to the store or helper its route names (`credctl route`), "
            "wildcards included; credsStore `credctl`",
            router=True,
        ),
    )
}
ACR_STORE = "acr"  # the store that issues ACR tokens (its profiles' helpers are acr-helper-NAME)
# The stores that keep the credentials Docker logs in with, in STORES order.
LOGIN_STORES = tuple(name for name, spec in STORES.items() if spec.login)
ROUTERS = tuple(name for name, spec in STORES.items() if spec.router)  # credctl's routing helper


def canonical(helper: str) -> str:
    """A helper as credctl's routes keep it: a credctl store by its store name (acr-helper is
    acr), any other helper by its suffix (docker-credential-ecr-login is ecr-login)."""
    suffix = helper.removeprefix(PREFIX) or helper
    for name, spec in STORES.items():
        if suffix in (name, spec.suffix):
            return name
    return suffix


def suffix_of(helper: str) -> str:
    """The docker-credential-* suffix a helper name stands for (acr is acr-helper)."""
    spec = STORES.get(helper)
    return spec.suffix if spec is not None else helper


def health_of(name: str, environ: Mapping[str, str] | None = None) -> Health:
    """Store name's answer to "can you work here?"; a store that cannot even open says why."""
    from credctl.errors import CredctlError
    from credctl.stores.base import Health

    try:
        return open_store(name, environ).health()
    except CredctlError as err:
        return Health(False, str(err))


def first_ready(health: Callable[[str], Health]) -> str | None:
    """The login store `credctl setup` picks when none is named: the first in LOGIN_STORES
    order whose health(name) is ok (asked in that order, so later ones are not checked); None
    when none can work here."""
    return next((name for name in LOGIN_STORES if health(name).ok), None)


def spec_of(store: str) -> StoreSpec:
    """The StoreSpec of a store name; raises UnknownStore (naming the known ones) for any other."""
    spec = STORES.get(store)
    if spec is None:
        from credctl.errors import UnknownStore

        raise UnknownStore(store, tuple(STORES))
    return spec


def program_name(store: str) -> str:
    """The docker-credential-* program that serves this store."""
    return spec_of(store).program


def open_store(store: str, environ: Mapping[str, str] | None = None) -> Store:
    """The store, working in environ (its HOME, GNUPGHOME, D-Bus address and the rest; by
    default this process's)."""
    if environ is None:
        from credctl.posixfs import ENVIRON as environ
    spec = spec_of(store)
    module = __import__(spec.module, fromlist=[spec.class_name])
    return getattr(module, spec.class_name)(environ)
