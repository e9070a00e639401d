"""Nothing hangs Docker, and nothing a helper holds ends up in a core file.

Real parts: gpg-agent asking for a passphrase with a pinentry nobody answers, pass, a peer
holding a store's lock and sleeping, a dbus-daemon whose Secret Service name is owned by a
peer that never replies, and the kernel writing core files (core_pattern `core`). The bounds
are set low through CREDCTL_PROMPT_TIMEOUT / CREDCTL_LOCK_TIMEOUT (the documented settings);
every subprocess call of the test itself has a guard so a failing test cannot hang the suite.
"""

import fcntl
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import world
from world import need

from credctl import process
from credctl.stores.passstore import FOLDER, folder_name

GUARD = 60  # seconds: the test's own bound on a helper, far above the bounds set for it
PASSPHRASE = "nobody will type this"
SERVER = "https://stuck.example"
OTHER = "https://other.example"
SECRET = "s3cret-in-memory-only"


def credentials(server: str, secret: str = SECRET) -> bytes:
    return f'{{"ServerURL":"{server}","Username":"user","Secret":"{secret}"}}'.encode()


@pytest.fixture
def stuck_prompt(tmp_path: Path):
    """(env, marker): a pass store for a passphrase-protected key whose gpg-agent asks with a
    pinentry that never answers (it touches marker when asked), one login stored for SERVER."""
    need("gpg", "gpgconf", "pass")
    home = world.make_gnupg_home()
    marker = tmp_path / "asked"
    world.stuck_pinentry(home, marker)
    fpr = world.protected_key(home, "Stuck Prompt <stuck@example.invalid>", PASSPHRASE)
    env = world.helper_env(home, tmp_path / "store")
    for name in ("GPG_TTY", "DISPLAY", "WAYLAND_DISPLAY", "GPG_AGENT_INFO"):
        env.pop(name, None)
    world.init_pass(env, fpr)
    world.stop_agent(home)  # nothing cached: decrypting asks the stuck pinentry
    result = world.run_helper(world.ours(), "store", credentials(SERVER), env)
    assert (result.returncode, result.stdout) == (0, b"")
    yield env, marker
    world.stop_agent(home)
    shutil.rmtree(home, ignore_errors=True)


def test_get_behind_a_stuck_pinentry_ends_with_one_line(stuck_prompt):
    env, marker = stuck_prompt
    env = {**env, "CREDCTL_PROMPT_TIMEOUT": "3"}
    result = world.run([world.ours(), "get"], SERVER, env)
    assert marker.exists(), "the pinentry was never asked: the test proves nothing"
    assert result.returncode == 1
    assert result.stdout == b"gpg did not answer within 3 s (a passphrase prompt nobody answered?)\n"
    # The whole group is gone: no gpg left waiting to decrypt the entry.
    assert [pid for pid in world.processes_naming("--status-fd") if env["GNUPGHOME"] in _environ(pid)] == []


