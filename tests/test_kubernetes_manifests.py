"""`credctl kubelet config` and `credctl k8s pull-secret`: the documents, read back as YAML and JSON.

The config must select every ACR domain form by the kubelet's matching rules (credctl.kubelet.
urls_match), load on the kubelet it is written for (credctl.kubeletconfig.config_errors: both
held to the kubelet's own test cases in test_kubelet_rules.py), and serve every registry Docker's
config maps; the Secret must hold what `kubectl create secret
docker-registry` (the real kubectl, client side only) would have made of the same login.
"""

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import world
import yaml
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
from credctl.kubelet import urls_match as matches
from credctl.kubeletconfig import NEWEST, OLDEST, aggregate, config_errors

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


ACR_PATTERNS = list(ACR_MATCH_IMAGES)  # each ACR domain form: test_every_acr_domain_form_is_selected
EXPECTED_ACR = [  # written out, so that a pattern dropped from ACR_MATCH_IMAGES fails the default config's test
    "registry*.*.aliyuncs.com",
    "registry*.distributed.*.aliyuncs.com",
    "*-registry*.*.cr.aliyuncs.com",
    "*-registry*.*.aliyuncs.com",
    "crpi-*.*.personal.cr.aliyuncs.com",
]
GENERATED = 2 * len(ACR_PATTERNS)  # and each again with :443
KUBELETS = [(1, minor) for minor in range(OLDEST[1], NEWEST[1] + 1)]


def test_the_default_config(tmp_path):
    """For the newest kubelet (no kubelet on this PATH): v1, and the ACR patterns twice, the
    second time with :443 (the kubelet compares ports exactly)."""
    env = acr_env(tmp_path, NO_COLOR="1")
    config = both_formats(env, "kubelet", "config")
    assert config == {
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [
            {
                "name": "credctl-kubelet-provider",
                "matchImages": EXPECTED_ACR + [f"{pattern}:443" for pattern in EXPECTED_ACR],
                "defaultCacheDuration": "1h",
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            }
        ],
    }
    header = credctl(env, "kubelet", "config").stdout.splitlines()[2]
    assert header == "# Written for kubelet 1.34 (the newest credctl knows; no kubelet on PATH)."


@pytest.mark.parametrize("host", [host for host, *_ in PERSONAL_HOSTS + ENTERPRISE_HOSTS + CRPI_HOSTS])
@pytest.mark.parametrize("port", ["", ":443"])
def test_every_acr_domain_form_is_selected(tmp_path, host, port):
    patterns = both_formats(acr_env(tmp_path), "kubelet", "config")["providers"][0]["matchImages"]
    image = f"{host}{port}/team/app:1"
    assert [pattern for pattern in patterns if matches(pattern, image)], f"no pattern selects {image}"


@pytest.mark.parametrize(
    "host", ["oss-cn-hangzhou.aliyuncs.com", "ecs.cn-hangzhou.aliyuncs.com", "registry.example.com", "docker.io"]
)
def test_other_registries_are_not_selected(tmp_path, host):
    patterns = both_formats(acr_env(tmp_path), "kubelet", "config")["providers"][0]["matchImages"]
    assert not [pattern for pattern in patterns if matches(pattern, f"{host}/team/app:1")]
    assert not [pattern for pattern in patterns if matches(pattern, f"{host}:443/team/app:1")]


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
    assert patterns[GENERATED:] == [
        "images.example.com",
        "127.0.0.1:5000",
        "docker.io",
        "quay.io",
        "*.corp.example:5000/team",
    ]
    assert matches("docker.io", "docker.io/library/nginx:1.27")


