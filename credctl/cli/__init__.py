"""The admin CLI for people: `credctl COMMAND` (Typer). One module per command group."""

from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click as click
from typer.core import TyperArgument, TyperGroup, TyperOption

from credctl import __version__
from credctl.cli import acr_cmd, k8s_cmd, kubelet_cmd, list_cmd, map_cmd, migrate_cmd, pass_cmd, setup_cmd, verify_cmd
from credctl.cli.output import fail
from credctl.errors import CredctlError


class _PlainArgument(TyperArgument):
    """An argument as click, man pages and every other tool show one: `REGISTRY`, `[REGISTRY]...`,
    named alike in the Arguments list (Typer writes `{registry}` and `registry <str>`)."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        name = self.metavar if self.required else f"[{self.metavar}]"
        return [name + ("..." if self.nargs != 1 else "")]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        return None if record is None else (f"{self.metavar}{'...' if self.nargs != 1 else ''}", record[1])


def plain_usage(command: click.Command) -> None:
    """Give command and its subcommands conventional usage: arguments as _PlainArgument, and an
    upper-case metavar for every option that takes a value and has none (not `<str>`)."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            param.metavar = param.metavar or (param.name or "value").upper()
            param.__class__ = _PlainArgument
        elif isinstance(param, TyperOption) and not param.is_flag and not param.count and param.metavar is None:
            param.metavar = (param.name or "value").upper()
    for sub in getattr(command, "commands", {}).values():
        plain_usage(sub)


class _Group(TyperGroup):
    """credctl's root command: conventional usage lines all the way down (plain_usage)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        plain_usage(self)


app = typer.Typer(
    name="credctl",
    cls=_Group,
    # -h as well as --help, on every command: Typer's contexts inherit it from the root's.
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Keep container-registry credentials safe and wire them into Docker and Podman.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's help formatter alone costs ~80 ms per run (docs/benchmarks.md).
    rich_markup_mode=None,
)
app.command("setup")(setup_cmd.setup)
app.add_typer(pass_cmd.app, name="pass")
app.add_typer(acr_cmd.app, name="acr")
app.command("map")(map_cmd.map_registry)
app.command("unmap")(map_cmd.unmap_registry)
app.command("list")(list_cmd.list_registries)
app.command("migrate")(migrate_cmd.migrate)
app.command("verify")(verify_cmd.verify)
app.add_typer(kubelet_cmd.app, name="kubelet")
app.add_typer(k8s_cmd.app, name="k8s")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"credctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="DIR",
            help="Docker's config directory (default: $DOCKER_CONFIG or ~/.docker).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Keep container-registry credentials safe and wire them into Docker and Podman."""
    ctx.obj = {"config_dir": str(config) if config else None}


def os_error_line(err: OSError) -> str:
    """One line for a file the system would not let credctl read or write, with what to do.

    a full disk or a read-only config folder ended `credctl map` (and every
    other command that writes) in a traceback. Nothing was changed then: writes are atomic.
    """
    import errno

    where = f"{err.filename}: " if err.filename else ""
    what = err.strerror or type(err).__name__
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space there (or raise the quota), then run the command again"
    elif err.errno == errno.EROFS:
        fix = "that file system is mounted read-only: remount it read-write or point credctl elsewhere"
    elif err.errno in (errno.EACCES, errno.EPERM):
        fix = "check who owns it and its permissions (credctl writes as the user who runs it)"
    else:
        fix = "check that path, then try again"
    return f"{where}{what}: {fix}"


def run() -> int:
    try:
        app()
    except CredctlError as err:  # every expected failure: one line, exit 1 (a UsageError: 2)
        message, status = str(err), getattr(err, "exit_status", 1)
    except OSError as err:
        message, status = os_error_line(err), 1
    else:
        return 0
    try:
        fail(message, status)
    except typer.Exit as exit_:
        return exit_.exit_code
    return 1
