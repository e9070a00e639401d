"""Every "run X" hint credctl prints works where it is printed: each is run here, in the situation
that printed it, with real gpg and pass, and shown to succeed.

No terminal anywhere (world.credctl's stdin is /dev/null, stdout a pipe): the headless case,
where a hint that needs a prompt would fail.
"""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import world
from world import ALICE, NEXT, NO_KEY, copy_key, credctl, expire, need, ready, run_helper, untrusted

from credctl.protocol import encode_credentials

PASS = world.ours("docker-credential-pass")
TIMEOUT = 60
URL, USER, SECRET = "registry.example.com", "alice", "s3cr3t"


@pytest.fixture
def home():
    path = world.make_gnupg_home()
    yield path
    world.stop_agent(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(home: Path, tmp_path: Path) -> dict[str, str]:
    """A person's shell without a terminal or display; pass's default store under a new HOME."""
    return world.person_env(home, tmp_path)


def the_command(line: str) -> str:
    """The one `...` command a message names."""
    commands = re.findall(r"`([^`]+)`", line)
    assert len(commands) == 1, line
    return commands[0]


def run_shell(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A hint as a person pastes it into a shell with no terminal."""
    return subprocess.run(
        ["sh", "-c", command], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT
    )


def store(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_helper(PASS, "store", encode_credentials(URL, USER, SECRET), env)


def assert_stored(env: dict[str, str]) -> None:
    stored = store(env)
    assert (stored.returncode, stored.stdout, stored.stderr) == (0, b"", b"")
    got = run_helper(PASS, "get", URL, env)
    assert (got.returncode, got.stdout) == (0, encode_credentials(URL, USER, SECRET))


# --- pass init without a key, without a terminal ---------------------------------------------


def test_the_headless_generate_hint_succeeds_headless(home, env):
    need("gpg", "pass")
    refused = credctl(env, "pass", "init")
    assert (refused.returncode, refused.stderr) == (1, NO_KEY)
    command = the_command(refused.stderr)
    assert command == "credctl pass init --generate --no-passphrase --name NAME --email EMAIL"

    words = [{"NAME": "Alice Example", "EMAIL": "alice@example.invalid"}.get(w, w) for w in shlex.split(command)]
    assert words[0] == "credctl"
    result = credctl(env, *words[1:])

    assert result.returncode == 0, result.stderr
    store_dir = Path(env["HOME"]) / ".password-store"
    assert result.stdout.splitlines()[-2:] == [ready(store_dir, ALICE), NEXT]
    assert_stored(env)


def test_next_names_setup_and_setup_then_works(home, env, tmp_path):
    """pass init's "Next:" is `credctl setup`: run as printed, Docker's config then uses pass."""
    need("gpg", "pass")
    world.generate_key(home, ALICE)
    initialised = credctl(env, "pass", "init")
    assert initialised.returncode == 0, initialised.stderr
    assert initialised.stdout.splitlines()[-1] == NEXT
    command = shlex.split(the_command(NEXT))
    assert command == ["credctl", "setup"]

    config = tmp_path / "docker"
    result = credctl({**env, "DOCKER_CONFIG": str(config), "PATH": f"{world.BIN}:{env['PATH']}"}, *command[1:])

    assert result.returncode == 0, result.stderr
    assert '"credsStore": "pass"' in (config / "config.json").read_text()


# --- a key gpg does not trust -----------------------------------------------------------------


def untrusted_line(fpr: str) -> bytes:
    return (
        f"pass insert failed: gpg does not trust the key {fpr} in .gpg-id, so it will not encrypt to it: "
        f"if it is your key, trust it with `echo {fpr}:6: | gpg --import-ownertrust` "
        f"(or `gpg --edit-key {fpr} trust`, then 5)\n"
    ).encode()


@pytest.fixture
def untrusted_store(gnupg_home, home, env, tmp_path):
    """The move to a new machine: secret key imported, never trusted, store initialised with pass."""
    need("gpg", "pass")
    source, fpr = gnupg_home
    copy_key(source, home, fpr, secret=True)
    helper_env = {**env, "PASSWORD_STORE_DIR": str(tmp_path / "store")}
    world.init_pass(helper_env, fpr)
    return helper_env, fpr


@pytest.mark.parametrize("gpg_name", ["gpg", "gpg2"])
def test_an_untrusted_key_is_named_with_a_fix_that_works(untrusted_store, tmp_path, gpg_name):
    """pass runs gpg with --batch only when gpg2 is on PATH: gpg then says INV_RECP 10 and
    "Unusable public key"; without, it gives up on the question it cannot ask. Both say why."""
    env, fpr = untrusted_store
    if gpg_name == "gpg2":
        bin_dir = tmp_path / "gpg2-bin"
        bin_dir.mkdir()
        (bin_dir / "gpg2").symlink_to(shutil.which("gpg"))
        env = {**env, "PATH": f"{bin_dir}:{env['PATH']}"}

    refused = store(env)
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, untrusted_line(fpr), b"")

    fixed = run_shell(the_command(refused.stdout.decode().split(": if it is your key, ")[1].split(" (or ")[0]), env)
    assert fixed.returncode == 0, fixed.stderr
    assert_stored(env)


def test_docker_login_shows_the_untrusted_key_line(untrusted_store, tmp_path, docker_cli, registry):
    """What `docker login` prints when the helper refuses to store: the helper's one line."""
    env, fpr = untrusted_store
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text('{"credsStore": "pass"}')
    login = [docker_cli, "--config", str(config), "login", "-u", registry.user, "--password-stdin", registry.address]
    result = subprocess.run(
        login,
        input=registry.password,
        env={**env, "PATH": f"{world.BIN}:{env['PATH']}"},
        stdin=None,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 1
    assert untrusted_line(fpr).decode().strip() in result.stderr
    assert (config / "config.json").read_text() == '{"credsStore": "pass"}'


def test_migrate_into_an_untrusted_key_says_why(untrusted_store, tmp_path):
    env, fpr = untrusted_store
    config = tmp_path / "docker"
    config.mkdir()
    plaintext = '{"auths": {"registry.example.com": {"auth": "YWxpY2U6czNjcjN0"}}}'
    (config / "config.json").write_text(plaintext)

    result = credctl({**env, "PATH": f"{world.BIN}:{env['PATH']}"}, "--config", str(config), "migrate", "--to", "pass")

    assert result.returncode == 1
    assert result.stderr == "error: 1 of 1 credential(s) stay in plaintext: see the table above\n"
    results = " ".join(line.split("│")[4].strip() for line in result.stdout.splitlines() if line.startswith("│ "))
    assert results == (
        "planned failed: docker-credential-pass store failed (exit status 1): " + untrusted_line(fpr).decode().strip()
    )
    assert (config / "config.json").read_text() == plaintext  # nothing stored is lost


def test_pass_init_trust_warning_fix_works(gnupg_home, home, env):
    need("gpg", "pass")
    source, fpr = gnupg_home
    copy_key(source, home, fpr, secret=True)
    result = credctl(env, "pass", "init")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [untrusted(fpr)]

    fixed = run_shell(the_command(result.stderr.split(": if it is your key, ")[1].split(" (or ")[0]), env)

    assert fixed.returncode == 0, fixed.stderr
    assert_stored({**env, "PASSWORD_STORE_DIR": str(Path(env["HOME"]) / ".password-store")})


# --- a key that expired -----------------------------------------------------------------------


def test_an_expired_key_is_named_with_a_fix_that_works(home, env, tmp_path):
    need("gpg", "gpgconf", "pass")
    fpr = world.generate_key(home, ALICE)
    helper_env = {**env, "PASSWORD_STORE_DIR": str(tmp_path / "store")}
    world.init_pass(helper_env, fpr)
    expire(helper_env, fpr)

    listing = subprocess.run(
        ["gpg", "--with-colons", "--list-keys", fpr], env=helper_env, capture_output=True, text=True, check=True
    ).stdout
    [_, subkey] = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]

    refused = store(helper_env)
    # gpg's '*' extends only the subkeys that have not expired yet: the expired one is named.
    fix = f"gpg --quick-set-expire {fpr} 1y; gpg --quick-set-expire {fpr} 1y {subkey}"
    assert (refused.returncode, refused.stdout) == (
        1,
        f"pass insert failed: the gpg key {fpr} in .gpg-id has expired: extend it ({fix}) or run "
        "`credctl pass init` with another key\n".encode(),
    )

    fixed = run_shell(fix, helper_env)
    assert fixed.returncode == 0, fixed.stderr
    assert_stored(helper_env)
