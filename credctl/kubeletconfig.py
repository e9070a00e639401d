"""The kubelet's CredentialProviderConfig, version by version: what each kubelet knows, and how
it reads a config (decode, then pkg/credentialprovider/plugin/config.go
validateCredentialProviderConfig), with the kubelet's own error texts.

Facts, from the kubelet's source and CHANGELOG (docs/kubernetes.md has the matrix):
- 1.24, 1.25: kubelet.config.k8s.io and credentialprovider.kubelet.k8s.io v1beta1 and v1alpha1.
- 1.26: v1 of both (KEP-2133 GA); v1beta1 and v1alpha1 stay (still accepted in 1.34).
- 1.32: the config is decoded strictly: an unknown field stops the kubelet (kubernetes#128062);
  before, it was dropped without a word, so an option it carried was silently not honoured.
- 1.33: tokenAttributes in v1 (KEP-4412 alpha, feature gate
  KubeletServiceAccountTokenForCredentialProviders, off by default; kubernetes#128372):
  serviceAccountTokenAudience and requireServiceAccount required, annotation keys qualified
  names, unique, required ones only with requireServiceAccount true, never both required and
  optional; only with credentialprovider.kubelet.k8s.io/v1.
- 1.34: the gate is beta and on; tokenAttributes.cacheType (ServiceAccount or Token) exists and
  is required (kubernetes#132617, k8s.io/kubelet v0.34).
A kubelet newer than the newest credctl knows reads that newest config (v1 only grows).

Cold path: only `credctl kubelet config` and the tests use this module.
"""

from __future__ import annotations

import re

from credctl.gostd import GoError, duration_string, parse_duration, parse_schemeless_url, quote
from credctl.kubelet import CONFIG_GROUP, GROUP

Version = tuple[int, int]
OLDEST: Version = (1, 24)
NEWEST: Version = (1, 34)
TOKEN_ATTRIBUTES: Version = (1, 33)  # tokenAttributes (alpha, gate off by default)
TOKEN_GATE_ON: Version = (1, 34)  # KubeletServiceAccountTokenForCredentialProviders beta, on
CACHE_TYPE: Version = (1, 34)  # tokenAttributes.cacheType, required
STRICT: Version = (1, 32)  # unknown fields refused
V1: Version = (1, 26)
TOKEN_GATE = "KubeletServiceAccountTokenForCredentialProviders"
CACHE_TYPES = ("ServiceAccount", "Token")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?\S*")


def parse_version(text: str) -> Version | None:
    """(major, minor) of a kubelet version as people and `kubelet --version` write it:
    1.33, v1.33.2, Kubernetes v1.33.2, v1.33.2-eks-1; None if text names none."""
    words = text.split()
    if len(words) == 2 and words[0] == "Kubernetes":  # component-base's verflag: "Kubernetes v1.33.2"
        words = words[1:]
    found = _VERSION.fullmatch(words[0]) if len(words) == 1 else None
    return (int(found[1]), int(found[2])) if found else None


