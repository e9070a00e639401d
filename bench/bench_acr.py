"""Start-up benchmark of docker-credential-acr-helper: warm (cached token) and cold (API call) get,
and of credctl-kubelet-provider answering from the same cache (node identity and a pod's role).

    python bench/bench_acr.py [--rounds N]

Run it with the interpreter of the venv where credctl is installed (not editable). The Alibaba
Cloud API is the loopback fake of the test suite (tests/fake_aliyun.py, which verifies every
request's signature); nothing leaves 127.0.0.1. Budgets: warm get and warm kubelet answers <= 3x
a bare `python -I -S -c pass` (no SDK import, no network); cold get <= 1 s.
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
from common import Command, CommandFailed, Row, Timing, Unavailable, measure, run_once  # noqa: E402
from fake_aliyun import FakeAliyun  # noqa: E402

OURS = Path(sys.executable).parent / "docker-credential-acr-helper"
PLUGIN = Path(sys.executable).parent / "credctl-kubelet-provider"
PROVIDER_ARN = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-bench"
ROLE_ARN = "acs:ram::1234567890123456:role/bench-puller"
FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]
REGISTRY = "benchteam-registry.cn-hangzhou.cr.aliyuncs.com"
BUDGET_WARM = 1.5  # acr warm get / bare interpreter
BUDGET_KUBELET = 1.7  # kubelet plugin warm / bare interpreter
BUDGET_COLD_MS = 1000.0
COLD_ROUNDS = 10  # each one imports the SDK: keep the run short


def environment(fake: FakeAliyun, home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALIBABA_CLOUD_") and key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    return {
        **env,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "BENCHAKID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "bench-secret",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",  # never probe the metadata service
        "CREDCTL_ACR_ENDPOINT": fake.url,
        "ALIBABA_CLOUD_STS_ENDPOINT": fake.url,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN,
    }


def kubelet_request(image: str, token: str = "") -> bytes:
    request = {"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest"}
    request["image"] = image
    if token:
        request |= {"serviceAccountToken": token, "serviceAccountAnnotations": {"acr.credctl.io/role-arn": ROLE_ARN}}
    return json.dumps(request).encode()


def collect(rounds: int) -> list[Row]:
    if not OURS.exists():
        raise Unavailable(f"{OURS} is missing: run this with the python of the venv where credctl is installed")
    home = Path(tempfile.mkdtemp(prefix="credctl-bench-acr-"))
    try:
        with FakeAliyun() as fake:
            fake.add_access_key("BENCHAKID", "bench-secret")
            fake.add_instance("cri-bench", "benchteam", "cn-hangzhou")
            fake.add_oidc_provider(PROVIDER_ARN, "https://oidc.bench.example")
            fake.add_oidc_role(ROLE_ARN, PROVIDER_ARN)
            return bench(environment(fake, home), rounds, fake)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def bench(env: dict[str, str], rounds: int, fake: FakeAliyun) -> list[Row]:
    warm = Command("ours warm get", [str(OURS), "get"], REGISTRY.encode(), env)
    cold = Command("ours cold get", [str(OURS), "get"], REGISTRY.encode(), {**env, "CREDCTL_ACR_NO_CACHE": "1"})
    floor = Command("python -I -S", FLOOR, b"", env)
    image = f"{REGISTRY}/team/app:1"
    node = Command("kubelet node warm", [str(PLUGIN)], kubelet_request(image), env)
    token = fake.service_account_token(PROVIDER_ARN, "team-a", "puller", uid="bench", ttl=24 * 3600)
    pod = Command("kubelet pod warm", [str(PLUGIN)], kubelet_request(image, token), env)
    for command in (warm, node, pod):
        run_once(command)  # fills the cache
    before = len(fake.requests)
    print(f"[warm get] cached token, {rounds} rounds ...", flush=True)
    timings = measure([warm, node, pod, floor], rounds=rounds)
    common.print_timings(timings)
    if len(fake.requests) != before:
        raise CommandFailed(f"warm get made {len(fake.requests) - before} API request(s); it must make none")
    print(f"\n[cold get] API call every time, {COLD_ROUNDS} rounds ...", flush=True)
    cold_timing = measure([cold], rounds=COLD_ROUNDS, warmup=1)
    common.print_timings(cold_timing)
    one_second = Timing("1 s budget", [BUDGET_COLD_MS])
    return [
        Row("acr warm get", ours=timings[warm.name], peer=timings[floor.name], budget=BUDGET_WARM),
        Row("kubelet plugin warm (node)", ours=timings[node.name], peer=timings[floor.name], budget=BUDGET_KUBELET),
        Row("kubelet plugin warm (pod role)", ours=timings[pod.name], peer=timings[floor.name], budget=BUDGET_KUBELET),
        Row("acr cold get (vs 1 s)", ours=cold_timing[cold.name], peer=one_second, budget=1.0),
    ]


if __name__ == "__main__":
    sys.exit(common.cli(collect, __doc__))
