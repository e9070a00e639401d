"""`credctl setup`, `map`, `unmap`, `list` and `migrate` for real.

The installed console script runs as a subprocess in throwaway homes; credentials go through
the real docker-credential-pass (ours) into a real pass store with a real gpg key (pass_env).
"""

import json
import stat
from pathlib import Path

import pytest
import world
from world import HUB, assert_no_secret, b64, cli_env, credctl, layout, one_error_line, unchanged, write

PASS = world.ours("docker-credential-pass")
NOSUCH = "docker-credential-nosuch not found on PATH"
NOT_ON_PATH = (
    "warning: docker-credential-{} is not on PATH (this process's PATH, which a Docker started from here inherits): "
    "install it, or change the config to a helper you have\n"
)
NO_ACR_HELPER = NOT_ON_PATH.format("acr-helper-team9")


# --- helpers -----------------------------------------------------------------------------------


def pass_store(env: dict[str, str], registry: str, username: str, secret: str) -> None:
    data = json.dumps(creds(registry, username, secret)) + "\n"
    result = world.run_helper(PASS, "store", data, env)
    assert result.returncode == 0, result.stdout


def pass_get(env: dict[str, str], registry: str) -> dict[str, str]:
    result = world.run_helper(PASS, "get", registry, env)
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout)


def pass_list(env: dict[str, str]) -> dict[str, str]:
    result = world.run_helper(PASS, "list", "unused", env)
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout)


def creds(server_url: str, username: str, secret: str) -> dict[str, str]:
    """A helper's `get` answer."""
    return {"ServerURL": server_url, "Username": username, "Secret": secret}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, podman_file: Path) -> dict[str, str]:
    """No pass store: a helper call into pass fails."""
    return cli_env(tmp_path, REGISTRY_AUTH_FILE=str(podman_file), PASSWORD_STORE_DIR=str(tmp_path / "no-store"))


@pytest.fixture
def store_env(pass_env: dict[str, str], tmp_path: Path, podman_file: Path) -> dict[str, str]:
    """An initialised, empty pass store with a passphrase-less gpg key."""
    return cli_env(tmp_path, pass_env, REGISTRY_AUTH_FILE=str(podman_file))


# --- map / unmap -------------------------------------------------------------------------------


@pytest.mark.parametrize("helper", ["pass", "docker-credential-pass"])
def test_map_writes_the_helper_suffix(env, config_dir, helper):
    result = credctl(env, "--config", str(config_dir), "map", "https://reg.example:5000/v2/", helper)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"✓ reg.example:5000 → docker-credential-pass in {config_dir / 'config.json'}\n"
    assert (config_dir / "config.json").read_bytes() == b'{\n\t"credHelpers": {\n\t\t"reg.example:5000": "pass"\n\t}\n}'


def test_map_replaces_an_existing_entry(env, config_dir):
    config = config_dir / "config.json"
    write(config, b'{\n\t"credHelpers": {\n\t\t"a.example": "old",\n\t\t"b.example": "pass"\n\t}\n}\n')

    result = credctl(env, "--config", str(config_dir), "map", "a.example", "pass")

    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == b'{\n\t"credHelpers": {\n\t\t"a.example": "pass",\n\t\t"b.example": "pass"\n\t}\n}\n'


def test_map_with_podman_writes_each_file_with_its_own_hub_key(env, config_dir, podman_file, tmp_path):
    result = credctl(env, "--config", str(config_dir), "map", "docker.io", "pass", "--podman")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"✓ {HUB} → docker-credential-pass in {config_dir / 'config.json'}",
        f"✓ docker.io → docker-credential-pass in {podman_file}",
        # Nothing routed Podman's logins: credctl's drop-in (tests/test_podman_dropin.py) does now.
        f"✓ {dropin_of(tmp_path)}: podman, buildah and skopeo log in through docker-credential-pass",
    ]
    assert (
        config_dir / "config.json"
    ).read_bytes() == f'{{\n\t"credHelpers": {{\n\t\t"{HUB}": "pass"\n\t}}\n}}'.encode()
    assert podman_file.read_bytes() == layout('{\n    "credHelpers": {\n        "docker.io": "pass"\n    }\n}')
    assert stat.S_IMODE(podman_file.stat().st_mode) == 0o600


