"""`docker login` on a registry mapped to docker-credential-acr-helper, for real.

The real docker CLIs (client only: login and logout run the helper client-side), a real
docker-registry on 127.0.0.1 that credctl's settings record as a custom ACR domain (an
Enterprise instance of the fake Alibaba Cloud API, which issues its tokens), a real pass store
as the login store (Docker's credsStore), and the new Personal Edition's crpi- hosts, which
docker logs out of without reaching them and whose logins the helper keeps as docker stores them.
The rule under test is credctl.stores.fallback's: a fresh token first, else the stored login
(with one line on stderr naming why), else the edition's one line.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import world
from world import ALIYUN_INSTANCE, CRPI_HOSTS, NOT_FOUND, outcome, provide, request

from credctl.protocol import encode_credentials, encode_listing

TIMEOUT = 120
HELPER = world.ours("docker-credential-acr-helper")
PASS = world.ours("docker-credential-pass")
INSTANCE_ID, _, REGION = ALIYUN_INSTANCE
CRPI = CRPI_HOSTS[1][0]  # the -vpc form
CRPI_USER, CRPI_PASSWORD = "dingtalk_user", "console-fixed-password-do-not-leak"
NO_TOKENS = (
    f"credctl: {CRPI} is an ACR Personal Edition instance (new, crpi-): Alibaba Cloud issues no temporary tokens "
    f"for it; log in once with `docker login {CRPI}` and the fixed password set in the ACR console (Access "
    "Credential), which credctl keeps in your login store\n"
)
ISSUED_NOT_STORED = (
    "ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
    "Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)"
)


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)


@pytest.fixture
def user(pass_env, registry, aliyun, tmp_path: Path) -> dict[str, str]:
    """A Docker user whose credsStore is pass and who maps the registry and a crpi- host to
    acr-helper; the registry is a custom ACR domain of the fake's instance; Alibaba Cloud
    credentials in the environment."""
    config = {"credsStore": "pass", "credHelpers": {registry.address: "acr-helper", CRPI: "acr-helper"}}
    env = world.docker_env(pass_env, tmp_path, config)
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"acr_registries": {"127.0.0.1": {"region": REGION, "instance_id": INSTANCE_ID}}}))
    return world.with_key({**env, "CREDCTL_ACR_ENDPOINT": aliyun.url, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})


def login(docker_cli: str, registry, env: dict[str, str]) -> subprocess.CompletedProcess:
    argv = [docker_cli, "login", "-u", registry.user, "--password-stdin", registry.address]
    return run(argv, env, registry.password)


def tokens(env: dict[str, str]) -> list[Path]:
    """The ACR token cache's files ($XDG_CACHE_HOME/credctl: pass_env's throwaway cache)."""
    return sorted((Path(env["XDG_CACHE_HOME"]) / "credctl").rglob("*.token"))


def in_pass(server: str, env: dict[str, str]) -> tuple:
    return outcome(PASS, "get", server, env)


def test_docker_login_keeps_the_login_in_pass_and_get_prefers_a_token(docker_cli, registry, aliyun, user):
    logged_in = login(docker_cli, registry, user)
    assert logged_in.returncode == 0, logged_in.stderr
    assert "Login Succeeded" in logged_in.stdout
    assert "unencrypted" not in logged_in.stdout + logged_in.stderr  # docker's plaintext warning
    config = json.loads((Path(user["DOCKER_CONFIG"]) / "config.json").read_text())
    assert registry.password not in json.dumps(config)
    assert config.get("auths", {}).get(registry.address, {}) == {}  # docker's empty bookkeeping entry at most
    stored = encode_credentials(registry.address, registry.user, registry.password)
    assert in_pass(registry.address, user) == (0, stored, b"")

    # a token the API issues comes first
    got = outcome(HELPER, "get", registry.address, user)
    assert got == (0, world.answer(registry.address, aliyun.issued[-1].token), b"")
    # list: the fresh tokens (by domain, as the cache keeps them) and the stored ACR logins (by docker's key)
    listing = {"127.0.0.1": world.TEMP_USER, registry.address: registry.user}
    assert outcome(HELPER, "list", "", user) == (0, encode_listing(listing), b"")

    # the API refuses: the stored login, and why
    uncached = {**user, "CREDCTL_ACR_NO_CACHE": "1"}
    aliyun.fail_next(403, "NoPrivilege", "Access denied for this user.")
    refused = (
        "credctl: Alibaba Cloud refused a token for 127.0.0.1: NoPrivilege: Access denied for this user.; "
        f"using the login stored for {registry.address} in docker-credential-pass\n"
    )
    assert outcome(HELPER, "get", registry.address, uncached) == (0, stored, refused.encode())

    # the API cannot be reached (a closed port): the stored login, and why
    unreachable = {**uncached, "CREDCTL_ACR_ENDPOINT": "http://127.0.0.1:9"}
    why = (
        "credctl: cannot get a token for 127.0.0.1: cannot reach the Alibaba Cloud API: check the network, the proxy "
        f"settings or CREDCTL_ACR_ENDPOINT; using the login stored for {registry.address} in docker-credential-pass\n"
    )
    assert outcome(HELPER, "get", registry.address, unreachable) == (0, stored, why.encode())

    # docker logout erases both: the stored login and the cached token
    assert tokens(user) != []
    logged_out = run([docker_cli, "logout", registry.address], user)
    assert logged_out.returncode == 0, logged_out.stderr
    assert in_pass(registry.address, user) == (1, NOT_FOUND, b"")
    assert outcome(HELPER, "list", "", user) == (0, b"{}\n", b"")
    assert tokens(user) == []
    assert outcome(HELPER, "get", registry.address, unreachable)[0] == 1  # nothing left to fall back on


def test_a_crpi_host_gets_its_stored_login_and_docker_logout_erases_it(docker_cli, aliyun, user):
    before = len(aliyun.requests)
    nothing = outcome(HELPER, "get", CRPI, user)
    assert nothing == (1, NOT_FOUND, NO_TOKENS.encode())  # docker pulls anonymously, and says how to log in

    stored = encode_credentials(CRPI, CRPI_USER, CRPI_PASSWORD)
    assert outcome(HELPER, "store", stored, user) == (0, b"", b"")  # what `docker login` sends
    assert in_pass(CRPI, user) == (0, stored, b"")
    assert outcome(HELPER, "get", CRPI, user) == (0, stored, b"")
    assert outcome(HELPER, "list", "", user) == (0, encode_listing({CRPI: CRPI_USER}), b"")
    assert len(aliyun.requests) == before  # no API has a token for this edition: none is asked

    logged_out = run([docker_cli, "logout", CRPI], user)
    assert logged_out.returncode == 0, logged_out.stderr
    assert in_pass(CRPI, user) == (1, NOT_FOUND, b"")
    assert outcome(HELPER, "get", CRPI, user) == (1, NOT_FOUND, NO_TOKENS.encode())


def test_a_host_that_is_not_acr_keeps_no_login(user):
    result = outcome(HELPER, "store", encode_credentials("docker.example", "u", "s3cr3t-do-not-leak"), user)
    assert result == (
        1,
        b"docker.example is not an ACR registry: docker-credential-acr-helper keeps logins for ACR registries "
        b"only; map it to your login store instead (`credctl map docker.example pass`)\n",
        b"",
    )
    assert in_pass("docker.example", user) == (1, NOT_FOUND, b"")


@pytest.mark.parametrize("how", ["setting", "variable"])
def test_the_opt_out_keeps_the_refusal_of_before(docker_cli, registry, aliyun, user, how):
    if how == "setting":
        settings = Path(user["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
        settings.write_text(json.dumps({**json.loads(settings.read_text()), "acr_store_logins": False}))
        env = user
    else:
        env = {**user, "CREDCTL_ACR_STORE_LOGINS": "0"}
    logged_in = login(docker_cli, registry, env)
    assert logged_in.returncode == 1
    assert ISSUED_NOT_STORED in logged_in.stderr
    assert in_pass(registry.address, env) == (1, NOT_FOUND, b"")
    stored = encode_credentials(CRPI, CRPI_USER, CRPI_PASSWORD)
    assert outcome(HELPER, "store", stored, env) == (1, ISSUED_NOT_STORED.encode() + b"\n", b"")
    # a login stored before the opt-out is not used either: tokens only, as before
    world.run_helper(PASS, "store", stored, env)
    assert outcome(HELPER, "get", CRPI, env) == (1, NOT_FOUND, NO_TOKENS.encode())


def test_the_kubelet_plugin_serves_a_crpi_hosts_stored_login(aliyun, user):
    """The node's stored login for a crpi- host, by the same rule; nothing stored: no auth for it."""
    image = f"{CRPI}/team/app:1"
    assert json.loads(provide(user, request(image)).stdout)["auth"] == {}
    world.run_helper(PASS, "store", encode_credentials(CRPI, CRPI_USER, CRPI_PASSWORD), user)
    answer = json.loads(provide(user, request(image)).stdout)
    assert answer["auth"] == {CRPI: {"username": CRPI_USER, "password": CRPI_PASSWORD}}


