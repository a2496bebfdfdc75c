"""The evaluation context of ../shared/CONTRACT.md: validated, then flattened into facts.

Every field is optional; absent or ``null`` is unknown (``history`` aside: absent there
means nothing on file). A field that is not in the CONTRACT, a wrong type or a value
outside the vocabulary is a `ContextError` naming the field and the closest valid name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .errors import ContextError, ContextProblem
from .icd10 import DIAGNOSIS_PATTERN
from .vocabulary import CONTEXT_FIELDS, STATUS_IMPLIES, STATUSES

__all__ = ["Facts", "normalise_name", "read_context"]

_REGION = re.compile(r"^[0-9]{6}$")
_GROUPS = {"person", "encounter", "history", "encounter.institution"}


class Facts:
    """A validated context, flat: dotted field -> normalised value (absent fields are absent).

    ``values["person.statuses"]`` is a frozenset with implied statuses added;
    ``values["person.age"]`` is computed from ``birth_date`` when only that is given;
    ``values["encounter.institution.name"]`` is normalised for matching.
    """

    __slots__ = ("date", "date_given", "values")

    def __init__(self, values: dict[str, Any], date: dt.date, date_given: bool) -> None:
        self.values = values
        self.date = date
        self.date_given = date_given


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """How institution names are compared: NFKC (full-width -> half-width), no spaces, casefold."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def read_context(context: Mapping[str, Any], today: dt.date | None = None) -> Facts:
    """Validate ``context`` and return its facts, or raise `ContextError` listing every problem."""
    values = _read_fast(context) if type(context) is dict else None
    if values is None:
        values = _read_checked(context)
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
    statuses = values.get("person.statuses")
    if statuses is not None:
        for status in statuses & _IMPLYING:
            statuses = statuses | STATUS_IMPLIES[status]
        values["person.statuses"] = statuses
    name = values.get("encounter.institution.name")
    if name is not None:
        values["encounter.institution.name"] = normalise_name(name)
    return Facts(values, date, date_given)


def _read_checked(context: Any) -> dict[str, Any]:
    """The careful reading: every problem of the context, named, or its values."""
    problems: list[ContextProblem] = []
    flat: dict[str, Any] = {}
    if not isinstance(context, Mapping):
        raise ContextError([ContextProblem("(context)", "must be a JSON object", "")])
    _flatten(context, "", flat, problems)
    values: dict[str, Any] = {}
    for field, raw in flat.items():
        if raw is None:
            continue
        value = _check(field, raw, problems)
        if value is not None:
            values[field] = value
    if problems:
        raise ContextError(problems)
    return values


# ---------------------------------------------------------------- the fast reading
# Most contexts are valid: they are read here without building messages. Anything unusual
# returns None, and `_read_checked` reads the context again and names what is wrong. A test
# checks that both readings give the same values.

_BAD = object()
_IMPLYING = frozenset(STATUS_IMPLIES)
_STATUS_SET = frozenset(STATUSES)


@lru_cache(maxsize=4096)
def _date(text: str) -> Any:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return _BAD


@lru_cache(maxsize=8192)
def _diagnosis(code: str) -> str | None:
    code = code.strip()
    if code[:1].islower():
        code = code[0].upper() + code[1:]
    return code if DIAGNOSIS_PATTERN.match(code) else None


def _fast_checker(kind: str, vocabulary: tuple[str, ...]) -> Callable[[Any], Any]:
    if kind == "int":
        return lambda v: v if type(v) is int and 0 <= v <= 150 else _BAD
    if kind == "bool":
        return lambda v: v if type(v) is bool else _BAD
    if kind == "enum":
        allowed = frozenset(vocabulary)
        return lambda v: v if type(v) is str and v in allowed else _BAD
    if kind == "date":
        return lambda v: _date(v) if type(v) is str else _BAD
    if kind == "region":
        return lambda v: v if type(v) is str and len(v) == 6 and v.isascii() and v.isdigit() else _BAD
    if kind == "text":
        return lambda v: v if type(v) is str and v.strip() else _BAD
    if kind == "statuses":
        def statuses(v: Any) -> Any:
            if type(v) is not list or not all(type(x) is str for x in v):
                return _BAD
            return frozenset(v) if _STATUS_SET.issuperset(v) else _BAD
        return statuses
    if kind == "diagnoses":
        def diagnoses(v: Any) -> Any:
            if type(v) is not list:
                return _BAD
            out = []
            for item in v:
                code = _diagnosis(item) if type(item) is str else None
                if code is None:
                    return _BAD
                out.append(code)
            return tuple(out)
        return diagnoses
    raise AssertionError(kind)  # pragma: no cover


