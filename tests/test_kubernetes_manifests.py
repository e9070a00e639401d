"""`credctl kubelet config` and `credctl k8s pull-secret`: the documents, read back as YAML and JSON.

The config must select every ACR domain form by the kubelet's matching rules (kubelet_rules.py)
and every registry Docker's config maps; the Secret must hold what `kubectl create secret
docker-registry` (the real kubectl, client side only) would have made of the same login.
"""

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest
import world
import yaml
from kubelet_rules import config_errors, matches
from world import (
    ALIYUN_INSTANCE,
    CRPI_HOSTS,
    ENTERPRISE_HOSTS,
    PASSWORD,
    PERSONAL_HOSTS,
    acr_env,
    need,
    provide,
    request,
    store_in_pass,
    with_key,
    write_docker_config,
)

from credctl.kubelet import ACR_MATCH_IMAGES

CREDCTL = world.ours("credctl")
ANNOTATIONS = ["acr.credctl.io/role-arn", "pod-identity.alibabacloud.com/role-name", "acr.credctl.io/oidc-provider-arn"]


def credctl(env: dict[str, str], *args: str):
    result = subprocess.run([CREDCTL, *args], capture_output=True, env=env, timeout=120, check=False, encoding="utf-8")
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def both_formats(env: dict[str, str], *args: str) -> dict:
    """The document as YAML and as JSON: the same data either way; returned once."""
    as_yaml, as_json = credctl(env, *args), credctl(env, *args, "--format", "json")
    assert (as_yaml.returncode, as_json.returncode) == (0, 0), as_yaml.stderr + as_json.stderr
    document = yaml.safe_load(as_yaml.stdout)
    assert document == json.loads(as_json.stdout)
    assert json.loads(json.dumps(document)) == document  # nothing YAML-only (dates, anchors) in it
    return document


# --- credctl kubelet config --------------------------------------------------------------------


def test_the_default_config(tmp_path):
    config = both_formats(acr_env(tmp_path, NO_COLOR="1"), "kubelet", "config")
    assert config == {
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [
            {
                "name": "credctl-kubelet-provider",
                "matchImages": [
                    "registry*.*.aliyuncs.com",
                    "registry*.distributed.*.aliyuncs.com",
                    "*-registry*.*.cr.aliyuncs.com",
                    "*-registry*.*.aliyuncs.com",
                    "crpi-*.*.personal.cr.aliyuncs.com",
                ],
                "defaultCacheDuration": "1h",
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            }
        ],
    }


@pytest.mark.parametrize("host", [host for host, *_ in PERSONAL_HOSTS + ENTERPRISE_HOSTS + CRPI_HOSTS])
def test_every_acr_domain_form_is_selected(tmp_path, host):
    patterns = both_formats(acr_env(tmp_path), "kubelet", "config")["providers"][0]["matchImages"]
    image = f"{host}/team/app:1"
    assert [pattern for pattern in patterns if matches(pattern, image)], f"no pattern selects {image}"


@pytest.mark.parametrize(
    "host", ["oss-cn-hangzhou.aliyuncs.com", "ecs.cn-hangzhou.aliyuncs.com", "registry.example.com", "docker.io"]
)
def test_other_registries_are_not_selected(tmp_path, host):
    patterns = both_formats(acr_env(tmp_path), "kubelet", "config")["providers"][0]["matchImages"]
    assert not [pattern for pattern in patterns if matches(pattern, f"{host}/team/app:1")]


@pytest.mark.parametrize(
    "host",
    [
        "registryevil.cn-hangzhou.aliyuncs.com",
        "registry-internal-vpc.cn-hangzhou.aliyuncs.com",
        "foo-registry-.cn-hangzhou.cr.aliyuncs.com",
        "crpi-.cn-hangzhou.personal.cr.aliyuncs.com",
        "crpi-a-b.cn-hangzhou.personal.cr.aliyuncs.com",
    ],
)
def test_look_alikes_the_patterns_select_get_no_login(tmp_path, host):
    """The patterns are wider than ACR's grammar; the plugin itself then gives nothing (and asks
    no API: its endpoint here is a closed port)."""
    env = acr_env(tmp_path)
    patterns = both_formats(env, "kubelet", "config")["providers"][0]["matchImages"]
    assert [pattern for pattern in patterns if matches(pattern, f"{host}/app")]
    result = provide(env, request(f"{host}/app"))
    assert (result.returncode, json.loads(result.stdout)["auth"]) == (0, {})


def test_mapped_registries_custom_domains_and_extra_patterns(tmp_path):
    env = acr_env(tmp_path, NO_COLOR="1")
    for registry, helper in (("127.0.0.1:5000", "pass"), ("https://index.docker.io/v1/", "pass"), ("quay.io", "x")):
        assert credctl(env, "map", registry, helper).returncode == 0
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"acr_registries": {"images.example.com": {"region": "cn-hangzhou"}}}))
    args = ("kubelet", "config", "--match-image", "*.corp.example:5000/team", "--match-image", "quay.io")
    patterns = both_formats(env, *args)["providers"][0]["matchImages"]
    assert patterns[len(ACR_MATCH_IMAGES) :] == [
        "images.example.com",
        "127.0.0.1:5000",
        "docker.io",
        "quay.io",
        "*.corp.example:5000/team",
    ]
    assert matches("docker.io", "docker.io/library/nginx:1.27")


