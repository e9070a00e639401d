"""`credctl verify [REGISTRY…] [--json] [--online]`: the doctor.

Every check is one row (check, target, status, detail), status ok, warning or failed:

- config          Docker's config.json (and Podman's auth.json, when there is one) parses; when
                  DOCKER_AUTH_CONFIG is set, what docker makes of it (credctl.dockerenv);
- podman login    where Podman has left a trace: the file `podman login` writes, and the helpers podman asks
                  (registries.conf's credential-helpers, and the file that set them): warning when logins land
                  there in plaintext;
- podman drop-in  credctl's registries.conf.d drop-in, when there is one: in effect, or overridden (by which file);
- podman plaintext  a plaintext login in a file Podman reads besides Docker's config (credctl.logins): warning,
                  naming the file (failed when it cannot be decoded); a file Podman reads that does not
                  parse is a failed `podman config` row;
- helper          for each docker-credential-* program a config names, the one Docker runs (the first on
                  this process's PATH) and whether it is credctl's: failed when Docker finds none,
                  warning when it runs another program than credctl's copy (credctl.programs);
- store           for credctl's own stores, the store's health (the same answer setup uses);
- list            the helper answers `list` (read-only, safe for any helper);
- round trip      for credctl's login stores (and the router, through its default route): store, get and
                  erase a probe credential;
- registry        which helper serves a registry (credHelpers, credsStore, plaintext auths), or
                  DOCKER_AUTH_CONFIG where it holds the registry's login (then --online checks that one);
- route           for a registry the router serves (credsStore credctl), the helper its route names and
                  why (credctl.routes); warning when no route serves it;
- credentials     whether that helper has credentials for it (the username, never the secret);
- acr             for a registry an ACR helper serves: its edition, and what it gets there (temporary
                  tokens; the login `docker login` stored, in which login store; for the new Personal
                  Edition, which issues no tokens, a warning naming the one `docker login` when none is stored);
- expiry          where a login's expiry is knowable (credctl.expiry: a JWT's exp, a date given to
                  `credctl login --expires`): failed when it has expired, or with --expiring-within
                  DURATION when it expires within that; an ACR temporary token (credctl renews it) only
                  with --expiring-within, and never failed;
- login           with --online: a real Docker Registry v2 login with those credentials, within
                  --timeout seconds per registry; the credentials go to a token server on another
                  host only when --trust-realm names it (credctl.registry).

verify only reads: it never writes a config file, and the probe credential is always erased.
With --json every row is {"check", "target", "status", "detail"}; helper rows add "runs" (the program
Docker runs, or null), "credctl" (whether that is credctl's) and "credctl_path" (credctl's own copy,
or null when credctl has no helper of that name); podman login rows add "helpers" (what Podman asks, in order)
and "source" (the registries.conf file that set them, or null), podman drop-in rows "overridden_by" (or null).
Exit status 0 when no row failed (warnings allowed), else 1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

import typer

from credctl import client, dockerenv, logins
from credctl import podman as containers
from credctl.cli.common import docker_config, version_line
from credctl.cli.output import busy, fail, info, print_json, show_table
from credctl.dockerconfig import AUTOMATIC, CRED_HELPERS, ConfigFile, Route, plaintext_credentials, podman_auth_path
from credctl.errors import ConfigError, CredctlError, CredentialsNotFound
from credctl.expiry import parse_duration, span
from credctl.names import IDENTITY_TOKEN_USER, PREFIX, helper_key, helper_program, is_hub_bookkeeping
from credctl.programs import docker_default_store, find_helper
from credctl.routes import ROUTER, Routes
from credctl.stores import LOGIN_STORES, STORES, canonical, open_store, suffix_of

PROBE_SERVER = "credctl-verify.invalid"  # .invalid: reserved, never a real registry
PROBE_USER = "credctl-verify"
HELPER_TIMEOUT = 30.0
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
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            min=0.1,
            help="With --online: how long the whole login check of one registry may take (default 30).",
        ),
    ] = None,
    expiring_within: Annotated[
        str | None,
        typer.Option(
            "--expiring-within",
            metavar="DURATION",
            help="Fail for each login that expires within DURATION (30m, 12h, 7d, 2w): a JWT's exp, "
            "a date given to `credctl login --expires`; temporary tokens credctl renews itself do not fail.",
        ),
    ] = None,
    trust_realm: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-realm",
            metavar="HOST",
            help="With --online: a token server host (realm) on another host than the registry, or reached "
            "over http from an https registry, that may be sent the credentials; '*' for any. Repeatable.",
        ),
    ] = None,
) -> None:
    """Check the whole set-up and say what to fix.

    Can Docker and Podman get your registry credentials?

    Checks each helper on PATH (and which copy wins), store health and a probe store/get/erase round trip.

    Then, per registry: which helper serves it and whether it has credentials; --online also logs in.

    Exit status 0 when nothing failed (warnings are allowed), 1 otherwise.
    """
    within = parse_duration(expiring_within) if expiring_within is not None else None
    with busy("Checking…", show=not json_output):
        login = _LoginOptions(timeout, frozenset(trust_realm or ())) if online else None
        rows = _run_checks(docker_config(ctx), registries or [], login, within)
    _show(rows, json_output)
    failed = sum(row.status == "failed" for row in rows)
    if failed:
        fail(f"{failed} check{'s' if failed != 1 else ''} failed: see the details above")


@dataclass(frozen=True)
class _LoginOptions:
    """How --online logs in: the deadline of one registry's check, the realm hosts trusted."""

    deadline: float | None  # None: credctl.registry's own
    trusted_realms: frozenset[str]


