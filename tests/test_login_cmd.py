"""`credctl login`, `logout` and `show` as a person runs them: a real registry (htpasswd), a real
pass store in their own HOME (world.pass_person), `credctl setup --store pass --podman`, then the
real docker CLIs (both test-world versions; `docker manifest inspect --insecure`, which needs no
daemon) and podman in its default configuration (no REGISTRY_AUTH_FILE, no DOCKER_CONFIG).

Docker Hub is never contacted: its logins are stored with --no-verify, or straight through the
helper, and only erased.
"""

import json
import re
from pathlib import Path

import pytest
import world

IMAGE, TAG = "credctl/login", "v1"
HUB = world.HUB


@pytest.fixture(scope="module")
def image(registry) -> str:
    """IMAGE:TAG (Docker schema 2, which both docker CLIs and podman read); its digest."""
    return world.push_image(registry, IMAGE, TAG, registry.user, registry.password, "v2s2")


def _person(tmp_path: Path, setup: bool = True) -> world.ContainersUser:
    world.need("podman", "unshare")
    person = world.pass_person(tmp_path / "p")
    if setup:
        done = person.run("credctl", "setup", "--store", "pass", "--podman", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
    return person


@pytest.fixture
def person(tmp_path):
    """Someone with pass as Docker's credsStore and Podman's drop-in (`credctl setup`)."""
    someone = _person(tmp_path)
    yield someone
    world.stop_person_agent(someone)


@pytest.fixture
def bare(tmp_path):
    """Someone with a pass store and nothing set up."""
    someone = _person(tmp_path, setup=False)
    yield someone
    world.stop_person_agent(someone)


def credctl_login(person, registry: str, user: str, password: str, *extra: str):
    return person.run("credctl", "login", registry, "-u", user, "--password-stdin", *extra, stdin=password + "\n")


def docker_config(person) -> Path:
    return person.home / ".docker" / "config.json"


def set_docker_config(person, **fields: object) -> Path:
    """Set top-level fields of person's config.json, tab-indented as docker writes it; its path."""
    path = docker_config(person)
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data, indent="\t"))
    return path


def dropin(person) -> Path:
    return person.dropin_folder / "90-credctl.conf"


def files_of(person) -> dict[str, bytes]:
    """Every file under the person's home and runtime folder (pass store included), by path."""
    found = {}
    for top in (person.home, person.runtime):
        for path in sorted(top.rglob("*")):
            if path.is_file() and not path.is_symlink() and "S.gpg-agent" not in path.name:
                found[str(path)] = path.read_bytes()
    return found


def pass_entries(person) -> dict[str, str]:
    """The pass store's logins as its helper lists them: {server: username}."""
    listed = person.run("docker-credential-pass", "list")
    assert listed.returncode == 0, listed.stdout
    return json.loads(listed.stdout)


def no_secret(password: str, *results) -> None:
    for result in results:
        assert password not in result.stdout and password not in result.stderr
        assert world.b64(f"{world.REGISTRY_USER}:{password}") not in result.stdout + result.stderr


@pytest.mark.parametrize("docker_cli", sorted(world.DOCKER_CLIS))
def test_login_then_docker_pulls_with_nothing_else(docker_cli, person, registry, image):
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert (done.returncode, done.stderr) == (0, ""), done.stdout
    assert done.stdout == (
        f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-pass "
        "for Docker and Podman\n"
    )
    reference = f"{registry.address}/{IMAGE}:{TAG}"
    inspect = person.run(world.DOCKER_CLIS[docker_cli], "manifest", "inspect", "--insecure", "-v", reference)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Descriptor"]["digest"] == image
    for path in (docker_config(person), person.primary_auth_file, person.home / ".config/containers/auth.json"):
        world.no_login_in(path, registry.address, registry.user, registry.password)
    world.secret_in_no_file(person.base, registry.password, world.b64(f"{registry.user}:{registry.password}"))
    no_secret(registry.password, done, inspect)


def test_login_then_podman_pulls_with_nothing_else(person, registry, image):
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert done.returncode == 0, done.stdout + done.stderr
    pulled = person.run("podman", "pull", "--tls-verify=false", "--quiet", f"{registry.address}/{IMAGE}:{TAG}")
    assert pulled.returncode == 0, pulled.stderr
    assert not person.primary_auth_file.exists()
    assert pass_entries(person) == {registry.address: registry.user}


