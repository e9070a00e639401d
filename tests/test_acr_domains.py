"""Every ACR domain form of today, with its edition, in one table; look-alikes and edge cases too.

The Go helper's own cases come first, as data (mozillazg/docker-credential-acr-helper,
pkg/acr/registry_test.go, Test_parseServerURL and Test_parseServerURL_with_env); then the new
Personal Edition's crpi- hosts (public and -vpc; tests/world.py CRPI_HOSTS cites where they are
seen), then spellings a server address arrives in (case, trailing dot, port, scheme, path) and
look-alikes that must never count as ACR. docs/stores/acr.md's "Domains and editions" table is
the same facts for people.
"""

import pytest
from world import CRPI_HOSTS, ENTERPRISE_HOSTS, PERSONAL_HOSTS, acr_env

from credctl.acr import login
from credctl.acr.domains import ENTERPRISE, PERSONAL, PERSONAL_NEW, AcrRegistry, resolve
from credctl.errors import NoTemporaryTokens

# mozillazg/docker-credential-acr-helper pkg/acr/registry_test.go, Test_parseServerURL: (case
# name, rawURL, want as (IsEE, InstanceName, Region, Domain), None for wantErr).
UPSTREAM_CASES = [
    (
        "person public",
        "registry.cn-beijing.aliyuncs.com/foo/bar:v1",
        (False, "", "cn-beijing", "registry.cn-beijing.aliyuncs.com"),
    ),
    (
        "person vpc",
        "registry-vpc.cn-beijing.aliyuncs.com/foo/bar:v1",
        (False, "", "cn-beijing", "registry-vpc.cn-beijing.aliyuncs.com"),
    ),
    (
        "person internal",
        "registry-internal.cn-beijing.aliyuncs.com/foo/bar:v1",
        (False, "", "cn-beijing", "registry-internal.cn-beijing.aliyuncs.com"),
    ),
    (
        "person public (intl)",
        "registry-intl.ap-southeast-1.aliyuncs.com/foo/bar:v1",
        (False, "", "ap-southeast-1", "registry-intl.ap-southeast-1.aliyuncs.com"),
    ),
    (
        "person vpc (intl)",
        "registry-intl-vpc.ap-southeast-1.aliyuncs.com/foo/bar:v1",
        (False, "", "ap-southeast-1", "registry-intl-vpc.ap-southeast-1.aliyuncs.com"),
    ),
    (
        "ee public",
        "foobar-registry.cn-beijing.cr.aliyuncs.com/foo/bar:v2",
        (True, "foobar", "cn-beijing", "foobar-registry.cn-beijing.cr.aliyuncs.com"),
    ),
    (
        "ee vpc",
        "foobar-registry-vpc.cn-beijing.cr.aliyuncs.com/foo/bar:v2",
        (True, "foobar", "cn-beijing", "foobar-registry-vpc.cn-beijing.cr.aliyuncs.com"),
    ),
    ("unknown domain", "alpine:3.15", None),
]


@pytest.mark.parametrize(("name", "raw_url", "want"), UPSTREAM_CASES, ids=[case[0] for case in UPSTREAM_CASES])
def test_the_go_helpers_own_cases(name, raw_url, want):
    got = resolve(raw_url, {})
    if want is None:
        assert got is None
        return
    is_ee, instance_name, region, domain = want
    assert (got.enterprise, got.instance_name, got.region, got.domain) == (is_ee, instance_name, region, domain)
    assert got.edition == (ENTERPRISE if is_ee else PERSONAL)


def test_the_go_helpers_environment_case():
    """Test_parseServerURL_with_env: the instance id and region variables make any host that instance."""
    environ = {
        "DOCKER_CREDENTIAL_ACR_HELPER_REGION": "cn-beijing-xx",
        "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID": "cr-xx-yy",
    }
    assert resolve("example.com", environ) == AcrRegistry("example.com", "cn-beijing-xx", instance_id="cr-xx-yy")


# Every form: (host, edition, region, instance name from the domain).
EVERY_FORM = (
    [(host, PERSONAL, region, "") for host, region in PERSONAL_HOSTS]
    + [(host, ENTERPRISE, region, instance) for host, instance, region in ENTERPRISE_HOSTS]
    + [(host, PERSONAL_NEW, region, "") for host, region in CRPI_HOSTS]
)


