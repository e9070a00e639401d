"""What `credctl list` shows: where each registry's credentials come from. Never a secret.

Without the Typer app (typer, click): `credctl list` and `credctl list --json` run from here
(credctl.cli.run), the command itself (list_cmd) only adds the root's --config.
"""

import sys

from credctl import dockerenv, expiry, logins
from credctl.cli.output import info, print_json, report, show_table, warn
from credctl.dockerconfig import CREDS_STORE, PLAINTEXT, ConfigFile
from credctl.errors import ConfigError, CredctlError
from credctl.names import PREFIX, helper_key, helper_program, is_hub_bookkeeping, login_keys
from credctl.podman import DEFAULT_HELPERS, credential_helpers


def registry_sources(
    config: ConfigFile, listings: dict[str, dict[str, str] | str], podman: bool = False
) -> list[dict[str, str]]:
    """One row per registry a config file sends to a helper, as its tool reads it
    (ConfigFile.helper_for: Docker's rule, or Podman's, which ignores credsStore).

    listings caches each helper's `list` answer (or the error text) across files.
    """
    path = config.path
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
        # credctl's helpers answer a Docker Hub key from a login stored under another (names.login_keys)
        key = next((key for key in login_keys(registry) if key in listing), registry)
        username = listing.get(key, "")
        note = "" if key in listing else "no credentials stored yet"
    row = {"registry": registry, "via": via, "helper": helper, "username": username, "file": path, "note": note}
    return with_expiry(row, expiry.of_stored(helper, key, username) if isinstance(listing, dict) else None)


def with_expiry(row: dict[str, str], found: expiry.Expiry | None) -> dict[str, str]:
    """row with its login's expiry, when one is known (credctl.expiry): `expires` (RFC 3339) and
    `expires_from` (token, jwt or given) in JSON, as Go's omitempty leaves them out otherwise,
    and said in the note."""
    if found is None:
        return row
    said = found.describe()
    note = f"{row['note']}; {said}" if row["note"] else said
    return {**row, "note": note, "expires": expiry.stamp(found.when), "expires_from": found.source}


def _plaintext(path: str, registry: str, username: str, note: str) -> dict[str, str]:
    return {"registry": registry, "via": "plaintext", "helper": "", "username": username, "file": path, "note": note}


# -- DOCKER_AUTH_CONFIG and Docker Hub's bookkeeping (credctl.dockerenv, names.is_hub_bookkeeping) --

OVERRIDDEN = f"overridden by {dockerenv.VARIABLE} ({dockerenv.SINCE})"
BOOKKEEPING = "Docker Hub bookkeeping: a token of docker login's web sign-in, not a registry; credctl leaves it alone"


def with_docker_auth_config(
    rows: list[dict[str, str]], env: dockerenv.DockerAuthConfig | None, docker_path: str
) -> list[dict[str, str]]:
    """rows as docker reads them with DOCKER_AUTH_CONFIG: a row per login the variable holds
    first, then each row of Docker's config (docker_path) whose registry it overrides marked so
    (Podman's files are not docker's: the variable changes nothing for them). A variable docker
    ignores changes nothing here and is said in one line."""
    if env is None:
        return rows
    if env.problem:
        warn(env.summary)
        return rows
    own = [_env_row(login) for login in env.logins.values()]
    return own + [
        _overridden(row) if row["file"] == docker_path and env.login_for(row["registry"]) else row for row in rows
    ]


def _env_row(login: dockerenv.EnvLogin) -> dict[str, str]:
    if dockerenv.asked(login.key):
        note = f"from the environment: {dockerenv.SINCE} use it over every file and helper"
    else:
        note = f"never used: docker looks up {helper_key(login.key)}"
    via = dockerenv.VARIABLE
    row = {"registry": login.key, "via": via, "helper": "", "username": login.username, "file": "", "note": note}
    return with_expiry(row, expiry.expiry_of(login.key, login.username, login.secret))


def _overridden(row: dict[str, str]) -> dict[str, str]:
    return {**row, "note": f"{OVERRIDDEN}; {row['note']}" if row["note"] else OVERRIDDEN}


def _as_bookkeeping(row: dict[str, str]) -> dict[str, str]:
    """A Docker Hub bookkeeping key's row: said to be one (a plaintext one needs no migrate)."""
    unreadable = row["note"].startswith(("cannot list", "unreadable"))
    kept = {key: value for key, value in row.items() if key not in ("expires", "expires_from")}  # docker renews them
    return row if unreadable else {**kept, "note": BOOKKEEPING}


def _fail_on_unreadable(rows: list[dict[str, str]]) -> None:
    """ConfigError (one line, exit status 1) after listing, naming every file that cannot be read."""
    unreadable = [row["note"] for row in rows if row["via"] == UNREADABLE]
    if unreadable:
        raise ConfigError("; ".join(unreadable))


