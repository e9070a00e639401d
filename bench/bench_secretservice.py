"""Start-up benchmark of our docker-credential-secretservice against Debian's Go helper.

    python bench/bench_secretservice.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable). It starts a
private D-Bus session with gnome-keyring (tests/world.py), stores one credential, and times `get`
round-robin (bench/common.py). Budget: ours <= 1.5x the Go helper.

For the session-algorithm decision it also times, for information, a `get` done the way the
secretstorage library does it (jeepney + an encrypted dh-ietf1024-sha256-aes128-cbc-pkcs7
session, so the cryptography import): what the encryption would cost on every call.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import common  # noqa: E402
import world  # noqa: E402
from common import Command, CommandFailed, Row, Unavailable, measure, run_once  # noqa: E402

OURS = Path(sys.executable).parent / "docker-credential-secretservice"
FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]
URL = "https://registry.bench.example.com"
BUDGET_GET = 0.9  # ours / Go helper: ahead of it
KEYRING = Path(sys.executable).parent / "docker-credential-keyring"
BUDGET_KEYRING = 3.0  # keyring helper (Secret Service backend) get and erase / bare interpreter

# A get as secretstorage does it: encrypted session, then the item's secret.
SECRETSTORAGE_GET = """
import sys, secretstorage
connection = secretstorage.dbus_init()
item = next(secretstorage.search_items(connection, {"server": sys.argv[1], "docker_cli": "1"}))
sys.stdout.write(item.get_attributes()["username"] + ":" + item.get_secret().decode())
"""


def collect(rounds: int) -> list[Row]:
    absent = world.missing(world.GO_SECRETSERVICE, str(OURS), "dbus-daemon", "gnome-keyring-daemon")
    if absent:
        raise Unavailable(f"not installed here: {', '.join(absent)}")
    scratch = Path(tempfile.mkdtemp(prefix="credctl-bench-ss-"))
    service = world.SecretService(scratch)
    try:
        return [bench_get(service.env, rounds), *bench_keyring(service.env, rounds)]
    finally:
        service.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def bench_get(env: dict[str, str], rounds: int) -> Row:
    body = json.dumps({"ServerURL": URL, "Username": "bench-user", "Secret": "bench-secret"}).encode()
    run_once(Command("ours store", [str(OURS), "store"], body, env))
    ours = Command("ours get", [str(OURS), "get"], URL.encode(), env)
    go = Command("Go get", [world.GO_SECRETSERVICE, "get"], URL.encode(), env)
    encrypted = Command("secretstorage get (encrypted)", [sys.executable, "-c", SECRETSTORAGE_GET, URL], b"", env)
    floor = Command("python -I -S", FLOOR, b"", env)
    mine, theirs = run_once(ours)[1].stdout, run_once(go)[1].stdout
    if mine != theirs:
        raise CommandFailed(f"ours and Go disagree:\n  ours: {mine!r}\n  Go:   {theirs!r}")
    if run_once(encrypted)[1].stdout != b"bench-user:bench-secret":
        raise CommandFailed("the secretstorage comparison did not read the credential")

    print(f"[get] one credential, {rounds} rounds ...", flush=True)
    timings = measure([ours, go, encrypted, floor], rounds=rounds)
    common.print_timings(timings)
    return Row("secretservice get", ours=timings[ours.name], peer=timings[go.name], budget=BUDGET_GET)


def bench_keyring(env: dict[str, str], rounds: int) -> list[Row]:
    """docker-credential-keyring on the Secret Service, as a user gets it (the backend detected
    once, then remembered): get of a stored login, and erase of one not stored (three of the four
    erases of a `docker logout`)."""
    body = json.dumps({"ServerURL": URL, "Username": "bench-user", "Secret": "bench-secret"}).encode()
    run_once(Command("keyring store", [str(KEYRING), "store"], body, env))
    get = Command("keyring get", [str(KEYRING), "get"], URL.encode(), env)
    erase = Command("keyring erase", [str(KEYRING), "erase"], b"https://absent.bench.example.com", env)
    floor = Command("python -I -S", FLOOR, b"", env)
    if (
        run_once(get)[1].stdout
        != json.dumps(
            {"ServerURL": URL, "Username": "bench-user", "Secret": "bench-secret"}, separators=(",", ":")
        ).encode()
        + b"\n"
    ):
        raise CommandFailed("the keyring helper did not read back what it stored")
    print(f"[keyring] get and erase, {rounds} rounds ...", flush=True)
    timings = measure([get, erase, floor], rounds=rounds)
    common.print_timings(timings)
    return [
        Row("keyring get", ours=timings[get.name], peer=timings[floor.name], budget=BUDGET_KEYRING),
        Row("keyring erase", ours=timings[erase.name], peer=timings[floor.name], budget=BUDGET_KEYRING),
    ]


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
