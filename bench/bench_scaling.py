"""How `docker-credential-pass list` and `credctl list` grow from 10 to 10,000 stored servers.

    python bench/bench_scaling.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable). For each
size it fills a throwaway pass store (one gpg encryption, copied), lets it settle past the list
cache's 2 s "racy" window, then times, alternately: our `list` (warm cache), our `list` with no
usable cache, Debian's Go `list`, and `credctl list --json` (config: credsStore pass).
Then the classic builder's pattern (one `list`, a `get` per entry) at 10 and 100 entries, ours
against Go. Information only: the budgets live in the other benchmarks.
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
from common import Command, Unavailable, measure  # noqa: E402

BIN = Path(sys.executable).parent
SIZES = (10, 100, 1000, 10000)
BUILDER_SIZES = (10, 100)  # the classic builder: one `list`, then one `get` per entry
MAX_ROUNDS = 7  # a 10,000-entry round takes seconds; medians settle well before


def collect(rounds: int) -> list[common.Row]:
    absent = world.missing(str(BIN / "docker-credential-pass"), world.GO_PASS, "gpg", "pass")
    if absent:
        raise Unavailable(f"not installed here: {', '.join(absent)}")
    home = world.make_gnupg_home()
    scratch = Path(tempfile.mkdtemp(prefix="credctl-bench-scale-"))
    lines = []
    try:
        fpr = world.generate_key(home)
        rounds = min(rounds, MAX_ROUNDS)
        for size in SIZES:
            lines.append((size, measure_size(home, fpr, scratch / str(size), size, rounds)))
        builds = [
            (size, measure_builder(home, fpr, scratch / f"builder-{size}", size, rounds)) for size in BUILDER_SIZES
        ]
    finally:
        world.stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print("\nservers   ours list  no cache   Go list  credctl list   (medians, ms)")
    for size, timings in lines:
        print(f"{size:>7}  " + "  ".join(f"{timings[name].median:>9.1f}" for name in NAMES) + "  ")
    print("\nclassic builder (one list, then one get per entry; medians, ms)")
    print("entries       ours        Go   ratio")
    for size, timings in builds:
        ours, go = timings["ours builder"].median, timings["Go builder"].median
        print(f"{size:>7}  {ours:>9.1f} {go:>9.1f}  {ours / go:>5.2f}")
    return []  # information only


NAMES = ("ours list", "ours list, no cache", "Go list", "credctl list --json")


def measure_size(home: Path, fpr: str, base: Path, size: int, rounds: int) -> dict[str, common.Timing]:
    env = store_at_rest(home, fpr, base, size)
    commands = [
        Command(NAMES[0], [str(BIN / "docker-credential-pass"), "list"], b"", env),
        Command(NAMES[1], [str(BIN / "docker-credential-pass"), "list"], b"", {**env, "XDG_CACHE_HOME": "/dev/null/x"}),
        Command(NAMES[2], [world.GO_PASS, "list"], b"", env),
        Command(NAMES[3], [str(BIN / "credctl"), "list", "--json"], b"", env),
    ]
    print(f"[{size} servers] {rounds} rounds ...", flush=True)
    return measure(commands, rounds=rounds, warmup=1)


def measure_builder(home: Path, fpr: str, base: Path, size: int, rounds: int) -> dict[str, common.Timing]:
    """What `docker build` with the classic builder asks a credsStore for: `list`, then a `get` of
    every listed server, one process each, as a shell runs them (the same shell for both)."""
    env = store_at_rest(home, fpr, base, size)
    servers = [f"https://registry-{i:04d}.bench.example.com/v2/" for i in range(size)]
    script = base / "servers"
    script.write_text("".join(f"{server}\n" for server in servers))
    pattern = (
        'h=$1; "$h" list >/dev/null && while read -r s; do printf %s "$s" | "$h" get >/dev/null || exit 1; done < "$2"'
    )
    commands = [
        Command(name, ["sh", "-c", pattern, "sh", program, str(script)], b"", env)
        for name, program in (("ours builder", str(BIN / "docker-credential-pass")), ("Go builder", world.GO_PASS))
    ]
    print(f"[classic builder, {size} entries] {rounds} rounds ...", flush=True)
    return measure(commands, rounds=max(1, rounds // 2), warmup=1)


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
