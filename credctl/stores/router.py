"""The routing helper, docker-credential-credctl (credsStore `credctl`): every registry to the
helper its route names (credctl.routes has the rules; credctl.stores.helpers the helpers).

- get: the route's helper answers (credctl's stores and ACR in-process, other programs with the
  routes' timeout); a route that fails fails that registry alone, with one line naming the
  route; a registry no route serves is "credentials not found" at once (Docker then goes on
  without a login).
- store: into the route's helper. ACR keeps a `docker login` in the login store, which under
  this router is the default route's store (credctl.stores.fallback.login_store_name).
- erase: the route's helper (for ACR: its cached tokens and its stored login); no route, nothing.
- list: the union over every route's helper, each entry kept only where its registry routes
  back to that helper (so each listed registry is one `get` answers); a helper that cannot list
  is left out with one line on stderr, and the rest is still listed.

Standard library only on a route to credctl's own stores: the router costs a settings read.
"""

from __future__ import annotations

import os
import sys

from credctl.errors import CredctlError, CredentialsNotFound, RouteFailed, StoreError
from credctl.names import helper_key
from credctl.routes import Routes, Rule
from credctl.stores.base import Health, Store
from credctl.stores.helpers import canonical, store_for, suffix_of


def _to_stderr(line: str) -> None:
    sys.stderr.write(line.replace("\r", " ").replace("\n", " ") + "\n")
    sys.stderr.flush()


class RouterStore(Store):
    """The stores and helpers credctl's routes name, as one Store. notify gets list's notices."""

    def __init__(self, environ=os.environ, notify=_to_stderr) -> None:
        self.environ, self.notify = environ, notify
        self._routes: Routes | None = None

    @property
    def routes(self) -> Routes:
        if self._routes is None:
            self._routes = Routes.load(self.environ)
        return self._routes

    def _route(self, server_url: str) -> Rule | None:
        return self.routes.route_for(server_url, self.environ)

    def _store(self, rule: Rule) -> Store:
        return store_for(rule.helper, self.environ, self.routes.timeout)

    def get(self, server_url: str) -> tuple[str, str]:
        rule = self._route(server_url)
        if rule is None:
            raise CredentialsNotFound()
        try:
            return self._store(rule).get(server_url)
        except CredentialsNotFound:
            raise
        except CredctlError as err:
            raise _failed(server_url, rule, err) from None

    def add(self, server_url: str, username: str, secret: str) -> None:
        rule = self._route(server_url)
        if rule is None:
            key = helper_key(server_url)
            raise StoreError(
                f"no route serves {key}: add one (`credctl route add {key} pass`) or a default route "
                "(`credctl route default pass`), then log in again"
            )
        try:
            self._store(rule).add(server_url, username, secret)
        except CredctlError as err:
            raise _failed(server_url, rule, err) from None

    def delete(self, server_url: str) -> None:
        rule = self._route(server_url)
        if rule is None:
            return
        try:
            self._store(rule).delete(server_url)
        except CredctlError as err:
            raise _failed(server_url, rule, err) from None

    def list(self) -> dict[str, str]:
        listing: dict[str, str] = {}
        for helper in self.routes.helpers():
            try:
                entries = store_for(helper, self.environ, self.routes.timeout).list()
            except CredctlError as err:
                self.notify(f"credctl: left out of the list: docker-credential-{suffix_of(helper)}: {err}")
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


def _failed(server_url: str, rule: Rule, err: CredctlError) -> RouteFailed:
    """err, said as the route's failure: which registry, which helper by which rule."""
    program = f"docker-credential-{suffix_of(rule.helper)}"
    route = "the default route" if rule.kind == "default" else "ACR" if rule.kind == "acr" else f"route {rule.pattern}"
    return RouteFailed(f"{helper_key(server_url)} ({route} → {program}): {err}")
