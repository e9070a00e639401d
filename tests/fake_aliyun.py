"""A loopback fake of the Alibaba Cloud OpenAPI for Container Registry (ACR), the only fake in the test world.

It answers what a credential helper asks of ACR, in both editions, on one plain-HTTP port:

    2018-12-01 (enterprise, RPC style, POST /): ListInstance, GetAuthorizationToken, ListInstanceEndpoint
    2016-06-07 (personal, ROA style, GET /tokens): GetAuthorizationToken
    2015-04-01 (STS, RPC style, GET or POST /, anonymous): AssumeRoleWithOIDC (the RRSA / OIDC role flow)
    2015-04-01 (STS, RPC style, GET /, signed HMAC-SHA1 1.0): AssumeRole (a RAM role for an access key)

and it checks every request the way the real gateway would: the ACS3-HMAC-SHA256 signature
(docs/reference §3.2), the payload hash, the timestamp window, nonce reuse and the STS security token.
Point a client at it with ``Config(endpoint=fake.endpoint, protocol="http", region_id=...)``.

AssumeRoleWithOIDC is not signed: the request carries a service-account JWT (OIDCToken) that the fake
checks against the OIDC providers and roles it was given (add_oidc_provider, add_oidc_role); mint one with
service_account_token. The STS credentials it hands out are registered as access keys, so signed calls
made with them verify. Point alibabacloud_credentials' OIDCRoleArnCredentialsProvider at it with
``sts_endpoint=fake.url``: Tea drops its https scheme when the host already starts with "http://".

    with FakeAliyun() as fake:
        fake.add_access_key("AKID", "SECRET")
        fake.add_instance("cri-abc", "myreg", "cn-hangzhou")
        ...  # drive a client; then look at fake.requests and fake.issued

AssumeRole is signed the RPC way (Signature over the sorted, percent-encoded query, HMAC-SHA1 with
the secret and "&"): the fake checks that signature, the Timestamp window, nonce reuse and the security
token of an STS key, then the role's trust (add_ram_role: which access keys, which ExternalId). Its
credentials are registered too, so a role assumed with another role's credentials works, and so do
signed ACR calls made with them. alibabacloud_credentials' RamRoleArnCredentialsProvider reaches it
with ``sts_endpoint=fake.url`` as above.

Secrets never leave this module: nothing is logged, and the request records keep no
Authorization signature, no security token and no OIDC token.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "ACS3-HMAC-SHA256"
EE_VERSION = "2018-12-01"
PERSONAL_VERSION = "2016-06-07"
TEMP_USERNAME = "cr_temp_user"
MAX_CLOCK_SKEW = 15 * 60  # seconds either way, like the real gateway
REQUIRED_SIGNED = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
REDACTED = "<redacted>"
STS_VERSION = "2015-04-01"
STS_ACTION = "AssumeRoleWithOIDC"
STS_ASSUME_ROLE = "AssumeRole"
STS_SIGNATURE = ("HMAC-SHA1", "1.0")  # SignatureMethod, SignatureVersion
STS_HOST_ID = "sts.aliyuncs.com"
STS_DEFAULT_AUDIENCE = "sts.aliyuncs.com"
STS_MIN_DURATION, STS_MAX_DURATION, STS_DEFAULT_DURATION = 900, 43200, 3600
SESSION_NAME = re.compile(r"[A-Za-z0-9._@-]{2,64}")
ROLE_ARN = re.compile(r"acs:ram::(\d+):role/(.+)")
B64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it. headers are lower-case, with secrets redacted."""

    method: str
    path: str
    query: dict[str, str]
    action: str | None
    version: str | None
    access_key_id: str | None
    verified: bool  # signature, payload hash, date, nonce and security token all checked out
    status: int  # what the fake answered
    code: str | None  # the error code it answered with, None on success
    signed_headers: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Issued:
    """A registry token the fake handed out."""

    access_key_id: str
    edition: str  # "enterprise" or "personal"
    instance_id: str | None  # None for the personal edition
    username: str
    token: str
    expire_ms: int  # epoch milliseconds, as in the response


@dataclass(frozen=True)
class StsSession:
    """STS credentials the fake handed out for AssumeRoleWithOIDC (their secret and token stay inside)."""

    access_key_id: str
    role_arn: str
    provider_arn: str
    subject: str  # the token's sub, e.g. "system:serviceaccount:ns:name"
    session_name: str
    duration_seconds: int
    expires: int  # epoch seconds, as in the response's Expiration
    caller_access_key_id: str = ""  # AssumeRole: the access key that assumed the role ("" for OIDC)
    external_id: str = ""  # AssumeRole: the ExternalId it sent


@dataclass
class Instance:
    instance_id: str
    name: str
    region: str
    domains: list[tuple[str, str]]  # (domain, "SYSTEM" | "USER")
    status: str = "RUNNING"
    specification: str = "Enterprise_Basic"
    internet_enabled: bool = True


@dataclass
class _Key:
    secret: str
    security_token: str | None


@dataclass
class _OidcProvider:
    issuer: str
    secret: bytes  # the HS256 signing key of its service-account tokens


