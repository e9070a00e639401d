"""`credctl pass init`: choose or generate a gpg key and initialise the password store.
`credctl pass unlock`: have gpg-agent ask for the store key's passphrase once (credctl.gpgagent)."""

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from credctl import gpg
from credctl.cli.common import initialise_store, new_key
from credctl.cli.output import fail, info, success, warn
from credctl.errors import ConfigError, GpgUnavailable, UsageError
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


@app.command("unlock")
def unlock(
    duration: Annotated[
        str | None,
        typer.Option(
            "--for",
            metavar="DURATION",
            help="How long the passphrase stays cached (30m, 8h, 1h30m; default: as long as gpg-agent keeps one).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", metavar="SECONDS", min=1, help="How long to wait for the passphrase (default 120)."),
    ] = 120.0,
) -> None:
    """Enter the pass store key's passphrase once, for docker pulls to come.

    gpg-agent asks for it (pinentry) and keeps it for --for; `credctl verify` says how long is left.
    """
    from credctl import gpgagent
    from credctl.expiry import parse_duration, span, stamp

    seconds = parse_duration(duration) if duration is not None else None
    recipients, grips = _store_key()
    found = gpgagent.states(grips)
    if found and not any(state.protected for state in found):
        info("the pass store's key has no passphrase: it needs no unlocking")
        return
    environ = _asking_environ()
    if environ is None:
        fail(_headless_line(grips))
    cache = gpgagent.cache_settings()
    wanted = cache.max_ttl if seconds is None else seconds
    gpgagent.forget(grips, environ)  # asked afresh: the agent's clock starts now
    done = gpgagent.unlock(recipients, grips, wanted, timeout, environ)
    left = span(round(done.until - time.time())).removeprefix("in ")
    if done.how == "preset":
        success(f"the pass store's key is unlocked until {stamp(int(done.until))} ({left})")
        if wanted > cache.max_ttl:
            warn(
                f"gpg-agent keeps a passphrase {cache.max_ttl} s at most (max-cache-ttl): not {duration}; "
                f"raise max-cache-ttl in {gpgagent.agent_conf()} and run `gpgconf --reload gpg-agent` for longer"
            )
        return
    if wanted <= cache.default_ttl:  # the agent keeps it longer: credctl clears it at the end
        success(f"the pass store's key is unlocked until {stamp(int(done.until))} ({left})")
        return
    success(f"the pass store's key is unlocked, until {stamp(int(done.until))} at most ({left})")
    warn(
        f"gpg-agent keeps it {cache.default_ttl} s after each use (default-cache-ttl) and {cache.max_ttl} s at "
        f"most (max-cache-ttl); for --for to hold whatever the use, add allow-preset-passphrase to "
        f"{gpgagent.agent_conf()} and run `gpgconf --reload gpg-agent`"
    )


def _store_key() -> tuple[list[str], list[str]]:
    """The pass store's recipients (.gpg-id) and the keygrips of their encryption keys here."""
    from credctl import gpgagent

    root = store_dir(os.environ)
    recipients = gpg.read_gpg_ids(root)
    if not recipients:
        raise ConfigError(f"there is no pass store at {root}: `credctl pass init` makes one")
    grips = gpgagent.keygrips(recipients)
    if not grips:
        raise ConfigError(f"gpg has no secret key for the pass store's key ({', '.join(recipients)}) here")
    return recipients, grips


def _asking_environ() -> dict[str, str] | None:
    """The environment in which the agent's pinentry can ask someone (GPG_TTY for this terminal,
    or a display), None when there is neither."""
    if sys.stdin.isatty():
        return {**os.environ, "GPG_TTY": os.ttyname(sys.stdin.fileno())}
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return dict(os.environ)
    return None


def _headless_line(grips: list[str]) -> str:
    from credctl import gpgagent

    preset = f"{gpgagent.PRESET_PROGRAM} --preset {grips[0]} with the passphrase on its stdin"
    if gpgagent.cache_settings().preset:
        return f"no terminal to ask for the passphrase on: run `credctl pass unlock` in one, or preset it: {preset}"
    return (
        f"no terminal to ask for the passphrase on: run `credctl pass unlock` in one; to preset it without one, add "
        f"allow-preset-passphrase to {gpgagent.agent_conf()}, run `gpgconf --reload gpg-agent`, then {preset}"
    )
