"""A pod whose identity is set up wrong loses its ACR images only (credctl-kubelet-provider).

The kubelet sends one image per request, with the pod's service-account token and annotations
for every image its matchImages select. When the account names a RAM role but no OIDC provider
ARN, or the token is not a fresh JWT, only the images the ACR path serves fail (one line on
stderr, exit 1: the kubelet logs it and caches nothing, pkg/credentialprovider/plugin/plugin.go
pluginProvider.provide); the pod's images from a registry mapped to a store are answered exactly,
and an unmapped registry gets the usual empty auth. Run as the kubelet runs the plugin, with a
real pass store and the signature-checking fake as the ACR API and STS.
"""

import sys
from pathlib import Path

import pytest
from world import (
    EE,
    PASSWORD,
    PROVIDER,
    PROVIDER_ARN,
    REGION,
    ROLE_A,
    V1,
    acr_env,
    answered,
    cache_files,
    importtime_modules,
    provide,
    refused,
    request,
    sa_token,
    store_in_pass,
    with_key,
    write_docker_config,
)

PERSONAL = f"registry.{REGION}.aliyuncs.com"  # an ACR domain, here mapped to pass in credHelpers
STORED = "127.0.0.1:5000"  # a private registry mapped to pass
UNMAPPED = "registry.example.com"  # nothing serves it
ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee"
NO_PROVIDER = (
    "the service account names a RAM role but no valid OIDC provider ARN: set acr.credctl.io/oidc-provider-arn "
    "(annotation) or ALIBABA_CLOUD_OIDC_PROVIDER_ARN (plugin environment) to acs:ram::<account>:oidc-provider/<name>, "
    "not {!r}"
)
ROLE = {"acr.credctl.io/role-arn": ROLE_A}

# (case, annotations, plugin environment, token: "valid" | "expired" | a literal, the ACR image's line)
BROKEN = [
    ("no provider ARN", ROLE, {}, "valid", NO_PROVIDER.format("")),
    (
        "a provider ARN that is not one",
        {**ROLE, "acr.credctl.io/oidc-provider-arn": "arn:aws:iam::1:oidc-provider/x"},
        {},
        "valid",
        NO_PROVIDER.format("arn:aws:iam::1:oidc-provider/x"),
    ),
    (
        "a role name RAM refuses",
        {"pod-identity.alibabacloud.com/role-name": "no/slashes"},
        {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN},
        "valid",
        "pod-identity.alibabacloud.com/role-name is not a RAM role name: 'no/slashes'",
    ),
    (
        "a token that is not a JWT",
        ROLE,
        {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN},
        "opaque-token-value-" + PASSWORD,
        "the service account token is not a JSON Web Token with iss and sub claims",
    ),
    (
        "an expired token",
        ROLE,
        {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN},
        "expired",
        "the service account token of system:serviceaccount:team-a:puller has expired: "
        "the kubelet should send a fresh one",
    ),
]


@pytest.fixture
def rrsa(aliyun):
    """The fake with the cluster's OIDC provider and role A, which trusts team-a's puller."""
    aliyun.add_oidc_provider(PROVIDER_ARN, ISSUER)
    aliyun.add_oidc_role(ROLE_A, PROVIDER_ARN, subjects=["system:serviceaccount:team-a:puller"])
    return aliyun


@pytest.fixture
def node(rrsa, pass_env, tmp_path: Path) -> dict[str, str]:
    """A node's plugin environment: node credentials that must never serve a pod's ACR image, STS
    on the fake, a pass store with logins for STORED and PERSONAL, Docker's config mapping both
    to pass (and nothing else)."""
    env = with_key(acr_env(tmp_path, rrsa, ALIBABA_CLOUD_STS_ENDPOINT=rrsa.url))
    env.update({name: pass_env[name] for name in ("GNUPGHOME", "PASSWORD_STORE_DIR")})
    store_in_pass(env, STORED)
    store_in_pass(env, PERSONAL, "personal-user")
    write_docker_config(env, {"credHelpers": {STORED: "pass", PERSONAL: "pass"}})
    return env


def pod_token(fake, token: str) -> str:
    if token in ("valid", "expired"):
        return sa_token(fake, "team-a", "uid-a", ttl=-60 if token == "expired" else 3600)
    return token