def _run_checks(docker_path: str, wanted: list[str], login: _LoginOptions | None, within: int | None) -> list[Row]:
    docker, rows = _read_config("config", docker_path)
    if docker is None:
        return rows  # nothing else can be judged without Docker's config
    automatic = docker_default_store()  # PATH lookups: once, for every registry below
    default = docker.helper_for("", automatic=automatic)  # docker's answer for a registry with no entry
    rows += _describe_docker(docker, default)
    env = dockerenv.read()
    rows += _describe_env(env)
    podman = None
    podman_path = podman_auth_path()
    if os.path.exists(podman_path) and os.path.realpath(podman_path) != os.path.realpath(docker_path):
        podman, podman_rows = _read_config("podman config", podman_path)
        rows += podman_rows
        if podman is not None:
            rows += _describe_podman(podman)
    wiring_rows, podman_asks = _podman_wiring(docker_path)
    rows += wiring_rows
    rows += _podman_plaintext(docker_path, podman_path, [helper_key(name, podman=True) for name in wanted])

    helpers = _referenced_helpers(docker, podman, default)
    for suffix in podman_asks:
        helpers.setdefault(suffix, _Helper(suffix, [])).uses.append("Podman credential-helpers")
    rows += [_check_helper(helper) for helper in helpers.values()]
    for helper in helpers.values():
        if helper.path is not None:
            rows += _check_store(helper)

    keys = [helper_key(name) for name in wanted] if wanted else _known_registries(docker, helpers, default)
    if env is not None and not wanted:
        keys += [login.key for login in env.used if not is_hub_bookkeeping(login.key)]
    for key in dict.fromkeys(keys):
        registry_rows, found = _with_env(env, key, *_check_registry(docker, key, helpers, automatic))
        rows += registry_rows + _route_rows(docker, key, automatic) + _acr_rows(docker, key, automatic)
        if found is not None:
            rows += _expiry_rows(docker, key, found, automatic, within)
        if login is not None:
            if found is not None:
                rows.append(_check_login(key, found, login))
            elif wanted:
                rows.append(Row("login", key, "warning", "not checked: no credentials stored"))
    return rows


# -- config files ------------------------------------------------------------------------------


def _read_config(check: str, path: str) -> tuple[ConfigFile | None, list[Row]]:
    try:
        return ConfigFile.read(path), []
    except ConfigError as err:
        return None, [Row(check, path, "failed", str(err))]


