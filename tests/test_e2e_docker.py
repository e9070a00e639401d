"""End to end: the real docker CLIs (client only, no daemon) and skopeo against a real
docker-registry, storing and reading credentials through our docker-credential-pass.

docker login/logout and manifest inspect run the helper client-side (reference:
docker-config-and-clients.md §1.8, §1.9); skopeo reads only credHelpers, never credsStore (§3.2).
Every docker test runs once per docker CLI of the test world (conftest's docker_cli: Debian 12's
docker 20.10 and Debian 13's 26.1, taken out of their packages by scripts/test.sh).
"""

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import world

TIMEOUT = 120
IMAGE = "credctl/hello"
# The same tiny image under one tag per manifest format (world.MANIFEST_FORMATS).
TAGS = {"oci": "v1-oci", "v2s2": "v1-v2s2"}
# The manifest formats each docker CLI of the test world reads with `docker manifest inspect`:
# docker 20.10 answers "no such manifest" for a tag whose only manifest is OCI (an image pushed by
# a current tool often is), docker 26.1 reads both. Docker's own schema 2 serves every client.
DOCKER_READS = {"docker-20.10": {"v2s2"}, "docker-26.1": {"oci", "v2s2"}}
EVERY_CLIENT_READS = "v2s2"


@pytest.fixture(scope="module")
def images(registry) -> dict[str, str]:
    """Manifest format → digest of the image pushed to registry as IMAGE:TAGS[format]."""
    user, password = registry.user, registry.password
    return {manifest: world.push_image(registry, IMAGE, TAGS[manifest], user, password, manifest) for manifest in TAGS}


@pytest.fixture(scope="module")
def image(images) -> str:
    """The digest of the OCI-manifest tag, which skopeo reads (as it reads both)."""
    return images["oci"]


def reference(registry, manifest: str = "oci") -> str:
    return f"{registry.address}/{IMAGE}:{TAGS[manifest]}"


@pytest.fixture
def env(pass_env, tmp_path: Path) -> dict[str, str]:
    """A user with {"credsStore": "pass"}: HOME, XDG dirs and DOCKER_CONFIG in tmp_path, our bin first on PATH."""
    result = world.docker_env(pass_env, tmp_path, {"credsStore": "pass"})
    # What docker runs for credsStore "pass" is the first docker-credential-pass on this PATH
    # (Go's exec.LookPath, the same rule as shutil.which): ours, not Debian's Go helper.
    assert shutil.which("docker-credential-pass", path=result["PATH"]) == world.ours()
    return result


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def our_list(env: dict[str, str]) -> dict[str, str]:
    result = run([world.ours(), "list"], env, "unused")
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout)


def assert_no_plaintext(config: Path, *secrets: str) -> None:
    text = config.read_text()
    data = json.loads(text)
    for entry in data.get("auths", {}).values():
        assert not set(entry) & {"auth", "password", "identitytoken", "registrytoken"}, entry
    for secret in secrets:
        assert secret not in text


def test_the_docker_clis_are_the_versions_named(docker_cli):
    version = run([docker_cli, "--version"], {"PATH": "/usr/bin:/bin"})
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"Docker version {Path(docker_cli).name.removeprefix('docker-')}.")


def test_docker_login_inspect_logout(docker_cli, registry, images, env):
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    image = reference(registry, EVERY_CLIENT_READS)

    login = run(
        [docker_cli, "login", "-u", registry.user, "--password-stdin", registry.address], env, registry.password
    )
    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    assert "unencrypted" not in login.stdout + login.stderr  # docker's plaintext warning
    assert_no_plaintext(config, registry.password)
    assert json.loads(config.read_text())["credsStore"] == "pass"
    assert our_list(env) == {registry.address: registry.user}

    inspect = run([docker_cli, "manifest", "inspect", "--insecure", "-v", image], env)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Descriptor"]["digest"] == images[EVERY_CLIENT_READS]

    # credctl's doctor agrees, and its --online login works with what docker stored.
    doctor = run([world.ours("credctl"), "verify", "--json", "--online", registry.address], env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    rows = {(r["check"], r["target"]): r["status"] for r in json.loads(doctor.stdout)}
    assert rows[("login", registry.address)] == "ok"
    assert rows[("round trip", "docker-credential-pass")] == "ok"

    logout = run([docker_cli, "logout", registry.address], env)
    assert logout.returncode == 0, logout.stderr
    assert f"Removing login credentials for {registry.address}" in logout.stdout
    assert our_list(env) == {}
    assert_no_plaintext(config, registry.password)

    denied = run([docker_cli, "manifest", "inspect", "--insecure", image], env)
    assert denied.returncode != 0
    assert "no basic auth credentials" in denied.stderr or "unauthorized" in denied.stderr.lower()


def test_docker_login_with_a_wrong_password_stores_nothing(docker_cli, registry, env):
    login = run([docker_cli, "login", "-u", registry.user, "--password-stdin", registry.address], env, "wrong-pw")
    assert login.returncode != 0
    assert "unauthorized" in login.stderr.lower()
    assert our_list(env) == {}
    assert_no_plaintext(Path(env["DOCKER_CONFIG"]) / "config.json", "wrong-pw")


@pytest.mark.parametrize("manifest", sorted(TAGS))
def test_docker_manifest_inspect_of_each_format(docker_cli, registry, images, env, manifest):
    """What each docker CLI makes of each manifest format, logged in through credctl's helper."""
    store_login(registry, env)
    inspect = run([docker_cli, "manifest", "inspect", "--insecure", "-v", reference(registry, manifest)], env)
    if manifest in DOCKER_READS[Path(docker_cli).name]:
        assert inspect.returncode == 0, inspect.stderr
        assert json.loads(inspect.stdout)["Descriptor"]["digest"] == images[manifest]
    else:
        assert (inspect.returncode, inspect.stdout) == (1, "")
        assert inspect.stderr == f"no such manifest: {reference(registry, manifest)}\n"


def skopeo_inspect(registry, env: dict[str, str], manifest: str = "oci") -> subprocess.CompletedProcess:
    return run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference(registry, manifest)}"], env)


