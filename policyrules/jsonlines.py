"""JSON as hospital systems send it, and the shapes every path answers with (CONTRACT "Shapes").

- `loads_strict`: the one way policyrules reads JSON. A UTF-8 byte-order mark is skipped, text
  that is not UTF-8 is refused in plain words ("looks like GBK"), and a key given twice in one
  object is refused naming the key, its line and column (`JsonInputError`).
- `read_lines`: a JSON Lines stream read line by line in bounded memory: lines split on
  ``\\n`` only (a trailing ``\\r`` stripped; U+2028 or U+0085 inside a string are just
  characters), each line decoded on its own, so an undecodable or invalid line is that line's
  error and the others are read. `read_chunks` and `chunk_lines` give the same lines (`line_of`,
  one rule) from blocks of a few thousand, for ``policyrules evaluate --workers``.
- `error_object`, `json_error_object`, `unanswered`, `values_line`: the error object, an
  unanswered input and a values line, built here once for the JSON Lines path, the roster
  engine and the HTTP service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import attrs

from .determination import Determination
from .errors import ContextError, ContextProblem, JsonInputError
from .fields import BAD, RecordId
from .loading.reader import not_utf8

__all__ = [
    "CHUNK_BYTES",
    "MAX_LINE_BYTES",
    "Line",
    "chunk_lines",
    "error_object",
    "errors_of",
    "json_error_object",
    "line_of",
    "loads_strict",
    "read_chunks",
    "read_id",
    "read_lines",
    "unanswered",
    "values_line",
]

#: The longest JSON Lines line read (a longer one is that line's error; the next is read).
MAX_LINE_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_MARKS = (b"\xef", "\ufeff")  # how a text with a byte-order mark starts
_RECORD_ID = RecordId()


# ---------------------------------------------------------------- strict JSON


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)

_fast_loads: Callable[[str | bytes], Any] | None
_fast_dumps: Callable[[Any], bytes]
try:  # pragma: no cover - which branch runs depends on the environment (the ``fast`` extra)
    from orjson import dumps as _fast_dumps
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover
    _fast_loads = None


def loads_strict(data: str | bytes) -> Any:
    """``data`` as JSON, or `JsonInputError` (line and column 1-based, within ``data``).

    First orjson, where installed, when its answer is certainly the strict reader's (one function,
    inline: it is the first step of every JSON Lines line and HTTP body). orjson keeps the last of
    a key given twice, so a duplicate is ruled out by counting colons: outside strings a colon
    follows each key, so the text holds (keys it writes) + (colons inside its strings) of them;
    the parsed value written again by orjson holds (keys kept) + (colons inside the strings kept),
    and the strings kept are some of the text's (a colon written as ``\\u003a`` aside, which is
    sent to the strict reader). Equal counts therefore mean as many keys kept as written: none was
    given twice. orjson reads an integer beyond 64 bits as a float (the strict reader keeps it
    whole), and writes every float from 1e16 up with an exponent (``1.8446744073709552e+19``): a
    written value holding ``e+`` is sent to the strict reader too (tests/test_json_fast.py holds
    orjson to this). So are anything orjson refuses (not JSON, not UTF-8, NaN, a lone surrogate, a
    number beyond a double), a bare value and a text with a byte-order mark; the strict reader
    judges them and names the place."""
    if _fast_loads is not None and data[:1] not in _MARKS:
        try:
            value = _fast_loads(data)
        except ValueError:  # orjson.JSONDecodeError
            pass
        else:
            kind = type(value)
            if kind is dict or kind is list:  # a bare number, text or constant: the strict reader's
                written = _fast_dumps(value)
                if b"+" not in written or b"e+" not in written:  # a byte's search (memchr) first
                    if isinstance(data, bytes):
                        if written.count(b":") == data.count(b":") and (
                                b"\\" not in data or b"\\u003" not in data):
                            return value
                    elif written.count(b":") == data.count(":") and ("\\" not in data or "\\u003" not in data):
                        return value
    if isinstance(data, bytes):
        if data.startswith(_BOM):
            data = data[len(_BOM):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
            message, suggestion = not_utf8(data)
            raise JsonInputError(" / ".join(message.splitlines()), line, column, suggestion) from None
    else:
        text = data[1:] if data.startswith("\ufeff") else data
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise JsonInputError(f"not valid JSON: {error.msg}", error.lineno, error.colno) from None
    except _Duplicate as duplicate:
        line, column = _duplicate_at(text, duplicate.key)
        raise JsonInputError(f"the key {json.dumps(duplicate.key, ensure_ascii=False)} is given twice "
                             "in one object", line, column, "give each key once") from None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_COLON = re.compile(r"\s*:")


def _duplicate_at(text: str, key: str) -> tuple[int, int]:
    """Where ``key`` is given the second time in one object of ``text`` (the first such place)."""
    stack: list[set[str] | None] = []
    for token in _TOKEN.finditer(text):
        mark = token.group()
        if mark in "{[":
            stack.append(set() if mark == "{" else None)
        elif mark in "}]":
            if stack:
                stack.pop()
        elif stack and stack[-1] is not None and _COLON.match(text, token.end()):
            name = json.loads(mark)
            if name == key and name in stack[-1]:
                start = token.start()
                return text.count("\n", 0, start) + 1, start - (text.rfind("\n", 0, start) + 1) + 1
            stack[-1].add(name)
    return 1, 1  # pragma: no cover - the decoder found the duplicate, so the scan does


# ---------------------------------------------------------------- JSON Lines


@attrs.frozen
class Line:
    """One non-blank line of a JSON Lines stream: its 1-based ``number`` and either the value it
    holds (``error`` None) or the `JsonInputError` that stopped reading it."""

    number: int
    value: Any = None
    error: JsonInputError | None = None


def read_lines(stream: IO[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The lines of a binary JSON Lines stream, read one at a time (blank lines skipped, their
    numbers counted). A BOM at the very start is skipped."""
    number = 0
    while True:
        raw = stream.readline(max_bytes + 1 + (len(_BOM) if number == 0 else 0))
        if not raw:
            return
        number += 1
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        elif len(raw) > max_bytes:
            rest = raw
            while rest and not rest.endswith(b"\n"):  # skip the rest of the long line
                rest = stream.readline(max_bytes)
        line = line_of(number, raw, max_bytes)
        if line is not None:
            yield line


