"""credctl.acr.login, the one owner of the ACR login, called in-process with an environ of its own.

The helper suffix rules (acr-helper, acr-helper-NAME), the environment a profile's wrapper
sets, which registry a server names, and the token cycle (cache, the real SDK against the
loopback fake Alibaba Cloud API, erase, listing, health), each with an environ that holds only
what the test gives it: HOME, the cache and the settings come from there, never from this
process. And the layering: nothing in credctl/acr imports credctl/stores.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import world
from world import ALIYUN_KEY_ID, ALIYUN_KEY_SECRET, EE, INSTANCE_ID, INSTANCE_NAME, PERSONAL, REGION, TEMP_USER

from credctl.acr import cache, get_credentials, login, profiles
from credctl.acr.domains import AcrRegistry
from credctl.errors import CredentialsNotFound, ProfileError, StoreError
from credctl.gojson import encode
from credctl.names import PREFIX
from credctl.stores import program_name
from credctl.stores.acr import AcrStore

EE_VPC = f"{INSTANCE_NAME}-registry-vpc.{REGION}.cr.aliyuncs.com"
CUSTOM = "images.example.com"
# What every wrapper unsets before it exports its own kind's variables
UNSET = (
    "CREDCTL_ACR_SECTION CREDCTL_ACR_CLI_CONFIG CREDCTL_ACR_CLI_PROFILE CREDCTL_ACR_ROLE_ARN "
    "CREDCTL_ACR_EXTERNAL_ID CREDCTL_ACR_ROLE_SESSION_NAME CREDCTL_ACR_ROLE_DURATION CREDCTL_ACR_ROLE_SOURCE"
)
KEY2_ID, KEY2_SECRET = "LTAI5tCredctlTestKey2ForLogin", "credctl-test-secret-2-login-do-not-leak"
NOT_A_NAME = "{!r} is not a profile name: use lower-case letters, digits and '-' (a-z0-9-)"
NO_CREDENTIALS = (
    "no Alibaba Cloud credentials found (environment, ~/.aliyun/config.json, ~/.alibabacloud/credentials): "
    "set them up, or use `credctl acr add-profile`"
)


# --- the helper suffix ---------------------------------------------------------------------------

GOOD_NAMES = ["team1", "a", "0", "team-2", "a-", "x" * 63, "9lives"]
BAD_NAMES = [
    "",
    "Team1",
    "-team",
    "team_1",
    "team.1",
    "team/1",
    " team",
    "team\n",
    "tëam",
    "x" * 64,
    "ａ",
    "acr helper",
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_a_profile_name_makes_its_suffix_and_the_suffix_gives_it_back(name):
    assert login.is_profile_name(name)
    assert login.profile_suffix(name) == f"acr-helper-{name}"
    assert login.profile_of(login.profile_suffix(name)) == name
    assert profiles.wrapper_name(name) == f"docker-credential-acr-helper-{name}"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_credctl_does_not_give_a_profile_are_refused(name):
    assert not login.is_profile_name(name)
    with pytest.raises(ProfileError) as raised:
        login.profile_suffix(name)
    assert str(raised.value) == NOT_A_NAME.format(name)
    with pytest.raises(ProfileError):
        profiles.wrapper_name(name)
    assert login.profile_of(f"acr-helper-{name}") is None


@pytest.mark.parametrize(
    ("suffix", "identity"),
    [
        ("acr-helper", ""),  # the environment's own Alibaba Cloud credentials
        ("acr-helper-team1", "team1"),
        ("acr-helper-team-2", "team-2"),
        ("acr-helper-acr-helper", "acr-helper"),
        # not credctl's ACR helper: Docker would run docker-credential-<suffix> as it is named
        ("acr-helper-", None),
        ("acr-helper--team", None),
        ("acr-helper-Team1", None),
        ("acr-helperteam1", None),
        ("acr-helper_team1", None),
        ("xacr-helper-team1", None),
        ("ACR-HELPER", None),
        ("pass", None),
        ("ecr-login", None),
        ("", None),
    ],
)
def test_a_suffix_names_the_default_identity_a_profile_or_nothing_acr(suffix, identity):
    assert login.profile_of(suffix) == identity


def test_the_suffix_is_the_program_credctl_installs():
    assert PREFIX + login.HELPER == program_name("acr") == profiles.PROGRAM == "docker-credential-acr-helper"


def test_the_wrapper_exports_what_the_profile_environment_sets():
    record = {"credentials_file": "/creds/team 1.ini", "wrapper": "/bin/w", "registries": []}  # as recorded
    variables = login.profile_variables("team1", record)
    assert variables == {"CREDCTL_ACR_PROFILE": "team1", "ALIBABA_CLOUD_CREDENTIALS_FILE": "/creds/team 1.ini"}
    assert profiles.wrapper_text("team1", record, "/opt/bin/docker-credential-acr-helper") == (
        "#!/bin/sh\n"
        "# credctl ACR profile team1: docker-credential-acr-helper with one Alibaba Cloud account.\n"
        "# Made by `credctl acr add-profile`; remove it with `credctl acr remove-profile team1`.\n"
        f"unset {UNSET}\n"
        "export CREDCTL_ACR_PROFILE=team1\n"
        "export ALIBABA_CLOUD_CREDENTIALS_FILE='/creds/team 1.ini'\n"
        'exec /opt/bin/docker-credential-acr-helper "$@"\n'
    )
    environ = {"HOME": "/home/u", "CREDCTL_ACR_PROFILE": "other", "CREDCTL_ACR_ROLE_ARN": "acs:ram::1:role/x"}
    assert login.profile_environ("team1", record, environ) == {"HOME": "/home/u", **variables}
    assert environ["CREDCTL_ACR_PROFILE"] == "other"  # the caller's is left as it was


# --- the environment a helper suffix runs with ----------------------------------------------------


def write_settings(home: Path, settings: dict) -> None:
    """credctl's settings where an environ with HOME but no XDG_CONFIG_HOME finds them."""
    path = home / ".config" / "credctl" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(encode(settings))


