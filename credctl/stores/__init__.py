"""Which stores exist and the program each one is served as: the one place to add a store.

Store modules are imported only when asked for, so a helper pays for its own store alone.
"""

from credctl.errors import UnknownStore
from credctl.stores.base import Store

PREFIX = "docker-credential-"  # Docker runs PREFIX + the name in credsStore or credHelpers

# store name -> (module, class, docker-credential-* program suffix)
STORES = {
    "pass": ("credctl.stores.passstore", "PassStore", "pass"),
    "secretservice": ("credctl.stores.secretservice", "SecretServiceStore", "secretservice"),
    "keyring": ("credctl.stores.keyringstore", "KeyringStore", "keyring"),
    "acr": ("credctl.stores.acr", "AcrStore", "acr-helper"),
}
# The stores that keep the credentials Docker logs in with: candidates for credsStore and
# migration. ACR issues tokens per registry instead (mapped with credHelpers).
LOGIN_STORES = ("pass", "secretservice", "keyring")


def program_name(store: str) -> str:
    """The docker-credential-* program that serves this store."""
    if store not in STORES:
        raise UnknownStore(store, tuple(STORES))
    return PREFIX + STORES[store][2]


def open_store(store: str) -> Store:
    if store not in STORES:
        raise UnknownStore(store, tuple(STORES))
    module_name, class_name, _ = STORES[store]
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)()
