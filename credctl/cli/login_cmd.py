"""`credctl login`, `credctl logout`, `credctl show`: one registry's login, wherever Docker and
Podman look for it.

The places (places()) are the one answer to "where would Docker and Podman look for this
registry's login": Docker's by ConfigFile.helper_for (credHelpers entry, else credsStore, which
may be the router `credctl`, whose route decides: credctl.routes), Podman's by credctl.logins
(registries.conf's credential-helpers, credHelpers entries in the files it reads), when Podman,
Buildah or Skopeo is here or has been set up.

- login: checked against the registry's /v2/ first (credctl.registry.check_login, the check
  `verify --online` makes), then stored through each place's helper; a place that would keep it
  in plaintext refuses the whole login before anything is stored (`credctl setup` first). One
  store both tools ask gets it once: credctl's stores answer every Docker Hub key from one copy
  (protocol.store_login, get_with_hub_fallback).
- logout: the login out of every place's helper (every Docker Hub key) and out of every plaintext
  entry for the registry in Docker's and Podman's files, one line for each; nothing anywhere is
  "not logged in", exit 0 (as `docker logout` of a registry it has no login for).
- show: each place's login (username, helper, where that is configured, an issued token's
  expiry), and plaintext logins in the files; never the secret.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from credctl import expiry, logins
from credctl import podman as containers
from credctl.cli.common import PODMAN_TOOLS, checked_registry, docker_config
from credctl.cli.output import info, interactive, print_json, success, warn
from credctl.dockerconfig import AUTOMATIC, CRED_HELPERS, CREDS_STORE, ConfigFile, edit
from credctl.errors import ConfigError, CredctlError, CredentialsNotFound, StoreError, UsageError
from credctl.names import PREFIX, ROUTER, helper_key, login_keys
from credctl.routes import Routes, Rule, routing_name
from credctl.stores.base import Store

DOCKER, PODMAN = logins.DOCKER, logins.PODMAN
# Place.via, as show --json gives it.
VIA_CRED_HELPERS, VIA_CREDS_STORE, VIA_AUTOMATIC = "credHelpers", "credsStore", "automatic"
VIA_CREDENTIAL_HELPERS, VIA_PLAINTEXT = "credential-helpers", "plaintext"


class Place:
    """Where one tool looks for a registry's login.

    tool: DOCKER or PODMAN; key: the server URL it asks (Docker Hub: Docker's v1 URL, Podman's
    docker.io); helper: the docker-credential-* suffix, "" when the login is kept in a file; via:
    one of the VIA_* values (where the helper is named); path: the file that configures it (for
    plaintext, the file the login would be written to); rule: the router's route for key when
    helper is the router `credctl` (None: no route serves it, or another helper)."""

    __slots__ = ("helper", "key", "path", "rule", "tool", "via")

    def __init__(self, tool: str, key: str, helper: str, via: str, path: str, environ=os.environ) -> None:
        self.tool, self.key, self.helper, self.via, self.path = tool, key, helper, via, path
        self.rule: Rule | None = Routes.load(environ).route_for(key, environ) if helper == ROUTER else None

    @property
    def store_name(self) -> str:
        """The store behind the helper, as two places compare it (the router's route's helper)."""
        from credctl.stores import canonical

        return canonical(self.rule.helper if self.rule is not None else self.helper)

    @property
    def program(self) -> str:
        return f"{PREFIX}{self.helper}" if self.helper else ""

    @property
    def configured(self) -> str:
        """Where this place is configured, for people (the router's route too)."""
        if self.helper == ROUTER:
            route = "no route" if self.rule is None else f"route {self.rule.pattern} → {self.rule.helper}"
            return f"{self.named_in}, {route}"
        return self.named_in

    @property
    def named_in(self) -> str:
        """Where the helper (or the plaintext file) is named."""
        if self.via == VIA_CRED_HELPERS:
            return f"credHelpers {self.key} in {self.path}"
        if self.via == VIA_CREDS_STORE:
            return f"credsStore {self.helper} in {self.path}" if self.helper == ROUTER else f"credsStore in {self.path}"
        if self.via == VIA_AUTOMATIC:
            return f"docker's own default store ({self.path} sets none)"
        if self.via == VIA_CREDENTIAL_HELPERS:
            return f"credential-helpers in {self.path}"
        return f"plaintext in {self.path}"

    def acr_environ(self, environ=os.environ) -> dict[str, str] | None:
        """The environment credctl's ACR login runs with for this place's helper (acr-helper, a
        recorded profile, a router route to either), None when the helper is not ACR's."""
        from credctl.helperstore import acr_environ

        return acr_environ(self.store_name, environ)

    def store(self, environ=os.environ) -> Store:
        """The Store that answers for this place's helper (the router itself for `credctl`)."""
        from credctl.helperstore import store_for

        return store_for(self.helper, environ, Routes.load(environ).timeout)


def podman_here(environ=os.environ) -> bool:
    """Whether Podman, Buildah or Skopeo is on PATH, or credctl's Podman drop-in is there."""
    return os.path.exists(containers.dropin_path(environ)) or any(
        shutil.which(tool, path=environ.get("PATH")) for tool in PODMAN_TOOLS
    )


def places(registry: str, docker_path: str, environ=os.environ) -> list[Place]:
    """Where Docker (and Podman, when podman_here) look for registry's login, Docker first."""
    from credctl.programs import docker_default_store

    found = [_docker_place(registry, docker_path, docker_default_store(), environ)]
    if podman_here(environ):
        found.append(_podman_place(registry, docker_path, environ))
    return found


def _docker_place(registry: str, docker_path: str, automatic: str, environ) -> Place:
    route = ConfigFile.read(docker_path).helper_for(registry, automatic=automatic)
    via = {CRED_HELPERS: VIA_CRED_HELPERS, CREDS_STORE: VIA_CREDS_STORE, AUTOMATIC: VIA_AUTOMATIC}.get(
        route.via, VIA_PLAINTEXT
    )
    return Place(DOCKER, route.key, route.helper, via, docker_path, environ)


def _podman_place(registry: str, docker_path: str, environ) -> Place:
    key = helper_key(registry, podman=True)
    setting = containers.credential_helpers(environ)
    helper, entry_file = logins.podman_helper_at(key, logins.sources(docker_path, environ), setting.helpers, environ)
    if not helper:
        return Place(PODMAN, key, "", VIA_PLAINTEXT, containers.primary_auth_path(environ))
    if entry_file:
        return Place(PODMAN, key, helper, VIA_CRED_HELPERS, entry_file, environ)
    return Place(PODMAN, key, helper, VIA_CREDENTIAL_HELPERS, setting.source or "registries.conf", environ)


def _groups(found: list[Place]) -> list[list[Place]]:
    """The places by the store behind them, in order: one store both tools ask is one group."""
    groups: dict[str, list[Place]] = {}
    for place in found:
        groups.setdefault(place.store_name, []).append(place)
    return list(groups.values())


def _tools(group: list[Place]) -> str:
    return " and ".join(dict.fromkeys(place.tool.capitalize() for place in group))


# --- login ---------------------------------------------------------------------------------------


def _refusal(place: Place, registry: str) -> str | None:
    """Why a login cannot go to place (one line), or None when it can."""
    if not place.helper:
        who = "Docker" if place.tool == DOCKER else "Podman"
        return (
            f"{who} would keep the login for {place.key} in plaintext in {place.path}: nothing stored; "
            f"run `credctl setup` so that a credential helper keeps it, then `credctl login {registry}` again"
        )
    from credctl.helperstore import is_own
    from credctl.programs import on_path

    if not is_own(place.helper) and not on_path(place.program):
        who = "Docker" if place.tool == DOCKER else "Podman"
        return (
            f"{who} runs {place.program} for {place.key} ({place.configured}), which is not on PATH: "
            "nothing stored; install it, or map the registry to another helper"
        )
    if place.helper == ROUTER and place.rule is None:
        return (
            f"no route of the router ({place.named_in}) serves {routing_name(place.key)}: "
            f"nothing stored; add one (`credctl route add {routing_name(place.key)} pass`) or a default route"
        )
    return None


def _read_secret(password_stdin: bool) -> str:
    """The password: stdin's text without one trailing newline (as docker login --password-stdin),
    else asked on the terminal without echo."""
    if password_stdin:
        secret = sys.stdin.read()
        return secret.removesuffix("\n").removesuffix("\r")
    return typer.prompt("Password", hide_input=True)


def _read_login(username: str | None, password_stdin: bool) -> tuple[str, str]:
    if password_stdin and not username:
        raise UsageError("--password-stdin needs the username: add -u USER", option="--password-stdin")
    if not password_stdin and not interactive():
        raise UsageError("no terminal to ask the password on: pass it on stdin with --password-stdin")
    username = username or typer.prompt("Username")
    secret = _read_secret(password_stdin)
    if not username.strip() or not secret:
        raise UsageError("the username and the password must not be empty")
    return username, secret


def _check(registry: str, username: str, secret: str) -> None:
    """The login against registry's /v2/; StoreError (one line, no secret) when it is refused or
    the registry cannot be reached."""
    from credctl.registry import check_login

    result = check_login(registry, username, secret)
    if result.status == "failed":
        raise StoreError(f"{helper_key(registry)}: {result.detail}: nothing stored")
    if result.status == "warning":
        warn(result.detail)


def _store_group(group: list[Place], username: str, secret: str, environ) -> None:
    """The login into the store behind group: once under the first place's key for one of
    credctl's stores and the router (they answer every Docker Hub key from it, leaving no stale
    copy), under each place's key for another program."""
    from credctl.helperstore import is_own
    from credctl.protocol import store_login

    first = group[0]
    backend = first.store(environ)
    if first.helper == ROUTER or is_own(first.helper, environ):
        store_login(backend, first.key, username, secret)
    else:
        for key in dict.fromkeys(place.key for place in group):
            backend.add(key, username, secret)
    success(f"stored the login for {first.key} (user {username}) in {first.program} for {_tools(group)}")


def login(
    ctx: typer.Context,
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], or docker.io.")],
    username: Annotated[str | None, typer.Option("-u", "--username", help="The username (asked when missing).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (one trailing newline dropped).")
    ] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Store it without checking it against /v2/.")] = False,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="DATE",
            help="When the password or token stops working (2027-01-31, an RFC 3339 time, or 90d from now): "
            "kept beside the store for list, show and verify --expiring-within.",
        ),
    ] = None,
) -> None:
    """Log in to REGISTRY: checked against its /v2/, stored where Docker and Podman look for it."""
    registry = checked_registry(registry)
    until = expiry.parse_date(expires) if expires is not None else None
    found = places(registry, docker_config(ctx))
    for place in found:
        refused = _refusal(place, registry)
        if refused:
            raise ConfigError(refused)
    username, secret = _read_login(username, password_stdin)
    if not no_verify:
        _check(registry, username, secret)
    stored: list[str] = []
    for group in _groups(found):
        try:
            _store_group(group, username, secret, os.environ)
        except CredctlError as err:
            if not stored:
                raise
            raise StoreError(
                f"{err}; stored already for {', '.join(stored)}: `credctl logout {registry}` undoes it"
            ) from None
        stored.append(f"{_tools(group)} in {group[0].program}")
    expiry.record(registry, username, until)  # a new login: an earlier date given is no longer its own


