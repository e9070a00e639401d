"""docker-credential-secretservice against a real gnome-keyring on a private D-Bus session.

Items are inspected independently with secretstorage (jeepney), and compared with Debian's Go
helper (v0.6.4, world.GO_SECRETSERVICE) in both directions. Nothing is mocked.
"""

import subprocess
import time

import pytest
import secretstorage
import world
from world import NOT_FOUND, need, outcome

from credctl.protocol import encode_credentials, encode_listing

HEADLESS_HINT = "on a headless machine use the pass store (`credctl pass init`), or run under dbus-run-session"
HOW_TO_UNLOCK = (
    "unlock it from your desktop session, or with `gnome-keyring-daemon --unlock` (type the password, then Ctrl-D)"
)
LOCKED_LINE = f"the keyring is locked and no unlock prompt can be shown here (no display): {HOW_TO_UNLOCK}\n".encode()
NO_BUS_LINE = f"no D-Bus session bus here (DBUS_SESSION_BUS_ADDRESS is not set): {HEADLESS_HINT}\n".encode()
NO_SERVICE_LINE = (
    b"no Secret Service is running on this D-Bus session (org.freedesktop.secrets): start GNOME Keyring, "
    b"KeePassXC (Secret Service integration) or KWallet, or use the pass store (`credctl pass init`)\n"
)

URL = "registry.example.com:5000"
CASES = [
    ("https://index.docker.io/v1/", "alice", "s3cr3t"),
    ("registry.example.com:5000", "<token>", "eyJhbGciOi.identity-token"),
    ("https://ünïcode.example/v2/", "jürgen", "pä$$wörd <&> ✓ 🐳"),
    ("127.0.0.1:5000/some/path", "<token>", "quote\" back\\slash <&> 'single' ü"),
]
ACTIONS = [
    ("get", URL.encode()),
    ("list", b""),
    ("store", encode_credentials(URL, "u", "s")),
    ("erase", URL.encode()),
]


def store(program: str, env, url: str, user: str, secret: str) -> None:
    assert outcome(program, "store", encode_credentials(url, user, secret), env) == (0, b"", b"")


def go_attributes(server: str, username: str) -> dict[str, str]:
    """The attributes libsecret gives an item of Go's docker-credential-secretservice."""
    return {
        "label": "Docker Credentials",
        "server": server,
        "username": username,
        "docker_cli": "1",
        "xdg:schema": "io.docker.Credentials",
    }


def items_for(bus, server: str) -> list:
    """Every item (any collection, locked or not) whose server attribute is server."""
    return list(secretstorage.search_items(bus, {"server": server}))


@pytest.fixture
def env(secret_service) -> dict[str, str]:
    return secret_service.env


# --- the protocol, byte for byte ------------------------------------------------------------


@pytest.mark.parametrize(("url", "user", "secret"), CASES)
def test_store_get_list_erase_round_trip(ours_secretservice, env, url, user, secret):
    store(ours_secretservice, env, url, user, secret)
    assert outcome(ours_secretservice, "get", url, env) == (0, encode_credentials(url, user, secret), b"")
    # Trailing whitespace and a CRLF around the URL are trimmed, as Go does.
    assert outcome(ours_secretservice, "get", f"  {url}\r\n", env) == (0, encode_credentials(url, user, secret), b"")
    assert outcome(ours_secretservice, "list", b"", env) == (0, encode_listing({url: user}), b"")
    assert outcome(ours_secretservice, "erase", url, env) == (0, b"", b"")
    assert outcome(ours_secretservice, "get", url, env) == (1, NOT_FOUND, b"")
    assert outcome(ours_secretservice, "list", b"", env) == (0, b"{}\n", b"")


def test_erase_of_a_missing_server_succeeds_like_go(ours_secretservice, go_secretservice, env):
    assert outcome(ours_secretservice, "erase", "missing.example", env) == (0, b"", b"")
    assert outcome(go_secretservice, "erase", "missing.example", env) == (0, b"", b"")


