"""credctl.gojson's loads: json.loads' values without importing json, and JSONError (a ValueError)
for every document json reads badly or credctl refuses (NaN, Infinity, lone surrogates).

Checked against json itself in a fresh interpreter (where json.decoder is not imported yet, the
case the kubelet plugin is in) and in-process over generated documents and arbitrary text.
"""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credctl.gojson import JSONError, encode, parse

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)
)
_documents = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)


def outcome(function, *args, **kwargs):
    try:
        return ("value", repr(function(*args, **kwargs)))  # repr: NaN equals NaN
    except ValueError as err:
        return ("error", type(err).__name__, str(err))


@settings(max_examples=400, deadline=None)
@given(document=_documents, spaces=st.sampled_from(["", " ", "\n\t ", "\r\n"]))
def test_documents_decode_as_json_decodes_them(document, spaces):
    text = spaces + json.dumps(document) + spaces
    assert outcome(parse, text) == outcome(json.loads, text)
    assert outcome(parse, text, object_pairs_hook=list) == outcome(json.loads, text, object_pairs_hook=list)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=30), st.sampled_from(['{"a":1} x', "[1,]", "\ufeff{}", '"\\ud800"', "01"])))
def test_anything_else_decodes_as_json_does_or_is_refused(text):
    ours, theirs = outcome(parse, text), outcome(json.loads, text)
    if ours[0] == "value":
        assert ours == theirs
    else:
        assert ours[1] == "JSONError"
        assert theirs[0] == "error" or "\\ud" in text.lower() or any(c in text for c in ("NaN", "Infinity"))


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_constants_are_refused(text):
    with pytest.raises(JSONError, match="is not a JSON value"):
        parse(text)


def test_errors_in_a_fresh_interpreter_are_jsons_own():
    """Before anything imported json.decoder, the C scanner cannot raise its error (3.11)."""
    program = (
        "import sys\n"
        "from credctl.gojson import parse\n"
        "assert 'json.decoder' not in sys.modules\n"
        "assert parse(' {\"a\": [1, 2.5, null]} ') == {'a': [1, 2.5, None]}\n"
        "assert 'json.decoder' not in sys.modules\n"
        "try:\n"
        "    parse('{not json')\n"
        "except ValueError as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, encoding="utf-8", check=True)
    assert result.stdout == "JSONError Expecting property name enclosed in double quotes at line 1 column 2\n"


_no_floats = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(document=_no_floats)
def test_encode_round_trips_compactly(document):
    text = encode(document)
    assert json.loads(text) == document
    assert len(text) <= len(json.dumps(document, separators=(",", ":"), ensure_ascii=False)) + 5 * text.count("\\u")


def test_encode_escapes_as_go_does():
    assert (
        encode({"a<b>&c": ["\u2028", "\n", None, True, 7]})
        == '{"a\\u003cb\\u003e\\u0026c":["\\u2028","\\n",null,true,7]}'
    )
