"""`credctl k8s pull-secret`: an image pull Secret for clusters whose nodes cannot run the plugin."""

import base64
import json
import re
import sys
import time
from typing import Annotated

import typer

from credctl.cli.common import check_format, docker_config, no_login, write_document
from credctl.cli.output import fail, warn
from credctl.errors import UsageError
from credctl.lookup import find_login
from credctl.names import DOCKER_HUB, is_docker_hub, registry_host

app = typer.Typer(help="Kubernetes manifests from credctl's credentials.", no_args_is_help=True, rich_markup_mode=None)
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
EXPIRES_ANNOTATION = "credctl.io/expires-at"


@app.command("pull-secret")
def pull_secret(
    ctx: typer.Context,
    registry: Annotated[
        str, typer.Argument(metavar="REGISTRY", help="The registry, e.g. myteam-registry.cn-hangzhou.cr.aliyuncs.com.")
    ],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The Secret's name.")],
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", metavar="NAMESPACE", help="The Secret's namespace.")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="yaml or json.")] = "yaml",
) -> None:
    """Print a kubernetes.io/dockerconfigjson Secret with credctl's login for REGISTRY."""
    check_format(output_format)
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        raise UsageError(f"--name {name!r} is not a Kubernetes name (lower-case letters, digits, '-' and '.')")
    if namespace is not None and (len(namespace) > 63 or not _LABEL.fullmatch(namespace)):
        raise UsageError(f"--namespace {namespace!r} is not a Kubernetes namespace name (a-z, 0-9 and '-')")
    hub = is_docker_hub(registry)
    host = "docker.io" if hub else registry_host(registry)
    login = find_login(host, config_path=docker_config(ctx))
    if login is None:
        fail(no_login([host]))
    key = DOCKER_HUB if hub else host  # what `kubectl create secret docker-registry` writes
    entry = {
        "username": login.username,
        "password": login.password,
        "auth": base64.b64encode(f"{login.username}:{login.password}".encode()).decode(),
    }
    dockerconfig = json.dumps({"auths": {key: entry}}, separators=(",", ":"))
    metadata: dict = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if login.expires is not None:
        expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(login.expires))
        metadata["annotations"] = {EXPIRES_ANNOTATION: expires_at}
        minutes = max(0, int(login.expires - time.time()) // 60)
        warn(
            f"this is a temporary ACR token: it expires at {expires_at} (in {minutes} min) and the Secret stops "
            "working then; nodes that run credctl-kubelet-provider need no such refresh (docs/kubernetes.md)"
        )
    if sys.stdout.isatty():
        warn("the manifest holds the password (base64 is not encryption): pipe it to `kubectl apply -f -`")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(dockerconfig.encode()).decode()},
    }
    write_document(secret, output_format)
