"""`credctl migrate`: move plaintext `auths` credentials into a secure store, verified first;
with --from HELPER, every login another helper holds (migrate_from).

For each plaintext entry: store it through the helper that will serve the registry, read it back and
compare, and only then strip the secret from config.json (Docker's `{}` marker stays, with any
other fields). Nothing is removed that was not verified stored, a login the helper already
holds is never overwritten unasked (common.move_plaintext), and the strip runs on the file as
it is under its lock: an entry changed or removed meanwhile stays as it is.
"""

from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.common import (
    COPY_TARGETS,
    MOVED,
    PODMAN_KEEPS,
    STORE_NAMES,
    PodmanFile,
    copy_target,
    docker_config,
    helper_suffix,
    items_report,
    plan,
    plan_podman,
    podman_loses,
    report,
    show,
    show_items,
    store_all,
    strip_podman_verified,
    strip_verified,
)
from credctl.cli.output import info, interactive, plain, print_json, warn
from credctl.dockerconfig import ConfigFile, edit, preview
from credctl.errors import CredctlError, StoreError, UsageError
from credctl.expiry import parse_date, record
from credctl.helperstore import store_for
from credctl.names import PREFIX, ROUTER, is_hub_bookkeeping
from credctl.stores import LOGIN_STORES, canonical
from credctl.transfer import SAME, Item, copy_into, held, remove_from


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
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="HELPER",
            help="Copy every login this helper lists instead (any docker-credential-* suffix: desktop, "
            "secretservice, osxkeychain, pass…), each read back from the target.",
        ),
    ] = None,
    remove_source: Annotated[
        bool,
        typer.Option(
            "--remove-source",
            help="With --from: erase each login from HELPER once the target gives it back.",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="With --from: print the results as JSON.")] = False,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="DATE",
            help="With --from: when the copied logins stop working (2027-01-31, an RFC 3339 time, or 90d), "
            "kept beside the store as `credctl login --expires` keeps it.",
        ),
    ] = None,
) -> None:
    """Move plaintext credentials into a secure store; with --from, every login of another helper.

    Each is stored, read back and compared before it leaves config.json. Where the store
    already holds another login for a registry and Docker reads that one (the store is set for
    the registry), it is kept and the stale plaintext copy removed; elsewhere both stay, unless
    --prefer-plaintext.

    With --from HELPER: each login HELPER lists is read, stored into --to (default: the
    credsStore), read back and compared; a login the target holds already is never
    overwritten. --remove-source then erases the ones the target gives back.
    """
    if source is not None:
        if prefer_plaintext:
            raise UsageError("--prefer-plaintext is for plaintext logins: with --from, the target's are kept")
        migrate_from(ctx, helper_suffix(source), to, FromOptions(remove_source, dry_run, yes, json_output, expires))
        return
    for flag, given in (("--remove-source", remove_source), ("--json", json_output), ("--expires", expires)):
        if given:
            raise UsageError(f"{flag} works with --from HELPER only")
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


# --- from another helper ---------------------------------------------------------------------

HELPER_TIMEOUT = 60.0  # seconds another helper's program may take per action (it may ask its user)


class FromOptions:
    """How migrate --from runs: --remove-source, --dry-run, --yes, --json, --expires."""

    def __init__(self, remove_source: bool, dry_run: bool, yes: bool, json_output: bool, expires: str | None) -> None:
        self.remove_source, self.dry_run, self.yes, self.json_output = remove_source, dry_run, yes, json_output
        self.expires = parse_date(expires) if expires is not None else None


