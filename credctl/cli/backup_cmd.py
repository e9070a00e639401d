"""`credctl backup FILE` and `credctl restore FILE`: every login of the configured stores in one
gpg-encrypted file (credctl.backup), and back into a store, verified like migrate --from
(credctl.transfer: read back, never over another login unless --overwrite).
"""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from credctl import backup
from credctl.cli import complete
from credctl.cli.common import COPY_TARGETS, copy_target, docker_config, items_report, show_items
from credctl.cli.output import info, interactive, print_json, success
from credctl.errors import ConfigError, StoreError, UsageError

PassphraseOption = Annotated[
    bool,
    typer.Option(
        "--passphrase",
        help="Encrypt with a passphrase (asked twice on the terminal, else the first line of stdin) instead of "
        "to the pass store's key.",
    ),
]


def backup_logins(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The file to write (0600).")],
    passphrase: PassphraseOption = False,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Write every login of the configured stores, gpg-encrypted, into FILE.

    The stores: credctl's that Docker's config.json, Podman's registries.conf and the router's
    routes name. Encrypted to the pass store's key, or with --passphrase symmetric (AES256).
    """
    if file.is_dir():
        raise UsageError(f"{file} is a folder: name the file to write")
    if file.exists() and not force:
        raise ConfigError(f"{file} exists: choose another name, or replace it with --force")
    if not file.parent.is_dir():
        raise ConfigError(f"{file}: the folder {file.parent} does not exist: make it first")
    stores = backup.configured_stores(docker_config(ctx))
    if not stores:
        raise ConfigError(
            "no credctl store is configured (credsStore, credHelpers, the router's routes): nothing to back up"
        )
    recipients = [] if passphrase else _pass_recipients()
    secret = _ask_passphrase(confirm=True) if passphrase else None
    logins = backup.read_logins(stores)
    message = backup.encrypt(backup.document(logins), recipients, secret)
    from credctl.paths import write_atomically

    write_atomically(str(file), message, private=True, chosen=True)
    locked = "a passphrase" if passphrase else f"the pass store's key ({', '.join(recipients)})"
    success(f"wrote {len(logins)} login(s) of {', '.join(stores)} to {file} (mode 0600), encrypted with {locked}")


def restore_logins(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A file `credctl backup` wrote.")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="STORE",
            help=f"Store every login here: {COPY_TARGETS} (the router) (default: the store it came from).",
            autocompletion=complete.login_stores,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a login the store holds for a registry (default: keep it).")
    ] = False,
    passphrase: PassphraseOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Put the logins of a backup FILE back, each read back from its store.

    A login the store already holds for a registry is kept unless --overwrite. A backup made
    with --passphrase needs --passphrase here (asked, or the first line of stdin).
    """
    target = copy_target(to) if to is not None else None
    try:
        message = file.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read {file}: {err.strerror or err}") from None
    if backup.symmetric(message, str(file)) != passphrase:
        if passphrase:
            raise UsageError(f"{file} is encrypted to a key, not with a passphrase: restore it without --passphrase")
        raise UsageError(f"{file} is encrypted with a passphrase: add --passphrase")
    secret = _ask_passphrase(confirm=False) if passphrase else None
    logins = backup.parse(backup.decrypt(message, str(file), secret), str(file))
    items = _restore(logins, target, overwrite)
    if json_output:
        print_json([item.as_json() for item in items])
        failed = sum(item.failed for item in items)
        if failed:
            raise StoreError(f"{failed} of {len(items)} login(s) failed: see the JSON above")
        return
    if not items:
        info(f"{file} holds no logins: nothing restored")
        return
    show_items(items, f"Restored from {file}")
    done = sum(item.there for item in items)
    items_report(items, f"restored {done} of {len(items)} login(s) from {file}")


def _restore(logins: list[backup.Saved], to: str | None, overwrite: bool) -> list:
    """Each login into its store (to, else the one it came from), by credctl.transfer."""
    from credctl.expiry import record
    from credctl.helperstore import store_for
    from credctl.transfer import Item, copy_into

    stores: dict[str, object] = {}
    items = []
    for login in logins:
        target = to or login.store
        item = Item(login.server, login.username, login.secret, f"backup ({login.store})", target)
        if target not in stores:
            stores[target] = store_for(target)
        copy_into(stores[target], item, overwrite)
        if item.there and login.expires is not None:
            record(login.server, login.username, login.expires)
        items.append(item)
    return items


def _pass_recipients() -> list[str]:
    """The pass store's keys (its .gpg-id); ConfigError when there is no pass store to encrypt to."""
    from credctl.gpg import read_gpg_ids
    from credctl.stores.passstore import store_dir

    recipients = read_gpg_ids(store_dir(os.environ))
    if not recipients:
        raise ConfigError("there is no pass store to encrypt the backup to: use --passphrase")
    return recipients


def _ask_passphrase(confirm: bool) -> str:
    """The backup's passphrase: asked without echo on a terminal (twice when confirm), else the
    first line of stdin; never empty."""
    if interactive() and sys.stdin.isatty():
        secret = typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm)
    else:
        secret = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not secret:
        raise UsageError("the passphrase must not be empty")
    if "\n" in secret:
        raise UsageError("the passphrase must be one line")
    return secret