def _environ(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def test_store_is_not_blocked_by_a_get_waiting_on_a_prompt(stuck_prompt):
    env, marker = stuck_prompt
    waiting = subprocess.Popen(
        [world.ours(), "get"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**env, "CREDCTL_PROMPT_TIMEOUT": "120"},
    )
    try:
        waiting.stdin.write(SERVER.encode())
        waiting.stdin.close()
        deadline = time.monotonic() + GUARD
        while not marker.exists() and waiting.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the pinentry was never asked: the test proves nothing"
        try:
            stored = world.run([world.ours(), "store"], credentials(OTHER, "another"), env)
        except subprocess.TimeoutExpired:
            pytest.fail("store waited behind a get that waits for a passphrase")
        assert (stored.returncode, stored.stdout) == (0, b"")
        assert waiting.poll() is None  # still at its prompt: store did not wait for it
        listed = world.run([world.ours(), "list"], b"", env)
        assert listed.stdout == f'{{"{OTHER}":"user","{SERVER}":"user"}}\n'.encode()
    finally:
        waiting.kill()
        waiting.wait()


@pytest.fixture
def pass_store(pass_env):
    result = world.run_helper(world.ours(), "store", credentials(SERVER), pass_env)
    assert result.returncode == 0
    return pass_env


@pytest.mark.parametrize(
    "action, stdin",
    [("store", credentials(SERVER, "new-secret")), ("erase", SERVER.encode()), ("get", SERVER.encode())],
)
def test_pass_helper_gives_up_on_a_lock_a_stuck_peer_holds(pass_store, action, stdin):
    store = Path(pass_store["PASSWORD_STORE_DIR"])
    holder = world.hold_lock(store)
    try:
        try:
            result = world.run([world.ours(), action], stdin, {**pass_store, "CREDCTL_LOCK_TIMEOUT": "1"})
        except subprocess.TimeoutExpired:
            pytest.fail(f"{action} waited for ever on a lock held by a stuck peer")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert result.stdout == (
        f"another process holds the lock on {store} and did not let go within 1 s (is it stuck?)\n".encode()
    )
    entry = store / FOLDER / folder_name(SERVER) / "user.gpg"
    assert entry.is_file()  # nothing lost
    got = world.run_helper(world.ours(), "get", SERVER, pass_store)
    assert b'"Secret":"' + SECRET.encode() + b'"' in got.stdout


@pytest.mark.parametrize(
    "program, lock_name, extra",
    [
        ("docker-credential-secretservice", "secretservice.lock", {}),
        ("docker-credential-keyring", "keyring.lock", {"PYTHON_KEYRING_BACKEND": world.SECRET_SERVICE_BACKEND}),
    ],
)
def test_bus_store_gives_up_on_a_lock_a_stuck_peer_holds(secret_service, program, lock_name, extra):
    env = {**secret_service.env, **extra, "CREDCTL_LOCK_TIMEOUT": "1"}
    lock = Path(env["XDG_CACHE_HOME"]) / "credctl" / lock_name
    lock.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    lock.touch(mode=0o600)
    holder = world.hold_lock(lock)
    try:
        try:
            result = world.run([world.ours(program), "store"], credentials(SERVER), env)
        except subprocess.TimeoutExpired:
            pytest.fail(f"store waited for ever on {lock_name} held by a stuck peer")
    finally:
        holder.kill()
        holder.wait()
    assert (result.returncode, result.stdout) == (
        1,
        f"another process holds the lock on {lock} and did not let go within 1 s (is it stuck?)\n".encode(),
    )


NOT_ANSWERING = "did not answer within 2 s: restart it (log in again), or use the pass store (`credctl pass init`)"


@pytest.mark.parametrize(
    "program, extra, line",
    [
        ("docker-credential-secretservice", {}, f"the Secret Service {NOT_ANSWERING}"),
        # keyring's Secret Service backend (secretstorage, jeepney) waits for a reply without a
        # limit of its own: credctl bounds each of its calls.
        (
            "docker-credential-keyring",
            {"PYTHON_KEYRING_BACKEND": world.SECRET_SERVICE_BACKEND},
            f"the keyring ({world.SECRET_SERVICE_BACKEND}) {NOT_ANSWERING}",
        ),
    ],
)
def test_secret_service_that_never_answers(tmp_path, program, extra, line):
    need("dbus-daemon")
    pytest.importorskip("jeepney")
    service = world.SilentSecretService(tmp_path)
    try:
        env = {**service.env, **extra, "CREDCTL_PROMPT_TIMEOUT": "2"}
        actions = (("get", SERVER.encode()), ("store", credentials(SERVER)), ("erase", SERVER.encode()), ("list", b""))
        for action, stdin in actions:
            try:
                result = world.run([world.ours(program), action], stdin, env)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{action} waited for ever on a Secret Service that never answers")
            assert (result.returncode, result.stdout.decode()) == (1, line + "\n"), action
    finally:
        service.stop()


DOCS = world.ROOT / "docs" / "cli.md"


@pytest.mark.parametrize(
    "variable, default, read",
    [("CREDCTL_PROMPT_TIMEOUT", 120, process.prompt_timeout), ("CREDCTL_LOCK_TIMEOUT", 10, process.lock_timeout)],
)
def test_default_timeouts_are_the_documented_ones(variable, default, read):
    row = next(line for line in DOCS.read_text().splitlines() if line.startswith(f"| `{variable}` |"))
    assert re.search(rf"; default {default}\)\.", row), row
    assert read({}) == default
    assert read({variable: "2.5"}) == 2.5


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf", "3601"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_one_line(pass_store, value):
    result = world.run([world.ours(), "get"], SERVER, {**pass_store, "CREDCTL_PROMPT_TIMEOUT": value})
    assert (result.returncode, result.stdout) == (
        1,
        f"CREDCTL_PROMPT_TIMEOUT must be a number of seconds (at most 3600), not {value!r}\n".encode(),
    )


# -- core dumps -----------------------------------------------------------------------------


def _core_pattern() -> str:
    try:
        return Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return ""


def _unlimited_cores() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _pipe_holds(fd: int) -> int:
    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), "little")


def _core_limit(pid: int) -> str:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if "core file" in line)
    return " ".join(line.split()[4:6])


KEEP_SECRETS = """
import sys
sys.path.append(sys.argv[1])
if sys.argv[2] == "no _ctypes":
    sys.modules["_ctypes"] = None  # as on an interpreter built without it
from credctl.process import keep_secrets_in_memory
keep_secrets_in_memory()
loaded = [name for name in ("resource", "ctypes") if name in sys.modules]
sys.modules.pop("_ctypes")
import ctypes, resource
print(loaded, ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), resource.getrlimit(resource.RLIMIT_CORE))
"""


