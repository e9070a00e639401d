"""docker-credential-acr-helper for real: the Alibaba Cloud SDK against the loopback fake OpenAPI.

The helper runs as Docker runs it (a subprocess, the server URL on stdin, the exact stdout bytes
and exit status checked, stderr empty), in a throwaway HOME whose only network is 127.0.0.1: the
fake (which verifies every ACS3-HMAC-SHA256 signature) or a loopback proxy that only listens.
Cold calls import the SDK (about half a second each), so each test makes as few as it can.
"""

import json
import socket
import stat
import sys
import threading

import pytest
import world
from world import (
    ALIYUN_INSTANCE,
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    EE,
    ENTERPRISE_HOSTS,
    HELPER,
    INSTANCE_ID,
    INSTANCE_NAME,
    KEY2_ID,
    KEY2_SECRET,
    NOT_FOUND,
    PERSONAL,
    PERSONAL_HOSTS,
    REGION,
    SDK_MODULES,
    TEMP_USER,
    acr_env,
    answer,
    cache_files,
    cache_folder,
    clean,
    importtime_modules,
    run,
    with_key,
    write_cli_config,
    write_credentials,
)

from credctl.acr.domains import AcrRegistry, parse_domain, resolve
from credctl.acr.login import find_registry
from credctl.errors import CredentialsNotFound
from credctl.names import bare_host

CREDCTL = world.ours("credctl")

NO_CREDENTIALS = (
    "no Alibaba Cloud credentials for {}: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, "
    "write ~/.alibabacloud/credentials, or make a profile (`credctl acr add-profile`)\n"
)


# --- the world ---------------------------------------------------------------------------------


def helper(action: str, stdin: bytes | str, env: dict[str, str], program: str = HELPER):
    return run([program, action], stdin, env)


def get_token(env: dict[str, str], server: str, fake, *secrets: str, token: str = "") -> str:
    """`get` that must succeed with token, else the one the fake issued last; returns it."""
    result = helper("get", server, env)
    clean(result, *secrets)
    token = token or fake.issued[-1].token
    assert (result.returncode, result.stdout) == (0, answer(server, token))
    return token


def fails(env: dict[str, str], server: str, *secrets: str) -> bytes:
    """`get` that must fail with one line; returns it."""
    result = helper("get", server, env)
    clean(result, *secrets)
    assert result.returncode == 1
    assert result.stdout.endswith(b"\n") and result.stdout.count(b"\n") == 1, result.stdout
    return result.stdout


def all_signed_by(fake, key_id: str) -> None:
    """Every request reached the fake signed (ACS3-HMAC-SHA256, verified there) by key_id."""
    assert fake.requests
    assert all(r.verified and r.access_key_id == key_id for r in fake.requests), fake.requests


# --- the domain table (standard library, in process) ----------------------------------------------

NOT_ACR = [
    "registry.cn-hangzhou.aliyuncs.com.evil.com",
    "evilregistry.cn-hangzhou.aliyuncs.com",
    "cr.cn-hangzhou.aliyuncs.com",
    "registry.cnhangzhou.aliyuncs.com",
    "-registry.x-y.cr.aliyuncs.com",
    "foo-registry-.cn-hangzhou.cr.aliyuncs.com",
    "foo_bar-registry.cn-hangzhou.cr.aliyuncs.com",
    "foo-registry.cn-hangzhou.cr.evil.aliyuncs.com",
    "foo-registry.distributed.cn-hangzhou.aliyuncs.com",
    "registry-internal-vpc.cn-hangzhou.aliyuncs.com",
    "registry.aliyuncs.com",
    "aliyuncs.com",
    "example.com",
    "alpine:3.15",
    "https://registry.cn-hangzhou.aliyuncs.com@evil.com/v2/",
    "evil.com/registry.cn-hangzhou.aliyuncs.com",
    "[::1]:5000",
    "",
]


@pytest.mark.parametrize(("host", "region"), PERSONAL_HOSTS)
def test_personal_edition_domains(host, region):
    assert parse_domain(host) == AcrRegistry(host, region)
    assert not parse_domain(host).enterprise


