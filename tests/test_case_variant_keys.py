"""Issue 15 item 4: every spelling of a section that Docker reads, credctl reads and edits.

Go's encoding/json matches object keys to struct fields case-insensitively ("preferring an exact
match but also accepting a case-insensitive match"), and decodes each matching key into the same
field: a map (auths, credHelpers) keeps the entries it has (later ones win), a null empties it, a
string (credsStore) takes the last value. docker/cli decodes config.json so
(cli/config/configfile/file.go LoadFromReader: json.NewDecoder(...).Decode(configFile)), and so
does containers/image (pkg/docker/config/config.go: json.Unmarshal into dockerConfigFile, whose
AuthConfigs is `json:"auths"`; skopeo reads a login under "Auths").
The docker checks run recording helpers (docker-credential-a, -b, -c) that log each call.
"""

import json
import subprocess
from pathlib import Path

import pytest
import world
from world import b64, cli_env, credctl

from credctl.dockerconfig import CRED_HELPERS, CREDS_STORE, ConfigFile, Route

NOBODY = "127.0.0.1:9"  # loopback, nothing listening: docker asks its helper, then fails
RECORDER = """#!/bin/sh
read -r server
echo "{name} $1 $server" >> {log}
printf '{{"ServerURL":"%s","Username":"{name}-user","Secret":"{name}-secret"}}\\n' "$server"
"""


def read(tmp_path: Path, text: str) -> ConfigFile:
    path = tmp_path / "config.json"
    path.write_text(text)
    return ConfigFile.read(str(path))


# --- reading: what Go decodes ---------------------------------------------------------------------

MERGED = {
    "later spelling wins": (
        '{"credHelpers": {"a.example": "x", "b.example": "x"}, "credhelpers": {"a.example": "y"},'
        ' "CredHelpers": {"c.example": "z"}}',
        {"a.example": "y", "b.example": "x", "c.example": "z"},
    ),
    "null empties the map": (
        '{"credHelpers": {"a.example": "x"}, "CREDHELPERS": null, "credhelpers": {"b.example": "y"}}',
        {"b.example": "y"},
    ),
    "long s folds to s": ('{"credHelper\u017f": {"a.example": "x"}}', {"a.example": "x"}),
}


@pytest.mark.parametrize("case", sorted(MERGED))
def test_helpers_of_every_spelling_merge_in_document_order(tmp_path, case):
    text, helpers = MERGED[case]
    assert read(tmp_path, text).helpers == helpers


def test_the_last_spelling_of_creds_store_wins_and_null_leaves_it(tmp_path):
    config = read(tmp_path, '{"credsStore": "a", "CredsStore": "b", "CREDSSTORE": null}')
    assert config.creds_store == "b"
    assert config.helper_for("r.example") == Route("b", CREDS_STORE, "r.example")


def test_auths_of_every_spelling_merge(tmp_path):
    config = read(tmp_path, '{"auths": {"a.example": {}}, "Auths": {"b.example": {"auth": "dTpw"}}}')
    assert config.auths == {"a.example": {}, "b.example": {"auth": "dTpw"}}
    assert config.contains_auth


# --- editing: one entry in one spelling ----------------------------------------------------------


def test_unmap_removes_the_registry_from_every_spelling(tmp_path):
    config = read(tmp_path, '{"credHelpers": {"a.example": "x"}, "credhelpers": {"a.example": "y", "o.example": "z"}}')
    config.set_helpers({"a.example": None})
    assert config.render() == '{\n\t"credhelpers": {\n\t\t"o.example": "z"\n\t}\n}'
    assert config.helper_for("a.example").via != CRED_HELPERS


def test_map_writes_one_entry_where_go_reads_it(tmp_path):
    config = read(tmp_path, '{"credHelpers": {"a.example": "x"}, "CredHelpers": {"a.example": "y"}, "zz": 1}')
    config.set_helpers({"a.example": "new"})
    assert config.render() == '{\n\t"CredHelpers": {\n\t\t"a.example": "new"\n\t},\n\t"zz": 1\n}'


