"""A TAB after command names only is answered from credctl/completiontable.py (credctl.quickcomplete),
without the Typer app: the answer must be Typer's own, byte for byte, for every command path, every
start of every name offered there, and every shell; anything else must go to the app.

Typer is the reference: each case is also answered by the app itself, in this process, through the
environment the generated bash, zsh and fish scripts set.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
import world
from world import importtime_modules

from credctl.cli.app import app
from credctl.quickcomplete import answer

VARIABLES = ("_CREDCTL_COMPLETE", "COMP_WORDS", "COMP_CWORD", "_TYPER_COMPLETE_ARGS", "_TYPER_COMPLETE_FISH_ACTION")
SHELLS = ("bash", "zsh", "fish get-args", "fish is-args")


def tab_environment(shell: str, words: list[str], incomplete: str) -> dict[str, str]:
    """What completions/credctl.{bash,fish} and _credctl set for `credctl WORDS INCOMPLETE<TAB>`."""
    typed = ["credctl", *words, incomplete]
    if shell == "bash":  # "${COMP_WORDS[*]}" under IFS=$'\n'; the word at the cursor may be empty
        return {"_CREDCTL_COMPLETE": "complete_bash", "COMP_WORDS": "\n".join(typed), "COMP_CWORD": str(len(words) + 1)}
    line = " ".join(typed)  # zsh's "${words[1,$CURRENT]}", fish's (commandline -cp)
    if shell == "zsh":
        return {"_CREDCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    action = shell.split(" ")[1]
    return {"_CREDCTL_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": action, "_TYPER_COMPLETE_ARGS": line}


def typer_answer(monkeypatch, capsys, env: dict[str, str]) -> tuple[str, int]:
    """What the Typer app prints for this TAB, and its exit status, on a narrow terminal: a help
    is one line at every width (credctl.cli.complete), so the table holds every terminal's answer."""
    with monkeypatch.context() as patch:
        for name in VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("COLUMNS", "40")
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "argv", ["credctl"])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            app(prog_name="credctl")  # as a console script named credctl finds it (not pytest's name)
    return capsys.readouterr().out, exited.value.code or 0


def quick_answer(env: dict[str, str]) -> tuple[str, int] | None:
    return answer({name.encode(): value.encode() for name, value in env.items()})


