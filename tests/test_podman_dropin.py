"""credctl's registries.conf.d drop-in: Podman's own equivalent of credsStore, proven with the real
podman, buildah and skopeo (Debian 12: containers/image 5.23) in their default configuration (no
REGISTRY_AUTH_FILE, no --authfile), a real registry and credctl's real helpers and stores.

After `credctl setup --podman`, a `podman login` goes through the store's helper (containers/image
SetCredentials: the first of credential-helpers that succeeds), leaves no plaintext in any file,
and serves pulls; `podman logout` erases it. That holds for root with and without
XDG_RUNTIME_DIR, for a second local user, after a reboot (the primary auth file is on tmpfs) and
with a user registries.conf; `credctl verify` says when a later drop-in overrides credctl's. The
drop-in is written as config.json is (a file that is not TOML never overwritten, an unsafe folder
refused, nothing else changed when it cannot be written) and undone byte for byte.
"""

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
import world

from credctl import podman

PASS = "docker-credential-pass"
SECRETSERVICE = "docker-credential-secretservice"
IMAGE = ("dropin/hello", "v1")
NOT_FOUND = "credentials not found in native keychain"
DROPIN_PASS = podman.DROPIN_HEADER + 'credential-helpers = ["pass", "containers-auth.json"]\n'


@pytest.fixture(scope="module")
def image(registry) -> str:
    world.push_image(registry, *IMAGE, registry.user, registry.password)
    return f"{registry.address}/{IMAGE[0]}:{IMAGE[1]}"


@pytest.fixture
def person(tmp_path):
    """root, with an XDG_RUNTIME_DIR (a login session), and a pass store of their own."""
    world.need("podman", "unshare")
    someone = world.pass_person(tmp_path / "p")
    yield someone
    world.stop_person_agent(someone)


def _setup(person: world.ContainersUser, store: str = "pass"):
    return person.run("credctl", "setup", "--podman", "--store", store, "--yes")


def _dropin(person: world.ContainersUser) -> Path:
    return person.dropin_folder / podman.DROPIN_NAME


def _persistent(person: world.ContainersUser) -> Path:
    return person.home / ".config" / "containers" / "auth.json"


def _docker_config(person: world.ContainersUser) -> Path:
    return person.home / ".docker" / "config.json"


def _helper_get(person: world.ContainersUser, program: str, server: str):
    return person.run(program, "get", stdin=server)


def _assert_stored(person: world.ContainersUser, program: str, registry: world.Registry) -> None:
    found = _helper_get(person, program, registry.address)
    assert found.returncode == 0, found.stdout + found.stderr
    assert json.loads(found.stdout) == {
        "ServerURL": registry.address,
        "Username": registry.user,
        "Secret": registry.password,
    }


def _assert_no_plaintext(person: world.ContainersUser, registry: world.Registry) -> None:
    """Neither the password nor its base64 login in any file containers/image or Docker reads."""
    secrets = [registry.password, world.b64(f"{registry.user}:{registry.password}")]
    for path in (person.primary_auth_file, _persistent(person), _docker_config(person)):
        if path.exists():
            world.assert_no_secret(secrets, path.read_text())


def _login_logout_through(person: world.ContainersUser, program: str, registry: world.Registry, image: str) -> None:
    """podman login stores through program, no plaintext anywhere, pull works, logout erases it."""
    login = person.login("podman", registry.address, registry.user, registry.password)
    assert login.returncode == 0, login.stderr
    _assert_stored(person, program, registry)
    _assert_no_plaintext(person, registry)
    pulled = person.run("podman", "pull", "--quiet", "--tls-verify=false", image)
    assert pulled.returncode == 0, pulled.stderr
    logout = person.run("podman", "logout", registry.address)
    assert (logout.returncode, logout.stdout) == (0, f"Removed login credentials for {registry.address}\n")
    gone = _helper_get(person, program, registry.address)
    assert (gone.returncode, gone.stdout.strip()) == (1, NOT_FOUND)


# --- setup --podman: podman login through the store ----------------------------------------------


def test_setup_writes_the_drop_in_and_podman_logs_in_through_pass(person, registry, image):
    result = _setup(person)

    assert result.returncode == 0, result.stderr
    dropin = _dropin(person)
    assert f"✓ {dropin}: updated: podman, buildah and skopeo log in through {PASS}" in result.stdout.splitlines()
    assert dropin.read_text() == DROPIN_PASS
    assert stat.S_IMODE(dropin.stat().st_mode) == 0o600
    assert stat.S_IMODE(person.dropin_folder.stat().st_mode) == 0o700
    assert sorted(os.listdir(person.dropin_folder)) == [podman.DROPIN_NAME]  # no lock or temporary left
    assert not _persistent(person).exists()  # no registry goes to another helper: nothing to name there
    _login_logout_through(person, PASS, registry, image)
