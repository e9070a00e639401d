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
from pathlib import Path

import pytest
import world

from credctl import podman

PASS = "docker-credential-pass"
SECRETSERVICE = "docker-credential-secretservice"
IMAGE = ("dropin/hello", "v1")
NOT_FOUND = "credentials not found in native keychain"
DROPIN_PASS = podman.DROPIN_HEADER + 'credential-helpers = ["pass", "containers-auth.json"]\n'
MAP_DROPIN_PASS = podman.MAP_DROPIN_HEADER + 'credential-helpers = ["pass", "containers-auth.json"]\n'


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


@pytest.mark.parametrize("tool", ["buildah", "skopeo"])
def test_buildah_and_skopeo_log_in_through_the_drop_in_too(person, registry, tool):
    world.need(tool)
    assert _setup(person).returncode == 0

    login = person.login(tool, registry.address, registry.user, registry.password)

    assert login.returncode == 0, login.stderr
    _assert_stored(person, PASS, registry)
    _assert_no_plaintext(person, registry)
    logout = person.run(tool, "logout", registry.address)
    assert logout.returncode == 0, logout.stderr
    assert _helper_get(person, PASS, registry.address).returncode == 1


def test_setup_with_secretservice(tmp_path, registry, image):
    world.need("podman", "unshare", "dbus-daemon", "gnome-keyring-daemon")
    service = world.SecretService(tmp_path / "bus")
    try:
        bus = service.env["DBUS_SESSION_BUS_ADDRESS"]
        person = world.ContainersUser(tmp_path / "p", env={"DBUS_SESSION_BUS_ADDRESS": bus, "NO_COLOR": "1"})
        result = _setup(person, "secretservice")
        assert result.returncode == 0, result.stderr
        assert _dropin(person).read_text() == podman.DROPIN_HEADER + (
            'credential-helpers = ["secretservice", "containers-auth.json"]\n'
        )
        _login_logout_through(person, SECRETSERVICE, registry, image)
    finally:
        service.stop()


def test_root_without_a_runtime_dir(tmp_path, registry, image):
    """As root in a cron job or CI shell: no XDG_RUNTIME_DIR, the primary file is /run/containers/0/auth.json."""
    world.need("podman", "unshare")
    person = world.pass_person(tmp_path / "p", runtime_dir=False)
    try:
        assert _setup(person).returncode == 0
        _login_logout_through(person, PASS, registry, image)
        # logout rewrites the primary file (containers/image modifyJSON), with nothing in it.
        assert json.loads(person.primary_auth_file.read_text()) == {"auths": {}}
    finally:
        world.stop_person_agent(person)


def test_after_a_reboot_logins_still_go_through_the_helper(person, registry):
    """The primary file is on tmpfs; the drop-in is in the home folder and outlives it."""
    assert _setup(person).returncode == 0
    assert person.login("podman", registry.address, registry.user, registry.password).returncode == 0
    shutil.rmtree(person.runtime)  # the reboot
    person.runtime.mkdir(mode=0o700)

    still = person.run("podman", "login", "--get-login", registry.address)
    assert (still.returncode, still.stdout) == (0, f"{registry.user}\n")
    again = person.login("podman", registry.address, registry.user, registry.password)
    assert again.returncode == 0, again.stderr
    _assert_stored(person, PASS, registry)
    _assert_no_plaintext(person, registry)
    assert not person.primary_auth_file.exists()


def test_a_user_registries_conf_does_not_hide_the_drop_in(person, registry):
    """A user registries.conf hides the system file and folder, not the user's drop-in folder; even
    one that names the auth files alone is overridden by the drop-in, loaded after it."""
    conf = person.home / ".config" / "containers" / "registries.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('unqualified-search-registries = ["docker.io"]\ncredential-helpers = ["containers-auth.json"]\n')
    assert _setup(person).returncode == 0

    assert person.login("podman", registry.address, registry.user, registry.password).returncode == 0

    _assert_stored(person, PASS, registry)
    _assert_no_plaintext(person, registry)
    rows = _verify_rows(person)
    assert rows["podman drop-in"]["status"] == "ok"
    assert rows["podman login"]["source"] == str(_dropin(person))


