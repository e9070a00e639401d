"""`credctl verify`, run as the installed program against real parts: gpg and pass, our helpers
and Debian's Go helper on PATH, and a real docker-registry for --online (htpasswd auth, and
token auth behind a token server written here — the one fake, see TokenServer).
"""

import base64
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import world
from world import credctl, docker_env, need

from credctl.names import DOCKER_HUB

PROBE = "credctl-verify.invalid"
CLI_TIMEOUT = 120


# -- running credctl ----------------------------------------------------------------------------


def verify_json(env: dict[str, str], *args: str) -> tuple[int, list[dict]]:
    result = credctl(env, "verify", "--json", *args)
    try:
        rows = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"verify --json printed no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    extras = {
        "helper": {"runs", "credctl", "credctl_path"},
        "podman login": {"helpers", "source"},  # tests/test_podman_dropin.py checks these rows
        "podman drop-in": {"overridden_by"},
    }
    for found in rows:  # the schema: four fields, and more on helper and Podman wiring rows
        extra = extras.get(found["check"], set())
        assert set(found) == {"check", "target", "status", "detail"} | extra, found
    assert all(row["status"] in ("ok", "warning", "failed") for row in rows)
    return result.returncode, rows


def summary(rows: list[dict]) -> list[tuple[str, str, str]]:
    return [(row["check"], row["target"], row["status"]) for row in rows]


def row(rows: list[dict], check: str, target: str) -> dict:
    found = [r for r in rows if (r["check"], r["target"]) == (check, target)]
    assert len(found) == 1, f"expected one {check} row for {target}: {summary(rows)}"
    return found[0]


def helper(env: dict[str, str], action: str, data: str, program: str | None = None) -> subprocess.CompletedProcess:
    result = world.run_helper(program or world.ours(), action, data, env)
    assert result.returncode == 0, result.stdout
    return result


def store(env: dict[str, str], server: str, username: str, secret: str) -> None:
    helper(env, "store", json.dumps({"ServerURL": server, "Username": username, "Secret": secret}) + "\n")


def gpg_id(env: dict[str, str]) -> str:
    """The key the pass store encrypts to (its .gpg-id): the pass key row's target."""
    return (Path(env["PASSWORD_STORE_DIR"]) / ".gpg-id").read_text().strip()


def listing(env: dict[str, str]) -> dict[str, str]:
    return json.loads(helper(env, "list", "unused").stdout)


# -- local checks -------------------------------------------------------------------------------


