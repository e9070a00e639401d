"""Erasing what is not stored succeeds, in every store credctl serves, because Podman, Buildah and
Skopeo cannot log out otherwise.

containers/image 5.23 (Podman 4.3, Buildah 1.28, Skopeo 1.9) runs a helper's `erase` through
docker-credential-helpers' client, whose Erase wraps any failure as "error erasing credentials -
err: exit status 1, out: `…`". RemoveAuthentication (pkg/docker/config/config.go) only forgives
an error whose whole text is "credentials not found in native keychain", so the wrapped text is
an error. The editor of the primary auth file returns multiErr, the failures so far (of a
credHelpers entry there, or of a registries.conf credential-helpers entry before it); modifyJSON
wraps it and `multiErr = multierror.Append(multiErr, err)` then holds itself: podman's logout
(containers/common pkg/auth) asks errors.Is(err, ErrNotLoggedIn) and recurses until `fatal error:
stack overflow` (exit 2). RemoveAllAuthentication stops at the first failing erase (`logout
--all`: exit 125). Go's secretservice helper answers success; Go's pass helper, like credctl's
pass and keyring helpers before, does not. Measured here against the real programs, with a
registry mapped to a helper and nothing stored: the state `credctl setup` leaves every known
registry in.
"""

import json

import pytest
import world
from world import GO_PASS, NOT_FOUND, outcome

from credctl.stores import LOGIN_STORES, ROUTERS, STORES

REG = "reg.example:5000"  # mapped, never contacted: logout does not talk to the registry
OTHER = "other.example:5000"
ERASED = (0, b"", b"")  # Go's secretservice helper's erase of nothing (measured below), byte for byte
TOKEN_STORES = tuple(name for name, spec in STORES.items() if spec.tokens)


@pytest.fixture(params=(*LOGIN_STORES, *ROUTERS))  # the router keeps logins through its route
def login_world(request) -> world.StoreWorld:
    return world.store_world(request.param, request)


@pytest.fixture
def person(login_world, tmp_path) -> world.ContainersUser:
    world.need("podman", "buildah", "skopeo")
    return world.containers_user_of(login_world, tmp_path / "person")


def map_in_primary_file(person: world.ContainersUser, helpers: dict[str, str]) -> None:
    """credHelpers in the primary auth file: the one file containers/image edits on logout."""
    person.primary_auth_file.parent.mkdir(parents=True, exist_ok=True)
    world.write(person.primary_auth_file, json.dumps({"auths": {}, "credHelpers": helpers}).encode())


# --- the helpers themselves, as Go's secretservice helper answers -------------------------------


def test_gos_secretservice_helper_erases_nothing_silently(secret_service):
    world.need(world.GO_SECRETSERVICE)
    for stdin in (REG, REG + "\n", "docker.io"):
        assert outcome(world.GO_SECRETSERVICE, "erase", stdin, secret_service.env) == ERASED, stdin


def test_erase_of_nothing_answers_as_gos_secretservice_helper(login_world):
    for stdin in (REG, REG + "\n", "https://index.docker.io/v1/", "docker.io", "registry-1.docker.io"):
        assert outcome(login_world.program, "erase", stdin, login_world.env) == ERASED, stdin
    # Not a way round the input rules: no server URL is still an error, as in Go.
    assert outcome(login_world.program, "erase", "", login_world.env) == (1, b"no credentials server URL\n", b"")


def test_erase_of_nothing_leaves_other_logins(login_world):
    stored = world.run_helper(login_world.program, "store", world.answer(OTHER, "s3cr3t", "bob"), login_world.env)
    assert (stored.returncode, stored.stdout) == (0, b"")
    assert outcome(login_world.program, "erase", REG, login_world.env) == ERASED
    assert outcome(login_world.program, "list", b"", login_world.env) == (0, b'{"other.example:5000":"bob"}\n', b"")


def test_gos_pass_helper_differs_on_purpose(pass_env):
    """Go's pass helper fails here (docs/helper-protocol.md lists the difference)."""
    world.need(GO_PASS)
    status, out, err = outcome(GO_PASS, "erase", REG, pass_env)
    assert (status, err) == (1, b"")
    assert out.endswith(b" is not in the password store.\n\n")
    assert outcome(world.ours("docker-credential-pass"), "erase", REG, pass_env) == ERASED


def test_a_token_store_erases_nothing_too(request):
    for name in TOKEN_STORES:
        store = world.store_world(name, request)
        assert outcome(store.program, "erase", REG, store.env) == ERASED