def test_pod_identity_sends_service_account_tokens(tmp_path):
    args = ("kubelet", "config", "--pod-identity", "--default-cache-duration", "30m")
    args += ("--env", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN=acs:ram::1234567890:oidc-provider/ack-rrsa-c1")
    provider = both_formats(acr_env(tmp_path), *args)["providers"][0]
    assert provider["defaultCacheDuration"] == "30m"
    assert provider["env"] == [
        {"name": "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "value": "acs:ram::1234567890:oidc-provider/ack-rrsa-c1"}
    ]
    assert provider["tokenAttributes"] == {
        "serviceAccountTokenAudience": "sts.aliyuncs.com",
        "cacheType": "ServiceAccount",
        "requireServiceAccount": False,
        "optionalServiceAccountAnnotationKeys": ANNOTATIONS,
    }


def test_v1beta1_for_older_kubelets(tmp_path):
    config = both_formats(acr_env(tmp_path), "kubelet", "config", "--api-version", "v1beta1")
    assert config["apiVersion"] == "kubelet.config.k8s.io/v1beta1"
    assert config["providers"][0]["apiVersion"] == "credentialprovider.kubelet.k8s.io/v1beta1"


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--pod-identity",),
        ("--pod-identity", "--audience", "https://sts.example", "--env", "ALIBABA_CLOUD_STS_REGION=cn-beijing"),
        ("--api-version", "v1beta1", "--default-cache-duration", "0s"),
        ("--match-image", "*.corp.example:5000/team", "--default-cache-duration", "12h30m"),
    ],
)
def test_the_kubelet_would_load_every_config(tmp_path, args):
    """Checked against the kubelet's own rules for this file (kubelet_rules.config_errors)."""
    env = acr_env(tmp_path, NO_COLOR="1")
    assert credctl(env, "map", "127.0.0.1:5000", "pass").returncode == 0
    config = both_formats(env, "kubelet", "config", *args)
    assert config_errors(config) == []
    if "--pod-identity" in args:  # and not on a kubelet without the service-account-token feature
        assert config_errors(config, token_feature=False) != []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda c: c.update(kind="KubeletConfiguration"), "not a kubelet.config.k8s.io CredentialProviderConfig"),
        (lambda c: c["providers"][0].update(matchImage=["x"]), "providers[credctl-kubelet-provider]: unknown field"),
        (lambda c: c["providers"][0].pop("defaultCacheDuration"), ".defaultCacheDuration is required"),
        (lambda c: c["providers"][0].update(defaultCacheDuration="-1h"), ".defaultCacheDuration is required"),
        (lambda c: c["providers"][0].update(matchImages=[]), ".matchImages: at least 1 item is required"),
        (lambda c: c["providers"].append(dict(c["providers"][0])), ".name is invalid or duplicated"),
        (lambda c: c["providers"][0].update(apiVersion="credentialprovider.kubelet.k8s.io/v2"), ".apiVersion is not"),
        (
            lambda c: c["providers"][0]["tokenAttributes"].update(optionalServiceAccountAnnotationKeys=["bad key"]),
            "annotation key 'bad key' is invalid",
        ),
        (
            lambda c: c["providers"][0]["tokenAttributes"].update(requiredServiceAccountAnnotationKeys=["a.io/b"]),
            "requireServiceAccount cannot be false",
        ),
        (lambda c: c["providers"][0]["tokenAttributes"].pop("cacheType"), ".cacheType must be"),
        (lambda c: c["providers"][0].update(apiVersion="credentialprovider.kubelet.k8s.io/v1beta1"), "only for"),
    ],
)
def test_the_kubelet_rules_model_refuses_broken_configs(tmp_path, change, error):
    config = both_formats(acr_env(tmp_path), "kubelet", "config", "--pod-identity")
    change(config)
    assert any(error in line for line in config_errors(config)), config_errors(config)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--format", "toml"), "--format must be yaml or json, not 'toml'"),
        (("--api-version", "v2"), "--api-version must be v1 or v1beta1, not 'v2'"),
        (
            ("--pod-identity", "--api-version", "v1beta1"),
            "--pod-identity needs --api-version v1 (tokenAttributes exist only there)",
        ),
        (
            ("--default-cache-duration", "1d"),
            "--default-cache-duration must be a duration like 1h, 30m or 1h30m, not '1d'",
        ),
        (
            ("--match-image", "https://quay.io"),
            "'https://quay.io' is not an image pattern like *.example.com, registry.example.com:5000/team",
        ),
        (
            ("--match-image", "quay.io:*"),
            "'quay.io:*': the kubelet allows '*' only in the domain, and a port must be a number",
        ),
        (("--env", "NOPE"), "--env takes NAME=VALUE, not 'NOPE'…"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path, args, line):
    result = credctl(acr_env(tmp_path, NO_COLOR="1"), "kubelet", "config", *args)
    assert world.usage_error(result, "kubelet config") == line


