"""`credctl list`, `verify` and `migrate` read every file Podman reads (credctl.logins), checked
against real podman 4.3 in its default configuration: the plaintext login `podman login` writes
to the primary file is listed, reported and moved, and Podman still finds it afterwards.
"""

import json
from pathlib import Path

import pytest
import world

from credctl import podman

IMAGE = "podread/img"
WIRINGS = ("credHelpers", "drop-in")


def _person(tmp_path: Path, pass_env: dict[str, str], runtime_dir: bool = True) -> world.ContainersUser:
    store = {name: pass_env[name] for name in ("GNUPGHOME", "PASSWORD_STORE_DIR", "XDG_CACHE_HOME")}
    return world.ContainersUser(tmp_path, env={**store, "NO_COLOR": "1", "COLUMNS": "250"}, runtime_dir=runtime_dir)


def _wire(person: world.ContainersUser, registry: str, how: str) -> None:
    """Make Podman ask credctl's pass helper for registry: a credHelpers entry in the persistent
    auth file, or a registries.conf.d drop-in naming pass before the auth files."""
    if how == "credHelpers":
        persistent = person.home / ".config" / "containers" / "auth.json"
        persistent.parent.mkdir(parents=True, exist_ok=True)
        world.write(persistent, json.dumps({"credHelpers": {registry: "pass"}}).encode())
    else:
        person.dropin_folder.mkdir(parents=True, exist_ok=True)
        (person.dropin_folder / "50-credctl.conf").write_text('credential-helpers = ["pass", "containers-auth.json"]\n')


def _list(person: world.ContainersUser) -> list[dict]:
    result = person.run("credctl", "list", "--json")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return json.loads(result.stdout)


def _row(registry: str, user: str, file: str, note: str) -> dict[str, str]:
    return {"registry": registry, "via": "plaintext", "helper": "", "username": user, "file": file, "note": note}


def _verify_rows(person: world.ContainersUser, check: str) -> list[dict]:
    result = person.run("credctl", "verify", "--json")
    return [row for row in json.loads(result.stdout) if row["check"] == check]


def _auths(path: Path) -> dict:
    return json.loads(path.read_text()).get("auths", {})


@pytest.mark.parametrize(
    ("how", "runtime_dir"),
    [("credHelpers", True), ("drop-in", True), ("drop-in", False)],
    ids=["credHelpers", "drop-in", "drop-in-no-runtime-dir"],
)
def test_a_podman_login_is_listed_reported_and_moved(tmp_path, pass_env, registry, how, runtime_dir):
    world.need("podman", "unshare")
    world.push_image(registry, IMAGE, "v1", registry.user, registry.password)
    person = _person(tmp_path / "p", pass_env, runtime_dir)
    reg, primary, seen = registry.address, person.primary_auth_file, person.primary_auth_path_seen
    assert person.login("podman", reg, registry.user, registry.password).returncode == 0
    assert _auths(primary) == {reg: {"auth": world.b64(f"{registry.user}:{registry.password}")}}

    assert _list(person) == [_row(reg, registry.user, seen, "plaintext in the file: run `credctl migrate`")]
    assert _verify_rows(person, "podman plaintext") == [
        {"check": "podman plaintext", "target": reg, "status": "warning",
         "detail": f"plaintext login (user '{registry.user}') in {seen}, which Podman reads: move it with "
                   "`credctl migrate`"},
    ]  # fmt: skip

    # Not wired: Podman would lose the login, so it stays, with the line saying what to run.
    kept = person.run("credctl", "migrate", "--yes")
    assert kept.returncode == 0, kept.stderr
    assert kept.stderr == (
        f"warning: {reg} in {seen}: left as it is: Podman asks no credential helper for {reg}, so it would lose "
        "this login: run `credctl setup --podman` (or `credctl map REGISTRY HELPER --podman`), then `credctl "
        "migrate` again\n"
    )
    assert reg in _auths(primary)

    _wire(person, reg, how)
    moved = person.run("credctl", "migrate", "--yes")
    assert moved.returncode == 0, moved.stderr
    assert f"moved 1 credential(s) out of {seen}" in moved.stdout
    assert registry.password not in primary.read_text() and reg not in _auths(primary)
    stored = person.run("docker-credential-pass", "get", stdin=reg)
    assert json.loads(stored.stdout) == {"ServerURL": reg, "Username": registry.user, "Secret": registry.password}
    found = person.run("podman", "login", "--get-login", reg)
    assert (found.returncode, found.stdout) == (0, f"{registry.user}\n"), found.stderr
    pulled = person.run("podman", "pull", "--quiet", "--tls-verify=false", f"{reg}/{IMAGE}:v1")
    assert pulled.returncode == 0, pulled.stderr
    assert _verify_rows(person, "podman plaintext") == []


