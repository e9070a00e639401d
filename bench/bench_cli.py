"""Start-up of the human CLI: `credctl --help` and `credctl --version` against a bare interpreter.

    python bench/bench_cli.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable).
Budget: `credctl --help` <= 12x `python -I -S -c pass` (docs/benchmarks.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import common
from common import Command, Row, Unavailable, measure

CREDCTL = Path(sys.executable).parent / "credctl"
FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]
BUDGET_HELP = 12.0


def collect(rounds: int) -> list[Row]:
    if not CREDCTL.exists():
        raise Unavailable(f"{CREDCTL} is missing: run this with the python of the venv where credctl is installed")
    help_ = Command("credctl --help", [str(CREDCTL), "--help"])
    version = Command("credctl --version", [str(CREDCTL), "--version"])
    floor = Command("python -I -S", FLOOR)
    print(f"[cli] {rounds} rounds ...", flush=True)
    timings = measure([help_, version, floor], rounds=rounds)
    common.print_timings(timings)
    return [
        Row("credctl --help", ours=timings[help_.name], peer=timings[floor.name], budget=BUDGET_HELP),
        Row("credctl --version", ours=timings[version.name], peer=timings[floor.name], budget=BUDGET_HELP),
    ]


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
