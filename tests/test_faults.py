"""Faults injected into the real parts: each gives one clear line naming the
fix, exit status 1, nothing on stderr from a docker-credential-* program, no traceback, and
loses nothing: a credential stored before the fault is still readable after it, and no file is
left half-written.

Real gpg, pass, dbus-daemon and gnome-keyring, the installed console scripts as subprocesses,
real file systems (a tiny tmpfs, filled up or remounted read-only: that needs root, and the
tests that need it skip without it), and for Alibaba Cloud the loopback fake plus, for faults
it cannot produce (an empty 200, a reset mid-answer), a raw socket server here.
"""

import contextlib
import errno
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest
import secretstorage
import world
from world import (
    EE,
    NOT_FOUND,
    PERSONAL,
    acr_env,
    answer,
    cache_files,
    clean,
    cli_env,
    expire,
    need,
    outcome,
    run_helper,
    with_key,
    write_credentials,
)

from credctl.protocol import encode_credentials

PASS = world.ours("docker-credential-pass")
SECRETSERVICE = world.ours("docker-credential-secretservice")
KEYRING = world.ours("docker-credential-keyring")
ACR = world.ours("docker-credential-acr-helper")
CREDCTL = world.ours("credctl")
TIMEOUT = 60  # seconds; a guard against hangs, not an expectation
INIT_HINT = "run `credctl pass init`"
URL = "registry.example.com:5000"


# --- checks ------------------------------------------------------------------------------------


def helper_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """A docker-credential-* failure: exit 1, one line on stdout holding words, stderr empty."""
    out = result.stdout.decode("utf-8", "replace")
    assert b"Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert (result.returncode, result.stderr) == (1, b""), (result.returncode, out, result.stderr)
    assert out.endswith("\n") and out.count("\n") == 1, out
    for word in words:
        assert word in out, out
    return out


def cli_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """A credctl failure: exit 1, one `error: …` line on stderr holding words, no traceback."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


def credctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return world.credctl(env, *args, timeout=TIMEOUT)


def store(program: str, env: dict[str, str], url: str, user: str, secret: str) -> None:
    result = run_helper(program, "store", encode_credentials(url, user, secret), env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b""), result.stdout


def reads(program: str, env: dict[str, str], url: str, user: str, secret: str) -> None:
    """The credential is still there, byte for byte."""
    result = run_helper(program, "get", url, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, encode_credentials(url, user, secret), b"")


def bin_with(tmp_path: Path, *programs: str) -> str:
    """A PATH of one folder holding only these programs (symlinks to the real ones)."""
    folder = tmp_path / f"bin-{'-'.join(programs) or 'empty'}"
    folder.mkdir()
    for program in programs:
        (folder / program).symlink_to(shutil.which(program))
    return str(folder)


# --- a tiny file system: full or read-only -----------------------------------------------------


@pytest.fixture
def tiny_fs(tmp_path: Path):
    """make(name, size) mounts a fresh tmpfs of that size at tmp_path/name; unmounted afterwards."""
    mounted: list[Path] = []

    def make(name: str, size: str = "256k") -> Path:
        point = tmp_path / name
        point.mkdir()
        try:
            result = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(point)],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except FileNotFoundError:
            pytest.skip("no mount(8) here: a full or read-only file system cannot be made")
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30)


def fill(point: Path) -> None:
    """Use up every free block of the file system at point."""
    fd = os.open(point / ".filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as err:
        assert err.errno == errno.ENOSPC, err
    finally:
        os.close(fd)
    assert os.statvfs(point).f_bavail == 0


def make_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True, timeout=30)


def files_under(root: Path) -> dict[str, bytes]:
    """Every regular file under root (but the filler) with its bytes: the state to keep."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".filler"
    }


# --- pass: missing programs --------------------------------------------------------------------


def test_erase_with_gpg_but_without_pass(pass_env, tmp_path):
    store(PASS, pass_env, URL, "u", "pw")
    env = {**pass_env, "PATH": bin_with(tmp_path, "gpg")}
    helper_line(run_helper(PASS, "erase", URL, env), "pass is not installed", "apt-get install pass", INIT_HINT)
    reads(PASS, env, URL, "u", "pw")  # gpg alone still decrypts
    reads(PASS, pass_env, URL, "u", "pw")


