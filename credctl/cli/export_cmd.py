"""`credctl export REGISTRY...`: the logins one CI job needs, as a DOCKER_AUTH_CONFIG value or a config.json.

Each registry gets the login credctl gives for it (credctl.lookup.find_login: its credHelpers
entry, ACR, then credsStore or the router's route), under the key docker asks for
(names.helper_key: host[:port], Docker Hub as https://index.docker.io/v1/), as an `auth` entry
and nothing else:

- docker-auth-config (the default): one line of JSON, `{"auths":{KEY:{"auth":BASE64}}}`, as
  docker 28.3 and later take DOCKER_AUTH_CONFIG (credctl.dockerenv holds the rules);
- config-json: the same document as Docker writes config.json (tab-indented, a final newline),
  which docker reads from DOCKER_CONFIG and Podman, Buildah and Skopeo from REGISTRY_AUTH_FILE
  or --authfile (containers/image takes Docker Hub's v1 key as docker.io).

An ACR registry gets a token Alibaba Cloud issues for this export (CREDCTL_ACR_NO_CACHE): never
the cache's, which may be near its end, so the job gets the token's whole life (an hour); it is
not cached either. Every login's expiry is one line on stderr (credctl.expiry.expiry_of); a
login with none known (a stored password or access token) is a warning: a long-lived secret.

It is a secret: printed only where it cannot be read over a shoulder (stdout not a terminal, or
--force), or written with -o: 0600, the user's, replacing an old file only by an atomic rename.
Nothing is printed or written unless every registry has a login.
"""

import base64
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from credctl import gojson
from credctl.cli.common import checked_registry, docker_config, no_login
from credctl.cli.output import fail, note, warn
from credctl.errors import UsageError
from credctl.expiry import expiry_of
from credctl.lookup import Login, find_login
from credctl.names import PREFIX, helper_key

DOCKER_AUTH_CONFIG, CONFIG_JSON = "docker-auth-config", "config-json"
FORMATS = (DOCKER_AUTH_CONFIG, CONFIG_JSON)


def export(
    ctx: typer.Context,
    registries: Annotated[
        list[str],
        typer.Argument(metavar="REGISTRY", help="The registries the job needs (host[:port], or docker.io)."),
    ],
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="docker-auth-config: one line for DOCKER_AUTH_CONFIG (docker 28.3 and later); config-json: a "
            "config.json for DOCKER_CONFIG, or for REGISTRY_AUTH_FILE / --authfile (Podman, Buildah, Skopeo).",
        ),
    ] = DOCKER_AUTH_CONFIG,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write it to FILE (0600, replaced atomically)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Print it even when stdout is a terminal.")] = False,
) -> None:
    """Print the logins REGISTRY... need, for one CI job: a DOCKER_AUTH_CONFIG value or a config.json.

    An ACR registry gets a new temporary token; every login's expiry is said on stderr, and a
    login that does not expire gets a warning. It holds secrets: to a terminal only with --force.
    """
    if output_format not in FORMATS:
        raise UsageError(f"{output_format!r} is not a format: choose {' or '.join(FORMATS)}", option="--format")
    keys = [helper_key(checked_registry(registry)) for registry in registries]
    if output is None and not force and sys.stdout.isatty():
        fail(
            "the export holds secrets and stdout is a terminal: write it to a file with -o FILE, pipe it "
            "(`credctl export ... | ...`), or add --force to show it here"
        )
    if output is not None:
        _check_output(output)
    logins = _logins(keys, docker_config(ctx))
    text = render(logins, output_format)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        from credctl.paths import write_atomically

        write_atomically(str(output), text.encode(), private=True, chosen=True)
        note(_written(output_format, output, list(logins)))
    for key, login in logins.items():
        _say_expiry(key, login)


def _check_output(output: Path) -> None:
    """Refuse, before any login is looked up (or a token issued), a FILE that cannot be written as one."""
    folder = output.parent
    if output.is_dir():
        fail(f"{output} is a folder: name the file to write, e.g. {output / 'config.json'}")
    if not folder.is_dir():
        fail(f"{output}: the folder {folder} does not exist: make it first, or choose another path")


def _logins(keys: list[str], config_path: str) -> dict[str, Login]:
    """key → the login credctl gives for it (each key once, in the order given), ACR tokens issued
    now; CredctlError naming every key without a login, and then nothing is printed or written."""
    from credctl.acr.login import NO_CACHE

    environ = {**os.environ, NO_CACHE: "1"}  # a new ACR token: the job gets its whole life
    found: dict[str, Login | None] = {}
    for key in keys:
        if key not in found:
            found[key] = find_login(key, environ=environ, config_path=config_path)
    missing = [key for key, login in found.items() if login is None]
    if missing:
        fail(no_login(missing))
    for key, login in found.items():
        if ":" in login.username:
            fail(f"{key}: the username {login.username!r} holds a ':', which docker's `auth` field cannot carry")
    return {key: login for key, login in found.items() if login is not None}


def render(logins: dict[str, Login], output_format: str) -> str:
    """The document docker reads: `auths` alone, each entry an `auth` alone (base64 of user:password);
    one line for DOCKER_AUTH_CONFIG, Docker's tab indentation for a config.json. Both end in a newline."""
    auths = {
        key: {"auth": base64.b64encode(f"{login.username}:{login.password}".encode()).decode()}
        for key, login in logins.items()
    }
    indent = "\t" if output_format == CONFIG_JSON else ""
    return gojson.encode({"auths": auths}, indent) + "\n"


def _written(output_format: str, output: Path, keys: list[str]) -> str:
    """The line saying what was written where (never a secret), and how a job points its tools at it."""
    if output_format == DOCKER_AUTH_CONFIG:
        return (
            f"wrote the DOCKER_AUTH_CONFIG value for {', '.join(keys)} to {output} (mode 0600): "
            f'DOCKER_AUTH_CONFIG="$(cat {output})" for docker 28.3 and later'
        )
    docker = f"DOCKER_CONFIG={output.parent} for docker, " if output.name == "config.json" else ""
    return (
        f"wrote a config.json for {', '.join(keys)} to {output} (mode 0600): "
        f"{docker}REGISTRY_AUTH_FILE={output} for Podman, Buildah and Skopeo"
    )


def _say_expiry(key: str, login: Login) -> None:
    """One line on stderr: when the login expires, or a warning that it does not (never the secret)."""
    who = f"{key}: user {login.username!r} from {PREFIX}{login.source}"
    expiry = expiry_of(key, login.username, login.password, issued=login.expires)
    if expiry is None:
        warn(
            f"{who} is a long-lived secret (no expiry known): give the job a short-lived token instead, "
            "or revoke this one when the job is done"
        )
    elif expiry.within(0):
        warn(f"{who} {expiry.describe()}: the job cannot log in with it")
    else:
        note(f"{who} {expiry.describe()}")
