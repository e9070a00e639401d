"""Docker Hub's OAuth bookkeeping keys: shown for what they are, never moved or removed by credctl.

`docker login` with no username signs in to Docker Hub through the web (the OAuth device flow,
docker 27.4 and later) and keeps two tokens beside the Hub login: docker/cli's
internal/oauth/manager/manager.go (storeTokensInStore) stores {Username: the Hub user, Password:
the access token} under https://index.docker.io/v1/access-token and {Password: refresh token +
".." + client id} under https://index.docker.io/v1/refresh-token, in the store that serves
Docker Hub (GetCredentialsStore(IndexServer)). Through a helper that is a `store` of that JSON,
and docker's nativeStore leaves an empty `{}` entry per key in config.json's auths
(cli/config/credentials/native_store.go, Store); with no helper its file store writes each as a
plaintext `auth` (cli/config/configfile/file.go, encodeAuth). The flow itself needs Docker Hub,
which no test may reach, so the tests write exactly what it writes.
"""

import json

import pytest
import world
from world import b64, cli_env, credctl, need

HUB = "https://index.docker.io/v1/"
ACCESS, REFRESH = HUB + "access-token", HUB + "refresh-token"
USER = "hubuser"
PAT = "dckr_pat_credctl-test-1"  # the Hub login: docker's device flow makes a personal access token
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.credctl-test-access.sig"
REFRESH_TOKEN = "v1.credctl-test-refresh..L4v0dmlNBpYUjGGab0C2JtgTgXr1Qz4d"  # token..client id
SECRETS = [PAT, ACCESS_TOKEN, REFRESH_TOKEN]
BOOKKEEPING = "Docker Hub bookkeeping: a token of docker login's web sign-in, not a registry; credctl leaves it alone"
PASS, SECRETSERVICE = world.ours("docker-credential-pass"), world.ours("docker-credential-secretservice")


def helper(program: str, env: dict[str, str], action: str, data: str) -> bytes:
    result = world.run_helper(program, action, data, env)
    assert result.returncode == 0, result.stdout
    return result.stdout


def signed_in_through(program: str, env: dict[str, str]) -> None:
    """What docker's web sign-in leaves in a helper: the Hub login and its two tokens."""
    for key, secret in ((HUB, PAT), (ACCESS, ACCESS_TOKEN), (REFRESH, REFRESH_TOKEN)):
        helper(program, env, "store", json.dumps({"ServerURL": key, "Username": USER, "Secret": secret}))


def listing(program: str, env: dict[str, str]) -> dict[str, str]:
    return json.loads(helper(program, env, "list", ""))


@pytest.fixture
def env(pass_env, tmp_path) -> dict[str, str]:
    """A person's shell (default ~/.docker/config.json) with an initialised, empty pass store."""
    return cli_env(tmp_path, pass_env)


@pytest.fixture
def signed_in(env) -> dict[str, str]:
    """credsStore pass after docker's web sign-in to Docker Hub."""
    world.write_home_docker_config(env, {"auths": {HUB: {}, ACCESS: {}, REFRESH: {}}, "credsStore": "pass"})
    signed_in_through(PASS, env)
    return env


PLAINTEXT = {"auths": {HUB: {"auth": b64(f"{USER}:{PAT}")}, ACCESS: {"auth": b64(f"{USER}:{ACCESS_TOKEN}")},
                       REFRESH: {"auth": b64(f"{USER}:{REFRESH_TOKEN}")}}}  # fmt: skip


def test_list_shows_the_tokens_as_docker_hub_bookkeeping(signed_in):
    result = credctl(signed_in, "list", "--json")

    assert (result.returncode, result.stderr) == (0, "")
    file = str(world.home_docker_config(signed_in))
    assert json.loads(result.stdout) == [
        {"registry": HUB, "via": "credsStore", "helper": "pass", "username": USER, "file": file, "note": ""},
        {"registry": ACCESS, "via": "credsStore", "helper": "pass", "username": USER, "file": file,
         "note": BOOKKEEPING},
        {"registry": REFRESH, "via": "credsStore", "helper": "pass", "username": USER, "file": file,
         "note": BOOKKEEPING},
    ]  # fmt: skip
    world.assert_no_secret(SECRETS, result.stdout)