def test_list_is_sorted_and_escaped(ours_secretservice, env):
    for url, user, secret in CASES:
        store(ours_secretservice, env, url, user, secret)
    expected = (
        '{"127.0.0.1:5000/some/path":"\\u003ctoken\\u003e","https://index.docker.io/v1/":"alice",'
        '"https://ünïcode.example/v2/":"jürgen","registry.example.com:5000":"\\u003ctoken\\u003e"}\n'
    )
    assert outcome(ours_secretservice, "list", b"", env) == (0, expected.encode(), b"")


# --- the same items as the Go helper --------------------------------------------------------


@pytest.mark.parametrize(("url", "user", "secret"), CASES)
def test_stored_by_go_read_by_ours(ours_secretservice, go_secretservice, env, url, user, secret):
    store(go_secretservice, env, url, user, secret)
    ours = outcome(ours_secretservice, "get", url, env)
    assert ours == (0, encode_credentials(url, user, secret), b"")
    assert ours == outcome(go_secretservice, "get", url, env)  # byte for byte


@pytest.mark.parametrize(("url", "user", "secret"), CASES)
def test_stored_by_ours_read_by_go(ours_secretservice, go_secretservice, env, url, user, secret):
    store(ours_secretservice, env, url, user, secret)
    assert outcome(go_secretservice, "get", url, env) == (0, encode_credentials(url, user, secret), b"")


def test_lists_agree_with_go_on_items_labelled_by_url(ours_secretservice, go_secretservice, env):
    for index, (url, user, secret) in enumerate(CASES):
        store(ours_secretservice if index % 2 else go_secretservice, env, url, user, secret)
    ours = outcome(ours_secretservice, "list", b"", env)
    assert ours[0] == 0
    assert ours == outcome(go_secretservice, "list", b"", env)


def test_erased_by_ours_gone_for_go(ours_secretservice, go_secretservice, env):
    url, user, secret = CASES[1]
    store(go_secretservice, env, url, user, secret)
    store(go_secretservice, env, "other.example", "bob", "pw")
    assert outcome(ours_secretservice, "erase", url, env) == (0, b"", b"")
    assert outcome(go_secretservice, "get", url, env) == (1, NOT_FOUND, b"")
    assert outcome(go_secretservice, "list", b"", env) == (0, b'{"other.example":"bob"}\n', b"")


def test_erased_by_go_gone_for_ours(ours_secretservice, go_secretservice, env):
    url, user, secret = CASES[2]
    store(ours_secretservice, env, url, user, secret)
    assert outcome(go_secretservice, "erase", url, env) == (0, b"", b"")
    assert outcome(ours_secretservice, "get", url, env) == (1, NOT_FOUND, b"")
    assert outcome(ours_secretservice, "list", b"", env) == (0, b"{}\n", b"")


def test_empty_secret_reads_as_not_found_like_go(ours_secretservice, go_secretservice, env):
    store(go_secretservice, env, "go.example", "u", "")
    store(ours_secretservice, env, "ours.example", "u", "")
    for url in ("go.example", "ours.example"):
        assert outcome(go_secretservice, "get", url, env) == (1, NOT_FOUND, b"")
        assert outcome(ours_secretservice, "get", url, env) == (1, NOT_FOUND, b"")


# --- the item on the bus --------------------------------------------------------------------


def test_item_is_the_go_helpers(ours_secretservice, env, secret_bus):
    url, user, secret = CASES[3]
    store(ours_secretservice, env, url, user, secret)
    (item,) = items_for(secret_bus, url)
    assert item.get_attributes() == go_attributes(url, user)
    assert item.get_label() == url  # what Go v0.6.4 to v0.8 write
    assert item.get_secret() == secret.encode("utf-8")
    assert item.get_secret_content_type() == "text/plain"
    default = secretstorage.get_default_collection(secret_bus)
    assert item.item_path in {other.item_path for other in default.get_all_items()}


