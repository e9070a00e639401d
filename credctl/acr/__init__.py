"""Alibaba Cloud Container Registry (ACR) for Python programs.

The Python counterpart of the Go helper's `credhelper` package, which go-containerregistry
programs call:

    from credctl.acr import get_credentials
    token = get_credentials("myteam-registry.cn-hangzhou.cr.aliyuncs.com")
    token.username, token.password, token.expires   # expires: Unix time

It uses the same Alibaba Cloud credential chain and on-disk token cache as
docker-credential-acr-helper (both are credctl.acr.login), and raises
credctl.errors.CredentialsNotFound for a host that is not an ACR registry,
StoreError/StoreUnavailable (one clear line) when no token can be had.
Nothing is imported until it is called: the helper's hot path imports this package.
"""

from __future__ import annotations

from credctl.posixfs import ENVIRON


def get_credentials(server: str, environ=None):
    """A temporary login (credctl.acr.cache.Token) for an ACR registry address; environ: the
    environment whose Alibaba Cloud credentials, settings and cache count (default: this process's)."""
    from credctl.acr.login import token_for

    return token_for(server, ENVIRON if environ is None else environ)
