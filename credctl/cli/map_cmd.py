"""`credctl map REGISTRY HELPER` / `credctl unmap REGISTRY`: one credHelpers entry."""

from typing import Annotated

import typer

from credctl.cli import complete
from credctl.cli.common import checked_registry, docker_config, helper_suffix, warn_if_missing
from credctl.cli.output import info, success
from credctl.dockerconfig import edit, podman_auth_path
from credctl.names import PREFIX, helper_key

PodmanOption = Annotated[
    bool, typer.Option("--podman/--no-podman", help="Also edit Podman's auth.json (Podman ignores credsStore).")
]


def _config_keys(ctx: typer.Context, registry: str, podman: bool) -> list[tuple[str, str]]:
    """(config file, the credHelpers key its tool looks up) for Docker, and Podman if asked."""
    registry = checked_registry(registry)
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
        before, after = edit(path, lambda config, key=key: config.set_helpers({key: suffix}))
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
        before, after = edit(path, lambda config, key=key: config.set_helpers({key: None}))
        if before != after:
            success(f"{key} no longer mapped in {path}")
        else:
            info(f"{key} was not mapped in {path}: nothing to do")
