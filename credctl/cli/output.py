"""How the CLI talks to people: rich when on a terminal, plain text otherwise or with NO_COLOR."""

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# soft_wrap: a message stays one line however narrow the terminal (or 80 columns off a terminal).
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def interactive() -> bool:
    """Prompts only when a person can answer them."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def success(message: str) -> None:
    console.print(f"[green]✓[/green] {escape(message)}")


def info(message: str) -> None:
    console.print(escape(message))


def warn(message: str) -> None:
    errors.print(f"[yellow]warning:[/yellow] {escape(message)}")


def fail(message: str, status: int = 1) -> NoReturn:
    """One line naming what went wrong and what to do next, then exit."""
    errors.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(status)


def print_json(data: object) -> None:
    """Machine-readable output for --json: plain, stable, never coloured."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def docker_config(ctx: typer.Context) -> str:
    """The config.json this run works on (--config, $DOCKER_CONFIG, ~/.docker)."""
    from credctl.dockerconfig import docker_config_path

    return docker_config_path((ctx.obj or {}).get("config_dir"))