def stored_answer(registry: str, username: str) -> dict:
    return {
        "apiVersion": V1,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry",
        "auth": {registry: {"username": username, "password": PASSWORD}},
    }


EMPTY = f'{{"apiVersion":"{V1}","kind":"CredentialProviderResponse","cacheKeyType":"Registry","auth":{{}}}}\n'


@pytest.mark.parametrize(
    ("annotations", "environment", "token", "line"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_only_the_acr_images_of_a_pod_set_up_wrong_fail(rrsa, node, tmp_path, annotations, environment, token, line):
    env = {**node, **environment}
    token = pod_token(rrsa, token)

    def pull(image: str):
        return provide(env, request(image, serviceAccountToken=token, serviceAccountAnnotations=annotations))

    assert answered(pull(f"{STORED}/team/app:1")) == stored_answer(STORED, "kube-user")
    # an ACR domain that credHelpers maps to a store is that store's: no token, no pod identity
    assert answered(pull(f"{PERSONAL}/team/app:1")) == stored_answer(PERSONAL, "personal-user")
    unmapped = pull(f"{UNMAPPED}/team/app:1")
    assert (unmapped.returncode, unmapped.stdout, unmapped.stderr) == (0, EMPTY.encode(), b"")

    failed = pull(f"{EE}/team/app:1")
    assert refused(failed) == line  # one line, exit 1, nothing on stdout: the kubelet caches nothing
    for secret in (token, *token.split(".")):
        assert secret.encode() not in failed.stderr
    assert rrsa.requests == [] and cache_files(tmp_path) == []  # and never the node's identity


def test_the_next_try_after_the_fix_is_answered(rrsa, node):
    """Nothing of the failure is kept: once the plugin has the provider ARN, the same request is
    answered with the role's token."""
    token = sa_token(rrsa, "team-a", "uid-a")
    payload = request(f"{EE}/team/app:1", serviceAccountToken=token, serviceAccountAnnotations=ROLE)
    assert refused(provide(node, payload)) == NO_PROVIDER.format("")
    fixed = answered(provide({**node, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN}, payload))
    [session] = rrsa.sts_sessions
    assert rrsa.issued[-1].access_key_id == session.access_key_id
    assert fixed["auth"] == {EE: {"username": "cr_temp_user", "password": rrsa.issued[-1].token}}


def test_a_pod_on_creds_store_gets_docker_hub_but_not_acr(rrsa, node):
    """credsStore serves every registry credHelpers does not name, after the ACR path: a Docker
    Hub image of the pod is answered from it, its ACR image still fails on the pod's identity."""
    store_in_pass(node, "https://index.docker.io/v1/", "hub-user")
    write_docker_config(node, {"credsStore": "pass"})
    fields = {"serviceAccountToken": "not-a-jwt", "serviceAccountAnnotations": ROLE}
    hub = answered(provide(node, request("docker.io/library/nginx:1.27", **fields)))
    assert hub["auth"] == {"docker.io": {"username": "hub-user", "password": PASSWORD}}
    line = refused(provide(node, request(f"{EE}/app", **fields)))
    assert line == NO_PROVIDER.format("")
    assert rrsa.requests == []


def test_find_login_works_out_a_pod_identity_only_for_acr(tmp_path):
    """credctl.lookup calls the pod function only for a registry the ACR path serves."""
    from credctl.lookup import find_login

    asked = []

    def pod():
        asked.append(True)
        raise AssertionError("the pod's identity was worked out")

    env = acr_env(tmp_path)
    assert find_login(UNMAPPED, env, pod) is None and asked == []
    with pytest.raises(AssertionError, match="worked out"):
        find_login(EE, env, pod)
    assert asked == [True]


def test_a_pods_token_is_not_even_read_for_a_registry_a_store_serves(rrsa, node):
    """The stored login of a pod with a token is answered without the pod-identity module."""
    token = sa_token(rrsa, "team-a", "uid-a")
    payload = request(f"{STORED}/app", serviceAccountToken=token, serviceAccountAnnotations=ROLE)
    result = provide(node, payload, program=[sys.executable, "-X", "importtime", PROVIDER])
    assert result.returncode == 0 and result.stdout.endswith(b"\n")
    modules = importtime_modules(result.stderr)
    assert "credctl.lookup" in modules and "credctl.acr.podidentity" not in modules
