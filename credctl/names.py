"""What a registry is called, by each tool that names one: the one home of these rules.

A registry reaches credctl in many spellings: `docker login`'s server address, an `auths` or
`credHelpers` key, an image reference, a kubelet request, a URL. Each function below says
whose rule it follows, because the tools differ and credctl must agree with each of them:

- docker/cli keys credHelpers and auths by host[:port], and Docker Hub by its v1 URL;
- containers/image (Podman, Buildah, Skopeo) keys credHelpers by host[:port], Docker Hub as
  docker.io;
- the distribution reference rules decide which part of an image reference is the registry;
- an ACR domain is matched on the bare host name (no port, no userinfo, lower case).

A helper is named by its suffix; the program Docker and Podman run is PREFIX + suffix.

Standard library only, nothing imported: every hot path imports this module.
"""

from __future__ import annotations

# The keys one Docker Hub login is stored under, by the tools that store it: docker login's
# (docker/cli registry.IndexServer), containers/image's (`podman login docker.io`), and what
# `docker login index.docker.io` / `docker login registry-1.docker.io` store (docker/cli keys
# each by its host name: cli/command/registry/login_test.go, cli/command/registry_test.go
# TestRetrieveAuthTokenFromImage). registry-1.docker.io is in the family although docker/cli
# keys it apart: it is Hub's own API host, containers/image counts an entry for it as Docker
# Hub's (pkg/docker/config normalizeRegistry), and docker/cli's test calls its separate key a
# FIXME. The order is the helpers' fallback order (login_keys).
DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io")
DOCKER_HUB, PODMAN_HUB = DOCKER_HUB_KEYS[:2]  # docker/cli's key for Docker Hub; containers/image's
DOCKER_HUB_API = "registry-1.docker.io"  # where Docker Hub's /v2/ API lives
PREFIX = "docker-credential-"  # Docker and Podman run PREFIX + the helper named in credsStore or credHelpers
ROUTER = "credctl"  # credctl's routing helper, docker-credential-credctl: credsStore "credctl" (credctl.routes)
IDENTITY_TOKEN_USER = "<token>"  # docker-credential-helpers' username for an identity (refresh) token

_HUB_NAMES = frozenset(key.rstrip("/") for key in DOCKER_HUB_KEYS)
# The host names an image reference or a registry name spells Docker Hub by, for the key a
# client asks for (helper_key): the distribution reference rule turns index.docker.io into
# docker.io (reference/normalize.go), docker/cli's registry then calls docker.io official and
# asks with IndexServer (registry/config.go normalizeIndexName, newIndexInfo). registry-1.docker.io
# is not among them: both clients ask for it by its own name.
_HUB_HOSTS = frozenset(("docker.io", "index.docker.io"))


def helper_program(suffix: str) -> str:
    """The program Docker runs for a credsStore or credHelpers value: PREFIX + suffix, found on PATH.

    A value is a name, never a path: Docker looks up docker-credential-<value>, so a value such as
    ./evil.sh names no program Docker would find, and credctl refuses it instead of running it.
    Raises ConfigError (a value from a config file) naming the value."""
    if not suffix or "/" in suffix or "\0" in suffix:
        from credctl.errors import ConfigError

        raise ConfigError(f"{suffix!r} is not a helper name: Docker runs {PREFIX}<name> from PATH, never a path")
    return PREFIX + suffix


def registry_host(address: str) -> str:
    """docker/cli's ConvertToHostname (cli/config/credentials/file_store.go, 20.10 to 26.1): a
    leading http:// or https:// dropped, then everything from the first '/'; the port kept
    (reg.example:5000). Any other scheme is not a scheme to it: ftp://reg.example gives 'ftp:'."""
    address = address.strip()
    for scheme in ("http://", "https://"):
        if address.startswith(scheme):
            address = address[len(scheme) :]
            break
    return address.split("/", 1)[0]


def is_docker_hub(address: str) -> bool:
    """Whether address is one of Docker Hub's names, in any of the spellings above."""
    return address.rstrip("/") in _HUB_NAMES or registry_host(address) in _HUB_NAMES


def helper_key(registry: str, podman: bool = False) -> str:
    """The credHelpers (and auths) key a tool looks up for registry: an exact key, no wildcards.

    docker/cli asks with https://index.docker.io/v1/ for Docker Hub (docker.io, index.docker.io)
    and host[:port] for any other registry; containers/image asks with docker.io and host[:port]
    (podman=True). registry-1.docker.io is a registry of its own to both (_HUB_HOSTS)."""
    if registry_host(registry) in _HUB_HOSTS:
        return PODMAN_HUB if podman else DOCKER_HUB
    return registry_host(registry)


def login_keys(server_url: str) -> tuple[str, ...]:
    """The stored keys that hold the same login as server_url, server_url first: for one of
    DOCKER_HUB_KEYS (exactly as a client sends it), every Hub key, so `get` falls back to
    another, `store` leaves no stale copy under another and `erase` removes them all; for any
    other server URL, itself alone (a helper matches keys exactly, as Go's helpers do)."""
    if server_url in DOCKER_HUB_KEYS:
        return (server_url, *(key for key in DOCKER_HUB_KEYS if key != server_url))
    return (server_url,)


def image_registry(image: str) -> str:
    """The registry (host[:port]) of an image reference, by the distribution reference rule
    docker and the kubelet share (reference/normalize.go splitDockerDomain): the first path part
    if it has a '.' or ':', is 'localhost' or has capitals; otherwise Docker Hub ('docker.io');
    and the legacy index.docker.io is Docker Hub's docker.io too."""
    first, slash, _ = image.strip().partition("/")
    if not slash or first == "index.docker.io":
        return PODMAN_HUB
    if "." in first or ":" in first or first == "localhost" or first.lower() != first:
        return first
    return PODMAN_HUB


def api_host(registry: str) -> str:
    """host[:port] that serves a registry's v2 API (Docker Hub's is registry-1.docker.io)."""
    return DOCKER_HUB_API if is_docker_hub(registry) else registry_host(registry)


def bare_host(server: str) -> str:
    """The host name alone, as ACR domains are matched: scheme, userinfo, port and path dropped,
    lower case, no trailing dot. An IPv6 literal stays in its brackets (it is never ACR)."""
    host = server.strip().split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.lower()
    return host.split(":", 1)[0].lower().rstrip(".")


# -- Docker Hub's OAuth bookkeeping --------------------------------------------------------------

# The keys docker/cli's web sign-in to Docker Hub (`docker login` with no username: the OAuth
# device flow, internal/oauth/manager/manager.go accessTokenKey and refreshTokenKey, docker 27.4
# and later) stores its tokens under, beside the Hub login: through the helper that serves Docker
# Hub, or in config.json's auths when none does. They are not registries.
HUB_BOOKKEEPING_KEYS = (DOCKER_HUB + "access-token", DOCKER_HUB + "refresh-token")


def is_hub_bookkeeping(key: str) -> bool:
    """Whether key is one of Docker Hub's OAuth bookkeeping keys: exactly as docker/cli writes
    and reads them (it asks for no other spelling), so no other key counts."""
    return key in HUB_BOOKKEEPING_KEYS