def _describe_docker(docker: ConfigFile, default: Route) -> list[Row]:
    """The config row: what docker makes of the file (default: its answer for an unmapped registry)."""
    helpers, creds_store = docker.helpers, default.helper
    mapped = f"{len(helpers)} credHelpers entr{'y' if len(helpers) == 1 else 'ies'}"
    state = "valid" if docker.text.strip() else "does not exist yet" if not os.path.exists(docker.path) else "empty"
    bad = _undecodable(docker)
    if bad:
        return [
            Row(
                "config",
                docker.path,
                "failed",
                f"{'; '.join(bad)}: docker cannot load this file (it warns and carries on with what it read "
                "before the error); fix or remove those entries",
            )
        ]
    if default.via == AUTOMATIC:
        return [
            Row(
                "config",
                docker.path,
                "warning",
                f"{state}; no credsStore, credHelpers or auths, so docker picks credsStore {creds_store!r} by itself "
                f"while {PREFIX}{creds_store} is on PATH: make it explicit with `credctl setup`",
            )
        ]
    if creds_store:
        return [Row("config", docker.path, "ok", f"{state}; credsStore {creds_store!r}, {mapped}")]
    if helpers:
        return [Row("config", docker.path, "ok", f"{state}; no credsStore, {mapped}")]
    return [
        Row(
            "config",
            docker.path,
            "warning",
            f"{state}; no credential helper: docker saves logins in plaintext here (run `credctl setup`)",
        )
    ]


def _describe_podman(podman: ConfigFile) -> list[Row]:
    helpers = podman.helpers
    mapped = f"{len(helpers)} credHelpers entr{'y' if len(helpers) == 1 else 'ies'}"
    if podman.creds_store:
        return [
            Row(
                "podman config",
                podman.path,
                "warning",
                f"{mapped}; its credsStore is ignored by Podman, Skopeo and Buildah: their equivalent is "
                "registries.conf's credential-helpers (`credctl setup --podman` writes it)",
            )
        ]
    return [Row("podman config", podman.path, "ok", f"valid; {mapped}")]


def _podman_wiring(docker_path: str) -> tuple[list[Row], list[str]]:
    """Rows for how a `podman login` is handled (podman.wiring), and the helpers podman asks;
    none where Podman has left no trace (_podman_here)."""
    try:
        wiring = containers.wiring()
    except CredctlError as err:  # a registries.conf file podman refuses, an unsafe drop-in folder
        return [Row("podman login", containers.dropin_path(), "failed", str(err))], []
    if not _podman_here(wiring, docker_path):
        return [], []
    setting = wiring.setting
    helpers = [helper for helper in setting.helpers if helper != containers.AUTH_FILES_HELPER]
    asks = ", then ".join(PREFIX + h if h in helpers else "the auth files" for h in setting.helpers)
    source = f"credential-helpers in {setting.source}" if setting.source else "no registries.conf names a helper"
    facts = {"helpers": list(setting.helpers), "source": setting.source or None}
    if wiring.login_helper:
        detail = (
            f"stored through {PREFIX}{wiring.login_helper}: podman asks {asks} ({source}); only a login that helper "
            "cannot take (a namespaced one, such as quay.io/team) is written here, in plaintext"
        )
        rows = [Row("podman login", wiring.primary, "ok", detail, facts)]
    else:
        detail = (
            f"podman, buildah and skopeo write logins here in plaintext (base64): {source}; "
            "run `credctl setup --podman`"
        )
        rows = [Row("podman login", wiring.primary, "warning", detail, facts)]
    return rows + _describe_dropin(wiring), helpers


def _podman_here(wiring: containers.Wiring, docker_path: str) -> bool:
    """Podman is set up or used here: credctl's drop-in, a registries.conf that names helpers, or
    one of Podman's own auth files (the primary one, the persistent one; Docker's config, which
    Podman reads too, is no trace of Podman)."""
    if os.path.exists(wiring.dropin) or wiring.setting.source:
        return True
    docker = os.path.realpath(docker_path)
    own = (file.path for file in containers.auth_files() if file.role in (containers.PRIMARY, containers.PERSISTENT))
    return any(os.path.exists(path) and os.path.realpath(path) != docker for path in own)


def _describe_dropin(wiring: containers.Wiring) -> list[Row]:
    """The podman drop-in row: credctl's drop-in in effect, overridden, or inert (none: no file)."""
    if not os.path.exists(wiring.dropin):
        return []
    facts = {"overridden_by": wiring.overridden_by or None}
    if wiring.dropin_sets is None:
        return [Row("podman drop-in", wiring.dropin, "warning", "sets no credential-helpers: it routes nothing", facts)]
    sets = containers.helpers_line(wiring.dropin_sets).strip()
    if wiring.overridden_by:
        detail = (
            f"overridden: {wiring.overridden_by}, loaded after it, sets credential-helpers too, so its `{sets}` "
            "is not used; remove that line (or file) to let credctl's drop-in route Podman's logins"
        )
        return [Row("podman drop-in", wiring.dropin, "warning", detail, facts)]
    return [Row("podman drop-in", wiring.dropin, "ok", f"in effect: {sets}", facts)]


