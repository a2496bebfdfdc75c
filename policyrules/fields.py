"""Context fields as objects: each knows its kind, its vocabulary, how to read a value quickly,
how to read it carefully (naming what is wrong) and its JSON Schema fragment.

`policyrules.vocabulary.CONTEXT_FIELDS` lists the CONTRACT's fields as `ContextField` objects;
context validation, schema generation, the loader and the hypothesis strategies all ask the
field's kind instead of dispatching on a string. A new kind of field is one new class here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

import attrs

from .errors import ContextProblem
from .icd10 import DIAGNOSIS_PATTERN
from .suggest import closest

__all__ = [
    "BAD",
    "DATE_PATTERN",
    "Choice",
    "ContextField",
    "Date",
    "Diagnoses",
    "FieldKind",
    "Flag",
    "InstitutionName",
    "RecordId",
    "Region",
    "Statuses",
    "Text",
    "WholeYears",
    "describe_type",
    "nest",
]

#: What a fast check returns for a value it will not take (the careful check then names why).
BAD: Final = object()

_REGION = re.compile(r"^[0-9]{6}$")


def describe_type(value: object) -> str:
    """How a JSON value's type is named in a message."""
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The nested form of a flat mapping of dotted names: ``{"a.b": 1}`` -> ``{"a": {"b": 1}}``."""
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = tree
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


class FieldKind:
    """A kind of context field. ``fast`` takes a plain JSON value and returns the field's value
    or `BAD`; ``careful`` returns the value or None, adding a `ContextProblem` for what is wrong
    (both must accept exactly the same values: a test checks it)."""

    name: str = ""

    def fast(self, raw: Any) -> Any:  # pragma: no cover - every kind overrides it
        raise AssertionError(type(self).__name__)

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:  # pragma: no cover
        raise AssertionError(type(self).__name__)

    def schema(self) -> dict[str, Any]:  # pragma: no cover
        raise AssertionError(type(self).__name__)


class WholeYears(FieldKind):
    """An age in whole years (周岁), 0 to 150."""

    name = "int"

    def fast(self, raw: Any) -> Any:
        return raw if type(raw) is int and 0 <= raw <= 150 else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 150:
            problems.append(ContextProblem(field, f"must be whole years from 0 to 150, not {raw!r}"))
            return None
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0, "maximum": 150}


class Flag(FieldKind):
    """true or false."""

    name = "bool"

    def fast(self, raw: Any) -> Any:
        return raw if type(raw) is bool else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if not isinstance(raw, bool):
            problems.append(ContextProblem(field, f"must be true or false, not {describe_type(raw)}"))
            return None
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Choice(FieldKind):
    """One word of a fixed vocabulary."""

    name = "enum"

    def __init__(self, *vocabulary: str) -> None:
        self.vocabulary = vocabulary
        self._allowed = frozenset(vocabulary)

    def fast(self, raw: Any) -> Any:
        return raw if type(raw) is str and raw in self._allowed else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if not isinstance(raw, str) or raw not in self._allowed:
            close = closest(str(raw), self.vocabulary)
            problems.append(ContextProblem(
                field, f"{raw!r} is not one of {', '.join(self.vocabulary)}",
                f"did you mean '{close}'?" if close else ""))
            return None
        return raw

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.vocabulary)}


#: A date as the CONTRACT takes it: ``YYYY-MM-DD``, or an ISO 8601 date-time in extended form
#: (``2022-03-01T08:30``, ``…:05``, ``…:05.123``, then ``Z`` or ``±hh:mm``), whose date is used as
#: written (the offset is not applied). The same pattern is the schema's: a test keeps them equal.
DATE_PATTERN: Final = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
_DATE = re.compile(DATE_PATTERN)
_DATE_HINT = "write it 'YYYY-MM-DD', such as '2022-03-01', or as an ISO 8601 date-time '2022-03-01T08:30:00+08:00'"


@lru_cache(maxsize=4096)
def _iso_date(text: str) -> Any:
    found = _DATE.match(text)
    if found is None:
        return BAD
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return BAD


class Date(FieldKind):
    """A real date: a `datetime.date`, a `datetime.datetime` (its date), ``YYYY-MM-DD`` or an ISO
    8601 date-time (`DATE_PATTERN`; the date as written, any offset ignored)."""

    name = "date"

    def fast(self, raw: Any) -> Any:
        kind = type(raw)
        if kind is str:
            return _iso_date(raw)
        if kind is dt.date:
            return raw
        return raw.date() if kind is dt.datetime else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            value = _iso_date(raw)
            if value is not BAD:
                return value
            if _DATE.match(raw):
                problems.append(ContextProblem(field, f"{raw!r} is not a real date (no such day)", _DATE_HINT))
                return None
        problems.append(ContextProblem(field, f"must be a date, not {raw!r}", _DATE_HINT))
        return None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": DATE_PATTERN}


class RecordId(FieldKind):
    """The record id a context may carry (CONTRACT "Shapes"): a non-empty string of at most 128
    characters or an integer (not a bool, not a float). Never evaluated, only echoed."""

    name = "id"
    MAX_LENGTH: Final = 128

    def fast(self, raw: Any) -> Any:
        kind = type(raw)
        if kind is int or (kind is str and 0 < len(raw) <= 128):
            return raw
        return BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if isinstance(raw, str) and 0 < len(raw) <= self.MAX_LENGTH:
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            what = "empty" if not raw else f"{len(raw)} characters long"
            problems.append(ContextProblem(field, f"must be at most {self.MAX_LENGTH} characters of text, "
                                                  f"and not empty: this one is {what}"))
        else:
            problems.append(ContextProblem(
                field, f"must be text (at most {self.MAX_LENGTH} characters) or a whole number, "
                f"not {describe_type(raw)} {raw!r}",
                "quote it as text" if isinstance(raw, float) else ""))
        return None

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [{"type": "string", "minLength": 1, "maxLength": self.MAX_LENGTH}, {"type": "integer"}]}


class Region(FieldKind):
    """A six-digit GB/T 2260 region code, as text."""

    name = "region"

    def fast(self, raw: Any) -> Any:
        return raw if type(raw) is str and len(raw) == 6 and raw.isascii() and raw.isdigit() else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if not isinstance(raw, str) or not _REGION.match(raw):
            problems.append(ContextProblem(
                field, f"must be a six-digit region code as text, such as \"430511\", not {raw!r}",
                "quote the code" if isinstance(raw, int) else ""))
            return None
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^[0-9]{6}$"}


class Text(FieldKind):
    """Non-empty text."""

    name = "text"

    def fast(self, raw: Any) -> Any:
        return raw if type(raw) is str and raw.strip() else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if not isinstance(raw, str) or not raw.strip():
            problems.append(ContextProblem(field, f"must be non-empty text, not {raw!r}"))
            return None
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


class InstitutionName(Text):
    """An institution's name, as the policy's lists write it (matched after normalisation)."""


class Statuses(FieldKind):
    """The person's complete list of status codes: a frozenset once read."""

    name = "statuses"

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = tuple(vocabulary)
        self._allowed = frozenset(self.vocabulary)

    def fast(self, raw: Any) -> Any:
        if type(raw) is not list or not all(type(x) is str for x in raw):
            return BAD
        return frozenset(raw) if self._allowed.issuperset(raw) else BAD

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if not isinstance(raw, list):
            problems.append(ContextProblem(field, f"must be a list of status codes, not {describe_type(raw)}"))
            return None
        ok = True
        for item in raw:
            if not isinstance(item, str) or item not in self._allowed:
                ok = False
                close = closest(str(item), self.vocabulary)
                problems.append(ContextProblem(
                    field, f"{item!r} is not a status of the CONTRACT",
                    f"did you mean '{close}'?" if close else f"statuses: {', '.join(self.vocabulary)}"))
        return frozenset(raw) if ok else None

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"enum": list(self.vocabulary)}}


