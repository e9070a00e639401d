"""What the router costs: docker-credential-credctl `get` against the store's own helper, in one run.

    python bench/bench_router.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable). One
throwaway world serves both stores: a pass store with a passphrase-less gpg key (tests/world.py)
and the loopback fake of the Alibaba Cloud API (tests/fake_aliyun.py, only for the token the
cache then keeps). credctl's settings route one host to pass (an exact rule), every Enterprise
ACR domain to acr (a glob) and everything else to pass (the default route); a second settings
file has the default route alone, so ACR domains go to acr by the built-in rule. All commands
run interleaved, round after round, and every router path must stay within 1.1x the store's
own helper (docker-credential-pass, docker-credential-acr-helper with its cached token).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import common  # noqa: E402
import world  # noqa: E402
from common import Command, CommandFailed, Row, Unavailable, measure, run_once  # noqa: E402
from fake_aliyun import FakeAliyun  # noqa: E402

BIN = Path(sys.executable).parent
ROUTER = BIN / "docker-credential-credctl"
PASS = BIN / "docker-credential-pass"
ACR = BIN / "docker-credential-acr-helper"
ROUTED = "registry.bench.example.com"  # the exact host rule → pass
DEFAULTED = "other.bench.example.com"  # no rule: the default route → pass
ACR_HOST = "benchteam-registry.cn-hangzhou.cr.aliyuncs.com"  # the glob rule (or the built-in one) → acr
ROUTES = {ROUTED: "pass", "*-registry.*.cr.aliyuncs.com": "acr"}
BUDGET = 1.1  # router / the store's own helper
KEY_ID, KEY_SECRET = "BENCHAKID", "bench-secret"


def collect(rounds: int) -> list[Row]:
    absent = world.missing(str(ROUTER), str(PASS), str(ACR), "gpg", "gpgconf", "pass")
    if absent:
        raise Unavailable(f"not installed here: {', '.join(absent)} (run this with the venv's python where credctl is)")
    gnupg = world.make_gnupg_home()
    scratch = Path(tempfile.mkdtemp(prefix="credctl-bench-router-"))
    try:
        fpr = world.generate_key(gnupg)
        with FakeAliyun() as fake:
            fake.add_access_key(KEY_ID, KEY_SECRET)
            fake.add_instance("cri-bench", "benchteam", "cn-hangzhou")
            return bench(environment(gnupg, fpr, scratch, fake), rounds, fake)
    finally:
        world.stop_agent(gnupg)
        shutil.rmtree(gnupg, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def environment(gnupg: Path, fpr: str, scratch: Path, fake: FakeAliyun) -> dict[str, str]:
    """A Docker user's helper environment: the pass store, Alibaba Cloud keys, the fake as the
    API, credctl's settings with the routes, and credsStore `credctl`."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALIBABA_CLOUD_", "CREDCTL_", "DOCKER_"))
        and key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env = world.helper_env(gnupg, scratch / "store", XDG_CACHE_HOME=str(scratch / "cache"))
    env = {
        **kept,
        **{k: env[k] for k in ("GNUPGHOME", "PASSWORD_STORE_DIR", "XDG_CACHE_HOME")},
        "HOME": str(scratch),
        "XDG_CONFIG_HOME": str(scratch / "config"),
        "DOCKER_CONFIG": str(scratch / "docker"),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY_SECRET,
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",  # never probe the metadata service
        "CREDCTL_ACR_ENDPOINT": fake.url,
    }
    world.init_pass(env, fpr)
    (scratch / "docker").mkdir()
    (scratch / "docker" / "config.json").write_text('{"credsStore": "credctl"}')
    for home, found in (("config", {"routes": ROUTES, "route_default": "pass"}), BUILT_IN):
        settings = scratch / home / "credctl" / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps(found))
    return env


BUILT_IN = ("config-built-in", {"route_default": "pass"})  # no rule: ACR domains go to acr by the built-in one


def bench(env: dict[str, str], rounds: int, fake: FakeAliyun) -> list[Row]:
    for host in (ROUTED, DEFAULTED):
        body = {"ServerURL": host, "Username": "bench-user", "Secret": "bench-secret-0123456789"}
        run_once(Command("store", [str(PASS), "store"], json.dumps(body).encode(), env))
    built_in = {**env, "XDG_CONFIG_HOME": str(Path(env["HOME"]) / BUILT_IN[0])}
    pass_helper, acr_helper = get("pass", PASS, ROUTED, env), get("acr-helper warm", ACR, ACR_HOST, env)
    # (the router's path, the helper that answers the same bytes, the helper it is timed against)
    cases = [
        (get("router get: pass rule", ROUTER, ROUTED, env), pass_helper, pass_helper),
        (get("router get: default route", ROUTER, DEFAULTED, env), get("pass", PASS, DEFAULTED, env), pass_helper),
        (get("router get: ACR glob, warm", ROUTER, ACR_HOST, env), acr_helper, acr_helper),
        (get("router get: ACR built-in, warm", ROUTER, ACR_HOST, built_in), acr_helper, acr_helper),
    ]
    for ours, same, _ in cases:
        check_same_output(ours, same)  # the first ACR one also fills the token cache
    before = len(fake.requests)
    print(f"[router get] against the stores' own helpers, {rounds} rounds ...", flush=True)
    timings = measure([*(ours for ours, _, _ in cases), pass_helper, acr_helper], rounds=rounds)
    common.print_timings(timings)
    if len(fake.requests) != before:
        raise CommandFailed(f"a warm ACR get made {len(fake.requests) - before} API request(s); it must make none")
    return [Row(ours.name, timings[ours.name], timings[peer.name], BUDGET) for ours, _, peer in cases]


def get(name: str, program: Path, host: str, env: dict[str, str]) -> Command:
    return Command(name, [str(program), "get"], host.encode(), env)


def check_same_output(ours: Command, peer: Command) -> None:
    """Both answer the same bytes (stdout and stderr)."""
    mine, theirs = run_once(ours)[1], run_once(peer)[1]
    if (mine.stdout, mine.stderr) != (theirs.stdout, theirs.stderr):
        raise CommandFailed(
            f"{ours.name} and {peer.name} disagree:\n  ours: {mine.stdout[:300]!r} {mine.stderr[:300]!r}\n"
            f"  peer: {theirs.stdout[:300]!r} {theirs.stderr[:300]!r}"
        )


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
