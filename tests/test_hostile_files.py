"""Other local users against the files credctl keeps, reads and locks (issue 15, items 6, 7, 10).

The victim is the test process (root), running the installed programs; a real second uid
(world.free_uid, world.as_uid) plants folders, files, FIFOs and symbolic links in a shared
folder like /tmp, where a CI job's XDG_CACHE_HOME or XDG_CONFIG_HOME may point. Every refusal
is one exact line; a FIFO is never waited on (the subprocess timeout is only a guard).
"""

import binascii
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import world
from world import (
    ALIYUN_KEY_SECRET,
    HELPER,
    PERSONAL,
    SECRET_SERVICE_BACKEND,
    acr_env,
    answer,
    as_uid,
    cli_env,
    credctl,
    plant,
    with_key,
    write_credentials,
)

PASS = world.ours("docker-credential-pass")
FOLDER_ADVICE = "credctl keeps its files only in folders no other user controls: remove it or choose another folder"
FILE_ADVICE = "credctl does not trust a file another user controls: remove it"
GUARD = 20  # seconds: a run still going after this waits on something it must never wait on


@pytest.fixture
def other() -> int:
    """Another local user's uid (and gid)."""
    world.need("setpriv")
    return world.free_uid()


@pytest.fixture
def shared():
    folder = world.shared_folder()
    yield folder
    shutil.rmtree(folder)


