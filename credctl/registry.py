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
"""

from __future__ import annotations

import base64
import ipaddress
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

from credctl import __version__
from credctl.gojson import JSONError, parse
from credctl.names import IDENTITY_TOKEN_USER, api_host

TIMEOUT = 10.0
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


def check_login(registry: str, username: str, secret: str, timeout: float = TIMEOUT) -> LoginResult:
    """Authenticate to registry's /v2/ with these credentials; the result never holds the secret."""
    result = _Login(api_host(registry), username, secret, timeout).run()
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
    """No HTTP answer at all (DNS, refused, TLS, timeout); str() is the reason."""


class _Login:
    def __init__(self, host: str, username: str, secret: str, timeout: float) -> None:
        self.host, self.username, self.secret, self.timeout = host, username, secret, timeout
        handlers: list[urllib.request.BaseHandler] = [_StripAuthOnRedirect()]
        if is_loopback(host):
            handlers.append(urllib.request.ProxyHandler({}))  # Go never proxies loopback either
        self.opener = urllib.request.build_opener(*handlers)

    @property
    def identity_token(self) -> bool:
        return self.username == IDENTITY_TOKEN_USER

    def run(self) -> LoginResult:
        try:
            base, first = self._ping()
        except _Unreachable as err:
            return LoginResult("failed", str(err))
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
        if urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            return LoginResult("failed", f"the registry's Bearer challenge has no usable realm ({realm!r})")
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

    def _request(self, url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> _Response:
        request = urllib.request.Request(url, data=data, headers={"User-Agent": f"credctl/{__version__}"})
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return _Response(response.status, response.headers, response.read(_MAX_BODY))
        except urllib.error.HTTPError as err:  # a real answer, just not 2xx
            with err:
                return _Response(err.code, err.headers, err.read(_MAX_BODY))
        except urllib.error.URLError as err:
            raise _Unreachable(f"cannot reach {_shown(url)}: {_reason(err.reason)}") from None
        except (OSError, ValueError) as err:  # timeouts while reading, bad URLs, closed connections
            raise _Unreachable(f"cannot reach {_shown(url)}: {_reason(err)}") from None


def _basic(username: str, secret: str) -> str:
    return base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")


def _shown(url: str) -> str:
    """url without its query (a realm's query is the registry's, but keep the row short)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _reason(reason: object) -> str:
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