@dataclass
class _OidcRole:
    arn: str
    account: str
    name: str
    role_id: str  # digits, as in AssumedRoleUser.AssumedRoleId
    provider_arn: str  # the one OIDC provider its trust policy names
    subjects: frozenset[str] | None  # the subs it trusts; None trusts any
    audience: str


@dataclass
class _RamRole:
    """A role AssumeRole may assume: its trust names access keys (None: any the fake knows) and an ExternalId."""

    arn: str
    account: str
    name: str
    role_id: str
    trusted: frozenset[str] | None
    external_id: str | None
    max_duration: int


@dataclass
class _StsCheck:
    """An AssumeRoleWithOIDC request whose parameters and token checked out (trust is not yet checked)."""

    provider_arn: str
    provider: _OidcProvider
    role: _OidcRole
    session_name: str
    duration: int
    claims: dict


@dataclass
class _Fault:
    kind: str  # "fail", "delay", "garbage", "unsuccessful"
    status: int = 200
    code: str = ""
    message: str = ""
    retry_after: int | None = None
    seconds: float = 0.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message
        self.context: tuple[str | None, list[str]] = (None, [])  # (access key id, signed headers) if known


# -- signature (reference §3.2) ---------------------------------------------------------------


def canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{quote(key, safe='~')}={quote(query[key], safe='~')}" for key in sorted(query))


def canonical_request(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], signed: Iterable[str], payload_hash: str
) -> str:
    signed = list(signed)
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in signed)
    return "\n".join([method, path or "/", canonical_query(query), canonical_headers, ";".join(signed), payload_hash])


