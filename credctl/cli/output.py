"""How the CLI talks to people: rich when on a terminal, plain text otherwise or with NO_COLOR.

rich is imported on the first message, not at start-up: `credctl --help` and the commands
that print little should not pay for it (docs/benchmarks.md).
"""

import contextlib
import sys
from collections.abc import Sequence
from typing import NoReturn

import typer

from credctl import terminal

_consoles: dict[bool, object] = {}


def _console(stderr: bool = False):
    if stderr not in _consoles:
        from rich.console import Console

        # soft_wrap: a message stays one line however narrow the terminal (80 columns off one).
        _consoles[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True)
    return _consoles[stderr]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def interactive() -> bool:
    """Prompts only when a person can answer them."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def success(message: str) -> None:
    _console().print(f"[green]✓[/green] {_escape(message)}")


def info(message: str) -> None:
    _console().print(_escape(message))


def plain(text: str) -> None:
    """Text shown as it is (diffs, previews): no markup, no highlighting."""
    _console().print(text, markup=False, highlight=False)


def warn(message: str) -> None:
    _console(stderr=True).print(f"[yellow]warning:[/yellow] {_escape(message)}")


def fail(message: str, status: int = 1) -> NoReturn:
    """One line naming what went wrong and what to do next, then exit."""
    _console(stderr=True).print(f"[red]error:[/red] {_escape(message)}")
    raise typer.Exit(status)


def show_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], styles: Sequence[str | None] = ()
) -> None:
    """A table for people; styles (one per row, optional) colour whole rows."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for index, row in enumerate(rows):
        table.add_row(*(_escape(cell) for cell in row), style=styles[index] if index < len(styles) else None)
    _console().print(table)


class busy:  # lower case: it reads as a function, `with busy("Checking…"):`
    """A spinner on a terminal while slow work runs; nothing otherwise.

    It pauses while credctl runs a helper (credctl.terminal.lent_to_child, in credctl.client):
    gpg may be asking for a passphrase on this terminal then, and a spinner would draw over it.
    """

    def __init__(self, message: str, show: bool = True) -> None:
        self.message, self.show = message, show
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "busy":
        console = _console()
        if self.show and console.is_terminal:
            status = self._stack.enter_context(console.status(self.message))
            self._stack.enter_context(terminal.drawing(status))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def print_json(data: object) -> None:
    """Machine-readable output for --json: plain, stable, never coloured."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def docker_config(ctx: typer.Context) -> str:
    """The config.json this run works on (--config, $DOCKER_CONFIG, ~/.docker)."""
    from credctl.dockerconfig import docker_config_path

    return docker_config_path((ctx.obj or {}).get("config_dir"))
