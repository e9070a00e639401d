"""The Typer app of the admin CLI: `credctl COMMAND`. One module per command (group), *_cmd.py."""

from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click as click
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from credctl import __version__
from credctl.cli import (
    acr_cmd,
    backup_cmd,
    complete,
    export_cmd,
    k8s_cmd,
    kubelet_cmd,
    list_cmd,
    login_cmd,
    map_cmd,
    migrate_cmd,
    pass_cmd,
    route_cmd,
    setup_cmd,
    verify_cmd,
)
from credctl.cli.output import report
from credctl.errors import CredctlError, UsageError


class _PlainArgument(TyperArgument):
    """An argument as click, man pages and every other tool show one: `REGISTRY`, `[REGISTRY]...`,
    named alike in the Arguments list (Typer writes `{registry}` and `registry <str>`)."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        name = self.metavar if self.required else f"[{self.metavar}]"
        return [name + ("..." if self.nargs != 1 else "")]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        return None if record is None else (f"{self.metavar}{'...' if self.nargs != 1 else ''}", record[1])


class _Context(click.Context):
    """A command's context. A usage error credctl raises in a command (errors.UsageError) becomes
    click's, in this context, so that click reports it as it reports a missing argument: the
    command's usage line, "Try 'credctl COMMAND -h' for help.", "Error: MESSAGE", exit status 2."""

    def invoke(self, callback: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().invoke(callback, *args, **kwargs)
        except UsageError as err:
            raise ClickUsageError(str(err), self) from None


def _help_names(command: click.Command, ctx: click.Context) -> list[str]:
    """-h and --help in the order the app names them, less any another option took. click
    collects them in a set: a TAB offered them in an order that changed from run to run."""
    taken = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    return [name for name in ctx.help_option_names if name not in taken]


class _PlainCommand(TyperCommand):
    def get_help_option_names(self, ctx: click.Context) -> list[str]:
        return _help_names(self, ctx)


class _PlainGroup(TyperGroup):
    def get_help_option_names(self, ctx: click.Context) -> list[str]:
        return _help_names(self, ctx)


_PLAIN_CLASSES = {TyperCommand: _PlainCommand, TyperGroup: _PlainGroup}


def plain_usage(command: click.Command) -> None:
    """Give command and its subcommands conventional usage: arguments as _PlainArgument, an
    upper-case metavar for every option that takes a value and has none (not `<str>`), -h and
    --help always in that order (_help_names), and credctl's usage errors in click's shape
    (_Context)."""
    command.context_class = _Context
    command.__class__ = _PLAIN_CLASSES.get(type(command), type(command))
    for param in command.params:
        if isinstance(param, TyperArgument):
            param.metavar = param.metavar or (param.name or "value").upper()
            param.__class__ = _PlainArgument
        elif isinstance(param, TyperOption) and not param.is_flag and not param.count and param.metavar is None:
            param.metavar = (param.name or "value").upper()
    for sub in getattr(command, "commands", {}).values():
        plain_usage(sub)


class _Group(_PlainGroup):
    """credctl's root command: conventional usage lines all the way down (plain_usage), and each
    TAB's help on one line (complete.use_one_line_help: Typer registers its shell classes again
    each time it builds the app, just before this)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        plain_usage(self)
        complete.use_one_line_help()


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
app.add_typer(route_cmd.app, name="route")
app.command("login")(login_cmd.login)
app.command("logout")(login_cmd.logout)
app.command("show")(login_cmd.show)
app.command("export")(export_cmd.export)
app.command("backup")(backup_cmd.backup_logins)
app.command("restore")(backup_cmd.restore_logins)


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


def run() -> int:
    """`credctl COMMAND` through the app; returns the exit status.

    Every failure credctl expects is one line (output.report); usage errors inside a command are
    reported in click's shape (_Context). Anything else is a bug and keeps its traceback.
    """
    try:
        app()
    except (CredctlError, OSError) as err:
        return report(err)
    return 0
