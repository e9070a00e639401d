"""`credctl acr add-profile | list-profiles | remove-profile`: one helper per Alibaba Cloud account."""

import os
from pathlib import Path
from typing import Annotated

import typer

from credctl import settings
from credctl.acr import login, profiles
from credctl.acr.domains import is_region, parse_domain
from credctl.acr.identity import CHAIN
from credctl.acr.podidentity import _ROLE_NAME_CHARS, arn_account
from credctl.cli import complete
from credctl.cli.common import docker_config, warn_if_missing
from credctl.cli.output import busy, fail, info, print_json, show_table, success, warn
from credctl.dockerconfig import ConfigFile, edit
from credctl.errors import UsageError
from credctl.names import bare_host
from credctl.paths import home

app = typer.Typer(
    help="Alibaba Cloud ACR: one helper profile per account.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
SETTING = login.PROFILES_SETTING
# What STS allows in an ExternalId and a RoleSessionName (Alibaba Cloud's AssumeRole reference).
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_EXTERNAL_ID_CHARS = _WORD | frozenset("=,.@:/-")
_SESSION_CHARS = _WORD | frozenset(".@-")


def _profiles() -> dict:
    return login.recorded_profiles()


@app.command("add-profile")
def add_profile(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Profile name: a-z, 0-9 and '-'.")],
    credentials_file: Annotated[
        Path | None,
        typer.Option("--credentials-file", metavar="FILE", help="Alibaba Cloud credentials INI file for this account."),
    ] = None,
    section: Annotated[
        str | None,
        typer.Option(metavar="SECTION", help="With --credentials-file: the INI section to use (default: default)."),
    ] = None,
    cli_profile: Annotated[
        str | None,
        typer.Option("--cli-profile", metavar="PROFILE", help="A profile of the aliyun CLI's config."),
    ] = None,
    cli_config: Annotated[
        Path | None,
        typer.Option(
            "--cli-config",
            metavar="FILE",
            help="With --cli-profile: the config (~/.aliyun/config.json).",
        ),
    ] = None,
    role_arn: Annotated[
        str | None,
        typer.Option(
            "--role-arn",
            metavar="ARN",
            help="A RAM role to assume (STS AssumeRole).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            metavar="SOURCE",
            help="With --role-arn: a file or CLI profile's NAME, or 'chain' (the environment's).",
        ),
    ] = None,
    external_id: Annotated[
        str | None,
        typer.Option(metavar="ID", help="With --role-arn: the external id its trust policy asks for."),
    ] = None,
    session_name: Annotated[
        str | None, typer.Option(metavar="NAME", help="With --role-arn: the STS session name (default: credctl-NAME).")
    ] = None,
    duration: Annotated[
        int | None,
        typer.Option(metavar="SECONDS", help="With --role-arn: credentials' lifetime (900-43200; 3600)."),
    ] = None,
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
    """Write docker-credential-acr-helper-NAME for one Alibaba Cloud identity and map registries to it.

    The identity is exactly one of: --credentials-file FILE [--section S], --cli-profile P
    [--cli-config FILE], or --role-arn ARN --source SOURCE [--external-id ID]."""
    suffix = login.profile_suffix(name)
    kinds = {"--credentials-file": credentials_file, "--cli-profile": cli_profile, "--role-arn": role_arn}
    given = [option for option, value in kinds.items() if value is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of --credentials-file, --cli-profile or --role-arn")
    refinements = {"section": section, "cli_config": cli_config, "source": source, "external_id": external_id}
    _check_kind_options(given[0], **refinements, session_name=session_name, duration=duration)
    if credentials_file is not None:
        identity = _file_identity(credentials_file, section)
    elif cli_profile is not None:
        identity = _cli_identity(cli_profile, cli_config)
    else:
        identity = _role_identity(name, role_arn or "", source, external_id, session_name, duration)
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
        _register_custom(custom, region, instance_id, login.profile_environ(name, identity))
    # The settings first (remove-profile can then undo whatever a later failure leaves), the
    # wrapper next, the mapping last: no registry is ever mapped to a helper that is not there.
    entry = {**identity, "wrapper": wrapper, "registries": domains}
    settings.update(**{SETTING: {**_profiles(), name: entry}})
    profiles.write_wrapper(wrapper, profiles.wrapper_text(name, identity, profiles.helper_program()))
    if domains:
        edit(docker_config(ctx), lambda config: config.set_helpers(dict.fromkeys(domains, suffix)))
    success(f"profile {name}: {wrapper}" + (f" serves {', '.join(domains)}" if domains else ""))
    warn_if_missing(suffix)


# Which kind each option refines: given with another kind, it is refused rather than ignored.
_REFINES = {
    "section": "--credentials-file",
    "cli_config": "--cli-profile",
    "source": "--role-arn",
    "external_id": "--role-arn",
    "session_name": "--role-arn",
    "duration": "--role-arn",
}


def _check_kind_options(kind: str, **refinements) -> None:
    for option, value in refinements.items():
        if value is not None and _REFINES[option] != kind:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} goes with {_REFINES[option]}, not {kind}")


def _file_identity(credentials_file: Path, section: str | None) -> dict:
    """The record of a credentials-file profile: the file (absolute) and, unless it is
    [default], its section; records of [default] stay what they always were."""
    credentials = credentials_file.expanduser().absolute()
    if not credentials.is_file():
        fail(f"{credentials} is not a file: give the Alibaba Cloud credentials INI file for this account")
    if credentials.stat().st_mode & 0o077:
        warn(f"{credentials} can be read by other users: chmod 600 it")
    if section is not None and not section.strip():
        raise UsageError("--section needs the name of an INI section, like default")
    identity: dict = {"credentials_file": str(credentials)}
    if section not in (None, "default"):
        identity["section"] = section
    return identity


def _cli_identity(cli_profile: str, cli_config: Path | None) -> dict:
    """The record of a CLI-config profile, refused (one line) when the config has no such
    profile or gives it a mode the SDK cannot use: the same check every `get` makes."""
    from credctl.acr.tokens import cli_profile_problem

    config = (cli_config or Path(home()) / ".aliyun" / "config.json").expanduser().absolute()
    if not cli_profile:
        raise UsageError("--cli-profile needs the name of a profile of the aliyun CLI's config")
    problem = cli_profile_problem(str(config), cli_profile)
    if problem:
        fail(f"the aliyun CLI config {config} {problem}")
    if config.stat().st_mode & 0o077:
        warn(f"{config} can be read by other users: chmod 600 it")
    return {"kind": "cli", "cli_config": str(config), "cli_profile": cli_profile}


def _role_identity(
    name: str, role_arn: str, source: str | None, external_id: str | None, session: str | None, duration: int | None
) -> dict:
    """The record of a role profile: the role, what STS is asked with, and its base (a copy of
    the source profile's own fields, so the wrapper needs nothing else; or the chain)."""
    if arn_account(role_arn, "role", _ROLE_NAME_CHARS | {"/"}) is None:
        raise UsageError(f"--role-arn must look like acs:ram::<account>:role/<name>, not {role_arn!r}")
    if not source:
        raise UsageError("--role-arn needs --source: the NAME of a file or CLI profile, or 'chain'")
    if external_id is not None and not (2 <= len(external_id) <= 1224 and set(external_id) <= _EXTERNAL_ID_CHARS):
        raise UsageError("--external-id must be 2-1224 of the characters A-Z a-z 0-9 = , . @ : / - _")
    if session is not None and not (2 <= len(session) <= 64 and set(session) <= _SESSION_CHARS):
        raise UsageError("--session-name must be 2-64 of the characters A-Z a-z 0-9 . @ - _")
    if duration is not None and not 900 <= duration <= 43200:
        raise UsageError("--duration must be 900 to 43200 seconds")
    if source == CHAIN:
        base: dict = {"kind": CHAIN}
    else:
        found = _profiles().get(source)
        if source == name or not isinstance(found, dict) or found.get("kind", "file") not in ("file", "cli"):
            raise UsageError(
                f"--source {source!r} is neither 'chain' nor a credentials-file or CLI profile "
                "(see `credctl acr list-profiles`)"
            )
        base = {
            "profile": source,
            **{key: value for key, value in found.items() if key not in ("wrapper", "registries")},
        }
    identity = {"kind": "role", "role_arn": role_arn, "source": base}
    optional = {"external_id": external_id, "session_name": session, "duration": duration}
    identity.update({key: value for key, value in optional.items() if value is not None})
    return identity


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
    """Show the ACR profiles: wrapper, kind, source (file, CLI profile or role) and registries."""
    rows = [
        {
            "name": name,
            **entry,
            "kind": entry.get("kind", "file"),
            "summary": _described(entry),
            "wrapper_present": profiles.is_ours(str(entry.get("wrapper", ""))),
        }
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
            row["kind"],
            row["wrapper"] if row["wrapper_present"] else f"{row['wrapper']} (missing)",
            row["summary"],
            ", ".join(row.get("registries", [])),
        ]
        for row in rows
    ]
    show_table("ACR profiles", ("name", "kind", "helper", "source", "registries"), cells)


def _described(entry: dict) -> str:
    """A profile's source in a few words, every kind: never a secret (records hold none)."""
    kind = entry.get("kind", "file")
    if kind == "cli":
        return f"profile {entry.get('cli_profile')} of {entry.get('cli_config')}"
    if kind == "role":
        base = entry.get("source") if isinstance(entry.get("source"), dict) else {}
        via = (
            "the environment's chain"
            if base.get("kind") == CHAIN
            else f"profile {base.get('profile')}: {_described(base)}"
        )
        external = f" (external id {entry['external_id']})" if entry.get("external_id") else ""
        return f"{entry.get('role_arn')}{external} assumed with {via}"
    section = entry.get("section")
    return f"{entry.get('credentials_file')}" + (f" [{section}]" if section else "")


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
