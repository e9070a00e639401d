"""Alibaba Cloud Container Registry as a store: the Docker helper's face of credctl.acr.login.

`get` answers with a token for an ACR registry, from the cache when one is fresh, else from the
API. A host that is not ACR gets `credentials not found in native keychain`, so Docker falls
back cleanly (the Go helper fails hard). `store` explains that ACR tokens are issued, not
stored; `erase` drops the registry's cached tokens; `list` shows the registries with a fresh
cached token.
"""

from __future__ import annotations

import os

from credctl.acr import login
from credctl.errors import StoreError
from credctl.stores.base import Health, Store

ISSUED_NOT_STORED = (
    "ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
    "Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)"
)


class AcrStore(Store):
    """The login of environ's Alibaba Cloud credentials, or of pod (a
    credctl.acr.podidentity.PodIdentity: a pod's RAM role) when one is given."""

    def __init__(self, environ=os.environ, pod=None) -> None:
        self.environ, self.pod = environ, pod

    def get(self, server_url: str) -> tuple[str, str]:
        token = login.token_for(server_url, self.environ, self.pod)
        return token.username, token.password

    def add(self, server_url: str, username: str, secret: str) -> None:
        raise StoreError(ISSUED_NOT_STORED)

    def delete(self, server_url: str) -> None:
        login.erase(server_url, self.environ, self.pod)

    def list(self) -> dict[str, str]:
        return login.cached(self.environ, self.pod)

    def health(self) -> Health:
        return Health(*login.health(self.environ, self.pod))