def test_healthy_pass_setup(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass", "currentContext": "default"})
    config_path = Path(env["DOCKER_CONFIG"]) / "config.json"
    before = config_path.read_bytes()
    store(env, "registry.example:5000", "alice", "alice-s3cret")

    status, rows = verify_json(env)

    assert status == 0
    assert summary(rows) == [
        ("config", str(config_path), "ok"),
        ("helper", "docker-credential-pass", "ok"),
        ("store", "pass", "ok"),
        ("pass key", gpg_id(env), "ok"),
        ("list", "docker-credential-pass", "ok"),
        ("round trip", "docker-credential-pass", "ok"),
        ("registry", "registry.example:5000", "ok"),
        ("credentials", "registry.example:5000", "ok"),
    ]
    assert row(rows, "pass key", gpg_id(env))["detail"] == "no passphrase: needs no unlocking"
    helper_row = row(rows, "helper", "docker-credential-pass")
    assert helper_row["detail"].startswith(f"Docker runs {world.ours()} (credctl's; docker-credential-pass (credctl) ")
    assert (helper_row["runs"], helper_row["credctl"], helper_row["credctl_path"]) == (world.ours(), True, world.ours())
    if os.access(world.GO_PASS, os.X_OK):  # later on PATH: named as present but unused
        assert f"; also on PATH, not used: {world.GO_PASS}; used by credsStore" in helper_row["detail"]
    assert row(rows, "list", "docker-credential-pass")["detail"] == "answers list: 1 credential"
    assert "probe" in row(rows, "round trip", "docker-credential-pass")["detail"]
    assert row(rows, "registry", "registry.example:5000")["detail"] == "served by docker-credential-pass (credsStore)"
    assert "'alice'" in row(rows, "credentials", "registry.example:5000")["detail"]
    # The probe is gone, the config untouched, and no secret was printed.
    assert listing(env) == {"registry.example:5000": "alice"}
    assert config_path.read_bytes() == before
    assert "alice-s3cret" not in json.dumps(rows)


def test_table_for_people(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    result = credctl(env, "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b[" not in result.stdout  # NO_COLOR and no terminal: plain text
    lines = result.stdout.splitlines()
    assert any("round trip" in line and "docker-credential-pass" in line and " ok " in line for line in lines)
    assert lines[-1] == "6 ok, 0 warnings, 0 failed"


def test_malformed_config_is_reported_and_left_alone(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, '{"credsStore": "pass",\n  "auths": {oops}\n')
    config_path = Path(env["DOCKER_CONFIG"]) / "config.json"
    before = config_path.read_bytes()

    status, rows = verify_json(env)

    assert status == 1
    assert summary(rows) == [("config", str(config_path), "failed")]
    assert "is not valid JSON" in rows[0]["detail"]
    assert config_path.read_bytes() == before
    result = credctl(env, "verify")
    assert result.returncode == 1
    assert "1 check failed" in result.stderr


# -- which program Docker runs (credctl.programs.find_helper) -----------------------------------

ON_PATH = "on PATH (this process's PATH, which a Docker started from here inherits)"


def shadowed(runs: str, ours: str) -> str:
    return (
        f"another helper is first {ON_PATH}: {runs} (not credctl's); credctl's is {ours}: "
        f"put {os.path.dirname(ours)} before {os.path.dirname(runs)} in PATH"
    )


def ours_missing(program: str, directory: object) -> str:
    return f"credctl's {program} is not {ON_PATH}: add {directory} to PATH (install.sh --help says how)"


def facts(found: dict) -> tuple:
    return found["status"], found["runs"], found["credctl"], found["credctl_path"]


def go_version() -> str:
    return world.run_helper(world.GO_PASS, "version").stdout.decode().strip().splitlines()[0]


def test_missing_helper_fails(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass", "credHelpers": {"ghcr.io": "nosuchhelper"}})

    status, rows = verify_json(env)

    assert status == 1
    missing = row(rows, "helper", "docker-credential-nosuchhelper")
    assert facts(missing) == ("failed", None, False, None)
    assert missing["detail"] == (
        f"docker-credential-nosuchhelper is not {ON_PATH}: install it, or change the config to a helper you have; "
        "used by credHelpers[ghcr.io]"
    )
    assert row(rows, "registry", "ghcr.io")["status"] == "failed"
    # The store that is there is still checked.
    assert row(rows, "round trip", "docker-credential-pass")["status"] == "ok"


def test_a_helper_credctl_does_not_provide_is_judged_on_path_only(pass_env, tmp_path):
    """docker-credential-ecr-login (someone else's program): on PATH is all that is asked of it."""
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    ecr = other_dir / "docker-credential-ecr-login"
    ecr.write_text('#!/bin/sh\nif [ "$1" = version ]; then echo "ecr-login 0.9"; else echo "{}"; fi\n')
    ecr.chmod(0o755)
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass", "credHelpers": {"ecr.example": "ecr-login"}})
    env["PATH"] += f":{other_dir}"

    status, rows = verify_json(env, "ecr.example")

    found = row(rows, "helper", "docker-credential-ecr-login")
    assert facts(found) == ("ok", str(ecr), False, None)
    assert found["detail"] == f"Docker runs {ecr} (first on PATH; ecr-login 0.9); used by credHelpers[ecr.example]"
    assert status == 0, summary(rows)


def test_shadowing_helper_is_a_warning_naming_both(pass_env, tmp_path):
    """Another docker-credential-pass earlier on PATH (here a script that passes everything but
    `version` on to ours) is what docker runs: verify says so and names both files."""
    shadow_dir = tmp_path / "shadow"
    shadow_dir.mkdir()
    shadow = shadow_dir / "docker-credential-pass"
    shadow.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo "docker-credential-pass (someone else) v9.9"; exit 0; fi\n'
        f'exec {world.ours()} "$@"\n'
    )
    shadow.chmod(0o755)
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"}, first=[str(shadow_dir)])

    status, rows = verify_json(env)

    assert status == 0  # a warning, not a failure
    warning = row(rows, "helper", "docker-credential-pass")
    assert facts(warning) == ("warning", str(shadow), False, world.ours())
    assert warning["detail"] == (
        f"{shadowed(str(shadow), world.ours())}; {shadow} answers version: docker-credential-pass (someone else) v9.9; "
        "used by credsStore"
    )
    assert row(rows, "round trip", "docker-credential-pass")["status"] == "ok"


def test_go_helper_first_on_path_is_a_warning(pass_env, tmp_path, go_pass):
    """Debian's Go helper ahead of ours: docker runs it, on the same store (so the round trip works)."""
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"}, first=[os.path.dirname(go_pass)])

    status, rows = verify_json(env)

    assert status == 0
    warning = row(rows, "helper", "docker-credential-pass")
    assert facts(warning) == ("warning", go_pass, False, world.ours())
    assert warning["detail"] == (
        f"{shadowed(go_pass, world.ours())}; {go_pass} answers version: {go_version()}; used by credsStore"
    )
    assert row(rows, "round trip", "docker-credential-pass")["status"] == "ok"
    table = credctl(env, "verify")
    assert table.returncode == 0
    assert table.stdout.splitlines()[-1] == "5 ok, 1 warning, 0 failed"
    assert "not credctl's" in table.stdout


def install_links(home: Path, *programs: str) -> Path:
    """What install.sh does for a user: ~/.local/bin/PROGRAM, a link into the venv's bin."""
    links = home / ".local" / "bin"
    links.mkdir(parents=True, exist_ok=True)
    for program in programs:
        (links / program).symlink_to(world.ours(program))
    return links


def test_a_link_into_the_venv_is_credctls(pass_env, tmp_path):
    """~/.local/bin/docker-credential-pass → the venv's, first on PATH (the venv's bin is not on it)."""
    links = install_links(tmp_path / "home", "docker-credential-pass")
    link = str(links / "docker-credential-pass")
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"}, first=[str(links)], ours=False)

    status, rows = verify_json(env)

    assert status == 0, summary(rows)
    found = row(rows, "helper", "docker-credential-pass")
    assert facts(found) == ("ok", link, True, link)
    assert found["detail"].startswith(f"Docker runs {link} (credctl's; docker-credential-pass (credctl) ")
    assert row(rows, "round trip", "docker-credential-pass")["status"] == "ok"


def test_go_helper_before_the_link_names_the_links_folder(pass_env, tmp_path, go_pass):
    links = install_links(tmp_path / "home", "docker-credential-pass")
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"}, ours=False)
    env["PATH"] += f":{links}"

    status, rows = verify_json(env)

    assert status == 0
    warning = row(rows, "helper", "docker-credential-pass")
    link = str(links / "docker-credential-pass")
    assert facts(warning) == ("warning", go_pass, False, link)
    assert warning["detail"].startswith(f"{shadowed(go_pass, link)}; ")
    assert f"put {links} before /usr/bin in PATH" in warning["detail"]


@pytest.mark.parametrize("linked", [False, True], ids=["venv-only", "link-not-on-path"])
def test_credctls_helper_not_on_path_fails_naming_the_folder(tmp_path, linked):
    """docker-credential-keyring exists only as credctl's: off PATH, Docker finds nothing. The
    folder to add is the installer's link folder when there is one, else the venv's bin."""
    home = tmp_path / "home"
    folder = install_links(home, "docker-credential-keyring") if linked else world.BIN
    env = docker_env(dict(os.environ), tmp_path, {"credsStore": "keyring"}, ours=False)

    status, rows = verify_json(env)

    assert status == 1
    missing = row(rows, "helper", "docker-credential-keyring")
    expected_path = str(folder / "docker-credential-keyring")
    assert facts(missing) == ("failed", None, False, expected_path)
    assert missing["detail"] == f"{ours_missing('docker-credential-keyring', folder)}; used by credsStore"
    assert summary(rows) == [
        ("config", str(Path(env["DOCKER_CONFIG"]) / "config.json"), "ok"),
        ("helper", "docker-credential-keyring", "failed"),
    ]

    mapped = credctl(env, "map", "registry.example", "keyring")
    assert mapped.returncode == 0, mapped.stderr
    assert mapped.stderr == f"warning: {ours_missing('docker-credential-keyring', folder)}\n"


def test_map_warns_when_another_helper_is_first(tmp_path, go_pass):
    env = docker_env(dict(os.environ), tmp_path, None, first=[os.path.dirname(go_pass)])
    mapped = credctl(env, "map", "registry.example", "pass")
    assert mapped.returncode == 0, mapped.stderr
    assert mapped.stderr == f"warning: {shadowed(go_pass, world.ours())}\n"
    quiet = credctl(docker_env(dict(os.environ), tmp_path, None), "map", "other.example", "pass")
    assert (quiet.returncode, quiet.stderr) == (0, "")


def acr_profile(tmp_path: Path, env: dict[str, str], bin_dir: Path) -> Path:
    """`credctl acr add-profile team1` (no registries, so no API call): the wrapper it wrote."""
    credentials = tmp_path / "team1.ini"
    credentials.touch(mode=0o600)
    credentials.write_text("[default]\ntype = access_key\naccess_key_id = LTAIx\naccess_key_secret = x\n")
    args = ["acr", "add-profile", "team1", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)]
    result = credctl(env, *args)
    assert result.returncode == 0, result.stderr
    return bin_dir / "docker-credential-acr-helper-team1"


def test_acr_profile_wrapper_is_credctls(tmp_path):
    bin_dir = tmp_path / "profiles"
    env = docker_env(dict(os.environ), tmp_path, {"credHelpers": {"team1.example": "acr-helper-team1"}})
    env["CREDCTL_ACR_ENDPOINT"] = "http://127.0.0.1:9"  # never a real cloud endpoint
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

    wrapper = acr_profile(tmp_path, env, bin_dir)
    _status, rows = verify_json(env, "other.example")
    missing = row(rows, "helper", "docker-credential-acr-helper-team1")
    assert facts(missing) == ("failed", None, False, str(wrapper))
    assert missing["detail"] == (
        f"{ours_missing('docker-credential-acr-helper-team1', bin_dir)}; used by credHelpers[team1.example]"
    )

    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    _status, rows = verify_json(env, "other.example")
    found = row(rows, "helper", "docker-credential-acr-helper-team1")
    assert facts(found) == ("ok", str(wrapper), True, str(wrapper))
    assert found["detail"].startswith(f"Docker runs {wrapper} (credctl's; docker-credential-acr-helper (credctl) ")


def test_add_profile_warns_when_its_folder_is_not_on_path(tmp_path):
    bin_dir = tmp_path / "profiles"
    env = docker_env(dict(os.environ), tmp_path, None)
    credentials = tmp_path / "team1.ini"
    credentials.touch(mode=0o600)
    args = ["acr", "add-profile", "team1", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)]
    result = credctl(env, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"warning: {ours_missing('docker-credential-acr-helper-team1', bin_dir)}\n"


def test_uninitialised_pass_store_fails_health(gnupg_home, tmp_path):
    need("pass")
    home, _fpr = gnupg_home
    empty = tmp_path / "no-store"
    env = docker_env(world.helper_env(home, empty), tmp_path, {"credsStore": "pass"})

    status, rows = verify_json(env)

    assert status == 1
    health = row(rows, "store", "pass")
    assert health["status"] == "failed"
    assert "not initialised" in health["detail"]
    assert "credctl pass init" in health["detail"]
    assert not [r for r in rows if r["check"] == "round trip"]  # no probe into a broken store
    assert not empty.exists()


def test_registry_arguments_restrict_and_normalise(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass", "credHelpers": {"other.example": "pass"}})
    store(env, "one.example", "u1", "p1")
    store(env, "two.example", "u2", "p2")

    status, rows = verify_json(env, "https://one.example/v2/", "docker.io", "three.example")

    assert status == 0
    per_registry = [r for r in summary(rows) if r[0] in ("registry", "credentials", "login")]
    assert per_registry == [
        ("registry", "one.example", "ok"),
        ("credentials", "one.example", "ok"),
        ("registry", DOCKER_HUB, "ok"),
        ("credentials", DOCKER_HUB, "warning"),
        ("registry", "three.example", "ok"),
        ("credentials", "three.example", "warning"),
    ]
    assert row(rows, "credentials", DOCKER_HUB)["detail"] == "no credentials stored"


def test_plaintext_and_unconfigured(tmp_path):
    """No helper at all: the plaintext login is a warning, and nothing fails."""
    auth = base64.b64encode(b"bob:bob-secret").decode()
    env = docker_env(dict(os.environ), tmp_path, {"auths": {"plain.example": {"auth": auth}}})

    status, rows = verify_json(env)

    assert status == 0
    assert summary(rows) == [
        ("config", str(Path(env["DOCKER_CONFIG"]) / "config.json"), "warning"),
        ("registry", "plain.example", "warning"),
        ("credentials", "plain.example", "ok"),
    ]
    assert "credctl migrate" in row(rows, "registry", "plain.example")["detail"]
    assert "bob-secret" not in json.dumps(rows)


def test_podman_credsstore_is_a_warning(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    auth_json = Path(env["XDG_CONFIG_HOME"]) / "containers" / "auth.json"
    auth_json.parent.mkdir(parents=True)
    auth_json.write_text(json.dumps({"credsStore": "pass", "credHelpers": {"quay.io": "nosuch-podman"}}))

    status, rows = verify_json(env)

    assert status == 1
    assert row(rows, "podman config", str(auth_json))["status"] == "warning"
    missing = row(rows, "helper", "docker-credential-nosuch-podman")
    assert missing["status"] == "failed"
    assert "Podman credHelpers[quay.io]" in missing["detail"]


# -- --online against a real registry (htpasswd) ------------------------------------------------


def test_online_login_ok(pass_env, tmp_path, registry):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, registry.user, registry.password)

    status, rows = verify_json(env, "--online")

    assert status == 0, summary(rows)
    login = row(rows, "login", registry.address)
    assert login["status"] == "ok"
    assert login["detail"] == f"logged in to {registry.url}/v2/ as {registry.user!r} with Basic auth"
    assert registry.password not in json.dumps(rows)


def test_online_wrong_password_is_unauthorized(pass_env, tmp_path, registry):
    wrong = "wrong-" + secrets.token_hex(8)
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, registry.user, wrong)

    status, rows = verify_json(env, "--online", registry.address)
    table = credctl(env, "verify", "--online", registry.address)

    assert status == 1
    login = row(rows, "login", registry.address)
    assert login["status"] == "failed"
    assert login["detail"].startswith("unauthorized")
    for text in (json.dumps(rows), table.stdout, table.stderr):
        assert wrong not in text
    assert table.returncode == 1
    assert "unauthorized" in table.stdout


def test_online_identity_token_cannot_use_basic(pass_env, tmp_path, registry):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, "<token>", "an-identity-token")

    status, rows = verify_json(env, "--online", registry.address)

    assert status == 1
    login = row(rows, "login", registry.address)
    assert login["status"] == "failed"
    assert "identity token" in login["detail"]


def test_online_without_credentials(pass_env, tmp_path, registry):
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})

    status, rows = verify_json(env, "--online", registry.address)

    assert status == 0
    assert row(rows, "credentials", registry.address)["status"] == "warning"
    assert row(rows, "login", registry.address) == {
        "check": "login",
        "target": registry.address,
        "status": "warning",
        "detail": "not checked: no credentials stored",
    }