@pytest.mark.parametrize(("host", "instance", "region"), ENTERPRISE_HOSTS)
def test_enterprise_edition_domains(host, instance, region):
    assert parse_domain(host) == AcrRegistry(host, region, instance_name=instance)
    assert parse_domain(host).enterprise


@pytest.mark.parametrize("server", NOT_ACR)
def test_look_alikes_are_not_acr(server):
    assert parse_domain(bare_host(server)) is None
    assert resolve(server, {}) is None


@pytest.mark.parametrize(
    ("server", "host"),
    [
        ("https://REGISTRY.CN-HANGZHOU.ALIYUNCS.COM:443/v2/", "registry.cn-hangzhou.aliyuncs.com"),
        ("registry.cn-beijing.aliyuncs.com/foo/bar:v1", "registry.cn-beijing.aliyuncs.com"),
        (
            " http://user:pw@Foo-Registry-VPC.cn-hangzhou.cr.aliyuncs.com.:5000/x \n",
            "foo-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
        ),
    ],
)
def test_scheme_credentials_port_path_and_case_are_dropped(server, host):
    assert bare_host(server) == host
    assert resolve(server, {}) == parse_domain(host)


ID_VAR, REGION_VAR = "DOCKER_CREDENTIAL_ACR_HELPER_INSTANCE_ID", "DOCKER_CREDENTIAL_ACR_HELPER_REGION"


def test_the_go_helpers_instance_and_region_variables():
    both = {ID_VAR: "cri-env", REGION_VAR: "cn-beijing"}
    # Together they make any host that instance (the Go helper's custom-domain recipe)...
    assert resolve("https://Example.COM/v2/", both) == AcrRegistry("example.com", "cn-beijing", instance_id="cri-env")
    assert resolve(PERSONAL, both) == AcrRegistry(PERSONAL, "cn-beijing", instance_id="cri-env")
    # ...the instance id alone only saves an Enterprise Edition domain its ListInstance call...
    assert resolve(EE, {ID_VAR: "cri-env"}) == AcrRegistry(EE, REGION, INSTANCE_NAME, "cri-env")
    assert resolve(PERSONAL, {ID_VAR: "cri-env"}) == AcrRegistry(PERSONAL, REGION)
    assert resolve("example.com", {ID_VAR: "cri-env"}) is None
    # ...and the region alone changes nothing: the domain names its own.
    assert resolve(EE, {REGION_VAR: "cn-beijing"}) == AcrRegistry(EE, REGION, INSTANCE_NAME)
    assert resolve("example.com", {REGION_VAR: "cn-beijing"}) is None


def test_custom_domains_come_from_the_settings(tmp_path):
    custom = {"my.example.com": {"region": "cn-shanghai", "instance_id": "cri-custom"}}
    assert resolve("my.example.com", {}, custom) == AcrRegistry(
        "my.example.com", "cn-shanghai", instance_id="cri-custom"
    )
    assert resolve("my.example.com", {ID_VAR: "cri-env", REGION_VAR: "cn-beijing"}, custom).instance_id == "cri-custom"
    assert resolve("my.example.com", {}, {"my.example.com": {"instance_id": "cri-x"}}) is None  # no region
    assert resolve("other.example.com", {}, custom) is None

    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    settings = tmp_path / "credctl" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"acr_registries": custom}))
    expected = AcrRegistry("my.example.com", "cn-shanghai", instance_id="cri-custom")
    assert find_registry("https://MY.example.com:443/v2/", environ) == expected
    assert find_registry(EE, environ) == parse_domain(EE)
    with pytest.raises(CredentialsNotFound):
        find_registry("other.example.com", environ)
    settings.write_text('{"acr_registries": ["not", "a", "mapping"]}')
    with pytest.raises(CredentialsNotFound):
        find_registry("my.example.com", environ)


# --- both editions end to end, through the real SDK -------------------------------------------------