def test_wrong_password_stores_nothing(person, registry):
    before = files_of(person)
    done = credctl_login(person, registry.address, registry.user, "not-the-password")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: {registry.address}: unauthorized: http://{registry.address}/v2/ rejected "
        f"'{registry.user}' (Basic auth): nothing stored\n"
    )
    assert files_of(person) == before
    assert "not-the-password" not in done.stderr


def test_unreachable_registry_stores_nothing(person, registry):
    before = files_of(person)
    done = credctl_login(person, "127.0.0.1:9", registry.user, registry.password)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: 127.0.0.1:9: cannot reach https://127.0.0.1:9/v2/: Connection refused; "
        "cannot reach http://127.0.0.1:9/v2/: Connection refused: nothing stored\n"
    )
    assert files_of(person) == before
    no_secret(registry.password, done)


def test_plaintext_is_refused_before_asking(bare, registry):
    """Podman in its default configuration would write the login to its primary auth file: refused,
    nothing stored, and the registry is not even asked (the refusal comes first)."""
    before = files_of(bare)
    done = credctl_login(bare, registry.address, registry.user, registry.password)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: Podman would keep the login for {registry.address} in plaintext in {bare.primary_auth_file}: "
        "nothing stored; run `credctl setup` so that a credential helper keeps it, then "
        f"`credctl login {registry.address}` again\n"
    )
    assert files_of(bare) == before
    assert pass_entries(bare) == {}


def test_docker_plaintext_is_refused(person, registry):
    """A credHelpers entry "" sends the registry to config.json's auths: refused."""
    path = set_docker_config(person, credHelpers={registry.address: ""})
    before = files_of(person)
    done = credctl_login(person, registry.address, registry.user, registry.password, "--no-verify")
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: Docker would keep the login for {registry.address} in plaintext in {path}")
    assert files_of(person) == before


def test_password_stdin_needs_a_username(person, registry):
    done = person.run("credctl", "login", registry.address, "--password-stdin", stdin=registry.password)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: Invalid value for --password-stdin: --password-stdin needs the username: add -u USER"
    )
    no_secret(registry.password, done)


def test_no_terminal_and_no_password_stdin_is_refused(person, registry):
    done = person.run("credctl", "login", registry.address, "-u", registry.user)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: no terminal to ask the password on: pass it on stdin with --password-stdin"
    )


def test_show_text_and_json_never_the_secret(person, registry):
    assert credctl_login(person, registry.address, registry.user, registry.password).returncode == 0
    config, conf = docker_config(person), dropin(person)
    text = person.run("credctl", "show", registry.address)
    assert (text.returncode, text.stderr) == (0, "")
    assert text.stdout == (
        f"Docker: {registry.address}: user {registry.user} from docker-credential-pass (credsStore in {config})\n"
        f"Podman: {registry.address}: user {registry.user} from docker-credential-pass "
        f"(credential-helpers in {conf})\n"
    )
    shown = person.run("credctl", "show", registry.address, "--json")
    assert shown.returncode == 0
    common = {"key": registry.address, "helper": "pass", "route": None, "route_helper": None}
    common |= {"username": registry.user, "expires": None, "expires_from": None, "error": None}
    assert json.loads(shown.stdout) == {
        "registry": registry.address,
        "logins": [
            {"tool": "docker", "via": "credsStore", "file": str(config), **common},
            {"tool": "podman", "via": "credential-helpers", "file": str(conf), **common},
        ],
    }
    no_secret(registry.password, text, shown)


def test_show_not_logged_in(person, registry):
    text = person.run("credctl", "show", registry.address)
    assert text.stdout == (
        f"Docker: {registry.address}: not logged in (credsStore in {docker_config(person)})\n"
        f"Podman: {registry.address}: not logged in (credential-helpers in {dropin(person)})\n"
    )


def test_logout_removes_and_says_so(person, registry):
    assert credctl_login(person, registry.address, registry.user, registry.password).returncode == 0
    done = person.run("credctl", "logout", registry.address)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"✓ removed {registry.address} (user {registry.user}) from docker-credential-pass (read by Docker and Podman)\n"
    )
    assert pass_entries(person) == {}
    again = person.run("credctl", "logout", registry.address)
    assert (again.returncode, again.stdout) == (
        0,
        f"not logged in to {registry.address}: no login for it where Docker or Podman look\n",
    )


