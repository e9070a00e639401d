"""`credctl verify [REGISTRY…] [--json] [--online]`: the doctor.

Every check is one row (check, target, status, detail), status ok, warning or failed:

- config          Docker's config.json (and Podman's auth.json, when there is one) parses;
- helper          for each docker-credential-* program a config names, the one Docker runs (the first on
                  this process's PATH) and whether it is credctl's: failed when Docker finds none,
                  warning when it runs another program than credctl's copy (credctl.programs);
- store           for credctl's own stores, the store's health (the same answer setup uses);
- list            the helper answers `list` (read-only, safe for any helper);
- round trip      for credctl's stores: store, get and erase a probe credential;
- registry        which helper serves a registry (credHelpers, credsStore, plaintext auths);
- credentials     whether that helper has credentials for it (the username, never the secret);
- login           with --online: a real Docker Registry v2 login with those credentials.

verify only reads: it never writes a config file, and the probe credential is always erased.
With --json every row is {"check", "target", "status", "detail"}; helper rows add "runs" (the program
Docker runs, or null), "credctl" (whether that is credctl's) and "credctl_path" (credctl's own copy,
or null when credctl has no helper of that name).
Exit status 0 when no row failed (warnings allowed), else 1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

import typer

from credctl import client
from credctl.cli.output import busy, docker_config, fail, info, print_json, show_table
from credctl.dockerconfig import ConfigFile, plaintext_credentials, podman_auth_path
from credctl.errors import ConfigError, CredctlError, CredentialsNotFound
from credctl.names import IDENTITY_TOKEN_USER, helper_key
from credctl.programs import find_helper
from credctl.stores import LOGIN_STORES, PREFIX, STORES, open_store

PROBE_SERVER = "credctl-verify.invalid"  # .invalid: reserved, never a real registry
PROBE_USER = "credctl-verify"
HELPER_TIMEOUT = 30.0
VERSION_TIMEOUT = 10.0
STORE_OF_SUFFIX = {spec.suffix: name for name, spec in STORES.items()}
_STYLES = {"ok": "green", "warning": "yellow", "failed": "red"}


@dataclass
class Row:
    check: str
    target: str
    status: str  # ok | warning | failed
    detail: str
    facts: dict[str, object] = field(default_factory=dict)  # extra JSON fields of this check (helper rows)


@dataclass
class _Helper:
    """One docker-credential-* program a config names."""

    suffix: str
    uses: list[str]
    path: str | None = None  # the copy that PATH lookup finds (what docker runs), None if none
    listing: dict[str, str] | None = None  # what `list` answered

    @property
    def program(self) -> str:
        return PREFIX + self.suffix


def verify(
    ctx: typer.Context,
    registries: Annotated[
        list[str] | None,
        typer.Argument(metavar="REGISTRY", help="Check only these registries (host[:port], or docker.io)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the checks as a JSON list.")] = False,
    online: Annotated[
        bool, typer.Option("--online", help="Also log in to each registry's /v2/ with its stored credentials.")
    ] = False,
) -> None:
    """Check the whole set-up and say what to fix.

    Can Docker and Podman get your registry credentials?

    Checks each helper on PATH (and which copy wins), store health and a probe store/get/erase round trip.

    Then, per registry: which helper serves it and whether it has credentials; --online also logs in.

    Exit status 0 when nothing failed (warnings are allowed), 1 otherwise.
    """
    rows: list[Row] = []
    with busy("Checking…", show=not json_output):
        _run_checks(rows, docker_config(ctx), registries or [], online)
    _show(rows, json_output)
    failed = sum(row.status == "failed" for row in rows)
    if failed:
        fail(f"{failed} check{'s' if failed != 1 else ''} failed: see the details above")


def _run_checks(rows: list[Row], docker_path: str, wanted: list[str], online: bool) -> None:
    docker = _read_config(rows, "config", docker_path)
    if docker is None:
        return  # nothing else can be judged without Docker's config
    creds_store, automatic = _effective_store(docker)
    _describe_docker(rows, docker, creds_store, automatic)
    podman = None
    podman_path = podman_auth_path()
    if os.path.exists(podman_path) and os.path.realpath(podman_path) != os.path.realpath(docker_path):
        podman = _read_config(rows, "podman config", podman_path)
        if podman is not None:
            _describe_podman(rows, podman)

    helpers = _referenced_helpers(docker, podman, creds_store, automatic)
    for helper in helpers.values():
        _check_helper(rows, helper)
    for helper in helpers.values():
        if helper.path is not None:
            _check_store(rows, helper)

    keys = [helper_key(name) for name in wanted] if wanted else _known_registries(docker, helpers, creds_store)
    for key in dict.fromkeys(keys):
        found = _check_registry(rows, docker, key, creds_store, automatic, helpers)
        if online:
            if found is not None:
                _check_login(rows, key, found)
            elif wanted:
                rows.append(Row("login", key, "warning", "not checked: no credentials stored"))


# -- config files ------------------------------------------------------------------------------


def _read_config(rows: list[Row], check: str, path: str) -> ConfigFile | None:
    try:
        config = ConfigFile.read(path)
    except ConfigError as err:
        rows.append(Row(check, path, "failed", str(err)))
        return None
    return config


def _effective_store(docker: ConfigFile) -> tuple[str | None, bool]:
    """(credsStore docker uses, whether docker chose it itself).

    docker's LoadDefaultConfigFile: a file with no credsStore, no credHelpers and no auths gets
    the platform's default store, if its helper is on PATH (Linux: pass when `pass` is installed,
    else secretservice).
    """
    configured = docker.get("credsStore")
    if configured:
        return str(configured), False
    if docker.get("credHelpers") or docker.get("auths"):
        return None, False
    if sys.platform == "darwin":
        default = "osxkeychain"
    elif sys.platform == "win32":
        default = "wincred"
    else:
        default = "pass" if shutil.which("pass") else "secretservice"
    return (default, True) if find_helper(default).runs else (None, False)


def _describe_docker(rows: list[Row], docker: ConfigFile, creds_store: str | None, automatic: bool) -> None:
    helpers = docker.get("credHelpers") or {}
    mapped = f"{len(helpers)} credHelpers entr{'y' if len(helpers) == 1 else 'ies'}"
    state = "valid" if docker.text.strip() else "does not exist yet" if not os.path.exists(docker.path) else "empty"
    bad = _undecodable(docker)
    if bad:
        rows.append(
            Row(
                "config",
                docker.path,
                "failed",
                f"{'; '.join(bad)}: docker cannot load this file (it warns and carries on with what it read "
                "before the error); fix or remove those entries",
            )
        )
    elif automatic:
        rows.append(
            Row(
                "config",
                docker.path,
                "warning",
                f"{state}; no credsStore, credHelpers or auths, so docker picks credsStore {creds_store!r} by itself "
                f"while {PREFIX}{creds_store} is on PATH: make it explicit with `credctl setup`",
            )
        )
    elif creds_store:
        rows.append(Row("config", docker.path, "ok", f"{state}; credsStore {creds_store!r}, {mapped}"))
    elif helpers:
        rows.append(Row("config", docker.path, "ok", f"{state}; no credsStore, {mapped}"))
    else:
        rows.append(
            Row(
                "config",
                docker.path,
                "warning",
                f"{state}; no credential helper: docker saves logins in plaintext here (run `credctl setup`)",
            )
        )


def _describe_podman(rows: list[Row], podman: ConfigFile) -> None:
    helpers = podman.get("credHelpers") or {}
    mapped = f"{len(helpers)} credHelpers entr{'y' if len(helpers) == 1 else 'ies'}"
    if podman.get("credsStore"):
        rows.append(
            Row(
                "podman config",
                podman.path,
                "warning",
                f"{mapped}; its credsStore is ignored by Podman, Skopeo and Buildah: map registries with "
                "credHelpers instead (`credctl setup --podman`)",
            )
        )
    else:
        rows.append(Row("podman config", podman.path, "ok", f"valid; {mapped}"))


def _referenced_helpers(
    docker: ConfigFile, podman: ConfigFile | None, creds_store: str | None, automatic: bool
) -> dict[str, _Helper]:
    helpers: dict[str, _Helper] = {}

    def use(suffix: object, where: str) -> None:
        if isinstance(suffix, str) and suffix:
            helpers.setdefault(suffix, _Helper(suffix, [])).uses.append(where)

    use(creds_store, "credsStore (docker's automatic choice)" if automatic else "credsStore")
    for key, suffix in (docker.get("credHelpers") or {}).items():
        use(suffix, f"credHelpers[{key}]")
    if podman is not None:
        for key, suffix in (podman.get("credHelpers") or {}).items():
            use(suffix, f"Podman credHelpers[{key}]")
    return helpers


# -- helpers on PATH, stores, protocol ----------------------------------------------------------


def _version(path: str) -> str | None:
    """The first line `path version` prints (every docker-credential-helpers program has it)."""
    try:
        result = subprocess.run(
            [path, "version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=VERSION_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else None


def _uses(helper: _Helper) -> str:
    shown = helper.uses[:3] + ([f"{len(helper.uses) - 3} more"] if len(helper.uses) > 3 else [])
    return "used by " + ", ".join(shown)


def _check_helper(rows: list[Row], helper: _Helper) -> None:
    """The program Docker runs for the helper (programs.find_helper), and whether it is credctl's."""
    found = find_helper(helper.suffix)
    helper.path = found.runs
    facts = {"runs": found.runs, "credctl": found.runs_ours, "credctl_path": found.ours}
    if found.runs is None:
        rows.append(Row("helper", helper.program, found.status, f"{found.problem}; {_uses(helper)}", facts))
        return
    version = _version(found.runs) or "no version"
    if found.problem is not None:
        detail = f"{found.problem}; {found.runs} answers version: {version}; {_uses(helper)}"
    else:
        whose = "credctl's" if found.runs_ours else "first on PATH"
        others = f"; also on PATH, not used: {', '.join(found.candidates[1:])}" if found.candidates[1:] else ""
        detail = f"Docker runs {found.runs} ({whose}; {version}){others}; {_uses(helper)}"
    rows.append(Row("helper", helper.program, found.status, detail, facts))


