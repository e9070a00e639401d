"""Alibaba Cloud Container Registry: temporary tokens, issued per call or served from a cache.

`get` answers with a token for an ACR registry (credctl.acr.domains), from the disk cache when
one is fresh (no SDK import, no network), else from the API (credctl.acr.tokens). A host that
is not ACR gets `credentials not found in native keychain`, so Docker falls back cleanly (the Go
helper fails hard). `store` explains that ACR tokens are issued, not stored; `erase` drops the
registry's cached tokens; `list` shows the registries with a fresh cached token.
"""

from __future__ import annotations

import os
import time

from credctl.acr import cache
from credctl.acr.domains import AcrRegistry, resolve
from credctl.acr.identity import effective_environ, fingerprint
from credctl.errors import CredentialsNotFound, StoreError
from credctl.stores.base import Health, Store

ISSUED_NOT_STORED = (
    "ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
    "Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)"
)


def _custom_domains(environ) -> dict:
    from credctl import settings  # json: only for hosts that are not ACR by name

    registries = settings.load(environ).get("acr_registries")
    return registries if isinstance(registries, dict) else {}


def find_registry(server_url: str, environ=os.environ) -> AcrRegistry:
    registry = resolve(server_url, environ)
    if registry is None:
        registry = resolve(server_url, environ, _custom_domains(environ))
    if registry is None:
        raise CredentialsNotFound()
    return registry


class AcrStore(Store):
    """pod: a credctl.acr.podidentity.PodIdentity (a pod's RAM role) to use instead of the
    environment's chain; not imported here, to keep the docker helper's warm path small."""

    def __init__(self, environ=os.environ, pod=None) -> None:
        self.environ = environ
        self.env = effective_environ(environ)
        self.pod = pod
        self.identity = pod.fingerprint() if pod else fingerprint(self.env)

    def get(self, server_url: str) -> tuple[str, str]:
        token = self.token(find_registry(server_url, self.environ))
        return token.username, token.password

    def _path(self, registry: AcrRegistry) -> str:
        return cache.path_for(
            self.identity, registry.region, registry.instance_id or registry.instance_name, self.environ
        )

    def token(self, registry: AcrRegistry) -> cache.Token:
        use_cache = self.environ.get("CREDCTL_ACR_NO_CACHE", "") in ("", "0")
        path = self._path(registry)
        if use_cache:
            cached = cache.load(path)
            if cached is not None and cached.fresh(time.time()):
                return cached
        from credctl.acr.tokens import fetch  # the SDK: only when the cache cannot answer

        token = fetch(registry, self.env, self.pod)
        if token.expires <= time.time():
            # Decision (faults, issue 7): a token that has already expired would only make the
            # registry answer Docker "unauthorized", which points nowhere; refuse it, uncached.
            raise StoreError(
                f"Alibaba Cloud issued a token for {registry.domain} that has already expired: "
                "check this machine's clock (`timedatectl`), then try again"
            )
        token.owner = cache.owner_of(self.identity)
        if use_cache:
            try:
                cache.save(path, token)
            except OSError:
                pass  # a read-only cache only costs the next call an API request
        return token

    def add(self, server_url: str, username: str, secret: str) -> None:
        raise StoreError(ISSUED_NOT_STORED)

    def delete(self, server_url: str) -> None:
        # this matched custom domains (and scheme, port or case variants of any non-ACR-looking
        # name) against the raw server URL, so `erase` dropped nothing; and the token of an instance
        # is shared by its domains (registry-vpc.… and registry.…), so drop this identity's one too.
        try:
            registry = find_registry(server_url, self.environ)
        except CredentialsNotFound:
            return  # not ACR: nothing was ever cached for it
        cache.drop(registry.domain, self.environ)
        try:
            os.unlink(self._path(registry))
        except FileNotFoundError:
            pass

    def list(self) -> dict[str, str]:
        return cache.listing(cache.owner_of(self.identity), self.environ)

    def health(self) -> Health:
        source = self.identity.split(":", 1)[0]
        if source in ("ecs", "uri") and not self.identity.split(":", 1)[1]:
            return Health(
                False,
                "no Alibaba Cloud credentials found (environment, ~/.aliyun/config.json, "
                "~/.alibabacloud/credentials): set them up, or use `credctl acr add-profile`",
            )
        return Health(True, f"Alibaba Cloud credentials from {source}")
