"""Helper-path hygiene: what each docker-credential-* action imports (python -X importtime).

Docker starts a helper process for every registry it touches, so heavy libraries must stay off
the paths that can be served without them. Not a timing test: it reads which modules load.
"""

import subprocess
import sys

import pytest
import world
from world import run_helper

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


@pytest.fixture
def stored(ours, pass_env):
    body = b'{"ServerURL":"h.example","Username":"u","Secret":"s"}'
    assert run_helper(ours, "store", body, pass_env).returncode == 0
    return pass_env


@pytest.mark.parametrize(
    ("argv_tail", "stdin"),
    [(["get"], b"h.example"), (["get"], b"missing.example"), (["list"], b""), (["version"], b""), (["erase"], b"")],
)
@pytest.mark.parametrize("program", ["docker-credential-pass", "credctl helper pass"])
def test_helper_paths_stay_light(stored, startup, program, argv_tail, stdin):
    script, *extra = program.split()
    modules = imported_modules([world.ours(script), *extra, *argv_tail], stdin, stored) - startup
    assert "credctl.protocol" in modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
    assert modules.isdisjoint(SLOW_STDLIB), sorted(modules & set(SLOW_STDLIB))


def test_store_path_has_no_heavy_libraries(stored, startup):
    body = b'{"ServerURL":"x.example","Username":"u","Secret":"s"}'
    modules = imported_modules([world.ours(), "store"], body, stored) - startup
    assert "credctl.stores.passstore" in modules
    assert roots(modules).isdisjoint(HEAVY), sorted(roots(modules) & set(HEAVY))