def test_a_warm_get_opens_no_login_store(aliyun, user, registry):
    """With a fresh cached token, get reads neither Docker's config nor the settings and opens no
    login store (the fallback's modules load only when a token cannot be had)."""
    assert outcome(HELPER, "get", registry.address, user)[0] == 0  # cold: the token is cached
    warm = subprocess.run(
        [sys.executable, "-X", "importtime", HELPER, "get"],
        input=registry.address.encode(),
        env=user,
        capture_output=True,
        timeout=60,
    )
    assert warm.returncode == 0, warm.stdout
    modules = set(world.importtime_modules(warm.stderr))
    assert "credctl.stores.fallback" in modules
    assert {"credctl.stores.passstore", "credctl.dockerconfig", "gnupg", "credctl.acr.tokens"} & modules == set()


def verify_rows(env: dict[str, str], *registries: str) -> dict[tuple[str, str], tuple[str, str]]:
    done = world.credctl(env, "verify", "--json", *registries)
    return {(row["check"], row["target"]): (row["status"], row["detail"]) for row in json.loads(done.stdout)}


def test_verify_explains_each_editions_answer(aliyun, user, registry):
    rows = verify_rows(user, CRPI, registry.address)
    assert rows[("acr", CRPI)] == (
        "warning",
        f"Personal Edition (new), cn-beijing: no temporary tokens and no login stored: `docker login {CRPI}` with "
        "the fixed password set in the ACR console (Access Credential)",
    )
    assert rows[("acr", registry.address)] == (
        "ok",
        "Enterprise Edition, cn-hangzhou: temporary tokens (GetAuthorizationToken, API 2018-12-01)",
    )
    world.run_helper(PASS, "store", encode_credentials(CRPI, CRPI_USER, CRPI_PASSWORD), user)
    world.run_helper(PASS, "store", encode_credentials(registry.address, registry.user, registry.password), user)
    rows = verify_rows(user, CRPI, registry.address)
    assert rows[("acr", CRPI)] == (
        "ok",
        "Personal Edition (new), cn-beijing: no temporary tokens; login stored in docker-credential-pass",
    )
    assert rows[("acr", registry.address)] == (
        "ok",
        "Enterprise Edition, cn-hangzhou: temporary tokens (GetAuthorizationToken, API 2018-12-01); login stored in "
        "docker-credential-pass, used when no token can be issued",
    )
    assert rows[("credentials", CRPI)] == ("ok", f"user {CRPI_USER!r} in docker-credential-acr-helper")
    assert CRPI_PASSWORD not in repr(rows)


def test_without_a_credsstore_the_login_goes_where_setup_would_put_it(docker_cli, registry, aliyun, user):
    """Docker's config with credHelpers alone (no credsStore): the login store is the one
    `credctl setup` would pick, the first that can work here: pass."""
    config_path = Path(user["DOCKER_CONFIG"]) / "config.json"
    config = json.loads(config_path.read_text())
    del config["credsStore"]
    config_path.write_text(json.dumps(config, indent="\t"))
    logged_in = login(docker_cli, registry, user)
    assert logged_in.returncode == 0, logged_in.stderr
    stored = encode_credentials(registry.address, registry.user, registry.password)
    assert in_pass(registry.address, user) == (0, stored, b"")
    unreachable = {**user, "CREDCTL_ACR_NO_CACHE": "1", "CREDCTL_ACR_ENDPOINT": "http://127.0.0.1:9"}
    status, out, err = outcome(HELPER, "get", registry.address, unreachable)
    assert (status, out) == (0, stored)
    assert err.endswith(f"; using the login stored for {registry.address} in docker-credential-pass\n".encode())
