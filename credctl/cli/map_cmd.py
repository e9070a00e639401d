"""`credctl map REGISTRY HELPER` / `credctl unmap REGISTRY`: one credHelpers entry."""

import re
from collections.abc import Callable
from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.output import docker_config, fail, info, success, warn
from credctl.dockerconfig import ConfigFile, edit, helper_key, podman_auth_path
from credctl.stores import PREFIX

_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

PodmanOption = Annotated[
    bool, typer.Option("--podman/--no-podman", help="Also edit Podman's auth.json (Podman ignores credsStore).")
]


def helper_suffix(helper: str) -> str:
    """HELPER as config.json wants it: the part after docker-credential-."""
    suffix = helper.removeprefix(PREFIX)
    if not _HELPER_NAME.fullmatch(suffix):
        fail(f"{helper!r} is not a helper name: give the suffix of a docker-credential-* program, e.g. pass", 2)
    return suffix


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
    targets = [(docker_config(ctx), helper_key(registry))]
    if podman:
        targets.append((podman_auth_path(), helper_key(registry, podman=True)))
    return targets


def map_registry(
    ctx: typer.Context,
    registry: Annotated[str, typer.Argument(help="Registry host (scheme and path are dropped), or docker.io.")],
    helper: Annotated[str, typer.Argument(help="Helper suffix, e.g. pass or acr-helper-team1.")],
    podman: PodmanOption = False,
) -> None:
    """Serve a registry's credentials with one helper.

    Writes one credHelpers entry: REGISTRY → docker-credential-HELPER.
    """
    suffix = helper_suffix(helper)
    for path, key in _config_keys(ctx, registry, podman):
        before, after = edit(path, helpers_change({key: suffix}))
        (success if before != after else info)(
            f"{key} → {PREFIX}{suffix} in {path}" + ("" if before != after else " (already so)")
        )
    warn_if_missing(suffix)


def unmap_registry(
    ctx: typer.Context,
    registry: Annotated[
        str,
        typer.Argument(help="Registry whose credHelpers entry to remove.", autocompletion=complete.mapped_registries),
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
