"""Which Alibaba Cloud API host credctl asks for a registry's token: the one owner of the endpoint rule.

The ACR API is cr.<region>.aliyuncs.com on the internet and cr-vpc.<region>.aliyuncs.com inside a
VPC (nodes without internet egress reach only the second). The VPC endpoint is wanted when
ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED is true (the variable the Alibaba SDKs read, compared as they
compare it: "true" in any case) or when the registry's own host is a VPC domain (its first label
ends in -vpc: registry-vpc.<region>.aliyuncs.com, <instance>-registry-vpc.<region>.cr.aliyuncs.com,
crpi-<id>-vpc.<region>.personal.cr.aliyuncs.com). Then the candidates are the VPC endpoint, then
the public one; the first one that takes a TCP connection serves every call (first_reachable).
A connection failure (no DNS answer, connection refused, connect timeout) moves on to the next;
nothing after a connection is made does: an API refusal or an answer cut short is the answer.
The check is a TCP connection opened and closed before the first call, not a reading of the SDK's
errors: its runtime turns every transport failure, refused or cut off mid-answer, into a RetryError
made of the failure's text, and a fallback on the second call would follow an answer on the
first. Behind a proxy (HTTPS_PROXY) no
connection is tried: the proxy decides. The fallback is silent (Docker shows the helper's stderr
on every pull); describe() says which endpoint a request would use, and why.

CREDCTL_ACR_ENDPOINT (http://host:port or https://host) overrides the rule: that endpoint alone.

STS (the AssumeRoleWithOIDC of pods and of the OIDC chain) follows the same choice: when the VPC
endpoint is wanted and ALIBABA_CLOUD_STS_ENDPOINT names none, sts-vpc.<R>.aliyuncs.com, then
sts.<R>.aliyuncs.com, where R is ALIBABA_CLOUD_STS_REGION or else the registry's region. (The
SDK itself, alibabacloud_credentials' OIDC provider, takes sts-vpc.<ALIBABA_CLOUD_STS_REGION> with
the variable set, but the public global sts.aliyuncs.com when no STS region is set, which a node
without egress cannot reach: credctl uses the registry's region there.) Otherwise the SDK's choice.

Standard library only.
"""

from __future__ import annotations

import os
import socket

from credctl.errors import StoreUnavailable

SUFFIX = ".aliyuncs.com"
HTTPS_PORT = 443

# Regions and whether the Container Registry API has a VPC endpoint (cr-vpc.<region>.aliyuncs.com)
# there, from Alibaba Cloud's endpoint list for the Container Registry API 2018-12-01,
# https://www.alibabacloud.com/help/en/acr/developer-reference/api-cr-2018-12-01-endpoint
# (page "Last Updated: Dec 16, 2025"; its "Asia Pacific" rows as far as China (Guangzhou)).
# A region the list gives no VPC endpoint is asked on its public endpoint directly. A region
# not in this table is tried on cr-vpc first: a host that does not exist is a DNS failure, and
# the public endpoint answers then.
CR_VPC_ENDPOINT: dict[str, bool] = {
    "ap-southeast-2": True,  # Australia (Sydney), listed as closed
    "ap-southeast-6": True,  # Philippines (Manila)
    "ap-northeast-2": True,  # South Korea (Seoul)
    "cn-qingdao": True,
    "cn-beijing": True,
    "cn-zhangjiakou": True,
    "cn-huhehaote": False,  # China (Hohhot): public endpoint only
    "cn-wulanchabu": False,  # China (Ulanqab): public endpoint only
    "cn-hangzhou": True,
    "cn-shanghai": True,
    "cn-nanjing": True,  # local region
    "cn-fuzhou": True,  # local region
    "cn-shenzhen": True,
    "cn-heyuan": False,  # China (Heyuan): public endpoint only
    "cn-guangzhou": True,
}


