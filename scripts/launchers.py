"""Rewrite credctl's console scripts in a venv as lean launchers (scripts/install.sh runs this).

    VENV/bin/python scripts/launchers.py VENV

pip's console script starts the interpreter with `site`, which reads pyvenv.cfg, scans
site-packages for .pth files and tries to import sitecustomize: 2 to 4 ms of every start, and Docker
starts a helper for every registry it touches. A launcher here runs `python -I -S` and puts the
venv's site-packages on sys.path itself: the same modules, found in the same places, without
site's work, and without PYTHONPATH or the user's site-packages reaching a credential helper.

Every console script of the credctl distribution is rewritten, atomically, keeping its mode. A
venv path a `#!` line cannot hold (Linux reads 127 bytes of it, and a space ends the path) keeps
pip's script, which pip then starts through /bin/sh. `pip install` of credctl again writes pip's scripts back.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from importlib.metadata import distribution

SHEBANG_LIMIT = 127  # bytes of a #! line that Linux (before 5.1) reads

TEMPLATE = """\
{shebang}
# credctl's launcher (scripts/launchers.py): {module}:{function} without `site`.
import sys
sys.prefix = sys.exec_prefix = {venv!r}  # as site sets them in a venv
{paths}
from {module} import {function}
sys.exit({function}())
"""


def site_packages() -> list[str]:
    """The venv's site-packages folders, as site would add them (purelib, then platlib)."""
    found: list[str] = []
    for name in ("purelib", "platlib"):
        path = sysconfig.get_path(name)
        if path not in found:
            found.append(path)
    return found


def launcher(venv: str, value: str, paths: list[str]) -> str | None:
    """The launcher for an entry point value 'module:function', or None when no #! line can
    name the venv's python: too long, or holding a space (the kernel ends the path there)."""
    python = os.path.join(venv, "bin", "python")
    shebang = f"#!{python} -IS"
    if len(shebang.encode()) > SHEBANG_LIMIT or any(c.isspace() for c in python):
        return None
    module, _, function = value.partition(":")
    lines = "\n".join(f"sys.path.append({path!r})" for path in paths)
    return TEMPLATE.format(shebang=shebang, venv=venv, module=module, function=function, paths=lines)


def write_launchers(venv: str) -> list[str]:
    """Rewrite every credctl console script in venv/bin; the names written."""
    bin_dir = os.path.join(venv, "bin")
    written = []
    for entry in distribution("credctl").entry_points.select(group="console_scripts"):
        script = os.path.join(bin_dir, entry.name)
        text = launcher(venv, entry.value, site_packages())
        if text is None or not os.path.isfile(script):
            continue
        mode = os.stat(script).st_mode & 0o7777
        temporary = f"{script}.credctl-new"
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, script)
        written.append(entry.name)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: VENV/bin/python scripts/launchers.py VENV")
    if os.path.realpath(sys.prefix) != os.path.realpath(sys.argv[1]):
        sys.exit(f"run this with {sys.argv[1]}/bin/python: site-packages must be that venv's")
    if not write_launchers(sys.argv[1]):  # install.sh says this line; all written is no news
        print("kept pip's console scripts: a #! line cannot hold the venv's path (too long, or a space)")
