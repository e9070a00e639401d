"""`credctl acr add-profile` for every identity: a section of a credentials file, a profile of the
aliyun CLI's config (each mode the SDK can use), a RAM role assumed (STS AssumeRole) with another
profile or the chain. Each through the real console scripts: the wrapper add-profile writes, run as
Docker runs it, against the loopback fake, which checks every signature (the ACS3 one of the ACR
API, the RPC one of STS AssumeRole) and hands out STS credentials only for the trust it was given.
"""

import json
import shlex
from pathlib import Path

import pytest
import world
from world import (
    ACCOUNT,
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    EE,
    KEY2_ID,
    KEY2_SECRET,
    PERSONAL,
    PROVIDER_ARN,
    acr_env,
    answer,
    cache_files,
    clean,
    on_path,
    run,
    with_key,
    write_credentials,
)

from credctl.acr import identity

CREDCTL = world.ours("credctl")
WRAPPER = "docker-credential-acr-helper-{}"
ROLE = f"acs:ram::{ACCOUNT}:role/cross-account-puller"
ROLE_2 = f"acs:ram::{ACCOUNT}:role/second-hop"
OIDC_ROLE = f"acs:ram::{ACCOUNT}:role/oidc-puller"
STS_KEY = ("STS.CredctlTestSessionKey", "credctl-test-sts-secret-do-not-leak", "CAIS-credctl-test-token-do-not-leak")
SECRETS = (ALIYUN_KEY_SECRET, KEY2_SECRET, STS_KEY[1], STS_KEY[2])


# --- helpers -----------------------------------------------------------------------------------------


def credctl(env: dict[str, str], *args: str):
    result = run([CREDCTL, *args], b"", env)
    assert b"Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def add(env, tmp_path: Path, name: str, *options: str, registries=(EE,)):
    args = ["acr", "add-profile", name, *options, "--bin-dir", str(tmp_path / "bin")]
    for registry in registries:
        args += ["--registry", registry]
    return credctl(env, *args)


def as_docker(env: dict[str, str], name: str, server: str = EE):
    return run([WRAPPER.format(name), "get"], server, env)


def world_env(tmp_path: Path, fake) -> dict[str, str]:
    """Docker's environment for the wrappers: the fake as ACR API and STS, and another account's
    access key in the environment, which no profile may ever use (the fake knows that key)."""
    env = acr_env(tmp_path, fake, ALIBABA_CLOUD_STS_ENDPOINT=fake.url)
    return with_key(on_path(env, tmp_path / "bin"), ALIYUN_KEY_ID, ALIYUN_KEY_SECRET)


def served(result, server: str, fake) -> str:
    """The access key id the token a successful `get` printed was issued to (checked byte for byte)."""
    clean(result)
    issued = fake.issued[-1]
    assert (result.returncode, result.stdout) == (0, answer(server, issued.token)), result.stderr
    for secret in SECRETS:
        assert secret.encode() not in result.stdout + result.stderr
    return issued.access_key_id


def helper_error(result) -> str:
    """The one line a failed `get` of the helper prints: on stdout, as Docker's helpers do; exit 1."""
    assert (result.returncode, result.stderr) == (1, b""), result
    assert result.stdout.endswith(b"\n") and result.stdout.count(b"\n") == 1, result.stdout
    for secret in SECRETS:
        assert secret.encode() not in result.stdout
    return result.stdout.decode().removesuffix("\n")


def one_error_line(result) -> str:
    """The one line of a failed credctl command, on stderr; exit 1."""
    assert result.returncode == 1, result
    assert result.stderr.startswith(b"error: ") and result.stderr.count(b"\n") == 1, result.stderr
    return result.stderr.decode().removeprefix("error: ").removesuffix("\n")


def write_cli_config(path: Path, *profiles: dict, current: str = "") -> Path:
    """The aliyun CLI's config.json with these profiles, 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"current": current or profiles[0]["name"], "profiles": list(profiles)}))
    return path


def ak(name: str, key_id: str = KEY2_ID, secret: str = KEY2_SECRET) -> dict:
    return {
        "name": name,
        "mode": "AK",
        "access_key_id": key_id,
        "access_key_secret": secret,
        "region_id": "cn-hangzhou",
    }


def settings(tmp_path: Path) -> dict:
    path = tmp_path / "config" / "credctl" / "settings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def no_token_for_the_environment(fake) -> None:
    """The environment's own key (ALIYUN_KEY_ID) asked for nothing: no token, no STS session."""
    assert fake.tokens_for(ALIYUN_KEY_ID) == []
    assert all(session.caller_access_key_id != ALIYUN_KEY_ID for session in fake.sts_sessions)


