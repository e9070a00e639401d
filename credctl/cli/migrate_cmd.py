"""`credctl migrate`: move plaintext `auths` credentials into a secure store, verified first.

For each entry: store it through the helper that will serve the registry, read it back and
compare, and only then strip the secret from config.json (Docker's `{}` marker stays, with any
other fields). Nothing is removed that was not verified stored.
"""

from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.output import docker_config, fail, info, interactive, plain, show_table, success, warn
from credctl.dockerconfig import SECRET_FIELDS, ConfigFile, edit, plaintext_credentials, preview
from credctl.errors import ConfigError, CredctlError, UsageError
from credctl.names import helper_key, registry_host
from credctl.stores import LOGIN_STORES

STORE_NAMES = ", ".join(LOGIN_STORES)


class Move:
    """One plaintext entry and the helper it goes to."""

    def __init__(self, registry: str, username: str, secret: str, helper: str, mapped: bool) -> None:
        self.registry, self.username, self.secret, self.helper = registry, username, secret, helper
        self.mapped = mapped  # served by a credHelpers entry already
        self.outcome = "planned"


def mapped_helper(config: ConfigFile, registry: str) -> str | None:
    """The credHelpers entry Docker uses for registry (its own key, else its host), if any."""
    helpers: dict[str, str] = config.get("credHelpers") or {}  # type: ignore[assignment]
    return helpers.get(registry) or helpers.get(registry_host(registry))


def plan(config: ConfigFile, to: str | None) -> list[Move]:
    store = to or config.get("credsStore")
    moves = []
    for registry, entry in (config.get("auths") or {}).items():  # type: ignore[union-attr]
        try:
            found = plaintext_credentials(entry)
        except ConfigError as err:
            warn(f"{registry}: {err}; left as it is")
            continue
        if found is None:
            continue
        mapped = mapped_helper(config, registry)
        helper = mapped or store
        if not helper:
            fail(f"no secure store is configured for {registry}: choose one with --to ({STORE_NAMES})")
        moves.append(Move(registry, found[0], found[1], str(helper), bool(mapped)))  # type: ignore[arg-type]
    return moves


def store_and_verify(move: Move) -> None:
    from credctl import client

    credentials = client.Credentials(move.registry, move.username, move.secret)
    try:
        client.store(move.helper, credentials)
        back = client.get(move.helper, move.registry)
    except CredctlError as err:
        move.outcome = f"failed: {err}"
        return
    if (back.username, back.secret) == (move.username, move.secret):
        move.outcome = "moved"
    else:
        move.outcome = "failed: the helper returned different credentials; the file keeps them"


# What a verified move takes out of its `auths` entry. "username" too: a lone username left
# behind reads as a plaintext login with an empty password, which the next migrate would
# store over the real one.
STRIPPED = (*SECRET_FIELDS, "username")


def strip_verified(moves: list[Move], to: str | None, config: ConfigFile) -> None:
    """The edit: secrets of verified moves out of `auths`; make sure Docker asks the store."""
    moved = [move for move in moves if move.outcome == "moved"]
    if not moved:
        return  # nothing verified stored: the file stays exactly as it was
    auths = config.section("auths")
    for move in moved:
        auths[move.registry] = {k: v for k, v in auths[move.registry].items() if k not in STRIPPED}
    if not to:
        return
    current = config.get("credsStore")
    if not current and len(moved) == len(moves):
        config.set("credsStore", to)
    elif current != to:
        # Another store is the default, or some entries stay in plaintext (a credsStore would
        # make Docker ignore them): map just the moved registries to the new one.
        helpers = config.section("credHelpers")
        for move in moved:
            if not move.mapped:
                helpers[helper_key(move.registry)] = to


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
) -> None:
    """Move plaintext credentials into a secure store.

    Each is stored, read back and compared before it leaves config.json.
    """
    if to is not None and to not in LOGIN_STORES:
        raise UsageError(f"choose one of {STORE_NAMES}", option="--to")
    migrate_file(docker_config(ctx), to, dry_run, yes)


def migrate_file(path: str, to: str | None, dry_run: bool = False, yes: bool = False) -> None:
    """The whole migration of one config file (also run by `credctl setup --migrate`)."""
    moves = plan(ConfigFile.read(path), to)
    if not moves:
        info(f"No plaintext credentials in {path}: nothing to migrate.")
        return
    show(moves, "Plaintext credentials to move")
    if dry_run:
        for move in moves:
            move.outcome = "moved"  # what the preview assumes
        plain(preview(path, lambda config: strip_verified(moves, to, config)))
        info("Dry run: nothing was stored or written.")
        return
    if interactive() and not yes and not typer.confirm(f"Move {len(moves)} credential(s)?", default=True):
        raise typer.Exit(1)
    store_all(moves)
    edit(path, lambda config: strip_verified(moves, to, config))
    report(moves, path)


def store_all(moves: list[Move]) -> None:
    # No spinner: gpg-agent may draw pinentry on this terminal to ask for a passphrase.
    for move in moves:
        store_and_verify(move)


def report(moves: list[Move], path: str) -> None:
    """The result table, then success, or one error line when some credentials stay in plaintext."""
    show(moves, "Migration")
    moved = sum(move.outcome == "moved" for move in moves)
    if moved == len(moves):
        success(f"moved {moved} credential(s) out of {path}")
        return
    fail(f"{len(moves) - moved} of {len(moves)} credential(s) stay in plaintext: see the table above")


def show(moves: list[Move], title: str) -> None:
    rows = [[move.registry, move.username, f"docker-credential-{move.helper}", move.outcome] for move in moves]
    show_table(title, ("registry", "user", "into", "result"), rows)
