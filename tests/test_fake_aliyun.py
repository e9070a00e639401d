"""The fake Alibaba Cloud OpenAPI (fake_aliyun.py), proven with the real Alibaba Cloud SDK.

Every accepted request here was signed by the SDK itself, and every rejection is one the SDK
would see from the real gateway; the replay tests alter captured SDK requests on the wire.
"""

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

import pytest
from alibabacloud_cr20181201 import models as cr_models
from alibabacloud_cr20181201.client import Client as CrClient
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.models import Config, OpenApiRequest, Params
from alibabacloud_tea_openapi.utils import Utils
from darabonba.core import DaraCore
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions
from fake_aliyun import FakeAliyun

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


PERSONAL_TOKEN = Params(
    action="GetAuthorizationToken",
    version="2016-06-07",
    protocol="HTTP",
    pathname="/tokens",
    method="GET",
    auth_type="AK",
    style="ROA",
    req_body_type="json",
    body_type="json",
)


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
