"""The kubelet's image credential provider plugin (credentialprovider.kubelet.k8s.io, KEP-2133).

The kubelet runs `credctl-kubelet-provider` from its --image-credential-provider-bin-dir for
every image its config's matchImages select, writes a CredentialProviderRequest on stdin
(apiVersion, kind, image; from 1.33 also serviceAccountToken and serviceAccountAnnotations)
and reads a CredentialProviderResponse from stdout. The answer comes from credctl.lookup:
ACR tokens first of all, then any store or helper Docker's config maps the registry to.

- The response has the request's apiVersion (v1, v1beta1 or v1alpha1), cacheKeyType Registry,
  and, for an issued token, a cacheDuration that ends with the token's cache margin (5 min
  before it expires) so the kubelet never holds a token credctl would no longer hand out.
  A stored login has no cacheDuration: the config's defaultCacheDuration applies.
- No login for the image: a valid response with empty auth (the kubelet pulls anonymously).
- A bad request, or a store or API that fails: one line on stderr, exit status 1. The kubelet
  (pkg/credentialprovider/plugin/plugin.go, pluginProvider.provide) logs the error with that
  line, caches nothing (it caches only a decoded response) and has no credentials from credctl
  for that one image: the pull goes on with the pod's pull secrets, if any, else anonymously
  (pkg/kubelet/kuberuntime/kuberuntime_image.go), and the plugin runs again at the next try.
  An empty auth, by contrast, is cached for the config's defaultCacheDuration (per registry,
  and per service account in token mode), so a failure is never answered as "no login".
- A pod's identity (its service account's RAM role, credctl.acr.podidentity) is worked out only
  for an image the ACR path serves: a service account set up wrong, or a token that is not a
  fresh JWT, fails that pod's ACR images alone, and its images from other registries are still
  answered (the kubelet sends one image per request and keys what it caches by registry and,
  in token mode, by service account, so nothing else is touched).

How the kubelet reads what it is given lives here too: `urls_match` (its URLsMatch, for
matchImages entries and auth keys) and `acr_match_images` (the ACR patterns `credctl kubelet
config` writes, with their :443 forms); Go's rules under them are credctl.gostd.

The same speed rules as the docker helpers: standard library only on a warm ACR call.
"""

from __future__ import annotations

import sys
import time

from credctl import __version__
from credctl.errors import BadInput, exit_status, one_line
from credctl.gojson import JSONError, encode, parse
from credctl.posixfs import ENVIRON
from credctl.process import keep_secrets_in_memory

PROGRAM = "credctl-kubelet-provider"
GROUP = "credentialprovider.kubelet.k8s.io"
API_VERSIONS = tuple(f"{GROUP}/{version}" for version in ("v1", "v1beta1", "v1alpha1"))
CONFIG_GROUP = "kubelet.config.k8s.io"
USAGE = f"Usage: {PROGRAM} (reads a CredentialProviderRequest on stdin; see `credctl kubelet config`)"
# Image patterns of every ACR domain form (credctl.acr.domains), by the kubelet's rules: each '*'
# stays within one domain part, and the number of parts must be equal.
ACR_MATCH_IMAGES = (
    "registry*.*.aliyuncs.com",  # personal: registry[-intl][-vpc][-internal].<region>
    "registry*.distributed.*.aliyuncs.com",  # personal, distributed
    "*-registry*.*.cr.aliyuncs.com",  # enterprise: <instance>-registry[-intl][-vpc].<region>.cr
    "*-registry*.*.aliyuncs.com",  # enterprise, the older form without .cr
    "crpi-*.*.personal.cr.aliyuncs.com",  # personal (new): crpi-<id>[-vpc].<region>.personal.cr
)


class Request:
    __slots__ = ("annotations", "api_version", "image", "token")

    def __init__(self, api_version: str, image: str, token: str = "", annotations: dict | None = None) -> None:
        self.api_version, self.image, self.token, self.annotations = api_version, image, token, annotations or {}


def parse_request(data: bytes) -> Request:
    """A CredentialProviderRequest; BadInput (one line, never quoting the token) otherwise."""
    try:
        request = parse(data)
    except JSONError as err:
        raise BadInput(f"the request on stdin is not JSON ({err}; expected a CredentialProviderRequest)") from None
    if not isinstance(request, dict):
        raise BadInput("the request on stdin must be a JSON object (a CredentialProviderRequest)")
    api_version, kind = request.get("apiVersion"), request.get("kind")
    if api_version not in API_VERSIONS:
        raise BadInput(f"unsupported apiVersion {_shown(api_version)}: expected one of {', '.join(API_VERSIONS)}")
    if kind != "CredentialProviderRequest":
        raise BadInput(f"unexpected kind {_shown(kind)}: expected CredentialProviderRequest")
    image = request.get("image")
    if not isinstance(image, str) or not image.strip():
        raise BadInput("the request has no image")
    token = request.get("serviceAccountToken") or ""
    if not isinstance(token, str):
        raise BadInput("serviceAccountToken must be a string")
    annotations = request.get("serviceAccountAnnotations") or {}
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        raise BadInput("serviceAccountAnnotations must map names to strings")
    return Request(api_version, image.strip(), token, annotations)


def _shown(value: object) -> str:
    return repr(value)[:80] if isinstance(value, str) else "(none)" if value is None else f"({type(value).__name__})"