# -- every file Docker and Podman read (credctl.logins) ------------------------------------------

UNREADABLE = "unreadable"  # a row's via for a file that cannot be read: its note says why


def every_source(docker_path: str) -> list[dict[str, str]]:
    """The rows of every file Docker and Podman read (logins.sources), Docker's config first: its
    helpers by Docker's rule, the others' by Podman's; every plaintext login of each, with what
    each tool makes of it; one row for a file that cannot be read."""
    listings: dict[str, dict[str, str] | str] = {}
    sources = logins.sources(docker_path)
    try:
        helpers, rows = credential_helpers().helpers, []
    except ConfigError as err:  # its message names the registries.conf file
        helpers, rows = DEFAULT_HELPERS, [_unreadable("", str(err))]
    found = logins.plaintext_logins(sources)
    for source in sources:
        if source.config is None:
            rows.append(_unreadable(source.path, source.error))
            continue
        if not source.legacy:
            docker = logins.DOCKER in source.readers
            rows += _shadowed_helpers(registry_sources(source.config, listings, not docker), source, sources, found)
        rows += [_plaintext_row(login, sources, helpers) for login in found if login.source is source]
    return rows


def _unreadable(path: str, error: str) -> dict[str, str]:
    return {"registry": "", "via": UNREADABLE, "helper": "", "username": "", "file": path, "note": error}


def _shadowed_helpers(
    rows: list[dict[str, str]], source: logins.Source, sources: list[logins.Source], found: list[logins.Login]
) -> list[dict[str, str]]:
    """rows, each credHelpers row of a Podman-only file noting an earlier file's plaintext login
    for the registry: Podman reads that first and never reaches this entry while it is there."""
    if logins.DOCKER in source.readers:
        return rows
    order = logins.podman_order(sources)
    earlier = order[: order.index(source)]
    for row in rows:
        first = next((login for login in found if login.scope == row["registry"] and login.source in earlier), None)
        if first is not None:
            shadowed = f"not reached by Podman while {first.source.path} holds a plaintext login for it"
            row["note"] = f"{shadowed}; {row['note']}" if row["note"] else shadowed
    return rows


def _plaintext_row(login: logins.Login, sources: list[logins.Source], helpers: tuple[str, ...]) -> dict[str, str]:
    path = login.source.path
    if login.error:
        return _plaintext(path, login.key, "?", f"unreadable: {login.error}")
    row = _plaintext(
        path, login.key, login.username, f"plaintext in the file: {_plaintext_note(login, sources, helpers)}"
    )
    return with_expiry(row, expiry.expiry_of(login.key, login.username, login.secret))


def _plaintext_note(login: logins.Login, sources: list[logins.Source], helpers: tuple[str, ...]) -> str:
    """What Docker and Podman make of a plaintext login, and what to do."""
    source = login.source
    notes = []
    docker_served = source.config is not None and source.config.helper_for(login.key).via != PLAINTEXT
    if logins.DOCKER in source.readers and docker_served:
        notes.append("ignored by Docker: a helper serves this registry")
    if logins.PODMAN in source.readers:
        if not login.podman_reads:
            notes.append("Podman ignores it: it reads only an `auth` field")
        elif login.shadowed_by:
            notes.append(f"never used by Podman: it reads the login in {login.shadowed_by} first")
        elif logins.helper_first(login, sources, helpers):
            notes.append("ignored by Podman while its helper holds a login")
        elif notes:
            notes.append("Podman reads it: run `credctl migrate`")
    if not notes or (logins.DOCKER in source.readers and not docker_served):
        notes.append("run `credctl migrate`")
    if login.namespace:
        notes.insert(0, f"for images under {login.scope}")
    return "; ".join(notes)


def run_list(as_json: bool) -> int:
    """`credctl list [--json]` as the app would run it with no --config; returns the exit status."""
    from credctl.dockerconfig import docker_config_path

    try:
        show_sources(docker_config_path(None), as_json)
    except BrokenPipeError:  # `credctl list | head -1`: the reader left; exit 1 quietly, as click does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 1
    except (CredctlError, OSError) as err:
        return report(err)
    return 0


def show_sources(docker_path: str, as_json: bool) -> None:
    """Every registry's row (every_source), as a table or as JSON; ConfigError after listing
    when a file cannot be read."""
    rows = with_docker_auth_config(every_source(docker_path), dockerenv.read(), docker_path)
    rows = [_as_bookkeeping(row) if is_hub_bookkeeping(row["registry"]) else row for row in rows]
    if as_json:
        print_json(rows)
        _fail_on_unreadable(rows)
        return
    unreadable = [row for row in rows if row["via"] == UNREADABLE]  # the table leaves them to the error line
    rows = [row for row in rows if row["via"] != UNREADABLE]
    if not rows:
        _fail_on_unreadable(unreadable)
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
    _fail_on_unreadable(unreadable)