def test_list_keys_are_server_urls(ours_secretservice, go_secretservice, env, secret_bus):
    store(go_secretservice, env, "go.example", "gopher", "pw")  # v0.6.4 labels its item with the URL
    default = secretstorage.get_default_collection(secret_bus)
    # What Go v0.9 writes: the same attributes under the label "Registry credentials for <URL>".
    default.create_item("Registry credentials for v9.example", go_attributes("v9.example", "nine"), b"pw9")
    # Items of other applications, which Go v0.6.4 and v0.9 both list under their labels.
    other_schema = {**go_attributes("other.example", "mallory"), "xdg:schema": "org.example.Other"}
    default.create_item("other schema", other_schema, b"x")
    no_cli = go_attributes("nocli.example", "mallory")
    del no_cli["docker_cli"]
    default.create_item("no docker_cli", no_cli, b"x")
    default.create_item("fake docker", {"label": "Docker Credentials", "server": "fake.example", "username": "m"}, b"x")
    default.create_item("unrelated", {"service": "something", "username": "someone"}, b"x")

    expected = b'{"go.example":"gopher","v9.example":"nine"}\n'
    assert outcome(ours_secretservice, "list", b"", env) == (0, expected, b"")
    v9_item = encode_credentials("v9.example", "nine", "pw9")
    assert outcome(ours_secretservice, "get", "v9.example", env) == (0, v9_item, b"")
    for foreign in ("other.example", "nocli.example", "fake.example"):
        assert outcome(ours_secretservice, "get", foreign, env) == (1, NOT_FOUND, b"")
    # The difference, pinned: Go's keys are display labels, and it lists any label=Docker Credentials.
    go_list = (
        b'{"Registry credentials for v9.example":"nine","fake docker":"m","go.example":"gopher",'
        b'"no docker_cli":"mallory","other schema":"mallory"}\n'
    )
    assert outcome(go_secretservice, "list", b"", env) == (0, go_list, b"")


# --- one item per server --------------------------------------------------------------------


def test_restore_leaves_one_item(ours_secretservice, env, secret_bus):
    store(ours_secretservice, env, URL, "u1", "one")
    store(ours_secretservice, env, URL, "u2", "two")
    assert [(i.get_attributes()["username"], i.get_secret()) for i in items_for(secret_bus, URL)] == [("u2", b"two")]
    assert outcome(ours_secretservice, "get", URL, env) == (0, encode_credentials(URL, "u2", "two"), b"")
    store(ours_secretservice, env, URL, "u2", "three")  # same username: replaced in place
    assert [(i.get_attributes()["username"], i.get_secret()) for i in items_for(secret_bus, URL)] == [("u2", b"three")]
    store(ours_secretservice, env, "other.example", "u1", "x")  # other servers are left alone
    assert len(items_for(secret_bus, URL)) == 1
    assert outcome(ours_secretservice, "list", b"", env) == (
        0,
        f'{{"other.example":"u1","{URL}":"u2"}}\n'.encode(),
        b"",
    )


def test_go_duplicates_newest_wins_then_store_cleans_up(ours_secretservice, go_secretservice, env, secret_bus):
    for user in ("u1", "u2", "u3"):
        store(go_secretservice, env, URL, user, f"pw-{user}")  # Go keeps an item per username
    listed = [(item.get_modified(), item.get_attributes()["username"]) for item in items_for(secret_bus, URL)]
    assert sorted(user for _, user in listed) == ["u1", "u2", "u3"]
    # The newest (Modified has whole seconds); among equals the last listed, which is Go's pick.
    newest = max(range(len(listed)), key=lambda index: (listed[index][0], index))
    user = listed[newest][1]
    ours = outcome(ours_secretservice, "get", URL, env)
    assert ours == (0, encode_credentials(URL, user, f"pw-{user}"), b"")
    assert outcome(ours_secretservice, "list", b"", env) == (0, f'{{"{URL}":"{user}"}}\n'.encode(), b"")
    if len({modified for modified, _ in listed}) == 1:  # all stored within one second
        assert ours == outcome(go_secretservice, "get", URL, env)

    # Touch an item that is not the answer: now it is the newest, and ours returns it.
    older = next(item for item in items_for(secret_bus, URL) if item.get_attributes()["username"] != user)
    time.sleep(1.1)
    older.set_secret(b"renewed")
    renewed = older.get_attributes()["username"]
    assert outcome(ours_secretservice, "get", URL, env) == (0, encode_credentials(URL, renewed, "renewed"), b"")
    assert outcome(ours_secretservice, "list", b"", env) == (0, f'{{"{URL}":"{renewed}"}}\n'.encode(), b"")

    store(ours_secretservice, env, URL, "u4", "pw-u4")
    assert [(i.get_attributes()["username"], i.get_secret()) for i in items_for(secret_bus, URL)] == [("u4", b"pw-u4")]
    assert outcome(go_secretservice, "get", URL, env) == (0, encode_credentials(URL, "u4", "pw-u4"), b"")