def _podman_plaintext(docker_path: str, podman_path: str, wanted: list[str]) -> list[Row]:
    """A row per plaintext login in the files Podman reads besides Docker's config (whose logins
    the registry rows judge), of the wanted registries (Podman's keys; [] for all), and per such
    file that cannot be read (podman_path's row is above)."""
    sources = logins.sources(docker_path)
    rows = [
        Row("podman config", source.path, "failed", f"Podman, Buildah and Skopeo fail on it: {source.error}")
        for source in sources
        if source.error and logins.DOCKER not in source.readers and source.path != podman_path
    ]
    for login in logins.plaintext_logins(sources):
        if logins.DOCKER not in login.source.readers and (not wanted or login.registry in wanted):
            rows.append(_podman_login_row(login))
    return rows


def _podman_login_row(login: logins.Login) -> Row:
    where = login.source.path
    if login.error:
        return Row("podman plaintext", login.scope, "failed", f"auths[{login.key}] in {where}: {login.error}")
    who = "an identity token" if login.username == IDENTITY_TOKEN_USER else f"user {login.username!r}"
    if not login.podman_reads:
        return Row(
            "podman plaintext",
            login.scope,
            "warning",
            f"plaintext secret ({who}) in {where}, which Podman ignores (it reads only an `auth` field): remove it",
        )
    if login.shadowed_by:
        return Row(
            "podman plaintext",
            login.scope,
            "warning",
            f"plaintext login ({who}) in {where}, never used: Podman reads {login.shadowed_by} first; remove it",
        )
    return Row(
        "podman plaintext",
        login.scope,
        "warning",
        f"plaintext login ({who}) in {where}, which Podman reads: move it with `credctl migrate`",
    )


def _referenced_helpers(docker: ConfigFile, podman: ConfigFile | None, default: Route) -> dict[str, _Helper]:
    helpers: dict[str, _Helper] = {}

    def use(suffix: object, where: str) -> None:
        if isinstance(suffix, str) and suffix:
            helpers.setdefault(suffix, _Helper(suffix, [])).uses.append(where)

    use(default.helper, "credsStore (docker's automatic choice)" if default.via == AUTOMATIC else "credsStore")
    for key, suffix in docker.helpers.items():
        use(suffix, f"credHelpers[{key}]")
    if default.helper == ROUTER:
        for rule in Routes.load().ordered():
            use(suffix_of(rule.helper), f"route {rule.pattern}")
    if podman is not None:
        for key, suffix in podman.helpers.items():
            use(suffix, f"Podman credHelpers[{key}]")
    return helpers


# -- helpers on PATH, stores, protocol ----------------------------------------------------------


def _version(path: str) -> str | None:
    """The first line `path version` prints (every docker-credential-helpers program has it)."""
    return version_line(path, "version")


def _uses(helper: _Helper) -> str:
    shown = helper.uses[:3] + ([f"{len(helper.uses) - 3} more"] if len(helper.uses) > 3 else [])
    return "used by " + ", ".join(shown)


def _check_helper(helper: _Helper) -> Row:
    """The program Docker runs for the helper (programs.find_helper), and whether it is credctl's."""
    found = find_helper(helper.suffix)
    helper.path = found.runs
    facts = {"runs": found.runs, "credctl": found.runs_ours, "credctl_path": found.ours}
    if found.runs is None:
        return Row("helper", helper.program, found.status, f"{found.problem}; {_uses(helper)}", facts)
    version = _version(found.runs) or "no version"
    if found.problem is not None:
        detail = f"{found.problem}; {found.runs} answers version: {version}; {_uses(helper)}"
    else:
        whose = "credctl's" if found.runs_ours else "first on PATH"
        others = f"; also on PATH, not used: {', '.join(found.candidates[1:])}" if found.candidates[1:] else ""
        detail = f"Docker runs {found.runs} ({whose}; {version}){others}; {_uses(helper)}"
    return Row("helper", helper.program, found.status, detail, facts)


