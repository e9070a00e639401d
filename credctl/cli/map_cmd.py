"""`credctl map REGISTRY HELPER` / `credctl unmap REGISTRY`: one credHelpers entry."""

import re
from collections.abc import Callable
from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.output import docker_config, fail, info, success, warn
from credctl.dockerconfig import ConfigFile, edit, podman_auth_path
from credctl.names import helper_key
from credctl.stores import PREFIX

_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

PodmanOption = Annotated[
    bool, typer.Option("--podman/--no-podman", help="Also edit Podman's auth.json (Podman ignores credsStore).")
]


# docker/distribution's reference grammar for a registry: DNS labels joined by dots (or an
# IPv6 address in brackets), then an optional port.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")
# The paths Docker's own keys carry (https://index.docker.io/v1/, https://host/v2/): dropped.
_API_PATHS = ("", "/", "/v1", "/v1/", "/v2", "/v2/")
_EXAMPLE = "give a host or host:port, e.g. registry.example.com or localhost:5000"


def registry_problem(registry: str) -> str | None:
    """Why registry cannot name a credHelpers entry, or None when it can.

    What it accepts is what Docker reduces to the same key (dockerconfig.registry_host): a host
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
    """registry, or a usage error (one line, exit 2) saying why it names no registry."""
    problem = registry_problem(registry)
    if problem:
        fail(problem, 2)
    return registry


def helper_problem(helper: str) -> str | None:
    """Why helper names no docker-credential-* program, or None when it does."""
    if _HELPER_NAME.fullmatch(helper.removeprefix(PREFIX)):
        return None
    return f"{helper!r} is not a helper name: give the suffix of a docker-credential-* program, e.g. pass"


def helper_suffix(helper: str) -> str:
    """HELPER as config.json wants it: the part after docker-credential-; a usage error (exit 2) if
    it names no helper."""
    problem = helper_problem(helper)
    if problem:
        fail(problem, 2)
    return helper.removeprefix(PREFIX)


def warn_if_missing(suffix: str) -> None:
    """Warn when Docker would run no docker-credential-SUFFIX, or another one than credctl's."""
    from credctl.programs import find_helper

    problem = find_helper(suffix).problem
    if problem is not None:
        warn(problem)


def helpers_change(helpers: dict[str, str | None]) -> Callable[[ConfigFile], None]:
    """An edit that sets (or, with None, removes) credHelpers entries."""

    def change(config: ConfigFile) -> None:
        adding = any(suffix is not None for suffix in helpers.values())
        section = config.section("credHelpers") if adding else config.get("credHelpers")
        if not isinstance(section, dict):
            return  # nothing to remove
        for key, suffix in helpers.items():
            if suffix is not None:
                section[key] = suffix
            elif section.pop(key, None) is not None and not section:
                config.remove("credHelpers")  # as Docker leaves no empty credHelpers behind

    return change


def _config_keys(ctx: typer.Context, registry: str, podman: bool) -> list[tuple[str, str]]:
    """(config file, the credHelpers key its tool looks up) for Docker, and Podman if asked."""
    checked_registry(registry)
    targets = [(docker_config(ctx), helper_key(registry))]
    if podman:
        targets.append((podman_auth_path(), helper_key(registry, podman=True)))
    return targets


def map_registry(
    ctx: typer.Context,
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], or docker.io.")],
    helper: Annotated[str, typer.Argument(metavar="HELPER", help="Helper suffix, e.g. pass or acr-helper-team1.")],
    podman: PodmanOption = False,
) -> None:
    """Serve a registry's credentials with one helper.

    Writes one credHelpers entry: REGISTRY → docker-credential-HELPER.
    """
    targets = _config_keys(ctx, registry, podman)
    suffix = helper_suffix(helper)
    for path, key in targets:
        before, after = edit(path, helpers_change({key: suffix}))
        (success if before != after else info)(
            f"{key} → {PREFIX}{suffix} in {path}" + ("" if before != after else " (already so)")
        )
    warn_if_missing(suffix)


def unmap_registry(
    ctx: typer.Context,
    registry: Annotated[
        str,
        typer.Argument(
            metavar="REGISTRY",
            help="Registry whose credHelpers entry to remove.",
            autocompletion=complete.mapped_registries,
        ),
    ],
    podman: PodmanOption = False,
) -> None:
    """Remove a registry's credHelpers entry.

    Its credentials stay in the store.
    """
    for path, key in _config_keys(ctx, registry, podman):
        before, after = edit(path, helpers_change({key: None}))
        if before != after:
            success(f"{key} no longer mapped in {path}")
        else:
            info(f"{key} was not mapped in {path}: nothing to do")
