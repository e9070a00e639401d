"""JSON on hot paths without `import json`: Go's string escaping (the docker helpers' output),
json.loads and a compact json.dumps (the kubelet plugin).

`import json` costs about 7 ms per process, nearly all of it `re` and `enum`, which only the
json module's pure-Python parts need. Well-formed documents are decoded by CPython's C scanner
(`_json`, the one json itself uses); anything else goes to json.loads, so results and error
messages are exactly json's. Encoding covers what credctl writes on hot paths (objects, arrays,
strings, numbers, booleans, null), with Go's escaping: the output is what a Go program writes.
Standard library only, and nothing imported at module level: the helpers' hot path imports this.
"""

from __future__ import annotations

JSON_SPACE = " \t\n\r"
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Context:
    """The attributes _json's scanner reads, with json.loads' defaults."""

    strict = True
    object_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__

    def __init__(self, object_pairs_hook) -> None:
        self.object_pairs_hook = object_pairs_hook


def _go_escapes() -> dict[int, str]:
    """Go's encoding/json string escapes (Go >= 1.22, as the v0.9 helpers are built)."""
    table = {code: f"\\u{code:04x}" for code in range(0x20)}
    table.update({0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})
    table.update({ord('"'): '\\"', ord("\\"): "\\\\"})
    # HTML-safe escaping is on by default in Go, and so are U+2028/U+2029.
    table.update({ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"})
    table.update({0x2028: "\\u2028", 0x2029: "\\u2029"})
    # Lone surrogates stand for invalid UTF-8 bytes (surrogateescape); Go writes U+FFFD.
    table.update({code: "\\ufffd" for code in range(0xD800, 0xE000)})
    return table


_ESCAPES = _go_escapes()
_HTML_AND_QUOTES = frozenset('"\\<>&')


def json_string(text: str) -> str:
    """text as a JSON string literal, escaped exactly as Go's encoding/json writes it."""
    if text.isascii() and text.isprintable() and _HTML_AND_QUOTES.isdisjoint(text):
        return '"' + text + '"'  # the common case, several times faster than translate
    return '"' + text.translate(_ESCAPES) + '"'


def loads(text: str, object_pairs_hook=None) -> object:
    """json.loads(text, object_pairs_hook=...): the same value, or the same JSONDecodeError."""
    try:
        from _json import make_scanner
    except ImportError:
        make_scanner = None
    if make_scanner is not None:
        start = len(text) - len(text.lstrip(JSON_SPACE))
        try:
            value, end = make_scanner(_Context(object_pairs_hook))(text, start)
            if not text[end:].strip(JSON_SPACE):
                return value
        except Exception:
            # StopIteration, or a decode error (a SystemError on 3.11, whose scanner reports
            # errors only once json.decoder is imported): json.loads says what is wrong.
            pass
    import json

    return json.loads(text, object_pairs_hook=object_pairs_hook)


def dumps(value: object) -> str:
    """Compact JSON (no spaces), keys in the dict's order."""
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json_string(key)}:{dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON here")
