"""`credctl pass init`: choose or generate a gpg key and initialise the password store."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from credctl import gpg
from credctl.cli.output import busy, fail, info, interactive, show_table, success, warn
from credctl.errors import GpgUnavailable, UsageError
from credctl.stores.passstore import GENERATE_HINT, store_dir, trust_hint

app = typer.Typer(help="Set up the pass (password-store) backend.", no_args_is_help=True, rich_markup_mode=None)

NO_PASSPHRASE_WARNING = (
    "the new key has no passphrase: anyone who can read your ~/.gnupg can decrypt your registry "
    "credentials (fine for a dedicated headless machine, not for a shared one)"
)


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
        keys = [_generate(name, email, no_passphrase)] if generate else _named_keys(gpg_id) if gpg_id else None
    except GpgUnavailable as err:
        fail(str(err))
    initialise_store(root, keys)
    # Compared as Path spells it, so PASSWORD_STORE_DIR=/x/store/ is not taken for another store.
    if root != str(Path(store_dir(os.environ))):
        info(f"Docker's helper finds this store only with PASSWORD_STORE_DIR={root} in its environment.")
    info("Next: run `credctl setup` to make Docker keep its logins in this store.")


def initialise_store(root: str, keys: list[gpg.Key] | None = None) -> None:
    """Initialise the store at root for keys (without keys: pick one, or offer to generate one).

    The flow of `credctl pass init`, also run by `credctl setup`.
    """
    try:
        keys = keys or [_pick_key()]
    except GpgUnavailable as err:
        fail(str(err))
    _check_trust(keys)
    _pass_init(root, [key.fingerprint for key in keys])
    success(f"password store {root} is ready; credentials will be encrypted to {', '.join(k.uid for k in keys)}")
    _explain_passphrase(keys)


def _generate(name: str | None, email: str | None, no_passphrase: bool) -> gpg.Key:
    if not interactive() and not (name and email):
        raise UsageError("--generate needs --name and --email when not run in a terminal", option="--generate")
    name = name or typer.prompt("Real name for the new key")
    email = email or typer.prompt("Email for the new key")
    passphrase = None
    if not no_passphrase:
        if not interactive():
            raise UsageError(
                "cannot ask for a passphrase without a terminal: add --no-passphrase, or run this in a terminal",
                option="--generate",
            )
        passphrase = (
            typer.prompt(
                "Passphrase for the new key (empty for none)",
                hide_input=True,
                confirmation_prompt=True,
                default="",
                show_default=False,
            )
            or None
        )
    if passphrase is None:
        warn(NO_PASSPHRASE_WARNING)
    with busy("Generating an ed25519/cv25519 key…"):
        fingerprint = gpg.generate_key(name, email, passphrase)
    key = gpg.find_key(fingerprint)
    if key is None:
        fail(f"gpg generated {fingerprint} but cannot find it to encrypt with")
    success(f"generated key {fingerprint} ({key.uid})")
    return key


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


def _pick_key() -> gpg.Key:
    keys = gpg.usable_keys()
    if not keys:
        if interactive() and typer.confirm("No gpg key here can encrypt. Generate one now?", default=True):
            return _generate(None, None, no_passphrase=False)
        fail(f"no gpg key here can encrypt: run `{GENERATE_HINT}`")
    if len(keys) == 1:
        return keys[0]
    _show_keys(keys)
    if not interactive():
        fail("several gpg keys can encrypt: choose one with `credctl pass init --gpg-id FINGERPRINT`")
    return keys[_ask_number(len(keys)) - 1]


def _ask_number(count: int) -> int:
    """A row number of the table; checked here because typer no longer re-exports click's IntRange."""
    while True:
        choice = typer.prompt("Key to use", type=int, default=1)
        if 1 <= choice <= count:
            return choice
        warn(f"{choice} is not a row of the table: choose 1 to {count}")


def _show_keys(keys: list[gpg.Key]) -> None:
    rows = [[str(number), key.fingerprint, key.uid, key.created, key.expires] for number, key in enumerate(keys, 1)]
    show_table("gpg keys that can encrypt", ("#", "fingerprint", "user id", "created", "expires"), rows)


def _check_trust(keys: list[gpg.Key]) -> None:
    """pass init accepts any key, but every later `pass insert` fails on one gpg does not trust."""
    for key in keys:
        if not gpg.encrypts_to(key):
            warn(
                f"gpg does not trust {key.fingerprint}, so storing credentials will fail: {trust_hint(key.fingerprint)}"
            )


def _pass_init(root: str, fingerprints: list[str]) -> None:
    env = {**os.environ, "PASSWORD_STORE_DIR": root}
    result = subprocess.run(["pass", "init", *fingerprints], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        fail(f"pass init failed: {lines[-1] if lines else f'exit status {result.returncode}'}")


def _explain_passphrase(keys: list[gpg.Key]) -> None:
    """Say now, not at the first `docker pull`, when gpg-agent will need a way to ask."""
    if not any(key.has_secret and gpg.passphrase_needed(key) for key in keys):
        return
    if interactive():
        info(
            "This key has a passphrase: gpg-agent will ask for it when Docker first needs a credential. "
            "Put `export GPG_TTY=$(tty)` in your shell profile so it can ask in a terminal."
        )
    elif not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        warn(
            "this key has a passphrase and this session has no terminal or display for pinentry: "
            "Docker's helper calls will fail until gpg-agent has it cached (decrypt once in a terminal, "
            f"or preset it with gpg-preset-passphrase), or re-run with `{GENERATE_HINT}`"
        )
