"""credctl-kubelet-provider against the kubelet's exec-plugin contract (credentialprovider.kubelet.k8s.io).

No kubelet binary is packaged for this machine, so the contract is taken from the v1 API
reference: the request's fields, the response's fields and their spelling, the apiVersion
echoed, cacheKeyType Registry, an empty auth when there is no login, auth keys that match the
image by the kubelet's URLsMatch (credctl.kubelet.urls_match, held to the kubelet's own cases in
test_kubelet_rules.py), one line on stderr and a non-zero exit for a bad request. The plugin
runs as the kubelet runs it: the installed program, stdin to stdout.
"""

import io
import json
from pathlib import Path

import pytest
import world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from world import (
    GROUP,
    PASSWORD,
    V1,
    acr_env,
    answered,
    provide,
    refused,
    request,
    store_in_pass,
    write_docker_config,
)

from credctl.kubelet import go_duration, parse_go_duration, run, urls_match
from credctl.names import image_registry

VERSIONS = [V1, f"{GROUP}/v1beta1", f"{GROUP}/v1alpha1"]
EXPECTED = "expected a CredentialProviderRequest"
NO_NAME = "Expecting property name enclosed in double quotes"


# --- the contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", VERSIONS)
def test_no_login_is_a_valid_response_with_empty_auth(tmp_path, api_version):
    result = provide(acr_env(tmp_path), request("registry.example.com/team/app:1", api_version))
    assert (result.returncode, result.stderr) == (0, b"")
    expected = (
        f'{{"apiVersion":"{api_version}","kind":"CredentialProviderResponse","cacheKeyType":"Registry","auth":{{}}}}\n'
    )
    assert result.stdout == expected.encode()


def test_credctl_helper_kubelet_is_the_same_plugin(tmp_path):
    env = acr_env(tmp_path)
    payload = request("registry.example.com/team/app:1")
    hidden = provide(env, payload, program=[world.ours("credctl"), "helper", "kubelet"])
    assert (hidden.returncode, hidden.stdout, hidden.stderr) == (0, provide(env, payload).stdout, b"")


def test_unknown_request_fields_are_ignored(tmp_path):
    """The kubelet's decoder is not strict, and later versions add fields."""
    payload = request("registry.example.com/app", someFutureField={"x": 1}, serviceAccountAnnotations=None)
    assert answered(provide(acr_env(tmp_path), payload))["auth"] == {}


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        (b"", f"the request on stdin is not JSON (Expecting value at line 1 column 1; {EXPECTED})"),
        (b"{not json", f"the request on stdin is not JSON ({NO_NAME} at line 1 column 2; {EXPECTED})"),
        (b"\xff\xfe", f"the request on stdin is not JSON (byte 1 is not UTF-8 text; {EXPECTED})"),
        (b"[" * 100_000 + b"]" * 100_000, f"the request on stdin is not JSON (it is nested too deeply; {EXPECTED})"),
        (b'["image"]', "the request on stdin must be a JSON object (a CredentialProviderRequest)"),
        (
            b'{"kind":"CredentialProviderRequest","image":"a.io/b"}',
            f"unsupported apiVersion (none): expected one of {', '.join(VERSIONS)}",
        ),
        (
            b'{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"a.io/b"}',
            f"unsupported apiVersion 'credentialprovider.kubelet.k8s.io/v2': expected one of {', '.join(VERSIONS)}",
        ),
        (
            json.dumps({**request("a.io/b"), "kind": "CredentialProviderResponse"}).encode(),
            "unexpected kind 'CredentialProviderResponse': expected CredentialProviderRequest",
        ),
        (
            json.dumps({**request("a.io/b"), "kind": 7}).encode(),
            "unexpected kind (int): expected CredentialProviderRequest",
        ),
        (json.dumps(request("")).encode(), "the request has no image"),
        (json.dumps(request("  ")).encode(), "the request has no image"),
        (json.dumps({**request("x"), "image": ["a.io/b"]}).encode(), "the request has no image"),
        (json.dumps(request("a.io/b", serviceAccountToken=5)).encode(), "serviceAccountToken must be a string"),
        (
            json.dumps(request("a.io/b", serviceAccountAnnotations=["x"])).encode(),
            "serviceAccountAnnotations must map names to strings",
        ),
        (
            json.dumps(request("a.io/b", serviceAccountAnnotations={"a": 1})).encode(),
            "serviceAccountAnnotations must map names to strings",
        ),
        (b"{" + b" " * (1 << 20) + b"}", "input on stdin is larger than 1024 KiB"),
    ],
)
def test_a_malformed_request_gets_one_line_and_exit_1(tmp_path, payload, line):
    assert refused(provide(acr_env(tmp_path), payload)) == line


