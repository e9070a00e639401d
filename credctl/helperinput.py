"""What a helper makes of its stdin, as Go's docker-credential-helpers read it.

Nothing but sys (credctl.errors only for input too long): docker-credential-pass `get` (and
the router's) reads its server URL with this before anything else loads (read_early), and
credctl.protocol and the kubelet plugin read every input with it (read_input).
"""

import sys

MAX_INPUT = 1 << 20  # 1 MiB: far above any real token; Go reads without limit

# strings.TrimSpace in Go trims exactly unicode.IsSpace, which differs from str.strip().
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def join_lines(data: bytes) -> bytes:
    """What Go's bufio.Scanner loop makes of stdin: lines concatenated, \\n and one \\r dropped."""
    if b"\r" not in data:
        return data.replace(b"\n", b"")
    return b"".join(line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n"))


def server_url_in(data: bytes) -> str:
    """The server URL of a get or erase input, as Go reads it ('' for none)."""
    return join_lines(data).decode("utf-8", "surrogateescape").strip(GO_SPACE)


def read_early() -> tuple[bytes | None, str]:
    """A get's stdin read before the helper has loaded: (what was read, for the protocol to
    answer from, and the server URL in it, '' where there is none to act on). (None, '') when
    stdin was not read: none, or a terminal, where the protocol first says how to end the input."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return None, ""
    data = stdin.buffer.read(MAX_INPUT + 1)
    return data, server_url_in(data) if len(data) <= MAX_INPUT else ""


def read_input(stdin) -> bytes:
    """What a helper reads of stdin: all of it, up to MAX_INPUT (BadInput beyond: never without bound)."""
    data = stdin.read(MAX_INPUT + 1) if stdin is not None else b""
    if len(data) > MAX_INPUT:
        from credctl.errors import BadInput

        raise BadInput(f"input on stdin is larger than {MAX_INPUT // 1024} KiB")
    return data
