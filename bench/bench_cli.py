"""Start-up of the human CLI against a bare interpreter: `credctl --help`, `credctl --version`,
one TAB completion, and `credctl list` of 10 registries in pass.

    python bench/bench_cli.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable). Budgets
(docs/benchmarks.md), each against `python -I -S -c pass`: --help and --version 5x, a TAB
completion 6x, `credctl list` 8x.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import common  # noqa: E402
import world  # noqa: E402
from bench_pass import store_at_rest  # noqa: E402
from common import Command, Row, Unavailable, measure  # noqa: E402

BIN = Path(sys.executable).parent
CREDCTL = BIN / "credctl"
FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]
BUDGET_START = 5.0  # --help, --version
BUDGET_COMPLETION = 6.0
BUDGET_LIST = 8.0
LIST_REGISTRIES = 10


def collect(rounds: int) -> list[Row]:
    if not CREDCTL.exists():
        raise Unavailable(f"{CREDCTL} is missing: run this with the python of the venv where credctl is installed")
    absent = world.missing(str(BIN / "docker-credential-pass"), "gpg", "pass")
    if absent:
        raise Unavailable(f"not installed here: {', '.join(absent)}")
    home = world.make_gnupg_home()
    scratch = Path(tempfile.mkdtemp(prefix="credctl-bench-cli-"))
    try:
        env = store_at_rest(home, world.generate_key(home), scratch, LIST_REGISTRIES)
        commands = [
            Command("credctl --help", [str(CREDCTL), "--help"], b"", env),
            Command("credctl --version", [str(CREDCTL), "--version"], b"", env),
            # What bash's completion function runs for `credctl li<TAB>`.
            Command(
                "TAB: credctl li",
                [str(CREDCTL)],
                b"",
                {**env, "COMP_WORDS": "credctl li", "COMP_CWORD": "1", "_CREDCTL_COMPLETE": "complete_bash"},
            ),
            Command(f"credctl list ({LIST_REGISTRIES}, pass)", [str(CREDCTL), "list"], b"", env),
            Command("python -I -S", FLOOR, b"", env),
            # Information: the start of pip's console scripts (pipx's), `site` included.
            Command("python -E (site)", [sys.executable, "-E", "-c", "pass"], b"", env),
        ]
        print(f"[cli] {rounds} rounds ...", flush=True)
        timings = measure(commands, rounds=rounds)
    finally:
        world.stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    common.print_timings(timings)
    floor = timings["python -I -S"]
    budgets = (BUDGET_START, BUDGET_START, BUDGET_COMPLETION, BUDGET_LIST)
    return [
        Row(command.name, ours=timings[command.name], peer=floor, budget=budget)
        for command, budget in zip(commands, budgets, strict=False)
    ]


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
