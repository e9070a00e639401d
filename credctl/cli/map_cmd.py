"""`credctl map REGISTRY HELPER` / `credctl unmap REGISTRY`: one credHelpers entry.

With --podman, Podman's auth file gets the entry too; and a login store mapped so, when nothing
routes Podman's logins yet, gets credctl's registries.conf.d drop-in (credctl.podman): Podman
honours credHelpers in that file for reads only, so without the drop-in `podman login REGISTRY`
would write plaintext. `unmap --podman-default` takes the drop-in out again.
"""

from typing import Annotated

import typer

from credctl import podman as containers
from credctl.cli import complete
from credctl.cli.common import (
    LOGIN_SUFFIXES,
    checked_registry,
    docker_config,
    helper_suffix,
    podman_login_note,
    warn_if_missing,
)
from credctl.cli.output import info, success, warn
from credctl.dockerconfig import ConfigFile, edit, podman_auth_path
from credctl.errors import CredctlError, UsageError
from credctl.names import PREFIX, helper_key

PodmanOption = Annotated[
    bool,
    typer.Option(
        "--podman/--no-podman",
        help="Also edit Podman's auth.json; map to a login store also writes credctl's registries.conf.d "
        "drop-in when nothing routes Podman's logins yet.",
    ),
]


def _config_keys(ctx: typer.Context, registry: str, podman: bool) -> list[tuple[str, str]]:
    """(config file, the credHelpers key its tool looks up) for Docker, and Podman if asked."""
    registry = checked_registry(registry)
    targets = [(docker_config(ctx), helper_key(registry))]
    if podman:
        targets.append((podman_auth_path(), helper_key(registry, podman=True)))
    return targets


def _needs_dropin(suffix: str) -> bool:
    """A login store, and nothing routes Podman's logins yet (they would be plaintext), and no file
    loaded after credctl's drop-in would override it."""
    if suffix not in LOGIN_SUFFIXES:
        return False
    wiring = containers.wiring()
    return not wiring.login_helper and not wiring.overridden_by


def map_registry(
    ctx: typer.Context,
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], or docker.io.")],
    helper: Annotated[str, typer.Argument(metavar="HELPER", help="Helper suffix, e.g. pass or acr-helper-team1.")],
    podman: PodmanOption = False,
) -> None:
    """Serve a registry's credentials with one helper.

    Writes one credHelpers entry: REGISTRY → docker-credential-HELPER. With --podman and a login
    store (pass, secretservice, keyring), also writes credctl's registries.conf.d drop-in when
    nothing routes Podman's logins yet, so that `podman login REGISTRY` stores through it.
    """
    targets = _config_keys(ctx, registry, podman)
    suffix = helper_suffix(helper)
    dropin = None
    if podman and _needs_dropin(suffix):
        # first: if it fails, nothing changed; map's header, so the last unmap --podman takes it out
        dropin = containers.edit_dropin(containers.login_helpers(suffix), header=containers.MAP_DROPIN_HEADER)
    try:
        results = [edit(path, lambda config, key=key: config.set_helpers({key: suffix})) for path, key in targets]
    except BaseException:
        if dropin is not None:
            containers.restore_dropin(dropin)
        raise
    for (path, key), (before, after) in zip(targets, results, strict=True):
        (success if before != after else info)(
            f"{key} → {PREFIX}{suffix} in {path}" + ("" if before != after else " (already so)")
        )
    if dropin is not None and dropin.changed:
        success(f"{dropin.path}: podman, buildah and skopeo log in through {PREFIX}{suffix}")
    if podman and suffix in LOGIN_SUFFIXES:
        podman_login_note(helper_key(registry, podman=True), suffix)
    warn_if_missing(suffix)


def unmap_registry(
    ctx: typer.Context,
    registry: Annotated[
        str | None,
        typer.Argument(
            metavar="REGISTRY",
            help="Registry whose credHelpers entry to remove.",
            autocompletion=complete.mapped_registries,
        ),
    ] = None,
    podman: PodmanOption = False,
    podman_default: Annotated[
        bool,
        typer.Option(
            "--podman-default",
            help="Remove credctl's registries.conf.d drop-in (what `setup --podman` wrote): podman, buildah "
            "and skopeo log in to their auth files again.",
        ),
    ] = False,
) -> None:
    """Remove a registry's credHelpers entry (or credctl's Podman drop-in).

    Its credentials stay in the store. Give REGISTRY, --podman-default, or both.
    """
    if registry is None and not podman_default:
        raise UsageError("give a REGISTRY, or --podman-default to remove credctl's Podman drop-in")
    targets = _config_keys(ctx, registry, podman) if registry is not None else []
    if podman_default:
        _remove_dropin()  # first: a drop-in credctl may not edit stops the command before any change
    for path, key in targets:
        before, after = edit(path, lambda config, key=key: config.set_helpers({key: None}))
        if before != after:
            success(f"{key} no longer mapped in {path}")
        else:
            info(f"{key} was not mapped in {path}: nothing to do")
    if podman and not podman_default and not _remove_map_dropin():
        wiring = _wiring()
        if wiring is not None and wiring.active and wiring.login_helper:
            key = helper_key(registry, podman=True)
            info(
                f"podman login {key} still stores in {PREFIX}{wiring.login_helper}, as credctl's drop-in "
                f"{wiring.dropin} says for every registry (`credctl unmap --podman-default` removes it)"
            )


def _remove_map_dropin() -> bool:
    """Take out the drop-in `credctl map --podman` wrote once no credHelpers entry in Podman's auth
    file names its store any more (the drop-in was there for those registries alone); whether it went.
    setup's drop-in is left: `unmap --podman-default` undoes that one."""
    try:
        text = containers.read_dropin()
    except CredctlError:
        return False  # a drop-in credctl may not edit: the wiring note below says what holds
    helpers = containers.dropin_helpers(text)
    if not containers.written_by_map(text) or not helpers:
        return False
    if helpers[0] in ConfigFile.read(podman_auth_path()).helpers.values():
        return False
    _remove_dropin()
    return True


def _remove_dropin() -> None:
    change = containers.edit_dropin(None)
    if not change.changed:
        info(f"{change.path}: credctl wrote nothing there: nothing to do")
    elif change.after is None:
        success(f"{change.path}: removed")
    else:
        success(f"{change.path}: credctl's credential-helpers line removed; the rest of the file is kept")
    wiring = _wiring()
    if wiring is None:
        return
    if wiring.login_helper:
        info(f"podman login stores in {PREFIX}{wiring.login_helper} ({wiring.setting.source} sets credential-helpers)")
    else:
        info(f"podman login writes logins in plaintext to {wiring.primary} again")


def _wiring() -> containers.Wiring | None:
    """Podman's wiring once this command's change is made; None (said in a warning) when a
    registries.conf file Podman refuses hides it."""
    try:
        return containers.wiring()
    except CredctlError as err:
        warn(str(err))
        return None
