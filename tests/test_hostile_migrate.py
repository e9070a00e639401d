"""`credctl migrate` (and `setup --migrate`) never lose a login: not the store's, not one
written to config.json while they run.

Real parts only: the installed credctl, our docker-credential-pass over a real pass store with
a real gpg key, and (for the races) a docker-credential-racer on PATH that forwards every call to
that helper and, during `store`, replaces config.json the way a concurrent `docker login` or
`docker logout` does (a new file renamed over it).
"""

import json
import stat
from pathlib import Path

import pytest
import world
from world import HUB, b64, cli_env, credctl, one_error_line, write

PASS = world.ours("docker-credential-pass")
LIVE, STALE = ("live-user", "live-pw-1"), ("old-user", "stale-pw-0")
NEW_LOGIN = {"auth": b64("new-user:new-pw-2")}  # what the concurrent docker login writes


def stale_config(registry: str = "reg.example", **more: object) -> dict:
    return {"auths": {registry: {"auth": b64(":".join(STALE))}}, "credsStore": "pass", **more}


def helper_get(env: dict[str, str], registry: str, program: str = PASS) -> tuple[str, str]:
    result = world.run_helper(program, "get", registry, env)
    assert result.returncode == 0, result.stdout
    answer = json.loads(result.stdout)
    return answer["Username"], answer["Secret"]


def dumped(data: dict) -> bytes:
    return json.dumps(data, indent="\t").encode()


