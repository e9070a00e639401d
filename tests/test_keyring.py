"""docker-credential-keyring on keyring's SecretService backend, on a real gnome-keyring in a
private D-Bus session: through the `keyring` library when it detects the backend, and through
credctl's own client of that backend's items once it is named or remembered. Entries are
inspected independently with secretstorage, and read and written by the keyring library itself.
"""

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import secretstorage
import world
from world import HUB, NOT_FOUND, SECRET_SERVICE_BACKEND, outcome

from credctl.protocol import encode_credentials

NO_BACKEND = (
    "no usable keyring backend here: on Linux run a Secret Service (GNOME Keyring, KWallet), or name a "
    "backend in PYTHON_KEYRING_BACKEND / keyringrc.cfg (see `keyring --list-backends`)"
)
INDEX = {"service": "credctl-index", "username": "docker-credential-keyring"}
REGISTRY = "registry.example.com:5000"
ACTIONS = [
    ("get", REGISTRY.encode()),
    ("list", b""),
    ("store", encode_credentials(REGISTRY, "u", "s")),
    ("erase", REGISTRY.encode()),
]
# Imported only while keyring auto-detects a backend (it loads every backend to ask its priority).
DETECTION_ONLY = ("keyring.backends.kwallet", "keyring.backends.macOS", "keyring.backends.Windows")


def store(program: str, env, url: str, user: str, secret: str) -> None:
    assert outcome(program, "store", encode_credentials(url, user, secret), env) == (0, b"", b"")


def entries(bus, service: str) -> list[tuple[str, bytes]]:
    """(username attribute, secret) of every item keyring wrote for this service."""
    return [
        (item.get_attributes()["username"], item.get_secret())
        for item in secretstorage.search_items(bus, {"service": service})
    ]


def index_of(bus) -> dict[str, str]:
    (item,) = secretstorage.search_items(bus, INDEX)
    return json.loads(item.get_secret())


@pytest.fixture
def env(secret_service) -> dict[str, str]:
    """The fixture session with keyring's SecretService backend named explicitly."""
    return {**secret_service.env, "PYTHON_KEYRING_BACKEND": SECRET_SERVICE_BACKEND}


@pytest.fixture
def detecting_env(secret_service) -> dict[str, str]:
    """The fixture session with no backend named anywhere: keyring has to detect one."""
    env = dict(secret_service.env)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    assert not os.path.exists(os.path.join(env["XDG_CONFIG_HOME"], "python_keyring", "keyringrc.cfg"))
    return env


def test_round_trip(ours_keyring, env, secret_bus):
    secret = 'pä$$wörd <&> "q" ✓'
    store(ours_keyring, env, HUB, "<token>", secret)
    assert outcome(ours_keyring, "get", HUB, env) == (0, encode_credentials(HUB, "<token>", secret), b"")
    store(ours_keyring, env, REGISTRY, "bob", "first")
    store(ours_keyring, env, REGISTRY, "alice", "second")
    assert entries(secret_bus, f"credctl:{REGISTRY}") == [("alice", b"second")]  # bob's entry is gone
    assert outcome(ours_keyring, "get", REGISTRY, env) == (0, encode_credentials(REGISTRY, "alice", "second"), b"")
    expected = b'{"https://index.docker.io/v1/":"\\u003ctoken\\u003e","registry.example.com:5000":"alice"}\n'
    assert outcome(ours_keyring, "list", b"", env) == (0, expected, b"")

    assert outcome(ours_keyring, "erase", REGISTRY, env) == (0, b"", b"")
    assert entries(secret_bus, f"credctl:{REGISTRY}") == []
    assert outcome(ours_keyring, "get", REGISTRY, env) == (1, NOT_FOUND, b"")
    assert outcome(ours_keyring, "erase", REGISTRY, env) == (0, b"", b"")  # nothing there: success
    assert outcome(ours_keyring, "list", b"", env) == (
        0,
        b'{"https://index.docker.io/v1/":"\\u003ctoken\\u003e"}\n',
        b"",
    )
    assert outcome(ours_keyring, "erase", HUB, env) == (0, b"", b"")
    assert outcome(ours_keyring, "list", b"", env) == (0, b"{}\n", b"")
    assert outcome(ours_keyring, "get", HUB, env) == (1, NOT_FOUND, b"")