def test_pass_init_without_gpg(gnupg_home, tmp_path):
    need("pass")
    env = cli_env(tmp_path, PATH=bin_with(tmp_path, "pass"), GNUPGHOME=str(gnupg_home[0]))
    root = tmp_path / "new-store"
    result = credctl(env, "pass", "init", "--gpg-id", gnupg_home[1], "--store-dir", str(root))
    cli_line(result, "gpg is not installed", "apt-get install gnupg")
    assert not root.exists()


# --- pass: an expired or revoked key, a gpg-agent that cannot start ------------------------------


@pytest.fixture
def own_key(tmp_path: Path):
    """A gpg home of its own (its key gets expired or revoked) with an initialised pass store
    holding one credential; yields (env, fingerprint)."""
    need("gpg", "gpgconf", "pass")
    home = world.make_gnupg_home()
    try:
        fpr = world.generate_key(home, "faults <faults@example.invalid>")
        env = world.helper_env(home, tmp_path / "store")
        world.init_pass(env, fpr)
        store(PASS, env, URL, "u", "before the fault")
        yield env, fpr
    finally:
        world.stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)


def revoke(env: dict[str, str], fpr: str) -> None:
    """Import the revocation certificate gpg made with the key."""
    certificate = Path(env["GNUPGHOME"]) / "openpgp-revocs.d" / f"{fpr}.rev"
    text = certificate.read_text().replace(":-----BEGIN PGP PUBLIC KEY BLOCK", "-----BEGIN PGP PUBLIC KEY BLOCK")
    subprocess.run(["gpg", "--batch", "--import"], input=text.encode(), env=env, check=True, capture_output=True)
    listing = subprocess.run(
        ["gpg", "--with-colons", "--list-keys", fpr], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "\npub:r:" in listing, listing


KEY_FAULTS = {"expired": (expire, "expired"), "revoked": (revoke, "revoked")}


@pytest.mark.parametrize("fault", KEY_FAULTS)
def test_a_key_that_cannot_encrypt_any_more_keeps_what_it_encrypted(own_key, fault):
    env, fpr = own_key
    KEY_FAULTS[fault][0](env, fpr)
    result = run_helper(PASS, "store", encode_credentials(URL, "u", "after the fault"), env)
    helper_line(result, INIT_HINT)
    reads(PASS, env, URL, "u", "before the fault")  # an expired or revoked key still decrypts
    helper_line(run_helper(PASS, "store", encode_credentials("new.example", "u", "s"), env))
    assert run_helper(PASS, "get", "new.example", env).stdout == NOT_FOUND  # nothing half-stored
    assert run_helper(PASS, "list", b"", env).stdout == f'{{"{URL}":"u"}}\n'.encode()


@pytest.mark.parametrize("fault", KEY_FAULTS)
def test_a_key_that_cannot_encrypt_any_more_is_named(own_key, fault):
    env, fpr = own_key
    action, word = KEY_FAULTS[fault]
    action(env, fpr)
    result = run_helper(PASS, "store", encode_credentials(URL, "u", "after the fault"), env)
    helper_line(result, word, INIT_HINT)


def break_agent(env: dict[str, str], how: str) -> dict[str, str]:
    """The environment of a copy of the gpg home whose gpg-agent cannot start."""
    home = Path(env["GNUPGHOME"])
    world.stop_agent(home)
    if how == "agent-program":
        (home / "gpg.conf").write_text("agent-program /nonexistent/gpg-agent\n")
        return env
    # A home whose path is too long for the agent's socket (as root there is no /run/user/0).
    deep = Path(str(home) + "-" + "d" * 110)
    deep.mkdir(mode=0o700)
    for name in ("pubring.kbx", "private-keys-v1.d", "trustdb.gpg"):
        source = home / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, deep / name)
    return {**env, "GNUPGHOME": str(deep)}


