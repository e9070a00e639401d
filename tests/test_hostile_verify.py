"""`credctl verify --online` against a hostile registry, and previews that never show a secret.

The registry here is a scripted TCP server on loopback (HostileServer) that plays one bad answer
per test: no HTTP at all, broken headers, bodies cut short, a byte every 2 s, challenges that do
not parse, token servers answering nonsense, and realms on other hosts or over plain http. Every
one gives one "failed" login row, exit 1 and no traceback; the credentials reach a realm only on
the registry's own host unless the user trusts that host (--trust-realm).
"""

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import world
from world import credctl, docker_env

USER = "alice"
PASSWORD = "hostile-test-pw-" + "7f3a9c"
GUARD = 60  # seconds: the test's own guard against a hang, far above any deadline used here


# -- the hostile registry -----------------------------------------------------------------------


class HostileServer:
    """A TCP server on host (a loopback address) that answers each connection with play(request).

    play gets the raw request (headers and body) and returns the bytes to send, or a callable
    that is given the socket to write to as it likes. A TLS ClientHello on a plain server is read
    and the connection closed (so a loopback client's https attempt fails the same way every
    time); with tls (an SSLContext) the server speaks TLS and closes plain-text connections.
    requests records every request that arrived, raw.
    """

    def __init__(
        self, play: Callable[[bytes], bytes | Callable[[socket.socket], None]], host: str = "127.0.0.1", tls=None
    ) -> None:
        self.play, self.tls = play, tls
        self.listener = socket.create_server((host, 0))
        self.host, self.port = host, self.listener.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # stopped
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(world.TIMEOUT)
            first = conn.recv(1, socket.MSG_PEEK)
            if (first == b"\x16") != (self.tls is not None):
                conn.recv(65536)  # read it all, so closing sends FIN, not RST
                return
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = _read_request(conn)
            self.requests.append(request)
            answer = self.play(request)
            if callable(answer):
                answer(conn)
            else:
                conn.sendall(answer)
        except OSError:
            pass  # the client went away: its side of the story is what the test checks
        finally:
            conn.close()

    def stop(self) -> None:
        self.listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def servers():
    started: list[HostileServer] = []

    def start(play, host: str = "127.0.0.1", tls=None) -> HostileServer:
        server = HostileServer(play, host, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def answer(status: str, *headers: str, body: bytes = b"") -> bytes:
    """An HTTP/1.1 answer as bytes, with Content-Length unless a header sets the framing."""
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length:", "transfer-encoding:")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def always(data: bytes) -> Callable[[bytes], bytes]:
    return lambda request: data


def plaintext_login(tmp_path: Path, *addresses: str) -> dict[str, str]:
    """A Docker user whose config.json holds alice's plaintext login for each address."""
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return docker_env({}, tmp_path, {"auths": {address: {"auth": auth} for address in addresses}})


def verify_online(env: dict[str, str], *args: str) -> tuple[int, list[dict], str]:
    """(exit status, rows, stderr) of `credctl verify --json --online ARGS`; never a traceback."""
    result = credctl(env, "verify", "--json", "--online", *args, timeout=GUARD)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def login_row(rows: list[dict], target: str) -> dict:
    found = [row for row in rows if (row["check"], row["target"]) == ("login", target)]
    assert len(found) == 1, rows
    return found[0]


def https_failed(address: str) -> str:
    """The first half of a loopback registry's row: its https attempt, refused by HostileServer."""
    return f"cannot reach https://{address}/v2/: the connection closed during the TLS handshake; "


# -- item 16: every answer gives one failed row -------------------------------------------------

BASIC = "WWW-Authenticate: Basic realm=hostile"
BAD_ANSWERS = {
    "no status line": (b"HELLO registry\r\n\r\n", "sent a malformed answer: no HTTP status line"),
    "status not a number": (b"HTTP/1.1 abc Unauthorized\r\n\r\n", "sent a malformed answer: no HTTP status line"),
    "status line too long": (
        b"HTTP/1.1 401 " + b"x" * 70000 + b"\r\n\r\n",
        "sent a malformed answer: a line longer than 64 KiB",
    ),
    "endless headers": (
        b"HTTP/1.1 401 Unauthorized\r\n" + b"X-Junk: 1\r\n" * 200 + b"\r\n",
        "sent a malformed answer: more than 100 headers",
    ),
    "absurd content length": (  # the body as far as it goes; then the registry refuses the login
        answer("401 Unauthorized", BASIC, "Content-Length: 99999999999999999999999") + b"short",
        "rejected 'alice' (Basic auth)",
    ),
    "truncated chunked body": (
        answer("401 Unauthorized", BASIC, "Transfer-Encoding: chunked") + b"5\r\nab",
        "sent a malformed answer: its body ended early",
    ),
    "garbage chunk size": (
        answer("401 Unauthorized", BASIC, "Transfer-Encoding: chunked") + b"zz\r\nab\r\n",
        "sent a malformed answer: its body ended early",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_malformed_http_answer_is_one_failed_row(tmp_path, servers, case):
    data, problem = BAD_ANSWERS[case]
    registry = servers(always(data))
    env = plaintext_login(tmp_path, registry.address)

    status, rows, stderr = verify_online(env)

    assert status == 1
    assert login_row(rows, registry.address) == {
        "check": "login",
        "target": registry.address,
        "status": "failed",
        "detail": (
            f"unauthorized: http://{registry.address}/v2/ {problem}"
            if case == "absurd content length"
            else https_failed(registry.address) + f"http://{registry.address}/v2/ {problem}"
        ),
    }
    assert stderr == "error: 1 check failed: see the details above\n"


ODD_ANSWERS = {  # answers http.client takes, each still one failed row ({a}: the registry's address)
    "a line that is no header": (
        b"HTTP/1.1 401 Unauthorized\r\nthis is not a header\r\n" + BASIC.encode() + b"\r\nContent-Length: 0\r\n\r\n",
        "http://{a}/v2/ answered 401 without a Basic or Bearer challenge",
    ),
    "a redirect to no URL": (
        answer("302 Found", "Location: http://[::1"),
        "cannot reach https://{a}/v2/: the connection closed during the TLS handshake; "
        "cannot reach http://{a}/v2/: Invalid IPv6 URL",
    ),
    "a redirect to a file": (
        answer("302 Found", "Location: file:///etc/passwd"),
        "http://{a}/v2/ answered HTTP 302 (expected 401 or 200)",
    ),
}


@pytest.mark.parametrize("case", list(ODD_ANSWERS))
def test_odd_http_answer_is_one_failed_row(tmp_path, servers, case):
    data, detail = ODD_ANSWERS[case]
    registry = servers(always(data))
    env = plaintext_login(tmp_path, registry.address)

    status, rows, _ = verify_online(env)

    assert status == 1
    assert login_row(rows, registry.address)["detail"] == detail.format(a=registry.address)


CHALLENGES = {
    "realm not a URL": ('Bearer realm="http://[::1",service=x', "('http://[::1')"),
    "realm with a control character": (
        'Bearer realm="http://a.example/\x1b[31mtoken"',
        "('http://a.example/\\x1b[31mtoken')",
    ),
    "no realm": ("Bearer service=x", "('')"),
    "realm of another scheme": ('Bearer realm="file:///etc/passwd"', "('file:///etc/passwd')"),
}


@pytest.mark.parametrize("case", list(CHALLENGES))
def test_challenge_that_does_not_parse_is_one_failed_row(tmp_path, servers, case):
    challenge, shown = CHALLENGES[case]
    registry = servers(always(answer("401 Unauthorized", f"WWW-Authenticate: {challenge}")))
    env = plaintext_login(tmp_path, registry.address)

    status, rows, _ = verify_online(env)

    assert status == 1
    assert login_row(rows, registry.address)["detail"] == f"the registry's Bearer challenge has no usable realm {shown}"
    assert [b"authorization:" in request.lower() for request in registry.requests] == [False]  # the ping only


def token_registry(servers, token_answer: bytes) -> HostileServer:
    """A registry whose realm is on its own host and port, /token answering token_answer."""

    def play(request: bytes) -> bytes:
        if request.startswith(b"GET /token"):
            return token_answer
        realm = f"http://127.0.0.1:{server.port}/token"
        return answer("401 Unauthorized", f'WWW-Authenticate: Bearer realm="{realm}",service=hostile')

    server = servers(play)
    return server


TOKEN_ANSWERS = {
    "not JSON": answer("200 OK", body=b"<html>hello</html>"),
    "a JSON list": answer("200 OK", body=b"[1, 2]"),
    "a token that is a number": answer("200 OK", body=b'{"token": 42}'),
    "an empty token": answer("200 OK", body=b'{"token": "", "access_token": ""}'),
    "body cut short": answer("200 OK", "Transfer-Encoding: chunked") + b'9\r\n{"tok',
}


@pytest.mark.parametrize("case", list(TOKEN_ANSWERS))
def test_token_server_nonsense_is_one_failed_row(tmp_path, servers, case):
    registry = token_registry(servers, TOKEN_ANSWERS[case])
    env = plaintext_login(tmp_path, registry.address)

    status, rows, _ = verify_online(env)

    realm = f"http://127.0.0.1:{registry.port}/token"
    expected = (
        f"{realm} sent a malformed answer: its body ended early"
        if case == "body cut short"
        else f"the token server {realm} sent no token"
    )
    assert status == 1
    assert login_row(rows, registry.address)["detail"] == expected


def test_tls_garbage_is_one_failed_row(tmp_path):
    registry = _GarbageServer(bytes(range(256)) * 4)  # the same garbage to the TLS hello and to HTTP
    try:
        env = plaintext_login(tmp_path, registry.address)
        status, rows, _ = verify_online(env)
    finally:
        registry.stop()

    assert status == 1
    assert login_row(rows, registry.address)["detail"] == (
        f"cannot reach https://{registry.address}/v2/: TLS failed (WRONG_VERSION_NUMBER); "
        f"http://{registry.address}/v2/ sent a malformed answer: no HTTP status line"
    )


class _GarbageServer:
    """Answers whatever arrives (TLS or not) with the same bytes, then closes."""

    def __init__(self, garbage: bytes) -> None:
        self.garbage = garbage
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(world.TIMEOUT)
                    conn.recv(65536)
                    conn.sendall(self.garbage)
                    conn.shutdown(socket.SHUT_WR)
                    conn.recv(65536)
                except OSError:
                    pass

    def stop(self) -> None:
        self.listener.close()


def drip(conn: socket.socket) -> None:
    """A 401 whose headers never end: one byte every 2 s (each read returns: no socket timeout)."""
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\n")
    for _ in range(GUARD):
        conn.sendall(b"X")
        time.sleep(2)


def test_slow_drip_ends_at_the_deadline_and_others_are_still_checked(tmp_path, servers):
    slow = servers(lambda request: drip)
    fine = servers(always(answer("200 OK")))
    env = plaintext_login(tmp_path, slow.address, fine.address)

    status, rows, _ = verify_online(env, "--timeout", "3")  # GUARD bounds the run, not the test's claim

    assert status == 1
    assert login_row(rows, slow.address) == {
        "check": "login",
        "target": slow.address,
        "status": "failed",
        "detail": f"no complete answer within 3 s: still waiting for http://{slow.address}/v2/",
    }
    assert login_row(rows, fine.address) == {
        "check": "login",
        "target": fine.address,
        "status": "warning",
        "detail": f"http://{fine.address}/v2/ answers without credentials: the stored ones were not checked",
    }


# -- item 17: the credentials go to a realm only on the registry's host, unless trusted -------


def tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """(server context, CA file) for a self-signed certificate of 127.0.0.1 made here."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "credctl hostile registry")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "registry.crt", tmp_path / "registry.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


TOKEN = "hostile-registry-token"


def bearer_registry(servers, realm: str, host: str = "127.0.0.1", tls=None) -> HostileServer:
    """A registry that asks for a token from realm and accepts only TOKEN."""

    def play(request: bytes) -> bytes:
        if f"authorization: bearer {TOKEN}".encode() in request.lower():
            return answer("200 OK")
        return answer("401 Unauthorized", f'WWW-Authenticate: Bearer realm="{realm}",service=hostile')

    return servers(play, host, tls)


def token_server(servers, host: str) -> HostileServer:
    return servers(always(answer("200 OK", body=json.dumps({"token": TOKEN}).encode())), host)


def sent_the_password(server: HostileServer) -> bool:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode())
    return any(basic in request or PASSWORD.encode() in request for request in server.requests)


@pytest.mark.parametrize(("registry_host", "realm_host"), [("127.0.0.1", "127.0.0.2"), ("localhost", "127.0.0.1")])
def test_realm_on_another_host_is_not_sent_the_password(tmp_path, servers, registry_host, realm_host):
    tokens = token_server(servers, realm_host)
    realm = f"http://{tokens.address}/token"
    registry = bearer_registry(servers, realm)
    target = f"{registry_host}:{registry.port}"
    env = plaintext_login(tmp_path, target)

    status, rows, _ = verify_online(env)

    assert status == 1
    assert login_row(rows, target)["detail"] == (
        f"{target} asks for credentials to be sent to {realm_host} ({realm}); not sent: "
        f"use --trust-realm {realm_host} to allow"
    )
    assert tokens.requests == []


@pytest.mark.parametrize("trusted", ["127.0.0.2", "*"])
def test_trusted_realm_is_sent_the_password(tmp_path, servers, trusted):
    tokens = token_server(servers, "127.0.0.2")
    realm = f"http://{tokens.address}/token"
    registry = bearer_registry(servers, realm)
    env = plaintext_login(tmp_path, registry.address)

    status, rows, _ = verify_online(env, "--trust-realm", trusted)

    assert status == 0, rows
    assert login_row(rows, registry.address)["detail"] == (
        f"logged in to http://{registry.address}/v2/ as {USER!r} with a token from {realm}"
    )
    assert sent_the_password(tokens)


def test_http_realm_of_an_https_registry_is_not_sent_the_password(tmp_path, servers):
    context, ca_file = tls_context(tmp_path)
    tokens = token_server(servers, "127.0.0.1")
    realm = f"http://{tokens.address}/token"
    registry = bearer_registry(servers, realm, tls=context)
    env = {**plaintext_login(tmp_path, registry.address), "SSL_CERT_FILE": str(ca_file)}

    status, rows, _ = verify_online(env)
    trusted_status, trusted_rows, _ = verify_online(env, "--trust-realm", "127.0.0.1")

    assert status == 1
    assert login_row(rows, registry.address)["detail"] == (
        f"{registry.address} (https) asks for credentials to be sent over plain http to 127.0.0.1 ({realm}); "
        "not sent: use --trust-realm 127.0.0.1 to allow"
    )
    assert login_row(trusted_rows, registry.address)["detail"] == (
        f"logged in to https://{registry.address}/v2/ as {USER!r} with a token from {realm}"
    )
    assert trusted_status == 0
    assert len(tokens.requests) == 1  # the trusted run's only


def test_well_known_realms():
    from credctl.registry import realm_is_well_known

    assert realm_is_well_known("registry-1.docker.io", "auth.docker.io")
    assert realm_is_well_known("registry.cn-hangzhou.aliyuncs.com", "dockerauth.cn-hangzhou.aliyuncs.com")
    assert realm_is_well_known("registry-vpc.cn-hangzhou.aliyuncs.com", "dockerauth-vpc.cn-hangzhou.aliyuncs.com")
    assert realm_is_well_known("REGISTRY-INTL.cn-beijing.aliyuncs.com", "dockerauth-intl.cn-beijing.aliyuncs.com")
    assert not realm_is_well_known("registry.cn-hangzhou.aliyuncs.com", "dockerauth.cn-beijing.aliyuncs.com")
    assert not realm_is_well_known("registry-vpc.cn-hangzhou.aliyuncs.com", "dockerauth.cn-hangzhou.aliyuncs.com")
    assert not realm_is_well_known("registry.example.com", "auth.docker.io")
    assert not realm_is_well_known("evil.aliyuncs.com.example", "dockerauth.evil.aliyuncs.com")


# -- item 18: previews never show a secret, wherever config.json keeps it ---------------------

PREVIEW_CASES = {  # name: (top-level sections, a secret in them, the line the preview shows instead)
    "http proxy password": (
        {"proxies": {"default": {"httpProxy": "http://puser:proxy-pw-1@proxy.example:3128"}}},
        "proxy-pw-1",
        '"httpProxy": "http://***@proxy.example:3128"',
    ),
    "https proxy token as userinfo": (
        {"proxies": {"default": {"httpsProxy": "https://proxy-token-2@proxy.example"}}},
        "proxy-token-2",
        '"httpsProxy": "https://***@proxy.example"',
    ),
    "ftp proxy without a scheme": (
        {"proxies": {"default": {"ftpProxy": "fuser:proxy-pw-3@ftp.example:21"}}},
        "proxy-pw-3",
        '"ftpProxy": "***@ftp.example:21"',
    ),
    "all proxy, a slash in the password": (
        {"proxies": {"default": {"allProxy": "socks5://u:proxy/pw-4@socks.example:1080"}}},
        "pw-4",
        '"allProxy": "socks5://***@socks.example:1080"',
    ),
    "proxies in other spellings": (
        {"Proxies": {"default": {"HTTPSProxy": "http://u:proxy-pw-5@p.example"}}},
        "proxy-pw-5",
        '"HTTPSProxy": "http://***@p.example"',
    ),
    "HttpHeaders": (
        {"HttpHeaders": {"X-Registry-Token": "header-token-6"}},
        "header-token-6",
        '"X-Registry-Token": "***"',
    ),
    "auths Password": (
        {"auths": {"a.example": {"username": "alice", "Password": "auth-pw-7"}}},
        "auth-pw-7",
        '"Password": "***"',
    ),
    "auths IdentityToken": (
        {"auths": {"a.example": {"IdentityToken": "id-token-8"}}},
        "id-token-8",
        '"IdentityToken": "***"',
    ),
    "auths RegistryToken": (
        {"auths": {"a.example": {"RegistryToken": "reg-token-9"}}},
        "reg-token-9",
        '"RegistryToken": "***"',
    ),
    "auths in two spellings": (
        {"auths": {}, "Auths": {"b.example": {"auth": world.b64("bob:both-spellings-10")}}},
        world.b64("bob:both-spellings-10"),
        '"auth": "***"',
    ),
    "plugin options": ({"plugins": {"someplugin": {"token": "plugin-token-11"}}}, "plugin-token-11", '"token": "***"'),
}


@pytest.mark.parametrize("case", list(PREVIEW_CASES))
def test_setup_preview_masks_every_secret(tmp_path, case):
    sections, secret, shown = PREVIEW_CASES[case]
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(sections, indent="\t"))
    env = world.cli_env(tmp_path)

    result = credctl(env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    diff = [line[1:].strip() for line in result.stdout.splitlines() if line[:1] in (" ", "-", "+")]
    assert shown in diff, result.stdout
    assert '"credsStore": "pass"' in diff