def test_online_nothing_listening(pass_env, tmp_path):
    address = f"127.0.0.1:{world.free_port()}"
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, address, "alice", "alice-pw")

    status, rows = verify_json(env, "--online")

    assert status == 1
    login = row(rows, "login", address)
    assert login["status"] == "failed"
    assert "cannot reach" in login["detail"]
    assert f"http://{address}/v2/" in login["detail"]


# -- --online with token auth: real docker-registry, token server written here -------------------

SERVICE = "credctl-test-registry"
ISSUER = "credctl-test-token-issuer"


class TokenServer:
    """The only fake here: a Docker token server (distribution's token auth spec) on 127.0.0.1.

    The registry in front of it is the real docker-registry, which checks every token's ES256
    signature against this server's certificate. GET /token with Basic auth issues tokens to
    users; POST /token does the OAuth2 refresh-token grant. The user "mallory" gets a token
    signed by a key the registry does not trust. requests records what arrived (no secrets).
    """

    def __init__(self, base: Path, users: dict[str, str], refresh_tokens: dict[str, str]) -> None:
        self.users, self.refresh_tokens = users, refresh_tokens
        self.key, self.cert = self._key_and_cert("credctl test token signer")
        self.rogue_key, self.rogue_cert = self._key_and_cert("someone else")
        self.ca_bundle = base / "token-ca.pem"
        from cryptography.hazmat.primitives.serialization import Encoding

        self.ca_bundle.write_bytes(self.cert.public_bytes(Encoding.PEM))
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                user, password = _basic_credentials(self.headers.get("Authorization", ""))
                server.requests.append({"method": "GET", "query": query, "user": user})
                if url.path != "/token" or query.get("service") != SERVICE:
                    return self._reply(400, {"error": "bad request"})
                if user is None or server.users.get(user) != password:
                    return self._reply(401, {"error": "unauthorized"})
                self._reply(200, {"token": server.token(user, rogue=user == "mallory"), "expires_in": 300})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                refresh = form.pop("refresh_token", None)
                server.requests.append({"method": "POST", "form": form, "has_refresh_token": bool(refresh)})
                if form.get("grant_type") != "refresh_token" or form.get("service") != SERVICE:
                    return self._reply(400, {"error": "unsupported_grant_type"})
                user = server.refresh_tokens.get(refresh or "")
                if user is None:
                    return self._reply(401, {"error": "invalid_grant"})
                self._reply(200, {"access_token": server.token(user), "expires_in": 300})

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def _key_and_cert(name: str):
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    def token(self, user: str, rogue: bool = False) -> str:
        """A JWT as distribution's token auth wants it: ES256, the signing cert in x5c."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        from cryptography.hazmat.primitives.serialization import Encoding

        key, cert = (self.rogue_key, self.rogue_cert) if rogue else (self.key, self.cert)
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 60,
            "iat": now - 60,
            "jti": secrets.token_hex(8),
            "access": [],
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


TOKEN_USERS = {"tina": "tina-password", "mallory": "mallory-password"}
REFRESH_TOKENS = {"refresh-" + secrets.token_hex(8): "tina"}


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory):
    """(registry, token server): docker-registry with `auth: token` trusting TokenServer's certificate."""
    need("docker-registry")
    base = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(base, TOKEN_USERS, REFRESH_TOKENS)
    try:
        registry = world.Registry(
            base / "registry",
            token={
                "realm": tokens.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(tokens.ca_bundle),
            },
        )
    except BaseException:
        tokens.stop()
        raise
    yield registry, tokens
    registry.stop()
    tokens.stop()


