"""`credctl setup`: pick a secure store for Docker (and Podman), map registries, move logins.

Interactive on a terminal; every question has a flag, so it also runs unattended.

For Podman, Buildah and Skopeo it writes credctl's registries.conf.d drop-in, their own
equivalent of credsStore, and credHelpers entries only for registries that go to another helper.

Setup never logs anyone out. Once credsStore is set Docker asks only the store, so before it
is set (or switched) every login Docker would stop seeing moves into the new store, each one
stored, read back and compared first (`credctl migrate`'s code): plaintext `auths` entries of
config.json, and the logins the previous credsStore holds. Declining (--no-migrate, or "no")
refuses with the count and the registries, and nothing is written.

With --router, Docker's credsStore and Podman's drop-in name the router (docker-credential-credctl,
credctl.routes) instead, and the store setup picked becomes its default route; the logins move
through the router, so each lands where the router will look for it. --adopt-credhelpers also
turns Docker's credHelpers entries (and the Podman auth file entries setup wrote for them) into
routes. A step that fails puts back what the steps before it wrote: Podman's files, the routes,
config.json.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from credctl import podman as containers
from credctl import routes
from credctl.cli import complete
from credctl.cli.common import (
    CHANGED,
    MOVED,
    PODMAN_TOOLS,
    VANISHED,
    Move,
    docker_config,
    helper_problem,
    helper_suffix,
    initialise_store,
    plan,
    podman_login_note,
    registry_problem,
    report,
    show,
    store_all,
    store_and_verify,
    strip_verified,
    warn_if_missing,
)
from credctl.cli.output import busy, fail, info, interactive, plain, show_table, success, warn
from credctl.dockerconfig import CRED_HELPERS, CREDS_STORE, ConfigFile, edit, podman_auth_path, preview
from credctl.errors import CredctlError, HelperFailed, StoreError, UsageError
from credctl.names import PREFIX, helper_key, helper_program, is_hub_bookkeeping
from credctl.stores import LOGIN_STORES, STORES, canonical, first_ready, health_of, program_name, suffix_of
from credctl.stores.base import Health
from credctl.stores.passstore import GENERATE_HINT

Change = Callable[[ConfigFile], None]  # an edit of a config file (credctl.dockerconfig.edit)
STORE_CHOICES = ", ".join(LOGIN_STORES)

# The wizard's questions, in the order it asks them. Their texts are stable: scripts (the
# lead's CI among them) answer them on a pseudo-terminal.
STORE_PROMPT = "Store for Docker's credentials"
INIT_PROMPT = "Initialise the password store now?"
MAP_PROMPT = "Map a registry to another helper (REGISTRY=HELPER, empty to finish)"
PODMAN_PROMPT = "Also set up Podman/Skopeo/Buildah ({path})?"
SWITCH_PROMPT = "Move them into {program}?"
MIGRATE_PROMPT = "Move these plaintext logins into {program}?"


# --- the store ---------------------------------------------------------------------------------


def store_health() -> dict[str, Health]:
    """Each store's answer to "can you work here?" (the keyring one may take a moment)."""
    with busy("Checking which stores can work here…"):
        return {name: health_of(name) for name in LOGIN_STORES}


def choose_store(health: dict[str, Health], asked: bool) -> str:
    usable = first_ready(health.__getitem__)  # the rule ACR's `docker login` follows too
    if asked:
        show_health(health)
        return ask_store(usable or "pass")
    if usable:
        return usable
    if uninitialised_pass_root() is not None:
        return "pass"  # what is missing is `pass init`: ready_store names the commands
    details = "; ".join(f"{name}: {answer.detail}" for name, answer in health.items())
    fail(f"no store can work here ({details})")


def ask_store(default: str) -> str:
    while True:
        answer = typer.prompt(STORE_PROMPT, default=default).strip()
        if answer in LOGIN_STORES:
            return answer
        warn(f"{answer!r} is not a store: choose one of {STORE_CHOICES}")


def show_health(health: dict[str, Health]) -> None:
    rows = [[name, program_name(name), "yes" if answer.ok else "no", answer.detail] for name, answer in health.items()]
    show_table("Credential stores", ("store", "program", "ready", "detail"), rows)


