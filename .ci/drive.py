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

Standard library only (with tests/terminal.py, the tests' own terminal driver): the host's
python3 runs it, outside the root being tested.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from terminal import StillRunning, Terminal, screen  # tests/terminal.py: stdlib only

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


def answer_for(prompt: str) -> str | None:
    return next((answer for text, answer in ANSWERS if text in prompt), None)


class Failed(Exception):
    """The run cannot go on as a person's would; the message says why."""


class Person:
    """Reads the terminal as it fills and types the answer to each new prompt."""

    def __init__(self) -> None:
        self.answered_upto = 0  # index into the screen up to which prompts have been answered
        self.times_asked: dict[str, int] = {}
        self.waiting_since: float | None = None  # when an unanswerable prompt appeared

    def __call__(self, shown: bytes) -> bytes:
        text = screen(shown)
        prompt = text[self.answered_upto :].rsplit("\n", 1)[-1]
        if not prompt.endswith(": "):
            self.waiting_since = None
            return b""
        answer = answer_for(prompt)
        if answer is None:
            self.waiting_since = self.waiting_since or time.monotonic()
            if time.monotonic() - self.waiting_since > UNANSWERED_GRACE:
                raise Failed(f"no answer in .ci/drive.py's ANSWERS for the prompt {prompt.strip()!r}")
            return b""
        self.times_asked[prompt] = self.times_asked.get(prompt, 0) + 1
        if self.times_asked[prompt] > MAX_SAME_PROMPT:
            raise Failed(f"asked {prompt.strip()!r} more than {MAX_SAME_PROMPT} times")
        self.answered_upto, self.waiting_since = len(text), None
        return answer.encode() + b"\r"


def drive(argv: list[str], timeout: float) -> int:
    with Terminal(argv, rows=ROWS, columns=COLUMNS) as terminal:
        try:
            return terminal.run(Person(), timeout, echo=sys.stdout.buffer)
        except (Failed, StillRunning) as failure:
            transcript = screen(terminal.shown)
            print(f"\n\ndrive.py: {failure}; the terminal showed:\n{transcript}\n-- end of transcript", flush=True)
            return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before giving up (default 1200)")
    parser.add_argument("command", nargs="+", help="the command and its arguments (after --)")
    args = parser.parse_args()
    return drive(args.command, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