def _check_store(helper: _Helper) -> list[Row]:
    """list for any helper; for credctl's stores also health and a probe round trip."""
    store = STORE_OF_SUFFIX.get(helper.suffix)
    healthy = False
    rows = []
    if store is not None:
        try:
            health = open_store(store).health()
            healthy = health.ok
            rows.append(Row("store", store, "ok" if health.ok else "failed", health.detail))
            if healthy and store == "pass":  # as it is now: before the round trip decrypts
                rows.append(_pass_key_row())
        except Exception as err:  # a doctor reports what is wrong; it does not crash on it
            rows.append(Row("store", store, "failed", f"cannot check the {store} store: {err}"))
    try:
        listing = client.list_credentials(helper_program(helper.suffix), timeout=HELPER_TIMEOUT)
    except CredctlError as err:
        rows.append(Row("list", helper.program, "failed", str(err)))
    else:
        helper.listing = {key: user for key, user in listing.items() if key != PROBE_SERVER}
        count = len(helper.listing)
        rows.append(Row("list", helper.program, "ok", f"answers list: {count} credential{'s' * (count != 1)}"))
    if healthy and _keeps_logins(store):
        rows.append(Row("round trip", helper.program, *_round_trip(helper.suffix)))
    return rows


def _pass_key_row() -> Row:
    """Whether the pass store's key is unlocked now, and until when (asking no one: KEYINFO)."""
    from credctl import gpg, gpgagent
    from credctl.expiry import stamp
    from credctl.stores.passstore import store_dir

    recipients = gpg.read_gpg_ids(store_dir(os.environ))
    target, grips = ", ".join(recipients), gpgagent.keygrips(recipients)
    found = gpgagent.states(grips) if grips else None
    if not grips or found is None:
        return Row("pass key", target, "warning", "gpg-agent cannot say whether the key is unlocked")
    protected = [state for state in found if state.protected]
    if not protected:
        return Row("pass key", target, "ok", "no passphrase: needs no unlocking")
    if not all(state.cached for state in protected):  # the safe state: nothing is wrong
        detail = "locked: the next docker pull asks for the passphrase; `credctl pass unlock` asks once"
        return Row("pass key", target, "ok", detail)
    until = gpgagent.unlocked_until(grips)
    if until is not None:
        return Row("pass key", target, "ok", f"unlocked now, until {stamp(until)} (credctl pass unlock)")
    cache = gpgagent.cache_settings()
    detail = f"unlocked now (gpg-agent's cache: {cache.default_ttl} s after each use, {cache.max_ttl} s at most)"
    return Row("pass key", target, "ok", detail)


def _keeps_logins(store: str | None) -> bool:
    """Whether a probe can be stored and read back through store: a login store, or the router
    when its default route (where the probe goes) is one. ACR issues tokens: nothing to store."""
    if store == ROUTER:
        return canonical(Routes.load().default or "") in LOGIN_STORES
    return store in LOGIN_STORES


def _round_trip(suffix: str) -> tuple[str, str]:
    """store, get and compare, then always erase a probe credential; (status, detail)."""
    probe = client.Credentials(PROBE_SERVER, PROBE_USER, secrets.token_urlsafe(24))
    outcome: tuple[str, str]
    try:
        client.store(helper_program(suffix), probe, timeout=HELPER_TIMEOUT)
        back = client.get(helper_program(suffix), PROBE_SERVER, timeout=HELPER_TIMEOUT)
        if (back.username, back.secret) == (probe.username, probe.secret):
            outcome = ("ok", f"stored, read back and erased a probe credential for {PROBE_SERVER}")
        else:
            outcome = ("failed", "get returned other credentials than store was given")
    except CredctlError as err:
        outcome = ("failed", str(err))
    try:
        client.erase(helper_program(suffix), PROBE_SERVER, timeout=HELPER_TIMEOUT)
    except CredentialsNotFound:
        pass  # store never got that far
    except CredctlError as err:
        if outcome[0] == "ok":
            outcome = ("failed", f"the probe was stored and read back, but {err}")
        else:
            outcome = (outcome[0], f"{outcome[1]}; erasing the probe also failed: {err}")
    return outcome


# -- registries ---------------------------------------------------------------------------------


