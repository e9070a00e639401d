"""A small start-up benchmark harness: whole processes, timed round-robin.

The machines we measure on are shared and drift by tens of percent over minutes, so commands
are never timed in blocks (all of A, then all of B). Every round runs each command once, in a
shuffled order, so drift hits all of them alike; medians and minima are taken over the rounds.

    commands = [Command("go", ["/usr/bin/prog", "get"], stdin=b"url", env=env), ...]
    timings = measure(commands, rounds=30)
    timings["go"].median, timings["go"].min   # milliseconds
    print_table([Row("get", ours=timings["ours"], peer=timings["go"], budget=0.75)])
"""

from __future__ import annotations

import random
import statistics
import subprocess
import time
from dataclasses import dataclass, field

DEFAULT_ROUNDS = 30
DEFAULT_WARMUP = 3
TIMEOUT = 60.0  # seconds for one run; a hung command is a failure, not a data point


@dataclass(frozen=True)
class Command:
    """One program run: argv, bytes on stdin and the environment (None: inherit ours)."""

    name: str
    argv: list[str]
    stdin: bytes = b""
    env: dict[str, str] | None = None


@dataclass
class Timing:
    """Wall-clock times of one command over all rounds, in milliseconds."""

    name: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)


class CommandFailed(Exception):
    """A command exited non-zero (or hung); the benchmark must stop, not average it in."""


def run_once(command: Command) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Run the command once; return (milliseconds, result). Raises CommandFailed."""
    start = time.perf_counter()
    try:
        result = subprocess.run(
            command.argv, input=command.stdin, capture_output=True, env=command.env, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise CommandFailed(f"{command.name}: {command.argv} did not finish within {TIMEOUT:.0f} s") from None
    except OSError as err:
        raise CommandFailed(f"{command.name}: cannot run {command.argv}: {err}") from None
    elapsed = (time.perf_counter() - start) * 1000.0
    if result.returncode != 0:
        raise CommandFailed(
            f"{command.name}: {command.argv} exited with status {result.returncode}\n"
            f"--- stdout ---\n{_show(result.stdout)}\n--- stderr ---\n{_show(result.stderr)}"
        )
    return elapsed, result


def _show(data: bytes, limit: int = 2000) -> str:
    text = data.decode("utf-8", "replace").rstrip("\n")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def measure(
    commands: list[Command], rounds: int = DEFAULT_ROUNDS, warmup: int = DEFAULT_WARMUP, seed: int | None = None
) -> dict[str, Timing]:
    """Warm up, then time every command once per round in a shuffled order; keyed by name."""
    names = [command.name for command in commands]
    if len(set(names)) != len(names):
        raise ValueError(f"command names must be unique: {names}")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    shuffler = random.Random(seed)
    for _ in range(warmup):  # page cache, gpg-agent, .pyc files: not what we measure
        for command in commands:
            run_once(command)
    timings = {command.name: Timing(command.name) for command in commands}
    order = list(commands)
    for _ in range(rounds):
        shuffler.shuffle(order)
        for command in order:
            elapsed, _result = run_once(command)
            timings[command.name].samples.append(elapsed)
    return timings


@dataclass(frozen=True)
class Row:
    """One line of the verdict table: ours against a peer, with a budget on ours/peer."""

    path: str
    ours: Timing
    peer: Timing
    budget: float

    @property
    def ratio(self) -> float:
        return self.ours.median / self.peer.median

    @property
    def passed(self) -> bool:
        return self.ratio <= self.budget


def print_table(rows: list[Row]) -> bool:
    """Print the verdict table (medians in ms); return True if every row is within budget."""
    header = ("path", "ours ms", "peer", "peer ms", "ratio", "budget", "result")
    lines = [
        (
            row.path,
            f"{row.ours.median:.1f}",
            row.peer.name,
            f"{row.peer.median:.1f}",
            f"{row.ratio:.2f}",
            f"<= {row.budget:.2f}",
            "PASS" if row.passed else "FAIL",
        )
        for row in rows
    ]
    _print_columns(header, lines, right={1, 3, 4, 5})
    return all(row.passed for row in rows)


def print_timings(timings: dict[str, Timing]) -> None:
    """Print every command's median and minimum (ms) over its rounds."""
    lines = [(t.name, f"{t.median:.1f}", f"{t.min:.1f}", str(len(t.samples))) for t in timings.values()]
    _print_columns(("command", "median ms", "min ms", "runs"), lines, right={1, 2, 3})


def _print_columns(header: tuple[str, ...], lines: list[tuple[str, ...]], right: set[int]) -> None:
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]

    def render(cells: tuple[str, ...]) -> str:
        padded = (
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    print(render(header))
    print("  ".join("-" * w for w in widths))
    for cells in lines:
        print(render(cells))


class Unavailable(Exception):
    """Something the benchmark needs is not installed here; the message says what."""


def cli(collect, doc: str | None) -> int:
    """The shared main of every bench_*.py: parse --rounds, collect rows, print the verdict."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help=f"timed rounds (default {DEFAULT_ROUNDS})")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        rows = collect(args.rounds)
    except (CommandFailed, Unavailable) as err:
        print(f"\nerror: {err}")
        return 1
    if not rows:
        return 0  # an information-only benchmark: it printed its own table
    print()
    ok = print_table(rows)
    print("\nall budgets met" if ok else "\nbudget exceeded")
    return 0 if ok else 1