SOURCES = {
    # credential source: the x-acs-credentials-provider the SDK then reports (credctl walks the
    # default chain itself, so the provider that answered is named without "default/")
    "environment": "env",
    "ALIBABA_CLOUD_CREDENTIALS_FILE": "profile",
    "~/.alibabacloud/credentials": "profile",
    "~/.aliyun/config.json": "cli_profile",
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_both_editions_end_to_end(aliyun, tmp_path, source):
    env = acr_env(tmp_path, aliyun)
    if source == "environment":
        env = with_key(env)
    elif source == "ALIBABA_CLOUD_CREDENTIALS_FILE":
        env["ALIBABA_CLOUD_CREDENTIALS_FILE"] = str(write_credentials(tmp_path / "secret place" / "acct.ini"))
    elif source == "~/.alibabacloud/credentials":
        # The Go helper's default path; the Python SDK alone reads credentials.ini.
        write_credentials(tmp_path / "home" / ".alibabacloud" / "credentials")
    else:
        write_cli_config(tmp_path / "home")

    enterprise = get_token(env, EE, aliyun)
    assert [(r.method, r.path, r.action, r.version) for r in aliyun.requests] == [
        ("POST", "/", "ListInstance", "2018-12-01"),
        ("POST", "/", "GetAuthorizationToken", "2018-12-01"),
    ]
    assert aliyun.requests[0].query["InstanceName"] == INSTANCE_NAME
    assert aliyun.requests[1].query["InstanceId"] == INSTANCE_ID
    assert aliyun.issued[-1].instance_id == INSTANCE_ID

    personal = get_token(env, PERSONAL, aliyun)
    assert [(r.method, r.path, r.action, r.version) for r in aliyun.requests[2:]] == [
        ("GET", "/tokens", "GetAuthorizationToken", "2016-06-07"),
    ]
    assert aliyun.issued[-1].edition == "personal"
    assert enterprise != personal
    all_signed_by(aliyun, ALIYUN_KEY_ID)
    providers = {r.headers["x-acs-credentials-provider"].split("/static")[0] for r in aliyun.requests}
    assert providers == {SOURCES[source]}
    assert all(r.headers["user-agent"].endswith(f" credctl/{version()}") for r in aliyun.requests)


def version() -> str:
    from credctl import __version__

    return __version__


def test_the_instance_is_matched_by_its_exact_name_across_pages(aliyun, tmp_path):
    """ListInstance filters by substring: myteam2 and xmyteam come first, on a full page."""
    aliyun.remove_instance(INSTANCE_ID)
    for number in range(120):
        aliyun.add_instance(f"cri-lookalike{number:03}", f"myteam{number}", REGION)
    aliyun.add_instance("cri-x", "xmyteam", REGION)
    aliyun.add_instance(*ALIYUN_INSTANCE)
    env = with_key(acr_env(tmp_path, aliyun))

    # As `credctl helper acr get`, the hidden command that is the same helper.
    result = run([CREDCTL, "helper", "acr", "get"], f"https://{EE}/v2/\n", env)
    clean(result)
    assert (result.returncode, result.stdout) == (0, answer(f"https://{EE}/v2/", aliyun.issued[-1].token))
    listings = aliyun.calls("ListInstance")
    assert [(r.query["InstanceName"], r.query["PageNo"]) for r in listings] == [
        (INSTANCE_NAME, "1"),
        (INSTANCE_NAME, "2"),
    ]
    assert [r.query["InstanceId"] for r in aliyun.calls("GetAuthorizationToken")] == [INSTANCE_ID]
    all_signed_by(aliyun, ALIYUN_KEY_ID)


def test_sts_credentials(aliyun, tmp_path):
    sts_token = "credctl-sts-security-token-do-not-leak"
    aliyun.add_access_key("STS.credctl-test", "credctl-sts-secret-do-not-leak", security_token=sts_token)
    env = with_key(acr_env(tmp_path, aliyun), "STS.credctl-test", "credctl-sts-secret-do-not-leak")
    env["ALIBABA_CLOUD_SECURITY_TOKEN"] = sts_token
    env["DEBUG"] = "sdk"  # would make the SDK log every request header, the security token too
    get_token(env, PERSONAL, aliyun, sts_token, "credctl-sts-secret-do-not-leak")
    all_signed_by(aliyun, "STS.credctl-test")
    [token_file] = cache_files(tmp_path)
    assert sts_token not in token_file.read_text()

    env["ALIBABA_CLOUD_SECURITY_TOKEN"] = "a-stale-sts-token-do-not-leak"
    line = fails({**env, "CREDCTL_ACR_NO_CACHE": "1"}, PERSONAL, sts_token, "a-stale-sts-token-do-not-leak")
    assert line.startswith(f"Alibaba Cloud refused a token for {PERSONAL}: InvalidSecurityToken.Mismatch: ".encode())


class ConnectRecorder:
    """A loopback HTTPS proxy that only notes where the client wants to go, then hangs up."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.stopping = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = self.server.getsockname()
        self.url = f"http://127.0.0.1:{self.address[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            if self.stopping.is_set():
                connection.close()
                return
            with connection:
                connection.settimeout(5)
                try:
                    request = connection.recv(4096).decode("latin-1")
                except OSError:
                    continue
                self.targets.append(request.split("\r\n", 1)[0])

    def stop(self) -> None:
        self.stopping.set()
        socket.create_connection(self.address, timeout=5).close()  # wakes accept()
        self.thread.join(timeout=5)
        self.server.close()


def test_the_real_api_endpoint_is_cr_region_aliyuncs_com(aliyun, tmp_path):
    """Without CREDCTL_ACR_ENDPOINT both editions talk HTTPS to cr.<region>.aliyuncs.com (asked of
    a loopback proxy that never connects anywhere; both editions name the host), a -vpc registry
    host to cr-vpc.<region>.aliyuncs.com (behind a proxy, without a fallback: tests/test_acr_vpc.py)."""
    proxy = ConnectRecorder()
    try:
        env = with_key(acr_env(tmp_path, aliyun, CREDCTL_ACR_ENDPOINT=None, HTTPS_PROXY=proxy.url))
        for server in ("registry-vpc.cn-beijing.aliyuncs.com", "team-registry.ap-southeast-1.cr.aliyuncs.com"):
            line = fails(env, server)
            assert line.startswith(f"cannot get a token for {server}: ".encode())
    finally:
        proxy.stop()
    assert [target.rsplit(" ", 1)[0] for target in proxy.targets] == [
        "CONNECT cr-vpc.cn-beijing.aliyuncs.com:443",
        "CONNECT cr.ap-southeast-1.aliyuncs.com:443",
    ], proxy.targets
    assert aliyun.requests == []
    assert cache_files(tmp_path) == []


# --- the token cache ---------------------------------------------------------------------------------


def test_a_warm_get_is_served_from_a_private_cache_without_the_sdk(aliyun, tmp_path):
    credentials = write_credentials(tmp_path / "acct.ini")
    env = acr_env(tmp_path, aliyun, ALIBABA_CLOUD_CREDENTIALS_FILE=str(credentials))
    token = get_token(env, EE, aliyun)
    before = aliyun.requests

    # Warm, as Docker runs it, and under -X importtime: same answer, no request, no SDK module.
    get_token(env, EE, aliyun, token=token)
    warm = run([sys.executable, "-X", "importtime", HELPER, "get"], EE, env)
    assert (warm.returncode, warm.stdout) == (0, answer(EE, token))
    modules = importtime_modules(warm.stderr)
    assert "credctl.stores.acr" in modules, "no import timings: is this the helper?"
    assert [name for name in modules if name.split(".")[0] in SDK_MODULES or name == "credctl.acr.tokens"] == []
    assert aliyun.requests == before

    folder = cache_folder(tmp_path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    [token_file] = cache_files(tmp_path)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert sorted(path.name for path in folder.iterdir()) == [token_file.name]  # no temporary files left
    text = token_file.read_text()
    assert token in text
    for private in (ALIYUN_KEY_SECRET, ALIYUN_KEY_ID, str(credentials)):
        assert private not in text


def test_no_cache_asks_the_api_every_time(aliyun, tmp_path):
    env = with_key(acr_env(tmp_path, aliyun, CREDCTL_ACR_NO_CACHE="1"))
    first = get_token(env, PERSONAL, aliyun)
    second = get_token(env, PERSONAL, aliyun)
    assert first != second
    assert len(aliyun.calls("GetAuthorizationToken")) == 2
    assert cache_files(tmp_path) == []


def test_a_token_about_to_expire_is_renewed(aliyun, tmp_path):
    env = with_key(acr_env(tmp_path, aliyun))
    aliyun.token_ttl = 200  # less than the 300 s margin: stale as soon as it is issued
    first = get_token(env, PERSONAL, aliyun)
    second = get_token(env, PERSONAL, aliyun)
    aliyun.token_ttl = 3600
    third = get_token(env, PERSONAL, aliyun)
    assert len({first, second, third}) == 3
    get_token(env, PERSONAL, aliyun, token=third)  # and a fresh one is kept again
    assert len(aliyun.calls("GetAuthorizationToken")) == 3
    assert len(cache_files(tmp_path)) == 1


def test_credentials_files_never_share_tokens(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    rotated_id, rotated_secret = "LTAI5tCredctlTestKey3Rotated", "credctl-test-secret-3-do-not-leak"
    aliyun.add_access_key(rotated_id, rotated_secret)
    first_file = write_credentials(tmp_path / "one.ini")
    second_file = write_credentials(tmp_path / "two.ini", KEY2_ID, KEY2_SECRET)
    env = acr_env(tmp_path, aliyun)
    one = {**env, "ALIBABA_CLOUD_CREDENTIALS_FILE": str(first_file)}
    two = {**env, "ALIBABA_CLOUD_CREDENTIALS_FILE": str(second_file)}

    token_one = get_token(one, EE, aliyun)
    token_two = get_token(two, EE, aliyun)
    assert aliyun.tokens_for(ALIYUN_KEY_ID) == [token_one]
    assert aliyun.tokens_for(KEY2_ID) == [token_two]
    before = aliyun.requests
    get_token(one, EE, aliyun, token=token_one)
    get_token(two, EE, aliyun, token=token_two)
    assert aliyun.requests == before
    assert len(cache_files(tmp_path)) == 2

    # The same file with other contents (a rotated key) is other credentials: a new token.
    write_credentials(first_file, rotated_id, rotated_secret)
    token_rotated = get_token(one, EE, aliyun, rotated_secret)
    assert aliyun.tokens_for(rotated_id) == [token_rotated]
    assert token_rotated not in (token_one, token_two)


# --- what is not a `get` of an ACR registry ----------------------------------------------------------


@pytest.mark.parametrize(
    "server", ["docker.io", "https://index.docker.io/v1/", "registry.cn-hangzhou.aliyuncs.com.evil.com", "ghcr.io"]
)
def test_a_host_that_is_not_acr_is_not_found(aliyun, tmp_path, server):
    """Docker then carries on without credentials (the Go helper fails the pull instead)."""
    result = helper("get", server, with_key(acr_env(tmp_path, aliyun)))
    clean(result)
    assert (result.returncode, result.stdout) == (1, NOT_FOUND)
    assert aliyun.requests == []


def test_store_says_acr_tokens_are_issued_not_stored_with_the_opt_out(aliyun, tmp_path):
    """CREDCTL_ACR_STORE_LOGINS=0 keeps the refusal of before (kept logins: test_acr_docker_login.py)."""
    login = json.dumps({"ServerURL": EE, "Username": "someone", "Secret": "a-password-do-not-leak"})
    result = helper("store", login, with_key(acr_env(tmp_path, aliyun, CREDCTL_ACR_STORE_LOGINS="0")))
    clean(result, "a-password-do-not-leak")
    assert result.returncode == 1
    assert result.stdout == (
        b"ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
        b"Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)\n"
    )
    assert aliyun.requests == []
    assert not cache_folder(tmp_path).exists()


def test_list_shows_this_credentials_fresh_tokens_and_erase_drops_one(aliyun, tmp_path):
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    env = with_key(acr_env(tmp_path, aliyun))
    other = with_key(env, KEY2_ID, KEY2_SECRET)
    beijing = "registry.cn-beijing.aliyuncs.com"
    get_token(env, PERSONAL, aliyun)
    get_token(env, beijing, aliyun)
    get_token(other, "registry.cn-shanghai.aliyuncs.com", aliyun)
    aliyun.token_ttl = 200
    get_token(env, "registry.cn-shenzhen.aliyuncs.com", aliyun)  # cached, but too close to expiry to use
    files = {path.name: path for path in cache_files(tmp_path)}
    assert len(files) == 4

    def listing(environ):
        result = helper("list", b"", environ)
        clean(result)
        assert result.returncode == 0
        return result.stdout

    assert listing(env) == f'{{"{beijing}":"{TEMP_USER}","{PERSONAL}":"{TEMP_USER}"}}\n'.encode()
    assert listing(other) == f'{{"registry.cn-shanghai.aliyuncs.com":"{TEMP_USER}"}}\n'.encode()

    # Docker logs out of another name of the same registry, as a URL: its token goes, no other.
    result = helper("erase", "https://Registry-VPC.cn-hangzhou.aliyuncs.com/v2/\n", env)
    clean(result)
    assert (result.returncode, result.stdout) == (0, b"")
    assert len(cache_files(tmp_path)) == 3
    assert listing(env) == f'{{"{beijing}":"{TEMP_USER}"}}\n'.encode()
    assert listing(other) == f'{{"registry.cn-shanghai.aliyuncs.com":"{TEMP_USER}"}}\n'.encode()

    for server in ("docker.io", "registry.cn-hangzhou.aliyuncs.com"):  # not ACR; nothing left: fine
        result = helper("erase", server, env)
        clean(result)
        assert (result.returncode, result.stdout) == (0, b"")
    assert len(cache_files(tmp_path)) == 3

    aliyun.token_ttl = 3600
    before = len(aliyun.issued)
    get_token(env, PERSONAL, aliyun)  # asks again
    assert len(aliyun.issued) == before + 1


def test_custom_domains_end_to_end(aliyun, tmp_path):
    """A custom domain from the settings, and the Go helper's two variables, skip ListInstance."""
    env = with_key(acr_env(tmp_path, aliyun))
    settings = tmp_path / "config" / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        json.dumps({"acr_registries": {"my.example.com": {"region": REGION, "instance_id": INSTANCE_ID}}})
    )
    get_token(env, "my.example.com", aliyun)
    aliyun.add_instance("cri-other", "other", "cn-beijing")
    variables = {**env, ID_VAR: "cri-other", REGION_VAR: "cn-beijing"}
    get_token(variables, "other.example.org", aliyun)
    assert [(r.action, r.query.get("InstanceId")) for r in aliyun.requests] == [
        ("GetAuthorizationToken", INSTANCE_ID),
        ("GetAuthorizationToken", "cri-other"),
    ]
    assert len(cache_files(tmp_path)) == 2

    result = helper("erase", "https://MY.example.com:443/", env)
    clean(result)
    assert (result.returncode, result.stdout) == (0, b"")
    assert len(cache_files(tmp_path)) == 1


