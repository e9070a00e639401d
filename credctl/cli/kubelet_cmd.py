"""`credctl kubelet config`: the kubelet's CredentialProviderConfig for credctl-kubelet-provider.

Written for one kubelet version (--kubelet-version, else `kubelet --version`, else the newest):
only the fields it knows, and an option it cannot honour refused (credctl.kubeletconfig has the
facts). Every pattern and duration is checked as the kubelet reads it (Go's url.Parse and
time.ParseDuration, credctl.gostd), since one it refuses stops it loading every provider.
"""

import re
from typing import Annotated

import typer

from credctl.acr import podidentity
from credctl.acr.login import custom_domains
from credctl.cli.common import check_format, docker_config, version_line, write_document
from credctl.cli.output import warn
from credctl.dockerconfig import CRED_HELPERS, ConfigFile
from credctl.errors import UsageError
from credctl.gostd import GoError, parse_duration
from credctl.kubelet import CONFIG_GROUP, GROUP, PROGRAM, acr_match_images
from credctl.kubeletconfig import (
    CACHE_TYPE,
    CACHE_TYPES,
    NEWEST,
    OLDEST,
    TOKEN_ATTRIBUTES,
    TOKEN_GATE,
    Version,
    api_versions,
    effective,
    match_image_problem,
    parse_version,
    shown,
    token_gate_default,
)
from credctl.names import is_docker_hub, registry_host
from credctl.programs import on_path

