"""`credctl export`: one CI job's logins, and the real clients that take them.

The logins come from real stores (a pass store, and the router in front of it) and from ACR
through the fake Alibaba Cloud API; the export goes to the real docker 28.5 CLI as
DOCKER_AUTH_CONFIG (with an empty DOCKER_CONFIG, so the variable is all it has), and as a
config.json to every docker CLI of the test world (DOCKER_CONFIG) and to skopeo, in its default
configuration and through --authfile and REGISTRY_AUTH_FILE, each reaching the real registry
(htpasswd, 127.0.0.1) with that login. The terminal refusal runs on a real pseudo-terminal.
"""

import base64
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import world
from world import b64, credctl, need

from credctl import dockerenv
from credctl.expiry import stamp

PASS = world.ours("docker-credential-pass")
ROUTER = world.ours("docker-credential-credctl")
IMAGE, TAG = "credctl/export", "v1"
OTHER, OTHER_USER, OTHER_SECRET = "other.example:5000", "other-user", "other-secret-4"
HUB_USER, HUB_PAT = "hub-user", "dckr_pat_export-secret-5"
LONG_LIVED = (
    "is a long-lived secret (no expiry known): give the job a short-lived token instead, or revoke this one when "
    "the job is done"
)
TERMINAL_REFUSAL = (
    "error: the export holds secrets and stdout is a terminal: write it to a file with -o FILE, pipe it "
    "(`credctl export ... | ...`), or add --force to show it here"
)


def long_lived(key: str, user: str, helper: str = "pass") -> str:
    return f"warning: {key}: user {user!r} from docker-credential-{helper} {LONG_LIVED}\n"


def auth(user: str, password: str) -> str:
    return b64(f"{user}:{password}")


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=world.TIMEOUT, check=False)


def store(env: dict[str, str], server: str, username: str, secret: str, program: str = PASS) -> None:
    body = json.dumps({"ServerURL": server, "Username": username, "Secret": secret})
    stored = world.run_helper(program, "store", body, env)
    assert stored.returncode == 0, stored.stdout + stored.stderr


@pytest.fixture(scope="module")
def image(registry) -> str:
    """The digest of IMAGE:TAG, pushed to the registry in Docker's schema 2 (every docker CLI reads it)."""
    return world.push_image(registry, IMAGE, TAG, registry.user, registry.password, "v2s2")


@pytest.fixture
def person(pass_env, registry, tmp_path) -> dict[str, str]:
    """A Docker user whose credsStore is pass, holding the registry's login and another one."""
    env = world.docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, registry.address, registry.user, registry.password)
    store(env, OTHER, OTHER_USER, OTHER_SECRET)
    return env


def inspect(docker: str, registry, folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`docker manifest inspect` of IMAGE:TAG by a docker whose DOCKER_CONFIG is folder (no daemon needed)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    home = folder.parent / "docker-home"
    home.mkdir(exist_ok=True)
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(home), "DOCKER_CONFIG": str(folder), **env}
    return run([docker, "manifest", "inspect", "--insecure", "-v", f"{registry.address}/{IMAGE}:{TAG}"], environ)


