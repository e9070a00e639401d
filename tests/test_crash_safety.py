"""kill -9 at random moments during every write credctl makes.

Each target is run many times and killed (its whole process group: pass, gpg and all, as a
crash would) after a random delay within its typical run time. After each kill the file is
the old version or the new one, whole, never truncated; a later run works and gives the right
answer, and whatever the killed run left behind is cleaned up or ignored. Set
CREDCTL_CRASH_SEED to replay a run; the seed is in the failure message.
"""

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import world
from world import CREDCTL, EE, LOCK, acr_env, b64, cache_folder, cli_env, run_helper, with_key, write_credentials

from credctl.acr import cache
from credctl.protocol import encode_credentials
from credctl.stores.passstore import FOLDER, folder_name

SEED = int(os.environ.get("CREDCTL_CRASH_SEED") or random.SystemRandom().randrange(10**6))
TIMEOUT = 60


@pytest.fixture
def rng() -> random.Random:
    return random.Random(SEED)


def timed(args: list[str], env: dict[str, str], stdin: bytes = b"") -> float:
    """Seconds an uninterrupted run takes: the fastest of three, so that the first run's cold
    caches (or a busy moment) do not stretch the kill delays past the end of the runs."""
    times = []
    for _ in range(3):
        started = time.monotonic()
        result = subprocess.run(args, input=stdin, env=env, capture_output=True, timeout=TIMEOUT)
        assert result.returncode == 0, result
        times.append(time.monotonic() - started)
    return min(times)


def killed(args: list[str], env: dict[str, str], delay: float, stdin: bytes = b"") -> bool:
    """Run args and SIGKILL its process group after delay seconds; True if it was killed."""
    process = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    process.stdin.write(stdin)
    process.stdin.close()
    time.sleep(delay)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(TIMEOUT)
    # Its children (pass, gpg) die with it; their zombies may wait a while for init to reap
    # them, but none may still be running when the files are checked.
    deadline = time.monotonic() + 10
    while running_in_group(process.pid):
        assert time.monotonic() < deadline, "a killed process group kept running"
        os.killpg(process.pid, signal.SIGKILL)
        time.sleep(0.01)
    return process.returncode == -signal.SIGKILL


def running_in_group(group: int) -> bool:
    """Whether a process of this process group is still running (not a zombie), from /proc."""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()  # after the command name
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                return True
    return False


def late(rng: random.Random, typical: float) -> float:
    """A delay in the second part of a typical run, where a CLI command does its writing."""
    return rng.uniform(0.4, 1.1) * typical


def enough(kills: int, runs: int) -> None:
    assert kills >= runs // 4, f"only {kills} of {runs} runs were killed before they finished (seed {SEED})"


# --- config.json -----------------------------------------------------------------------------------


def test_killed_config_saves(tmp_path, rng):
    env = cli_env(tmp_path)
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    config = config_dir / "config.json"
    data = {
        "auths": {f"plain{n}.example": {"auth": b64(f"user{n}:password-{n}")} for n in range(300)},
        "credHelpers": {f"registry{n:05}.example.com": "pass" for n in range(5000)},
        "proxies": {"default": {"noProxy": "localhost"}},
    }
    config.write_text(json.dumps(data, indent="\t"))
    config.chmod(0o600)

    def command(n: int) -> list[str]:
        return [CREDCTL, "--config", str(config_dir), "map", f"new{n}.example", "pass"]

    typical = timed(command(0), env)
    data["credHelpers"]["new0.example"] = "pass"
    runs, kills = 30, 0
    for n in range(1, runs + 1):
        kills += killed(command(n), env, late(rng, typical))
        after = json.loads(config.read_bytes())  # never truncated: always parses
        new = {**data, "credHelpers": {**data["credHelpers"], f"new{n}.example": "pass"}}
        assert after in (data, new), f"run {n}: neither the old nor the new config (seed {SEED})"
        data = after
    enough(kills, runs)
    # A later edit works, keeps everything, and removes what the killed ones left behind.
    result = subprocess.run(command(runs + 1), env=env, capture_output=True, timeout=TIMEOUT)
    assert result.returncode == 0, result
    data["credHelpers"][f"new{runs + 1}.example"] = "pass"
    assert json.loads(config.read_bytes()) == data
    assert sorted(os.listdir(config_dir)) == [LOCK, "config.json"]


# --- pass ------------------------------------------------------------------------------------------


def decrypt(env, path: Path) -> str:
    result = subprocess.run(["gpg", "--batch", "--quiet", "-d", str(path)], env=env, capture_output=True)
    assert result.returncode == 0, f"{path.name} does not decrypt: {result.stderr!r} (seed {SEED})"
    return result.stdout.decode()


