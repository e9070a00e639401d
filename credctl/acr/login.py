"""The ACR login: which registry a server names, the token for it, and which identity asks.

Every ACR path comes here: docker-credential-acr-helper (credctl.stores.acr), the kubelet
plugin (credctl.lookup), Python programs (credctl.acr.get_credentials) and `credctl acr`.

- Registry: a server address names an ACR registry by its domain or the Go helper's environment
  pair, or as a custom domain recorded in credctl's settings (credctl.acr.domains.find_registry).
- Token: the disk cache's while it is fresh (no SDK import, no network), else one issued by
  Alibaba Cloud (credctl.acr.tokens, the only module that imports the SDK), then cached. A token
  that has already expired is refused rather than handed out.
- Identity: the caller's environ goes in; the credential source the SDK's chain will pick
  (credctl.acr.identity) is worked out from it here, or a pod's RAM role replaces it. Cached
  tokens are keyed by that identity, and kept only when the source that answered is that one.
- Helper names: Docker runs docker-credential-<suffix>; the suffix `acr-helper` is this
  environment's identity, `acr-helper-NAME` the profile NAME, whose wrapper (written by
  credctl.acr.profiles) sets the variables profile_variables names.

Standard library only: the warm path of the helper and of the kubelet plugin runs here.
"""

from __future__ import annotations

import posix
import time

from credctl.acr import cache
from credctl.acr import identity as sources
from credctl.acr.domains import (  # custom_domains, REGISTRIES_SETTING: the domain rules', named here for callers
    REGISTRIES_SETTING,  # noqa: F401
    AcrRegistry,
    custom_domains,  # noqa: F401
    find_registry,
)
from credctl.acr.identity import effective_environ, fingerprint
from credctl.errors import CredentialsNotFound, NoTemporaryTokens, ProfileError, StoreError
from credctl.posixfs import ENVIRON, as_dict

HELPER = "acr-helper"  # docker-credential-acr-helper; a profile's is HELPER-NAME
PROFILES_SETTING = "acr_profiles"  # settings.json: {name: {[kind], <its source's fields>, wrapper, registries}}
NO_CACHE = "CREDCTL_ACR_NO_CACHE"  # set and not 0: every token comes from the API, none is kept
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = _NAME_START | {"-"}
NAME_MAX = 63  # a DNS label's length: the name shows up in file and program names


# --- helper names and profiles ----------------------------------------------------------------


def is_profile_name(name: str) -> bool:
    """A name credctl gives a profile: lower-case ASCII letters, digits and '-', not first."""
    return 0 < len(name) <= NAME_MAX and name[0] in _NAME_START and set(name) <= _NAME_CHARS


def profile_suffix(name: str) -> str:
    """The helper suffix of profile name (acr-helper-NAME), as credHelpers maps registries to it."""
    if not is_profile_name(name):
        raise ProfileError(f"{name!r} is not a profile name: use lower-case letters, digits and '-' (a-z0-9-)")
    return f"{HELPER}-{name}"


def profile_of(suffix: str) -> str | None:
    """The ACR identity a helper suffix selects: "" for acr-helper (the environment's own),
    NAME for acr-helper-NAME, None for any other suffix (a helper that is not credctl's ACR)."""
    if suffix == HELPER:
        return ""
    name = suffix.removeprefix(HELPER + "-")
    return name if name != suffix and is_profile_name(name) else None


def profile_variables(name: str, record: dict) -> dict[str, str]:
    """What a profile's wrapper exports before it runs the helper: its name (so only its own
    source counts, see identity.effective_environ) and that source, from its settings record
    (KeyError or TypeError for a record that names none)."""
    return {sources.PROFILE: name, **_source_variables(record)}


def _source_variables(record: dict) -> dict[str, str]:
    """The variables of one record's source, by kind (credctl.acr.identity lists them); a role's base
    is its "source" record: {"kind": "chain"}, or a file or cli profile's fields."""
    kind = record.get("kind", "file")  # records made before kinds existed are credentials files
    if kind == "cli":
        return {sources.CLI_CONFIG: _text(record["cli_config"]), sources.CLI_PROFILE: _text(record["cli_profile"])}
    if kind == "role":
        source = record["source"]
        if source.get("kind") == "role":
            raise TypeError("a role's source is a file, a CLI profile or the chain")
        optional = {
            sources.EXTERNAL_ID: record.get("external_id"),
            sources.SESSION_NAME: record.get("session_name"),
            sources.DURATION: record.get("duration"),
        }
        role = {sources.ROLE_ARN: _text(record["role_arn"])}
        # settings.json's numbers come back as gojson.Number (their text): the duration's digits either way
        role.update({variable: str(getattr(value, "text", value)) for variable, value in optional.items() if value})
        if source.get("kind") == sources.CHAIN:
            return {**role, sources.ROLE_SOURCE: sources.CHAIN}
        return {**role, **_source_variables(source)}
    if kind != "file":
        raise TypeError(f"unknown profile kind {kind!r}")
    variables = {"ALIBABA_CLOUD_CREDENTIALS_FILE": _text(record["credentials_file"])}
    section = record.get("section") or sources.DEFAULT_SECTION
    if section != sources.DEFAULT_SECTION:
        variables[sources.SECTION] = _text(section)
    return variables


def _text(value) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("a profile's source fields are non-empty strings")
    return value


def profile_environ(name: str, record: dict, environ=ENVIRON) -> dict[str, str]:
    """environ as the wrapper of profile name, made from record, passes it to the helper (which
    unsets every other kind's variables first)."""
    kept = {variable: value for variable, value in environ.items() if variable not in sources.KIND_VARIABLES}
    return {**kept, **profile_variables(name, record)}