def _check_store(rows: list[Row], helper: _Helper) -> None:
    """list for any helper; for credctl's stores also health and a probe round trip."""
    store = STORE_OF_SUFFIX.get(helper.suffix)
    healthy = False
    if store is not None:
        try:
            health = open_store(store).health()
            healthy = health.ok
            rows.append(Row("store", store, "ok" if health.ok else "failed", health.detail))
        except Exception as err:  # a doctor reports what is wrong; it does not crash on it
            rows.append(Row("store", store, "failed", f"cannot check the {store} store: {err}"))
    try:
        listing = client.list_credentials(helper.suffix, timeout=HELPER_TIMEOUT)
    except CredctlError as err:
        rows.append(Row("list", helper.program, "failed", str(err)))
    else:
        helper.listing = {key: user for key, user in listing.items() if key != PROBE_SERVER}
        count = len(helper.listing)
        rows.append(Row("list", helper.program, "ok", f"answers list: {count} credential{'s' * (count != 1)}"))
    if healthy and store in LOGIN_STORES:  # ACR issues tokens: nothing to store and read back
        rows.append(Row("round trip", helper.program, *_round_trip(helper.suffix)))


def _round_trip(suffix: str) -> tuple[str, str]:
    """store, get and compare, then always erase a probe credential; (status, detail)."""
    probe = client.Credentials(PROBE_SERVER, PROBE_USER, secrets.token_urlsafe(24))
    outcome: tuple[str, str]
    try:
        client.store(suffix, probe, timeout=HELPER_TIMEOUT)
        back = client.get(suffix, PROBE_SERVER, timeout=HELPER_TIMEOUT)
        if (back.username, back.secret) == (probe.username, probe.secret):
            outcome = ("ok", f"stored, read back and erased a probe credential for {PROBE_SERVER}")
        else:
            outcome = ("failed", "get returned other credentials than store was given")
    except CredctlError as err:
        outcome = ("failed", str(err))
    try:
        client.erase(suffix, PROBE_SERVER, timeout=HELPER_TIMEOUT)
    except CredentialsNotFound:
        pass  # store never got that far
    except CredctlError as err:
        if outcome[0] == "ok":
            outcome = ("failed", f"the probe was stored and read back, but {err}")
        else:
            outcome = (outcome[0], f"{outcome[1]}; erasing the probe also failed: {err}")
    return outcome