def signature(secret: str, canonical: str) -> str:
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """(access key id, signed header names, signature hex) of an ACS3-HMAC-SHA256 Authorization header."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ApiError(400, "IncompleteSignature", f"unsupported signature algorithm {algorithm!r}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, val = item.strip().partition("=")
        if not sep:
            raise ApiError(400, "IncompleteSignature", "malformed Authorization header")
        parts[name] = val
    try:
        key_id, signed, sig = parts["Credential"], parts["SignedHeaders"], parts["Signature"]
    except KeyError as missing:
        raise ApiError(400, "IncompleteSignature", f"Authorization lacks {missing.args[0]}") from None
    names = signed.split(";") if signed else []
    if not key_id or not sig or names != sorted(names) or any(n != n.lower() for n in names):
        raise ApiError(400, "IncompleteSignature", "malformed Authorization header")
    return key_id, names, sig


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    if not B64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hs256(secret: bytes, signing_input: str) -> str:
    return b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def parse_acs_date(value: str) -> float:
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise ApiError(400, "InvalidTimeStamp.Format", "x-acs-date must look like 2006-01-02T15:04:05Z") from None


# -- the server -------------------------------------------------------------------------------


class FakeAliyun:
    """The fake OpenAPI on 127.0.0.1 (a free port), served from a daemon thread.

    endpoint is "127.0.0.1:PORT" (for Config.endpoint), url is "http://127.0.0.1:PORT".
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._keys: dict[str, _Key] = {}
        self._instances: dict[str, Instance] = {}
        self._faults: list[_Fault] = []
        self._nonces: set[str] = set()
        self._requests: list[Received] = []
        self._issued: list[Issued] = []
        self._oidc_providers: dict[str, _OidcProvider] = {}
        self._oidc_roles: dict[str, _OidcRole] = {}
        self._ram_roles: dict[str, _RamRole] = {}
        self._sts_sessions: list[StsSession] = []
        self._errors: list[str] = []
        self._counter = 0
        self.token_ttl = 3600  # seconds a token lives, unless the request asks (ExpiresInHours)
        self.username = TEMP_USERNAME
        self.fixed_token: str | None = None  # when set, every token is this (for a real registry's htpasswd)
        self.clock = time.time  # the fake's idea of now, for the x-acs-date window and ExpireTime

        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.endpoint = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.endpoint}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-aliyun", daemon=True
        )
        self._thread.start()

    # -- lifecycle

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # wakes handlers sleeping in delay_next
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeAliyun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration

    def add_access_key(self, access_key_id: str, secret: str, security_token: str | None = None) -> None:
        """Accept requests signed by this key; an STS key (security_token set) must also send that token."""
        with self._lock:
            self._keys[access_key_id] = _Key(secret, security_token)

    def remove_access_key(self, access_key_id: str) -> None:
        with self._lock:
            self._keys.pop(access_key_id, None)

    def add_instance(
        self,
        instance_id: str,
        name: str,
        region: str,
        domains: Iterable[str | tuple[str, str]] | None = None,
        *,
        status: str = "RUNNING",
        internet_enabled: bool = True,
    ) -> Instance:
        """An enterprise-edition instance. domains are names, or (name, "SYSTEM"|"USER") pairs; a bare
        name is SYSTEM when it ends in .aliyuncs.com and USER (a custom domain) otherwise. With no
        domains the instance gets the usual <name>-registry.<region>.cr.aliyuncs.com."""
        if domains is None:
            domains = [f"{name}-registry.{region}.cr.aliyuncs.com"]
        pairs = []
        for domain in domains:
            if isinstance(domain, str):
                domain = (domain, "SYSTEM" if domain.endswith(".aliyuncs.com") else "USER")
            pairs.append((domain[0], domain[1]))
        instance = Instance(instance_id, name, region, pairs, status=status, internet_enabled=internet_enabled)
        with self._lock:
            self._instances[instance_id] = instance
        return instance

    def remove_instance(self, instance_id: str) -> None:
        with self._lock:
            self._instances.pop(instance_id, None)

    def add_oidc_provider(self, provider_arn: str, issuer: str) -> None:
        """An OIDC identity provider (like ACK's acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1234) whose
        service-account tokens carry iss=issuer; it gets its own random signing secret."""
        if not provider_arn or not issuer:
            raise ValueError("an OIDC provider needs an ARN and an issuer")
        with self._lock:
            self._oidc_providers[provider_arn] = _OidcProvider(issuer, secrets.token_bytes(32))

    def add_oidc_role(
        self,
        role_arn: str,
        provider_arn: str,
        subjects: Iterable[str] | None = None,
        audience: str = STS_DEFAULT_AUDIENCE,
    ) -> None:
        """A RAM role (acs:ram::<account>:role/<name>) whose trust policy lets tokens of provider_arn assume it:
        only tokens whose sub is in subjects (None: any sub) and whose aud holds audience."""
        match = ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise ValueError(f"not a RAM role ARN: {role_arn!r}")
        role = _OidcRole(
            arn=role_arn,
            account=match.group(1),
            name=match.group(2),
            role_id=str(10**17 + secrets.randbelow(9 * 10**17)),
            provider_arn=provider_arn,
            subjects=None if subjects is None else frozenset(subjects),
            audience=audience,
        )
        with self._lock:
            self._oidc_roles[role_arn] = role

    def add_ram_role(
        self,
        role_arn: str,
        trusted: Iterable[str] | None = None,
        *,
        external_id: str | None = None,
        max_duration: int = STS_DEFAULT_DURATION,
    ) -> None:
        """A RAM role (acs:ram::<account>:role/<name>) that AssumeRole hands out to requests signed by one
        of the trusted access key ids (None: any key the fake accepts), which must send external_id when
        it is set; sessions last at most max_duration seconds (the role's MaxSessionDuration)."""
        match = ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise ValueError(f"not a RAM role ARN: {role_arn!r}")
        role = _RamRole(
            arn=role_arn,
            account=match.group(1),
            name=match.group(2),
            role_id=str(10**17 + secrets.randbelow(9 * 10**17)),
            trusted=None if trusted is None else frozenset(trusted),
            external_id=external_id,
            max_duration=max_duration,
        )
        with self._lock:
            self._ram_roles[role_arn] = role

    def service_account_token(
        self,
        provider_arn: str,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        audience: str = STS_DEFAULT_AUDIENCE,
        ttl: int = 3600,
        issuer: str | None = None,
        pod: str | None = None,
    ) -> str:
        """A Kubernetes service-account JWT (HS256, signed with the provider's secret) for
        system:serviceaccount:<namespace>:<name>, valid from now for ttl seconds (negative: already expired)."""
        with self._lock:
            provider = self._oidc_providers.get(provider_arn)
        if provider is None:
            raise ValueError(f"unknown OIDC provider {provider_arn!r}")
        now = int(self.clock())
        kubernetes: dict = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid or str(uuid.uuid4())}}
        if pod is not None:
            kubernetes["pod"] = {"name": pod, "uid": str(uuid.uuid4())}
        claims = {
            "iss": provider.issuer if issuer is None else issuer,
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "aud": [audience],
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "kubernetes.io": kubernetes,
        }
        header = {"alg": "HS256", "typ": "JWT"}
        signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
        return f"{signing_input}.{hs256(provider.secret, signing_input)}"

    # -- one-shot faults, queued: each request takes the next one

    def fail_next(self, status: int, code: str, message: str = "", retry_after: int | None = None) -> None:
        """The next request gets this error (JSON body {Code, Message, RequestId}); retry_after sets
        the x-acs-retry-after header, which the SDK turns into ThrottlingException. Like every fault,
        it wins over an authentication error, but the request is still verified and recorded."""
        self._queue(_Fault("fail", status=status, code=code, message=message or code, retry_after=retry_after))

    def delay_next(self, seconds: float) -> None:
        """The next request is answered normally, but only after this many seconds."""
        self._queue(_Fault("delay", seconds=seconds))

    def garbage_next(self) -> None:
        """The next request gets a 200 whose body is not JSON."""
        self._queue(_Fault("garbage"))

    def unsuccessful_next(self, code: str = "INSTANCE_NOT_EXIST", message: str = "") -> None:
        """The next request gets a 200 that says IsSuccess: false (the SDK does not raise on it)."""
        self._queue(_Fault("unsuccessful", code=code, message=message or code))

    def _queue(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # -- what happened

    @property
    def requests(self) -> list[Received]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def calls(self, action: str | None = None, version: str | None = None) -> list[Received]:
        return [
            r
            for r in self.requests
            if (action is None or r.action == action) and (version is None or r.version == version)
        ]

    @property
    def issued(self) -> list[Issued]:
        """A snapshot of every token handed out, oldest first."""
        with self._lock:
            return list(self._issued)

    def tokens_for(self, access_key_id: str) -> list[str]:
        return [i.token for i in self.issued if i.access_key_id == access_key_id]

    @property
    def sts_sessions(self) -> list[StsSession]:
        """A snapshot of every set of STS credentials handed out (AssumeRoleWithOIDC, AssumeRole), oldest first."""
        with self._lock:
            return list(self._sts_sessions)

    def identity_of(self, access_key_id: str) -> StsSession | None:
        """The STS session an access key id was issued for, or None (a permanent key, or unknown)."""
        return next((s for s in self.sts_sessions if s.access_key_id == access_key_id), None)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of bugs in the fake itself (each answered 500 InternalError); should stay empty."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Forget requests, tokens, STS sessions, nonces and queued faults (keys, instances, OIDC providers
        and roles stay, and so do the access keys of STS sessions already handed out)."""
        with self._lock:
            self._requests.clear()
            self._issued.clear()
            self._sts_sessions.clear()
            self._nonces.clear()
            self._faults.clear()

    # -- HTTPS under a real host name (the VPC endpoint tests)

    def serve_tls(self, host: str, port: int, certfile: str, keyfile: str) -> _TlsServer:
        """Also answer HTTPS on host:port, as the same fake (its keys, instances, faults and
        records), with this certificate: e.g. on 127.0.0.1:443 of a network namespace whose hosts
        file maps cr-vpc.<region>.aliyuncs.com there. Which name a request was sent to is its
        Host header (Received.headers["host"]). Returns the server: stop it with its shutdown()
        (FakeAliyun.stop does not)."""
        import ssl

        fake = self

        class Handler(_Handler):
            owner = fake

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        server = _TlsServer((host, port), Handler, context)
        name = f"fake-aliyun-tls-{port}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True).start()
        return server

    # -- request handling (runs on handler threads)

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _authenticate(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> tuple:
        """Check everything about the request's signature; returns (access key id, signed names) or raises."""
        authorization = headers.get("authorization")
        if not authorization:
            raise ApiError(400, "MissingAuthorization", "the request is not signed")
        key_id, signed, sig = parse_authorization(authorization)
        context = (key_id, signed)
        try:
            missing = [name for name in REQUIRED_SIGNED if name not in signed]
            if missing:
                raise ApiError(400, "IncompleteSignature", f"these headers must be signed: {', '.join(missing)}")
            values = {}
            for name in signed:
                got = headers.get_all(name)
                if not got:
                    raise ApiError(400, "SignatureDoesNotMatch", f"signed header {name} is missing")
                values[name] = ",".join(sorted(v.strip() for v in got))
            payload_hash = hashlib.sha256(body).hexdigest()
            if values["x-acs-content-sha256"] != payload_hash:
                raise ApiError(400, "SignatureDoesNotMatch", "x-acs-content-sha256 is not the hash of the body")
            with self._lock:
                key = self._keys.get(key_id)
            if key is None:
                raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            expected = signature(key.secret, canonical_request(method, path, query, values, signed, payload_hash))
            if not hmac.compare_digest(expected, sig.lower()):
                raise ApiError(
                    400,
                    "SignatureDoesNotMatch",
                    "Specified signature does not match our calculation.",
                )
            skew = abs(self.clock() - parse_acs_date(values["x-acs-date"]))
            if skew > MAX_CLOCK_SKEW:
                raise ApiError(400, "InvalidTimeStamp.Expired", "x-acs-date is more than 15 minutes off")
            if headers.get("x-acs-accesskey-id", key_id) != key_id:
                raise ApiError(400, "InvalidAccessKeyId.Mismatch", "x-acs-accesskey-id differs from Credential")
            sent_token = values.get("x-acs-security-token")
            if key.security_token is None:
                if headers.get("x-acs-security-token"):
                    raise ApiError(400, "InvalidSecurityToken.Mismatch", "a security token came with a permanent key")
            elif sent_token is None or not hmac.compare_digest(sent_token, key.security_token):
                raise ApiError(
                    400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey."
                )
            nonce = values["x-acs-signature-nonce"]
            with self._lock:
                if nonce in self._nonces:
                    raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
                self._nonces.add(nonce)
        except ApiError as err:
            err.context = context
            raise
        return context

    def _dispatch(self, method: str, path: str, query: dict[str, str], action, version, key_id: str) -> dict:
        if version == EE_VERSION and path == "/" and method in ("GET", "POST"):
            if action == "ListInstance":
                return self._list_instance(query)
            if action == "GetAuthorizationToken":
                return self._ee_token(query, key_id)
            if action == "ListInstanceEndpoint":
                return self._list_instance_endpoint(query)
        if version == PERSONAL_VERSION and action == "GetAuthorizationToken" and path == "/tokens" and method == "GET":
            return self._personal_token(key_id)
        raise ApiError(404, "InvalidAction.NotFound", f"Specified api is not found: {version} {action} {method} {path}")

    def _instance(self, query: dict[str, str]) -> Instance:
        instance_id = query.get("InstanceId")
        if not instance_id:
            raise ApiError(400, "MissingParameter", "InstanceId is mandatory for this action.")
        with self._lock:
            instance = self._instances.get(instance_id)
        if instance is None:
            raise ApiError(404, "INSTANCE_NOT_EXIST", f"instance {instance_id} does not exist")
        return instance

    def _list_instance(self, query: dict[str, str]) -> dict:
        try:
            page_no = int(query.get("PageNo", "1"))
            page_size = int(query.get("PageSize", "30"))
        except ValueError:
            raise ApiError(400, "PARAM_INVALID", "PageNo and PageSize must be integers") from None
        if page_no < 1 or not 1 <= page_size <= 100:
            raise ApiError(400, "PARAM_INVALID", "PageNo must be >= 1 and PageSize 1..100")
        wanted_name = query.get("InstanceName", "")
        wanted_status = query.get("InstanceStatus")
        with self._lock:
            matches = [
                i
                for i in self._instances.values()
                if wanted_name in i.name and (wanted_status is None or i.status == wanted_status)
            ]
        page = matches[(page_no - 1) * page_size : page_no * page_size]
        return {
            "IsSuccess": True,
            "Code": "success",
            "PageNo": page_no,
            "PageSize": page_size,
            "TotalCount": len(matches),
            "Instances": [
                {
                    "InstanceId": i.instance_id,
                    "InstanceName": i.name,
                    "RegionId": i.region,
                    "InstanceStatus": i.status,
                    "InstanceSpecification": i.specification,
                    "InstanceIssue": "",
                    "CreateTime": "2024-01-01 00:00:00",
                    "ModifiedTime": "2024-01-01 00:00:00",
                    "ResourceGroupId": "rg-fake",
                    "Tags": [],
                }
                for i in page
            ],
        }

    def _list_instance_endpoint(self, query: dict[str, str]) -> dict:
        instance = self._instance(query)
        endpoints = []
        if query.get("ModuleName", "Registry") == "Registry":
            endpoints.append(
                {
                    "EndpointType": "internet",
                    "Enable": instance.internet_enabled,
                    "Status": "RUNNING" if instance.internet_enabled else "STOPPED",
                    "AclEnable": False,
                    "AclEntries": [],
                    "LinkedVpcs": [],
                    "Domains": [{"Domain": d, "Type": t} for d, t in instance.domains],
                }
            )
        return {"IsSuccess": True, "Code": "success", "Endpoints": endpoints}

    def _issue(self, key_id: str, edition: str, instance_id: str | None, ttl: float) -> Issued:
        with self._lock:
            self._counter += 1
            token = self.fixed_token or f"fake-acr-{self._counter}-{secrets.token_hex(8)}"
            issued = Issued(key_id, edition, instance_id, self.username, token, int((self.clock() + ttl) * 1000))
            self._issued.append(issued)
        return issued

    def _ee_token(self, query: dict[str, str], key_id: str) -> dict:
        instance = self._instance(query)
        ttl: float = self.token_ttl
        if "ExpiresInHours" in query:
            try:
                hours = int(query["ExpiresInHours"])
            except ValueError:
                hours = 0
            if not 1 <= hours <= 24:
                raise ApiError(400, "PARAM_INVALID", "ExpiresInHours must be 1..24")
            ttl = hours * 3600
        issued = self._issue(key_id, "enterprise", instance.instance_id, ttl)
        return {
            "ExpireTime": issued.expire_ms,
            "Code": "success",
            "IsSuccess": True,
            "TempUsername": issued.username,
            "AuthorizationToken": issued.token,
        }

    def _personal_token(self, key_id: str) -> dict:
        issued = self._issue(key_id, "personal", None, self.token_ttl)
        return {
            "data": {
                "authorizationToken": issued.token,
                "tempUserName": issued.username,
                "expireDate": issued.expire_ms,
            }
        }

    # -- STS AssumeRoleWithOIDC (anonymous: the OIDC token is the credential)

    def _sts_params(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> dict | None:
        """The parameters of an AssumeRoleWithOIDC request (the query, over a POST's form body), or None
        when the request is not one and belongs to the signed path."""
        if method not in ("GET", "POST") or path != "/":
            return None
        params = dict(query)
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if method == "POST" and content_type == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            params = {**form, **query}
            if query.get("Action") != STS_ACTION and headers.get("x-acs-action"):
                return None  # a signed call whose body merely names the action
        return params if params.get("Action") == STS_ACTION else None

    def _sts_check(self, params: dict[str, str]) -> _StsCheck:
        """Everything about the request but the role's trust: parameters, provider, role and the token."""
        if params.get("Version") != STS_VERSION:
            raise ApiError(400, "InvalidVersion", f"Specified parameter Version is not valid: {params.get('Version')}")
        for name in ("RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName"):
            if not params.get(name):
                raise ApiError(400, "MissingParameter", f"{name} is mandatory for this action.")
        session_name = params["RoleSessionName"]
        if not SESSION_NAME.fullmatch(session_name):
            raise ApiError(
                400,
                "InvalidParameter.RoleSessionName",
                "RoleSessionName must be 2 to 64 characters of letters, digits and . @ - _",
            )
        try:
            duration = int(params.get("DurationSeconds", str(STS_DEFAULT_DURATION)))
        except ValueError:
            duration = 0
        if not STS_MIN_DURATION <= duration <= STS_MAX_DURATION:
            raise ApiError(
                400,
                "InvalidParameter.DurationSeconds",
                f"DurationSeconds must be {STS_MIN_DURATION} to {STS_MAX_DURATION}",
            )
        provider_arn = params["OIDCProviderArn"]
        with self._lock:
            provider = self._oidc_providers.get(provider_arn)
            role = self._oidc_roles.get(params["RoleArn"])
        if provider is None:
            raise ApiError(404, "EntityNotExist.OIDCProvider", "The specified OIDC provider does not exist.")
        if role is None:
            raise ApiError(404, "EntityNotExist.Role", "The specified Role not exists.")
        claims = self._oidc_claims(params["OIDCToken"], provider, role.audience)
        return _StsCheck(provider_arn, provider, role, session_name, duration, claims)

    def _oidc_claims(self, token: str, provider: _OidcProvider, audience: str) -> dict:
        """The claims of a token signed by the provider, current, and meant for audience; or raises."""
        invalid = ApiError(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid.")
        parts = token.split(".")
        if len(parts) != 3:
            raise invalid
        try:
            header, claims = (json.loads(b64url_decode(part)) for part in parts[:2])
        except (ValueError, RecursionError):  # bad base64url, bytes that are not UTF-8, or not JSON
            raise invalid from None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            raise invalid
        expected = hs256(provider.secret, f"{parts[0]}.{parts[1]}")
        if not hmac.compare_digest(expected.encode(), parts[2].encode()):  # the exact encoding, not just the bytes
            raise invalid
        if claims.get("iss") != provider.issuer:
            raise ApiError(
                400, "AuthenticationFail.OIDCToken.IssuerError", "The issuer of the OIDC token is not the provider's."
            )

        def number(name: str, required: bool) -> float | None:
            value = claims.get(name)
            if value is None and not required:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise invalid
            return value

        now = self.clock()
        expires, not_before = number("exp", True), number("nbf", False)
        if expires <= now:
            raise ApiError(400, "AuthenticationFail.OIDCToken.Expired", "The OIDC token has expired.")
        if not_before is not None and not_before > now:
            raise invalid
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise invalid
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if audience not in audiences:
            raise ApiError(
                400,
                "AuthenticationFail.OIDCToken.InvalidAudience",
                "The audience of the OIDC token is not one the role accepts.",
            )
        return claims

    def _assume_role(self, check: _StsCheck, issue: bool) -> dict:
        """The role's trust policy, then STS credentials (only registered and recorded when issue)."""
        role, subject = check.role, check.claims["sub"]
        if role.provider_arn != check.provider_arn or (role.subjects is not None and subject not in role.subjects):
            raise ApiError(
                403,
                "AuthenticationFail.NoPermission",
                "You are not authorized to assume the role with this OIDC token.",
            )
        expires = int(self.clock()) + check.duration
        key_id = "STS." + secrets.token_hex(12)
        secret, security_token = secrets.token_urlsafe(30), "CAIS" + secrets.token_urlsafe(96)
        if issue:
            self.add_access_key(key_id, secret, security_token)
            session = StsSession(
                key_id, role.arn, check.provider_arn, subject, check.session_name, check.duration, expires
            )
            with self._lock:
                self._sts_sessions.append(session)
        aud = check.claims["aud"]
        return {
            "OIDCTokenInfo": {
                "Subject": subject,
                "Issuer": check.claims["iss"],
                "ClientIds": aud if isinstance(aud, str) else ",".join(str(a) for a in aud),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role.role_id}:{check.session_name}",
                "Arn": f"acs:ram::{role.account}:assumed-role/{role.name}/{check.session_name}",
            },
            "Credentials": {
                "AccessKeyId": key_id,
                "AccessKeySecret": secret,
                "SecurityToken": security_token,
                "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            },
        }

    # -- STS AssumeRole (signed with an access key, RPC signature version 1.0)

    @staticmethod
    def _assume_role_params(method: str, path: str, query: dict[str, str], headers) -> dict | None:
        """The parameters of an AssumeRole request (all in the query), or None when it is not one."""
        if method not in ("GET", "POST") or path != "/" or headers.get("x-acs-action"):
            return None
        return query if query.get("Action") == STS_ASSUME_ROLE else None

    def _assume_role_check(self, params: dict[str, str]) -> tuple[str, _RamRole, str, int]:
        """(caller's access key id, role, session name, duration) of a request whose signature, date,
        nonce, security token, parameters and the role's trust all check out; or raises."""
        key_id = params.get("AccessKeyId", "")
        try:
            if params.get("Version") != STS_VERSION:
                raise ApiError(
                    400, "InvalidVersion", f"Specified parameter Version is not valid: {params.get('Version')}"
                )
            for name in ("AccessKeyId", "Signature", "Timestamp", "SignatureNonce", "RoleArn", "RoleSessionName"):
                if not params.get(name):
                    raise ApiError(400, "MissingParameter", f"{name} is mandatory for this action.")
            if (params.get("SignatureMethod"), params.get("SignatureVersion")) != STS_SIGNATURE:
                raise ApiError(400, "InvalidParameter", "SignatureMethod must be HMAC-SHA1, SignatureVersion 1.0")
            self._check_rpc_signature(params, key_id)
            session_name, duration, role = self._assume_role_parameters(params)
            if role.trusted is not None and key_id not in role.trusted:
                raise ApiError(403, "NoPermission", "You are not authorized to assume this role.")
            if role.external_id is not None and params.get("ExternalId") != role.external_id:
                raise ApiError(403, "NoPermission", "The ExternalId does not match the role's trust policy.")
        except ApiError as err:
            err.context = (key_id or None, ())
            raise
        return key_id, role, session_name, duration

    def _check_rpc_signature(self, params: dict[str, str], key_id: str) -> None:
        """The RPC signature (GET&%2F&percent(sorted query)), the Timestamp window, the nonce and the
        security token of the access key that signed."""
        with self._lock:
            key = self._keys.get(key_id)
        if key is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        signed = {name: value for name, value in params.items() if name != "Signature"}
        canonical = "&".join(f"{rpc_encode(name)}={rpc_encode(signed[name])}" for name in sorted(signed))
        expected = base64.b64encode(
            hmac.new(f"{key.secret}&".encode(), f"GET&%2F&{rpc_encode(canonical)}".encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            raise ApiError(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
        try:
            stamp = calendar.timegm(time.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            raise ApiError(400, "InvalidTimeStamp.Format", "Timestamp is not yyyy-MM-ddTHH:mm:ssZ") from None
        if abs(self.clock() - stamp) > MAX_CLOCK_SKEW:
            raise ApiError(400, "InvalidTimeStamp.Expired", "Timestamp is more than 15 minutes off")
        sent_token = params.get("SecurityToken")
        if key.security_token is None:
            if sent_token:
                raise ApiError(400, "InvalidSecurityToken.Mismatch", "a security token came with a permanent key")
        elif sent_token is None or not hmac.compare_digest(sent_token, key.security_token):
            raise ApiError(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.")
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(params["SignatureNonce"])

    def _assume_role_parameters(self, params: dict[str, str]) -> tuple[str, int, _RamRole]:
        session_name = params["RoleSessionName"]
        if not SESSION_NAME.fullmatch(session_name):
            raise ApiError(
                400,
                "InvalidParameter.RoleSessionName",
                "RoleSessionName must be 2 to 64 characters of letters, digits and . @ - _",
            )
        with self._lock:
            role = self._ram_roles.get(params["RoleArn"])
        if role is None:
            raise ApiError(404, "EntityNotExist.Role", "The specified Role not exists.")
        try:
            duration = int(params.get("DurationSeconds", str(STS_DEFAULT_DURATION)))
        except ValueError:
            duration = 0
        if not STS_MIN_DURATION <= duration <= role.max_duration:
            raise ApiError(
                400,
                "InvalidParameter.DurationSeconds",
                f"DurationSeconds must be {STS_MIN_DURATION} to the role's {role.max_duration}",
            )
        return session_name, duration, role

    def _assume_ram_role(self, check: tuple[str, _RamRole, str, int], external_id: str, issue: bool) -> dict:
        """STS credentials for a checked AssumeRole (only registered and recorded when issue)."""
        caller, role, session_name, duration = check
        expires = int(self.clock()) + duration
        key_id = "STS." + secrets.token_hex(12)
        secret, security_token = secrets.token_urlsafe(30), "CAIS" + secrets.token_urlsafe(96)
        if issue:
            self.add_access_key(key_id, secret, security_token)
            session = StsSession(key_id, role.arn, "", "", session_name, duration, expires, caller, external_id)
            with self._lock:
                self._sts_sessions.append(session)
        return {
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role.role_id}:{session_name}",
                "Arn": f"acs:ram::{role.account}:assumed-role/{role.name}/{session_name}",
            },
            "Credentials": {
                "AccessKeyId": key_id,
                "AccessKeySecret": secret,
                "SecurityToken": security_token,
                "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            },
        }

    def _record(self, received: Received) -> None:
        with self._lock:
            self._requests.append(received)

    def _internal_error(self) -> None:
        with self._lock:
            self._errors.append(traceback.format_exc())


def rpc_encode(text: str) -> str:
    """Percent-encoding of Alibaba Cloud's RPC signature: RFC 3986 unreserved characters stay, the rest
    (space as %20) is %XX of its UTF-8 bytes."""
    return quote(text, safe="-_.~")


def _redacted(headers, secret: str | None = None) -> dict[str, str]:
    """The headers, lower-cased, with credentials replaced; and secret (an OIDC token) wherever it shows."""
    out = {}
    for name, value in headers.items():
        name = name.lower()
        if name == "authorization":
            value = value.split("Signature=")[0] + "Signature=" + REDACTED
        elif name in ("x-acs-security-token", "x-acs-bearer-token"):
            value = REDACTED
        if secret:
            value = value.replace(secret, REDACTED)
        out[name] = value
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs under a burst: a 1 s retransmit stall

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up mid-request; the fake's own bugs land in FakeAliyun.errors


class _TlsServer(_Server):
    """_Server over TLS; the handshake runs on the request's own thread, so a client that only
    connects (credctl's check that an endpoint takes connections) neither stalls the others nor
    counts as a request."""

    def __init__(self, address: tuple[str, int], handler, context) -> None:
        super().__init__(address, handler)
        self.context = context

    def get_request(self):
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address) -> None:
        try:
            request.do_handshake()
        except OSError:  # ssl.SSLError included: connected and left, or does not trust the certificate
            return
        super().finish_request(request, client_address)

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeAliyun
    server_version = "FakeAliyun/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        pass  # never log: request lines and headers can carry credentials

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _handle(self) -> None:
        fake = self.owner
        request_id = str(uuid.uuid4()).upper()
        try:
            self._serve(fake, request_id)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer
        except Exception:
            fake._internal_error()
            try:
                self._send_json(500, {"Code": "InternalError", "Message": "the fake failed", "RequestId": request_id})
            except OSError:
                pass

    def _serve(self, fake: FakeAliyun, request_id: str) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path) or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        method = self.command
        action, version = self.headers.get("x-acs-action"), self.headers.get("x-acs-version")
        if self.headers.get("transfer-encoding"):
            body = b""
            early: ApiError | None = ApiError(400, "UnsupportedTransferEncoding", "send a Content-Length")
        else:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            early = None

        fault = fake._take_fault()
        if fault is not None and fault.kind == "delay" and fake._stopping.wait(fault.seconds):
            return  # stopping: drop the request

        sts = fake._sts_params(method, path, query, self.headers, body)
        role_params = None if sts is not None else fake._assume_role_params(method, path, query, self.headers)
        oidc_token = None
        if sts is not None:  # anonymous: its parameters are recorded, with the OIDC token redacted
            action, version, oidc_token = STS_ACTION, sts.get("Version"), sts.get("OIDCToken")
            query = {**sts, "OIDCToken": REDACTED} if "OIDCToken" in sts else sts
        if role_params is not None:  # recorded without its signature and security token
            action, version = STS_ASSUME_ROLE, role_params.get("Version")
            hidden = {name: REDACTED for name in ("Signature", "SecurityToken") if name in role_params}
            query = {**role_params, **hidden}
        is_sts = sts is not None or role_params is not None

        key_id, signed, verified = None, (), False
        status, payload = 200, None
        try:
            if early:
                raise early
            if sts is not None:
                check = fake._sts_check(sts)
                verified = True
                # A fault replaces the answer: the caller never sees these credentials, so none are issued.
                payload = fake._assume_role(check, issue=fault is None or fault.kind == "delay")
            elif role_params is not None:
                assumed = fake._assume_role_check(role_params)
                key_id, verified = assumed[0], True
                issue = fault is None or fault.kind == "delay"  # as above: a replaced answer issues nothing
                payload = fake._assume_ram_role(assumed, role_params.get("ExternalId", ""), issue)
            else:
                key_id, signed = fake._authenticate(method, path, query, self.headers, body)
                verified = True
                payload = fake._dispatch(method, path, query, action, version, key_id)
        except ApiError as err:
            key_id, signed = err.context
            status, payload = err.status, self._error(is_sts, err.code, err.message, request_id)

        extra_headers = {}
        garbage = False
        if fault is not None and fault.kind == "fail":
            status = fault.status
            payload = self._error(is_sts, fault.code, fault.message, request_id)
            if fault.retry_after is not None:
                extra_headers["x-acs-retry-after"] = str(fault.retry_after)
        elif fault is not None and fault.kind == "garbage":
            status, garbage = 200, True
        elif fault is not None and fault.kind == "unsuccessful":
            status = 200
            payload = {"IsSuccess": False, "Code": fault.code, "Message": fault.message}

        code = payload.get("Code") if status >= 400 or (payload and payload.get("IsSuccess") is False) else None
        fake._record(
            Received(
                method=method,
                path=path,
                query=query,
                action=action,
                version=version,
                access_key_id=key_id,
                verified=verified,
                status=status,
                code=code,
                signed_headers=tuple(signed),
                headers=_redacted(self.headers, oidc_token),
            )
        )
        if garbage:
            self._send(200, b"<html>this is not JSON {", "text/html", request_id)
            return
        if status < 400:
            key = "requestId" if version == PERSONAL_VERSION and "data" in payload else "RequestId"
            payload = {key: request_id, **payload}
        self._send_json(status, payload, request_id, extra_headers)

    @staticmethod
    def _error(sts: bool, code: str, message: str, request_id: str) -> dict:
        if sts:  # STS's own error body
            return {"RequestId": request_id, "HostId": STS_HOST_ID, "Code": code, "Message": message}
        return {"Code": code, "Message": message, "RequestId": request_id}

    def _send_json(self, status: int, payload: dict, request_id: str = "", extra: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json;charset=utf-8", request_id, extra)

    def _send(self, status: int, body: bytes, content_type: str, request_id: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if request_id:
            self.send_header("x-acs-request-id", request_id)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
