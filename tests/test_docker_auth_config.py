"""DOCKER_AUTH_CONFIG: what the real docker CLI does with it, and what `credctl list` and `verify` say.

docker/cli 28.3.0 and later read the variable (cli/config/configfile/file.go, GetCredentialsStore
and parseEnvConfig); world.NEWEST_DOCKER is Debian's newest docker CLI, which does. The probe
that shows which login docker uses needs no daemon and no registry: `docker login REGISTRY`
with no username takes the login docker has for REGISTRY ("Authenticating with existing
credentials... [Username: …]"), asks the daemon to check it (there is none: "Login did not
succeed"), stores that very login back where config.json says logins go (cli/command/registry/
login.go, loginWithStoredCredentials), then stops, having no terminal to ask for another. What it
stored is the login, secret and all, that docker would have used.
"""

import json
import subprocess
from pathlib import Path

import pytest
import world
from world import b64, cli_env, credctl, need

from credctl import dockerenv

PASS = world.ours("docker-credential-pass")
FAILED = "Failed to create credential store from DOCKER_AUTH_CONFIG:"  # docker's line for a value it ignores
ENV_USER, FILE_USER = world.REGISTRY_USER, "file-user"  # the registry knows only ENV_USER
OVERRIDDEN = "overridden by DOCKER_AUTH_CONFIG (docker 28.3 and later)"
FROM_ENV = "from the environment: docker 28.3 and later use it over every file and helper"


def env_value(auths: dict) -> str:
    return json.dumps({"auths": auths})


def auth(username: str, password: str) -> dict[str, str]:
    return {"auth": b64(f"{username}:{password}")}


