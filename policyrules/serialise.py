"""Fast JSON for answers: each shared `Outcome` serialised once, answers assembled from bytes.

    answer_json(det)                 -> the CONTRACT's JSON answer (``det.to_dict()``), UTF-8
    answer_json(det, {"line": 3})    -> the same with keys put first (a JSON Lines answer)
    values_json(det, line=3, id="a") -> a values line (docs/contract.md, "Shapes shared by every path")
    answer_parts(det, 3)             -> answer_json(det, {"line": 3}) as pieces, to join with others

Outcomes are shared and read-only (every answer holding the same decided value holds the same
object), so each one's JSON is written once and kept on it; the policy part is kept per policy,
date and engine. With orjson installed (extra ``fast``) the pieces are written by it, else by
the standard ``json`` module; the bytes parse to exactly ``to_dict()`` either way. Thread-safe:
the caches only grow (and are emptied whole past a limit).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .determination import SCHEMA_VERSION, Determination, Outcome

__all__ = ["FAST", "answer_json", "dumps", "answer_parts", "values_json"]



def _standard(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


try:  # pragma: no cover - which branch runs depends on the environment
    import orjson

    _orjson: Callable[[Any], bytes] = orjson.dumps
    FAST = True

    def dumps(value: Any) -> bytes:
        """Compact UTF-8 JSON: orjson's, the standard library's for what orjson refuses (an
        integer beyond 64 bits, such as a large ``id``)."""
        try:
            return _orjson(value)
        except TypeError:
            return _standard(value)
except ImportError:  # pragma: no cover
    FAST = False
    dumps = _standard

_LIMIT = 50_000
id_of = id  # `values_json` has a parameter named id
_NAMES: dict[str, bytes] = {}
_POLICY: dict[tuple[Any, ...], bytes] = {}
_OUTCOMES: dict[tuple[int, ...], tuple[bytes, tuple[Outcome, ...]]] = {}
_VALUES: dict[tuple[int, ...], tuple[bytes, tuple[Outcome, ...]]] = {}
_HEAD = b'{"schema_version":' + dumps(SCHEMA_VERSION) + b',"policy":'
_CONSTANTS = {True: b"true", False: b"false", None: b"null"}


def _name(name: str) -> bytes:
    found = _NAMES.get(name)
    if found is None:
        found = _NAMES[name] = dumps(name) + b":"
    return found


def outcome_json(outcome: Outcome) -> bytes:
    """The JSON of one outcome (``outcome.to_dict()``), written once and kept on it."""
    found = outcome._bytes
    if found is None:
        found = dumps(outcome.json_dict())
        object.__setattr__(outcome, "_bytes", found)
    return found


def _policy(det: Determination) -> bytes:
    meta = det.policy
    key = (meta.id, det.sha256, det.date_used, det.date_given, det.engine)
    found = _POLICY.get(key)
    if found is None:
        if len(_POLICY) >= _LIMIT:
            _POLICY.clear()
        found = _POLICY[key] = dumps(det.to_dict()["policy"])
    return found


def _outcomes(outcomes: Mapping[str, Outcome]) -> bytes:
    # keyed by the outcomes' ids: the entry holds the outcomes, so while it lives no other
    # object can have one of those ids, and an equal key means the same outcomes
    key = tuple(map(id, outcomes.values()))
    found = _OUTCOMES.get(key)
    if found is None:
        if len(_OUTCOMES) >= _LIMIT:
            _OUTCOMES.clear()
        text = b"{" + b",".join(_name(name) + outcome_json(o) for name, o in outcomes.items()) + b"}"
        found = _OUTCOMES[key] = (text, tuple(outcomes.values()))
    return found[0]


def _head(fields: Mapping[str, Any]) -> bytes:
    return b"{" + b"".join([_name(k) + _scalar(v) + b"," for k, v in fields.items()])


def _scalar(value: Any) -> bytes:
    return b"%d" % value if type(value) is int else dumps(value)


def answer_json(det: Determination, first: Mapping[str, Any] | None = None) -> bytes:
    """``det.to_dict()`` as compact UTF-8 JSON, the keys of ``first`` (such as ``{"line": 3}``)
    put before it; the context's ``id`` follows them, as in ``to_dict()``, unless ``first`` gives it."""
    record_id = det.id
    if first:
        if record_id is not None and "id" not in first:
            first = {**first, "id": record_id}
        head = _head(first) + _HEAD[1:]
    elif record_id is not None:
        head = b'{"id":' + _scalar(record_id) + b"," + _HEAD[1:]
    else:
        head = _HEAD
    # one join: the outcomes' bytes (most of an answer) are copied once
    return b"".join((head, _policy(det), b',"outcomes":', _outcomes(det.outcomes), b"}"))


def answer_parts(det: Determination, line: int | None = None) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """The pieces of ``answer_json(det)`` (``line`` given: of ``answer_json(det, {"line": line})``),
    unjoined: joined with the other answers of a chunk or a batch, an answer's bytes are copied
    once."""
    record_id = det.id
    head = b"{" if line is None else b'{"line":%d,' % line
    if record_id is not None:
        head += b'"id":' + (b"%d" % record_id if type(record_id) is int else dumps(record_id)) + b","
    return head + _HEAD[1:], _policy(det), b',"outcomes":', _outcomes(det.outcomes), b"}"


def _value(outcome: Outcome) -> bytes:
    value = outcome.value
    return _CONSTANTS[value] if value is None or value is True or value is False else dumps(list(value))


_WHERE: dict[tuple[str, Any], bytes] = {}


def values_json(det: Determination, line: int | None = None, id: str | int | None = None) -> bytes:
    """A values line: ``{"line": N, "id": ID, "policy": P, "date_used": D, "values": {…}}``, with
    ``line`` and ``id`` left out when None; values in the policy's outcome order."""
    outcomes = det.outcomes
    key = tuple(map(id_of, outcomes.values()))  # as `_outcomes`: the entry holds the outcomes
    found = _VALUES.get(key)
    if found is None:
        if len(_VALUES) >= _LIMIT:
            _VALUES.clear()
        text = b"{" + b",".join(_name(name) + _value(o) for name, o in outcomes.items()) + b"}"
        found = _VALUES[key] = (text, tuple(outcomes.values()))
    where_key = (det.policy.id, det.date_used)
    where = _WHERE.get(where_key)
    if where is None:
        if len(_WHERE) >= _LIMIT:
            _WHERE.clear()
        where = _WHERE[where_key] = (b'"policy":' + dumps(det.policy.id) + b',"date_used":'
                                     + dumps(det.date_used.isoformat()) + b',"values":')
    head = b"{" if line is None else b'{"line":%d,' % line
    if id is not None:
        return b"".join((head, b'"id":', _scalar(id), b",", where, found[0], b"}"))
    return b"".join((head, where, found[0], b"}"))
