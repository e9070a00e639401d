"""The fake Alibaba Cloud OpenAPI (fake_aliyun.py), proven with the real Alibaba Cloud SDK.

Every accepted request here was signed by the SDK itself, and every rejection is one the SDK
would see from the real gateway; the replay tests alter captured SDK requests on the wire.
"""

import base64
import http.client
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

import pytest
from alibabacloud_cr20181201 import models as cr_models
from alibabacloud_cr20181201.client import Client as CrClient
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.http import HttpOptions
from alibabacloud_credentials.provider.oidc import OIDCRoleArnCredentialsProvider
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.models import Config, OpenApiRequest, Params
from alibabacloud_tea_openapi.utils import Utils
from darabonba.core import DaraCore
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions
from fake_aliyun import FakeAliyun, StsSession, b64url, hs256
from Tea.exceptions import RetryError

from credctl.acr.tokens import personal_token_params

AK, SECRET = "LTAI-fake-key", "fake-secret-do-not-leak"
STS_AK, STS_SECRET, STS_TOKEN = "STS.fake-key", "sts-secret-do-not-leak", "sts-token-do-not-leak"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """darabonba reads HTTP(S)_PROXY itself and ignores NO_PROXY: loopback must not be proxied."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake():
    with FakeAliyun() as server:
        server.add_access_key(AK, SECRET)
        server.add_access_key(STS_AK, STS_SECRET, security_token=STS_TOKEN)
        server.add_instance("cri-foo", "foo", "cn-hangzhou")
        server.add_instance(
            "cri-foobar",
            "foobar",
            "cn-hangzhou",
            domains=["foobar-registry.cn-hangzhou.cr.aliyuncs.com", "registry.example.com"],
        )
        server.add_instance("cri-bar", "bar", "cn-shanghai")
        yield server
        assert server.errors == []


def config(fake, key=AK, secret=SECRET, **extra) -> Config:
    return Config(
        access_key_id=key,
        access_key_secret=secret,
        region_id="cn-hangzhou",
        endpoint=fake.endpoint,
        protocol="http",
        **extra,
    )


def cr(fake, **kwargs) -> CrClient:
    return CrClient(config(fake, **kwargs))


PERSONAL_TOKEN = personal_token_params()  # credctl's own request; the client's config makes it plain HTTP


def ee_token(client, instance_id="cri-foo"):
    return client.get_authorization_token(cr_models.GetAuthorizationTokenRequest(instance_id=instance_id)).body


# -- the enterprise edition (alibabacloud-cr20181201) ------------------------------------------


def test_list_instance_filter_is_a_substring_match(fake):
    body = cr(fake).list_instance(cr_models.ListInstanceRequest(instance_name="foo")).body
    assert body.is_success and body.code == "success" and body.request_id
    assert sorted(i.instance_name for i in body.instances) == ["foo", "foobar"]  # not exact: callers must filter
    assert body.total_count == 2 and body.page_no == 1
    foo = next(i for i in body.instances if i.instance_name == "foo")
    assert (foo.instance_id, foo.region_id, foo.instance_status) == ("cri-foo", "cn-hangzhou", "RUNNING")
    (received,) = fake.requests
    assert received.verified and received.status == 200 and received.code is None
    assert (received.method, received.path, received.action, received.version) == (
        "POST",
        "/",
        "ListInstance",
        "2018-12-01",
    )
    assert received.query == {"InstanceName": "foo"} and received.access_key_id == AK


def test_list_instance_pages(fake):
    client = cr(fake)
    body = client.list_instance(cr_models.ListInstanceRequest(page_no=2, page_size=2)).body
    assert body.total_count == 3 and body.page_no == 2 and body.page_size == 2
    assert [i.instance_name for i in body.instances] == ["bar"]
    assert fake.requests[-1].query == {"PageNo": "2", "PageSize": "2"}


def test_get_authorization_token(fake):
    before = time.time() * 1000
    body = ee_token(cr(fake))
    assert body.is_success and body.code == "success" and body.request_id
    assert body.temp_username == "cr_temp_user"
    assert before + 3600_000 - 5000 <= body.expire_time <= time.time() * 1000 + 3600_000
    (issued,) = fake.issued
    assert (issued.access_key_id, issued.edition, issued.instance_id) == (AK, "enterprise", "cri-foo")
    assert issued.token == body.authorization_token and issued.expire_ms == body.expire_time
    assert fake.tokens_for(AK) == [body.authorization_token]
    assert fake.requests[-1].query == {"InstanceId": "cri-foo"}


def test_tokens_are_unique_and_ttl_is_configurable(fake):
    fake.token_ttl = 60
    client = cr(fake)
    first, second = ee_token(client), ee_token(client)
    assert first.authorization_token != second.authorization_token
    assert second.expire_time <= time.time() * 1000 + 60_000
    hours = client.get_authorization_token(
        cr_models.GetAuthorizationTokenRequest(instance_id="cri-foo", expires_in_hours=2)
    ).body
    assert hours.expire_time >= time.time() * 1000 + 2 * 3600_000 - 5000


def test_fixed_token_and_username_for_a_real_registry(fake):
    fake.fixed_token, fake.username = "registry-password", "someone"
    body = ee_token(cr(fake))
    assert (body.temp_username, body.authorization_token) == ("someone", "registry-password")


def test_unknown_instance(fake):
    with pytest.raises(ClientException) as caught:
        ee_token(cr(fake), "cri-nope")
    assert (caught.value.code, caught.value.status_code) == ("INSTANCE_NOT_EXIST", 404)
    assert fake.issued == []
    assert fake.requests[-1].verified and fake.requests[-1].code == "INSTANCE_NOT_EXIST"


def test_list_instance_endpoint(fake):
    request = cr_models.ListInstanceEndpointRequest(instance_id="cri-foobar", module_name="Registry")
    body = cr(fake).list_instance_endpoint(request).body
    assert body.is_success and body.code == "success"
    (endpoint,) = body.endpoints
    assert (endpoint.endpoint_type, endpoint.enable, endpoint.status) == ("internet", True, "RUNNING")
    assert [(d.domain, d.type) for d in endpoint.domains] == [
        ("foobar-registry.cn-hangzhou.cr.aliyuncs.com", "SYSTEM"),
        ("registry.example.com", "USER"),
    ]
    default = cr(fake).list_instance_endpoint(cr_models.ListInstanceEndpointRequest(instance_id="cri-foo")).body
    assert [d.domain for d in default.endpoints[0].domains] == ["foo-registry.cn-hangzhou.cr.aliyuncs.com"]


def test_unsuccessful_200_does_not_raise(fake):
    fake.unsuccessful_next("INSTANCE_NOT_EXIST")
    body = ee_token(cr(fake))
    assert body.is_success is False and body.code == "INSTANCE_NOT_EXIST" and body.authorization_token is None
    assert fake.requests[-1].status == 200 and fake.requests[-1].code == "INSTANCE_NOT_EXIST"


# -- the personal edition (generic client, ROA) ------------------------------------------------


def test_personal_edition_token(fake):
    result = OpenApiClient(config(fake)).call_api(PERSONAL_TOKEN, OpenApiRequest(), RuntimeOptions())
    assert result["statusCode"] == 200
    data = result["body"]["data"]
    assert data["tempUserName"] == "cr_temp_user" and result["body"]["requestId"]
    (issued,) = fake.issued
    assert (issued.edition, issued.instance_id, issued.token, issued.expire_ms) == (
        "personal",
        None,
        data["authorizationToken"],
        data["expireDate"],
    )
    (received,) = fake.requests
    assert (received.method, received.path, received.version, received.verified) == (
        "GET",
        "/tokens",
        "2016-06-07",
        True,
    )


def test_unknown_action(fake):
    client = OpenApiClient(config(fake))
    params = Params(
        action="DeleteEverything",
        version="2018-12-01",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="json",
        body_type="json",
    )
    # With a JSON body: the fake checks the payload hash too, and the signature still verifies.
    with pytest.raises(ClientException) as caught:
        client.call_api(params, OpenApiRequest(body={"all": True}), RuntimeOptions())
    assert (caught.value.code, caught.value.status_code) == ("InvalidAction.NotFound", 404)
    assert fake.requests[-1].verified


# -- credentials ---------------------------------------------------------------------------------


def test_sts_credentials(fake):
    body = ee_token(cr(fake, key=STS_AK, secret=STS_SECRET, security_token=STS_TOKEN))
    assert fake.tokens_for(STS_AK) == [body.authorization_token] and fake.tokens_for(AK) == []
    received = fake.requests[-1]
    assert received.verified and received.access_key_id == STS_AK
    assert "x-acs-security-token" in received.signed_headers
    assert received.headers["x-acs-security-token"] == "<redacted>"


@pytest.mark.parametrize("token", [None, "some-other-token"])
def test_sts_key_needs_its_token(fake, token):
    with pytest.raises(ClientException) as caught:
        ee_token(cr(fake, key=STS_AK, secret=STS_SECRET, security_token=token))
    assert caught.value.code == "InvalidSecurityToken.Mismatch"
    assert not fake.requests[-1].verified and fake.issued == []


def test_permanent_key_sends_no_token(fake):
    with pytest.raises(ClientException) as caught:
        ee_token(cr(fake, security_token="a-token-it-should-not-have"))
    assert caught.value.code == "InvalidSecurityToken.Mismatch"


def test_removed_key_and_calls(fake):
    client = cr(fake)
    ee_token(client)
    client.list_instance(cr_models.ListInstanceRequest(instance_name="foo"))
    fake.remove_access_key(AK)
    with pytest.raises(ClientException, match=r"InvalidAccessKeyId\.NotFound"):
        ee_token(client)
    assert [r.verified for r in fake.calls("GetAuthorizationToken", "2018-12-01")] == [True, False]
    assert len(fake.calls("ListInstance")) == 1 and fake.calls(version="2016-06-07") == []
    fake.reset()
    assert fake.requests == [] and fake.issued == []


def test_credential_client(fake):
    from alibabacloud_credentials import models as credential_models
    from alibabacloud_credentials.client import Client as CredentialClient

    static = CredentialClient(credential_models.Config(type="access_key", access_key_id=AK, access_key_secret=SECRET))
    sts = CredentialClient(
        credential_models.Config(
            type="sts", access_key_id=STS_AK, access_key_secret=STS_SECRET, security_token=STS_TOKEN
        )
    )
    for credential, key in ((static, AK), (sts, STS_AK)):
        client = CrClient(
            Config(credential=credential, region_id="cn-hangzhou", endpoint=fake.endpoint, protocol="http")
        )
        body = ee_token(client)
        assert fake.tokens_for(key) == [body.authorization_token]
        assert fake.requests[-1].verified and fake.requests[-1].access_key_id == key
    assert fake.requests[0].headers["x-acs-credentials-provider"] == "static_ak"


def test_wrong_secret(fake):
    with pytest.raises(ClientException) as caught:
        ee_token(cr(fake, secret="not-the-secret"))
    assert (caught.value.code, caught.value.status_code) == ("SignatureDoesNotMatch", 400)
    received = fake.requests[-1]
    assert not received.verified and received.access_key_id == AK and received.code == "SignatureDoesNotMatch"
    assert fake.issued == []


def test_unknown_access_key(fake):
    with pytest.raises(ClientException) as caught:
        ee_token(cr(fake, key="LTAI-nobody"))
    assert (caught.value.code, caught.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_no_secret_reaches_the_records(fake):
    ee_token(cr(fake))
    ee_token(cr(fake, key=STS_AK, secret=STS_SECRET, security_token=STS_TOKEN))
    with pytest.raises(ClientException):
        ee_token(cr(fake, key=STS_AK, secret=STS_SECRET, security_token="a-wrong-token-do-not-leak"))
    dump = repr(fake.requests)
    for secret in (SECRET, STS_SECRET, STS_TOKEN, "a-wrong-token-do-not-leak", "Signature=0", "Signature=f"):
        assert secret not in dump


# -- timestamps and nonces (the SDK's own generators, pinned) --------------------------------------


def test_timestamp_window(fake, monkeypatch):
    def stamped(offset):
        value = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))
        monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: value))

    real = Utils.get_timestamp
    client = cr(fake)
    stamped(-10 * 60)
    ee_token(client)
    stamped(+20 * 60)
    with pytest.raises(ClientException) as caught:
        ee_token(client)
    assert (caught.value.code, caught.value.status_code) == ("InvalidTimeStamp.Expired", 400)
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(real))
    fake.clock = lambda: time.time() - 3600  # or the server's clock is off
    with pytest.raises(ClientException, match=r"InvalidTimeStamp\.Expired"):
        ee_token(client)


def test_reused_nonce(fake, monkeypatch):
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "0123456789abcdef0123456789abcdef"))
    client = cr(fake)
    ee_token(client)
    with pytest.raises(ClientException) as caught:
        ee_token(client)
    assert (caught.value.code, caught.value.status_code) == ("SignatureNonceUsed", 400)
    assert len(fake.issued) == 1


# -- replaying captured SDK requests, altered --------------------------------------------------------


@pytest.fixture
def captured(fake, monkeypatch):
    """The requests the SDK sends, as it built them (method, pathname, query, headers, body)."""
    sent = []
    real = DaraCore.do_action

    def capture(request, runtime=None):
        sent.append(request)
        return real(request, runtime)

    monkeypatch.setattr(DaraCore, "do_action", capture)
    return sent


def replay(fake, request, query=None, headers=None, body=None, drop=()):
    query = {k: str(v) for k, v in (request.query if query is None else query).items()}
    headers = {k: str(v) for k, v in {**request.headers, **(headers or {})}.items() if k not in drop}
    body = request.body if body is None else body
    target = request.pathname + ("?" + urlencode(query, quote_via=quote, safe="~") if query else "")
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        connection.request(request.method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_replays_are_checked(fake, captured):
    ee_token(cr(fake))
    (original,) = captured
    assert original.headers["x-acs-content-sha256"] == Utils.hash(b"", "ACS3-HMAC-SHA256").hex()

    status, body = replay(fake, original)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")

    # Every change below is caught by the signature, before the nonce.
    status, body = replay(fake, original, query={"InstanceId": "cri-bar"})
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    status, body = replay(fake, original, headers={"x-acs-action": "ListInstance"})
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    status, body = replay(fake, original, body=b"InstanceId=cri-bar")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert "x-acs-content-sha256" in body["Message"]  # caught by the payload hash
    status, body = replay(fake, original, drop=("Authorization",))
    assert (status, body["Code"]) == (400, "MissingAuthorization")

    auth = original.headers["Authorization"]
    unsigned_nonce = auth.replace("x-acs-signature-nonce;", "")
    status, body = replay(fake, original, headers={"Authorization": unsigned_nonce})
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    status, body = replay(fake, original, headers={"Authorization": auth.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3")})
    assert (status, body["Code"]) == (400, "IncompleteSignature")

    assert [r.verified for r in fake.requests] == [True] + [False] * 7
    assert len(fake.issued) == 1


# -- faults --------------------------------------------------------------------------------------------


def test_fail_next_server_error_is_one_shot(fake):
    client = cr(fake)
    fake.fail_next(503, "ServiceUnavailable", "try later")
    with pytest.raises(ServerException) as caught:
        ee_token(client)
    assert (caught.value.code, caught.value.status_code) == ("ServiceUnavailable", 503)
    assert "try later" in caught.value.message
    assert fake.requests[-1].verified  # the fake still checked the signature
    assert ee_token(client).is_success


def test_fail_next_queues(fake):
    client = cr(fake)
    fake.fail_next(500, "SystemError")
    fake.fail_next(403, "NoPrivilege")
    with pytest.raises(ServerException, match="SystemError"):
        ee_token(client)
    with pytest.raises(ClientException) as caught:
        ee_token(client)
    assert (caught.value.code, caught.value.status_code) == ("NoPrivilege", 403)
    assert ee_token(client).is_success


def test_throttling(fake):
    fake.fail_next(400, "Throttling.User", "Request was denied due to user flow control.", retry_after=1)
    with pytest.raises(ThrottlingException) as caught:
        ee_token(cr(fake))
    assert isinstance(caught.value, ClientException) is False
    assert (caught.value.code, caught.value.status_code, caught.value.retry_after) == ("Throttling.User", 400, 1)


def test_delay_beyond_read_timeout(fake):
    fake.delay_next(1.0)
    client = cr(fake, read_timeout=200, connect_timeout=1000)
    started = time.monotonic()
    with pytest.raises(UnretryableException) as caught:
        ee_token(client)
    assert time.monotonic() - started < 0.9
    assert "timed out" in str(caught.value).lower()
    assert ee_token(client).is_success  # the fake lives on


def test_delay_within_read_timeout(fake):
    fake.delay_next(0.2)
    assert ee_token(cr(fake, read_timeout=5000)).is_success


def test_garbage(fake):
    fake.garbage_next()
    with pytest.raises(UnretryableException):
        ee_token(cr(fake))
    assert fake.requests[-1].status == 200
    assert ee_token(cr(fake)).is_success


# -- STS AssumeRoleWithOIDC (the RRSA flow), driven by alibabacloud-credentials' OIDC provider ------------

ACCOUNT = "1234567890123456"
OIDC_PROVIDER = f"acs:ram::{ACCOUNT}:oidc-provider/ack-rrsa-c1234"
OTHER_PROVIDER = f"acs:ram::{ACCOUNT}:oidc-provider/ack-rrsa-c5678"
OIDC_ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1234"
OIDC_ROLE = f"acs:ram::{ACCOUNT}:role/credctl-pusher"
OPEN_ROLE = f"acs:ram::{ACCOUNT}:role/anyone-in-c1234"
PUSHER = "system:serviceaccount:ci:pusher"


@pytest.fixture
def oidc(fake):
    """The fake with an ACK cluster's OIDC provider and a role that trusts one of its service accounts."""
    fake.add_oidc_provider(OIDC_PROVIDER, OIDC_ISSUER)
    fake.add_oidc_provider(OTHER_PROVIDER, "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c5678")
    fake.add_oidc_role(OIDC_ROLE, OIDC_PROVIDER, subjects=[PUSHER])
    fake.add_oidc_role(OPEN_ROLE, OIDC_PROVIDER)
    return fake


