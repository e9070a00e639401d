"""The real test world, shared by tests/ and bench/: throwaway gpg homes and pass stores.

Everything here is real (gpg, pass, Debian's Go helpers); nothing is mocked.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

GO_PASS = "/usr/bin/docker-credential-pass"
BIN = Path(sys.executable).parent  # where pip put our console scripts


def ours(program: str = "docker-credential-pass") -> str:
    return str(BIN / program)


def missing(*programs: str) -> list[str]:
    """Programs (names or absolute paths) this machine lacks."""
    return [p for p in programs if not (os.access(p, os.X_OK) if os.path.isabs(p) else shutil.which(p))]


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


def init_pass(env: dict[str, str], *key_ids: str) -> None:
    subprocess.run(["pass", "init", *key_ids], env=env, check=True, capture_output=True)


def run_helper(program: str, action: str, stdin: bytes | str = b"", env: dict[str, str] | None = None):
    """Run a docker-credential-* program as Docker does; returns the CompletedProcess (bytes)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([program, action], input=data, capture_output=True, env=env, timeout=60)


GO_SECRETSERVICE = "/usr/bin/docker-credential-secretservice"
KEYRING_PASSWORD = b"credctl-test-keyring"


class SecretService:
    """A private D-Bus session with an unlocked gnome-keyring, in a throwaway HOME.

    env is what a helper needs to reach it. stop() ends the bus, and gnome-keyring with it.
    """

    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.home.mkdir(parents=True)
        runtime = base / "run"
        runtime.mkdir(mode=0o700)
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:dir={runtime}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        address = self.bus.stdout.readline().strip()
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
        # gnome-keyring creates the login keyring with this password and leaves it unlocked.
        try:
            result = subprocess.run(
                ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
                input=KEYRING_PASSWORD,
                env=self.env,
                capture_output=True,
                timeout=30,
                check=True,
            )
        except BaseException:
            self.stop()  # do not leave the bus running
            raise
        for line in result.stdout.decode().splitlines():
            name, _, value = line.partition("=")
            if name == "GNOME_KEYRING_CONTROL":
                self.env[name] = value

    def stop(self) -> None:
        self.bus.terminate()
        self.bus.wait(timeout=10)