def pass_get(ours, env, server: str) -> tuple[str, str]:
    result = run_helper(ours, "get", server, env)
    assert result.returncode == 0, result
    got = json.loads(result.stdout)
    return got["Username"], got["Secret"]


def test_killed_pass_stores(ours, pass_env, rng):
    server = "crash.example"
    folder = Path(pass_env["PASSWORD_STORE_DIR"]) / FOLDER / folder_name(server)
    temporary = Path(pass_env["PASSWORD_STORE_DIR"]) / ".credctl-tmp"
    written: dict[str, set[str]] = {}  # every secret ever stored (or attempted) per username

    def store_args(username: str, secret: str) -> tuple[list[str], bytes]:
        written.setdefault(username, set()).add(secret)
        return [ours, "store"], encode_credentials(server, username, secret)

    args, body = store_args("alice", "first-secret")
    typical = timed(args, pass_env, body)
    current = ("alice", "first-secret")
    runs, kills = 30, 0
    for n in range(runs):
        # The same username (gpg rewrote it in place: the bug this guards) or another one.
        username = rng.choice(["alice", "alice", "bob", "carol"])
        # Large secrets (up to 600 KB) keep gpg writing long enough for kills to land there.
        new = (username, f"secret-{n}-{rng.randrange(10**9)}" + "x" * rng.randrange(600_000))
        args, body = store_args(*new)
        kills += killed(args, pass_env, rng.uniform(0, typical * 1.1), body)
        got = pass_get(ours, pass_env, server)
        assert got in (current, new), f"run {n}: got {got}, neither {current} nor {new} (seed {SEED})"
        # Every entry left in the folder is whole (it decrypts) and holds what was stored for it.
        for entry in folder.iterdir():
            assert entry.suffix == ".gpg", entry.name
            assert decrypt(pass_env, entry) in written[entry.stem], entry.name
        result = run_helper(ours, "list", b"", pass_env)
        assert result.returncode == 0 and json.loads(result.stdout)[server] == got[0]
        current = got
    enough(kills, runs)
    # A later store cleans up: one entry, no temporary folder left.
    args, body = store_args("dave", "final")
    assert subprocess.run(args, input=body, env=pass_env, capture_output=True).returncode == 0
    assert pass_get(ours, pass_env, server) == ("dave", "final")
    assert sorted(p.name for p in folder.iterdir()) == ["dave.gpg"]
    assert not temporary.exists()


def test_temporaries_of_other_writers_are_left_alone_and_dead_ones_removed(ours, pass_env):
    """Leftovers named after a dead pid go at the next store; one of a running process stays."""
    base = Path(pass_env["PASSWORD_STORE_DIR"]) / ".credctl-tmp"
    dead = subprocess.Popen(["true"])
    dead.wait()
    for name in (f"{dead.pid}.0123456789ab", f"{os.getpid()}.ba9876543210"):
        (base / name).mkdir(parents=True)
        (base / name / "entry.gpg").write_bytes(b"half a file")
    body = encode_credentials("h.example", "u", "s")
    assert run_helper(ours, "store", body, pass_env).returncode == 0
    assert sorted(p.name for p in base.iterdir()) == [f"{os.getpid()}.ba9876543210"]
    assert pass_get(ours, pass_env, "h.example") == ("u", "s")


# --- the ACR token cache ---------------------------------------------------------------------------


def test_killed_acr_cache_writes(aliyun, tmp_path, rng):
    env = with_key(acr_env(tmp_path, aliyun))
    aliyun.token_ttl = 200  # inside the renewal margin: every get asks the API and writes the cache
    helper = [world.ours("docker-credential-acr-helper"), "get"]
    typical = timed(helper, env, EE.encode())
    folder = cache_folder(tmp_path)
    [path] = folder.glob("*.token")
    previous = path.read_bytes()
    runs, kills = 20, 0
    for n in range(runs):
        issued_before = len(aliyun.issued)
        kills += killed(helper, env, rng.uniform(0, typical * 1.1), EE.encode())
        now = path.read_bytes()
        if now != previous:
            token = cache.load(str(path))
            assert token is not None, f"run {n}: a damaged cache file {now!r} (seed {SEED})"
            assert token.password in {i.token for i in aliyun.issued[issued_before:]}
            assert now.count(b"\n") == 6 and now.endswith(f"{token.expires}\n".encode())
        previous = now
        assert [p.suffix for p in folder.glob("*.token")] == [".token"]
    enough(kills, runs)
    aliyun.token_ttl = 3600
    result = run_helper(helper[0], "get", EE, env)
    assert result.returncode == 0 and json.loads(result.stdout)["Secret"] == aliyun.issued[-1].token
    assert [p.name for p in folder.iterdir()] == [path.name]  # the killed runs' temporaries are gone


# --- settings.json ---------------------------------------------------------------------------------


