"""When a login expires, as a person learns it: `credctl list`, `show` and `verify
--expiring-within` (credctl.expiry).

The real world: a real registry whose htpasswd password is a JWT (as a registry's robot account
or an identity provider hands out), a real `docker login` through the real docker CLI into
credctl's pass helper (credsStore pass), and `credctl login --expires` for an opaque password.
Docker Hub is never contacted: its bookkeeping keys are stored straight through the helper.
"""

import base64
import json
import re
import time
from pathlib import Path

import pytest
import world

from credctl import expiry

DAY = 86400
HUB_ACCESS = world.HUB + "access-token"


def jwt(claims: dict, header: dict | None = None) -> str:
    """A JWT as an identity provider writes it (the signature is never checked by anyone here)."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header or {'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


EXP = int(time.time()) + 10 * DAY  # ten days from when the tests start
ROBOT_USER, ROBOT_TOKEN = "robot$ci", jwt({"sub": "robot$ci", "exp": EXP, "iss": "harbor"})


@pytest.fixture(scope="module")
def jwt_registry(tmp_path_factory):
    """A real registry whose one user's password is ROBOT_TOKEN."""
    world.need("docker-registry", "htpasswd")
    server = world.Registry(tmp_path_factory.mktemp("jwt-registry"), ROBOT_USER, ROBOT_TOKEN)
    yield server
    server.stop()


@pytest.fixture
def person(set_up_person):
    return set_up_person


def credctl_login(person, registry, *extra: str):
    """`credctl login REGISTRY -u USER --password-stdin EXTRA…`, the registry's password on stdin."""
    return person.run(
        "credctl",
        "login",
        registry.address,
        "-u",
        registry.user,
        "--password-stdin",
        *extra,
        stdin=registry.password + "\n",
    )


def docker_login(person, registry) -> None:
    docker = world.DOCKER_CLIS["docker-26.1"]
    done = person.run(
        docker, "login", "-u", registry.user, "--password-stdin", registry.address, stdin=registry.password
    )
    assert done.returncode == 0, done.stderr