def pusher_token(fake, **kwargs) -> str:
    return fake.service_account_token(OIDC_PROVIDER, "ci", "pusher", **kwargs)


def assume(fake, tmp_path, token, *, role_arn=OIDC_ROLE, provider_arn=OIDC_PROVIDER, session="credctl-ci", **kwargs):
    """STS credentials from a fresh provider (each caches its own), the token in a file as the kubelet writes it."""
    path = tmp_path / "token"
    path.write_text(token)
    provider = OIDCRoleArnCredentialsProvider(
        role_arn=role_arn,
        oidc_provider_arn=provider_arn,
        oidc_token_file_path=str(path),
        role_session_name=session,
        sts_endpoint=fake.url,  # "http://...": Tea then drops the https it was told to use
        **kwargs,
    )
    return provider.get_credentials()


def jwt_parts(token: str) -> list[dict]:
    return [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in token.split(".")[:2]]


def forged(fake, token: str, header: dict | None = None, **claims) -> str:
    """token with its claims changed and signed again with the provider's key (as only the cluster could)."""
    old_header, old_claims = jwt_parts(token)
    parts = [b64url(json.dumps(part).encode()) for part in (header or old_header, {**old_claims, **claims})]
    signing_input = ".".join(parts)
    return f"{signing_input}.{hs256(fake._oidc_providers[OIDC_PROVIDER].secret, signing_input)}"


