"""Which ACR registry a server address names (standard library only: the helper's hot path).

Personal edition:   registry[-intl][-vpc][-internal][.distributed].<region>.aliyuncs.com
Enterprise edition: <instance>-registry[-intl][-vpc].<region>[.cr].aliyuncs.com
Anything else is not ACR (the helper then answers "credentials not found", so Docker carries
on anonymously), unless credctl's settings name it: a custom domain with its region and
instance id (`acr_registries` in settings.json), or, as the Go helper allows, the
DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID and _REGION environment variables together.
"""

from __future__ import annotations

import os

from credctl.names import bare_host

SUFFIX = ".aliyuncs.com"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_PERSONAL_OPTIONS = ("-internal", "-vpc", "-intl")  # as they may end the first label, last first
_ENTERPRISE_OPTIONS = ("-vpc", "-intl")


class AcrRegistry:
    """An ACR registry: its domain, region and, for the enterprise edition, the instance."""

    __slots__ = ("domain", "instance_id", "instance_name", "region")

    def __init__(self, domain: str, region: str, instance_name: str = "", instance_id: str = "") -> None:
        self.domain, self.region = domain, region
        self.instance_name, self.instance_id = instance_name, instance_id

    @property
    def enterprise(self) -> bool:
        return bool(self.instance_name or self.instance_id)

    def __repr__(self) -> str:
        return f"AcrRegistry({self.domain!r}, {self.region!r}, {self.instance_name!r}, {self.instance_id!r})"

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


def parse_domain(host: str) -> AcrRegistry | None:
    """The registry an ACR domain names, or None if host is not one (look-alikes included)."""
    if not host.endswith(SUFFIX):
        return None
    labels = host[: -len(SUFFIX)].split(".")
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


def resolve(server: str, environ=os.environ, custom: dict | None = None) -> AcrRegistry | None:
    """The ACR registry behind a server address, from the settings, the environment or its name."""
    host = bare_host(server)
    known = (custom or {}).get(host)
    if isinstance(known, dict) and known.get("region"):
        return AcrRegistry(host, str(known["region"]), instance_id=str(known.get("instance_id") or ""))
    instance_id = environ.get("DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID", "")
    region = environ.get("DOCKER_CREDENTIAL_ACR_HELPER_REGION", "")
    if instance_id and region:
        return AcrRegistry(host, region, instance_id=instance_id)
    parsed = parse_domain(host)
    if parsed is not None and instance_id and parsed.enterprise:
        parsed.instance_id = instance_id  # saves the ListInstance call
    return parsed