def shown(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def effective(version: Version) -> Version:
    """The version whose rules apply: a kubelet newer than NEWEST reads NEWEST's config."""
    return min(version, NEWEST)


def api_versions(version: Version) -> tuple[str, ...]:
    """The API versions (both groups) a kubelet knows, newest first."""
    return ("v1", "v1beta1", "v1alpha1") if effective(version) >= V1 else ("v1beta1", "v1alpha1")


def token_gate_default(version: Version) -> bool:
    return effective(version) >= TOKEN_GATE_ON


# --- the kubelet's errors, as k8s.io/apimachinery prints them --------------------------------------


def _required(path: str, detail: str = "") -> str:
    return f"{path}: Required value" + (f": {detail}" if detail else "")


def _forbidden(path: str, detail: str) -> str:
    return f"{path}: Forbidden: {detail}"


def _invalid(path: str, value: str, detail: str) -> str:
    return f"{path}: Invalid value: {value}: {detail}"


def _go_string(text: str) -> str:
    """Go's %q of a string (strconv.Quote)."""
    return quote(text)


def _not_supported(path: str, value: str, supported) -> str:
    return f"{path}: Unsupported value: {_go_string(value)}: supported values: " + ", ".join(
        _go_string(item) for item in supported
    )


def aggregate(errors: list[str]) -> str:
    """utilerrors.Aggregate's Error(): one message alone, more in [a, b]; repeats dropped."""
    unique = list(dict.fromkeys(errors))
    if not unique:
        return ""
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# --- decoding -------------------------------------------------------------------------------------

_CONFIG_FIELDS = ("kind", "apiVersion", "providers")
_PROVIDER_FIELDS = ("name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env")
_TOKEN_FIELDS = (
    "serviceAccountTokenAudience",
    "requireServiceAccount",
    "requiredServiceAccountAnnotationKeys",
    "optionalServiceAccountAnnotationKeys",
)


def decode_errors(config: dict, version: Version = NEWEST) -> list[str]:
    """What the kubelet's decoder refuses: the kind and group/version, then (strictly) every field
    the version's type does not have. Before 1.32 the kubelet dropped unknown fields silently;
    they are reported here all the same, since each is an option that kubelet would not honour."""
    api_version = config.get("apiVersion")
    group, _, config_version = str(api_version or "").rpartition("/")
    known = group == CONFIG_GROUP and config_version in api_versions(version)
    if not known or config.get("kind") != "CredentialProviderConfig":
        kind = config.get("kind")
        return [f"no kind {_go_string(str(kind))} is registered for version {_go_string(str(api_version))}"]
    unknown = [f'unknown field "{key}"' for key in config if key not in _CONFIG_FIELDS]
    for index, provider in enumerate(config.get("providers") or []):
        if not isinstance(provider, dict):
            return [f"json: cannot unmarshal {type(provider).__name__} into a CredentialProvider (providers[{index}])"]
        fields = _PROVIDER_FIELDS
        if config_version == "v1" and effective(version) >= TOKEN_ATTRIBUTES:
            fields += ("tokenAttributes",)
        unknown += [f'unknown field "providers[{index}].{key}"' for key in provider if key not in fields]
        attributes = provider.get("tokenAttributes")
        if "tokenAttributes" in fields and isinstance(attributes, dict):
            token_fields = _TOKEN_FIELDS + (("cacheType",) if effective(version) >= CACHE_TYPE else ())
            where = f"providers[{index}].tokenAttributes"
            unknown += [f'unknown field "{where}.{key}"' for key in attributes if key not in token_fields]
        for number, entry in enumerate(provider.get("env") or []):
            where = f"providers[{index}].env[{number}]"
            keys = entry if isinstance(entry, dict) else {}
            unknown += [f'unknown field "{where}.{key}"' for key in keys if key not in ("name", "value")]
    if unknown:
        return ["strict decoding error: " + ", ".join(unknown)]
    return [error for provider in config.get("providers") or [] if (error := _duration_error(provider))]


def _duration_error(provider: dict) -> str:
    """metav1.Duration takes a JSON string that time.ParseDuration reads."""
    duration = provider.get("defaultCacheDuration")
    if duration is None:
        return ""
    if not isinstance(duration, str):
        return f"json: cannot unmarshal {type(duration).__name__} into Go value of type string"
    try:
        parse_duration(duration)
    except GoError as err:
        return str(err)
    return ""


# --- validateCredentialProviderConfig --------------------------------------------------------------


def config_errors(config: dict, version: Version = NEWEST, token_gate: bool | None = None) -> list[str]:
    """Every error the kubelet of that version stops at for this config ([] when it loads it):
    decode_errors, else the validation's field errors. token_gate: the feature gate's value
    (default: the version's default)."""
    return decode_errors(config, version) or validation_errors(config, version, token_gate)


def validation_errors(config: dict, version: Version = NEWEST, token_gate: bool | None = None) -> list[str]:
    """validateCredentialProviderConfig's errors for a decoded config (field paths as the kubelet
    writes them: providers.name, providers.tokenAttributes.cacheType...)."""
    gate = token_gate_default(version) if token_gate is None else token_gate
    providers = config.get("providers") or []
    errors = [] if providers else [_required("providers", "at least 1 item in plugins is required")]
    seen: set[str] = set()
    plugin_versions = [f"{GROUP}/{item}" for item in sorted(api_versions(version))]
    for provider in providers:
        name = str(provider.get("name") or "")
        errors += _name_errors(name, seen)
        seen.add(name)
        api_version = provider.get("apiVersion") or ""
        if not api_version:
            errors.append(_required("providers.apiVersion"))
        elif api_version not in plugin_versions:
            errors.append(_not_supported("providers.apiVersion", api_version, plugin_versions))
        patterns = provider.get("matchImages") or []
        if not patterns:
            errors.append(_required("providers.matchImages", "at least 1 item in matchImages is required"))
        for pattern in patterns:
            if problem := match_image_problem(pattern):
                detail = f"match image is invalid: {problem}"
                errors.append(_invalid("providers.matchImages", _go_string(pattern), detail))
        duration = provider.get("defaultCacheDuration")
        if duration is None:
            errors.append(_required("providers.defaultCacheDuration"))
        elif not _duration_error(provider) and (nanoseconds := parse_duration(duration)) < 0:
            detail = "defaultCacheDuration must be greater than or equal to 0"
            errors.append(_invalid("providers.defaultCacheDuration", duration_string(nanoseconds), detail))
        if provider.get("tokenAttributes") is not None:
            errors += _token_attribute_errors(provider["tokenAttributes"], api_version, version, gate)
    return errors


def match_image_problem(pattern: str) -> str:
    """Why the kubelet refuses a matchImages entry (Go's url.Parse text), or "" when it takes it."""
    try:
        parse_schemeless_url(pattern)
    except GoError as err:
        return str(err)
    return ""


def _name_errors(name: str, seen: set[str]) -> list[str]:
    shown_name = _go_string(name)
    errors = []
    if "/" in name:
        errors.append(_invalid("providers.name", shown_name, "provider name cannot contain '/'"))
    if " " in name:
        errors.append(_invalid("providers.name", shown_name, "provider name cannot contain spaces"))
    if name in (".", ".."):
        errors.append(_invalid("providers.name", shown_name, f"provider name cannot be '{name}'"))
    if name in seen:
        errors.append(f"providers.name: Duplicate value: {shown_name}")
    return errors


def _token_attribute_errors(attributes: dict, api_version: str, version: Version, gate: bool) -> list[str]:
    where = "providers.tokenAttributes"
    errors = []
    if not gate:
        detail = f"tokenAttributes is not supported when {TOKEN_GATE} feature gate is disabled"
        errors.append(_forbidden(where, detail))
    if not attributes.get("serviceAccountTokenAudience"):
        errors.append(_required(f"{where}.serviceAccountTokenAudience"))
    require = attributes.get("requireServiceAccount")
    if require is None:
        errors.append(_required(f"{where}.requireServiceAccount"))
    if api_version != f"{GROUP}/v1":
        errors.append(_forbidden(where, f"tokenAttributes is only supported for {GROUP}/v1 API version"))
    required = list(attributes.get("requiredServiceAccountAnnotationKeys") or [])
    optional = list(attributes.get("optionalServiceAccountAnnotationKeys") or [])
    if require is False and required:
        detail = "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set"
        errors.append(_forbidden(f"{where}.requiredServiceAccountAnnotationKeys", detail))
    errors += _annotation_key_errors(f"{where}.requiredServiceAccountAnnotationKeys", required)
    errors += _annotation_key_errors(f"{where}.optionalServiceAccountAnnotationKeys", optional)
    both = sorted(set(required) & set(optional))
    if both:
        listed = "[]string{" + ", ".join(_go_string(key) for key in both) + "}"
        errors.append(_invalid(where, listed, "annotation keys cannot be both required and optional"))
    if effective(version) >= CACHE_TYPE:
        cache_type = attributes.get("cacheType") or ""
        if not cache_type:
            detail = "cacheType is required to be set when tokenAttributes is specified. Supported values are: "
            errors.append(_required(f"{where}.cacheType", detail + ", ".join(CACHE_TYPES)))
        elif cache_type not in CACHE_TYPES:
            errors.append(_not_supported(f"{where}.cacheType", cache_type, CACHE_TYPES))
    return errors


def _annotation_key_errors(path: str, keys: list[str]) -> list[str]:
    """validateServiceAccountAnnotationKeys: each key a qualified name (case does not matter),
    each once."""
    errors, seen = [], set()
    for key in keys:
        errors += [_invalid(path, _go_string(key), message) for message in qualified_name_problems(key.lower())]
        if key in seen:
            errors.append(f"{path}: Duplicate value: {_go_string(key)}")
        seen.add(key)
    return errors


# k8s.io/apimachinery/pkg/util/validation: IsQualifiedName and IsDNS1123Subdomain, their texts.
_QUALIFIED_FORMAT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_SUBDOMAIN_FORMAT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    listed = "".join(("" if i == 0 else " or ") + f"'{example}', " for i, example in enumerate(examples))
    return f"{message} (e.g. {listed}regex used for validation is '{pattern}')"


def qualified_name_problems(value: str) -> list[str]:
    """validation.IsQualifiedName: [prefix/]name, the prefix a DNS subdomain, the name 1-63
    alphanumerics with '-', '_' or '.' inside."""
    name_rule = _regex_error(_QUALIFIED_MESSAGE, _QUALIFIED_FORMAT, "MyName", "my.name", "123-abc")
    parts = value.split("/")
    if len(parts) > 2:
        prefixed = "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        return [f"a qualified name {name_rule} {prefixed}"]
    errors = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errors.append("prefix part must be no more than 253 characters")
            if not re.fullmatch(_SUBDOMAIN_FORMAT, prefix):
                errors.append("prefix part " + _regex_error(_SUBDOMAIN_MESSAGE, _SUBDOMAIN_FORMAT, "example.com"))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if not re.fullmatch(_QUALIFIED_FORMAT, name):
        errors.append("name part " + name_rule)
    return errors
