"""Every benchmark in bench/, one after the other, and one verdict table.

    python bench/run_all.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (a regular install, not
editable): the README's (scripts/install.sh, lean launchers) and pipx's (pip's console scripts)
are each measured this way. Each path: our median, the peer's median in the same alternating run, the ratio
and its budget (docs/benchmarks.md). Exit status 0 only when every budget is met.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_acr
import bench_cli
import bench_pass
import bench_router
import bench_scaling
import bench_secretservice
import common

BENCHMARKS = (bench_pass, bench_secretservice, bench_acr, bench_router, bench_cli, bench_scaling)


def install_kind() -> str:
    """Which launchers the measured venv has: install.sh's lean ones, or pip's (pipx, pip)."""
    script = Path(sys.executable).parent / "docker-credential-pass"
    try:
        first = script.read_text().split("\n", 1)[0]
    except OSError:
        return f"{script} is missing"
    return "install.sh's lean launchers (python -IS)" if first.endswith(" -IS") else "pip's console scripts (pipx, pip)"


def collect(rounds: int) -> list[common.Row]:
    print(f"measuring {Path(sys.executable).parent.parent}: {install_kind()}")
    rows: list[common.Row] = []
    for benchmark in BENCHMARKS:
        print(f"\n=== {Path(benchmark.__file__).name}", flush=True)
        rows += benchmark.collect(rounds)
    return rows


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