def docker_env(tmp_path: Path, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """A person's shell (default ~/.docker/config.json, credctl's helpers on PATH) with no daemon."""
    return cli_env(tmp_path, base, DOCKER_HOST=f"unix://{tmp_path}/no-daemon.sock", **extra)


def docker_login(env: dict[str, str], registry: str) -> subprocess.CompletedProcess[str]:
    """`docker login REGISTRY` with no username, no daemon and no terminal (the probe above)."""
    return subprocess.run(
        [world.NEWEST_DOCKER, "login", registry],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=world.TIMEOUT,
        check=False,
    )


def helper(env: dict[str, str], action: str, data: str) -> subprocess.CompletedProcess[bytes]:
    result = world.run_helper(PASS, action, data, env)
    assert result.returncode == 0, result.stdout
    return result


def store(env: dict[str, str], server: str, username: str, secret: str) -> None:
    helper(env, "store", json.dumps({"ServerURL": server, "Username": username, "Secret": secret}))


@pytest.fixture
def newest_docker() -> str:
    need(world.NEWEST_DOCKER)
    assert world.docker_version(world.NEWEST_DOCKER) >= (28, 3), "the test world's newest docker predates 28.3"
    return world.NEWEST_DOCKER


# -- credctl reads the variable as the real docker does -------------------------------------------

# Values of DOCKER_AUTH_CONFIG for registry R, and whether docker uses the variable's login for R
# ("env"), ignores the whole variable with its FAILED line ("ignored"), or finds no login for R
# in it and carries on with config.json ("file"). The first three are docker/cli's own cases
# (cli/config/configfile/file_test.go: envTestAuthConfig, envTestUserPassConfig, the two JSON
# objects of TestParseEnvConfig), the rest measured with docker 28.5; every one is run below.
RIGHT = b64(f"{ENV_USER}:{world.REGISTRY_PASSWORD}")
REGISTRY = "reg.example:5000"  # docker never reaches it: the daemon it would ask is missing
CASES = {
    "auth only (docker/cli envTestAuthConfig)": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}}}', "env"),
    "username and password (docker/cli envTestUserPassConfig)": (
        '{{"auths": {{"{r}": {{"username": "u", "password": "p", "serveraddress": "{r}"}}}}}}',
        "ignored",
    ),
    "two JSON objects (docker/cli TestParseEnvConfig)": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}}}{{}}', "ignored"),
    "only spaces": ("  \n ", "file"),
    "credsStore": ('{{"credsStore": "pass"}}', "ignored"),
    "credHelpers beside auths": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}, "credHelpers": {{}}}}', "ignored"),
    "fields in other cases": ('{{"AUTHS": {{"{r}": {{"Auth": "{a}"}}}}}}', "env"),
    "https:// key": ('{{"auths": {{"https://{r}": {{"auth": "{a}"}}}}}}', "file"),
    "/v2/ key": ('{{"auths": {{"{r}/v2/": {{"auth": "{a}"}}}}}}', "file"),
    "entry without auth": ('{{"auths": {{"{r}": {{}}}}}}', "ignored"),
    "null entry": ('{{"auths": {{"{r}": null}}}}', "ignored"),
    "auth not base64": ('{{"auths": {{"{r}": {{"auth": "!!!"}}}}}}', "ignored"),
    "auth without a colon": ('{{"auths": {{"{r}": {{"auth": "' + b64("nocolon") + '"}}}}}}', "ignored"),
    "auth with a newline inside": ('{{"auths": {{"{r}": {{"auth": "{a1}\\n{a2}"}}}}}}', "env"),
    "auth a number": ('{{"auths": {{"{r}": {{"auth": 1}}}}}}', "ignored"),
    "trailing spaces": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}}}  \n', "env"),
    "trailing text": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}}} x', "ignored"),
    "trailing brace": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}}}}}', "env"),
    "auths twice, merged": (
        '{{"auths": {{"{r}": {{"auth": "{a}"}}}}, "auths": {{"o.example": {{"auth": "{a}"}}}}}}', "env"
    ),
    "auths, then null": ('{{"auths": {{"{r}": {{"auth": "{a}"}}}}, "auths": null}}', "file"),
    "an array": ("[]", "ignored"),
    "not JSON": ("not json", "ignored"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_credctl_reads_the_variable_as_docker_does(case, newest_docker, tmp_path):
    template, expected = CASES[case]
    value = template.format(r=REGISTRY, a=RIGHT, a1=RIGHT[:8], a2=RIGHT[8:])
    env = docker_env(tmp_path, DOCKER_AUTH_CONFIG=value)
    world.write_home_docker_config(env, {"auths": {REGISTRY: auth(FILE_USER, "file-password")}})

    result = docker_login(env, REGISTRY)

    user = f"Authenticating with existing credentials... [Username: {ENV_USER if expected == 'env' else FILE_USER}]"
    assert user in result.stderr
    assert (FAILED in result.stderr) == (expected == "ignored"), result.stderr
    used = json.loads(world.home_docker_config(env).read_text())["auths"][REGISTRY]  # what docker stored back
    read = dockerenv.read({"DOCKER_AUTH_CONFIG": value})
    login = read.login_for(REGISTRY)
    assert (read.problem is not None) == (expected == "ignored"), read.problem
    world.assert_no_secret([world.REGISTRY_PASSWORD, RIGHT, "file-password"], read.summary)
    if expected == "env":
        assert used == {"auth": RIGHT}
        assert (login.username, login.secret) == (ENV_USER, world.REGISTRY_PASSWORD)
    else:
        assert used == auth(FILE_USER, "file-password")
        assert login is None


def test_an_empty_variable_is_unset():
    """docker/cli's "env is ignored when empty" (cli/config/configfile/file_test.go)."""
    assert dockerenv.read({"DOCKER_AUTH_CONFIG": ""}) is None
    assert dockerenv.read({}) is None


def test_docker_hub_is_matched_under_dockers_own_key_only():
    """docker asks for Docker Hub as https://index.docker.io/v1/ and for nothing else."""
    keys = ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "reg.example:5000"]
    read = dockerenv.read({"DOCKER_AUTH_CONFIG": env_value({key: auth("u", "p") for key in keys})})

    assert [login.key for login in read.used] == ["https://index.docker.io/v1/", "reg.example:5000"]
    assert [login.key for login in read.unused] == ["docker.io", "index.docker.io"]
    for name in ("docker.io", "index.docker.io", "https://index.docker.io/v1/"):
        assert read.login_for(name).key == "https://index.docker.io/v1/"


def test_podman_tools_ignore_the_variable(registry, tmp_path):
    """containers/image reads no DOCKER_AUTH_CONFIG: skopeo 1.9 with it alone is refused."""
    need("skopeo")
    world.push_image(registry, "img", "1", registry.user, registry.password)
    env = cli_env(tmp_path, DOCKER_AUTH_CONFIG=env_value({registry.address: auth(ENV_USER, registry.password)}))

    result = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{registry.address}/img:1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=world.TIMEOUT,
        check=False,
    )

    assert result.returncode == 1
    assert "unauthorized: authentication required" in result.stderr


# -- credctl list ---------------------------------------------------------------------------------


@pytest.fixture
def overridden_env(pass_env, tmp_path):
    """credsStore pass holding reg.example:5000 and other.example; DOCKER_AUTH_CONFIG holding
    reg.example:5000 (another user) and docker.io (a key docker never asks for)."""
    value = env_value(
        {"reg.example:5000": auth("env-user", "env-secret-1"), "docker.io": auth("hub-env", "env-secret-2")}
    )
    env = docker_env(tmp_path, pass_env, DOCKER_AUTH_CONFIG=value)
    world.write_home_docker_config(env, {"credsStore": "pass"})
    store(env, "reg.example:5000", "store-user", "store-secret")
    store(env, "other.example", "other-user", "other-secret")
    return env


