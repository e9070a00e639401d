"""Helper-path hygiene: what each docker-credential-* action imports (python -X importtime).

Docker starts a helper process for every registry it touches, so heavy libraries must stay off
the paths that can be served without them. Not a timing test: it reads which modules load.
"""

import json
import subprocess
import sys

import pytest
import world
from world import importtime_modules, run_helper

from credctl.stores import STORES

HEAVY = ("typer", "rich", "pydantic", "click", "gnupg", "keyring", "secretstorage", "alibabacloud", "Tea", "darabonba")
# Our own speed rule for get/list: not even these stdlib modules (each pulls in re or enum).
SLOW_STDLIB = ("json", "re", "subprocess", "typing", "dataclasses", "base64", "pathlib", "enum", "collections")


def imported_modules(argv: list[str], stdin: bytes, env: dict[str, str]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], input=stdin, env=env, capture_output=True, timeout=60
    )
    names = set(importtime_modules(result.stderr))
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
def stored(request) -> world.StoreWorld:
    """The store's world with one credential for h.example stored through our helper."""
    store = world.store_world(request.param, request)
    assert run_helper(store.program, "store", BODY, store.env).returncode == 0
    return store


@pytest.mark.parametrize(
    ("argv_tail", "stdin"),
    [(["get"], b"h.example"), (["get"], b"missing.example"), (["list"], b""), (["version"], b""), (["erase"], b"")],
)
@pytest.mark.parametrize("form", ["program", "credctl helper"])
def test_helper_paths_stay_light(stored, startup, form, argv_tail, stdin):
    argv = [stored.program] if form == "program" else [world.ours("credctl"), "helper", stored.name]
    modules = imported_modules([*argv, *argv_tail], stdin, stored.env) - startup
    assert "credctl.protocol" in modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert modules.isdisjoint(SLOW_STDLIB), sorted(modules & set(SLOW_STDLIB))


def test_store_path_has_no_heavy_libraries(stored, startup):
    body = b'{"ServerURL":"x.example","Username":"u","Secret":"s"}'
    modules = imported_modules([stored.program, "store"], body, stored.env) - startup
    assert STORES[stored.name].module in modules  # the store's own module
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))


def test_keyring_store_on_the_secret_service_loads_no_library(request, startup):
    """With keyring's SecretService backend named, the keyring helper speaks to its items itself
    (credctl.stores.keyring_secretservice): not even keyring or secretstorage is imported."""
    store = world.store_world("keyring", request)
    assert run_helper(store.program, "store", BODY, store.env).returncode == 0
    modules = imported_modules([store.program, "get"], b"h.example", store.env) - startup
    assert "credctl.stores.keyring_secretservice" in modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert modules.isdisjoint(SLOW_STDLIB), sorted(modules & set(SLOW_STDLIB))


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


def test_router_warm_acr_get_stays_light(aliyun, startup, tmp_path):
    """docker-credential-credctl with a cached token for a glob route to acr: ACR in-process, and
    nothing heavy: no SDK, no CLI library, no credctl.client (no other program), no login store."""
    env = world.with_key(world.acr_env(tmp_path, aliyun))
    settings = tmp_path / "config" / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"routes": {"*-registry.*.cr.aliyuncs.com": "acr"}, "route_default": "pass"}')
    router = world.ours("docker-credential-credctl")
    assert run_helper(router, "get", world.EE, env).returncode == 0  # cold: the token is cached
    before = aliyun.requests
    modules = imported_modules([router, "get"], world.EE.encode(), env) - startup
    assert aliyun.requests == before  # warm: the cache answered
    assert {"credctl.router", "credctl.stores.acr"} <= modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert modules.isdisjoint(SLOW_STDLIB), sorted(modules & set(SLOW_STDLIB))
    assert {"credctl.client", "credctl.stores.passstore", "credctl.dockerconfig"} & modules == set()