def store_login(registry, env: dict[str, str]) -> None:
    data = json.dumps({"ServerURL": registry.address, "Username": registry.user, "Secret": registry.password})
    stored = run([world.ours(), "store"], env, data + "\n")
    assert stored.returncode == 0, stored.stdout


def test_skopeo_reads_through_credhelpers(registry, images, env, tmp_path):
    auth_json = tmp_path / "auth.json"
    auth_json.write_text(json.dumps({"credHelpers": {registry.address: "pass"}}, indent="\t"))
    env = {**env, "REGISTRY_AUTH_FILE": str(auth_json)}

    denied = skopeo_inspect(registry, env)  # the helper has nothing yet
    assert denied.returncode != 0
    assert "unauthorized" in denied.stderr.lower() or "authentication required" in denied.stderr.lower()

    store_login(registry, env)
    for manifest, digest in images.items():  # skopeo reads both formats
        inspect = skopeo_inspect(registry, env, manifest)
        assert inspect.returncode == 0, inspect.stderr
        assert json.loads(inspect.stdout)["Digest"] == digest
    assert_no_plaintext(auth_json, registry.password)


def test_skopeo_ignores_credsstore(registry, image, env, tmp_path):
    """Why `credctl setup` writes credHelpers for Podman: credsStore alone gets skopeo nothing."""
    auth_json = tmp_path / "auth.json"
    auth_json.write_text(json.dumps({"credsStore": "pass"}))
    env = {**env, "REGISTRY_AUTH_FILE": str(auth_json)}
    store_login(registry, env)

    denied = skopeo_inspect(registry, env)

    assert denied.returncode != 0
    assert "unauthorized" in denied.stderr.lower() or "authentication required" in denied.stderr.lower()


