"""Podman, Buildah and Skopeo as a person runs them (default configuration: no REGISTRY_AUTH_FILE,
no --authfile, no DOCKER_CONFIG), wired to each of credctl's login stores the way a user does it,
against a real registry that requires a login (world.Registry, htpasswd).

What the clients do is what counts: every login is checked through the store's own helper (its
`get`, as a client runs it), every file they could have written plaintext to is byte-checked, a
pull that succeeds proves the helper answered (the registry refuses anonymous pulls). No test
contacts a registry but the loopback one: Docker Hub keys are only read and erased (`login
--get-login`, `logout`, a helper's get/store/erase), which no client sends to Docker Hub.

The client code is containers/image 5.23 (Debian 12's podman 4.3, buildah 1.28, skopeo 1.9):
pkg/docker/config/config.go (SetCredentials, GetCredentials, RemoveAuthentication,
RemoveAllAuthentication) decides which helper is asked; docker-py's resolve_authconfig
(docker/auth.py) is checked against the same set-ups with its own cases
(docker/docker-py tests/unit/auth_test.py).
"""

import json
import shutil
import stat
import sys
from pathlib import Path

import pytest
import world

IMAGE, TAG = "credctl/hello", "v1"
NOT_FOUND = "credentials not found in native keychain\n"
STORES = world.CLIENT_STORES
TOOLS = world.CONTAINER_TOOLS
# One pull per client, every store used once: the pull proves the client asked the helper.
PULLS = {"podman": "pass", "buildah": "secretservice", "skopeo": "keyring"}


@pytest.fixture(scope="module")
def image(registry) -> str:
    """IMAGE:TAG pushed to the registry (Docker schema 2, which every client reads); its digest."""
    return world.push_image(registry, IMAGE, TAG, registry.user, registry.password, "v2s2")


def wire(person: world.StorePerson, *maps: str) -> None:
    """Podman, Buildah and Skopeo (and Docker) wired to the person's store as a user does it:
    `credctl setup --store STORE --podman --yes` (maps: --map REGISTRY=HELPER)."""
    args = ["setup", "--store", person.store, "--podman", "--yes", *(f"--map={item}" for item in maps)]
    done = person.user.run("credctl", *args)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def person(store, gnupg_home, tmp_path):
    """A person whose store is `store`, wired (wire) for Podman."""
    for program in ("podman", "buildah", "skopeo", "unshare"):
        world.need(program)
    world.need(*(("pass", "gpg") if store == "pass" else ("dbus-daemon", "gnome-keyring-daemon")))
    someone = world.StorePerson(tmp_path, store, gnupg_home)
    try:
        wire(someone)
        yield someone
    finally:
        someone.stop()


def auth_files(user: world.ContainersUser) -> list[Path]:
    """Every file a client of this person could have written a login to."""
    return [
        user.primary_auth_file,
        user.home / ".config" / "containers" / "auth.json",
        user.home / ".docker" / "config.json",
    ]


def assert_no_plaintext(user: world.ContainersUser, registry) -> None:
    """No login for the registry in any auth file, and its password (plain or in an "auth"
    value) in no file at all of the person's: their home, runtime folder, image storage."""
    for path in auth_files(user):
        world.no_login_in(path, registry.address, registry.user, registry.password)
    world.secret_in_no_file(user.base, registry.password, world.b64(f"{registry.user}:{registry.password}"))


def said(person: world.StorePerson, done) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a client; for a second user, without rootless podman's
    own notices about this machine (no /etc/subuid range, "/" not a shared mount), which
    podman logs as `time="…" level=…` lines on every run."""
    stderr = done.stderr
    if person.user.uid is not None:
        stderr = "".join(line for line in stderr.splitlines(True) if not line.startswith('time="'))
    return done.returncode, done.stdout, stderr


def login(person: world.StorePerson, tool: str, registry) -> None:
    done = person.user.login(tool, registry.address, registry.user, registry.password)
    assert said(person, done) == (0, "Login Succeeded!\n", ""), done.stderr


def stored(registry) -> str:
    """The helper's `get` answer for the registry's login (Go's json.Marshal of Credentials)."""
    body = {"ServerURL": registry.address, "Username": registry.user, "Secret": registry.password}
    return json.dumps(body, separators=(",", ":")) + "\n"


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("tool", TOOLS)
def test_login_stores_through_the_helper(tool, store, person, registry):
    """The drop-in's first helper takes the login: containers/image writes no auth file at all."""
    login(person, tool, registry)
    assert person.helper_get(registry.address) == (0, stored(registry))
    assert_no_plaintext(person.user, registry)
    assert not person.user.primary_auth_file.exists()


@pytest.mark.parametrize(("tool", "store"), PULLS.items())
def test_pull_uses_the_helpers_login(tool, store, person, registry, image):
    login(person, tool, registry)
    reference = f"{registry.address}/{IMAGE}:{TAG}"
    if tool == "skopeo":
        done = person.user.run("skopeo", "inspect", "--tls-verify=false", f"docker://{reference}")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["Digest"] == image
    else:
        done = person.user.run(tool, "pull", "--tls-verify=false", "--quiet", reference)
        assert done.returncode == 0, done.stderr
        listed = person.user.run(tool, "images", "--digests", "--format", "{{.Digest}}")
        assert listed.stdout.split() == [image], listed.stderr
    assert_no_plaintext(person.user, registry)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("tool", TOOLS)
def test_logout_removes_the_helpers_login(tool, store, person, registry):
    login(person, tool, registry)
    done = person.user.run(tool, "logout", registry.address)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"Removed login credentials for {registry.address}\n", "")
    assert person.helper_get(registry.address) == (1, NOT_FOUND)
    assert_no_plaintext(person.user, registry)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("tool", TOOLS)