def _verify_rows(person: world.ContainersUser) -> dict[str, dict]:
    """verify --json's Podman wiring rows, by check."""
    result = person.run("credctl", "verify", "--json")
    wanted = ("podman login", "podman drop-in")
    return {row["check"]: row for row in json.loads(result.stdout) if row["check"] in wanted}


def test_verify_shows_podmans_wiring(person, registry):
    assert _verify_rows(person) == {}  # no trace of Podman yet: nothing to say about it
    plaintext = person.login("podman", registry.address, registry.user, registry.password)
    assert plaintext.returncode == 0, plaintext.stderr
    assert registry.address in json.loads(person.primary_auth_file.read_text())["auths"]

    before = _verify_rows(person)

    assert before == {
        "podman login": {
            "check": "podman login",
            "target": person.primary_auth_path_seen,
            "status": "warning",
            "detail": "podman, buildah and skopeo write logins here in plaintext (base64): no registries.conf "
            "names a helper; run `credctl setup --podman`",
            "helpers": ["containers-auth.json"],
            "source": None,
        }
    }
    assert _setup(person).returncode == 0

    after = _verify_rows(person)

    dropin = str(_dropin(person))
    assert after == {
        "podman login": {
            "check": "podman login",
            "target": person.primary_auth_path_seen,
            "status": "ok",
            "detail": f"stored through {PASS}: podman asks {PASS}, then the auth files (credential-helpers in "
            f"{dropin}); only a login that helper cannot take (a namespaced one, such as quay.io/team) is written "
            "here, in plaintext",
            "helpers": ["pass", "containers-auth.json"],
            "source": dropin,
        },
        "podman drop-in": {
            "check": "podman drop-in",
            "target": dropin,
            "status": "ok",
            "detail": 'in effect: credential-helpers = ["pass", "containers-auth.json"]',
            "overridden_by": None,
        },
    }
    helper = next(
        row for row in json.loads(person.run("credctl", "verify", "--json").stdout) if row["check"] == "helper"
    )
    assert helper["target"] == PASS and "Podman credential-helpers" in helper["detail"]


def test_a_later_drop_in_overrides_credctls_and_verify_names_it(person, registry):
    assert _setup(person).returncode == 0
    later = person.dropin_folder / "99-mine.conf"
    later.write_text('credential-helpers = ["containers-auth.json"]\n')

    rows = _verify_rows(person)

    assert rows["podman drop-in"] == {
        "check": "podman drop-in",
        "target": str(_dropin(person)),
        "status": "warning",
        "detail": f"overridden: {later}, loaded after it, sets credential-helpers too, so its "
        '`credential-helpers = ["pass", "containers-auth.json"]` is not used; remove that line (or file) to let '
        "credctl's drop-in route Podman's logins",
        "overridden_by": str(later),
    }
    assert rows["podman login"]["status"] == "warning"
    assert rows["podman login"]["source"] == str(later)
    # What verify says is what podman does: the login lands in the primary file, in plaintext.
    assert person.login("podman", registry.address, registry.user, registry.password).returncode == 0
    written = json.loads(person.primary_auth_file.read_text())
    assert written == {"auths": {registry.address: {"auth": world.b64(f"{registry.user}:{registry.password}")}}}
    assert _helper_get(person, PASS, registry.address).returncode == 1
    # setup again says so in one warning line, and leaves the other file alone.
    again = _setup(person)
    assert again.returncode == 0
    assert again.stderr == (
        f"warning: podman login writes plaintext to {person.primary_auth_path_seen}, not {PASS}: {later} "
        "(loaded after credctl's drop-in) sets credential-helpers\n"
    )
    assert later.read_text() == 'credential-helpers = ["containers-auth.json"]\n'


# --- the drop-in is written with care -------------------------------------------------------------