def test_dry_run_shows_the_plan_and_changes_nothing(tmp_path, pass_env, registry):
    world.need("podman")
    person = _person(tmp_path / "p", pass_env)
    reg, primary = registry.address, person.primary_auth_file
    assert person.login("podman", reg, registry.user, registry.password).returncode == 0
    _wire(person, reg, "drop-in")
    before = primary.read_bytes()

    result = person.run("credctl", "migrate", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert f"│ {reg} " in result.stdout and "docker-credential-pass" in result.stdout
    assert f'"{reg}": {{' in result.stdout and '"auth": "***"' in result.stdout and "\n+{}\n" in result.stdout
    assert "Dry run: nothing was stored or written." in result.stdout
    assert registry.password not in result.stdout + result.stderr
    assert primary.read_bytes() == before
    assert person.run("docker-credential-pass", "get", stdin=reg).returncode == 1


def test_namespaced_logins_move_only_when_unambiguous(tmp_path, pass_env, registry):
    """podman login REG/NAMESPACE writes the namespaced key; a helper holds one login per host."""
    world.need("podman")
    world.push_image(registry, IMAGE, "v1", registry.user, registry.password)
    person = _person(tmp_path / "p", pass_env)
    reg, primary, seen = registry.address, person.primary_auth_file, person.primary_auth_path_seen
    scoped = f"{reg}/podread"
    assert person.login("podman", scoped, registry.user, registry.password).returncode == 0
    assert list(_auths(primary)) == [scoped]
    assert _list(person) == [
        _row(scoped, registry.user, seen, f"plaintext in the file: for images under {scoped}; run `credctl migrate`")
    ]

    _wire(person, reg, "drop-in")
    moved = person.run("credctl", "migrate", "--yes")
    assert moved.returncode == 0, moved.stderr
    assert _auths(primary) == {}
    pulled = person.run("podman", "pull", "--quiet", "--tls-verify=false", f"{scoped}/img:v1")
    assert pulled.returncode == 0, pulled.stderr

    # The same login beside a registry-wide one (for another user) in one file: the namespaced one stays.
    other = tmp_path / "other"
    ambiguous = _person(other, pass_env)
    assert ambiguous.login("podman", scoped, registry.user, registry.password).returncode == 0
    assert ambiguous.login("podman", reg, "someone", "else").returncode != 0  # the registry refuses a wrong login
    data = json.loads(ambiguous.primary_auth_file.read_text())
    data["auths"][reg] = {"auth": world.b64("someone:else")}
    world.write(ambiguous.primary_auth_file, json.dumps(data).encode())
    _wire(ambiguous, reg, "drop-in")
    left = ambiguous.run("credctl", "migrate", "--yes")
    assert left.returncode == 0, left.stderr
    assert left.stderr == (
        f"warning: {scoped} in {ambiguous.primary_auth_path_seen}: left as it is: a credential helper holds one "
        f"login per registry, and {ambiguous.primary_auth_path_seen} also has one for {reg} ({reg}): move or remove "
        "one of them by hand\n"
    )
    assert list(_auths(ambiguous.primary_auth_file)) == [scoped]


def test_the_legacy_dockercfg_is_read_and_migrated(tmp_path, pass_env, registry):
    world.need("podman")
    person = _person(tmp_path / "p", pass_env)
    reg = registry.address
    legacy = person.home / ".dockercfg"
    world.write(
        legacy, json.dumps({f"https://{reg}/v1/": {"auth": world.b64(f"{registry.user}:{registry.password}")}}).encode()
    )
    assert person.run("podman", "login", "--get-login", reg).stdout == f"{registry.user}\n"
    assert _list(person) == [
        _row(f"https://{reg}/v1/", registry.user, str(legacy), "plaintext in the file: run `credctl migrate`")
    ]

    _wire(person, reg, "credHelpers")
    moved = person.run("credctl", "migrate", "--yes")

    assert moved.returncode == 0, moved.stderr
    assert json.loads(legacy.read_text()) == {}
    found = person.run("podman", "login", "--get-login", reg)
    assert (found.returncode, found.stdout) == (0, f"{registry.user}\n"), found.stderr


def test_a_shadowed_login_is_named_and_left(tmp_path, pass_env, registry):
    """The primary file comes first: Podman never reads the persistent file's credHelpers entry or
    login for the same registry while the primary file holds one."""
    world.need("podman")
    person = _person(tmp_path / "p", pass_env)
    reg, seen = registry.address, person.primary_auth_path_seen
    assert person.login("podman", reg, registry.user, registry.password).returncode == 0
    persistent = person.home / ".config" / "containers" / "auth.json"
    persistent.parent.mkdir(parents=True)
    data = {"credHelpers": {reg: "pass"}, "auths": {reg: {"auth": world.b64("older:pw")}}}
    world.write(persistent, json.dumps(data).encode())
    assert person.run("podman", "login", "--get-login", reg).stdout == f"{registry.user}\n"

    assert _list(person) == [
        _row(reg, registry.user, seen, "plaintext in the file: run `credctl migrate`"),
        {"registry": reg, "via": "credHelpers", "helper": "pass", "username": "", "file": str(persistent),
         "note": f"not reached by Podman while {seen} holds a plaintext login for it; no credentials stored yet"},
        _row(reg, "older", str(persistent),
             f"plaintext in the file: never used by Podman: it reads the login in {seen} first"),
    ]  # fmt: skip
    left = person.run("credctl", "migrate", "--yes")
    assert left.returncode == 0, left.stderr
    assert left.stderr == (
        f"warning: {reg} in {persistent}: left as it is: Podman never uses it: it reads the login in {seen} first\n"
    )
    assert person.run("podman", "login", "--get-login", reg).stdout == f"{registry.user}\n"  # now from pass

    # Now the persistent file's credHelpers entry comes before its stale login: the store's is kept.
    again = person.run("credctl", "migrate", "--yes")
    assert again.returncode == 0, again.stderr
    assert (
        f"{reg}: docker-credential-pass already holds a login for it (user {registry.user}), the one Podman uses "
        "(it asks that helper before it reads the file's copy): kept it, removed the plaintext copy\n"
    ) in again.stdout
    assert json.loads(persistent.read_text()) == {"credHelpers": {reg: "pass"}}
    assert person.run("podman", "login", "--get-login", reg).stdout == f"{registry.user}\n"


def test_a_malformed_file_is_one_row_and_the_others_are_listed(tmp_path, pass_env):
    world.need("podman")
    person = _person(tmp_path / "p", pass_env)
    person.primary_auth_file.parent.mkdir(parents=True)
    world.write(person.primary_auth_file, b'{"auths": {')
    legacy = person.home / ".dockercfg"
    world.write(legacy, json.dumps({"legacy.example": {"auth": world.b64("old:pw")}}).encode())
    podman = person.run("podman", "login", "--get-login", "legacy.example")
    assert podman.returncode != 0 and person.primary_auth_path_seen in podman.stderr  # podman refuses it too

    result = person.run("credctl", "list", "--json")
    table = person.run("credctl", "list")

    seen = person.primary_auth_path_seen
    error = (
        f"{seen} is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 12): fix or "
        "remove it; credctl never overwrites a file it cannot read"
    )
    assert json.loads(result.stdout) == [
        {"registry": "", "via": "unreadable", "helper": "", "username": "", "file": seen, "note": error},
        _row("legacy.example", "old", str(legacy), "plaintext in the file: run `credctl migrate`"),
    ]
    assert (result.returncode, result.stderr) == (1, f"error: {error}\n")
    assert table.returncode == 1 and "│ legacy.example " in table.stdout
    assert table.stderr == (
        "warning: some credentials are stored in plaintext: `credctl migrate` moves them into a secure store\n"
        f"error: {error}\n"
    )


def test_dockers_config_is_listed_once_with_what_podman_makes_of_it(tmp_path, pass_env, registry):
    """~/.docker/config.json is Docker's file and Podman's third: one row per login, saying that
    Podman reads the plaintext Docker ignores (Podman ignores credsStore); after Docker's migrate
    Podman no longer finds it, and migrate says so."""
    world.need("podman")
    person = _person(tmp_path / "p", pass_env)
    reg, config = registry.address, person.home / ".docker" / "config.json"
    config.parent.mkdir()
    data = {"auths": {reg: {"auth": world.b64(f"{registry.user}:{registry.password}")}}, "credsStore": "pass"}
    world.write(config, json.dumps(data).encode())
    assert person.run("podman", "login", "--get-login", reg).stdout == f"{registry.user}\n"

    assert _list(person) == [
        _row(reg, registry.user, str(config), "plaintext in the file: ignored by Docker: a helper serves this "
             "registry; Podman reads it: run `credctl migrate`"),
    ]  # fmt: skip
    moved = person.run("credctl", "migrate", "--yes")

    assert moved.returncode == 0, moved.stderr
    assert moved.stderr == (
        f"warning: {reg}: Podman, Buildah and Skopeo read {config} too and no longer find this login (they ignore "
        "credsStore and ask no helper for it): run `credctl setup --podman`\n"
    )
    gone = person.run("podman", "login", "--get-login", reg)
    assert gone.returncode != 0 and f"not logged into {reg}" in gone.stderr


def test_a_username_and_password_entry_is_one_podman_ignores(tmp_path, pass_env):
    """podman 4.3 reads only `auth` (containers/image's dockerAuthConfig has no username or
    password field): such an entry is listed as what it is, and migrate leaves it."""
    world.need("podman")
    person = _person(tmp_path / "p", pass_env)
    person.primary_auth_file.parent.mkdir(parents=True)
    world.write(person.primary_auth_file, b'{"auths": {"fields.example": {"username": "u", "password": "p"}}}')
    seen = person.primary_auth_path_seen
    ignored = person.run("podman", "login", "--get-login", "fields.example")
    assert (ignored.returncode, ignored.stderr) == (125, "Error: not logged into fields.example\n")

    assert _list(person) == [
        _row("fields.example", "u", seen, "plaintext in the file: Podman ignores it: it reads only an `auth` field")
    ]
    _wire(person, "fields.example", "drop-in")
    left = person.run("credctl", "migrate", "--yes")
    assert (left.returncode, left.stderr) == (
        0,
        f"warning: fields.example in {seen}: left as it is: Podman ignores it (it reads only an `auth` field): "
        "remove it, or log in again with `podman login`\n",
    )


# containers/image's own cases (pkg/docker/config/config_test.go TestGetCredentials with
# testdata/full.json, refpath.json and legacy.json; TestGetAllCredentials' expected keys): the auths
# key as written -> (registry, namespace) it gives a login for, in a file of each format.
KEY_SCOPES = {
    ("example.org", False): ("example.org", ""),
    ("docker.io", False): ("docker.io", ""),
    ("index.docker.io", False): ("docker.io", ""),  # TestGetAllCredentials: found as docker.io
    ("registry-1.docker.io", False): ("docker.io", ""),  # normalizeRegistry
    ("localhost:5000", False): ("localhost:5000", ""),
    ("10.10.30.45:5000", False): ("10.10.30.45:5000", ""),
    ("https://normalize.example.org/v1", False): ("normalize.example.org", ""),  # "normalize registry"
    ("example.org/repo", False): ("example.org", "repo"),  # refpath.json: "match ref repo"
    ("docker.io/vendor", False): ("docker.io", "vendor"),  # "docker.io vendor namespace match"
    ("http://index.docker.io/v1", True): ("docker.io", ""),  # legacy.json, found for docker.io
    ("https://localhost/v1", True): ("localhost", ""),  # legacy.json: "ignore schema and path"
}


@pytest.mark.parametrize(("key", "legacy"), KEY_SCOPES, ids=[f"{k}{' legacy' * legacy}" for k, legacy in KEY_SCOPES])
def test_auth_key_scope_is_containers_images(key, legacy):
    assert podman.auth_key_scope(key, legacy) == KEY_SCOPES[key, legacy]
