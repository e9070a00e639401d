"""docker-credential-credctl (credsStore `credctl`) routing registries to ACR, for real.

The installed router runs as Docker runs it, with credctl's settings holding the routes; the
Alibaba Cloud API is the signature-checking loopback fake (tests/fake_aliyun.py) holding several
Enterprise instances; the login store is a real pass store with a real gpg key; `docker login`
and `docker logout` are the real docker CLIs (client side) against a real docker-registry on
127.0.0.1 that credctl's settings record as a custom ACR domain (as tests/test_acr_docker_login.py
does). The rules under test: credctl.routes (which route serves a host: a glob, an ACR profile,
the built-in ACR rule, a rule overriding it) and credctl.stores.fallback (a token route keeps
`docker login`'s login in the default route's login store and serves it when no token comes).
"""

import json
import subprocess
from pathlib import Path

import pytest
import world
from world import (
    ALIYUN_INSTANCE,
    ALIYUN_KEY_ID,
    CRPI_HOSTS,
    EE,
    KEY2_ID,
    KEY2_SECRET,
    NOT_FOUND,
    acr_env,
    answer,
    cache_files,
    outcome,
    with_key,
    write_credentials,
)

from credctl.protocol import encode_credentials, encode_listing
from credctl.stores.passstore import FOLDER, folder_name

ROUTER = world.ours("docker-credential-credctl")
HELPER = world.ours("docker-credential-acr-helper")
PASS = world.ours("docker-credential-pass")
TIMEOUT = 120
INSTANCE_ID, _, REGION = ALIYUN_INSTANCE
# Enterprise instances the fake holds besides the fixture's: (instance id, name, region). No name
# is part of another (the fake's ListInstance matches InstanceName as a substring, as the API does).
INSTANCES = [
    ("cri-alpha00000001", "alpha", "cn-hangzhou"),
    ("cri-bravo00000002", "bravo", "cn-shanghai"),
    ("cri-delta00000003", "delta", "ap-southeast-1"),
    ("cri-kilo000000004", "kilo", "cn-beijing"),
]
GLOB = "*-registry.*.cr.aliyuncs.com"  # every Enterprise instance's public domain → acr
BEIJING = "*-registry.cn-beijing.cr.aliyuncs.com"  # more literal characters: wins over GLOB
PROFILE = "team2"  # an ACR profile with the second access key, for BEIJING's hosts
CRPI, CRPI_OTHER = CRPI_HOSTS[1][0], CRPI_HOSTS[2][0]
CRPI_USER, CRPI_PASSWORD = "dingtalk_user", "console-fixed-password-do-not-leak"
NO_CREDENTIALS = (  # the registry below is a custom domain of ALIYUN_INSTANCE: 127.0.0.1
    "no Alibaba Cloud credentials for 127.0.0.1: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, write "
    "~/.alibabacloud/credentials, or make a profile (`credctl acr add-profile`)"
)


def host_of(name: str, region: str) -> str:
    return f"{name}-registry.{region}.cr.aliyuncs.com"


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def settings_path(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"


def set_routes(env: dict[str, str], routes: dict[str, str], default: str | None = "pass") -> None:
    """The routes in credctl's settings.json (as `credctl route add` and `route default` keep them)."""
    path = settings_path(env)
    found = json.loads(path.read_text()) if path.exists() else {}
    found["routes"] = routes
    found.pop("route_default", None)
    if default is not None:
        found["route_default"] = default
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found))


@pytest.fixture
def user(pass_env, aliyun, tmp_path: Path) -> dict[str, str]:
    """A Docker user whose credsStore is the router (default route: pass, a real pass store),
    with Alibaba Cloud credentials (the fixture's first key) in the environment and the fake as
    the API; no route yet."""
    env = with_key(acr_env(tmp_path, aliyun, **{k: pass_env[k] for k in ("GNUPGHOME", "PASSWORD_STORE_DIR")}))
    world.write_docker_config(env, {"credsStore": "credctl"})
    set_routes(env, {})
    return env


def pass_entry(env: dict[str, str], server: str, username: str) -> Path:
    """Where pass keeps server's login (the Go helper's layout)."""
    return Path(env["PASSWORD_STORE_DIR"]) / FOLDER / folder_name(server) / f"{username}.gpg"


def decrypted(env: dict[str, str], entry: Path) -> bytes:
    return subprocess.run(
        ["gpg", "--batch", "--quiet", "--decrypt", str(entry)], env=env, capture_output=True, timeout=60, check=True
    ).stdout


def signed_token_calls(fake, instance_id: str) -> list:
    return [r for r in fake.calls("GetAuthorizationToken") if r.query.get("InstanceId") == instance_id]