def test_a_suffix_runs_with_the_environment_its_wrapper_sets(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "not-this-process-home"))
    home = tmp_path / "home"
    profile = {"credentials_file": "/creds/team1.ini", "wrapper": "/bin/w", "registries": [EE]}
    broken = {"wrapper": "/bin/w2"}  # no credentials file recorded: only the program knows what it does
    write_settings(home, {"acr_profiles": {"team1": profile, "team2": broken}})
    environ = {"HOME": str(home), "PATH": "/usr/bin"}

    assert login.recorded_profiles(environ) == {"team1": profile, "team2": broken}
    default = login.helper_environ("acr-helper", environ)
    assert default == environ and default is not environ
    assert login.helper_environ("acr-helper-team1", environ) == {
        **environ,
        "CREDCTL_ACR_PROFILE": "team1",
        "ALIBABA_CLOUD_CREDENTIALS_FILE": "/creds/team1.ini",
    }
    for suffix in ("acr-helper-team2", "acr-helper-team9", "acr-helper-", "pass", "acr-helper-Team1"):
        assert login.helper_environ(suffix, environ) is None, suffix
    # the settings are environ's: another HOME (or XDG_CONFIG_HOME) has none
    assert login.helper_environ("acr-helper-team1", {"HOME": str(tmp_path / "elsewhere")}) is None
    assert login.recorded_profiles({"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}) == {}


def test_custom_domains_are_found_in_environs_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "not-this-process-home"))
    home = tmp_path / "home"
    write_settings(home, {"acr_registries": {CUSTOM: {"region": REGION, "instance_id": "cri-custom"}}})
    environ = {"HOME": str(home)}
    assert login.custom_domains(environ) == {CUSTOM: {"region": REGION, "instance_id": "cri-custom"}}
    assert login.find_registry(f"https://{CUSTOM.upper()}/v2/", environ) == AcrRegistry(
        CUSTOM, REGION, instance_id="cri-custom"
    )
    assert login.find_registry(EE, environ) == AcrRegistry(EE, REGION, INSTANCE_NAME)
    for server in (CUSTOM, "docker.io", f"{INSTANCE_NAME}-registry.{REGION}.cr.aliyuncs.com.evil.example"):
        with pytest.raises(CredentialsNotFound):
            login.find_registry(server, {"HOME": str(tmp_path / "elsewhere")})


