"""ConfigFile.helper_for: which helper docker (or Podman) runs for a registry, as they decide it.

The cases are the upstream projects' own, taken as data (each cites its file); the rule itself
is written down in helper_for's docstring.
"""

import json
from pathlib import Path

import pytest
from world import HUB

from credctl.dockerconfig import AUTOMATIC, CRED_HELPERS, CREDS_STORE, PLAINTEXT, ConfigFile, Route, edit
from credctl.programs import docker_default_store

# docker/cli cli/config/config_test.go (TestJSONWithCredentialHelpers, TestJSONWithCredentialStore)
HUB_LOGIN = {HUB: {"auth": "am9lam9lOmhlbGxv", "email": "user@example.com"}}


def config_of(data: dict, tmp_path: Path) -> ConfigFile:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return ConfigFile.read(str(path))


DOCKER_CASES = [
    # docker/cli cli/config/configfile/file_test.go TestGetAllCredentialsCredsStore
    ({"credsStore": "test_creds_store"}, "example.com", Route("test_creds_store", CREDS_STORE, "example.com")),
    # ... TestGetAllCredentialsCredHelper: only the registry named is sent to the helper
    (
        {"credHelpers": {"credhelper.com": "test_cred_helper"}},
        "credhelper.com",
        Route("test_cred_helper", CRED_HELPERS, "credhelper.com"),
    ),
    (
        {"credHelpers": {"credhelper.com": "test_cred_helper"}},
        "somethingweird.com",
        Route("", PLAINTEXT, "somethingweird.com"),
    ),
    # ... TestGetAllCredentialsFileStoreAndCredHelper
    (
        {"credHelpers": {"credhelper.com": "test_cred_helper"}, "auths": {"example.com": {"auth": "dTpw"}}},
        "example.com",
        Route("", PLAINTEXT, "example.com"),
    ),
    # ... TestGetAllCredentialsCredStoreAndCredHelper
    (
        {"credsStore": "test_creds_store", "credHelpers": {"credhelper.com": "test_cred_helper"}},
        "credstore.com",
        Route("test_creds_store", CREDS_STORE, "credstore.com"),
    ),
    (
        {"credsStore": "test_creds_store", "credHelpers": {"credhelper.com": "test_cred_helper"}},
        "credhelper.com",
        Route("test_cred_helper", CRED_HELPERS, "credhelper.com"),
    ),
    # ... TestGetAllCredentialsCredHelperOverridesDefaultStore
    (
        {"credsStore": "test_creds_store", "credHelpers": {"example.com": "test_cred_helper"}},
        "example.com",
        Route("test_cred_helper", CRED_HELPERS, "example.com"),
    ),
    # ... TestGetAllCredentialsFileStoreOnly: a repository key in auths is the file store's
    ({"auths": {"example.com/foo": {"auth": "dTpw"}}}, "example.com", Route("", PLAINTEXT, "example.com")),
    # ... GetAllCredentials asks GetCredentialsStore(""): the default store, credHelpers skipped
    ({"credsStore": "s", "credHelpers": {"example.com": "h"}}, "", Route("s", CREDS_STORE, "")),
    # docker/cli cli/config/config_test.go TestJSONWithCredentialHelpers
    (
        {"auths": HUB_LOGIN, "credHelpers": {"images.io": "images-io", "containers.com": "crazy-secure-storage"}},
        "images.io",
        Route("images-io", CRED_HELPERS, "images.io"),
    ),
    (
        {"auths": HUB_LOGIN, "credHelpers": {"images.io": "images-io", "containers.com": "crazy-secure-storage"}},
        "containers.com",
        Route("crazy-secure-storage", CRED_HELPERS, "containers.com"),
    ),
    (
        {"auths": HUB_LOGIN, "credHelpers": {"images.io": "images-io"}},
        "docker.io",
        Route("", PLAINTEXT, HUB),
    ),
    # ... TestJSONWithCredentialStore
    ({"auths": HUB_LOGIN, "credsStore": "crazy-secure-storage"}, HUB, Route("crazy-secure-storage", CREDS_STORE, HUB)),
    # docker/cli cli/config/configfile/file.go getAuthConfigKey: docker.io and index.docker.io are
    # Docker Hub's v1 URL; credHelpers under another Hub spelling are never looked up
    ({"credHelpers": {HUB: "hub"}}, "docker.io", Route("hub", CRED_HELPERS, HUB)),
    ({"credHelpers": {HUB: "hub"}}, "index.docker.io", Route("hub", CRED_HELPERS, HUB)),
    ({"credsStore": "s", "credHelpers": {"docker.io": "x", "index.docker.io": "y"}}, HUB, Route("s", CREDS_STORE, HUB)),
    # ... the key is host[:port] exactly: a URL-spelled credHelpers key is never looked up
    (
        {"credsStore": "s", "credHelpers": {"https://reg.example": "x"}},
        "reg.example",
        Route("s", CREDS_STORE, "reg.example"),
    ),
    (
        {"credHelpers": {"reg.example:5000": "x"}},
        "https://reg.example:5000/v2/",
        Route("x", CRED_HELPERS, "reg.example:5000"),
    ),
    # ... GetCredentialsStore: `if helper != ""`: an empty entry is the file store, not credsStore
    ({"credsStore": "s", "credHelpers": {"reg.example": ""}}, "reg.example", Route("", PLAINTEXT, "reg.example")),
    # ... a credsStore of "" is no store
    ({"credsStore": ""}, "reg.example", Route("", PLAINTEXT, "reg.example")),
    # Go decodes field names case-insensitively (encoding/json)
    ({"CredsStore": "s", "CREDHELPERS": {"a.example": "h"}}, "a.example", Route("h", CRED_HELPERS, "a.example")),
    ({"CredsStore": "s", "CREDHELPERS": {"a.example": "h"}}, "b.example", Route("s", CREDS_STORE, "b.example")),
]