class Endpoint(tuple):
    """(host[:port], scheme) of one API endpoint, as the SDK's Config takes them."""

    __slots__ = ()

    def __new__(cls, host: str, scheme: str = "https") -> Endpoint:
        return super().__new__(cls, (host, scheme))

    @property
    def host(self) -> str:
        return self[0]

    @property
    def scheme(self) -> str:
        return self[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"


def vpc_enabled(environ) -> bool:
    """ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED as alibabacloud_credentials reads it (`.lower() == 'true'`)."""
    return environ.get("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "").strip().lower() == "true"


def is_vpc_domain(domain: str) -> bool:
    """Whether an Alibaba Cloud registry host is a VPC one: its first label ends in -vpc."""
    host = domain.lower()
    return host.endswith(SUFFIX) and host.split(".", 1)[0].endswith("-vpc")


def wants_vpc(domain: str, environ) -> bool:
    """Whether the API calls for this registry go to the VPC endpoints first."""
    return vpc_enabled(environ) or is_vpc_domain(domain)


def has_cr_vpc(region: str) -> bool:
    """False only for a region Alibaba's endpoint list gives no cr-vpc endpoint (CR_VPC_ENDPOINT)."""
    return CR_VPC_ENDPOINT.get(region, True)


def override(environ) -> Endpoint | None:
    """CREDCTL_ACR_ENDPOINT as an Endpoint, None when unset; StoreUnavailable when malformed."""
    text = environ.get("CREDCTL_ACR_ENDPOINT", "")
    if not text:
        return None
    scheme, _, host = text.partition("://")
    if scheme not in ("http", "https") or not host:
        raise StoreUnavailable(f"CREDCTL_ACR_ENDPOINT must be http://host:port or https://host, not {text!r}")
    return Endpoint(host.rstrip("/"), scheme)


def api_endpoints(domain: str, region: str, environ) -> list[Endpoint]:
    """The ACR API endpoints to try for a registry, in order (see the module's docstring)."""
    chosen = override(environ)
    if chosen is not None:
        return [chosen]
    public = Endpoint(f"cr.{region}{SUFFIX}")
    if wants_vpc(domain, environ) and has_cr_vpc(region):
        return [Endpoint(f"cr-vpc.{region}{SUFFIX}"), public]
    return [public]


def sts_endpoints(domain: str, region: str, environ) -> list[str | None]:
    """The STS endpoints to try (host names, or http(s)://host[:port]); [None] is the SDK's own choice."""
    from credctl.acr.podidentity import sts_endpoint

    named = sts_endpoint(environ)
    if named:
        return [named]
    if not wants_vpc(domain, environ):
        return [None]
    sts_region = environ.get("ALIBABA_CLOUD_STS_REGION", "").strip() or region
    return [f"sts-vpc.{sts_region}{SUFFIX}", f"sts.{sts_region}{SUFFIX}"]


def connection_failure(host: str, port: int, timeout: float) -> str:
    """Why a TCP connection to host:port cannot be made ("" when it can): a DNS failure, a refusal
    or a connect timeout. The connection is closed at once; nothing is sent on it."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror as err:
        return f"{host} does not resolve ({err.strerror})"
    except TimeoutError:
        return f"{host}:{port} did not take a connection in {timeout:g} s"
    except OSError as err:
        return f"{host}:{port} refused the connection ({err.strerror or err})"
    return ""


def uses_proxy(scheme: str, environ) -> bool:
    """Whether the SDK's requests go through a proxy (its runtime reads these variables, and no
    NO_PROXY): then a connection is the proxy's, and no endpoint is skipped for it."""
    names = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    return any(environ.get(name) for name in names)


def first_reachable(candidates: list, timeout: float, environ=os.environ) -> tuple:
    """(the first candidate that takes a connection, [why each one before it did not]). The last
    candidate is taken without a try: if it cannot be reached, the SDK's own error says so.
    candidates are Endpoints or STS endpoint strings (host, or http(s)://host[:port])."""
    skipped = []
    for candidate in candidates[:-1]:
        host, port, scheme = _address(candidate)
        if uses_proxy(scheme, environ):
            return candidate, skipped
        failure = connection_failure(host, port, timeout)
        if not failure:
            return candidate, skipped
        skipped.append(failure)
    return candidates[-1], skipped


def _address(candidate) -> tuple[str, int, str]:
    """(host, port, scheme) of an Endpoint or an STS endpoint string."""
    if isinstance(candidate, Endpoint):
        host, scheme = candidate
    else:
        scheme, _, host = candidate.rpartition("://")
        scheme = scheme or "https"
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    default = HTTPS_PORT if scheme == "https" else 80
    return (name, int(port), scheme) if port.isdigit() else (host, default, scheme)


def describe(domain: str, region: str, environ, timeout: float = 5.0) -> str:
    """One line for `credctl verify` and debugging: the ACR API endpoint a token request for this
    registry would use now, and why (the helper itself says nothing when it falls back)."""
    candidates = api_endpoints(domain, region, environ)
    chosen, skipped = first_reachable(candidates, timeout, environ)
    if override(environ) is not None:
        return f"{chosen.url} (CREDCTL_ACR_ENDPOINT)"
    if skipped:
        return f"{chosen.url}, the public endpoint: {skipped[0]}"
    if len(candidates) == 2:
        why = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true" if vpc_enabled(environ) else f"{domain} is a VPC host"
        return f"{chosen.url}, the VPC endpoint ({why})"
    if wants_vpc(domain, environ):
        return f"{chosen.url}, the public endpoint: {region} has no VPC endpoint for the Container Registry API"
    return f"{chosen.url}, the public endpoint"