# --- (a) a glob route to ACR, and one to an ACR profile, for several instances ----------------------


def test_glob_routes_serve_each_instances_token_and_the_second_get_from_cache(aliyun, user, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    for instance in INSTANCES:
        aliyun.add_instance(*instance)
    team2 = write_credentials(tmp_path / "accounts" / "team2.ini", KEY2_ID, KEY2_SECRET)
    added = world.credctl(
        user, "acr", "add-profile", PROFILE, "--credentials-file", str(team2), "--bin-dir", str(tmp_path / "bin")
    )
    assert added.returncode == 0, added.stderr  # its wrapper is not on PATH: the router serves it in-process
    set_routes(user, {GLOB: "acr", BEIJING: f"acr-helper-{PROFILE}"})
    # who should answer each host: (instance id, the access key its token is issued to)
    expected = {host_of(name, region): (iid, ALIYUN_KEY_ID) for iid, name, region in INSTANCES}
    expected[host_of("kilo", "cn-beijing")] = ("cri-kilo000000004", KEY2_ID)  # BEIJING → the profile

    answers = {}
    for host, (instance_id, key_id) in expected.items():
        got = outcome(ROUTER, "get", host, user)
        [issued] = [i for i in aliyun.issued if i.instance_id == instance_id]
        assert (issued.access_key_id, issued.edition) == (key_id, "enterprise")
        assert got == (0, answer(host, issued.token), b"")
        answers[host] = got
        [call] = signed_token_calls(aliyun, instance_id)
        assert (call.verified, call.access_key_id, call.status) == (True, key_id, 200)
    assert len(aliyun.issued) == len(expected)  # one token per instance, none for another
    assert all(r.verified for r in aliyun.requests), aliyun.requests

    before = aliyun.requests
    for host in expected:
        assert outcome(ROUTER, "get", host, user) == answers[host]  # warm: the cache's token
    assert aliyun.requests == before
    assert len(cache_files(tmp_path)) == len(expected)


def test_acr_domains_route_to_acr_with_no_rule_at_all(aliyun, user):
    """The built-in rule: an ACR domain no rule names goes to acr, not to the default route."""
    aliyun.add_instance(*INSTANCES[1])
    host = host_of("bravo", "cn-shanghai")
    got = outcome(ROUTER, "get", host, user)
    assert got == (0, answer(host, aliyun.issued[-1].token), b"")
    assert aliyun.issued[-1].instance_id == "cri-bravo00000002"
    assert outcome(PASS, "list", "", user) == (0, b"{}\n", b"")  # the default route (pass) was not asked


# --- (b) `docker login` on an ACR-routed host -------------------------------------------------------


@pytest.fixture(params=["built-in ACR rule", "host:port rule"])
def routed(request, registry, user) -> tuple[dict[str, str], str]:
    """(user, how the router names the route): the real registry recorded as a custom ACR domain
    of the fixture's instance, routed to ACR by the built-in rule or by a rule naming it."""
    path = settings_path(user)
    found = json.loads(path.read_text())
    found["acr_registries"] = {"127.0.0.1": {"region": REGION, "instance_id": INSTANCE_ID}}
    path.write_text(json.dumps(found))
    if request.param == "built-in ACR rule":
        return user, "ACR domains"
    set_routes(user, {registry.address: "acr"})
    return user, f"route {registry.address}"


def test_docker_login_keeps_the_login_in_the_default_routes_store_and_serves_it_when_refused(
    docker_cli, registry, aliyun, routed, tmp_path
):
    env, route = routed
    logged_in = run(
        [docker_cli, "login", "-u", registry.user, "--password-stdin", registry.address], env, registry.password
    )
    assert logged_in.returncode == 0, logged_in.stderr
    assert "Login Succeeded" in logged_in.stdout
    config = json.loads((Path(env["DOCKER_CONFIG"]) / "config.json").read_text())
    assert config["credsStore"] == "credctl"
    assert registry.password not in json.dumps(config)
    assert config.get("auths", {}).get(registry.address, {}) == {}  # docker's empty bookkeeping entry at most

    entry = pass_entry(env, registry.address, registry.user)
    assert sorted(entry.parent.iterdir()) == [entry]
    assert decrypted(env, entry) == registry.password.encode()
    stored = encode_credentials(registry.address, registry.user, registry.password)

    # a token the API issues comes first
    assert outcome(ROUTER, "get", registry.address, env) == (0, answer(registry.address, aliyun.issued[-1].token), b"")

    # the API refuses: the stored login, and why (credctl.stores.fallback's line)
    uncached = {**env, "CREDCTL_ACR_NO_CACHE": "1"}
    aliyun.fail_next(403, "NoPrivilege", "Access denied for this user.")
    refused = (
        "credctl: Alibaba Cloud refused a token for 127.0.0.1: NoPrivilege: Access denied for this user.; "
        f"using the login stored for {registry.address} in docker-credential-pass\n"
    )
    assert outcome(ROUTER, "get", registry.address, uncached) == (0, stored, refused.encode())

    # the Alibaba Cloud credentials withdrawn: the stored login, and why
    withdrawn = {k: v for k, v in env.items() if not k.startswith("ALIBABA_CLOUD_ACCESS_KEY_")}
    why = f"credctl: {NO_CREDENTIALS}; using the login stored for {registry.address} in docker-credential-pass\n"
    assert outcome(ROUTER, "get", registry.address, withdrawn) == (0, stored, why.encode())

    # docker logout erases both: the stored login and the cached token
    assert cache_files(tmp_path) != []
    logged_out = run([docker_cli, "logout", registry.address], env)
    assert logged_out.returncode == 0, logged_out.stderr
    assert not entry.parent.exists()
    assert cache_files(tmp_path) == []
    assert outcome(PASS, "get", registry.address, env) == (1, NOT_FOUND, b"")
    assert outcome(ROUTER, "list", "", env) == (0, b"{}\n", b"")
    failed = f"{route} → docker-credential-acr-helper: {NO_CREDENTIALS}\n"
    assert outcome(ROUTER, "get", registry.address, withdrawn) == (1, failed.encode(), b"")  # nothing to fall back on


# --- (c) a rule overriding an ACR domain --------------------------------------------------------------


def test_a_rule_sends_an_acr_domain_to_pass_instead(aliyun, user):
    set_routes(user, {EE: "pass"}, default=None)
    stored = encode_credentials(EE, "robot", "robot-password-do-not-leak")
    assert outcome(ROUTER, "store", stored, user) == (0, b"", b"")
    entry = pass_entry(user, EE, "robot")
    assert decrypted(user, entry) == b"robot-password-do-not-leak"
    assert outcome(ROUTER, "get", EE, user) == (0, stored, b"")
    assert outcome(ROUTER, "get", EE, user) == outcome(PASS, "get", EE, user)
    assert outcome(ROUTER, "list", "", user) == (0, encode_listing({EE: "robot"}), b"")
    assert outcome(ROUTER, "erase", EE, user) == (0, b"", b"")
    assert not entry.parent.exists()
    assert outcome(ROUTER, "get", EE, user) == (1, NOT_FOUND, b"")
    assert aliyun.requests == []  # ACR was never asked


# --- (d) the new Personal Edition through the router, as through the ACR helper -------------------------


def both(action: str, stdin: str, env: dict[str, str]) -> tuple:
    """The router's and the ACR helper's (status, stdout, stderr) for one request: equal, byte for byte."""
    through_router, through_helper = outcome(ROUTER, action, stdin, env), outcome(HELPER, action, stdin, env)
    assert through_router == through_helper
    return through_router


def test_a_crpi_host_through_the_router_is_as_through_the_acr_helper(aliyun, user):
    def no_tokens(host: str) -> bytes:
        return (
            f"credctl: {host} is an ACR Personal Edition instance (new, crpi-): Alibaba Cloud issues no temporary "
            f"tokens for it; log in once with `docker login {host}` and the fixed password set in the ACR console "
            "(Access Credential), which credctl keeps in your login store\n"
        ).encode()

    for host in (CRPI, CRPI_OTHER):
        assert both("get", host, user) == (1, NOT_FOUND, no_tokens(host))
    first, second = (encode_credentials(h, CRPI_USER, CRPI_PASSWORD) for h in (CRPI, CRPI_OTHER))
    assert outcome(ROUTER, "store", first, user) == outcome(HELPER, "store", second, user) == (0, b"", b"")
    for host in (CRPI, CRPI_OTHER):
        assert decrypted(user, pass_entry(user, host, CRPI_USER)) == CRPI_PASSWORD.encode()
    assert both("get", CRPI, user) == (0, first, b"")
    assert both("get", CRPI_OTHER, user) == (0, second, b"")
    assert both("list", "", user) == (0, encode_listing({CRPI: CRPI_USER, CRPI_OTHER: CRPI_USER}), b"")
    assert outcome(ROUTER, "erase", CRPI, user) == outcome(HELPER, "erase", CRPI_OTHER, user) == (0, b"", b"")
    for host in (CRPI, CRPI_OTHER):
        assert both("get", host, user) == (1, NOT_FOUND, no_tokens(host))
    assert both("list", "", user) == (0, b"{}\n", b"")
    assert aliyun.requests == []  # no API issues tokens for this edition: none is asked
