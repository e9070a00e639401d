"""A credsStore or credHelpers value names a helper, never a path: credctl runs what Docker runs.

Docker looks up docker-credential-<value> on PATH, so a config file holding "./evil.sh" makes
docker run nothing. credctl's commands once ran ./evil.sh itself (and piped a password into it).
The real docker CLIs show what docker does; credctl list, migrate and verify must do the same.
"""

import json
import subprocess
from pathlib import Path

import pytest
import world
from world import b64

from credctl.errors import ConfigError
from credctl.names import helper_program

NOBODY = "127.0.0.1:9"  # loopback, nothing listening
EVIL = "#!/bin/sh\ncat > {marker}\n"


@pytest.mark.parametrize("value", ["./evil.sh", "/tmp/evil", "sub/evil", "", "a\0b"])
def test_a_value_with_a_path_names_no_helper(value):
    with pytest.raises(ConfigError) as raised:
        helper_program(value)
    assert (
        str(raised.value)
        == f"{value!r} is not a helper name: Docker runs docker-credential-<name> from PATH, never a path"
    )


@pytest.mark.parametrize("value", ["pass", "acr-helper-team1", "desktop.exe", "ecr-login"])
def test_a_name_is_the_program_docker_runs(value):
    assert helper_program(value) == f"docker-credential-{value}"


class Planted:
    """A user whose config.json names ./evil.sh as credsStore, with that script in the folder they
    run commands from (it records whatever it is given in a marker file)."""

    def __init__(self, tmp_path: Path) -> None:
        self.cwd = tmp_path / "work"
        self.cwd.mkdir()
        self.marker = tmp_path / "evil-ran"
        evil = self.cwd / "evil.sh"
        evil.write_text(EVIL.format(marker=self.marker))
        evil.chmod(0o755)
        self.env = world.docker_env(world.cli_env(tmp_path), tmp_path)
        self.config = Path(self.env["DOCKER_CONFIG"]) / "config.json"
        self.data = {"auths": {NOBODY: {"auth": b64("u:pw")}}, "credsStore": "./evil.sh"}
        self.config.write_text(json.dumps(self.data, indent="\t"))

    def credctl(self, *args: str):
        return world.credctl(self.env, *args, cwd=self.cwd)


def test_docker_runs_nothing_for_a_path_in_credsstore(docker_cli, tmp_path):
    planted = Planted(tmp_path)
    subprocess.run(
        [docker_cli, "manifest", "inspect", "--insecure", f"{NOBODY}/x/y:1"],
        env=planted.env,
        cwd=planted.cwd,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert not planted.marker.exists()


def test_list_and_verify_run_nothing_for_a_path_in_credsstore(tmp_path):
    planted = Planted(tmp_path)

    listed = planted.credctl("list", "--json")
    verified = planted.credctl("verify", "--json")

    assert not planted.marker.exists()
    assert listed.returncode == 0, listed.stderr
    notes = {row["note"] for row in json.loads(listed.stdout) if row["via"] == "credsStore"}
    assert notes == {
        "cannot list: './evil.sh' is not a helper name: Docker runs docker-credential-<name> from PATH, never a path"
    }
    assert verified.returncode == 1
    assert not any(
        row["status"] == "ok" and row["target"] == NOBODY
        for row in json.loads(verified.stdout)
        if row["check"] == "credentials"
    )


def test_migrate_gives_no_password_to_a_path_in_credsstore(tmp_path):
    planted = Planted(tmp_path)

    migrate = planted.credctl("migrate", "--yes")

    assert not planted.marker.exists()
    assert migrate.returncode == 1
    assert "'./evil.sh' is not a helper name" in migrate.stdout + migrate.stderr
    assert json.loads(planted.config.read_text()) == planted.data
