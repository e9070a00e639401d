"""HOME comes from the environment a path is found for, never from the running process alone.

Every function that takes `environ` finds ~ in environ's HOME: Docker's and Podman's config
files, credctl's settings and cache, the pass store. The kubelet plugin and tests hand in
another user's environment, and must get that user's files.
"""

import json
import os
import pwd
from pathlib import Path

import pytest
import world

from credctl import paths, settings
from credctl.dockerconfig import docker_config_path, podman_auth_path
from credctl.lookup import find_login
from credctl.stores.passstore import store_dir


@pytest.fixture
def other_home(tmp_path: Path) -> Path:
    """A HOME unlike the process's own."""
    home = tmp_path / "someone"
    home.mkdir()
    assert os.path.expanduser("~") != str(home)
    return home


def test_each_path_follows_the_home_in_environ(other_home):
    environ = {"HOME": str(other_home)}
    assert docker_config_path(environ=environ) == f"{other_home}/.docker/config.json"
    assert podman_auth_path(environ) == f"{other_home}/.config/containers/auth.json"
    assert settings.settings_path(environ) == f"{other_home}/.config/credctl/settings.json"
    assert paths.cache_dir(environ) == f"{other_home}/.cache/credctl"
    assert store_dir(environ) == f"{other_home}/.password-store"


def test_a_tilde_in_a_variable_is_that_home(other_home):
    environ = {"HOME": str(other_home), "DOCKER_CONFIG": "~/docker", "REGISTRY_AUTH_FILE": "~/auth.json"}
    assert docker_config_path(environ=environ) == f"{other_home}/docker/config.json"
    assert docker_config_path("~/given", environ) == f"{other_home}/given/config.json"
    assert podman_auth_path(environ) == f"{other_home}/auth.json"


def test_no_home_in_environ_is_the_accounts_home():
    account = pwd.getpwuid(os.getuid()).pw_dir
    assert paths.home({}) == account
    assert docker_config_path(environ={}) == f"{account}/.docker/config.json"
    assert paths.expand_home("~", {}) == account


def test_expand_home_leaves_other_paths_alone(other_home):
    environ = {"HOME": str(other_home)}
    assert paths.expand_home("/etc/x", environ) == "/etc/x"
    assert paths.expand_home("relative/~", environ) == "relative/~"
    assert paths.expand_home("~x", environ) == os.path.expanduser("~x")
    assert paths.expand_home("~/a/b", environ) == f"{other_home}/a/b"


def test_the_kubelet_lookup_reads_the_config_under_environs_home(other_home, tmp_path):
    """find_login without config_path: the config.json of environ's HOME, and its helper."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-someones"
    answer = '{"Username":"someone","Secret":"%s-pw"}\\n'
    helper.write_text(f"#!/bin/sh\nread -r server\nprintf '{answer}' \"$server\"\n")
    helper.chmod(0o755)
    docker = other_home / ".docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credHelpers": {"reg.example": "someones"}}))
    environ = {"HOME": str(other_home), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    login = find_login("reg.example", environ)
    assert (login.username, login.password, login.source) == ("someone", "reg.example-pw", "someones")
    assert find_login("reg.example", {**environ, "HOME": str(tmp_path)}) is None


def test_the_kubelet_lookup_opens_credctls_store_in_environ(pass_env, tmp_path, monkeypatch):
    """A login store credctl runs in-process (pass here) works in environ, not in the process's
    environment: its store folder and gpg home are environ's."""
    body = b'{"ServerURL":"reg.example","Username":"someone","Secret":"s3cret"}'
    assert world.run_helper(world.ours("docker-credential-pass"), "store", body, pass_env).returncode == 0
    for name in ("PASSWORD_STORE_DIR", "GNUPGHOME"):
        monkeypatch.delenv(name, raising=False)
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credsStore": "pass"}))
    login = find_login("reg.example", {**pass_env, "DOCKER_CONFIG": str(docker)})
    assert (login.username, login.password, login.source) == ("someone", "s3cret", "pass")
