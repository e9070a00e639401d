"""`credctl acr add-profile | list-profiles | remove-profile`: one helper per Alibaba Cloud account."""

import os
from pathlib import Path
from typing import Annotated

import typer

from credctl import settings
from credctl.acr import login, profiles
from credctl.acr.domains import is_region, parse_domain
from credctl.cli import complete
from credctl.cli.common import docker_config, warn_if_missing
from credctl.cli.output import busy, fail, info, print_json, show_table, success, warn
from credctl.dockerconfig import ConfigFile, edit
from credctl.errors import UsageError
from credctl.names import bare_host

app = typer.Typer(
    help="Alibaba Cloud ACR: one helper profile per account.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
SETTING = login.PROFILES_SETTING


def _profiles() -> dict:
    return login.recorded_profiles()


@app.command("add-profile")
def add_profile(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Profile name: a-z, 0-9 and '-'.")],
    credentials_file: Annotated[
        Path,
        typer.Option("--credentials-file", metavar="FILE", help="Alibaba Cloud credentials INI file for this account."),
    ],
    registries: Annotated[
        list[str] | None, typer.Option("--registry", metavar="DOMAIN", help="ACR registry to serve; repeatable.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(metavar="REGION", help="For a custom domain: its region (the instance is found with the API)."),
    ] = None,
    instance_id: Annotated[str | None, typer.Option(metavar="ID", help="For a custom domain: its instance id.")] = None,
    bin_dir: Annotated[Path, typer.Option("--bin-dir", metavar="DIR", help="Where to write the helper.")] = Path(
        "~/.local/bin"
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Write the helper even into a folder other users can change.")
    ] = False,
) -> None:
    """Write docker-credential-acr-helper-NAME for one credentials file and map registries to it."""
    suffix = login.profile_suffix(name)
    credentials = credentials_file.expanduser().absolute()
    if not credentials.is_file():
        fail(f"{credentials} is not a file: give the Alibaba Cloud credentials INI file for this account")
    if credentials.stat().st_mode & 0o077:
        warn(f"{credentials} can be read by other users: chmod 600 it")
    domains = [bare_host(registry) for registry in registries or []]
    custom = [domain for domain in domains if parse_domain(domain) is None]
    folder = bin_dir.expanduser().absolute()
    wrapper = str(folder / profiles.wrapper_name(name))
    if not force:
        profiles.check_bin_dir(str(folder))
    # A foreign file at the wrapper path is refused before anything is written, so a profile
    # that cannot be made leaves no custom domain behind in the settings.
    profiles.check_free(wrapper)
    if domains:
        # a config.json that cannot be read was found only after the
        # wrapper (and custom domains) had been written; refuse it before anything is.
        ConfigFile.read(docker_config(ctx))
    if custom:
        _register_custom(custom, region, instance_id, login.profile_environ(name, str(credentials)))
    # The settings first (remove-profile can then undo whatever a later failure leaves), the
    # wrapper next, the mapping last: no registry is ever mapped to a helper that is not there.
    entry = {"credentials_file": str(credentials), "wrapper": wrapper, "registries": domains}
    settings.update(**{SETTING: {**_profiles(), name: entry}})
    profiles.write_wrapper(wrapper, profiles.wrapper_text(name, str(credentials), profiles.helper_program()))
    if domains:
        edit(docker_config(ctx), lambda config: config.set_helpers(dict.fromkeys(domains, suffix)))
    success(f"profile {name}: {wrapper}" + (f" serves {', '.join(domains)}" if domains else ""))
    warn_if_missing(suffix)


def _register_custom(domains: list[str], region: str | None, instance_id: str | None, environ: dict) -> None:
    """A custom domain is ACR only if told: region plus instance id, or found through the API."""
    if not region:
        raise UsageError(
            f"{', '.join(domains)} is not an ACR domain: add --region (and --instance-id, or let credctl find it)"
        )
    if not is_region(region):
        raise UsageError(f"{region!r} is not an Alibaba Cloud region (like cn-hangzhou)")
    known = login.custom_domains()
    for domain in domains:
        found = instance_id or _discover(domain, region, environ)
        known[domain] = {"region": region, "instance_id": found}
    settings.update(**{login.REGISTRIES_SETTING: known})


def _discover(domain: str, region: str, environ: dict) -> str:
    from credctl.acr.tokens import discover_instance

    with busy(f"Looking up {domain} with the Alibaba Cloud API…"):
        instance = discover_instance(domain, region, environ)
    info(f"{domain} is ACR instance {instance} in {region}")
    return instance


@app.command("list-profiles")
def list_profiles(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the ACR profiles: wrapper, credentials file and registries."""
    rows = [
        {"name": name, **entry, "wrapper_present": profiles.is_ours(str(entry.get("wrapper", "")))}
        for name, entry in sorted(_profiles().items())
        if isinstance(entry, dict)
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        info("No ACR profiles. Add one with `credctl acr add-profile NAME --credentials-file FILE`.")
        return
    cells = [
        [
            row["name"],
            row["wrapper"] if row["wrapper_present"] else f"{row['wrapper']} (missing)",
            row["credentials_file"],
            ", ".join(row.get("registries", [])),
        ]
        for row in rows
    ]
    show_table("ACR profiles", ("name", "helper", "credentials file", "registries"), cells)


@app.command("remove-profile")
def remove_profile(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Profile to remove.", autocompletion=complete.acr_profiles)
    ],
) -> None:
    """Remove a profile's wrapper and every credHelpers entry that points to it."""
    suffix = login.profile_suffix(name)
    entry = _profiles().get(name)
    if not isinstance(entry, dict):
        fail(f"there is no ACR profile {name!r} (see `credctl acr list-profiles`)")
    wrapper = str(entry.get("wrapper", ""))
    mapped: list[str] = []

    def unmap(config: ConfigFile) -> None:
        mapped[:] = [registry for registry, helper in config.helpers.items() if helper == suffix]
        config.set_helpers(dict.fromkeys(mapped))

    # Each step leaves a working set-up if the next one fails: registries stop naming the
    # wrapper first, then the profile's record goes, and the wrapper last of all.
    edit(docker_config(ctx), unmap)
    settings.update(**{SETTING: {other: value for other, value in _profiles().items() if other != name}})
    if profiles.is_ours(wrapper):
        os.unlink(wrapper)
    success(f"profile {name} removed" + (f"; {', '.join(mapped)} no longer mapped" if mapped else ""))