# --- logout --------------------------------------------------------------------------------------


def _held(place: Place, backend: Store, key: str, environ) -> str | None:
    """The username of the login kept for key behind place (for ACR: the stored login, not an
    issued token), None when there is none."""
    acr_environ = place.acr_environ(environ)
    if acr_environ is not None:
        from credctl.stores.fallback import stored

        found = stored(key, acr_environ)
        return None if found is None else found[0]
    try:
        return backend.get(key)[0]
    except CredentialsNotFound:
        return None


def _erase_group(group: list[Place], environ) -> list[str]:
    """Every key of the login (every Docker Hub key) out of group's helper: a line for each removed."""
    first = group[0]
    backend = first.store(environ)
    removed = []
    for key in dict.fromkeys(k for place in group for k in login_keys(place.key)):
        user = _held(first, backend, key, environ)
        if user is None:
            continue
        backend.delete(key)
        removed.append(f"removed {key} (user {user}) from {first.program} (read by {_tools(group)})")
    return removed


def _plaintext_of(registry: str, docker_path: str, environ) -> list[logins.Login]:
    """The plaintext logins for registry (any spelling of it, namespaces too) in the files Docker and Podman read."""
    wanted = routing_name(registry)
    found = logins.plaintext_logins(logins.sources(docker_path, environ), environ)
    return [login for login in found if not login.error and routing_name(login.registry) == wanted]


