#!/usr/bin/env python3
"""Run one command on a pseudo-terminal and answer its prompts as a person would (for .ci/run).

    python3 .ci/drive.py [--timeout SECONDS] -- COMMAND [ARG...]

Everything the command shows is copied to this program's stdout (the CI log) as it comes. A
prompt is the last line shown ending in ": " (click's prompts and getpass print that last,
after turning echo off and flushing the input, so an answer typed on seeing it is never lost).
Each prompt gets the answer of the first entry of ANSWERS whose text it contains. A prompt with
no answer there, the same prompt asked too often, or the command still running after the
timeout: the command is killed, the transcript printed, and the exit status is 1. Otherwise
the exit status is the command's own (a command that asks nothing at all is fine).

Standard library only: the host's python3 runs it, outside the root being tested.
"""

import argparse
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

# (text the prompt contains → what to type, without the Enter). The first match wins; "" takes
# the prompt's default. What `scripts/install.sh --setup` asks today (credctl setup's wizard and
# its `credctl pass init` step, credctl/cli/setup_cmd.py and pass_cmd.py): adjust when they change.
ANSWERS: list[tuple[str, str]] = [
    ("Initialise the password store now?", "y"),
    ("No gpg key here can encrypt. Generate one now?", "y"),
    ("Real name for the new key", "CI"),
    ("Email for the new key", "ci@example.invalid"),
    ("Passphrase for the new key (empty for none)", ""),
    ("Repeat for confirmation", ""),
    ("Store for Docker's credentials", ""),
    ("Map a registry to another helper", ""),
    ("Podman", "y"),
    ("Move plaintext", "y"),
    ("plaintext logins into", "y"),
    ("Move them into", "y"),  # the previous credsStore's logins
]
MAX_SAME_PROMPT = 3  # a prompt asked again more often than this is a loop, not a person's typo
UNANSWERED_GRACE = 15.0  # seconds a prompt without an answer may sit before we give up on it
ROWS, COLUMNS = 50, 120
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")


def plain(raw: bytes) -> str:
    """What a person reads: the bytes decoded, escape sequences and carriage returns removed."""
    return ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r", "")


def answer_for(prompt: str) -> str | None:
    return next((answer for text, answer in ANSWERS if text in prompt), None)


def start(argv: list[str]) -> tuple[subprocess.Popen, int]:
    """argv in a new session whose controlling terminal is a fresh pseudo-terminal; returns
    (process, the terminal's master side)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))

    def take_terminal() -> None:  # runs in the child after setsid(): fd 0 is the terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, preexec_fn=take_terminal
    )
    os.close(slave)
    return process, master


class Failed(Exception):
    """The run cannot go on as a person's would; the message says why."""


def drive(argv: list[str], timeout: float) -> int:
    process, master = start(argv)
    shown = b""
    answered_upto = 0  # index into plain(shown) up to which prompts have been answered
    times_asked: dict[str, int] = {}
    waiting_since: float | None = None  # when an unanswerable prompt appeared
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise Failed(f"still running after {timeout:.0f}s")
            if select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every process holding the terminal has closed it
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
                continue
            if process.poll() is not None:
                break
            text = plain(shown)
            prompt = text[answered_upto:].rsplit("\n", 1)[-1]
            if not prompt.endswith(": "):
                waiting_since = None
                continue
            answer = answer_for(prompt)
            if answer is None:
                waiting_since = waiting_since or time.monotonic()
                if time.monotonic() - waiting_since > UNANSWERED_GRACE:
                    raise Failed(f"no answer in .ci/drive.py's ANSWERS for the prompt {prompt.strip()!r}")
                continue
            times_asked[prompt] = times_asked.get(prompt, 0) + 1
            if times_asked[prompt] > MAX_SAME_PROMPT:
                raise Failed(f"asked {prompt.strip()!r} more than {MAX_SAME_PROMPT} times")
            os.write(master, answer.encode() + b"\r")
            answered_upto = len(text)
            waiting_since = None
        return process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except (Failed, subprocess.TimeoutExpired) as failure:
        stop(process)
        print(f"\n\ndrive.py: {failure}; the terminal showed:\n{plain(shown)}\n-- end of transcript", flush=True)
        return 1
    finally:
        os.close(master)
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """End the command's whole session (it leads its own process group), if still running."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before giving up (default 1200)")
    parser.add_argument("command", nargs="+", help="the command and its arguments (after --)")
    args = parser.parse_args()
    return drive(args.command, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
