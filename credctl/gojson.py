"""JSON as Go's encoding/json reads and writes it, without `import json` on hot paths.

- Encoding: Go's string escaping (json_string, the docker helpers' output) and a compact dumps
  (the kubelet plugin). It covers what credctl writes on hot paths (objects, arrays, strings,
  numbers, booleans, null); the output is what a Go program writes.
- Decoding: loads, json.loads' values and errors through CPython's C scanner (`_json`, the one
  json itself uses), since `import json` costs about 7 ms per process, nearly all of it `re` and
  `enum`; and Go's decoding into a struct of string fields (first_json_value, string_fields),
  as the helpers' `store` and credctl.client read JSON.

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


class JSONObject(list):
    """A JSON object kept as its (key, value) pairs, so duplicate keys resolve as in Go."""


def first_json_value(text: str) -> object:
    """The first JSON value in text, read as Go's json.Decoder reads it: anything after it is
    ignored, NaN and Infinity are refused. Raises ValueError with a reason that never quotes text.
    """
    import json  # not needed on get/list

    start = len(text) - len(text.lstrip(JSON_SPACE))
    if start == len(text):
        raise ValueError("no JSON value")

    def refuse(constant: str) -> object:
        raise ValueError(f"not valid JSON: {constant} is not a JSON value")

    try:
        value, _ = json.JSONDecoder(object_pairs_hook=JSONObject, parse_constant=refuse).raw_decode(text, start)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON: {err.msg} (character {err.pos})") from None
    return value


def string_fields(value: object, names: tuple[str, ...]) -> dict[str, str]:
    """Go's decoding of a JSON value into a struct of string fields (the present ones).

    Keys match the field names case-insensitively, unknown keys are ignored, null leaves a
    field as it was, and invalid Unicode becomes U+FFFD. Raises ValueError with the reason.
    """
    if value is None:
        return {}
    if not isinstance(value, JSONObject):
        raise ValueError(f"expected a JSON object, not {json_type(value)}")
    canonical = {name.casefold(): name for name in names}
    fields = {}
    for key, item in value:
        name = canonical.get(key.casefold())
        if name is None or item is None:
            continue
        if not isinstance(item, str):
            raise ValueError(f"{name} must be a string, not {json_type(item)}")
        fields[name] = valid_unicode(item)
    return fields


def json_type(value: object) -> str:
    """The JSON type of a decoded value, as an error message names it: "a number", "an object"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, JSONObject):
        return "an object"
    return "an array" if isinstance(value, list) else "a string"


def valid_unicode(text: str) -> str:
    """Replace lone surrogates (from \\ud800-style escapes) with U+FFFD, as Go does."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