def uninitialised_pass_root() -> str | None:
    """The pass store's folder when pass is installed but `pass init` has not run there."""
    from credctl.stores.passstore import PassStore

    store = PassStore()
    if shutil.which("pass") is None or store.initialised():
        return None
    return str(Path(store.root).expanduser().absolute())  # as `credctl pass init` spells it


def ready_store(store: str, health: Health, asking: bool) -> Health:
    """The store's health, after offering (on a terminal) to initialise a pass store that is not."""
    root = uninitialised_pass_root() if store == "pass" else None
    if root is None:
        return health
    if not asking:
        fail(
            f"the password store {root} is not initialised: run `{GENERATE_HINT}` "
            "(or `credctl pass init --gpg-id FINGERPRINT`), then `credctl setup` again"
        )
    if not typer.confirm(INIT_PROMPT, default=True):
        return health
    initialise_store(root)
    return health_of(store)


# --- registries mapped to other helpers --------------------------------------------------------


def parse_map(item: str) -> tuple[str, str]:
    """REGISTRY=HELPER, each part checked as `credctl map` checks it; a ValueError names what is wrong."""
    registry, equals, helper = item.partition("=")
    registry, helper = registry.strip(), helper.strip()
    if not equals or not registry or not helper:
        raise ValueError(f"{item!r} is not REGISTRY=HELPER: e.g. registry.example.com=pass")
    problem = registry_problem(registry) or helper_problem(helper)
    if problem:
        raise ValueError(problem)
    return registry, helper_suffix(helper)


def parse_maps(maps: list[str]) -> dict[str, str]:
    mapping = {}
    for item in maps:
        try:
            registry, helper = parse_map(item)
        except ValueError as err:
            raise UsageError(str(err), option="--map") from None
        mapping[registry] = helper
    return mapping


def ask_maps() -> dict[str, str]:
    """Each answer checked as it comes: a bad one is said in one line and asked again."""
    mapping: dict[str, str] = {}
    while True:
        answer = typer.prompt(MAP_PROMPT, default="", show_default=False).strip()
        if not answer:
            return mapping
        try:
            registry, helper = parse_map(answer)
        except ValueError as err:
            warn(str(err))
            continue
        mapping[registry] = helper
        warn_if_missing(helper)


def want_podman(flag: bool | None, podman_path: str, asking: bool) -> bool:
    """--podman/--no-podman; else, where Podman, Skopeo or Buildah is or has been, yes (asked)."""
    if flag is not None:
        return flag
    dropin = containers.dropin_path()
    been = os.path.exists(podman_path) or os.path.exists(dropin)
    present = been or any(shutil.which(tool) for tool in PODMAN_TOOLS)
    return present and (not asking or typer.confirm(PODMAN_PROMPT.format(path=dropin), default=True))


def consent(migrate: bool | None, asking: bool, question: str) -> bool:
    """--migrate/--no-migrate; else yes, asked on a terminal (--yes takes the yes)."""
    if migrate is not None:
        return migrate
    return not asking or typer.confirm(question, default=True)


def refusal_hint(migrate: bool | None) -> str:
    return "drop --no-migrate" if migrate is False else "answer yes"


def named(registries: list[str]) -> str:
    return ", ".join(registries)


def plaintext_moves(
    before: ConfigFile,
    after: ConfigFile,
    store: str,
    setting_store: bool,
    migrate: bool | None,
    asking: bool,
    into: str | None = None,
):
    """The plaintext logins to move (each to the helper that will serve it: a credHelpers entry's,
    else into, default the store), once agreed to.

    before is config.json as Docker reads it now, after as setup will leave it. Refuses when
    declined while setting credsStore would make Docker ignore some of them.
    """
    moves = plan(after, into or store, serving=before)
    if not moves:
        return []
    show(moves, "Plaintext credentials to move")
    if consent(migrate, asking, MIGRATE_PROMPT.format(program=program_name(store))):
        return moves
    stranded = [move.registry for move in moves if not move.mapped]
    if setting_store and stranded:
        fail(
            f"{len(stranded)} plaintext login(s) ({named(stranded)}) would stop working once credsStore is set: "
            f"let setup move them ({refusal_hint(migrate)}) or remove them first"
        )
    return []


