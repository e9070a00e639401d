"""The generated shell completions, CLI reference and man page (scripts/gen_docs.py).

The checked-in files must be what the current app generates, the completion scripts must load
in a real shell, and live completion through the installed `credctl` must offer the commands
and the dynamic values (stores, mapped registries, ACR profiles).
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import world
from world import CLI_MD, MAN_PAGE, ROOT, command_paths, need

from credctl.stores import LOGIN_STORES, STORES, program_name

GEN_DOCS = ROOT / "scripts" / "gen_docs.py"
BASH_FILE = ROOT / "completions" / "credctl.bash"


def completion_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A throwaway HOME, config and cache; no DOCKER_CONFIG unless given."""
    env = world.without_bus(tmp_path)
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"):
        env.pop(name, None)
    env["PATH"] = f"{world.BIN}{os.pathsep}{env.get('PATH', os.defpath)}"
    return {**env, **extra}


def complete_bash(env: dict[str, str], line: str) -> list[str]:
    """What `credctl` answers bash for the TAB at the end of line (as the bash script asks)."""
    words = line.split(" ")
    result = subprocess.run(
        [world.ours("credctl")],
        env={**env, "_CREDCTL_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [word for word in result.stdout.splitlines() if word]  # bash drops the empty line of "none"


# --- the checked-in files are current ----------------------------------------------------------


def test_generated_files_are_up_to_date():
    """A change to a command, option or help text without `python scripts/gen_docs.py` fails here."""
    env = {k: v for k, v in os.environ.items() if k != "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"}
    result = subprocess.run(
        [sys.executable, str(GEN_DOCS), "--check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + "\nrun: python scripts/gen_docs.py"


def test_check_reports_a_stale_file(tmp_path: Path, monkeypatch):
    sys.path.insert(0, str(GEN_DOCS.parent))
    try:
        import gen_docs
    finally:
        sys.path.remove(str(GEN_DOCS.parent))
    files = gen_docs.generate()
    monkeypatch.setattr(gen_docs, "ROOT", tmp_path)
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    assert gen_docs.main(["--check"]) == 0
    (tmp_path / "man/credctl.1").write_text(files["man/credctl.1"].replace("Docker", "Dokker"), encoding="utf-8")
    (tmp_path / "completions/credctl.fish").unlink()
    assert gen_docs.stale(files) == ["completions/credctl.fish", "man/credctl.1"]
    assert gen_docs.main(["--check"]) == 1
    assert gen_docs.main([]) == 0  # rewrites them
    assert gen_docs.stale(files) == []


# --- the completion scripts -------------------------------------------------------------------


def test_bash_file_registers_completion_for_credctl():
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", f"source {BASH_FILE} && complete -p credctl"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "complete -o default -F _credctl_completion credctl"


def test_bash_function_completes_through_the_installed_credctl(tmp_path: Path):
    """The sourced function, called as bash calls it on TAB, fills COMPREPLY from `credctl`."""
    script = (
        f"source {BASH_FILE}\n"
        'COMP_WORDS=(credctl setup --store ""); COMP_CWORD=3\n'
        "_credctl_completion credctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env=completion_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == list(LOGIN_STORES)


def test_zsh_and_fish_files_are_typer_scripts_for_credctl():
    zsh = (ROOT / "completions" / "_credctl").read_text()
    assert zsh.startswith("#compdef credctl\n")  # what compinit looks for in $fpath
    assert "compdef _credctl_completion credctl" in zsh
    assert "_CREDCTL_COMPLETE=complete_zsh credctl" in zsh
    fish = (ROOT / "completions" / "credctl.fish").read_text()
    assert "complete --command credctl" in fish
    assert "_CREDCTL_COMPLETE=complete_fish" in fish


# --- live completion through the installed credctl --------------------------------------------


def test_commands_complete_and_helper_does_not(tmp_path: Path):
    env = completion_env(tmp_path)
    expected = [path.split(" ")[1] for path in command_paths() if path.count(" ") == 1]
    offered = complete_bash(env, "credctl ")
    assert sorted(offered) == sorted(expected)
    assert {"setup", "map", "unmap", "list", "migrate", "verify", "pass", "acr"} <= set(offered)
    assert "helper" not in offered
    assert complete_bash(env, "credctl he") == []
    assert complete_bash(env, "credctl acr ") == ["add-profile", "list-profiles", "remove-profile"]


def test_stores_complete_for_setup_and_migrate(tmp_path: Path):
    env = completion_env(tmp_path)
    assert complete_bash(env, "credctl setup --store ") == ["pass", "secretservice", "keyring"]
    assert complete_bash(env, "credctl migrate --to ") == list(LOGIN_STORES)
    assert complete_bash(env, "credctl migrate --to s") == ["secretservice"]
    assert "acr" not in complete_bash(env, "credctl setup --store ")


def write_docker_config(directory: Path, data: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(data, indent="\t"))
    return directory


def test_unmap_completes_the_mapped_registries(tmp_path: Path):
    docker = write_docker_config(
        tmp_path / "docker",
        {
            "auths": {"plain.example.com": {}},
            "credsStore": "pass",
            "credHelpers": {"registry.example.com:5000": "pass", "team.cr.aliyuncs.com": "acr-helper-team1"},
        },
    )
    env = completion_env(tmp_path, DOCKER_CONFIG=str(docker))
    assert complete_bash(env, "credctl unmap ") == ["registry.example.com:5000", "team.cr.aliyuncs.com"]
    assert complete_bash(env, "credctl unmap t") == ["team.cr.aliyuncs.com"]
    # zsh and fish get the helper as the description (and zsh the colon escaped)
    zsh = subprocess.run(
        [world.ours("credctl")],
        env={**env, "_CREDCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "credctl unmap "},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '"registry.example.com\\\\:5000":"docker-credential-pass"' in zsh.stdout
    fish = subprocess.run(
        [world.ours("credctl")],
        env={
            **env,
            "_CREDCTL_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            "_TYPER_COMPLETE_ARGS": "credctl unmap team",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fish.stdout.splitlines() == ["team.cr.aliyuncs.com\tdocker-credential-acr-helper-team1"]


def test_unmap_completion_follows_config_option(tmp_path: Path):
    """--config DIR (given before the command, as credctl takes it) wins over $DOCKER_CONFIG."""
    env_dir = write_docker_config(tmp_path / "from-env", {"credHelpers": {"env.example.com": "pass"}})
    option_dir = write_docker_config(tmp_path / "from-option", {"CredHelpers": {"option.example.com": "pass"}})
    env = completion_env(tmp_path, DOCKER_CONFIG=str(env_dir))
    assert complete_bash(env, f"credctl --config {option_dir} unmap ") == ["option.example.com"]
    assert complete_bash(env, "credctl unmap ") == ["env.example.com"]


def test_unmap_completion_of_a_missing_or_broken_config_is_empty(tmp_path: Path):
    """~/.docker by default (HOME is tmp_path here); nothing there, or nothing readable: no values, no error."""
    env = completion_env(tmp_path)
    assert complete_bash(env, "credctl unmap ") == []
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text('{"credHelpers": {"broken.example.com": ')
    assert complete_bash(env, "credctl unmap ") == []
    (tmp_path / ".docker" / "config.json").write_text('{"credHelpers": ["not", "an", "object"]}')
    assert complete_bash(env, "credctl unmap ") == []
    write_docker_config(tmp_path / ".docker", {"credHelpers": {"home.example.com": "pass"}})
    assert complete_bash(env, "credctl unmap ") == ["home.example.com"]


def test_acr_remove_profile_completes_profile_names(tmp_path: Path):
    config_home = tmp_path / "xdg-config"
    (config_home / "credctl").mkdir(parents=True)
    profiles = {
        "team1": {"credentials_file": "/x/a.ini", "wrapper": "/x/w1", "registries": ["a.cr.aliyuncs.com"]},
        "prod": {"credentials_file": "/x/b.ini", "wrapper": "/x/w2", "registries": []},
    }
    (config_home / "credctl" / "settings.json").write_text(json.dumps({"acr_profiles": profiles}))
    env = completion_env(tmp_path, XDG_CONFIG_HOME=str(config_home))
    assert complete_bash(env, "credctl acr remove-profile ") == ["prod", "team1"]
    assert complete_bash(env, "credctl acr remove-profile t") == ["team1"]
    (config_home / "credctl" / "settings.json").write_text("not json")
    assert complete_bash(env, "credctl acr remove-profile ") == []


# --- docs/cli.md ------------------------------------------------------------------------------


def test_reference_documents_every_command():
    text = CLI_MD.read_text()
    headings = set(re.findall(r"^#{2,3} (credctl[a-z0-9 -]*)$", text, re.MULTILINE))
    for path in command_paths():
        assert path in headings, f"docs/cli.md has no section for `{path}`"
        assert f"```text\n{path} [OPTIONS]" in text  # its usage line


def test_reference_documents_every_helper_program():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    text = CLI_MD.read_text()
    helpers = [name for name in scripts if name.startswith("docker-credential-")]
    assert sorted(helpers) == sorted(program_name(store) for store in STORES)
    for name in scripts:
        assert f"`{name}`" in text, f"docs/cli.md does not mention {name}"
    for store in STORES:
        assert f"(stores/{store}.md)" in text
        assert (ROOT / "docs" / "stores" / f"{store}.md").is_file()
    assert "(helper-protocol.md)" in text
    for status in ("| 0 |", "| 1 |", "| 2 |"):
        assert status in text


def test_hidden_helper_is_documented_only_as_a_helper_program():
    text = CLI_MD.read_text()
    helpers_at = text.index("## Helper programs")
    assert "credctl helper" not in text[:helpers_at]
    assert "### credctl helper" in text[helpers_at:]


def test_reference_shows_options_as_help_does():
    text = CLI_MD.read_text()
    for row in ("`--store STORE`", "`--to STORE`", "`-y, --yes`", "`--podman` / `--no-podman`", "`--config DIR`"):
        assert row in text
    assert "| `--bin-dir DIR` | `~/.local/bin` |" in text
    assert "| `--name NAME` | required |" in text  # k8s pull-secret
    assert "| `--credentials-file FILE` |  |" in text  # one of three kinds of add-profile: not required


# --- man/credctl.1 ----------------------------------------------------------------------------

MAN_SECTIONS = [
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "OPTIONS",
    "COMMANDS",
    "HELPER PROGRAMS",
    "EXIT STATUS",
    "ENVIRONMENT",
    "FILES",
    "SEE ALSO",
]
MAN_ENVIRONMENT = [
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "PASSWORD_STORE_DIR",
    "GNUPGHOME",
    "PYTHON_KEYRING_BACKEND",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "CREDCTL_ACR_ENDPOINT",
    "CREDCTL_ACR_NO_CACHE",
    "CREDCTL_ACR_TIMEOUT",
    "CREDCTL_PROMPT_TIMEOUT",
    "CREDCTL_LOCK_TIMEOUT",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "NO_COLOR",
]
MACROS = {".TH", ".SH", ".SS", ".PP", ".TP", ".B", ".BR", ".br", ".nh", ".ad", '.\\"'}


def man_escaped(text: str) -> str:
    return text.replace("-", "\\-")


def test_man_page_structure():
    page = MAN_PAGE.read_text()
    lines = page.splitlines()
    assert lines[1].startswith(".TH CREDCTL 1 ")
    sections = [line[4:].strip('"') for line in lines if line.startswith(".SH ")]
    assert sections == MAN_SECTIONS
    for path in command_paths()[1:]:
        assert f'.SS "{man_escaped(path)}"' in lines
    for name in MAN_ENVIRONMENT:
        assert f"\\fB{name}\\fR" in lines
    for store in STORES:
        assert f"\\fB{man_escaped(program_name(store))}\\fR \\fIACTION\\fR" in lines
    assert "\\fBcredctl helper\\fR \\fISTORE\\fR \\fIACTION\\fR" in lines


def test_man_page_escapes_roff_specials():
    for number, line in enumerate(MAN_PAGE.read_text().splitlines(), 1):
        if line.startswith(('.\\"', ".TH")):
            continue
        if line[:1] in (".", "'"):
            assert line.split(" ", 1)[0] in MACROS, f"line {number} starts an unknown request: {line!r}"
        assert not re.search(r"(?<!\\)-", line), f"line {number} has an unescaped hyphen: {line!r}"
        assert line.isascii(), f"line {number} is not ASCII (non-ASCII must be \\[uXXXX]): {line!r}"
        # every backslash starts an escape this generator writes
        assert not re.search(r"\\(?!-|e|&|f[BIR]|\[u[0-9A-F]{4,5}\])", line), f"line {number}: {line!r}"


def test_man_page_renders():
    need("groff")
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-P-cbu", str(MAN_PAGE)],
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stderr == "", result.stderr  # no warnings
    text = result.stdout
    for expected in (
        "credctl - keep container-registry credentials safe",
        "credctl acr add-profile [OPTIONS] NAME",
        "--podman / --no-podman",
        "docker-credential-acr-helper ACTION",
        "CREDCTL_ACR_NO_CACHE",
        '{"ServerURL":\u2026,"Username":\u2026,"Secret":\u2026}',
    ):
        assert expected in text, expected
    assert "\\" not in text  # no escape leaked through


@pytest.mark.parametrize("shell_file", ["credctl.bash", "_credctl", "credctl.fish"])
def test_completion_files_name_the_generator(shell_file: str):
    assert "Generated by scripts/gen_docs.py" in (ROOT / "completions" / shell_file).read_text()