def _known_registries(docker: ConfigFile, helpers: dict[str, _Helper], default: Route) -> list[str]:
    """Every registry the config or the default store knows, as docker's keys."""
    keys = [*docker.helpers, *docker.auths]
    store = helpers.get(default.helper) if default.helper else None
    if store is not None and store.listing:
        keys += list(store.listing)
    keys = [key for key in keys if not is_hub_bookkeeping(key)]  # Docker Hub's OAuth tokens: no registry
    return [key for key in dict.fromkeys(helper_key(key) for key in keys) if key and key != PROBE_SERVER]


def _auths_entry(docker: ConfigFile, key: str) -> object:
    """The auths entry docker's file store uses for key: exact, else the first with that hostname."""
    auths = docker.auths
    entry = auths.get(key)
    if entry is None:
        entry = next(
            (value for name, value in auths.items() if helper_key(name) == key and not is_hub_bookkeeping(name)), None
        )
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
    for key, entry in docker.auths.items():
        try:
            plaintext_credentials(entry)
        except ConfigError as err:
            bad.append(f"auths[{key}]: {err}")
    return bad


def _check_registry(
    docker: ConfigFile, key: str, helpers: dict[str, _Helper], automatic: str
) -> tuple[list[Row], client.Credentials | None]:
    """Rows for which helper docker runs for key (ConfigFile.helper_for) and whether it has
    credentials; with the credentials, if any. automatic: docker's own default store."""
    route = docker.helper_for(key, automatic=automatic)
    stale = _plaintext(_auths_entry(docker, key))
    if not route.helper:
        if stale is None:
            return [
                Row("registry", key, "warning", "no helper serves it: docker would save a login in plaintext here"),
                Row("credentials", key, "warning", "no credentials stored"),
            ], None
        return [
            Row("registry", key, "warning", "plaintext login in config.json auths: move it with `credctl migrate`"),
            Row("credentials", key, "ok", f"{_who(stale)} (plaintext)"),
        ], stale
    suffix = route.helper
    how = {CRED_HELPERS: "credHelpers", AUTOMATIC: "credsStore, chosen by docker"}.get(route.via, "credsStore")
    helper = helpers.get(suffix)
    where = f"{PREFIX}{suffix} ({how})"
    if helper is None or helper.path is None:
        return [Row("registry", key, "failed", f"served by {where}, which is not on PATH")], None
    if stale is not None:
        rows = [
            Row(
                "registry",
                key,
                "warning",
                f"served by {where}; an old plaintext login for it is still in config.json auths (docker ignores "
                "it, others may not): move it with `credctl migrate`",
            )
        ]
    else:
        rows = [Row("registry", key, "ok", f"served by {where}")]
    try:
        found = client.get(helper_program(suffix), key, timeout=HELPER_TIMEOUT)
    except CredentialsNotFound:
        return [*rows, Row("credentials", key, "warning", "no credentials stored")], None
    except CredctlError as err:
        return [*rows, Row("credentials", key, "failed", str(err))], None
    return [*rows, Row("credentials", key, "ok", f"{_who(found)} in {PREFIX}{suffix}")], found


def _route_rows(docker: ConfigFile, key: str, automatic: str) -> list[Row]:
    """The route row of a registry docker asks the router (credsStore credctl) about: which helper
    its route names and why; none when the router does not serve it."""
    route = docker.helper_for(key, automatic=automatic)
    if route.helper != ROUTER or route.via == CRED_HELPERS:
        return []
    rule = Routes.load().route_for(key)
    if rule is None:
        detail = "no route serves it (docker goes on without a login): `credctl route add` or `credctl route default`"
        return [Row("route", key, "warning", detail)]
    return [Row("route", key, "ok", f"{PREFIX}{suffix_of(rule.helper)}: {rule.why}")]