# --- tokens, against the fake API ---------------------------------------------------------------


@pytest.fixture
def environ(aliyun, tmp_path, monkeypatch) -> dict[str, str]:
    """Everything the login may read, and nothing else: a HOME of its own (the cache and the
    settings under it), the fake as the API, the ECS metadata service never asked, the fake's
    access key. This process's HOME points elsewhere, so a read of it shows."""
    monkeypatch.setenv("HOME", str(tmp_path / "not-this-process-home"))
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "CREDCTL_ACR_ENDPOINT": aliyun.url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIYUN_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIYUN_KEY_SECRET,
    }


def tokens_under_home(environ: dict[str, str]) -> list[Path]:
    folder = Path(environ["HOME"]) / ".cache" / "credctl" / "acr"
    return sorted(folder.glob("*.token")) if folder.is_dir() else []


def test_a_token_is_issued_once_then_served_from_environs_cache(aliyun, environ, tmp_path):
    first = login.token_for(EE, environ)
    [issued] = aliyun.issued
    assert (issued.access_key_id, issued.instance_id) == (ALIYUN_KEY_ID, INSTANCE_ID)
    assert (first.domain, first.username, first.password, first.expires) == (
        EE,
        TEMP_USER,
        issued.token,
        issued.expire_ms // 1000,
    )
    [path] = tokens_under_home(environ)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (tmp_path / "not-this-process-home").exists()

    before = aliyun.requests
    again = login.token(login.find_registry(EE_VPC, environ), environ)  # the instance's other domain
    assert (again.username, again.password, again.expires) == (TEMP_USER, issued.token, first.expires)
    assert aliyun.requests == before
    assert get_credentials(EE, environ).password == issued.token  # the library facade: the same login
    assert AcrStore(environ).get(EE) == (TEMP_USER, issued.token)  # and the helper's
    assert aliyun.requests == before


def test_no_cache_asks_every_time_and_keeps_nothing(aliyun, environ):
    environ["CREDCTL_ACR_NO_CACHE"] = "1"
    one, two = login.token_for(PERSONAL, environ), login.token_for(PERSONAL, environ)
    assert [one.password, two.password] == [issued.token for issued in aliyun.issued]
    assert one.password != two.password
    assert tokens_under_home(environ) == []
    environ["CREDCTL_ACR_NO_CACHE"] = "0"  # 0 is off
    three = login.token_for(PERSONAL, environ)
    assert len(tokens_under_home(environ)) == 1
    assert login.token_for(PERSONAL, environ).password == three.password
    assert len(aliyun.issued) == 3


def test_a_token_that_has_already_expired_is_refused_and_not_cached(aliyun, environ):
    aliyun.token_ttl = -60
    with pytest.raises(StoreError) as raised:
        login.token_for(EE, environ)
    assert str(raised.value) == (
        f"Alibaba Cloud issued a token for {EE} that has already expired: "
        "check this machine's clock (`timedatectl`), then try again"
    )
    assert tokens_under_home(environ) == []


def test_a_server_that_is_not_acr_asks_nothing(aliyun, environ):
    for server in ("docker.io", "registry.example.com", "127.0.0.1:5000"):
        with pytest.raises(CredentialsNotFound) as raised:
            login.token_for(server, environ)
        assert str(raised.value) == "credentials not found in native keychain"
        login.erase(server, environ)  # nothing was ever cached for it
    assert aliyun.requests == []


