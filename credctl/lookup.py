"""The login credctl can give for one registry, whichever store or helper serves it.

For consumers that are not Docker: the kubelet plugin (credctl.kubelet) and `credctl k8s
pull-secret`. The order follows the user's wiring in Docker's config.json:

1. the registry's credHelpers entry, as docker finds it (ConfigFile.helper_for): credctl's own
   stores run in-process, an ACR profile (acr-helper-NAME) with its credentials file, any other
   docker-credential-* program through credctl.client;
2. an ACR registry (by name, a custom domain in the settings, or the Go helper's environment
   pair): a token from the cache or from Alibaba Cloud, with a pod's RAM role when one is given;
3. credsStore, the same way as 1, unless an empty credHelpers entry keeps docker in the file.

Under the router (credsStore `credctl`, no credHelpers entry for the registry) its route alone
decides, ACR domains included (credctl.routes): the same answer docker-credential-credctl gives.

Standard library only on the ACR and own-store paths (the kubelet runs this per image pull).
"""

from __future__ import annotations

from credctl.dockerconfig import CRED_HELPERS, CREDS_STORE, ConfigFile, docker_config_path
from credctl.errors import CredentialsNotFound, StoreError
from credctl.names import IDENTITY_TOKEN_USER, PREFIX, ROUTER, helper_program
from credctl.posixfs import ENVIRON
from credctl.stores import LOGIN_STORES, open_store, suffix_of


class Login:
    """A registry login; expires is Unix time for an issued token, None for a stored login."""

    __slots__ = ("expires", "password", "source", "username")

    def __init__(self, username: str, password: str, source: str, expires: int | None = None) -> None:
        self.username, self.password, self.source, self.expires = username, password, source, expires

    def __repr__(self) -> str:
        return f"Login(username={self.username!r}, password='***', source={self.source!r}, expires={self.expires!r})"


def find_login(registry: str, environ=ENVIRON, pod=None, config_path: str | None = None) -> Login | None:
    """The login for registry, or None when nothing credctl knows serves it.

    pod: a pod's identity, used for ACR registries instead of the node's (the environment's)
    Alibaba Cloud credentials: a credctl.acr.podidentity.PodIdentity, or a function that works
    it out (and raises when the pod's service account is set up wrong). The function is called
    only when the ACR path serves registry, so such a pod still gets its logins for registries a
    store serves. config_path: Docker's config.json (default: $DOCKER_CONFIG or ~/.docker)."""
    route = ConfigFile.read(config_path or docker_config_path(environ=environ)).helper_for(registry)
    if route.via == CREDS_STORE and route.helper == ROUTER:
        return _routed(route.key, environ, pod)
    if route.via == CRED_HELPERS:
        return _from_helper(route.helper, route.key, environ, pod)
    login = _acr(registry, environ, pod)
    if login is not None:
        return login
    return _from_helper(route.helper, route.key, environ, pod) if route.via == CREDS_STORE else None


def _acr(registry: str, environ, pod, source: str | None = None) -> Login | None:
    """An ACR token for registry, else the node's stored login for it (credctl.stores.fallback,
    the rule the Docker helper follows too); None when it is not ACR, or a new Personal Edition
    registry with no login stored. source: the helper suffix that chose it."""
    from credctl.acr.login import HELPER
    from credctl.stores.fallback import login_for

    try:
        username, password, expires = login_for(registry, environ, pod)
    except CredentialsNotFound:
        return None
    return Login(username, password, source or HELPER, expires)


def _routed(key: str, environ, pod) -> Login | None:
    """The login the router (credsStore `credctl`) gives for key, by the rule
    docker-credential-credctl follows (credctl.router): its route's helper answers, ACR
    domains included, a pod's identity for ACR; None when no route serves it."""
    from credctl.helperstore import is_own
    from credctl.routes import Routes

    rule = Routes.load(environ).route_for(key, environ)
    if rule is None:
        return None
    if is_own(rule.helper, environ):
        return _from_helper(suffix_of(rule.helper), key, environ, pod)
    from credctl.router import RouterStore  # another program: its timeout, a login kept instead

    try:
        username, password = RouterStore(environ).get(key)
    except CredentialsNotFound:
        return None
    return _login(rule.helper, key, username, password)


def _from_helper(helper: str, key: str, environ, pod) -> Login | None:
    if helper not in LOGIN_STORES:  # credctl's ACR helper or one of its profiles, else another program
        from credctl.acr.login import helper_environ

        acr_environ = helper_environ(helper, environ)
        if acr_environ is not None:
            return _acr(key, acr_environ, pod, helper)
    try:
        if helper in LOGIN_STORES:
            from credctl.protocol import get_with_hub_fallback

            username, password = get_with_hub_fallback(open_store(helper, environ), key)
        else:
            from credctl import client

            found = client.get(helper_program(helper), key, env=environ)
            username, password = found.username, found.secret
    except CredentialsNotFound:
        return None
    return _login(helper, key, username, password)


def _login(helper: str, key: str, username: str, password: str) -> Login:
    """The Login helper gave for key; StoreError for an identity token, which no consumer of a Login can use."""
    if username == IDENTITY_TOKEN_USER:
        raise StoreError(
            f"{PREFIX}{helper} holds an identity token for {key}, which cannot be handed on as a username and "
            "password (to Kubernetes, or by `credctl export`): log in with a password or an access token instead"
        )
    return Login(username, password, helper)
