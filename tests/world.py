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