@pytest.fixture
def store_env(pass_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """An initialised, empty pass store; credctl's shell around it."""
    return cli_env(tmp_path, pass_env, REGISTRY_AUTH_FILE=str(tmp_path / "containers" / "auth.json"))


# --- a stale plaintext copy never replaces the store's login ----------------------------------------

KEPT = (
    "reg.example: docker-credential-pass already holds a login for it (user live-user), the one Docker uses "
    "(with a store set for a registry Docker ignores the file's copy): kept it, removed the plaintext copy"
)


def test_migrate_keeps_the_login_the_store_holds(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, dumped(stale_config()))
    world.store_in_pass(store_env, "reg.example", *LIVE)

    result = credctl(store_env, "--config", str(config_dir), "migrate")

    assert (result.returncode, result.stderr) == (0, "")
    assert helper_get(store_env, "reg.example") == LIVE
    assert config.read_bytes() == dumped({"auths": {"reg.example": {}}, "credsStore": "pass"})
    lines = result.stdout.splitlines()
    assert KEPT in lines
    assert any("reg.example" in line and "kept-store" in line for line in lines), result.stdout
    assert lines[-1] == f"✓ kept 1 login(s) the store already held; removed their plaintext copies from {config}"
    world.assert_no_secret([STALE[1], LIVE[1]], result.stdout)


def test_migrate_keeps_docker_hub_login_held_under_another_hub_key(store_env, config_dir):
    """Docker Hub goes by several keys; a login under any of them is the store's login."""
    config = config_dir / "config.json"
    write(config, dumped(stale_config(HUB)))
    world.store_in_pass(store_env, "docker.io", *LIVE)

    result = credctl(store_env, "--config", str(config_dir), "migrate")

    assert (result.returncode, result.stderr) == (0, "")
    assert helper_get(store_env, "docker.io") == LIVE
    assert config.read_bytes() == dumped({"auths": {HUB: {}}, "credsStore": "pass"})
    assert "kept-store" in result.stdout


def test_setup_migrate_keeps_the_login_the_store_holds(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, dumped(stale_config()))
    world.store_in_pass(store_env, "reg.example", *LIVE)

    args = ("setup", "--store", "pass", "--no-podman", "--migrate", "--yes")
    result = credctl(store_env, "--config", str(config_dir), *args)

    assert (result.returncode, result.stderr) == (0, "")
    assert helper_get(store_env, "reg.example") == LIVE
    assert config.read_bytes() == dumped({"auths": {"reg.example": {}}, "credsStore": "pass"})
    assert KEPT in result.stdout.splitlines()


def test_prefer_plaintext_stores_the_file_login_over_the_store(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, dumped(stale_config()))
    world.store_in_pass(store_env, "reg.example", *LIVE)

    result = credctl(store_env, "--config", str(config_dir), "migrate", "--prefer-plaintext")

    assert (result.returncode, result.stderr) == (0, "")
    assert helper_get(store_env, "reg.example") == STALE
    assert config.read_bytes() == dumped({"auths": {"reg.example": {}}, "credsStore": "pass"})
    assert result.stdout.splitlines()[-1] == f"✓ moved 1 credential(s) out of {config}"


def test_a_login_docker_does_not_read_from_the_store_is_not_overwritten(store_env, config_dir):
    """No credsStore: Docker reads the plaintext, and the store's other login for the registry
    may serve another config. Neither is thrown away unasked: the file keeps its login."""
    config = config_dir / "config.json"
    before = dumped({"auths": {"reg.example": {"auth": b64(":".join(STALE))}}})
    write(config, before)
    world.store_in_pass(store_env, "reg.example", *LIVE)

    result = credctl(store_env, "--config", str(config_dir), "migrate", "--to", "pass")

    assert result.returncode == 1
    assert one_error_line(result) == "error: 1 of 1 credential(s) stay in plaintext: see the table above\n"
    assert (
        "failed: docker-credential-pass holds another login for reg.example (user live-user); "
        "`credctl migrate --prefer-plaintext` stores this one over it"
    ) in result.stdout
    assert helper_get(store_env, "reg.example") == LIVE
    assert config.read_bytes() == before


# --- a config.json changed while migrate runs ---------------------------------------------------------

RACER = """#!/bin/sh
# Forwards to the real helper; during `store`, replaces config.json as docker does (rename).
if [ "$1" = store ]; then
    cp "$RACE_WITH" "$RACE_CONFIG.racing" && mv "$RACE_CONFIG.racing" "$RACE_CONFIG"
fi
exec "$REAL_HELPER" "$@"
"""


def racing_env(store_env: dict[str, str], tmp_path: Path, config: Path, racing: bytes) -> dict[str, str]:
    folder = tmp_path / "racer-bin"
    folder.mkdir()
    racer = folder / "docker-credential-racer"
    racer.write_text(RACER)
    racer.chmod(stat.S_IRWXU)
    (tmp_path / "racing.json").write_bytes(racing)
    env = world.on_path(store_env, folder)
    return {**env, "RACE_WITH": str(tmp_path / "racing.json"), "RACE_CONFIG": str(config), "REAL_HELPER": PASS}


def race_config(race_entry: dict | None) -> dict:
    auths = {"calm.example": {"auth": b64("calm:calm-pw")}}
    if race_entry is not None:
        auths = {"race.example": race_entry, **auths}
    return {"auths": auths, "credsStore": "pass", "credHelpers": {"race.example": "racer"}}


def test_a_login_written_while_migrate_runs_survives(store_env, tmp_path, config_dir):
    config = config_dir / "config.json"
    write(config, dumped(race_config({"auth": b64(":".join(STALE))})))
    racing = dumped(race_config(NEW_LOGIN))
    env = racing_env(store_env, tmp_path, config, racing)

    result = credctl(env, "--config", str(config_dir), "migrate")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    expected = race_config(NEW_LOGIN)
    expected["auths"]["calm.example"] = {}
    assert config.read_bytes() == dumped(expected)
    assert json.loads(config.read_bytes())["auths"]["race.example"] == NEW_LOGIN
    assert result.stderr.splitlines() == [
        f"warning: race.example: its entry in {config} changed while migrate ran (a new login?): "
        "left as it is, not stripped",
        "error: 1 of 2 credential(s) stay in plaintext: see the table above",
    ]
    assert "changed meanwhile" in result.stdout
    assert helper_get(store_env, "calm.example") == ("calm", "calm-pw")


def test_an_entry_removed_while_migrate_runs_is_no_crash(store_env, tmp_path, config_dir):
    config = config_dir / "config.json"
    write(config, dumped(race_config({"auth": b64(":".join(STALE))})))
    env = racing_env(store_env, tmp_path, config, dumped(race_config(None)))

    result = credctl(env, "--config", str(config_dir), "migrate")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    expected = race_config(None)
    expected["auths"]["calm.example"] = {}
    assert config.read_bytes() == dumped(expected)
    assert result.stderr.splitlines() == [
        f"warning: race.example: its entry left {config} while migrate ran (a logout?): "
        "nothing stripped; docker-credential-racer keeps its copy",
        f"error: 1 of 2 entries left {config} while migrate ran: see the table above",
    ]
    assert "removed meanwhile" in result.stdout


def test_an_entry_another_migrate_stripped_meanwhile_counts_as_moved(store_env, tmp_path, config_dir):
    """Two migrates at once: the one that strips second finds the secret gone already, and that is done."""
    config = config_dir / "config.json"
    write(config, dumped(race_config({"auth": b64(":".join(STALE))})))
    env = racing_env(store_env, tmp_path, config, dumped(race_config({})))

    result = credctl(env, "--config", str(config_dir), "migrate")

    assert (result.returncode, result.stderr) == (0, "")
    expected = race_config({})
    expected["auths"]["calm.example"] = {}
    assert config.read_bytes() == dumped(expected)
    assert result.stdout.splitlines()[-1] == f"✓ moved 2 credential(s) out of {config}"


def test_setup_writes_nothing_when_a_login_lands_while_it_runs(store_env, tmp_path, config_dir):
    """setup would set credsStore, and Docker would then ignore the login written meanwhile."""
    config = config_dir / "config.json"
    start = race_config({"auth": b64(":".join(STALE))})
    del start["credsStore"]
    write(config, dumped(start))
    racing = {**start, "auths": {**start["auths"], "race.example": NEW_LOGIN}}
    env = racing_env(store_env, tmp_path, config, dumped(racing))

    result = credctl(env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--yes")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"warning: race.example: its entry in {config} changed while migrate ran (a new login?): "
        "left as it is, not stripped",
        f"error: {config} changed while setup ran: nothing was written; run `credctl setup` again",
    ]
    assert config.read_bytes() == dumped(racing)


def test_an_empty_answer_is_no_login_to_keep(store_env, config_dir):
    """Debian's Go docker-credential-pass answers a key it lacks with an empty login, exit 0."""
    world.need(world.GO_PASS)
    config = config_dir / "config.json"
    write(config, dumped(stale_config()))
    env = {**store_env, "PATH": "/usr/bin:/bin"}  # docker-credential-pass is Go's

    result = credctl(env, "--config", str(config_dir), "migrate")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1] == f"✓ moved 1 credential(s) out of {config}"
    assert helper_get(store_env, "reg.example", world.GO_PASS) == STALE
