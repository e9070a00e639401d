"""The terminal credctl runs on, lent to the helpers it runs so that gpg can ask there.

gpg-agent asks for a key's passphrase with pinentry on the terminal GPG_TTY names. A helper that
credctl runs has pipes for stdin, so its gpg cannot find the terminal by itself: child_environ
names it. And while such a helper runs, nothing of credctl's may draw on that terminal (a spinner
redrawn a dozen times a second would cover pinentry's prompt): lent_to_child pauses whatever
registered itself with drawing() (output.busy does).

Admin path only (credctl.client); the docker-credential-* programs never import this.
"""

from __future__ import annotations

import contextlib
import os

TYPE_CHECKING = False  # typing and collections cost `credctl list` a start
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Protocol

    class Drawing(Protocol):
        """Something that draws on the terminal until stopped (rich's Status)."""

        def start(self) -> None: ...

        def stop(self) -> None: ...


_drawing: list[Drawing] = []  # what draws on the terminal now, innermost last


def child_environ(env: Mapping[str, str]) -> dict[str, str]:
    """env for a program credctl runs: GPG_TTY set to credctl's terminal when it is unset and
    stdin is a terminal (as `export GPG_TTY=$(tty)` would), so pinentry can ask there."""
    environ = dict(env)
    if "GPG_TTY" not in environ:
        terminal = _stdin_terminal()
        if terminal is not None:
            environ["GPG_TTY"] = terminal
    return environ


def _stdin_terminal() -> str | None:
    try:
        return os.ttyname(0) if os.isatty(0) else None
    except OSError:  # stdin closed, or a terminal without a name
        return None


@contextlib.contextmanager
def lent_to_child() -> Iterator[None]:
    """While a program that may ask on the terminal runs: nothing of ours draws there."""
    paused = list(_drawing)
    for drawing in reversed(paused):
        drawing.stop()
    try:
        yield
    finally:
        for drawing in paused:
            drawing.start()


@contextlib.contextmanager
def drawing(what: Drawing) -> Iterator[None]:
    """Register what draws on the terminal (already started), so lent_to_child can pause it."""
    _drawing.append(what)
    try:
        yield
    finally:
        _drawing.remove(what)