def test_list_json_shows_the_variables_logins_and_what_they_override(overridden_env):
    result = credctl(overridden_env, "list", "--json")

    assert (result.returncode, result.stderr) == (0, "")
    file = str(world.home_docker_config(overridden_env))
    assert json.loads(result.stdout) == [
        {"registry": "reg.example:5000", "via": "DOCKER_AUTH_CONFIG", "helper": "", "username": "env-user",
         "file": "", "note": FROM_ENV},
        {"registry": "docker.io", "via": "DOCKER_AUTH_CONFIG", "helper": "", "username": "hub-env", "file": "",
         "note": "never used: docker looks up https://index.docker.io/v1/"},
        {"registry": "other.example", "via": "credsStore", "helper": "pass", "username": "other-user", "file": file,
         "note": ""},
        {"registry": "reg.example:5000", "via": "credsStore", "helper": "pass", "username": "store-user",
         "file": file, "note": OVERRIDDEN},
    ]  # fmt: skip
    world.assert_no_secret(["env-secret-1", "env-secret-2", "store-secret"], result.stdout)


def test_list_table_shows_them_too(overridden_env):
    result = credctl({**overridden_env, "COLUMNS": "400"}, "list")  # wide enough for a row a line

    assert (result.returncode, result.stderr) == (0, "")
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]
    file = str(world.home_docker_config(overridden_env))
    assert cells == [
        ["reg.example:5000", "DOCKER_AUTH_CONFIG", "", "env-user", "", FROM_ENV],
        ["docker.io", "DOCKER_AUTH_CONFIG", "", "hub-env", "", "never used: docker looks up https://index.docker.io/v1/"],
        ["other.example", "credsStore", "pass", "other-user", file, ""],
        ["reg.example:5000", "credsStore", "pass", "store-user", file, OVERRIDDEN],
    ]  # fmt: skip
    world.assert_no_secret(["env-secret-1", "env-secret-2", "store-secret"], result.stdout)


def test_a_plaintext_login_it_overrides_is_marked_and_still_to_migrate(tmp_path):
    env = docker_env(tmp_path, DOCKER_AUTH_CONFIG=env_value({"reg.example": auth("env-user", "env-secret")}))
    world.write_home_docker_config(env, {"auths": {"https://reg.example/v2/": auth("file-user", "file-secret")}})

    result = credctl(env, "list", "--json")

    assert result.returncode == 0
    assert [(row["registry"], row["via"], row["note"]) for row in json.loads(result.stdout)] == [
        ("reg.example", "DOCKER_AUTH_CONFIG", FROM_ENV),
        ("https://reg.example/v2/", "plaintext", f"{OVERRIDDEN}; plaintext in the file: run `credctl migrate`"),
    ]


MALFORMED = env_value({"reg.example:5000": {"username": "env-user", "password": "leak-me-not-7"}})
IGNORED = (
    "DOCKER_AUTH_CONFIG is set, but docker ignores it (its entry for reg.example:5000 holds more than `auth` "
    "(docker takes no username or password there)) and uses its config files and helpers"
)


def test_list_says_in_one_line_that_docker_ignores_a_malformed_value(pass_env, tmp_path):
    env = docker_env(tmp_path, pass_env, DOCKER_AUTH_CONFIG=MALFORMED)
    world.write_home_docker_config(env, {"credsStore": "pass"})
    store(env, "reg.example:5000", "store-user", "store-secret")

    listed = credctl(env, "list", "--json")
    table = credctl(env, "list")

    assert listed.returncode == table.returncode == 0
    assert listed.stderr == table.stderr == f"warning: {IGNORED}\n"
    assert [(row["registry"], row["via"], row["note"]) for row in json.loads(listed.stdout)] == [
        ("reg.example:5000", "credsStore", "")
    ]
    world.assert_no_secret(["leak-me-not-7", "store-secret"], listed.stdout, listed.stderr, table.stdout)


# -- credctl verify -------------------------------------------------------------------------------


def verify_json(env: dict[str, str], *args: str) -> tuple[int, list[dict]]:
    result = credctl(env, "verify", "--json", *args)
    return result.returncode, json.loads(result.stdout)


def registry_rows(rows: list[dict]) -> list[tuple[str, str, str, str]]:
    """The DOCKER_AUTH_CONFIG row and the per-registry rows."""
    return [
        (row["check"], row["target"], row["status"], row["detail"])
        for row in rows
        if row["check"] in ("registry", "credentials", "login") or row["target"] == "DOCKER_AUTH_CONFIG"
    ]