def test_the_token_is_never_echoed(tmp_path):
    token = "eyJhbGciOiJSUzI1NiJ9.not-a-claims-part.sig-" + PASSWORD
    # an ACR image: only for those is the pod's identity worked out (tests/test_kubelet_pod_failures.py)
    image = "registry.cn-hangzhou.aliyuncs.com/b"
    payload = request(image, serviceAccountToken=token, serviceAccountAnnotations={"acr.credctl.io/role-arn": "x"})
    env = acr_env(tmp_path, ALIBABA_CLOUD_OIDC_PROVIDER_ARN="acs:ram::1234567890:oidc-provider/ack-rrsa-c1")
    line = refused(provide(env, payload))
    assert line == "acr.credctl.io/role-arn must look like acs:ram::<account>:role/<name>, not 'x'"
    assert token not in line


def test_version_help_and_arguments(tmp_path):
    env = acr_env(tmp_path)
    version = provide(env, b"", "--version")
    assert (version.returncode, version.stdout) == (0, b"credctl-kubelet-provider (credctl) 0.1.0\n")
    usage = (
        b"Usage: credctl-kubelet-provider (reads a CredentialProviderRequest on stdin; see `credctl kubelet config`)\n"
    )
    assert (provide(env, b"", "--help").returncode, provide(env, b"", "--help").stderr) == (0, usage)
    unexpected = provide(env, b"", "get")
    assert (unexpected.returncode, unexpected.stdout, unexpected.stderr) == (2, b"", usage)


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("registry.cn-hangzhou.aliyuncs.com/team/app:1", "registry.cn-hangzhou.aliyuncs.com"),
        ("docker.io/library/nginx:1.27", "docker.io"),
        ("nginx", "docker.io"),
        ("library/nginx@sha256:" + "a" * 64, "docker.io"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app:v1", "localhost:5000"),
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000"),
        ("[::1]:5000/app", "[::1]:5000"),
        ("Registry/app", "Registry"),
        ("team/app", "docker.io"),
    ],
)
def test_the_registry_of_an_image_follows_docker(image, registry):
    assert image_registry(image) == registry


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59, "59s"), (60, "1m0s"), (3299, "54m59s"), (3600, "1h0m0s"), (43210, "12h0m10s")],
)
def test_cache_durations_are_spelled_as_go_does(seconds, text):
    assert go_duration(seconds) == text
    assert parse_go_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "1d", "5 m", "1h 30m"])
def test_durations_go_does_not_parse(text):
    with pytest.raises(ValueError):
        parse_go_duration(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("1.5h", 5400), ("300ms", 0.3), ("1h30m", 5400), ("-5m", -300)]
)
def test_durations_as_go_parses_them(text, seconds):
    """time.ParseDuration, as the kubelet reads defaultCacheDuration (its validation then refuses
    a negative one; `credctl kubelet config` does too)."""
    assert parse_go_duration(text) == seconds


# --- logins from credctl's stores -----------------------------------------------------------------


def test_a_registry_mapped_to_pass_is_served_from_it(pass_node):
    store_in_pass(pass_node, "127.0.0.1:5000")
    write_docker_config(pass_node, {"credHelpers": {"127.0.0.1:5000": "pass"}})
    image = "127.0.0.1:5000/team/app:1"
    response = answered(provide(pass_node, request(image)))
    assert response == {
        "apiVersion": V1,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry",
        "auth": {"127.0.0.1:5000": {"username": "kube-user", "password": PASSWORD}},
    }
    assert all(urls_match(key, image) for key in response["auth"])
    # another port is another registry: nothing mapped, nothing given
    assert answered(provide(pass_node, request("127.0.0.1:5001/team/app:1")))["auth"] == {}


def test_docker_hub_through_creds_store(pass_node):
    """docker login stores Docker Hub under its v1 URL; the kubelet asks for docker.io/…"""
    store_in_pass(pass_node, "https://index.docker.io/v1/", "hub-user")
    write_docker_config(pass_node, {"credsStore": "pass"})
    image = "docker.io/library/nginx:1.27"
    response = answered(provide(pass_node, request(image, f"{GROUP}/v1beta1")))
    assert response["apiVersion"] == f"{GROUP}/v1beta1"
    assert response["auth"] == {"docker.io": {"username": "hub-user", "password": PASSWORD}}
    assert "cacheDuration" not in response  # a stored login: the config's defaultCacheDuration
    assert all(urls_match(key, image) for key in response["auth"])


