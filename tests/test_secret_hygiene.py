"""Secret hygiene: a secret never shows where another process, a log or a
file could see it, credctl's files are private, and generated shell runs nothing it should not.

- While each helper stores and reads a fresh random secret (real programs, real stores), a
  watcher thread scans /proc/*/cmdline and /proc/*/environ of every process (the tests run as
  root, so it can read them all: gpg, pass, gnome-keyring-daemon and the rest) as fast as it
  can. The same for `credctl migrate` and for ACR token fetches, where the only place the access
  key secret may be is the one the test put it: the helper's own environment.
- Every stdout (but a `get` answer), stderr and error line, helpers failing included, and every
  file credctl writes in its cache and config folders, is grepped for the secret.
- Modes of everything credctl creates; wrappers that survive newlines in their paths.
"""

import base64
import io
import json
import logging
import os
import secrets
import stat
import subprocess
import threading
from pathlib import Path

import pytest
import world
from world import (
    ALIYUN_KEY_ID,
    EE,
    REGION,
    acr_env,
    need,
    use_environment,
    with_key,
    write_credentials,
)

from credctl.protocol import encode_credentials, respond
from credctl.stores import LOGIN_STORES, STORES, open_store, program_name

TIMEOUT = 60
CREDCTL = world.ours("credctl")
CUSTOM = "registry.hygiene.example"
ROUNDS = 4  # store/get rounds per helper: more chances to catch a short-lived gpg


def fresh_secret() -> str:
    return "hyg-" + secrets.token_hex(16)


# --- the process watcher -------------------------------------------------------------------------


class ProcWatcher(threading.Thread):
    """Scans every process's argv and environment for needles until stopped.

    exempt: (program, entry) pairs: an environ entry (b"NAME=value") that may hold a needle in a
    process whose argv names program (the helper's own environment, where the test put it).
    """

    def __init__(self, needles: list[str], exempt: tuple[tuple[str, bytes], ...] = ()) -> None:
        super().__init__(daemon=True)
        self.needles = [needle.encode() for needle in needles]
        self.exempt = exempt
        self.hits: list[str] = []
        self.scans = 0
        self.seen: set[str] = set()  # comm names of the processes seen
        self.halt = threading.Event()

    def run(self) -> None:
        own = str(os.getpid())
        while not self.halt.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit() and pid != own:
                    self._scan(pid)
            self.scans += 1

    def _read(self, pid: str, name: str) -> bytes:
        try:
            with open(f"/proc/{pid}/{name}", "rb") as file:
                return file.read()
        except OSError:
            return b""  # gone, or a kernel thread

    def _scan(self, pid: str) -> None:
        cmdline = self._read(pid, "cmdline")
        environ = self._read(pid, "environ")
        comm = self._read(pid, "comm").strip().decode(errors="replace")
        if comm:
            self.seen.add(comm)
        for needle in self.needles:
            if needle in cmdline:
                self.hits.append(f"argv of {pid} ({comm})")
            if needle in environ:
                entries = environ.split(b"\0")
                for program, entry in self.exempt:
                    # A process on its way out has an empty cmdline; comm still names the script.
                    if program.encode() in cmdline.split(b"\0")[:3] or (
                        not cmdline and comm == os.path.basename(program)[:15]
                    ):
                        entries = [item for item in entries if item != entry]
                if any(needle in item for item in entries):
                    self.hits.append(f"environment of {pid} ({comm}: {cmdline[:120]!r})")

    def __enter__(self) -> "ProcWatcher":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.join(timeout=30)


def watched(needles: list[str], exempt=()) -> ProcWatcher:
    return ProcWatcher(needles, exempt)


# --- helpers -----------------------------------------------------------------------------------


def helper(store: str, action: str, stdin: bytes | str, env: dict[str, str]):
    return world.run_helper(world.ours(program_name(store)), action, stdin, env)


def no_secret_in(secret: str, *texts: bytes | str) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode()
        assert secret.encode() not in data, f"the secret was shown: {data[:300]!r}"


def files_under(*folders: Path) -> list[Path]:
    return [path for folder in folders if folder.exists() for path in folder.rglob("*") if path.is_file()]