def test_logout_when_nothing_is_stored(tool, store, person, registry):
    """Mapped but not logged in is the normal state after setup: logout must not crash."""
    done = person.user.run(tool, "logout", registry.address)
    expected = (0, f"Removed login credentials for {registry.address}\n", "")
    assert (done.returncode, done.stdout, done.stderr) == expected, done.stderr[:300]


UNUSED = "127.0.0.1:9"  # a registry mapped to the store but never logged in to (nor contacted)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("mapping", ["credctl map", "credHelpers in the primary file"])
@pytest.mark.parametrize("tool", TOOLS)
def test_logout_all_with_a_mapped_registry_that_has_no_login(tool, mapping, store, person, registry):
    """`TOOL logout --all` erases, one by one, every registry the primary file's credHelpers
    maps (containers/image pkg/docker/config/config.go RemoveAllAuthentication: an erase that
    fails fails the command: exit 125, "error erasing credentials - err: exit status 1, out:
    `credentials not found in native keychain`" while pass and keyring refused to erase
    nothing), then asks each credential-helpers helper to list and erase what it lists.
    `credctl map --podman` puts its credHelpers entry in ~/.config/containers/auth.json, which
    logout --all leaves alone."""
    login(person, tool, registry)
    if mapping == "credctl map":
        done = person.user.run("credctl", "map", UNUSED, person.store, "--podman")
        assert done.returncode == 0, done.stderr
    else:
        primary = person.user.primary_auth_file  # login through the helper did not write it
        assert not primary.exists()
        primary.parent.mkdir(parents=True, exist_ok=True)
        world.write(primary, json.dumps({"auths": {}, "credHelpers": {UNUSED: person.store}}).encode())
    done = person.user.run(tool, "logout", "--all")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Removed login credentials for all registries\n", "")
    assert person.helper_get(registry.address) == (1, NOT_FOUND)
    assert person.helper_get(UNUSED) == (1, NOT_FOUND)


@pytest.mark.parametrize("store", STORES)
def test_a_plaintext_login_in_the_primary_file_is_still_read(store, person, registry, image):
    """A login `podman login` wrote before credctl was set up ({"auths": {REG: {"auth": …}}} in
    the primary file): podman asks the store first (it has nothing), then the file."""
    primary = person.user.primary_auth_file
    primary.parent.mkdir(parents=True, exist_ok=True)
    plaintext = {"auths": {registry.address: {"auth": world.b64(f"{registry.user}:{registry.password}")}}}
    world.write(primary, json.dumps(plaintext, indent="\t").encode())
    found = person.user.run("podman", "login", "--get-login", registry.address)
    assert (found.returncode, found.stdout) == (0, f"{registry.user}\n"), found.stderr
    pulled = person.user.run("podman", "pull", "--tls-verify=false", "--quiet", f"{registry.address}/{IMAGE}:{TAG}")
    assert pulled.returncode == 0, pulled.stderr
    listed = person.user.run("credctl", "list", "--json")  # its notes: tests/test_podman_read.py
    assert listed.returncode == 0, listed.stderr
    plaintext = [row for row in json.loads(listed.stdout) if row["via"] == "plaintext"]
    fields = [(row["registry"], row["username"], row["file"]) for row in plaintext]
    assert fields == [(registry.address, registry.user, str(primary))]


# -- root without a runtime dir, and a second local user ----------------------------------------