def test_map_without_podman_leaves_podmans_file_alone(env, config_dir, podman_file):
    podman_file.parent.mkdir()
    write(podman_file, b'{"auths": {}}')

    result = credctl(env, "--config", str(config_dir), "map", "docker.io", "pass")

    assert result.returncode == 0, result.stderr
    assert podman_file.read_bytes() == b'{"auths": {}}'


@pytest.mark.parametrize("helper", ["bad name", "docker-credential-", "", "-pass", "acr/helper", "pass;rm", "é"])
def test_map_refuses_a_bad_helper_name(env, config_dir, helper):
    result = credctl(env, "--config", str(config_dir), "map", "--", "reg.example", helper)

    assert world.usage_error(result, "map") == (
        f"{helper!r} is not a helper name: give the suffix of a docker-credential-* program, e.g. pass"
    )
    assert not (config_dir / "config.json").exists()


def test_map_warns_about_a_helper_that_is_not_on_path(env, config_dir):
    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "nosuch")

    assert result.returncode == 0
    assert result.stderr == NOT_ON_PATH.format("nosuch")
    assert (config_dir / "config.json").read_bytes() == b'{\n\t"credHelpers": {\n\t\t"reg.example": "nosuch"\n\t}\n}'


def test_unmap_removes_the_entry_and_an_emptied_credhelpers(env, config_dir):
    config = config_dir / "config.json"
    write(
        config,
        b'{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"a.example": "pass",\n\t\t"b.example": "x"\n\t},\n\t"z": 1\n}\n',
    )

    first = credctl(env, "--config", str(config_dir), "unmap", "https://a.example/v2/")
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == f"✓ a.example no longer mapped in {config}\n"
    assert config.read_bytes() == b'{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"b.example": "x"\n\t},\n\t"z": 1\n}\n'

    second = credctl(env, "--config", str(config_dir), "unmap", "b.example")
    assert second.returncode == 0, second.stderr
    assert config.read_bytes() == b'{\n\t"auths": {},\n\t"z": 1\n}\n'


def dropin_of(tmp_path: Path) -> Path:
    """credctl's registries.conf.d drop-in for cli_env's HOME."""
    return tmp_path / "home" / ".config" / "containers" / "registries.conf.d" / "90-credctl.conf"


def test_unmap_with_podman(env, config_dir, podman_file, tmp_path):
    assert credctl(env, "--config", str(config_dir), "map", "docker.io", "pass", "--podman").returncode == 0
    podman_file.write_bytes(b'{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"docker.io": "pass"\n\t}\n}')

    result = credctl(env, "--config", str(config_dir), "unmap", "index.docker.io", "--podman")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"✓ {HUB} no longer mapped in {config_dir / 'config.json'}",
        f"✓ docker.io no longer mapped in {podman_file}",
        f"✓ {dropin_of(tmp_path)}: removed",  # map wrote it for docker.io alone
        f"podman login writes logins in plaintext to {tmp_path / 'containers' / 'auth.json'} again",
    ]
    assert not dropin_of(tmp_path).exists()
    assert (config_dir / "config.json").read_bytes() == b"{}"
    assert podman_file.read_bytes() == b'{\n\t"auths": {}\n}'


def test_unmap_of_an_unmapped_registry_has_nothing_to_do(env, config_dir):
    config = config_dir / "config.json"
    write(config, b'{"credHelpers": {"a.example": "pass"}}')
    before = config.stat()

    result = credctl(env, "--config", str(config_dir), "unmap", "b.example")
    missing = credctl(env, "--config", str(config_dir / "none"), "unmap", "b.example")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"b.example was not mapped in {config}: nothing to do\n"
    unchanged(config, before, b'{"credHelpers": {"a.example": "pass"}}')
    assert (missing.returncode, missing.stderr) == (0, "")
    assert "nothing to do" in missing.stdout
    assert not (config_dir / "none" / "config.json").exists()


# --- list --------------------------------------------------------------------------------------

