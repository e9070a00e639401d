"""What more than one command needs: the config file of this run, checked registry and helper
names, moving logins into a store, initialising a pass store, printing a Kubernetes document.

Command modules (*_cmd.py) import this module and never each other. Nothing here ends the run:
a failure is raised (credctl.errors; UsageError for a command line that cannot work, exit 2),
and credctl.cli.run prints it as one line.
"""

import copy
import os
import re
import subprocess
from typing import TYPE_CHECKING

import typer

from credctl import gpg, logins
from credctl.cli.output import busy, info, interactive, show_table, success, warn
from credctl.dockerconfig import (
    CRED_HELPERS,
    ConfigFile,
    docker_config_path,
    plaintext_credentials,
    without_credentials,
)
from credctl.errors import ConfigError, CredctlError, CredentialsNotFound, GpgUnavailable, StoreError, UsageError
from credctl.names import (
    PREFIX,
    ROUTER,
    helper_key,
    helper_program,
    is_docker_hub,
    is_hub_bookkeeping,
    login_keys,
    registry_host,
)
from credctl.stores import LOGIN_STORES, STORES, canonical
from credctl.stores.passstore import GENERATE_HINT, trust_hint

if TYPE_CHECKING:
    from credctl.client import Credentials
    from credctl.transfer import Item

STORE_NAMES = ", ".join(LOGIN_STORES)

VERSION_TIMEOUT = 10.0  # seconds a program may take to say its version (verify, kubelet config)