# -- registries ---------------------------------------------------------------------------------


def _known_registries(docker: ConfigFile, helpers: dict[str, _Helper], creds_store: str | None) -> list[str]:
    """Every registry the config or the default store knows, as docker's keys."""
    keys: list[str] = list(docker.get("credHelpers") or {})
    keys += list(docker.get("auths") or {})
    default = helpers.get(creds_store) if creds_store else None
    if default is not None and default.listing:
        keys += list(default.listing)
    return [key for key in dict.fromkeys(helper_key(key) for key in keys) if key and key != PROBE_SERVER]


def _auths_entry(docker: ConfigFile, key: str) -> object:
    """The auths entry docker's file store uses for key: exact, else the first with that hostname."""
    auths = docker.get("auths") or {}
    entry = auths.get(key)
    if entry is None:
        entry = next((value for name, value in auths.items() if helper_key(name) == key), None)
    return entry


def _plaintext(entry: object) -> client.Credentials | None:
    """The login a plaintext auths entry holds (None for none, and for one docker cannot decode)."""
    try:
        found = plaintext_credentials(entry)
    except ConfigError:
        return None
    return None if found is None else client.Credentials("", *found)


def _undecodable(docker: ConfigFile) -> list[str]:
    """auths entries whose `auth` docker rejects (it then warns and ignores the whole file)."""
    bad = []
    for key, entry in (docker.get("auths") or {}).items():
        try:
            plaintext_credentials(entry)
        except ConfigError as err:
            bad.append(f"auths[{key}]: {err}")
    return bad