HUB_SECRET, STORED_SECRET, PLAIN_SECRET, TOKEN = "hub-secret-1", "stored-secret-2", "plain-secret-3", "id-token-4"
LIST_SECRETS = [HUB_SECRET, STORED_SECRET, PLAIN_SECRET, TOKEN, b64(f"plainuser:{PLAIN_SECRET}")]


@pytest.fixture
def listed(store_env, config_dir, podman_file) -> Path:
    """A config using every source: credsStore pass, a missing helper, plaintext auth and token."""
    pass_store(store_env, HUB, "hubuser", HUB_SECRET)
    pass_store(store_env, "stored.example", "storeduser", STORED_SECRET)
    config = config_dir / "config.json"
    data = {
        "auths": {
            HUB: {},
            "plain.example": {"auth": b64(f"plainuser:{PLAIN_SECRET}")},
            "tok.example": {"auth": b64("tokuser:"), "identitytoken": TOKEN},
        },
        "credsStore": "pass",
        "credHelpers": {"missing.example": "nosuch"},
    }
    write(config, json.dumps(data, indent="\t").encode())
    return config


def test_list_json_gives_every_source(store_env, listed):
    result = credctl(store_env, "--config", str(listed.parent), "list", "--json")

    assert (result.returncode, result.stderr) == (0, "")
    file, covered = str(listed), "plaintext in the file: ignored by Docker: a helper serves this registry"
    missing = "cannot list: docker-credential-nosuch list failed (exit status 127): " + NOSUCH
    assert json.loads(result.stdout) == [
        {"registry": "missing.example", "via": "credHelpers", "helper": "nosuch", "username": "", "file": file,
         "note": missing},
        {"registry": HUB, "via": "credsStore", "helper": "pass", "username": "hubuser", "file": file, "note": ""},
        {"registry": "stored.example", "via": "credsStore", "helper": "pass", "username": "storeduser", "file": file,
         "note": ""},
        {"registry": "plain.example", "via": "plaintext", "helper": "", "username": "plainuser", "file": file,
         "note": covered},
        {"registry": "tok.example", "via": "plaintext", "helper": "", "username": "<token>", "file": file,
         "note": covered},
    ]  # fmt: skip
    assert_no_secret(LIST_SECRETS, result.stdout, result.stderr)


def test_list_table_warns_about_plaintext_and_shows_no_secret(store_env, listed):
    result = credctl(store_env, "--config", str(listed.parent), "list")

    assert result.returncode == 0
    assert result.stderr == (
        "warning: some credentials are stored in plaintext: `credctl migrate` moves them into a secure store\n"
    )
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "Registry credentials"
    for registry, via, user in [
        ("missing.example", "credHelpers", ""),
        (HUB, "credsStore", "hubuser"),
        ("stored.example", "credsStore", "storeduser"),
        ("plain.example", "plaintext", "plainuser"),
        ("tok.example", "plaintext", "<token>"),
    ]:
        row = [line for line in lines if line.startswith(f"│ {registry} ")]
        assert len(row) == 1 and f"│ {via} " in row[0] and user in row[0], registry
    assert_no_secret(LIST_SECRETS, result.stdout, result.stderr)


def test_list_counts_docker_hub_under_either_key_for_podman(store_env, listed, podman_file):
    """Podman asks our helper for docker.io; it answers from Docker's https://index.docker.io/v1/ entry."""
    podman_file.parent.mkdir()
    write(podman_file, b'{"credHelpers": {"docker.io": "pass", "other.example": "pass"}}')
    assert pass_get(store_env, "docker.io")["Username"] == "hubuser"

    result = credctl(store_env, "--config", str(listed.parent), "list", "--json")

    assert result.returncode == 0, result.stderr
    rows = [row for row in json.loads(result.stdout) if row["file"] == str(podman_file)]
    assert rows == [
        {"registry": "docker.io", "via": "credHelpers", "helper": "pass", "username": "hubuser",
         "file": str(podman_file), "note": ""},
        {"registry": "other.example", "via": "credHelpers", "helper": "pass", "username": "",
         "file": str(podman_file), "note": "no credentials stored yet"},
    ]  # fmt: skip


