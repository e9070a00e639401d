"""How the CLI talks to people: styled on a terminal, plain text otherwise or with NO_COLOR.

The standard library only: `credctl list` and every message print without loading rich (~50 ms
a start, docs/benchmarks.md); rich draws only busy's spinner, on a terminal. Text is shown as
given, less the control characters that would move the cursor (BEL, BS, VT, FF, CR).
"""

from __future__ import annotations

import os
import sys

from credctl import terminal
from credctl.errors import CredctlError

TYPE_CHECKING = False  # typing and collections cost a start of `credctl list`
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn, TextIO

_SGR = {"bold": "1", "italic": "3", "red": "31", "green": "32", "yellow": "33"}
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))  # removed from what is shown


def _styled(stream: TextIO) -> bool:
    """Whether stream takes colours: NO_COLOR unset, and a terminal or FORCE_COLOR (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or _terminal(stream)


def _terminal(stream: TextIO) -> bool:
    """Whether stream is a terminal that can draw (not TERM=dumb)."""
    if os.environ.get("TERM") in ("dumb", "unknown"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or replaced by something without a terminal
        return False


def _paint(text: str, style: str | None, styled: bool) -> str:
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if style and styled and text else text


def _say(stream: TextIO, text: str, prefix: str = "", prefix_style: str | None = None) -> None:
    """One message: prefix (styled), then text, then a newline; never wrapped."""
    _write(stream, _paint(prefix, prefix_style, _styled(stream)) + _clean(text) + "\n")


def _clean(text: str) -> str:
    return text.translate(_CONTROL).expandtabs(8)


def width() -> int:
    """The width to lay a table out in: COLUMNS, else the terminal on stdin, stdout or stderr
    (`credctl list | less` is laid out for the terminal), else 80."""
    found = 0
    for descriptor in (0, 1, 2):
        try:
            found = os.get_terminal_size(descriptor).columns
            break
        except (AttributeError, ValueError, OSError):
            continue
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        found = int(columns)
    return found or 80


def interactive() -> bool:
    """Prompts only when a person can answer them."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def success(message: str) -> None:
    _say(sys.stdout, message, prefix="✓ ", prefix_style="green")


def info(message: str) -> None:
    _say(sys.stdout, message)


def plain(text: str) -> None:
    """Text shown as it is (diffs, previews)."""
    _say(sys.stdout, text)


def note(message: str) -> None:
    """A line for people on stderr, for a command whose stdout is data (`credctl export`)."""
    _say(sys.stderr, message)


def warn(message: str) -> None:
    _say(sys.stderr, message, prefix="warning: ", prefix_style="yellow")


def error(message: str) -> None:
    """The one line naming what went wrong and what to do next (report prints every error so)."""
    _say(sys.stderr, message, prefix="error: ", prefix_style="red")


def report(err: CredctlError | OSError) -> int:
    """A failure credctl expects, as its one line on stderr; returns the exit status.

    `error: ...` with errors.exit_status's status for a CredctlError or a file the system would
    not let credctl read or write (nothing was changed then: writes are atomic); a usage error
    raised outside a command in click's shape, with no usage line to show.
    """
    from credctl.errors import UsageError, exit_status, one_line

    if isinstance(err, UsageError):
        from typer._click.exceptions import UsageError as ClickUsageError

        ClickUsageError(str(err)).show()
    else:
        error(one_line(err, advice=True))
    return exit_status(err)


def fail(message: str) -> NoReturn:
    """Stop the command with message as its one line and exit status 1 (a command line that
    cannot work raises errors.UsageError instead).

    It raises errors.CredctlError: cli.run prints it once every `with` block has been left.
    """
    raise CredctlError(message)


