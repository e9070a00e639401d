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
from credctl.errors import CredentialsNotFound, MissingServerURL
from credctl.protocol import encode_credentials, encode_listing
from credctl.stores import LOGIN_STORES, open_store

SERVER = "registry.example.com"
LOGIN = json.dumps({"ServerURL": SERVER, "Username": "alice", "Secret": "s3cret-not-for-others"})
SECRETSERVICE = world.ours("docker-credential-secretservice")
KEYRING_WITHOUT_BUS = (
    b"the keyring backend named in PYTHON_KEYRING_BACKEND or keyringrc.cfg cannot work here "
    b"(Unable to initialize SecretService: Environment variable DBUS_SESSION_BUS_ADDRESS is unset)\n"
)
ISSUED_NOT_STORED = (
    "ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
    "Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)"
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


# --- item 14: no name a client sends is the store's own bookkeeping ---------------------------

VICTIM = ("registry.victim.example", "victim", "victim-s3cret")
# Server URLs and usernames shaped like each store's own names: the keyring store's index
# (service "credctl:index", user "docker-credential-keyring" before it moved out of reach), pass's
# folder and its temporary folder, the Secret Service items' label and attributes.
CRAFTED = [
    ("index", "docker-credential-keyring"),
    ("credctl:index", "docker-credential-keyring"),
    ("credctl-index", "docker-credential-keyring"),
    ("docker-credential-helpers", "docker-credential-keyring"),
    (".credctl-tmp", "entry"),
    ("Docker Credentials", "docker_cli"),
    ("*", "victim"),
]


def credentials(url: str, username: str, secret: str) -> bytes:
    return json.dumps({"ServerURL": url, "Username": username, "Secret": secret}).encode()


@pytest.fixture(params=LOGIN_STORES)
def login_world(request) -> world.StoreWorld:
    return world.store_world(request.param, request)


@pytest.fixture
def pass_world(request) -> world.StoreWorld:
    return world.store_world("pass", request)


@pytest.fixture
def acr_world(request) -> world.StoreWorld:
    return world.store_world("acr", request)


def test_crafted_names_are_plain_entries_of_every_login_store(login_world):
    """Stored, read back, listed and erased as any entry; the index and another user's entry
    never change, and a get never answers with the store's bookkeeping."""
    program, env = login_world.program, login_world.env
    assert outcome(program, "store", credentials(*VICTIM), env) == (0, b"", b"")
    victim = (0, encode_credentials(*VICTIM), b"")
    for url, _username in CRAFTED:
        assert outcome(program, "get", url, env) == (1, NOT_FOUND, b""), url
    for url, username in CRAFTED:
        secret = f"secret for {url}"
        assert outcome(program, "store", credentials(url, username, secret), env) == (0, b"", b""), url
        assert outcome(program, "get", url, env) == (0, encode_credentials(url, username, secret), b""), url
        assert outcome(program, "get", VICTIM[0], env) == victim, url
    everyone = {VICTIM[0]: VICTIM[1], **dict(CRAFTED)}
    assert outcome(program, "list", "", env) == (0, encode_listing(everyone), b"")
    for url, _username in CRAFTED:
        assert outcome(program, "erase", url, env) == (0, b"", b""), url
        assert outcome(program, "get", url, env) == (1, NOT_FOUND, b""), url
    assert outcome(program, "get", VICTIM[0], env) == victim
    assert outcome(program, "list", "", env) == (0, encode_listing({VICTIM[0]: VICTIM[1]}), b"")


def test_pass_refuses_usernames_that_name_its_own_files(pass_world):
    """pass keeps .gpg-id files beside the entries; a dot username is refused, never written."""
    program, env = pass_world.program, pass_world.env
    for username in (".gpg-id", ".credctl-tmp"):
        line = f"pass cannot store the username {username!r}: it must not start with '.'\n".encode()
        assert outcome(program, "store", credentials(VICTIM[0], username, "x"), env) == (1, line, b"")
    assert outcome(program, "list", "", env) == (0, b"{}\n", b"")


def test_an_empty_server_url_is_never_the_whole_pass_folder(pass_world, monkeypatch):
    """The helper protocol refuses an empty ServerURL; the store refuses it too, so no caller
    can write into or erase docker-credential-helpers/ itself (every server's folder)."""
    world.use_environment(monkeypatch, pass_world.env)
    store = open_store("pass")
    store.add(*VICTIM)
    with pytest.raises(MissingServerURL) as caught:
        store.add("", "alice", "x")
    assert str(caught.value) == "no credentials server URL"
    with pytest.raises(CredentialsNotFound):
        store.get("")
    store.delete("")  # nothing is stored under no name: nothing to erase (Store.delete), the folder stays
    assert store.get(VICTIM[0]) == VICTIM[1:]
    assert store.list() == {VICTIM[0]: VICTIM[1]}


def test_crafted_names_never_touch_the_acr_token_cache(acr_world, aliyun):
    """ACR keeps nothing but its token cache, keyed by a hash no server URL chooses: crafted
    names are refused by store, erase nothing, and the cached token stays served."""
    program, env, registry = acr_world.program, acr_world.env, acr_world.registry
    first = outcome(program, "get", registry, env)
    assert first == (0, world.answer(registry, aliyun.issued[-1].token), b"")
    issued = len(aliyun.issued)
    refused = (1, ISSUED_NOT_STORED.encode() + b"\n", b"")
    for url, username in CRAFTED:
        assert outcome(program, "store", credentials(url, username, "x"), env) == refused, url
        assert outcome(program, "get", url, env) == (1, NOT_FOUND, b""), url
        assert outcome(program, "erase", url, env) == (0, b"", b""), url
    assert outcome(program, "list", "", env) == (0, encode_listing({registry: world.TEMP_USER}), b"")
    assert outcome(program, "get", registry, env) == first
    assert len(aliyun.issued) == issued  # from the cache, which nothing above changed


def test_the_keyring_index_is_read_where_credctl_kept_it_before(request, monkeypatch):
    """A keyring written by a credctl that kept its index at "credctl:index" still answers;
    the first store moves the index out of reach, and "index" is an entry like any other."""
    keyring_world = world.store_world("keyring", request)
    program, env = keyring_world.program, keyring_world.env
    world.use_environment(monkeypatch, env)
    import keyring.backends.SecretService

    backend = keyring.backends.SecretService.Keyring()
    backend.set_password("credctl:index", "docker-credential-keyring", json.dumps({VICTIM[0]: VICTIM[1]}))
    backend.set_password("credctl:" + VICTIM[0], VICTIM[1], VICTIM[2])
    victim = (0, encode_credentials(*VICTIM), b"")
    assert outcome(program, "get", VICTIM[0], env) == victim
    assert outcome(program, "list", "", env) == (0, encode_listing({VICTIM[0]: VICTIM[1]}), b"")
    assert outcome(program, "store", credentials("index", "docker-credential-keyring", "mine"), env) == (0, b"", b"")
    assert outcome(program, "get", "index", env) == (
        0,
        encode_credentials("index", "docker-credential-keyring", "mine"),
        b"",
    )
    assert outcome(program, "get", VICTIM[0], env) == victim
    listing = {VICTIM[0]: VICTIM[1], "index": "docker-credential-keyring"}
    assert outcome(program, "list", "", env) == (0, encode_listing(listing), b"")
    assert outcome(program, "erase", "index", env) == (0, b"", b"")
    assert outcome(program, "get", "index", env) == (1, NOT_FOUND, b"")
    assert outcome(program, "list", "", env) == (0, encode_listing({VICTIM[0]: VICTIM[1]}), b"")
