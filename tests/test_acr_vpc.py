"""VPC endpoints: which Alibaba Cloud API host the ACR helper and the kubelet plugin ask, for real.

The helper runs in a private network and mount namespace (world.AliyunVpcNetwork) where the
hosts file maps Alibaba Cloud's own names (cr-vpc.cn-hangzhou.aliyuncs.com, cr.cn-hangzhou…,
sts-vpc…) to loopback, and the signature-checking fake answers HTTPS there with a throwaway CA's
certificate: the real SDK resolves the name, connects, checks the certificate and signs for that
Host, and the fake records which Host each request named. A name mapped to 127.0.0.2 refuses
connections; a name the hosts file lacks does not resolve (resolv.conf names 127.0.0.1, where
nothing answers). No request can reach a real endpoint or a real resolver.
"""

import json
import sys
from pathlib import Path

import pytest
import world
from world import (
    ACCOUNT,
    ALIYUN_KEY_ID,
    EE,
    HELPER,
    PROVIDER,
    PROVIDER_ARN,
    REGION,
    TEMP_USER,
    answer,
    clean,
    need,
    sa_token,
    with_key,
)

from credctl.acr import endpoints
from credctl.acr.endpoints import Endpoint

CR_VPC, CR = f"cr-vpc.{REGION}.aliyuncs.com", f"cr.{REGION}.aliyuncs.com"
STS_VPC, STS = f"sts-vpc.{REGION}.aliyuncs.com", f"sts.{REGION}.aliyuncs.com"
EE_VPC = f"myteam-registry-vpc.{REGION}.cr.aliyuncs.com"
PERSONAL_VPC = f"registry-vpc.{REGION}.aliyuncs.com"
FAKE, REFUSES = "127.0.0.1", "127.0.0.2"  # the fake's TLS port, and an address where nothing listens
HEYUAN = "cn-heyuan"  # a region whose Container Registry API has no VPC endpoint (endpoints.CR_VPC_ENDPOINT)
ROLE = f"acs:ram::{ACCOUNT}:role/puller-vpc"
ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/vpc"
VPC_ON = {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    need("unshare", "nsenter", "ip", "openssl")
    return world.throwaway_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def vpc_world(ca, tmp_path):
    """make(hosts) -> a world.AliyunVpcNetwork with that hosts file, the key and the instance."""
    made = []

    def make(hosts: dict[str, str]) -> world.AliyunVpcNetwork:
        network = world.AliyunVpcNetwork(tmp_path / f"net{len(made)}", hosts, ca)
        made.append(network)
        network.fake.add_access_key(ALIYUN_KEY_ID, world.ALIYUN_KEY_SECRET)
        network.fake.add_instance(*world.ALIYUN_INSTANCE)
        return network

    yield make
    for network in made:
        network.stop()
        assert network.fake.errors == [], "the fake Alibaba Cloud API failed:\n" + "\n".join(network.fake.errors)


def get(network, tmp_path: Path, registry: str, **extra: str):
    env = with_key(network.env(tmp_path, **extra))
    return network.run([HELPER, "get"], registry, env)


def token_given(network, result, registry: str) -> None:
    """The helper answered with the token the fake issued, and said nothing else."""
    clean(result)
    [issued] = network.fake.issued
    assert result.stdout == answer(registry, issued.token, TEMP_USER)


# --- which host the ACR API is asked on -----------------------------------------------------------


def test_the_environment_flag_sends_every_call_to_cr_vpc(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    result = get(network, tmp_path, EE, **VPC_ON)
    token_given(network, result, EE)
    assert network.hosts_asked() == [CR_VPC, CR_VPC]  # ListInstance, GetAuthorizationToken
    assert all(received.verified for received in network.fake.requests)


@pytest.mark.parametrize("registry", [EE_VPC, PERSONAL_VPC])
def test_a_vpc_registry_host_sends_the_calls_to_cr_vpc(vpc_world, tmp_path, registry):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    result = get(network, tmp_path, registry)
    token_given(network, result, registry)
    assert set(network.hosts_asked()) == {CR_VPC}


def test_without_the_flag_or_a_vpc_host_the_public_endpoint_serves(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    result = get(network, tmp_path, EE)
    token_given(network, result, EE)
    assert network.hosts_asked() == [CR, CR]


@pytest.mark.parametrize("cr_vpc", [{CR_VPC: REFUSES}, {}], ids=["connection-refused", "no-dns-answer"])
def test_cr_vpc_unreachable_falls_back_to_the_public_endpoint_silently(vpc_world, tmp_path, cr_vpc):
    network = vpc_world({**cr_vpc, CR: FAKE})
    result = get(network, tmp_path, EE_VPC)
    token_given(network, result, EE_VPC)
    assert network.hosts_asked() == [CR, CR]


@pytest.mark.parametrize("status, code", [(403, "Forbidden.RAM"), (500, "InternalError")])
def test_an_api_refusal_on_cr_vpc_is_the_answer_never_a_fallback(vpc_world, tmp_path, status, code):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    said = "User not authorized to operate on the specified resource."
    for _ in range(3):  # whatever the SDK retries gets the same answer
        network.fake.fail_next(status, code, said)
    result = get(network, tmp_path, EE_VPC)
    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout == f"Alibaba Cloud refused a token for {EE_VPC}: {code}: {said}\n".encode()
    assert set(network.hosts_asked()) == {CR_VPC}  # cr was never asked
    assert network.fake.issued == []


def test_an_answer_on_cr_vpc_that_is_not_one_is_not_fallen_back_from(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    for _ in range(3):
        network.fake.garbage_next()
    result = get(network, tmp_path, PERSONAL_VPC)
    assert (result.returncode, result.stderr) == (1, b"")
    assert (
        result.stdout
        == (
            f"cannot get a token for {PERSONAL_VPC}: the Alibaba Cloud API answered with something that is not JSON; "
            "try again later\n"
        ).encode()
    )
    assert set(network.hosts_asked()) == {CR_VPC}


def test_a_region_without_a_vpc_endpoint_asks_the_public_one_directly(vpc_world, tmp_path):
    network = vpc_world({f"cr-vpc.{HEYUAN}.aliyuncs.com": FAKE, f"cr.{HEYUAN}.aliyuncs.com": FAKE})
    network.fake.add_instance("cri-heyuan00000001", "hy", HEYUAN)
    registry = f"hy-registry-vpc.{HEYUAN}.cr.aliyuncs.com"
    result = get(network, tmp_path, registry, **VPC_ON)
    token_given(network, result, registry)
    assert set(network.hosts_asked()) == {f"cr.{HEYUAN}.aliyuncs.com"}


def test_credctl_acr_endpoint_overrides_the_vpc_rule(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    result = get(network, tmp_path, EE_VPC, CREDCTL_ACR_ENDPOINT=network.fake.url, **VPC_ON)
    token_given(network, result, EE_VPC)
    assert set(network.hosts_asked()) == {network.fake.endpoint}


def test_an_override_that_cannot_be_reached_is_not_fallen_back_from(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    result = get(network, tmp_path, EE, CREDCTL_ACR_ENDPOINT=f"https://{REFUSES}", **VPC_ON)
    assert (result.returncode, result.stderr) == (1, b"")
    assert (
        result.stdout
        == (
            f"cannot get a token for {EE}: cannot reach the Alibaba Cloud API: "
            "check the network, the proxy settings or CREDCTL_ACR_ENDPOINT\n"
        ).encode()
    )
    assert network.hosts_asked() == []


# --- STS: the pod's AssumeRoleWithOIDC -------------------------------------------------------------


def pod_identity(network) -> str:
    network.fake.add_oidc_provider(PROVIDER_ARN, ISSUER)
    network.fake.add_oidc_role(ROLE, PROVIDER_ARN)
    return sa_token(network.fake, "team-v", "uid-v")


def provide_for_pod(network, tmp_path: Path, token: str, **extra: str):
    env = network.env(tmp_path, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN, **extra)
    payload = world.request(
        f"{EE}/team/app:1", serviceAccountToken=token, serviceAccountAnnotations={"acr.credctl.io/role-arn": ROLE}
    )
    return network.run([PROVIDER], json.dumps(payload).encode(), env)


def test_a_pods_sts_call_goes_to_sts_vpc_when_vpc_applies(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, STS_VPC: FAKE, CR: FAKE, STS: FAKE})
    token = pod_identity(network)
    result = provide_for_pod(network, tmp_path, token, **VPC_ON)
    response = world.answered(result)
    [session] = network.fake.sts_sessions
    [issued] = network.fake.issued
    assert issued.access_key_id == session.access_key_id and response["auth"][EE]["password"] == issued.token
    assert network.hosts_asked() == [STS_VPC, CR_VPC, CR_VPC]


def test_sts_vpc_unreachable_falls_back_to_the_regional_public_sts(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, STS_VPC: REFUSES, STS: FAKE})
    token = pod_identity(network)
    result = provide_for_pod(network, tmp_path, token, **VPC_ON)
    world.answered(result)
    assert network.hosts_asked() == [STS, CR_VPC, CR_VPC]


def test_the_sts_region_names_the_sts_vpc_endpoint(vpc_world, tmp_path):
    shanghai = "sts-vpc.cn-shanghai.aliyuncs.com"
    network = vpc_world({CR_VPC: FAKE, shanghai: FAKE})
    token = pod_identity(network)
    result = provide_for_pod(network, tmp_path, token, ALIBABA_CLOUD_STS_REGION="cn-shanghai", **VPC_ON)
    world.answered(result)
    assert network.hosts_asked() == [shanghai, CR_VPC, CR_VPC]


def test_the_oidc_chain_of_the_environment_uses_sts_vpc_too(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, STS_VPC: FAKE})
    token = pod_identity(network)
    token_file = tmp_path / "sa-token"
    token_file.write_text(token)
    env = network.env(
        tmp_path,
        ALIBABA_CLOUD_ROLE_ARN=ROLE,
        ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN,
        ALIBABA_CLOUD_OIDC_TOKEN_FILE=str(token_file),
        **VPC_ON,
    )
    result = network.run([HELPER, "get"], EE, env)
    clean(result, token)
    assert network.hosts_asked() == [STS_VPC, CR_VPC, CR_VPC]


# --- the rule as data ------------------------------------------------------------------------------

VPC_DOMAINS = [
    # (registry host, is a VPC host): the forms of credctl.acr.domains, and look-alikes
    ("registry-vpc.cn-hangzhou.aliyuncs.com", True),
    ("registry-intl-vpc.ap-southeast-1.aliyuncs.com", True),
    ("myteam-registry-vpc.cn-hangzhou.cr.aliyuncs.com", True),
    ("myteam-registry-intl-vpc.cn-hangzhou.cr.aliyuncs.com", True),
    ("crpi-abc123-vpc.cn-hangzhou.personal.cr.aliyuncs.com", True),
    ("REGISTRY-VPC.CN-HANGZHOU.ALIYUNCS.COM", True),
    ("registry.cn-hangzhou.aliyuncs.com", False),
    ("registry-internal.cn-hangzhou.aliyuncs.com", False),  # the classic network, not a VPC
    ("myteam-registry.cn-hangzhou.cr.aliyuncs.com", False),
    ("vpc-registry.cn-hangzhou.cr.aliyuncs.com", False),  # an instance named vpc
    ("my-vpc-registry.cn-hangzhou.cr.aliyuncs.com", False),  # an instance named my-vpc
    ("crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com", False),
    ("registry-vpc.example.com", False),  # a custom domain: only the flag asks for the VPC
]


@pytest.mark.parametrize("domain, vpc", VPC_DOMAINS)
def test_which_registry_hosts_are_vpc_hosts(domain, vpc):
    assert endpoints.is_vpc_domain(domain) is vpc


@pytest.mark.parametrize(
    "domain, region, environ, expected",
    [
        (EE, REGION, {}, [Endpoint(CR)]),
        (EE, REGION, VPC_ON, [Endpoint(CR_VPC), Endpoint(CR)]),
        (EE, REGION, {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "True"}, [Endpoint(CR_VPC), Endpoint(CR)]),
        (EE, REGION, {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "1"}, [Endpoint(CR)]),  # the SDKs read "true" only
        (EE_VPC, REGION, {}, [Endpoint(CR_VPC), Endpoint(CR)]),
        ("x-registry-vpc.cn-heyuan.cr.aliyuncs.com", HEYUAN, {}, [Endpoint("cr.cn-heyuan.aliyuncs.com")]),
        ("registry-vpc.cn-huhehaote.aliyuncs.com", "cn-huhehaote", {}, [Endpoint("cr.cn-huhehaote.aliyuncs.com")]),
        (  # a region the table does not name: cr-vpc is tried, its DNS failure falls back
            "registry-vpc.me-central-1.aliyuncs.com",
            "me-central-1",
            {},
            [Endpoint("cr-vpc.me-central-1.aliyuncs.com"), Endpoint("cr.me-central-1.aliyuncs.com")],
        ),
        (
            EE_VPC,
            REGION,
            {"CREDCTL_ACR_ENDPOINT": "http://127.0.0.1:8080/", **VPC_ON},
            [Endpoint("127.0.0.1:8080", "http")],
        ),
    ],
)
def test_the_api_endpoints_in_order(domain, region, environ, expected):
    assert endpoints.api_endpoints(domain, region, environ) == expected


@pytest.mark.parametrize(
    "domain, environ, expected",
    [
        (EE, {}, [None]),  # the SDK's own choice, as before
        (EE, VPC_ON, [STS_VPC, STS]),
        (EE_VPC, {}, [STS_VPC, STS]),
        (
            EE_VPC,
            {"ALIBABA_CLOUD_STS_REGION": "cn-beijing"},
            ["sts-vpc.cn-beijing.aliyuncs.com", "sts.cn-beijing.aliyuncs.com"],
        ),
        (EE_VPC, {"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.internal"}, ["sts.example.internal"]),
    ],
)
def test_the_sts_endpoints_in_order(domain, environ, expected):
    assert endpoints.sts_endpoints(domain, REGION, environ) == expected


def test_a_malformed_override_is_one_clear_refusal():
    with pytest.raises(endpoints.StoreUnavailable, match="CREDCTL_ACR_ENDPOINT must be"):
        endpoints.api_endpoints(EE, REGION, {"CREDCTL_ACR_ENDPOINT": "cr.example.com"})


def test_the_fallback_is_taken_only_for_a_connection_that_cannot_be_made():
    refused = [Endpoint(f"{REFUSES}:9"), Endpoint(CR)]
    chosen, skipped = endpoints.first_reachable(refused, 2, {})
    assert chosen == Endpoint(CR) and skipped == [f"{REFUSES}:9 refused the connection (Connection refused)"]
    proxied, skipped = endpoints.first_reachable(refused, 2, {"HTTPS_PROXY": "http://proxy.invalid:3128"})
    assert proxied == refused[0] and skipped == []  # behind a proxy the connection is the proxy's
    assert endpoints.first_reachable([Endpoint(CR)], 2, {}) == (Endpoint(CR), [])  # the last is never tried


def describe_in(network, tmp_path: Path, domain: str, **extra: str) -> str:
    """endpoints.describe run inside the network's namespaces (where its names resolve)."""
    code = "import os, sys; from credctl.acr import endpoints as e; print(e.describe(*sys.argv[1:], os.environ))"
    result = network.run([sys.executable, "-c", code, domain, REGION], b"", network.env(tmp_path, **extra))
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    return result.stdout.decode().rstrip("\n")


def test_describe_says_which_endpoint_and_why(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: FAKE, CR: FAKE})
    assert describe_in(network, tmp_path, EE_VPC) == f"https://{CR_VPC}, the VPC endpoint ({EE_VPC} is a VPC host)"
    flagged = describe_in(network, tmp_path, EE, **VPC_ON)
    assert flagged == f"https://{CR_VPC}, the VPC endpoint (ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true)"
    assert describe_in(network, tmp_path, EE) == f"https://{CR}, the public endpoint"
    assert network.hosts_asked() == []  # a connection, never a request


def test_describe_says_when_the_public_endpoint_stands_in(vpc_world, tmp_path):
    network = vpc_world({CR_VPC: REFUSES, CR: FAKE})
    said = describe_in(network, tmp_path, EE_VPC)
    assert said == f"https://{CR}, the public endpoint: {CR_VPC}:443 refused the connection (Connection refused)"


def test_describe_without_a_connection():
    heyuan = f"x-registry-vpc.{HEYUAN}.cr.aliyuncs.com"
    said = endpoints.describe(heyuan, HEYUAN, {})
    public = f"https://cr.{HEYUAN}.aliyuncs.com"
    assert said == f"{public}, the public endpoint: {HEYUAN} has no VPC endpoint for the Container Registry API"
    override = {"CREDCTL_ACR_ENDPOINT": "http://127.0.0.1:8080", **VPC_ON}
    assert endpoints.describe(EE_VPC, REGION, override) == "http://127.0.0.1:8080 (CREDCTL_ACR_ENDPOINT)"