@pytest.mark.parametrize(
    ("case", "expected"),
    [("as it is", b"[] 0 (0, 0)\n"), ("no _ctypes", b"['resource'] 1 (0, 0)\n")],
)
def test_keep_secrets_in_memory_is_non_dumpable_with_no_core_limit(case, expected):
    """prctl(PR_GET_DUMPABLE) is 0 and RLIMIT_CORE 0/0, set through _ctypes alone (no resource,
    no ctypes loaded for it); without _ctypes, resource sets the core limit."""
    import sysconfig

    command = [sys.executable, "-I", "-S", "-c", KEEP_SECRETS, sysconfig.get_path("purelib"), case]
    result = subprocess.run(command, capture_output=True, timeout=60, preexec_fn=_unlimited_cores)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")


@pytest.mark.parametrize(
    "program, args, partial",
    [
        ("docker-credential-pass", ["store"], credentials(SERVER)[:-2]),
        ("docker-credential-secretservice", ["store"], credentials(SERVER)[:-2]),
        ("credctl", ["helper", "pass", "store"], credentials(SERVER)[:-2]),
        ("credctl-kubelet-provider", [], f'{{"kind":"x","secret":"{SECRET}"'.encode()),
    ],
)
def test_a_helper_holding_a_secret_leaves_no_core_file(tmp_path, program, args, partial):
    """The helper has the secret in memory (a request half-sent on stdin) when SIGABRT comes."""
    pattern = _core_pattern()
    if pattern != "core" and not pattern.startswith("core."):
        pytest.skip(f"core_pattern is {pattern!r}: the kernel does not write ./core here")
    cwd = tmp_path / "docker-cwd"
    cwd.mkdir()
    helper = subprocess.Popen(
        [world.ours(program), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)},
        preexec_fn=_unlimited_cores,
    )
    try:
        helper.stdin.write(partial)
        helper.stdin.flush()
        deadline = time.monotonic() + GUARD
        while _pipe_holds(helper.stdin.fileno()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert helper.poll() is None  # it read what came and waits for the rest
        assert _core_limit(helper.pid) == "0 0"
        helper.send_signal(signal.SIGABRT)
        helper.wait(timeout=GUARD)
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
    assert helper.returncode == -signal.SIGABRT
    assert [path.name for path in cwd.iterdir()] == []


PROMPTER = "org.gnome.keyring.SystemPrompter"  # where gnome-keyring shows its unlock dialog
SECRETS = ("org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service")


def test_unlock_prompt_nobody_answers(secret_service):
    """gnome-keyring's own unlock prompt for a locked keyring, shown by a prompter that never
    answers (a dialog nobody clicks): get ends with one line, the login is still there."""
    from credctl.dbus import Connection

    env = {**secret_service.env, "DISPLAY": ":99"}  # a display to prompt on, as far as credctl knows
    program = world.ours("docker-credential-secretservice")
    assert world.run([program, "store"], credentials(SERVER), env).returncode == 0
    with Connection(env["DBUS_SESSION_BUS_ADDRESS"]) as bus:
        collection = bus.call(*SECRETS, "ReadAlias", "s", "default")[0]
        assert bus.call(*SECRETS, "Lock", "ao", [collection])[0] == [collection]
    prompter = world.silent_peer(env["DBUS_SESSION_BUS_ADDRESS"], PROMPTER)
    try:
        try:
            result = world.run([program, "get"], SERVER, {**env, "CREDCTL_PROMPT_TIMEOUT": "3"})
        except subprocess.TimeoutExpired:
            pytest.fail("get waited for ever on an unlock prompt nobody answers")
    finally:
        prompter.kill()
        prompter.wait()
    assert (result.returncode, result.stdout) == (
        1,
        b"the keyring's unlock prompt was not answered within 3 s, so nothing was unlocked or stored\n",
    )
    unlocked = subprocess.run(
        ["gnome-keyring-daemon", "--unlock"], input=world.KEYRING_PASSWORD, env=env, capture_output=True, timeout=GUARD
    )
    assert unlocked.returncode == 0
    got = world.run([program, "get"], SERVER, secret_service.env)
    assert got.stdout == f'{{"ServerURL":"{SERVER}","Username":"user","Secret":"{SECRET}"}}\n'.encode()  # nothing lost


def test_a_bounded_child_can_still_ask_on_the_terminal():
    """gpg asks on the terminal when it encrypts to a key of unknown trust: a child in a process
    group of its own would be stopped (SIGTTIN) at the first read instead of asking."""
    from credctl.spawn import run

    finished = run(["sh", "-c", "ps -o pgid= -p $$"], timeout=30)
    assert (finished.status, int(finished.stdout)) == (0, os.getpgrp())


def test_a_child_that_does_not_end_is_killed_with_everything_it_started():
    """What spawn.run leaves when its bound passes: nothing (pass's gpg is such a grandchild)."""
    from credctl.spawn import run

    mark = f"credctl-hang-test-{os.getpid()}"
    sleeper = f"{sys.executable} -c 'import time; time.sleep(3600)' {mark}"
    with pytest.raises(TimeoutError):
        run(["sh", "-c", f"{sleeper} & {sleeper}; :"], timeout=1)  # a grandchild, and a child waiting
    assert world.processes_naming(mark) == []
