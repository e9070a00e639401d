"""The routing helper, docker-credential-credctl (credsStore `credctl`): every registry to the
helper its route names (credctl.routes has the rules; credctl.helperstore the helpers).

- get: the route's helper answers (credctl's stores and ACR in-process, other programs with the
  routes' timeout); a route that fails fails that registry alone, with one line naming the
  route; a registry no route serves is "credentials not found" at once (Docker then goes on
  without a login).
- store: into the route's helper. ACR keeps a `docker login` in the login store, which under
  this router is the default route's store (credctl.stores.fallback.login_store_name); so does
  the router for another helper program that refuses to keep one (a cloud token helper such as
  ecr-login), with one stderr line, and its `get` then gives that login when the program has
  none or fails: `docker login` works on every route.
- erase: the route's helper (for ACR: its cached tokens and its stored login; for another
  program, also a login kept for it); no route, nothing.
- list: the union over every route's helper, each entry kept only where its registry routes
  back to that helper (so each listed registry is one `get` answers); a helper that cannot list
  is left out with one line on stderr, and the rest is still listed.

Standard library only on a route to credctl's own stores: the router costs a settings read.
"""

from __future__ import annotations

from credctl.errors import CredctlError, CredentialsNotFound, RouteFailed, StoreError
from credctl.helperstore import ProgramStore, store_for
from credctl.names import PREFIX, helper_key
from credctl.posixfs import ENVIRON, is_process_environ
from credctl.routes import ACR, DEFAULT, Routes, Rule, early_routes
from credctl.stores import canonical, suffix_of
from credctl.stores.base import Health, Store, notice


class RouterStore(Store):
    """The stores and helpers credctl's routes name, as one Store. notify gets the one-line
    notices (a login kept or used instead, a helper left out of list): stderr by default."""

    def __init__(self, environ=ENVIRON, notify=notice) -> None:
        self.environ, self.notify = environ, notify
        self._routes: Routes | None = None

    @property
    def routes(self) -> Routes:
        if self._routes is None:
            early = early_routes() if is_process_environ(self.environ) else None
            self._routes = early or Routes.load(self.environ)
        return self._routes

    def _route(self, server_url: str) -> Rule | None:
        return self.routes.route_for(server_url, self.environ)

    def _store(self, rule: Rule) -> Store:
        return store_for(rule.helper, self.environ, self.routes.timeout)

    def get(self, server_url: str) -> tuple[str, str]:
        rule = self._route(server_url)
        if rule is None:
            raise CredentialsNotFound()
        store = self._store(rule)
        try:
            return store.get(server_url)
        except CredctlError as err:
            kept = _kept(server_url, self.environ) if isinstance(store, ProgramStore) else None
            if kept is None:
                if isinstance(err, CredentialsNotFound):
                    raise
                raise _failed(rule, err) from None
            if not isinstance(err, CredentialsNotFound):
                self.notify(f"credctl: {_failed(rule, err)}; using the login kept in {PREFIX}{kept[2]}")
            return kept[0], kept[1]

    def add(self, server_url: str, username: str, secret: str) -> None:
        rule = self._route(server_url)
        if rule is None:
            key = helper_key(server_url)
            raise StoreError(
                f"no route serves {key}: add one (`credctl route add {key} pass`) or a default route "
                "(`credctl route default pass`), then log in again"
            )
        store = self._store(rule)
        try:
            store.add(server_url, username, secret)
        except CredctlError as err:
            if not (isinstance(store, ProgramStore) and store.refused(err)):
                raise _failed(rule, err) from None
            self._keep_instead(server_url, username, secret, rule, err)

    def _keep_instead(self, server_url: str, username: str, secret: str, rule: Rule, err: CredctlError) -> None:
        """A helper program that keeps no logins (a cloud token helper such as ecr-login answers
        store with an error): the login goes to the login store instead, as ACR's does, and get
        gives it when that helper has none or fails, so `docker login` works on every route."""
        from credctl.stores import fallback

        try:
            name = fallback.store(server_url, username, secret, self.environ)
        except CredctlError:
            raise _failed(rule, err) from None
        self.notify(f"credctl: {_failed(rule, err)}; kept the login in {PREFIX}{name} instead")

    def delete(self, server_url: str) -> None:
        rule = self._route(server_url)
        if rule is None:
            return
        store = self._store(rule)
        try:
            if isinstance(store, ProgramStore):
                from credctl.stores import fallback

                fallback.erase(server_url, self.environ)  # a login kept for it instead (_keep_instead)
            store.delete(server_url)
        except CredctlError as err:
            raise _failed(rule, err) from None

    def list(self) -> dict[str, str]:
        listing: dict[str, str] = {}
        for helper in self.routes.helpers():
            try:
                entries = store_for(helper, self.environ, self.routes.timeout).list()
            except CredctlError as err:
                self.notify(f"credctl: left out of the list: {PREFIX}{suffix_of(helper)}: {err}")
                continue
            for key, username in entries.items():
                rule = self._route(key)
                if rule is not None and canonical(rule.helper) == helper:
                    listing.setdefault(key, username)
        return listing

    def health(self) -> Health:
        routes = self.routes
        if not routes.rules and routes.default is None:
            return Health(False, "no routes: run `credctl setup --router`, or `credctl route default pass`")
        if routes.default is None:
            return Health(True, f"{len(routes.rules)} route(s), no default route")
        return Health(True, f"{len(routes.rules)} route(s), default {routes.default}")


def _kept(server_url: str, environ) -> tuple[str, str, str] | None:
    """(username, secret, store) of a login kept in the login store for a registry whose route's
    program keeps none (RouterStore._keep_instead); None when there is none or it cannot be read."""
    from credctl.stores import fallback

    try:
        return fallback.stored(server_url, environ)
    except CredctlError:
        return None


def _failed(rule: Rule, err: CredctlError) -> RouteFailed:
    """err, said as the failure of rule's route: which rule sent it to which helper. Not the
    registry: Docker and the kubelet know which one they asked for, and get's input, echoed,
    could be anything a person pasted (a secret instead of a URL)."""
    program = f"{PREFIX}{suffix_of(rule.helper)}"
    route = {DEFAULT: "the default route", ACR: "ACR domains"}.get(rule.kind, f"route {rule.pattern}")
    return RouteFailed(f"{route} → {program}: {err}")