# --- a section of a credentials file ------------------------------------------------------------------


def test_a_section_of_a_credentials_file(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    credentials = write_credentials(tmp_path / "accounts.ini", "LTAI5tNotThisOne", "not-this-secret")
    with credentials.open("a") as file:
        file.write(f"[team2]\ntype = access_key\naccess_key_id = {KEY2_ID}\naccess_key_secret = {KEY2_SECRET}\n")
    env = world_env(tmp_path, aliyun)

    result = add(env, tmp_path, "team2", "--credentials-file", str(credentials), "--section", "team2")
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    wrapper = tmp_path / "bin" / WRAPPER.format("team2")
    text = wrapper.read_text()
    assert f"export ALIBABA_CLOUD_CREDENTIALS_FILE={shlex.quote(str(credentials))}\n" in text
    assert "export CREDCTL_ACR_SECTION=team2\n" in text
    assert settings(tmp_path)["acr_profiles"]["team2"] == {
        "credentials_file": str(credentials),
        "section": "team2",
        "wrapper": str(wrapper),
        "registries": [EE],
    }
    assert served(as_docker(env, "team2"), EE, aliyun) == KEY2_ID
    no_token_for_the_environment(aliyun)

    # The same file's [default] is another identity: its profile never gets team2's cached token.
    assert add(env, tmp_path, "dflt", "--credentials-file", str(credentials), registries=()).returncode == 0
    refused = as_docker(env, "dflt")
    assert "InvalidAccessKeyId.NotFound" in helper_error(refused)
    assert len(cache_files(tmp_path)) == 1

    # a section the file does not have: one line at every get
    assert add(env, tmp_path, "none", "--credentials-file", str(credentials), "--section", "nope").returncode == 0
    assert helper_error(as_docker(env, "none")) == (
        f"ACR profile none: its credentials file {credentials} has no [nope] section, the only one a profile uses"
    )


# --- a profile of the aliyun CLI's config -------------------------------------------------------------


def cli_world(fake, tmp_path: Path) -> Path:
    """A CLI config with one profile of each mode credctl can test against the fake: AK, StsToken,
    RamRoleArn, ChainableRamRoleArn (over the RamRoleArn one) and OIDC; and the roles they assume."""
    fake.add_access_key(KEY2_ID, KEY2_SECRET)
    fake.add_access_key(*STS_KEY)
    fake.add_ram_role(ROLE, trusted=[KEY2_ID])
    fake.add_ram_role(ROLE_2)  # trusts any key: here, the STS key of ROLE's session
    fake.add_oidc_provider(PROVIDER_ARN, "https://oidc.example.com/c0ffee")
    fake.add_oidc_role(OIDC_ROLE, PROVIDER_ARN)
    token_file = tmp_path / "oidc-token"
    token_file.write_text(fake.service_account_token(PROVIDER_ARN, "ci", "builder"))
    sts = {"name": "sts", "mode": "StsToken", "access_key_id": STS_KEY[0], "access_key_secret": STS_KEY[1]}
    role = {**ak("role"), "mode": "RamRoleArn", "ram_role_arn": ROLE, "ram_session_name": "cli-role"}
    chained = {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "role", "ram_role_arn": ROLE_2}
    oidc = {"name": "oidc", "mode": "OIDC", "ram_role_arn": OIDC_ROLE, "oidc_provider_arn": PROVIDER_ARN}
    oidc.update(oidc_token_file=str(token_file), role_session_name="cli-oidc")
    return write_cli_config(
        tmp_path / "cli" / "config.json", ak("ak"), {**sts, "sts_token": STS_KEY[2]}, role, chained, oidc
    )


@pytest.mark.parametrize(
    ("profile", "role"), [("ak", None), ("sts", None), ("role", ROLE), ("chained", ROLE_2), ("oidc", OIDC_ROLE)]
)
def test_each_cli_mode_issues_a_token_for_its_own_identity(aliyun, tmp_path, profile, role):
    config = cli_world(aliyun, tmp_path)
    env = world_env(tmp_path, aliyun)
    result = add(env, tmp_path, "cli", "--cli-profile", profile, "--cli-config", str(config))
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    text = (tmp_path / "bin" / WRAPPER.format("cli")).read_text()
    assert f"export CREDCTL_ACR_CLI_CONFIG={shlex.quote(str(config))}\n" in text
    assert f"export CREDCTL_ACR_CLI_PROFILE={profile}\n" in text
    assert "ALIBABA_CLOUD_CREDENTIALS_FILE" not in text and KEY2_SECRET not in text

    key = served(as_docker(env, "cli"), EE, aliyun)
    session = aliyun.identity_of(key)
    if role is None:
        assert key == {"ak": KEY2_ID, "sts": STS_KEY[0]}[profile] and session is None
    else:
        assert session is not None and session.role_arn == role
    if profile == "chained":  # ROLE_2 was assumed with ROLE's session, which KEY2 assumed
        first, second = aliyun.sts_sessions
        assert (first.role_arn, first.caller_access_key_id, second.caller_access_key_id) == (
            ROLE,
            KEY2_ID,
            first.access_key_id,
        )
    no_token_for_the_environment(aliyun)
    assert all(r.verified for r in aliyun.requests)

    before = aliyun.requests
    assert served(as_docker(env, "cli"), EE, aliyun) == key  # warm: the profile's own cache entry
    assert aliyun.requests == before


@pytest.mark.parametrize(
    ("profiles", "problem"),
    [
        ([ak("ak")], "has no profile 'dev'"),
        ([{**ak("dev"), "mode": "RsaKeyPair"}], "gives profile 'dev' mode 'RsaKeyPair'"),
        ([{**ak("dev"), "mode": "CredentialsURI"}], "gives profile 'dev' mode 'CredentialsURI'"),
        ([{"name": "dev", "mode": "ChainableRamRoleArn", "source_profile": "gone"}], "has no profile 'gone'"),
        (
            [
                {"name": "dev", "mode": "ChainableRamRoleArn", "source_profile": "b"},
                {"name": "b", "mode": "ChainableRamRoleArn", "source_profile": "dev"},
            ],
            "chains profile 'dev' back to itself through source_profile",
        ),
    ],
)
def test_a_cli_profile_credctl_cannot_use_is_one_line_at_add_profile_and_at_get(aliyun, tmp_path, profiles, problem):
    config = write_cli_config(tmp_path / "cli.json", *profiles)
    env = world_env(tmp_path, aliyun)
    refused = add(env, tmp_path, "dev", "--cli-profile", "dev", "--cli-config", str(config))
    line = one_error_line(refused)
    assert line.startswith(f"the aliyun CLI config {config} {problem}"), line
    assert not (tmp_path / "bin").exists() and settings(tmp_path) == {}

    # made while the config could serve it, then the config changed: the same line at every get
    write_cli_config(config, ak("dev"))
    assert add(env, tmp_path, "dev", "--cli-profile", "dev", "--cli-config", str(config)).returncode == 0
    write_cli_config(config, *profiles)
    got = as_docker(env, "dev")
    assert helper_error(got).startswith(f"ACR profile dev: the aliyun CLI config {config} {problem}")
    assert aliyun.requests == []  # neither the environment's key nor anything else was tried


def test_an_unsupported_mode_names_what_the_sdk_can_do(aliyun, tmp_path):
    config = write_cli_config(tmp_path / "cli.json", {**ak("dev"), "mode": "RamRoleArnWithRoleName"})
    line = one_error_line(
        add(world_env(tmp_path, aliyun), tmp_path, "dev", "--cli-profile", "dev", "--cli-config", str(config))
    )
    assert line == (
        f"the aliyun CLI config {config} gives profile 'dev' mode 'RamRoleArnWithRoleName', which the "
        "Alibaba Cloud SDK cannot use (it can: AK, StsToken, RamRoleArn, EcsRamRole, OIDC, ChainableRamRoleArn, "
        "CloudSSO, OAuth, External)"
    )


def test_the_default_cli_config_is_the_users(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    env = world_env(tmp_path, aliyun)
    config = write_cli_config(Path(env["HOME"]) / ".aliyun" / "config.json", ak("ak"), ak("other", "x", "y"))
    assert add(env, tmp_path, "mine", "--cli-profile", "ak").returncode == 0
    assert settings(tmp_path)["acr_profiles"]["mine"]["cli_config"] == str(config)
    assert served(as_docker(env, "mine"), EE, aliyun) == KEY2_ID


# --- a RAM role to assume ---------------------------------------------------------------------------


def test_a_role_profile_assumes_its_role_with_its_external_id(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    aliyun.add_ram_role(ROLE, trusted=[KEY2_ID], external_id="credctl-ext-1")
    base = write_credentials(tmp_path / "base.ini", KEY2_ID, KEY2_SECRET)
    env = world_env(tmp_path, aliyun)
    assert add(env, tmp_path, "base", "--credentials-file", str(base), registries=()).returncode == 0

    options = ("--role-arn", ROLE, "--source", "base", "--external-id", "credctl-ext-1", "--duration", "1800")
    result = add(env, tmp_path, "xacct", *options, registries=(EE, PERSONAL))
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    wrapper = tmp_path / "bin" / WRAPPER.format("xacct")
    assert settings(tmp_path)["acr_profiles"]["xacct"] == {
        "kind": "role",
        "role_arn": ROLE,
        "source": {"profile": "base", "credentials_file": str(base)},
        "external_id": "credctl-ext-1",
        "duration": 1800,
        "wrapper": str(wrapper),
        "registries": [EE, PERSONAL],
    }
    text = wrapper.read_text()
    for line in (
        f"export CREDCTL_ACR_ROLE_ARN={shlex.quote(ROLE)}",
        "export CREDCTL_ACR_EXTERNAL_ID=credctl-ext-1",
        "export CREDCTL_ACR_ROLE_DURATION=1800",
        f"export ALIBABA_CLOUD_CREDENTIALS_FILE={shlex.quote(str(base))}",
    ):
        assert line + "\n" in text

    for server in (EE, PERSONAL):
        key = served(as_docker(env, "xacct", server), server, aliyun)
        session = aliyun.identity_of(key)
        assert (session.role_arn, session.caller_access_key_id, session.external_id) == (ROLE, KEY2_ID, "credctl-ext-1")
        assert (session.session_name, session.duration_seconds) == ("credctl-xacct", 1800)
    [assume, *_] = aliyun.calls("AssumeRole")
    assert assume.verified and assume.query["Signature"] == "<redacted>"
    no_token_for_the_environment(aliyun)

    # the base profile itself is another identity: its own token, not the role's
    assert served(as_docker(env, "base"), EE, aliyun) == KEY2_ID
    assert len(cache_files(tmp_path)) == 3


def test_a_wrong_external_id_is_stss_refusal_in_one_line(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    aliyun.add_ram_role(ROLE, trusted=[KEY2_ID], external_id="the-right-one")
    base = write_credentials(tmp_path / "base.ini", KEY2_ID, KEY2_SECRET)
    env = world_env(tmp_path, aliyun)
    assert add(env, tmp_path, "base", "--credentials-file", str(base), registries=()).returncode == 0
    for name, extra in (("wrong", ("--external-id", "the-wrong-one")), ("none", ())):
        assert add(env, tmp_path, name, "--role-arn", ROLE, "--source", "base", *extra).returncode == 0
        got = as_docker(env, name)
        assert helper_error(got) == (
            f"Alibaba Cloud STS refused to assume the RAM role for {EE}: "
            "NoPermission: The ExternalId does not match the role's trust policy."
        )
        for secret in SECRETS:
            assert secret.encode() not in got.stdout + got.stderr
    assert aliyun.sts_sessions == [] and aliyun.issued == []
    assert cache_files(tmp_path) == []

    # an untrusted base: refused the same way, not served from the environment's key
    aliyun.add_ram_role(ROLE_2, trusted=[ALIYUN_KEY_ID])
    assert add(env, tmp_path, "untrusted", "--role-arn", ROLE_2, "--source", "base").returncode == 0
    assert helper_error(as_docker(env, "untrusted")) == (
        f"Alibaba Cloud STS refused to assume the RAM role for {EE}: "
        "NoPermission: You are not authorized to assume this role."
    )
    assert aliyun.issued == []


def test_a_role_over_the_chain_is_keyed_by_the_chains_source(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    aliyun.add_ram_role(ROLE)
    env = world_env(tmp_path, aliyun)  # the environment's key: ALIYUN_KEY_ID
    assert add(env, tmp_path, "node", "--role-arn", ROLE, "--source", "chain").returncode == 0
    assert "export CREDCTL_ACR_ROLE_SOURCE=chain\n" in (tmp_path / "bin" / WRAPPER.format("node")).read_text()

    first = served(as_docker(env, "node"), EE, aliyun)
    token = aliyun.issued[-1].token
    assert aliyun.identity_of(first).caller_access_key_id == ALIYUN_KEY_ID
    # Another key in the environment is another base: its own session and token, never the cached one.
    second = served(as_docker(with_key(env, KEY2_ID, KEY2_SECRET), "node"), EE, aliyun)
    assert aliyun.identity_of(second).caller_access_key_id == KEY2_ID
    assert len(cache_files(tmp_path)) == 2
    before = aliyun.requests
    again = as_docker(env, "node")  # back to the first key: its cache entry
    clean(again)
    assert (again.returncode, again.stdout) == (0, answer(EE, token))
    assert aliyun.requests == before


# --- kinds side by side -------------------------------------------------------------------------------


def test_profiles_of_different_kinds_never_share_a_cached_token(aliyun, tmp_path):
    """One access key behind a file profile, a CLI profile and (through the file) a role: three
    identities, three tokens, three cache entries."""
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    aliyun.add_ram_role(ROLE, trusted=[KEY2_ID])
    credentials = write_credentials(tmp_path / "team.ini", KEY2_ID, KEY2_SECRET)
    config = write_cli_config(tmp_path / "cli.json", ak("team"))
    env = world_env(tmp_path, aliyun)
    assert add(env, tmp_path, "file", "--credentials-file", str(credentials)).returncode == 0
    assert add(env, tmp_path, "cli", "--cli-profile", "team", "--cli-config", str(config)).returncode == 0
    assert add(env, tmp_path, "role", "--role-arn", ROLE, "--source", "file").returncode == 0

    tokens = []
    for name in ("file", "cli", "role"):
        served(as_docker(env, name), EE, aliyun)
        tokens.append(aliyun.issued[-1].token)
    assert len(set(tokens)) == 3 and len(cache_files(tmp_path)) == 3
    before = aliyun.requests
    for name, token in zip(("file", "cli", "role"), tokens, strict=True):
        got = as_docker(env, name)
        clean(got)
        assert got.stdout == answer(EE, token)
    assert aliyun.requests == before
    no_token_for_the_environment(aliyun)


def test_list_and_remove_profiles_of_every_kind(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    credentials = write_credentials(tmp_path / "team.ini", KEY2_ID, KEY2_SECRET)
    config = write_cli_config(tmp_path / "cli.json", ak("team"))
    env = world_env(tmp_path, aliyun)
    bin_dir = tmp_path / "bin"
    assert add(env, tmp_path, "file", "--credentials-file", str(credentials), "--section", "default").returncode == 0
    assert add(env, tmp_path, "cli", "--cli-profile", "team", "--cli-config", str(config)).returncode == 0
    options = ("--role-arn", ROLE, "--source", "cli", "--external-id", "ext-9", "--session-name", "ci.pull")
    assert add(env, tmp_path, "role", *options, registries=(PERSONAL,)).returncode == 0
    assert add(env, tmp_path, "node", "--role-arn", ROLE_2, "--source", "chain", registries=()).returncode == 0

    listed = credctl(env, "acr", "list-profiles", "--json")
    assert (listed.returncode, listed.stderr) == (0, b"")
    rows = {row.pop("name"): row for row in json.loads(listed.stdout)}
    assert list(rows) == ["cli", "file", "node", "role"]
    assert {name: (row["kind"], row["summary"]) for name, row in rows.items()} == {
        "file": ("file", str(credentials)),  # [default]: recorded as before kinds existed
        "cli": ("cli", f"profile team of {config}"),
        "role": ("role", f"{ROLE} (external id ext-9) assumed with profile cli: profile team of {config}"),
        "node": ("role", f"{ROLE_2} assumed with the environment's chain"),
    }
    assert rows["file"] == {
        "credentials_file": str(credentials),
        "wrapper": str(bin_dir / WRAPPER.format("file")),
        "registries": [EE],
        "kind": "file",
        "summary": str(credentials),
        "wrapper_present": True,
    }
    assert rows["role"]["session_name"] == "ci.pull" and rows["role"]["source"]["cli_config"] == str(config)
    table = credctl(env, "acr", "list-profiles")
    assert table.returncode == 0
    for text in ("cli", "role", "node", "file", "kind", "source"):
        assert text.encode() in table.stdout

    for name in ("role", "cli", "node", "file"):
        removed = credctl(env, "acr", "remove-profile", name)
        assert (removed.returncode, removed.stderr) == (0, b""), removed.stderr
        assert not (bin_dir / WRAPPER.format(name)).exists()
    assert list(bin_dir.iterdir()) == []
    assert settings(tmp_path)["acr_profiles"] == {}
    assert not (tmp_path / "docker" / "config.json").exists() or "credHelpers" not in json.loads(
        (tmp_path / "docker" / "config.json").read_text()
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "give exactly one of --credentials-file, --cli-profile or --role-arn"),
        (
            ("--cli-profile", "a", "--role-arn", ROLE),
            "give exactly one of --credentials-file, --cli-profile or --role-arn",
        ),
        (("--cli-profile", "a", "--section", "s"), "--section goes with --credentials-file, not --cli-profile"),
        (("--role-arn", ROLE, "--cli-config", "/x"), "--cli-config goes with --cli-profile, not --role-arn"),
        (("--cli-profile", "a", "--external-id", "xx"), "--external-id goes with --role-arn, not --cli-profile"),
        (("--role-arn", ROLE), "--role-arn needs --source: the NAME of a file or CLI profile, or 'chain'"),
        (
            ("--role-arn", "acs:ram::x:role/r", "--source", "chain"),
            "--role-arn must look like acs:ram::<account>:role/<name>, not 'acs:ram::x:role/r'",
        ),
        (
            ("--role-arn", ROLE, "--source", "nobody"),
            "--source 'nobody' is neither 'chain' nor a credentials-file or CLI profile "
            "(see `credctl acr list-profiles`)",
        ),
        (("--role-arn", ROLE, "--source", "chain", "--duration", "60"), "--duration must be 900 to 43200 seconds"),
        (
            ("--role-arn", ROLE, "--source", "chain", "--external-id", "a b"),
            "--external-id must be 2-1224 of the characters A-Z a-z 0-9 = , . @ : / - _",
        ),
    ],
)
def test_usage_errors_write_nothing(aliyun, tmp_path, options, message):
    env = world_env(tmp_path, aliyun)
    result = add(env, tmp_path, "p", *options)
    assert world.usage_error(result, "acr add-profile") == message
    assert not (tmp_path / "bin").exists() and settings(tmp_path) == {}


def test_a_role_cannot_be_the_source_of_a_role(aliyun, tmp_path):
    env = world_env(tmp_path, aliyun)
    assert add(env, tmp_path, "node", "--role-arn", ROLE, "--source", "chain", registries=()).returncode == 0
    result = add(env, tmp_path, "hop", "--role-arn", ROLE_2, "--source", "node")
    assert world.usage_error(result, "acr add-profile").startswith("--source 'node' is neither 'chain' nor")


# --- the cache key of each kind ----------------------------------------------------------------------


def test_each_kinds_fingerprint_names_its_source_and_no_secret(tmp_path):
    credentials = write_credentials(tmp_path / "team.ini", KEY2_ID, KEY2_SECRET)
    config = write_cli_config(tmp_path / "cli.json", ak("team"))
    base = {"HOME": str(tmp_path), "CREDCTL_ACR_PROFILE": "p", **with_key({}, ALIYUN_KEY_ID, ALIYUN_KEY_SECRET)}
    file_env = {**base, "ALIBABA_CLOUD_CREDENTIALS_FILE": str(credentials)}
    section_env = {**file_env, "CREDCTL_ACR_SECTION": "other"}
    cli_env = {**base, "CREDCTL_ACR_CLI_CONFIG": str(config), "CREDCTL_ACR_CLI_PROFILE": "team"}
    role_env = {**file_env, "CREDCTL_ACR_ROLE_ARN": ROLE, "CREDCTL_ACR_EXTERNAL_ID": "e1"}
    chain_env = {**base, "CREDCTL_ACR_ROLE_ARN": ROLE, "CREDCTL_ACR_ROLE_SOURCE": "chain"}
    prints = {
        name: identity.fingerprint(identity.effective_environ(env))
        for name, env in (
            ("file", file_env),
            ("section", section_env),
            ("cli", cli_env),
            ("role", role_env),
            ("role-e2", {**role_env, "CREDCTL_ACR_EXTERNAL_ID": "e2"}),
            ("chain", chain_env),
        )
    }
    assert len(set(prints.values())) == len(prints)
    assert prints["file"].startswith(f"file:{credentials}:default:")
    assert prints["section"].startswith(f"file:{credentials}:other:")
    assert prints["cli"].startswith(f"cli:{config}:team:")
    assert prints["role"] == f"role:{ROLE}:e1:{prints['file']}"
    assert prints["chain"] == f"role:{ROLE}::env:{ALIYUN_KEY_ID}"  # the chain's base: by choice, the environment
    for secret in SECRETS:
        assert all(secret not in fingerprint for fingerprint in prints.values())
    # a profile's own source alone: the environment's key is dropped for every kind but the chain's role
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" not in identity.effective_environ(cli_env)
    assert identity.effective_environ(chain_env)["ALIBABA_CLOUD_ACCESS_KEY_ID"] == ALIYUN_KEY_ID
    missing = {**role_env, "ALIBABA_CLOUD_CREDENTIALS_FILE": str(tmp_path / "gone.ini")}
    assert identity.fingerprint(missing) == f"missing:{tmp_path / 'gone.ini'}"


# --- what was there before kinds -----------------------------------------------------------------------


def test_a_wrapper_and_record_from_before_kinds_keep_working(aliyun, tmp_path):
    """The wrapper and settings record add-profile wrote before profiles had kinds, byte for byte."""
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    credentials = write_credentials(tmp_path / "team1.ini", KEY2_ID, KEY2_SECRET)
    env = world_env(tmp_path, aliyun)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / WRAPPER.format("team1")
    wrapper.write_text(
        "#!/bin/sh\n"
        "# credctl ACR profile team1: docker-credential-acr-helper with one Alibaba Cloud account.\n"
        "# Made by `credctl acr add-profile`; remove it with `credctl acr remove-profile team1`.\n"
        "export CREDCTL_ACR_PROFILE=team1\n"
        f"export ALIBABA_CLOUD_CREDENTIALS_FILE={shlex.quote(str(credentials))}\n"
        f'exec {shlex.quote(str(world.BIN / "docker-credential-acr-helper"))} "$@"\n'
    )
    wrapper.chmod(0o755)
    record = {"credentials_file": str(credentials), "wrapper": str(wrapper), "registries": [EE]}
    path = tmp_path / "config" / "credctl" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"acr_profiles": {"team1": record}}))

    assert served(as_docker(env, "team1"), EE, aliyun) == KEY2_ID
    no_token_for_the_environment(aliyun)
    [row] = json.loads(credctl(env, "acr", "list-profiles", "--json").stdout)
    assert (row["kind"], row["summary"], row["wrapper_present"]) == ("file", str(credentials), True)
    assert credctl(env, "acr", "remove-profile", "team1").returncode == 0
    assert not wrapper.exists()


def test_a_cli_profile_that_cannot_serve_never_falls_back_to_the_environment(aliyun, tmp_path):
    config = write_cli_config(tmp_path / "cli.json", ak("dev", "LTAI5tUnknownToTheFake", "whatever-secret"))
    env = world_env(tmp_path, aliyun)  # the environment's key would work
    assert add(env, tmp_path, "dev", "--cli-profile", "dev", "--cli-config", str(config)).returncode == 0
    line = helper_error(as_docker(env, "dev"))
    assert "InvalidAccessKeyId.NotFound" in line and "whatever-secret" not in line
    assert aliyun.issued == [] and cache_files(tmp_path) == []
    assert {r.access_key_id for r in aliyun.requests} == {"LTAI5tUnknownToTheFake"}


def test_health_names_each_kind_and_a_missing_file(tmp_path):
    from credctl.acr import login

    config = write_cli_config(tmp_path / "cli.json", ak("team"))
    cli_env = {"HOME": str(tmp_path), "CREDCTL_ACR_PROFILE": "p", "CREDCTL_ACR_CLI_CONFIG": str(config)}
    role_env = {**cli_env, "CREDCTL_ACR_ROLE_ARN": ROLE}
    assert login.health(cli_env) == (True, "Alibaba Cloud credentials from cli")
    assert login.health(role_env) == (True, "Alibaba Cloud credentials from role")
    gone = str(tmp_path / "gone.json")
    for env in (cli_env, role_env):
        assert login.health({**env, "CREDCTL_ACR_CLI_CONFIG": gone}) == (
            False,
            f"the profile's credentials file or CLI config {gone} is not there (or not a file)",
        )
