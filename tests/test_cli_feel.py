"""The CLI behaves like the tools its users know: -h, usage lines, registry names refused with one
line, Ctrl-C, and tables on a narrow terminal that never cut a path inside a name.

The installed `credctl` runs as a subprocess; the terminal tests give it a real pseudo-terminal
as its controlling terminal, so Ctrl-C is the byte a person types, turned into SIGINT by the
kernel's line discipline for the whole foreground process group.
"""

import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import world
from terminal import Terminal, screen
from world import CLI_MD, HUB, MAN_PAGE, cli_env, command_paths, credctl, need

from credctl import __version__
from credctl.cli.common import registry_problem

CREDCTL = world.ours("credctl")
TIMEOUT = 60  # seconds; a guard against hangs, not an expectation
# Typer's own spellings this CLI must not show: {registry} usage pieces, <str>-style types.
TYPER_METAVARS = re.compile(r"\{[a-z_]+\}|<(?:str|int|path|float|bool|list\[[a-z]+\])>")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, REGISTRY_AUTH_FILE=str(tmp_path / "no-podman" / "auth.json"))


# --- -h, usage lines, defaults ------------------------------------------------------------------


@pytest.mark.parametrize("path", command_paths())
def test_dash_h_is_help(env, path):
    words = path.split()[1:]
    long = credctl(env, *words, "--help")
    short = credctl(env, *words, "-h")
    assert (long.returncode, long.stderr) == (0, "")
    assert (short.returncode, short.stdout, short.stderr) == (0, long.stdout, "")
    assert re.search(r"^  -h, --help +Show this message and exit\.$", long.stdout, re.M), long.stdout


@pytest.mark.parametrize("path", command_paths())
def test_help_reads_like_other_tools(env, path):
    text = credctl(env, *path.split()[1:], "--help").stdout
    assert text.startswith(f"Usage: {path} [OPTIONS]")
    assert not TYPER_METAVARS.search(text), TYPER_METAVARS.search(text)
    flat = " ".join(text.split())
    for default in re.findall(r"\[default: ([^\]]+)\]", flat):
        assert f"(default: {default}" not in flat, f"{path}: default {default} stated twice"


