"""Start-up benchmark of our docker-credential-pass against Debian's Go helper.

    python bench/bench_pass.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable). It builds a
throwaway gpg home and pass stores (tests/world.py), times whole processes round-robin
(bench/common.py) and exits 0 only if every ratio is within its budget. See bench/README.md.
"""

from __future__ import annotations

import base64
import json
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import common  # noqa: E402
import world  # noqa: E402
from common import Command, CommandFailed, Row, Unavailable, measure, run_once  # noqa: E402

OURS = Path(sys.executable).parent / "docker-credential-pass"
FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]
GET_URL = "https://registry.bench.example.com"
BUDGET_GET = 0.6  # ours / Go helper, `get` of one credential
BUDGET_STORE = 1.0  # ours / Go helper, `store` of one credential (what `docker login` runs)
# `list`: entries -> (budget against the bare interpreter, budget against Go or None)
BUDGET_LIST = {10: (1.6, None), 1000: (2.2, 1.0)}


def collect(rounds: int) -> list[Row]:
    if not Path(world.GO_PASS).is_file():
        raise Unavailable(
            f"Debian's Go helper {world.GO_PASS} is missing (apt-get install golang-docker-credential-helpers)"
        )
    absent = world.missing(str(OURS), "gpg", "gpgconf", "pass")
    if absent:
        raise Unavailable(f"not installed here: {', '.join(absent)} (run this with the venv's python where credctl is)")
    print_environment(rounds)
    warn_if_editable()
    home = world.make_gnupg_home()
    scratch = Path(tempfile.mkdtemp(prefix="credctl-bench-"))
    try:
        fpr = world.generate_key(home)
        rows = [bench_get(home, fpr, scratch / "get-store", rounds)]
        rows += [bench_store(home, fpr, scratch / "store-store", rounds)]
        for entries in BUDGET_LIST:
            rows += bench_list(home, fpr, scratch / f"list-store-{entries}", entries, rounds)
        return rows
    finally:
        world.stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def print_environment(rounds: int) -> None:
    gpg = subprocess.run(["gpg", "--version"], capture_output=True, text=True).stdout.splitlines()
    go = subprocess.run([world.GO_PASS, "version"], capture_output=True, text=True).stdout.strip()
    ours = subprocess.run([str(OURS), "version"], capture_output=True, text=True).stdout.strip()
    print(f"python   {platform.python_version()} ({sys.executable})")
    print(f"gpg      {gpg[0] if gpg else 'unknown'}")
    print(f"ours     {ours} ({OURS})")
    print(f"Go       {world.GO_PASS} {go}")
    print(f"rounds   {rounds} (alternating, shuffled within each round, after warm-ups)")


def warn_if_editable() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    editable = sorted(p.name for p in site_packages.glob("__editable__*credctl*"))
    if editable:
        print(f"WARNING: credctl is an editable install ({editable[0]} in {site_packages}).")
        print("         Its import hooks slow every start; numbers are only meaningful with `pip install .`.")


def bench_get(home: Path, fpr: str, store: Path, rounds: int) -> Row:
    """`get` of one credential: ours against the Go helper (both decrypt with gpg)."""
    env = world.helper_env(home, store)
    world.init_pass(env, fpr)
    credentials = {"ServerURL": GET_URL, "Username": "bench-user", "Secret": "bench-secret-0123456789"}
    run_once(Command("ours store", [str(OURS), "store"], json.dumps(credentials).encode(), env))

    ours = Command("ours get", [str(OURS), "get"], GET_URL.encode(), env)
    go = Command("Go get", [world.GO_PASS, "get"], GET_URL.encode(), env)
    check_same_output(ours, go)

    print(f"\n[get] one credential, {rounds} rounds ...", flush=True)
    timings = measure([ours, go], rounds=rounds)
    common.print_timings(timings)
    return Row("get", ours=timings[ours.name], peer=timings[go.name], budget=BUDGET_GET)


