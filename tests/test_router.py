"""docker-credential-credctl (credsStore `credctl`) routing logins to credctl's own stores and to
other helper programs, for real.

The router runs as Docker runs it (the installed program; never imported here): routes are
written with the real `credctl route add` and `credctl route default` commands, or into
credctl's settings.json; the stores are a real pass store (real gpg, the pass_env fixture) and a
real gnome-keyring on a private D-Bus (secretservice). Other helpers are small shell scripts in a
bin folder first on PATH. The docker CLIs of the test world log in and out against real
docker-registry instances on 127.0.0.1.
"""

import base64
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
import world
from world import GO_SECRETSERVICE, NOT_FOUND, answer, b64, docker_env, outcome

ROUTER = "docker-credential-credctl"
SEC_HOST = "reg.sec.example"  # a host rule → secretservice
GLOB = "*.corp.example"  # a glob rule → secretservice
GLOB_HOST = "build.corp.example"
PLAIN_HOST = "plain.example"  # no rule: the default route, pass
TIMEOUT = 120


def router(env: dict[str, str], action: str, data: bytes | str = b"") -> tuple[int, bytes, bytes]:
    return outcome(world.installed(ROUTER), action, data, env)


def ours(env: dict[str, str], store: str, action: str, data: bytes | str = b"") -> tuple[int, bytes, bytes]:
    return outcome(world.installed(f"docker-credential-{store}"), action, data, env)


def credctl_ok(env: dict[str, str], *args: str) -> None:
    result = world.credctl(env, *args)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr


def settings_path(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"


def write_settings(env: dict[str, str], found: dict) -> None:
    path = settings_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    world.write(path, json.dumps(found).encode())


def pass_entry(env: dict[str, str], server: str, username: str) -> Path:
    """Where pass keeps server's login (the Go helper's layout: base64url folder, USER.gpg)."""
    folder = base64.urlsafe_b64encode(server.encode()).decode()
    return Path(env["PASSWORD_STORE_DIR"]) / "docker-credential-helpers" / folder / f"{username}.gpg"


def pass_folders(env: dict[str, str]) -> list[str]:
    top = Path(env["PASSWORD_STORE_DIR"]) / "docker-credential-helpers"
    return sorted(os.listdir(top)) if top.is_dir() else []


def script(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"docker-credential-{name}"
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def bus_pass(pass_env, secret_service, tmp_path) -> dict[str, str]:
    """A Docker user with credsStore credctl whose environment reaches both stores: the pass
    store of pass_env and secret_service's gnome-keyring; tmp_path/bin first on PATH; no routes."""
    base = {**pass_env, "DBUS_SESSION_BUS_ADDRESS": secret_service.env["DBUS_SESSION_BUS_ADDRESS"]}
    return docker_env(base, tmp_path, {"credsStore": "credctl"}, [str(tmp_path / "bin")])


@pytest.fixture
def routed(bus_pass) -> dict[str, str]:
    """bus_pass with the routes made by credctl's own commands: SEC_HOST and GLOB to
    secretservice, the default route pass."""
    credctl_ok(bus_pass, "route", "add", SEC_HOST, "secretservice")
    credctl_ok(bus_pass, "route", "add", GLOB, "secretservice")
    credctl_ok(bus_pass, "route", "default", "pass")
    return bus_pass


# --- 1. get, store, erase and list through routes ---------------------------------------------------

LOGINS = {SEC_HOST: ("alice", "alice-pw-1"), GLOB_HOST: ("bob", "bob-pw-2"), PLAIN_HOST: ("carol", "carol-pw-3")}


def store_all(env: dict[str, str]) -> None:
    for host, (user, secret) in LOGINS.items():
        assert router(env, "store", answer(host, secret, user)) == (0, b"", b""), host


def test_each_login_lands_in_its_routed_store_and_get_answers_as_that_store(routed):
    world.need(GO_SECRETSERVICE)
    store_all(routed)

    assert pass_folders(routed) == [pass_entry(routed, PLAIN_HOST, "carol").parent.name]
    assert pass_entry(routed, PLAIN_HOST, "carol").is_file()
    for host in (SEC_HOST, GLOB_HOST):
        user, secret = LOGINS[host]
        # Debian's Go helper reads the item our secretservice store wrote through the router
        assert outcome(GO_SECRETSERVICE, "get", host, routed) == (0, answer(host, secret, user), b"")
        assert ours(routed, "pass", "get", host) == (1, NOT_FOUND, b"")
    assert outcome(GO_SECRETSERVICE, "get", PLAIN_HOST, routed) == (1, NOT_FOUND, b"")
    for host, store in ((SEC_HOST, "secretservice"), (GLOB_HOST, "secretservice"), (PLAIN_HOST, "pass")):
        user, secret = LOGINS[host]
        own = ours(routed, store, "get", host)
        assert own == (0, answer(host, secret, user), b"")
        assert router(routed, "get", host) == own, host


def test_list_is_the_union_and_erase_goes_to_the_routed_store(routed):
    store_all(routed)
    listing = b'{"build.corp.example":"bob","plain.example":"carol","reg.sec.example":"alice"}\n'

    assert router(routed, "list", b"unused") == (0, listing, b"")

    assert router(routed, "erase", SEC_HOST) == (0, b"", b"")
    assert ours(routed, "secretservice", "get", SEC_HOST) == (1, NOT_FOUND, b"")
    assert router(routed, "get", SEC_HOST) == (1, NOT_FOUND, b"")
    assert ours(routed, "secretservice", "get", GLOB_HOST)[0] == 0  # the other item stays
    assert pass_entry(routed, PLAIN_HOST, "carol").is_file()

    assert router(routed, "erase", PLAIN_HOST) == (0, b"", b"")
    assert not pass_entry(routed, PLAIN_HOST, "carol").exists()
    assert router(routed, "list", b"unused") == (0, b'{"build.corp.example":"bob"}\n', b"")


# --- 2. Docker Hub by both keys ------------------------------------------------------------------------


def test_docker_hub_by_dockers_key_and_podmans(routed):
    world.need(world.GO_PASS)
    assert router(routed, "store", answer(world.HUB, "hub-pw-4", "hubby")) == (0, b"", b"")
    hub_folders = pass_folders(routed)

    # Podman's key gets Docker's login through the router, as through pass itself
    got = router(routed, "get", "docker.io")
    assert got == ours(routed, "pass", "get", "docker.io")
    assert got == (0, answer("docker.io", "hub-pw-4", "hubby"), b"")  # ServerURL: the key asked

    # a second copy under Podman's key, written by Debian's Go helper (which keeps one per key)
    assert outcome(world.GO_PASS, "store", answer("docker.io", "hub-pw-5", "hubby"), routed) == (0, b"", b"")
    assert len(pass_folders(routed)) == 2 and set(hub_folders) < set(pass_folders(routed))

    assert router(routed, "erase", "docker.io") == (0, b"", b"")

    assert pass_folders(routed) == []
    for key in (world.HUB, "docker.io", "index.docker.io", "registry-1.docker.io"):
        assert router(routed, "get", key) == (1, NOT_FOUND, b""), key
        assert ours(routed, "pass", "get", key) == (1, NOT_FOUND, b""), key


# --- 3. no route ---------------------------------------------------------------------------------------


def test_a_host_no_route_serves(bus_pass):
    write_settings(bus_pass, {})

    assert router(bus_pass, "get", PLAIN_HOST) == (1, NOT_FOUND, b"")
    status, out, err = router(bus_pass, "store", answer(PLAIN_HOST, "carol-pw-3", "carol"))
    assert (status, err) == (1, b"")
    assert out == (
        b"no route serves plain.example: add one (`credctl route add plain.example pass`) or a default route "
        b"(`credctl route default pass`), then log in again\n"
    )
    assert router(bus_pass, "erase", PLAIN_HOST) == (0, b"", b"")

    assert pass_folders(bus_pass) == []
    assert world.docker_items(bus_pass["DBUS_SESSION_BUS_ADDRESS"]) == []
    assert b"carol-pw-3" not in out + err


# --- 4. a route to another helper program ---------------------------------------------------------------

RECORDER = """#!/bin/sh
# Records each action and its stdin, byte for byte; get answers a fixed login.
printf '%s\\n' "$1" >> "$RECORDER_LOG"
cat >> "$RECORDER_LOG"
printf '\\n--\\n' >> "$RECORDER_LOG"
case "$1" in
  get) printf '%s\\n' '{"ServerURL":"rec.example","Username":"rec-user","Secret":"rec-pw \\u003c6\\u003e"}' ;;
  list) printf '%s\\n' '{"rec.example":"rec-user"}' ;;
esac
exit 0
"""
REC_HOST = "rec.example"


@pytest.fixture
def recorded(routed, tmp_path) -> tuple[dict[str, str], Path]:
    script(tmp_path / "bin", "recorder", RECORDER)
    log = tmp_path / "recorder.log"
    env = {**routed, "RECORDER_LOG": str(log)}
    credctl_ok(env, "route", "add", REC_HOST, "recorder")
    return env, log


def test_a_route_to_another_program_passes_stdin_and_its_answer_through(recorded):
    env, log = recorded
    body = answer(REC_HOST, "rec-pw-6", "rec-user")

    assert router(env, "store", body) == (0, b"", b"")
    got = router(env, "get", REC_HOST)
    assert router(env, "erase", REC_HOST) == (0, b"", b"")

    own = outcome(str(log.parent / "bin" / "docker-credential-recorder"), "get", REC_HOST, env)
    assert (
        got == own == (0, b'{"ServerURL":"rec.example","Username":"rec-user","Secret":"rec-pw \\u003c6\\u003e"}\n', b"")
    )
    recorded_bytes = log.read_bytes().split(b"\n--\n")
    assert recorded_bytes == [b"store\n" + body, b"get\nrec.example", b"erase\nrec.example", b"get\nrec.example", b""]
    assert pass_folders(env) == []  # the program kept it: nothing in the default store


# --- 5. a helper that hangs ----------------------------------------------------------------------------


def test_a_hanging_helper_fails_only_its_hosts_and_is_stopped(routed, tmp_path):
    marker = f"600.{os.getpid()}{secrets.randbelow(10**6):06d}"  # sleep's argument: unique to this test
    script(tmp_path / "bin", "hang", f"#!/bin/sh\nexec sleep {marker}\n")
    found = json.loads(settings_path(routed).read_text())
    found["routes"]["*.hang.example"] = "hang"
    found["route_timeout"] = 2  # a JSON number, as the design has it
    write_settings(routed, found)
    assert router(routed, "store", answer(PLAIN_HOST, "carol-pw-3", "carol")) == (0, b"", b"")

    failed = router(routed, "get", "a.hang.example")
    other = router(routed, "get", PLAIN_HOST)

    assert world.processes_naming(f"sleep {marker}") == []  # the sleeping child was stopped
    pgrep = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, timeout=30)
    assert (pgrep.returncode, pgrep.stdout) == (1, b"")
    assert other == (0, answer(PLAIN_HOST, "carol-pw-3", "carol"), b"")
    assert failed == (
        1,
        "route *.hang.example → docker-credential-hang: docker-credential-hang get failed (exit status 124): "
        "no answer within 2 s; stopped it\n".encode(),
        b"",
    )


# --- 6. list with one broken store, and entries that route elsewhere -----------------------------------

BROKEN = """#!/bin/sh
cat > /dev/null
case "$1" in
  list) echo "the token service is down"; exit 1 ;;
esac
echo "credentials not found in native keychain"; exit 1
"""


def test_list_leaves_out_a_broken_store_with_one_line(bus_pass, tmp_path):
    script(tmp_path / "bin", "broken", BROKEN)
    write_settings(bus_pass, {"routes": {"broken.example": "broken"}, "route_default": "pass"})
    for host, user in (("one.example", "u1"), ("two.example:5000", "u2")):
        assert ours(bus_pass, "pass", "store", answer(host, f"{user}-pw", user)) == (0, b"", b"")

    assert router(bus_pass, "list", b"unused") == (
        0,
        b'{"one.example":"u1","two.example:5000":"u2"}\n',
        b"credctl: left out of the list: docker-credential-broken: docker-credential-broken list failed "
        b"(exit status 1): the token service is down\n",
    )


def test_list_keeps_an_entry_only_where_its_key_routes_back(routed):
    store_all(routed)
    # straight into pass, for a host the routes send to secretservice: get would never find it there
    assert ours(routed, "pass", "store", answer("x.corp.example", "x-pw", "xavier")) == (0, b"", b"")
    assert ours(routed, "pass", "store", answer(SEC_HOST, "stale-pw", "stale")) == (0, b"", b"")

    assert router(routed, "list", b"unused") == (
        0,
        b'{"build.corp.example":"bob","plain.example":"carol","reg.sec.example":"alice"}\n',
        b"",
    )


# --- 7. credctl helper credctl ------------------------------------------------------------------------


def test_credctl_helper_credctl_is_the_same_program(routed):
    store_all(routed)
    for host in (*LOGINS, "nobody.example"):
        hidden = world.run([world.installed("credctl"), "helper", "credctl", "get"], host, routed)
        assert (hidden.returncode, hidden.stdout, hidden.stderr) == router(routed, "get", host), host


# --- 8. credctl k8s pull-secret and the kubelet plugin ------------------------------------------------


def test_a_pull_secret_for_a_glob_routed_host_holds_the_routed_stores_login(routed):
    import yaml

    store_all(routed)
    result = world.credctl(routed, "k8s", "pull-secret", GLOB_HOST, "--name", "regcred")

    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    secret = yaml.safe_load(result.stdout)
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])) == {
        "auths": {GLOB_HOST: {"username": "bob", "password": "bob-pw-2", "auth": b64("bob:bob-pw-2")}}
    }