def sts_call(fake, params: dict, method="GET") -> tuple[int, dict]:
    """AssumeRoleWithOIDC by hand: the parameters in the query, or for POST in a form body."""
    params = {"Action": "AssumeRoleWithOIDC", "Format": "JSON", "Version": "2015-04-01", **params}
    encoded = urlencode(params)
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        if method == "GET":
            connection.request("GET", "/?" + encoded)
        else:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            connection.request("POST", "/", body=encoded.encode(), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_service_account_token(oidc):
    now = int(time.time())
    token = pusher_token(oidc, uid="sa-uid-1", pod="pusher-7d9f", ttl=600)
    assert "=" not in token and len(token.split(".")) == 3
    header, claims = jwt_parts(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert (claims["iss"], claims["sub"], claims["aud"]) == (OIDC_ISSUER, PUSHER, ["sts.aliyuncs.com"])
    assert now <= claims["iat"] == claims["nbf"] <= time.time() and claims["exp"] == claims["iat"] + 600
    pod_uid = claims["kubernetes.io"]["pod"]["uid"]
    assert claims["kubernetes.io"] == {
        "namespace": "ci",
        "serviceaccount": {"name": "pusher", "uid": "sa-uid-1"},
        "pod": {"name": "pusher-7d9f", "uid": pod_uid},
    }
    _, plain = jwt_parts(oidc.service_account_token(OIDC_PROVIDER, "ns", "sa", audience="aud-x", issuer="https://x"))
    assert (plain["iss"], plain["sub"], plain["aud"]) == ("https://x", "system:serviceaccount:ns:sa", ["aud-x"])
    assert "pod" not in plain["kubernetes.io"] and plain["kubernetes.io"]["serviceaccount"]["uid"]
    with pytest.raises(ValueError):
        oidc.service_account_token("acs:ram::1:oidc-provider/nope", "ns", "sa")


def test_assume_role_with_oidc(oidc, tmp_path):
    token = pusher_token(oidc, pod="pusher-7d9f")
    before = int(time.time())
    credentials = assume(oidc, tmp_path, token)
    key_id = credentials.get_access_key_id()
    assert key_id.startswith("STS.") and credentials.get_provider_name() == "oidc_role_arn"
    assert before + 3600 <= credentials.get_expiration() <= time.time() + 3600  # Expiration, parsed
    (session,) = oidc.sts_sessions
    assert session == StsSession(
        access_key_id=key_id,
        role_arn=OIDC_ROLE,
        provider_arn=OIDC_PROVIDER,
        subject=PUSHER,
        session_name="credctl-ci",
        duration_seconds=3600,
        expires=credentials.get_expiration(),
    )
    assert oidc.identity_of(key_id) == session and oidc.identity_of(AK) is None

    (received,) = oidc.requests  # anonymous, recorded, and the token redacted
    assert (received.method, received.path, received.action, received.version) == (
        "GET",
        "/",
        "AssumeRoleWithOIDC",
        "2015-04-01",
    )
    assert (received.access_key_id, received.verified, received.status, received.code) == (None, True, 200, None)
    assert received.signed_headers == () and "authorization" not in received.headers
    assert received.headers["host"] == oidc.url  # the literal scheme-and-host Tea sends
    assert received.query["OIDCToken"] == "<redacted>"
    assert {k: received.query[k] for k in ("Format", "DurationSeconds", "RoleArn", "OIDCProviderArn")} == {
        "Format": "JSON",
        "DurationSeconds": "3600",
        "RoleArn": OIDC_ROLE,
        "OIDCProviderArn": OIDC_PROVIDER,
    }
    assert received.query["RoleSessionName"] == "credctl-ci" and "Timestamp" in received.query

    # The STS credentials sign ACR calls that verify, security token and all.
    client = cr(
        oidc,
        key=key_id,
        secret=credentials.get_access_key_secret(),
        security_token=credentials.get_security_token(),
    )
    body = ee_token(client)
    assert oidc.tokens_for(key_id) == [body.authorization_token]
    signed = oidc.requests[-1]
    assert signed.verified and signed.access_key_id == key_id and "x-acs-security-token" in signed.signed_headers
    with pytest.raises(ClientException, match=r"InvalidSecurityToken\.Mismatch"):
        ee_token(cr(oidc, key=key_id, secret=credentials.get_access_key_secret()))

    dump = repr(oidc.requests)
    for secret in (token, token.split(".")[2], credentials.get_access_key_secret(), credentials.get_security_token()):
        assert secret not in dump

    oidc.reset()
    assert oidc.sts_sessions == [] and oidc.identity_of(key_id) is None


def test_sessions_are_distinct_and_duration_is_asked(oidc, tmp_path):
    first = assume(oidc, tmp_path, pusher_token(oidc), duration_seconds=43200, session="a.b@c-d_e")
    second = assume(oidc, tmp_path, oidc.service_account_token(OIDC_PROVIDER, "web", "app"), role_arn=OPEN_ROLE)
    assert first.get_access_key_id() != second.get_access_key_id()
    assert first.get_expiration() >= time.time() + 43200 - 5
    assert [(s.role_arn, s.subject, s.session_name, s.duration_seconds) for s in oidc.sts_sessions] == [
        (OIDC_ROLE, PUSHER, "a.b@c-d_e", 43200),
        (OPEN_ROLE, "system:serviceaccount:web:app", "credctl-ci", 3600),
    ]


def test_sts_response_body(oidc):
    status, body = sts_call(
        oidc,
        {
            "RoleArn": OIDC_ROLE,
            "OIDCProviderArn": OIDC_PROVIDER,
            "OIDCToken": pusher_token(oidc),
            "RoleSessionName": "sess-1",
            "DurationSeconds": "900",
        },
    )
    assert status == 200 and body["RequestId"]
    assert body["OIDCTokenInfo"] == {"Subject": PUSHER, "Issuer": OIDC_ISSUER, "ClientIds": "sts.aliyuncs.com"}
    assert re.fullmatch(r"\d+:sess-1", body["AssumedRoleUser"]["AssumedRoleId"])
    assert body["AssumedRoleUser"]["Arn"] == f"acs:ram::{ACCOUNT}:assumed-role/credctl-pusher/sess-1"
    credentials = body["Credentials"]
    (session,) = oidc.sts_sessions
    assert credentials["AccessKeyId"] == session.access_key_id and session.duration_seconds == 900
    assert credentials["Expiration"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(session.expires))
    assert credentials["AccessKeySecret"] and credentials["SecurityToken"]


def test_sts_form_body(oidc):
    """A POST may carry the parameters (the action too) form-encoded in its body."""
    token = forged(oidc, pusher_token(oidc), aud="sts.aliyuncs.com")  # aud may be a bare string
    params = {"RoleArn": OIDC_ROLE, "OIDCProviderArn": OIDC_PROVIDER, "OIDCToken": token, "RoleSessionName": "s-2"}
    status, body = sts_call(oidc, params, method="POST")
    assert status == 200 and body["Credentials"]["AccessKeyId"] == oidc.sts_sessions[0].access_key_id
    assert body["OIDCTokenInfo"]["ClientIds"] == "sts.aliyuncs.com"
    received = oidc.requests[-1]
    assert (received.method, received.action, received.verified) == ("POST", "AssumeRoleWithOIDC", True)
    assert received.query["OIDCToken"] == "<redacted>" and received.query["RoleArn"] == OIDC_ROLE
    assert token not in repr(oidc.requests)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Version": "2015-04-02"}, 400, "InvalidVersion"),
        ({"RoleArn": None}, 400, "MissingParameter"),
        ({"OIDCProviderArn": ""}, 400, "MissingParameter"),
        ({"OIDCToken": None}, 400, "MissingParameter"),
        ({"RoleSessionName": None}, 400, "MissingParameter"),
        ({"RoleSessionName": "x" * 65}, 400, "InvalidParameter.RoleSessionName"),
        ({"DurationSeconds": "899"}, 400, "InvalidParameter.DurationSeconds"),
        ({"DurationSeconds": "an hour"}, 400, "InvalidParameter.DurationSeconds"),
    ],
)
def test_sts_parameters(oidc, change, status, code):
    params = {
        "RoleArn": OIDC_ROLE,
        "OIDCProviderArn": OIDC_PROVIDER,
        "OIDCToken": pusher_token(oidc),
        "RoleSessionName": "sess",
    }
    params = {k: v for k, v in {**params, **change}.items() if v is not None}
    got, body = sts_call(oidc, params)
    assert (got, body["Code"], body["HostId"]) == (status, code, "sts.aliyuncs.com") and body["RequestId"]
    if code == "MissingParameter":
        assert body["Message"] == f"{next(iter(change))} is mandatory for this action."
    assert oidc.sts_sessions == [] and oidc.requests[-1].code == code and not oidc.requests[-1].verified