def podman_round_trip(person: world.StorePerson, registry, image: str) -> None:
    """podman login, the helper's get, no plaintext, pull, logout, the helper's get again."""
    login(person, "podman", registry)
    assert person.helper_get(registry.address) == (0, stored(registry))
    assert_no_plaintext(person.user, registry)
    pulled = person.user.run("podman", "pull", "--tls-verify=false", "--quiet", f"{registry.address}/{IMAGE}:{TAG}")
    assert pulled.returncode == 0, pulled.stderr
    listed = person.user.run("podman", "images", "--digests", "--format", "{{.Digest}}")
    assert listed.stdout.split() == [image], listed.stderr
    done = person.user.run("podman", "logout", registry.address)
    assert said(person, done) == (0, f"Removed login credentials for {registry.address}\n", ""), done.stderr
    assert person.helper_get(registry.address) == (1, NOT_FOUND)


def test_root_without_a_runtime_dir(gnupg_home, tmp_path, registry, image):
    """As root in a cron job or CI shell: the primary file is /run/containers/0/auth.json."""
    world.need("podman", "pass", "unshare")
    person = world.StorePerson(tmp_path, "pass", gnupg_home, runtime_dir=False)
    assert person.user.primary_auth_path_seen == "/run/containers/0/auth.json"
    wire(person)
    podman_round_trip(person, registry, image)
    assert person.user.primary_auth_file.parent.is_dir()  # podman wrote (an empty login list) there


@pytest.fixture(scope="module")
def wheelhouse():
    """Wheels of credctl and its dependencies, where other local users can read them."""
    folder = world.folder_for_others()
    yield world.credctl_wheelhouse(folder)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_second_local_user(wheelhouse, registry, image):
    """Another local user (rootless podman, a single-uid mapping): their own gpg key and home,
    password store, and credctl installed by their pip in their own venv (world.OwnCredctl: ours
    may be under /root, which they cannot enter): every file of theirs is owned by them. Their
    folders are outside pytest's tmp_path, which only root may enter."""
    world.need("podman", "pass", "gpg", "setpriv", "/usr/bin/python3")
    uid = world.free_uid()
    base = world.folder_for_others()
    try:
        own = world.OwnCredctl(uid, base / "own", wheelhouse)
        try:
            person = world.StorePerson(base / "person", "pass", own.gnupg, bin=own.bin, uid=uid)
            wire(person)
            dropin = person.user.dropin_folder / "90-credctl.conf"
            assert (dropin.stat().st_uid, stat.S_IMODE(dropin.stat().st_mode)) == (uid, 0o600)
            assert stat.S_IMODE(person.user.dropin_folder.stat().st_mode) == 0o700
            refused = world.user_namespaces_refused(uid)
            if refused:  # their helper still serves them; only rootless podman cannot start here
                person.helper_store(registry.address, registry.user, registry.password)
                assert person.helper_get(registry.address) == (0, stored(registry))
            else:
                podman_round_trip(person, registry, image)
            world.owned_by(uid, person.user.home, own.gnupg[0], own.bin.parent)
        finally:
            own.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if refused:
        pytest.skip(f"rootless podman needs a user namespace, which this machine refuses uid {uid}: {refused}")


# -- Docker Hub: one login across docker and podman ---------------------------------------------

HUB_USER, HUB_SECRET = "hub-user", "hub-secret-do-not-leak"


def hub_logins(person: world.StorePerson) -> dict[str, tuple[int, str]]:
    return {key: person.helper_get(key) for key in world.HUB_KEYS}


@pytest.mark.parametrize("store", STORES)
def test_podman_logout_erases_the_login_docker_stored(store, person):
    """docker login stores Docker Hub under https://index.docker.io/v1/ (docker/cli
    registry.IndexServer); podman names it docker.io (containers/common pkg/auth/auth.go)."""
    person.helper_store(world.HUB, HUB_USER, HUB_SECRET)
    found = person.user.run("podman", "login", "--get-login", "docker.io")
    assert (found.returncode, found.stdout) == (0, f"{HUB_USER}\n"), found.stderr
    done = person.user.run("podman", "logout", "docker.io")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Removed login credentials for docker.io\n", "")
    assert hub_logins(person) == dict.fromkeys(world.HUB_KEYS, (1, NOT_FOUND))


@pytest.mark.parametrize("store", STORES)
def test_docker_logout_erases_the_login_podman_stored(store, person, docker_cli):
    """podman login docker.io stores it under docker.io; `docker logout` (Docker Hub, without
    contacting it) asks credsStore, which credctl setup wrote to ~/.docker/config.json, to erase
    https://index.docker.io/v1/."""
    person.helper_store("docker.io", HUB_USER, HUB_SECRET)
    done = person.user.run(docker_cli, "logout")
    assert (done.returncode, done.stdout) == (0, f"Removing login credentials for {world.HUB}\n"), done.stderr
    assert hub_logins(person) == dict.fromkeys(world.HUB_KEYS, (1, NOT_FOUND))
    gone = person.user.run("podman", "login", "--get-login", "docker.io")
    assert (gone.returncode, gone.stdout) == (125, ""), gone.stderr
    assert gone.stderr == "Error: not logged into docker.io\n"