def test_map_after_a_null_drops_what_go_never_sees(tmp_path):
    config = read(tmp_path, '{"credHelpers": {"a.example": "x"}, "credhelpers": null}')
    config.set_helpers({"b.example": "y"})
    assert config.helpers == {"b.example": "y"}
    assert config.render() == '{\n\t"credHelpers": {\n\t\t"b.example": "y"\n\t}\n}'


def test_set_auth_replaces_the_entry_in_the_spelling_that_holds_it(tmp_path):
    config = read(tmp_path, '{"auths": {"a.example": {}}, "Auths": {"b.example": {"auth": "dTpw"}}}')
    config.set_auth("b.example", {})
    # auths is unchanged, so it stays as written
    assert config.render() == '{\n\t"auths": {"a.example": {}},\n\t"Auths": {\n\t\t"b.example": {}\n\t}\n}'


# --- the commands, and docker itself ------------------------------------------------------------


class Docker:
    """A user with a config.json and the recording helpers a, b and c on PATH."""

    def __init__(self, tmp_path: Path, text: str) -> None:
        self.log, self.folder = tmp_path / "helpers.log", tmp_path / "docker"
        self.folder.mkdir()
        self.config = self.folder / "config.json"
        self.config.write_text(text)
        bin_dir = tmp_path / "recorders"
        bin_dir.mkdir()
        for name in ("a", "b", "c"):
            helper = bin_dir / f"docker-credential-{name}"
            helper.write_text(RECORDER.format(name=name, log=self.log))
            helper.chmod(0o755)
        self.env = world.on_path(cli_env(tmp_path), bin_dir)
        self.env.update(DOCKER_CONFIG=str(self.folder), DOCKER_HOST=f"unix://{tmp_path}/no-daemon.sock")

    def runs(self, docker_cli: str, registry: str = NOBODY) -> set[str]:
        """The helper calls `docker manifest inspect REGISTRY/app` makes (some versions ask twice)."""
        self.log.unlink(missing_ok=True)
        argv = [docker_cli, "manifest", "inspect", f"{registry}/app"]
        subprocess.run(argv, env=self.env, capture_output=True, timeout=60, check=False)
        return set(self.log.read_text().splitlines()) if self.log.exists() else set()

    def credctl(self, *args: str):
        return credctl(self.env, *args)


def test_after_unmap_docker_runs_no_helper_of_any_spelling(tmp_path, docker_cli):
    docker = Docker(
        tmp_path, json.dumps({"credHelpers": {NOBODY: "a"}, "credhelpers": {NOBODY: "b", "o.example": "c"}})
    )
    assert docker.runs(docker_cli) == {f"b get {NOBODY}"}  # docker merges the spellings: the later wins

    result = docker.credctl("unmap", NOBODY)

    assert result.returncode == 0, result.stderr
    assert docker.config.read_text() == '{\n\t"credhelpers": {\n\t\t"o.example": "c"\n\t}\n}'
    assert docker.runs(docker_cli) == set()


def test_after_map_docker_runs_the_helper_credctl_mapped(tmp_path, docker_cli):
    docker = Docker(tmp_path, json.dumps({"credHelpers": {NOBODY: "a"}, "CredHelpers": {NOBODY: "b"}}))

    result = docker.credctl("map", NOBODY, "c")

    assert result.returncode == 0, result.stderr
    assert docker.runs(docker_cli) == {f"c get {NOBODY}"}