def previous_logins(before: ConfigFile, after: ConfigFile, previous: str, suffix: str) -> list[Move]:
    """The logins the previous credsStore serves that it will not serve once setup is done.

    Each goes to the helper that will serve it (the new store, or a new --map entry's helper).
    A registry credHelpers sends to the previous store keeps working there and stays. A previous
    helper that is not installed served nobody; one that cannot list what it holds stops setup:
    nothing it may hold is left unreachable unsaid.
    """
    from credctl import client
    from credctl.client import NOT_FOUND_STATUS

    program = PREFIX + previous
    try:
        held = client.list_credentials(helper_program(previous))
    except HelperFailed as err:
        if err.status == NOT_FOUND_STATUS:
            warn(f"{program} is not installed: Docker could not reach what it held, so switching strands nothing")
            return []
        fail(
            f"cannot list the logins in {program} ({err}): switching credsStore away from it would strand "
            f"whatever it holds; run setup where {program} works, or remove credsStore from {before.path} first"
        )
    held = _without_bookkeeping(held, program)
    routes = {registry: after.helper_for(registry) for registry in held}
    kept = sorted(
        registry for registry, route in routes.items() if route.via == CRED_HELPERS and route.helper == previous
    )
    if kept:
        info(f"{named(kept)}: credHelpers still sends them to {program}, which keeps them: nothing is lost")
    served = sorted(registry for registry in held if before.helper_for(registry).via == CREDS_STORE)
    moves = []
    for registry in served:
        route = routes[registry]
        if route.helper != previous:
            mapped = route.via == CRED_HELPERS
            moves.append(Move(registry, held[registry], "", route.helper if mapped else suffix, mapped))
    return moves


def _without_bookkeeping(held: dict[str, str], program: str) -> dict[str, str]:
    """held without Docker Hub's OAuth bookkeeping keys (names.is_hub_bookkeeping), which stay where
    docker's web sign-in put them: credctl never moves or removes them (a line says so)."""
    kept = sorted(key for key in held if is_hub_bookkeeping(key))
    if kept:
        info(
            f"{named(kept)}: Docker Hub's sign-in tokens (docker's own bookkeeping, not logins) stay in {program}; "
            "`docker login` makes new ones where Docker Hub's login goes"
        )
    return {registry: user for registry, user in held.items() if not is_hub_bookkeeping(registry)}


def agree_to_switch(moves: list[Move], previous: str, store: str, migrate: bool | None, asking: bool) -> None:
    """Shows the previous credsStore's logins that must move; refuses unless they may (the default)."""
    if not moves:
        return
    source = PREFIX + previous
    show(moves, f"Logins in {source} to move")
    if not consent(migrate, asking, SWITCH_PROMPT.format(program=program_name(store))):
        registries = [move.registry for move in moves]
        fail(
            f"{len(moves)} login(s) in {source} ({named(registries)}) would stop working once credsStore is "
            f"{STORES[store].suffix}: let setup move them ({refusal_hint(migrate)}) or keep --store {previous}"
        )


def copy_logins(moves: list[Move], previous: str) -> None:
    """Each login of the previous credsStore copied to its new helper and verified there.

    Nothing is erased yet: any failure stops setup with every login still in the previous store
    and config.json as it was.
    """
    from credctl import client

    if not moves:
        return
    for move in moves:
        try:
            found = client.get(helper_program(previous), move.registry)
        except CredctlError as err:
            move.outcome = f"failed: {err}"
            continue
        move.username, move.secret = found.username, found.secret
        store_and_verify(move)  # no spinner: gpg may ask for a passphrase here
    show(moves, f"Copied from {PREFIX}{previous}")
    failed = [move.registry for move in moves if move.outcome != MOVED]
    if failed:
        fail(
            f"{len(failed)} of {len(moves)} login(s) could not be copied out of {PREFIX}{previous} ({named(failed)}): "
            f"they all stay there and credsStore stays {previous}; see the table above"
        )


