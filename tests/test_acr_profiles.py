"""`credctl acr add-profile | list-profiles | remove-profile`, and the wrappers run as Docker runs them.

A profile is an executable docker-credential-acr-helper-NAME that points our helper at one
credentials file; Docker finds it on PATH through a credHelpers entry. Everything runs for real:
the installed credctl, /bin/sh running the wrapper, the SDK against the loopback fake OpenAPI.
"""

import json
import shlex
import stat
from pathlib import Path

import pytest
import world
from world import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    EE,
    HELPER,
    INSTANCE_ID,
    KEY2_ID,
    KEY2_SECRET,
    PERSONAL,
    REGION,
    acr_env,
    answer,
    cache_files,
    clean,
    on_path,
    run,
    with_key,
    write_cli_config,
    write_credentials,
)

CREDCTL = world.ours("credctl")
WRAPPER = "docker-credential-acr-helper-{}"


# --- helpers -----------------------------------------------------------------------------------


def credctl(env: dict[str, str], *args: str, cwd: Path | None = None):
    result = run([CREDCTL, *args], b"", env, cwd=cwd)
    assert b"Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def add_profile(env, name: str, credentials: Path, bin_dir: Path, *registries: str, extra=()):
    args = ["acr", "add-profile", name, "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)]
    for registry in registries:
        args += ["--registry", registry]
    return credctl(env, *args, *extra)


def as_docker(env: dict[str, str], name: str, server: str, action: str = "get"):
    """What Docker does for a credHelpers entry acr-helper-NAME: find the program on PATH, run it."""
    return run([WRAPPER.format(name), action], server, env)


def settings(tmp_path: Path) -> dict:
    path = tmp_path / "config" / "credctl" / "settings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def docker_config(tmp_path: Path) -> dict:
    path = tmp_path / "docker" / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


def one_error_line(result) -> str:
    assert result.stderr.startswith(b"error: ") and result.stderr.count(b"\n") == 1, result.stderr
    return result.stderr.decode()


# --- a profile, end to end ---------------------------------------------------------------------------


def test_a_profile_serves_its_own_account_as_docker_runs_it(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    credentials = write_credentials(tmp_path / "accounts" / "team1.ini")
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)

    result = add_profile(env, "team1", credentials, bin_dir, f"https://{EE}/v2/")
    wrapper = bin_dir / WRAPPER.format("team1")
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.decode() == f"✓ profile team1: {wrapper} serves {EE}\n"

    assert stat.S_IMODE(wrapper.stat().st_mode) == 0o755
    text = wrapper.read_text()
    assert text.startswith("#!/bin/sh\n# credctl ACR profile team1:")
    assert f"export ALIBABA_CLOUD_CREDENTIALS_FILE={shlex.quote(str(credentials))}\n" in text
    assert f'exec {shlex.quote(HELPER)} "$@"\n' in text
    assert ALIYUN_KEY_SECRET not in text and ALIYUN_KEY_ID not in text
    assert docker_config(tmp_path) == {"credHelpers": {EE: "acr-helper-team1"}}
    assert settings(tmp_path)["acr_profiles"] == {
        "team1": {"credentials_file": str(credentials), "registries": [EE], "wrapper": str(wrapper)}
    }

    # Another account's keys in the environment, or in the CLI's config (which the SDK's chain
    # reads before any credentials file), do not leak into the profile's helper...
    write_cli_config(tmp_path / "home", KEY2_ID, KEY2_SECRET)
    with_other_key = with_key(env, KEY2_ID, KEY2_SECRET)
    got = as_docker(with_other_key, "team1", EE)
    clean(got)
    [token] = aliyun.tokens_for(ALIYUN_KEY_ID)
    assert (got.returncode, got.stdout) == (0, answer(EE, token))
    assert aliyun.tokens_for(KEY2_ID) == []

    # ...nor does the profile's token leak to the plain helper, which uses those keys.
    plain = run([HELPER, "get"], EE, with_other_key)
    clean(plain)
    [other_token] = aliyun.tokens_for(KEY2_ID)
    assert (plain.returncode, plain.stdout) == (0, answer(EE, other_token))
    assert other_token != token

    before = aliyun.requests
    again = as_docker(with_other_key, "team1", EE)  # warm: from the profile's own cache entry
    clean(again)
    assert (again.returncode, again.stdout) == (0, answer(EE, token))
    assert aliyun.requests == before
    assert len(cache_files(tmp_path)) == 2


def test_two_profiles_list_remove(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    first = write_credentials(tmp_path / "team1.ini")
    second = write_credentials(tmp_path / "team2.ini", KEY2_ID, KEY2_SECRET)
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)
    assert add_profile(env, "team1", first, bin_dir, EE).returncode == 0
    assert (
        add_profile(env, "team-2", second, bin_dir, PERSONAL, "registry-vpc.cn-hangzhou.aliyuncs.com").returncode == 0
    )
    config = {"credHelpers": {EE: "acr-helper-team1", PERSONAL: "acr-helper-team-2"}}
    config["credHelpers"]["registry-vpc.cn-hangzhou.aliyuncs.com"] = "acr-helper-team-2"
    assert docker_config(tmp_path) == config

    # Each wrapper gets its own account's token, even for the same registry.
    for name, key_id in (("team1", ALIYUN_KEY_ID), ("team-2", KEY2_ID)):
        for server in (EE, PERSONAL):
            got = as_docker(env, name, server)
            clean(got)
            assert (got.returncode, got.stdout) == (0, answer(server, aliyun.issued[-1].token))
            assert aliyun.issued[-1].access_key_id == key_id
    assert len(aliyun.tokens_for(ALIYUN_KEY_ID)) == len(aliyun.tokens_for(KEY2_ID)) == 2

    listed = credctl(env, "acr", "list-profiles", "--json")
    assert (listed.returncode, listed.stderr) == (0, b"")
    rows = [
        {
            "name": "team-2",
            "kind": "file",
            "summary": str(second),
            "credentials_file": str(second),
            "registries": [PERSONAL, "registry-vpc.cn-hangzhou.aliyuncs.com"],
            "wrapper": str(bin_dir / WRAPPER.format("team-2")),
            "wrapper_present": True,
        },
        {
            "name": "team1",
            "kind": "file",
            "summary": str(first),
            "credentials_file": str(first),
            "registries": [EE],
            "wrapper": str(bin_dir / WRAPPER.format("team1")),
            "wrapper_present": True,
        },
    ]
    assert json.loads(listed.stdout) == rows
    table = credctl(env, "acr", "list-profiles")
    assert table.returncode == 0
    assert b"team-2" in table.stdout and b"team1" in table.stdout

    removed = credctl(env, "acr", "remove-profile", "team-2")
    assert (removed.returncode, removed.stderr) == (0, b"")
    assert not (bin_dir / WRAPPER.format("team-2")).exists()
    assert (bin_dir / WRAPPER.format("team1")).exists()
    assert docker_config(tmp_path) == {"credHelpers": {EE: "acr-helper-team1"}}
    assert json.loads(credctl(env, "acr", "list-profiles", "--json").stdout) == rows[1:]

    unknown = credctl(env, "acr", "remove-profile", "team-2")
    assert unknown.returncode == 1
    assert one_error_line(unknown) == "error: there is no ACR profile 'team-2' (see `credctl acr list-profiles`)\n"

    assert credctl(env, "acr", "remove-profile", "team1").returncode == 0
    assert list(bin_dir.iterdir()) == []
    assert docker_config(tmp_path) == {}
    assert json.loads(credctl(env, "acr", "list-profiles", "--json").stdout) == []


# --- names and paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "a b", "$(touch pwned)", "X", "-a", "", "a" * 70, "team1;touch pwned"])
def test_hostile_names_are_refused_and_nothing_is_written(aliyun, tmp_path, name):
    credentials = write_credentials(tmp_path / "team.ini")
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)
    result = add_profile(env, name, credentials, bin_dir, EE, extra=["--region", REGION])
    assert result.returncode != 0
    assert result.stdout == b""
    assert not bin_dir.exists()
    assert not (tmp_path / "docker").exists()
    assert settings(tmp_path) == {}
    assert list(tmp_path.rglob("pwned*")) == []
    assert aliyun.requests == []


