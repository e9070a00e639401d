"""`credctl route add|remove|default|list|test`: the routing helper's rules (credctl.routes).

docker-credential-credctl (credsStore `credctl`, `credctl setup --router`) sends each registry to
the helper its route names; these commands edit and show those routes and nothing else. Every
rule (pattern syntax, precedence, the built-in ACR rule) is credctl.routes's: this module only
asks it. Routes hold helper names, never a secret.

`route test HOST` answers which route serves HOST and why, exit status 0; when no route serves
it, it says so and exits 1 (Docker then goes on without a login for that host).
"""

from typing import Annotated

import typer

from credctl import routes
from credctl.cli.common import checked_registry, docker_config, warn_if_missing
from credctl.cli.output import info, print_json, show_table, success
from credctl.dockerconfig import CRED_HELPERS, ConfigFile
from credctl.errors import CredctlError
from credctl.helperstore import is_own
from credctl.names import PREFIX
from credctl.stores import suffix_of

app = typer.Typer(
    help="The router's rules (docker-credential-credctl): which helper serves which registries.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ACR_NOTE = ("ACR domains", "acr", "built in")
NO_DEFAULT = "no default route: a host no rule matches gets no login (`credctl route default HELPER` sets one)"
NO_ROUTE = (
    "no route serves it: Docker gets no login for it "
    "(`credctl route add PATTERN HELPER` or `credctl route default HELPER`)"
)
NOT_ROUTED = "Docker does not ask the router yet (credsStore is not credctl): `credctl setup --router` puts it in front"

PatternArgument = Annotated[
    str,
    typer.Argument(
        metavar="PATTERN",
        help="host, host:port or a glob whose * stands for part of one DNS label, e.g. *.example.com; "
        "docker.io for Docker Hub.",
    ),
]
HelperArgument = Annotated[
    str,
    typer.Argument(
        metavar="HELPER",
        help="A credctl store (pass, secretservice, keyring, acr), an ACR profile (acr-helper-NAME) or another "
        "helper's suffix (ecr-login).",
    ),
]


def warn_if_unreachable(helper: str) -> None:
    """One warning line when helper is none of credctl's own (answered in-process) and Docker's
    PATH has no docker-credential-HELPER for the router to run (common.warn_if_missing)."""
    if not is_own(helper):
        warn_if_missing(suffix_of(helper))


def _router_note(ctx: typer.Context) -> None:
    """One line when Docker's config does not send its logins to the router (routes then do nothing)."""
    try:
        config = ConfigFile.read(docker_config(ctx))
    except CredctlError:
        return  # `credctl verify` names a config that does not parse; the routes are written all the same
    if config.creds_store != routes.ROUTER:
        info(NOT_ROUTED)


@app.command("add")
def add(ctx: typer.Context, pattern: PatternArgument, helper: HelperArgument) -> None:
    """Route the registries PATTERN matches to HELPER.

    A rule for the same pattern is replaced. A HELPER that is not one of credctl's own and is not
    on PATH is added with a warning.
    """
    stored = routes.normalized_pattern(pattern)
    before = routes.Routes.load().rules.get(stored)
    routes.add(stored, helper)  # UsageError, nothing written, for a helper no route can name
    now = routes.Routes.load().rules[stored]
    _report(f"route {stored}", before, now, ctx)


@app.command("remove")
def remove(
    pattern: Annotated[
        str,
        typer.Argument(metavar="PATTERN", help="The rule's pattern, as `credctl route list` shows it; * the default."),
    ],
) -> None:
    """Remove the rule for PATTERN (`*`: the default route)."""
    if pattern.strip() == routes.DEFAULT_PATTERN:
        had = routes.remove(routes.DEFAULT_PATTERN)
        info("removed the default route" if had else "no default route to remove")
        return
    stored = routes.stored_form(pattern)
    if routes.remove(stored):
        success(f"removed route {stored}")
    else:
        info(f"no route for {stored}: nothing removed")


@app.command("default")
def default(ctx: typer.Context, helper: HelperArgument) -> None:
    """Route every host no rule matches (and no ACR domain) to HELPER."""
    before = routes.Routes.load().default
    stored = routes.set_default(helper)  # UsageError, nothing written, for a helper no route can name
    _report("default route", before, stored, ctx)


def _report(what: str, before: str | None, now: str, ctx: typer.Context) -> None:
    """One line for a rule set to now (what it was before, or that it was so already), a warning
    when its helper cannot be reached, and a note when Docker does not ask the router yet."""
    if before == now:
        info(f"{what} → {now} (already so)")
    else:
        success(f"{what} → {now}" + (f" (was {before})" if before else ""))
    warn_if_unreachable(now)
    _router_note(ctx)


def route_rows(found: routes.Routes) -> list[list[str]]:
    """The table's rows: each rule in precedence order, the built-in ACR rule before the default."""
    rows = [[rule.pattern, rule.helper, rule.kind] for rule in found.ordered() if rule.kind != routes.DEFAULT]
    rows.append(list(ACR_NOTE))
    if found.default:
        rows.append([routes.DEFAULT_PATTERN, found.default, routes.DEFAULT])
    return rows


@app.command("list")
def list_routes(
    as_json: Annotated[
        bool, typer.Option("--json", help='A JSON list of {"pattern", "helper"} in precedence order, the default last.')
    ] = False,
) -> None:
    """The routes in precedence order: exact host:port, exact host, globs (most specific first),
    ACR domains (built in), then the default route (`*`)."""
    found = routes.Routes.load()
    if as_json:
        print_json([{"pattern": rule.pattern, "helper": rule.helper} for rule in found.ordered()])
        return
    show_table("Routes, in precedence order", ("pattern", "helper", "kind"), route_rows(found))
    if not found.default:
        info(NO_DEFAULT)


@app.command("test")
def test(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Argument(metavar="HOST", help="A registry as Docker names it: host[:port], a URL, or docker.io.")
    ],
) -> None:
    """Which route serves HOST, and why (exit status 1: no route serves it)."""
    registry = checked_registry(host)
    name = routes.routing_name(registry)
    rule = routes.Routes.load().route_for(registry)
    if rule is None:
        info(f"{name}: {NO_ROUTE}")
        _credhelpers_note(ctx, registry)
        raise typer.Exit(1)
    program = f"{PREFIX}{suffix_of(rule.helper)}"
    how = "in-process" if is_own(rule.helper) else "run by the router"
    info(f"{name} → {rule.helper} ({program}, {how}): {rule.why}")
    warn_if_unreachable(rule.helper)
    _credhelpers_note(ctx, registry)


def _credhelpers_note(ctx: typer.Context, registry: str) -> None:
    """One line when Docker asks another helper than the router for registry (its credHelpers
    entry, or a credsStore that is not credctl)."""
    try:
        config = ConfigFile.read(docker_config(ctx))
    except CredctlError:
        return
    route = config.helper_for(registry)
    if route.via == CRED_HELPERS and route.helper != routes.ROUTER:
        info(f"but Docker asks {PREFIX}{route.helper} for it: its credHelpers entry {route.key} wins over the router")
    elif config.creds_store != routes.ROUTER:
        info(NOT_ROUTED)