def test_list_without_a_store(env, config_dir):
    config = config_dir / "config.json"
    data = {"auths": {"plain.example": {"username": "u", "password": PLAIN_SECRET}, "bad.example": {"auth": "YQ=="}}}
    write(config, json.dumps(data).encode())

    result = credctl(env, "--config", str(config_dir), "list", "--json")

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [
        {"registry": "plain.example", "via": "plaintext", "helper": "", "username": "u", "file": str(config),
         "note": "plaintext in the file: run `credctl migrate`"},
        {"registry": "bad.example", "via": "plaintext", "helper": "", "username": "?", "file": str(config),
         "note": "unreadable: an `auth` value does not hold user:password"},
    ]  # fmt: skip
    assert PLAIN_SECRET not in result.stdout


def test_list_of_nothing(env, config_dir):
    result = credctl(env, "--config", str(config_dir), "list")
    as_json = credctl(env, "--config", str(config_dir), "list", "--json")

    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "No registry credentials are configured. Start with `credctl setup`.\n",
        "",
    )
    assert (as_json.returncode, as_json.stdout) == (0, "[]\n")
    assert not (config_dir / "config.json").exists()


# --- migrate -----------------------------------------------------------------------------------

A_SECRET, B_SECRET, HUB_TOKEN = "pw-a<&>é", "pw:b", "hub-identity-token"
SECRETS = [A_SECRET, B_SECRET, HUB_TOKEN, b64(f"alice:{A_SECRET}"), b64(f"bob:{B_SECRET}"), "pw-a"]


def plaintext_config() -> bytes:
    """Two auth entries, one identity token, a `{}` marker, unknown fields everywhere."""
    data = {
        "auths": {
            "a.example": {"auth": b64(f"alice:{A_SECRET}"), "email": "alice@example.invalid", "weird": [1]},
            "b.example:5000": {"auth": b64(f"bob:{B_SECRET}")},
            HUB: {"auth": b64("hubuser:"), "identitytoken": HUB_TOKEN},
            "marker.example": {},
        },
        "currentContext": "default",
        "zzz": {"keep": True},
    }
    return json.dumps(data, indent="\t").encode()


MIGRATED = f"""
{{
    "auths": {{
        "a.example": {{
            "email": "alice@example.invalid",
            "weird": [
                1
            ]
        }},
        "b.example:5000": {{}},
        "{HUB}": {{}},
        "marker.example": {{}}
    }},
    "currentContext": "default",
    "zzz": {{
        "keep": true
    }},
    "credsStore": "pass"
}}
"""


def test_migrate_moves_every_secret_into_pass(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, plaintext_config(), 0o644)

    result = credctl(store_env, "--config", str(config_dir), "migrate", "--to", "pass")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1] == f"✓ moved 3 credential(s) out of {config}"
    assert config.read_bytes() == layout(MIGRATED)
    assert stat.S_IMODE(config.stat().st_mode) == 0o644
    assert_no_secret(SECRETS, config.read_text(), result.stdout)
    assert pass_get(store_env, "a.example") == creds("a.example", "alice", A_SECRET)
    assert pass_get(store_env, "b.example:5000") == creds("b.example:5000", "bob", B_SECRET)
    assert pass_get(store_env, HUB) == creds(HUB, "<token>", HUB_TOKEN)
    assert pass_list(store_env) == {"a.example": "alice", "b.example:5000": "bob", HUB: "<token>"}

    again = credctl(store_env, "--config", str(config_dir), "migrate")
    assert (again.returncode, again.stdout) == (0, f"No plaintext credentials in {config}: nothing to migrate.\n")


def test_migrate_uses_the_configured_store_without_to(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, b'{\n\t"credsStore": "pass",\n\t"auths": {\n\t\t"a.example": {\n\t\t\t"auth": "YTpi"\n\t\t}\n\t}\n}')

    result = credctl(store_env, "--config", str(config_dir), "migrate")

    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == b'{\n\t"credsStore": "pass",\n\t"auths": {\n\t\t"a.example": {}\n\t}\n}'
    assert pass_get(store_env, "a.example") == creds("a.example", "a", "b")


