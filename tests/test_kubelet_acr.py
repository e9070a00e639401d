"""credctl-kubelet-provider for ACR: node identity and per-pod identity (RRSA) against the fake API.

The plugin runs as the kubelet runs it, the real SDK inside, the signature-checking fake as both
the ACR API and STS (AssumeRoleWithOIDC with a service-account JWT it minted). What is checked:
the token handed to the kubelet is the one Alibaba Cloud issued to the right identity, the
cacheDuration ends with credctl's own cache margin, pods of different service accounts never
share a token, refusals are one line without the token, and a warm call needs no SDK.
"""

import json
import stat
import sys
import time
from pathlib import Path

import pytest
import world
from world import (
    ACCOUNT,
    ALIYUN_KEY_ID,
    EE,
    KEY2_ID,
    KEY2_SECRET,
    PROVIDER,
    PROVIDER_ARN,
    REGION,
    ROLE_A,
    ROLE_B,
    SDK_MODULES,
    V1,
    acr_env,
    answered,
    cache_files,
    importtime_modules,
    provide,
    refused,
    request,
    sa_token,
    with_key,
    write_credentials,
)

from credctl.kubelet import acr_match_images, parse_go_duration, urls_match

PERSONAL = f"registry-vpc.{REGION}.aliyuncs.com"
ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee"
MARGIN = 300  # credctl.acr.cache.MARGIN


def node(tmp_path: Path, fake, **extra: str) -> dict[str, str]:
    """A node's plugin environment with STS on the fake, and no node credentials unless given."""
    return acr_env(tmp_path, fake, ALIBABA_CLOUD_STS_ENDPOINT=fake.url, **extra)


def pod_request(image: str, token: str, **annotations: str) -> dict:
    return request(image, serviceAccountToken=token, serviceAccountAnnotations=annotations)


def role_annotation(role: str) -> dict[str, str]:
    return {"acr.credctl.io/role-arn": role}


@pytest.fixture
def rrsa(aliyun):
    """The fake with the cluster's OIDC provider and two roles: A for team-a's puller, B for team-b's."""
    aliyun.add_oidc_provider(PROVIDER_ARN, ISSUER)
    aliyun.add_oidc_role(ROLE_A, PROVIDER_ARN, subjects=["system:serviceaccount:team-a:puller"])
    aliyun.add_oidc_role(ROLE_B, PROVIDER_ARN, subjects=["system:serviceaccount:team-b:puller"])
    return aliyun


def given(response: dict, registry: str) -> str:
    """The password of the one login in a response, its key checked with the kubelet's URLsMatch."""
    [(key, login)] = response["auth"].items()
    assert key == registry and urls_match(key, f"{registry}/team/app:1")
    assert login["username"] == "cr_temp_user"
    return login["password"]


def no_secrets_shown(result, *secrets: str) -> None:
    both = result.stdout + result.stderr
    for secret in secrets:
        assert secret.encode() not in result.stderr and (not secret or b"Traceback" not in both)


# --- node identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("registry", [EE, PERSONAL])
def test_node_identity_and_a_cache_duration_bounded_by_the_token(aliyun, tmp_path, registry):
    env = with_key(node(tmp_path, aliyun))
    image = f"{registry}/team/app:1"
    first = answered(provide(env, request(image)))
    issued = aliyun.issued[-1]
    assert issued.access_key_id == ALIYUN_KEY_ID
    assert given(first, registry) == issued.token
    assert list(first) == ["apiVersion", "kind", "cacheKeyType", "cacheDuration", "auth"]
    assert (first["apiVersion"], first["cacheKeyType"]) == (V1, "Registry")
    remaining = issued.expire_ms // 1000 - MARGIN - int(time.time())
    assert remaining - 5 <= parse_go_duration(first["cacheDuration"]) <= remaining + 1

    before = aliyun.requests
    again = answered(provide(env, request(image, "credentialprovider.kubelet.k8s.io/v1beta1")))
    assert aliyun.requests == before  # served from credctl's cache
    assert given(again, registry) == issued.token
    assert parse_go_duration(again["cacheDuration"]) <= parse_go_duration(first["cacheDuration"])