def other_cluster_token(fake):
    """A token from another cluster, claiming to be from this one's issuer: its signature gives it away."""
    return fake.service_account_token(OTHER_PROVIDER, "ci", "pusher", issuer=OIDC_ISSUER)


def tampered(fake):
    """The pusher's token with its sub changed but not signed again."""
    header, _, signature = pusher_token(fake).split(".")
    _, forged_claims, _ = forged(fake, pusher_token(fake), sub="system:serviceaccount:kube-system:admin").split(".")
    return f"{header}.{forged_claims}.{signature}"


REFUSALS = {
    "expired": (lambda f: {"token": pusher_token(f, ttl=-1)}, 400, "AuthenticationFail.OIDCToken.Expired"),
    "wrong issuer": (
        lambda f: {"token": pusher_token(f, issuer="https://kubernetes.default.svc")},
        400,
        "AuthenticationFail.OIDCToken.IssuerError",
    ),
    "wrong audience": (
        lambda f: {"token": pusher_token(f, audience="https://kubernetes.default.svc")},
        400,
        "AuthenticationFail.OIDCToken.InvalidAudience",
    ),
    "not yet valid": (lambda f: {"token": forged(f, pusher_token(f), nbf=time.time() + 600)}, 400, "Invalid"),
    "no subject": (lambda f: {"token": forged(f, pusher_token(f), sub=None)}, 400, "Invalid"),
    "alg none": (lambda f: {"token": forged(f, pusher_token(f), header={"alg": "none"})}, 400, "Invalid"),
    "tampered": (lambda f: {"token": tampered(f)}, 400, "AuthenticationFail.OIDCToken.Invalid"),
    "other cluster's key": (lambda f: {"token": other_cluster_token(f)}, 400, "AuthenticationFail.OIDCToken.Invalid"),
    "garbage": (lambda f: {"token": "not-a-jwt"}, 400, "AuthenticationFail.OIDCToken.Invalid"),
    "not base64url": (lambda f: {"token": "e30=.e30=.AAAA"}, 400, "AuthenticationFail.OIDCToken.Invalid"),
    "unknown role": (
        lambda f: {"token": pusher_token(f), "role_arn": f"acs:ram::{ACCOUNT}:role/nobody"},
        404,
        "EntityNotExist.Role",
    ),
    "unknown provider": (
        lambda f: {"token": pusher_token(f), "provider_arn": f"acs:ram::{ACCOUNT}:oidc-provider/gone"},
        404,
        "EntityNotExist.OIDCProvider",
    ),
    "subject not trusted": (
        lambda f: {"token": f.service_account_token(OIDC_PROVIDER, "ci", "builder")},
        403,
        "AuthenticationFail.NoPermission",
    ),
    "provider not trusted": (
        lambda f: {"token": f.service_account_token(OTHER_PROVIDER, "ci", "pusher"), "provider_arn": OTHER_PROVIDER},
        403,
        "AuthenticationFail.NoPermission",
    ),
    "session name too short": (
        lambda f: {"token": pusher_token(f), "session": "a"},
        400,
        "InvalidParameter.RoleSessionName",
    ),
    "session name with a space": (
        lambda f: {"token": pusher_token(f), "session": "ci pusher"},
        400,
        "InvalidParameter.RoleSessionName",
    ),
    "duration too long": (
        lambda f: {"token": pusher_token(f), "duration_seconds": 43201},
        400,
        "InvalidParameter.DurationSeconds",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_sts_refusals(oidc, tmp_path, case):
    make, status, code = REFUSALS[case]
    code = "AuthenticationFail.OIDCToken.Invalid" if code == "Invalid" else code
    kwargs = make(oidc)
    token = kwargs.pop("token")
    with pytest.raises(CredentialException) as caught:
        assume(oidc, tmp_path, token, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"error refreshing credentials from oidc_role_arn, http_code: {status}, result: ")
    assert f'"Code": "{code}"' in message and '"HostId": "sts.aliyuncs.com"' in message
    assert oidc.sts_sessions == []
    received = oidc.requests[-1]
    assert (received.action, received.status, received.code) == ("AssumeRoleWithOIDC", status, code)
    assert received.verified is (status == 403)  # the token checked out; the trust policy said no
    assert received.query["OIDCToken"] == "<redacted>" and token not in repr(oidc.requests)


def test_sts_clock(oidc, tmp_path):
    token = pusher_token(oidc, ttl=900)
    oidc.clock = lambda: time.time() + 900  # the fake's clock has moved on: the token expired
    with pytest.raises(CredentialException, match=r"AuthenticationFail\.OIDCToken\.Expired"):
        assume(oidc, tmp_path, token)
    oidc.clock = lambda: time.time() - 60  # and back before its nbf
    with pytest.raises(CredentialException, match=r"AuthenticationFail\.OIDCToken\.Invalid"):
        assume(oidc, tmp_path, token)
    assert oidc.sts_sessions == []


def test_sts_faults(oidc, tmp_path):
    token = pusher_token(oidc)
    oidc.fail_next(503, "ServiceUnavailable", "try later")
    with pytest.raises(CredentialException) as caught:
        assume(oidc, tmp_path, token)
    assert "http_code: 503" in str(caught.value) and '"Code": "ServiceUnavailable"' in str(caught.value)
    received = oidc.requests[-1]
    assert (received.status, received.code, received.verified) == (503, "ServiceUnavailable", True)

    oidc.garbage_next()
    with pytest.raises(json.JSONDecodeError):  # the SDK parses the body unguarded
        assume(oidc, tmp_path, token)
    assert oidc.requests[-1].status == 200

    oidc.unsuccessful_next()
    with pytest.raises(CredentialException, match="error retrieving credentials"):
        assume(oidc, tmp_path, token)
    assert oidc.sts_sessions == []  # none of those answers carried credentials, so none were issued
    assert [r.verified for r in oidc.requests] == [True] * 3  # but the token was checked each time

    oidc.delay_next(1.0)
    started = time.monotonic()
    with pytest.raises(RetryError, match="timed out"):
        assume(oidc, tmp_path, token, http_options=HttpOptions(read_timeout=200))
    assert time.monotonic() - started < 0.9

    oidc.delay_next(0.2)
    credentials = assume(oidc, tmp_path, token)
    assert [s.access_key_id for s in oidc.sts_sessions] == [credentials.get_access_key_id()]
    deadline = time.monotonic() + 5
    while len(oidc.calls("AssumeRoleWithOIDC")) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.status for r in oidc.calls("AssumeRoleWithOIDC")] == [503, 200, 200, 200, 200]
    # The late answer the client gave up on was a normal one: its credentials were issued all the same.
    sessions = oidc.sts_sessions
    assert len(sessions) == 2 and sessions[0].access_key_id == credentials.get_access_key_id()


def test_signed_path_is_unchanged_by_sts(oidc, captured):
    """An ordinary signed call still needs its signature, and an unsigned call with another action is refused."""
    ee_token(cr(oidc))
    (original,) = captured
    status, body = replay(oidc, original, drop=("Authorization",))
    assert (status, body["Code"]) == (400, "MissingAuthorization") and "HostId" not in body
    status, body = sts_call(oidc, {"Action": "GetCallerIdentity", "RoleArn": OIDC_ROLE})
    assert (status, body["Code"]) == (400, "MissingAuthorization")
    assert oidc.requests[-1].action is None and oidc.sts_sessions == []
    # AssumeRole is an STS action of its own now, and an unsigned one is refused as such
    status, body = sts_call(oidc, {"Action": "AssumeRole", "RoleArn": OIDC_ROLE})
    assert (status, body["Code"], body["HostId"]) == (400, "MissingParameter", "sts.aliyuncs.com")
    assert oidc.requests[-1].action == "AssumeRole" and not oidc.requests[-1].verified and oidc.sts_sessions == []


# -- the server itself ---------------------------------------------------------------------------------


def test_concurrent_requests(fake):
    client = cr(fake)
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: ee_token(client), range(16)))
    assert len({b.authorization_token for b in bodies}) == 16
    assert len(fake.requests) == 16 and all(r.verified for r in fake.requests)