def test_migrate_dry_run_stores_and_writes_nothing(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, plaintext_config())
    before = config.stat()

    result = credctl(store_env, "--config", str(config_dir), "migrate", "--to", "pass", "--dry-run")

    assert (result.returncode, result.stderr) == (0, "")
    unchanged(config, before, plaintext_config())
    assert pass_list(store_env) == {}
    assert result.stdout.splitlines()[-1] == "Dry run: nothing was stored or written."
    assert '-\t\t\t"auth": "***",'.expandtabs() in result.stdout
    assert '-\t\t\t"identitytoken": "***"'.expandtabs() in result.stdout
    assert '+\t"credsStore": "pass"'.expandtabs() in result.stdout
    assert_no_secret(SECRETS, result.stdout)


def test_a_failing_store_removes_nothing(env, config_dir):
    """The pass store is not initialised, so `store` fails: the file stays byte for byte."""
    config = config_dir / "config.json"
    write(config, plaintext_config())
    before = config.stat()

    result = credctl(env, "--config", str(config_dir), "migrate", "--to", "pass")

    assert result.returncode == 1
    assert one_error_line(result) == "error: 3 of 3 credential(s) stay in plaintext: see the table above\n"
    assert result.stdout.count("failed: docker-credential-pass store failed (exit status 1)") == 3
    unchanged(config, before, plaintext_config())
    assert_no_secret(SECRETS, result.stdout)


def test_a_partial_migration_keeps_docker_reading_what_stays(store_env, config_dir):
    """One entry's helper is missing: the others move, but no credsStore hides the one left."""
    config = config_dir / "config.json"
    data = {
        "auths": {"a.example": {"auth": b64("alice:pw-a")}, "stuck.example": {"auth": b64("sam:pw-s")}},
        "credHelpers": {"stuck.example": "nosuch"},
    }
    write(config, json.dumps(data, indent="\t").encode())

    result = credctl(store_env, "--config", str(config_dir), "migrate", "--to", "pass")

    assert result.returncode == 1
    assert one_error_line(result) == "error: 1 of 2 credential(s) stay in plaintext: see the table above\n"
    expected = """
        {
            "auths": {
                "a.example": {},
                "stuck.example": {
                    "auth": "c2FtOnB3LXM="
                }
            },
            "credHelpers": {
                "stuck.example": "nosuch",
                "a.example": "pass"
            }
        }
    """
    assert config.read_bytes() == layout(expected)
    assert pass_get(store_env, "a.example")["Secret"] == "pw-a"


def test_migrate_of_username_and_password_leaves_an_empty_marker(store_env, config_dir):
    """A lone username left behind would be migrated again, with an empty password."""
    config = config_dir / "config.json"
    write(config, b'{"auths": {"up.example": {"username": "uu", "password": "pp"}}}')

    first = credctl(store_env, "--config", str(config_dir), "migrate", "--to", "pass")
    second = credctl(store_env, "--config", str(config_dir), "migrate", "--to", "pass")

    assert first.returncode == 0, first.stderr
    assert config.read_bytes() == b'{\n\t"auths": {\n\t\t"up.example": {}\n\t},\n\t"credsStore": "pass"\n}'
    assert second.stdout == f"No plaintext credentials in {config}: nothing to migrate.\n"
    assert pass_get(store_env, "up.example") == creds("up.example", "uu", "pp")


def test_migrate_without_a_store_asks_for_to(env, config_dir):
    config = config_dir / "config.json"
    write(config, plaintext_config())
    before = config.stat()

    result = credctl(env, "--config", str(config_dir), "migrate")

    assert result.returncode == 1
    assert one_error_line(result) == (
        "error: no secure store is configured for a.example: choose one with --to (pass, secretservice, keyring)\n"
    )
    unchanged(config, before, plaintext_config())


def test_migrate_refuses_an_unknown_store(env, config_dir):
    write(config_dir / "config.json", plaintext_config())

    result = credctl(env, "--config", str(config_dir), "migrate", "--to", "bogus")

    assert result.returncode == 2
    assert "choose one of pass, secretservice, keyring" in result.stderr
    assert (config_dir / "config.json").read_bytes() == plaintext_config()


# --- setup -------------------------------------------------------------------------------------