def inspected(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Descriptor"]["digest"]


@pytest.fixture
def newest_docker() -> str:
    need(world.NEWEST_DOCKER)
    assert world.docker_version(world.NEWEST_DOCKER) >= (28, 3), "the test world's newest docker predates 28.3"
    return world.NEWEST_DOCKER


# -- DOCKER_AUTH_CONFIG -----------------------------------------------------------------------------


def test_docker_takes_the_export_as_docker_auth_config(newest_docker, person, registry, image, tmp_path):
    exported = credctl(person, "export", registry.address)

    assert exported.returncode == 0, exported.stderr
    line = {"auths": {registry.address: {"auth": auth(registry.user, registry.password)}}}
    assert exported.stdout == json.dumps(line, separators=(",", ":")) + "\n"
    assert exported.stderr == long_lived(registry.address, registry.user)
    read = dockerenv.read({"DOCKER_AUTH_CONFIG": exported.stdout})
    assert read.problem is None
    login = read.login_for(registry.address)
    assert (login.username, login.secret) == (registry.user, registry.password)

    empty = tmp_path / "ci-docker"
    assert inspected(inspect(newest_docker, registry, empty, DOCKER_AUTH_CONFIG=exported.stdout)) == image
    assert list(empty.iterdir()) == []  # docker found the login in the variable alone
    denied = inspect(newest_docker, registry, empty)
    assert denied.returncode == 1
    assert "no basic auth credentials" in denied.stderr


def test_several_registries_in_one_export_in_the_order_given(newest_docker, person, registry, image, tmp_path):
    exported = credctl(person, "export", OTHER, registry.address, f"http://{OTHER}/v2/")

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == (
        f'{{"auths":{{"{OTHER}":{{"auth":"{auth(OTHER_USER, OTHER_SECRET)}"}},'
        f'"{registry.address}":{{"auth":"{auth(registry.user, registry.password)}"}}}}}}\n'
    )
    assert exported.stderr == long_lived(OTHER, OTHER_USER) + long_lived(registry.address, registry.user)
    read = dockerenv.read({"DOCKER_AUTH_CONFIG": exported.stdout})
    assert [(login.key, login.username, login.secret) for login in read.used] == [
        (OTHER, OTHER_USER, OTHER_SECRET),
        (registry.address, registry.user, registry.password),
    ]
    assert inspected(inspect(newest_docker, registry, tmp_path / "ci", DOCKER_AUTH_CONFIG=exported.stdout)) == image


def test_docker_hub_is_keyed_as_docker_asks_for_it(pass_env, tmp_path):
    env = world.docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, "docker.io", HUB_USER, HUB_PAT)  # as `podman login docker.io` keeps it

    for name in ("docker.io", "index.docker.io", "https://index.docker.io/v1/"):
        exported = credctl(env, "export", name, "docker.io")

        assert exported.returncode == 0, exported.stderr
        assert (
            exported.stdout == f'{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth(HUB_USER, HUB_PAT)}"}}}}}}\n'
        )
        assert exported.stderr == long_lived("https://index.docker.io/v1/", HUB_USER)
        login = dockerenv.read({"DOCKER_AUTH_CONFIG": exported.stdout}).login_for("docker.io")
        assert (login.username, login.secret) == (HUB_USER, HUB_PAT)


def test_the_router_gives_the_login_its_route_serves(newest_docker, pass_env, registry, image, tmp_path):
    env = world.docker_env(pass_env, tmp_path, {"credsStore": "credctl"})
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{\n  "route_default": "pass"\n}\n')
    store(env, registry.address, registry.user, registry.password, program=ROUTER)

    exported = credctl(env, "export", registry.address)

    assert exported.returncode == 0, exported.stderr
    assert (
        exported.stdout
        == f'{{"auths":{{"{registry.address}":{{"auth":"{auth(registry.user, registry.password)}"}}}}}}\n'
    )
    assert exported.stderr == long_lived(registry.address, registry.user)
    assert inspected(inspect(newest_docker, registry, tmp_path / "ci", DOCKER_AUTH_CONFIG=exported.stdout)) == image


# -- config.json ------------------------------------------------------------------------------------


def config_json(*entries: tuple[str, str]) -> bytes:
    """A config.json as docker writes it (tabs, a final newline) holding these (key, auth) entries."""
    inner = ",\n".join(f'\t\t"{key}": {{\n\t\t\t"auth": "{value}"\n\t\t}}' for key, value in entries)
    return ('{\n\t"auths": {\n' + inner + "\n\t}\n}\n").encode()