def recorded_profiles(environ=ENVIRON) -> dict:
    """The profiles `credctl acr add-profile` recorded in credctl's settings, by name."""
    from credctl import settings

    found = settings.load(environ).get(PROFILES_SETTING)
    return found if isinstance(found, dict) else {}


def helper_environ(suffix: str, environ=ENVIRON) -> dict[str, str] | None:
    """The environment docker-credential-<suffix> would run credctl's ACR login with: environ
    itself for acr-helper, what the wrapper sets for a recorded profile. None when the suffix is
    not ACR's, or names a profile credctl has no record of: then only the program knows."""
    name = profile_of(suffix)
    if name is None:
        return None
    if not name:
        return as_dict(environ)
    entry = recorded_profiles(environ).get(name)
    try:
        return profile_environ(name, entry, environ)
    except (KeyError, TypeError, AttributeError):  # no record, or one that names no source
        return None


# --- tokens -----------------------------------------------------------------------------------


def identity(environ=ENVIRON, pod=None) -> str:
    """The credential source tokens are issued to and cached for (never a secret).

    pod: a credctl.acr.podidentity.PodIdentity (a pod's RAM role) in place of environ's chain."""
    return pod.fingerprint() if pod else fingerprint(effective_environ(environ))


def _cache_path(who: str, registry: AcrRegistry, environ) -> str:
    """One file per (identity, instance): an instance's domains share its token."""
    return cache.path_for(who, registry.region, registry.instance_id or registry.instance_name, environ)


def no_tokens_line(registry: AcrRegistry) -> str:
    """What a registry of an edition without a token API (the new Personal Edition) gets when
    no login is stored for it: that, and how to log in once."""
    return (
        f"{registry.domain} is an ACR Personal Edition instance (new, crpi-): Alibaba Cloud issues no temporary "
        f"tokens for it; log in once with `docker login {registry.domain}` and the fixed password set in the "
        "ACR console (Access Credential), which credctl keeps in your login store"
    )


def token(registry: AcrRegistry, environ=ENVIRON, pod=None) -> cache.Token:
    """A token for registry: the cached one while fresh, else a new one from Alibaba Cloud.
    NoTemporaryTokens for an edition no API issues them for (nothing is asked)."""
    if not registry.issues_tokens:
        raise NoTemporaryTokens(no_tokens_line(registry))
    use_cache = environ.get(NO_CACHE, "") in ("", "0")
    who = identity(environ, pod)
    path = _cache_path(who, registry, environ)
    if use_cache:
        cached = cache.load(path)
        if cached is not None and cached.fresh(time.time()):
            return cached
    from credctl.acr.tokens import fetch  # the SDK: only when the cache cannot answer

    issued, answered = fetch(registry, environ, pod)
    if issued.expires <= time.time():
        # it would only make the registry answer Docker "unauthorized", which points nowhere
        raise StoreError(
            f"Alibaba Cloud issued a token for {registry.domain} that has already expired: "
            "check this machine's clock (`timedatectl`), then try again"
        )
    issued.owner = cache.owner_of(who)
    if use_cache and _answered_as_predicted(who, answered, environ, pod):
        try:
            cache.save(path, issued)
        except OSError:
            pass  # a read-only cache only costs the next call an API request
    return issued


def _answered_as_predicted(who: str, answered: str, environ, pod=None) -> bool:
    """Whether the source the SDK used (answered: its kind) is the one the cache key who names,
    whose inputs are still what they were: only then is the token kept under who. A source that
    comes first but cannot serve (a config.json without the profile it names, a missing OIDC
    token file) makes the chain answer from a later one, which who does not name: that token is
    handed out, never cached, so no other source's environment is ever served it."""
    return who.partition(":")[0] == answered and identity(environ, pod) == who


def token_for(server: str, environ=ENVIRON, pod=None) -> cache.Token:
    """The token for the ACR registry a server address names; CredentialsNotFound if none."""
    return token(find_registry(server, environ), environ, pod)


def erase(server: str, environ=ENVIRON, pod=None) -> None:
    """Drop the cached tokens of the registry a server address names: its domain's, whoever they
    were issued to, and this identity's for its instance (which the instance's domains share).
    Nothing for a server that is not ACR: nothing was ever cached for it."""
    try:
        registry = find_registry(server, environ)
    except CredentialsNotFound:
        return
    cache.drop(registry.domain, environ)
    try:
        posix.unlink(_cache_path(identity(environ, pod), registry, environ))
    except FileNotFoundError:
        pass


def cached(environ=ENVIRON, pod=None) -> dict[str, str]:
    """{domain: username} of this identity's tokens that are still fresh."""
    return cache.listing(cache.owner_of(identity(environ, pod)), environ)


def health(environ=ENVIRON, pod=None) -> tuple[bool, str]:
    """(ok, detail): whether there are credentials to ask Alibaba Cloud with, and whose."""
    source, _, detail = identity(environ, pod).partition(":")
    if source == "missing":
        return False, f"the profile's credentials file or CLI config {detail} is not there (or not a file)"
    if source in ("ecs", "uri") and not detail:
        return (
            False,
            "no Alibaba Cloud credentials found (environment, ~/.aliyun/config.json, "
            "~/.alibabacloud/credentials): set them up, or use `credctl acr add-profile`",
        )
    return True, f"Alibaba Cloud credentials from {source}"