def test_a_malformed_drop_in_is_never_overwritten(person):
    person.dropin_folder.mkdir(parents=True)
    broken = b'credential-helpers = ["pass",\n'
    world.write(_dropin(person), broken)

    for args in (("setup", "--podman", "--store", "pass", "--yes"), ("map", "r.example", "pass", "--podman")):
        result = person.run("credctl", *args)
        assert result.returncode == 1
        line = world.one_error_line(result)
        assert line.startswith(f"error: {_dropin(person)} is not valid TOML (")
        assert line.endswith("): fix or remove it; credctl never overwrites a file it cannot read\n")
        assert _dropin(person).read_bytes() == broken
        assert not _docker_config(person).exists()  # nothing else was written either
        assert not _persistent(person).exists()


def test_an_unsafe_drop_in_folder_is_refused_and_nothing_is_written(person):
    person.dropin_folder.mkdir(parents=True)
    person.dropin_folder.chmod(0o777)

    result = _setup(person)

    assert result.returncode == 1
    assert world.one_error_line(result) == (
        f"error: {person.dropin_folder}: writable by other users (mode 0777): podman loads every .conf file there, "
        "so credctl writes none in a folder another user controls: fix its owner or mode first\n"
    )
    assert os.listdir(person.dropin_folder) == []
    assert not _docker_config(person).exists()


def test_setup_puts_the_drop_in_back_when_dockers_part_fails(person, tmp_path):
    """A previous credsStore whose logins cannot be copied stops setup after the drop-in was
    written: the drop-in (and everything else) is as it was."""
    farm = tmp_path / "bin"
    farm.mkdir()
    broken = farm / "docker-credential-broken"
    broken.write_text('#!/bin/sh\n[ "$1" = list ] && { echo \'{"b.example":"u"}\'; exit 0; }\necho "no"; exit 1\n')
    broken.chmod(0o755)
    person.env["PATH"] = f"{farm}:{person.env['PATH']}"
    config = _docker_config(person)
    config.parent.mkdir()
    world.write(config, b'{"credsStore": "broken"}')
    person.dropin_folder.mkdir(parents=True)
    mine = b'# mine\nunqualified-search-registries = ["docker.io"]\n'
    world.write(_dropin(person), mine)

    result = _setup(person)

    assert result.returncode == 1
    assert "could not be copied out of docker-credential-broken" in world.one_error_line(result)
    assert _dropin(person).read_bytes() == mine
    assert config.read_bytes() == b'{"credsStore": "broken"}'


def test_setup_keeps_what_else_the_drop_in_holds_and_undo_takes_out_only_its_own(person):
    person.dropin_folder.mkdir(parents=True)
    mine = (
        "# my settings\n"
        'unqualified-search-registries = ["docker.io"]\n'
        "credential-helpers = [\n"
        '  "secretservice",\n'
        "]\n"
        "\n"
        "[[registry]]\n"
        'location = "mirror.example"\n'
    )
    world.write(_dropin(person), mine.encode())

    assert _setup(person).returncode == 0

    assert _dropin(person).read_text() == (
        "# my settings\n"
        'unqualified-search-registries = ["docker.io"]\n'
        'credential-helpers = ["pass", "containers-auth.json"]\n'
        "\n"
        "[[registry]]\n"
        'location = "mirror.example"\n'
    )
    undo = person.run("credctl", "unmap", "--podman-default")
    assert (undo.returncode, undo.stderr) == (0, "")
    assert undo.stdout == (
        f"✓ {_dropin(person)}: credctl's credential-helpers line removed; the rest of the file is kept\n"
        f"podman login writes logins in plaintext to {person.primary_auth_path_seen} again\n"
    )
    assert _dropin(person).read_text() == (
        '# my settings\nunqualified-search-registries = ["docker.io"]\n\n[[registry]]\nlocation = "mirror.example"\n'
    )


# --- map --podman and unmap ----------------------------------------------------------------------