@pytest.fixture
def exported_config(person, registry, tmp_path) -> Path:
    """The registry's and OTHER's logins exported as ci/config.json."""
    folder = tmp_path / "ci"
    folder.mkdir(mode=0o755)
    result = credctl(
        person, "export", registry.address, OTHER, "--format", "config-json", "-o", str(folder / "config.json")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    path = folder / "config.json"
    assert result.stderr == (
        f"wrote a config.json for {registry.address}, {OTHER} to {path} (mode 0600): DOCKER_CONFIG={folder} for "
        f"docker, REGISTRY_AUTH_FILE={path} for Podman, Buildah and Skopeo\n"
        + long_lived(registry.address, registry.user)
        + long_lived(OTHER, OTHER_USER)
    )
    return path


def test_the_config_json_is_dockers_format_and_private(exported_config, registry):
    assert exported_config.read_bytes() == config_json(
        (registry.address, auth(registry.user, registry.password)), (OTHER, auth(OTHER_USER, OTHER_SECRET))
    )
    assert stat.S_IMODE(exported_config.stat().st_mode) == 0o600
    assert stat.S_IMODE(exported_config.parent.stat().st_mode) == 0o755  # the folder the user chose, as it was
    assert [path.name for path in exported_config.parent.iterdir()] == ["config.json"]  # no temporary left


@pytest.mark.parametrize("docker", [*sorted(world.DOCKER_CLIS), "newest-docker"])
def test_each_docker_reads_the_config_json(docker, exported_config, registry, image):
    program = world.WORLD_PROGRAMS[docker]
    need(program)

    assert inspected(inspect(program, registry, exported_config.parent)) == image


def skopeo_inspect(user: world.ContainersUser, registry, *args: str) -> subprocess.CompletedProcess[str]:
    return user.run("skopeo", "inspect", "--tls-verify=false", *args, f"docker://{registry.address}/{IMAGE}:{TAG}")


def skopeo_digest(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Digest"]


def test_skopeo_reads_the_config_json_by_authfile_and_registry_auth_file(exported_config, registry, image, tmp_path):
    need("skopeo")
    nobody = world.ContainersUser(tmp_path / "skopeo")  # default configuration: no login anywhere

    refused = skopeo_inspect(nobody, registry)
    assert refused.returncode == 1
    assert "unauthorized: authentication required" in refused.stderr
    assert skopeo_digest(skopeo_inspect(nobody, registry, "--authfile", str(exported_config))) == image
    by_variable = world.ContainersUser(tmp_path / "skopeo-env", env={"REGISTRY_AUTH_FILE": str(exported_config)})
    assert skopeo_digest(skopeo_inspect(by_variable, registry)) == image


def test_podman_tools_read_it_as_the_users_docker_config(person, registry, image, tmp_path):
    """Written where a CI job's tools look by default (~/.docker/config.json), skopeo in its default
    configuration and docker both read it."""
    need("skopeo")
    user = world.ContainersUser(tmp_path / "job")
    docker_folder = user.home / ".docker"
    docker_folder.mkdir(mode=0o700)
    path = docker_folder / "config.json"

    result = credctl(person, "export", registry.address, "--format", "config-json", "-o", str(path))

    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == config_json((registry.address, auth(registry.user, registry.password)))
    assert skopeo_digest(skopeo_inspect(user, registry)) == image


def test_an_old_file_is_replaced_by_a_rename_and_made_private(person, registry, tmp_path):
    path = tmp_path / "auth-config"
    path.write_text("an older export\n")
    path.chmod(0o644)
    before = path.stat()

    result = credctl(person, "export", registry.address, "-o", str(path))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        f"wrote the DOCKER_AUTH_CONFIG value for {registry.address} to {path} (mode 0600): "
        f'DOCKER_AUTH_CONFIG="$(cat {path})" for docker 28.3 and later\n' + long_lived(registry.address, registry.user)
    )
    line = f'{{"auths":{{"{registry.address}":{{"auth":"{auth(registry.user, registry.password)}"}}}}}}\n'
    assert path.read_bytes() == line.encode()
    after = path.stat()
    assert after.st_ino != before.st_ino  # a new file renamed over the old one, never rewritten in place
    assert stat.S_IMODE(after.st_mode) == 0o600


# -- ACR: a token issued for the export ---------------------------------------------------------------

ACR_TOKEN = "acr-export-token-6"  # what the fake issues, and the password the ACR registry's htpasswd takes
SPAN = r"in \d+ min"


@pytest.fixture
def acr(aliyun, tmp_path):
    """A registry that credctl's settings make a custom ACR domain (the fake's Enterprise instance),
    mapped to docker-credential-acr-helper, whose htpasswd takes the tokens the fake issues; an
    image on it. Yields (registry, env, digest)."""
    need("docker-registry", "htpasswd", "skopeo")
    aliyun.fixed_token = ACR_TOKEN
    registry = world.Registry(tmp_path / "acr-registry", user=world.TEMP_USER, password=ACR_TOKEN)
    try:
        digest = world.push_image(registry, IMAGE, TAG, world.TEMP_USER, ACR_TOKEN, "v2s2")
        config = {"credHelpers": {registry.address: "acr-helper"}}
        env = world.acr_registry_env(world.acr_env(tmp_path, aliyun), tmp_path, aliyun, config)
        yield registry, env, digest
    finally:
        registry.stop()


def test_an_acr_registry_gets_a_new_token_and_its_expiry(newest_docker, aliyun, acr, tmp_path):
    registry, env, digest = acr
    aliyun.token_ttl = 600  # the helper's cached token has 10 minutes left
    warm = world.run_helper(world.HELPER, "get", registry.address, env)
    assert warm.returncode == 0, warm.stderr
    cached = world.cache_files(tmp_path)
    assert len(cached) == 1
    kept = cached[0].read_bytes()
    aliyun.token_ttl = 3600

    exported = credctl(env, "export", registry.address)

    assert exported.returncode == 0, exported.stderr
    assert len(aliyun.issued) == 2  # a token of its own, not the cache's
    issued = aliyun.issued[-1]
    assert exported.stdout == f'{{"auths":{{"{registry.address}":{{"auth":"{auth(world.TEMP_USER, ACR_TOKEN)}"}}}}}}\n'
    expires = stamp(issued.expire_ms // 1000)
    line = rf"{re.escape(registry.address)}: user 'cr_temp_user' from docker-credential-acr-helper expires "
    line += rf"{re.escape(expires)} \({SPAN}; an issued token\)\n"
    assert re.fullmatch(line, exported.stderr), exported.stderr
    assert re.search(r"in (5[0-9]|60) min", exported.stderr)  # the token's whole hour, not the cache's 10 minutes
    assert world.cache_files(tmp_path) == cached and cached[0].read_bytes() == kept  # the cache is left as it was
    world.assert_no_secret([ACR_TOKEN, world.ALIYUN_KEY_SECRET], exported.stderr)

    assert inspected(inspect(newest_docker, registry, tmp_path / "ci", DOCKER_AUTH_CONFIG=exported.stdout)) == digest


# -- expiry of stored logins ------------------------------------------------------------------------


def jwt(exp: int) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'sub': 'robot', 'exp': exp})}.c2lnbmF0dXJl"


