"""Per-pod Alibaba Cloud identity (ACK's RRSA): a pod's service-account token exchanged for a RAM role.

The kubelet (1.33+, with tokenAttributes in its credential provider config) hands its plugin the
pod's service-account token and chosen annotations of that service account. When they name a
RAM role, the ACR token is fetched with STS credentials from AssumeRoleWithOIDC (the SDK's
oidc_role_arn credential) instead of the node's own identity. Annotations read:

    acr.credctl.io/role-arn                   the RAM role's ARN (acs:ram::<account>:role/<name>)
    pod-identity.alibabacloud.com/role-name   ACK's RRSA annotation: the role's name, in the
                                              account of the OIDC provider
    acr.credctl.io/oidc-provider-arn          the cluster's OIDC provider ARN; otherwise
                                              ALIBABA_CLOUD_OIDC_PROVIDER_ARN of the plugin

Cached ACR tokens are keyed by the role, the provider and the service account the token names
(issuer, subject, uid), so pods of different service accounts never share a token. Standard
library only, except `credential`, which the cold path calls.
"""

from __future__ import annotations

import binascii
import posix
import time

from credctl.errors import BadInput, StoreUnavailable
from credctl.gojson import parse
from credctl.posixfs import ENVIRON

ROLE_ARN = "acr.credctl.io/role-arn"
ROLE_NAME = "pod-identity.alibabacloud.com/role-name"
PROVIDER_ARN = "acr.credctl.io/oidc-provider-arn"
ANNOTATIONS = (ROLE_ARN, ROLE_NAME, PROVIDER_ARN)
AUDIENCE = "sts.aliyuncs.com"  # the audience ACK's RRSA tokens carry and STS expects

# Name characters RAM allows (ASCII only); sets, not regular expressions: `re` costs ~5 ms to import.
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ROLE_NAME_CHARS = _WORD | frozenset(".@+=,-")
_SESSION_CHARS = _WORD | frozenset(".@-")
_URLSAFE = str.maketrans("-_", "+/")


class PodIdentity:
    """A RAM role to assume with one service account's token."""

    __slots__ = ("provider_arn", "role_arn", "subject", "token")

    def __init__(self, role_arn: str, provider_arn: str, token: str, subject: str) -> None:
        self.role_arn, self.provider_arn, self.token, self.subject = role_arn, provider_arn, token, subject

    def fingerprint(self) -> str:
        """The cache identity: never the token itself, which changes every hour."""
        return f"pod:{self.role_arn}:{self.provider_arn}:{self.subject}"

    def session_name(self) -> str:
        """credctl-<namespace>.<service account>: STS allows 2-64 of [A-Za-z0-9.@_-]."""
        account = self.subject.split(" ")[1].removeprefix("system:serviceaccount:").replace(":", ".")
        return ("credctl-" + "".join(c if c in _SESSION_CHARS else "-" for c in account))[:64]

    def token_file(self):
        """A context manager giving the token as a path the SDK can read (the cold path only)."""
        from contextlib import contextmanager  # not on the warm path: ~2 ms

        return contextmanager(_token_file)(self.token)

    def credential(self, token_path: str, environ: dict[str, str], connect_ms: int, read_ms: int, sts: str | None = ""):
        """The SDK credential that assumes the role (call inside tokens' SDK environment); STS gets
        the same time limits as the ACR API. sts: the STS endpoint (credctl.acr.endpoints' choice;
        None: the SDK's own), by default sts_endpoint(environ)."""
        from alibabacloud_credentials.client import Client
        from alibabacloud_credentials.models import Config

        return Client(
            Config(
                type="oidc_role_arn",
                role_arn=self.role_arn,
                oidc_provider_arn=self.provider_arn,
                oidc_token_file_path=token_path,
                role_session_name=self.session_name(),
                sts_endpoint=sts_endpoint(environ) if sts == "" else sts,
                connect_timeout=connect_ms,
                timeout=read_ms,
            )
        )


