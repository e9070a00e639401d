"""Many writers and readers at once, each a real helper or `credctl` subprocess.

Readers must only ever see a whole credential that some writer stored (never one writer's
username with another's secret, never an error but not-found before the first store finished);
the final state is checked exactly.
"""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import world
from world import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    CREDCTL,
    EE,
    LOCK,
    NOT_FOUND,
    TEMP_USER,
    acr_env,
    answer,
    b64,
    cache_folder,
    cli_env,
    run_helper,
    with_key,
)

from credctl.acr import cache
from credctl.protocol import encode_credentials

TIMEOUT = 120  # seconds; a guard against hangs, not an expectation
WRITERS = 8
READERS = 8


class Timeline:
    """When each store finished (monotonic clock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.finished: list[tuple[float, str, str, str]] = []  # (when, server, username, secret)

    def stored(self, server: str, username: str, secret: str) -> None:
        with self.lock:
            self.finished.append((time.monotonic(), server, username, secret))

    def written(self, server: str) -> set[tuple[str, str]]:
        """Every complete (username, secret) stored for server. Which of them ends up last is not
        knowable from here: a store releases the lock before its process exits, so the order in
        which processes are seen to finish is not the order in which they wrote."""
        return {(user, secret) for _when, srv, user, secret in self.finished if srv == server}


def in_threads(*groups: list) -> None:
    """Run every callable of every group in its own thread; re-raise the first failure."""
    errors: list[BaseException] = []

    def guard(job) -> None:
        try:
            job()
        except BaseException as err:  # handed back to the test below
            errors.append(err)

    threads = [threading.Thread(target=guard, args=(job,)) for group in groups for job in group]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    if errors:
        raise errors[0]


def hammer(
    program: str,
    env: dict[str, str],
    writes: dict[str, list[tuple[str, str, str]]],
    readers: int = READERS,
) -> tuple[Timeline, int]:
    """WRITERS writers store their credentials (writes: writer -> [(server, username, secret)]
    is built by the caller, one list per writer, stored in order) while readers `get` each
    server in a loop until the writers are done. Returns the timeline and how many gets ran."""
    timeline, done = Timeline(), threading.Event()
    servers = sorted({server for plan in writes.values() for server, _, _ in plan})
    valid = {
        server: {(user, secret) for plan in writes.values() for srv, user, secret in plan if srv == server}
        for server in servers
    }
    reads = [0]

    def writer(plan: list[tuple[str, str, str]]):
        def job() -> None:
            for server, username, secret in plan:
                result = run_helper(program, "store", encode_credentials(server, username, secret), env)
                assert (result.returncode, result.stdout, result.stderr) == (0, b"", b""), result
                timeline.stored(server, username, secret)

        return job

    def reader(index: int):
        def job() -> None:
            count = 0
            while not done.is_set() or count < 2:
                server = servers[(index + count) % len(servers)]
                started = time.monotonic()
                result = run_helper(program, "get", server, env)
                count += 1
                if result.stdout == NOT_FOUND and result.returncode == 1:
                    # Right only while no store for this server had finished when the get began.
                    with timeline.lock:
                        stored = [w for w, srv, _, _ in timeline.finished if srv == server and w < started]
                    assert not stored, f"{server}: not found {started - stored[0]:.3f} s after a store finished"
                    continue
                assert (result.returncode, result.stderr) == (0, b""), result
                got = json.loads(result.stdout)
                assert got["ServerURL"] == server
                assert (got["Username"], got["Secret"]) in valid[server], got
            with timeline.lock:
                reads[0] += count

        return job

    writers = [writer(plan) for plan in writes.values()]

    def writers_then_done() -> None:
        try:
            in_threads(writers)
        finally:
            done.set()

    in_threads([writers_then_done], [reader(index) for index in range(readers)])
    return timeline, reads[0]


def same_server_plan(server: str, rounds: int = 2, same_username: bool = False) -> dict[str, list]:
    return {
        f"w{n}": [
            (server, "docker" if same_username else f"user{n}-{r}", f"secret-of-{n}-{r}-{'x' * n}")
            for r in range(rounds)
        ]
        for n in range(WRITERS)
    }


def many_servers_plan(rounds: int = 2) -> dict[str, list]:
    return {
        f"w{n}": [(f"reg{n}.example", f"user{n}-{r}", f"secret-{n}-{r}") for r in range(rounds)] for n in range(WRITERS)
    }


def listing(program: str, env: dict[str, str]) -> dict[str, str]:
    result = run_helper(program, "list", b"", env)
    assert (result.returncode, result.stderr) == (0, b""), result
    return json.loads(result.stdout)


def get(program: str, env: dict[str, str], server: str) -> tuple[str, str]:
    result = run_helper(program, "get", server, env)
    assert result.returncode == 0, result
    got = json.loads(result.stdout)
    return got["Username"], got["Secret"]


# --- pass ------------------------------------------------------------------------------------------


def pass_folder(env, server: str) -> Path:
    from credctl.stores.passstore import FOLDER, folder_name

    return Path(env["PASSWORD_STORE_DIR"]) / FOLDER / folder_name(server)


def test_pass_one_server_many_writers_and_readers(ours, pass_env):
    timeline, reads = hammer(ours, pass_env, same_server_plan("same.example"))
    assert len(timeline.finished) == 2 * WRITERS and reads >= READERS * 2
    last = get(ours, pass_env, "same.example")
    assert last in timeline.written("same.example")  # one writer's whole credential, never a mix
    assert sorted(p.name for p in pass_folder(pass_env, "same.example").iterdir()) == [f"{last[0]}.gpg"]
    assert listing(ours, pass_env) == {"same.example": last[0]}
    assert not (Path(pass_env["PASSWORD_STORE_DIR"]) / ".credctl-tmp").exists()


def test_pass_many_servers_many_writers_and_readers(ours, pass_env):
    hammer(ours, pass_env, many_servers_plan())
    expected = {f"reg{n}.example": (f"user{n}-1", f"secret-{n}-1") for n in range(WRITERS)}
    assert listing(ours, pass_env) == {server: user for server, (user, _) in expected.items()}
    for server, credential in expected.items():
        assert get(ours, pass_env, server) == credential
        assert [p.name for p in pass_folder(pass_env, server).iterdir()] == [f"{credential[0]}.gpg"]


def test_go_readers_never_see_a_half_written_entry(ours, go_pass, pass_env):
    """Go's helper reads without any lock: our stores must replace an entry in one rename.

    (Before stores went through a temporary entry, gpg rewrote the file in place and a
    reader could decrypt a truncated file.) One username for all, so that Go's own race
    (it lists the folder, then runs `pass show` on a name that a store may have removed)
    cannot happen.
    """
    plan = same_server_plan("go.example", rounds=3, same_username=True)
    run_helper(ours, "store", encode_credentials("go.example", "docker", "initial"), pass_env)
    valid = {secret for writes in plan.values() for _, _, secret in writes} | {"initial"}
    done, seen = threading.Event(), []

    def go_reader() -> None:
        while not done.is_set():
            result = run_helper(go_pass, "get", "go.example", pass_env)
            assert result.returncode == 0, result
            got = json.loads(result.stdout)
            assert got["Username"] == "docker" and got["Secret"] in valid, got
            seen.append(got["Secret"])

    def writers() -> None:
        try:
            hammer(ours, pass_env, plan, readers=0)
        finally:
            done.set()

    in_threads([writers], [go_reader] * 4)
    assert len(seen) >= 4


# --- Secret Service and keyring -------------------------------------------------------------------

# A store that changes a server's username creates the new item, then deletes the old one; a
# get that found the old one a moment before would fail ("No such interface ... Properties",
# keyring's ItemNotFoundException, or not-found when every item it found had gone) if it did not
# search again: both stores' get do when what they found has vanished. gnome-keyring itself, under
# these writers, briefly answers UnknownMethod or has no default collection while it reloads
# its file: both stores ask again (tests/test_secretservice.py, tests/test_keyring.py).
USERNAMES = pytest.mark.parametrize(
    "same_username",
    [pytest.param(True, id="same-username"), pytest.param(False, id="new-usernames")],
)


@pytest.fixture(params=["secretservice", "keyring"])
def bus_store(request) -> tuple[str, dict[str, str], int]:
    """(helper program, environment, readers) of a store on secret_service's private session bus.

    The keyring helper costs 0.3 s of CPU a call (keyring, secretstorage): fewer readers, so that
    on a small CI machine they do not starve the writers.
    """
    store = world.store_world(request.param, request)
    return store.program, store.env, {"secretservice": READERS, "keyring": 4}[store.name]


@USERNAMES
def test_bus_stores_one_server_many_writers_and_readers(bus_store, same_username):
    program, env, readers = bus_store
    plan = same_server_plan("same.example", same_username=same_username)
    timeline, _ = hammer(program, env, plan, readers)
    last = get(program, env, "same.example")
    assert last in timeline.written("same.example")  # one writer's whole credential, never a mix
    assert listing(program, env) == {"same.example": last[0]}


def test_bus_stores_many_servers_many_writers_and_readers(bus_store):
    program, env, readers = bus_store
    # One username per server: a new one hits the race above.
    plan = {
        writer: [(server, f"user-{server}", secret) for server, _, secret in writes]
        for writer, writes in many_servers_plan().items()
    }
    hammer(program, env, plan, readers)
    expected = {server: (user, secret) for writes in plan.values() for server, user, secret in writes}  # last round
    assert listing(program, env) == {server: user for server, (user, _) in expected.items()}
    for server, credential in expected.items():
        assert get(program, env, server) == credential


# --- the ACR token cache ---------------------------------------------------------------------------


def test_acr_parallel_cold_gets(aliyun, tmp_path):
    env = with_key(acr_env(tmp_path, aliyun))
    results: list[subprocess.CompletedProcess] = []

    def cold_get() -> None:
        results.append(run_helper(world.ours("docker-credential-acr-helper"), "get", EE, env))

    in_threads([cold_get] * WRITERS)
    issued = {issued.token for issued in aliyun.issued}
    assert 1 <= len(issued) <= WRITERS
    for result in results:
        assert (result.returncode, result.stderr) == (0, b""), result
        assert result.stdout in {answer(EE, token) for token in issued}
        assert ALIYUN_KEY_SECRET.encode() not in result.stdout and ALIYUN_KEY_ID.encode() not in result.stdout
    # One cache file, whole, holding one of the issued tokens; no temporary file left.
    files = sorted(cache_folder(tmp_path).iterdir())
    assert [path.suffix for path in files] == [".token"]
    token = cache.load(str(files[0]))
    assert token is not None and token.password in issued and token.username == TEMP_USER and token.domain == EE
    # A warm get now answers from it, without the API.
    before = len(aliyun.requests)
    result = run_helper(world.ours("docker-credential-acr-helper"), "get", EE, env)
    assert (result.returncode, result.stdout) == (0, answer(EE, token.password))
    assert len(aliyun.requests) == before


# --- config.json -----------------------------------------------------------------------------------


def test_mixed_config_edits_lose_nothing(pass_env, tmp_path):
    """map, unmap, setup and migrate at once on one config.json: every change lands."""
    env = cli_env(tmp_path, pass_env)
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    config = config_dir / "config.json"
    plaintext = {f"plain{n}.example": (f"user{n}", f"password-{n}") for n in range(3)}
    start = {
        "auths": {server: {"auth": b64(f"{user}:{secret}")} for server, (user, secret) in plaintext.items()},
        "credHelpers": {f"old{n}.example": "secretservice" for n in range(8)},
        "proxies": {"default": {"noProxy": "localhost"}},
    }
    config.write_text(json.dumps(start, indent="\t"))
    config.chmod(0o600)
    commands = (
        [["map", f"new{n}.example", "pass"] for n in range(WRITERS)]
        + [["unmap", f"old{n}.example"] for n in range(0, 8, 2)]
        + [["setup", "--store", "pass", "--yes", "--no-podman"]] * 2
        + [["migrate", "--to", "pass", "--yes"]] * 2
    )

    def run(args: list[str]):
        def job() -> None:
            result = subprocess.run(
                [CREDCTL, "--config", str(config_dir), *args],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            assert result.returncode == 0, (args, result.stdout, result.stderr)

        return job

    in_threads([run(args) for args in commands])
    data = json.loads(config.read_text())
    assert data == {
        "auths": {server: {} for server in plaintext},
        "credHelpers": {
            **{f"old{n}.example": "secretservice" for n in range(1, 8, 2)},
            **{f"new{n}.example": "pass" for n in range(WRITERS)},
        },
        "proxies": {"default": {"noProxy": "localhost"}},
        "credsStore": "pass",
    }
    assert sorted(os.listdir(config_dir)) == [LOCK, "config.json"]
    ours = world.ours("docker-credential-pass")
    for server, credential in plaintext.items():
        assert get(ours, pass_env, server) == credential