# --- a locked keyring -----------------------------------------------------------------------


def test_locked_keyring(ours_secretservice, env, secret_bus):
    store(ours_secretservice, env, URL, "u", "pw")
    default = secretstorage.get_default_collection(secret_bus)
    default.lock()
    assert default.is_locked()
    assert "DISPLAY" not in env and "WAYLAND_DISPLAY" not in env

    assert outcome(ours_secretservice, "get", URL, env) == (1, LOCKED_LINE, b"")
    # Searching needs no unlocking: a registry with nothing stored is simply not found, and
    # list (attributes only) works, so Docker can still enumerate.
    assert outcome(ours_secretservice, "get", "missing.example", env) == (1, NOT_FOUND, b"")
    assert outcome(ours_secretservice, "list", b"", env) == (0, f'{{"{URL}":"u"}}\n'.encode(), b"")
    assert outcome(ours_secretservice, "store", encode_credentials(URL, "v", "new"), env) == (1, LOCKED_LINE, b"")
    assert outcome(ours_secretservice, "erase", URL, env) == (1, LOCKED_LINE, b"")
    assert default.is_locked()
    assert [item.get_attributes()["username"] for item in items_for(secret_bus, URL)] == ["u"]  # untouched


def test_locked_keyring_with_a_display_that_cannot_prompt(ours_secretservice, env, secret_bus):
    store(ours_secretservice, env, URL, "u", "pw")
    secretstorage.get_default_collection(secret_bus).lock()
    # A display is set, so the unlock prompt is tried; gnome-keyring cannot show it and reports
    # the prompt as dismissed.
    result = outcome(ours_secretservice, "get", URL, {**env, "DISPLAY": ":4242"})
    assert result == (1, b"the keyring prompt was dismissed, so nothing was unlocked or stored\n", b"")


# --- no bus, no service ---------------------------------------------------------------------


@pytest.mark.parametrize(("action", "stdin"), ACTIONS)
def test_no_session_bus(ours_secretservice, tmp_path, action, stdin):
    result = outcome(ours_secretservice, action, stdin, world.without_bus(tmp_path))
    assert result == (1, NO_BUS_LINE, b"")
    assert result[1].startswith(b"no D-Bus session bus here")


def test_bus_found_through_xdg_runtime_dir(ours_secretservice, env, tmp_path):
    """Without DBUS_SESSION_BUS_ADDRESS the bus is $XDG_RUNTIME_DIR/bus, as GDBus finds it."""
    store(ours_secretservice, env, URL, "u", "pw")
    address = env["DBUS_SESSION_BUS_ADDRESS"]
    socket = address.removeprefix("unix:path=").split(",")[0]
    runtime = tmp_path / "other-runtime"
    runtime.mkdir(mode=0o700)
    (runtime / "bus").symlink_to(socket)
    result = outcome(ours_secretservice, "get", URL, {**world.without_bus(tmp_path), "XDG_RUNTIME_DIR": str(runtime)})
    assert result == (0, encode_credentials(URL, "u", "pw"), b"")