def test_map_without_setup_writes_the_drop_in_and_unmap_undoes_it_byte_for_byte(person, registry):
    config, persistent = _docker_config(person), _persistent(person)
    config.parent.mkdir()
    persistent.parent.mkdir(parents=True)
    docker_before = b'{\n\t"auths": {},\n\t"psFormat": "x"\n}\n'
    podman_before = b'{\n\t"credHelpers": {\n\t\t"acr.example": "acr-helper"\n\t}\n}'  # as podman writes it
    world.write(config, docker_before)
    world.write(persistent, podman_before)
    person.dropin_folder.mkdir()
    other = person.dropin_folder / "50-mirrors.conf"
    other.write_text('[[registry]]\nlocation = "mirror.example"\n')

    mapped = person.run("credctl", "map", registry.address, "pass", "--podman")

    assert (mapped.returncode, mapped.stderr) == (0, ""), mapped.stderr
    assert mapped.stdout.splitlines() == [
        f"✓ {registry.address} → {PASS} in {config}",
        f"✓ {registry.address} → {PASS} in {persistent}",
        f"✓ {_dropin(person)}: podman, buildah and skopeo log in through {PASS}",
    ]
    assert _dropin(person).read_text() == MAP_DROPIN_PASS
    assert person.login("podman", registry.address, registry.user, registry.password).returncode == 0
    _assert_stored(person, PASS, registry)
    _assert_no_plaintext(person, registry)

    unmapped = person.run("credctl", "unmap", registry.address, "--podman")
    assert (unmapped.returncode, unmapped.stderr) == (0, "")
    assert unmapped.stdout.splitlines()[2:] == [
        f"✓ {_dropin(person)}: removed",
        f"podman login writes logins in plaintext to {person.primary_auth_file} again",
    ]
    assert config.read_bytes() == docker_before
    assert persistent.read_bytes() == podman_before
    assert sorted(os.listdir(person.dropin_folder)) == ["50-mirrors.conf"]
    again = person.run("credctl", "unmap", "--podman-default")
    assert again.stdout.splitlines()[0] == f"{_dropin(person)}: credctl wrote nothing there: nothing to do"


def test_maps_drop_in_goes_with_the_last_registry_that_needs_it(person):
    assert person.run("credctl", "map", "a.example", "pass", "--podman").returncode == 0
    assert person.run("credctl", "map", "b.example", "pass", "--podman").returncode == 0

    first = person.run("credctl", "unmap", "a.example", "--podman")

    assert first.returncode == 0, first.stderr
    assert _dropin(person).read_text() == MAP_DROPIN_PASS  # b.example still needs it
    last = person.run("credctl", "unmap", "b.example", "--podman")
    assert f"✓ {_dropin(person)}: removed" in last.stdout.splitlines()
    assert not _dropin(person).exists()


def test_setup_takes_over_the_drop_in_map_wrote(person):
    """After setup --podman the drop-in is setup's: an unmap of the mapped registry leaves it."""
    assert person.run("credctl", "map", "a.example", "pass", "--podman").returncode == 0
    assert _setup(person).returncode == 0
    assert _dropin(person).read_text() == DROPIN_PASS

    unmapped = person.run("credctl", "unmap", "a.example", "--podman")

    assert unmapped.returncode == 0, unmapped.stderr
    assert _dropin(person).read_text() == DROPIN_PASS
    assert unmapped.stdout.splitlines()[-1] == (
        f"podman login a.example still stores in {PASS}, as credctl's drop-in {_dropin(person)} says for "
        "every registry (`credctl unmap --podman-default` removes it)"
    )


def test_map_to_another_store_than_the_drop_ins_says_where_podman_login_goes(person):
    assert person.run("credctl", "map", "a.example", "keyring", "--podman").returncode == 0

    result = person.run("credctl", "map", "b.example", "pass", "--podman")

    assert result.returncode == 0
    assert result.stderr == (
        f"warning: podman login b.example stores in docker-credential-keyring, not {PASS}: {_dropin(person)} sets "
        "credential-helpers; Podman's credHelpers entry for b.example serves reads only\n"
    )
    assert _dropin(person).read_text() == podman.MAP_DROPIN_HEADER + (
        'credential-helpers = ["keyring", "containers-auth.json"]\n'
    )