@pytest.mark.parametrize("registry", [EE, PERSONAL])
def test_an_image_written_with_port_443_is_selected_and_served(aliyun, tmp_path, registry):
    """registry:443/… is the same registry to ACR, but another to the kubelet (ports must be equal):
    a generated pattern selects it, and the auth key (the image's registry, :443 kept) matches it."""
    env = with_key(node(tmp_path, aliyun))
    image = f"{registry}:443/team/app:1"
    assert [pattern for pattern in acr_match_images() if urls_match(pattern, image)]
    response = answered(provide(env, request(image)))
    [(key, login)] = response["auth"].items()
    assert key == f"{registry}:443" and urls_match(key, image)
    assert not urls_match(registry, image)  # the key without the port would be ignored
    assert login == {"username": "cr_temp_user", "password": aliyun.issued[-1].token}


def test_a_token_shorter_than_the_margin_is_not_cached_by_the_kubelet(aliyun, tmp_path):
    aliyun.token_ttl = 200
    response = answered(provide(with_key(node(tmp_path, aliyun)), request(f"{EE}/app")))
    assert response["cacheDuration"] == "0s"  # the kubelet caches nothing for 0
    assert given(response, EE) == aliyun.issued[-1].token


def test_an_acr_profile_mapped_in_docker_config_is_used(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    env = node(tmp_path, aliyun)  # no node credentials at all: only the profile's
    credentials = write_credentials(tmp_path / "team2.ini", KEY2_ID, KEY2_SECRET)
    args = ["acr", "add-profile", "team2", "--credentials-file", str(credentials), "--registry", EE]
    added = world.credctl(env, *args, "--bin-dir", str(tmp_path / "bin"))
    assert added.returncode == 0, added.stderr
    response = answered(provide(env, request(f"{EE}/team/app:1")))
    assert given(response, EE) == aliyun.issued[-1].token
    assert aliyun.issued[-1].access_key_id == KEY2_ID


# --- per-pod identity ------------------------------------------------------------------------------


def test_a_pods_token_is_exchanged_for_its_role(rrsa, tmp_path):
    env = node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN)
    token = sa_token(rrsa, "team-a", "uid-a")
    result = provide(env, pod_request(f"{EE}/team/app:1", token, **role_annotation(ROLE_A)))
    response = answered(result)
    no_secrets_shown(result, token)

    [session] = rrsa.sts_sessions
    assert (session.role_arn, session.provider_arn) == (ROLE_A, PROVIDER_ARN)
    assert (session.subject, session.session_name) == ("system:serviceaccount:team-a:puller", "credctl-team-a.puller")
    issued = rrsa.issued[-1]
    assert issued.access_key_id == session.access_key_id  # the ACR call was signed with the role's STS key
    assert given(response, EE) == issued.token
    [exchange] = rrsa.calls("AssumeRoleWithOIDC")
    assert exchange.verified and exchange.query["OIDCToken"] == "<redacted>"
    assert [r.access_key_id for r in rrsa.requests if r.action != "AssumeRoleWithOIDC"] == [session.access_key_id] * 2


def test_ack_role_name_annotation_and_provider_annotation(rrsa, tmp_path):
    """ACK's pod-identity.alibabacloud.com/role-name; the provider ARN from an annotation."""
    env = node(tmp_path, rrsa)
    annotations = {
        "pod-identity.alibabacloud.com/role-name": "puller-b",
        "acr.credctl.io/oidc-provider-arn": PROVIDER_ARN,
    }
    response = answered(provide(env, pod_request(f"{PERSONAL}/app", sa_token(rrsa, "team-b", "uid-b"), **annotations)))
    [session] = rrsa.sts_sessions
    assert session.role_arn == ROLE_B
    assert given(response, PERSONAL) == rrsa.issued[-1].token