def test_verify_reports_the_variable_and_the_registries_it_overrides(overridden_env):
    status, rows = verify_json(overridden_env)

    assert status == 0
    assert registry_rows(rows) == [
        ("config", "DOCKER_AUTH_CONFIG", "warning",
         "DOCKER_AUTH_CONFIG is set: docker 28.3 and later use its login for reg.example:5000 over every file and "
         "helper; never used: docker.io (docker looks up https://index.docker.io/v1/)"),
        ("registry", "other.example", "ok", "served by docker-credential-pass (credsStore)"),
        ("credentials", "other.example", "ok", "user 'other-user' in docker-credential-pass"),
        ("registry", "reg.example:5000", "ok",
         "served by DOCKER_AUTH_CONFIG (docker 28.3 and later); it overrides config.json's answer: "
         "served by docker-credential-pass (credsStore)"),
        ("credentials", "reg.example:5000", "ok", "user 'env-user' in DOCKER_AUTH_CONFIG"),
    ]  # fmt: skip
    world.assert_no_secret(["env-secret-1", "env-secret-2", "store-secret"], json.dumps(rows))


def test_verify_fails_on_a_value_docker_ignores_and_shows_no_secret(pass_env, tmp_path):
    env = docker_env(tmp_path, pass_env, DOCKER_AUTH_CONFIG=MALFORMED)
    world.write_home_docker_config(env, {"credsStore": "pass"})

    status, rows = verify_json(env)
    table = credctl(env, "verify")

    assert status == table.returncode == 1
    assert [row for row in rows if row["target"] == "DOCKER_AUTH_CONFIG"] == [
        {"check": "config", "target": "DOCKER_AUTH_CONFIG", "status": "failed", "detail": IGNORED}
    ]
    world.assert_no_secret(["leak-me-not-7"], json.dumps(rows), table.stdout, table.stderr)


def test_verify_online_checks_the_login_docker_uses(newest_docker, pass_env, registry, tmp_path):
    """The variable holds the right password, credsStore a wrong one: docker logs in with the
    variable's, and so does verify --online; without the variable both use the store's and fail."""
    right = env_value({registry.address: auth(registry.user, registry.password)})
    env = docker_env(tmp_path, pass_env, DOCKER_AUTH_CONFIG=right)
    world.write_home_docker_config(env, {"credsStore": "pass"})
    store(env, registry.address, "store-user", "wrong-password-3")
    unset = {name: value for name, value in env.items() if name != "DOCKER_AUTH_CONFIG"}

    status, rows = verify_json(env, "--online", registry.address)
    without_status, without_rows = verify_json(unset, "--online", registry.address)

    assert status == 0
    assert [row["detail"] for row in rows if row["check"] == "login"] == [
        f"logged in to {registry.url}/v2/ as {registry.user!r} with Basic auth"
    ]
    assert without_status == 1
    assert [row["status"] for row in without_rows if row["check"] == "login"] == ["failed"]
    assert "[Username: store-user]" in docker_login(unset, registry.address).stderr
    assert f"[Username: {registry.user}]" in docker_login(env, registry.address).stderr  # (and stored back)
    world.assert_no_secret([registry.password, "wrong-password-3"], json.dumps(rows), json.dumps(without_rows))


def test_docker_login_and_logout_write_through_to_the_store(newest_docker, pass_env, tmp_path):
    """Measured with docker 28.5: a `docker login` with no username while the variable is set
    stores the variable's login in credsStore; `docker logout` erases the store's, and the
    variable's login still serves docker (credctl list keeps showing it)."""
    env = docker_env(tmp_path, pass_env, DOCKER_AUTH_CONFIG=env_value({REGISTRY: auth(ENV_USER, "env-secret-5")}))
    world.write_home_docker_config(env, {"credsStore": "pass"})

    login = docker_login(env, REGISTRY)

    assert "DOCKER_AUTH_CONFIG is set and takes precedence." in login.stderr
    stored = json.loads(helper(env, "get", REGISTRY).stdout)
    assert (stored["Username"], stored["Secret"]) == (ENV_USER, "env-secret-5")

    logout = subprocess.run([newest_docker, "logout", REGISTRY], env=env, capture_output=True, text=True, check=False)

    assert logout.returncode == 0
    assert json.loads(helper(env, "list", "").stdout) == {}
    listed = json.loads(credctl(env, "list", "--json").stdout)
    assert [(row["registry"], row["via"], row["username"]) for row in listed] == [
        (REGISTRY, "DOCKER_AUTH_CONFIG", ENV_USER)
    ]
    assert f"[Username: {ENV_USER}]" in docker_login(env, REGISTRY).stderr  # still the variable's