def test_logout_of_docker_hub_under_two_keys_by_two_tools(person):
    """Docker's login through the helper (https://index.docker.io/v1/), Podman's in plaintext in
    its primary auth file (docker.io, as `podman login` writes it with no helper): both go, each
    said; Docker Hub is never contacted."""
    stored = person.run(
        "docker-credential-pass",
        "store",
        stdin=json.dumps({"ServerURL": HUB, "Username": "hub-docker", "Secret": "hub-secret-1"}),
    )
    assert stored.returncode == 0, stored.stdout
    auth = person.primary_auth_file
    auth.parent.mkdir(parents=True, exist_ok=True)
    auth.write_text(json.dumps({"auths": {"docker.io": {"auth": world.b64("hub-podman:hub-secret-2")}}}, indent="\t"))
    done = person.run("credctl", "logout", "docker.io")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"✓ removed {HUB} (user hub-docker) from docker-credential-pass (read by Docker and Podman)\n"
        f"✓ removed docker.io (user hub-podman) from {auth} (plaintext)\n"
    )
    assert json.loads(auth.read_text()) == {}
    assert pass_entries(person) == {}
    no_secret("hub-secret-1", done)
    no_secret("hub-secret-2", done)


def test_docker_hub_login_without_verify_is_one_copy_both_tools_find(person):
    done = credctl_login(person, "docker.io", "hub-user", "hub-secret", "--no-verify")
    assert done.stdout == (
        f"✓ stored the login for {HUB} (user hub-user) in docker-credential-pass for Docker and Podman\n"
    )
    for key in (HUB, "docker.io"):
        found = person.run("docker-credential-pass", "get", stdin=key)
        assert json.loads(found.stdout)["Username"] == "hub-user"
    shown = json.loads(person.run("credctl", "show", "docker.io", "--json").stdout)
    assert [(row["tool"], row["key"], row["username"]) for row in shown["logins"]] == [
        ("docker", HUB, "hub-user"),
        ("podman", "docker.io", "hub-user"),
    ]


def route_through_the_router(person, routes: dict[str, str], default: str | None = None) -> Path:
    """Docker's credsStore becomes the router (credctl) with these routes; Podman keeps pass's drop-in."""
    path = set_docker_config(person, credsStore="credctl")
    settings = {"routes": routes, **({"route_default": default} if default else {})}
    folder = person.home / ".config" / "credctl"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    world.write(folder / "settings.json", json.dumps(settings).encode())
    return path


@pytest.mark.parametrize("docker_cli", sorted(world.DOCKER_CLIS))
def test_login_through_the_routers_route(docker_cli, person, registry, image):
    """The route for the registry decides; Podman's drop-in names the same store, so it is stored once."""
    config = route_through_the_router(person, {registry.address: "pass"})
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert (done.returncode, done.stderr) == (0, ""), done.stdout
    assert done.stdout == (
        f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-credctl "
        "for Docker and Podman\n"
    )
    assert pass_entries(person) == {registry.address: registry.user}
    reference = f"{registry.address}/{IMAGE}:{TAG}"
    inspect = person.run(world.DOCKER_CLIS[docker_cli], "manifest", "inspect", "--insecure", "-v", reference)
    assert inspect.returncode == 0, inspect.stderr
    shown = person.run("credctl", "show", registry.address)
    assert shown.stdout.splitlines()[0] == (
        f"Docker: {registry.address}: user {registry.user} from docker-credential-credctl "
        f"(credsStore credctl in {config}, route {registry.address} → pass)"
    )
    row = json.loads(person.run("credctl", "show", registry.address, "--json").stdout)["logins"][0]
    assert (row["via"], row["helper"], row["route"], row["route_helper"]) == (
        "credsStore",
        "credctl",
        registry.address,
        "pass",
    )
    no_secret(registry.password, done, inspect, shown)


def test_router_without_a_route_is_refused(person, registry):
    config = route_through_the_router(person, {"other.example": "pass"})
    before = files_of(person)
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: no route of the router (credsStore credctl in {config}) serves {registry.address}: nothing "
        f"stored; add one (`credctl route add {registry.address} pass`) or a default route\n"
    )
    assert files_of(person) == before