@pytest.mark.parametrize(("data", "registry", "route"), DOCKER_CASES)
def test_docker_routes(tmp_path, data, registry, route):
    assert config_of(data, tmp_path).helper_for(registry) == route


PODMAN_CASES = [
    # containers/image pkg/docker/config/testdata/config.json (TestGetAllCredentials, "no credentials found")
    (
        {"credHelpers": {"registry-no-creds.com": "helper-registry"}},
        "registry-no-creds.com",
        Route("helper-registry", CRED_HELPERS, "registry-no-creds.com"),
    ),
    # ... config_test.go TestSetCredentialsInteroperability (otherContents)
    (
        {
            "auths": {"unmodified-domain.example": {"identitytoken": "identity"}},
            "credHelpers": {"helper-domain.example": "helper-name"},
        },
        "helper-domain.example",
        Route("helper-name", CRED_HELPERS, "helper-domain.example"),
    ),
    (
        {
            "auths": {"unmodified-domain.example": {"identitytoken": "identity"}},
            "credHelpers": {"helper-domain.example": "helper-name"},
        },
        "unmodified-domain.example",
        Route("", PLAINTEXT, "unmodified-domain.example"),
    ),
    # ... config.go dockerConfigFile has no credsStore: Podman ignores it
    ({"credsStore": "s"}, "reg.example", Route("", PLAINTEXT, "reg.example")),
    # ... findCredentialsInFile looks credHelpers up by the registry, docker.io for Docker Hub
    ({"credHelpers": {"docker.io": "hub"}}, HUB, Route("hub", CRED_HELPERS, "docker.io")),
    ({"credHelpers": {"docker.io": "hub"}}, "docker.io", Route("hub", CRED_HELPERS, "docker.io")),
    ({"credHelpers": {HUB: "hub"}}, "docker.io", Route("", PLAINTEXT, "docker.io")),
    # ... getCredsFromCredHelper runs docker-credential-<value>, even for "" (a program that is not)
    ({"credHelpers": {"reg.example": ""}}, "reg.example", Route("", CRED_HELPERS, "reg.example")),
]


@pytest.mark.parametrize(("data", "registry", "route"), PODMAN_CASES)
def test_podman_routes(tmp_path, data, registry, route):
    assert config_of(data, tmp_path).helper_for(registry, podman=True) == route


# --- docker's automatic default: cli/config/config.go LoadDefaultConfigFile, ------------------
# cli/config/credentials/default_store.go DetectDefaultStore, default_store_linux.go


