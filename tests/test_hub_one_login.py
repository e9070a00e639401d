"""Docker Hub is one login across tools: whichever of Hub's keys a tool sends (names.login_keys),
`get` finds the login, `store` leaves no stale copy under another key and `erase` removes every
copy. So `docker logout` (it erases https://index.docker.io/v1/) ends a login `podman login
docker.io` stored, and `podman logout docker.io` (it erases docker.io) ends Docker's.

Real clients, real stores, nothing that talks to Docker Hub: a Podman login is stored the way
containers/image stores it (the helper's `store` with ServerURL docker.io), Docker's the way
docker login does (ServerURL https://index.docker.io/v1/); then the real `docker logout` (both
docker CLIs of the test world; it does not contact a registry) and `podman logout docker.io`.
"""

import json

import pytest
import world
from world import GO_PASS, HUB, NOT_FOUND, answer, docker_env, outcome, run

from credctl.names import DOCKER_HUB_KEYS
from credctl.stores import LOGIN_STORES

PODMAN_HUB = "docker.io"


@pytest.fixture(params=LOGIN_STORES)
def login_world(request) -> world.StoreWorld:
    return world.store_world(request.param, request)


def stored(program: str, env: dict[str, str], server: str, username: str, secret: str) -> None:
    assert outcome(program, "store", answer(server, secret, username), env) == (0, b"", b"")


def logged_out(program: str, env: dict[str, str]) -> None:
    """No Hub key finds a login any more, and the store lists nothing."""
    for key in DOCKER_HUB_KEYS:
        assert outcome(program, "get", key, env) == (1, NOT_FOUND, b""), key
    assert outcome(program, "list", b"", env) == (0, b"{}\n", b"")


def test_docker_logout_ends_the_login_podman_stored(docker_cli, login_world, tmp_path):
    env = docker_env(login_world.env, tmp_path, config={"credsStore": login_world.name})
    stored(login_world.program, env, PODMAN_HUB, "alice", "podman-secret")
    assert outcome(login_world.program, "get", HUB, env) == (0, answer(HUB, "podman-secret", "alice"), b"")

    logout = run([docker_cli, "logout"], env=env)
    assert (logout.returncode, logout.stdout, logout.stderr) == (
        0,
        f"Removing login credentials for {HUB}\n".encode(),
        b"",
    )
    logged_out(login_world.program, env)


def test_docker_logout_docker_io_ends_dockers_own_login(docker_cli, login_world, tmp_path):
    """`docker logout docker.io` erases docker.io and its http(s):// spellings, never the v1 key
    (cli/command/registry/logout.go): the helper's erase of docker.io removes that too."""
    env = docker_env(login_world.env, tmp_path, config={"credsStore": login_world.name})
    stored(login_world.program, env, HUB, "alice", "docker-secret")
    logout = run([docker_cli, "logout", PODMAN_HUB], env=env)
    assert (logout.returncode, logout.stdout, logout.stderr) == (0, b"Removing login credentials for docker.io\n", b"")
    logged_out(login_world.program, env)


def test_podman_logout_docker_io_ends_the_login_docker_stored(login_world, tmp_path):
    world.need("podman")
    person = world.containers_user_of(login_world, tmp_path / "person")
    person.primary_auth_file.parent.mkdir(parents=True)
    world.write(person.primary_auth_file, json.dumps({"credHelpers": {PODMAN_HUB: login_world.name}}).encode())
    stored_by_docker = person.run(login_world.program, "store", stdin=answer(HUB, "docker-secret", "alice").decode())
    assert stored_by_docker.returncode == 0, stored_by_docker.stdout

    logout = person.run("podman", "logout", PODMAN_HUB)
    assert (logout.returncode, logout.stdout, logout.stderr) == (0, "Removed login credentials for docker.io\n", "")
    for key in DOCKER_HUB_KEYS:
        assert world.helper_outcome(person, login_world.program, "get", key) == (1, NOT_FOUND.decode(), ""), key
    assert world.helper_outcome(person, login_world.program, "list") == (0, "{}\n", "")


@pytest.mark.parametrize(("older", "newer"), [(HUB, PODMAN_HUB), (PODMAN_HUB, HUB), ("registry-1.docker.io", HUB)])
def test_a_new_hub_login_leaves_no_stale_copy(login_world, older, newer):
    program, env = login_world.program, login_world.env
    stored(program, env, "quay.io", "quinn", "quay-secret")
    stored(program, env, older, "old-user", "old-secret")
    stored(program, env, newer, "new-user", "new-secret")
    listing = json.dumps({newer: "new-user", "quay.io": "quinn"}, sort_keys=True, separators=(",", ":"))
    assert outcome(program, "list", b"", env) == (0, listing.encode() + b"\n", b"")  # one Hub entry
    for key in DOCKER_HUB_KEYS:
        assert outcome(program, "get", key, env) == (0, answer(key, "new-secret", "new-user"), b""), key


def test_what_gos_pass_helper_sees_in_the_same_store(pass_env):
    """Go's pass helper has no Hub fallback: it finds a login under the key it was stored with
    only, and answers any other key with an empty login (exit 0). After credctl's erase of any
    Hub key it finds nothing (docs/helper-protocol.md)."""
    world.need(GO_PASS)
    ours = world.ours("docker-credential-pass")
    stored(GO_PASS, pass_env, HUB, "old-user", "old-secret")  # docker login through Go's helper
    stored(ours, pass_env, PODMAN_HUB, "alice", "pw")  # podman login through credctl's
    assert outcome(GO_PASS, "list", b"", pass_env) == (0, b'{"docker.io":"alice"}\n', b"")
    assert outcome(GO_PASS, "get", PODMAN_HUB, pass_env) == (0, answer(PODMAN_HUB, "pw", "alice"), b"")
    assert outcome(GO_PASS, "get", HUB, pass_env) == (0, answer(HUB, "", ""), b"")  # Go: no fallback
    assert outcome(ours, "get", HUB, pass_env) == (0, answer(HUB, "pw", "alice"), b"")

    assert outcome(ours, "erase", HUB, pass_env) == (0, b"", b"")  # docker logout through credctl
    assert outcome(GO_PASS, "get", PODMAN_HUB, pass_env) == (0, answer(PODMAN_HUB, "", ""), b"")
    assert outcome(GO_PASS, "list", b"", pass_env) == (0, b"{}\n", b"")