def listed(person) -> list[dict]:
    result = person.run("credctl", "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def expiry_rows(result) -> list[dict]:
    return [row for row in json.loads(result.stdout) if row["check"] == "expiry"]


def test_a_jwt_password_stored_by_docker_login_says_its_exp(person, jwt_registry):
    docker_login(person, jwt_registry)
    (row,) = [row for row in listed(person) if row["registry"] == jwt_registry.address]
    assert (row["via"], row["helper"], row["username"]) == ("credsStore", "pass", ROBOT_USER)
    assert (row["expires"], row["expires_from"]) == (expiry.stamp(EXP), "jwt")
    assert re.fullmatch(rf"expires {expiry.stamp(EXP)} \(in (9|10) days; the JWT's exp\)", row["note"])

    shown = person.run("credctl", "show", jwt_registry.address)
    assert shown.returncode == 0, shown.stderr
    said = rf"user {re.escape(ROBOT_USER)} from docker-credential-pass, expires {expiry.stamp(EXP)} "
    said += r"\(in (9|10) days; the JWT's exp\)"
    address = re.escape(jwt_registry.address)
    assert re.fullmatch(
        rf"Docker: {address}: {said} \(credsStore in \S+/config.json\)\n"
        rf"Podman: {address}: {said} \(credential-helpers in \S+/90-credctl.conf\)\n",
        shown.stdout,
    ), shown.stdout
    as_json = json.loads(person.run("credctl", "show", jwt_registry.address, "--json").stdout)
    assert [(entry["expires"], entry["expires_from"]) for entry in as_json["logins"]] == [
        (expiry.stamp(EXP), "jwt")
    ] * 2
    for result in (shown,):
        assert ROBOT_TOKEN not in result.stdout + result.stderr


def test_verify_expiring_within_fails_one_row_for_it(person, jwt_registry):
    docker_login(person, jwt_registry)
    soon = person.run("credctl", "verify", jwt_registry.address, "--expiring-within", "30d", "--json")
    assert soon.returncode == 1, soon.stdout
    (row,) = expiry_rows(soon)
    assert (row["target"], row["status"]) == (jwt_registry.address, "failed")
    assert re.fullmatch(
        rf"expires {expiry.stamp(EXP)} \(in (9|10) days; the JWT's exp\), within 30 days: renew it", row["detail"]
    )
    assert [r["check"] for r in json.loads(soon.stdout) if r["status"] == "failed"] == ["expiry"]

    later = person.run("credctl", "verify", jwt_registry.address, "--expiring-within", "1d", "--json")
    assert later.returncode == 0, later.stdout
    assert [(r["status"], r["detail"].split(" (")[0]) for r in expiry_rows(later)] == [
        ("ok", f"expires {expiry.stamp(EXP)}")
    ]
    text = person.run("credctl", "verify", jwt_registry.address, "--expiring-within", "2w")
    assert text.returncode == 1
    assert text.stderr.strip().splitlines()[-1] == "error: 1 check failed: see the details above"
    assert ROBOT_TOKEN not in soon.stdout + later.stdout + text.stdout + text.stderr


def test_an_expired_jwt_fails_verify_without_asking(person, registry):
    token = jwt({"exp": int(time.time()) - 3600})
    stored = person.run(
        "docker-credential-pass",
        "store",
        stdin=json.dumps({"ServerURL": registry.address, "Username": "old", "Secret": token}),
    )
    assert stored.returncode == 0, stored.stdout
    result = person.run("credctl", "verify", registry.address, "--json")
    assert result.returncode == 1
    (row,) = expiry_rows(result)
    assert row["status"] == "failed"
    assert re.fullmatch(
        rf"expired \S+ \((59 min|1 h) ago; the JWT's exp\): "
        rf"log in again \(`credctl login {re.escape(registry.address)}`\)",
        row["detail"],
    ), row["detail"]


def test_login_expires_keeps_the_date_beside_the_store_and_logout_forgets_it(person, registry):
    login = credctl_login(person, registry, "--expires", "2099-01-31")
    assert login.returncode == 0, login.stdout + login.stderr
    until = expiry.stamp(expiry.parse_date("2099-01-31"))
    assert until == "2099-01-31T23:59:59Z"
    path = person.home / ".config" / "credctl" / "expiry.json"
    assert (
        path.read_bytes()
        == (
            f'{{\n  "{registry.address}": {{\n    "username": "{registry.user}",\n    "expires": "{until}"\n  }}\n}}\n'
        ).encode()
    )
    assert path.stat().st_mode & 0o777 == 0o600
    assert registry.password.encode() not in path.read_bytes()
    (row,) = [row for row in listed(person) if row["registry"] == registry.address]
    assert (row["expires"], row["expires_from"]) == (until, "given")
    assert row["note"].endswith("; date given at login)")

    soon = person.run("credctl", "verify", registry.address, "--expiring-within", "100000d", "--json")
    assert soon.returncode == 1
    assert [r["status"] for r in expiry_rows(soon)] == ["failed"]

    out = person.run("credctl", "logout", registry.address)
    assert out.returncode == 0, out.stderr
    assert json.loads(path.read_text()) == {}


def test_a_new_login_without_expires_drops_the_old_date(person, registry):
    def login(*extra: str):
        done = credctl_login(person, registry, *extra)
        assert done.returncode == 0, done.stdout + done.stderr

    login("--expires", "90d")
    (row,) = [row for row in listed(person) if row["registry"] == registry.address]
    assert row["expires_from"] == "given"
    login()
    (row,) = [row for row in listed(person) if row["registry"] == registry.address]
    assert "expires" not in row and "expires_from" not in row


def test_a_date_given_for_another_user_does_not_apply(person, registry):
    path = person.home / ".config" / "credctl" / "expiry.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    world.write(path, json.dumps({registry.address: {"username": "someone-else", "expires": "2030-01-01"}}).encode())
    done = credctl_login(person, registry)
    assert done.returncode == 0
    # the login replaced it: its own entry is gone, and nothing is said about an expiry
    (row,) = [row for row in listed(person) if row["registry"] == registry.address]
    assert "expires" not in row
    world.write(path, json.dumps({registry.address: {"username": "someone-else", "expires": "2030-01-01"}}).encode())
    (row,) = [row for row in listed(person) if row["registry"] == registry.address]
    assert "expires" not in row


def test_docker_hubs_bookkeeping_keys_are_not_counted(person):
    access = jwt({"exp": int(time.time()) + 600})  # docker refreshes it itself
    stored = person.run(
        "docker-credential-pass",
        "store",
        stdin=json.dumps({"ServerURL": HUB_ACCESS, "Username": "hubuser", "Secret": access}),
    )
    assert stored.returncode == 0, stored.stdout
    (row,) = [row for row in listed(person) if row["registry"] == HUB_ACCESS]
    assert "expires" not in row and row["note"].startswith("Docker Hub bookkeeping")
    result = person.run("credctl", "verify", "--expiring-within", "1d", "--json")
    assert expiry_rows(result) == []
    assert HUB_ACCESS not in [row["target"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("option", ["7x", "", "d7", "1.5h", "-1d"])
def test_a_duration_that_is_none_is_a_usage_error(person, option):
    result = person.run("credctl", "verify", "--expiring-within", option)
    assert result.returncode == 2
    assert world.usage_error(result, "verify") == (
        f"{option!r} is not a duration: write it as 30s, 15m, 12h, 7d, 2w or 1h30m"
    )


def test_a_date_that_is_none_refuses_the_login_before_anything_is_stored(person, registry):
    result = credctl_login(person, registry, "--expires", "next tuesday")
    assert result.returncode == 2
    assert world.usage_error(result, "login") == (
        "'next tuesday' is not a date: write it as 2027-01-31, 2027-01-31T12:00:00Z or a time from now such as 90d"
    )
    listed_now = person.run("docker-credential-pass", "list")
    assert json.loads(listed_now.stdout) == {}
    assert not (person.home / ".config" / "credctl" / "expiry.json").exists()


# --- the rules themselves (credctl.expiry), as data ---------------------------------------------

# RFC 7519 section 3.1's example JWT (its exp is 1300819380), and variants that are no JWT.
RFC7519_EXAMPLE = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)


@pytest.mark.parametrize(
    ("secret", "exp"),
    [
        (RFC7519_EXAMPLE, 1300819380),
        (jwt({"exp": 2000000000}), 2000000000),
        (jwt({"exp": 2000000000.9}), 2000000000),
        (jwt({"sub": "no exp"}), None),
        (jwt({"exp": "2000000000"}), None),
        (jwt({"exp": True}), None),
        (jwt({"exp": 2000000000}, header={"typ": "JWT"}), None),  # no alg: not a JWS header
        ("dckr_pat_2b3e36beeb386dfdaacb9b46004ccb7c", None),  # a Docker Hub PAT carries no expiry
        ("a.b.c", None),
        ("password.with.dots", None),
        ("", None),
    ],
)
def test_of_secret(secret, exp):
    assert expiry.of_secret(secret) == exp


@pytest.mark.parametrize(
    ("text", "unix"),
    [
        ("2027-01-31", 1801439999),
        ("2027-01-31T12:00:00Z", 1801396800),
        ("2027-01-31T12:00:00+02:00", 1801389600),
        ("2027-01-31T12:00:00-0130", 1801402200),
        ("2027-01-31T12:00", 1801396800),
        ("2027-01-31 12:00:00Z", 1801396800),
    ],
)
def test_parse_date(text, unix):
    assert expiry.parse_date(text) == unix


@pytest.mark.parametrize("text", ["2027-02-30", "2027-13-01", "2027-01-31T24:00:00Z", "31/01/2027", "tomorrow"])
def test_parse_date_refuses(text):
    with pytest.raises(expiry.UsageError):
        expiry.parse_date(text)


def test_parse_date_from_now():
    assert expiry.parse_date("90d", now=1000) == 1000 + 90 * DAY


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("30s", 30),
        ("15m", 900),
        ("12h", 43200),
        ("7d", 604800),
        ("2w", 1209600),
        ("1h30m", 5400),
        ("1D", 86400),
    ],
)
def test_parse_duration(text, seconds):
    assert expiry.parse_duration(text) == seconds