def test_online_bearer_with_password(pass_env, tmp_path, token_registry):
    registry, tokens = token_registry
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, "tina", TOKEN_USERS["tina"])
    tokens.requests.clear()

    status, rows = verify_json(env, "--online", registry.address)

    assert status == 0, summary(rows)
    login = row(rows, "login", registry.address)
    assert login["status"] == "ok"
    assert login["detail"] == f"logged in to {registry.url}/v2/ as 'tina' with a token from {tokens.realm}"
    assert tokens.requests == [{"method": "GET", "query": {"service": SERVICE}, "user": "tina"}]


def test_online_bearer_with_identity_token(pass_env, tmp_path, token_registry):
    registry, tokens = token_registry
    refresh_token = next(iter(REFRESH_TOKENS))
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, "<token>", refresh_token)
    tokens.requests.clear()

    status, rows = verify_json(env, "--online", registry.address)

    assert status == 0, summary(rows)
    assert row(rows, "login", registry.address)["status"] == "ok"
    assert tokens.requests == [
        {
            "method": "POST",
            "form": {"grant_type": "refresh_token", "service": SERVICE, "client_id": "credctl"},
            "has_refresh_token": True,
        }
    ]
    assert refresh_token not in json.dumps(rows)


@pytest.mark.parametrize(
    ("username", "secret", "rejected_by"),
    [
        ("tina", "not-tinas-password", "token server"),
        ("<token>", "refresh-unknown", "token server"),
        ("mallory", TOKEN_USERS["mallory"], "registry"),  # a token the registry does not trust
    ],
)
def test_online_bearer_unauthorized(pass_env, tmp_path, token_registry, username, secret, rejected_by):
    registry, _tokens = token_registry
    env = docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, username, secret)

    status, rows = verify_json(env, "--online", registry.address)

    assert status == 1
    login = row(rows, "login", registry.address)
    assert login["status"] == "failed"
    assert login["detail"].startswith("unauthorized")
    assert (f"{registry.url}/v2/ rejected" in login["detail"]) == (rejected_by == "registry")
    assert secret not in json.dumps(rows)


