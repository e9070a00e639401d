"""Fixtures for the real test world: only fixtures; what they build, and every helper and
constant tests share, lives in world.py.

A test whose real part is missing skips with the reason (world.need); under
CREDCTL_REQUIRE_REAL=1 (CI) that skip is a failure instead, so CI can never go green without
the real world.
"""

import shutil
from pathlib import Path

import pytest
import world
from world import need


@pytest.fixture(scope="session")
def gnupg_home():
    """A throwaway GNUPGHOME with one passphrase-less key; yields (home, fingerprint)."""
    need("gpg", "gpgconf")
    home = world.make_gnupg_home()
    fpr = world.generate_key(home)
    yield home, fpr
    world.stop_agent(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def pass_env(gnupg_home, tmp_path: Path) -> dict[str, str]:
    """Environment of an initialised, empty pass store for the key of gnupg_home."""
    need("pass")
    home, fpr = gnupg_home
    env = world.helper_env(home, tmp_path / "store")
    world.init_pass(env, fpr)
    return env


@pytest.fixture
def ours() -> str:
    return world.installed("docker-credential-pass")


@pytest.fixture
def go_pass() -> str:
    need(world.GO_PASS)
    return world.GO_PASS


@pytest.fixture
def secret_service(tmp_path: Path):
    """A private D-Bus session with an unlocked gnome-keyring (world.SecretService), fresh per test."""
    need("dbus-daemon", "gnome-keyring-daemon")
    service = world.SecretService(tmp_path)
    yield service
    service.stop()


@pytest.fixture
def secret_bus(secret_service):
    """A jeepney connection to secret_service's bus, for inspecting items with secretstorage."""
    from jeepney.io.blocking import open_dbus_connection

    connection = open_dbus_connection(bus=secret_service.env["DBUS_SESSION_BUS_ADDRESS"])
    yield connection
    connection.close()


@pytest.fixture
def go_secretservice() -> str:
    need(world.GO_SECRETSERVICE)
    return world.GO_SECRETSERVICE


@pytest.fixture
def ours_secretservice() -> str:
    return world.installed("docker-credential-secretservice")


@pytest.fixture
def ours_keyring() -> str:
    return world.installed("docker-credential-keyring")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A real docker-registry on 127.0.0.1 with htpasswd auth for world.REGISTRY_USER (world.Registry)."""
    need("docker-registry", "htpasswd", "skopeo")
    server = world.Registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture
def pass_node(pass_env, tmp_path: Path) -> dict[str, str]:
    """A node's kubelet-plugin environment (world.acr_env) with pass_env's gpg home and store, for
    registries its Docker config maps to pass."""
    return world.acr_env(tmp_path, **{k: pass_env[k] for k in ("GNUPGHOME", "PASSWORD_STORE_DIR")})


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """An empty Docker config directory (for --config / DOCKER_CONFIG)."""
    directory = tmp_path / "docker"
    directory.mkdir()
    return directory


@pytest.fixture
def podman_file(tmp_path: Path) -> Path:
    """Where REGISTRY_AUTH_FILE points in the tests that set it (not created)."""
    return tmp_path / "containers" / "auth.json"


@pytest.fixture(params=sorted(world.DOCKER_CLIS))
def docker_cli(request) -> str:
    """Each docker CLI of the test world in turn (world.DOCKER_CLIS, named like docker-20.10): the
    client only, taken out of Debian's package by scripts/test.sh; login, logout and manifest
    inspect need no daemon. The program's file name is its name (world.DOCKER_CLIS)."""
    program = world.DOCKER_CLIS[request.param]
    need(program)
    return program


@pytest.fixture
def aliyun():
    """A FakeAliyun on 127.0.0.1, fresh per test, that accepts one access key (world.ALIYUN_KEY_ID
    and world.ALIYUN_KEY_SECRET) and has one Enterprise Edition instance (world.ALIYUN_INSTANCE). A bug in the
    fake itself (it answers 500 InternalError) fails the test."""
    from fake_aliyun import FakeAliyun

    with FakeAliyun() as fake:
        fake.add_access_key(world.ALIYUN_KEY_ID, world.ALIYUN_KEY_SECRET)
        fake.add_instance(*world.ALIYUN_INSTANCE)
        yield fake
        assert fake.errors == [], "the fake Alibaba Cloud API failed:\n" + "\n".join(fake.errors)


@pytest.fixture
def aliyun_network():
    """A world.AliyunNetwork, fresh per test: the fake API (accepting world.ALIYUN_KEY_ID and
    KEY2_ID, with world.ALIYUN_INSTANCE) and an ECS metadata stand-in in a private network
    namespace; helpers run in it with its run(). A bug in the fake fails the test."""
    need("unshare", "nsenter", "ip")
    network = world.AliyunNetwork()
    network.fake.add_access_key(world.ALIYUN_KEY_ID, world.ALIYUN_KEY_SECRET)
    network.fake.add_access_key(world.KEY2_ID, world.KEY2_SECRET)
    network.fake.add_instance(*world.ALIYUN_INSTANCE)
    yield network
    network.stop()
    assert network.fake.errors == [], "the fake Alibaba Cloud API failed:\n" + "\n".join(network.fake.errors)


@pytest.fixture
def set_up_person(tmp_path):
    """Someone who ran `credctl setup --store pass --podman` (world.pass_person): pass is Docker's
    credsStore and Podman's helper, so `credctl login` works for them."""
    someone = world.pass_person(tmp_path / "p")
    done = someone.run("credctl", "setup", "--store", "pass", "--podman", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    yield someone
    world.stop_person_agent(someone)