def helper(program: str, action: str, stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([program, action], input=stdin.encode(), capture_output=True, env=env, timeout=GUARD)


def owned_by(uid: int) -> str:
    return f"owned by uid {uid}, not by you (uid {os.geteuid()})"


# --- item 6: the ACR token cache ------------------------------------------------------------------------


def test_a_cache_folder_another_user_made_is_refused_before_any_token_is_fetched(aliyun, tmp_path, shared, other):
    planted = shared / "credctl"
    assert as_uid(other, "mkdir", "-m", "0777", str(planted)).returncode == 0
    env = with_key(acr_env(tmp_path, aliyun, XDG_CACHE_HOME=str(shared)))

    result = helper(HELPER, "get", PERSONAL, env)

    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout.decode() == f"{planted}: {owned_by(other)}: {FOLDER_ADVICE}\n"
    assert aliyun.requests == []  # refused before the API was asked: no token exists to leak
    assert list(planted.iterdir()) == []


def first_token(aliyun, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The victim's own cache after one `get`: (environment, the token file)."""
    env = with_key(acr_env(tmp_path, aliyun))
    result = helper(HELPER, "get", PERSONAL, env)
    assert (result.returncode, result.stdout) == (0, answer(PERSONAL, aliyun.issued[-1].token))
    (token_file,) = (tmp_path / "cache" / "credctl" / "acr").glob("*.token")
    return env, token_file


def rewritten(token_file: Path, password: str, expires: int) -> str:
    magic, owner, domain, username, _password, _expires, *rest = token_file.read_text().split("\n")
    return "\n".join([magic, owner, domain, username, password, str(expires), *rest])


def test_a_token_file_another_user_owns_is_not_served(aliyun, tmp_path, other):
    env, token_file = first_token(aliyun, tmp_path)
    token_file.write_text(rewritten(token_file, "planted-token", 4_000_000_000))
    os.chown(token_file, other, other)  # what root (or a planted folder) could leave there

    result = helper(HELPER, "get", PERSONAL, env)

    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout.decode() == f"{token_file}: {owned_by(other)}: {FILE_ADVICE}\n"
    assert len(aliyun.issued) == 1


def test_a_world_writable_token_file_is_neither_trusted_nor_its_mode_copied(aliyun, tmp_path):
    env, token_file = first_token(aliyun, tmp_path)
    token_file.write_text(rewritten(token_file, "expired-token", 1))
    token_file.chmod(0o666)

    result = helper(HELPER, "get", PERSONAL, env)

    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout.decode() == f"{token_file}: writable by other users (mode 0666): {FILE_ADVICE}\n"
    assert len(aliyun.issued) == 1  # no fresh token was written into a file others can read


def test_a_fifo_where_the_token_is_kept_is_refused_not_waited_on(aliyun, tmp_path):
    env, token_file = first_token(aliyun, tmp_path)
    token_file.unlink()
    os.mkfifo(token_file, 0o600)

    result = helper(HELPER, "get", PERSONAL, env)

    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{token_file}: a FIFO, not a regular file: remove it\n".encode(),
        b"",
    )


# --- item 6: settings and the pass-list cache -------------------------------------------------------------


def test_a_settings_folder_another_user_made_is_refused(tmp_path, shared, other):
    planted = shared / "credctl"
    assert as_uid(other, "mkdir", "-m", "0777", str(planted)).returncode == 0
    profile = {"credentials_file": "/tmp/evil.ini", "wrapper": "/tmp/evil", "registries": [PERSONAL]}
    plant(other, planted / "settings.json", json.dumps({"acr_profiles": {"evil": profile}}))
    env = cli_env(tmp_path, XDG_CONFIG_HOME=str(shared))

    result = credctl(env, "acr", "list-profiles", timeout=GUARD)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {planted}: {owned_by(other)}: {FOLDER_ADVICE}\n"


def test_a_fifo_where_the_settings_are_kept_is_refused_not_waited_on(tmp_path):
    folder = tmp_path / "xdg-config" / "credctl"
    folder.mkdir(parents=True, mode=0o700)
    os.mkfifo(folder / "settings.json", 0o600)

    result = credctl(cli_env(tmp_path), "acr", "list-profiles", timeout=GUARD)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {folder / 'settings.json'}: a FIFO, not a regular file: remove it\n"


def test_a_planted_pass_list_cache_is_neither_read_nor_written(pass_env, shared, other):
    env = {**pass_env, "XDG_CACHE_HOME": str(shared)}
    planted = shared / "credctl"
    assert as_uid(other, "mkdir", "-m", "0777", str(planted)).returncode == 0
    root = env["PASSWORD_STORE_DIR"]
    cache = planted / f"pass-list-{binascii.crc32(os.fsencode(root)):08x}"
    bait = f"credctl-pass-list-2\t{root}\t0\t-\n"
    plant(other, cache, bait)
    data = json.dumps({"ServerURL": "private.example", "Username": "alice", "Secret": "s3cret"})
    assert helper(PASS, "store", data, env).returncode == 0

    result = helper(PASS, "list", "", env)

    assert (result.returncode, result.stdout, result.stderr) == (0, b'{"private.example":"alice"}\n', b"")
    assert as_uid(other, "cat", str(cache)).stdout == bait  # the other user learns nothing
    assert sorted(path.name for path in planted.iterdir()) == [cache.name]


@pytest.mark.parametrize("store", ["secretservice", "keyring"])
def test_a_lock_folder_another_user_made_is_refused_by_the_keyring_stores(secret_service, shared, other, store):
    planted = shared / "credctl"
    assert as_uid(other, "mkdir", "-m", "0777", str(planted)).returncode == 0
    env = {**secret_service.env, "PYTHON_KEYRING_BACKEND": SECRET_SERVICE_BACKEND, "XDG_CACHE_HOME": str(shared)}
    data = json.dumps({"ServerURL": "private.example", "Username": "alice", "Secret": "s3cret"})

    result = helper(world.installed(f"docker-credential-{store}"), "store", data, env)

    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout.decode() == f"{planted}: {owned_by(other)}: {FOLDER_ADVICE}\n"
    assert list(planted.iterdir()) == []


# --- item 7: symbolic links -------------------------------------------------------------------------


def test_root_never_creates_what_a_users_lock_file_link_names(tmp_path, shared, other):
    home = shared / "home"
    assert as_uid(other, "mkdir", "-m", "0700", str(home), str(home / ".docker")).returncode == 0
    config = home / ".docker" / "config.json"
    plant(other, config, "{}\n", 0o640)
    lock = home / ".docker" / ".config.json.credctl-lock"
    outside = tmp_path / "nologin"  # stands for /etc/nologin
    assert as_uid(other, "ln", "-s", str(outside), str(lock)).returncode == 0
    env = cli_env(tmp_path)

    result = credctl(env, "--config", str(home / ".docker"), "map", "reg.example", "pass", timeout=GUARD)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {lock}: a symbolic link: credctl never opens a lock through one: remove it\n"
    assert not os.path.lexists(outside)
    assert config.read_text() == "{}\n"

    # Once the link is gone, root's edit keeps the user's file the user's.
    lock.unlink()
    result = credctl(env, "--config", str(home / ".docker"), "map", "reg.example", "pass", timeout=GUARD)
    assert result.returncode == 0, result.stderr
    assert json.loads(config.read_text()) == {"credHelpers": {"reg.example": "pass"}}
    status = config.stat()
    assert (status.st_uid, stat.S_IMODE(status.st_mode)) == (other, 0o640)
    assert stat.S_ISREG(lock.lstat().st_mode)


def test_a_symlinked_config_json_and_settings_json_stay_links_with_their_targets_rewritten(aliyun, tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "config.json").write_text("{}\n")
    (dotfiles / "settings.json").write_text("{}\n")
    env = acr_env(tmp_path, aliyun)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").symlink_to(dotfiles / "config.json")
    (tmp_path / "config" / "credctl").mkdir(parents=True, mode=0o700)
    settings_link = tmp_path / "config" / "credctl" / "settings.json"
    settings_link.symlink_to(dotfiles / "settings.json")
    credentials = write_credentials(tmp_path / "team1.ini")

    args = ["--credentials-file", str(credentials), "--bin-dir", str(tmp_path / "bin"), "--registry", PERSONAL]
    result = credctl(env, "acr", "add-profile", "team1", *args, timeout=GUARD)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "docker" / "config.json").is_symlink() and settings_link.is_symlink()
    assert json.loads((dotfiles / "config.json").read_text()) == {"credHelpers": {PERSONAL: "acr-helper-team1"}}
    assert list(json.loads((dotfiles / "settings.json").read_text())["acr_profiles"]) == ["team1"]
    assert ALIYUN_KEY_SECRET not in (dotfiles / "settings.json").read_text()