def programs(tmp_path: Path, *names: str) -> str:
    """A PATH of one folder holding an executable of each name."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\nexit 1\n")
        (folder / name).chmod(0o755)
    return str(folder)


@pytest.mark.parametrize(
    ("on_path", "route"),
    [
        (("pass", "docker-credential-pass"), Route("pass", AUTOMATIC, "reg.example")),
        (("pass", "docker-credential-secretservice"), Route("", PLAINTEXT, "reg.example")),  # pass's helper missing
        (("docker-credential-secretservice",), Route("secretservice", AUTOMATIC, "reg.example")),
        (("docker-credential-pass",), Route("", PLAINTEXT, "reg.example")),  # no pass: secretservice, not on PATH
        ((), Route("", PLAINTEXT, "reg.example")),
    ],
)
def test_docker_picks_a_default_store_for_a_file_without_credentials(tmp_path, monkeypatch, on_path, route):
    monkeypatch.setenv("PATH", programs(tmp_path, *on_path))
    # config_test.go TestLoadDefaultConfigFile: a file with other settings only
    config = config_of({"PsFormat": "format"}, tmp_path)
    assert config.helper_for("reg.example", automatic=docker_default_store()) == route
    assert config.helper_for("reg.example") == Route("", PLAINTEXT, "reg.example")
    assert config.helper_for("reg.example", podman=True, automatic=docker_default_store()) == Route(
        "", PLAINTEXT, "reg.example"
    )


@pytest.mark.parametrize(
    ("data", "route"),
    [
        ({"credHelpers": {}, "auths": {}}, Route("pass", AUTOMATIC, "reg.example")),  # ContainsAuth: len() > 0
        ({"auths": {"other.example": {}}}, Route("", PLAINTEXT, "reg.example")),
        ({"credHelpers": {"other.example": "x"}}, Route("", PLAINTEXT, "reg.example")),
        ({"credsStore": "mine"}, Route("mine", CREDS_STORE, "reg.example")),
    ],
)
def test_any_credentials_setting_turns_the_default_off(tmp_path, monkeypatch, data, route):
    monkeypatch.setenv("PATH", programs(tmp_path, "pass", "docker-credential-pass"))
    assert config_of(data, tmp_path).helper_for("reg.example", automatic=docker_default_store()) == route


def test_a_missing_file_gets_the_default_too(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", programs(tmp_path, "docker-credential-secretservice"))
    config = ConfigFile.read(str(tmp_path / "absent.json"))
    assert config.helper_for("docker.io", automatic=docker_default_store()) == Route("secretservice", AUTOMATIC, HUB)


# --- the typed sections and set_helpers --------------------------------------------------------


def test_sections_are_empty_when_absent(tmp_path):
    config = config_of({"psFormat": "x"}, tmp_path)
    assert (config.helpers, config.auths, config.creds_store, config.contains_auth) == ({}, {}, "", False)


def test_sections_read_any_spelling(tmp_path):
    config = config_of({"CredHelpers": {"a.example": "h"}, "AUTHS": {"b.example": {}}, "credsstore": "s"}, tmp_path)
    assert (config.helpers, config.auths, config.creds_store) == ({"a.example": "h"}, {"b.example": {}}, "s")


def test_set_helpers_adds_replaces_and_removes_in_place(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"a.example": "old"\n\t},\n\t"psFormat": "x"\n}')
    edit(str(path), lambda config: config.set_helpers({"a.example": "new", "b.example": "pass"}))
    assert json.loads(path.read_text()) == {
        "auths": {},
        "credHelpers": {"a.example": "new", "b.example": "pass"},
        "psFormat": "x",
    }
    edit(str(path), lambda config: config.set_helpers({"a.example": None, "b.example": None}))
    assert path.read_text() == '{\n\t"auths": {},\n\t"psFormat": "x"\n}'  # docker leaves no empty credHelpers


def test_removing_from_a_file_without_credhelpers_changes_nothing(tmp_path):
    config = config_of({"auths": {}}, tmp_path)
    config.set_helpers({"a.example": None})
    assert not config.changed


def test_creds_store_and_set_auth(tmp_path):
    config = config_of({"CREDSSTORE": "old"}, tmp_path)
    config.creds_store = "pass"
    config.set_auth("a.example", {})
    assert config.data == {"credsStore": "pass", "auths": {"a.example": {}}}
