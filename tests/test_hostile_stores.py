"""The stores against other local users and against crafted names (issue 15, items 8 and 14).

A foreign bus: with DBUS_SESSION_BUS_ADDRESS unset, the Secret Service store looks for
$XDG_RUNTIME_DIR/bus and takes it only when the socket (a symlink followed, as GDBus does) and
its folder are the user's, as libdbus and GDBus take it; and on any bus, explicit address
included, only when the daemon listening is run by the user or root (SO_PEERCRED). Otherwise
one line, and the password never reaches the bus: the real gnome-keyring behind it ends up with no item.

The second uid is real (world.free_uid); the daemons are real (dbus-daemon, gnome-keyring).
"""

import json
import os

import pytest
import world
from world import NOT_FOUND, outcome

from credctl.dbus import Connection

SERVER = "registry.example.com"
LOGIN = json.dumps({"ServerURL": SERVER, "Username": "alice", "Secret": "s3cret-not-for-others"})
SECRETSERVICE = world.ours("docker-credential-secretservice")
KEYRING_WITHOUT_BUS = (
    b"the keyring backend named in PYTHON_KEYRING_BACKEND or keyringrc.cfg cannot work here "
    b"(Unable to initialize SecretService: Environment variable DBUS_SESSION_BUS_ADDRESS is unset)\n"
)
OWN_BUS_HINT = "credctl sends secrets only to your own bus; set DBUS_SESSION_BUS_ADDRESS to your session's bus"


@pytest.fixture
def runtime_bus(secret_service):
    """(environment without DBUS_SESSION_BUS_ADDRESS, the bus's address): the secret_service
    fixture's bus moved to $XDG_RUNTIME_DIR/bus, the one place left to find it."""
    env = world.bus_in_runtime_dir(secret_service)
    return env, f"unix:path={env['XDG_RUNTIME_DIR']}/bus"


def foreign_line(env: dict[str, str], uid: int, foreign: str) -> bytes:
    runtime = env["XDG_RUNTIME_DIR"]
    if foreign == "folder":
        what = f"the folder {runtime} of the D-Bus session bus"
    else:  # the socket is checked first
        what = f"the D-Bus session bus {runtime}/bus"
    return f"{what} belongs to uid {uid}, not to you (uid {os.geteuid()}): {OWN_BUS_HINT}\n".encode()


@pytest.mark.parametrize("foreign", ["socket", "folder", "both"])
def test_a_runtime_dir_bus_of_another_user_never_gets_the_password(runtime_bus, foreign):
    env, address = runtime_bus
    uid = world.free_uid()
    runtime = env["XDG_RUNTIME_DIR"]
    if foreign in ("socket", "both"):
        os.chown(f"{runtime}/bus", uid, uid, follow_symlinks=False)
    if foreign in ("folder", "both"):
        os.chown(runtime, uid, uid)
    line = foreign_line(env, uid, foreign)
    assert outcome(SECRETSERVICE, "store", LOGIN, env) == (1, line, b"")
    assert outcome(SECRETSERVICE, "get", SERVER, env) == (1, line, b"")
    assert outcome(SECRETSERVICE, "list", "", env) == (1, line, b"")
    assert world.docker_items(address) == []  # gnome-keyring behind that bus got nothing


def test_a_symlink_at_the_runtime_dir_bus_to_another_users_socket_is_refused(runtime_bus, tmp_path):
    """A symlink there is followed (as GDBus does), and the socket it names must be the user's."""
    env, _address = runtime_bus
    uid = world.free_uid()
    runtime = env["XDG_RUNTIME_DIR"]
    moved = tmp_path / "elsewhere"
    os.rename(f"{runtime}/bus", moved)
    os.chown(moved, uid, uid)
    os.symlink(moved, f"{runtime}/bus")
    assert outcome(SECRETSERVICE, "store", LOGIN, env) == (1, foreign_line(env, uid, "socket"), b"")
    assert world.docker_items(f"unix:path={moved}") == []


def test_the_users_own_runtime_dir_bus_is_used(runtime_bus):
    env, address = runtime_bus
    assert outcome(SECRETSERVICE, "store", LOGIN, env) == (0, b"", b"")
    expected = json.dumps({"ServerURL": SERVER, "Username": "alice", "Secret": "s3cret-not-for-others"})
    assert outcome(SECRETSERVICE, "get", SERVER, env) == (0, expected.replace(" ", "").encode() + b"\n", b"")
    assert len(world.docker_items(address)) == 1
    assert outcome(SECRETSERVICE, "erase", SERVER, env) == (0, b"", b"")
    assert outcome(SECRETSERVICE, "get", SERVER, env) == (1, NOT_FOUND, b"")


def test_a_bus_daemon_run_by_another_user_never_gets_the_password(secret_service):
    """An explicit DBUS_SESSION_BUS_ADDRESS naming a socket another user listens on (here a
    relay run by a real second uid in front of the real bus): the kernel says who listens."""
    uid = world.free_uid()
    relay = world.ForeignRelay(secret_service, uid)
    try:
        env = {**secret_service.env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={relay.socket}"}
        line = (
            f"the D-Bus bus at {relay.socket} is run by uid {uid}, not by you (uid {os.geteuid()}) nor root: "
            f"{OWN_BUS_HINT}\n"
        ).encode()
        assert outcome(SECRETSERVICE, "store", LOGIN, env) == (1, line, b"")
    finally:
        relay.stop()
    assert world.docker_items(secret_service.env["DBUS_SESSION_BUS_ADDRESS"]) == []


def test_verify_says_why_a_foreign_runtime_dir_bus_is_not_used(runtime_bus, tmp_path):
    env, _address = runtime_bus
    uid = world.free_uid()
    os.chown(f"{env['XDG_RUNTIME_DIR']}/bus", uid, uid, follow_symlinks=False)
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text('{"credsStore": "secretservice"}\n')
    env = world.on_path({**env, "DOCKER_CONFIG": str(docker)}, world.BIN)
    result = world.credctl(env, "verify", "--json")
    rows = json.loads(result.stdout)
    store = [row for row in rows if row["check"] == "store" and row["target"] == "secretservice"]
    assert [row["status"] for row in store] == ["failed"]
    assert store[0]["detail"] + "\n" == foreign_line(env, uid, "socket").decode()


def test_the_keyring_store_never_looks_for_a_bus_in_the_runtime_dir(runtime_bus):
    """keyring's Secret Service backend (secretstorage, jeepney) takes DBUS_SESSION_BUS_ADDRESS
    only: with it unset, nothing reaches the bus at $XDG_RUNTIME_DIR/bus, whoever owns it."""
    env, address = runtime_bus
    env = {**env, "PYTHON_KEYRING_BACKEND": world.SECRET_SERVICE_BACKEND}
    status, stdout, _stderr = outcome(world.ours("docker-credential-keyring"), "store", LOGIN, env)
    assert (status, stdout) == (1, KEYRING_WITHOUT_BUS)
    service = ("org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service")
    with Connection(address) as bus:
        assert bus.call(*service, "SearchItems", "a{ss}", {}) == ([], [])
