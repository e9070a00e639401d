"""The pass store on disk, its fixes over the Go helper, and its failure lines (real gpg and pass)."""

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import world
from world import NOT_FOUND, need, run_helper

from credctl.stores.passstore import folder_name, server_of


def store_root(env) -> Path:
    return Path(env["PASSWORD_STORE_DIR"])


def entry_dir(env, url: str) -> Path:
    return store_root(env) / "docker-credential-helpers" / base64.urlsafe_b64encode(url.encode()).decode()


def store(program, env, url, user, secret):
    body = f'{{"ServerURL":"{url}","Username":"{user}","Secret":"{secret}"}}'
    result = run_helper(program, "store", body, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def decrypt(env, path: Path) -> bytes:
    return subprocess.run(
        ["gpg", "--batch", "--quiet", "-d", str(path)], env=env, capture_output=True, check=True
    ).stdout


def test_layout_is_the_go_helpers(ours, pass_env):
    store(ours, pass_env, "https://index.docker.io/v1/", "alice", "s3cr3t")
    folder = store_root(pass_env) / "docker-credential-helpers" / "aHR0cHM6Ly9pbmRleC5kb2NrZXIuaW8vdjEv"
    assert sorted(p.name for p in folder.iterdir()) == ["alice.gpg"]
    assert decrypt(pass_env, folder / "alice.gpg") == b"s3cr3t"


def test_folder_names_are_padded_urlsafe_base64():
    assert folder_name("registry.example.com:5000") == "cmVnaXN0cnkuZXhhbXBsZS5jb206NTAwMA=="
    assert folder_name("https://a.example/?x=~~~") == base64.urlsafe_b64encode(b"https://a.example/?x=~~~").decode()
    assert server_of("cmVnaXN0cnkuZXhhbXBsZS5jb206NTAwMA==") == "registry.example.com:5000"
    for bad in ("cmVnaXN0cnkuZXhhbXBsZS5jb206NTAwMA", "not_base64!", "a+b/", "====", "é==="):
        assert server_of(bad) is None


def test_restore_replaces_the_username(ours, pass_env):
    store(ours, pass_env, "h.example", "zed", "one")
    store(ours, pass_env, "h.example", "alice", "two")
    assert sorted(p.name for p in entry_dir(pass_env, "h.example").iterdir()) == ["alice.gpg"]
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"alice","Secret":"two"}\n'
    )
    store(ours, pass_env, "h.example", "zed", "three")
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"zed","Secret":"three"}\n'
    )


def test_stale_go_usernames_read_like_go_then_cleaned(ours, go_pass, pass_env):
    # Go keeps every username it ever stored and returns the byte-wise first.
    store(go_pass, pass_env, "h.example", "zed", "z")
    store(go_pass, pass_env, "h.example", "alice", "a")
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == run_helper(go_pass, "get", "h.example", pass_env).stdout
    )
    store(ours, pass_env, "h.example", "bob", "b")
    assert sorted(p.name for p in entry_dir(pass_env, "h.example").iterdir()) == ["bob.gpg"]


def test_list_skips_what_go_chokes_on(ours, pass_env):
    store(ours, pass_env, "good.example", "u", "s")
    base = store_root(pass_env) / "docker-credential-helpers"
    (base / "not_base64!").mkdir()
    (base / "not_base64!" / "x.gpg").write_bytes(b"")
    unpadded = folder_name("unpadded.ex").rstrip("=")
    (base / unpadded).mkdir()
    (base / unpadded / "x.gpg").write_bytes(b"")
    (base / folder_name("empty.example")).mkdir()
    (base / folder_name("nogpg.example")).mkdir()
    (base / folder_name("nogpg.example") / "readme.txt").write_text("x")
    (base / "docker-pass-initialized-check.gpg").write_bytes(b"")  # helpers #102 workaround
    result = run_helper(ours, "list", b"", pass_env)
    assert (result.returncode, result.stdout) == (0, b'{"good.example":"u"}\n')
    assert run_helper(ours, "get", "empty.example", pass_env).stdout == NOT_FOUND


def test_get_ignores_subfolders_and_other_files(ours, pass_env):
    store(ours, pass_env, "h.example", "zed", "pw")
    folder = entry_dir(pass_env, "h.example")
    (folder / "aaa").mkdir()  # what Go makes of a username "aaa/x"
    (folder / "aaa" / "x.gpg").write_bytes(b"")
    (folder / ".gpg-id").write_text("x\n")
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"zed","Secret":"pw"}\n'
    )