@pytest.mark.parametrize("how", ["agent-program", "socket-path-too-long"])
def test_a_gpg_agent_that_cannot_start(own_key, how):
    if how == "socket-path-too-long" and os.path.isdir(f"/run/user/{os.getuid()}"):
        pytest.skip("gpg puts its sockets in /run/user here, so a long GNUPGHOME does not break the agent")
    env, _fpr = own_key
    broken = break_agent(env, how)
    try:
        result = run_helper(PASS, "get", URL, broken)
        line = helper_line(result, "agent")
        assert "no secret key" not in line
    finally:
        if broken is not env:
            shutil.rmtree(broken["GNUPGHOME"], ignore_errors=True)
        (Path(env["GNUPGHOME"]) / "gpg.conf").unlink(missing_ok=True)
    reads(PASS, env, URL, "u", "before the fault")


def test_a_gpg_agent_that_cannot_start_is_one_line(own_key):
    """Whatever the wording, the failure is one line and the credential survives."""
    env, _fpr = own_key
    break_agent(env, "agent-program")
    helper_line(run_helper(PASS, "get", URL, env), "gpg")
    (Path(env["GNUPGHOME"]) / "gpg.conf").unlink()
    reads(PASS, env, URL, "u", "before the fault")


# --- pass: the store taken away under the helper ---------------------------------------------------


def test_the_store_deleted_between_store_and_get(pass_env):
    store(PASS, pass_env, URL, "u", "pw")
    shutil.rmtree(pass_env["PASSWORD_STORE_DIR"])
    assert run_helper(PASS, "get", URL, pass_env).stdout == NOT_FOUND
    helper_line(run_helper(PASS, "get", URL, pass_env))
    assert run_helper(PASS, "list", b"", pass_env).stdout == b"{}\n"
    assert outcome(PASS, "erase", URL, pass_env) == (0, b"", b"")  # nothing there to erase: success
    result = run_helper(PASS, "store", encode_credentials(URL, "u", "pw"), pass_env)
    helper_line(result, "is not initialised", INIT_HINT)


def test_the_store_replaced_by_a_file(pass_env):
    store(PASS, pass_env, URL, "u", "pw")
    root = Path(pass_env["PASSWORD_STORE_DIR"])
    shutil.rmtree(root)
    root.write_text("not a store\n")
    assert helper_line(run_helper(PASS, "get", URL, pass_env)) == NOT_FOUND.decode()
    assert outcome(PASS, "erase", URL, pass_env) == (0, b"", b"")
    helper_line(run_helper(PASS, "store", encode_credentials(URL, "u", "pw"), pass_env), INIT_HINT)
    assert run_helper(PASS, "list", b"", pass_env).stdout == b"{}\n"
    assert root.read_text() == "not a store\n"


def test_the_helpers_folder_replaced_by_a_file(pass_env):
    store(PASS, pass_env, URL, "u", "pw")
    folder = Path(pass_env["PASSWORD_STORE_DIR"]) / "docker-credential-helpers"
    shutil.rmtree(folder)
    folder.write_text("in the way\n")
    assert helper_line(run_helper(PASS, "get", URL, pass_env)) == NOT_FOUND.decode()
    assert outcome(PASS, "erase", URL, pass_env) == (0, b"", b"")
    assert run_helper(PASS, "list", b"", pass_env).stdout == b"{}\n"
    helper_line(run_helper(PASS, "store", encode_credentials(URL, "u", "pw"), pass_env), "Not a directory")
    assert folder.read_text() == "in the way\n"


# --- pass: a full disk ---------------------------------------------------------------------------


@pytest.fixture
def full_store(pass_env, tiny_fs):
    """A pass store on a tiny file system holding one credential, then filled to the last block."""
    root = tiny_fs("store-fs") / "store"
    env = {**pass_env, "PASSWORD_STORE_DIR": str(root)}
    world.init_pass(env, world.fingerprint(Path(env["GNUPGHOME"]), "credctl-test@example.invalid"))
    store(PASS, env, URL, "u", "before the fault")
    fill(root.parent)
    return env


def test_a_full_disk_keeps_every_credential(full_store):
    for url, secret in (("new.example", "s"), (URL, "after the fault")):  # a new server, a replacement
        result = run_helper(PASS, "store", encode_credentials(url, "u", secret), full_store)
        helper_line(result, "No space left on device")
        reads(PASS, full_store, URL, "u", "before the fault")
    assert run_helper(PASS, "list", b"", full_store).stdout == f'{{"{URL}":"u"}}\n'.encode()
    assert run_helper(PASS, "get", "new.example", full_store).stdout == NOT_FOUND