def _strip(login: logins.Login) -> str | None:
    """login's entry out of its file, if the file still has it (under the file's lock)."""
    done: list[bool] = []

    def change(config: ConfigFile) -> None:
        if logins.entry_of(login.source, config, login.key) is not None:
            logins.strip(login.source, config, login.key)
            done.append(True)

    edit(login.source.path, change)
    return f"removed {login.key} (user {login.username}) from {login.source.path} (plaintext)" if done else None


def logout(
    ctx: typer.Context,
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], or docker.io.")],
) -> None:
    """Log out of REGISTRY: its login out of every helper and file Docker and Podman read it from."""
    registry = checked_registry(registry)
    docker_path = docker_config(ctx)
    environ = os.environ
    lines: list[str] = []
    failures = 0
    for group in _groups([place for place in places(registry, docker_path, environ) if place.helper]):
        try:
            lines += _erase_group(group, environ)
        except CredctlError as err:
            failures += 1
            warn(f"{group[0].program}: {err}")
    for login in _plaintext_of(registry, docker_path, environ):
        line = _strip(login)
        if line:
            lines.append(line)
    for line in lines:
        success(line)
    expiry.forget(registry)
    if failures:
        raise StoreError(f"{failures} helper(s) could not be asked to remove the login for {registry}: see above")
    if not lines:
        info(f"not logged in to {registry}: no login for it where Docker or Podman look")