def test_entries_layout(ours_keyring, env, secret_bus):
    store(ours_keyring, env, HUB, "<token>", "tok <&>")
    store(ours_keyring, env, REGISTRY, "jürgen", "pw")
    for url, user, secret in [(HUB, "<token>", "tok <&>"), (REGISTRY, "jürgen", "pw")]:
        (item,) = secretstorage.search_items(secret_bus, {"service": f"credctl:{url}"})
        attributes = item.get_attributes()
        assert (attributes["service"], attributes["username"]) == (f"credctl:{url}", user)
        assert item.get_secret() == secret.encode()
    assert index_of(secret_bus) == {HUB: "<token>", REGISTRY: "jürgen"}
    # Nothing else: two entries and the index.
    assert len(list(secretstorage.search_items(secret_bus, {"application": "Python keyring library"}))) == 3


def test_entry_deleted_behind_our_back(ours_keyring, env, secret_bus):
    store(ours_keyring, env, REGISTRY, "u", "pw")
    (item,) = secretstorage.search_items(secret_bus, {"service": f"credctl:{REGISTRY}"})
    item.delete()  # removed behind credctl's back (e.g. in Seahorse)
    assert outcome(ours_keyring, "get", REGISTRY, env) == (1, NOT_FOUND, b"")
    assert outcome(ours_keyring, "erase", REGISTRY, env) == (0, b"", b"")  # the index entry goes too
    assert index_of(secret_bus) == {}


# Prints the modules a run of the console script imported. `python -X importtime` cannot show
# this: keyring loads its backends with importlib (entry points), which importtime does not report.
PROBE = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\n'.join(sorted(sys.modules))))\n"
    "sys.argv = [sys.argv[1], 'list']\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def imported_by_list(program: str, env) -> tuple[bytes, set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, program], capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stdout
    return result.stdout, set(result.stderr.decode().splitlines())


def test_backend_is_detected_once_and_remembered(ours_keyring, detecting_env):
    path = os.path.join(detecting_env["XDG_CONFIG_HOME"], "credctl", "settings.json")
    assert not os.path.exists(path)

    output, modules = imported_by_list(ours_keyring, detecting_env)
    assert output == b"{}\n"
    assert set(DETECTION_ONLY) <= modules  # detection ran
    with open(path, encoding="utf-8") as file:
        assert json.load(file) == {"keyring_backend": SECRET_SERVICE_BACKEND}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    output, modules = imported_by_list(ours_keyring, detecting_env)
    assert output == b"{}\n"
    # The remembered backend is keyring's Secret Service one: credctl speaks to it itself.
    assert "credctl.stores.keyring_secretservice" in modules
    assert not {"keyring", "secretstorage"} & {module.partition(".")[0] for module in modules}

    # And the remembered backend really works.
    store(ours_keyring, detecting_env, REGISTRY, "u", "pw")
    assert outcome(ours_keyring, "get", REGISTRY, detecting_env) == (0, encode_credentials(REGISTRY, "u", "pw"), b"")