def test_a_full_disk_leaves_nothing_behind(full_store):
    root = Path(full_store["PASSWORD_STORE_DIR"])
    before = files_under(root)
    for url, secret in (("new.example", "s"), (URL, "after the fault")):
        helper_line(run_helper(PASS, "store", encode_credentials(url, "u", secret), full_store))
    assert files_under(root) == before
    assert not (root / ".credctl-tmp").exists()


def test_a_full_disk_is_named(full_store):
    result = run_helper(PASS, "store", encode_credentials("new.example", "u", "s"), full_store)
    helper_line(result, "No space left on device", full_store["PASSWORD_STORE_DIR"])


def test_a_full_cache_does_not_stop_pass_list(pass_env, tiny_fs):
    cache = tiny_fs("cache-fs", "64k")
    env = {**pass_env, "XDG_CACHE_HOME": str(cache)}
    store(PASS, env, URL, "u", "pw")
    fill(cache)
    result = run_helper(PASS, "list", b"", env)
    assert (result.returncode, result.stdout, result.stderr) == (0, f'{{"{URL}":"u"}}\n'.encode(), b"")
    assert [p.name for p in (cache / "credctl").iterdir()] == []  # no temporary file left
    reads(PASS, env, URL, "u", "pw")


# --- Secret Service: the bus or the daemon going away ----------------------------------------------


def keyring_daemon_pid(bus) -> int:
    """The pid of the process that owns org.freedesktop.secrets on this bus."""
    from jeepney.bus_messages import message_bus

    return bus.send_and_get_reply(message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets")).body[0]


def reads_in_a_new_session(service: world.SecretService, base: Path, program: str, **extra: str) -> None:
    """A new session bus and gnome-keyring for the same HOME unlock the keyring on disk: program
    still reads the credential stored before the fault (extra: more environment)."""
    runtime = base / "run-again"
    runtime.mkdir(mode=0o700)
    bus, address = world.session_bus(runtime)
    try:
        env = {**service.env, "XDG_RUNTIME_DIR": str(runtime), "DBUS_SESSION_BUS_ADDRESS": address}
        env.pop("GNOME_KEYRING_CONTROL", None)
        subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input=world.KEYRING_PASSWORD,
            env=env,
            capture_output=True,
            timeout=30,
            check=True,
        )
        reads(program, {**env, **extra}, URL, "u", "before the fault")
    finally:
        bus.terminate()
        bus.wait(timeout=10)