def test_killed_settings_writes(tmp_path, rng):
    env = cli_env(tmp_path)
    credentials = write_credentials(tmp_path / "account.ini")
    bin_dir = tmp_path / "bin"
    settings = tmp_path / "xdg-config" / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    profile = {"credentials_file": str(credentials), "registries": []}
    data = {
        "acr_profiles": {f"old{n}": {**profile, "wrapper": str(bin_dir / f"w{n}")} for n in range(2000)},
        "keyring_backend": "keyring.backends.SecretService.Keyring",
    }
    settings.write_text(json.dumps(data))

    def command(n: int) -> list[str]:
        return [
            CREDCTL,
            "acr",
            "add-profile",
            f"p{n}",
            "--credentials-file",
            str(credentials),
            "--bin-dir",
            str(bin_dir),
        ]

    def added(before: dict, n: int) -> dict:
        wrapper = str(bin_dir / f"docker-credential-acr-helper-p{n}")
        return {**before, "acr_profiles": {**before["acr_profiles"], f"p{n}": {**profile, "wrapper": wrapper}}}

    typical = timed(command(0), env)
    data = added(data, 0)
    assert json.loads(settings.read_bytes()) == data
    runs, kills = 20, 0
    for n in range(1, runs + 1):
        kills += killed(command(n), env, late(rng, typical))
        after = json.loads(settings.read_bytes())
        assert after in (data, added(data, n)), f"run {n}: neither the old nor the new settings (seed {SEED})"
        data = after
    enough(kills, runs)
    assert subprocess.run(command(runs + 1), env=env, capture_output=True, timeout=TIMEOUT).returncode == 0
    assert json.loads(settings.read_bytes()) == added(data, runs + 1)
    assert sorted(p.name for p in settings.parent.iterdir()) == ["settings.json", "settings.json.lock"]


# --- the pass-list cache ---------------------------------------------------------------------------


def test_killed_pass_list_cache_writes(tmp_path, rng):
    store = tmp_path / "store"
    base = store / FOLDER
    env = {**os.environ, "PASSWORD_STORE_DIR": str(store), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    expected = {}
    for n in range(1500):  # list reads names only: empty entries will do
        server, user = f"server{n}.example", f"user{n}"
        (base / folder_name(server)).mkdir(parents=True)
        (base / folder_name(server) / f"{user}.gpg").touch()
        expected[server] = user
    helper = [world.ours("docker-credential-pass"), "list"]
    typical = timed(helper, env)
    [cache_file] = (tmp_path / "cache" / "credctl").glob("pass-list-*")

    def valid(text: str) -> bool:
        """A whole cache file that names every folder with its username."""
        header, *lines = text.split("\n")
        magic, root, written, _folders_stamp = header.split("\t")
        assert (magic, root, int(written) > 0, lines[-1]) == ("credctl-pass-list-2", str(store), True, "")
        entries = {line.split("\t")[0]: tuple(line.split("\t")[2:]) for line in lines[:-1]}
        return entries == {folder_name(server): (user, server) for server, user in expected.items()}

    previous = cache_file.read_text()
    runs, kills = 40, 0
    for n in range(runs):
        server = f"added{n}.example"
        (base / folder_name(server)).mkdir()
        (base / folder_name(server) / "someone.gpg").touch()
        expected[server] = "someone"
        kills += killed(helper, env, rng.uniform(0, typical * 1.1))
        now = cache_file.read_text()
        assert now == previous or valid(now), f"run {n} (seed {SEED})"
        previous = now
    enough(kills, runs)
    result = run_helper(helper[0], "list", b"", env)
    assert result.returncode == 0 and json.loads(result.stdout) == expected
    assert [p.name for p in cache_file.parent.iterdir()] == [cache_file.name]


def test_dot_files_in_a_server_folder_are_never_usernames(ours, pass_env):
    """Temporaries and other dot files beside an entry are not read as usernames, and no
    username that would make one is stored; a store removes Go's dotted usernames."""
    folder = Path(pass_env["PASSWORD_STORE_DIR"]) / FOLDER / folder_name("h.example")
    body = encode_credentials("h.example", ".hidden", "s")
    result = run_helper(ours, "store", body, pass_env)
    expected = b"pass cannot store the username '.hidden': it must not start with '.'\n"
    assert (result.returncode, result.stdout) == (1, expected)
    assert run_helper(ours, "store", encode_credentials("h.example", "zed", "s"), pass_env).returncode == 0
    (folder / ".aaa.gpg").write_bytes(b"not even gpg")  # would sort first
    assert pass_get(ours, pass_env, "h.example") == ("zed", "s")
    assert json.loads(run_helper(ours, "list", b"", pass_env).stdout) == {"h.example": "zed"}
    assert run_helper(ours, "store", encode_credentials("h.example", "amy", "t"), pass_env).returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["amy.gpg"]