# --- Podman, Buildah and Skopeo logging out of a mapped registry with nothing stored -------------


def map_in_dropin(person: world.ContainersUser, store: str) -> None:
    """The store as every registry's helper, by a registries.conf.d drop-in in the person's own
    folder (read by root too: sysregistriesv2 uses ~/.config/containers/registries.conf.d when it
    exists); containers/image then erases through the helper directly, not inside modifyJSON."""
    person.dropin_folder.mkdir(parents=True)
    (person.dropin_folder / "50-test.conf").write_text(f'credential-helpers = ["{store}", "containers-auth.json"]\n')


@pytest.mark.parametrize("tool", world.CONTAINER_TOOLS)
def test_logout_with_the_store_as_every_registrys_helper(login_world, person, tool):
    map_in_dropin(person, login_world.name)
    result = person.run(tool, "logout", REG)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"Removed login credentials for {REG}\n", "")
    everything = person.run(tool, "logout", "--all")
    assert (everything.returncode, everything.stderr) == (0, "")
    assert everything.stdout == "Removed login credentials for all registries\n"


@pytest.mark.parametrize("runtime_dir", [True, False], ids=["login-session", "no-runtime-dir"])
@pytest.mark.parametrize("tool", world.CONTAINER_TOOLS)
def test_logout_of_a_mapped_registry_with_nothing_stored(login_world, tmp_path, tool, runtime_dir):
    """In $XDG_RUNTIME_DIR/containers/auth.json, or as root with no runtime folder (a cron job)
    in /run/containers/0/auth.json: the primary file either way."""
    world.need(tool)
    person = world.containers_user_of(login_world, tmp_path / "person", runtime_dir=runtime_dir)
    map_in_primary_file(person, {REG: login_world.name})
    result = person.run(tool, "logout", REG)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"Removed login credentials for {REG}\n", "")
    assert json.loads(person.primary_auth_file.read_text()) == {"auths": {}, "credHelpers": {REG: login_world.name}}


def test_podman_logout_all_with_mapped_registries_and_nothing_stored(login_world, person):
    map_in_primary_file(person, {REG: login_world.name, "docker.io": login_world.name})
    result = person.run("podman", "logout", "--all")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "Removed login credentials for all registries\n"


def test_podman_logout_all_keeps_no_login(login_world, person):
    """--all erases each mapped registry's login, and one that is missing does not stop it."""
    map_in_primary_file(person, {REG: login_world.name, OTHER: login_world.name})
    program = login_world.program
    stored = person.run(program, "store", stdin=world.answer(OTHER, "s3cr3t", "bob").decode())
    assert stored.returncode == 0, stored.stdout
    result = person.run("podman", "logout", "--all")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr[-2000:]
    assert world.helper_outcome(person, program, "list") == (0, "{}\n", "")
    assert world.helper_outcome(person, program, "get", OTHER) == (1, NOT_FOUND.decode(), "")


@pytest.mark.parametrize("wiring", ["credHelpers", "drop-in"])
def test_why_a_not_found_answer_is_not_enough(tmp_path, pass_env, wiring):
    """The reason, pinned: a helper that fails erase (here Go's pass helper, under another name)
    crashes podman 4.3's logout with Go's stack overflow, wired either way; with a credHelpers
    entry `logout --all` fails too (with the drop-in it lists the helper first: nothing to erase)."""
    world.need("podman", GO_PASS)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker-credential-gopass").symlink_to(GO_PASS)
    store_env = {name: pass_env[name] for name in ("GNUPGHOME", "PASSWORD_STORE_DIR")}
    person = world.ContainersUser(tmp_path / "person", env=store_env)
    person.env["PATH"] = f"{bin_dir}:{person.env['PATH']}"
    if wiring == "drop-in":
        map_in_dropin(person, "gopass")
    else:
        map_in_primary_file(person, {REG: "gopass"})
    crashed = person.run("podman", "logout", REG)
    assert crashed.returncode == 2
    assert "fatal error: stack overflow" in crashed.stderr
    assert "go-multierror" in crashed.stderr  # errors.Is walking the error that holds itself
    if wiring == "credHelpers":
        failed = person.run("podman", "logout", "--all")
        assert failed.returncode == 125
        assert "error erasing credentials - err: exit status 1, out: `exit status 1: Error: " in failed.stderr