def test_stop_closes_the_port():
    with FakeAliyun() as server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}" and server.endpoint == f"127.0.0.1:{port}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    with pytest.raises(OSError):
        connection.request("GET", "/")
    server.stop()  # idempotent


# -- STS AssumeRole (signed with an access key, RPC signature 1.0) ---------------------------------

RAM_ROLE = f"acs:ram::{ACCOUNT}:role/cross-account-puller"


def role_provider(fake, key=AK, secret=SECRET, token=None, **kwargs):
    """The SDK's own AssumeRole client (alibabacloud_credentials), pointed at the fake."""
    from alibabacloud_credentials.provider.ram_role_arn import RamRoleArnCredentialsProvider

    options = {"role_arn": RAM_ROLE, "role_session_name": "credctl-test", "sts_endpoint": fake.url, **kwargs}
    return RamRoleArnCredentialsProvider(access_key_id=key, access_key_secret=secret, security_token=token, **options)


def signed_assume_role(fake, key=AK, secret=SECRET, **params) -> dict[str, str]:
    """An AssumeRole query signed as the SDK signs it (its parameter_helper, not the fake's code)."""
    from alibabacloud_credentials.utils import parameter_helper as ph

    query = {
        "Action": "AssumeRole",
        "Format": "JSON",
        "Version": "2015-04-01",
        "DurationSeconds": "3600",
        "RoleArn": RAM_ROLE,
        "RoleSessionName": "by-hand",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "SignatureNonce": f"nonce-{time.monotonic_ns()}",
        "AccessKeyId": key,
        **params,
    }
    query["Signature"] = ph.sign_string(ph.compose_string_to_sign("GET", query), secret + "&")
    return query