def test_span_reads_for_people():
    assert [expiry.span(s) for s in (5, 59 * 60, 3600, 86400, 2 * 86400 + 5, -120)] == [
        "in 5 s",
        "in 59 min",
        "in 1 h",
        "in 24 h",
        "in 2 days",
        "2 min ago",
    ]


def test_expiry_json_is_read_by_registry_name_whatever_the_spelling(tmp_path: Path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c")}
    expiry.record("https://Registry.Example:5000/v2/", "me", 2000000000, env)
    assert expiry.given("registry.example:5000", "me", env) == 2000000000
    assert expiry.given("registry.example:5000", "you", env) is None
    expiry.record("https://index.docker.io/v1/", "me", 2000000000, env)
    assert expiry.given("docker.io", "me", env) == 2000000000
    expiry.forget("docker.io", env)
    assert expiry.given("https://index.docker.io/v1/", "me", env) is None


def test_an_acr_token_says_its_expiry_and_never_fails_verify(registry, aliyun, pass_env, tmp_path):
    """A registry mapped to acr-helper (a custom ACR domain of the fake's instance): once the helper
    has issued a token (a real `get`), list and verify give the cached token's expiry; credctl
    renews it itself, so --expiring-within never fails it."""
    config = {"credsStore": "pass", "credHelpers": {registry.address: "acr-helper"}}
    env = world.acr_registry_env(pass_env, tmp_path, aliyun, config)
    got = world.run([world.ours("docker-credential-acr-helper"), "get"], registry.address, env)
    assert got.returncode == 0, got.stderr
    issued = aliyun.issued[-1]
    until = expiry.stamp(issued.expire_ms // 1000)
    rows = json.loads(world.run([world.CREDCTL, "list", "--json"], b"", env).stdout)
    (row,) = [row for row in rows if row["registry"] == registry.address]
    assert (row["helper"], row["expires"], row["expires_from"]) == ("acr-helper", until, "token")
    checked = world.run([world.CREDCTL, "verify", registry.address, "--expiring-within", "30d", "--json"], b"", env)
    (row,) = expiry_rows(checked)
    assert row["status"] == "ok"
    assert row["detail"].startswith(f"expires {until} (in ")
    assert row["detail"].endswith("; an issued token): credctl issues a new one when it runs out")
    plain = world.run([world.CREDCTL, "verify", registry.address, "--json"], b"", env)
    assert expiry_rows(plain) == []  # without --expiring-within a token's expiry is no news
    for output in (checked.stdout, plain.stdout):
        assert issued.token.encode() not in output


def test_a_changed_login_is_read_again_and_the_cache_holds_no_secret(person, registry):
    """list remembers each login's exp by the pass entry's revision: a new login (a new JWT for the
    same user) is a new revision, read again; the cache holds usernames and dates, never a secret."""

    def store(token: str) -> None:
        login = json.dumps({"ServerURL": registry.address, "Username": "ci", "Secret": token})
        assert person.run("docker-credential-pass", "store", stdin=login).returncode == 0

    def listed_expiry() -> str | None:
        (row,) = [row for row in listed(person) if row["registry"] == registry.address]
        return row.get("expires")

    first, second = jwt({"exp": 2000000000}), jwt({"exp": 2100000000})
    store(first)
    assert listed_expiry() == listed_expiry() == expiry.stamp(2000000000)
    store(second)
    assert listed_expiry() == expiry.stamp(2100000000)
    store("an opaque password")
    assert listed_expiry() is None
    cache = person.home / ".cache" / "credctl" / "expiry-seen.json"
    assert cache.stat().st_mode & 0o777 == 0o600
    seen = json.loads(cache.read_text())
    assert list(seen) == [f"pass {registry.address}"]
    assert seen[f"pass {registry.address}"][0::2] == ["ci", ""]
    for secret in (first, second, "an opaque password"):
        assert secret not in cache.read_text()


def test_a_listing_reads_at_most_fifty_new_logins_and_the_next_reads_the_rest(person):
    """Each login list has not seen is a decryption (a gpg process): the first listing of a big
    store reads 50 of them, so it stays seconds long; the next listing reads the rest."""
    count = expiry._Seen.READS + 5
    for n in range(count):
        login = json.dumps({"ServerURL": f"r{n:02d}.example", "Username": "ci", "Secret": jwt({"exp": 2000000000})})
        assert person.run("docker-credential-pass", "store", stdin=login).returncode == 0

    def known() -> int:
        return sum(1 for row in listed(person) if row.get("expires") == expiry.stamp(2000000000))

    assert known() == expiry._Seen.READS
    assert known() == count