def test_undecodable_auth_fails_the_config(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, {"auths": {"bad.example": {"auth": "not base64!"}}, "credsStore": "pass"})

    status, rows = verify_json(env)

    assert status == 1
    config = rows[0]
    assert (config["check"], config["status"]) == ("config", "failed")
    assert "auths[bad.example]" in config["detail"]


def test_config_option_wins_over_docker_config(pass_env, tmp_path):
    env = docker_env(pass_env, tmp_path, "{broken")  # $DOCKER_CONFIG holds a broken file
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"credsStore": "pass"}))

    result = credctl(env, "--config", str(other), "verify", "--json")

    rows = json.loads(result.stdout)
    assert rows[0]["target"] == str(other / "config.json")
    # Podman still reads $DOCKER_CONFIG/config.json (its primary file there): that alone fails.
    broken = str(tmp_path / "docker" / "config.json")
    assert [(row["check"], row["target"]) for row in rows if row["status"] == "failed"] == [("podman config", broken)]
    assert result.returncode == 1


# -- credctl.registry in-process: credentials never follow a redirect to another host ----------


class _Recorder(BaseHTTPRequestHandler):
    """A loopback HTTP endpoint scripted by the test (a test instrument, not a registry)."""

    routes: ClassVar[dict] = {}
    seen: ClassVar[list] = []

    def do_GET(self) -> None:
        self.seen.append((self.server.server_address[1], self.path, self.headers.get("Authorization")))
        status, headers = self.routes[(self.server.server_address[1], self.path, "Authorization" in self.headers)]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_authorization_is_dropped_on_redirect_to_another_host():
    from credctl.registry import check_login

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Recorder) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    a, b = (server.server_address[1] for server in servers)
    _Recorder.seen = []
    _Recorder.routes = {
        (a, "/v2/", False): (401, {"WWW-Authenticate": 'Basic realm="test"'}),
        (a, "/v2/", True): (307, {"Location": "/v2/moved"}),  # same host: credentials go along
        (a, "/v2/moved", True): (307, {"Location": f"http://127.0.0.1:{b}/v2/"}),  # another host: they do not
        (b, "/v2/", False): (401, {"WWW-Authenticate": 'Basic realm="elsewhere"'}),
    }
    try:
        result = check_login(f"127.0.0.1:{a}", "alice", "alice-secret", timeout=5)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()

    assert result.status == "failed"
    assert result.detail.startswith("unauthorized")
    assert [(port, path, auth is not None) for port, path, auth in _Recorder.seen] == [
        (a, "/v2/", False),
        (a, "/v2/", True),
        (a, "/v2/moved", True),
        (b, "/v2/", False),
    ]