def bench_store(home: Path, fpr: str, store: Path, rounds: int) -> Row:
    """`store` of one credential, replacing the one stored before (what every `docker login`
    after the first does): ours against the Go helper, each on its own server."""
    env = world.helper_env(home, store)
    world.init_pass(env, fpr)

    def command(name: str, program: str, server: str) -> Command:
        body = {"ServerURL": server, "Username": "bench-user", "Secret": "bench-secret-0123456789"}
        return Command(name, [program, "store"], json.dumps(body).encode(), env)

    ours = command("ours store", str(OURS), "https://ours.bench.example.com")
    go = command("Go store", world.GO_PASS, "https://go.bench.example.com")
    print(f"\n[store] one credential, {rounds} rounds ...", flush=True)
    timings = measure([ours, go], rounds=rounds)
    common.print_timings(timings)
    return Row("store", ours=timings[ours.name], peer=timings[go.name], budget=BUDGET_STORE)


def bench_list(home: Path, fpr: str, store: Path, entries: int, rounds: int) -> list[Row]:
    """`list` of a store at rest (entries older than the list cache's 2 s "racy" window, as in any
    real store): ours against a bare interpreter start and against Go. For information: ours
    with no usable cache (every folder read)."""
    env = world.helper_env(home, store)
    world.init_pass(env, fpr)
    fill_store(env, fpr, store, entries)
    time.sleep(2.1)  # let the entries settle so the first list can cache them

    ours = Command("ours list", [str(OURS), "list"], b"", env)
    cold = Command("ours list, no cache", [str(OURS), "list"], b"", {**env, "XDG_CACHE_HOME": "/dev/null/none"})
    go = Command("Go list", [world.GO_PASS, "list"], b"", env)
    floor = Command("python -I -S", FLOOR, b"", env)
    listed = check_same_output(ours, go)
    if len(json.loads(listed)) != entries:
        raise CommandFailed(f"our list returned {len(json.loads(listed))} entries, expected {entries}")
    check_same_output(cold, go)

    print(f"\n[list] {entries} entries, {rounds} rounds ...", flush=True)
    timings = measure([ours, floor, cold, go], rounds=rounds)
    common.print_timings(timings)
    print(f"({cold.name} median {timings[cold.name].median:.1f} ms, for information; not budgeted)")
    against_floor, against_go = BUDGET_LIST[entries]
    rows = [Row(f"list ({entries})", ours=timings[ours.name], peer=timings[floor.name], budget=against_floor)]
    if against_go is not None:
        rows.append(Row(f"list ({entries})", ours=timings[ours.name], peer=timings[go.name], budget=against_go))
    return rows


def store_at_rest(home: Path, fpr: str, base: Path, entries: int) -> dict[str, str]:
    """The environment of a pass store of `entries` logins under base, settled past the list
    cache's racy window as any store at rest, and a Docker config whose credsStore is pass."""
    store = base / "store"
    env = world.helper_env(home, store)
    world.init_pass(env, fpr)
    fill_store(env, fpr, store, entries)
    docker = base / "docker"
    docker.mkdir(mode=0o700)
    (docker / "config.json").write_text(json.dumps({"credsStore": "pass"}))
    time.sleep(2.1)
    bin_dir = Path(sys.executable).parent
    return {**env, "DOCKER_CONFIG": str(docker), "PATH": f"{bin_dir}:/usr/bin:/bin", "COLUMNS": "200"}


def fill_store(env: dict[str, str], fpr: str, store: Path, count: int) -> None:
    """Encrypt one secret once, then copy it into `count` entries in the Go helper's layout."""
    template = store / "template.gpg"
    subprocess.run(
        ["gpg", "--batch", "--yes", "-e", "-r", fpr, "-o", str(template)],
        input=b"bench-secret",
        env=env,
        check=True,
        capture_output=True,
    )
    root = store / "docker-credential-helpers"
    for i in range(count):
        url = f"https://registry-{i:04d}.bench.example.com/v2/"
        folder = root / base64.urlsafe_b64encode(url.encode()).decode("ascii")
        folder.mkdir(parents=True)
        shutil.copyfile(template, folder / f"user{i:04d}.gpg")
    template.unlink()


def check_same_output(ours: Command, go: Command) -> bytes:
    """Run both once; their stdout must be identical, byte for byte. Returns it."""
    mine, theirs = run_once(ours)[1].stdout, run_once(go)[1].stdout
    if mine != theirs:
        raise CommandFailed(f"{ours.name} and {go.name} disagree:\n  ours: {mine[:300]!r}\n  Go:   {theirs[:300]!r}")
    return mine


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
