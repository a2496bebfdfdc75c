"""The fast path of `loads_strict` (orjson, and a count of colons against the keys it read) gives
exactly what the strict reader gives: the same values, of the same types, and the same errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyrules import JsonInputError
from policyrules import jsonlines
from policyrules.jsonlines import loads_strict

pytest.importorskip("orjson")

_KEYS = st.sampled_from(["a", "b", "id", "a:b", "键", 'q"', "x\\y"])
_SPACE = st.sampled_from(["", " ", "\n", "\t "])
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1.5", "-0", "0.0", "1e3", "1E400", "-1e-400", "18446744073709551616", "NaN", "Infinity"]),
)
_STRINGS = st.lists(st.sampled_from(["a", ":", '\\"', "\\\\", ",", "{", "]", " ", "中", "\u2028",
                                     "\\n", "\\u00e9", "\\ud800", "\\u003a"]),
                     max_size=6).map(lambda parts: '"' + "".join(parts) + '"')


def _texts() -> st.SearchStrategy[str]:
    scalars = st.one_of(_NUMBERS, _STRINGS, st.sampled_from(["true", "false", "null"]))

    def nest(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pairs = st.lists(st.tuples(_KEYS, _SPACE, _SPACE, inner), max_size=4).map(
            lambda items: "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}{s1}:{s2}{v}"
                                         for k, s1, s2, v in items) + "}")
        arrays = st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
        return st.one_of(pairs, arrays)

    return st.recursive(scalars, nest, max_leaves=10)


def _strict(data: str | bytes) -> Any:
    """The strict reader alone (what `loads_strict` was before the fast path)."""
    fast = jsonlines._fast_loads
    jsonlines._fast_loads = None
    try:
        return loads_strict(data)
    finally:
        jsonlines._fast_loads = fast


def _outcome(read: Any, data: str | bytes) -> tuple[str, Any]:
    try:
        return "value", repr(read(data))  # repr tells 1 from 1.0 and True from 1
    except JsonInputError as error:
        return "error", (error.message, error.line, error.column, error.suggestion)


@settings(max_examples=400, deadline=None)
@given(_texts(), st.booleans(), st.sampled_from(["", "x", "}", ","]))
def test_the_fast_path_reads_as_the_strict_reader(text: str, as_bytes: bool, tail: str) -> None:
    data: str | bytes = text + tail
    if as_bytes:
        data = data.encode("utf-8", "surrogatepass")
    assert _outcome(loads_strict, data) == _outcome(_strict, data)


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "c": [{"d": 1, "d": 1}]}}',
    '{"a:": 1, "a:": 1}',
    '{"id": 123456789012345678901234567890}',
    '[{"x": 1.0}]',
    '{"t": "10:30", "t": "10:30"}',
    '{"a": "\\u003a", "a": "\\u003a"}',
    '{"a": -9223372036854775809}',
    '[1E400]',
])
def test_what_the_fast_path_cannot_vouch_for_goes_to_the_strict_reader(text: str) -> None:
    assert _outcome(loads_strict, text) == _outcome(_strict, text)
    assert _outcome(loads_strict, text.encode()) == _outcome(_strict, text.encode())


def test_orjson_writes_every_float_an_integer_beyond_64_bits_becomes_with_an_exponent() -> None:
    import orjson

    for text in ("18446744073709551616", "-9223372036854775809", "99999999999999999999999", "1" + "0" * 40):
        value = orjson.loads(text)
        assert type(value) is float and b"e+" in orjson.dumps(value), text


def test_the_fast_path_is_taken_for_an_ordinary_context(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    original = jsonlines._DECODER

    class Strict:  # the strict reader, counting its calls
        def decode(self, text: str) -> Any:
            decoded.append(text)
            return original.decode(text)

    monkeypatch.setattr(jsonlines, "_DECODER", Strict())
    assert loads_strict(b'{"person": {"age": 70}, "encounter": {"date": "2022-03-01"}}') == {
        "person": {"age": 70}, "encounter": {"date": "2022-03-01"}}
    assert decoded == []
    with pytest.raises(JsonInputError):
        loads_strict(b'{"a": 1, "a": 1}')
    assert decoded == ['{"a": 1, "a": 1}']
