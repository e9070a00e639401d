"""`credctl setup`: pick a secure store for Docker (and Podman), map registries, migrate.

Interactive on a terminal; every question has a flag, so it also runs unattended.
"""

import os
import shutil
from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.map_cmd import helper_suffix, helpers_change, warn_if_missing
from credctl.cli.migrate_cmd import migrate_file
from credctl.cli.output import busy, docker_config, fail, info, interactive, plain, show_table, success
from credctl.dockerconfig import ConfigFile, edit, helper_key, plaintext_credentials, podman_auth_path, preview
from credctl.errors import CredctlError
from credctl.stores import LOGIN_STORES, PREFIX, STORES, open_store, program_name
from credctl.stores.base import Health

PODMAN_TOOLS = ("podman", "skopeo", "buildah")


def store_health() -> dict[str, Health]:
    """Each store's answer to "can you work here?" (the keyring one may take a moment)."""
    with busy("Checking which stores can work here…"):
        return {name: _health(name) for name in LOGIN_STORES}


def _health(name: str) -> Health:
    try:
        return open_store(name).health()
    except CredctlError as err:
        return Health(False, str(err))


def choose_store(health: dict[str, Health], asked: bool) -> str:
    usable = [name for name, answer in health.items() if answer.ok]
    if asked:
        show_health(health)
        return typer.prompt("Store for Docker's credentials", default=usable[0] if usable else "pass")
    if not usable:
        details = "; ".join(f"{name}: {answer.detail}" for name, answer in health.items())
        fail(f"no store can work here ({details})")
    return usable[0]


def show_health(health: dict[str, Health]) -> None:
    rows = [[name, program_name(name), "yes" if answer.ok else "no", answer.detail] for name, answer in health.items()]
    show_table("Credential stores", ("store", "program", "ready", "detail"), rows)


def parse_maps(maps: list[str]) -> dict[str, str]:
    mapping = {}
    for item in maps:
        registry, equals, helper = item.partition("=")
        if not equals or not registry or not helper:
            raise typer.BadParameter(f"{item!r} is not REGISTRY=HELPER", param_hint="--map")
        mapping[registry] = helper_suffix(helper)
    return mapping


def ask_maps() -> dict[str, str]:
    mapping: dict[str, str] = {}
    while True:
        answer = typer.prompt(
            "Map a registry to another helper (REGISTRY=HELPER, empty to finish)", default="", show_default=False
        )
        if not answer:
            return mapping
        mapping.update(parse_maps([answer]))


def registries_for_podman(docker_path: str, store: str) -> set[str]:
    """Registries whose credentials Docker's store holds or will hold (Podman needs each named)."""
    from credctl import client

    known = set(ConfigFile.read(docker_path).get("auths") or {})  # type: ignore[arg-type]
    try:
        known |= set(client.list_credentials(store))
    except CredctlError:
        pass  # nothing listed yet
    return known


def has_plaintext(path: str) -> bool:
    auths = ConfigFile.read(path).get("auths") or {}
    return any(_plaintext(entry) for entry in auths.values())  # type: ignore[union-attr]


def _plaintext(entry: object) -> bool:
    try:
        return plaintext_credentials(entry) is not None
    except CredctlError:
        return False


def setup(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            help=f"Store for Docker's credsStore: {', '.join(LOGIN_STORES)}.",
            metavar="STORE",
            autocompletion=complete.login_stores,
        ),
    ] = None,
    maps: Annotated[
        list[str] | None, typer.Option("--map", metavar="REGISTRY=HELPER", help="A credHelpers entry; repeatable.")
    ] = None,
    podman: Annotated[
        bool | None,
        typer.Option(
            "--podman/--no-podman", help="Also write Podman's auth.json (default: when Podman or Skopeo is here)."
        ),
    ] = None,
    migrate: Annotated[
        bool | None, typer.Option("--migrate/--no-migrate", help="Move plaintext credentials into the store.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes to each file; write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing; take the defaults.")] = False,
) -> None:
    """Point Docker (and Podman) at a secure credential store.

    Sets credsStore (and Podman's credHelpers), maps registries to helpers and can move plaintext
    credentials into the store. Asks on a terminal; every question has a flag.
    """
    asking = interactive() and not yes
    if store is not None and store not in LOGIN_STORES:
        raise typer.BadParameter(f"choose one of {', '.join(LOGIN_STORES)}", param_hint="--store")
    health = store_health()
    store = store or choose_store(health, asking)
    if store not in LOGIN_STORES:
        fail(f"{store!r} is not a store: choose one of {', '.join(LOGIN_STORES)}", 2)
    if not health[store].ok and not dry_run:
        fail(f"the {store} store cannot work here: {health[store].detail}")
    mapping = parse_maps(maps or []) or (ask_maps() if asking else {})
    docker_path, podman_path = docker_config(ctx), podman_auth_path()
    if podman is None:
        podman = os.path.exists(podman_path) or any(shutil.which(tool) for tool in PODMAN_TOOLS)
    if migrate is None:
        migrate = has_plaintext(docker_path) and asking and typer.confirm("Move plaintext credentials into it?")
    suffix = STORES[store][2]

    def docker_change(config: ConfigFile) -> None:
        config.set("credsStore", suffix)
        helpers_change({helper_key(registry): helper for registry, helper in mapping.items()})(config)

    def podman_change(config: ConfigFile) -> None:
        # Podman ignores credsStore: every registry must be named, Docker Hub as docker.io.
        wanted = {
            helper_key(registry, podman=True): suffix for registry in sorted(registries_for_podman(docker_path, store))
        }
        # A registry Docker already sends to another helper (an earlier `credctl map`) must go
        # to that helper in Podman too, not to the store, which does not hold its credentials.
        docker_helpers: dict[str, str] = ConfigFile.read(docker_path).get("credHelpers") or {}  # type: ignore[assignment]
        wanted.update({helper_key(registry, podman=True): helper for registry, helper in docker_helpers.items()})
        wanted.update({helper_key(registry, podman=True): helper for registry, helper in mapping.items()})
        helpers_change(wanted)(config)  # type: ignore[arg-type]

    changes = [(docker_path, docker_change)] + ([(podman_path, podman_change)] if podman else [])
    if dry_run:
        for path, change in changes:
            plain(preview(path, change) or f"{path}: no change")
        if migrate:
            migrate_file(docker_path, store, dry_run=True)
        info("Dry run: nothing was written.")
        return
    if store == "keyring":
        from credctl.stores.keyringstore import load_backend

        load_backend()  # remembered now, so no helper call pays for detection
    if migrate:
        # First: once credsStore is set, Docker ignores plaintext logins, so they must be stored
        # (and verified) before; a failed migration stops here with the file as it was.
        migrate_file(docker_path, store, yes=True)
    for path, change in changes:
        before, after = edit(path, change)
        success(f"{path}: {'updated' if before != after else 'already set up'}")
    for helper in {suffix, *mapping.values()}:
        warn_if_missing(helper)
    info(f"Docker now keeps credentials in {PREFIX}{suffix}. Check it all with `credctl verify`.")