def test_the_kubelet_plugin_resolves_through_the_routes(bus_pass):
    write_settings(bus_pass, {"routes": {GLOB: "secretservice"}})
    assert router(bus_pass, "store", answer(GLOB_HOST, "bob-pw-2", "bob")) == (0, b"", b"")

    found = world.answered(world.provide(bus_pass, world.request(f"{GLOB_HOST}/team/app:1")))
    nobody = world.answered(world.provide(bus_pass, world.request(f"{PLAIN_HOST}/team/app:1")))

    assert found["auth"] == {GLOB_HOST: {"username": "bob", "password": "bob-pw-2"}}
    assert nobody["auth"] == {}


# --- 9. the real docker CLIs --------------------------------------------------------------------------

SECOND_USER, SECOND_PASSWORD = "second-user", "second-registry-pw"
IMAGE, TAG = "credctl/routed", "v1"


@pytest.fixture(scope="module")
def registries(registry, tmp_path_factory):
    """(first, second): the module's registry and another on its own port with its own user,
    each holding IMAGE:TAG (Docker's schema 2 manifest, which every docker CLI reads)."""
    second = world.Registry(tmp_path_factory.mktemp("second-registry"), SECOND_USER, SECOND_PASSWORD)
    try:
        for server in (registry, second):
            world.push_image(server, IMAGE, TAG, server.user, server.password, "v2s2")
        yield registry, second
    finally:
        second.stop()


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def test_docker_login_and_logout_through_two_routes(docker_cli, registries, bus_pass):
    world.need(GO_SECRETSERVICE)
    first, second = registries
    credctl_ok(bus_pass, "route", "add", first.address, "secretservice")
    credctl_ok(bus_pass, "route", "default", "pass")
    config = Path(bus_pass["DOCKER_CONFIG"]) / "config.json"

    for server in (first, second):
        login = run(
            [docker_cli, "login", "-u", server.user, "--password-stdin", server.address], bus_pass, server.password
        )
        assert login.returncode == 0, login.stderr
        assert "Login Succeeded" in login.stdout
        assert "unencrypted" not in login.stdout + login.stderr
        inspect = run([docker_cli, "manifest", "inspect", "--insecure", f"{server.address}/{IMAGE}:{TAG}"], bus_pass)
        assert inspect.returncode == 0, inspect.stderr

    assert json.loads(config.read_text()) == {
        "auths": {first.address: {}, second.address: {}},
        "credsStore": "credctl",
    }
    for server in (first, second):
        world.no_login_in(config, server.address, server.user, server.password)
    first_login = answer(first.address, first.password, first.user)
    second_login = answer(second.address, second.password, second.user)
    assert outcome(GO_SECRETSERVICE, "get", first.address, bus_pass) == (0, first_login, b"")
    assert outcome(GO_SECRETSERVICE, "get", second.address, bus_pass) == (1, NOT_FOUND, b"")
    assert ours(bus_pass, "pass", "get", second.address) == (0, second_login, b"")
    assert ours(bus_pass, "pass", "get", first.address) == (1, NOT_FOUND, b"")

    logout = run([docker_cli, "logout", first.address], bus_pass)

    assert logout.returncode == 0, logout.stderr
    assert f"Removing login credentials for {first.address}" in logout.stdout
    assert outcome(GO_SECRETSERVICE, "get", first.address, bus_pass) == (1, NOT_FOUND, b"")
    assert router(bus_pass, "get", first.address) == (1, NOT_FOUND, b"")
    assert ours(bus_pass, "pass", "get", second.address) == (0, second_login, b"")
    assert router(bus_pass, "get", second.address) == (0, second_login, b"")
    assert json.loads(config.read_text()) == {"auths": {second.address: {}}, "credsStore": "credctl"}