def test_no_config_file_means_docker_picks_pass(pass_env, tmp_path):
    """No auth settings at all: docker chooses credsStore "pass" by itself (pass and its helper are
    on PATH); verify says so and checks that store as docker will use it."""
    env = docker_env(pass_env, tmp_path, None)

    status, rows = verify_json(env)

    assert status == 0
    config = row(rows, "config", str(Path(env["DOCKER_CONFIG"]) / "config.json"))
    assert config["status"] == "warning"
    assert "does not exist yet" in config["detail"]
    assert "picks credsStore 'pass' by itself" in config["detail"]
    assert "credsStore (docker's automatic choice)" in row(rows, "helper", "docker-credential-pass")["detail"]
    assert row(rows, "round trip", "docker-credential-pass")["status"] == "ok"
    assert not (Path(env["DOCKER_CONFIG"]) / "config.json").exists()


def test_setup_warns_when_another_helper_is_first(pass_env, tmp_path, go_pass):
    """setup's warning is verify's finding (warn_if_missing asks credctl.programs too)."""
    env = docker_env(pass_env, tmp_path, None, first=[os.path.dirname(go_pass)])
    result = credctl(env, "setup", "--store", "pass", "--no-podman", "--yes")
    assert result.returncode == 0, result.stderr
    assert f"warning: {shadowed(go_pass, world.ours())}" in result.stderr.splitlines()
    assert json.loads((Path(env["DOCKER_CONFIG"]) / "config.json").read_text())["credsStore"] == "pass"