def test_on_a_terminal_the_username_and_hidden_password_are_asked(person, registry):
    status, shown = world.on_terminal(
        person.env,
        ["login", registry.address],
        [("Username: ", registry.user), ("Password: ", registry.password)],
    )
    assert status == 0, shown
    assert registry.password not in shown
    assert shown.splitlines()[-1] == (
        f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-pass "
        "for Docker and Podman"
    )
    assert pass_entries(person) == {registry.address: registry.user}


def test_an_acr_registry_login_is_kept_and_show_gives_the_tokens_expiry(registry, aliyun, pass_env, tmp_path):
    """A registry mapped to acr-helper (a custom ACR domain of the fake's instance): the login goes
    to the login store (pass), and show gives the issued token's user and expiry, never the token."""
    import time

    config = {"credsStore": "pass", "credHelpers": {registry.address: "acr-helper"}}
    env = world.acr_registry_env(pass_env, tmp_path, aliyun, config)
    done = world.run(
        [world.CREDCTL, "login", registry.address, "-u", registry.user, "--password-stdin"], registry.password, env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == (
        f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-acr-helper "
        "for Docker and Podman\n"
    )
    assert world.outcome(world.ours("docker-credential-pass"), "get", registry.address, env)[0] == 0
    shown = world.credctl(env, "show", registry.address, "--json")
    assert shown.returncode == 0, shown.stderr
    row = json.loads(shown.stdout)["logins"][0]
    issued = aliyun.issued[-1]
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued.expire_ms // 1000))
    assert (row["helper"], row["via"], row["username"], row["expires"], row["expires_from"]) == (
        "acr-helper",
        "credHelpers",
        world.TEMP_USER,
        expires,
        "token",
    )
    text = world.credctl(env, "show", registry.address)
    said = re.search(
        rf"user {world.TEMP_USER} from docker-credential-acr-helper, expires (\S+) \(in [^;]+; an issued token\) ",
        text.stdout,
    )
    assert said is not None and said.group(1) == expires, text.stdout
    for output in (shown.stdout, text.stdout, text.stderr, shown.stderr):
        assert issued.token not in output and registry.password not in output
    out = world.credctl(env, "logout", registry.address)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == (
        f"✓ removed {registry.address} (user {registry.user}) from docker-credential-acr-helper "
        "(read by Docker and Podman)\n"
    )
    assert world.outcome(world.ours("docker-credential-pass"), "get", registry.address, env)[0] == 1


def test_logout_of_docker_hub_removes_every_key_in_the_store(person):
    """Two copies in one store, as Debian's Go docker-credential-pass leaves them (it keeps each key
    apart: Podman's docker.io beside Docker's v1 URL, which credctl's helper stored): both go."""
    world.need(world.GO_PASS)
    ours = person.run(
        "docker-credential-pass", "store", stdin=json.dumps({"ServerURL": HUB, "Username": "hub-a", "Secret": "s-1"})
    )
    assert ours.returncode == 0, ours.stdout
    go = person.run(
        world.GO_PASS, "store", stdin=json.dumps({"ServerURL": "docker.io", "Username": "hub-b", "Secret": "s-2"})
    )
    assert go.returncode == 0, go.stdout + go.stderr
    assert pass_entries(person) == {HUB: "hub-a", "docker.io": "hub-b"}
    done = person.run("credctl", "logout", "https://index.docker.io/v1/")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"✓ removed {HUB} (user hub-a) from docker-credential-pass (read by Docker and Podman)\n"
        "✓ removed docker.io (user hub-b) from docker-credential-pass (read by Docker and Podman)\n"
    )
    assert pass_entries(person) == {}


def test_a_helper_that_is_not_there_is_refused_before_anything_is_stored(person, registry):
    path = set_docker_config(person, credHelpers={registry.address: "nosuch"})
    before = files_of(person)
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: Docker runs docker-credential-nosuch for {registry.address} (credHelpers {registry.address} in "
        f"{path}), which is not on PATH: nothing stored; install it, or map the registry to another helper\n"
    )
    assert files_of(person) == before


