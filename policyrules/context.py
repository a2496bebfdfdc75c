"""The evaluation context of the CONTRACT (docs/contract.md): validated, then flattened into facts.

Every field is optional; absent or ``null`` is unknown (``history`` aside: absent there
means nothing on file). A field that is not in the CONTRACT, a wrong type or a value
outside the vocabulary is a `ContextError` naming the field and the closest valid name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .errors import ContextError, ContextProblem
from .fields import BAD, RecordId, describe_type, nest
from .suggest import closest
from .vocabulary import CONTEXT_FIELDS, PASSING_STATUSES, STATUS_IMPLIES

__all__ = ["HOUSEHOLD_GIVEN", "Facts", "read_context"]

_GROUPS = {"person", "encounter", "history", "encounter.institution", "household"}
#: The key of `Facts.values` that says a household was sent (its statuses may still be absent).
HOUSEHOLD_GIVEN = "household"


class Facts:
    """A validated context, flat: dotted field -> normalised value (absent fields are absent).

    ``values["person.statuses"]`` is a frozenset with implied statuses added (and, for a member of
    a household, the household's statuses that pass to its members);
    ``values["household.statuses"]`` is the household's complete list of household statuses,
    implied ones added: with ``person.statuses`` absent, a member's household statuses are known
    from it and only its own statuses are unknown (`policyrules.vocabulary.PASSING_STATUSES`);
    ``values["person.age"]`` is computed from ``birth_date`` when only that is given.
    ``id`` is the context's record id (never evaluated, only echoed), None when it has none.
    """

    __slots__ = ("date", "date_given", "id", "values")

    def __init__(self, values: dict[str, Any], date: dt.date, date_given: bool,
                 id: str | int | None = None) -> None:
        self.values = values
        self.date = date
        self.date_given = date_given
        self.id = id


def read_context(context: Mapping[str, Any], today: dt.date | None = None) -> Facts:
    """Validate ``context`` and return its facts, or raise `ContextError` listing every problem."""
    values = _read_fast(context) if type(context) is dict else None
    if values is None:
        values = _read_checked(context)
    record_id = values.pop("id", None)
    date_given = "encounter.date" in values
    date = values["encounter.date"] if date_given else (today or dt.date.today())
    birth = values.get("person.birth_date")
    if birth is not None:
        if birth > date:
            raise ContextError(
                [ContextProblem("person.birth_date", f"{birth} is after the encounter date {date}")]
            )
        if "person.age" not in values:
            values["person.age"] = date.year - birth.year - ((date.month, date.day) < (birth.month, birth.day))
    if "household.id" in values or "household.statuses" in values:  # a household was sent
        values[HOUSEHOLD_GIVEN] = True
    household = values.get("household.statuses")
    if household is not None:
        household = values["household.statuses"] = _implied(household)
    statuses = values.get("person.statuses")
    if statuses is not None:
        statuses = _implied(statuses)
        values["person.statuses"] = statuses if household is None else statuses | (household & PASSING_STATUSES)
    return Facts(values, date, date_given, record_id)


def _implied(statuses: frozenset[str]) -> frozenset[str]:
    for status in statuses & _IMPLYING:
        statuses = statuses | STATUS_IMPLIES[status]
    return statuses


def _read_checked(context: Any) -> dict[str, Any]:
    """The careful reading: every problem of the context, named, or its values."""
    problems: list[ContextProblem] = []
    flat: dict[str, Any] = {}
    if not isinstance(context, Mapping):
        raise ContextError([ContextProblem("(context)", "must be a JSON object", "")])
    values: dict[str, Any] = {}
    if context.get("id") is not None:
        record_id = RECORD_ID.careful("id", context["id"], problems)
        if record_id is not None:
            values["id"] = record_id
    _flatten({k: v for k, v in context.items() if k != "id"}, "", flat, problems)
    for field, raw in flat.items():
        if raw is None:
            continue
        value = CONTEXT_FIELDS[field].kind.careful(field, raw, problems)
        if value is not None:
            values[field] = value
    if problems:
        raise ContextError(problems)
    return values


# ---------------------------------------------------------------- the fast reading
# Most contexts are valid: they are read here without building messages. Anything unusual
# returns None, and `_read_checked` reads the context again and names what is wrong. A test
# checks that both readings give the same values.

_IMPLYING = frozenset(STATUS_IMPLIES)
_TREE: dict[str, Any] = nest({path: (path, field.kind.fast) for path, field in CONTEXT_FIELDS.items()})
#: The record id, read by the same loop and taken out of the values by `read_context`.
RECORD_ID = RecordId()
_TREE["id"] = ("id", RECORD_ID.fast)


def _read_fast(context: dict[str, Any]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    stack = [(context, _TREE)]
    while stack:
        node, spec = stack.pop()
        for key, value in node.items():
            sub = spec.get(key) if type(key) is str else None
            if sub is None:
                return None
            if value is None:
                continue
            if type(sub) is dict:
                if type(value) is not dict:
                    return None
                stack.append((value, sub))
                continue
            field, check = sub
            checked = check(value)
            if checked is BAD:
                return None
            values[field] = checked
    return values


def _flatten(node: Mapping[str, Any], prefix: str, out: dict[str, Any], problems: list[ContextProblem]) -> None:
    for key, value in node.items():
        if not isinstance(key, str):
            problems.append(ContextProblem(f"{prefix}{key!r}", "field names must be text"))
            continue
        path = f"{prefix}{key}"
        if path in _GROUPS:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                problems.append(ContextProblem(path, f"must be an object, not {describe_type(value)}"))
                continue
            _flatten(value, path + ".", out, problems)
        elif path in CONTEXT_FIELDS:
            out[path] = value
        else:
            close = closest(path, ["id", *CONTEXT_FIELDS, *sorted(_GROUPS)])
            if close is None and not prefix and key.lower().endswith("id"):
                close = "id"  # patient_id, record_id: the record id has one name
            problems.append(
                ContextProblem(
                    path,
                    "is not a context field of the CONTRACT",
                    f"did you mean '{close}'?" if close else "see docs/contract.md for the fields",
                )
            )