@pytest.mark.parametrize(("host", "edition", "region", "instance"), EVERY_FORM)
def test_every_form_names_its_edition_and_region(host, edition, region, instance):
    got = resolve(host, {})
    assert (got.domain, got.edition, got.region, got.instance_name, got.instance_id) == (
        host,
        edition,
        region,
        instance,
        "",
    )
    assert got.issues_tokens == (edition != PERSONAL_NEW)


CRPI = CRPI_HOSTS[0][0]
CRPI_VPC = CRPI_HOSTS[1][0]


@pytest.mark.parametrize(
    "spelling",
    [
        CRPI.upper(),
        CRPI + ".",
        CRPI + ":443",
        CRPI + ".:443",
        "https://" + CRPI,
        "https://" + CRPI + "/v2/",
        CRPI + "/team/app:1",
        "user@" + CRPI,
        "  " + CRPI + "\n",
    ],
)
def test_a_crpi_host_in_every_spelling_docker_and_the_kubelet_send(spelling):
    assert resolve(spelling, {}) == AcrRegistry(CRPI, "cn-beijing", edition=PERSONAL_NEW)


@pytest.mark.parametrize(
    "host",
    [
        "crpi-x.cn-hangzhou.personal.cr.aliyuncs.com.evil.com",  # ACR's name as a prefix of another's
        "crpi-x.cn-hangzhou.personal.cr.aliyuncs.com.cn",
        "personal.cr.aliyuncs.com",
        "cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi-.cn-hangzhou.personal.cr.aliyuncs.com",  # no id
        "crpi--vpc.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi-abc-vpc-vpc.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi-a-b.cn-hangzhou.personal.cr.aliyuncs.com",  # ids have no '-'
        "crpi-abc-intl.ap-southeast-1.personal.cr.aliyuncs.com",  # no such option
        "crpi-abc_d.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpix-abc.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi-abc.personal.cr.aliyuncs.com",  # no region
        "crpi-abc.hangzhou.personal.cr.aliyuncs.com",  # not a region
        "crpi-abc.cn-hangzhou.personal.aliyuncs.com",  # no .cr
        "crpi-abc.cn-hangzhou.cr.aliyuncs.com",  # no .personal
        "crpi-abc.x.cn-hangzhou.personal.cr.aliyuncs.com",
        "registry.cn-hangzhou.personal.cr.aliyuncs.com",
        "myteam-registry.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi-abc.cn-hangzhou.personal.cr.aliyuncs.com.evil.com:443",
        "evil.com/crpi-abc.cn-hangzhou.personal.cr.aliyuncs.com",
        "[::1]:5000",
        "",
    ],
)
def test_look_alikes_are_not_acr(host):
    assert resolve(host, {}) is None


def test_a_crpi_host_stays_the_new_personal_edition_whatever_the_environment_says():
    """The Go helper's instance variables name an Enterprise instance for any host; a crpi- host
    is none (and no setting makes it one): it still gets the new Personal Edition's answer."""
    environ = {"DOCKER_CREDENTIAL_ACR_HELPER_REGION": "cn-beijing", "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID": "cri-x"}
    assert resolve(CRPI_VPC, environ).edition == PERSONAL_NEW
    custom = {CRPI_VPC: {"region": "cn-beijing", "instance_id": "cri-x"}}
    assert resolve(CRPI_VPC, {}, custom).edition == PERSONAL_NEW


NO_TOKENS = (
    "{0} is an ACR Personal Edition instance (new, crpi-): Alibaba Cloud issues no temporary tokens for it; "
    "log in once with `docker login {0}` and the fixed password set in the ACR console (Access Credential), "
    "which credctl keeps in your login store"
)


def test_the_new_personal_edition_asks_no_api(tmp_path):
    """No token API: the refusal names the edition and the one login, and nothing is asked (the
    endpoint is a closed port: a request would fail otherwise)."""
    with pytest.raises(NoTemporaryTokens) as caught:
        login.token_for(CRPI_VPC, acr_env(tmp_path))
    assert str(caught.value) == NO_TOKENS.format(CRPI_VPC)