def go_duration(seconds: int) -> str:
    """Go's time.Duration String() for whole seconds, as metav1.Duration writes it: 1h0m5s, 4m0s, 0s."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def parse_go_duration(text: str) -> float:
    """Seconds of a Go duration as the kubelet reads one (time.ParseDuration: 0, 90m, 1.5h,
    300ms, 1h30m, -1s); ValueError (credctl.gostd.GoError, Go's text) if it is not one."""
    from credctl.gostd import parse_duration

    return parse_duration(text) / 1e9


# --- how the kubelet reads image patterns and auth keys (pkg/credentialprovider/keyring.go) ----


def urls_match(glob: str, target: str) -> bool:
    """credentialprovider.URLsMatchStr: does the kubelet apply glob (a matchImages entry, or an
    auth key of a response) to target (an image)? Both parse as schemeless URLs; the ports must
    be equal (none matches none only); the hosts must have as many dot-separated parts, each
    matched by filepath.Match (a '*' stays within its part); glob's path must be a prefix of
    target's. A pattern that does not parse, or a malformed glob, matches nothing."""
    from credctl.gostd import GoError, parse_schemeless_url, path_match

    try:
        glob_url, target_url = parse_schemeless_url(glob), parse_schemeless_url(target)
    except GoError:
        return False
    glob_parts, glob_port = _split_url(glob_url.host)
    target_parts, target_port = _split_url(target_url.host)
    if glob_port != target_port or len(glob_parts) != len(target_parts):
        return False
    if not target_url.path.startswith(glob_url.path):
        return False
    return all(path_match(part, other) for part, other in zip(glob_parts, target_parts, strict=True))


def _split_url(host: str) -> tuple[list[str], str]:
    """credentialprovider.SplitURL: the host's dot-separated parts and its port; a host
    net.SplitHostPort refuses ("[::1]", "registry.io") is all host, with no port."""
    from credctl.gostd import GoError, split_host_port

    try:
        name, port = split_host_port(host)
    except GoError:
        name, port = host, ""
    return name.split("."), port


def acr_match_images() -> list[str]:
    """Every ACR_MATCH_IMAGES pattern, then each again with an explicit :443: the kubelet
    matches ports exactly, so registry.cn-hangzhou.aliyuncs.com:443/ns/app (the same registry,
    its HTTPS port written out) is selected only by a pattern that has that port too."""
    return [*ACR_MATCH_IMAGES, *(with_port(pattern, "443") for pattern in ACR_MATCH_IMAGES)]


def with_port(pattern: str, port: str) -> str:
    """pattern (host[/path]) with :port after its host."""
    host, slash, path = pattern.partition("/")
    return f"{host}:{port}{slash}{path}"


def response(api_version: str, auth: dict[str, dict[str, str]], cache_seconds: int | None = None) -> dict:
    answer: dict = {"apiVersion": api_version, "kind": "CredentialProviderResponse", "cacheKeyType": "Registry"}
    if cache_seconds is not None:
        answer["cacheDuration"] = go_duration(max(0, cache_seconds))
    answer["auth"] = auth
    return answer


def answer(request: Request, environ=ENVIRON) -> dict:
    """The response to one request: the login for the image's registry, keyed by that registry.

    The pod identity the request names is handed to credctl.lookup unresolved, which works it
    out only for a registry the ACR path serves (see the module docstring for why)."""
    from credctl.lookup import find_login
    from credctl.names import image_registry

    registry = image_registry(request.image)
    login = find_login(registry, environ, _pod_identity(request, environ) if request.token else None)
    if login is None:
        return response(request.api_version, {})
    auth = {registry: {"username": login.username, "password": login.password}}
    if login.expires is None:
        return response(request.api_version, auth)
    from credctl.acr.cache import MARGIN  # credctl hands the token out until MARGIN before expiry

    return response(request.api_version, auth, int(login.expires - MARGIN - time.time()))


def _pod_identity(request: Request, environ):
    """A function giving the PodIdentity the request's token and annotations name (None: the
    node's identity serves it); it raises, as podidentity.from_request does, for a service
    account that names a role but is set up wrong, or a token that is not a fresh JWT."""

    def resolve():
        from credctl.acr.podidentity import from_request

        return from_request(request.token, request.annotations, environ)

    return resolve


def run(args: list[str], stdin, stdout, stderr, environ=ENVIRON) -> int:
    """One plugin run; returns the exit status."""
    if args in (["--version"], ["-v"]):
        stdout.write(f"{PROGRAM} (credctl) {__version__}\n".encode())
        return 0
    if args:
        stderr.write(USAGE + "\n")
        return 0 if args in (["--help"], ["-h"]) else 2
    try:
        from credctl.helperinput import read_input

        request = parse_request(read_input(stdin))
        output = encode(answer(request, environ)) + "\n"
    except (Exception, KeyboardInterrupt) as err:  # never a traceback: the kubelet logs stderr
        stderr.write(f"{PROGRAM}: {' '.join(one_line(err).split())}\n")
        return exit_status(err)
    stdout.write(output.encode("utf-8"))
    stdout.flush()
    return 0


def serve(args: list[str]) -> int:
    keep_secrets_in_memory()
    if sys.stdin is not None and sys.stdin.isatty() and not args:
        sys.stderr.write("reading a CredentialProviderRequest from stdin; end it with Ctrl-D\n")
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    try:
        return run(args, stdin, sys.stdout.buffer, sys.stderr)
    except BrokenPipeError:
        sys.stdout = None
        return 1