app = typer.Typer(
    help="Kubernetes nodes: credctl as the kubelet's image credential provider.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_NAMES = ("SECRET", "PASSWORD", "TOKEN")


@app.command("config")
def config(
    ctx: typer.Context,
    match_images: Annotated[
        list[str] | None,
        typer.Option("--match-image", metavar="PATTERN", help="Another image pattern to serve; repeatable."),
    ] = None,
    default_cache_duration: Annotated[
        str,
        typer.Option(
            "--default-cache-duration",
            metavar="D",
            help="How long the kubelet keeps a stored login (ACR tokens say their own): a Go duration, "
            "e.g. 1h, 30m, 1.5h, 0 (never).",
        ),
    ] = "1h",
    kubelet_version: Annotated[
        str | None,
        typer.Option(
            "--kubelet-version",
            metavar="VERSION",
            help=f"The nodes' kubelet, e.g. 1.33: only fields it knows are written (default: what `kubelet "
            f"--version` says, else {shown(NEWEST)}).",
        ),
    ] = None,
    pod_identity: Annotated[
        bool,
        typer.Option(
            "--pod-identity",
            help="Send pods' service-account tokens (kubelet 1.33+), so ACR pulls use each pod's RAM role.",
        ),
    ] = False,
    audience: Annotated[
        str, typer.Option(metavar="AUDIENCE", help="With --pod-identity: the token audience STS expects.")
    ] = podidentity.AUDIENCE,
    cache_type: Annotated[
        str | None,
        typer.Option(
            "--cache-type",
            metavar="TYPE",
            help="With --pod-identity on kubelet 1.34+: ServiceAccount (the default) or Token.",
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="NAME=VALUE", help="An environment variable for the plugin; repeatable."),
    ] = None,
    api_version: Annotated[
        str | None,
        typer.Option(metavar="VERSION", help="v1 (kubelet 1.26+, the default there) or v1beta1 (1.24, 1.25)."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="yaml or json.")] = "yaml",
) -> None:
    """Print a CredentialProviderConfig for credctl-kubelet-provider: ACR domains and mapped registries."""
    check_format(output_format)
    version, origin = _kubelet_version(kubelet_version)
    api_version = _api_version(api_version, version)
    _check_duration(default_cache_duration)
    for pattern in match_images or []:
        check_pattern(pattern)
    provider: dict = {
        "name": PROGRAM,
        "matchImages": _patterns(ctx, match_images or []),
        "defaultCacheDuration": default_cache_duration,
        "apiVersion": f"{GROUP}/{api_version}",
    }
    if env:
        provider["env"] = [_env_entry(item) for item in env]
    if pod_identity:
        provider["tokenAttributes"] = _token_attributes(version, api_version, audience, cache_type)
    elif cache_type is not None:
        raise UsageError("--cache-type goes with --pod-identity (it is the kubelet's cache key for pods' tokens)")
    document = {"apiVersion": f"{CONFIG_GROUP}/{api_version}", "kind": "CredentialProviderConfig"}
    write_document({**document, "providers": [provider]}, output_format, header=_header(version, origin, pod_identity))


def _header(version: Version, origin: str, pod_identity: bool) -> str:
    lines = [
        "# The kubelet's image credential provider config for credctl (docs/kubernetes.md). On each node:",
        f"#   --image-credential-provider-config=<this file> --image-credential-provider-bin-dir=<dir with {PROGRAM}>",
        f"# Written for kubelet {shown(version)} ({origin}).",
    ]
    if pod_identity and not token_gate_default(version):
        gate = f"--feature-gates={TOKEN_GATE}=true"
        lines.append(f"# kubelet {shown(version)} also needs {gate} (alpha, off by default).")
    return "".join(line + "\n" for line in lines)


def _kubelet_version(given: str | None) -> tuple[Version, str]:
    """The kubelet version to write for, and where it came from: --kubelet-version, else what
    the kubelet on PATH says, else the newest credctl knows."""
    if given is not None:
        version = parse_version(given)
        if version is None:
            raise UsageError(f"--kubelet-version takes a version like 1.33 or v1.33.2, not {given!r}")
        origin = "--kubelet-version"
    else:
        version, origin = detect_kubelet_version()
        if version is None:
            return NEWEST, origin
    if version < OLDEST:
        raise UsageError(
            f"kubelet {shown(version)} is older than credctl writes configs for ({shown(OLDEST)} and newer; "
            "1.20 to 1.23 needed the alpha KubeletCredentialProviders feature gate)"
        )
    if version > NEWEST:
        warn(f"kubelet {shown(version)} is newer than credctl knows: writing {shown(NEWEST)}'s config, which it reads")
    return version, origin


def detect_kubelet_version() -> tuple[Version | None, str]:
    """What `kubelet --version` on PATH says ("Kubernetes v1.33.2"), with a bounded wait, as
    verify runs helpers; (None, why) when there is no kubelet or no answer."""
    found = on_path("kubelet")
    if not found:
        return None, "the newest credctl knows; no kubelet on PATH"
    answer = version_line(found[0], "--version") or ""
    version = parse_version(answer) if answer else None
    if version is None:
        warn(f"{found[0]} --version gave no version: writing kubelet {shown(NEWEST)}'s config (or --kubelet-version)")
        return None, f"the newest credctl knows; {found[0]} --version gave none"
    return version, f"`{found[0]} --version`: {answer}"


def _api_version(given: str | None, version: Version) -> str:
    """--api-version, or the newest API the kubelet knows; one it does not know is refused."""
    known = api_versions(version)
    if given is None:
        return known[0]
    if given not in ("v1", "v1beta1"):
        raise UsageError(f"--api-version must be v1 or v1beta1, not {given!r}")
    if given not in known:
        raise UsageError(f"kubelet {shown(version)} does not know --api-version {given} (it reads {', '.join(known)})")
    return given


def _token_attributes(version: Version, api_version: str, audience: str, cache_type: str | None) -> dict:
    """tokenAttributes as that kubelet reads them: from 1.33 (cacheType from 1.34, required there)."""
    if effective(version) < TOKEN_ATTRIBUTES:
        raise UsageError(
            f"--pod-identity needs kubelet {shown(TOKEN_ATTRIBUTES)} or newer: kubelet {shown(version)} sends "
            "plugins no service-account tokens (tokenAttributes, KEP-4412)"
        )
    if api_version != "v1":
        raise UsageError("--pod-identity needs --api-version v1 (tokenAttributes exist only there)")
    if not audience:
        raise UsageError("--audience must not be empty: the kubelet requires a token audience")
    attributes: dict = {"serviceAccountTokenAudience": audience}
    if effective(version) >= CACHE_TYPE:
        if cache_type is not None and cache_type not in CACHE_TYPES:
            raise UsageError(f"--cache-type must be {' or '.join(CACHE_TYPES)}, not {cache_type!r}")
        attributes["cacheType"] = cache_type or "ServiceAccount"
    elif cache_type is not None:
        raise UsageError(
            f"--cache-type needs kubelet {shown(CACHE_TYPE)} or newer: kubelet {shown(version)} has no cacheType "
            "(it keys its cache by service account)"
        )
    else:
        warn(
            f"kubelet {shown(version)} loads tokenAttributes only with --feature-gates={TOKEN_GATE}=true "
            "(alpha, off by default); without it, it loads no provider from this file"
        )
    attributes["requireServiceAccount"] = False
    attributes["optionalServiceAccountAnnotationKeys"] = list(podidentity.ANNOTATIONS)
    return attributes


def _check_duration(text: str) -> None:
    """--default-cache-duration as the kubelet reads it: time.ParseDuration, and not negative."""
    try:
        nanoseconds = parse_duration(text)
    except GoError as err:
        raise UsageError(
            f"--default-cache-duration must be a Go duration like 1h, 30m, 1.5h or 0, not {text!r} ({err})"
        ) from None
    if nanoseconds < 0:
        raise UsageError(f"--default-cache-duration must be 0 or more: the kubelet refuses {text!r}")


def _patterns(ctx: typer.Context, extra: list[str]) -> list[str]:
    """matchImages: the ACR patterns (with :443 forms), ACR custom domains and mapped registries
    (any the kubelet would refuse left out, with a warning), then --match-image's, once each."""
    known = []
    for registry in _known_registries(ctx):
        problem = match_image_problem(registry)
        if problem:
            warn(f"{registry!r} is left out of matchImages: the kubelet refuses it ({problem})")
        else:
            known.append(registry)
    return list(dict.fromkeys([*acr_match_images(), *known, *extra]))


def _known_registries(ctx: typer.Context) -> list[str]:
    """ACR custom domains from the settings, and every registry Docker's credHelpers send to a helper
    (an entry under a key Docker never looks up, or an empty one, serves nothing)."""
    found = list(custom_domains())
    config = ConfigFile.read(docker_config(ctx))
    for registry in config.helpers:
        route = config.helper_for(registry)
        if route.via == CRED_HELPERS and route.key == registry:
            found.append("docker.io" if is_docker_hub(registry) else registry_host(registry))
    return found


def check_pattern(pattern: str) -> None:
    """A --match-image pattern the kubelet accepts (Go's url.Parse of "https://" + pattern, as
    ParseSchemelessURL does): one it refuses would stop it loading every provider. A scheme is
    refused too: the kubelet would take "https:" for the host and match nothing."""
    problem = match_image_problem(pattern)
    if problem:
        raise UsageError(f"--match-image {pattern!r} would stop the kubelet loading any provider: {problem}")
    if "://" in pattern:
        raise UsageError(f"--match-image {pattern!r} has a scheme: write host[:port][/path], e.g. *.example.com")


def _env_entry(item: str) -> dict[str, str]:
    name, equals, value = item.partition("=")
    if not equals or not _ENV_NAME.fullmatch(name):
        raise UsageError(f"--env takes NAME=VALUE, not {item.split('=')[0]!r}…")
    if any(word in name.upper() for word in _SECRET_NAMES):
        warn(f"{name} would be written in plain text into the kubelet's config: prefer a credentials file")
    return {"name": name, "value": value}
