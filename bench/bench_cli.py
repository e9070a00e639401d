"""Start-up of the human CLI: `credctl --help` and `credctl --version` against a bare interpreter.

    python bench/bench_cli.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable).
Budget: `credctl --help` <= 12x `python -I -S -c pass` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import common
from common import Command, CommandFailed, Row, measure

CREDCTL = Path(sys.executable).parent / "credctl"
FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]
BUDGET_HELP = 12.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=common.DEFAULT_ROUNDS)
    args = parser.parse_args()
    if not CREDCTL.exists():
        print(f"error: {CREDCTL} is missing: run this with the python of the venv where credctl is installed")
        return 1
    help_ = Command("credctl --help", [str(CREDCTL), "--help"])
    version = Command("credctl --version", [str(CREDCTL), "--version"])
    floor = Command("python -I -S", FLOOR)
    try:
        print(f"[cli] {args.rounds} rounds ...", flush=True)
        timings = measure([help_, version, floor], rounds=args.rounds)
    except CommandFailed as err:
        print(f"\nerror: a command failed, benchmark aborted:\n{err}")
        return 1
    common.print_timings(timings)
    print()
    ok = common.print_table(
        [
            Row("credctl --help", ours=timings[help_.name], peer=timings[floor.name], budget=BUDGET_HELP),
            Row("credctl --version", ours=timings[version.name], peer=timings[floor.name], budget=BUDGET_HELP),
        ]
    )
    print("\nall budgets met" if ok else "\nbudget exceeded")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
