"""`credctl pass unlock`: the pass key's passphrase asked once, on a real terminal, through a real
gpg-agent (GnuPG 2.2) and its pinentry, then docker-credential-pass decrypting with no prompt.

The pinentries are programs written here that speak the pinentry protocol (Assuan: `OK` to each
command, `D <passphrase>` to GETPIN): one that answers, one that answers wrongly, one that
cancels, one that never answers; gpg-agent runs them as it runs pinentry-curses, from
gpg-agent.conf's pinentry-program. Each writes a line to a log file when asked, so a test can
tell that no one was asked.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import world

from credctl.protocol import encode_credentials

PASSPHRASE = "unlock me once"
SERVER = "registry.example.com"
UID = "Unlock Test <unlock@example.invalid>"

PINENTRY = """#!{python}
import json, sys, time
print("OK Pleased to meet you", flush=True)
for line in sys.stdin:
    command = line.split(" ", 1)[0].strip()
    if command == "GETPIN":
        with open({log!r}, "a") as log:
            log.write("asked\\n")
        with open({behaviour!r}) as file:
            behaviour, answer = json.load(file)
        if behaviour == "silent":
            time.sleep(3600)
        if behaviour == "cancel":
            print("ERR 83886179 Operation cancelled <Pinentry>", flush=True)
            continue
        print("D " + answer, flush=True)
    elif command == "BYE":
        print("OK", flush=True)
        break
    print("OK", flush=True)