def test_pods_of_different_service_accounts_never_share_a_token(rrsa, tmp_path):
    env = with_key(node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN))
    image = f"{EE}/team/app:1"

    def pull(namespace: str, uid: str, role: str) -> str:
        token = sa_token(rrsa, namespace, uid)
        return given(answered(provide(env, pod_request(image, token, **role_annotation(role)))), EE)

    token_a = pull("team-a", "uid-a", ROLE_A)
    token_b = pull("team-b", "uid-b", ROLE_B)
    node_token = given(answered(provide(env, request(image))), EE)  # a static pod: no token, the node's identity
    plain_pod = given(answered(provide(env, pod_request(image, sa_token(rrsa, "team-c", "uid-c")))), EE)
    assert len({token_a, token_b, node_token}) == 3
    assert plain_pod == node_token  # a service account that names no role: the node's identity
    by_key = {issued.token: issued.access_key_id for issued in rrsa.issued}
    assert by_key[node_token] == ALIYUN_KEY_ID
    assert rrsa.identity_of(by_key[token_a]).subject == "system:serviceaccount:team-a:puller"
    assert rrsa.identity_of(by_key[token_b]).subject == "system:serviceaccount:team-b:puller"

    before = rrsa.requests
    assert pull("team-a", "uid-a", ROLE_A) == token_a  # a new token of the same account: its cached ACR token
    assert pull("team-b", "uid-b", ROLE_B) == token_b
    assert rrsa.requests == before
    files = cache_files(tmp_path)
    assert len(files) == 3 and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    for path in files:
        text = path.read_text()
        assert not any(secret in text for secret in ("eyJ", ALIYUN_KEY_ID, PROVIDER_ARN, ROLE_A, ROLE_B))


def test_a_recreated_service_account_gets_its_own_token(rrsa, tmp_path):
    """Same name, new uid: the cache does not hand it the old account's token."""
    env = node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN)
    first = answered(provide(env, pod_request(f"{EE}/a", sa_token(rrsa, "team-a", "uid-1"), **role_annotation(ROLE_A))))
    second = answered(
        provide(env, pod_request(f"{EE}/a", sa_token(rrsa, "team-a", "uid-2"), **role_annotation(ROLE_A)))
    )
    assert given(first, EE) != given(second, EE)
    assert len(rrsa.sts_sessions) == 2


@pytest.mark.parametrize(
    ("namespace", "options", "code"),
    [
        ("team-b", {}, "AuthenticationFail.NoPermission"),  # role A does not trust team-b's account
        ("team-a", {"audience": "kubernetes"}, "AuthenticationFail.OIDCToken.InvalidAudience"),
        ("team-a", {"issuer": "https://evil.example"}, "AuthenticationFail.OIDCToken.IssuerError"),
    ],
)
def test_sts_refusals_are_one_line_and_cache_nothing(rrsa, tmp_path, namespace, options, code):
    env = with_key(node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN))
    token = sa_token(rrsa, namespace, "uid", **options)
    result = provide(env, pod_request(f"{EE}/app", token, **role_annotation(ROLE_A)))
    line = refused(result)
    assert line.startswith(f"Alibaba Cloud STS refused the pod's service account token for {EE}: {code}")
    no_secrets_shown(result, token)
    assert rrsa.sts_sessions == [] and rrsa.issued == []  # and never the node's identity instead
    assert cache_files(tmp_path) == []


@pytest.mark.parametrize(
    ("annotations", "environment", "line"),
    [
        (
            role_annotation(ROLE_A),
            {},
            "the service account names a RAM role but no valid OIDC provider ARN: set acr.credctl.io/oidc-provider-arn "
            "(annotation) or ALIBABA_CLOUD_OIDC_PROVIDER_ARN (plugin environment) to "
            "acs:ram::<account>:oidc-provider/<name>, not ''",
        ),
        (
            {"pod-identity.alibabacloud.com/role-name": "no/slashes"},
            {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN},
            "pod-identity.alibabacloud.com/role-name is not a RAM role name: 'no/slashes'",
        ),
        (
            role_annotation(ROLE_A),
            {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN, "ALIBABA_CLOUD_STS_ENDPOINT": "ftp://sts/x"},
            "ALIBABA_CLOUD_STS_ENDPOINT must be a host name or http(s)://host[:port], not 'ftp://sts/x'",
        ),
    ],
)
def test_pod_identity_set_up_wrong_is_one_line(rrsa, tmp_path, annotations, environment, line):
    env = with_key({**node(tmp_path, rrsa), **environment})
    token = sa_token(rrsa, "team-a", "uid-a")
    result = provide(env, pod_request(f"{EE}/app", token, **annotations))
    assert refused(result) == line
    assert rrsa.requests == []


def test_an_expired_token_gets_nothing_not_even_a_cached_token(rrsa, tmp_path):
    env = node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN)
    answered(provide(env, pod_request(f"{EE}/app", sa_token(rrsa, "team-a", "uid-a"), **role_annotation(ROLE_A))))
    before = rrsa.requests
    expired = sa_token(rrsa, "team-a", "uid-a", ttl=-60)
    result = provide(env, pod_request(f"{EE}/app", expired, **role_annotation(ROLE_A)))
    line = refused(result)
    assert line == (
        "the service account token of system:serviceaccount:team-a:puller has expired: "
        "the kubelet should send a fresh one"
    )
    assert rrsa.requests == before