def test_a_secret_in_env_is_warned_about(tmp_path):
    result = credctl(acr_env(tmp_path, NO_COLOR="1"), "kubelet", "config", "--env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=s")
    assert result.returncode == 0
    assert result.stderr == (
        "warning: ALIBABA_CLOUD_ACCESS_KEY_SECRET would be written in plain text into the kubelet's config: "
        "prefer a credentials file\n"
    )


# --- credctl k8s pull-secret -------------------------------------------------------------------


def dockerconfigjson(secret: dict) -> dict:
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))


def kubectl_secret(server: str, username: str, password: str) -> dict:
    """What the real kubectl makes of the same login (client side, no cluster)."""
    need(world.KUBECTL)
    args = [world.KUBECTL, "create", "secret", "docker-registry", "regcred", f"--docker-server={server}"]
    args += [f"--docker-username={username}", f"--docker-password={password}", "--dry-run=client", "-o", "json"]
    result = subprocess.run(args, capture_output=True, encoding="utf-8", timeout=60, check=True)
    return json.loads(result.stdout)


def test_a_pull_secret_holds_what_kubectl_would(pass_node):
    store_in_pass(pass_node, "registry.example.com:5000")
    write_docker_config(pass_node, {"credHelpers": {"registry.example.com:5000": "pass"}})
    args = ("k8s", "pull-secret", "https://registry.example.com:5000/v2/", "--name", "regcred", "-n", "team-a")
    secret = both_formats(pass_node, *args)
    assert {key: secret[key] for key in ("apiVersion", "kind", "type")} == {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
    }
    assert secret["metadata"] == {"name": "regcred", "namespace": "team-a"}
    theirs = kubectl_secret("registry.example.com:5000", "kube-user", PASSWORD)
    assert dockerconfigjson(secret) == dockerconfigjson(theirs)
    assert secret["type"] == theirs["type"]


def test_a_docker_hub_pull_secret_uses_kubectls_key(pass_node):
    store_in_pass(pass_node, "https://index.docker.io/v1/", "hub-user")
    write_docker_config(pass_node, {"credsStore": "pass"})
    secret = both_formats(pass_node, "k8s", "pull-secret", "docker.io", "--name", "hub")
    assert dockerconfigjson(secret) == dockerconfigjson(
        kubectl_secret("https://index.docker.io/v1/", "hub-user", PASSWORD)
    )


def test_an_acr_pull_secret_warns_that_it_expires(aliyun, tmp_path):
    env = with_key(acr_env(tmp_path, aliyun))
    registry = f"{ALIYUN_INSTANCE[1]}-registry.{ALIYUN_INSTANCE[2]}.cr.aliyuncs.com"
    result = credctl(env, "k8s", "pull-secret", registry, "--name", "acr")
    assert result.returncode == 0, result.stderr
    issued = aliyun.issued[-1]
    expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued.expire_ms // 1000))
    assert result.stderr.startswith(f"warning: this is a temporary ACR token: it expires at {expires_at} (in ")
    assert result.stderr.count("\n") == 1
    secret = yaml.safe_load(result.stdout)
    assert secret["metadata"] == {"name": "acr", "annotations": {"credctl.io/expires-at": expires_at}}
    auth = base64.b64encode(f"cr_temp_user:{issued.token}".encode()).decode()
    assert dockerconfigjson(secret) == {
        "auths": {registry: {"username": "cr_temp_user", "password": issued.token, "auth": auth}}
    }


@pytest.mark.parametrize(
    ("args", "status", "line"),
    [
        (
            ("registry.example.com", "--name", "Bad_Name"),
            2,
            "--name 'Bad_Name' is not a Kubernetes name (lower-case letters, digits, '-' and '.')",
        ),
        (
            ("registry.example.com", "--name", "ok", "-n", "a.b"),
            2,
            "--namespace 'a.b' is not a Kubernetes namespace name (a-z, 0-9 and '-')",
        ),
        (
            ("registry.example.com", "--name", "ok"),
            1,
            "credctl has no login for registry.example.com: log in with `docker login registry.example.com` "
            "or map it (`credctl map`)",
        ),
    ],
)
def test_pull_secret_refusals(tmp_path, args, status, line):
    result = credctl(acr_env(tmp_path, NO_COLOR="1"), "k8s", "pull-secret", *args)
    if status == 2:
        assert world.usage_error(result, "k8s pull-secret") == line
    else:
        assert (result.returncode, result.stdout, result.stderr) == (status, "", f"error: {line}\n")
