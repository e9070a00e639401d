"""credctl.quickimport: credctl's modules from their current pyc files, else Python's own import.

Each test runs an interpreter as the lean launchers do (python -I -S) on a copy of the package
compiled as pip compiles it, so that sources and pycs can be changed without touching the
installed credctl.
"""

import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import credctl

MODULES = [
    "credctl.protocol", "credctl.stores.passstore", "credctl.stores.secretservice", "credctl.acr.login",
    "credctl.kubelet", "credctl.router", "credctl.stores", "credctl.acr",
]  # fmt: skip

REPORT = """
import json, sys
sys.path.append(sys.argv[1])
from credctl import quickimport
if sys.argv[2] == "install":
    quickimport.install()
import importlib
found = {}
for name in sys.argv[3:]:
    module = importlib.import_module(name)
    found[name] = {
        "loader": type(module.__loader__).__name__, "file": module.__file__, "cached": module.__cached__,
        "package": module.__package__, "parent": module.__spec__.parent, "path": getattr(module, "__path__", None),
        "probe": getattr(module, "QUICKIMPORT_PROBE", None), "installed": quickimport._Loader in sys.meta_path,
    }
print(json.dumps(found))
"""


@pytest.fixture
def site(tmp_path) -> Path:
    """A copy of the credctl package, compiled to timestamp pycs as pip compiles it."""
    target = tmp_path / "site"
    shutil.copytree(Path(credctl.__file__).parent, target / "credctl", ignore=shutil.ignore_patterns("__pycache__"))
    assert compileall.compile_dir(target / "credctl", quiet=1)
    return target


def report(site: Path, *modules: str, install: bool = True, flags: tuple[str, ...] = ()) -> dict:
    result = subprocess.run(
        [sys.executable, "-I", "-S", *flags, "-c", REPORT, str(site), "install" if install else "no", *modules],
        capture_output=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    return json.loads(result.stdout)


def test_modules_load_as_python_loads_them(site):
    """Every attribute a module gets from Python's import it gets from the quick one."""
    quick, python = report(site, *MODULES), report(site, *MODULES, install=False)
    assert {found["loader"] for found in quick.values()} == {"type"}  # the _Loader class itself
    assert {found["loader"] for found in python.values()} == {"SourceFileLoader"}
    for name in MODULES:
        assert {**quick[name], "loader": "", "installed": ""} == {**python[name], "loader": "", "installed": ""}
    assert quick["credctl.stores"]["path"] == [str(site / "credctl" / "stores")]
    assert quick["credctl.protocol"]["file"] == str(site / "credctl" / "protocol.py")
    assert quick["credctl.protocol"]["cached"] == str(
        site / "credctl" / "__pycache__" / f"protocol.{sys.implementation.cache_tag}.pyc"
    )


def test_a_changed_source_is_python_s_to_compile(site):
    """A source edited after its pyc (new size, or the same size and a new mtime) is left to
    Python, which runs the new text and writes a new pyc; the next start loads that one quickly."""
    names = site / "credctl" / "names.py"
    names.write_text(names.read_text() + "QUICKIMPORT_PROBE = 1\n")
    first = report(site, "credctl.names")["credctl.names"]
    assert (first["loader"], first["probe"]) == ("SourceFileLoader", 1)
    second = report(site, "credctl.names")["credctl.names"]
    assert (second["loader"], second["probe"]) == ("type", 1)
    names.write_text(names.read_text().replace("QUICKIMPORT_PROBE = 1", "QUICKIMPORT_PROBE = 2"))
    stamp = os.stat(names).st_mtime + 10
    os.utime(names, (stamp, stamp))
    third = report(site, "credctl.names")["credctl.names"]
    assert (third["loader"], third["probe"]) == ("SourceFileLoader", 2)


@pytest.mark.parametrize("damage", ["hash-based", "truncated", "wrong magic", "no pyc"])
def test_a_pyc_it_cannot_vouch_for_is_python_s(site, damage):
    source = site / "credctl" / "names.py"
    pyc = Path(py_compile.compile(str(source), doraise=True))
    if damage == "hash-based":
        py_compile.compile(str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    elif damage == "truncated":
        pyc.write_bytes(pyc.read_bytes()[:10])  # a header cut short (a write that was interrupted)
    elif damage == "wrong magic":
        pyc.write_bytes(b"\0\0\0\0" + pyc.read_bytes()[4:])
    else:
        pyc.unlink()
    found = report(site, "credctl.names")["credctl.names"]
    assert found["loader"] == "SourceFileLoader"


def test_an_optimized_run_keeps_python_s_import(site):
    found = report(site, "credctl.names", flags=("-O",))["credctl.names"]
    assert (found["loader"], found["installed"]) == ("SourceFileLoader", False)


def test_other_packages_are_python_s(site):
    shutil.copytree(site / "credctl", site / "credctlx")
    found = report(site, "credctlx.names", "json.decoder")
    assert {found["credctlx.names"]["loader"], found["json.decoder"]["loader"]} == {"SourceFileLoader"}