def _tree() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for field, (kind, vocabulary) in CONTEXT_FIELDS.items():
        node = tree
        *parents, leaf = field.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = (field, _fast_checker(kind, vocabulary))
    return tree


_TREE = _tree()


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
            if checked is _BAD:
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
                problems.append(ContextProblem(path, f"must be an object, not {_type(value)}"))
                continue
            _flatten(value, path + ".", out, problems)
        elif path in CONTEXT_FIELDS:
            out[path] = value
        else:
            choices = list(CONTEXT_FIELDS) + sorted(_GROUPS)
            close = difflib.get_close_matches(path, choices, n=1, cutoff=0.6)
            problems.append(
                ContextProblem(
                    path,
                    "is not a context field of the CONTRACT",
                    f"did you mean '{close[0]}'?" if close else "see CONTRACT.md for the fields",
                )
            )


def _type(value: object) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _check(field: str, raw: Any, problems: list[ContextProblem]) -> Any:
    kind, vocabulary = CONTEXT_FIELDS[field]
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 150:
            problems.append(ContextProblem(field, f"must be whole years from 0 to 150, not {raw!r}"))
            return None
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            problems.append(ContextProblem(field, f"must be true or false, not {_type(raw)}"))
            return None
        return raw
    if kind == "enum":
        if not isinstance(raw, str) or raw not in vocabulary:
            close = difflib.get_close_matches(str(raw), vocabulary, n=1, cutoff=0.5)
            problems.append(
                ContextProblem(
                    field,
                    f"{raw!r} is not one of {', '.join(vocabulary)}",
                    f"did you mean '{close[0]}'?" if close else "",
                )
            )
            return None
        return raw
    if kind == "date":
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        problems.append(ContextProblem(field, f"must be a real date 'YYYY-MM-DD', not {raw!r}"))
        return None
    if kind == "region":
        if not isinstance(raw, str) or not _REGION.match(raw):
            problems.append(
                ContextProblem(
                    field,
                    f"must be a six-digit region code as text, such as \"430511\", not {raw!r}",
                    "quote the code" if isinstance(raw, int) else "",
                )
            )
            return None
        return raw
    if kind == "text":
        if not isinstance(raw, str) or not raw.strip():
            problems.append(ContextProblem(field, f"must be non-empty text, not {raw!r}"))
            return None
        return raw
    if kind == "statuses":
        if not isinstance(raw, list):
            problems.append(ContextProblem(field, f"must be a list of status codes, not {_type(raw)}"))
            return None
        ok = True
        for item in raw:
            if not isinstance(item, str) or item not in STATUSES:
                ok = False
                close = difflib.get_close_matches(str(item), list(STATUSES), n=1, cutoff=0.5)
                problems.append(
                    ContextProblem(
                        field,
                        f"{item!r} is not a status of the CONTRACT",
                        f"did you mean '{close[0]}'?" if close else f"statuses: {', '.join(STATUSES)}",
                    )
                )
        return frozenset(raw) if ok else None
    if kind == "diagnoses":
        if not isinstance(raw, list):
            problems.append(ContextProblem(field, f"must be a list of ICD-10 codes, not {_type(raw)}"))
            return None
        codes = []
        for item in raw:
            code = item.strip() if isinstance(item, str) else item
            if isinstance(code, str) and code[:1].islower():
                code = code[0].upper() + code[1:]
            if not isinstance(code, str) or not DIAGNOSIS_PATTERN.match(code):
                problems.append(
                    ContextProblem(
                        field,
                        f"{item!r} is not an ICD-10 code (a letter, two digits, optionally a dot "
                        "and an extension: C16.900, I10.x00)",
                    )
                )
                return None
            codes.append(code)
        return tuple(codes)
    raise AssertionError(kind)  # pragma: no cover