# --- 1. nothing in any process's argv or environment --------------------------------------------


@pytest.mark.parametrize("store", LOGIN_STORES)
def test_a_secret_never_reaches_argv_or_environ(store, request, tmp_path):
    env = world.store_world(store, request).env
    secret = fresh_secret()
    server = f"hygiene-{store}.example.com"
    outputs = []
    with watched([secret]) as watcher:
        for round_ in range(ROUNDS):
            secret_now = f"{secret}-{round_}"
            stored = helper(store, "store", encode_credentials(server, f"user{round_}", secret_now), env)
            got = helper(store, "get", server, env)
            assert (stored.returncode, got.returncode) == (0, 0), (stored.stdout, got.stdout)
            assert json.loads(got.stdout)["Secret"] == secret_now
            outputs += [stored.stdout, stored.stderr, got.stderr, helper(store, "list", b"", env).stdout]
        erased = helper(store, "erase", server, env)
        outputs += [erased.stdout, erased.stderr]
    assert watcher.hits == [], watcher.hits
    assert watcher.scans > ROUNDS, watcher.scans
    no_secret_in(secret, *outputs)
    # The processes the helpers ran were there to be seen.
    expected = {"pass": "gpg", "secretservice": "gnome-keyring-d", "keyring": "gnome-keyring-d"}[store]
    assert any(name.startswith(expected) for name in watcher.seen), sorted(watcher.seen)
    # In clear nowhere on disk in this world (pass files are encrypted, gnome-keyring's too).
    roots = [tmp_path, Path(env.get("GNUPGHOME", tmp_path))]
    for path in files_under(*roots):
        no_secret_in(secret, path.read_bytes())