def show_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], styles: Sequence[str | None] = ()
) -> None:
    """A table for people, boxed as rich draws one; styles (one per row, optional) colour whole rows.

    On a terminal too narrow for the table without cutting a path inside a name, each row is
    shown as a record instead: one "column  value" line per cell (_show_records).
    """
    headers = [_Cell(name) for name in columns]
    cells = [[_Cell(_encodable(text, sys.stdout)) for text in row] for row in rows]
    widths = _column_widths(headers, cells, width())
    if widths is None:
        _show_records(title, columns, cells, styles)
        return
    widths = [
        fixed if fixed is not None else max(cell.widest for cell in (headers[index], *(row[index] for row in cells)))
        for index, fixed in enumerate(widths)
    ]
    styled = _styled(sys.stdout)
    top, head, below_head, body, bottom = _BOXES[_utf8(sys.stdout)]
    lines = [_paint(_clean(title), "italic", styled), _rule(top, widths)]
    lines += _table_row(headers, widths, head, "bold", styled)
    lines.append(_rule(below_head, widths))
    for index, row in enumerate(cells):
        lines += _table_row(row, widths, body, styles[index] if index < len(styles) else None, styled)
    lines.append(_rule(bottom, widths))
    _write(sys.stdout, "\n".join(lines) + "\n")


# rich's HEAVY_HEAD box, and its ASCII box where the output cannot take it:
# (top, header side, under the header, body side, bottom); a rule is left, fill, joint, right.
_BOXES = {
    True: ("┏━┳┓", "┃", "┡━╇┩", "│", "└─┴┘"),
    False: ("+--+", "|", "|-+|", "|", "+--+"),
}


def _rule(parts: str, widths: list[int]) -> str:
    left, fill, joint, right = parts
    return left + joint.join(fill * (size + 2) for size in widths) + right


