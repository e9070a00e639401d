"""A gpg key with a passphrase, from a terminal: credctl's helpers let pinentry ask there.

Real gpg, gpg-agent with pinentry-tty (the pinentry that asks on the terminal GPG_TTY names),
pass, the installed credctl on a pseudo-terminal and nothing cached: the passphrase is typed when
pinentry asks. credctl's helpers have pipes for stdin, so only the GPG_TTY credctl gives them
lets gpg find the terminal; and the spinner credctl shows must not draw over the prompt.
"""

import base64
import json
import re
import shutil
import time
from pathlib import Path

import pytest
import world
from terminal import StillRunning, Terminal, screen
from world import need, protected_key

from credctl.stores.passstore import FOLDER

PINENTRY_TTY = "/usr/bin/pinentry-tty"
PASSPHRASE = "open sesame 42"
PROMPT = "Passphrase: "
TIMEOUT = 60  # seconds; a guard against hangs, not an expectation
QUIET_WINDOW = 1.5  # seconds the prompt stays unanswered: a running spinner would redraw ~18 times
SPINNER = re.compile("[\u2800-\u28ff]")  # rich's "dots" spinner frames are braille cells


@pytest.fixture
def protected_store(tmp_path: Path):
    """(env, store): a pass store for a key with a passphrase, gpg-agent asking with pinentry-tty,
    its cache empty; the environment a person's terminal session gives credctl (no GPG_TTY)."""
    need("gpg", "gpgconf", "pass", PINENTRY_TTY)
    home = world.make_gnupg_home()
    (home / "gpg-agent.conf").write_text(f"pinentry-program {PINENTRY_TTY}\n")
    fpr = protected_key(home, "Pass Phrase <phrase@example.invalid>", PASSPHRASE)
    store = tmp_path / "store"
    env = world.helper_env(home, store)
    world.init_pass(env, fpr)
    world.stop_agent(home)  # nothing cached: the next decryption asks
    docker = tmp_path / "docker"
    docker.mkdir()
    for name in ("GPG_TTY", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env.update(
        DOCKER_CONFIG=str(docker),
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PATH=f"{world.BIN}:/usr/bin:/bin",
        TERM="xterm",  # a terminal that shows a spinner, whatever the caller's TERM
        NO_COLOR="1",
        COLUMNS="200",
    )
    yield env, store
    world.stop_agent(home)
    shutil.rmtree(home, ignore_errors=True)


def answer_pinentry(env: dict[str, str], args: list[str]) -> tuple[int, str, str]:
    """Run credctl on a pseudo-terminal; when pinentry asks, wait QUIET_WINDOW, then type the
    passphrase. Returns (exit status, all the terminal showed, what it showed between the prompt
    and the answer), escape sequences removed."""
    prompted_at: int | None = None
    asked_at, while_asking = 0.0, None

    def answer(shown: bytes) -> bytes:
        nonlocal prompted_at, asked_at, while_asking
        if prompted_at is None and PROMPT in screen(shown):
            prompted_at, asked_at = len(shown), time.monotonic()
        elif while_asking is None and prompted_at is not None and time.monotonic() - asked_at > QUIET_WINDOW:
            while_asking = screen(shown[prompted_at:])
            return PASSPHRASE.encode() + b"\n"
        return b""

    with Terminal([str(world.BIN / "credctl"), *args], env) as terminal:
        try:
            status = terminal.run(answer, TIMEOUT)
        except StillRunning as err:
            pytest.fail(f"credctl {err} on a terminal; it showed:\n{screen(terminal.shown)}")
        shown = screen(terminal.shown)
    assert while_asking is not None, f"pinentry never asked on the terminal; it showed:\n{shown}"
    return status, shown, while_asking


def test_verify_round_trip_asks_for_the_passphrase_on_the_terminal(protected_store):
    env, _store = protected_store
    Path(env["DOCKER_CONFIG"], "config.json").write_text(json.dumps({"credsStore": "pass"}))

    status, shown, while_asking = answer_pinentry(env, ["verify"])

    assert status == 0, shown
    assert "Please enter the passphrase to unlock the OpenPGP secret key" in shown
    assert re.search(r"│ round trip +│ docker-credential-pass +│ ok +│ stored, read back and erased", shown), shown
    assert re.search(r"│ pass key +│ [0-9A-F]+ +│ ok +│ locked: the next docker pull asks", shown), shown
    assert shown.rstrip().endswith("6 ok, 0 warnings, 0 failed")
    assert SPINNER.search(shown[: shown.index(PROMPT)])  # the spinner ran before the helper did...
    assert not SPINNER.search(while_asking), repr(while_asking)  # ...and not while pinentry asked
    assert PASSPHRASE not in shown


def test_migrate_asks_for_the_passphrase_on_the_terminal(protected_store):
    env, store = protected_store
    config = Path(env["DOCKER_CONFIG"], "config.json")
    auth = base64.b64encode(b"alice:alice-s3cret").decode()
    config.write_text(json.dumps({"credsStore": "pass", "auths": {"registry.example": {"auth": auth}}}))

    status, shown, while_asking = answer_pinentry(env, ["migrate", "--yes"])

    assert status == 0, shown
    assert "✓ moved 1 credential(s) out of" in shown
    assert json.loads(config.read_text()) == {"credsStore": "pass", "auths": {"registry.example": {}}}
    assert not SPINNER.search(while_asking), repr(while_asking)
    assert PASSPHRASE not in shown and "alice-s3cret" not in shown
    # What was stored is what Docker's helper now reads (the agent has the passphrase cached).
    got = world.run_helper(world.ours(), "get", "registry.example", env)
    assert json.loads(got.stdout) == {"ServerURL": "registry.example", "Username": "alice", "Secret": "alice-s3cret"}
    assert (store / FOLDER).is_dir()