def test_named_backend_wins_over_the_remembered_one(ours_keyring, detecting_env):
    assert outcome(ours_keyring, "list", b"", detecting_env) == (0, b"{}\n", b"")  # remembers SecretService
    env = {**detecting_env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert outcome(ours_keyring, "list", b"", env) == (1, f"{NO_BACKEND}\n".encode(), b"")


@pytest.mark.parametrize(("action", "stdin"), ACTIONS)
def test_fail_backend(ours_keyring, tmp_path, action, stdin):
    env = world.without_bus(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    result = outcome(ours_keyring, action, stdin, env)
    assert result == (1, f"{NO_BACKEND}\n".encode(), b"")
    assert result[1].startswith(b"no usable keyring backend here")
    assert not os.path.exists(tmp_path / ".config" / "credctl" / "settings.json")  # nothing remembered


@pytest.mark.parametrize(("action", "stdin"), ACTIONS)
def test_named_backend_that_cannot_work_here(ours_keyring, tmp_path, action, stdin):
    env = world.without_bus(tmp_path, PYTHON_KEYRING_BACKEND=SECRET_SERVICE_BACKEND)  # but there is no session bus
    expected = (
        "the keyring backend named in PYTHON_KEYRING_BACKEND or keyringrc.cfg cannot work here "
        "(Unable to initialize SecretService: Environment variable DBUS_SESSION_BUS_ADDRESS is unset)\n"
    )
    result = outcome(ours_keyring, action, stdin, env)
    assert result == (1, expected.encode(), b"")


def test_concurrent_stores_keep_every_index_entry(ours_keyring, env, secret_bus):
    servers = {f"registry{number}.example": f"user{number}" for number in range(8)}
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        results = list(
            pool.map(
                lambda pair: outcome(ours_keyring, "store", encode_credentials(pair[0], pair[1], "pw-" + pair[1]), env),
                servers.items(),
            )
        )
    assert results == [(0, b"", b"")] * len(servers)
    expected = "{" + ",".join(f'"{url}":"{user}"' for url, user in sorted(servers.items())) + "}\n"
    assert outcome(ours_keyring, "list", b"", env) == (0, expected.encode(), b"")
    assert index_of(secret_bus) == servers
    for url, user in servers.items():
        assert entries(secret_bus, f"credctl:{url}") == [(user, f"pw-{user}".encode())]


class _Transient:
    """keyring's real SecretService backend, whose first `times` calls fail as they do while
    gnome-keyring briefly has no default collection (InitError: Failed to create the collection)."""

    def __init__(self, real, times: int) -> None:
        self.real, self.times = real, times

    def __getattr__(self, name: str):
        method = getattr(self.real, name)

        def call(*args):
            if self.times:
                self.times -= 1
                import keyring.errors

                raise keyring.errors.InitError("Failed to create the collection: Prompt dismissed.")
            return method(*args)

        return call


def test_a_transient_init_error_is_asked_again(env, monkeypatch):
    from credctl.errors import StoreError
    from credctl.stores.keyringstore import TRANSIENT_RETRIES, KeyringStore

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = KeyringStore(env)
    store.add(REGISTRY, "user", "pw")
    real = store.backend
    store._backend = _Transient(real, TRANSIENT_RETRIES)
    assert store.get(REGISTRY) == ("user", "pw")
    store._backend = _Transient(real, 2 * (TRANSIENT_RETRIES + 1))
    with pytest.raises(StoreError, match="InitError: Failed to create the collection"):
        store.get(REGISTRY)


def test_the_keyring_library_and_credctl_read_each_others_items(ours_keyring, env, secret_bus, monkeypatch):
    """What credctl writes where keyring's SecretService backend is named, keyring itself reads,
    and the other way round: same attributes, label, collection and secret bytes."""
    import keyring.backends.SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", env["DBUS_SESSION_BUS_ADDRESS"])
    library = keyring.backends.SecretService.Keyring()
    store(ours_keyring, env, REGISTRY, "jürgen", "pw <&> ü")
    assert library.get_password(f"credctl:{REGISTRY}", "jürgen") == "pw <&> ü"
    (item,) = secretstorage.search_items(secret_bus, {"service": f"credctl:{REGISTRY}"})
    assert item.get_label() == f"Password for 'jürgen' on 'credctl:{REGISTRY}'"
    assert item.get_attributes()["application"] == "Python keyring library"

    library.set_password(f"credctl:{HUB}", "alice", "from keyring")
    library.set_password(INDEX["service"], INDEX["username"], json.dumps({REGISTRY: "jürgen", HUB: "alice"}))
    assert outcome(ours_keyring, "get", HUB, env) == (0, encode_credentials(HUB, "alice", "from keyring"), b"")
    assert outcome(ours_keyring, "erase", HUB, env) == (0, b"", b"")
    assert library.get_password(f"credctl:{HUB}", "alice") is None
    assert json.loads(library.get_password(INDEX["service"], INDEX["username"])) == {REGISTRY: "jürgen"}
