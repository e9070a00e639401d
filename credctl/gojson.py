"""JSON as Go's encoding/json reads and writes it, without `import json` on hot paths.

- Decoding: parse, the one rule for every JSON document credctl reads (config files, settings,
  helper input and output, kubelet requests, registry answers, token claims): json.loads' values
  through CPython's C scanner (`_json`, the one json itself uses), since `import json` costs
  about 7 ms per process, nearly all of it `re` and `enum`; JSONError with a reason for anything
  json reads badly. keep_numbers keeps each number's text (Number) for files credctl rewrites.
  Go's decoding into a struct of string fields (first_json_value, string_fields), as the
  helpers' `store` and credctl.client read JSON.
- Encoding: Go's string escaping (json_string, the docker helpers' output) and encode, Go's
  Marshal / MarshalIndent (the kubelet plugin's answer, config files, settings), which writes a
  Number as it was read and can splice in members as the source had them.

Standard library only, and nothing imported at module level: the helpers' hot path imports this.
"""

from __future__ import annotations

JSON_SPACE = " \t\n\r"
_INT_DIGITS = 4300  # Python's int-str conversion limit; longer integers read as Go reads them, as a float


class JSONError(ValueError):
    """Why a document is not JSON credctl can read. The reason never quotes the document."""


class Number:
    """A JSON number kept as its source text (1e400, 1.0, -0, 12345678901234567890123), so that a
    rewritten file holds every number byte for byte as it was. Only values credctl does not
    interpret are read this way (ConfigFile, settings); it is not a str, so type checks hold."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Number) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Number({self.text!r})"


def _refuse_constant(name: str) -> object:
    raise JSONError(f"{name} is not a JSON value")


def _int(text: str) -> int | float:
    return int(text) if len(text) < _INT_DIGITS else float(text)


class _Context:
    """The attributes _json's scanner reads: json.loads' defaults, except that NaN and Infinity
    are refused (they are not JSON, and Go refuses them) and very long integers read as floats."""

    strict = True
    object_hook = None

    def __init__(self, object_pairs_hook, keep_numbers: bool = False) -> None:
        self.object_pairs_hook = object_pairs_hook
        self.parse_float = Number if keep_numbers else float
        self.parse_int = Number if keep_numbers else _int
        self.parse_constant = _refuse_constant


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


_ESCAPES: dict[int, str] = {}  # _go_escapes(), built on the first string that needs it
_HTML_AND_QUOTES = '"\\<>&'


def json_string(text: str) -> str:
    """text as a JSON string literal, escaped exactly as Go's encoding/json writes it."""
    if needs_no_escape(text):
        return '"' + text + '"'  # the common case, several times faster than translate
    if not _ESCAPES:
        _ESCAPES.update(_go_escapes())
    return '"' + text.translate(_ESCAPES) + '"'


def needs_no_escape(text: str) -> bool:
    """Whether Go writes text into a JSON string as it is (printable ASCII, none of "\\<>&)."""
    return text.isascii() and text.isprintable() and not any(c in text for c in _HTML_AND_QUOTES)


def parse(
    data: bytes | str, object_pairs_hook=None, keep_numbers: bool = False, lone_surrogates: bool = False
) -> object:
    """The JSON document in data, or JSONError saying why it is not one credctl can use.

    The one rule for every JSON document credctl reads: bytes must be UTF-8 without a byte order
    mark; NaN and Infinity are refused; nesting too deep for Python is refused; a \\u escape that
    is half a surrogate pair (not text: writing or printing it would fail later) is refused; an
    integer too long for Python's int reads as a float (Go reads every number into a float64).
    keep_numbers: numbers become Number, keeping their text, for files credctl rewrites.
    lone_surrogates: allowed, for a document credctl wrote itself from surrogateescape text.
    Callers say which document it was (errors.CredctlError subclasses); the reason says what is wrong.
    """
    text = _text(data)
    try:
        value = _scan(text, _Context(object_pairs_hook, keep_numbers))
    except RecursionError:
        raise JSONError("it is nested too deeply") from None
    except JSONError:
        raise
    except ValueError as err:  # json.JSONDecodeError
        where = f" at line {err.lineno} column {err.colno}" if hasattr(err, "lineno") else ""
        raise JSONError(f"{getattr(err, 'msg', 'not JSON')}{where}") from None
    if not lone_surrogates and ("\\ud" in text or "\\uD" in text) and _holds_surrogate(value):
        raise JSONError("a \\u escape is half of a surrogate pair, which is not text")
    return value


def _text(data: bytes | str) -> str:
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as err:
            raise JSONError(f"byte {err.start + 1} is not UTF-8 text") from None
    if data.startswith("\ufeff"):
        raise JSONError("it starts with a byte order mark, which JSON does not allow")
    return data