def test_an_identity_token_is_refused_with_the_reason(pass_node):
    store_in_pass(pass_node, "registry.example.com", "<token>")
    write_docker_config(pass_node, {"credHelpers": {"registry.example.com": "pass"}})
    line = refused(provide(pass_node, request("registry.example.com/app")))
    assert line == (
        "docker-credential-pass holds an identity token for registry.example.com, which cannot be handed on as a "
        "username and password (to Kubernetes, or by `credctl export`): log in with a password or an access "
        "token instead"
    )


def test_any_docker_credential_helper_serves_through_the_client(pass_node, go_pass, tmp_path):
    """credHelpers may name a program credctl does not own: it is run as Docker runs it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker-credential-gopass").symlink_to(go_pass)
    env = {**pass_node, "PATH": f"{bin_dir}:{pass_node['PATH']}"}
    data = json.dumps({"ServerURL": "registry.example.com", "Username": "go-user", "Secret": PASSWORD})
    assert world.run_helper(go_pass, "store", data, env).returncode == 0
    write_docker_config(env, {"credHelpers": {"registry.example.com": "gopass"}})
    response = answered(provide(env, request("registry.example.com/team/app")))
    assert response["auth"] == {"registry.example.com": {"username": "go-user", "password": PASSWORD}}


@pytest.mark.parametrize("text", ['{"credHelpers": ', '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_a_malformed_docker_config_is_one_line(tmp_path, text):
    env = acr_env(tmp_path)
    Path(env["DOCKER_CONFIG"]).mkdir()
    (Path(env["DOCKER_CONFIG"]) / "config.json").write_text(text)
    line = refused(provide(env, request("registry.example.com/app")))
    assert line.startswith(f"{env['DOCKER_CONFIG']}/config.json is not valid JSON (")


# --- hostile requests, in-process -----------------------------------------------------------------

_text = st.text(max_size=40)
_values = st.one_of(st.none(), st.booleans(), st.integers(), _text, st.lists(_text, max_size=3))
_requests = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.one_of(st.sampled_from(VERSIONS), _values),
        "kind": st.one_of(st.just("CredentialProviderRequest"), _values),
        "image": st.one_of(st.from_regex(r"[a-z0-9.:/@-]{1,40}", fullmatch=True), _values),
        "serviceAccountToken": st.one_of(_text, _values),
        "serviceAccountAnnotations": st.one_of(st.dictionaries(_text, st.one_of(_text, _values), max_size=3), _values),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(_requests.map(lambda r: json.dumps(r).encode()), st.binary(max_size=200)))
def test_any_request_gets_a_response_or_one_line(tmp_path, payload):
    stdout, stderr = io.BytesIO(), io.StringIO()
    status = run([], io.BytesIO(payload), stdout, stderr, acr_env(tmp_path))
    if status == 0:
        response = json.loads(stdout.getvalue())
        assert response["apiVersion"] == json.loads(payload)["apiVersion"] and stderr.getvalue() == ""
        assert (response["kind"], response["cacheKeyType"], response["auth"]) == (
            "CredentialProviderResponse",
            "Registry",
            {},
        )
    else:
        assert (status, stdout.getvalue()) == (1, b"")
        line = stderr.getvalue()
        assert line.startswith("credctl-kubelet-provider: ") and line.count("\n") == 1


@pytest.mark.parametrize(
    "profiles", ['"not an object"', '{"team": "not an object"}', '{"team": {"credentials_file": 7}}']
)
def test_a_malformed_profile_entry_runs_the_mapped_program_itself(tmp_path, profiles):
    """credHelpers names acr-helper-team, but credctl's settings cannot say which file: Docker's way."""
    env = acr_env(tmp_path)
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(f'{{"acr_profiles": {profiles}}}')
    write_docker_config(env, {"credHelpers": {"myteam-registry.cn-hangzhou.cr.aliyuncs.com": "acr-helper-team"}})
    line = refused(provide(env, request("myteam-registry.cn-hangzhou.cr.aliyuncs.com/app")))
    assert line.startswith("docker-credential-acr-helper-team get failed (exit status 127): ")
