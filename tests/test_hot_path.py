"""Helper-path hygiene: what each docker-credential-* action imports (python -X importtime).

Docker starts a helper process for every registry it touches, so heavy libraries must stay off
the paths that can be served without them. Not a timing test: it reads which modules load.
"""

import subprocess
import sys

import pytest
import world
from world import run_helper

from credctl.stores import STORES

HEAVY = ("typer", "rich", "pydantic", "click", "gnupg", "keyring", "secretstorage", "alibabacloud", "Tea", "darabonba")
# Our own speed rule for get/list: not even these stdlib modules (each pulls in re or enum).
SLOW_STDLIB = ("json", "re", "subprocess", "typing", "dataclasses", "base64", "pathlib", "enum")


def imported_modules(argv: list[str], stdin: bytes, env: dict[str, str]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], input=stdin, env=env, capture_output=True, timeout=60
    )
    names = set()
    for line in result.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    names.discard("package")  # the header line
    assert names, result.stderr
    return names


@pytest.fixture(scope="module")
def startup() -> set[str]:
    """What the interpreter (site, .pth files of this venv) imports before our code runs."""
    return imported_modules(["-c", "pass"], b"", {})


def roots(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


BODY = b'{"ServerURL":"h.example","Username":"u","Secret":"s"}'


@pytest.fixture(params=["pass", "secretservice"])
def stored(request):
    """(store, env) with one credential for h.example stored through our helper."""
    if request.param == "pass":
        env = request.getfixturevalue("pass_env")
    else:
        env = request.getfixturevalue("secret_service").env
    assert run_helper(world.ours(f"docker-credential-{request.param}"), "store", BODY, env).returncode == 0
    return request.param, env


@pytest.mark.parametrize(
    ("argv_tail", "stdin"),
    [(["get"], b"h.example"), (["get"], b"missing.example"), (["list"], b""), (["version"], b""), (["erase"], b"")],
)
@pytest.mark.parametrize("form", ["program", "credctl helper"])
def test_helper_paths_stay_light(stored, startup, form, argv_tail, stdin):
    store, env = stored
    argv = [world.ours(f"docker-credential-{store}")] if form == "program" else [world.ours("credctl"), "helper", store]
    modules = imported_modules([*argv, *argv_tail], stdin, env) - startup
    assert "credctl.protocol" in modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert modules.isdisjoint(SLOW_STDLIB), sorted(modules & set(SLOW_STDLIB))


def test_store_path_has_no_heavy_libraries(stored, startup):
    store, env = stored
    body = b'{"ServerURL":"x.example","Username":"u","Secret":"s"}'
    modules = imported_modules([world.ours(f"docker-credential-{store}"), "store"], body, env) - startup
    assert STORES[store].module in modules  # the store's own module
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))


def test_keyring_store_loads_only_its_backend(ours_keyring, secret_service, startup):
    """With the backend named, the keyring helper imports keyring and that backend, nothing heavier."""
    env = {**secret_service.env, "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    assert run_helper(ours_keyring, "store", BODY, env).returncode == 0
    modules = imported_modules([ours_keyring, "get"], b"h.example", env) - startup
    assert "keyring.backends.SecretService" in modules
    heavy = set(HEAVY) - {"keyring", "secretstorage"}  # what this store strictly needs
    assert roots(modules).isdisjoint(heavy), sorted(roots(modules) & heavy)


def test_kubelet_plugin_stays_light(pass_env, startup, tmp_path):
    """credctl-kubelet-provider serving a pass login: JSON is its protocol, but no CLI library,
    no SDK and no subprocess (the ACR warm path: tests/test_kubelet_acr.py)."""
    assert run_helper(world.ours("docker-credential-pass"), "store", BODY, pass_env).returncode == 0
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text('{"credHelpers": {"h.example": "pass"}}')
    env = {**pass_env, "DOCKER_CONFIG": str(tmp_path / "docker")}
    request = b'{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest",'
    request += b'"image":"h.example/a"}'
    modules = imported_modules([world.ours("credctl-kubelet-provider")], request, env) - startup
    assert {"credctl.kubelet", "credctl.stores.passstore"} <= modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert "subprocess" not in modules
