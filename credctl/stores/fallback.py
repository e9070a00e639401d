"""The login `docker login` stored for an ACR registry, and the one rule for what ACR answers.

docker-credential-acr-helper (credctl.stores.acr) and the kubelet plugin (credctl.lookup) both
answer an ACR registry with login_for():

1. a temporary token (credctl.acr.login: the cache's while fresh, else Alibaba Cloud's);
2. when none can be issued, the login `docker login` stored for the registry in the user's
   login store: the new Personal Edition (crpi-), which no API issues tokens for, gets it
   silently; any other failure to issue (the API unreachable, a refusal, no Alibaba Cloud
   credentials here) gets it with one line naming the reason (a user who ran `docker login`
   wants that login used rather than no pull at all);
   A pod's RAM role (pod) never falls back: the node's stored login would give that pod what
   its role may not grant. The new Personal Edition knows no RAM roles: there a pod's identity
   is not even worked out, and the node's stored login serves every pod alike.
3. nothing stored: the token's error as it was; for the new Personal Edition "credentials not
   found" (Docker then pulls anonymously: public repositories need no login) after one line
   that says the edition issues no tokens and how to log in once.

The login store is Docker's credsStore when that is one of credctl's login stores (under the
router, credsStore `credctl`, its default route's store when that is one), else the first one
`credctl setup` would pick (credctl.stores.first_ready). Logins are kept only there: never in
plaintext. The opt-out (settings.json `acr_store_logins: false`, or
CREDCTL_ACR_STORE_LOGINS=0) keeps ACR as it was: issued tokens only, `store` refused.

Standard library only, and cheap at import: a warm `get` with a fresh token passes through here
without opening a login store (nor reading Docker's config or credctl's settings).
"""

from __future__ import annotations

from credctl.acr import login
from credctl.errors import CredctlError, CredentialsNotFound, NoTemporaryTokens, StoreError, StoreUnavailable
from credctl.names import PREFIX, helper_key
from credctl.posixfs import ENVIRON

STORE_LOGINS_SETTING = "acr_store_logins"  # settings.json: false keeps ACR tokens-only
STORE_LOGINS_VARIABLE = "CREDCTL_ACR_STORE_LOGINS"  # 0 or false: the same, for one run (CI)

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Callable

    from credctl.stores.base import Store


def keeps_logins(environ=ENVIRON) -> bool:
    """Whether ACR registries keep `docker login`'s logins (the default) or refuse them (the opt-out)."""
    variable = environ.get(STORE_LOGINS_VARIABLE, "").strip().lower()
    if variable:
        return variable not in ("0", "false", "no", "off")
    from credctl import settings

    return settings.load(environ).get(STORE_LOGINS_SETTING) is not False


def login_store_name(environ=ENVIRON) -> str | None:
    """The login store ACR logins are kept in: Docker's credsStore when it is one of credctl's
    login stores (under the router, credsStore `credctl`, its default route's when that is one),
    else the one `credctl setup` would pick; None when no login store can work here."""
    from credctl.dockerconfig import ConfigFile, docker_config_path
    from credctl.routes import ROUTER, Routes
    from credctl.stores import LOGIN_STORES, first_ready, health_of

    chosen = ConfigFile.read(docker_config_path(environ=environ)).creds_store
    if chosen == ROUTER:
        chosen = Routes.load(environ).default or ""
    if chosen in LOGIN_STORES:
        return chosen
    return first_ready(lambda name: health_of(name, environ))


def _login_store(environ) -> tuple[str, Store] | None:
    from credctl.stores import open_store

    name = login_store_name(environ)
    return None if name is None else (name, open_store(name, environ))


def store(server: str, username: str, secret: str, environ=ENVIRON) -> str:
    """Keep a login for an ACR registry in the login store; returns that store's name."""
    found = _login_store(environ)
    if found is None:
        raise StoreUnavailable(
            f"no login store can work here to keep the login for {helper_key(server)}: "
            "run `credctl setup` (pass, secretservice or keyring), then `docker login` again"
        )
    name, backend = found
    backend.add(helper_key(server), username, secret)
    return name


def stored(server: str, environ=ENVIRON) -> tuple[str, str, str] | None:
    """(username, secret, store name) of the login stored for server, or None when there is none."""
    found = _login_store(environ)
    if found is None:
        return None
    name, backend = found
    try:
        username, secret = backend.get(helper_key(server))
    except CredentialsNotFound:
        return None
    return username, secret, name


def erase(server: str, environ=ENVIRON) -> None:
    """Drop the login stored for server; nothing stored (or no login store here) is not an error."""
    found = _login_store(environ)
    if found is not None:
        found[1].delete(helper_key(server))


def stored_listing(environ=ENVIRON) -> dict[str, str]:
    """{server: username} of the ACR registries' logins in the login store ({} when it cannot list)."""
    try:
        found = _login_store(environ)
        listing = found[1].list() if found is not None else {}
    except CredctlError:
        return {}
    return {key: user for key, user in listing.items() if _is_acr(key, environ)}


def _is_acr(server: str, environ) -> bool:
    try:
        login.find_registry(server, environ)
    except CredentialsNotFound:
        return False
    return True


def login_for(
    server: str, environ=ENVIRON, pod=None, notify: Callable[[str], None] | None = None
) -> tuple[str, str, int | None]:
    """(username, secret, expiry: Unix time, None for a stored login) for an ACR registry, by
    the rule in this module's docstring. CredentialsNotFound when server is not ACR, and for a
    new Personal Edition registry with no login stored; notify gets the one-line notices."""
    registry = login.find_registry(server, environ)
    say = notify or (lambda line: None)
    pod = _pod_for(registry, pod)
    try:
        token = login.token(registry, environ, pod)
    except NoTemporaryTokens as err:
        found = stored(server, environ) if pod is None and keeps_logins(environ) else None
        if found is None:
            say(f"credctl: {err}")
            raise CredentialsNotFound() from None
        return found[0], found[1], None
    except (StoreError, StoreUnavailable) as err:
        found = _fallback(server, environ) if pod is None else None
        if found is None:
            raise
        say(f"credctl: {err}; using the login stored for {helper_key(server)} in {PREFIX}{found[2]}")
        return found[0], found[1], None
    return token.username, token.password, token.expires


def _pod_for(registry, pod):
    """The pod identity that asks for registry's token: pod itself, or what pod (a function, as
    the kubelet plugin passes it) works out, called only now that registry is known to be ACR.
    None for a registry no API issues tokens for (the new Personal Edition has no RAM-role
    access: a pod's role changes nothing there, and a pod set up wrong must not lose it)."""
    if not registry.issues_tokens:
        return None
    return pod() if callable(pod) else pod


def _fallback(server: str, environ) -> tuple[str, str, str] | None:
    """The stored login that stands in for a token that could not be issued; None when there is
    none, ACR keeps no logins (the opt-out), or the login store fails too (then the token's
    failure is the one to report)."""
    try:
        return stored(server, environ) if keeps_logins(environ) else None
    except CredctlError:
        return None
