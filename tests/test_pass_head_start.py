"""docker-credential-pass get's head start (credctl.stores.passread) and the helpers' quick end
(credctl.entry._end): gpg starts before os loads, a writer's lock still wins, and a process that
still has work at exit is not cut short. Real gpg and pass."""

import fcntl
import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from world import NOT_FOUND, run_helper

from credctl.stores.passread import FOLDER, folder_name

URL = "https://head-start.example.com"


def store(program, env, user, secret, url=URL):
    body = json.dumps({"ServerURL": url, "Username": user, "Secret": secret})
    result = run_helper(program, "store", body, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def lean_python(code: str, env, stdin: bytes) -> subprocess.CompletedProcess:
    """code run as the launchers run a helper: python -I -S with the venv's site-packages."""
    prelude = f"import sys; sys.path.append({sysconfig.get_path('purelib')!r})\n"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + code], input=stdin, env=env, capture_output=True, timeout=60
    )


def test_gpg_decrypts_before_os_is_imported(ours, pass_env):
    store(ours, pass_env, "alice", "s3cret")
    code = """
from credctl.stores import passread
data = passread.start_early()
heavy = ("os", "credctl.errors", "credctl.protocol", "credctl.stores.passstore")
loaded = sorted(name for name in heavy if name in sys.modules)
from credctl.helperinput import server_url_in
folder = passread.server_folder(passread.store_dir(passread.environ()), server_url_in(data))
decryption = passread.started(folder)
print(data, loaded, decryption.name, decryption.gpg.finish(30).stdout, passread.started(folder))
"""
    result = lean_python(code, pass_env, URL.encode() + b"\n")
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout == b"b'https://head-start.example.com\\n' [] alice.gpg b's3cret' None\n"


def test_nothing_starts_where_nothing_is_stored(ours, pass_env):
    store(ours, pass_env, "alice", "s3cret")
    code = "from credctl.stores import passread\nprint(passread.start_early(), passread._early)"
    result = lean_python(code, pass_env, b"https://other.example.com")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"b'https://other.example.com' {}\n", b"")


def test_a_writer_holding_the_lock_is_waited_for(ours, pass_env, tmp_path):
    """A get that comes while a writer holds the store's lock answers with what the writer
    leaves, never with the entry it is replacing."""
    store(ours, pass_env, "alice", "old-secret")
    root = Path(pass_env["PASSWORD_STORE_DIR"])
    entry = root / FOLDER / folder_name(URL) / "alice.gpg"
    key = (root / ".gpg-id").read_text().split()[0]
    newer = subprocess.run(
        ["gpg", "--batch", "--yes", "--trust-model", "always", "-e", "-r", key, "-o", "-"],
        input=b"new-secret",
        env=pass_env,
        capture_output=True,
        check=True,
    ).stdout
    request = tmp_path / "request"
    request.write_bytes(URL.encode())
    lock = os.open(root, os.O_RDONLY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        with open(request, "rb") as stdin:
            get = subprocess.Popen(
                [ours, "get"], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=pass_env
            )
        time.sleep(0.5)
        assert get.poll() is None  # waiting for the lock
        aside = root / "aside.gpg"
        aside.write_bytes(newer)
        aside.rename(entry)
    finally:
        os.close(lock)
    stdout, stderr = get.communicate(timeout=60)
    assert (get.returncode, stdout, stderr) == (
        0,
        b'{"ServerURL":"https://head-start.example.com","Username":"alice","Secret":"new-secret"}\n',
        b"",
    )


def test_every_get_answers_as_before(ours, go_pass, pass_env):
    """The head start's answers are the Go helper's, byte for byte, on a store both wrote."""
    store(ours, pass_env, "alice", 'quote " and \\ backslash')
    store(go_pass, pass_env, "bob", "go-wrote-this", url="https://go.example.com")
    for url in (URL, "https://go.example.com", " " + URL + "\r\n"):
        assert run_helper(ours, "get", url, pass_env).stdout == run_helper(go_pass, "get", url, pass_env).stdout
    # Go 0.6.4 answers an empty login here (docs/stores/pass.md); ours says there is none.
    assert run_helper(ours, "get", "https://none.example.com", pass_env).stdout == NOT_FOUND


END = """
import sys
from credctl.entry import _end
{setup}
sys.stdout.write("answer")
sys.stderr.write("notice")
status = _end(3)
sys.stdout.write(" and teardown")
sys.exit(status)
"""


def test_a_helper_ends_at_once_with_its_output_flushed():
    result = subprocess.run([sys.executable, "-c", END.format(setup="")], capture_output=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (3, b"answer", b"notice")


def test_an_atexit_hook_or_a_thread_gets_the_normal_end():
    hook = "import atexit\natexit.register(lambda: sys.stdout.write(' hook'))"
    result = subprocess.run([sys.executable, "-c", END.format(setup=hook)], capture_output=True, timeout=60)
    assert (result.returncode, result.stdout) == (3, b"answer and teardown hook")
    thread = "import threading, time\nthreading.Thread(target=time.sleep, args=(0.2,)).start()"
    result = subprocess.run([sys.executable, "-c", END.format(setup=thread)], capture_output=True, timeout=60)
    assert (result.returncode, result.stdout) == (3, b"answer and teardown")


def test_the_router_starts_gpg_where_the_route_is_pass(ours, pass_env):
    """docker-credential-credctl get: the routes decide first (credctl.routes.start_early); gpg
    starts on the entry only for a registry they send to pass, and the router's store then uses
    the routes read for that, and the decryption."""
    from credctl.settings import settings_path

    store(ours, pass_env, "alice", "s3cret")
    store(ours, pass_env, "bob", "other", url="https://elsewhere.example.com")
    settings = Path(settings_path(pass_env))
    settings.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.write_text(json.dumps({"routes": {"elsewhere.example.com": "secretservice"}, "route_default": "pass"}))
    settings.chmod(0o600)
    code = """
from credctl import routes
from credctl.stores import passread
from credctl.helperinput import server_url_in
data = server_url_in(routes.start_early())
folder = passread.server_folder(passread.store_dir(passread.environ()), data)
started = passread.started(folder)
print(data, started.name if started else None, started.gpg.finish(30).stdout if started else None,
      type(routes.early_routes()).__name__, routes.early_routes())
"""
    for url, expected in (
        (URL, b"https://head-start.example.com alice.gpg b's3cret' Routes None\n"),
        ("https://elsewhere.example.com", b"https://elsewhere.example.com None None Routes None\n"),
    ):
        result = lean_python(code, pass_env, url.encode())
        assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")
    router = str(Path(ours).with_name("docker-credential-credctl"))
    answer = run_helper(router, "get", URL, pass_env)
    assert (answer.returncode, json.loads(answer.stdout), answer.stderr) == (
        0,
        {"ServerURL": URL, "Username": "alice", "Secret": "s3cret"},
        b"",
    )