def test_a_token_that_is_not_a_jwt_is_refused(rrsa, tmp_path):
    env = node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN)
    result = provide(env, pod_request(f"{EE}/app", "opaque-token-value", **role_annotation(ROLE_A)))
    assert refused(result) == "the service account token is not a JSON Web Token with iss and sub claims"


# --- speed rules -----------------------------------------------------------------------------------

HEAVY = ("typer", "rich", "pydantic", "click", *SDK_MODULES)


@pytest.mark.parametrize("pod", [False, True])
def test_a_warm_call_needs_neither_the_sdk_nor_the_cli(rrsa, tmp_path, pod):
    env = with_key(node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN))
    payload = pod_request(f"{EE}/app", sa_token(rrsa, "team-a", "uid-a"), **role_annotation(ROLE_A))
    if not pod:
        payload = request(f"{EE}/app")
    answered(provide(env, payload))
    before = rrsa.requests
    warm = provide(env, payload, program=[sys.executable, "-X", "importtime", PROVIDER])
    assert warm.returncode == 0 and json.loads(warm.stdout)["auth"]
    modules = importtime_modules(warm.stderr)
    assert "credctl.kubelet" in modules, "no import timings: is this the plugin?"
    assert [name for name in modules if name.split(".")[0] in HEAVY or name == "credctl.acr.tokens"] == []
    assert rrsa.requests == before
    # nor the stdlib modules that cost milliseconds each (docs/benchmarks.md): json's C scanner
    # (credctl.gojson) instead of json, no re, dataclasses or base64
    startup = importtime_modules(provide(env, b"", program=[sys.executable, "-X", "importtime", "-c", "pass"]).stderr)
    costly = {"json", "re", "dataclasses", "base64", "inspect", "enum", "collections"}
    assert sorted(set(modules) - set(startup) & costly) == []


# --- which role a request names (in-process) ---------------------------------------------------


def jwt(sub: str, uid: str = "u1", exp: int | None = None) -> str:
    import base64

    claims = {"iss": ISSUER, "sub": sub, "exp": exp or int(time.time()) + 600}
    claims["kubernetes.io"] = {"serviceaccount": {"uid": uid}}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


@pytest.mark.parametrize(
    ("annotations", "role"),
    [
        (
            {"acr.credctl.io/role-arn": f"acs:ram::{ACCOUNT}:role/a.b@c+d=e,f-g/h"},
            f"acs:ram::{ACCOUNT}:role/a.b@c+d=e,f-g/h",
        ),
        ({"pod-identity.alibabacloud.com/role-name": "puller_1"}, f"acs:ram::{ACCOUNT}:role/puller_1"),
        (
            {"acr.credctl.io/role-arn": ROLE_B, "pod-identity.alibabacloud.com/role-name": "ignored"},
            ROLE_B,
        ),
        ({}, None),
        ({"unrelated": "x"}, None),
    ],
)
def test_the_role_a_request_names(annotations, role):
    from credctl.acr.podidentity import from_request

    pod = from_request(
        jwt("system:serviceaccount:ns:sa"), annotations, {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN}
    )
    assert (pod and pod.role_arn) == role
    if pod:
        assert pod.session_name() == "credctl-ns.sa"
        assert pod.fingerprint() == f"pod:{role}:{PROVIDER_ARN}:{ISSUER} system:serviceaccount:ns:sa u1"


@pytest.mark.parametrize(
    "role_arn",
    ["acs:ram::12x4:role/a", f"acs:ram::{ACCOUNT}:user/a", f"acs:ram::{ACCOUNT}:role/", "arn:aws:iam::1:role/a", "x"],
)
def test_role_arns_credctl_refuses(role_arn):
    from credctl.acr.podidentity import from_request
    from credctl.errors import BadInput

    with pytest.raises(BadInput, match="must look like acs:ram::<account>:role/<name>"):
        from_request(
            jwt("system:serviceaccount:ns:sa"),
            {"acr.credctl.io/role-arn": role_arn},
            {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN},
        )