def erase_copied(moves: list[Move], previous: str) -> None:
    """The previous store's copies of logins now verified where they go (once credsStore is switched)."""
    from credctl import client

    source = PREFIX + previous
    for move in moves:
        try:
            client.erase(helper_program(previous), move.registry)
        except CredctlError as err:
            warn(f"{move.registry} is in {PREFIX}{move.helper} now but could not be erased from {source}: {err}")
            continue
        # Stored and verified again: two helpers may keep one store (Debian's Go pass helper
        # under another name and credctl's share ~/.password-store), and then that erase took
        # the new copy too.
        store_and_verify(move)
        if move.outcome != MOVED:
            warn(f"{move.registry} was erased from {source} and is not in {PREFIX}{move.helper}: {move.outcome}")
    targets = ", ".join(sorted({PREFIX + move.helper for move in moves}))
    success(f"moved {len(moves)} login(s) from {source} into {targets}")


# --- the command -------------------------------------------------------------------------------


def setup(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            help=f"Store for Docker's credsStore: {STORE_CHOICES}.",
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
            "--podman/--no-podman",
            help="Also make podman, buildah and skopeo log in through the store (credctl's registries.conf.d "
            "drop-in; default: yes where Podman, Skopeo, Buildah or their files are).",
        ),
    ] = None,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Move the logins Docker would stop seeing into the store, verified (default: move; "
            "--no-migrate refuses instead of stranding them).",
        ),
    ] = None,
    router: Annotated[
        bool,
        typer.Option(
            "--router",
            help="Put credctl's router in front (credsStore credctl, and Podman's drop-in): the store becomes its "
            "default route, and `credctl route add` sends other registries elsewhere.",
        ),
    ] = False,
    adopt_credhelpers: Annotated[
        bool,
        typer.Option(
            "--adopt-credhelpers",
            help="With --router: turn config.json's credHelpers entries (and the Podman auth file entries setup "
            "wrote for them) into routes, and remove them from the files.",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes to each file; write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing; take the defaults.")] = False,
) -> None:
    """Point Docker (and Podman) at a secure credential store.

    Sets credsStore, and for Podman, Buildah and Skopeo credctl's registries.conf.d drop-in naming
    the same store (Podman's credsStore), and maps registries to helpers. Never logs anyone
    out: plaintext logins in config.json, and the logins of the credsStore being replaced, move
    into the store first (each stored, read back and compared; only then removed from where it
    was). A previous credsStore helper that is not installed is skipped with a warning; one that
    cannot list its logins stops setup. Asks on a terminal (and offers to initialise a pass store
    that is not); every question has a flag.

    With --router, credsStore and the drop-in name credctl's router and the store is its default
    route; credHelpers entries stay (and win over the router for their registries) unless
    --adopt-credhelpers moves them into routes.
    """
    asking = interactive() and not yes
    if store is not None and store not in LOGIN_STORES:
        raise UsageError(f"choose one of {STORE_CHOICES}", option="--store")
    if adopt_credhelpers and not router:
        raise UsageError("--adopt-credhelpers moves credHelpers into the router's routes: add --router")
    mapping = parse_maps(maps or [])
    health = store_health()
    store = store or choose_store(health, asking)
    if not dry_run:
        health[store] = ready_store(store, health[store], asking)
        if not health[store].ok:
            fail(f"the {store} store cannot work here: {health[store].detail}")
    wizard_maps = ask_maps() if asking and not mapping else {}
    docker_path, podman_path = docker_config(ctx), podman_auth_path()
    podman = want_podman(podman, podman_path, asking)
    suffix = STORES[store].suffix
    before = ConfigFile.read(docker_path)
    route_plan = _plan_routes(before, store, adopt_credhelpers) if router else None
    front = routes.ROUTER if router else suffix  # what credsStore and Podman's drop-in name
    docker_change = _docker_change(front, {**mapping, **wizard_maps}, route_plan)

    after = ConfigFile.read(docker_path)
    docker_change(after)
    previous = _previous_store(before.creds_store or None, router)
    logins = previous_logins(before, after, str(previous), front) if previous not in (None, suffix, front) else []
    agree_to_switch(logins, str(previous), store, migrate, asking)
    moves = plaintext_moves(before, after, store, previous is None, migrate, asking, into=front)

    podman_plan = _plan_podman(podman_path, front, after, route_plan) if podman else None
    if dry_run:
        _preview(docker_path, _with_moves(moves, docker_change), podman_plan, moves, route_plan)
        return
    if store == "keyring":
        from credctl.stores.keyringstore import load_backend

        load_backend()  # remembered now, so no helper call pays for detection
    with _podman_first(podman_plan), _routes_first(route_plan):
        _move_and_write(docker_path, docker_change, store, moves, logins, str(previous), router)
    for helper in {front, *mapping.values()}:  # under the router, the store is answered in-process
        warn_if_missing(helper)
    if route_plan is not None:
        _note_credhelpers(after, docker_path)
        info(
            f"Docker now asks {PREFIX}{routes.ROUTER} (the router); its default route is {store}. "
            "Add routes with `credctl route add`; check it all with `credctl verify`."
        )
    else:
        info(f"Docker now keeps credentials in {PREFIX}{suffix}. Check it all with `credctl verify`.")


# --- Podman, Buildah and Skopeo ----------------------------------------------------------------
#
# What setup writes for them, as for Docker: a default helper and the exceptions. The default is
# credctl's registries.conf.d drop-in (credential-helpers = [STORE, "containers-auth.json"],
# credctl.podman), which makes podman, buildah and skopeo login store through the store's helper
# and read it first. The exceptions are the registries Docker's config sends to another helper
# (acr-helper...): a credHelpers entry each in Podman's persistent auth file, where containers/image
# honours them for reads (after the store's helper has answered "not found"). A credHelpers entry
# per registry naming the store itself, which setup wrote before there was a drop-in, would say
# again what the drop-in says: setup writes none now, and leaves those already there (harmless,
# and perhaps a person's own).


class _PodmanPlan:
    """What setup will write for Podman: the drop-in's edit (already read and checked) and the
    credHelpers entries for the registries that go to another helper than the store (None: an
    entry setup wrote for a registry --adopt-credhelpers routes now, taken out)."""

    def __init__(self, dropin: containers.DropinChange, auth_path: str, entries: dict[str, str | None], suffix: str):
        self.dropin, self.auth_path, self.entries, self.suffix = dropin, auth_path, entries, suffix
        self.auth_changed: bool | None = None  # None: the auth file was left alone

    def auth_change(self, config: ConfigFile) -> None:
        config.set_helpers(dict(self.entries))


def _plan_podman(podman_path: str, suffix: str, docker: ConfigFile, route_plan: "_RoutePlan | None") -> _PodmanPlan:
    """Read and check both of Podman's files before anything is written (an unsafe drop-in
    folder, a drop-in that is not TOML, an auth file that is not JSON each stop setup here).
    docker is config.json as setup will leave it."""
    dropin = containers.plan_dropin(containers.login_helpers(suffix))
    entries: dict[str, str | None] = {}
    for registry in docker.helpers:
        route = docker.helper_for(registry)
        if route.helper and route.helper != suffix:
            entries[helper_key(registry, podman=True)] = route.helper
    if route_plan is not None and route_plan.adopted:
        entries.update(_adopted_podman_entries(ConfigFile.read(podman_path), route_plan, entries))
    if entries:
        ConfigFile.read(podman_path)
    return _PodmanPlan(dropin, podman_path, entries, suffix)


def _adopted_podman_entries(podman: ConfigFile, route_plan: "_RoutePlan", kept: dict) -> dict[str, None]:
    """Podman's credHelpers entries for the adopted registries that setup wrote (naming the
    registry's Docker helper, or the store as an older setup did), each to be taken out."""
    found = podman.helpers
    gone: dict[str, None] = {}
    for key, helper in route_plan.adopted.items():
        podman_key = helper_key(key, podman=True)
        if podman_key not in kept and found.get(podman_key) in (helper, STORES[route_plan.default].suffix):
            gone[podman_key] = None
    return gone


@contextmanager
def _podman_first(plan: _PodmanPlan | None) -> Iterator[None]:
    """Podman's files written first (the drop-in, then the auth file), so that a failure there
    leaves everything else as it was; put back as they were when what follows (Docker's part)
    fails. Their lines are shown once all is done."""
    if plan is None:
        yield
        return
    dropin = containers.edit_dropin(containers.login_helpers(plan.suffix))
    previous: dict[str, str | None] = {}
    try:
        if plan.entries:
            before = ConfigFile.read(plan.auth_path).helpers
            previous = {key: before.get(key) for key in plan.entries}
            old_text, new_text = edit(plan.auth_path, plan.auth_change)
            plan.auth_changed = old_text != new_text
        yield
    except BaseException:
        _put_back(dropin, plan, previous)
        raise
    _report_podman(dropin, plan)


def _put_back(dropin: containers.DropinChange, plan: _PodmanPlan, previous: dict[str, str | None]) -> None:
    if plan.auth_changed:
        edit(plan.auth_path, lambda config: config.set_helpers(previous))
    if not containers.restore_dropin(dropin):
        warn(f"{dropin.path} was changed by someone else meanwhile: left as it is now")


def _report_podman(dropin: containers.DropinChange, plan: _PodmanPlan) -> None:
    program = PREFIX + plan.suffix
    if dropin.changed:
        success(f"{dropin.path}: updated: podman, buildah and skopeo log in through {program}")
    else:
        success(f"{dropin.path}: already set up")
    if plan.auth_changed is not None:
        success(f"{plan.auth_path}: {'updated' if plan.auth_changed else 'already set up'}")
    podman_login_note("", plan.suffix)


# --- the router (--router): credctl's routes -----------------------------------------------------


class _RoutePlan:
    """What setup --router writes in credctl's settings: the default route (the store) and the
    rules adopted from config.json's credHelpers (pattern → helper); adopted: the credHelpers
    entries that go (key → helper)."""

    def __init__(self, default: str, rules: dict[str, str], adopted: dict[str, str]) -> None:
        self.default, self.rules, self.adopted = default, rules, adopted


def _plan_routes(config: ConfigFile, store: str, adopt: bool) -> _RoutePlan:
    """The routes for config's credHelpers entries (with adopt; an entry naming the router itself
    just goes). An entry no route can hold (an empty helper: plaintext; a key that is no pattern)
    stays, with a line saying why."""
    rules: dict[str, str] = {}
    adopted: dict[str, str] = {}
    for key, helper in config.helpers.items() if adopt else ():
        problem = _adoption_problem(key, helper)
        if problem:
            warn(f"credHelpers entry {key} stays: {problem}")
            continue
        if helper != routes.ROUTER:
            rules[routes.normalized_pattern(key)] = helper
        adopted[key] = helper
    return _RoutePlan(store, rules, adopted)


def _adoption_problem(key: str, helper: str) -> str | None:
    """Why a credHelpers entry cannot become a route, or None."""
    if not helper:
        return "it sends the registry to plaintext auths"
    if helper == routes.ROUTER:
        return None  # the router serves it once it is credsStore: the entry just goes
    return routes.pattern_problem(key) or routes.helper_problem(helper)


def _previous_store(creds_store: str | None, router: bool) -> str | None:
    """The credsStore whose logins setup may have to move: setup --router over the router counts
    its default route's store (a login store; else nothing to move)."""
    if not (router and creds_store == routes.ROUTER):
        return creds_store
    default = routes.Routes.load().default
    return suffix_of(default) if default and canonical(default) in LOGIN_STORES else None


@contextmanager
def _routes_first(plan: _RoutePlan | None) -> Iterator[None]:
    """The routes written (adopted rules, then the default route) before the logins move through
    the router; put back as they were when what follows fails. Their lines once all is done."""
    if plan is None:
        yield
        return
    found = routes.Routes.load()
    previous_rules = {pattern: found.rules.get(pattern) for pattern in plan.rules}
    previous_default = found.default
    if plan.rules:
        routes.set_rules(dict(plan.rules))
    routes.set_default(plan.default)
    try:
        yield
    except BaseException:
        if previous_rules:
            routes.set_rules(previous_rules)
        if previous_default:
            routes.set_default(previous_default)
        else:
            routes.remove(routes.DEFAULT_PATTERN)
        raise
    _report_routes(plan, previous_default)


def _report_routes(plan: _RoutePlan, previous_default: str | None) -> None:
    from credctl.settings import settings_path

    for pattern, helper in plan.rules.items():
        success(f"route {pattern} → {helper} (was a credHelpers entry)")
    same = previous_default == plan.default
    success(f"{settings_path()}: default route → {plan.default}{' (already so)' if same else ''}")


def _note_credhelpers(config: ConfigFile, path: str) -> None:
    """One line naming the credHelpers entries that still win over the router (and how to adopt them)."""
    kept = sorted(key for key, helper in config.helpers.items() if helper and helper != routes.ROUTER)
    if kept:
        info(
            f"credHelpers in {path} still win over the router for {named(kept)}: "
            "`credctl setup --router --adopt-credhelpers` moves them into routes"
        )


def _move_and_write(
    docker_path: str,
    docker_change: Change,
    store: str,
    moves: list[Move],
    logins: list[Move],
    previous: str,
    router: bool = False,
) -> None:
    """Every login stored and verified where it goes, then config.json written, then old copies erased.

    Plaintext logins first: the edit that sets credsStore also strips them, and if any fails
    credsStore is not set (Docker keeps reading the file; under --router config.json stays as it
    was, since the logins moved went through routes that are put back). Then the previous
    store's, which win where both hold a registry (Docker used those), erased from there only
    once credsStore is switched.
    """
    store_all(moves)
    if not all(move.done for move in moves) and router:
        show(moves, "Migration")
        failed = [move.registry for move in moves if not move.done]
        fail(
            f"{len(failed)} of {len(moves)} plaintext login(s) could not be moved through the router "
            f"({named(failed)}): {docker_path} and the routes stay as they were; see the table above"
        )
    if not all(move.done for move in moves):
        edit(docker_path, lambda config: strip_verified(moves, store, config))
        report(moves, docker_path)  # one error line, exit 1
    copy_logins(logins, previous)
    before_text, after_text = edit(docker_path, _with_moves(moves, docker_change))
    if moves:
        report(moves, docker_path)
    success(f"{docker_path}: {'updated' if before_text != after_text else 'already set up'}")
    if logins:
        erase_copied(logins, previous)


def _preview(
    docker_path: str,
    docker_change: Change,
    podman_plan: _PodmanPlan | None,
    moves: list[Move],
    route_plan: _RoutePlan | None = None,
) -> None:
    """The diffs (and the routes); the logins that would move are in the tables already shown."""
    for move in moves:
        move.outcome = MOVED  # what the preview assumes
    if route_plan is not None:
        from credctl.settings import settings_path

        for pattern, helper in route_plan.rules.items():
            plain(f"{settings_path()}: route {pattern} → {helper}")
        plain(f"{settings_path()}: default route → {route_plan.default}")
    plain(preview(docker_path, docker_change) or f"{docker_path}: no change")
    if podman_plan is not None:
        plain(_text_diff(podman_plan.dropin) or f"{podman_plan.dropin.path}: no change")
        if podman_plan.entries:
            path = podman_plan.auth_path
            plain(preview(path, podman_plan.auth_change) or f"{path}: no change")
    info("Dry run: nothing was written.")


def _text_diff(change: containers.DropinChange) -> str:
    import difflib

    before, after = (change.before or "").splitlines(True), (change.after or "").splitlines(True)
    lines = difflib.unified_diff(before, after, change.path, f"{change.path} (after)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _docker_change(suffix: str, mapping: dict[str, str], route_plan: _RoutePlan | None = None) -> Change:
    def change(config: ConfigFile) -> None:
        config.creds_store = suffix
        if route_plan is not None:
            config.set_helpers(dict.fromkeys(route_plan.adopted))
        config.set_helpers({helper_key(registry): helper for registry, helper in mapping.items()})

    return change


def _with_moves(moves: list[Move], change: Change) -> Change:
    """change, then the secrets of the verified moves out of `auths` (each mapped where Docker,
    with change made, would not ask its new helper).

    An entry that changed or went since it was verified (strip_verified says which) stops the
    edit: setting credsStore could hide a login written meanwhile, so nothing is written."""

    def both(config: ConfigFile) -> None:
        change(config)
        strip_verified(moves, None, config)
        if any(move.outcome in (CHANGED, VANISHED) for move in moves):
            raise StoreError(f"{config.path} changed while setup ran: nothing was written; run `credctl setup` again")

    return both