# --- item 10: where a profile's wrapper goes ----------------------------------------------------------------


@pytest.mark.parametrize("made_by", ["anyone", "the other user"])
def test_add_profile_refuses_a_bin_dir_others_can_change_unless_forced(aliyun, tmp_path, shared, other, made_by):
    bin_dir = shared / "bin"
    if made_by == "anyone":
        bin_dir.mkdir()
        bin_dir.chmod(0o777)
        why = "writable by other users (mode 0777)"
    else:
        assert as_uid(other, "mkdir", "-m", "0755", str(bin_dir)).returncode == 0
        why = owned_by(other)
    env = acr_env(tmp_path, aliyun)
    credentials = write_credentials(tmp_path / "team1.ini")
    args = ["acr", "add-profile", "team1", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir)]

    result = credctl(env, *args, timeout=GUARD)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {bin_dir}: {why}: another user could replace the helper and run code as you; "
        "choose another --bin-dir, or pass --force\n"
    )
    assert list(bin_dir.iterdir()) == []
    assert not (tmp_path / "config" / "credctl" / "settings.json").exists()

    forced = credctl(env, *args, "--force", timeout=GUARD)
    assert forced.returncode == 0, forced.stderr
    assert (bin_dir / "docker-credential-acr-helper-team1").is_file()


# --- the router's routes: settings another user planted are never followed ------------------------------

EVIL_HELPER = """#!/bin/sh
cat > "$(dirname "$0")/captured"
"""


@pytest.mark.parametrize("action", ["store", "get"])
def test_routes_another_user_planted_are_never_followed(pass_env, tmp_path, shared, other, action):
    """A shared XDG_CONFIG_HOME (a CI cache) where another user made credctl/settings.json first,
    routing every registry to their helper: docker-credential-credctl refuses the folder in one
    line, and their helper never sees a login."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker-credential-evil").write_text(EVIL_HELPER)
    (bin_dir / "docker-credential-evil").chmod(0o755)
    planted = shared / "credctl"
    assert as_uid(other, "mkdir", "-m", "0777", str(planted)).returncode == 0
    plant(other, planted / "settings.json", json.dumps({"route_default": "evil"}))
    env = world.docker_env(pass_env, tmp_path, {"credsStore": "credctl"}, [str(bin_dir)])
    env["XDG_CONFIG_HOME"] = str(shared)
    data = {
        "store": json.dumps({"ServerURL": "registry.example", "Username": "u", "Secret": "s3cret"}),
        "get": "registry.example",
    }[action]

    result = helper(world.installed("docker-credential-credctl"), action, data, env)

    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout == f"{planted}: {owned_by(other)}: {FOLDER_ADVICE}\n".encode()
    assert not (bin_dir / "captured").exists()