def test_session_names_stay_within_what_sts_allows():
    from credctl.acr.podidentity import from_request

    long_name = "n" * 63
    pod = from_request(
        jwt(f"system:serviceaccount:{long_name}:{long_name}"),
        role_annotation(ROLE_A),
        {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN},
    )
    name = pod.session_name()
    assert len(name) == 64 and name.startswith("credctl-nnn") and set(name) <= set("credtl-n.")


def test_parallel_pulls_of_two_service_accounts_keep_their_own_tokens(rrsa, tmp_path):
    """The kubelet pulls in parallel: 12 plugin runs for two accounts at once, cold cache."""
    import subprocess

    env = node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN)
    accounts = [("team-a", ROLE_A), ("team-b", ROLE_B)] * 6
    bodies = [
        json.dumps(pod_request(f"{EE}/app", sa_token(rrsa, ns, f"uid-{ns}"), **role_annotation(role))).encode()
        for ns, role in accounts
    ]
    runs = [
        subprocess.Popen([PROVIDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in bodies
    ]
    outputs = [run.communicate(body, timeout=120) for run, body in zip(runs, bodies, strict=True)]
    issued_to = {issued.token: rrsa.identity_of(issued.access_key_id).subject for issued in rrsa.issued}
    for (namespace, _), (stdout, stderr), run in zip(accounts, outputs, runs, strict=True):
        assert (run.returncode, stderr) == (0, b""), stderr
        token = given(json.loads(stdout), EE)
        assert issued_to[token] == f"system:serviceaccount:{namespace}:puller"
    assert len(cache_files(tmp_path)) == 2


@pytest.mark.parametrize(
    ("fault", "extra", "line"),
    [
        ("delay", {"CREDCTL_ACR_TIMEOUT": "1"}, f"the Alibaba Cloud API did not answer in time for {EE} ("),
        (
            None,
            {"ALIBABA_CLOUD_STS_ENDPOINT": "http://127.0.0.1:9"},
            f"cannot get a token for {EE}: cannot reach the Alibaba Cloud API: check the network, the proxy "
            "settings or CREDCTL_ACR_ENDPOINT",
        ),
        (
            "garbage",
            {},
            f"cannot get a token for {EE}: the Alibaba Cloud API answered with something that is not JSON; "
            "try again later",
        ),
    ],
)
def test_sts_faults_are_one_line_without_the_token(rrsa, tmp_path, fault, extra, line):
    env = {**node(tmp_path, rrsa, ALIBABA_CLOUD_OIDC_PROVIDER_ARN=PROVIDER_ARN), **extra}
    if fault == "delay":
        rrsa.delay_next(3)
    elif fault == "garbage":
        rrsa.garbage_next()
    token = sa_token(rrsa, "team-a", "uid-a")
    result = provide(env, pod_request(f"{EE}/app", token, **role_annotation(ROLE_A)))
    assert refused(result).startswith(line)
    no_secrets_shown(result, token, token.split(".")[1])
    assert rrsa.issued == [] and cache_files(tmp_path) == []


def test_error_text_never_carries_a_query_string():
    """requests names the URL in connection errors; the STS call has the token in its query."""
    from credctl.acr.domains import AcrRegistry
    from credctl.acr.tokens import explain

    text = (
        "HTTPConnectionPool(host='sts.aliyuncs.com', port=443): Max retries exceeded with url: "
        "/?Action=AssumeRoleWithOIDC&OIDCToken=eyJ.secret-claims.sig&RoleArn=x (Caused by "
        "ConnectTimeoutError(<conn>, 'Connection to sts.aliyuncs.com timed out. (connect timeout=5)'))"
    )
    for error in (RuntimeError(text), ValueError(text.replace("timed out", "failed"))):
        line = explain(error, AcrRegistry(EE, REGION))
        assert "secret-claims" not in line and "OIDCToken" not in line and "url: /?…" in line


@pytest.mark.parametrize(
    "claims", [b"[]", b'{"iss": 1, "sub": "s"}', b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"\xff", b'{"iss":"i"}']
)
def test_tokens_whose_claims_are_not_a_service_accounts_are_refused(claims):
    import base64

    from credctl.acr.podidentity import token_subject
    from credctl.errors import BadInput

    token = "e30." + base64.urlsafe_b64encode(claims).decode().rstrip("=") + ".sig"
    with pytest.raises(BadInput, match=r"^the service account token is not a JSON Web Token with iss and sub claims$"):
        token_subject(token)