def version_line(program: str, argument: str) -> str | None:
    """The first line `program argument` prints (its version), with a bounded wait; None when it
    fails, prints nothing or does not answer in VERSION_TIMEOUT seconds."""
    try:
        result = subprocess.run(
            [program, argument],
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


def docker_config(ctx: typer.Context) -> str:
    """The config.json this run works on (--config, $DOCKER_CONFIG, ~/.docker)."""
    return docker_config_path((ctx.obj or {}).get("config_dir"))


# --- registry and helper names on a command line ---------------------------------------------

_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# docker/distribution's reference grammar for a registry: DNS labels joined by dots (or an
# IPv6 address in brackets), then an optional port.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")
# The paths Docker's own keys carry (https://index.docker.io/v1/, https://host/v2/): dropped.
_API_PATHS = ("", "/", "/v1", "/v1/", "/v2", "/v2/")
_EXAMPLE = "give a host or host:port, e.g. registry.example.com or localhost:5000"


def registry_problem(registry: str) -> str | None:
    """Why registry cannot name a credHelpers entry, or None when it can.

    What it accepts is what Docker reduces to the same key (names.registry_host): a host
    with an optional port, optionally as an http(s) URL ending in an API path such as /v2/.
    A longer path is refused, not dropped: credHelpers map whole registries, never one
    repository of them.
    """
    if not registry.strip():
        return f"the registry name is empty: {_EXAMPLE}"
    if any(char.isspace() or not char.isprintable() for char in registry):
        return f"{registry!r} is not a registry name: it contains a space or a control character"
    scheme, separator, address = registry.partition("://")
    if not separator:
        address = registry
    elif scheme.lower() not in ("http", "https"):
        return f"{registry!r} is not a registry name: only an http:// or https:// URL can name a registry"
    host, slash, path = address.partition("/")
    if not _HOST.fullmatch(host):
        return f"{registry!r} is not a registry name: {_EXAMPLE}"
    if (slash + path).lower() not in _API_PATHS:
        return f"{registry!r} names a repository, but credHelpers map whole registries: give {host}"
    return None


def checked_registry(registry: str) -> str:
    """registry with its scheme in lower case (HTTPS://h names h, but docker's ConvertToHostname,
    names.registry_host, strips only http:// and https://), or UsageError saying why it names
    no registry."""
    problem = registry_problem(registry)
    if problem:
        raise UsageError(problem)
    scheme, separator, address = registry.partition("://")
    return f"{scheme.lower()}{separator}{address}" if separator else registry


def helper_problem(helper: str) -> str | None:
    """Why helper names no docker-credential-* program, or None when it does."""
    if _HELPER_NAME.fullmatch(helper.removeprefix(PREFIX)):
        return None
    return f"{helper!r} is not a helper name: give the suffix of a docker-credential-* program, e.g. pass"


def helper_suffix(helper: str) -> str:
    """HELPER as config.json wants it: the part after docker-credential-; UsageError if it names no helper."""
    problem = helper_problem(helper)
    if problem:
        raise UsageError(problem)
    return helper.removeprefix(PREFIX)


def warn_if_missing(suffix: str) -> None:
    """Warn when Docker would run no docker-credential-SUFFIX, or another one than credctl's."""
    from credctl.programs import find_helper

    problem = find_helper(suffix).problem
    if problem is not None:
        warn(problem)


def no_login(registries: list[str]) -> str:
    """The line for registries credctl has no login for (k8s pull-secret, export)."""
    if len(registries) == 1:
        return (
            f"credctl has no login for {registries[0]}: log in with `credctl login {registries[0]}` "
            "(it says where the login would go)"
        )
    return (
        f"credctl has no login for {', '.join(registries)}: log in to each with `credctl login REGISTRY` "
        "(it says where the login would go)"
    )


# --- Podman's logins (setup and map) -----------------------------------------------------------

LOGIN_SUFFIXES = frozenset(STORES[name].suffix for name in LOGIN_STORES)
PODMAN_TOOLS = ("podman", "skopeo", "buildah")  # the containers/image clients; where one is, Podman counts


def podman_login_note(registry: str, suffix: str) -> None:
    """One warning line when a `podman login` (of registry; of any registry when "") would not be
    stored through docker-credential-SUFFIX, saying where it goes and which file decides that
    (podman.wiring): another store's helper, or the primary auth file in plaintext."""
    from credctl import podman

    try:
        wiring = podman.wiring()
    except CredctlError as err:  # another registries.conf file podman refuses: said, nothing undone
        warn(str(err))
        return
    if wiring.login_helper == suffix:
        return
    who = f"podman login {registry}".rstrip()
    if wiring.login_helper:
        goes = f"stores in {PREFIX}{wiring.login_helper}"
    else:
        goes = f"writes plaintext to {wiring.primary}"
    later = " (loaded after credctl's drop-in)" if wiring.overridden_by else ""
    why = f"{wiring.setting.source}{later} sets credential-helpers" if wiring.setting.source else "nothing routes it"
    entry = f"; Podman's credHelpers entry for {registry} serves reads only" if registry else ""
    warn(f"{who} {goes}, not {PREFIX}{suffix}: {why}{entry}")


# --- moving logins into a store, verified (migrate and setup) ---------------------------------


# A move's outcomes besides "planned" and "failed: why". MOVED and KEPT are done: the helper
# answers for the registry with a verified login, and the plaintext copy may go.
MOVED = "moved"
KEPT = "kept-store"  # the helper held the login Docker uses; the plaintext copy was stale
CHANGED = "not stripped: changed meanwhile"  # config.json's entry is no longer the one verified
VANISHED = "not stripped: removed meanwhile"  # config.json's entry went while migrate ran


class Move:
    """One login and the helper it goes to.

    registry: where the login is now (an auths key, or the key in the previous store); key: the
    server URL it is stored under in the helper, the one Docker asks that helper for. entry: the
    `auths` entry as planned (None for a login from a previous store); it is stripped only while
    config.json still holds exactly that. served: Docker asks helper for this registry already,
    so it reads the helper's login and ignores the plaintext one."""

    def __init__(
        self,
        registry: str,
        username: str,
        secret: str,
        helper: str,
        mapped: bool,
        key: str | None = None,
        entry: dict | None = None,
        served: bool = False,
    ) -> None:
        self.registry, self.username, self.secret, self.helper = registry, username, secret, helper
        self.mapped = mapped  # served by a credHelpers entry already
        self.key = registry if key is None else key
        self.entry, self.served = entry, served
        self.held_by = ""  # with outcome KEPT: the username of the login the helper kept
        self.outcome = "planned"

    @property
    def done(self) -> bool:
        return self.outcome in (MOVED, KEPT)


def plan(config: ConfigFile, to: str | None, serving: ConfigFile | None = None) -> list[Move]:
    """The plaintext logins of config, each going to the helper Docker runs for its registry;
    to (a store) instead of the default. ConfigError when no helper would take one.

    serving is the file as Docker reads it now (default: config), which says whether Docker
    already asks a move's helper for its registry (Move.served).

    Docker Hub's OAuth bookkeeping entries (names.is_hub_bookkeeping) are no logins: they stay.

    Each is stored under the server URL docker asks a helper for (auths_key): an entry an older
    docker wrote as https://host/v2/ goes in as host. Where two entries name one registry, the
    one docker reads (its exact key, else the first) moves and the others stay as they are.
    """
    serving = config if serving is None else serving
    moves: dict[str, Move] = {}
    for registry, entry in config.auths.items():
        if is_hub_bookkeeping(registry):
            continue  # Docker Hub's OAuth tokens, docker's own: never moved (names.is_hub_bookkeeping)
        try:
            found = plaintext_credentials(entry)
        except ConfigError as err:
            warn(f"{registry}: {err}; left as it is")
            continue
        if found is None:
            continue
        route = config.helper_for(registry)
        mapped = route.via == CRED_HELPERS
        helper = route.helper if mapped else to or config.creds_store
        if not helper:
            raise ConfigError(f"no secure store is configured for {registry}: choose one with --to ({STORE_NAMES})")
        key = auths_key(registry)
        if key in moves and registry != key:
            warn(f"{registry}: left as it is; docker reads the login of {moves[key].registry} for {key}")
            continue
        if key in moves:
            warn(f"{moves[key].registry}: left as it is; docker reads the login of {registry} for {key}")
        served = serving.helper_for(registry).helper == helper
        moves[key] = Move(registry, found[0], found[1], helper, mapped, key, copy.deepcopy(entry), served)
    return list(moves.values())


def auths_key(registry: str) -> str:
    """The server URL docker's CLI asks for the login an `auths` entry holds (its file store
    matches entries by names.registry_host; Docker Hub only under its own key)."""
    return registry if is_docker_hub(registry) else registry_host(registry)


def store_and_verify(move: Move) -> None:
    from credctl import client

    credentials = client.Credentials(move.key, move.username, move.secret)
    try:
        client.store(helper_program(move.helper), credentials)
        back = client.get(helper_program(move.helper), move.key)
    except CredctlError as err:
        move.outcome = f"failed: {err}"
        return
    if (back.username, back.secret) == (move.username, move.secret):
        move.outcome = MOVED
    else:
        move.outcome = "failed: the helper returned different credentials; the file keeps them"


def held_login(move: Move) -> "Credentials | None":
    """The login move's helper already answers for its registry, or None.

    Asked under every key that holds the same login (names.login_keys: for Docker Hub, each of
    Hub's keys, as credctl's helpers fall back among them). An empty answer is no login: some
    helpers (Debian's Go docker-credential-pass) answer a key they lack with an empty username
    and secret, exit status 0. A helper that fails raises."""
    from credctl import client

    for key in login_keys(move.key):
        try:
            found = client.get(helper_program(move.helper), key)
        except CredentialsNotFound:
            continue
        if found.username or found.secret:
            return found
    return None


def move_plaintext(move: Move, prefer_plaintext: bool = False) -> None:
    """Store move's plaintext login in its helper, unless the helper holds another login there.

    A helper's login is never overwritten unasked (prefer_plaintext asks). Where Docker already
    asks that helper for the registry, the helper's login is the one Docker uses: docker/cli's
    nativeStore.Get (cli/config/credentials/native_store.go) takes username and password from
    the helper and only the email from the file, so the plaintext copy is stale; the helper's
    login is kept (KEPT) and the copy may be stripped. Elsewhere (Docker reads the plaintext,
    and the helper's login may serve another config) both stay: the move fails, saying so.
    """
    if not prefer_plaintext:
        try:
            held = held_login(move)
        except CredctlError as err:
            move.outcome = f"failed: {err}"
            return
        if held is not None and (held.username, held.secret) != (move.username, move.secret):
            if move.served:
                move.outcome, move.held_by = KEPT, held.username
            else:
                move.outcome = (
                    f"failed: {PREFIX}{move.helper} holds another login for {move.registry} (user {held.username}); "
                    "`credctl migrate --prefer-plaintext` stores this one over it"
                )
            return
    store_and_verify(move)


def store_all(moves: list[Move], prefer_plaintext: bool = False) -> None:
    # No spinner: gpg-agent may draw pinentry on this terminal to ask for a passphrase.
    for move in moves:
        move_plaintext(move, prefer_plaintext)


def strip_verified(moves: list[Move], to: str | None, config: ConfigFile) -> None:
    """The edit: secrets of verified moves out of `auths`; then Docker asks the helper that holds each.

    config is the file as read under its lock (dockerconfig.edit), so what is stripped is what
    the file holds now (_strip_state): an entry stripped meanwhile (another migrate) is done; one
    that changed otherwise (a `docker login` meanwhile) or is gone stays as it is, with a
    warning, and its move is not done (CHANGED, VANISHED).

    With to: the credsStore becomes to when the file has none and every login moved (a
    credsStore would make Docker ignore those left in plaintext). Every moved registry Docker
    would still not send to its new helper (another credsStore, or none) is mapped in credHelpers.
    """
    states = {move.registry: _strip_state(move, config) for move in moves if move.done}
    settled = [move for move in moves if states.get(move.registry) in ("strip", "stripped")]
    if not settled:
        return  # nothing verified stored: the file stays exactly as it was
    for move in settled:
        if states[move.registry] == "strip":
            config.set_auth(move.registry, without_credentials(config.auths[move.registry]))
    if to and not config.creds_store and len(settled) == len(moves):
        config.creds_store = to
    elsewhere = [move for move in settled if config.helper_for(move.registry).helper != move.helper]
    config.set_helpers({helper_key(move.registry): move.helper for move in elsewhere})


def _strip_state(move: Move, config: ConfigFile, auths: dict | None = None) -> str:
    """What config's entry for a done move allows: "strip" (it is exactly the one planned),
    "stripped" (it is that one without its secrets already), or "leave" (anything else: the move
    is marked CHANGED or VANISHED, and a warning says so). auths: the file's logins by key
    (default: config.auths; ~/.dockercfg holds them at the top level)."""
    entry = (config.auths if auths is None else auths).get(move.registry)
    if entry is None:
        move.outcome = VANISHED
        warn(
            f"{move.registry}: its entry left {config.path} while migrate ran (a logout?): "
            f"nothing stripped; {PREFIX}{move.helper} keeps its copy"
        )
    elif move.entry is None or entry == move.entry:
        return "strip"
    elif entry == without_credentials(move.entry):
        return "stripped"
    else:
        move.outcome = CHANGED
        warn(
            f"{move.registry}: its entry in {config.path} changed while migrate ran (a new login?): "
            "left as it is, not stripped"
        )
    return "leave"


# --- moving the plaintext logins of Podman's own files (migrate) -------------------------------


class PodmanFile:
    """The moves planned for one file Podman reads (Docker's config aside), and the lines saying
    why each login of it that stays, stays."""

    def __init__(self, source: logins.Source) -> None:
        self.source = source
        self.moves: list[Move] = []
        self.left: list[str] = []


def plan_podman(docker_path: str, environ=os.environ) -> list[PodmanFile]:
    """The plaintext logins of the files Podman reads besides Docker's config (logins.sources),
    each going into the helper Podman asks for its registry (logins.podman_helper), stored under
    Podman's key (docker.io for Docker Hub), so that Podman still finds it once the file's copy
    is gone. A login stays, with a line saying why, when Podman asks no helper for its registry,
    when Podman never uses it (an earlier file holds one for the same scope), when it cannot be
    decoded, or when it is a per-namespace key (`quay.io/team`) and the registry has another
    login: a helper holds one login per registry. ConfigError for a registries.conf podman refuses."""
    from credctl.podman import credential_helpers

    sources = logins.sources(docker_path, environ)
    helpers = credential_helpers(environ).helpers
    found = logins.plaintext_logins(sources, environ)
    files: dict[str, PodmanFile] = {}
    for login in found:
        if logins.DOCKER in login.source.readers:
            continue  # Docker's config: Docker's migrate (plan) moves its logins
        file = files.setdefault(login.source.path, PodmanFile(login.source))
        why = _why_left(login, found, sources, helpers, environ)
        if why:
            file.left.append(f"{login.key} in {login.source.path}: left as it is: {why}")
            continue
        helper = logins.podman_helper(login.registry, sources, helpers, environ)
        served = logins.helper_first(login, sources, helpers, environ)
        key = helper_key(login.registry, podman=True)
        file.moves.append(
            Move(login.key, login.username, login.secret, helper, True, key, copy.deepcopy(login.entry), served)
        )
    return list(files.values())


def _why_left(
    login: logins.Login,
    found: list[logins.Login],
    sources: list[logins.Source],
    helpers: tuple[str, ...],
    environ,
) -> str:
    """Why login stays in its file ("" when it can move)."""
    if login.error:
        return login.error
    if not login.podman_reads:
        return "Podman ignores it (it reads only an `auth` field): remove it, or log in again with `podman login`"
    if login.shadowed_by:
        return f"Podman never uses it: it reads the login in {login.shadowed_by} first"
    if login.namespace:
        other = next((o for o in found if o is not login and o.registry == login.registry and not o.error), None)
        if other is not None:
            return (
                f"a credential helper holds one login per registry, and {other.source.path} also has one for "
                f"{login.registry} ({other.key}): move or remove one of them by hand"
            )
    if not logins.podman_helper(login.registry, sources, helpers, environ):
        return (
            f"Podman asks no credential helper for {login.registry}, so it would lose this login: "
            "run `credctl setup --podman` (or `credctl map REGISTRY HELPER --podman`), then `credctl migrate` again"
        )
    return ""


def podman_loses(docker_path: str, moves: list[Move], environ=os.environ) -> list[str]:
    """A line for each move done out of Docker's config that Podman then no longer finds: Podman
    reads that file too (logins.sources), ignores credsStore, and asks no helper for the registry
    (logins.podman_helper)."""
    from credctl.podman import credential_helpers

    sources = logins.sources(docker_path, environ)
    if logins.PODMAN not in sources[0].readers:
        return []
    helpers = credential_helpers(environ).helpers
    return [
        f"{move.registry}: Podman, Buildah and Skopeo read {docker_path} too and no longer find this login (they "
        "ignore credsStore and ask no helper for it): run `credctl setup --podman`"
        for move in moves
        if move.outcome == MOVED
        and not logins.podman_helper(helper_key(move.registry, podman=True), sources, helpers, environ)
    ]


def strip_podman_verified(file: PodmanFile, config: ConfigFile) -> None:
    """The edit of a Podman file: each verified move's login out of it, as the file is now under
    its lock (_strip_state: an entry changed or removed meanwhile stays). Nothing else changes:
    Podman already asks each move's helper for its registry."""
    auths = config.data if file.source.legacy else config.auths
    for move in file.moves:
        if move.done and _strip_state(move, config, auths) == "strip":
            logins.strip(file.source, config, move.registry)


DOCKER_KEEPS = "Docker uses (with a store set for a registry Docker ignores the file's copy)"
PODMAN_KEEPS = "Podman uses (it asks that helper before it reads the file's copy)"


def report(moves: list[Move], path: str, keeps: str = DOCKER_KEEPS) -> None:
    """The result table, a line for each login kept (keeps: why that login is the one the tool
    uses), then success; StoreError when some are not done."""
    show(moves, "Migration")
    for move in moves:
        if move.outcome == KEPT:
            info(
                f"{move.registry}: {PREFIX}{move.helper} already holds a login for it (user {move.held_by}), the one "
                f"{keeps}: kept it, removed the plaintext copy"
            )
    stay = sum(not move.done and move.outcome != VANISHED for move in moves)
    gone = sum(move.outcome == VANISHED for move in moves)
    problems = [f"{stay} of {len(moves)} credential(s) stay in plaintext"] if stay else []
    problems += [f"{gone} of {len(moves)} entries left {path} while migrate ran"] if gone else []
    if problems:
        raise StoreError(f"{'; '.join(problems)}: see the table above")
    moved, kept = sum(move.outcome == MOVED for move in moves), sum(move.outcome == KEPT for move in moves)
    if not kept:
        success(f"moved {moved} credential(s) out of {path}")
    elif not moved:
        success(f"kept {kept} login(s) the store already held; removed their plaintext copies from {path}")
    else:
        success(f"moved {moved} credential(s) out of {path}; kept {kept} login(s) the store already held")


def show(moves: list[Move], title: str) -> None:
    rows = [[move.registry, move.username, f"{PREFIX}{move.helper}", move.outcome] for move in moves]
    show_table(title, ("registry", "user", "into", "result"), rows)


# --- copying logins between stores (migrate --from, restore: credctl.transfer) ---------------


COPY_TARGETS = f"{STORE_NAMES}, {ROUTER}"


def copy_target(to: str) -> str:
    """--to of migrate --from and restore: one of credctl's login stores, or the router (its
    routes put each login), by its canonical name; UsageError for anything else."""
    name = canonical(to)
    if name not in LOGIN_STORES and name != ROUTER:
        raise UsageError(f"choose one of {COPY_TARGETS}", option="--to")
    return name


def show_items(items: "list[Item]", title: str) -> None:
    """The logins being copied, one row each: server, user, from, to, result; never a secret.
    Docker Hub's bookkeeping keys (names.is_hub_bookkeeping) are marked so: no registries."""
    rows = [[_server_cell(item.key), item.username, item.source, item.target, item.outcome] for item in items]
    show_table(title, ("server", "user", "from", "to", "result"), rows)


def _server_cell(key: str) -> str:
    return f"{key} (Docker Hub bookkeeping)" if is_hub_bookkeeping(key) else key


def items_report(items: "list[Item]", done: str) -> None:
    """After the table: a line for each login kept in the target, then success (done: what was
    done, `copied 3 login(s) into pass`); StoreError when some failed."""
    from credctl.transfer import KEPT

    for item in items:
        if item.outcome == KEPT:
            info(f"{item.key}: {item.target} holds another login for it (user {item.held_by}): kept it")
    failed = sum(item.failed for item in items)
    if failed:
        raise StoreError(f"{failed} of {len(items)} login(s) failed: see the table above")
    success(done)


# --- initialising a pass store (pass init and setup) ------------------------------------------

NO_PASSPHRASE_WARNING = (
    "the new key has no passphrase: anyone who can read your ~/.gnupg can decrypt your registry "
    "credentials (fine for a dedicated headless machine, not for a shared one)"
)


def initialise_store(root: str, keys: list[gpg.Key] | None = None) -> None:
    """Initialise the store at root for keys (without keys: pick one, or offer to generate one).

    The flow of `credctl pass init`, also run by `credctl setup`.
    """
    keys = keys or [_pick_key()]
    _check_trust(keys)
    _pass_init(root, [key.fingerprint for key in keys])
    success(f"password store {root} is ready; credentials will be encrypted to {', '.join(k.uid for k in keys)}")
    _explain_passphrase(keys)


def new_key(name: str | None, email: str | None, no_passphrase: bool) -> gpg.Key:
    """A new key for the store, its name, email and passphrase asked for where not given."""
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
        raise GpgUnavailable(f"gpg generated {fingerprint} but cannot find it to encrypt with")
    success(f"generated key {fingerprint} ({key.uid})")
    return key


def _pick_key() -> gpg.Key:
    keys = gpg.usable_keys()
    if not keys:
        if interactive() and typer.confirm("No gpg key here can encrypt. Generate one now?", default=True):
            return new_key(None, None, no_passphrase=False)
        raise GpgUnavailable(f"no gpg key here can encrypt: run `{GENERATE_HINT}`")
    if len(keys) == 1:
        return keys[0]
    _show_keys(keys)
    if not interactive():
        raise GpgUnavailable("several gpg keys can encrypt: choose one with `credctl pass init --gpg-id FINGERPRINT`")
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
        raise StoreError(f"pass init failed: {lines[-1] if lines else f'exit status {result.returncode}'}")


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


# --- Kubernetes documents (kubelet config and k8s pull-secret) --------------------------------


def check_format(output_format: str) -> None:
    if output_format not in ("yaml", "json"):
        raise UsageError(f"--format must be yaml or json, not {output_format!r}")


def write_document(document: dict, output_format: str, header: str = "") -> None:
    """A Kubernetes document on stdout, as YAML (with header comments) or JSON."""
    if output_format == "json":
        import json

        typer.echo(json.dumps(document, indent=2))
    else:
        import yaml

        typer.echo(header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False), nl=False)
