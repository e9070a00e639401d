"""`credctl list`: where each registry's credentials come from. Never prints a secret."""

import os
from typing import Annotated

import typer

from credctl import dockerenv
from credctl.cli.common import docker_config
from credctl.cli.output import info, print_json, show_table, warn
from credctl.dockerconfig import CREDS_STORE, PLAINTEXT, ConfigFile, plaintext_credentials, podman_auth_path
from credctl.errors import ConfigError, CredctlError
from credctl.names import DOCKER_HUB_KEYS, PREFIX, helper_key, helper_program, is_docker_hub, is_hub_bookkeeping


def registry_sources(
    path: str, listings: dict[str, dict[str, str] | str], podman: bool = False
) -> list[dict[str, str]]:
    """One row per registry a config file gives credentials for, as its tool reads it
    (ConfigFile.helper_for: Docker's rule, or Podman's, which ignores credsStore).

    listings caches each helper's `list` answer (or the error text) across files.
    """
    config = ConfigFile.read(path)
    rows = []
    for registry, helper in config.helpers.items():
        route = config.helper_for(registry, podman)
        if route.key != registry:
            rows.append(_unused(path, registry, helper, f"never used: {_tool(podman)} looks up {route.key}"))
        elif not route.helper:
            rows.append(_unused(path, registry, helper, _EMPTY[podman]))
        else:
            rows.append(_row(path, registry, "credHelpers", helper, _listing(helper, listings)))
    store = config.creds_store if not podman else ""
    if store:
        listing = _listing(store, listings)
        for registry in sorted(listing) if isinstance(listing, dict) else []:
            if config.helper_for(registry).via == CREDS_STORE:
                rows.append(_row(path, registry, "credsStore", store, listing))
        if isinstance(listing, str):
            rows.append(_row(path, "*", "credsStore", store, listing))
    for registry, entry in config.auths.items():
        try:
            found = plaintext_credentials(entry)
        except ConfigError as err:
            rows.append(_plaintext(path, registry, "?", f"unreadable: {err}"))
            continue
        if found is not None:
            covered = config.helper_for(registry, podman).via != PLAINTEXT
            note = "ignored by Docker: a helper serves this registry" if covered else "run `credctl migrate`"
            rows.append(_plaintext(path, registry, found[0], f"plaintext in the file: {note}"))
    return rows


_EMPTY = {  # what each tool does with a credHelpers entry of ""
    False: "empty: docker reads this registry's login from auths",
    True: f"empty: Podman runs {PREFIX}, which does not exist",
}


def _tool(podman: bool) -> str:
    return "Podman" if podman else "docker"


def _unused(path: str, registry: str, helper: str, note: str) -> dict[str, str]:
    """A credHelpers entry the tool never runs."""
    return {"registry": registry, "via": "credHelpers", "helper": helper, "username": "", "file": path, "note": note}


def _listing(helper: str, listings: dict[str, dict[str, str] | str]) -> dict[str, str] | str:
    if helper not in listings:
        try:
            from credctl import client  # subprocess: only when a helper is asked

            listings[helper] = client.list_credentials(helper_program(helper))
        except CredctlError as err:
            listings[helper] = str(err)
    return listings[helper]


def _row(path: str, registry: str, via: str, helper: str, listing: dict[str, str] | str) -> dict[str, str]:
    if isinstance(listing, str):
        username, note = "", f"cannot list: {listing}"
    else:
        key = registry
        if key not in listing and is_docker_hub(key):
            # Podman asks for docker.io; credctl's helpers answer it from Docker's
            # https://index.docker.io/v1/ entry (and back), so any Hub key counts as stored.
            key = next((hub for hub in DOCKER_HUB_KEYS if hub in listing), key)
        username = listing.get(key, "")
        note = "" if key in listing else "no credentials stored yet"
    return {"registry": registry, "via": via, "helper": helper, "username": username, "file": path, "note": note}


def _plaintext(path: str, registry: str, username: str, note: str) -> dict[str, str]:
    return {"registry": registry, "via": "plaintext", "helper": "", "username": username, "file": path, "note": note}


# -- DOCKER_AUTH_CONFIG and Docker Hub's bookkeeping (credctl.dockerenv, names.is_hub_bookkeeping) --

OVERRIDDEN = f"overridden by {dockerenv.VARIABLE} ({dockerenv.SINCE})"
BOOKKEEPING = "Docker Hub bookkeeping: a token of docker login's web sign-in, not a registry; credctl leaves it alone"


def with_docker_auth_config(rows: list[dict[str, str]], env: dockerenv.DockerAuthConfig | None) -> list[dict[str, str]]:
    """Docker's rows (registry_sources of config.json) as docker reads them with DOCKER_AUTH_CONFIG:
    a row per login the variable holds first, then each file or helper row whose registry it
    overrides marked so. A variable docker ignores changes nothing here and is said in one line."""
    if env is None:
        return rows
    if env.problem:
        warn(env.summary)
        return rows
    own = [_env_row(login) for login in env.logins.values()]
    return own + [_overridden(row) if env.login_for(row["registry"]) else row for row in rows]


def _env_row(login: dockerenv.EnvLogin) -> dict[str, str]:
    if dockerenv.asked(login.key):
        note = f"from the environment: {dockerenv.SINCE} use it over every file and helper"
    else:
        note = f"never used: docker looks up {helper_key(login.key)}"
    via = dockerenv.VARIABLE
    return {"registry": login.key, "via": via, "helper": "", "username": login.username, "file": "", "note": note}


def _overridden(row: dict[str, str]) -> dict[str, str]:
    return {**row, "note": f"{OVERRIDDEN}; {row['note']}" if row["note"] else OVERRIDDEN}


def _as_bookkeeping(row: dict[str, str]) -> dict[str, str]:
    """A Docker Hub bookkeeping key's row: said to be one (a plaintext one needs no migrate)."""
    unreadable = row["note"].startswith(("cannot list", "unreadable"))
    return row if unreadable else {**row, "note": BOOKKEEPING}


def list_registries(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show where each registry's credentials come from.

    Per registry: credHelpers, credsStore or plaintext, the helper and the username. Never a secret.
    """
    listings: dict[str, dict[str, str] | str] = {}
    rows = with_docker_auth_config(registry_sources(docker_config(ctx), listings), dockerenv.read())
    podman = podman_auth_path()
    if os.path.exists(podman):
        rows += registry_sources(podman, listings, podman=True)
    rows = [_as_bookkeeping(row) if is_hub_bookkeeping(row["registry"]) else row for row in rows]
    if as_json:
        print_json(rows)
        return
    if not rows:
        info("No registry credentials are configured. Start with `credctl setup`.")
        return
    keys = ("registry", "via", "helper", "username", "file", "note")
    styles = ["yellow" if row["via"] == "plaintext" else None for row in rows]
    show_table(
        "Registry credentials",
        ("registry", "via", "helper", "user", "file", "note"),
        [[row[key] for key in keys] for row in rows],
        styles,
    )
    if any(row["via"] == "plaintext" and not is_hub_bookkeeping(row["registry"]) for row in rows):
        warn("some credentials are stored in plaintext: `credctl migrate` moves them into a secure store")
