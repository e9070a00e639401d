"""podman.auth_files is containers/image's own read order: checked against the real podman, skopeo
and buildah (Debian 12: containers/image 5.23), each in its default configuration.

The same registry is logged in, as a different user, in every file podman reads; `login
--get-login` names the user of the first file that holds it. Removing that file's login shows the
next, and so on: the order the client reports must be the order credctl's model gives.
"""

import json
from pathlib import Path

import pytest
import world

from credctl import podman

REGISTRY = "files.example:5000"


def _environ(person: world.ContainersUser) -> dict[str, str]:
    return dict(person.env)


def _login_in(file: podman.AuthFile, user: str) -> bytes:
    entry = {"auth": world.b64(f"{user}:secret-{user}")}
    data = {REGISTRY: entry} if file.legacy else {"auths": {REGISTRY: entry}}
    return json.dumps(data).encode()


def _on_disk(person: world.ContainersUser, path: str) -> Path:
    seen = person.primary_auth_path_seen
    return person.primary_auth_file if path == seen else Path(path)


@pytest.mark.parametrize("tool", world.CONTAINER_TOOLS)
@pytest.mark.parametrize("runtime_dir", [True, False], ids=["session", "no-runtime-dir"])
def test_auth_files_are_read_in_the_clients_order(tmp_path, tool, runtime_dir):
    world.need(tool, "unshare")
    person = world.ContainersUser(tmp_path, runtime_dir=runtime_dir)
    files = podman.auth_files(_environ(person), uid=0)
    assert [file.role for file in files] == [podman.PRIMARY, podman.PERSISTENT, podman.DOCKER, podman.LEGACY]
    assert files[0].path == person.primary_auth_path_seen
    for number, file in enumerate(files):
        path = _on_disk(person, file.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        world.write(path, _login_in(file, f"user{number}"))
    for number, file in enumerate(files):
        found = person.run(tool, "login", "--get-login", REGISTRY)
        assert (found.returncode, found.stdout.strip()) == (0, f"user{number}"), found.stderr
        _on_disk(person, file.path).unlink()
    gone = person.run(tool, "login", "--get-login", REGISTRY)
    assert gone.returncode != 0
    assert f"not logged into {REGISTRY}" in gone.stderr


def test_docker_config_moves_the_primary_file_and_replaces_dockers(tmp_path):
    """podman 4.3 (containers/common 0.50 GetDefaultAuthFile) takes $DOCKER_CONFIG/config.json as
    its --authfile default: there it writes, and ~/.docker/config.json is no longer read."""
    world.need("podman")
    docker_dir = tmp_path / "docker-config"
    person = world.ContainersUser(tmp_path, env={"DOCKER_CONFIG": str(docker_dir)})
    environ = _environ(person)
    files = podman.auth_files(environ, uid=0)
    assert files[0] == podman.AuthFile(str(docker_dir / "config.json"), podman.PRIMARY)
    assert [file.role for file in files] == [podman.PRIMARY, podman.PERSISTENT, podman.LEGACY]
    home_config = person.home / ".docker" / "config.json"
    home_config.parent.mkdir()
    world.write(home_config, json.dumps({"auths": {REGISTRY: {"auth": world.b64("home:x")}}}).encode())
    assert person.run("podman", "login", "--get-login", REGISTRY).returncode != 0
    docker_dir.mkdir()
    world.write(docker_dir / "config.json", json.dumps({"auths": {REGISTRY: {"auth": world.b64("dc:x")}}}).encode())
    assert person.run("podman", "login", "--get-login", REGISTRY).stdout.strip() == "dc"


def test_registry_auth_file_is_first_but_not_alone(tmp_path):
    """REGISTRY_AUTH_FILE replaces only the primary file: podman 4.3 still reads the others."""
    world.need("podman")
    explicit = tmp_path / "explicit.json"
    world.write(explicit, b"{}")
    person = world.ContainersUser(tmp_path, env={"REGISTRY_AUTH_FILE": str(explicit)})
    files = podman.auth_files(_environ(person), uid=0)
    assert files[0] == podman.AuthFile(str(explicit), podman.PRIMARY)
    persistent = Path(files[1].path)
    persistent.parent.mkdir(parents=True)
    world.write(persistent, json.dumps({"auths": {REGISTRY: {"auth": world.b64("kept:x")}}}).encode())
    assert person.run("podman", "login", "--get-login", REGISTRY).stdout.strip() == "kept"


# The cases real podman 4.3 was seen to resolve (each: files written under HOME, or with
# CONTAINERS_REGISTRIES_CONF); the helper names stand for programs that record being asked.
HELPER_CASES = {
    "none": ({}, ()),
    "user drop-in": ({"d/50-x.conf": ["a"]}, ("a",)),
    "user drop-in beats a user registries.conf": ({"registries.conf": ["b"], "d/50-x.conf": ["a"]}, ("a",)),
    "user registries.conf alone": ({"registries.conf": ["b"]}, ("b",)),
    "an empty list is the default": ({"registries.conf": ["b"], "d/60-y.conf": []}, ()),
    "the last drop-in by name wins": ({"d/10-z.conf": ["d"], "d/50-x.conf": ["a"]}, ("a",)),
    "both helpers in order": ({"d/50-x.conf": ["a", "b"]}, ("a", "b")),
    "explicit file": ({"explicit.conf": ["c"]}, ("c",)),
    "explicit file, then the user drop-in": ({"explicit.conf": ["c"], "d/50-x.conf": ["a"]}, ("a",)),
    "a file that does not end in .conf is not read": ({"d/50-x.toml": ["a"]}, ()),
}


def _recording_helper(folder: Path, name: str, log: Path) -> None:
    program = folder / f"docker-credential-{name}"
    program.write_text(
        f'#!/bin/sh\necho {name} "$1" >> {log}\necho "credentials not found in native keychain"\nexit 1\n'
    )
    program.chmod(0o755)


@pytest.mark.parametrize("case", HELPER_CASES, ids=list(HELPER_CASES))
def test_credential_helpers_are_the_ones_podman_asks(tmp_path, case):
    world.need("podman")
    files, expected = HELPER_CASES[case]
    bin_folder, log = tmp_path / "bin", tmp_path / "asked"
    bin_folder.mkdir()
    for name in "abcd":
        _recording_helper(bin_folder, name, log)
    person = world.ContainersUser(tmp_path)
    person.env["PATH"] = f"{bin_folder}:{person.env['PATH']}"
    config = person.home / ".config" / "containers"
    for name, helpers in files.items():
        path = tmp_path / name if name == "explicit.conf" else config / name.replace("d/", "registries.conf.d/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"credential-helpers = {json.dumps(helpers)}\n")
        if name == "explicit.conf":
            person.env["CONTAINERS_REGISTRIES_CONF"] = str(path)
    person.run("podman", "login", "--get-login", REGISTRY)
    asked = tuple(line.split()[0] for line in log.read_text().splitlines()) if log.exists() else ()
    assert asked == expected
    setting = podman.credential_helpers(_environ(person))
    assert tuple(h for h in setting.helpers if h != podman.AUTH_FILES_HELPER) == expected


def test_a_malformed_registries_conf_is_named(tmp_path):
    world.need("podman")
    person = world.ContainersUser(tmp_path)
    person.dropin_folder.mkdir(parents=True)
    broken = person.dropin_folder / "50-x.conf"
    broken.write_text('credential-helpers = ["a",\n')
    refused = person.run("podman", "login", "--get-login", REGISTRY)
    assert refused.returncode == 125 and str(broken) in refused.stderr
    from credctl.errors import ConfigError

    with pytest.raises(ConfigError, match=f"^{broken} is not valid TOML"):
        podman.credential_helpers(_environ(person))
