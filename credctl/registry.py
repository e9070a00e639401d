"""Log in to a Docker Registry (HTTP API v2) with stored credentials, as docker does: urllib only.

`GET /v2/` first, unauthenticated. A 401 carries a challenge in `WWW-Authenticate`:

- `Basic realm=...`: the same request again with Basic auth;
- `Bearer realm=...,service=...[,scope=...]`: a token from the realm — `GET realm?service=&scope=`
  with Basic auth for a username and password, or for an identity token (username `<token>`)
  the OAuth2 refresh-token grant `POST realm` (grant_type, refresh_token, service, client_id) —
  then `GET /v2/` with `Authorization: Bearer TOKEN`.

https first; for loopback hosts (127.0.0.0/8, ::1, localhost), which docker treats as insecure
registries, plain http when https cannot be reached. Authorization headers never follow a
redirect to another host. No secret (password, identity token, registry token) ever appears in
a result's text.

Unlike docker and containers/image, which send the credentials to whatever realm a challenge
names, the credentials go to a realm only on the registry's own host, or on a host the caller
trusts (`trusted_realms`, or the well-known pairs in `realm_is_well_known`), and never over plain
http when the registry itself speaks https.

Every answer is judged, never trusted to be well-formed: whatever a registry sends (no HTTP,
broken headers, a body cut short, a realm that is no URL) gives one "failed" result, and the
whole check of one registry (ping, token, redirects, DNS included) ends by its deadline.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

from credctl import __version__
from credctl.gojson import JSONError, parse
from credctl.names import IDENTITY_TOKEN_USER, api_host
from credctl.process import call_within

TIMEOUT = 10.0  # seconds one network operation (connect, one read) may take
DEADLINE = 30.0  # seconds the whole check of one registry may take
ANY_REALM = "*"  # in trusted_realms: any host a registry names
CLIENT_ID = "credctl"
_MAX_BODY = 1 << 20
_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True)
class LoginResult:
    status: str  # "ok", "warning" or "failed", as verify's rows
    detail: str


def is_loopback(host: str) -> bool:
    """Whether host[:port] names this machine (docker allows plain http to these)."""
    name = host
    if name.startswith("["):  # [::1]:5000
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_challenge(headers: Message) -> tuple[str, dict[str, str]] | None:
    """(scheme in lower case, parameters) of the first Bearer challenge, else the first Basic one."""
    found: list[tuple[str, dict[str, str]]] = []
    for header in headers.get_all("WWW-Authenticate") or []:
        scheme, _, rest = header.strip().partition(" ")
        params = {name.lower(): (quoted if quoted else bare) for name, quoted, bare in _PARAM.findall(rest)}
        params = {name: re.sub(r"\\(.)", r"\1", value) for name, value in params.items()}
        found.append((scheme.lower(), params))
    for wanted in ("bearer", "basic"):
        for scheme, params in found:
            if scheme == wanted:
                return scheme, params
    return None


def realm_is_well_known(registry_host: str, realm_host: str) -> bool:
    """Whether realm_host is the token server a well-known registry's own operator runs for it:
    Docker Hub's (registry-1.docker.io asks auth.docker.io) and Alibaba Cloud ACR's personal
    edition (registry[-vpc|-intl].REGION.aliyuncs.com asks dockerauth[-vpc|-intl].REGION...)."""
    registry_host, realm_host = registry_host.lower(), realm_host.lower()
    if (registry_host, realm_host) == ("registry-1.docker.io", "auth.docker.io"):
        return True
    acr = re.fullmatch(r"registry(-vpc|-intl)?\.([a-z0-9-]+)\.aliyuncs\.com", registry_host)
    return acr is not None and realm_host == f"dockerauth{acr.group(1) or ''}.{acr.group(2)}.aliyuncs.com"


def check_login(
    registry: str,
    username: str,
    secret: str,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
    trusted_realms: frozenset[str] = frozenset(),
) -> LoginResult:
    """Authenticate to registry's /v2/ with these credentials; the result never holds the secret.

    deadline bounds the whole check (a registry dripping one byte at a time included);
    trusted_realms: realm hosts the credentials may go to besides the registry's own
    (ANY_REALM: any)."""
    login = _Login(api_host(registry), username, secret, min(timeout, deadline), trusted_realms)
    result = login.run_within(deadline)
    return LoginResult(result.status, _scrub(result.detail, secret))


class _StripAuthOnRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but send credentials only to where they were meant for (as Go does)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            old, moved = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if (old.scheme, old.netloc) != (moved.scheme, moved.netloc):
                new.remove_header("Authorization")
        return new


@dataclass
class _Response:
    status: int
    headers: Message
    body: bytes


class _Unreachable(Exception):
    """No usable HTTP answer (DNS, refused, TLS, timeout, not HTTP); str() is the reason."""


class _Login:
    def __init__(self, host: str, username: str, secret: str, timeout: float, trusted_realms: frozenset[str]) -> None:
        self.host, self.username, self.secret, self.timeout = host, username, secret, timeout
        self.trusted_realms = frozenset(name.lower() for name in trusted_realms)
        self.deadline = float("inf")  # time.monotonic() by which run_within gives up
        self.scheme = "https"  # how the registry answered its ping
        self.waiting_for = f"https://{host}/v2/"  # the URL being asked now, for the timeout's row
        handlers: list[urllib.request.BaseHandler] = [_StripAuthOnRedirect()]
        if is_loopback(host):
            handlers.append(urllib.request.ProxyHandler({}))  # Go never proxies loopback either
        self.opener = urllib.request.build_opener(*handlers)

    @property
    def identity_token(self) -> bool:
        return self.username == IDENTITY_TOKEN_USER

    def run_within(self, seconds: float) -> LoginResult:
        """run(), given up after seconds. Socket timeouts bound each operation,
        not a peer that keeps sending a byte now and then, nor a DNS lookup: the check runs in a
        daemon thread this one waits for; once the deadline passes that thread sends nothing
        more (_request refuses) and ends with its socket's next timeout, or with the process
        (process.call_within)."""
        self.deadline = time.monotonic() + seconds
        answered, result = call_within(seconds, self.run, f"credctl-login-{self.host}")
        if answered:
            return result  # type: ignore[return-value]  # run's LoginResult
        self.deadline = -float("inf")  # the worker stops before its next request
        return LoginResult("failed", f"no complete answer within {seconds:g} s: still waiting for {self.waiting_for}")

    def run(self) -> LoginResult:
        try:
            base, first = self._ping()
        except _Unreachable as err:
            return LoginResult("failed", str(err))
        self.scheme = base.partition(":")[0]
        ping = f"{base}/v2/"
        if first.status == 200:
            return LoginResult("warning", f"{ping} answers without credentials: the stored ones were not checked")
        if first.status != 401:
            return LoginResult("failed", f"{ping} answered HTTP {first.status} (expected 401 or 200)")
        challenge = parse_challenge(first.headers)
        if challenge is None:
            return LoginResult("failed", f"{ping} answered 401 without a Basic or Bearer challenge")
        scheme, params = challenge
        try:
            if scheme == "basic":
                if self.identity_token:
                    return LoginResult(
                        "failed", "an identity token cannot log in to a registry that asks for Basic auth"
                    )
                how = "Basic auth"
                authorization = "Basic " + _basic(self.username, self.secret)
            else:
                token = self._token(params)
                if isinstance(token, LoginResult):
                    return token
                how = f"a token from {params.get('realm', '')}"
                authorization = "Bearer " + token
            answer = self._request(ping, {"Authorization": authorization})
        except _Unreachable as err:
            return LoginResult("failed", str(err))
        who = "an identity token" if self.identity_token else repr(self.username)
        if answer.status == 200:
            return LoginResult("ok", f"logged in to {ping} as {who} with {how}")
        if answer.status == 401:
            return LoginResult("failed", f"unauthorized: {ping} rejected {who} ({how})")
        return LoginResult("failed", f"{ping} answered HTTP {answer.status} with {how}")

    def _ping(self) -> tuple[str, _Response]:
        """GET /v2/ without credentials: https, then http for a loopback registry."""
        try:
            return f"https://{self.host}", self._request(f"https://{self.host}/v2/")
        except _Unreachable as https_error:
            if not is_loopback(self.host):
                raise
            try:
                return f"http://{self.host}", self._request(f"http://{self.host}/v2/")
            except _Unreachable as http_error:
                raise _Unreachable(f"{https_error}; {http_error}") from None

    def _token(self, params: dict[str, str]) -> str | LoginResult:
        """A registry token from the Bearer challenge's realm, or the LoginResult saying why not."""
        realm = params.get("realm", "")
        refused = self._refused_realm(realm)
        if refused is not None:
            return LoginResult("failed", refused)
        fields = {name: params[name] for name in ("service", "scope") if params.get(name)}
        if self.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": self.secret, **fields, "client_id": CLIENT_ID}
            answer = self._request(
                realm,
                {"Content-Type": "application/x-www-form-urlencoded"},
                urllib.parse.urlencode(form).encode(),
            )
        else:
            separator = "&" if urllib.parse.urlsplit(realm).query else "?"
            url = realm + (separator + urllib.parse.urlencode(fields) if fields else "")
            answer = self._request(url, {"Authorization": "Basic " + _basic(self.username, self.secret)})
        who = "the identity token" if self.identity_token else repr(self.username)
        if answer.status in (401, 403):
            return LoginResult("failed", f"unauthorized: the token server {realm} rejected {who}")
        if answer.status != 200:
            return LoginResult("failed", f"the token server {realm} answered HTTP {answer.status}")
        try:
            data = parse(answer.body)
        except JSONError:
            data = None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            return LoginResult("failed", f"the token server {realm} sent no token")
        return token

    def _refused_realm(self, realm: str) -> str | None:
        """Why the credentials may not go to this realm, or None when they may.

        A realm must be an http(s) URL; on another host than the registry (ports aside: one host,
        one certificate) only when the caller trusts that host or it is a well-known pair; and
        never plain http when the registry answered on https, unless its host is trusted."""
        try:
            parts = urllib.parse.urlsplit(realm)
            realm_host = (parts.hostname or "").lower()
        except ValueError:
            parts, realm_host = None, ""
        if parts is None or parts.scheme not in ("http", "https") or not realm_host or not realm.isprintable():
            return f"the registry's Bearer challenge has no usable realm ({realm!r})"
        registry_host = urllib.parse.urlsplit(f"//{self.host}").hostname or self.host.lower()
        trusted = ANY_REALM in self.trusted_realms or realm_host in self.trusted_realms
        shown = _shown(realm)
        if realm_host != registry_host and not trusted and not realm_is_well_known(registry_host, realm_host):
            return (
                f"{self.host} asks for credentials to be sent to {realm_host} ({shown}); not sent: "
                f"use --trust-realm {realm_host} to allow"
            )
        if parts.scheme == "http" and self.scheme == "https" and not trusted:
            return (
                f"{self.host} (https) asks for credentials to be sent over plain http to {realm_host} ({shown}); "
                f"not sent: use --trust-realm {realm_host} to allow"
            )
        return None

    def _request(self, url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> _Response:
        """One request and its answer (any status). Raises _Unreachable when there is no usable
        HTTP answer, or the deadline has passed."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Unreachable(f"no complete answer within the deadline: {_shown(url)} was not asked")
        self.waiting_for = _shown(url)
        request = urllib.request.Request(url, data=data, headers={"User-Agent": f"credctl/{__version__}"})
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            try:
                with self.opener.open(request, timeout=min(self.timeout, left)) as response:
                    return _Response(response.status, response.headers, response.read(_MAX_BODY))
            except urllib.error.HTTPError as err:  # a real answer, just not 2xx
                with err:
                    return _Response(err.code, err.headers, err.read(_MAX_BODY))
        except urllib.error.URLError as err:
            raise _Unreachable(f"cannot reach {_shown(url)}: {_reason(err.reason)}") from None
        except http.client.HTTPException as err:  # an answer that is not HTTP, or cut short
            raise _Unreachable(f"{_shown(url)} sent a malformed answer: {_malformed(err)}") from None
        except (OSError, ValueError) as err:  # timeouts while reading, bad URLs, closed connections
            raise _Unreachable(f"cannot reach {_shown(url)}: {_reason(err)}") from None


def _basic(username: str, secret: str) -> str:
    return base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")


def _shown(url: str) -> str:
    """url without its query (a realm's query is the registry's, but keep the row short)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _malformed(err: http.client.HTTPException) -> str:
    """What was wrong with an answer, in words that quote nothing the server sent."""
    if isinstance(err, http.client.IncompleteRead):
        return "its body ended early"
    if isinstance(err, http.client.LineTooLong):
        return "a line longer than 64 KiB"
    if isinstance(err, http.client.BadStatusLine):
        return "no HTTP status line"
    if isinstance(err, http.client.InvalidURL):
        return "a URL http.client refuses"
    if "more than" in str(err) and "headers" in str(err):
        return "more than 100 headers"
    return f"not valid HTTP ({type(err).__name__})"


def _reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({reason.verify_message})"
    # A peer that closes mid-handshake: SSLEOFError, or SSLZeroReturnError on some Python builds
    # (Debian's 3.11.2 raises the latter where 3.11.7 raises the former).
    if isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return "the connection closed during the TLS handshake"
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed ({reason.reason or type(reason).__name__})"
    if isinstance(reason, TimeoutError) or type(reason).__name__ == "timeout":
        return "timed out"
    text = getattr(reason, "strerror", None) or getattr(reason, "reason", None) or str(reason)
    return str(text) or type(reason).__name__


def _scrub(text: str, secret: str) -> str:
    """Belt and braces: no form of the secret survives in text we show."""
    if secret:
        forms = {secret, urllib.parse.quote(secret), urllib.parse.quote_plus(secret)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    return text
