"""A TAB that completes a command or an option name, answered without the Typer app.

Every TAB runs `credctl` afresh, and building the app costs ~150 ms. When the words before the
cursor are command names only and the word at the cursor is a plain name or the start of an
option, Typer's answer depends on nothing but the app's structure: credctl/completiontable.py
holds it (generated from the app by scripts/gen_docs.py), and this module reads the same
environment Typer's shell classes read and prints what they print. Anything else (an option's
value, an argument, quotes or escapes, an unknown word) gets None here, and the app answers.
"""

from __future__ import annotations

from credctl.completiontable import NODES

TYPE_CHECKING = False  # collections is too slow to import for a TAB
if TYPE_CHECKING:
    from collections.abc import Mapping

PROGRAM = "credctl"  # Typer's variable is _CREDCTL_COMPLETE only for this program name
INSTRUCTIONS = {"complete_bash": "bash", "complete_zsh": "zsh", "complete_fish": "fish"}
LINE = {"bash": 0, "zsh": 1, "fish": 2}  # which of an offer's lines each shell prints
# Where no character is one of these, click's shlex split is a split at shlex's whitespace.
_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
_WHITESPACE = " \t\r\n"
_PLAIN = _NAME | frozenset(_WHITESPACE) | frozenset("/:@+,=")


def answer(environ: Mapping[bytes, bytes]) -> tuple[str, int] | None:
    """(what to print, exit status) for the TAB the environment describes, or None."""
    shell = INSTRUCTIONS.get(_text(environ.get(b"_CREDCTL_COMPLETE")) or "")
    typed = _typed(shell, environ) if shell else None
    if typed is None:
        return None
    args, incomplete = typed
    node = _walk(args)
    if node is None or not _NAME.issuperset(incomplete):
        return None
    _subcommands, takes_arguments, commands, options = node
    if takes_arguments and not incomplete.startswith("-"):
        return None  # the argument's own completion (a file, a registry...) answers
    offered = options if incomplete.startswith("-") else commands
    lines = [item[LINE[shell]] for item in offered if item[0].startswith(incomplete)]
    return _printed(shell, lines, environ)


def _text(value: bytes | None) -> str | None:
    try:
        return None if value is None else value.decode("ascii")
    except UnicodeDecodeError:
        return None


def _words(line: str | None) -> list[str] | None:
    """line split as click's split_arg_string splits it, when it has no quote or escape."""
    if line is None or not _PLAIN.issuperset(line):
        return None
    for space in _WHITESPACE[1:]:
        line = line.replace(space, " ")
    return [word for word in line.split(" ") if word]


def _typed(shell: str, environ: Mapping[bytes, bytes]) -> tuple[list[str], str] | None:
    """(the complete words after the program, the word at the cursor), as Typer's classes read them."""
    if shell == "bash":
        words = _words(_text(environ.get(b"COMP_WORDS")))
        cursor = _text(environ.get(b"COMP_CWORD"))
        if words is None or cursor is None or not cursor.isdigit() or not 1 <= int(cursor) <= len(words):
            return None
        cword = int(cursor)
        return words[1:cword], words[cword] if cword < len(words) else ""
    line = _text(environ.get(b"_TYPER_COMPLETE_ARGS", b""))
    words = _words(line)
    if words is None:
        return None
    args = words[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def _walk(args: list[str]) -> tuple | None:
    """The table's node for `credctl ARGS`, when every word is a subcommand of the one before."""
    path = ""
    for word in args:
        if word not in NODES[path][0]:
            return None
        path = f"{path} {word}" if path else word
    return NODES[path]


def _printed(shell: str, lines: list[str], environ: Mapping[bytes, bytes]) -> tuple[str, int]:
    """What Typer's completion class for shell prints for these lines (click's echo adds the
    newline), and its exit status."""
    if shell == "zsh":
        return ("_arguments '*: :((" + "\n".join(lines) + "))'\n" if lines else "_files\n"), 0
    if shell == "fish":
        action = environ.get(b"_TYPER_COMPLETE_FISH_ACTION")
        if action == b"is-args":
            return "", 0 if lines else 1  # files are offered only where no name is
        if action != b"get-args":
            return "\n", 0
    return "\n".join(lines) + "\n", 0