def test_listing_and_erase_are_per_identity(aliyun, environ):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    other = {**environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY2_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY2_SECRET}
    mine = login.token_for(EE, environ)
    theirs = login.token_for(PERSONAL, other)
    assert mine.password != theirs.password
    assert login.identity(environ) == f"env:{ALIYUN_KEY_ID}"
    assert login.cached(environ) == {EE: TEMP_USER}
    assert login.cached(other) == {PERSONAL: TEMP_USER}

    # the instance's token is shared by its domains: erasing the vpc one drops it
    login.erase(f"https://{EE_VPC}", environ)
    assert login.cached(environ) == {}
    assert login.cached(other) == {PERSONAL: TEMP_USER}
    login.erase(PERSONAL, environ)  # a domain's tokens go, whoever they were issued to
    assert login.cached(other) == {}
    assert tokens_under_home(environ) == []


def seed_credentials(home: Path) -> Path:
    """The Go ACR helper's ~/.alibabacloud/credentials (the file names the source, not its content)."""
    path = home / ".alibabacloud" / "credentials"
    path.parent.mkdir(parents=True)
    path.write_text(f"[default]\ntype = access_key\naccess_key_id = {ALIYUN_KEY_ID}\n")
    return path


def test_health_names_the_credential_source(environ, tmp_path):
    assert login.health(environ) == (True, "Alibaba Cloud credentials from env")
    assert AcrStore(environ).health().detail == "Alibaba Cloud credentials from env"
    bare = {name: value for name, value in environ.items() if not name.startswith("ALIBABA_CLOUD_ACCESS_KEY")}
    seed_credentials(tmp_path / "not-this-process-home")  # ~ is environ's HOME, not this process's
    assert login.health(bare) == (False, NO_CREDENTIALS)
    assert (AcrStore(bare).health().ok, AcrStore(bare).health().detail) == (False, NO_CREDENTIALS)
    credentials = seed_credentials(Path(bare["HOME"]))
    assert login.health(bare) == (True, "Alibaba Cloud credentials from file")
    assert login.identity(bare).startswith(f"file:{os.path.realpath(credentials)}:default:")