@lru_cache(maxsize=8192)
def _diagnosis(code: str) -> str | None:
    code = code.strip()
    if code[:1].islower():
        code = code[0].upper() + code[1:]
    return code if DIAGNOSIS_PATTERN.match(code) else None


class Diagnoses(FieldKind):
    """ICD-10 codes, WHO or 医保版 style: a tuple of codes once read."""

    name = "diagnoses"

    def fast(self, raw: Any) -> Any:
        if type(raw) is not list:
            return BAD
        out = []
        for item in raw:
            code = _diagnosis(item) if type(item) is str else None
            if code is None:
                return BAD
            out.append(code)
        return tuple(out)

    def careful(self, field: str, raw: Any, problems: list[ContextProblem]) -> Any:
        if not isinstance(raw, list):
            problems.append(ContextProblem(field, f"must be a list of ICD-10 codes, not {describe_type(raw)}"))
            return None
        codes = []
        for item in raw:
            code = _diagnosis(item) if isinstance(item, str) else None
            if code is None:
                problems.append(ContextProblem(
                    field, f"{item!r} is not an ICD-10 code (a letter, two digits, optionally a dot "
                    "and an extension: C16.900, I10.x00)"))
                return None
            codes.append(code)
        return tuple(codes)

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {
            "type": "string", "pattern": r"^[A-Za-z][0-9]{2}(\.[0-9A-Za-z]{1,8})?$"}}


@attrs.frozen
class ContextField:
    """One field of the CONTRACT's context: its dotted ``path`` and its ``kind``.

    ``on_file`` marks a ``history`` field: what is on file, where absent means "nothing on
    file" rather than unknown (CONTRACT)."""

    path: str
    kind: FieldKind = attrs.field(eq=False)
    on_file: bool = False

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """The words a `Choice` or `Statuses` field takes (empty for the other kinds)."""
        return tuple(getattr(self.kind, "vocabulary", ()))
