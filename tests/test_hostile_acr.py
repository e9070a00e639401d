"""Identity under a hostile world: an ACR profile never answers for another account, and the
token cache never hands one credential source's token to another.

Everything runs in a private network namespace (world.AliyunNetwork): the signature-checking
fake API on its loopback, and an ECS metadata stand-in on 100.100.100.200 whose instance role
is another account — the fallback the SDK's default chain reaches last. No request can leave
for a real cloud endpoint.
"""

import os
from pathlib import Path

import pytest
import world
from world import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    EE,
    HELPER,
    KEY2_ID,
    KEY2_SECRET,
    acr_env,
    answer,
    cache_files,
    clean,
    on_path,
    run,
    write_cli_config,
    write_credentials,
)

CREDCTL = world.ours("credctl")
PROFILE = "team1"
WRAPPER = f"docker-credential-acr-helper-{PROFILE}"
INSTANCE_ROLE = "node-role"  # the ECS instance's own RAM role: another account than any profile's
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1"
OIDC_ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1"
ROLES = {1: "acs:ram::1234567890123456:role/team-one", 2: "acs:ram::6543210987654321:role/team-two"}
KEYS = {1: (ALIYUN_KEY_ID, ALIYUN_KEY_SECRET), 2: (KEY2_ID, KEY2_SECRET)}
ECS_ROLES = {1: "ecs-role-one", 2: "ecs-role-two"}
# A file the SDK cannot use, for each kind of file the chain reads.
BROKEN_INI = "[team2]\ntype = access_key\naccess_key_id = LTAI5tOther\naccess_key_secret = other-do-not-leak\n"
BROKEN_CLI = '{"current": "gone", "profiles": []}'


# --- item 12: a profile uses only its own credentials file -----------------------------------------


