"""`credctl migrate`: move plaintext `auths` credentials into a secure store, verified first.

For each entry: store it through the helper that will serve the registry, read it back and
compare, and only then strip the secret from config.json (Docker's `{}` marker stays, with any
other fields). Nothing is removed that was not verified stored, a login the helper already
holds is never overwritten unasked (common.move_plaintext), and the strip runs on the file as
it is under its lock: an entry changed or removed meanwhile stays as it is.
"""

from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.common import (
    MOVED,
    PODMAN_KEEPS,
    STORE_NAMES,
    PodmanFile,
    docker_config,
    plan,
    plan_podman,
    podman_loses,
    report,
    show,
    store_all,
    strip_podman_verified,
    strip_verified,
)
from credctl.cli.output import info, interactive, plain, warn
from credctl.dockerconfig import ConfigFile, edit, preview
from credctl.errors import CredctlError, UsageError
from credctl.stores import LOGIN_STORES


def migrate(
    ctx: typer.Context,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="STORE",
            help=f"Store to move into: {STORE_NAMES} (default: the credsStore).",
            autocompletion=complete.login_stores,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would move; store and write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    prefer_plaintext: Annotated[
        bool,
        typer.Option(
            "--prefer-plaintext",
            help="Where the store already holds another login for a registry, store the plaintext one over it "
            "(default: keep the store's).",
        ),
    ] = False,
) -> None:
    """Move plaintext credentials into a secure store.

    Each is stored, read back and compared before it leaves config.json. Where the store
    already holds another login for a registry and Docker reads that one (the store is set for
    the registry), it is kept and the stale plaintext copy removed; elsewhere both stay, unless
    --prefer-plaintext.
    """
    if to is not None and to not in LOGIN_STORES:
        raise UsageError(f"choose one of {STORE_NAMES}", option="--to")
    problem = None
    try:
        migrate_file(docker_config(ctx), to, dry_run, yes, prefer_plaintext)
    except CredctlError as err:  # Podman's files are still migrated; the first failure ends the run
        problem = err
    for file in plan_podman(docker_config(ctx)):
        try:
            migrate_podman_file(file, dry_run, yes, prefer_plaintext)
        except CredctlError as err:
            problem = problem or err
    if problem is not None:
        raise problem


def migrate_file(
    path: str, to: str | None, dry_run: bool = False, yes: bool = False, prefer_plaintext: bool = False
) -> None:
    """The whole migration of one config file."""
    moves = plan(ConfigFile.read(path), to)
    if not moves:
        info(f"No plaintext credentials in {path}: nothing to migrate.")
        return
    show(moves, "Plaintext credentials to move")
    if dry_run:
        for move in moves:
            move.outcome = MOVED  # what the preview assumes
        plain(preview(path, lambda config: strip_verified(moves, to, config)))
        info("Dry run: nothing was stored or written.")
        return
    if interactive() and not yes and not typer.confirm(f"Move {len(moves)} credential(s)?", default=True):
        raise typer.Exit(1)
    store_all(moves, prefer_plaintext)
    edit(path, lambda config: strip_verified(moves, to, config))
    for line in podman_loses(path, moves):
        warn(line)
    report(moves, path)


def migrate_podman_file(
    file: PodmanFile, dry_run: bool = False, yes: bool = False, prefer_plaintext: bool = False
) -> None:
    """The migration of one file Podman reads (common.plan_podman): each login into the helper
    Podman asks for its registry, verified, then out of the file under its lock."""
    path = file.source.path
    for line in file.left:
        warn(line)
    if not file.moves:
        return
    show(file.moves, f"Plaintext credentials to move out of {path}")
    if dry_run:
        for move in file.moves:
            move.outcome = MOVED  # what the preview assumes
        if not file.source.legacy:  # preview masks auths only; ~/.dockercfg has its logins at the top
            plain(preview(path, lambda config: strip_podman_verified(file, config)))
        info("Dry run: nothing was stored or written.")
        return
    if interactive() and not yes and not typer.confirm(f"Move {len(file.moves)} credential(s)?", default=True):
        raise typer.Exit(1)
    store_all(file.moves, prefer_plaintext)
    edit(path, lambda config: strip_podman_verified(file, config))
    report(file.moves, path, PODMAN_KEEPS)