def test_unreachable_session_bus(ours_secretservice, tmp_path):
    env = world.without_bus(tmp_path, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-such-socket")
    expected = f"cannot reach the D-Bus session bus (No such file or directory): {HEADLESS_HINT}\n".encode()
    for action, stdin in ACTIONS:
        result = outcome(ours_secretservice, action, stdin, env)
        assert result == (1, expected, b"")
        assert result[1].startswith(b"cannot reach the D-Bus session bus")


BARE_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- A session bus with no service directories: nothing can be D-Bus-activated on it. -->
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>  <!-- required; the address given on the command line replaces it -->
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture
def bare_bus(tmp_path):
    """The address of a running session bus on which no Secret Service exists or can start."""
    need("dbus-daemon")
    config = tmp_path / "bare-bus.conf"
    config.write_text(BARE_BUS_CONFIG)
    runtime = tmp_path / "bare-run"
    runtime.mkdir(mode=0o700)
    bus = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1", f"--address=unix:dir={runtime}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        address = bus.stdout.readline().strip()
        assert address.startswith("unix:"), "dbus-daemon did not start"
        yield address
    finally:
        bus.terminate()
        bus.wait(timeout=10)
        bus.stdout.close()


@pytest.mark.parametrize(("action", "stdin"), ACTIONS)
def test_no_secret_service_on_the_bus(ours_secretservice, tmp_path, bare_bus, action, stdin):
    result = outcome(ours_secretservice, action, stdin, world.without_bus(tmp_path, DBUS_SESSION_BUS_ADDRESS=bare_bus))
    assert result == (1, NO_SERVICE_LINE, b"")
    assert result[1].startswith(b"no Secret Service is running")


# --- credctl helper -------------------------------------------------------------------------


def test_credctl_helper_serves_the_same_bytes(ours_secretservice, env):
    store(ours_secretservice, env, URL, "<token>", "pw <&>")
    credctl = world.ours("credctl")
    for action, stdin in [("get", URL), ("get", "missing.example"), ("list", ""), ("version", "")]:
        via = subprocess.run(
            [credctl, "helper", "secretservice", action], input=stdin.encode(), capture_output=True, env=env, timeout=60
        )
        assert (via.returncode, via.stdout, via.stderr) == outcome(ours_secretservice, action, stdin, env)
    assert outcome(ours_secretservice, "get", URL, env) == (0, encode_credentials(URL, "<token>", "pw <&>"), b"")


# --- gnome-keyring's transient answers under concurrent writers ----------------------------------


class _Transient:
    """The real connection, but the first `times` calls of `member` get gnome-keyring's transient
    answer (seen under concurrent writers): UnknownMethod, or no default collection yet."""

    def __init__(self, real, member: str, times: int) -> None:
        self.real, self.member, self.times = real, member, times

    def call(self, destination, path, interface, member, *rest):
        if member == self.member and self.times:
            self.times -= 1
            if member == "ReadAlias":
                return ("/",)
            from credctl.dbus import DBusError

            raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"Method {member} is not implemented")
        return self.real.call(destination, path, interface, member, *rest)

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize("member", ["SearchItems", "ReadAlias"])
def test_transient_answers_are_asked_again(secret_service, member):
    from credctl.dbus import DBusError
    from credctl.stores.secretservice import TRANSIENT_RETRIES, ServiceConnection

    for times, works in ((TRANSIENT_RETRIES, True), (TRANSIENT_RETRIES + 1, False)):
        service = ServiceConnection(secret_service.env)
        service.bus = _Transient(service.bus, member, times)
        try:
            if member == "SearchItems":
                if works:
                    assert service.search({"no": "such item"}) == ([], [])
                else:
                    with pytest.raises(DBusError, match="UnknownMethod"):
                        service.search({"no": "such item"})
            else:
                assert (service.default_collection() != "/") is works
        finally:
            service.bus.close()


def test_a_get_whose_items_were_all_replaced_searches_again(secret_service, ours_secretservice, env):
    """A store with a new username creates the new item, then deletes the old one. A get whose
    search still saw only the old item must look again, not answer not-found."""
    from credctl.stores.secretservice import SERVICE, ServiceConnection

    server = "replaced.example"
    store(ours_secretservice, env, server, "old-user", "old-secret")
    service = ServiceConnection(env)
    [old_item], _ = service.search({"server": server})
    store(ours_secretservice, env, server, "new-user", "new-secret")  # deletes old_item

    class StaleFirstSearch:
        """The real connection, whose first SearchItems answer is from before the replacement."""

        def __init__(self, real) -> None:
            self.real, self.stale = real, True

        def call(self, destination, path, interface, member, *rest):
            if member == "SearchItems" and interface == SERVICE and self.stale:
                self.stale = False
                return ([old_item], [])
            return self.real.call(destination, path, interface, member, *rest)

        def close(self) -> None:
            self.real.close()

    service.bus = StaleFirstSearch(service.bus)
    try:
        [(path, properties, _locked)] = service.docker_items({"server": server})
        assert path != old_item and properties["Attributes"]["username"] == "new-user"
    finally:
        service.bus.close()