SETUP_ARGS = ("setup", "--store", "pass", "--map", "acr.example=acr-helper-team9", "--podman", "--migrate", "--yes")
SETUP_SECRETS = ["alice-secret-1", "hub-token-2", b64("alice:alice-secret-1")]
SETUP_BEFORE = layout(
    f"""
    {{
        "auths": {{
            "a.example": {{
                "auth": "{b64("alice:alice-secret-1")}"
            }},
            "{HUB}": {{
                "auth": "{b64("hubuser:")}",
                "identitytoken": "hub-token-2"
            }}
        }},
        "currentContext": "default"
    }}
    """
)
SETUP_DOCKER = layout(
    f"""
    {{
        "auths": {{
            "a.example": {{}},
            "{HUB}": {{}}
        }},
        "currentContext": "default",
        "credsStore": "pass",
        "credHelpers": {{
            "acr.example": "acr-helper-team9"
        }}
    }}
    """
)
# Podman's own credsStore is credctl's drop-in; its auth file names only the registries another helper serves.
SETUP_PODMAN = layout(
    """
    {
        "credHelpers": {
            "acr.example": "acr-helper-team9"
        }
    }
    """
)
SETUP_DROPIN = (
    "# Written by credctl (`credctl setup --podman`): podman, buildah and skopeo login store through\n"
    "# the first helper below, then fall back to the auth files (containers-auth.json).\n"
    "# Undo: `credctl unmap --podman-default`.\n"
    'credential-helpers = ["pass", "containers-auth.json"]\n'
)


def test_setup_writes_docker_and_podman_and_migrates(store_env, config_dir, podman_file, tmp_path):
    config = config_dir / "config.json"
    write(config, SETUP_BEFORE)

    result = credctl(store_env, "--config", str(config_dir), *SETUP_ARGS)

    assert result.returncode == 0, result.stderr
    assert result.stderr == NO_ACR_HELPER
    lines = result.stdout.splitlines()
    # The migration comes first: Docker ignores plaintext logins once credsStore is set.
    moved = lines.index(f"✓ moved 2 credential(s) out of {config}")
    assert lines[moved + 1 : moved + 4] == [
        f"✓ {config}: updated",
        f"✓ {dropin_of(tmp_path)}: updated: podman, buildah and skopeo log in through docker-credential-pass",
        f"✓ {podman_file}: updated",
    ]
    assert lines[-1] == "Docker now keeps credentials in docker-credential-pass. Check it all with `credctl verify`."
    assert config.read_bytes() == SETUP_DOCKER
    assert podman_file.read_bytes() == SETUP_PODMAN
    assert stat.S_IMODE(podman_file.stat().st_mode) == 0o600
    assert dropin_of(tmp_path).read_text() == SETUP_DROPIN
    assert pass_get(store_env, "a.example") == creds("a.example", "alice", "alice-secret-1")
    assert pass_get(store_env, HUB) == creds(HUB, "<token>", "hub-token-2")
    # What Podman will ask: docker.io, served from Docker's key.
    assert pass_get(store_env, "docker.io") == creds("docker.io", "<token>", "hub-token-2")
    assert_no_secret(SETUP_SECRETS, result.stdout, result.stderr)


def test_setup_twice_changes_nothing_the_second_time(store_env, config_dir, podman_file, tmp_path):
    config = config_dir / "config.json"
    write(config, SETUP_BEFORE)
    assert credctl(store_env, "--config", str(config_dir), *SETUP_ARGS).returncode == 0
    docker_before, podman_before = config.stat(), podman_file.stat()
    dropin_before = dropin_of(tmp_path).stat()

    again = credctl(store_env, "--config", str(config_dir), *SETUP_ARGS)

    assert (again.returncode, again.stderr) == (0, NO_ACR_HELPER)
    assert again.stdout.splitlines()[:3] == [
        f"✓ {config}: already set up",
        f"✓ {dropin_of(tmp_path)}: already set up",
        f"✓ {podman_file}: already set up",
    ]
    unchanged(config, docker_before, SETUP_DOCKER)
    unchanged(podman_file, podman_before, SETUP_PODMAN)
    unchanged(dropin_of(tmp_path), dropin_before, SETUP_DROPIN.encode())