def test_list_shows_plaintext_under_any_spelling_of_auths(tmp_path):
    data = {"auths": {"q.example": {"auth": b64("bob:pw")}}, "Auths": {"p.example": {"auth": b64("alice:pw")}}}
    docker = Docker(tmp_path, json.dumps(data))

    result = docker.credctl("list", "--json")

    assert result.returncode == 0, result.stderr
    rows = [{key: row[key] for key in ("registry", "via", "username")} for row in json.loads(result.stdout)]
    assert sorted(rows, key=lambda row: row["registry"]) == [
        {"registry": "p.example", "via": "plaintext", "username": "alice"},
        {"registry": "q.example", "via": "plaintext", "username": "bob"},
    ]


def test_a_dry_run_masks_secrets_under_any_spelling_of_auths(tmp_path):
    secret, password = b64("alice:s3cret-under-Auths"), "s3cret-under-Password"
    entries = {"p.example": {"auth": secret}, "q.example": {"username": "bob", "Password": password}}
    docker = Docker(tmp_path, json.dumps({"auths": {}, "Auths": entries}, indent="\t"))

    result = docker.credctl("migrate", "--to", "pass", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr and '"auth": "***"' in result.stdout
    assert password not in result.stdout + result.stderr and '"Password": "***"' in result.stdout


def test_migrate_moves_plaintext_under_any_spelling(pass_env, tmp_path):
    secret = "s3cret-under-Auths"
    data = {"auths": {}, "Auths": {"p.example": {"auth": b64(f"alice:{secret}")}}}
    docker = Docker(tmp_path, json.dumps(data, indent="\t"))
    env = {**docker.env, **{k: v for k, v in pass_env.items() if k in ("GNUPGHOME", "PASSWORD_STORE_DIR")}}

    result = credctl(env, "migrate", "--to", "pass")

    assert result.returncode == 0, result.stderr
    expected = '{\n\t"auths": {},\n\t"Auths": {\n\t\t"p.example": {}\n\t},\n\t"credsStore": "pass"\n}'
    assert docker.config.read_text() == expected
    got = world.run_helper(world.ours("docker-credential-pass"), "get", "p.example", env)
    assert json.loads(got.stdout) == {"ServerURL": "p.example", "Username": "alice", "Secret": secret}


def test_an_entrys_fields_are_read_and_stripped_in_any_case(pass_env, tmp_path):
    """Go decodes "Auth", "Username" and "PASSWORD" into AuthConfig's auth, username and password."""
    secret, password = "s3cret-under-Auth", "s3cret-under-PASSWORD"
    entries = {"p.example": {"Auth": b64(f"alice:{secret}")}, "q.example": {"Username": "bob", "PASSWORD": password}}
    docker = Docker(tmp_path, json.dumps({"auths": entries, "credsStore": "pass"}, indent="\t"))
    env = {**docker.env, **{k: v for k, v in pass_env.items() if k in ("GNUPGHOME", "PASSWORD_STORE_DIR")}}

    listed = credctl(env, "list", "--json")
    result = credctl(env, "migrate")

    assert listed.returncode == 0, listed.stderr
    rows = [{key: row[key] for key in ("registry", "username")} for row in json.loads(listed.stdout)]
    assert rows == [{"registry": "p.example", "username": "alice"}, {"registry": "q.example", "username": "bob"}]
    assert result.returncode == 0, result.stderr
    assert json.loads(docker.config.read_text()) == {"auths": {"p.example": {}, "q.example": {}}, "credsStore": "pass"}
    for server, username, stored in (("p.example", "alice", secret), ("q.example", "bob", password)):
        got = world.run_helper(world.ours("docker-credential-pass"), "get", server, env)
        assert json.loads(got.stdout) == {"ServerURL": server, "Username": username, "Secret": stored}


def test_skopeo_reads_a_login_under_auths(tmp_path):
    """Why "Auths" matters: containers/image reads it (the data credctl now lists and migrates)."""
    world.need("skopeo")
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"Auths": {"p.example": {"auth": b64("alice:pw")}}}))
    argv = ["skopeo", "login", "--get-login", "--authfile", str(path), "p.example"]
    login = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert (login.returncode, login.stdout) == (0, "alice\n")
