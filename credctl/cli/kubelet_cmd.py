"""`credctl kubelet config`: the kubelet's CredentialProviderConfig for credctl-kubelet-provider."""

import re
from typing import Annotated

import typer

from credctl.acr import podidentity
from credctl.acr.login import custom_domains
from credctl.cli.common import check_format, docker_config, write_document
from credctl.cli.output import warn
from credctl.dockerconfig import CRED_HELPERS, ConfigFile
from credctl.errors import UsageError
from credctl.kubelet import ACR_MATCH_IMAGES, CONFIG_GROUP, GROUP, PROGRAM, parse_go_duration
from credctl.names import is_docker_hub, registry_host

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
            help="How long the kubelet keeps a stored login (ACR tokens say their own), e.g. 1h, 30m.",
        ),
    ] = "1h",
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
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="NAME=VALUE", help="An environment variable for the plugin; repeatable."),
    ] = None,
    api_version: Annotated[
        str, typer.Option(metavar="VERSION", help="v1 (kubelet 1.26+) or v1beta1 (1.24, 1.25).")
    ] = "v1",
    output_format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="yaml or json.")] = "yaml",
) -> None:
    """Print a CredentialProviderConfig for credctl-kubelet-provider: ACR domains and mapped registries."""
    check_format(output_format)
    if api_version not in ("v1", "v1beta1"):
        raise UsageError(f"--api-version must be v1 or v1beta1, not {api_version!r}")
    if pod_identity and api_version != "v1":
        raise UsageError("--pod-identity needs --api-version v1 (tokenAttributes exist only there)")
    try:
        parse_go_duration(default_cache_duration)
    except ValueError:
        raise UsageError(
            f"--default-cache-duration must be a duration like 1h, 30m or 1h30m, not {default_cache_duration!r}"
        ) from None
    for pattern in match_images or []:
        check_pattern(pattern)
    provider: dict = {
        "name": PROGRAM,
        "matchImages": list(dict.fromkeys([*ACR_MATCH_IMAGES, *_known_registries(ctx), *(match_images or [])])),
        "defaultCacheDuration": default_cache_duration,
        "apiVersion": f"{GROUP}/{api_version}",
    }
    if env:
        provider["env"] = [_env_entry(item) for item in env]
    if pod_identity:
        provider["tokenAttributes"] = {
            "serviceAccountTokenAudience": audience,
            "cacheType": "ServiceAccount",
            "requireServiceAccount": False,
            "optionalServiceAccountAnnotationKeys": list(podidentity.ANNOTATIONS),
        }
    document = {"apiVersion": f"{CONFIG_GROUP}/{api_version}", "kind": "CredentialProviderConfig"}
    write_document({**document, "providers": [provider]}, output_format, header=_HEADER)


_HEADER = (
    "# The kubelet's image credential provider config for credctl (docs/kubernetes.md). On each node:\n"
    f"#   --image-credential-provider-config=<this file> --image-credential-provider-bin-dir=<dir with {PROGRAM}>\n"
)


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
    """A kubelet match pattern: host[:port][/path], globs only in the host."""
    host, _, path = pattern.partition("/")
    name, _, port = host.partition(":")
    if not name or "://" in pattern or any(char.isspace() for char in pattern):
        raise UsageError(f"{pattern!r} is not an image pattern like *.example.com, registry.example.com:5000/team")
    if "*" in port or "*" in path or (port and not port.isdigit()):
        raise UsageError(f"{pattern!r}: the kubelet allows '*' only in the domain, and a port must be a number")


def _env_entry(item: str) -> dict[str, str]:
    name, equals, value = item.partition("=")
    if not equals or not _ENV_NAME.fullmatch(name):
        raise UsageError(f"--env takes NAME=VALUE, not {item.split('=')[0]!r}…")
    if any(word in name.upper() for word in _SECRET_NAMES):
        warn(f"{name} would be written in plain text into the kubelet's config: prefer a credentials file")
    return {"name": name, "value": value}
