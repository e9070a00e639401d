"""`credctl list`: where each registry's credentials come from (credctl.cli.listing does it)."""

from typing import Annotated

import typer

from credctl.cli.common import docker_config
from credctl.cli.listing import show_sources


def list_registries(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show where each registry's credentials come from.

    Per registry: credHelpers, credsStore or plaintext, the helper and the username. Never a secret.
    """
    show_sources(docker_config(ctx), as_json)
