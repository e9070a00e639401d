"""Alibaba Cloud Container Registry as a store: the Docker helper's face of credctl.acr.login.

`get` answers an ACR registry with a temporary token (the cache's while fresh, else the API's),
else with the login `docker login` kept for it in the user's login store
(credctl.stores.fallback has the rule, shared with the kubelet plugin). A host that is not ACR
gets `credentials not found in native keychain`, so Docker falls back cleanly (the Go helper
fails hard). `store` keeps a login for an ACR registry in the login store (never in plaintext)
unless the opt-out is set, which keeps the old refusal; `erase` drops the registry's cached
tokens and its stored login; `list` shows the registries with a fresh cached token and the
ACR logins stored.
"""

from __future__ import annotations

from credctl.acr import login
from credctl.errors import CredentialsNotFound, StoreError
from credctl.names import helper_key
from credctl.posixfs import ENVIRON
from credctl.stores import fallback
from credctl.stores.base import Health, Store, notice

ISSUED_NOT_STORED = (
    "ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
    "Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)"
)


class AcrStore(Store):
    """The login of environ's Alibaba Cloud credentials, or of pod (a
    credctl.acr.podidentity.PodIdentity: a pod's RAM role) when one is given. notify gets the
    one-line notices of a `get` (default: stderr)."""

    def __init__(self, environ=ENVIRON, pod=None, notify=notice) -> None:
        self.environ, self.pod, self.notify = environ, pod, notify

    def get(self, server_url: str) -> tuple[str, str]:
        username, secret, _ = fallback.login_for(server_url, self.environ, self.pod, self.notify)
        return username, secret

    def add(self, server_url: str, username: str, secret: str) -> None:
        if not fallback.keeps_logins(self.environ):
            raise StoreError(ISSUED_NOT_STORED)
        try:
            login.find_registry(server_url, self.environ)
        except CredentialsNotFound:
            key = helper_key(server_url)
            raise StoreError(
                f"{key} is not an ACR registry: docker-credential-acr-helper keeps logins for ACR registries "
                f"only; map it to your login store instead (`credctl map {key} pass`)"
            ) from None
        fallback.store(server_url, username, secret, self.environ)

    def delete(self, server_url: str) -> None:
        """The cached tokens and the stored login; for a host that is not ACR nothing (no login
        of another store's is ever erased through this helper)."""
        try:
            login.find_registry(server_url, self.environ)
        except CredentialsNotFound:
            return
        login.erase(server_url, self.environ, self.pod)
        if fallback.keeps_logins(self.environ):
            fallback.erase(server_url, self.environ)

    def list(self) -> dict[str, str]:
        stored = fallback.stored_listing(self.environ) if fallback.keeps_logins(self.environ) else {}
        return {**stored, **login.cached(self.environ, self.pod)}

    def health(self) -> Health:
        return Health(*login.health(self.environ, self.pod))