# --- show ----------------------------------------------------------------------------------------


def _found(place: Place, environ) -> dict[str, object]:
    """place's login as show gives it: username, expiry (credctl.expiry) and error; never the secret."""
    from credctl.protocol import get_with_hub_fallback

    answer: dict[str, object] = {"username": None, "expires": None, "error": None}
    try:
        acr_environ = place.acr_environ(environ)
        if acr_environ is not None:
            from credctl.stores.fallback import login_for

            username, secret, issued = login_for(place.key, acr_environ)
        else:
            (username, secret), issued = get_with_hub_fallback(place.store(environ), place.key), None
    except CredentialsNotFound:
        return answer
    except CredctlError as err:
        return dict(answer, error=str(err))
    return dict(answer, username=username, expires=expiry.expiry_of(place.key, username, secret, issued, environ))


def _entry(place: Place, environ) -> dict[str, object]:
    entry: dict[str, object] = {
        "tool": place.tool,
        "key": place.key,
        "helper": place.helper,
        "via": place.via,
        "file": place.path,
        "route": place.rule.pattern if place.rule is not None else None,
        "route_helper": place.rule.helper if place.rule is not None else None,
    }
    if place.helper:
        entry.update(_found(place, environ))
    else:
        entry.update({"username": None, "expires": None, "error": None})
    return entry


def _plaintext_entry(login: logins.Login) -> dict[str, object]:
    tool = PODMAN if DOCKER not in login.source.readers else DOCKER
    return {
        "tool": tool,
        "key": login.key,
        "helper": "",
        "via": VIA_PLAINTEXT,
        "file": login.source.path,
        "route": None,
        "route_helper": None,
        "username": login.username,
        "expires": expiry.expiry_of(login.key, login.username, login.secret),
        "error": None,
    }


def _line(entry: dict[str, object], place: Place | None) -> str:
    where = place.configured if place is not None else f"plaintext in {entry['file']}"
    tool = str(entry["tool"]).capitalize()
    if entry["error"]:
        return f"{tool}: {entry['key']}: {entry['error']} ({where})"
    if entry["username"] is None:
        return f"{tool}: {entry['key']}: not logged in ({where})"
    source = f"from {PREFIX}{entry['helper']}" if entry["helper"] else "from the file"
    found = entry["expires"]
    until = f", {found.describe()}" if isinstance(found, expiry.Expiry) else ""
    return f"{tool}: {entry['key']}: user {entry['username']} {source}{until} ({where})"


def _as_json(entry: dict[str, object]) -> dict[str, object]:
    """entry as show --json gives it: expires as RFC 3339 and expires_from (token, jwt, given), or null."""
    found = entry["expires"]
    if not isinstance(found, expiry.Expiry):
        return dict(entry, expires=None, expires_from=None)
    return dict(entry, expires=expiry.stamp(found.when), expires_from=found.source)


def show(
    ctx: typer.Context,
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], or docker.io.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON (docs/guide.md describes it).")] = False,
) -> None:
    """Show who is logged in to REGISTRY, from which helper, configured where; never the secret."""
    registry = checked_registry(registry)
    docker_path = docker_config(ctx)
    environ = os.environ
    found = places(registry, docker_path, environ)
    entries = [(_entry(place, environ), place) for place in found]
    entries += [(_plaintext_entry(login), None) for login in _plaintext_of(registry, docker_path, environ)]
    if json_output:
        rows = [_as_json(entry) for entry, _ in entries]
        print_json({"registry": helper_key(registry), "logins": rows})
        return
    for entry, place in entries:
        info(_line(entry, place))