def tab_cases() -> list[tuple[list[str], str, bool]]:
    """(command words, word at the cursor, whether the table answers) for every command path of
    the app and every start (up to 3 characters, and whole) of every name offered there."""
    cases = []

    def walk(command, words: list[str]) -> None:
        subcommands = getattr(command, "commands", {})
        names = [*subcommands]
        for param in command.params:
            names += [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
        starts = {"", "-", "--", "x", "Z", "_", ".", "9"}
        for name in names:
            starts |= {name[:length] for length in (1, 2, 3)} | {name}
        takes_arguments = any(param.param_type_name == "argument" for param in command.params)
        for start in sorted(starts):
            cases.append((words, start, not takes_arguments or start.startswith("-")))
        for name, sub in subcommands.items():
            walk(sub, [*words, name])

    walk(typer.main.get_command(app), [])
    return cases


def test_every_name_tab_is_answered_as_typer_answers_it(monkeypatch, capsys):
    compared = 0
    for words, incomplete, answered in tab_cases():
        for shell in SHELLS:
            env = tab_environment(shell, words, incomplete)
            quick = quick_answer(env)
            where = f"{shell}: credctl {' '.join(words)} {incomplete!r}<TAB>"
            if not answered:
                assert quick is None, where  # an argument's completion: the app's callback answers
                continue
            assert quick == typer_answer(monkeypatch, capsys, env), where
            compared += 1
    assert compared > 1000  # every path (30), every shell (4), dozens of starts each


def test_a_help_is_one_line_whatever_the_terminal(monkeypatch, capsys):
    """Typer would wrap a help at the terminal's width: in fish each wrapped line became an offer
    of its own. `credctl setup --p<TAB>` in fish on a 40-column terminal: one line per option."""
    shown, status = typer_answer(monkeypatch, capsys, tab_environment("fish get-args", ["setup"], "--p"))
    assert status == 0
    assert [line.split("\t")[0] for line in shown.splitlines()] == ["--podman"]
    assert shown.startswith("--podman\tAlso make podman, buildah and skopeo log in through the store (credctl's ")


@pytest.mark.parametrize(
    "env",
    [
        tab_environment("bash", ["setup", "--store"], ""),  # an option's value
        tab_environment("zsh", ["unmap"], ""),  # an argument: mapped registries, from the config
        tab_environment("bash", ["nosuch"], ""),  # not a command
        tab_environment("bash", ["acr"], "'add"),  # a quote
        tab_environment("zsh", ["acr"], "add\\-"),  # an escape
        tab_environment("fish get-args", ["acr"], "prüf"),  # not ASCII
        tab_environment("bash", [], "--config=x"),  # an option with its value
        {"_CREDCTL_COMPLETE": "complete_bash", "COMP_WORDS": "credctl", "COMP_CWORD": "x"},
        {"_CREDCTL_COMPLETE": "complete_bash", "COMP_WORDS": "credctl", "COMP_CWORD": "5"},
        {"_CREDCTL_COMPLETE": "complete_bash", "COMP_CWORD": "1"},
        {"_CREDCTL_COMPLETE": "source_bash"},
        {"_CREDCTL_COMPLETE": "complete_powershell", "_TYPER_COMPLETE_ARGS": "credctl "},
    ],
)
def test_anything_else_goes_to_the_app(env):
    assert quick_answer(env) is None


def run_credctl(env: dict[str, str], *python_options: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    return subprocess.run(
        [sys.executable, *python_options, world.ours("credctl")],
        env={**clean, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("shell", "words", "incomplete"),
    [
        ("bash", [], ""),
        ("bash", [], "li"),
        ("zsh", ["acr"], ""),
        ("fish get-args", ["route"], "-"),
        ("fish is-args", ["setup"], "zz"),
        ("zsh", ["kubelet", "config"], "--p"),
    ],
)
def test_the_installed_credctl_answers_without_the_app(monkeypatch, capsys, shell, words, incomplete):
    env = tab_environment(shell, words, incomplete)
    expected_out, expected_status = typer_answer(monkeypatch, capsys, env)
    shown = run_credctl(env, "-X", "importtime")
    assert (shown.stdout.decode(), shown.returncode) == (expected_out, expected_status)
    modules = set(importtime_modules(shown.stderr))
    assert "credctl.quickcomplete" in modules
    assert {name.split(".")[0] for name in modules}.isdisjoint({"typer", "click", "rich", "pydantic"})


def test_a_tab_the_table_cannot_answer_is_the_apps(tmp_path, monkeypatch, capsys):
    """`credctl setup --store <TAB>` lists the stores from the option's own callback."""
    env = tab_environment("bash", ["setup", "--store"], "")
    shown = run_credctl(env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.decode() == typer_answer(monkeypatch, capsys, env)[0]
    assert shown.stdout.decode().split() == ["pass", "secretservice", "keyring"]


def test_another_program_name_is_left_to_the_app(tmp_path):
    """Typer's variable follows the program's name: under another name _CREDCTL_COMPLETE means
    nothing, and the run is an ordinary one (here: the help, as for no command)."""
    renamed = tmp_path / "credctl-renamed"
    renamed.write_bytes(Path(world.ours("credctl")).read_bytes())
    env = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    shown = subprocess.run(
        [sys.executable, str(renamed)],
        env={**env, **tab_environment("bash", [], "li")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Usage: credctl-renamed [OPTIONS] COMMAND [ARGS]..." in shown.stdout + shown.stderr