def test_a_jwt_secret_says_when_it_expires(pass_env, tmp_path):
    env = world.docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, "jwt.example", "robot", jwt(4102444800))  # 2100-01-01
    store(env, "old.example", "robot", jwt(1000000000))  # 2001-09-09

    exported = credctl(env, "export", "jwt.example", "old.example")

    assert exported.returncode == 0, exported.stderr
    lines = exported.stderr.splitlines()
    assert re.fullmatch(
        r"jwt\.example: user 'robot' from docker-credential-pass expires 2100-01-01T00:00:00Z "
        r"\(in \d+ days; the JWT's exp\)",
        lines[0],
    ), lines
    assert re.fullmatch(
        r"warning: old\.example: user 'robot' from docker-credential-pass expired 2001-09-09T01:46:40Z "
        r"\(\d+ days ago; the JWT's exp\): the job cannot log in with it",
        lines[1],
    ), lines
    assert len(lines) == 2


# -- refusals -------------------------------------------------------------------------------------


def test_a_registry_without_a_login_prints_and_writes_nothing(person, registry, tmp_path):
    path = tmp_path / "never"

    for args in ((registry.address, "nologin.example"), (registry.address, "nologin.example", "-o", str(path))):
        result = credctl(person, "export", *args)

        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (
            "error: credctl has no login for nologin.example: log in with `credctl login nologin.example` "
            "(it says where the login would go)\n"
        )
    assert not path.exists()
    both = credctl(person, "export", "a.example", "b.example:5000")
    assert (both.returncode, both.stdout) == (1, "")
    assert both.stderr == (
        "error: credctl has no login for a.example, b.example:5000: log in to each with `credctl login REGISTRY` "
        "(it says where the login would go)\n"
    )