def _scan(text: str, context: _Context) -> object:
    """Decode with CPython's C scanner (`_json`) without importing json; json only to explain an error."""
    try:
        from _json import make_scanner
    except ImportError:
        make_scanner = None
    if make_scanner is not None:
        start = len(text) - len(text.lstrip(JSON_SPACE))
        try:
            value, end = make_scanner(context)(text, start)
            if not text[end:].strip(JSON_SPACE):
                return value
        except (JSONError, RecursionError):
            raise
        except Exception:
            # StopIteration, or a decode error (a SystemError on 3.11, whose scanner reports
            # errors only once json.decoder is imported): json says what is wrong.
            pass
    import json

    decoder = json.JSONDecoder(
        object_pairs_hook=context.object_pairs_hook,
        parse_float=context.parse_float,
        parse_int=context.parse_int,
        parse_constant=context.parse_constant,
    )
    return decoder.decode(text)


def _holds_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return not value.isascii() and any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_holds_surrogate(key) or _holds_surrogate(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_surrogate(item) for item in value)
    return False


def top_level_members(text: str) -> list[tuple[str, int, int]]:
    """(key, start, end) of each member of the JSON object text holds, in document order:
    text[start:end] is the member's value as written. text must be one that parse() accepted."""
    from _json import make_scanner, scanstring

    scan = make_scanner(_Context(None, keep_numbers=True))
    members = []
    index = _skip(text, 0) + 1  # past "{"
    while True:
        index = _skip(text, index)
        if text[index] == "}":
            return members
        key, index = scanstring(text, index + 1, True)
        index = _skip(text, _skip(text, index) + 1)  # past ":"
        _, end = scan(text, index)
        members.append((key, index, end))
        index = _skip(text, end)
        if text[index] == ",":
            index += 1


def _skip(text: str, index: int) -> int:
    while text[index] in JSON_SPACE:
        index += 1
    return index


def identical(a: object, b: object) -> bool:
    """Whether two decoded values would be written as the same JSON (same types, same key order)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[key], b[key]) for key in a)  # type: ignore[index]
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(identical, a, b))  # type: ignore[arg-type]
    return a == b


def encode(value: object, indent: str = "", level: int = 0, raw: dict[str, str] | None = None) -> str:
    """value as Go's encoding/json writes it: Marshal (indent "") or MarshalIndent(value, "", indent).

    Numbers read with keep_numbers come out as written; raw gives, for members of this (top-level)
    object, source text to write instead of encoding the value (members credctl did not change).
    """
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, Number):
        return value.text
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        colon = ": " if indent else ":"
        raw = raw or {}
        items = [
            json_string(key) + colon + (raw[key] if key in raw else encode(item, indent, level + 1))
            for key, item in value.items()
        ]
        return _joined("{", items, "}", indent, level)
    if isinstance(value, list | tuple):
        return _joined("[", [encode(item, indent, level + 1) for item in value], "]", indent, level)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON here")


def _joined(opening: str, items: list[str], closing: str, indent: str, level: int) -> str:
    if not items:
        return opening + closing
    if not indent:
        return opening + ",".join(items) + closing
    inner = "\n" + indent * (level + 1)
    return opening + inner + ("," + inner).join(items) + "\n" + indent * level + closing


class JSONObject(list):
    """A JSON object kept as its (key, value) pairs, so duplicate keys resolve as in Go."""


def first_json_value(text: str) -> object:
    """The first JSON value in text, read as Go's json.Decoder reads it: anything after it is
    ignored, NaN and Infinity are refused. Raises ValueError with a reason that never quotes text.
    """
    start = len(text) - len(text.lstrip(JSON_SPACE))
    if start == len(text):
        raise ValueError("no JSON value")
    try:
        from _json import make_scanner  # without json: `credctl list` reads one answer per helper

        return make_scanner(_Context(JSONObject))(text, start)[0]
    except JSONError as err:
        raise ValueError(f"not valid JSON: {err}") from None
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except Exception:
        pass  # no _json, or not JSON: json's decoder says what is wrong (as _scan)
    import json

    decoder = json.JSONDecoder(object_pairs_hook=JSONObject, parse_int=_int, parse_constant=_refuse_constant)
    try:
        value, _ = decoder.raw_decode(text, start)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON: {err.msg} (character {err.pos})") from None
    except JSONError as err:
        raise ValueError(f"not valid JSON: {err}") from None
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
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
    if isinstance(value, int | float | Number):
        return "a number"
    if isinstance(value, JSONObject):
        return "an object"
    return "an array" if isinstance(value, list) else "a string"


def valid_unicode(text: str) -> str:
    """Replace lone surrogates (from \\ud800-style escapes) with U+FFFD, as Go does."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