def _token_file(token: str):  # a generator of one path
    """The token in a memory-only file where Linux offers one, else a private temporary file."""
    data = token.encode("utf-8")
    if hasattr(posix, "memfd_create"):
        fd = posix.memfd_create("credctl-sa-token", posix.MFD_CLOEXEC)
        try:
            _write_all(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            posix.close(fd)
        return
    import tempfile

    fd, path = tempfile.mkstemp(prefix="credctl-sa-token-")  # 0600
    try:
        _write_all(fd, data)
        posix.close(fd)
        yield path
    finally:
        posix.unlink(path)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[posix.write(fd, data) :]


def sts_endpoint(environ: dict[str, str]) -> str | None:
    """ALIBABA_CLOUD_STS_ENDPOINT (as ACK's webhook and the Go SDK name it), else None: then
    credctl.acr.endpoints.sts_endpoints decides (sts-vpc.<region> first where the VPC endpoints
    are wanted, else the SDK's choice: sts.<ALIBABA_CLOUD_STS_REGION>.aliyuncs.com, or sts.aliyuncs.com). http://host:port
    is accepted for a private gateway and tests; the SDK then talks plain HTTP to it."""
    endpoint = environ.get("ALIBABA_CLOUD_STS_ENDPOINT", "").strip().rstrip("/")
    if not endpoint:
        return None
    host = endpoint.split("://", 1)[1] if endpoint.startswith(("http://", "https://")) else endpoint
    if not host or "/" in host or "://" in host:
        raise StoreUnavailable(
            f"ALIBABA_CLOUD_STS_ENDPOINT must be a host name or http(s)://host[:port], not {endpoint!r}"
        )
    return endpoint


def from_request(token: str, annotations: dict[str, str], environ=ENVIRON) -> PodIdentity | None:
    """The pod identity a kubelet request asks for, or None when the node's identity serves it."""
    if not token:
        return None
    provider_arn = annotations.get(PROVIDER_ARN) or environ.get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "")
    role_arn = annotations.get(ROLE_ARN, "")
    role_name = annotations.get(ROLE_NAME, "")
    if not role_arn and not role_name:
        return None
    provider_account = arn_account(provider_arn, "oidc-provider", _WORD | frozenset(".-"))
    if provider_account is None:
        where = f"{PROVIDER_ARN} (annotation) or ALIBABA_CLOUD_OIDC_PROVIDER_ARN (plugin environment)"
        raise StoreUnavailable(
            f"the service account names a RAM role but no valid OIDC provider ARN: set {where} "
            f"to acs:ram::<account>:oidc-provider/<name>, not {provider_arn!r}"
        )
    if not role_arn:
        if not 0 < len(role_name) <= 64 or not set(role_name) <= _ROLE_NAME_CHARS:
            raise BadInput(f"{ROLE_NAME} is not a RAM role name: {role_name!r}")
        role_arn = f"acs:ram::{provider_account}:role/{role_name}"
    if arn_account(role_arn, "role", _ROLE_NAME_CHARS | {"/"}) is None:
        raise BadInput(f"{ROLE_ARN} must look like acs:ram::<account>:role/<name>, not {role_arn!r}")
    return PodIdentity(role_arn, provider_arn, token, token_subject(token))


def arn_account(arn: str, kind: str, name_chars: frozenset[str]) -> str | None:
    """The account of acs:ram::<account>:<kind>/<name>, or None when arn is not one."""
    account, _, resource = arn.removeprefix("acs:ram::").partition(":")
    name = resource.removeprefix(kind + "/")
    if not arn.startswith("acs:ram::") or not (account.isascii() and account.isdigit()) or name == resource:
        return None
    return account if 0 < len(name) <= 128 and set(name) <= name_chars else None


def token_subject(token: str, now: float | None = None) -> str:
    """'<issuer> <subject> <service account uid>' from the token's claims, which name whose token
    it is, to key the cache. Their signature is STS's to verify; but an expired token is refused
    here too, so that a cached ACR token is never handed out for one."""
    try:
        payload = token.split(".")[1]
        # base64.urlsafe_b64decode, without the module (it imports re: ~4 ms per call of the plugin)
        standard = payload.translate(_URLSAFE) + "=" * (-len(payload) % 4)
        claims = parse(binascii.a2b_base64(standard.encode("ascii")))
        account = (claims.get("kubernetes.io") or {}).get("serviceaccount") or {}
        issuer, subject, uid = claims["iss"], claims["sub"], account.get("uid", "")
        expires = claims.get("exp", 0)
        if not all(isinstance(value, str) for value in (issuer, subject, uid)) or not isinstance(expires, int | float):
            raise ValueError
    except (IndexError, ValueError, KeyError, TypeError, AttributeError, UnicodeError, binascii.Error, RecursionError):
        raise BadInput("the service account token is not a JSON Web Token with iss and sub claims") from None
    if expires and expires <= (time.time() if now is None else now):
        raise BadInput(f"the service account token of {subject} has expired: the kubelet should send a fresh one")
    return " ".join(part.replace(" ", "%20") for part in (issuer, subject, uid))