"""


def set_pinentry(home: Path, log: Path, behaviour: str = "answer", answer: str = PASSPHRASE, preset: bool = False):
    """The pinentry's behaviour from now on (answer, cancel, silent): read by it each time it asks,
    so switching reloads nothing (a reload would flush the agent's cache). The first call writes
    gpg-agent.conf (allow-preset-passphrase when preset) and reloads the agent."""
    (home / "pinentry.json").write_text(json.dumps([behaviour, answer]))
    program = home / "pinentry"
    if program.exists():
        return
    program.write_text(
        PINENTRY.format(python=shutil.which("python3"), log=str(log), behaviour=str(home / "pinentry.json"))
    )
    program.chmod(0o700)
    lines = [f"pinentry-program {program}"] + (["allow-preset-passphrase"] if preset else [])
    (home / "gpg-agent.conf").write_text("\n".join(lines) + "\n")
    subprocess.run(["gpgconf", "--reload", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)


@pytest.fixture
def locked(tmp_path):
    """(env, home, log): a pass store for a key with a passphrase, one login in it, nothing cached."""
    world.need("gpg", "gpgconf", "pass", "gpg-connect-agent")
    home = world.make_gnupg_home()
    log = tmp_path / "pinentry.log"
    fpr = world.protected_key(home, UID, PASSPHRASE)
    env = world.cli_env(tmp_path, world.helper_env(home, tmp_path / "store"))
    for name in ("GPG_TTY", "GPG_AGENT_INFO"):
        env.pop(name, None)
    world.init_pass(env, fpr)
    stored = world.run_helper(world.ours(), "store", encode_credentials(SERVER, "user", "secret-1"), env)
    assert stored.returncode == 0
    world.stop_agent(home)
    yield env, home, log
    for grip in keygrips(home):  # credctl's forget_at processes for this key, if any still sleep
        subprocess.run(["pkill", "-f", f"_forget_later.* {grip}"], check=False)
    world.stop_agent(home)
    shutil.rmtree(home, ignore_errors=True)


def keygrips(home: Path) -> list[str]:
    listed = world.gpg(home, "--with-colons", "--with-keygrip", "--list-secret-keys")
    return [line.split(":")[9] for line in listed.splitlines() if line.startswith("grp:")]


def asked(log: Path) -> int:
    return log.read_text().count("asked") if log.exists() else 0


def pull(env) -> tuple[int, bytes]:
    """docker-credential-pass get, as docker runs it for a pull: no terminal."""
    result = world.run_helper(world.ours(), "get", SERVER, {k: v for k, v in env.items() if k != "GPG_TTY"})
    return result.returncode, result.stdout


def verify_row(env) -> dict:
    world.write_docker_config({**env, "DOCKER_CONFIG": str(Path(env["HOME"]) / ".docker")}, {"credsStore": "pass"})
    result = world.credctl(env, "verify", "--json")
    (row,) = [row for row in json.loads(result.stdout) if row["check"] == "pass key"]
    return row


@pytest.mark.parametrize("preset", [True, False], ids=["allow-preset-passphrase", "agent-cache"])
def test_unlock_asks_once_then_pulls_ask_no_one(locked, preset):
    env, home, log = locked
    set_pinentry(home, log, "cancel", preset=preset)  # verify's round trip asks, and is refused
    row = verify_row(env)
    assert (row["status"], row["detail"]) == (
        "ok",
        "locked: the next docker pull asks for the passphrase; `credctl pass unlock` asks once",
    )
    log.unlink()
    set_pinentry(home, log, "answer")
    status, shown = world.on_terminal(env, ["pass", "unlock", "--for", "5m"], [])
    assert status == 0, shown
    assert asked(log) == 1
    assert shown.startswith("✓ the pass store's key is unlocked until ")
    assert shown.rstrip().endswith("(5 min)")
    assert PASSPHRASE not in shown
    set_pinentry(home, log, "cancel")  # a prompt now would fail the pull
    assert pull(env) == (0, encode_credentials(SERVER, "user", "secret-1"))
    assert asked(log) == 1
    row = verify_row(env)
    assert row["status"] == "ok"
    assert row["detail"].startswith("unlocked now, until ") and row["detail"].endswith(" (credctl pass unlock)")


def test_a_wrong_passphrase_leaves_nothing_cached(locked):
    env, home, log = locked
    set_pinentry(home, log, "answer", answer="not the passphrase", preset=True)
    status, shown = world.on_terminal(env, ["pass", "unlock"], [])
    assert status == 1
    assert shown.strip() == "error: that passphrase does not unlock the pass store's key: nothing cached"
    assert verify_row(env)["detail"].startswith("locked: ")


def test_a_cancelled_pinentry_is_one_line(locked):
    env, home, log = locked
    set_pinentry(home, log, "cancel", preset=True)
    status, shown = world.on_terminal(env, ["pass", "unlock"], [])
    assert status == 1
    assert shown.strip() == "error: gpg-agent did not get the passphrase: Operation cancelled <Pinentry>"


def test_a_pinentry_nobody_answers_ends_at_the_timeout(locked):
    env, home, log = locked
    set_pinentry(home, log, "silent", preset=True)
    status, shown = world.on_terminal(env, ["pass", "unlock", "--timeout", "3"], [])
    assert status == 1
    assert shown.strip() == "error: no passphrase was given within 3 s: nothing cached"
    assert asked(log) == 1


def test_without_preset_longer_than_the_agents_idle_time_says_so(locked):
    env, home, log = locked
    set_pinentry(home, log, "answer")
    status, shown = world.on_terminal(env, ["pass", "unlock", "--for", "8h"], [])
    assert status == 0, shown
    lines = shown.strip().splitlines()
    assert lines[0].startswith("✓ the pass store's key is unlocked, until ") and lines[0].endswith(" at most (2 h)")
    assert " ".join(lines[1:]) == (
        "warning: gpg-agent keeps it 600 s after each use (default-cache-ttl) and 7200 s at most (max-cache-ttl); "
        f"for --for to hold whatever the use, add allow-preset-passphrase to {home}/gpg-agent.conf and run "
        "`gpgconf --reload gpg-agent`"
    )


def test_the_end_of_for_locks_it_again(locked):
    env, home, log = locked
    set_pinentry(home, log, "answer", preset=True)
    status, shown = world.on_terminal(env, ["pass", "unlock", "--for", "2s"], [])
    assert status == 0, shown
    set_pinentry(home, log, "cancel")  # nothing below may cache it again
    deadline = time.monotonic() + 30
    while not verify_row(env)["detail"].startswith("locked: "):
        assert time.monotonic() < deadline, "still unlocked long after --for ended"
        time.sleep(0.5)


def test_headless_it_says_how_in_one_line(locked):
    env, home, log = locked
    set_pinentry(home, log, "answer", preset=True)
    result = world.credctl(env, "pass", "unlock")
    assert (result.returncode, result.stdout) == (1, "")
    grip = result.stderr.split("--preset ")[1].split()[0]
    assert result.stderr == (
        "error: no terminal to ask for the passphrase on: run `credctl pass unlock` in one, or preset it: "
        f"/usr/lib/gnupg/gpg-preset-passphrase --preset {grip} with the passphrase on its stdin\n"
    )
    assert asked(log) == 0
    preset = subprocess.run(
        ["/usr/lib/gnupg/gpg-preset-passphrase", "--preset", grip], input=PASSPHRASE, text=True, env=env, check=False
    )
    assert preset.returncode == 0
    assert pull(env) == (0, encode_credentials(SERVER, "user", "secret-1"))
    (home / "gpg-agent.conf").write_text(f"pinentry-program {home / 'pinentry'}\n")
    world.stop_agent(home)
    result = world.credctl(env, "pass", "unlock")
    assert result.stderr == (
        "error: no terminal to ask for the passphrase on: run `credctl pass unlock` in one; to preset it without "
        f"one, add allow-preset-passphrase to {home}/gpg-agent.conf, run `gpgconf --reload gpg-agent`, then "
        f"/usr/lib/gnupg/gpg-preset-passphrase --preset {grip} with the passphrase on its stdin\n"
    )


def test_a_key_without_a_passphrase_needs_no_unlocking(pass_env, tmp_path):
    env = world.cli_env(tmp_path, pass_env)
    result = world.credctl(env, "pass", "unlock")
    assert (result.returncode, result.stdout) == (0, "the pass store's key has no passphrase: it needs no unlocking\n")
    assert verify_row(env)["detail"] == "no passphrase: needs no unlocking"