def test_paths_are_quoted_so_nothing_in_them_runs(aliyun, tmp_path):
    odd = tmp_path / 'it\'s a "odd" $(touch pwned) `touch pwned2` place'
    credentials = write_credentials(odd / "creds $(touch pwned3).ini")
    bin_dir = odd / "bin 'dir' $HOME;touch pwned4"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)
    result = add_profile(env, "team1", credentials, bin_dir, EE, PERSONAL)
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    wrapper = bin_dir / WRAPPER.format("team1")
    assert f"export ALIBABA_CLOUD_CREDENTIALS_FILE={shlex.quote(str(credentials))}\n" in wrapper.read_text()

    for server in (EE, PERSONAL):
        got = run([WRAPPER.format("team1"), "get"], server, env, cwd=tmp_path)
        clean(got)
        assert (got.returncode, got.stdout) == (0, answer(server, aliyun.issued[-1].token))
    assert [issued.access_key_id for issued in aliyun.issued] == [ALIYUN_KEY_ID, ALIYUN_KEY_ID]
    assert list(tmp_path.rglob("pwned*")) == []
    assert settings(tmp_path)["acr_profiles"]["team1"]["credentials_file"] == str(credentials)


def test_a_file_credctl_did_not_make_is_never_overwritten(aliyun, tmp_path):
    credentials = write_credentials(tmp_path / "team.ini")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    theirs = bin_dir / WRAPPER.format("team1")
    theirs.write_text("#!/bin/sh\necho someone else's helper\n")
    theirs.chmod(0o700)
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)
    extra = ["--registry", "my.example.com", "--region", REGION, "--instance-id", INSTANCE_ID]
    result = add_profile(env, "team1", credentials, bin_dir, EE, extra=extra)
    assert result.returncode == 1
    assert one_error_line(result) == (
        f"error: {theirs} exists and was not made by credctl: remove it or choose another name\n"
    )
    assert theirs.read_text() == "#!/bin/sh\necho someone else's helper\n"
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o700
    assert not (tmp_path / "docker").exists()
    assert settings(tmp_path) == {}  # not even the custom domain


