"""credctl draws its tables itself (credctl.cli.output, the standard library only): each must be
the table rich draws for the same cells and column widths, character for character. rich is the
reference here, as it drew credctl's tables before; the layout (which width each column gets,
where a cell wraps) is credctl's own, and the same for both.
"""

import io

import pytest
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from credctl.cli import output

REGISTRIES = [
    [f"https://registry-{i:04d}.example.com/v2/", "credsStore", "pass", f"user{i:04d}", "/h/.docker/config.json", ""]
    for i in range(3)
]
MIXED = [
    ["ghcr.io", "credHelpers", "secretservice", "octocat", "/home/a/.docker/config.json", ""],
    ["docker.io", "plaintext", "", "me", "/home/a/.config/containers/auth.json", "plaintext in the file: run migrate"],
    ["レジストリ.example", "credsStore", "pass", "ユーザー", "/tmp/x", "two\nparagraphs, the second long enough"],
    ["", "", "", "", "", ""],
]
COLUMNS = ("registry", "via", "helper", "user", "file", "note")


class _RichCell:
    """An output._Cell as rich measured and drew it: the same breaks, rich's own box around them."""

    def __init__(self, cell: output._Cell) -> None:
        self.cell = cell

    def __rich_measure__(self, console, options):
        return Measurement(self.cell.narrowest, self.cell.widest).with_maximum(options.max_width)

    def __rich_console__(self, console, options):
        yield Text("\n".join(self.cell.lines(options.max_width)), no_wrap=True, overflow="fold", end="")


def rich_drawn(title: str, rows: list[list[str]], width: int) -> str:
    cells = [[output._Cell(text) for text in row] for row in rows]
    widths = output._column_widths([output._Cell(name) for name in COLUMNS], cells, width)
    assert widths is not None  # a table at this width, not records
    shown = io.StringIO()
    console = Console(file=shown, width=width, highlight=False, soft_wrap=True, color_system=None)
    table = Table(title=title, title_justify="left")
    for column, size in zip(COLUMNS, widths, strict=True):
        table.add_column(column, width=size)
    for row in cells:
        table.add_row(*(_RichCell(cell) for cell in row))
    console.print(table)
    return shown.getvalue()


@pytest.mark.parametrize("width", [200, 150, 120, 100, 90])
@pytest.mark.parametrize("rows", [REGISTRIES, MIXED], ids=["registries", "mixed"])
def test_a_table_is_the_one_rich_draws(monkeypatch, capsys, rows, width):
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    output.show_table("Registry credentials", COLUMNS, rows, ["yellow", None, None, None])
    assert capsys.readouterr().out == rich_drawn("Registry credentials", rows, width)


def test_too_narrow_for_the_paths_shows_records(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    output.show_table("Registry credentials", COLUMNS, MIXED[:2])
    assert capsys.readouterr().out == (
        "Registry credentials\n"
        "registry  ghcr.io\n"
        "via       credHelpers\n"
        "helper    secretservice\n"
        "user      octocat\n"
        "file      /home/a/.docker/config.json\n"
        "note      \n"
        "\n"
        "registry  docker.io\n"
        "via       plaintext\n"
        "helper    \n"
        "user      me\n"
        "file      /home/a/.config/containers/\n"
        "          auth.json\n"
        "note      plaintext in the file: run\n"
        "          migrate\n"
    )


def test_on_a_terminal_the_title_header_and_rows_are_styled(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    output.show_table("Logins", ("registry", "via"), [["docker.io", "plaintext"], ["ghcr.io", "pass"]], ["yellow"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "\x1b[3mLogins\x1b[0m"
    assert lines[2] == "┃ \x1b[1mregistry\x1b[0m  ┃ \x1b[1mvia\x1b[0m       ┃"
    assert lines[4] == "│ \x1b[33mdocker.io\x1b[0m │ \x1b[33mplaintext\x1b[0m │"
    assert lines[5] == "│ ghcr.io   │ pass      │"


def test_no_color_wins_and_control_characters_are_dropped(monkeypatch, capsys):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    output.warn("bell\x07 and carriage\r return")
    output.error("plain")
    assert capsys.readouterr().err == "warning: bell and carriage return\nerror: plain\n"


def test_an_output_that_is_not_utf8_gets_ascii_boxes(monkeypatch):
    """A latin-1 terminal (LANG=de_DE.ISO-8859-1): rich's ASCII box, and '?' for what latin-1
    lacks, where printing the Unicode box would end in a UnicodeEncodeError."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    rows = [["docker.io", "plaintext", "", "me", "/tmp/x", ""], ["ghcr.io", "pass", "", "ユーザー", "/tmp/y", "é"]]
    shown = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    monkeypatch.setattr("sys.stdout", shown)
    output.show_table("Logins", COLUMNS, rows)
    output.success("stored ✓")
    shown.flush()
    text = shown.buffer.getvalue().decode("latin-1")
    reference = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    console = Console(file=reference, width=200, highlight=False, soft_wrap=True, color_system=None)
    table = Table(title="Logins", title_justify="left")
    for column in COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_RichCell(output._Cell(text.replace("ユーザー", "????"))) for text in row))  # rich fails on it
    console.print(table)
    reference.flush()
    assert text == reference.buffer.getvalue().decode("latin-1") + "? stored ?\n"
    assert text.splitlines()[1].startswith("+-")