def _acr_rows(docker: ConfigFile, key: str, automatic: str) -> list[Row]:
    """The acr row of a registry docker asks credctl's ACR helper (or a profile's) about: its
    edition, and what it gets (credctl.stores.fallback's rule); none for any other registry."""
    from credctl.acr.domains import EDITION_NAMES
    from credctl.acr.login import find_registry, helper_environ
    from credctl.stores import fallback

    route = docker.helper_for(key, automatic=automatic)
    environ = helper_environ(route.helper) if route.helper else None
    if environ is None:
        return []
    try:
        registry = find_registry(key, environ)
    except CredentialsNotFound:
        return []
    edition = f"{EDITION_NAMES[registry.edition]}, {registry.region}"
    keeps = fallback.keeps_logins(environ)
    try:
        stored = fallback.stored(key, environ) if keeps else None
    except CredctlError as err:
        return [Row("acr", key, "failed", f"{edition}: cannot read the login stored for it: {err}")]
    where = f"login stored in {PREFIX}{stored[2]}" if stored else ""
    if registry.issues_tokens:
        api = "GetAuthorizationToken, API 2018-12-01" if registry.enterprise else "GET /tokens, API 2016-06-07"
        used = f"; {where}, used when no token can be issued" if stored else ""
        return [Row("acr", key, "ok", f"{edition}: temporary tokens ({api}){used}")]
    if stored:
        return [Row("acr", key, "ok", f"{edition}: no temporary tokens; {where}")]
    if not keeps:
        fix = f"acr_store_logins is off: map it to a login store (`credctl map {key} pass`), then `docker login {key}`"
    else:
        fix = f"`docker login {key}` with the fixed password set in the ACR console (Access Credential)"
    return [Row("acr", key, "warning", f"{edition}: no temporary tokens and no login stored: {fix}")]


def _expiry_rows(
    docker: ConfigFile, key: str, found: client.Credentials, automatic: str, within: int | None
) -> list[Row]:
    """The expiry row of key's login, where its expiry is knowable (credctl.expiry): failed when it
    has expired, or expires within `within` seconds (--expiring-within); an issued token credctl
    renews itself never fails, and gets a row only when --expiring-within asks."""
    from credctl.expiry import expiry_of, of_login

    helper = docker.helper_for(key, automatic=automatic).helper
    if helper:
        known = of_login(helper, key, found.username, found.secret)
    else:  # a plaintext login, or DOCKER_AUTH_CONFIG's
        known = expiry_of(key, found.username, found.secret)
    if known is None or (known.renewed and within is None):
        return []
    detail = known.describe()
    if known.renewed:
        return [Row("expiry", key, "ok", f"{detail}: credctl issues a new one when it runs out")]
    if known.within(0):
        return [Row("expiry", key, "failed", f"{detail}: log in again (`credctl login {key}`)")]
    if within is not None and known.within(within):
        return [Row("expiry", key, "failed", f"{detail}, within {span(within).removeprefix('in ')}: renew it")]
    return [Row("expiry", key, "ok", detail)]


def _describe_env(env: dockerenv.DockerAuthConfig | None) -> list[Row]:
    """The config row of DOCKER_AUTH_CONFIG, when it is set: failed when docker ignores it."""
    if env is None:
        return []
    if env.problem:
        return [Row("config", dockerenv.VARIABLE, "failed", env.summary)]
    unused = [f"{login.key} (docker looks up {helper_key(login.key)})" for login in env.unused]
    if unused:
        return [Row("config", dockerenv.VARIABLE, "warning", f"{env.summary}; never used: {', '.join(unused)}")]
    return [Row("config", dockerenv.VARIABLE, "ok", env.summary)]


def _with_env(
    env: dockerenv.DockerAuthConfig | None, key: str, rows: list[Row], found: client.Credentials | None
) -> tuple[list[Row], client.Credentials | None]:
    """_check_registry's rows and login for key, unless DOCKER_AUTH_CONFIG holds key's login:
    then docker uses that one (and --online checks it), whatever config.json says."""
    login = env.login_for(key) if env is not None else None
    if login is None:
        return rows, found
    credentials = client.Credentials(key, login.username, login.secret)
    under = next((row for row in rows if row.check == "registry"), None)
    detail = f"served by {dockerenv.VARIABLE} ({dockerenv.SINCE})"
    if under is not None:
        detail += f"; it overrides config.json's answer: {under.detail}"
    return [
        Row("registry", key, "ok", detail),
        Row("credentials", key, "ok", f"{_who(credentials)} in {dockerenv.VARIABLE}"),
    ], credentials


def _who(credentials: client.Credentials) -> str:
    if credentials.username == IDENTITY_TOKEN_USER:
        return "an identity token"
    return f"user {credentials.username!r}"


def _check_login(key: str, credentials: client.Credentials, login: _LoginOptions) -> Row:
    from credctl.registry import check_login  # urllib: only when asked for

    deadline = {} if login.deadline is None else {"deadline": login.deadline}
    result = check_login(key, credentials.username, credentials.secret, trusted_realms=login.trusted_realms, **deadline)
    return Row("login", key, result.status, result.detail)


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
