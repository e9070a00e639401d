"""`credctl pass init`: choose or generate a gpg key and initialise the password store."""

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from credctl import gpg
from credctl.cli.common import initialise_store, new_key
from credctl.cli.output import fail, info, warn
from credctl.errors import GpgUnavailable, UsageError
from credctl.stores.passstore import store_dir

app = typer.Typer(help="Set up the pass (password-store) backend.", no_args_is_help=True, rich_markup_mode=None)


@app.command("init")
def init(
    gpg_id: Annotated[
        list[str] | None,
        typer.Option("--gpg-id", metavar="ID", help="Key to encrypt with (fingerprint, key id or email); repeatable."),
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a new ed25519/cv25519 key for the store.")
    ] = False,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="Real name for --generate.")] = None,
    email: Annotated[str | None, typer.Option(metavar="EMAIL", help="Email for --generate.")] = None,
    no_passphrase: Annotated[
        bool, typer.Option("--no-passphrase", help="With --generate: no passphrase (headless machines).")
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store-dir",
            metavar="DIR",
            help="Store to initialise (default: $PASSWORD_STORE_DIR or ~/.password-store).",
        ),
    ] = None,
) -> None:
    """Initialise the password store that docker-credential-pass uses.

    Without options, lists the gpg keys that can encrypt and lets you pick one (on a terminal).
    """
    for program, package in (("gpg", "gnupg"), ("pass", "pass")):
        if shutil.which(program) is None:
            fail(f"{program} is not installed: install it first (sudo apt-get install {package})")
    if generate and gpg_id:
        raise UsageError("use either --gpg-id or --generate, not both", option="--generate")
    root = str((store or Path(store_dir(os.environ))).expanduser().absolute())
    try:
        keys = [new_key(name, email, no_passphrase)] if generate else _named_keys(gpg_id) if gpg_id else None
    except GpgUnavailable as err:
        fail(str(err))
    initialise_store(root, keys)
    # Compared as Path spells it, so PASSWORD_STORE_DIR=/x/store/ is not taken for another store.
    if root != str(Path(store_dir(os.environ))):
        info(f"Docker's helper finds this store only with PASSWORD_STORE_DIR={root} in its environment.")
    info("Next: run `credctl setup` to make Docker keep its logins in this store.")


def _named_keys(idents: list[str]) -> list[gpg.Key]:
    keys = []
    for ident in idents:
        key = gpg.find_key(ident)
        if key is None:
            fail(f"gpg has no usable encryption key for {ident!r}: check `gpg --list-keys`, or use --generate")
        if not key.has_secret:
            warn(
                f"the secret part of {key.fingerprint} is not on this machine: credentials encrypted to it "
                "can be decrypted only where it is"
            )
        keys.append(key)
    return keys