# --- errors: one line, exit 1, no traceback, no secret, nothing cached -----------------------------


def _only_lookalikes(fake) -> None:
    fake.remove_instance(INSTANCE_ID)
    fake.add_instance("cri-lookalike1", f"{INSTANCE_NAME}2", REGION)
    fake.add_instance("cri-lookalike2", f"x{INSTANCE_NAME}", REGION)


REFUSED = "Alibaba Cloud refused a token for {}: "
ERRORS = {
    # name: (server, environment changes, what to do to the fake, the line or its start)
    "wrong secret": (
        PERSONAL,
        {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "a-wrong-secret-do-not-leak"},
        None,
        REFUSED.format(PERSONAL) + "SignatureDoesNotMatch: Specified signature does not match our calculation.\n",
    ),
    "unknown access key": (
        EE,
        {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tNoSuchKey"},
        None,
        REFUSED.format(EE) + "InvalidAccessKeyId.NotFound: Specified access key is not found.\n",
    ),
    "server error": (
        EE,
        {},
        lambda fake: fake.fail_next(503, "ServiceUnavailable", "The service is temporarily unavailable."),
        REFUSED.format(EE) + "ServiceUnavailable: The service is temporarily unavailable.\n",
    ),
    "throttled": (
        PERSONAL,
        {},
        lambda fake: fake.fail_next(400, "Throttling.User", "Request was denied due to user flow control.", 2),
        REFUSED.format(PERSONAL) + "Throttling.User: Request was denied due to user flow control.\n",
    ),
    "not JSON": (PERSONAL, {}, lambda fake: fake.garbage_next(), f"cannot get a token for {PERSONAL}: "),
    "unsuccessful": (
        EE,
        {},
        lambda fake: fake.unsuccessful_next("INSTANCE_NOT_EXIST"),
        "Alibaba Cloud could not list ACR instances (INSTANCE_NOT_EXIST)\n",
    ),
    "too slow": (
        PERSONAL,
        {"CREDCTL_ACR_TIMEOUT": "0.5"},
        lambda fake: fake.delay_next(3),
        f"the Alibaba Cloud API did not answer in time for {PERSONAL} (",
    ),
    "no such instance": (
        EE,
        {},
        _only_lookalikes,
        f"no ACR Enterprise Edition instance named '{INSTANCE_NAME}' in {REGION} for these credentials\n",
    ),
    "no credentials": (
        EE,
        {"ALIBABA_CLOUD_ACCESS_KEY_ID": None, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": None},
        None,
        NO_CREDENTIALS.format(EE),
    ),
    "nothing listening": (
        PERSONAL,
        {"CREDCTL_ACR_ENDPOINT": f"http://127.0.0.1:{world.free_port()}"},
        None,
        f"cannot get a token for {PERSONAL}: ",
    ),
    "bad endpoint": (
        PERSONAL,
        {"CREDCTL_ACR_ENDPOINT": "ftp://127.0.0.1"},
        None,
        "CREDCTL_ACR_ENDPOINT must be http://host:port or https://host, not 'ftp://127.0.0.1'\n",
    ),
    "bad timeout": (
        PERSONAL,
        {"CREDCTL_ACR_TIMEOUT": "soon"},
        None,
        "CREDCTL_ACR_TIMEOUT must be a number of seconds (at most 600), not 'soon'\n",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line_without_secrets(aliyun, tmp_path, case):
    server, changes, arrange, expected = ERRORS[case]
    env = acr_env(tmp_path, aliyun, **{**with_key({}), **changes})
    if arrange:
        arrange(aliyun)
    line = fails(env, server, "a-wrong-secret-do-not-leak").decode()
    if expected.endswith("\n"):
        assert line == expected
    else:
        assert line.startswith(expected), line
    assert cache_files(tmp_path) == []
    if case in ("no credentials", "bad endpoint", "bad timeout"):
        assert aliyun.requests == []


# --- the library API --------------------------------------------------------------------------------

LIBRARY_PROGRAM = """
import json, os, sys
from credctl.acr import get_credentials
from credctl.errors import CredentialsNotFound

server, other_key = sys.argv[1], json.loads(sys.argv[2])
first = get_credentials(server)                                  # this process's environment
second = get_credentials(server, {**os.environ, **other_key})    # other credentials, same process
again = get_credentials(server)
try:
    get_credentials("docker.io")
    missing = None
except CredentialsNotFound as err:
    missing = str(err)
print(json.dumps([[t.username, t.password, t.expires] for t in (first, second, again)] + [missing]))
"""


def test_library_api(aliyun, tmp_path):
    """credctl.acr.get_credentials in a program of its own (the SDK reads the environment when
    imported), called again with other credentials: each gets its own token, never
    the first credentials' token cached under the second's name."""
    aliyun.add_access_key(KEY2_ID, KEY2_SECRET)
    env = with_key(acr_env(tmp_path, aliyun))
    other = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY2_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY2_SECRET}
    result = run([sys.executable, "-c", LIBRARY_PROGRAM, EE, json.dumps(other)], b"", env)
    assert result.returncode == 0, result.stderr
    clean(result)
    first, second, again, missing = json.loads(result.stdout)
    [token_one] = aliyun.tokens_for(ALIYUN_KEY_ID)
    [token_two] = aliyun.tokens_for(KEY2_ID)
    assert first[:2] == again[:2] == [TEMP_USER, token_one]
    assert second[:2] == [TEMP_USER, token_two]
    assert first[2] == aliyun.issued[0].expire_ms // 1000
    assert missing == "credentials not found in native keychain"
    assert len(aliyun.calls("GetAuthorizationToken")) == 2
