"""A loopback fake of the Alibaba Cloud OpenAPI for Container Registry (ACR), the only fake in the test world.

It answers what a credential helper asks of ACR, in both editions, on one plain-HTTP port:

    2018-12-01 (enterprise, RPC style, POST /): ListInstance, GetAuthorizationToken, ListInstanceEndpoint
    2016-06-07 (personal, ROA style, GET /tokens): GetAuthorizationToken

and it checks every request the way the real gateway would: the ACS3-HMAC-SHA256 signature
(docs/reference §3.2), the payload hash, the timestamp window, nonce reuse and the STS security token.
Point a client at it with ``Config(endpoint=fake.endpoint, protocol="http", region_id=...)``.

    with FakeAliyun() as fake:
        fake.add_access_key("AKID", "SECRET")
        fake.add_instance("cri-abc", "myreg", "cn-hangzhou")
        ...  # drive a client; then look at fake.requests and fake.issued

Secrets never leave this module: nothing is logged, and the request records keep no
Authorization signature and no security token.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
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
    def errors(self) -> list[str]:
        """Tracebacks of bugs in the fake itself (each answered 500 InternalError); should stay empty."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Forget requests, tokens, nonces and queued faults (keys and instances stay)."""
        with self._lock:
            self._requests.clear()
            self._issued.clear()
            self._nonces.clear()
            self._faults.clear()

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

    def _record(self, received: Received) -> None:
        with self._lock:
            self._requests.append(received)

    def _internal_error(self) -> None:
        with self._lock:
            self._errors.append(traceback.format_exc())


def _redacted(headers) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        name = name.lower()
        if name == "authorization":
            value = value.split("Signature=")[0] + "Signature=" + REDACTED
        elif name in ("x-acs-security-token", "x-acs-bearer-token"):
            value = REDACTED
        out[name] = value
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs under a burst: a 1 s retransmit stall

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up mid-request; the fake's own bugs land in FakeAliyun.errors


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

        key_id, signed, verified = None, (), False
        status, payload = 200, None
        try:
            if early:
                raise early
            key_id, signed = fake._authenticate(method, path, query, self.headers, body)
            verified = True
            payload = fake._dispatch(method, path, query, action, version, key_id)
        except ApiError as err:
            key_id, signed = err.context
            status, payload = err.status, {"Code": err.code, "Message": err.message, "RequestId": request_id}

        extra_headers = {}
        garbage = False
        if fault is not None and fault.kind == "fail":
            status = fault.status
            payload = {"Code": fault.code, "Message": fault.message, "RequestId": request_id}
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
                headers=_redacted(self.headers),
            )
        )
        if garbage:
            self._send(200, b"<html>this is not JSON {", "text/html", request_id)
            return
        if status < 400:
            key = "requestId" if version == PERSONAL_VERSION and "data" in payload else "RequestId"
            payload = {key: request_id, **payload}
        self._send_json(status, payload, request_id, extra_headers)

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
