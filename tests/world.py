"""The real test world, shared by tests/ and bench/: every builder and constant the tests share.

Everything here is real (gpg and pass, gnome-keyring on a private D-Bus, docker-registry,
Debian's Go helpers and docker CLIs); the one fake is Alibaba Cloud's API (fake_aliyun.py).
Test modules import from here, never from one another; conftest.py makes fixtures of it, and
store_world builds each store's world from those. pytest, the CLI and the terminal are imported
inside the functions that need them: bench/ imports this module too.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from credctl.errors import CredentialsNotFound
from credctl.stores.base import Health, Store

ROOT = Path(__file__).resolve().parent.parent  # the checkout
GO_PASS = "/usr/bin/docker-credential-pass"
BIN = Path(sys.executable).parent  # where pip put our console scripts


# The client programs scripts/test.sh takes out of Debian packages (tests/world_programs.txt)
# into WORLD_BIN; a test runs these, never whatever docker or kubectl happens to be on PATH.
WORLD = Path(os.environ.get("CREDCTL_TEST_WORLD") or ROOT / ".world")
WORLD_BIN = WORLD / "bin"


def _world_programs() -> dict[str, str]:
    """name → absolute path in WORLD_BIN, for each line of tests/world_programs.txt."""
    lines = (Path(__file__).parent / "world_programs.txt").read_text().splitlines()
    names = [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]
    return {name: str(WORLD_BIN / name) for name in names}


WORLD_PROGRAMS = _world_programs()
DOCKER_CLIS = {name: path for name, path in WORLD_PROGRAMS.items() if name.startswith("docker-")}
KUBECTL = WORLD_PROGRAMS["kubectl"]


REQUIRE_REAL = os.environ.get("CREDCTL_REQUIRE_REAL") == "1"  # CI: a missing real part fails, never skips


def ours(program: str = "docker-credential-pass") -> str:
    return str(BIN / program)


def missing(*programs: str) -> list[str]:
    """Programs (names or absolute paths) this machine lacks."""
    return [p for p in programs if not (os.access(p, os.X_OK) if os.path.isabs(p) else shutil.which(p))]


def need(*programs: str) -> None:
    """Skip the test (or, under REQUIRE_REAL, fail it) unless these programs are installed."""
    import pytest  # tests only: bench/ imports this module too

    absent = missing(*programs)
    if absent:
        reason = f"not installed here: {', '.join(absent)}"
        if REQUIRE_REAL:
            pytest.fail(f"CREDCTL_REQUIRE_REAL=1 but {reason}")
        pytest.skip(reason)


def installed(program: str) -> str:
    """The path of one of our console scripts; fails the test when credctl is not installed here."""
    import pytest

    path = ours(program)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: install credctl into this interpreter's environment first")
    return path


def make_gnupg_home() -> Path:
    # Short path: gpg-agent's socket path must stay under 108 bytes.
    home = Path(tempfile.mkdtemp(prefix="cg", dir="/tmp"))
    home.chmod(0o700)
    return home


def generate_key(home: Path, uid: str = "credctl test <credctl-test@example.invalid>") -> str:
    """A passphrase-less ed25519/cv25519 key; returns its fingerprint."""
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "future-default", "default", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    return fingerprint(home, uid)


def fingerprint(home: Path, ident: str) -> str:
    env = {**os.environ, "GNUPGHOME": str(home)}
    out = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-keys", ident], env=env, check=True, capture_output=True, text=True
    ).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def stop_agent(home: Path) -> None:
    subprocess.run(["gpgconf", "--kill", "all"], env={**os.environ, "GNUPGHOME": str(home)}, capture_output=True)


def helper_env(home: Path, store: Path, **extra: str) -> dict[str, str]:
    """The environment Docker would give a helper, pointed at throwaway gpg, store and cache."""
    cache = f"{store}.cache"
    return {**os.environ, "GNUPGHOME": str(home), "PASSWORD_STORE_DIR": str(store), "XDG_CACHE_HOME": cache, **extra}


def person_env(gnupg_home: Path, base: Path) -> dict[str, str]:
    """What a person's shell gives credctl: this environment without a display, a GPG_TTY or any
    pass settings, with gnupg_home and a new HOME (base/home) whose default password store is
    pass's; plain, wide rich output so lines compare exactly."""
    (base / "home").mkdir()
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "GPG_TTY") and not name.startswith("PASSWORD_STORE_")
    }
    return {
        **inherited,
        "GNUPGHOME": str(gnupg_home),
        "HOME": str(base / "home"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def init_pass(env: dict[str, str], *key_ids: str) -> None:
    subprocess.run(["pass", "init", *key_ids], env=env, check=True, capture_output=True)


NOT_FOUND = b"credentials not found in native keychain\n"  # a helper's answer when it has nothing
TIMEOUT = 60  # seconds a program of the test world may take: a guard against hangs, not an expectation


def run(args: list[str], stdin: bytes | str = b"", env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run a program with stdin (text is UTF-8 encoded); returns the CompletedProcess (bytes)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(args, input=data, capture_output=True, env=env, cwd=cwd, timeout=TIMEOUT)


def run_helper(program: str, action: str, stdin: bytes | str = b"", env: dict[str, str] | None = None):
    """Run a docker-credential-* program as Docker does; returns the CompletedProcess (bytes)."""
    return run([program, action], stdin, env)


def outcome(program: str, action: str, stdin: bytes | str = b"", env: dict[str, str] | None = None):
    """(exit status, stdout, stderr) of a docker-credential-* program run as Docker does."""
    result = run_helper(program, action, stdin, env)
    return result.returncode, result.stdout, result.stderr


GO_SECRETSERVICE = "/usr/bin/docker-credential-secretservice"
KEYRING_PASSWORD = b"credctl-test-keyring"
_BUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")


def session_bus(runtime: Path) -> tuple[subprocess.Popen, str]:
    """A private dbus-daemon with its socket in runtime (a 0700 folder), and its address; kill it when done."""
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:dir={runtime}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return bus, bus.stdout.readline().strip()


class SecretService:
    """A private D-Bus session with an unlocked gnome-keyring, in a throwaway HOME.

    env is what a helper needs to reach it. stop() ends the bus, and gnome-keyring with it.
    """

    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.home.mkdir(parents=True)
        runtime = base / "run"
        runtime.mkdir(mode=0o700)
        self.bus, address = session_bus(runtime)
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "DBUS_SESSION_BUS_ADDRESS": address,
        }
        self.env.pop("DISPLAY", None)
        self.env.pop("WAYLAND_DISPLAY", None)
        # gnome-keyring creates the login keyring with this password and leaves it unlocked. It
        # runs in the foreground, as our child, so stop() ends it (a daemonised one outlives the bus).
        self.keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        try:
            self.keyring.stdin.write(KEYRING_PASSWORD)
            self.keyring.stdin.close()
            control = self.keyring.stdout.readline().decode().strip()  # GNOME_KEYRING_CONTROL=...
            name, _, value = control.partition("=")
            if name == "GNOME_KEYRING_CONTROL":
                self.env[name] = value
            self._wait_for_service()
        except BaseException:
            self.stop()  # leave neither the bus nor the daemon running
            raise

    def _wait_for_service(self, seconds: float = 30) -> None:
        """Until the Secret Service answers and has its default (login) collection: owning the
        bus name is not enough, gnome-keyring may still answer UnknownMethod for a moment (a
        concurrency test's first `get` saw "Method SearchItems is not implemented")."""
        from credctl.dbus import Connection, DBusError

        deadline = time.monotonic() + seconds
        service = ("org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service")
        with Connection(self.env["DBUS_SESSION_BUS_ADDRESS"]) as bus:
            while True:
                try:
                    if bus.call(*_BUS, "NameHasOwner", "s", "org.freedesktop.secrets")[0]:
                        bus.call(*service, "SearchItems", "a{ss}", {})
                        if bus.call(*service, "ReadAlias", "s", "default")[0] != "/":
                            return
                except DBusError:
                    pass  # not ready yet
                if time.monotonic() > deadline or self.keyring.poll() is not None:
                    raise RuntimeError("gnome-keyring-daemon did not start its Secret Service")
                time.sleep(0.02)

    def stop(self) -> None:
        for process in (getattr(self, "keyring", None), self.bus):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# -- a real registry (Debian's docker-registry, distribution 2.8) ----------------------------

REGISTRY_USER = "credctl-user"
REGISTRY_PASSWORD = "credctl-registry-pw"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET url (no credentials), or None when nothing answers."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


class Registry:
    """`docker-registry serve` on 127.0.0.1, plain HTTP (loopback registries are insecure for docker).

    By default it authenticates with a bcrypt htpasswd file holding one user; with token set to
    {"realm", "service", "issuer", "rootcertbundle"} it wants Bearer tokens from that token
    server instead. address is "127.0.0.1:PORT"; stop() ends it. Its log is base/registry.log.
    """

    def __init__(
        self, base: Path, user: str = REGISTRY_USER, password: str = REGISTRY_PASSWORD, token: dict | None = None
    ) -> None:
        import json

        base.mkdir(parents=True, exist_ok=True)
        self.user, self.password = user, password
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.log_path = base / "registry.log"
        storage = base / "storage"
        storage.mkdir(exist_ok=True)
        if token is None:
            htpasswd = base / "htpasswd"
            # -i: the password comes on stdin, not argv.
            made = subprocess.run(
                ["htpasswd", "-niB", user], input=password, capture_output=True, text=True, timeout=60, check=True
            )
            htpasswd.write_text(made.stdout)
            auth = {"htpasswd": {"realm": "credctl-test", "path": str(htpasswd)}}
        else:
            auth = {"token": {**token, "autoredirect": False}}
        config = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text"},
            "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
            "http": {"addr": self.address, "secret": "credctl-test-world"},
            "auth": auth,
        }
        config_path = base / "config.yml"
        config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        self._log = open(self.log_path, "wb")  # noqa: SIM115 -- closed in stop()
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self, timeout: float = 30.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if _http_status(f"{self.url}/v2/") == 401:
                return
            time.sleep(0.05)
        tail = self.log_tail()
        raise RuntimeError(f"docker-registry did not answer 401 on {self.url}/v2/; its log ends:\n{tail}")

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _sha256(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_oci_layout(directory: Path, tag: str, content: bytes = b"hello from credctl's test world\n") -> str:
    """A one-layer OCI image layout in directory (pure Python); returns the manifest digest."""
    import gzip
    import io
    import json
    import tarfile

    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes) -> dict:
        digest = _sha256(data)
        (blobs / digest.split(":", 1)[1]).write_bytes(data)
        return {"digest": digest, "size": len(data)}

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    layer_tar = buffer.getvalue()
    layer = blob(gzip.compress(layer_tar, mtime=0))
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [_sha256(layer_tar)]},
    }
    config = blob(json.dumps(image_config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    manifest_blob = blob(json.dumps(manifest, separators=(",", ":")).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest_blob,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return manifest_blob["digest"]


MANIFEST_FORMATS = ("oci", "v2s2")  # skopeo's names: OCI image manifest, Docker image manifest schema 2


def push_image(registry: Registry, name: str, tag: str, user: str, password: str, manifest: str = "oci") -> str:
    """Push a tiny image to registry as name:tag with skopeo, its manifest in one of MANIFEST_FORMATS
    (the same layer either way); returns the pushed manifest's digest."""
    assert manifest in MANIFEST_FORMATS, manifest
    import base64
    import json

    work = Path(tempfile.mkdtemp(prefix="credctl-image-"))
    try:
        layout = work / "layout"
        write_oci_layout(layout, tag)
        authfile = work / "auth.json"  # the credentials go in a 0600 file, not on argv
        authfile.touch(mode=0o600)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        authfile.write_text(json.dumps({"auths": {registry.address: {"auth": token}}}))
        digestfile = work / "digest"
        home = work / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home), "XDG_CONFIG_HOME": str(home)}
        env.pop("REGISTRY_AUTH_FILE", None)
        result = subprocess.run(
            [
                "skopeo",
                "--insecure-policy",
                "copy",
                "--quiet",
                "--format",
                manifest,
                "--dest-tls-verify=false",
                "--dest-authfile",
                str(authfile),
                "--digestfile",
                str(digestfile),
                f"oci:{layout}:{tag}",
                f"docker://{registry.address}/{name}:{tag}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"skopeo copy failed ({result.returncode}): {result.stderr.strip()}")
        return digestfile.read_text().strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def without_bus(base: Path, **extra: str) -> dict[str, str]:
    """An environment with no session bus, display or keyring backend to find, and a throwaway
    HOME: nothing run in it touches the real keyring or settings."""
    runtime = base / "no-bus-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    unset = ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "PYTHON_KEYRING_BACKEND")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(
        HOME=str(base),
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CONFIG_HOME=str(base / ".config"),
        XDG_CACHE_HOME=str(base / ".cache"),
        XDG_DATA_HOME=str(base / ".local/share"),
    )
    return {**env, **extra}


def credctl(env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 120):
    """Run the installed `credctl` as a person would, but with no terminal; text output."""
    return subprocess.run(
        [ours("credctl"), *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


# -- Alibaba Cloud: the loopback fake OpenAPI (fake_aliyun.py), the one fake in the test world --

ALIYUN_KEY_ID = "LTAI5tCredctlTestKey1"  # the access key the `aliyun` fixture's fake accepts
ALIYUN_KEY_SECRET = "credctl-test-secret-1-do-not-leak"
ALIYUN_INSTANCE = ("cri-myteam0000001", "myteam", "cn-hangzhou")  # (instance id, name, region)


# -- environments: a person's shell running credctl, a Docker user; Docker config files ------------

CREDCTL = ours("credctl")
LOCK = ".config.json.credctl-lock"
HUB = "https://index.docker.io/v1/"
# Variables from the developer's session that would point credctl (or a helper) elsewhere.
_NOT_FOR_CLI = ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")


def cli_env(tmp_path: Path, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """What a person's shell would give credctl: throwaway HOME and XDG dirs, plain output.

    base is e.g. pass_env (whose GNUPGHOME and PASSWORD_STORE_DIR are kept); without it, the
    session's gpg and pass settings are left out too. extra overrides anything.
    """
    source = os.environ if base is None else base
    env = {
        name: value
        for name, value in source.items()
        if name not in _NOT_FOR_CLI
        and not (base is None and (name == "GNUPGHOME" or name.startswith("PASSWORD_STORE_")))
    }
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir(exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        NO_COLOR="1",
        COLUMNS="200",
        PATH=f"{BIN}:/usr/bin:/bin",
    )
    env.update(extra)
    return env


def docker_env(
    base: dict[str, str], tmp_path: Path, config: object | None = None, first: list[str] = (), ours: bool = True
) -> dict[str, str]:
    """A Docker user's environment: base (e.g. pass_env, or a SecretService's env) with a throwaway
    DOCKER_CONFIG whose config.json is config (tab-indented as docker writes it; none when None;
    a str is written as it is), HOME and XDG folders under tmp_path, plain output, and PATH =
    first, then our console scripts (unless not ours), then /usr/bin:/bin. Nothing of the
    developer's REGISTRY_AUTH_FILE or DOCKER_AUTH_CONFIG."""
    docker, home, runtime = tmp_path / "docker", tmp_path / "home", tmp_path / "run"
    docker.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    if config is not None:
        text = config if isinstance(config, str) else json.dumps(config, indent="\t")
        (docker / "config.json").write_text(text)
    env = {
        **base,
        "DOCKER_CONFIG": str(docker),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(runtime),
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "PATH": os.pathsep.join([*first, *([str(BIN)] if ours else []), "/usr/bin", "/bin"]),
    }
    env.pop("REGISTRY_AUTH_FILE", None)
    env.pop("DOCKER_AUTH_CONFIG", None)
    return env


def on_path(env: dict[str, str], *folders: Path | str) -> dict[str, str]:
    """env with folders first on its PATH, as a shell whose user added them."""
    return {**env, "PATH": os.pathsep.join([*map(str, folders), env["PATH"]])}


def layout(text: str, indent: str = "\t", newline: bool = False) -> bytes:
    """JSON text written below with 4 spaces per level, re-indented with indent (as MarshalIndent)."""
    lines = []
    for line in textwrap.dedent(text).strip("\n").split("\n"):
        stripped = line.lstrip(" ")
        lines.append(indent * ((len(line) - len(stripped)) // 4) + stripped)
    return ("\n".join(lines) + ("\n" if newline else "")).encode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """stderr when it is exactly one `error: …` line."""
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def write(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.write_bytes(data)
    path.chmod(mode)


# -- Alibaba Cloud Container Registry: the helper's environment, keys, hosts and token cache --------

HELPER = ours("docker-credential-acr-helper")
INSTANCE_ID, INSTANCE_NAME, REGION = ALIYUN_INSTANCE
EE = f"{INSTANCE_NAME}-registry.{REGION}.cr.aliyuncs.com"
PERSONAL = f"registry.{REGION}.aliyuncs.com"
TEMP_USER = "cr_temp_user"
KEY2_ID, KEY2_SECRET = "LTAI5tCredctlTestKey2", "credctl-test-secret-2-do-not-leak"
SECRETS = [ALIYUN_KEY_SECRET, KEY2_SECRET]
# What the environment of a developer or CI job must not lend the helper.
_NOT_FOR_ACR_PREFIXES = ("ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_", "DOCKER_CREDENTIAL_ACR_HELPER_", "CREDCTL_")
_NOT_FOR_ACR = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "DEBUG")
_NOT_FOR_ACR += ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")
SDK_MODULES = ("alibabacloud", "Tea", "darabonba", "aiohttp", "requests", "apscheduler")


def acr_env(tmp_path: Path, fake=None, **extra: str) -> dict[str, str]:
    """The environment Docker gives the ACR helper, or a node its kubelet plugin: a throwaway
    HOME, cache, config and DOCKER_CONFIG, the fake as the API endpoint (without one, a closed
    loopback port), the ECS metadata service (100.100.100.200) never asked, no proxy, and
    nothing Alibaba Cloud from the parent. extra overrides; a None value removes."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _NOT_FOR_ACR and not name.startswith(_NOT_FOR_ACR_PREFIXES)
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        DOCKER_CONFIG=str(tmp_path / "docker"),
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        CREDCTL_ACR_ENDPOINT=fake.url if fake else "http://127.0.0.1:9",
        PATH=f"{BIN}:/usr/bin:/bin",
        NO_COLOR="1",
        COLUMNS="200",
    )
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def with_key(env: dict[str, str], key_id: str = ALIYUN_KEY_ID, secret: str = ALIYUN_KEY_SECRET) -> dict[str, str]:
    return {**env, "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret}


def write_credentials(path: Path, key_id: str = ALIYUN_KEY_ID, secret: str = ALIYUN_KEY_SECRET) -> Path:
    """An INI credentials file in the Go ACR helper's documented layout (comments after the values), 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(
        "[default] # Default client\n"
        "type = access_key # The authentication method is access_key\n"
        f"access_key_id = {key_id} # Key\n"
        f"access_key_secret = {secret} # Secret\n"
    )
    return path


def write_cli_config(home: Path, key_id: str = ALIYUN_KEY_ID, secret: str = ALIYUN_KEY_SECRET) -> Path:
    """The Alibaba Cloud CLI's ~/.aliyun/config.json with one access-key profile, 0600."""
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    profile = {"name": "default", "mode": "AK", "access_key_id": key_id, "access_key_secret": secret}
    path.write_text(json.dumps({"current": "default", "profiles": [{**profile, "region_id": REGION}]}))
    return path


def clean(result, *secrets: str) -> None:
    """Nothing on stderr, no traceback and no secret anywhere."""
    both = result.stdout + result.stderr
    assert b"Traceback" not in both, both
    for secret in (*SECRETS, *secrets):
        assert secret.encode() not in both, f"{secret!r} was shown"
    assert result.stderr == b"", result.stderr


def answer(server: str, token: str, username: str = TEMP_USER) -> bytes:
    """The helper's `get` output, byte for byte (these values need no JSON escaping)."""
    return f'{{"ServerURL":"{server}","Username":"{username}","Secret":"{token}"}}\n'.encode()


def cache_folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "credctl" / "acr"


def cache_files(tmp_path: Path) -> list[Path]:
    folder = cache_folder(tmp_path)
    return sorted(folder.glob("*.token")) if folder.is_dir() else []


PERSONAL_HOSTS = [
    ("registry.cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
    ("registry-vpc.cn-beijing.aliyuncs.com", "cn-beijing"),
    ("registry-internal.cn-beijing.aliyuncs.com", "cn-beijing"),
    ("registry-intl.ap-southeast-1.aliyuncs.com", "ap-southeast-1"),
    ("registry-intl-vpc.ap-southeast-1.aliyuncs.com", "ap-southeast-1"),
    ("registry-vpc-internal.cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
    ("registry-intl-vpc-internal.eu-central-1.aliyuncs.com", "eu-central-1"),
    ("registry.distributed.cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
    ("registry-vpc.distributed.cn-shanghai.aliyuncs.com", "cn-shanghai"),
]


ENTERPRISE_HOSTS = [
    ("foobar-registry.cn-beijing.cr.aliyuncs.com", "foobar", "cn-beijing"),
    ("foobar-registry-vpc.cn-beijing.cr.aliyuncs.com", "foobar", "cn-beijing"),
    ("foo-bar-registry.cn-hangzhou.cr.aliyuncs.com", "foo-bar", "cn-hangzhou"),
    ("my-team-2-registry-intl.ap-southeast-1.cr.aliyuncs.com", "my-team-2", "ap-southeast-1"),
    ("foo-registry-intl-vpc.ap-southeast-1.cr.aliyuncs.com", "foo", "ap-southeast-1"),
    ("foo-registry.cn-hangzhou.aliyuncs.com", "foo", "cn-hangzhou"),  # no `.cr`: the Go helper's own test domain
    ("registry-registry.cn-hangzhou.cr.aliyuncs.com", "registry", "cn-hangzhou"),
]


# The new Personal Edition (instances created since 2024-09-09): (host, region). The public and
# VPC forms as Alibaba's console shows them ("如果您使用的机器位于VPC网络，请使用 crpi-…-vpc.
# <region>.personal.cr.aliyuncs.com"), seen in many public repositories' docs; ids are 16
# lower-case letters and digits there.
CRPI_HOSTS = [
    ("crpi-7eu3mopdi4xg4ext.cn-beijing.personal.cr.aliyuncs.com", "cn-beijing"),
    ("crpi-7eu3mopdi4xg4ext-vpc.cn-beijing.personal.cr.aliyuncs.com", "cn-beijing"),
    ("crpi-ds0j5gxjdmixc0v8.cn-hangzhou.personal.cr.aliyuncs.com", "cn-hangzhou"),
    ("crpi-hdkevh0503yezvt4.ap-southeast-1.personal.cr.aliyuncs.com", "ap-southeast-1"),
    ("crpi-x8jmi4kluhnn27nd-vpc.cn-shanghai.personal.cr.aliyuncs.com", "cn-shanghai"),
]


def importtime_modules(importtime_stderr: bytes) -> list[str]:
    """Module names from `python -X importtime` output, in import order."""
    names = []
    for line in importtime_stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":
                names.append(name)
    return names


# -- gpg keys and `credctl pass init` on a terminal -------------------------------------------------

NEXT = "Next: run `credctl setup` to make Docker keep its logins in this store."
NO_KEY = (
    "error: no gpg key here can encrypt: run `credctl pass init --generate --no-passphrase --name NAME --email EMAIL`\n"
)
ALICE = "Alice Example <alice@example.invalid>"


def gpg(home: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["gpg", "--batch", *args],
        env={**os.environ, "GNUPGHOME": str(home)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return result.stdout


def protected_key(home: Path, uid: str, passphrase: str) -> str:
    """A key with a passphrase, which travels on gpg's stdin, never on argv."""
    loopback = ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
    gpg(home, *loopback, "--quick-gen-key", uid, "future-default", "default", "never", stdin=passphrase)
    return fingerprint(home, uid)


def ready(store: Path, *uids: str) -> str:
    return f"✓ password store {store} is ready; credentials will be encrypted to {', '.join(uids)}"


def on_terminal(env: dict[str, str], args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run credctl on a pseudo-terminal of its own, typing each answer once its prompt has appeared.

    Prompts end in their trailing space: click prints that last, after getpass has turned echo
    off and flushed the input, so an answer typed on seeing it is neither echoed nor lost.
    Returns the exit status and what the terminal showed, escape sequences removed. Fails,
    rather than hangs, when credctl has not finished within TIMEOUT.
    """
    import pytest
    from terminal import StillRunning, Terminal, screen  # tests only: bench/ imports this module too

    pending, answered_to = list(answers), 0

    def answer(shown: bytes) -> bytes:
        nonlocal answered_to
        if not pending:
            return b""
        at = screen(shown).find(pending[0][0], answered_to)
        if at < 0:
            return b""
        answered_to = at + len(pending[0][0])
        return pending.pop(0)[1].encode() + b"\n"

    with Terminal([CREDCTL, *args], env) as terminal:
        try:
            status = terminal.run(answer, TIMEOUT)
        except StillRunning as err:
            pytest.fail(f"credctl {err} on a terminal; it showed:\n{screen(terminal.shown)}")
        shown = screen(terminal.shown)
    assert not pending, f"never prompted for {pending[0][0]!r}; the terminal showed:\n{shown}"
    return status, shown


def copy_key(source: Path, target: Path, fpr: str, *, secret: bool = False, trusted: bool = False) -> None:
    """Import a key from one GNUPGHOME into another, as a person copies theirs to a new machine."""
    what = ["--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys"] if secret else ["--export"]
    exported = subprocess.run(
        ["gpg", "--batch", *what, fpr],
        env={**os.environ, "GNUPGHOME": str(source)},
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout
    assert exported
    into_target = {"env": {**os.environ, "GNUPGHOME": str(target)}, "capture_output": True, "timeout": TIMEOUT}
    subprocess.run(["gpg", "--batch", "--import"], input=exported, check=True, **into_target)
    if trusted:  # what `gpg --edit-key FPR trust` → 5 does
        subprocess.run(
            ["gpg", "--batch", "--import-ownertrust"], input=f"{fpr}:6:\n".encode(), check=True, **into_target
        )


def untrusted(fpr: str) -> str:
    return (
        f"warning: gpg does not trust {fpr}, so storing credentials will fail: if it is your key, trust it with "
        f"`echo {fpr}:6: | gpg --import-ownertrust` (or `gpg --edit-key {fpr} trust`, then 5)"
    )


def expire(env: dict[str, str], fpr: str) -> None:
    """Make the key (and its subkeys) expire a second from now, and wait for it."""
    for which in ([], ["*"]):
        subprocess.run(
            ["gpg", "--batch", "--quick-set-expire", fpr, "seconds=1", *which],
            env=env,
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
    deadline = time.monotonic() + 10  # expiry is counted in whole seconds
    while True:
        listing = subprocess.run(
            ["gpg", "--with-colons", "--list-keys", fpr], env=env, capture_output=True, text=True, check=True
        ).stdout
        if "\npub:e:" in listing:
            return
        assert time.monotonic() < deadline, listing
        time.sleep(0.25)


# -- the kubelet's credential provider plugin -------------------------------------------------------

PROVIDER = ours("credctl-kubelet-provider")
GROUP = "credentialprovider.kubelet.k8s.io"
V1 = f"{GROUP}/v1"
PASSWORD = "kubelet-pass-w0rd"  # the stored secret; never on stderr


def request(image: str, api_version: str = V1, **fields) -> dict:
    return {"apiVersion": api_version, "kind": "CredentialProviderRequest", "image": image, **fields}


def provide(env: dict[str, str], payload: dict | bytes, *args: str, program: list[str] | None = None):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return subprocess.run(
        [*(program or [PROVIDER]), *args], input=data, capture_output=True, env=env, timeout=60, check=False
    )


def answered(result) -> dict:
    """The response of a run that succeeded: exit 0, nothing on stderr, one JSON line."""
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    assert result.stdout.endswith(b"\n") and result.stdout.count(b"\n") == 1
    return json.loads(result.stdout)


def refused(result) -> str:
    """The one stderr line of a run that failed (exit 1, nothing on stdout)."""
    assert (result.returncode, result.stdout) == (1, b""), result.stdout
    text = result.stderr.decode()
    assert text.startswith("credctl-kubelet-provider: ") and text.count("\n") == 1, text
    assert "Traceback" not in text and PASSWORD not in text
    return text.removeprefix("credctl-kubelet-provider: ").rstrip("\n")


def write_docker_config(env: dict[str, str], config: dict) -> None:
    folder = Path(env["DOCKER_CONFIG"])
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))


def store_in_pass(env: dict[str, str], server: str, username: str = "kube-user", secret: str = PASSWORD) -> None:
    data = json.dumps({"ServerURL": server, "Username": username, "Secret": secret})
    result = run_helper(ours("docker-credential-pass"), "store", data, env)
    assert (result.returncode, result.stdout) == (0, b""), result.stdout


# -- the checkout's generated documents -------------------------------------------------------------

CLI_MD = ROOT / "docs" / "cli.md"
MAN_PAGE = ROOT / "man" / "credctl.1"


def command_paths() -> list[str]:
    """Every command and subcommand of the app, as typed: "credctl acr add-profile"."""
    import typer.main

    from credctl.cli.app import app

    paths = []

    def walk(command, words: list[str]) -> None:
        paths.append(" ".join(words))
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                walk(sub, [*words, name])

    walk(typer.main.get_command(app), ["credctl"])
    return paths


# -- RRSA: the cluster's OIDC provider and a pod's role ---------------------------------------------

ACCOUNT = "1234567890123456"
PROVIDER_ARN = f"acs:ram::{ACCOUNT}:oidc-provider/ack-rrsa-c0ffee"
ROLE_A, ROLE_B = f"acs:ram::{ACCOUNT}:role/puller-a", f"acs:ram::{ACCOUNT}:role/puller-b"


def sa_token(fake, namespace: str, uid: str, **options) -> str:
    return fake.service_account_token(PROVIDER_ARN, namespace, "puller", uid=uid, **options)


# -- what must not show or change -------------------------------------------------------------------


def assert_no_secret(secrets: list[str], *texts: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"{secret!r} was shown"


def unchanged(path: Path, before: os.stat_result, content: bytes) -> None:
    """path still holds content and was not even rewritten."""
    after = path.stat()
    assert path.read_bytes() == content
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


# -- the stores' worlds -----------------------------------------------------------------------------

SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"


def use_environment(monkeypatch, env: dict[str, str]) -> None:
    """Make os.environ exactly env (but pytest's own variables), for the in-process stores."""
    for name in list(os.environ):
        if name not in env and not name.startswith("PYTEST_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


class StoreWorld:
    """One store's real world, as store_world builds it for a test.

    env is what the store's helper is given (and os.environ for an in-process store, through
    use_environment); root is the test's folder, of which only writable (the store's own files,
    its runtime sockets and credctl's cache) may change; registry is, for a store that issues
    tokens, a registry this world issues them for (None for a login store); settings, the
    settings.json the store needs (the router's routes), already in env's XDG_CONFIG_HOME, for
    another person's home too (containers_user_of).
    """

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        root: Path,
        writable: list[Path],
        registry: str | None = None,
        settings: bytes | None = None,
    ):
        from credctl.stores import program_name

        self.name, self.env, self.root, self.registry, self.settings = name, env, root, registry, settings
        self.writable = [str(path) for path in writable]
        self.program = ours(program_name(name))

    def outside(self) -> dict[str, tuple]:
        """Everything under root outside the writable folders: mode, and size and mtime of files."""
        found = {}
        for top, folders, files in os.walk(self.root):
            folders[:] = [name for name in folders if os.path.join(top, name) not in self.writable]
            for name in folders + files:
                path = os.path.join(top, name)
                if any(allowed.startswith(path + os.sep) for allowed in self.writable):
                    continue  # a folder on the way to the store or cache (made with it)
                status = os.lstat(path)
                if os.path.isdir(path) and not os.path.islink(path):
                    found[path] = (status.st_mode,)  # its entries are checked one by one
                else:
                    found[path] = (status.st_mode, status.st_size, status.st_mtime_ns)
        return found


def _pass_world(request, root: Path) -> StoreWorld:
    """pass with the session's gpg key (the pass_env fixture), and a throwaway HOME."""
    env = dict(request.getfixturevalue("pass_env"))
    home = root / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"))
    writable = [Path(env["PASSWORD_STORE_DIR"]), Path(env["XDG_CACHE_HOME"]) / "credctl"]
    return StoreWorld("pass", env, root, writable)


def _bus_world(name: str, request, **extra: str) -> StoreWorld:
    """A store on the secret_service fixture's gnome-keyring, on its private bus."""
    service = request.getfixturevalue("secret_service")
    env = {**service.env, **extra}
    # gnome-keyring's own files (the store) and runtime sockets, and credctl's cache.
    writable = [service.home / ".local/share/keyrings", Path(env["XDG_RUNTIME_DIR"]), service.home / ".cache/credctl"]
    return StoreWorld(name, env, request.getfixturevalue("tmp_path"), writable)


def _acr_world(request, root: Path) -> StoreWorld:
    """ACR against the aliyun fixture's fake, with its access key; it issues tokens for EE. The
    tokens-only opt-out is set (CREDCTL_ACR_STORE_LOGINS=0): a store that issues and keeps
    nothing, as the token-store contract has it; tests/test_acr_docker_login.py covers the
    logins `docker login` keeps."""
    fake = request.getfixturevalue("aliyun")
    env = with_key(acr_env(root, fake, CREDCTL_ACR_TIMEOUT="5", CREDCTL_ACR_STORE_LOGINS="0"))
    return StoreWorld("acr", env, root, [root / "cache" / "credctl"], registry=EE)


def _router_world(request, root: Path) -> StoreWorld:
    """The router in front of pass: pass's world, whose settings.json makes pass the default
    route (what `credctl setup --router` leaves), so every registry but ACR's goes there."""
    inner = _pass_world(request, root)
    settings = b'{\n  "route_default": "pass"\n}\n'
    path = Path(inner.env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, settings)
    return StoreWorld("credctl", inner.env, root, [Path(path) for path in inner.writable], settings=settings)


# One world per store of credctl.stores.STORES (tests/test_store_specs.py checks that each has one).
STORE_WORLDS = {
    "pass": _pass_world,
    "secretservice": lambda request, root: _bus_world("secretservice", request),
    "keyring": lambda request, root: _bus_world("keyring", request, PYTHON_KEYRING_BACKEND=SECRET_SERVICE_BACKEND),
    "acr": _acr_world,
    "credctl": _router_world,
}


def store_world(name: str, request) -> StoreWorld:
    """The real world of the store name, built from the fixtures of request (pytest's) in the
    test's tmp_path. Raises UnknownStore for a store credctl does not have, and LookupError for
    one that has no world here yet."""
    from credctl.stores import spec_of

    spec_of(name)
    build = STORE_WORLDS.get(name)
    if build is None:
        raise LookupError(f"tests/world.py has no world for the store {name!r}: add one to STORE_WORLDS")
    return build(request, request.getfixturevalue("tmp_path"))


# -- the protocol in-process -----------------------------------------------------------------------


class MemoryStore(Store):
    """A credctl Store in a dict, for driving the protocol in-process (tests/test_protocol_memory.py).

    It behaves as the real stores do: one (username, secret) per server URL, a new login replaces
    the old one, CredentialsNotFound for a server it has not got (get; delete of it does nothing). With `error`,
    every operation raises that exception instead, as a store whose disk or bus fails would.
    """

    def __init__(self, logins: dict[str, tuple[str, str]] | None = None, error: BaseException | None = None) -> None:
        self.logins = dict(logins or {})
        self.error = error

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def add(self, server_url: str, username: str, secret: str) -> None:
        self._check()
        self.logins[server_url] = (username, secret)

    def get(self, server_url: str) -> tuple[str, str]:
        self._check()
        if server_url not in self.logins:
            raise CredentialsNotFound()
        return self.logins[server_url]

    def delete(self, server_url: str) -> None:
        self._check()
        self.logins.pop(server_url, None)

    def list(self) -> dict[str, str]:
        self._check()
        return {server_url: username for server_url, (username, _secret) in self.logins.items()}

    def health(self) -> Health:
        return Health(self.error is None, "in memory")


def usage_error(result: subprocess.CompletedProcess, command: str) -> str:
    """The message of a usage error of `credctl COMMAND`, checked to be in click's shape exactly:
    exit status 2, nothing on stdout, and on stderr the command's usage line, the hint to its
    help, a blank line and `Error: MESSAGE`, as click reports a missing argument. The output may
    be text or bytes."""
    stdout, stderr = (out.decode() if isinstance(out, bytes) else out for out in (result.stdout, result.stderr))
    assert (result.returncode, stdout) == (2, ""), (result.returncode, stdout, stderr)
    lines = stderr.split("\n")
    assert len(lines) == 5 and lines[4] == "", stderr
    assert lines[0].startswith(f"Usage: credctl {command} [OPTIONS]"), stderr
    assert lines[1:3] == [f"Try 'credctl {command} -h' for help.", ""], stderr
    assert lines[3].startswith("Error: "), stderr
    return lines[3].removeprefix("Error: ")


# -- other local users -----------------------------------------------------------------------------


def free_uid(start: int = 40000) -> int:
    """A uid (and gid of the same number) no account in the password database has: a real second
    user for tests about other people on the machine. Nothing is added to /etc/passwd."""
    import pwd

    uid = start
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


def as_uid(uid: int, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a system program (mkdir, ln, mkfifo, cat...) as uid, with no groups and an empty
    environment but PATH: what another local user can do. Needs root (the tests run as root)."""
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "env", "-i", "PATH=/usr/bin:/bin"]
    return subprocess.run([*as_user, *argv], capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)


# -- foreign buses and reserved names --------------------------------------------------------------


def bus_socket(address: str) -> Path:
    """The socket file of a unix:path= D-Bus address (as SecretService's dbus-daemon prints it)."""
    return Path(address.partition("unix:path=")[2].partition(",")[0])


def bus_in_runtime_dir(service: SecretService) -> dict[str, str]:
    """Move service's bus socket to $XDG_RUNTIME_DIR/bus, where a client looks when
    DBUS_SESSION_BUS_ADDRESS is unset, and return service's environment without that variable.
    The daemons keep running on the moved socket (a bound socket is its inode, not its name)."""
    runtime = Path(service.env["XDG_RUNTIME_DIR"])
    os.rename(bus_socket(service.env["DBUS_SESSION_BUS_ADDRESS"]), runtime / "bus")
    return {name: value for name, value in service.env.items() if name != "DBUS_SESSION_BUS_ADDRESS"}


def docker_items(address: str) -> list[str]:
    """The paths of every Docker item (docker_cli=1) of the Secret Service on the bus at address."""
    from credctl.dbus import Connection

    service = ("org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service")
    with Connection(address) as bus:
        unlocked, locked = bus.call(*service, "SearchItems", "a{ss}", {"docker_cli": "1"})
    return [*unlocked, *locked]


# A bus daemon of another user, as its clients see it: this relay connects to a real bus, then
# becomes uid argv[3] and serves one client on the socket argv[2], passing bytes both ways. The
# client's SO_PEERCRED names the relay (the listener), the real bus still sees the relay's root
# connection, so everything the client sends reaches the real Secret Service through that user.
_RELAY = """
import os, socket, sys, threading
upstream = socket.socket(socket.AF_UNIX)
upstream.connect(sys.argv[1])
uid = int(sys.argv[3])
os.setgroups([])
os.setresgid(uid, uid, uid)
os.setresuid(uid, uid, uid)
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[2])
server.listen(1)
print("ready", flush=True)
client, _ = server.accept()
def pump(source, target):
    while data := source.recv(65536):
        target.sendall(data)
    target.shutdown(socket.SHUT_WR)
threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
pump(client, upstream)
"""


class ForeignRelay:
    """service's bus, served to one client by another local user (uid) at socket, a path in a
    folder that user owns (made here, removed by stop())."""

    def __init__(self, service: SecretService, uid: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="credctl-foreign-bus-"))
        os.chown(self.folder, uid, uid)
        self.socket = self.folder / "bus"
        upstream = str(bus_socket(service.env["DBUS_SESSION_BUS_ADDRESS"]))
        self.process = subprocess.Popen(
            ["/usr/bin/python3", "-c", _RELAY, upstream, str(self.socket), str(uid)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the foreign bus relay did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# -- a private network for the ACR credential chain (the ECS instance role) ------------------------

ECS_METADATA_HOST = "100.100.100.200"  # where the SDK asks for the ECS instance role (port 80)
CLONE_NEWNET = 0x40000000


class _Namespace:
    """setns(2) into a network namespace for the calling thread, and back."""

    def __init__(self, path: str) -> None:
        import ctypes

        self.path, self._libc = path, ctypes.CDLL(None, use_errno=True)

    def _enter(self, fd: int) -> None:
        import ctypes

        if self._libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")

    def __enter__(self) -> None:
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(self.path, os.O_RDONLY)
        try:
            self._enter(target)
        finally:
            os.close(target)

    def __exit__(self, *exc: object) -> None:
        try:
            self._enter(self._home)
        finally:
            os.close(self._home)


class EcsMetadata:
    """A stand-in for the ECS metadata service on 100.100.100.200:80: IMDSv2's PUT /latest/api/token,
    and /latest/meta-data/ram/security-credentials/[ROLE] with STS keys for each role added
    (role_of(None) is the instance's own role, the one the listing names)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.roles: dict[str, dict[str, str]] = {}
        self.instance_role = ""
        metadata = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:
                self._send(200, "imds-v2-session") if self.path == "/latest/api/token" else self._send(404, "")

            def do_GET(self) -> None:
                prefix = "/latest/meta-data/ram/security-credentials/"
                name = self.path.removeprefix(prefix) if self.path.startswith(prefix) else None
                if name == "" and metadata.instance_role:
                    self._send(200, metadata.instance_role)
                elif name in metadata.roles:
                    self._send(200, json.dumps(metadata.roles[name]))
                else:
                    self._send(404, "")

        self._server = ThreadingHTTPServer((ECS_METADATA_HOST, 80), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ecs-metadata", daemon=True)
        self._thread.start()

    def add_role(self, name: str, fake, instance: bool = False) -> str:
        """A RAM role of this instance whose STS key the fake accepts; returns that key's id."""
        key_id = f"STS.Ecs{name.title().replace('-', '')}"
        secret, security_token = f"ecs-secret-{name}-do-not-leak", f"CAIS-ecs-token-{name}-do-not-leak"
        fake.add_access_key(key_id, secret, security_token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * 3600))
        self.roles[name] = {
            "Code": "Success",
            "AccessKeyId": key_id,
            "AccessKeySecret": secret,
            "SecurityToken": security_token,
            "Expiration": expires,
            "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if instance:
            self.instance_role = name
        return key_id

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class AliyunNetwork:
    """A private network namespace with only a loopback device, holding the fake Alibaba Cloud API
    (on its own 127.0.0.1) and the ECS metadata stand-in (on 100.100.100.200): the helper runs in
    it (run), so the credential chain's ECS provider finds an instance role, and no request can
    leave for a real cloud endpoint. Needs root (the tests run as root), unshare, nsenter and ip."""

    def __init__(self) -> None:
        from fake_aliyun import FakeAliyun

        script = f"ip addr add {ECS_METADATA_HOST}/32 dev lo && ip link set lo up && echo up && exec sleep 100000"
        self._holder = subprocess.Popen(["unshare", "--net", "sh", "-c", script], stdout=subprocess.PIPE)
        if self._holder.stdout.readline() != b"up\n":
            self._holder.kill()
            raise RuntimeError("could not set up a private network namespace")
        self.path = f"/proc/{self._holder.pid}/ns/net"
        with _Namespace(self.path):
            self.fake = FakeAliyun()
            self.metadata = EcsMetadata()

    def run(self, args: list[str], stdin: bytes | str = b"", env: dict[str, str] | None = None):
        """run(args) inside the namespace."""
        return run(["nsenter", f"--net={self.path}", "--", *args], stdin, env)

    def stop(self) -> None:
        self.metadata.stop()
        self.fake.stop()
        self._holder.kill()
        self._holder.wait()


# -- the fake API under Alibaba Cloud's own host names (VPC endpoints) ------------------------------

FAKE_CA_NAMES = ("*.cn-hangzhou.aliyuncs.com", "*.cn-heyuan.aliyuncs.com", "*.cn-shanghai.aliyuncs.com")


def throwaway_ca(folder: Path, names=FAKE_CA_NAMES) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key): a CA made for one test run with the
    openssl CLI, and a certificate it signed for names (DNS subjectAltNames)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        folder / name for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    commands = [
        [
            "openssl",
            "req",
            "-x509",
            *ec,
            "-keyout",
            ca_key,
            "-out",
            ca,
            "-days",
            "2",
            "-subj",
            "/CN=credctl test CA",
            *ca_ext,
        ],
        ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=fake-aliyun"],
    ]
    extensions = folder / "server.ext"
    extensions.write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        f"subjectAltName={','.join('DNS:' + name for name in names)}\n"
    )
    signing = ["-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2", "-extfile", extensions]
    commands.append(["openssl", "x509", "-req", "-in", csr, "-out", cert, *signing])
    for command in commands:
        subprocess.run([str(part) for part in command], capture_output=True, check=True)
    return ca, cert, key


class AliyunVpcNetwork:
    """The fake Alibaba Cloud API reached under Alibaba Cloud's own host names, with no real DNS:
    a private network and mount namespace where /etc/hosts is a file of this test's (hosts: name
    -> loopback address), /etc/resolv.conf names 127.0.0.1, where nothing answers (a name the
    hosts file lacks fails to resolve, and no query leaves), and the fake serves HTTPS on
    127.0.0.1:443 with a certificate from a throwaway CA, which env() has the SDK trust
    (SSL_CERT_FILE: Python's ssl loads it as its default verify paths, which the SDK's TLS
    context keeps). A name mapped to 127.0.0.2 refuses connections: nothing listens there.
    Needs root, unshare, nsenter, ip and openssl."""

    def __init__(self, base: Path, hosts: dict[str, str], ca: tuple[Path, Path, Path]) -> None:
        from fake_aliyun import FakeAliyun

        base.mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = ca
        hosts_file, resolv = base / "hosts", base / "resolv.conf"
        hosts_file.write_text(
            "127.0.0.1 localhost\n" + "".join(f"{address} {name}\n" for name, address in hosts.items())
        )
        resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        script = (
            f"mount --bind {hosts_file} /etc/hosts && mount --bind {resolv} /etc/resolv.conf"
            " && ip link set lo up && echo up && exec sleep 100000"
        )
        self._holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script], stdout=subprocess.PIPE
        )
        if self._holder.stdout.readline() != b"up\n":
            self._holder.kill()
            raise RuntimeError("could not set up a private network and mount namespace")
        self.path = f"/proc/{self._holder.pid}/ns"
        with _Namespace(f"{self.path}/net"):
            self.fake = FakeAliyun()
            self._tls = self.fake.serve_tls("127.0.0.1", 443, str(cert), str(key))

    def env(self, tmp_path: Path, **extra: str) -> dict[str, str]:
        """acr_env with no CREDCTL_ACR_ENDPOINT (the endpoint rule decides) and the CA trusted."""
        return acr_env(tmp_path, None, **{"CREDCTL_ACR_ENDPOINT": None, "SSL_CERT_FILE": str(self.ca), **extra})

    def run(self, args: list[str], stdin: bytes | str = b"", env: dict[str, str] | None = None):
        """run(args) inside both namespaces."""
        # --root and --wd: the holder's root and working directory. Entering a mount namespace
        # otherwise moves the caller to that namespace's root, which in a chroot (CI's fresh
        # root) is the host's, where the checkout's programs are not.
        pid = self._holder.pid
        return run(["nsenter", "-t", str(pid), "--net", "--mount", "--root", "--wd", "--", *args], stdin, env)

    def hosts_asked(self) -> list[str]:
        """The Host header of every request the fake received, oldest first."""
        return [received.headers.get("host", "") for received in self.fake.requests]

    def stop(self) -> None:
        self._tls.shutdown()
        self.fake.stop()
        self._holder.kill()
        self._holder.wait()


# -- other local users planting folders and files where credctl keeps its own ----------------------


def shared_folder() -> Path:
    """A folder like /tmp (root's, 1777) where every local user may create entries: where a CI
    job's XDG_CACHE_HOME or XDG_CONFIG_HOME may point. Outside the test's tmp_path, which other
    uids cannot enter; remove it with shutil.rmtree (root removes what others planted too)."""
    folder = Path(tempfile.mkdtemp(prefix="credctl-shared-", dir="/tmp"))
    folder.chmod(0o1777)
    return folder


def plant(uid: int, path: Path, content: str, mode: int = 0o666) -> None:
    """Another user writes content to path with mode (as that uid: in a folder it can write)."""
    script = 'umask 0; printf %s "$1" > "$2" && chmod "$3" "$2"'
    result = as_uid(uid, "sh", "-c", script, "sh", content, str(path), f"{mode:o}")
    assert result.returncode == 0, result.stderr


# -- stuck prompts, stuck lock holders, silent buses, core dumps -----------------------------------

# A pinentry that greets gpg-agent and answers every command except GETPIN, the passphrase
# request, which it leaves unanswered for ever: a dialog nobody answers. It writes the marker
# file (argv[1]'s environment names it) when asked, so a test knows the prompt is up; it ends
# when the agent closes its stdin.
STUCK_PINENTRY = """#!/bin/sh
echo "OK a pinentry nobody answers"
while read -r line; do
  case "$line" in
    GETPIN*) : > "{marker}" ;;
    BYE*) echo OK; exit 0 ;;
    *) echo OK ;;
  esac
done
"""


def stuck_pinentry(home: Path, marker: Path) -> None:
    """Make gpg-agent of home ask for passphrases with a pinentry that never answers."""
    program = home / "stuck-pinentry"
    program.write_text(STUCK_PINENTRY.format(marker=marker))
    program.chmod(0o700)
    (home / "gpg-agent.conf").write_text(f"pinentry-program {program}\n")


# Holds a flock on argv[1] (exclusive) and sleeps until killed: a peer stuck with the lock.
HOLD_LOCK = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('held', flush=True)\n"
    "time.sleep(3600)\n"
)


def hold_lock(path: Path) -> subprocess.Popen:
    """A process holding an exclusive flock on path (a file or a folder) until it is killed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def processes_naming(text: str) -> list[int]:
    """Pids of live (not zombie) processes whose command line contains text."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


# Owns the bus name argv[2] on argv[1]'s bus and never answers a call made to it.
SILENT_PEER = (
    "import sys, time\n"
    "from jeepney.bus_messages import message_bus\n"
    "from jeepney.io.blocking import open_dbus_connection\n"
    "bus = open_dbus_connection(sys.argv[1])\n"
    "assert bus.send_and_get_reply(message_bus.RequestName(sys.argv[2])).body == (1,)\n"
    "print('owned', flush=True)\n"
    "time.sleep(3600)\n"
)


def silent_peer(address: str, name: str) -> subprocess.Popen:
    """A peer on the bus at address that owns name and never replies; kill it when done."""
    peer = subprocess.Popen([sys.executable, "-c", SILENT_PEER, address, name], stdout=subprocess.PIPE, text=True)
    if peer.stdout.readline() != "owned\n":
        peer.kill()
        peer.wait()
        raise RuntimeError(f"the silent peer could not own {name}")
    return peer


class SilentSecretService:
    """A private dbus-daemon on which org.freedesktop.secrets is owned by a peer that never replies."""

    def __init__(self, base: Path) -> None:
        runtime = base / "run"
        runtime.mkdir(mode=0o700)
        self.bus, address = session_bus(runtime)
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_CACHE_HOME": str(base / "cache")}
        for name in ("DISPLAY", "WAYLAND_DISPLAY"):
            self.env.pop(name, None)
        try:
            self.peer = silent_peer(address, "org.freedesktop.secrets")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in (getattr(self, "peer", None), self.bus):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


# -- Podman, Buildah and Skopeo as a person runs them ----------------------------------------------

CONTAINER_TOOLS = ("podman", "buildah", "skopeo")


class ContainersUser:
    """Someone who runs podman, buildah and skopeo in their default configuration: no
    REGISTRY_AUTH_FILE, no --authfile, no DOCKER_CONFIG; a home under base and, like a login
    session's /run/user/UID, an XDG_RUNTIME_DIR (runtime_dir=False: none, as root in a cron job or
    a CI shell, where the primary auth file is /run/containers/UID/auth.json).

    uid=None runs as root; otherwise as that uid (a second local user, no passwd entry: rootless
    podman then uses a single-uid mapping). Without a runtime dir every program runs in a private
    mount namespace where base/run-containers is bind-mounted on /run/containers, so the machine's
    own /run/containers is never touched and logins outlive one command. Image storage (vfs)
    lives under base for podman and buildah. run() runs any program this way (credctl too).
    Extra environment (env) is added on top, e.g. PATH with credctl's helpers and store settings.
    """

    def __init__(self, base: Path, env: dict[str, str] | None = None, uid: int | None = None, runtime_dir: bool = True):
        self.base, self.uid = base, uid
        self.home = base / "home"
        self.runtime = base / "run" if runtime_dir else None
        self.run_containers = None if runtime_dir else base / "run-containers"
        for folder in (self.home, self.runtime, self.run_containers):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                if uid is not None:
                    os.chown(folder, uid, uid)
        if uid is not None:
            os.chown(base, uid, uid)
        self.env = {
            "HOME": str(self.home),
            "PATH": f"{BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
        }
        if self.runtime is not None:
            self.env["XDG_RUNTIME_DIR"] = str(self.runtime)
        self.env.update(env or {})

    @property
    def primary_auth_file(self) -> Path:
        """Where containers/image writes logins for this person, as a path on this machine's disk."""
        if self.runtime is not None:
            return self.runtime / "containers" / "auth.json"
        return self.run_containers / str(self.uid or 0) / "auth.json"

    @property
    def primary_auth_path_seen(self) -> str:
        """The same file as the person's programs name it."""
        if self.runtime is not None:
            return str(self.primary_auth_file)
        return f"/run/containers/{self.uid or 0}/auth.json"

    @property
    def dropin_folder(self) -> Path:
        return self.home / ".config" / "containers" / "registries.conf.d"

    def _storage(self, tool: str) -> list[str]:
        if tool not in ("podman", "buildah"):
            return []
        return ["--root", str(self.base / "storage"), "--runroot", self._runroot(), "--storage-driver", "vfs"]

    def _runroot(self) -> str:
        """podman refuses a runroot longer than 50 characters: a short one in /tmp, removed at exit."""
        if not getattr(self, "runroot", None):
            import atexit

            self.runroot = tempfile.mkdtemp(prefix="credctl-rr-")
            if self.uid is not None:
                os.chown(self.runroot, self.uid, self.uid)
            atexit.register(shutil.rmtree, self.runroot, True)
        return self.runroot

    def argv(self, tool: str, *args: str) -> list[str]:
        argv = [tool, *self._storage(tool), *args]
        if self.uid is not None:
            argv = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", *argv]
        if self.run_containers is not None:
            mount = 'mkdir -p /run/containers && mount --bind "$0" /run/containers && exec "$@"'
            folder = str(self.run_containers)
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, folder, *argv]
        return argv

    def run(self, tool: str, *args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """tool (podman, buildah, skopeo, credctl, docker-credential-…) with args, as this person."""
        return subprocess.run(
            self.argv(tool, *args),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.home,
            timeout=timeout,
        )

    def login(self, tool: str, registry: str, user: str, password: str) -> subprocess.CompletedProcess[str]:
        """`TOOL login --password-stdin` against a plain-HTTP loopback registry."""
        return self.run(tool, "login", "--tls-verify=false", "-u", user, "--password-stdin", registry, stdin=password)


# -- podman, buildah and skopeo logging in through each of credctl's login stores -----------------

CLIENT_STORES = ("pass", "secretservice", "keyring")  # credctl's login stores (credctl.stores.LOGIN_STORES)
HUB_KEYS = (HUB, "docker.io", "index.docker.io")  # the keys a client may ask a helper for Docker Hub under


class StorePerson:
    """A ContainersUser (user) whose credctl login store `store` works in their own session, in
    its default place: pass in ~/.password-store for gnupg's key (gpg home and fingerprint), the
    Secret Service (for secretservice and keyring: a gnome-keyring on a private session bus, its
    files under the same HOME). Only what the store needs is added to the environment:
    GNUPGHOME, or DBUS_SESSION_BUS_ADDRESS; keyring finds its backend on its own. bin, when
    given, replaces our venv's bin at the head of PATH (a second user's own helpers). stop()
    ends the bus and the keyring daemon."""

    def __init__(self, base: Path, store: str, gnupg: tuple[Path, str], bin: Path | None = None, **person) -> None:
        assert store in CLIENT_STORES, store
        self.store, self.service = store, None
        env = {}
        if bin is not None:
            env["PATH"] = f"{bin}:/usr/local/bin:/usr/bin:/bin"
        if store == "pass":
            env["GNUPGHOME"] = str(gnupg[0])
        else:
            self.service = SecretService(base)
            env["DBUS_SESSION_BUS_ADDRESS"] = self.service.env["DBUS_SESSION_BUS_ADDRESS"]
        self.user = ContainersUser(base, env=env, **person)
        if store == "pass":
            made = self.user.run("pass", "init", gnupg[1])
            assert made.returncode == 0, made.stderr

    @property
    def program(self) -> str:
        return f"docker-credential-{self.store}"

    def helper(self, action: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """The store's docker-credential-* program run as this person, as a client runs it."""
        return self.user.run(self.program, action, stdin=stdin)

    def helper_get(self, server: str) -> tuple[int, str]:
        """(exit status, stdout) of the helper's `get` for server."""
        found = self.helper("get", server)
        return found.returncode, found.stdout

    def helper_store(self, server: str, username: str, secret: str) -> None:
        body = json.dumps({"ServerURL": server, "Username": username, "Secret": secret})
        stored = self.helper("store", body)
        assert stored.returncode == 0, stored.stdout + stored.stderr

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()


def no_login_in(path: Path, registry: str, username: str, password: str) -> None:
    """path (a Docker or containers auth file) is absent, or has no auth, password or token for
    registry, and neither the password nor the login's "auth" (base64 of username:password) is
    anywhere in its bytes."""
    if not path.exists():
        return
    data = path.read_bytes()
    assert password.encode() not in data, f"the password is in {path}"
    assert b64(f"{username}:{password}").encode() not in data, f"the login is in {path}, base64-encoded"
    entry = json.loads(data).get("auths", {}).get(registry, {})
    assert not set(entry) & {"auth", "password", "identitytoken", "registrytoken"}, (path, entry)


def secret_in_no_file(top: Path, *secrets: str) -> None:
    """No regular file under top holds any of secrets (as bytes)."""
    wanted = [secret.encode() for secret in secrets]
    for folder, _folders, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as file:
                    data = file.read()
                assert not any(secret in data for secret in wanted), f"{path} holds a secret"


# Files of the checkout a wheel is built from (pyproject.toml's data-files name man/ and completions/).
WHEEL_SOURCES = ("credctl", "pyproject.toml", "README.md", "LICENSE", "man", "completions")


def credctl_wheelhouse(folder: Path) -> Path:
    """folder/wheels: a wheel of this checkout (built from a copy of it: the checkout gets no
    build/) and of each of its dependencies, for installing credctl with pip --no-index."""
    source, wheels = folder / "source", folder / "wheels"
    source.mkdir(parents=True)
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
    built = subprocess.run([*pip, "-w", wheels, source], capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr
    return wheels


class OwnCredctl:
    """credctl installed by and for another local user (uid), as they would: a venv of Debian's
    python3 in folder/venv (their files), credctl and its dependencies installed in it by their
    pip from wheels (credctl_wheelhouse). Our test venv cannot serve them: its interpreter or its
    folder may be under /root, which they cannot enter (podman then fails with "fork/exec
    …/docker-credential-pass: permission denied"). gnupg is (home, fingerprint) of their own gpg
    key (a short /tmp folder: gpg-agent's socket path must stay short); bin goes on their PATH."""

    def __init__(self, uid: int, folder: Path, wheels: Path) -> None:
        self.uid = uid
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, uid, uid)
        venv = folder / "venv"
        env = {"HOME": str(folder), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        self._as_them(["/usr/bin/python3", "-m", "venv", str(venv)], env)
        install = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-index"]
        self._as_them([*install, "--find-links", str(wheels), "credctl"], env)
        self.bin = venv / "bin"
        home = Path(tempfile.mkdtemp(prefix="cg", dir="/tmp"))
        os.chown(home, uid, uid)
        key_env = {**env, "GNUPGHOME": str(home)}
        uid_name = "second user <second@example.invalid>"
        generate = ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid_name, "future-default"]
        self._as_them([*generate, "default", "never"], key_env)
        listing = self._as_them(["gpg", "--batch", "--with-colons", "--list-keys", uid_name], key_env)
        self.gnupg = (home, next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")))

    def _as_them(self, argv: list[str], env: dict[str, str]) -> str:
        as_them = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", *argv]
        done = subprocess.run(as_them, capture_output=True, text=True, env=env, cwd="/", timeout=900)
        assert done.returncode == 0, (argv, done.stderr)
        return done.stdout

    def stop(self) -> None:
        home = self.gnupg[0]
        self._as_them(["gpgconf", "--kill", "all"], {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"})
        shutil.rmtree(home, ignore_errors=True)


def folder_for_others() -> Path:
    """A new folder in /tmp that other local users may enter (0755, root's): pytest's tmp_path is
    under a 0700 folder. Remove it with shutil.rmtree."""
    folder = Path(tempfile.mkdtemp(prefix="credctl-others-", dir="/tmp"))
    folder.chmod(0o755)
    return folder


def owned_by(uid: int, *tops: Path) -> None:
    """Every file and folder under tops belongs to uid (sockets and all)."""
    for top in tops:
        for folder, folders, files in os.walk(top):
            for name in [".", *folders, *files]:
                path = os.path.join(folder, name)
                assert os.lstat(path).st_uid == uid, f"{path} is not owned by {uid}"


# -- a person with a pass store of their own, for Podman's logins through credctl --------------------

PERSON_KEY_UID = "credctl person <credctl-person@example.invalid>"


def pass_person(base: Path, uid: int | None = None, runtime_dir: bool = True, **env: str) -> ContainersUser:
    """A ContainersUser (root, or the local user uid) whose pass store is theirs, in pass's default
    place (~/.password-store), for a passphrase-less gpg key of their own in base/g (a short path:
    gpg-agent's socket must fit in 108 bytes), made and initialised as that person. credctl's
    helpers come first on PATH; output is plain and wide (NO_COLOR, COLUMNS) so lines compare
    exactly. Stop their gpg-agent with stop_person_agent."""
    need("gpg", "pass", "gpgconf")
    gnupg = base / "g"
    person = ContainersUser(
        base, env={"GNUPGHOME": str(gnupg), "NO_COLOR": "1", "COLUMNS": "200", **env}, uid=uid, runtime_dir=runtime_dir
    )
    gnupg.mkdir(mode=0o700)
    if uid is not None:
        os.chown(gnupg, uid, uid)
    quick = ["--batch", "--passphrase", "", "--quick-gen-key", PERSON_KEY_UID, "future-default", "default", "never"]
    made = person.run("gpg", *quick)
    assert made.returncode == 0, made.stderr
    listed = person.run("gpg", "--batch", "--with-colons", "--list-keys", PERSON_KEY_UID)
    fpr = next(line.split(":")[9] for line in listed.stdout.splitlines() if line.startswith("fpr:"))
    initialised = person.run("pass", "init", fpr)
    assert initialised.returncode == 0, initialised.stderr
    return person


def stop_person_agent(person: ContainersUser) -> None:
    person.run("gpgconf", "--kill", "all")


# -- a store's world as the person who runs podman, buildah and skopeo -----------------------------

# What a store's helper needs from its world's environment to reach the same store.
STORE_VARIABLES = (
    "GNUPGHOME",
    "PASSWORD_STORE_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "GNOME_KEYRING_CONTROL",
    "PYTHON_KEYRING_BACKEND",
)


def containers_user_of(store: StoreWorld, base: Path, **options) -> ContainersUser:
    """A ContainersUser (options: uid, runtime_dir) whose helpers reach store's backend: its own
    HOME and runtime folder, the store's gpg home and pass folder or its private D-Bus."""
    env = {name: store.env[name] for name in STORE_VARIABLES if name in store.env}
    person = ContainersUser(base, env=env, **options)
    if store.settings is not None:  # the router's routes: in the person's own settings.json
        folder = person.home / ".config" / "credctl"
        folder.mkdir(parents=True, mode=0o700)
        write(folder / "settings.json", store.settings)
        if person.uid is not None:
            for path in (folder.parent, folder, folder / "settings.json"):
                os.chown(path, person.uid, person.uid)
    return person


def helper_outcome(person: ContainersUser, program: str, action: str, stdin: str = "") -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a docker-credential-* program run as person (as podman runs it)."""
    result = person.run(program, action, stdin=stdin)
    return result.returncode, result.stdout, result.stderr


# -- a docker CLI that reads DOCKER_AUTH_CONFIG ----------------------------------------------------

# Debian's newest docker CLI (forky's docker-cli, 28.5 when this was written): docker/cli reads
# DOCKER_AUTH_CONFIG from 28.3.0 on, which no docker-* CLI of the test world does. Its own row of
# tests/world_programs.txt, outside DOCKER_CLIS, so the docker e2e tests do not all run it too.
NEWEST_DOCKER = WORLD_PROGRAMS["newest-docker"]


def docker_version(program: str) -> tuple[int, ...]:
    """(major, minor) of a docker CLI, from `docker --version` (needs no daemon)."""
    words = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout.split()
    return tuple(int(part) for part in words[2].split("+")[0].rstrip(",").split(".")[:2])


def home_docker_config(env: dict[str, str]) -> Path:
    """Docker's config.json where docker finds it with no DOCKER_CONFIG: ~/.docker/config.json."""
    return Path(env["HOME"]) / ".docker" / "config.json"


def write_home_docker_config(env: dict[str, str], config: dict) -> None:
    """config as ~/.docker/config.json, tab-indented as docker writes it, 0600 in a 0700 folder."""
    path = home_docker_config(env)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    write(path, json.dumps(config, indent="\t").encode())


def user_namespaces_refused(uid: int) -> str:
    """ "" when uid may make a user namespace here (rootless podman needs one), else the kernel's
    answer: clone(2) refuses CLONE_NEWUSER (EPERM) to a process in a chroot, which is where CI's
    fresh Debian root runs every test. A property of the machine, not a missing program."""
    ran = as_uid(uid, "unshare", "--user", "true")
    return "" if ran.returncode == 0 else ran.stderr.strip() or f"exit status {ran.returncode}"


def acr_registry_env(base: dict[str, str], tmp_path: Path, aliyun, config: dict) -> dict[str, str]:
    """A Docker user's environment (docker_env, with config as config.json) where 127.0.0.1 (the
    host of the real test registries) is a custom domain of the fake's ACR instance
    (ALIYUN_INSTANCE) in credctl's settings, with the access key the fake accepts."""
    import json

    env = docker_env(base, tmp_path, config)
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    instance_id, _, region = ALIYUN_INSTANCE
    settings.write_text(json.dumps({"acr_registries": {"127.0.0.1": {"region": region, "instance_id": instance_id}}}))
    return with_key({**env, "CREDCTL_ACR_ENDPOINT": aliyun.url, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