@pytest.mark.parametrize("columns", ["80", "132", "400", "60", "", "0", "wide"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_root_help_without_the_app_is_the_apps(env, tmp_path, columns, flag):
    """`credctl --help` alone is printed from credctl/roothelp.py (generated from the app) where
    the width allows; with any other word before it, the Typer app prints it: the two agree."""
    env = {**env, "COLUMNS": columns}
    alone = credctl(env, flag)
    through_the_app = credctl(env, "--config", str(tmp_path / "docker"), flag)
    assert (alone.returncode, alone.stderr) == (0, "")
    assert (alone.stdout, alone.stderr) == (through_the_app.stdout, through_the_app.stderr)
    assert alone.stdout.startswith("Usage: credctl [OPTIONS] COMMAND [ARGS]...\n")


def test_version_without_the_app_is_the_apps(env, tmp_path):
    alone = credctl(env, "--version")
    through_the_app = credctl(env, "--config", str(tmp_path / "docker"), "--version")
    assert (alone.returncode, alone.stdout, alone.stderr) == (0, f"credctl {__version__}\n", "")
    assert (through_the_app.returncode, through_the_app.stdout) == (0, alone.stdout)


@pytest.mark.parametrize(
    "words, usage",
    [
        (["map"], "Usage: credctl map [OPTIONS] REGISTRY HELPER"),
        (["unmap"], "Usage: credctl unmap [OPTIONS] [REGISTRY]"),
        (["verify"], "Usage: credctl verify [OPTIONS] [REGISTRY]..."),
        (["acr", "add-profile"], "Usage: credctl acr add-profile [OPTIONS] NAME"),
        (["k8s", "pull-secret"], "Usage: credctl k8s pull-secret [OPTIONS] REGISTRY"),
        (["pass", "init"], "Usage: credctl pass init [OPTIONS]"),
    ],
)
def test_usage_lines(env, words, usage):
    result = credctl(env, *words, "-h")
    assert result.stdout.splitlines()[0] == usage


def test_arguments_and_options_are_named_in_capitals(env):
    lines = credctl(env, "map", "-h").stdout.splitlines()
    assert "  REGISTRY  Registry host[:port], or docker.io.  [required]" in lines
    assert "  HELPER    Helper suffix, e.g. pass or acr-helper-team1.  [required]" in lines
    text = " ".join(credctl(env, "pass", "init", "-h").stdout.split())
    assert "--name NAME Real name for --generate." in text
    assert "--email EMAIL Email for --generate." in text
    assert "--generate Generate a new" in text and "--no-generate" not in text
    text = " ".join(credctl(env, "acr", "add-profile", "-h").stdout.split())
    assert "--credentials-file FILE Alibaba" in text
    assert "--bin-dir DIR Where to write the helper. [default: ~/.local/bin]" in text


def test_a_missing_argument_is_named_as_usage_shows_it(env):
    result = credctl(env, "map", "a.example")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "Usage: credctl map [OPTIONS] REGISTRY HELPER"
    assert result.stderr.splitlines()[-1] == "Error: Missing argument 'HELPER'."


@pytest.mark.parametrize("document", [CLI_MD, MAN_PAGE], ids=["cli.md", "credctl.1"])
def test_generated_reference_has_no_typer_metavars(document):
    text = document.read_text().replace("\\-", "-")
    assert not TYPER_METAVARS.search(text), TYPER_METAVARS.search(text)
    assert "credctl map [OPTIONS] REGISTRY HELPER" in text.replace("\n", " ").replace(".B ", "")


# --- registry names -----------------------------------------------------------------------------

EXAMPLE = "give a host or host:port, e.g. registry.example.com or localhost:5000"
BAD_REGISTRIES = {
    "": f"the registry name is empty: {EXAMPLE}",
    "   ": f"the registry name is empty: {EXAMPLE}",
    "reg example": "'reg example' is not a registry name: it contains a space or a control character",
    " reg.example": "' reg.example' is not a registry name: it contains a space or a control character",
    "reg\texample": "'reg\\texample' is not a registry name: it contains a space or a control character",
    "reg\x1b.example": "'reg\\x1b.example' is not a registry name: it contains a space or a control character",
    "ftp://reg.example": "'ftp://reg.example' is not a registry name: only an http:// or https:// URL can name "
    "a registry",
    "https://": f"'https://' is not a registry name: {EXAMPLE}",
    "-reg.example": f"'-reg.example' is not a registry name: {EXAMPLE}",
    "reg_x.example": f"'reg_x.example' is not a registry name: {EXAMPLE}",
    "reg..example": f"'reg..example' is not a registry name: {EXAMPLE}",
    "reg.example:port": f"'reg.example:port' is not a registry name: {EXAMPLE}",
    "user@reg.example": f"'user@reg.example' is not a registry name: {EXAMPLE}",
    "reg.example/team/app": "'reg.example/team/app' names a repository, but credHelpers map whole registries: "
    "give reg.example",
    "docker.io/library/alpine": "'docker.io/library/alpine' names a repository, but credHelpers map whole "
    "registries: give docker.io",
    "https://reg.example:5000/v2/team": "'https://reg.example:5000/v2/team' names a repository, but credHelpers "
    "map whole registries: give reg.example:5000",
}


@pytest.mark.parametrize("registry", BAD_REGISTRIES, ids=repr)
@pytest.mark.parametrize("command", ["map", "unmap"])
def test_a_name_that_is_no_registry_is_refused(env, tmp_path, registry, command):
    config = tmp_path / "docker"
    args = [command, "--podman", "--", registry] + (["pass"] if command == "map" else [])
    result = credctl(env, "--config", str(config), *args)
    assert world.usage_error(result, command) == BAD_REGISTRIES[registry]
    assert not config.exists()
    assert not (tmp_path / "no-podman").exists()


def test_the_registry_is_checked_before_the_helper(env, tmp_path):
    result = credctl(env, "--config", str(tmp_path / "docker"), "map", "--", "", "")
    assert world.usage_error(result, "map") == f"the registry name is empty: {EXAMPLE}"


@pytest.mark.parametrize(
    "registry, key",
    [
        ("reg.example", "reg.example"),
        ("localhost:5000", "localhost:5000"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("[::1]:5000", "[::1]:5000"),
        ("https://reg.example:5000/v2/", "reg.example:5000"),
        ("http://reg.example/v1", "reg.example"),
        ("HTTPS://Reg.Example/V2/", "Reg.Example"),
        ("docker.io", HUB),
        ("index.docker.io/v1/", HUB),
        ("https://index.docker.io/v1/", HUB),
        ("my-team.cr.aliyuncs.com", "my-team.cr.aliyuncs.com"),
    ],
)
def test_registry_names_docker_uses_are_accepted(env, tmp_path, registry, key):
    config = tmp_path / "docker"
    result = credctl(env, "--config", str(config), "map", registry, "pass")
    assert (result.returncode, result.stdout) == (0, f"✓ {key} → docker-credential-pass in {config / 'config.json'}\n")
    assert json.loads((config / "config.json").read_text()) == {"credHelpers": {key: "pass"}}
    assert registry_problem(registry) is None


# --- Ctrl-C -------------------------------------------------------------------------------------


def on_terminal(env: dict[str, str], args: list[str], columns: int = 60) -> Terminal:
    """credctl on a pseudo-terminal that is its controlling terminal, 60 columns wide."""
    return Terminal([CREDCTL, *args], {**env, "COLUMNS": str(columns)}, columns=columns)


def test_ctrl_c_at_a_setup_prompt(env, tmp_path):
    terminal = on_terminal({**env, "NO_COLOR": "1"}, ["--config", str(tmp_path / "docker"), "setup"])
    terminal.read_until_prompt("Store for Docker's credentials", TIMEOUT)
    terminal.type(b"\x03")  # what Ctrl-C sends

    status = terminal.finish(TIMEOUT)

    assert status == 130
    prompt_line = screen(terminal.shown).splitlines()[-1]
    assert re.fullmatch(r"Store for Docker's credentials \[\w+\]: \^C", prompt_line), screen(terminal.shown)
    assert screen(terminal.shown).endswith("^C\n")
    assert "Aborted" not in screen(terminal.shown) and "Traceback" not in screen(terminal.shown)
    assert not (tmp_path / "docker").exists()


def test_ctrl_c_at_a_hidden_passphrase_prompt(env, tmp_path):
    """getpass turns echo off: after Ctrl-C the terminal echoes again and the line is ended."""
    need("gpg")
    home = world.make_gnupg_home()
    try:
        terminal = on_terminal(
            {**env, "GNUPGHOME": str(home), "NO_COLOR": "1"},
            ["pass", "init", "--generate", "--name", "N", "--email", "n@example.invalid"],
        )
        terminal.read_until_prompt("Passphrase for the new key (empty for none)", TIMEOUT)
        terminal.type(b"\x03")
        status = terminal.finish(TIMEOUT)
    finally:
        world.stop_agent(home)
    assert status == 130
    shown = screen(terminal.shown)
    assert shown.endswith(
        ("Passphrase for the new key (empty for none): \n", "Passphrase for the new key (empty for none): ^C\n")
    ), shown
    assert "Aborted" not in screen(terminal.shown) and "Traceback" not in screen(terminal.shown)


def test_ctrl_c_while_a_command_waits_for_a_helper(env, tmp_path):
    """A command that asks nothing (`credctl list`), interrupted while its helper runs."""
    bin_dir, started = tmp_path / "bin", tmp_path / "helper-started"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-slow"
    helper.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 600\n")
    helper.chmod(0o755)
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text('{"credsStore": "slow"}')
    terminal = on_terminal({**env, "PATH": f"{bin_dir}:{env['PATH']}"}, ["--config", str(config), "list"])
    deadline = time.monotonic() + TIMEOUT
    while not (started.exists() and started.read_text().strip()):
        assert time.monotonic() < deadline, "the helper never started"
        time.sleep(0.05)
    terminal.type(b"\x03")

    status = terminal.finish(TIMEOUT)

    assert status == 130
    assert screen(terminal.shown) in ("^C\n", "\n"), screen(terminal.shown)
    assert (config / "config.json").read_text() == '{"credsStore": "slow"}'


# --- tables on a narrow terminal ----------------------------------------------------------------


def shown_values(screen: str) -> list[tuple[str, set[int]]]:
    """What a table (or, on a terminal too narrow for it, its records) shows per cell group:
    each table column, or each record value, with its lines joined and the offsets where one
    line ended."""
    values: list[tuple[str, set[int]]] = []
    rows = [line.split("│")[1:-1] for line in screen.splitlines() if line.startswith("│")]
    for index in range(len(rows[0]) if rows else 0):
        text, breaks = "", set()
        for row in rows:
            text += row[index].strip()
            breaks.add(len(text))
        values.append((text, breaks))
    if rows:
        return values
    for line in screen.splitlines():  # records: "label  value", then indented continuations
        labelled = re.match(r"^\S.*?  +(\S.*)$", line)
        if labelled:
            values.append((labelled.group(1), {len(labelled.group(1))}))
        elif line.startswith(" ") and values:
            text = values[-1][0] + line.strip()
            values[-1] = (text, values[-1][1] | {len(text)})
    return values


def assert_path_whole(screen: str, path: str) -> None:
    """path is shown in one place and every line break inside it comes right after a '/'."""
    for text, breaks in shown_values(screen):
        at = text.find(path)
        if at >= 0:
            inside = sorted(b for b in breaks if at < b < at + len(path))
            assert all(text[b - 1] == "/" for b in inside), (path, [text[at:b] for b in inside], screen)
            return
    pytest.fail(f"{path} is shown nowhere:\n{screen}")


def assert_fits(screen: str, columns: int) -> None:
    assert max(len(line) for line in screen.splitlines() if not line.startswith("warning: ")) <= columns, screen


def assert_layout(screen: str, table: bool) -> None:
    assert ("┏" in screen) == table, screen


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    """A short base with long folder names below: paths that must wrap at 60 columns."""
    base = Path(tempfile.mkdtemp(prefix="cw", dir="/tmp"))
    deep = base / "a-rather-long-folder-name" / "another-long-folder"
    deep.mkdir(parents=True)
    yield deep
    subprocess.run(["rm", "-rf", str(base)], check=True)


@pytest.mark.parametrize("columns, table", [(120, True), (60, False)], ids=["table", "records"])
def test_narrow_list_keeps_paths_whole(env, deep, columns, table):
    config = deep / "docker"
    config.mkdir()
    (config / "config.json").write_text('{"credHelpers": {"registry.example.com": "nosuch"}}')
    terminal = on_terminal({**env, "NO_COLOR": "1"}, ["--config", str(config), "list"], columns)
    assert terminal.finish(TIMEOUT) == 0
    assert_layout(screen(terminal.shown), table)
    assert_fits(screen(terminal.shown), columns)
    assert_path_whole(screen(terminal.shown), str(config / "config.json"))


def test_a_narrow_record_shows_every_cell(env, deep):
    config = deep / "docker"
    config.mkdir()
    (config / "config.json").write_text('{"credHelpers": {"registry.example.com": "nosuch"}}')
    terminal = on_terminal({**env, "NO_COLOR": "1"}, ["--config", str(config), "list"], 60)
    assert terminal.finish(TIMEOUT) == 0
    base = str(deep.parent.parent)  # /tmp/cwXXXXXXXX: always 16 characters
    assert len(base) == 15
    assert screen(terminal.shown).splitlines() == [
        "Registry credentials",
        "registry  registry.example.com",
        "via       credHelpers",
        "helper    nosuch",
        "user      ",
        f"file      {base}/a-rather-long-folder-name/",
        "          another-long-folder/docker/config.json",
        "note      cannot list: docker-credential-nosuch list failed",
        "          (exit status 127): docker-credential-nosuch not",
        "          found on PATH",
    ]


@pytest.mark.parametrize("columns, table", [(160, True), (60, False)], ids=["table", "records"])
def test_narrow_acr_list_profiles_keeps_paths_whole(env, deep, columns, table):
    credentials = deep / "alibaba-credentials.ini"
    credentials.write_text("[default]\ntype = access_key\naccess_key_id = x\naccess_key_secret = y\n")
    credentials.chmod(0o600)
    bin_dir = deep / "bin"
    added = credctl(
        env, "acr", "add-profile", "team1", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)
    )
    assert added.returncode == 0, added.stderr
    terminal = on_terminal({**env, "NO_COLOR": "1"}, ["acr", "list-profiles"], columns)
    assert terminal.finish(TIMEOUT) == 0
    assert_layout(screen(terminal.shown), table)
    assert_fits(screen(terminal.shown), columns)
    assert_path_whole(screen(terminal.shown), str(credentials))
    assert_path_whole(screen(terminal.shown), str(bin_dir / "docker-credential-acr-helper-team1"))


@pytest.mark.parametrize("columns", [60, 100])
def test_narrow_verify_keeps_paths_whole(env, deep, columns):
    config = deep / "docker"
    terminal = on_terminal({**env, "NO_COLOR": "1"}, ["--config", str(config), "verify"], columns)
    terminal.finish(TIMEOUT)
    assert "credctl verify" in screen(terminal.shown)
    assert_fits(screen(terminal.shown), columns)
    assert_path_whole(screen(terminal.shown), str(config / "config.json"))