def pending_get(env: dict[str, str]) -> subprocess.Popen:
    """A `get` sent while the keyring daemon is stopped: it waits for an answer."""
    pending = subprocess.Popen(
        [SECRETSERVICE, "get"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    pending.stdin.write(URL.encode())
    pending.stdin.close()
    pending.stdin = None  # communicate() must not flush it
    time.sleep(1.0)
    return pending


SECRETSERVICE_ACTIONS = [
    ("get", URL.encode()),
    ("list", b""),
    ("store", encode_credentials(URL, "u", "new")),
    ("erase", URL.encode()),
]


def test_the_session_bus_gone(secret_service, tmp_path):
    env = secret_service.env
    store(SECRETSERVICE, env, URL, "u", "before the fault")
    secret_service.stop()
    for action, stdin in SECRETSERVICE_ACTIONS:
        helper_line(
            run_helper(SECRETSERVICE, action, stdin, env), "cannot reach the D-Bus session bus", "dbus-run-session"
        )
    reads_in_a_new_session(secret_service, tmp_path, SECRETSERVICE)


def test_the_keyring_daemon_killed_mid_call(secret_service, secret_bus, tmp_path):
    env = secret_service.env
    store(SECRETSERVICE, env, URL, "u", "before the fault")
    pid = keyring_daemon_pid(secret_bus)
    os.kill(pid, signal.SIGSTOP)  # the next request waits for an answer...
    try:
        pending = pending_get(env)
        assert pending.poll() is None
    finally:
        os.kill(pid, signal.SIGKILL)  # ...that never comes: the bus answers NoReply
    stdout, stderr = pending.communicate(timeout=TIMEOUT)
    helper_line(
        subprocess.CompletedProcess([], pending.returncode, stdout, stderr),
        "the Secret Service quit without answering",
        "gnome-keyring-daemon --unlock",
    )
    # The keyring on disk is intact: a new daemon unlocks it and serves the credential.
    secret_service.stop()
    reads_in_a_new_session(secret_service, tmp_path, SECRETSERVICE)


def test_the_bus_killed_mid_call(secret_service, secret_bus, tmp_path):
    env = secret_service.env
    store(SECRETSERVICE, env, URL, "u", "before the fault")
    pid = keyring_daemon_pid(secret_bus)
    os.kill(pid, signal.SIGSTOP)
    try:
        pending = pending_get(env)
        secret_service.bus.kill()  # the bus itself dies while the call is pending
        secret_service.bus.wait(timeout=10)
        stdout, stderr = pending.communicate(timeout=TIMEOUT)
    finally:
        os.kill(pid, signal.SIGCONT)
    helper_line(
        subprocess.CompletedProcess([], pending.returncode, stdout, stderr),
        "the D-Bus session bus closed the connection",
        "try again",
    )
    with contextlib.suppress(ProcessLookupError):  # it may have quit already, its bus gone
        os.kill(pid, signal.SIGTERM)
    reads_in_a_new_session(secret_service, tmp_path, SECRETSERVICE)


# --- keyring: a locked collection, no display --------------------------------------------------------


def test_keyring_backend_on_a_locked_collection(secret_service, secret_bus, tmp_path):
    env = {**secret_service.env, "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    assert "DISPLAY" not in env and "WAYLAND_DISPLAY" not in env
    store(KEYRING, env, URL, "u", "before the fault")
    collection = secretstorage.get_default_collection(secret_bus)
    collection.lock()
    for action, stdin in (("get", URL), ("store", encode_credentials(URL, "v", "new")), ("list", ""), ("erase", URL)):
        helper_line(run_helper(KEYRING, action, stdin, env), "is locked: unlock it and try again")
    assert collection.is_locked()
    # Nothing was lost: the keyring on disk, unlocked by a new daemon, still has the credential.
    secret_service.stop()
    reads_in_a_new_session(secret_service, tmp_path, KEYRING, PYTHON_KEYRING_BACKEND=env["PYTHON_KEYRING_BACKEND"])


# --- a full or read-only file system under credctl's own files ------------------------------------


def test_map_into_a_read_only_config_folder(tiny_fs, tmp_path):
    folder = tiny_fs("docker-ro", "64k")
    config = folder / "config.json"
    config.write_bytes(b'{\n\t"auths": {}\n}')
    make_read_only(folder)
    result = credctl(cli_env(tmp_path), "--config", str(folder), "map", "reg.example", "pass")
    cli_line(result, "Read-only file system", str(folder), "remount it read-write")
    assert config.read_bytes() == b'{\n\t"auths": {}\n}'


def test_map_into_a_full_config_folder(tiny_fs, tmp_path):
    folder = tiny_fs("docker-full", "64k")
    config = folder / "config.json"
    config.write_bytes(b'{\n\t"auths": {}\n}')
    fill(folder)
    result = credctl(cli_env(tmp_path), "--config", str(folder), "map", "reg.example", "pass")
    cli_line(result, "No space left on device", "free some space")
    assert config.read_bytes() == b'{\n\t"auths": {}\n}'
    assert sorted(p.name for p in folder.iterdir()) == [".config.json.credctl-lock", ".filler", "config.json"]


def test_settings_on_a_full_disk(aliyun, tiny_fs, tmp_path):
    config_home = tiny_fs("xdg-config-full", "64k")
    env = acr_env(tmp_path, aliyun, XDG_CONFIG_HOME=str(config_home))
    credentials = write_credentials(tmp_path / "accounts" / "team.ini")
    add = ["acr", "add-profile", "--credentials-file", str(credentials), "--bin-dir", str(tmp_path / "bin")]
    assert credctl(env, *add[:2], "team0", *add[2:]).returncode == 0
    settings = config_home / "credctl" / "settings.json"
    before = settings.read_bytes()
    fill(config_home)
    cli_line(credctl(env, *add[:2], "team1", *add[2:]), "No space left on device", "free some space")
    assert settings.read_bytes() == before
    assert sorted(p.name for p in settings.parent.iterdir()) == ["settings.json", "settings.json.lock"]


def test_acr_get_with_a_full_cache(aliyun, tiny_fs, tmp_path):
    cache = tiny_fs("cache-full", "64k")
    env = with_key(acr_env(tmp_path, aliyun, XDG_CACHE_HOME=str(cache)))
    fill(cache)
    for _ in range(2):  # answered from the API each time, since nothing can be cached
        result = run_helper(ACR, "get", EE, env)
        clean(result)
        assert (result.returncode, result.stdout) == (0, answer(EE, aliyun.issued[-1].token))
    assert len(aliyun.issued) == 2
    assert [p.name for p in (cache / "credctl" / "acr").iterdir()] == []  # no half-written token


# --- the Alibaba Cloud API: what the fake cannot do -------------------------------------------------


class RawServer:
    """An HTTP server on 127.0.0.1 that answers every request with the same bytes, then closes the
    connection, with a reset (RST) when reset is set. url is what CREDCTL_ACR_ENDPOINT takes."""

    def __init__(self, response: bytes, reset: bool = False) -> None:
        self.response, self.reset, self.requests = response, reset, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(10)
                try:
                    self._answer(connection)
                except OSError:
                    pass

    def _answer(self, connection: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            body += connection.recv(65536)
        self.requests += 1
        connection.sendall(self.response)
        if self.reset:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a RST

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def make(response: bytes, reset: bool = False) -> RawServer:
        servers.append(RawServer(response, reset))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


EMPTY_200 = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n"
CUT_SHORT = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"data": {"authoriz'


@pytest.mark.parametrize("server", [PERSONAL, EE])
@pytest.mark.parametrize(
    ("response", "reset", "words"),
    [
        (EMPTY_200, False, ("the Alibaba Cloud API answered with something that is not JSON", "try again later")),
        (CUT_SHORT, True, ("the connection to the Alibaba Cloud API broke off mid-answer", "check the network")),
    ],
    ids=["empty 200", "reset mid-answer"],
)
def test_an_api_answer_that_is_not_one(raw_server, tmp_path, server, response, reset, words):
    fake = raw_server(response, reset)
    env = with_key(acr_env(tmp_path, fake, CREDCTL_ACR_TIMEOUT="5"))
    result = run_helper(ACR, "get", server, env)
    clean(result)
    helper_line(result, f"cannot get a token for {server}: ", *words)
    assert fake.requests >= 1
    assert cache_files(tmp_path) == []


def test_an_already_expired_token_from_the_api_is_refused_and_not_cached(aliyun, tmp_path):
    """Decision: a token whose ExpireTime is past would only get Docker an "unauthorized" from
    the registry; the helper refuses it with a line that names the likely cause, and caches nothing."""
    env = with_key(acr_env(tmp_path, aliyun))
    aliyun.token_ttl = -60
    for server in (EE, PERSONAL):
        result = run_helper(ACR, "get", server, env)
        clean(result, aliyun.issued[-1].token if aliyun.issued else "")
        line = helper_line(result, f"Alibaba Cloud issued a token for {server} that has already expired", "clock")
        assert aliyun.issued[-1].token not in line
    assert cache_files(tmp_path) == []
    aliyun.token_ttl = 3600  # the API is right again: the next get works and caches
    result = run_helper(ACR, "get", EE, env)
    clean(result)
    assert (result.returncode, result.stdout) == (0, answer(EE, aliyun.issued[-1].token))
    assert len(cache_files(tmp_path)) == 1


# --- a malformed config.json, for the commands test_dockerconfig.py does not cover -------------------

MALFORMED = b'{"auths": {"reg.example": {"auth": "dTpw"}},'  # cut short


def malformed_config(tmp_path: Path) -> Path:
    folder = tmp_path / "docker"
    folder.mkdir(exist_ok=True)
    config = folder / "config.json"
    config.write_bytes(MALFORMED)
    return config


def test_setup_refuses_a_malformed_config(pass_env, tmp_path):
    config = malformed_config(tmp_path)
    env = cli_env(tmp_path, pass_env, REGISTRY_AUTH_FILE=str(tmp_path / "podman" / "auth.json"))
    for args in (["--yes"], ["--yes", "--no-migrate", "--no-podman"], ["--yes", "--podman"], ["--dry-run"]):
        result = credctl(env, "--config", str(config.parent), "setup", "--store", "pass", *args)
        cli_line(result, str(config), "is not valid JSON", "fix or remove it")
        assert config.read_bytes() == MALFORMED
    assert not (tmp_path / "podman").exists()


def test_acr_add_profile_refuses_a_malformed_config_before_writing_anything(aliyun, tmp_path):
    config = malformed_config(tmp_path)
    env = acr_env(tmp_path, aliyun)
    credentials = write_credentials(tmp_path / "accounts" / "team.ini")
    bin_dir = tmp_path / "bin"
    result = credctl(
        env,
        *("--config", str(config.parent), "acr", "add-profile", "team1", "--credentials-file", str(credentials)),
        *("--bin-dir", str(bin_dir), "--registry", EE),
    )
    cli_line(result, str(config), "is not valid JSON")
    assert config.read_bytes() == MALFORMED
    assert not (bin_dir / "docker-credential-acr-helper-team1").exists()
    assert not (tmp_path / "config" / "credctl" / "settings.json").exists()


def test_acr_add_profile_refuses_malformed_settings_before_writing_anything(aliyun, tmp_path):
    env = acr_env(tmp_path, aliyun)
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True, mode=0o700)
    settings.write_bytes(MALFORMED)
    config = tmp_path / "docker" / "config.json"
    config.parent.mkdir()
    config.write_bytes(b'{"credsStore": "pass"}')
    credentials = write_credentials(tmp_path / "accounts" / "team.ini")
    bin_dir = tmp_path / "bin"
    result = credctl(
        env,
        *("--config", str(config.parent), "acr", "add-profile", "team1", "--credentials-file", str(credentials)),
        *("--bin-dir", str(bin_dir), "--registry", EE),
    )
    cli_line(result, str(settings), "is not valid JSON")
    assert settings.read_bytes() == MALFORMED
    assert config.read_bytes() == b'{"credsStore": "pass"}'  # no registry mapped to a profile nobody recorded
    assert not (bin_dir / "docker-credential-acr-helper-team1").exists()


def test_acr_remove_profile_refuses_a_malformed_config_and_keeps_the_profile(aliyun, tmp_path):
    env = acr_env(tmp_path, aliyun)
    folder = tmp_path / "docker"
    credentials = write_credentials(tmp_path / "accounts" / "team.ini")
    bin_dir = tmp_path / "bin"
    added = credctl(
        env,
        *("--config", str(folder), "acr", "add-profile", "team1", "--credentials-file", str(credentials)),
        *("--bin-dir", str(bin_dir), "--registry", EE),
    )
    assert added.returncode == 0, added.stderr
    wrapper = bin_dir / "docker-credential-acr-helper-team1"
    settings = tmp_path / "config" / "credctl" / "settings.json"
    before = settings.read_bytes()
    config = malformed_config(tmp_path)

    result = credctl(env, "--config", str(folder), "acr", "remove-profile", "team1")
    cli_line(result, str(config), "is not valid JSON")
    assert config.read_bytes() == MALFORMED
    assert settings.read_bytes() == before
    assert wrapper.exists()  # still served: the config it is mapped in was not changed


def test_acr_remove_profile_on_a_read_only_config_keeps_the_profile_working(aliyun, tiny_fs, tmp_path):
    """The wrapper goes only once config.json no longer maps a registry to it."""
    env = acr_env(tmp_path, aliyun)
    folder = tiny_fs("docker-ro", "64k")
    credentials = write_credentials(tmp_path / "accounts" / "team.ini")
    bin_dir = tmp_path / "bin"
    added = credctl(
        env,
        *("--config", str(folder), "acr", "add-profile", "team1", "--credentials-file", str(credentials)),
        *("--bin-dir", str(bin_dir), "--registry", EE),
    )
    assert added.returncode == 0, added.stderr
    config, settings = folder / "config.json", tmp_path / "config" / "credctl" / "settings.json"
    before = (config.read_bytes(), settings.read_bytes())
    make_read_only(folder)

    result = credctl(env, "--config", str(folder), "acr", "remove-profile", "team1")

    cli_line(result, "Read-only file system", str(folder), "remount it read-write")
    assert (config.read_bytes(), settings.read_bytes()) == before
    assert (bin_dir / "docker-credential-acr-helper-team1").exists()  # still what config.json names