def test_setup_dry_run_writes_nothing_and_shows_masked_diffs(store_env, config_dir, podman_file, tmp_path):
    config = config_dir / "config.json"
    write(config, SETUP_BEFORE)
    before = config.stat()

    result = credctl(store_env, "--config", str(config_dir), *SETUP_ARGS, "--dry-run")

    assert (result.returncode, result.stderr) == (0, "")
    unchanged(config, before, SETUP_BEFORE)
    assert not podman_file.exists()
    assert not podman_file.parent.exists()
    assert not (tmp_path / "home" / ".config").exists()
    assert pass_list(store_env) == {}
    out = result.stdout
    assert f"--- {config}\n+++ {config} (after)\n" in out
    assert f"--- {podman_file}\n+++ {podman_file} (after)\n" in out
    assert '+\t"credsStore": "pass",'.expandtabs() in out
    assert '+\t\t"acr.example": "acr-helper-team9"'.expandtabs() in out
    dropin = dropin_of(tmp_path)
    assert f"--- {dropin}\n+++ {dropin} (after)\n@@ -0,0 +1,4 @@\n" in out
    assert '+credential-helpers = ["pass", "containers-auth.json"]\n' in out
    assert '-\t\t\t"auth": "***"'.expandtabs() in out
    assert '-\t\t\t"identitytoken": "***"'.expandtabs() in out
    assert out.splitlines()[-1] == "Dry run: nothing was written."
    assert_no_secret(SETUP_SECRETS, out)


def test_setup_refuses_an_unknown_store(env, config_dir, podman_file):
    result = credctl(env, "--config", str(config_dir), "setup", "--store", "bogus", "--yes")

    assert result.returncode == 2
    assert "Invalid value for --store: choose one of pass, secretservice, keyring" in result.stderr
    assert not (config_dir / "config.json").exists() and not podman_file.exists()


def test_setup_refuses_a_store_that_cannot_work_here(tmp_path, config_dir, podman_file):
    env = cli_env(tmp_path, REGISTRY_AUTH_FILE=str(podman_file), XDG_RUNTIME_DIR="")
    assert "DBUS_SESSION_BUS_ADDRESS" not in env

    result = credctl(env, "--config", str(config_dir), "setup", "--store", "secretservice", "--podman", "--yes")

    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("error: the secretservice store cannot work here: no D-Bus session bus here")
    assert not (config_dir / "config.json").exists() and not podman_file.exists()


def test_setup_refuses_a_bad_map(store_env, config_dir):
    args = ("setup", "--store", "pass", "--map", "acr.example", "--yes")
    result = credctl(store_env, "--config", str(config_dir), *args)

    assert result.returncode == 2
    assert "'acr.example' is not REGISTRY=HELPER" in result.stderr
    assert not (config_dir / "config.json").exists()


def test_setup_off_a_terminal_picks_the_first_store_that_works(store_env, config_dir, podman_file):
    config = config_dir / "config.json"
    write(config, b'{\n\t"auths": {}\n}\n')

    result = credctl(store_env, "--config", str(config_dir), "setup", "--no-podman")  # no --yes: no terminal

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"✓ {config}: updated",
        "Docker now keeps credentials in docker-credential-pass. Check it all with `credctl verify`.",
    ]
    assert config.read_bytes() == b'{\n\t"auths": {},\n\t"credsStore": "pass"\n}\n'
    assert not podman_file.exists()


def test_setup_keeps_earlier_mappings_for_podman(store_env, config_dir, podman_file):
    """A registry Docker sends to another helper goes to that helper in Podman too, not to the store."""
    config = config_dir / "config.json"
    write(
        config, b'{"auths": {"acr.example": {}, "b.example": {}}, "credHelpers": {"acr.example": "acr-helper-team9"}}'
    )

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--podman", "--yes")

    assert result.returncode == 0, result.stderr
    assert podman_file.read_bytes() == layout(
        """
        {
            "credHelpers": {
                "acr.example": "acr-helper-team9"
            }
        }
        """
    )  # b.example goes to the store: credctl's drop-in routes it