def test_router_warm_pass_get_stays_light(pass_env, startup, tmp_path):
    """docker-credential-credctl serving a login from a rule's pass store: pass in-process and
    nothing heavy: no SDK, no CLI library, no credctl.client (no other program), no slow stdlib."""
    env = {**pass_env, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    settings = tmp_path / "config" / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"routes": {"h.example": "pass"}, "route_default": "secretservice"}')
    router = world.ours("docker-credential-credctl")
    assert run_helper(world.ours("docker-credential-pass"), "store", BODY, env).returncode == 0
    assert (
        run_helper(router, "get", b"h.example", env).stdout
        == b'{"ServerURL":"h.example","Username":"u","Secret":"s"}\n'
    )
    modules = imported_modules([router, "get"], b"h.example", env) - startup
    assert {"credctl.router", "credctl.stores.passstore"} <= modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert roots(modules).isdisjoint(world.SDK_MODULES), sorted(roots(modules) & set(world.SDK_MODULES))
    assert modules.isdisjoint(SLOW_STDLIB), sorted(modules & set(SLOW_STDLIB))
    assert {"credctl.client", "credctl.stores.secretservice", "credctl.acr"} & modules == set()


# -- no os, and credctl's modules from their pycs ------------------------------------------------
# A get of the ACR helper, the kubelet plugin, the Secret Service helper and the router's ACR
# route runs without the os module (credctl.posixfs: about 1 ms of a start), and neither resource
# nor ctypes is loaded for the no-core-dump set-up (credctl.process); credctl.quickimport loads
# credctl's modules. Run as the lean launchers run them: python -I -S, the venv's site-packages.

LEAN_ENTRY = """
import atexit, sys
sys.path.append(sys.argv[1])
main, sys.argv = sys.argv[2], [sys.argv[3], *sys.argv[4:]]
def report():
    quick = {name for name, module in sys.modules.items() if type(module.__loader__).__name__ == "type"}
    loaded = [name for name in ("os", "resource", "ctypes") if name in sys.modules]
    protocol, errors = "credctl.protocol" in quick, "credctl.errors" in quick
    sys.stderr.write(f"loaded {loaded}; quick protocol {protocol}, errors {errors}\\n")
atexit.register(report)  # with a hook, credctl.entry._end returns, and the hook runs at exit
from credctl import entry
sys.exit(getattr(entry, main)())
"""
NO_OS = b"loaded []; quick protocol True, errors True\n"


def lean_entry(main: str, program: str, args: list[str], stdin: bytes, env: dict[str, str]):
    import sysconfig

    command = [sys.executable, "-I", "-S", "-c", LEAN_ENTRY, sysconfig.get_path("purelib"), main, program, *args]
    return subprocess.run(command, input=stdin, env=env, capture_output=True, timeout=60)


def test_acr_warm_get_and_the_kubelet_plugin_run_without_os(aliyun, tmp_path):
    env = world.with_key(world.acr_env(tmp_path, aliyun))
    helper = world.ours("docker-credential-acr-helper")
    first = run_helper(helper, "get", world.EE, env)
    assert first.returncode == 0, first.stderr  # cold: the token is cached now
    before = aliyun.requests
    warm = lean_entry("acr_main", helper, ["get"], world.EE.encode(), env)
    assert (warm.returncode, warm.stdout, warm.stderr) == (0, first.stdout, NO_OS)
    request = world.request(f"{world.EE}/team/app:1")
    plugin = lean_entry("kubelet_main", world.ours("credctl-kubelet-provider"), [], json.dumps(request).encode(), env)
    assert (plugin.returncode, plugin.stderr) == (0, NO_OS.replace(b"protocol True", b"protocol False"))
    assert json.loads(plugin.stdout)["auth"][world.EE]["password"] == json.loads(first.stdout)["Secret"]
    router = world.ours("docker-credential-credctl")
    routed = lean_entry("credctl_main", router, ["get"], world.EE.encode(), env)  # ACR by the built-in rule
    assert (routed.returncode, routed.stdout, routed.stderr) == (0, first.stdout, NO_OS)
    assert aliyun.requests == before


def test_secretservice_get_runs_without_os(request):
    store = world.store_world("secretservice", request)
    assert run_helper(store.program, "store", BODY, store.env).returncode == 0
    result = lean_entry("secretservice_main", store.program, ["get"], b"h.example", store.env)
    assert (result.returncode, result.stdout, result.stderr) == (0, BODY + b"\n", NO_OS)