def test_verify_checks_docker_hub_once_and_the_tokens_not_at_all(signed_in):
    result = credctl(signed_in, "verify", "--json")

    assert result.returncode == 0, result.stdout
    rows = json.loads(result.stdout)
    checked = [
        (row["check"], row["target"], row["detail"]) for row in rows if row["check"] in ("registry", "credentials")
    ]
    assert checked == [
        ("registry", HUB, "served by docker-credential-pass (credsStore)"),
        ("credentials", HUB, f"user {USER!r} in docker-credential-pass"),
    ]  # fmt: skip
    world.assert_no_secret(SECRETS, result.stdout)


def test_migrate_moves_the_hub_login_and_leaves_the_plaintext_tokens(env):
    world.write_home_docker_config(env, PLAINTEXT)

    before = credctl(env, "list", "--json")
    result = credctl(env, "migrate", "--to", "pass", "--yes")
    after = credctl(env, "list")

    assert [(row["registry"], row["via"], row["note"]) for row in json.loads(before.stdout)] == [
        (HUB, "plaintext", "plaintext in the file: run `credctl migrate`"),
        (ACCESS, "plaintext", BOOKKEEPING),
        (REFRESH, "plaintext", BOOKKEEPING),
    ]
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"✓ moved 1 credential(s) out of {world.home_docker_config(env)}"
    config = json.loads(world.home_docker_config(env).read_text())
    assert config["auths"] == {HUB: {}, ACCESS: PLAINTEXT["auths"][ACCESS], REFRESH: PLAINTEXT["auths"][REFRESH]}
    assert listing(PASS, env) == {HUB: USER}
    assert (after.returncode, after.stderr) == (0, "")  # no "stored in plaintext" warning for docker's tokens
    world.assert_no_secret(SECRETS, before.stdout, result.stdout, result.stderr, after.stdout)


def test_setup_leaves_the_plaintext_tokens_where_docker_put_them(env):
    world.write_home_docker_config(env, PLAINTEXT)

    result = credctl(env, "setup", "--store", "pass", "--no-podman", "--yes")

    assert result.returncode == 0, result.stderr
    config = json.loads(world.home_docker_config(env).read_text())
    assert config == {"auths": {HUB: {}, ACCESS: PLAINTEXT["auths"][ACCESS], REFRESH: PLAINTEXT["auths"][REFRESH]},
                      "credsStore": "pass"}  # fmt: skip
    assert listing(PASS, env) == {HUB: USER}
    world.assert_no_secret(SECRETS, result.stdout, result.stderr)


def test_switching_stores_moves_the_hub_login_and_leaves_the_tokens(signed_in, tmp_path):
    need("dbus-daemon", "gnome-keyring-daemon")
    service = world.SecretService(tmp_path / "keyring")
    try:
        env = {**signed_in, "DBUS_SESSION_BUS_ADDRESS": service.env["DBUS_SESSION_BUS_ADDRESS"]}

        result = credctl(env, "setup", "--store", "secretservice", "--no-podman", "--yes")

        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout.splitlines()[0] == (
            f"{ACCESS}, {REFRESH}: Docker Hub's sign-in tokens (docker's own bookkeeping, not logins) stay in "
            "docker-credential-pass; `docker login` makes new ones where Docker Hub's login goes"
        )
        assert listing(SECRETSERVICE, env) == {HUB: USER}
        assert listing(PASS, env) == {ACCESS: USER, REFRESH: USER}
        assert json.loads(helper(PASS, env, "get", REFRESH)) == {
            "ServerURL": REFRESH, "Username": USER, "Secret": REFRESH_TOKEN
        }  # fmt: skip
        world.assert_no_secret(SECRETS, result.stdout)
    finally:
        service.stop()