def test_username_with_slash_is_refused(ours, pass_env):
    for user, message in [
        ("org/user", b"pass cannot store a username containing '/': it would become a sub-folder\n"),
        ("..", b"pass cannot store the username '..': it is not a valid file name\n"),
    ]:
        result = run_helper(ours, "store", f'{{"ServerURL":"h","Username":"{user}","Secret":"s"}}', pass_env)
        assert (result.returncode, result.stdout) == (1, message)
    assert not (store_root(pass_env) / "docker-credential-helpers").exists()


def test_overlong_server_url(ours, pass_env):
    url = "h" * 190
    result = run_helper(ours, "store", f'{{"ServerURL":"{url}","Username":"u","Secret":"s"}}', pass_env)
    assert (result.returncode, result.stdout) == (1, b"pass cannot store a server URL longer than 189 bytes\n")
    assert run_helper(ours, "get", url, pass_env).stdout == NOT_FOUND
    store(ours, pass_env, "h" * 189, "u", "s")


def test_path_like_server_urls_stay_inside_the_store(ours, pass_env):
    for url in ("../../etc/passwd", "/etc/passwd", "a/../../b"):
        store(ours, pass_env, url, "u", "s")
        assert run_helper(ours, "get", url, pass_env).stdout.startswith(b'{"ServerURL":')
    inside = {p.parent.name for p in store_root(pass_env).rglob("*.gpg")}
    assert inside == {folder_name(url) for url in ("../../etc/passwd", "/etc/passwd", "a/../../b")}