def _utf8(stream: TextIO) -> bool:
    return (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _write(stream: TextIO, text: str) -> None:
    stream.write(_encodable(text, stream))
    stream.flush()


def _encodable(text: str, stream: TextIO) -> str:
    """text with each character stream's encoding lacks as '?' (a latin-1 terminal still gets
    every line, where rich ended in a UnicodeEncodeError)."""
    if _utf8(stream):
        return text
    encoding = getattr(stream, "encoding", None) or "ascii"
    return text.encode(encoding, "replace").decode(encoding)


def _table_row(row: list[_Cell], widths: list[int], rule: str, style: str | None, styled: bool) -> list[str]:
    """The lines of one row: each cell filled to its column's width, the shorter ones padded."""
    filled = [cell.lines(size) for cell, size in zip(row, widths, strict=True)]
    height = max(len(lines) for lines in filled)
    shown = []
    for number in range(height):
        pieces = []
        for lines, size in zip(filled, widths, strict=True):
            text = lines[number] if number < len(lines) else ""
            pieces.append(" " + _paint(text, style, styled) + " " * (size - cell_len(text) + 1))
        shown.append(rule + rule.join(pieces) + rule)
    return shown


def _show_records(title: str, columns: Sequence[str], rows: list[list[_Cell]], styles: Sequence[str | None]) -> None:
    """Each row as lines "column  value", values wrapped (at spaces and after '/') and indented
    under the first; a blank line between rows."""
    styled = _styled(sys.stdout)
    room = width()
    label = max(len(column) for column in columns) + 2
    shown = [_paint(_clean(title), "italic", styled)]
    for index, row in enumerate(rows):
        lines = []
        for column, cell in zip(columns, row, strict=True):
            values = cell.lines(max(room - label, 8))
            lines += [f"{column:<{label}}{values[0]}", *(" " * label + value for value in values[1:])]
        style = styles[index] if index < len(styles) else None
        shown += [_paint(line, style, styled) for line in lines]
        if index < len(rows) - 1:
            shown.append("")
    _write(sys.stdout, "\n".join(shown) + "\n")


def _pieces(line: str) -> list[str]:
    """line cut at its break opportunities: after a run of spaces, and after a run of '/' (a path
    breaks between its parts); each piece is the text up to and including one of them."""
    pieces, start, index = [], 0, 0
    while index < len(line):
        char = line[index]
        if char.isspace() or char == "/":
            while index < len(line) and (line[index] == "/" if char == "/" else line[index].isspace()):
                index += 1
            pieces.append(line[start:index])
            start = index
        else:
            index += 1
    if start < len(line):
        pieces.append(line[start:])
    return pieces


def cell_len(text: str) -> int:
    """The terminal columns text takes: wide East Asian characters two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text
    )


class _Cell:
    """Table cell text that wraps at spaces and after '/', never inside a word or a file name;
    a piece wider than its whole column is still folded, as the last resort."""

    def __init__(self, text: str) -> None:
        text = _clean(text)
        self.paragraphs = [_pieces(line) for line in text.split("\n")]
        self.narrowest = max((cell_len(piece.rstrip()) for line in self.paragraphs for piece in line), default=0)
        self.widest = max(cell_len("".join(line).rstrip()) for line in self.paragraphs)
        # The widest part of a path (or URL) in it: what must fit for no file name to be cut.
        self.narrowest_path = max(
            (cell_len(piece) for word in text.split() if "/" in word for piece in _pieces(word)), default=0
        )

    def lines(self, width: int) -> list[str]:
        return [line for pieces in self.paragraphs for line in _fill(pieces, width)]


def _column_widths(headers: list[_Cell], rows: list[list[_Cell]], width: int) -> list[int | None] | None:
    """Column widths for a table wider than the terminal, as rich's own shrinking (which ignores
    what a column needs at least) would cut file names anywhere.

    First choice: no column narrower than its widest piece (a word, a part of a path). When
    those do not fit: only the parts of paths and the header's words kept whole, other words
    folded. The room left goes first to making words whole, then to making lines long
    (_share_out). [None, ...]: the table fits as it is. None: the parts of paths and the
    headers do not fit side by side (narrower columns would be unreadable).
    """
    room = width - 3 * len(headers) - 1  # a border left of each column and at the end, padding 1 + 1
    columns = [[header, *(row[index] for row in rows)] for index, header in enumerate(headers)]
    highs = [max(cell.widest for cell in column) for column in columns]
    if sum(highs) <= room:
        return [None] * len(columns)
    whole_words = [max(cell.narrowest for cell in column) for column in columns]
    for lows in (
        whole_words,
        [max(column[0].narrowest, *(cell.narrowest_path for cell in column)) for column in columns],
    ):
        if sum(lows) <= room:
            widths = _share_out(lows, [max(low, word) for low, word in zip(lows, whole_words, strict=True)], room)
            return list(_share_out(widths, highs, room))
    return None


def _share_out(widths: list[int], targets: list[int], room: int) -> list[int]:
    """widths raised toward targets within room, fairly: a column that wants less than an equal
    share of what is left gets all it wants (short columns stay whole), the rest split the rest."""
    widths = list(widths)
    spare = room - sum(widths)
    order = sorted(range(len(widths)), key=lambda i: targets[i] - widths[i])
    for done, index in enumerate(order):
        extra = max(0, min(targets[index] - widths[index], spare // (len(order) - done)))
        widths[index] += extra
        spare -= extra
    return widths


def _fill(pieces: list[str], width: int) -> list[str]:
    """Pieces packed greedily into lines of at most width cells; a wider piece is folded."""
    lines, line = [], ""
    for piece in pieces:
        if line and cell_len((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        word = piece.rstrip()
        if not line and cell_len(word) > width:
            *whole, last = _chop(word, width) if width > 0 else [word]
            lines += whole
            line = last + piece[len(word) :]
        else:
            line += piece
    return [*lines, line.rstrip()]


def _chop(word: str, width: int) -> list[str]:
    """word cut into runs of at most width cells."""
    runs, run = [], ""
    for char in word:
        if run and cell_len(run + char) > width:
            runs.append(run)
            run = ""
        run += char
    return [*runs, run]


class busy:  # lower case: it reads as a function, `with busy("Checking…"):`
    """A spinner on a terminal while slow work runs; nothing otherwise.

    It pauses while credctl runs a helper (credctl.terminal.lent_to_child, in credctl.client):
    gpg may be asking for a passphrase on this terminal then, and a spinner would draw over it.
    """

    def __init__(self, message: str, show: bool = True) -> None:
        import contextlib

        self.message, self.show = message, show
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> busy:
        if self.show and _terminal(sys.stdout):
            from rich.console import Console

            status = self._stack.enter_context(Console(highlight=False).status(self.message))
            self._stack.enter_context(terminal.drawing(status))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def print_json(data: object) -> None:
    """Machine-readable output for --json: plain, stable, never coloured."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()  # a reader that has gone is a BrokenPipeError here, where the command ends it
