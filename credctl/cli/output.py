"""How the CLI talks to people: rich when on a terminal, plain text otherwise or with NO_COLOR.

rich is imported on the first message, not at start-up: `credctl --help` and the commands
that print little should not pay for it (docs/benchmarks.md).
"""

import contextlib
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from credctl import terminal
from credctl.errors import CredctlError

_consoles: dict[bool, object] = {}


def _console(stderr: bool = False):
    if stderr not in _consoles:
        from rich.console import Console

        # soft_wrap: a message stays one line however narrow the terminal (80 columns off one).
        _consoles[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True)
    return _consoles[stderr]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def interactive() -> bool:
    """Prompts only when a person can answer them."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def success(message: str) -> None:
    _console().print(f"[green]✓[/green] {_escape(message)}")


def info(message: str) -> None:
    _console().print(_escape(message))


def plain(text: str) -> None:
    """Text shown as it is (diffs, previews): no markup, no highlighting."""
    _console().print(text, markup=False, highlight=False)


def note(message: str) -> None:
    """A line for people on stderr, for a command whose stdout is data (`credctl export`)."""
    _console(stderr=True).print(_escape(message))


def warn(message: str) -> None:
    _console(stderr=True).print(f"[yellow]warning:[/yellow] {_escape(message)}")


def error(message: str) -> None:
    """The one line naming what went wrong and what to do next (cli.run prints every error so)."""
    _console(stderr=True).print(f"[red]error:[/red] {_escape(message)}")


def fail(message: str) -> NoReturn:
    """Stop the command with message as its one line and exit status 1 (a command line that
    cannot work raises errors.UsageError instead).

    It raises errors.CredctlError: cli.run prints it once every `with` block has been left.
    """
    raise CredctlError(message)


def show_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], styles: Sequence[str | None] = ()
) -> None:
    """A table for people; styles (one per row, optional) colour whole rows.

    On a terminal too narrow for the table without cutting a path inside a name, each row is
    shown as a record instead: one "column  value" line per cell (_show_records).
    """
    from rich.table import Table

    console = _console()
    cells = [[_Cell(text) for text in row] for row in rows]
    widths = _column_widths([_Cell(name) for name in columns], cells, console.width)
    if widths is None:
        _show_records(title, columns, cells, styles)
        return
    table = Table(title=title, title_justify="left")
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column, width=width)
    for index, row in enumerate(cells):
        table.add_row(*row, style=styles[index] if index < len(styles) else None)
    console.print(table)


def _show_records(title: str, columns: Sequence[str], rows: "list[list[_Cell]]", styles: Sequence[str | None]) -> None:
    """Each row as lines "column  value", values wrapped (at spaces and after '/') and indented
    under the first; a blank line between rows."""
    from rich.text import Text

    console = _console()
    label = max(len(column) for column in columns) + 2
    console.print(Text(title, style="italic"))
    for index, row in enumerate(rows):
        lines = []
        for column, cell in zip(columns, row, strict=True):
            values = [line for pieces in cell.paragraphs for line in _fill(pieces, max(console.width - label, 8))]
            lines += [f"{column:<{label}}{values[0]}", *(" " * label + value for value in values[1:])]
        style = styles[index] if index < len(styles) else None
        console.print(Text("\n".join(lines), style=style or ""), soft_wrap=True)
        if index < len(rows) - 1:
            console.print()


# A cell's break opportunities: after a run of spaces, and after a run of '/' (a path breaks
# between its parts). Each piece is the text up to and including one of them.
_PIECE = re.compile(r"[^\s/]*(?:/+|\s+|$)")


class _Cell:
    """Table cell text that wraps at spaces and after '/', never inside a word or a file name.

    rich's own wrapping breaks only at spaces and folds a longer word (a path) anywhere; a
    piece wider than its whole column is still folded, as the last resort.
    """

    def __init__(self, text: str) -> None:
        from rich.cells import cell_len

        self.paragraphs = [[piece for piece in _PIECE.findall(line) if piece] for line in text.split("\n")]
        self.narrowest = max((cell_len(piece.rstrip()) for line in self.paragraphs for piece in line), default=0)
        self.widest = max(cell_len("".join(line).rstrip()) for line in self.paragraphs)
        # The widest part of a path (or URL) in it: what must fit for no file name to be cut.
        self.narrowest_path = max(
            (cell_len(piece) for word in text.split() if "/" in word for piece in _PIECE.findall(word)), default=0
        )

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(self.narrowest, self.widest).with_maximum(options.max_width)

    def __rich_console__(self, console, options):
        from rich.text import Text

        lines = [line for pieces in self.paragraphs for line in _fill(pieces, options.max_width)]
        yield Text("\n".join(lines), no_wrap=True, overflow="fold", end="")


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
    from rich.cells import cell_len, chop_cells

    lines, line = [], ""
    for piece in pieces:
        if line and cell_len((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        word = piece.rstrip()
        if not line and cell_len(word) > width:
            *whole, last = chop_cells(word, width) if width > 0 else [word]
            lines += whole
            line = last + piece[len(word) :]
        else:
            line += piece
    return [*lines, line.rstrip()]


class busy:  # lower case: it reads as a function, `with busy("Checking…"):`
    """A spinner on a terminal while slow work runs; nothing otherwise.

    It pauses while credctl runs a helper (credctl.terminal.lent_to_child, in credctl.client):
    gpg may be asking for a passphrase on this terminal then, and a spinner would draw over it.
    """

    def __init__(self, message: str, show: bool = True) -> None:
        self.message, self.show = message, show
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "busy":
        console = _console()
        if self.show and console.is_terminal:
            status = self._stack.enter_context(console.status(self.message))
            self._stack.enter_context(terminal.drawing(status))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def print_json(data: object) -> None:
    """Machine-readable output for --json: plain, stable, never coloured."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