def test_erase(ours, go_pass, pass_env):
    store(ours, pass_env, "h.example", "u", "s")
    result = run_helper(ours, "erase", "h.example", pass_env)
    assert (result.returncode, result.stdout) == (0, b"")
    assert list(entry_dir(pass_env, "h.example").glob("*.gpg")) == []  # (Go's pass made the folder)
    assert run_helper(ours, "get", "h.example", pass_env).stdout == NOT_FOUND
    # Erasing what is not there succeeds (Go's pass helper prints pass's error, exit 1; credctl
    # answers as Go's secretservice helper: containers/image's logout crashes otherwise).
    result = run_helper(ours, "erase", "h.example", pass_env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_uninitialised_store(ours, tmp_path, gnupg_home):
    env = world.helper_env(gnupg_home[0], tmp_path / "nothing")
    result = run_helper(ours, "store", '{"ServerURL":"h","Username":"u","Secret":"s"}', env)
    expected = f"the password store {tmp_path / 'nothing'} is not initialised: run `credctl pass init`\n"
    assert (result.returncode, result.stdout) == (1, expected.encode())
    assert run_helper(ours, "get", "h", env).stdout == NOT_FOUND
    assert run_helper(ours, "list", b"", env).stdout == b"{}\n"


def test_missing_programs(ours, pass_env, tmp_path):
    store(ours, pass_env, "h", "u", "s")
    env = {**pass_env, "PATH": str(tmp_path / "empty-bin")}
    result = run_helper(ours, "get", "h", env)
    assert (result.returncode, result.stdout) == (
        1,
        b"gpg is not installed: install gnupg, then run `credctl pass init`\n",
    )
    result = run_helper(ours, "store", '{"ServerURL":"h","Username":"u","Secret":"s"}', env)
    expected = b"pass is not installed: install it (apt-get install pass), then run `credctl pass init`\n"
    assert (result.returncode, result.stdout) == (1, expected)
    assert run_helper(ours, "list", b"", env).stdout == b'{"h":"u"}\n'  # list needs neither


def test_no_secret_key_here(ours, pass_env, gnupg_home, tmp_path):
    need("gpg")
    store(ours, pass_env, "h", "u", "s")
    public_only = world.make_gnupg_home()
    try:
        exported = subprocess.run(["gpg", "--export", gnupg_home[1]], env=pass_env, capture_output=True, check=True)
        imported_env = {**pass_env, "GNUPGHOME": str(public_only)}
        subprocess.run(
            ["gpg", "--batch", "--import"], input=exported.stdout, env=imported_env, check=True, capture_output=True
        )
        result = run_helper(ours, "get", "h", imported_env)
        expected = (
            b"gpg has no secret key to decrypt the credentials for h: import the key named in .gpg-id, "
            b"or run `credctl pass init`\n"
        )
        assert (result.returncode, result.stdout, result.stderr) == (1, expected, b"")
    finally:
        world.stop_agent(public_only)
        shutil.rmtree(public_only, ignore_errors=True)


def test_passphrase_that_cannot_be_asked(ours, tmp_path):
    need("gpg", "pass", "gpgconf")
    home = world.make_gnupg_home()
    try:
        env = world.helper_env(home, tmp_path / "store")
        subprocess.run(
            [
                "gpg",
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase-fd",
                "0",
                "--quick-gen-key",
                "locked <locked@example.invalid>",
                "future-default",
                "default",
                "never",
            ],
            input=b"hunter2",
            env=env,
            check=True,
            capture_output=True,
        )
        world.init_pass(env, world.fingerprint(home, "locked@example.invalid"))
        store(ours, env, "h", "u", "the-secret")
        world.stop_agent(home)  # forget any cached passphrase
        result = subprocess.run(
            [ours, "get"],
            input=b"h",
            env={**env, "DISPLAY": ""},
            capture_output=True,
            start_new_session=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stdout.startswith(b"gpg needs the key's passphrase for the credentials for h and cannot ask")
        assert b"the-secret" not in result.stdout + result.stderr
    finally:
        world.stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)


def test_store_keeps_file_modes_private(ours, pass_env):
    os.umask(0o022)
    store(ours, pass_env, "h.example", "u", "s")
    path = entry_dir(pass_env, "h.example") / "u.gpg"
    assert path.stat().st_mode & 0o077 == 0  # pass runs under umask 077


def rewrite_cache(path: Path, written_ns: int | None = None, tamper: tuple[str, str] | None = None) -> None:
    header, *entries = path.read_text().splitlines()
    magic, root, written, folders_stamp = header.split("\t")
    lines = [f"{magic}\t{root}\t{written if written_ns is None else written_ns}\t{folders_stamp}"]
    for line in entries:
        folder, stamp, user, server = line.split("\t")
        if tamper and folder == folder_name(tamper[0]):
            user = tamper[1]
        lines.append(f"{folder}\t{stamp}\t{user}\t{server}")
    path.write_text("\n".join(lines) + "\n")


def test_list_cache_is_used_only_while_folders_are_unchanged(ours, pass_env):
    store(ours, pass_env, "a.example", "alice", "s")
    store(ours, pass_env, "b.example", "bob", "s")
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"alice","b.example":"bob"}\n'
    (cache,) = (Path(pass_env["XDG_CACHE_HOME"]) / "credctl").glob("pass-list-*")
    assert (cache.stat().st_mode & 0o777, cache.parent.stat().st_mode & 0o777) == (0o600, 0o700)

    # Fresh ("racy") entries are re-read even when the cache disagrees.
    rewrite_cache(cache, tamper=("a.example", "cached"))
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"alice","b.example":"bob"}\n'

    # Once the entries are older than the cache, an unchanged folder is served from it...
    rewrite_cache(cache, written_ns=time.time_ns() + 10**10, tamper=("a.example", "cached"))
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"cached","b.example":"bob"}\n'
    # ...and any change to the folder (here a new username) moves its ctime and invalidates it.
    store(ours, pass_env, "a.example", "aaron", "s")
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"aaron","b.example":"bob"}\n'
    (entry_dir(pass_env, "b.example") / "bob.gpg").rename(entry_dir(pass_env, "b.example") / "zoe.gpg")
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"aaron","b.example":"zoe"}\n'


def test_list_cache_reads_the_folder_list_again_when_servers_come_and_go(ours, pass_env):
    store(ours, pass_env, "a.example", "alice", "s")
    store(ours, pass_env, "b.example", "bob", "s")
    run_helper(ours, "list", b"", pass_env)
    (cache,) = (Path(pass_env["XDG_CACHE_HOME"]) / "credctl").glob("pass-list-*")
    rewrite_cache(cache, written_ns=time.time_ns() + 10**10, tamper=("a.example", "cached"))
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"cached","b.example":"bob"}\n'

    # A new server folder moves docker-credential-helpers' own ctime: the list is read again.
    (entry_dir(pass_env, "b.example").parent / folder_name("c.example")).mkdir()
    (entry_dir(pass_env, "c.example") / "carol.gpg").touch()
    assert run_helper(ours, "list", b"", pass_env).stdout == (
        b'{"a.example":"cached","b.example":"bob","c.example":"carol"}\n'
    )
    # (That list wrote the cache anew, at this time: every folder is "racy" again, read afresh.)
    shutil.rmtree(entry_dir(pass_env, "b.example"))
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"alice","c.example":"carol"}\n'
    # A username no cache line can hold is read from its folder every time, and still listed.
    rewrite_cache(cache, written_ns=time.time_ns() + 10**10)
    (entry_dir(pass_env, "c.example") / "carol.gpg").rename(entry_dir(pass_env, "c.example") / "car\tol.gpg")
    rewrite_cache(cache, written_ns=time.time_ns() + 10**10)
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"alice","c.example":"car\\tol"}\n'
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{"a.example":"alice","c.example":"car\\tol"}\n'