def migrate_from(ctx: typer.Context, source_name: str, to: str | None, options: FromOptions) -> None:
    """Every login source_name lists, into the target (credctl.transfer: verified, never over another)."""
    target_name = _target_of(ctx, to)
    if canonical(source_name) == canonical(target_name):
        raise UsageError(f"--from and --to name one store ({target_name}): nothing to move")
    source, target = store_for(source_name, timeout=HELPER_TIMEOUT), store_for(target_name)
    health = target.health()
    if not health.ok:
        raise StoreError(f"the {target_name} store cannot work here: {health.detail}; nothing migrated")
    try:
        listed = source.list()
    except CredctlError as err:
        raise StoreError(f"{err}; nothing migrated") from None
    items = _read_all(source, listed, f"{PREFIX}{source_name}", target_name)
    if not items:
        _say(options, [], f"{PREFIX}{source_name} holds no logins: nothing to migrate")
        return
    if options.dry_run:
        for item in items:
            _predict(target, item, options.remove_source)
        _say(options, items, "Dry run: nothing was stored or removed.")
        return
    if not options.json_output:
        show_items(items, f"Logins to copy from {PREFIX}{source_name}")
        verb = "Move" if options.remove_source else "Copy"
        if interactive() and not options.yes and not typer.confirm(f"{verb} {len(items)} login(s)?", default=True):
            raise typer.Exit(1)
    for item in items:
        if not item.failed:
            copy_into(target, item)
        if options.remove_source:
            remove_from(source, target, item)
        if item.there and options.expires is not None and not is_hub_bookkeeping(item.key):
            record(item.key, item.username, options.expires)
    _finish(options, items, source_name, target_name)


def _target_of(ctx: typer.Context, to: str | None) -> str:
    """--to, else Docker's credsStore: one of credctl's login stores or the router (copy_target)."""
    if to is not None:
        return copy_target(to)
    store = ConfigFile.read(docker_config(ctx)).creds_store
    if canonical(store) in LOGIN_STORES or canonical(store) == ROUTER:
        return canonical(store)
    where = f"Docker's credsStore is {store!r}" if store else "Docker's config sets no credsStore"
    raise UsageError(f"{where}: choose where the logins go with --to ({COPY_TARGETS})")


def _read_all(source, listed: dict[str, str], source_label: str, target_name: str) -> list[Item]:
    """An Item per login listed, its secret read from source (a login that cannot be read fails alone)."""
    items = []
    for key in sorted(listed):
        item = Item(key, listed[key], "", source_label, target_name)
        try:
            item.username, item.secret = source.get(key)
        except CredctlError as err:
            item.fail(f"cannot read it from the source: {err}")
        items.append(item)
    return items


def _predict(target, item: Item, remove_source: bool) -> None:
    """What migrate would do with item (dry run): nothing is stored or erased."""
    if item.failed:
        return
    try:
        found = held(target, item.key)
    except CredctlError as err:
        item.fail(err)
        return
    if found == (item.username, item.secret):
        item.outcome = SAME + (", would be removed from the source" if remove_source else "")
    elif found is not None:
        item.outcome, item.held_by = f"would keep the target's (user {found[0]})", found[0]
    else:
        item.outcome = "would be moved" if remove_source else "would be copied"


def _finish(options: FromOptions, items: list[Item], source_name: str, target_name: str) -> None:
    logins = [item for item in items if not is_hub_bookkeeping(item.key)]
    done = sum(item.there for item in logins)
    verb = "moved" if options.remove_source else "copied"
    line = f"{verb} {done} login(s) from {PREFIX}{source_name} into {target_name}"
    if len(logins) != len(items):
        line += f" (and Docker Hub's {len(items) - len(logins)} bookkeeping entries)"
    if options.json_output:
        print_json([dict(item.as_json(), bookkeeping=is_hub_bookkeeping(item.key)) for item in items])
        failed = sum(item.failed for item in items)
        if failed:
            raise StoreError(f"{failed} of {len(items)} login(s) failed: see the JSON above")
        return
    show_items(items, "Migration")
    items_report(items, line)


def _say(options: FromOptions, items: list[Item], line: str) -> None:
    """A dry run's or an empty source's answer: the items (table or JSON), then line."""
    if options.json_output:
        print_json([dict(item.as_json(), bookkeeping=is_hub_bookkeeping(item.key)) for item in items])
        return
    if items:
        show_items(items, "Logins migrate would copy")
    info(line)
