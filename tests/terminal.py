"""A program on a pseudo-terminal of its own, driven as a person at a keyboard would.

Used by the tests that need a real terminal (prompts, pinentry, Ctrl-C) and by .ci/drive.py,
which answers the README's install command in CI. Standard library only: .ci/drive.py runs it
with the host's python3, outside any venv.

The terminal is the program's controlling terminal, of a fixed size and type whatever terminal
(or none) runs the tests, so what it shows does not depend on the caller's settings.
"""

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from typing import BinaryIO

TERMINAL = "xterm-256color"  # the TERM a terminal emulator sets
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")

# Called with everything shown so far, after each read and every POLL seconds of quiet; returns
# the bytes to type then (b"" for nothing).
Reaction = Callable[[bytes], bytes]
POLL = 0.1
READING = 0.3  # seconds a person takes to read a prompt before typing


class StillRunning(Exception):
    """The program had not finished when the time given to it ran out."""


def screen(raw: bytes) -> str:
    """What a person reads: the bytes decoded, escape sequences removed, lines ending in \\n."""
    return ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n").replace("\r", "")


def _take_terminal() -> None:  # in the child, after setsid(): fd 0 becomes its controlling terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """argv in a new session on a fresh rows x columns pseudo-terminal of TERM=TERMINAL."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, rows: int = 50, columns: int = 200) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environ = {**(os.environ if env is None else env), "TERM": TERMINAL}
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environ,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.master = master
        self.shown = b""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def _read(self, echo: BinaryIO | None = None) -> bool:
        """Take what the program has shown within POLL seconds; False once it has closed the
        terminal (or exited with nothing more to show)."""
        if select.select([self.master], [], [], POLL)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every process holding the terminal has closed it
                chunk = b""
            if not chunk:
                return False
            self.shown += chunk
            if echo is not None:
                echo.write(chunk)
                echo.flush()
            return True
        return self.process.poll() is None

    def read_until_prompt(self, text: str, timeout: float) -> None:
        """Read until the last line shown is a prompt containing text (ending in ": "), then wait a
        moment, as a person reads it before typing. A key typed the instant the prompt is written
        can arrive before the program reads (input() writes, then reads): a signal from it
        (Ctrl-C) then waits for the next key in CPython, as it does in every Python program."""
        deadline = time.monotonic() + timeout
        while not self._prompt_shown(text):
            if time.monotonic() > deadline or not self._read():
                raise StillRunning(f"did not ask {text!r} within {timeout:.0f}s")
        time.sleep(READING)

    def _prompt_shown(self, text: str) -> bool:
        last_line = screen(self.shown).rsplit("\n", 1)[-1]
        return text in last_line and last_line.endswith(": ")

    def run(self, react: Reaction, timeout: float, echo: BinaryIO | None = None) -> int:
        """Show the program's output to react (and copy it to echo) until the program closes the
        terminal and exits; returns its exit status. Raises StillRunning after timeout seconds."""
        deadline = time.monotonic() + timeout
        while self._read(echo):
            if time.monotonic() > deadline:
                raise StillRunning(f"still running after {timeout:.0f}s")
            keys = react(self.shown)
            if keys:
                self.type(keys)
        try:
            return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise StillRunning(f"closed its terminal but still running after {timeout:.0f}s") from None

    def finish(self, timeout: float) -> int:
        """Read to the end, typing nothing more, and close; the exit status."""
        try:
            return self.run(lambda shown: b"", timeout)
        finally:
            self.close()

    def close(self) -> None:
        """End the program's whole session if it still runs, and the terminal."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