def test_migrate_keeps_docker_authenticated(docker_cli, registry, images, env):
    """A plaintext login moved by `credctl migrate`: the password leaves config.json, docker still gets in."""
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    auth = base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()
    config.write_text(json.dumps({"auths": {registry.address: {"auth": auth}}, "psFormat": "x"}, indent="\t"))
    image = reference(registry, EVERY_CLIENT_READS)
    assert run([docker_cli, "manifest", "inspect", "--insecure", image], env).returncode == 0  # plaintext

    migrated = run([world.ours("credctl"), "migrate", "--to", "pass", "--yes"], env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert registry.password not in migrated.stdout + migrated.stderr
    assert_no_plaintext(config, registry.password, auth)
    assert json.loads(config.read_text()) == {"auths": {registry.address: {}}, "psFormat": "x", "credsStore": "pass"}
    assert our_list(env) == {registry.address: registry.user}

    inspect = run([docker_cli, "manifest", "inspect", "--insecure", "-v", image], env)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Descriptor"]["digest"] == images[EVERY_CLIENT_READS]


def test_setup_serves_docker_and_skopeo(docker_cli, registry, images, env, tmp_path):
    """`credctl setup --podman` after a login: docker gets in, and skopeo (which ignores credsStore)
    too, through credctl's registries.conf.d drop-in (Podman's own credsStore): nothing is named
    in the auth file."""
    auth_json = tmp_path / "podman-auth.json"
    env = {**env, "REGISTRY_AUTH_FILE": str(auth_json)}
    store_login(registry, env)
    result = run([world.ours("credctl"), "setup", "--store", "pass", "--podman", "--no-migrate", "--yes"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not auth_json.exists()
    docker = run([docker_cli, "manifest", "inspect", "--insecure", "-v", reference(registry, EVERY_CLIENT_READS)], env)
    assert docker.returncode == 0, docker.stderr
    assert json.loads(docker.stdout)["Descriptor"]["digest"] == images[EVERY_CLIENT_READS]
    inspect = skopeo_inspect(registry, env)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == images["oci"]


def test_credctl_map_serves_skopeo(registry, image, env, tmp_path):
    """`credctl map REGISTRY pass --podman` writes the auth file skopeo reads (REGISTRY_AUTH_FILE)."""
    auth_json = tmp_path / "mapped-auth.json"
    env = {**env, "REGISTRY_AUTH_FILE": str(auth_json)}
    store_login(registry, env)
    mapped = run([world.ours("credctl"), "map", registry.address, "pass", "--podman"], env)
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert json.loads(auth_json.read_text()) == {"credHelpers": {registry.address: "pass"}}
    inspect = skopeo_inspect(registry, env)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == image
    unmapped = run([world.ours("credctl"), "unmap", registry.address, "--podman"], env)
    assert unmapped.returncode == 0, unmapped.stderr
    # map --podman also wrote credctl's drop-in (nothing routed Podman's logins) for this registry
    # alone: unmap took it out with the entry, so no helper is named for it any more.
    assert skopeo_inspect(registry, env).returncode != 0


# --- Kubernetes: what the kubelet plugin and a pull Secret give really pulls -----------------------


def kubelet_login(env: dict[str, str], image: str) -> dict:
    """credctl-kubelet-provider's response for image, run as the kubelet runs it."""
    request = {"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest"}
    result = run([world.ours("credctl-kubelet-provider")], env, json.dumps({**request, "image": image}))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return json.loads(result.stdout)


def inspect_with_auth_file(registry, env: dict[str, str], auths: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """skopeo with nothing but an auth file made from what Kubernetes would be given."""
    auth_file = tmp_path / "k8s-auth.json"
    auth_file.touch(mode=0o600)
    auth_file.write_text(json.dumps(auths))
    bare = {key: value for key, value in env.items() if key not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    image = f"docker://{reference(registry)}"
    return run(["skopeo", "inspect", "--tls-verify=false", "--authfile", str(auth_file), image], bare)


def test_the_kubelet_plugin_serves_what_docker_login_stored(docker_cli, registry, image, env, tmp_path):
    from credctl.kubelet import urls_match

    login = run(
        [docker_cli, "login", "-u", registry.user, "--password-stdin", registry.address], env, registry.password
    )
    assert login.returncode == 0, login.stderr
    response = kubelet_login(env, reference(registry))
    [(key, auth)] = response["auth"].items()
    assert key == registry.address and urls_match(key, reference(registry))
    token = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode()
    inspect = inspect_with_auth_file(registry, env, {"auths": {key: {"auth": token}}}, tmp_path)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == image


def test_a_pull_secret_really_pulls(registry, image, env, tmp_path):
    store_login(registry, env)
    result = run([world.ours("credctl"), "k8s", "pull-secret", registry.address, "--name", "regcred"], env)
    assert result.returncode == 0, result.stderr
    import yaml

    secret = yaml.safe_load(result.stdout)
    dockerconfigjson = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    inspect = inspect_with_auth_file(registry, env, dockerconfigjson, tmp_path)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == image


def test_an_acr_token_from_the_kubelet_plugin_really_pulls(aliyun, registry, image, env, tmp_path):
    """A registry known to credctl as a custom ACR domain, whose token the fake API issues as the
    real registry's password: the plugin's answer opens it."""
    from world import ALIYUN_INSTANCE, ALIYUN_KEY_ID, ALIYUN_KEY_SECRET

    aliyun.fixed_token, aliyun.username = registry.password, registry.user
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    custom = {"region": ALIYUN_INSTANCE[2], "instance_id": ALIYUN_INSTANCE[0]}
    settings.write_text(json.dumps({"acr_registries": {"127.0.0.1": custom}}))
    acr = {
        **env,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CREDCTL_ACR_ENDPOINT": aliyun.url,
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIYUN_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIYUN_KEY_SECRET,
    }
    response = kubelet_login(acr, reference(registry))
    assert response["cacheDuration"] and aliyun.issued[-1].access_key_id == ALIYUN_KEY_ID
    auth = response["auth"][registry.address]
    token = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode()
    inspect = inspect_with_auth_file(registry, env, {"auths": {registry.address: {"auth": token}}}, tmp_path)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == image