def test_the_router_its_routes_helpers_and_each_registrys_route(pass_env, tmp_path):
    """credsStore credctl: the router is checked as a store (a round trip through its default
    route), every helper a route names is checked on PATH, and each registry gets a route row."""
    env = docker_env(pass_env, tmp_path, {"credsStore": "credctl"})
    settings = Path(env["HOME"]) / ".config" / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    world.write(settings, json.dumps({"route_default": "pass", "routes": {"*.corp.example": "nosuch"}}).encode())
    store(env, "registry.example:5000", "alice", "alice-s3cret")

    status, rows = verify_json(env)

    assert status == 1  # docker-credential-nosuch is not on PATH
    assert summary(rows) == [
        ("config", str(Path(env["DOCKER_CONFIG"]) / "config.json"), "ok"),
        ("helper", "docker-credential-credctl", "ok"),
        ("helper", "docker-credential-nosuch", "failed"),
        ("helper", "docker-credential-pass", "ok"),
        ("store", "credctl", "ok"),
        ("list", "docker-credential-credctl", "ok"),
        ("round trip", "docker-credential-credctl", "ok"),
        ("store", "pass", "ok"),
        ("pass key", gpg_id(env), "ok"),
        ("list", "docker-credential-pass", "ok"),
        ("round trip", "docker-credential-pass", "ok"),
        ("registry", "registry.example:5000", "ok"),
        ("credentials", "registry.example:5000", "ok"),
        ("route", "registry.example:5000", "ok"),
    ]
    assert row(rows, "helper", "docker-credential-nosuch")["detail"].endswith("; used by route *.corp.example")
    assert row(rows, "helper", "docker-credential-pass")["detail"].endswith("; used by route *")
    assert row(rows, "store", "credctl")["detail"] == "1 route(s), default pass"
    assert row(rows, "route", "registry.example:5000")["detail"] == (
        "docker-credential-pass: the default route: no rule matches"
    )
    assert row(rows, "credentials", "registry.example:5000")["detail"] == "user 'alice' in docker-credential-credctl"
    assert listing(env) == {"registry.example:5000": "alice"}  # the probe went through the router and is gone
    assert "alice-s3cret" not in json.dumps(rows)