def test_the_credentials_file_must_exist_and_should_be_private(aliyun, tmp_path):
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)
    missing = add_profile(env, "team1", tmp_path / "nowhere.ini", bin_dir, EE)
    assert missing.returncode == 1
    assert "is not a file" in one_error_line(missing)
    assert not bin_dir.exists() and settings(tmp_path) == {}

    shared = write_credentials(tmp_path / "team.ini")
    shared.chmod(0o644)
    result = add_profile(env, "team1", shared, bin_dir, EE)
    assert result.returncode == 0
    assert result.stderr.decode() == f"warning: {shared} can be read by other users: chmod 600 it\n"


# --- custom domains --------------------------------------------------------------------------------


def test_a_custom_domain_with_its_instance_id(aliyun, tmp_path):
    credentials = write_credentials(tmp_path / "team.ini")
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)
    extra = ["--region", REGION, "--instance-id", INSTANCE_ID]
    result = add_profile(env, "team1", credentials, bin_dir, "https://My.Example.com/v2/", extra=extra)
    assert (result.returncode, result.stderr) == (0, b"")
    assert settings(tmp_path)["acr_registries"] == {"my.example.com": {"region": REGION, "instance_id": INSTANCE_ID}}
    assert docker_config(tmp_path) == {"credHelpers": {"my.example.com": "acr-helper-team1"}}
    assert aliyun.requests == []  # nothing to look up

    got = as_docker(env, "team1", "my.example.com")
    clean(got)
    assert (got.returncode, got.stdout) == (0, answer("my.example.com", aliyun.issued[-1].token))
    assert [(r.action, r.query.get("InstanceId")) for r in aliyun.requests] == [("GetAuthorizationToken", INSTANCE_ID)]


def test_a_custom_domain_is_found_with_list_instance_endpoint(aliyun, tmp_path):
    aliyun.add_instance("cri-other", "other", REGION, domains=["other-registry.cn-hangzhou.cr.aliyuncs.com"])
    aliyun.add_instance(
        "cri-custom", "custom", REGION, ["custom-registry.cn-hangzhou.cr.aliyuncs.com", "reg.example.org"]
    )
    credentials = write_credentials(tmp_path / "team.ini")
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, aliyun), bin_dir)

    result = add_profile(env, "team1", credentials, bin_dir, "reg.example.org", extra=["--region", REGION])
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    assert f"reg.example.org is ACR instance cri-custom in {REGION}\n" in result.stdout.decode()
    assert settings(tmp_path)["acr_registries"] == {"reg.example.org": {"region": REGION, "instance_id": "cri-custom"}}
    assert {r.action for r in aliyun.requests} == {"ListInstance", "ListInstanceEndpoint"}
    assert all(r.verified and r.access_key_id == ALIYUN_KEY_ID for r in aliyun.requests)

    got = as_docker(env, "team1", "reg.example.org")
    clean(got)
    assert (got.returncode, got.stdout) == (0, answer("reg.example.org", aliyun.issued[-1].token))
    assert aliyun.issued[-1].instance_id == "cri-custom"

    # A domain no instance serves, or one given without its region: refused, nothing written.
    before = settings(tmp_path)
    for extra, status in ((["--region", REGION], 1), ([], 2)):
        refused = add_profile(env, "team2", credentials, bin_dir, "nothere.example.org", extra=extra)
        assert refused.returncode == status
        if status == 2:
            message = world.usage_error(refused, "acr add-profile")
            assert (
                message
                == "nothere.example.org is not an ACR domain: add --region (and --instance-id, or let credctl find it)"
            )
        else:
            one_error_line(refused)
        assert not (bin_dir / WRAPPER.format("team2")).exists()
    assert settings(tmp_path) == before
