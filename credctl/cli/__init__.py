"""The admin CLI for people: `credctl COMMAND` (Typer). One module per command group."""

import typer

from credctl import __version__
from credctl.cli import pass_cmd

app = typer.Typer(
    name="credctl",
    help="Keep container-registry credentials safe and wire them into Docker and Podman.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(pass_cmd.app, name="pass")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"credctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Keep container-registry credentials safe and wire them into Docker and Podman."""


def run() -> int:
    app()
    return 0