def line_of(number: int, raw: bytes, max_bytes: int = MAX_LINE_BYTES) -> Line | None:
    """Line ``number`` of a stream, ``raw`` its bytes without the ``\\n`` (and, for line 1, without
    a BOM); None for a blank line. Longer than ``max_bytes`` (a trailing ``\\r`` counted) is the
    line's error. The one rule of `read_lines` and `chunk_lines`."""
    if len(raw) > max_bytes:
        return Line(number, error=JsonInputError(
            f"the line is longer than {max_bytes} bytes", 1, max_bytes + 1,
            "one context per line; is this file JSON Lines?"))
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if not raw.strip():
        return None
    try:
        return Line(number, loads_strict(raw))
    except JsonInputError as error:
        return Line(number, error=error)


#: The size of the blocks `read_chunks` reads (a chunk is one block cut at its last newline).
CHUNK_BYTES = 256 * 1024


def read_chunks(stream: IO[bytes], size: int = CHUNK_BYTES,
                max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """A binary JSON Lines stream in chunks of whole lines, each with the number of its first
    line: ``(1, b"{...}\\n{...}\\n")``, … (the last chunk may lack its final newline). Memory stays
    bounded: of a line longer than ``max_bytes`` only its first ``max_bytes + 1`` bytes are kept
    (enough for `chunk_lines` to make it that line's error). A BOM at the very start is dropped.
    `chunk_lines` of every chunk gives exactly the lines `read_lines` gives."""
    number, carry, skipping, first = 1, b"", False, True
    keep = max_bytes + 1
    while True:
        data = stream.read(size)
        if first and data:
            while len(data) < len(_BOM) and _BOM.startswith(data):  # a pipe may give less
                more = stream.read(size)
                if not more:
                    break
                data += more
            first = False
            if data.startswith(_BOM):
                data = data[len(_BOM):]
                if not data:
                    continue
        if not data:
            if carry:
                yield number, carry
            return
        end = data.rfind(b"\n")
        if end < 0:
            if not skipping:
                carry += data
                if len(carry) > keep:
                    carry, skipping = carry[:keep], True
            continue
        if skipping:  # the long line ends at the block's first newline; the rest of it is dropped
            chunk = carry + data[data.find(b"\n"):end + 1]
            skipping = False
        else:
            chunk = carry + data[:end + 1]
        carry = data[end + 1:]
        if len(carry) > keep:
            carry, skipping = carry[:keep], True
        yield number, chunk
        number += chunk.count(b"\n")


def chunk_lines(first: int, chunk: bytes, max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The lines of a chunk of `read_chunks` whose first line is number ``first``."""
    parts = chunk.split(b"\n")
    if chunk.endswith(b"\n"):
        parts.pop()
    for number, raw in enumerate(parts, first):
        line = line_of(number, raw, max_bytes)
        if line is not None:
            yield line


# ---------------------------------------------------------------- the shapes


def error_object(problem: ContextProblem) -> dict[str, Any]:
    """The error object of one problem of a context: ``{"field", "message", "suggestion"}``."""
    return {"field": problem.field, "message": problem.message, "suggestion": problem.suggestion}


def json_error_object(error: JsonInputError) -> dict[str, Any]:
    """The error object of an input that is not JSON or not decodable: ``field`` null, a ``column``."""
    return {"field": None, "message": error.message, "suggestion": error.suggestion, "column": error.column}


def errors_of(error: ContextError | JsonInputError) -> list[dict[str, Any]]:
    """The error objects of what stopped an input from being answered."""
    if isinstance(error, JsonInputError):
        return [json_error_object(error)]
    return [error_object(problem) for problem in error.problems]


def read_id(context: Any) -> str | int | None:
    """The record id of ``context`` where it can be read (a valid ``id``), else None."""
    if isinstance(context, dict):
        found = _RECORD_ID.fast(context.get("id"))
        return None if found is BAD else found
    return None


def unanswered(number: int, record_id: str | int | None, errors: Sequence[dict[str, Any]],
               place: str = "line") -> dict[str, Any]:
    """An unanswered input: ``{"line": N, "id": ID, "errors": […]}`` (``place`` "row" for a roster
    row), ``id`` only where it could be read."""
    out: dict[str, Any] = {place: number}
    if record_id is not None:
        out["id"] = record_id
    out["errors"] = list(errors)
    return out


def values_line(number: int | None, answer: Determination, place: str = "line") -> dict[str, Any]:
    """A values line: ``{"line": N, "id": ID, "policy": P, "date_used": D, "values": {…}}``
    (``line`` left out when ``number`` is None: a single context)."""
    out: dict[str, Any] = {} if number is None else {place: number}
    if answer.id is not None:
        out["id"] = answer.id
    out["policy"] = answer.policy.id
    out["date_used"] = answer.date_used.isoformat()
    out["values"] = answer.values()
    return out