def test_every_kind_of_record_runs_with_its_wrappers_variables(tmp_path):
    """helper_environ (the kubelet's and verify's way to a profile) gives what the wrapper exports."""
    home = tmp_path / "home"
    cli = {"kind": "cli", "cli_config": "/c/config.json", "cli_profile": "dev", "wrapper": "/w", "registries": []}
    base = {"profile": "team1", "credentials_file": "/creds/t.ini", "section": "ops"}
    role = {"kind": "role", "role_arn": "acs:ram::1:role/r", "source": base, "external_id": "x1", "duration": 900}
    chain = {"kind": "role", "role_arn": "acs:ram::1:role/r", "source": {"kind": "chain"}}
    broken = {"kind": "role", "role_arn": "acs:ram::1:role/r", "source": {"kind": "role", "role_arn": "a"}}
    records = {"dev": cli, "xacct": role, "node": chain, "bad": broken, "odd": {"kind": "later", "x": "y"}}
    write_settings(home, {"acr_profiles": records})
    environ = {"HOME": str(home), "CREDCTL_ACR_SECTION": "stale", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv"}
    kept = {"HOME": str(home), "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv"}  # effective_environ drops the key later
    assert login.helper_environ("acr-helper-dev", environ) == {
        **kept,
        "CREDCTL_ACR_PROFILE": "dev",
        "CREDCTL_ACR_CLI_CONFIG": "/c/config.json",
        "CREDCTL_ACR_CLI_PROFILE": "dev",
    }
    assert login.helper_environ("acr-helper-xacct", environ) == {
        **kept,
        "CREDCTL_ACR_PROFILE": "xacct",
        "CREDCTL_ACR_ROLE_ARN": "acs:ram::1:role/r",
        "CREDCTL_ACR_EXTERNAL_ID": "x1",
        "CREDCTL_ACR_ROLE_DURATION": "900",
        "ALIBABA_CLOUD_CREDENTIALS_FILE": "/creds/t.ini",
        "CREDCTL_ACR_SECTION": "ops",
    }
    assert login.helper_environ("acr-helper-node", environ) == {
        **kept,
        "CREDCTL_ACR_PROFILE": "node",
        "CREDCTL_ACR_ROLE_ARN": "acs:ram::1:role/r",
        "CREDCTL_ACR_ROLE_SOURCE": "chain",
    }
    for name in ("bad", "odd"):  # a record credctl cannot read names no source: only the program knows
        assert login.helper_environ(f"acr-helper-{name}", environ) is None


def test_a_profile_environment_gets_its_own_token(aliyun, environ, tmp_path):
    """The kubelet's way to a profile: helper_environ, then the token, with that file alone."""
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    credentials = tmp_path / "team2.ini"
    credentials.write_text(
        f"[default]\ntype = access_key\naccess_key_id = {KEY2_ID}\naccess_key_secret = {KEY2_SECRET}\n"
    )
    write_settings(Path(environ["HOME"]), {"acr_profiles": {"team2": {"credentials_file": str(credentials)}}})
    team2 = login.helper_environ("acr-helper-team2", environ)
    token = login.token_for(EE, team2)
    assert aliyun.tokens_for(KEY2_ID) == [token.password]  # the node's access key is not used
    assert login.cached(team2) == {EE: TEMP_USER}
    assert login.cached(environ) == {}


def test_the_cache_follows_environs_home_and_xdg_cache_home(aliyun, environ, tmp_path):
    login.token_for(EE, environ)
    [in_home] = tokens_under_home(environ)
    assert in_home.parent == Path(environ["HOME"]) / ".cache" / "credctl" / "acr"
    xdg = {**environ, "XDG_CACHE_HOME": str(tmp_path / "xdg-cache")}
    assert login.cached(xdg) == {}
    login.token_for(EE, xdg)
    assert [path.parent for path in (tmp_path / "xdg-cache").rglob("*.token")] == [
        tmp_path / "xdg-cache" / "credctl" / "acr"
    ]
    assert cache.folder(xdg) == str(tmp_path / "xdg-cache" / "credctl" / "acr")
    assert not (tmp_path / "not-this-process-home").exists()


# --- layering and speed ---------------------------------------------------------------------------


def warm_modules(argv: list[str], stdin: bytes, environ: dict[str, str]) -> set[str]:
    """credctl's modules a call imports (python -X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], input=stdin, env=environ, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.decode().splitlines() if "|" in line}
    return {name for name in names if name.startswith("credctl")}


WARM_ACR = {"credctl.acr", "credctl.acr.cache", "credctl.acr.domains", "credctl.acr.identity", "credctl.acr.login"}


def test_a_warm_call_imports_the_login_and_its_standard_library_parts_only(aliyun, environ):
    """The token the library cached serves the helper and the kubelet plugin, which import the
    login's own small modules: no tokens (the SDK), no profiles, no settings for an ACR domain."""
    login.token_for(EE, environ)
    before = aliyun.requests
    helper = warm_modules([world.ours("docker-credential-acr-helper"), "get"], EE.encode(), environ)
    assert {name for name in helper if name.startswith("credctl.acr")} == WARM_ACR
    assert {"credctl.stores.acr", "credctl.protocol"} <= helper
    request = {"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest"}
    request["image"] = f"{EE}/a"
    plugin = warm_modules([world.ours("credctl-kubelet-provider")], encode(request).encode(), environ)
    assert {name for name in plugin if name.startswith("credctl.acr")} == WARM_ACR
    assert "credctl.lookup" in plugin
    assert "credctl.stores.acr" not in plugin  # the Docker adapter is the helper's alone
    assert "credctl.settings" not in helper | plugin
    assert aliyun.requests == before