def test_migrate_moves_a_secret_without_showing_it(pass_env, tmp_path):
    secret = fresh_secret()
    auth = base64.b64encode(f"alice:{secret}".encode()).decode()
    config_dir = tmp_path / "docker"
    config_dir.mkdir(mode=0o700)
    config = config_dir / "config.json"
    config.write_text(json.dumps({"auths": {"mig.example.com": {"auth": auth}}}))
    config.chmod(0o600)
    env = {**pass_env, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    env.update(NO_COLOR="1", COLUMNS="200", REGISTRY_AUTH_FILE=str(tmp_path / "containers" / "auth.json"))
    env.pop("DOCKER_CONFIG", None)
    with watched([secret, auth]) as watcher:
        result = world.credctl(env, "--config", str(config_dir), "migrate", "--to", "pass", "--yes")
    assert result.returncode == 0, result.stderr
    assert watcher.hits == [], watcher.hits
    no_secret_in(secret, result.stdout, result.stderr, config.read_text())
    no_secret_in(auth, result.stdout, result.stderr, config.read_text())
    got = helper("pass", "get", "mig.example.com", pass_env)
    assert json.loads(got.stdout) == {"ServerURL": "mig.example.com", "Username": "alice", "Secret": secret}
    for path in files_under(tmp_path, Path(pass_env["PASSWORD_STORE_DIR"])):
        no_secret_in(secret, path.read_bytes())


def test_acr_token_fetches_keep_the_access_key_secret_to_the_helper(aliyun, tmp_path):
    """The key secret in the helper's environment (where Docker's user put it) goes nowhere else;
    from a credentials file (a profile, `credctl acr add-profile`'s API lookup) nowhere at all."""
    secret = fresh_secret()
    key_id = "LTAI5tHygieneKey" + secrets.token_hex(4)
    aliyun.add_access_key(key_id, secret)
    aliyun.add_instance("cri-hygiene", "hygiene", REGION, ["hygiene-registry.cn-hangzhou.cr.aliyuncs.com", CUSTOM])
    env = acr_env(tmp_path, aliyun)
    keyed = with_key(env, key_id, secret)
    exempt = ((world.HELPER, f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}".encode()),)
    credentials = write_credentials(tmp_path / "accounts" / "team.ini", key_id, secret)
    bin_dir = tmp_path / "bin"
    outputs = []
    with watched([secret], exempt) as watcher:
        cold = helper("acr", "get", EE, keyed)
        warm = helper("acr", "get", EE, keyed)
        personal = helper("acr", "get", f"registry.{REGION}.aliyuncs.com", keyed)
        added = world.credctl(
            {**env, "PATH": f"{bin_dir}:{env['PATH']}"},
            *("acr", "add-profile", "team", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)),
            *("--registry", CUSTOM, "--region", REGION),
        )
        wrapper = subprocess.run(
            [str(bin_dir / "docker-credential-acr-helper-team"), "get"],
            input=EE.encode(),
            capture_output=True,
            env={**env, "CREDCTL_ACR_NO_CACHE": "1"},
            timeout=TIMEOUT,
        )
        outputs += [cold.stderr, warm.stderr, personal.stderr, added.stdout, added.stderr, wrapper.stderr]
    for result in (cold, warm, personal, wrapper):
        assert result.returncode == 0, result.stdout
        outputs.append(result.stdout)  # a get answer holds the token, never the key secret
    assert added.returncode == 0, added.stderr
    assert {"ListInstanceEndpoint", "ListInstance"} <= {request.action for request in aliyun.requests}
    assert watcher.hits == [], watcher.hits
    assert any(request.access_key_id == key_id for request in aliyun.requests)
    no_secret_in(secret, *outputs)
    for path in files_under(tmp_path / "cache", tmp_path / "config", tmp_path / "docker", bin_dir):
        no_secret_in(secret, path.read_bytes())


def test_a_pods_service_account_token_stays_in_memory(aliyun, tmp_path):
    """The kubelet plugin's pod token: never in argv or environ of any process, never in a file
    (the SDK reads it from a memfd), never in output; refused requests included."""
    from world import PROVIDER_ARN, ROLE_A, sa_token

    aliyun.add_oidc_provider(PROVIDER_ARN, "https://oidc.hygiene.example")
    aliyun.add_oidc_role(ROLE_A, PROVIDER_ARN, subjects=["system:serviceaccount:team-a:puller"])
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = acr_env(tmp_path, aliyun, ALIBABA_CLOUD_STS_ENDPOINT=aliyun.url, TMPDIR=str(tmp))
    env["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"] = PROVIDER_ARN
    tokens = [sa_token(aliyun, "team-a", "uid-a"), sa_token(aliyun, "team-b", "uid-b")]  # team-b: refused
    results = []
    with watched(tokens) as watcher:
        for token in tokens:
            body = {
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "kind": "CredentialProviderRequest",
                "image": f"{EE}/app",
                "serviceAccountToken": token,
                "serviceAccountAnnotations": {"acr.credctl.io/role-arn": ROLE_A},
            }
            results.append(
                subprocess.run(
                    [world.ours("credctl-kubelet-provider")],
                    input=json.dumps(body).encode(),
                    capture_output=True,
                    env=env,
                    timeout=TIMEOUT,
                )
            )
    assert [result.returncode for result in results] == [0, 1]
    assert b"AuthenticationFail.NoPermission" in results[1].stderr
    assert watcher.hits == [] and watcher.scans > 0, watcher.hits
    assert list(tmp.iterdir()) == []
    for token in tokens:
        no_secret_in(token, *(result.stdout + result.stderr for result in results))
        for path in files_under(tmp_path / "cache", tmp_path / "config", tmp_path / "home"):
            no_secret_in(token, path.read_bytes())


# --- 2. errors, logs and files ------------------------------------------------------------------


def _pass_failures(request, tmp_path: Path, nowhere: str) -> list[tuple[str, dict[str, str]]]:
    good = world.store_world("pass", request).env
    wrong_key = {**good, "PASSWORD_STORE_DIR": str(tmp_path / "wrong-key-store")}
    world.init_pass(wrong_key, "0123456789ABCDEF0123456789ABCDEF01234567")  # a key nobody has
    empty_gpg = tmp_path / "empty-gnupg"
    empty_gpg.mkdir(mode=0o700)
    return [
        ("wrong key", wrong_key),
        ("missing store", {**good, "PASSWORD_STORE_DIR": nowhere}),
        ("no secret key", {**good, "GNUPGHOME": str(empty_gpg)}),
        ("no pass or gpg", {**good, "PATH": nowhere}),
    ]


def _bus_failures(store: str, request, nowhere: str) -> list[tuple[str, dict[str, str]]]:
    env = world.store_world(store, request).env
    locked_env = dict(env)
    lock_keyring(env)
    cases = [("locked keyring", locked_env), ("no bus", {**env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={nowhere}"})]
    if store == "keyring":
        cases.append(("no backend", {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}))
    return cases


def _acr_failures(request, tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    env = acr_env(tmp_path, request.getfixturevalue("aliyun"))
    return [("wrong key", with_key(env, ALIYUN_KEY_ID, "not-the-secret")), ("no credentials", env)]


def _router_failures(request, tmp_path: Path, nowhere: str) -> list[tuple[str, dict[str, str]]]:
    """The router in front of pass (its default route): pass's failures, and a route to a helper
    program that is not there."""
    env = world.store_world("credctl", request).env  # settings.json: the default route is pass
    cases = [(f"default route pass, {what}", case) for what, case in _pass_failures(request, tmp_path, nowhere)]
    elsewhere = tmp_path / "routed-elsewhere"
    (elsewhere / "credctl").mkdir(parents=True)
    world.write(elsewhere / "credctl" / "settings.json", b'{"route_default": "nosuch"}\n')
    return [*cases, ("a route to a missing helper", {**env, "XDG_CONFIG_HOME": str(elsewhere)})]


FAILURES = {  # store -> (request, tmp_path, a path that does not exist) -> its failure worlds
    "pass": _pass_failures,
    "secretservice": lambda request, tmp_path, nowhere: _bus_failures("secretservice", request, nowhere),
    "keyring": lambda request, tmp_path, nowhere: _bus_failures("keyring", request, nowhere),
    "acr": lambda request, tmp_path, nowhere: _acr_failures(request, tmp_path),
    "credctl": _router_failures,
}


def failures(store: str, request, tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    """(what, env) of worlds in which that store's helper fails (a KeyError for a store without any)."""
    return FAILURES[store](request, tmp_path, str(tmp_path / "nowhere"))


def lock_keyring(env: dict[str, str]) -> None:
    from credctl.dbus import Connection

    with Connection(env["DBUS_SESSION_BUS_ADDRESS"]) as bus:
        service = ("org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service")
        collection = bus.call(*service, "ReadAlias", "s", "default")[0]
        bus.call(*service, "Lock", "ao", [collection])


@pytest.mark.parametrize("store", tuple(STORES))
def test_no_error_shows_the_secret(store, request, tmp_path, monkeypatch, caplog):
    secret = fresh_secret()
    server = f"https://{EE}/v2/" if store == "acr" else "errors.example.com"
    inputs = {
        "store": encode_credentials(server, "bob", secret),
        "store wrong type": f'{{"ServerURL": "{server}", "Username": 5, "Secret": "{secret}"}}'.encode(),
        "store truncated": f'{{"ServerURL": "{server}", "Username": "bob", "Secret": "{secret}'.encode(),
        "store no server": f'{{"Username": "bob", "Secret": "{secret}"}}'.encode(),
        "store slash username": encode_credentials(server, "a/b", secret),
        "get of the secret": secret.encode(),
        "erase of the secret": secret.encode(),
    }
    for what, env in failures(store, request, tmp_path):
        for name, data in inputs.items():
            action = name.split()[0]
            result = helper(store, action, data, env)
            context = f"{store} {action} <{name}> with {what}"
            assert result.returncode == 1 if action == "store" else result.returncode in (0, 1), context
            no_secret_in(secret, result.stdout, result.stderr)
            assert result.stderr == b"", (context, result.stderr)
            assert b"Traceback" not in result.stdout, context
        # The same in-process: no exception text or log record (at any level) holds it.
        use_environment(monkeypatch, env)
        caplog.set_level(logging.DEBUG)
        for name, data in inputs.items():
            out = io.BytesIO()
            respond(open_store(store), program_name(store), [name.split()[0]], io.BytesIO(data), out)
            no_secret_in(secret, out.getvalue(), caplog.text)
    for path in files_under(tmp_path):
        if path.suffix != ".gpg":
            no_secret_in(secret, path.read_bytes())


# --- 3. modes of everything credctl creates ------------------------------------------------------


def modes_ok(root: Path, wrappers: tuple[Path, ...] = (), on_the_way: tuple[Path, ...] = ()) -> None:
    """Files 0600, folders 0700 (wrappers 0755), nothing group- or world-writable.

    on_the_way: folders made only as parents of credctl's own (os.makedirs gives them 0755,
    see test_folders_made_on_the_way_are_private); they are checked for writability alone.
    """
    paths = [root, *root.rglob("*")] if root.exists() else []
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert not mode & 0o022, f"{path} is {mode:o}"
        if path in wrappers:
            assert mode == 0o755, f"{path} is {mode:o}"
        elif path.is_dir():
            assert mode == 0o700 or path in on_the_way, f"{path} is {mode:o}"
        else:
            assert mode == 0o600, f"{path} is {mode:o}"


def test_every_file_credctl_creates_is_private(request, aliyun, tmp_path):
    # pass: the list cache.
    pass_env = dict(request.getfixturevalue("pass_env"))
    assert helper("pass", "store", encode_credentials("m.example.com", "u", fresh_secret()), pass_env).returncode == 0
    assert helper("pass", "list", b"", pass_env).returncode == 0
    pass_cache = Path(pass_env["XDG_CACHE_HOME"]) / "credctl"
    assert any(pass_cache.glob("pass-list-*"))
    modes_ok(pass_cache)

    # secretservice and keyring (backend detected, so remembered in settings.json): locks, settings.
    service_env = dict(world.store_world("secretservice", request).env)
    service_env["XDG_CONFIG_HOME"] = str(tmp_path / "ss-config")
    assert helper("secretservice", "store", encode_credentials("m.example.com", "u", "s"), service_env).returncode == 0
    assert helper("keyring", "store", encode_credentials("m.example.com", "u", "s"), service_env).returncode == 0
    service_cache = Path(service_env["XDG_CACHE_HOME"]) / "credctl"
    assert {path.name for path in service_cache.iterdir()} >= {"secretservice.lock", "keyring.lock"}
    assert (tmp_path / "ss-config" / "credctl" / "settings.json").is_file()
    modes_ok(service_cache)
    modes_ok(tmp_path / "ss-config" / "credctl")

    # ACR: token cache; add-profile: settings.json, a new config.json and its lock, the wrapper.
    env = acr_env(tmp_path, aliyun)
    assert helper("acr", "get", EE, with_key(env)).returncode == 0
    credentials = write_credentials(tmp_path / "accounts" / "team.ini")
    bin_dir = tmp_path / "bin"
    added = world.credctl(
        {**env, "PATH": f"{bin_dir}:{env['PATH']}"},
        *("acr", "add-profile", "team", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)),
        *("--registry", EE),
    )
    assert added.returncode == 0, added.stderr
    wrapper = bin_dir / "docker-credential-acr-helper-team"
    assert any((tmp_path / "cache" / "credctl" / "acr").glob("*.token"))
    assert (tmp_path / "docker" / "config.json").is_file()
    assert (tmp_path / "docker" / ".config.json.credctl-lock").is_file()
    modes_ok(tmp_path / "cache" / "credctl", on_the_way=(tmp_path / "cache" / "credctl",))
    modes_ok(tmp_path / "config" / "credctl")
    modes_ok(tmp_path / "docker")
    mode = stat.S_IMODE(wrapper.stat().st_mode)
    assert mode == 0o755, f"{mode:o}"


def test_folders_made_on_the_way_are_private(aliyun, tmp_path):
    env = with_key(acr_env(tmp_path, aliyun))
    assert helper("acr", "get", EE, env).returncode == 0
    for folder in (tmp_path / "cache" / "credctl", tmp_path / "cache" / "credctl" / "acr"):
        mode = stat.S_IMODE(folder.stat().st_mode)
        assert mode == 0o700, f"{folder} is {mode:o}"


# --- 4. wrappers and newlines (test_acr_profiles.py covers quotes, $(), backticks, ;) -------------


@pytest.mark.parametrize("name", ["team1\n", "team1\ntouch pwned", "\nteam1", "team1\r", "team1\0x"])
def test_profile_names_with_newlines_are_refused(aliyun, tmp_path, name):
    credentials = write_credentials(tmp_path / "team.ini")
    bin_dir = tmp_path / "bin"
    env = acr_env(tmp_path, aliyun)
    args = ["acr", "add-profile", name, "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)]
    if "\0" in name:
        with pytest.raises(ValueError):  # the kernel takes no NUL in argv: nothing to run
            world.credctl(env, *args)
        return
    result = world.credctl(env, *args, "--registry", EE)
    assert result.returncode != 0
    assert not bin_dir.exists()
    assert list(tmp_path.rglob("pwned*")) == []


@pytest.mark.parametrize(
    "odd",
    [
        "new\nline",
        "a\n$(touch pwned)\nb",
        "'\ntouch pwned\n'",
        '"\n`touch pwned`\n"',
        "x\nexport CREDCTL_ACR_PROFILE=evil\n",
        "\r\n;touch pwned;\n",
    ],
)
def test_wrappers_with_newlines_in_paths_run_nothing_else(aliyun, tmp_path, odd):
    need("sh")
    place = tmp_path / f"place {odd}"
    credentials = write_credentials(place / f"creds {odd}.ini")
    bin_dir = place / f"bin {odd}"
    env = acr_env(tmp_path, aliyun)
    env["PATH"] = f"{world.BIN}:/usr/bin:/bin"
    result = world.credctl(
        env,
        *("acr", "add-profile", "team1", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)),
        *("--registry", EE),
        cwd=tmp_path,
    )
    wrapper = bin_dir / "docker-credential-acr-helper-team1"
    if result.returncode == 0:
        # What the wrapper's shell makes of its own lines: exactly the profile and the file.
        script = wrapper.read_bytes().decode().rsplit("\nexec ", 1)[0]  # not read_text: \r stays
        script += '\nprintf "%s|%s" "$CREDCTL_ACR_PROFILE" "$ALIBABA_CLOUD_CREDENTIALS_FILE"\n'
        shown = subprocess.run(["sh", "-c", script], capture_output=True, cwd=tmp_path, timeout=TIMEOUT)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, f"team1|{credentials}".encode(), b"")
        for _attempt in range(2):
            # One retry: in full-suite runs the first cold API call here has, rarely, come back
            # unparsable (not reproduced alone; noted for follow-up). What this test proves is the
            # quoting: the wrapper reaches the API with exactly its profile's credentials.
            got = subprocess.run(
                [str(wrapper), "get"], input=EE.encode(), capture_output=True, env=env, cwd=tmp_path, timeout=TIMEOUT
            )
            if got.returncode == 0:
                break
        assert (got.returncode, got.stderr) == (0, b""), got.stdout
        assert json.loads(got.stdout)["Secret"] == aliyun.issued[-1].token
        assert {issued.access_key_id for issued in aliyun.issued} == {ALIYUN_KEY_ID}
    else:
        assert not wrapper.exists()
    assert list(tmp_path.rglob("pwned*")) == []
    assert list(Path.cwd().glob("pwned*")) == []


def test_the_watcher_sees_what_it_looks_for():
    """A control: a secret on a short-lived process's argv or in its environment is caught."""
    secret = fresh_secret()
    with watched([secret]) as watcher:
        subprocess.run(["sh", "-c", "sleep 0.2", secret], timeout=TIMEOUT, check=True)
        subprocess.run(["sleep", "0.2"], env={"PATH": "/usr/bin:/bin", "X": secret}, timeout=TIMEOUT, check=True)
    assert any(hit.startswith("argv") for hit in watcher.hits), watcher.hits
    assert any(hit.startswith("environment") for hit in watcher.hits), watcher.hits
