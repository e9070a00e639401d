"""The kubelet's image matching and config checks, modelled for the tests (no kubelet binary is
packaged here).

From the v1 API reference (kubelet-config.v1 matchImages, credentialprovider.v1 auth keys) and
the kubelet's credentialprovider.URLsMatch: both sides are parsed as schemeless URLs; the ports
must be equal (a pattern without a port matches only images without one); the hosts must have
the same number of dot-separated parts, each matched by filepath.Match (a '*' stays within its
part); the pattern's path must be a prefix of the image's path.
"""

import re
from fnmatch import fnmatchcase
from urllib.parse import urlsplit


def _split(reference: str) -> tuple[list[str], str, str]:
    parts = urlsplit("https://" + reference)
    netloc = parts.netloc
    host, port = netloc, ""
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest.removeprefix(":")
    elif netloc.count(":") == 1:
        host, port = netloc.split(":")
    return host.split("."), port, parts.path


def matches(pattern: str, image: str) -> bool:
    """Does the kubelet apply pattern (a matchImages entry or an auth key) to image?"""
    pattern_parts, pattern_port, pattern_path = _split(pattern)
    image_parts, image_port, image_path = _split(image)
    if pattern_port != image_port or len(pattern_parts) != len(image_parts):
        return False
    if not image_path.startswith(pattern_path):
        return False
    return all(fnmatchcase(target, glob) for glob, target in zip(pattern_parts, image_parts, strict=True))


# --- the kubelet's reading of its CredentialProviderConfig --------------------------------------
# Modelled on pkg/credentialprovider/plugin/config.go (decode + validateCredentialProviderConfig),
# with strict decoding (unknown fields are errors since the kubelet detects typos).


PLUGIN_API_VERSIONS = {f"credentialprovider.kubelet.k8s.io/{v}" for v in ("v1", "v1beta1", "v1alpha1")}
_FIELDS = {
    "config": {"apiVersion", "kind", "providers"},
    "provider": {"name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env", "tokenAttributes"},
    "env": {"name", "value"},
    "tokenAttributes": {
        "serviceAccountTokenAudience",
        "cacheType",
        "requireServiceAccount",
        "requiredServiceAccountAnnotationKeys",
        "optionalServiceAccountAnnotationKeys",
    },
}
_GO_DURATION = re.compile(r"0|[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+")
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _unknown(kind: str, value: dict, where: str) -> list[str]:
    return [f"{where}: unknown field {key!r}" for key in value if key not in _FIELDS[kind]]


def _qualified_name(key: str) -> bool:
    prefix, slash, name = key.lower().rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.fullmatch(name))


def config_errors(config: dict, token_feature: bool = True) -> list[str]:
    """What the kubelet would refuse in a CredentialProviderConfig ([] when it would load it)."""
    errors = _unknown("config", config, "config")
    group, _, _version = str(config.get("apiVersion", "")).rpartition("/")
    if config.get("kind") != "CredentialProviderConfig" or group != "kubelet.config.k8s.io":
        errors.append("not a kubelet.config.k8s.io CredentialProviderConfig")
    providers = config.get("providers") or []
    if not providers:
        errors.append("providers: at least 1 item is required")
    names: set[str] = set()
    for provider in providers:
        name = provider.get("name", "")
        where = f"providers[{name}]"
        errors += _unknown("provider", provider, where)
        if "/" in name or " " in name or name in (".", "..", "") or name in names:
            errors.append(f"{where}.name is invalid or duplicated")
        names.add(name)
        if provider.get("apiVersion") not in PLUGIN_API_VERSIONS:
            errors.append(f"{where}.apiVersion is not supported")
        patterns = provider.get("matchImages") or []
        if not patterns:
            errors.append(f"{where}.matchImages: at least 1 item is required")
        for pattern in patterns:
            _parts, port, _path = _split(pattern)
            if any(char.isspace() for char in pattern) or (port and not port.isdigit()):
                errors.append(f"{where}.matchImages: {pattern!r} is invalid")
        duration = provider.get("defaultCacheDuration")
        if not isinstance(duration, str) or not _GO_DURATION.fullmatch(duration) or duration.startswith("-"):
            errors.append(f"{where}.defaultCacheDuration is required, a duration >= 0")
        for entry in provider.get("env") or []:
            errors += _unknown("env", entry, f"{where}.env")
        attributes = provider.get("tokenAttributes")
        if attributes is not None:
            errors += _token_attribute_errors(attributes, provider, f"{where}.tokenAttributes", token_feature)
    return errors


def _token_attribute_errors(attributes: dict, provider: dict, where: str, token_feature: bool) -> list[str]:
    errors = _unknown("tokenAttributes", attributes, where)
    if not token_feature:
        errors.append(f"{where}: not supported without KubeletServiceAccountTokenForCredentialProviders")
    if not attributes.get("serviceAccountTokenAudience"):
        errors.append(f"{where}.serviceAccountTokenAudience is required")
    if not isinstance(attributes.get("requireServiceAccount"), bool):
        errors.append(f"{where}.requireServiceAccount is required")
    if provider.get("apiVersion") != "credentialprovider.kubelet.k8s.io/v1":
        errors.append(f"{where}: only for credentialprovider.kubelet.k8s.io/v1")
    required = attributes.get("requiredServiceAccountAnnotationKeys") or []
    optional = attributes.get("optionalServiceAccountAnnotationKeys") or []
    if required and attributes.get("requireServiceAccount") is False:
        errors.append(f"{where}: requireServiceAccount cannot be false with required annotation keys")
    for keys in (required, optional):
        errors += [f"{where}: annotation key {key!r} is invalid" for key in keys if not _qualified_name(key)]
        if len(set(keys)) != len(keys):
            errors.append(f"{where}: duplicated annotation keys")
    if set(required) & set(optional):
        errors.append(f"{where}: annotation keys cannot be both required and optional")
    if attributes.get("cacheType") not in ("ServiceAccount", "Token"):
        errors.append(f"{where}.cacheType must be ServiceAccount or Token")
    return errors