def _check_registry(
    rows: list[Row],
    docker: ConfigFile,
    key: str,
    creds_store: str | None,
    automatic: bool,
    helpers: dict[str, _Helper],
) -> client.Credentials | None:
    """Rows for which helper serves key and whether it has credentials; returns them, if any."""
    mapped = (docker.get("credHelpers") or {}).get(key)
    suffix = mapped or creds_store
    stale = _plaintext(_auths_entry(docker, key))
    if suffix is None:
        if stale is None:
            rows.append(
                Row("registry", key, "warning", "no helper serves it: docker would save a login in plaintext here")
            )
            rows.append(Row("credentials", key, "warning", "no credentials stored"))
            return None
        rows.append(
            Row("registry", key, "warning", "plaintext login in config.json auths: move it with `credctl migrate`")
        )
        rows.append(Row("credentials", key, "ok", f"{_who(stale)} (plaintext)"))
        return stale
    how = "credHelpers" if mapped else "credsStore, chosen by docker" if automatic else "credsStore"
    helper = helpers.get(suffix)
    where = f"{PREFIX}{suffix} ({how})"
    if helper is None or helper.path is None:
        rows.append(Row("registry", key, "failed", f"served by {where}, which is not on PATH"))
        return None
    if stale is not None:
        rows.append(
            Row(
                "registry",
                key,
                "warning",
                f"served by {where}; an old plaintext login for it is still in config.json auths (docker ignores "
                "it, others may not): move it with `credctl migrate`",
            )
        )
    else:
        rows.append(Row("registry", key, "ok", f"served by {where}"))
    try:
        found = client.get(suffix, key, timeout=HELPER_TIMEOUT)
    except CredentialsNotFound:
        rows.append(Row("credentials", key, "warning", "no credentials stored"))
        return None
    except CredctlError as err:
        rows.append(Row("credentials", key, "failed", str(err)))
        return None
    rows.append(Row("credentials", key, "ok", f"{_who(found)} in {PREFIX}{suffix}"))
    return found


def _who(credentials: client.Credentials) -> str:
    if credentials.username == IDENTITY_TOKEN_USER:
        return "an identity token"
    return f"user {credentials.username!r}"


def _check_login(rows: list[Row], key: str, credentials: client.Credentials) -> None:
    from credctl.registry import check_login  # urllib: only when asked for

    result = check_login(key, credentials.username, credentials.secret)
    rows.append(Row("login", key, result.status, result.detail))


# -- output -------------------------------------------------------------------------------------


def _show(rows: Iterable[Row], json_output: bool) -> None:
    rows = list(rows)
    if json_output:
        print_json(
            [
                {"check": row.check, "target": row.target, "status": row.status, "detail": row.detail, **row.facts}
                for row in rows
            ]
        )
        return
    cells = [[row.check, row.target, row.status, row.detail] for row in rows]
    styles = [_STYLES[row.status] if row.status != "ok" else None for row in rows]
    show_table("credctl verify", ("check", "target", "status", "detail"), cells, styles)
    counts = {status: sum(row.status == status for row in rows) for status in _STYLES}
    warnings = f"{counts['warning']} warning{'s' * (counts['warning'] != 1)}"
    info(f"{counts['ok']} ok, {warnings}, {counts['failed']} failed")
