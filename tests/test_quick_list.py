"""`credctl list` and `credctl list --json` run without the Typer app (credctl.cli.listing, from
credctl.cli.run): the same output, bytes and exit status as the command the app runs, which
`credctl --config DIR list` still reaches (the root's option needs the app).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import world
from world import importtime_modules


def docker_config(tmp_path: Path, config: dict) -> Path:
    folder = tmp_path / "docker"
    folder.mkdir(mode=0o700)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


AUTH = "dXNlcjpwYXNzd29yZA=="  # user:password
CONFIGS = {
    "plaintext and a missing helper": {
        "auths": {"registry.example": {"auth": AUTH}},
        "credHelpers": {"ghcr.io": "nosuchhelper"},
    },
    "nothing configured": {},
    "a login store": {"credsStore": "nosuchstore", "credHelpers": {"quay.io": ""}},
}


@pytest.mark.parametrize("args", [["list"], ["list", "--json"]], ids=["table", "json"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_list_without_the_app_is_the_apps_list(tmp_path, config, args):
    folder = docker_config(tmp_path, config)
    env = world.cli_env(tmp_path, DOCKER_CONFIG=str(folder), COLUMNS="200")
    quick = world.credctl(env, *args)
    through_the_app = world.credctl(env, "--config", str(folder), *args)
    assert (quick.stdout, quick.stderr, quick.returncode) == (
        through_the_app.stdout,
        through_the_app.stderr,
        through_the_app.returncode,
    )
    assert quick.stdout  # a table, a JSON list or the line saying there is nothing


def test_an_unreadable_config_is_one_line_and_status_1(tmp_path):
    folder = tmp_path / "docker"
    folder.mkdir(mode=0o700)
    (folder / "config.json").write_text("{not json")
    env = world.cli_env(tmp_path, DOCKER_CONFIG=str(folder))
    quick = world.credctl(env, "list")
    through_the_app = world.credctl(env, "--config", str(folder), "list")
    assert quick.returncode == through_the_app.returncode == 1
    assert quick.stderr == through_the_app.stderr
    assert quick.stderr.startswith("error: ") and quick.stderr.count("\n") == 1


def test_list_loads_neither_typer_nor_rich(tmp_path):
    folder = docker_config(tmp_path, CONFIGS["plaintext and a missing helper"])
    env = world.cli_env(tmp_path, DOCKER_CONFIG=str(folder))
    shown = subprocess.run(
        [sys.executable, "-X", "importtime", world.ours("credctl"), "list"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert b"registry.example" in shown.stdout
    modules = set(importtime_modules(shown.stderr))
    assert "credctl.cli.listing" in modules
    assert {name.split(".")[0] for name in modules}.isdisjoint({"typer", "click", "rich", "pydantic", "subprocess"})


@pytest.mark.parametrize("args", [["list"], ["list", "--json"]], ids=["table", "json"])
def test_a_reader_that_has_left_ends_list_quietly(tmp_path, args):
    """`credctl list | true`: stdout's reader is gone before the table is written. Exit 1 and
    not a word on stderr, as click ends a command then (no traceback, no `error: Broken pipe`)."""
    folder = docker_config(tmp_path, {"credHelpers": {"ghcr.io": "nosuchhelper"}})
    env = world.cli_env(tmp_path, DOCKER_CONFIG=str(folder))
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [world.ours("credctl"), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=writer,
            capture_output=False,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (1, b"")