def test_a_mapped_registry_the_kubelet_would_refuse_is_left_out(tmp_path):
    """A credHelpers key Go's url.Parse refuses would stop the kubelet loading any provider."""
    env = acr_env(tmp_path, NO_COLOR="1")
    write_docker_config(env, {"credHelpers": {"reg%zz.example.com": "pass", "quay.io": "pass"}})
    result = credctl(env, "kubelet", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["providers"][0]["matchImages"][GENERATED:] == ["quay.io"]
    assert result.stderr == (
        "warning: 'reg%zz.example.com' is left out of matchImages: the kubelet refuses it "
        '(parse "https://reg%zz.example.com": invalid URL escape "%zz")\n'
    )


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


def test_pod_identity_on_kubelet_1_33_has_no_cache_type_and_names_the_feature_gate(tmp_path):
    """1.33 decodes strictly and its tokenAttributes have no cacheType (k8s.io/kubelet v0.33); the
    alpha feature gate is off by default, so credctl says it must be turned on."""
    env = acr_env(tmp_path, NO_COLOR="1")
    result = credctl(env, "kubelet", "config", "--kubelet-version", "1.33", "--pod-identity")
    assert result.returncode == 0, result.stderr
    gate = "--feature-gates=KubeletServiceAccountTokenForCredentialProviders=true"
    assert result.stderr == (
        f"warning: kubelet 1.33 loads tokenAttributes only with {gate} (alpha, off by default); "
        "without it, it loads no provider from this file\n"
    )
    assert result.stdout.splitlines()[2:4] == [
        "# Written for kubelet 1.33 (--kubelet-version).",
        f"# kubelet 1.33 also needs {gate} (alpha, off by default).",
    ]
    attributes = yaml.safe_load(result.stdout)["providers"][0]["tokenAttributes"]
    assert attributes == {
        "serviceAccountTokenAudience": "sts.aliyuncs.com",
        "requireServiceAccount": False,
        "optionalServiceAccountAnnotationKeys": ANNOTATIONS,
    }


@pytest.mark.parametrize(("version", "api_version"), [("1.24", "v1beta1"), ("v1.25.16", "v1beta1"), ("1.26", "v1")])
def test_the_newest_api_each_kubelet_knows(tmp_path, version, api_version):
    config = both_formats(acr_env(tmp_path), "kubelet", "config", "--kubelet-version", version)
    assert config["apiVersion"] == f"kubelet.config.k8s.io/{api_version}"
    assert config["providers"][0]["apiVersion"] == f"credentialprovider.kubelet.k8s.io/{api_version}"


def test_v1beta1_for_older_kubelets(tmp_path):
    config = both_formats(acr_env(tmp_path), "kubelet", "config", "--api-version", "v1beta1")
    assert config["apiVersion"] == "kubelet.config.k8s.io/v1beta1"
    assert config["providers"][0]["apiVersion"] == "credentialprovider.kubelet.k8s.io/v1beta1"


def test_a_kubelet_newer_than_credctl_knows_gets_the_newest_config(tmp_path):
    result = credctl(
        acr_env(tmp_path, NO_COLOR="1"), "kubelet", "config", "--kubelet-version", "1.36", "--pod-identity"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "warning: kubelet 1.36 is newer than credctl knows: writing 1.34's config, which it reads\n"
    assert yaml.safe_load(result.stdout)["providers"][0]["tokenAttributes"]["cacheType"] == "ServiceAccount"


def test_a_kubelet_on_path_that_names_no_version_gets_the_newest_config(tmp_path):
    """`kubelet --version` is asked (with a bounded wait) when no --kubelet-version is given; a
    program that answers nothing (here the real `true`, installed as `kubelet`) names no version."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubelet").symlink_to(shutil.which("true"))
    env = acr_env(tmp_path, NO_COLOR="1")
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    result = credctl(env, "kubelet", "config")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"warning: {bin_dir}/kubelet --version gave no version: writing kubelet 1.34's config (or --kubelet-version)\n"
    )
    assert (
        result.stdout.splitlines()[2]
        == f"# Written for kubelet 1.34 (the newest credctl knows; {bin_dir}/kubelet --version gave none)."
    )


CONFIG_ARGS = [
    (),
    ("--pod-identity",),
    ("--pod-identity", "--cache-type", "Token"),
    ("--pod-identity", "--audience", "https://sts.example", "--env", "ALIBABA_CLOUD_STS_REGION=cn-beijing"),
    ("--api-version", "v1beta1", "--default-cache-duration", "0s"),
    ("--match-image", "*.corp.example:5000/team", "--default-cache-duration", "12h30m"),
    ("--match-image", "[::1]:5000", "--match-image", "[::1]", "--default-cache-duration", "0"),
    ("--default-cache-duration", "1.5h", "--match-image", "registry.io/*"),
    ("--default-cache-duration", "300ms"),
]


def _refusal(version: tuple[int, int], args: tuple[str, ...]) -> str | None:
    """The line `kubelet config` answers with when that kubelet cannot honour args, else None."""
    shown = f"{version[0]}.{version[1]}"
    if "--pod-identity" in args and version < (1, 33):
        return (
            f"--pod-identity needs kubelet 1.33 or newer: kubelet {shown} sends plugins no service-account tokens "
            "(tokenAttributes, KEP-4412)"
        )
    if "--cache-type" in args and version < (1, 34):
        return (
            f"--cache-type needs kubelet 1.34 or newer: kubelet {shown} has no cacheType "
            "(it keys its cache by service account)"
        )
    return None


@pytest.mark.parametrize("version", KUBELETS, ids=[f"1.{minor}" for _, minor in KUBELETS])
@pytest.mark.parametrize("args", CONFIG_ARGS, ids=[" ".join(args) or "default" for args in CONFIG_ARGS])
def test_each_kubelet_would_load_its_config(tmp_path, version, args):
    """Version by version, held to that kubelet's config reading (credctl.kubeletconfig, checked
    against the kubelet's own test cases): the config loads, with the feature gate on where it is
    off by default (1.33); or credctl refuses the option that kubelet cannot honour."""
    env = acr_env(tmp_path, NO_COLOR="1")
    assert credctl(env, "map", "127.0.0.1:5000", "pass").returncode == 0
    result = credctl(env, "kubelet", "config", "--kubelet-version", f"{version[0]}.{version[1]}", *args)
    refusal = _refusal(version, args)
    if refusal is not None:
        assert world.usage_error(result, "kubelet config") == refusal
        return
    if version < (1, 26) and "--api-version" not in args:
        assert "apiVersion: kubelet.config.k8s.io/v1beta1" in result.stdout
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert aggregate(config_errors(config, version, token_gate=True)) == ""
    if "--pod-identity" in args:  # a kubelet with the feature gate off loads nothing of it
        assert "feature gate is disabled" in aggregate(config_errors(config, version, token_gate=False))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda c: c.update(kind="KubeletConfiguration"), 'no kind "KubeletConfiguration" is registered'),
        (lambda c: c["providers"][0].update(matchImage=["x"]), 'unknown field "providers[0].matchImage"'),
        (lambda c: c["providers"][0].pop("defaultCacheDuration"), "providers.defaultCacheDuration: Required value"),
        (lambda c: c["providers"][0].update(defaultCacheDuration="-1h"), "must be greater than or equal to 0"),
        (lambda c: c["providers"][0].update(defaultCacheDuration="1d"), 'time: unknown unit "d" in duration "1d"'),
        (lambda c: c["providers"][0].update(matchImages=[]), "providers.matchImages: Required value"),
        (lambda c: c["providers"][0].update(matchImages=["%invalid%"]), "match image is invalid"),
        (lambda c: c["providers"].append(dict(c["providers"][0])), "providers.name: Duplicate value"),
        (lambda c: c["providers"][0].update(apiVersion="credentialprovider.kubelet.k8s.io/v2"), "Unsupported value"),
        (
            lambda c: c["providers"][0]["tokenAttributes"].update(optionalServiceAccountAnnotationKeys=["bad key"]),
            'Invalid value: "bad key"',
        ),
        (
            lambda c: c["providers"][0]["tokenAttributes"].update(requiredServiceAccountAnnotationKeys=["a.io/b"]),
            "requireServiceAccount cannot be false",
        ),
        (lambda c: c["providers"][0]["tokenAttributes"].pop("cacheType"), "tokenAttributes.cacheType: Required value"),
        (
            lambda c: c["providers"][0].update(apiVersion="credentialprovider.kubelet.k8s.io/v1beta1"),
            "tokenAttributes is only supported for",
        ),
    ],
)
def test_a_broken_config_is_refused_as_the_kubelet_would(tmp_path, change, error):
    config = both_formats(acr_env(tmp_path), "kubelet", "config", "--pod-identity")
    assert config_errors(config) == []
    change(config)
    assert error in aggregate(config_errors(config))


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
            "--default-cache-duration must be a Go duration like 1h, 30m, 1.5h or 0, not '1d' "
            '(time: unknown unit "d" in duration "1d")',
        ),
        (("--default-cache-duration", "-1s"), "--default-cache-duration must be 0 or more: the kubelet refuses '-1s'"),
        (
            ("--match-image", "https://quay.io"),
            "--match-image 'https://quay.io' has a scheme: write host[:port][/path], e.g. *.example.com",
        ),
        (
            ("--match-image", "quay.io:*"),
            "--match-image 'quay.io:*' would stop the kubelet loading any provider: "
            'parse "https://quay.io:*": invalid port ":*" after host',
        ),
        (
            ("--match-image", "%invalid%"),
            "--match-image '%invalid%' would stop the kubelet loading any provider: "
            'parse "https://%invalid%": invalid URL escape "%in"',
        ),
        (
            ("--match-image", "reg|istry.example.com"),
            "--match-image 'reg|istry.example.com' would stop the kubelet loading any provider: "
            'parse "https://reg|istry.example.com": invalid character "|" in host name',
        ),
        (
            ("--match-image", "{team}.example.com"),
            "--match-image '{team}.example.com' would stop the kubelet loading any provider: "
            'parse "https://{team}.example.com": invalid character "{" in host name',
        ),
        (
            ("--match-image", "registry.example.com/%zz"),
            "--match-image 'registry.example.com/%zz' would stop the kubelet loading any provider: "
            'parse "https://registry.example.com/%zz": invalid URL escape "%zz"',
        ),
        (("--kubelet-version", "latest"), "--kubelet-version takes a version like 1.33 or v1.33.2, not 'latest'"),
        (
            ("--kubelet-version", "1.23"),
            "kubelet 1.23 is older than credctl writes configs for (1.24 and newer; 1.20 to 1.23 needed the alpha "
            "KubeletCredentialProviders feature gate)",
        ),
        (
            ("--kubelet-version", "1.25", "--api-version", "v1"),
            "kubelet 1.25 does not know --api-version v1 (it reads v1beta1, v1alpha1)",
        ),
        (
            ("--cache-type", "Token"),
            "--cache-type goes with --pod-identity (it is the kubelet's cache key for pods' tokens)",
        ),
        (("--pod-identity", "--cache-type", "Pod"), "--cache-type must be ServiceAccount or Token, not 'Pod'"),
        (("--pod-identity", "--audience", ""), "--audience must not be empty: the kubelet requires a token audience"),
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
            "credctl has no login for registry.example.com: log in with `credctl login registry.example.com` "
            "(it says where the login would go)",
        ),
    ],
)
def test_pull_secret_refusals(tmp_path, args, status, line):
    result = credctl(acr_env(tmp_path, NO_COLOR="1"), "k8s", "pull-secret", *args)
    if status == 2:
        assert world.usage_error(result, "k8s pull-secret") == line
    else:
        assert (result.returncode, result.stdout, result.stderr) == (status, "", f"error: {line}\n")