def test_on_a_terminal_it_refuses_unless_forced_or_written_to_a_file(person, registry, tmp_path):
    status, shown = world.on_terminal(person, ["export", registry.address], [])

    assert (status, shown) == (1, TERMINAL_REFUSAL + "\n")

    status, shown = world.on_terminal(person, ["export", registry.address, "--force"], [])

    assert status == 0
    line = f'{{"auths":{{"{registry.address}":{{"auth":"{auth(registry.user, registry.password)}"}}}}}}\n'
    assert shown == line + long_lived(registry.address, registry.user)

    path = tmp_path / "job-auth"
    status, shown = world.on_terminal(person, ["export", registry.address, "-o", str(path)], [])

    assert status == 0, shown
    assert path.read_bytes() == line.encode()
    world.assert_no_secret([registry.password, auth(registry.user, registry.password)], shown)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reg.example", "--format", "yaml"), "Invalid value for --format: 'yaml' is not a format: choose "
         "docker-auth-config or config-json"),
        (("reg.example/team/app",), "'reg.example/team/app' names a repository, but credHelpers map whole "
         "registries: give reg.example"),
    ],
)  # fmt: skip
def test_bad_command_lines_are_usage_errors(tmp_path, args, message):
    result = credctl(world.cli_env(tmp_path), "export", *args)

    assert world.usage_error(result, "export") == message


def test_the_output_file_needs_its_folder(person, registry, tmp_path):
    missing = tmp_path / "no-such-folder" / "config.json"

    result = credctl(person, "export", registry.address, "-o", str(missing))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {missing}: the folder {missing.parent} does not exist: make it first, or choose another path\n"
    )
    folder = credctl(person, "export", registry.address, "-o", str(tmp_path))
    assert folder.stderr == f"error: {tmp_path} is a folder: name the file to write, e.g. {tmp_path / 'config.json'}\n"
    assert not os.path.exists(missing.parent)


def test_a_date_given_at_login_is_the_expiry(set_up_person, registry):
    argv = ("login", registry.address, "-u", registry.user, "--password-stdin", "--expires", "2100-01-31")
    login = set_up_person.run("credctl", *argv, stdin=registry.password + "\n")
    assert login.returncode == 0, login.stdout + login.stderr

    exported = set_up_person.run("credctl", "export", registry.address)

    assert exported.returncode == 0, exported.stderr
    assert (
        exported.stdout
        == f'{{"auths":{{"{registry.address}":{{"auth":"{auth(registry.user, registry.password)}"}}}}}}\n'
    )
    assert re.fullmatch(
        rf"{re.escape(registry.address)}: user '{registry.user}' from docker-credential-pass expires "
        r"2100-01-31T23:59:59Z \(in \d+ days; date given at login\)\n",
        exported.stderr,
    ), exported.stderr


def test_a_login_that_cannot_be_an_auth_entry_is_one_line(pass_env, tmp_path):
    env = world.docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    store(env, "token.example", "<token>", "identity-token-secret-8")
    store(env, "colon.example", "team:bot", "colon-secret-9")

    token = credctl(env, "export", "token.example")
    colon = credctl(env, "export", "colon.example")

    assert (token.returncode, token.stdout, colon.returncode, colon.stdout) == (1, "", 1, "")
    assert token.stderr == (
        "error: docker-credential-pass holds an identity token for token.example, which cannot be handed on as a "
        "username and password (to Kubernetes, or by `credctl export`): log in with a password or an access token "
        "instead\n"
    )
    assert colon.stderr == (
        "error: colon.example: the username 'team:bot' holds a ':', which docker's `auth` field cannot carry\n"
    )
    world.assert_no_secret(["identity-token-secret-8", "colon-secret-9"], token.stderr, colon.stderr)


def test_a_symbolic_link_stays_one_and_its_file_is_rewritten(person, registry, tmp_path):
    target_folder = tmp_path / "secrets"
    target_folder.mkdir(mode=0o700)
    target = target_folder / "auth-config"
    target.write_text("old\n")
    link = tmp_path / "auth-link"
    link.symlink_to(target)

    result = credctl(person, "export", registry.address, "-o", str(link))

    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    line = f'{{"auths":{{"{registry.address}":{{"auth":"{auth(registry.user, registry.password)}"}}}}}}\n'
    assert target.read_bytes() == line.encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_link_into_a_folder_others_can_write_is_refused(person, registry, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # not sticky: anyone can swap what is in it
    link = tmp_path / "auth-link"
    link.symlink_to(shared / "auth-config")

    result = credctl(person, "export", registry.address, "-o", str(link))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {link}: it leads to {shared / 'auth-config'}, and {shared} is writable by other users (mode 0777): "
        "credctl does not trust a file another user controls: remove it\n"
    )
    assert list(shared.iterdir()) == []