def make_profile(network, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Profile team1 made by `credctl acr add-profile` for a good credentials file, on an ECS
    instance whose role the fake accepts, with everything another tool might have left in the
    environment: keys, ALIBABA_CLOUD_PROFILE, the CLI's config.json. Returns (env, file)."""
    network.metadata.add_role(INSTANCE_ROLE, network.fake, instance=True)
    credentials = write_credentials(tmp_path / "accounts" / "team1.ini")
    bin_dir = tmp_path / "bin"
    env = on_path(acr_env(tmp_path, network.fake, ALIBABA_CLOUD_ECS_METADATA_DISABLED=None), bin_dir)
    args = ["acr", "add-profile", PROFILE, "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)]
    made = run([CREDCTL, *args, "--registry", EE], b"", env)
    assert made.returncode == 0, made.stdout + made.stderr
    write_cli_config(tmp_path / "home", KEY2_ID, KEY2_SECRET)
    other = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY2_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY2_SECRET}
    return {**env, **other, "ALIBABA_CLOUD_PROFILE": "team2"}, credentials


def break_file(path: Path, how: str) -> None:
    if how == "moved":
        path.rename(path.with_suffix(".old"))
    elif how == "a folder":
        path.unlink()
        path.mkdir()
    elif how == "a FIFO":  # read by the SDK, it would block the helper (and Docker) for ever
        path.unlink()
        os.mkfifo(path)
    elif how == "not utf-8":
        path.write_bytes(b"[default]\ntype = access_key\naccess_key_id = \xff\xfe\n")
    else:
        path.write_text(BROKEN_FILES[how])


BROKEN_FILES = {
    "another section": BROKEN_INI,
    "no section header": f"type = access_key\naccess_key_id = {ALIYUN_KEY_ID}\n",
    "no keys": "[default]\ntype = access_key\n",
    "unknown type": f"[default]\ntype = magic\naccess_key_id = {ALIYUN_KEY_ID}\n",
    "no type": f"[default]\naccess_key_id = {ALIYUN_KEY_ID}\naccess_key_secret = {ALIYUN_KEY_SECRET}\n",
}
WHAT_IS_WRONG = {
    "moved": "cannot be read: No such file or directory",
    "a folder": "is not a regular file",
    "a FIFO": "is not a regular file",
    "not utf-8": "is not UTF-8 text",
    "another section": "has no [default] section, the only one a profile uses",
    "no section header": "is not an INI file (line 1)",
    "no keys": "has no access_key_id or access_key_secret in [default]",
    "unknown type": "has no type credctl can use in [default] "
    "(access_key, ram_role_arn, oidc_role_arn, ecs_ram_role, rsa_key_pair)",
    "no type": "has no type credctl can use in [default] "
    "(access_key, ram_role_arn, oidc_role_arn, ecs_ram_role, rsa_key_pair)",
}


@pytest.mark.parametrize("how", sorted(WHAT_IS_WRONG))
def test_a_profile_whose_file_cannot_serve_fails_and_never_falls_back(aliyun_network, tmp_path, how):
    env, credentials = make_profile(aliyun_network, tmp_path)
    break_file(credentials, how)

    got = aliyun_network.run([WRAPPER, "get"], EE, env)

    clean(got, "other-do-not-leak")
    line = f"ACR profile {PROFILE}: its credentials file {credentials} {WHAT_IS_WRONG[how]}\n"
    assert (got.returncode, got.stdout.decode()) == (1, line)
    assert aliyun_network.fake.issued == []  # not the instance role's, the CLI's or the environment's
    assert cache_files(tmp_path) == []


def test_a_profile_uses_its_default_section_whatever_alibaba_cloud_profile_says(aliyun_network, tmp_path):
    env, credentials = make_profile(aliyun_network, tmp_path)
    with credentials.open("a") as file:  # the section ALIBABA_CLOUD_PROFILE=team2 names, another account
        file.write(f"[team2]\ntype = access_key\naccess_key_id = {KEY2_ID}\naccess_key_secret = {KEY2_SECRET}\n")

    got = aliyun_network.run([WRAPPER, "get"], EE, env)

    clean(got)
    [token] = aliyun_network.fake.tokens_for(ALIYUN_KEY_ID)
    assert (got.returncode, got.stdout) == (0, answer(EE, token))
    assert [issued.access_key_id for issued in aliyun_network.fake.issued] == [ALIYUN_KEY_ID]


# --- item 13: the token cache never gives one source's token to another ----------------------------

# The SDK's chain in its order; each source can hold account 1 or 2.
KINDS = ["env", "oidc", "cli", "file-env", "home-ini", "ecs"]


class Chain:
    """Builds the credential sources of accounts 1 and 2 in one network, and says whose a token is."""

    def __init__(self, network, tmp_path: Path) -> None:
        self.network, self.tmp_path = network, tmp_path
        network.metadata.add_role(INSTANCE_ROLE, network.fake, instance=True)
        self.ecs_keys = {n: network.metadata.add_role(ECS_ROLES[n], network.fake) for n in ECS_ROLES}
        network.fake.add_oidc_provider(OIDC_PROVIDER, OIDC_ISSUER)
        for role in ROLES.values():
            network.fake.add_oidc_role(role, OIDC_PROVIDER)

    def env(self, home: Path, **extra: str | None) -> dict[str, str]:
        """A helper's environment with this HOME (and the shared cache), the instance role reachable."""
        home.mkdir(parents=True, exist_ok=True)
        return acr_env(
            self.tmp_path, self.network.fake, HOME=str(home), ALIBABA_CLOUD_ECS_METADATA_DISABLED=None, **extra
        )

    def source(self, kind: str, account: int, home: Path) -> dict[str, str]:
        """The environment variables (and files in home) that make kind hold account's credentials."""
        key_id, secret = KEYS[account]
        if kind == "env":
            return {"ALIBABA_CLOUD_ACCESS_KEY_ID": key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret}
        if kind == "oidc":
            token = self.network.fake.service_account_token(OIDC_PROVIDER, "ci", f"puller-{account}")
            token_file = self.tmp_path / f"oidc-token-{account}"
            world.write(token_file, token.encode())
            return {**self.oidc(account), "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file)}
        if kind == "cli":
            write_cli_config(home, key_id, secret)
        elif kind == "file-env":
            path = write_credentials(self.tmp_path / "accounts" / f"{account}.ini", key_id, secret)
            return {"ALIBABA_CLOUD_CREDENTIALS_FILE": str(path)}
        elif kind == "home-ini":
            write_credentials(home / ".alibabacloud" / "credentials", key_id, secret)
        elif kind == "ecs":
            return {"ALIBABA_CLOUD_ECS_METADATA": ECS_ROLES[account]}
        return {}

    def oidc(self, account: int) -> dict[str, str]:
        return {
            "ALIBABA_CLOUD_ROLE_ARN": ROLES[account],
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER,
            "ALIBABA_CLOUD_STS_ENDPOINT": self.network.fake.url,
        }

    def principal(self, kind: str, account: int) -> str:
        """Who the fake sees asking: an access key, a RAM role, an ECS role's key."""
        if kind == "oidc":
            return ROLES[account]
        if kind == "ecs":
            return self.ecs_keys[account]
        return KEYS[account][0]

    def owner(self, token: str) -> str:
        """The principal a token was issued to."""
        [key_id] = [issued.access_key_id for issued in self.network.fake.issued if issued.token == token]
        session = self.network.fake.identity_of(key_id)
        return session.role_arn if session else key_id

    def get(self, env: dict[str, str]) -> str:
        """`get` that must succeed; returns the token."""
        result = self.network.run([HELPER, "get"], EE, env)
        clean(result, "other-do-not-leak", *(f"ecs-secret-{role}-do-not-leak" for role in ECS_ROLES.values()))
        assert result.returncode == 0, result.stdout
        token = result.stdout.decode().rsplit('"Secret":"', 1)[1].removesuffix('"}\n')
        assert result.stdout == answer(EE, token)
        return token


BLOCKED = [
    ("oidc", "cli"),
    ("oidc", "file-env"),
    ("oidc", "home-ini"),
    ("oidc", "ecs"),
    ("cli", "file-env"),
    ("cli", "home-ini"),
    ("cli", "ecs"),
    ("home-ini", "ecs"),
    ("file-env", "ecs"),
]


def place_blocker(chain: Chain, kind: str, home: Path) -> dict[str, str]:
    """kind present where the SDK's chain looks, but unable to serve, so the chain falls through
    to a later source; returns its environment variables."""
    if kind == "oidc":  # the token file is gone
        return {**chain.oidc(1), "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(chain.tmp_path / "no-such-token")}
    if kind == "cli":  # `current` names a profile the file does not have
        path = home / ".aliyun" / "config.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        world.write(path, BROKEN_CLI.encode())
        return {}
    if kind == "home-ini":
        path = home / ".alibabacloud" / "credentials"
        path.parent.mkdir(parents=True, exist_ok=True)
        world.write(path, BROKEN_INI.encode())
        return {}
    path = chain.tmp_path / "broken.ini"
    world.write(path, BROKEN_INI.encode())
    return {"ALIBABA_CLOUD_CREDENTIALS_FILE": str(path)}


@pytest.mark.parametrize(("broken", "kind"), BLOCKED, ids=[f"{b}-then-{k}" for b, k in BLOCKED])
def test_a_source_that_cannot_serve_never_makes_two_accounts_share_a_token(aliyun_network, tmp_path, broken, kind):
    chain = Chain(aliyun_network, tmp_path)
    home = tmp_path / "home"  # one home: the source that cannot serve is the same file for both
    blocked = place_blocker(chain, broken, home)

    seen = {}
    for account in (1, 2, 1, 2):
        env = chain.env(home, **blocked, **chain.source(kind, account, home))
        token = chain.get(env)
        assert chain.owner(token) == chain.principal(kind, account), (account, seen)
        seen.setdefault(token, account)
        assert seen[token] == account  # a token only ever goes to the account it was issued to
    # a later source answered: its token was handed out, not kept under the earlier one's key
    assert cache_files(tmp_path) == []


def test_every_source_of_the_chain_keeps_its_own_tokens(aliyun_network, tmp_path):
    chain = Chain(aliyun_network, tmp_path)
    setups = []
    for kind in KINDS:
        for account in (1, 2):
            home = tmp_path / "homes" / f"{kind}-{account}"
            setups.append((kind, account, chain.env(home, **chain.source(kind, account, home))))

    first = {}
    for kind, account, env in setups:  # every source after every other, all in one cache
        token = chain.get(env)
        assert chain.owner(token) == chain.principal(kind, account), (kind, account)
        first[kind, account] = token
    assert len(set(first.values())) == len(setups)

    before = len(aliyun_network.fake.issued)
    for kind, account, env in reversed(setups):  # and before every other: each its own, from the cache
        assert chain.get(env) == first[kind, account], (kind, account)
    assert len(aliyun_network.fake.issued) == before
    assert len(cache_files(tmp_path)) == len(setups)


def test_a_credentials_file_edited_to_another_account_gets_that_accounts_token(aliyun_network, tmp_path):
    """The cache key follows the file's content (inode, size, change times): an edit is a new source."""
    chain = Chain(aliyun_network, tmp_path)
    home = tmp_path / "home"
    credentials = home / ".alibabacloud" / "credentials"
    for account in (1, 2):
        write_credentials(credentials, *KEYS[account])
        os.utime(credentials, ns=(0, 0))  # the same mtime and size: only the change time tells
        token = chain.get(chain.env(home))
        assert chain.owner(token) == KEYS[account][0]