def get(fake, query: dict[str, str]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        connection.request("GET", "/?" + urlencode(query))
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_assume_role_issues_sts_credentials_the_cr_api_accepts(fake):
    fake.add_ram_role(RAM_ROLE, trusted=[AK], external_id="ext-1")
    credentials = role_provider(fake, external_id="ext-1", duration_seconds=1800).get_credentials()
    [session] = fake.sts_sessions
    assert session == StsSession(
        credentials.get_access_key_id(), RAM_ROLE, "", "", "credctl-test", 1800, session.expires, AK, "ext-1"
    )
    assert abs(session.expires - (time.time() + 1800)) < 60
    client = cr(fake, key=credentials.get_access_key_id(), secret=credentials.get_access_key_secret())
    with pytest.raises(ClientException, match=r"InvalidSecurityToken\.Mismatch"):
        ee_token(client)  # an STS key needs its token
    body = ee_token(
        CrClient(
            config(
                fake,
                key=credentials.get_access_key_id(),
                secret=credentials.get_access_key_secret(),
                security_token=credentials.get_security_token(),
            )
        )
    )
    assert body.authorization_token == fake.tokens_for(credentials.get_access_key_id())[0]
    [call] = fake.calls("AssumeRole")
    assert (call.verified, call.access_key_id, call.status) == (True, AK, 200)
    assert call.query["Signature"] == "<redacted>" and call.query["ExternalId"] == "ext-1"


def test_assume_role_with_sts_credentials_chains(fake):
    """A role assumed with another role's STS credentials (the CLI's ChainableRamRoleArn)."""
    second = f"acs:ram::{ACCOUNT}:role/second"
    fake.add_ram_role(RAM_ROLE, trusted=[AK])
    fake.add_ram_role(second)
    first = role_provider(fake).get_credentials()
    again = role_provider(
        fake, first.get_access_key_id(), first.get_access_key_secret(), first.get_security_token(), role_arn=second
    ).get_credentials()
    assert [s.caller_access_key_id for s in fake.sts_sessions] == [AK, first.get_access_key_id()]
    assert fake.identity_of(again.get_access_key_id()).role_arn == second
    assert fake.calls("AssumeRole")[1].query["SecurityToken"] == "<redacted>"


@pytest.mark.parametrize(
    ("role", "provider", "status", "code"),
    [
        ({"external_id": "ext-1"}, {}, 403, "NoPermission"),
        ({"external_id": "ext-1"}, {"external_id": "ext-2"}, 403, "NoPermission"),
        ({"trusted": ["LTAI-someone-else"]}, {}, 403, "NoPermission"),
        ({}, {"secret": "not-the-secret"}, 400, "SignatureDoesNotMatch"),
        ({}, {"key": "LTAI-unknown"}, 404, "InvalidAccessKeyId.NotFound"),
        ({}, {"role_arn": f"acs:ram::{ACCOUNT}:role/nobody"}, 404, "EntityNotExist.Role"),
        ({"max_duration": 3600}, {"duration_seconds": 7200}, 400, "InvalidParameter.DurationSeconds"),
        ({}, {"key": STS_AK, "secret": STS_SECRET}, 400, "InvalidSecurityToken.Mismatch"),
        ({}, {"key": STS_AK, "secret": STS_SECRET, "token": "not-the-token"}, 400, "InvalidSecurityToken.Mismatch"),
        ({}, {"token": "a-token-for-a-permanent-key"}, 400, "InvalidSecurityToken.Mismatch"),
    ],
)
def test_assume_role_refusals(fake, role, provider, status, code):
    fake.add_ram_role(RAM_ROLE, **role)
    with pytest.raises(CredentialException) as raised:
        role_provider(fake, **provider).get_credentials()
    assert f"http_code: {status}" in str(raised.value) and f'"Code": "{code}"' in str(raised.value)
    assert fake.sts_sessions == [] and not any(r.verified for r in fake.requests if r.status >= 400)


def test_assume_role_signature_date_and_nonce(fake, monkeypatch):
    fake.add_ram_role(RAM_ROLE)
    query = signed_assume_role(fake)
    assert get(fake, query)[0] == 200
    status, body = get(fake, query)  # the same request again
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")
    changed = {**signed_assume_role(fake), "DurationSeconds": "900"}  # signed for 3600
    assert get(fake, changed)[1]["Code"] == "SignatureDoesNotMatch"
    old = signed_assume_role(fake, Timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)))
    assert get(fake, old)[1]["Code"] == "InvalidTimeStamp.Expired"
    odd = signed_assume_role(fake, RoleSessionName="x")  # too short: refused once the signature checked out
    assert get(fake, odd)[1]["Code"] == "InvalidParameter.RoleSessionName"
    sha256 = signed_assume_role(fake, SignatureMethod="HMAC-SHA256")
    assert get(fake, sha256)[1]["Code"] == "InvalidParameter"
    assert [s.session_name for s in fake.sts_sessions] == ["by-hand"]
