"""Which ACR registry a server address names (standard library only: the helper's hot path).

Personal Edition:        registry[-intl][-vpc][-internal][.distributed].<region>.aliyuncs.com
Personal Edition (new):  crpi-<id>[-vpc].<region>.personal.cr.aliyuncs.com (instances created
                         since 2024-09-09; <id> lower-case letters and digits)
Enterprise Edition:      <instance>-registry[-intl][-vpc].<region>[.cr].aliyuncs.com

Each edition gets its own answer (docs/stores/acr.md, "Domains and editions", cites the
sources): Enterprise Edition instances a token from GetAuthorizationToken (API 2018-12-01, by
instance id), the old Personal Edition one from GET /tokens (API 2016-06-07), and the new
Personal Edition none: no Alibaba Cloud API issues temporary credentials for a crpi- instance
(ACK's own password-free component serves only Enterprise instances and Personal instances
created on or before 2024-09-08), so its login is the one `docker login` stored.
Anything else is not ACR (the helper then answers "credentials not found", so Docker carries
on anonymously), unless credctl's settings name it: a custom domain with its region and
instance id (`acr_registries` in settings.json), or, as the Go helper allows, the
DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID and _REGION environment variables together.
find_registry is that answer for every caller (the login, the stores, the router's built-in
ACR rule, which asks it without loading the token code); the settings are read only for a
host that is not ACR by its name.
"""

from __future__ import annotations

from credctl.errors import CredentialsNotFound
from credctl.names import bare_host
from credctl.posixfs import ENVIRON

REGISTRIES_SETTING = "acr_registries"  # settings.json: {custom domain: {region, instance_id}}
SUFFIX = ".aliyuncs.com"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_PERSONAL_OPTIONS = ("-internal", "-vpc", "-intl")  # as they may end the first label, last first
_ENTERPRISE_OPTIONS = ("-vpc", "-intl")
_CRPI_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

# The editions, as AcrRegistry.edition names them.
PERSONAL = "personal"  # registry.<region>.aliyuncs.com: tokens from API 2016-06-07 GET /tokens
PERSONAL_NEW = "personal-new"  # crpi-<id>.<region>.personal.cr.aliyuncs.com: no token API
ENTERPRISE = "enterprise"  # <name>-registry.<region>.cr.aliyuncs.com: API 2018-12-01, by instance
EDITION_NAMES = {
    PERSONAL: "Personal Edition",
    PERSONAL_NEW: "Personal Edition (new)",
    ENTERPRISE: "Enterprise Edition",
}


class AcrRegistry:
    """An ACR registry: its domain, region, edition and, for the Enterprise Edition, the
    instance (name from the domain, or id). edition: PERSONAL_NEW must be given; otherwise it
    follows from the instance (ENTERPRISE with one, PERSONAL without)."""

    __slots__ = ("domain", "edition", "instance_id", "instance_name", "region")

    def __init__(
        self, domain: str, region: str, instance_name: str = "", instance_id: str = "", edition: str = ""
    ) -> None:
        self.domain, self.region = domain, region
        self.instance_name, self.instance_id = instance_name, instance_id
        self.edition = edition or (ENTERPRISE if instance_name or instance_id else PERSONAL)

    @property
    def enterprise(self) -> bool:
        return self.edition == ENTERPRISE

    @property
    def issues_tokens(self) -> bool:
        """Whether an Alibaba Cloud API issues temporary tokens for this registry's edition."""
        return self.edition != PERSONAL_NEW

    def __repr__(self) -> str:
        return (
            f"AcrRegistry({self.domain!r}, {self.region!r}, {self.instance_name!r}, {self.instance_id!r}, "
            f"{self.edition!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AcrRegistry) and repr(self) == repr(other)


def _is_name(label: str) -> bool:
    return bool(label) and set(label) <= _NAME_CHARS and not label.startswith("-") and not label.endswith("-")


def is_region(label: str) -> bool:
    return _is_name(label) and "-" in label


def _strip_options(label: str, options: tuple[str, ...]) -> str:
    for option in options:
        label = label.removesuffix(option)
    return label


def _is_crpi(label: str) -> bool:
    """Whether label is a new Personal Edition instance's: crpi-<id> or crpi-<id>-vpc."""
    instance = label.removesuffix("-vpc").removeprefix("crpi-")
    return label.startswith("crpi-") and bool(instance) and set(instance) <= _CRPI_ID_CHARS


def parse_domain(host: str) -> AcrRegistry | None:
    """The registry an ACR domain names, or None if host is not one (look-alikes included).
    host: a bare host name (credctl.names.bare_host: lower case, no port, no trailing dot)."""
    if not host.endswith(SUFFIX):
        return None
    labels = host[: -len(SUFFIX)].split(".")
    if labels[-2:] == ["personal", "cr"]:
        if len(labels) == 4 and _is_crpi(labels[0]) and is_region(labels[1]):
            return AcrRegistry(host, labels[1], edition=PERSONAL_NEW)
        return None
    cr = labels[-1] == "cr"
    if cr:
        labels = labels[:-1]
    distributed = len(labels) == 3 and labels[1] == "distributed" and not cr
    if distributed:
        labels = [labels[0], labels[2]]
    if len(labels) != 2 or not is_region(labels[1]):
        return None
    first, region = labels
    if not cr and _strip_options(first, _PERSONAL_OPTIONS) == "registry":
        return AcrRegistry(host, region)
    base = _strip_options(first, _ENTERPRISE_OPTIONS)
    instance = base.removesuffix("-registry")
    if not distributed and instance != base and _is_name(instance):
        return AcrRegistry(host, region, instance_name=instance)
    return None


def resolve(server: str, environ=ENVIRON, custom: dict | None = None) -> AcrRegistry | None:
    """The ACR registry behind a server address, from the settings, the environment or its name.
    A crpi- domain is always the new Personal Edition: no setting or instance id makes it an
    Enterprise instance (Alibaba issues no token for it by any instance)."""
    host = bare_host(server)
    parsed = parse_domain(host)
    if parsed is not None and parsed.edition == PERSONAL_NEW:
        return parsed
    known = (custom or {}).get(host)
    if isinstance(known, dict) and known.get("region"):
        return AcrRegistry(host, str(known["region"]), instance_id=str(known.get("instance_id") or ""))
    instance_id = environ.get("DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID", "")
    region = environ.get("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "")
    if instance_id and region:
        return AcrRegistry(host, region, instance_id=instance_id)
    if parsed is not None and instance_id and parsed.enterprise:
        parsed.instance_id = instance_id  # saves the ListInstance call
    return parsed


def custom_domains(environ=ENVIRON) -> dict:
    """{domain: {region, instance_id}}: the hosts credctl's settings record as ACR registries."""
    from credctl import settings  # reads JSON: only for hosts that are not ACR by name

    return domains_in(settings.load(environ))


def domains_in(found: dict) -> dict:
    """The custom domains a settings dict records ({} for none)."""
    domains = found.get(REGISTRIES_SETTING)
    return domains if isinstance(domains, dict) else {}


def find_registry(server: str, environ=ENVIRON, custom: dict | None = None) -> AcrRegistry:
    """The ACR registry a server address names; CredentialsNotFound when it names none.
    custom: the settings' custom domains when the caller has read them already (else read here,
    only for a host that is not ACR by name)."""
    registry = resolve(server, environ)
    if registry is None:
        registry = resolve(server, environ, custom_domains(environ) if custom is None else custom)
    if registry is None:
        raise CredentialsNotFound()
    return registry