def test_map_to_a_token_helper_writes_no_drop_in(person):
    result = person.run("credctl", "map", "team.cr.aliyuncs.com", "acr-helper", "--podman")

    assert result.returncode == 0, result.stderr
    assert not person.dropin_folder.exists()
    assert json.loads(_persistent(person).read_text()) == {"credHelpers": {"team.cr.aliyuncs.com": "acr-helper"}}


def test_unmap_wants_a_registry_or_podman_default(person):
    result = person.run("credctl", "unmap")

    assert result.returncode == 2
    assert (
        world.usage_error(result, "unmap") == "give a REGISTRY, or --podman-default to remove credctl's Podman drop-in"
    )


# --- what the drop-in means for logout --all and namespaced logins (docs/guide.md says so) --------


def test_podman_logout_all_erases_every_login_the_stores_helper_lists(person, registry):
    """containers/image RemoveAllAuthentication runs the helper's `list`, then `erase` for each: with
    the drop-in, Docker's logins in the same store go too."""
    assert _setup(person).returncode == 0
    docker_login = json.dumps({"ServerURL": "docker-only.example", "Username": "d", "Secret": "docker-secret"})
    assert person.run(PASS, "store", stdin=docker_login).returncode == 0
    assert person.login("podman", registry.address, registry.user, registry.password).returncode == 0

    logout = person.run("podman", "logout", "--all")

    assert (logout.returncode, logout.stdout) == (0, "Removed login credentials for all registries\n")
    listed = person.run(PASS, "list")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, {})


def test_a_namespaced_login_goes_to_the_primary_file(person, registry):
    """Helpers are per host: containers/image SetCredentials skips them for a namespaced key and the
    auth files take it, in plaintext (verify's podman login row says so)."""
    assert _setup(person).returncode == 0
    namespaced = f"{registry.address}/team"

    login = person.login("podman", namespaced, registry.user, registry.password)

    assert login.returncode == 0, login.stderr
    written = json.loads(person.primary_auth_file.read_text())
    assert written == {"auths": {namespaced: {"auth": world.b64(f"{registry.user}:{registry.password}")}}}
    assert _helper_get(person, PASS, registry.address).returncode == 1


# --- the drop-in's edits, line by line -------------------------------------------------------------

HELPERS = ("pass", "containers-auth.json")
LINE = 'credential-helpers = ["pass", "containers-auth.json"]\n'
# (the drop-in as found, as credctl leaves it): only the credential-helpers line is credctl's.
EDITS = {
    "no file yet": (None, DROPIN_PASS),
    "the line replaced where it is": ('a = 1\ncredential-helpers = ["x"]\nb = 2\n', f"a = 1\n{LINE}b = 2\n"),
    "an array over several lines": ('credential-helpers = [\n  "x",\n  "y",\n]\nb = 2\n', f"{LINE}b = 2\n"),
    "a quoted key": ("\"credential-helpers\" = ['x']\n", LINE),
    "before the first table": ('# c\n[[registry]]\nlocation = "m"\n', f'# c\n{LINE}[[registry]]\nlocation = "m"\n'),
    "a key inside a table is not the top-level one": (
        '[aliases]\ncredential-helpers = "x"\n',
        f'{LINE}[aliases]\ncredential-helpers = "x"\n',
    ),
    "appended to a file without a final newline": ("a = 1", f"a = 1\n{LINE}"),
}


@pytest.mark.parametrize("case", EDITS, ids=list(EDITS))
def test_the_drop_in_edit_changes_only_its_line(case):
    import tomllib

    found, expected = EDITS[case]
    edited = podman.with_helpers(found, HELPERS)
    assert edited == expected
    assert tuple(tomllib.loads(edited)["credential-helpers"]) == HELPERS
    assert podman.dropin_helpers(edited) == HELPERS


def test_the_drop_in_follows_home_not_xdg_config_home(tmp_path):
    """containers/image 5.23 finds the user's registries.conf.d under HOME alone."""
    environ = {"HOME": str(tmp_path / "h"), "XDG_CONFIG_HOME": str(tmp_path / "x")}
    assert podman.dropin_path(environ) == f"{tmp_path}/h/.config/containers/registries.conf.d/90-credctl.conf"