def test_podman_behind_the_router_too_is_stored_once_and_pulls(person, registry, image):
    """Docker's credsStore and Podman's drop-in both name the router: one route, one store, one copy."""
    route_through_the_router(person, {}, default="pass")
    conf = dropin(person)
    conf.write_text(conf.read_text().replace('"pass"', '"credctl"'))
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert (done.returncode, done.stderr) == (0, ""), done.stdout
    assert done.stdout == (
        f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-credctl "
        "for Docker and Podman\n"
    )
    assert pass_entries(person) == {registry.address: registry.user}
    pulled = person.run("podman", "pull", "--tls-verify=false", "--quiet", f"{registry.address}/{IMAGE}:{TAG}")
    assert pulled.returncode == 0, pulled.stderr
    shown = person.run("credctl", "show", registry.address)
    assert shown.stdout.splitlines()[1] == (
        f"Podman: {registry.address}: user {registry.user} from docker-credential-credctl "
        f"(credential-helpers in {conf}, route * → pass)"
    )


def test_a_second_store_that_fails_says_where_the_login_is_already(person, registry):
    """Docker's pass takes it; Podman's drop-in names secretservice, which has no session bus here."""
    conf = dropin(person)
    conf.write_text(conf.read_text().replace('"pass"', '"secretservice"'))
    done = credctl_login(person, registry.address, registry.user, registry.password)
    assert done.returncode == 1
    assert done.stdout == (
        f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-pass for Docker\n"
    )
    line = done.stderr.splitlines()
    assert len(line) == 1 and line[0].startswith("error: ")
    assert line[0].endswith(
        f"; stored already for Docker in docker-credential-pass: `credctl logout {registry.address}` undoes it"
    )
    no_secret(registry.password, done)
    out = person.run("credctl", "logout", registry.address)
    assert out.stdout.startswith(f"✓ removed {registry.address} (user {registry.user}) from docker-credential-pass")
    assert out.returncode == 1  # the helper it cannot ask is said, then one error line
    assert out.stderr.splitlines()[0].startswith("warning: docker-credential-secretservice: no D-Bus session bus")
    assert out.stderr.splitlines()[1] == (
        f"error: 1 helper(s) could not be asked to remove the login for {registry.address}: see above"
    )
    assert pass_entries(person) == {}


def test_after_setup_router_login_serves_docker_and_podman(tmp_path, registry, image):
    """The guide's set-up: `credctl setup --store pass --router --podman`; a glob route sends other
    hosts elsewhere, the registry takes the default route (pass); one copy, both tools pull."""
    someone = _person(tmp_path, setup=False)
    try:
        done = someone.run("credctl", "setup", "--store", "pass", "--router", "--podman", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        routed = someone.run("credctl", "route", "add", "*.corp.example", "secretservice")
        assert routed.returncode == 0, routed.stdout + routed.stderr
        logged_in = credctl_login(someone, registry.address, registry.user, registry.password)
        assert (logged_in.returncode, logged_in.stderr) == (0, ""), logged_in.stdout
        assert logged_in.stdout == (
            f"✓ stored the login for {registry.address} (user {registry.user}) in docker-credential-credctl "
            "for Docker and Podman\n"
        )
        assert pass_entries(someone) == {registry.address: registry.user}
        reference = f"{registry.address}/{IMAGE}:{TAG}"
        docker = world.DOCKER_CLIS[sorted(world.DOCKER_CLIS)[-1]]
        inspect = someone.run(docker, "manifest", "inspect", "--insecure", "-v", reference)
        assert inspect.returncode == 0, inspect.stderr
        pulled = someone.run("podman", "pull", "--tls-verify=false", "--quiet", reference)
        assert pulled.returncode == 0, pulled.stderr
        rows = json.loads(someone.run("credctl", "show", registry.address, "--json").stdout)["logins"]
        assert [(row["tool"], row["helper"], row["route"], row["route_helper"], row["username"]) for row in rows] == [
            ("docker", "credctl", "*", "pass", registry.user),
            ("podman", "credctl", "*", "pass", registry.user),
        ]
        out = someone.run("credctl", "logout", registry.address)
        assert out.stdout == (
            f"✓ removed {registry.address} (user {registry.user}) from docker-credential-credctl "
            "(read by Docker and Podman)\n"
        )
        assert pass_entries(someone) == {}
    finally:
        world.stop_person_agent(someone)
