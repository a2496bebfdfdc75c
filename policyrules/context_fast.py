"""The straight-line reader of the CONTRACT context: the usual context read in one pass of
plain code, everything else handed to the careful reader (`policyrules.context.read_context`).

`read_context_fast(context)` gives the same `Facts` as ``read_context(context)`` for every
context (a property test checks it), and raises the same `ContextError`s, because it never
judges a context itself: a key it does not know, a ``null``, a type or value it does not take
at a glance, a birth date, a context without ``encounter.date``: each is read again, and
judged, by `read_context`. What it takes at a glance are the values the fields' fast checks
(`policyrules.fields`) accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from .context import Facts, read_context
from .fields import BAD, RecordId
from .vocabulary import CONTEXT_FIELDS, STATUS_IMPLIES, STATUSES

__all__ = ["DATES", "DIAGNOSES", "GOOD_REGIONS", "GOOD_TEXTS", "STATUS_SETS", "date_or_bad", "dates_in_force",
           "diagnoses_or_bad", "read_context_fast", "region_ok", "statuses_or_bad", "text_ok"]


_STATUSES = frozenset(STATUSES)
_IMPLYING = frozenset(STATUS_IMPLIES)
_SEX = frozenset(CONTEXT_FIELDS["person.sex"].vocabulary)
_RESIDENCE = frozenset(CONTEXT_FIELDS["person.residence"].vocabulary)
_INSURANCE = frozenset(CONTEXT_FIELDS["person.insurance"].vocabulary)
_KIND = frozenset(CONTEXT_FIELDS["encounter.kind"].vocabulary)
_LEVEL = frozenset(CONTEXT_FIELDS["encounter.institution.level"].vocabulary)
_date_kind = CONTEXT_FIELDS["encounter.date"].kind.fast
_diagnoses_kind = CONTEXT_FIELDS["encounter.diagnoses"].kind.fast
_record_id = RecordId().fast
#: Memos of what was read before (shared with the compiled policies' readers): text -> date;
#: tuple of codes -> diagnoses; tuple of statuses -> statuses with those implied. Only values the
#: fields' checks accepted are kept.
_MEMO_LIMIT = 20_000
DATES: dict[str, Any] = {}
DIAGNOSES: dict[tuple[Any, ...], tuple[str, ...]] = {}
STATUS_SETS: dict[tuple[Any, ...], frozenset[str]] = {}
#: Texts and region codes already found good (a compiled policy's reader looks them up first).
GOOD_REGIONS: set[str] = set()
GOOD_TEXTS: set[str] = set()


def region_ok(raw: Any) -> bool:
    """Whether ``raw`` is a region code (remembered when it is)."""
    if type(raw) is str and len(raw) == 6 and raw.isascii() and raw.isdigit():
        if len(GOOD_REGIONS) >= _MEMO_LIMIT:
            GOOD_REGIONS.clear()
        GOOD_REGIONS.add(raw)
        return True
    return False


def text_ok(raw: Any) -> bool:
    """Whether ``raw`` is non-empty text (remembered when it is)."""
    if type(raw) is str and raw.strip():
        if len(GOOD_TEXTS) >= _MEMO_LIMIT:
            GOOD_TEXTS.clear()
        GOOD_TEXTS.add(raw)
        return True
    return False


def dates_in_force(start: dt.date, end: dt.date | None) -> tuple[dict[str, Any], Callable[[Any], Any]]:
    """A memo of texts -> their dates, for dates from ``start`` to ``end`` (None: open), and the
    function that fills it: the date of ``raw`` text, or `BAD` for a text that is no date or a date
    outside the period. One compiled policy's reader looks its context's date up there: a date the
    policy is not in force on goes to the usual path, which says so, at no cost to the others."""
    memo: dict[str, Any] = {}

    def in_force_or_bad(raw: Any) -> Any:
        found = date_or_bad(raw)
        if found is BAD or found < start or (end is not None and found > end):
            return BAD
        return _remember(memo, raw, found)

    return memo, in_force_or_bad


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> Any:
    """Keep ``value`` under ``key`` (a value a check refused is never kept); the memo is emptied
    whole past `_MEMO_LIMIT`."""
    if value is not BAD:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = value
    return value


def date_or_bad(raw: str) -> Any:
    """The date of ``raw`` text, or `BAD` (memoised)."""
    found = DATES.get(raw)
    return _remember(DATES, raw, _date_kind(raw)) if found is None else found


def diagnoses_or_bad(raw: list[Any]) -> Any:
    """The diagnoses of a list of codes, or `BAD` (memoised by the codes)."""
    try:
        key = tuple(raw)
        found = DIAGNOSES.get(key)
    except TypeError:  # an item that is not hashable: not a code
        return BAD
    return _remember(DIAGNOSES, key, _diagnoses_kind(raw)) if found is None else found


def statuses_or_bad(raw: list[Any]) -> Any:
    """The statuses of a list, implied ones added, or `BAD` (memoised by the list's items)."""
    try:
        key = tuple(raw)
        found = STATUS_SETS.get(key)
    except TypeError:
        return BAD
    if found is None:
        for item in raw:
            if type(item) is not str:
                return BAD
        found = frozenset(raw)
        if not found <= _STATUSES:
            return BAD
        for status in found & _IMPLYING:
            found = found | STATUS_IMPLIES[status]
        _remember(STATUS_SETS, key, found)
    return found


def _region(raw: Any) -> bool:
    return type(raw) is str and len(raw) == 6 and raw.isascii() and raw.isdigit()


def read_context_fast(context: Mapping[str, Any]) -> Facts:
    """The facts of ``context``, as `read_context` gives them; `ContextError` as it raises it."""
    facts = _read(context) if type(context) is dict else None
    return read_context(context) if facts is None else facts


def _read(context: dict[str, Any]) -> Facts | None:
    values: dict[str, Any] = {}
    groups = 0
    record_id = context.get("id")
    if record_id is not None:
        if _record_id(record_id) is BAD:
            return None
        groups += 1
    person = context.get("person")
    if person is not None:
        if type(person) is not dict:
            return None
        groups += 1
        seen = 0
        x = person.get("age")
        if x is not None:
            if type(x) is not int or not 0 <= x <= 150:
                return None
            values["person.age"] = x
            seen += 1
        x = person.get("sex")
        if x is not None:
            if type(x) is not str or x not in _SEX:
                return None
            values["person.sex"] = x
            seen += 1
        x = person.get("residence")
        if x is not None:
            if type(x) is not str or x not in _RESIDENCE:
                return None
            values["person.residence"] = x
            seen += 1
        x = person.get("statuses")
        if x is not None:
            if type(x) is not list:
                return None
            statuses = statuses_or_bad(x)
            if statuses is BAD:
                return None
            values["person.statuses"] = statuses
            seen += 1
        x = person.get("insurance")
        if x is not None:
            if type(x) is not str or x not in _INSURANCE:
                return None
            values["person.insurance"] = x
            seen += 1
        x = person.get("insured_region")
        if x is not None:
            if not _region(x):
                return None
            values["person.insured_region"] = x
            seen += 1
        if seen != len(person):
            return None
    encounter = context.get("encounter")
    if type(encounter) is not dict:  # absent (no date: the evaluation day), null or wrong
        return None
    groups += 1
    seen = 0
    x = encounter.get("kind")
    if x is not None:
        if type(x) is not str or x not in _KIND:
            return None
        values["encounter.kind"] = x
        seen += 1
    x = encounter.get("date")
    if type(x) is not str:
        return None
    date = date_or_bad(x)
    if date is BAD:
        return None
    values["encounter.date"] = date
    seen += 1
    x = encounter.get("diagnoses")
    if x is not None:
        if type(x) is not list:
            return None
        codes = diagnoses_or_bad(x)
        if codes is BAD:
            return None
        values["encounter.diagnoses"] = codes
        seen += 1
    institution = encounter.get("institution")
    if institution is not None:
        if type(institution) is not dict:
            return None
        seen += 1
        inside = 0
        x = institution.get("name")
        if x is not None:
            if type(x) is not str or not x.strip():
                return None
            values["encounter.institution.name"] = x
            inside += 1
        x = institution.get("code")
        if x is not None:
            if type(x) is not str or not x.strip():
                return None
            values["encounter.institution.code"] = x
            inside += 1
        x = institution.get("region")
        if x is not None:
            if not _region(x):
                return None
            values["encounter.institution.region"] = x
            inside += 1
        x = institution.get("level")
        if x is not None:
            if type(x) is not str or x not in _LEVEL:
                return None
            values["encounter.institution.level"] = x
            inside += 1
        x = institution.get("designated")
        if x is not None:
            if type(x) is not bool:
                return None
            values["encounter.institution.designated"] = x
            inside += 1
        if inside != len(institution):
            return None
    if seen != len(encounter):
        return None
    history = context.get("history")
    if history is not None:
        if type(history) is not dict:
            return None
        groups += 1
        x = history.get("pay_later_default")
        if x is not None:
            if type(x) is not bool:
                return None
            values["history.pay_later_default"] = x
        if len(history) != (x is not None):
            return None
    if groups != len(context):
        return None
    return Facts(values, date, True, record_id)