def test_list_works_without_a_writable_cache(ours, pass_env):
    store(ours, pass_env, "a.example", "alice", "s")
    env = {**pass_env, "XDG_CACHE_HOME": "/dev/null/cannot-exist"}
    result = run_helper(ours, "list", b"", env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b'{"a.example":"alice"}\n', b"")


# --- store without pass's script, and with it where pass does more -------------------------------


def git(env, *args: str) -> str:
    result = subprocess.run(["git", "-C", env["PASSWORD_STORE_DIR"], *args], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_store_in_git_is_written_through_pass_and_committed(ours, go_pass, pass_env):
    """pass commits every change of a store that is a git work tree; so does credctl's store there."""
    env = {**pass_env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    assert subprocess.run(["pass", "git", "init"], env=env, capture_output=True).returncode == 0
    before = int(git(env, "rev-list", "--count", "HEAD"))
    store(ours, env, "a.example", "alice", "s1")
    store(ours, env, "a.example", "aaron", "s2")
    assert git(env, "status", "--porcelain") == ""
    assert int(git(env, "rev-list", "--count", "HEAD")) > before
    tracked = git(env, "ls-files").split()
    assert f"docker-credential-helpers/{folder_name('a.example')}/aaron.gpg" in tracked
    assert f"docker-credential-helpers/{folder_name('a.example')}/alice.gpg" not in tracked
    assert run_helper(go_pass, "get", b"a.example", env).stdout == (
        b'{"ServerURL":"a.example","Username":"aaron","Secret":"s2"}\n'
    )


def test_password_store_umask_gives_the_modes_pass_gives(ours, go_pass, pass_env):
    env = {**pass_env, "PASSWORD_STORE_UMASK": "027"}
    store(ours, env, "ours.example", "u", "s")
    store(go_pass, env, "go.example", "u", "s")
    for url in ("ours.example", "go.example"):
        folder = entry_dir(env, url)
        assert (folder.stat().st_mode & 0o777, (folder / "u.gpg").stat().st_mode & 0o777) == (0o750, 0o640), url


@pytest.mark.parametrize("gpg_id", ["{fpr}\n", "# the team's key\n  {fpr}  # ops\n\n"], ids=["plain", "comments"])
def test_gpg_id_is_read_as_pass_reads_it(ours, go_pass, pass_env, gnupg_home, gpg_id):
    (store_root(pass_env) / ".gpg-id").write_text(gpg_id.format(fpr=gnupg_home[1]))
    store(ours, pass_env, "h.example", "u", "s3cret")
    assert decrypt(pass_env, entry_dir(pass_env, "h.example") / "u.gpg") == b"s3cret"
    assert run_helper(go_pass, "get", b"h.example", pass_env).stdout == (
        b'{"ServerURL":"h.example","Username":"u","Secret":"s3cret"}\n'
    )


def test_a_gpg_id_pass_cannot_read_fails_as_pass_fails(ours, go_pass, pass_env, gnupg_home):
    """bash's `read` drops a last line without its newline: pass finds no key in such a .gpg-id,
    and gpg, given none, cannot ask for one. That file goes through pass: the same refusal."""
    (store_root(pass_env) / ".gpg-id").write_text(gnupg_home[1])
    for program in (ours, go_pass):
        body = b'{"ServerURL":"h.example","Username":"u","Secret":"s"}'
        assert run_helper(program, "store", body, pass_env).returncode == 1
    assert run_helper(ours, "store", b'{"ServerURL":"h.example","Username":"u","Secret":"s"}', pass_env).stdout == (
        b"pass insert failed: gpg failed on the credentials: Password encryption aborted.\n"
    )
    assert list(entry_dir(pass_env, "h.example").glob("*.gpg")) == []  # (Go's pass made the folder)