# -- docker-py's resolve_authconfig ---------------------------------------------------------------

# docker-py asks a credential store for Docker Hub under https://index.docker.io/v1/ whatever the
# image names it as (docker/auth.py _resolve_authconfig_credstore): image names from docker-py's
# own cases (docker/docker-py tests/unit/auth_test.py, ResolveAuthTest
# test_resolve_registry_and_auth_*), resolved with its resolve_repository_name as it does.
DOCKER_PY_HUB_IMAGES = ("image", "username/image", "docker.io/username/image", "index.docker.io/username/image")
DOCKER_PY = """
import json, sys
from docker import auth
config = auth.load_config()
found = {name: auth.resolve_authconfig(config, auth.resolve_repository_name(name)[0]) for name in sys.argv[1:]}
found["(default registry)"] = auth.resolve_authconfig(config)
print(json.dumps(found))
"""


def docker_py(person: world.StorePerson, *images: str) -> dict:
    done = person.user.run(sys.executable, "-c", DOCKER_PY, *images)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("hub_key", [world.HUB, "docker.io"], ids=["stored-by-docker", "stored-by-podman"])
@pytest.mark.parametrize("store", STORES)
def test_docker_py_resolves_the_helpers_logins(store, hub_key, tmp_path, gnupg_home, registry):
    """Docker's config as `credctl setup --store STORE --map REG=STORE` writes it (credsStore and
    credHelpers); the registry's login stored by podman, Docker Hub's stored under hub_key."""
    for program in ("podman", "unshare"):
        world.need(program)
    person = world.StorePerson(tmp_path, store, gnupg_home)
    try:
        wire(person, f"{registry.address}={store}")
        config = json.loads((person.user.home / ".docker" / "config.json").read_text())
        assert (config["credsStore"], config["credHelpers"]) == (store, {registry.address: store})
        login(person, "podman", registry)
        person.helper_store(hub_key, HUB_USER, HUB_SECRET)
        found = docker_py(person, f"{registry.address}/{IMAGE}", *DOCKER_PY_HUB_IMAGES)
    finally:
        person.stop()
    hub = {"ServerAddress": world.HUB, "Username": HUB_USER, "Password": HUB_SECRET}
    mine = {"ServerAddress": registry.address, "Username": registry.user, "Password": registry.password}
    assert found == {
        f"{registry.address}/{IMAGE}": mine,
        **dict.fromkeys(DOCKER_PY_HUB_IMAGES, hub),
        "(default registry)": hub,
    }


# docker-py's own case (docker/docker-py tests/unit/auth_test.py, CredstoreTest
# test_get_credential_store_default_index): credHelpers {"https://index.docker.io/v1/": powerlock}
# and credsStore truesecret send Docker Hub (no registry, or docker.io) to powerlock, another
# registry to truesecret. Here credctl map writes that credHelpers entry from each spelling a
# user may give Docker Hub in; registry-1.docker.io is a key of its own for docker/cli (and so
# for docker-py, which looks credHelpers up by the name it is given).
DOCKER_PY_STORES = """
import json, sys
from docker import auth
config = auth.load_config()
print(json.dumps({str(name): auth.get_credential_store(config, name) for name in [None, *sys.argv[1:]]}))
"""


@pytest.mark.parametrize("spelling", ["docker.io", "index.docker.io", world.HUB, "registry-1.docker.io"])
def test_docker_py_asks_the_helper_credctl_mapped_docker_hub_to(spelling, tmp_path):
    user = world.ContainersUser(tmp_path)
    config = user.home / ".docker" / "config.json"
    config.parent.mkdir()
    world.write(config, b'{"credsStore": "truesecret"}')
    done = user.run("credctl", "map", spelling, "powerlock")
    assert done.returncode == 0, done.stderr
    found = user.run(sys.executable, "-c", DOCKER_PY_STORES, "docker.io", "images.io", "registry-1.docker.io")
    assert found.returncode == 0, found.stderr
    hub = "truesecret" if spelling == "registry-1.docker.io" else "powerlock"
    assert json.loads(found.stdout) == {
        "None": hub,
        "docker.io": hub,
        "images.io": "truesecret",
        "registry-1.docker.io": "powerlock" if spelling == "registry-1.docker.io" else "truesecret",
    }
