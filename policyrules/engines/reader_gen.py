"""The straight-line context reader of a compiled policy, written from the CONTRACT's fields.

`reader_lines(const)` writes the first part of a compiled policy's ``answer(context)``: every
field of `CONTEXT_FIELDS` is fetched from its group and checked at a glance as its kind's fast
check (`policyrules.fields`) would check it, into a local named after the field
(``person_age``); a ``null`` is absent, as for the careful reader. Whatever it does not take at
a glance (a key it does not know, a wrong type, a value outside the vocabulary, a birth date, a context without
``encounter.date``) makes ``answer`` return None, and the caller reads the context again with
the careful reader (`policyrules.context.read_context`), which names the problem: so
`ContextError` is the careful reader's, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..context_fast import (
    DATES,
    DIAGNOSES,
    GOOD_REGIONS,
    GOOD_TEXTS,
    STATUS_SETS,
    date_or_bad,
    diagnoses_or_bad,
    region_ok,
    statuses_or_bad,
    text_ok,
)
from ..fields import (
    BAD,
    Choice,
    Date,
    Diagnoses,
    FieldKind,
    Flag,
    RecordId,
    Region,
    Statuses,
    Text,
    WholeYears,
    nest,
)
from ..context import HOUSEHOLD_GIVEN
from ..vocabulary import CONTEXT_FIELDS

__all__ = ["local_of", "reader_lines"]

Const = Callable[[Any, str | None], str]

#: Fields read only by the careful reader (present, even as null: the context goes there).
_CAREFUL_ONLY = frozenset({"person.birth_date"})
#: Fields of a group read only by the careful reader (the group present: the context goes there).
_CAREFUL_GROUP = frozenset(path for path in CONTEXT_FIELDS if path.startswith("household."))
#: The fields the fast reader needs (absent: the careful reader decides the evaluation day).
_REQUIRED = frozenset({"encounter.date"})


def local_of(path: str) -> str:
    """The local a field is read into."""
    return path.replace(".", "_")


def reader_lines(const: Const, tables: Mapping[str, str] | None = None,
                 reads: Mapping[str, tuple[str, str]] | None = None) -> list[str]:
    """Lines (indented for a function body) reading ``context`` into a local per field, or
    returning None for anything unusual. ``tables``: field -> the constant of a table keyed by
    every word of the field's vocabulary (a condition's truths by word), checked against instead
    of the vocabulary, or of a set of the only region codes to take. ``reads``: field -> the
    lookup in a memo and the call that fills it, for a date, statuses or diagnoses read as the
    policy reads them (a date in force, the truths of its status conditions, its catalog
    matches: what they return is the field's local), instead of the shared memos; either
    returns `BAD` for a value to send to the careful reader."""
    lines: list[str] = ["    if type(context) is not dict:", "        return None", "    try:"]
    # a household is read by the careful reader alone (it passes statuses on to the member)
    # a birth date is left out of the known keys: its group's key check sends the context on
    tree = nest({path: path for path in CONTEXT_FIELDS if path not in _CAREFUL_GROUP | _CAREFUL_ONLY})
    _group(tree, "context", "        ", lines, const, dict(tables or {}), dict(reads or {}), top=True)
    lines += [f"        {local_of(path)} = None" for path in sorted(_CAREFUL_GROUP | {HOUSEHOLD_GIVEN})]
    lines += ["    except TypeError:  # an unhashable value where a word or code was looked up",
              "        return None"]
    return lines


def _group(tree: dict[str, Any], name: str, indent: str, lines: list[str], const: Const, tables: dict[str, str],
           reads: dict[str, tuple[str, str]], top: bool = False) -> None:
    # a key it does not know: the careful reader names it (a null is absent for both readers)
    known = const(frozenset(tree) | ({"id"} if top else set()), None)
    lines.append(f"{indent}if not {name}.keys() <= {known}:")
    lines.append(f"{indent}    return None")
    if top:  # the record id (CONTRACT "Shapes"), echoed in the answer: as `RecordId.fast` takes it
        longest = repr(int(RecordId.MAX_LENGTH))
        lines += [f"{indent}record_id = {name}.get('id')",
                  f"{indent}if record_id is not None and type(record_id) is not int and (",
                  f"{indent}        type(record_id) is not str or not 0 < len(record_id) <= {longest}):",
                  f"{indent}    return None"]
    for key, sub in tree.items():
        if isinstance(sub, dict):
            child = f"{name}_{key}" if not top else key
            lines.append(f"{indent}{child} = {name}.get({key!r})")
            required = any(leaf in _REQUIRED for leaf in _leaves(sub))
            if required:
                lines.append(f"{indent}if type({child}) is not dict:")
                lines.append(f"{indent}    return None")
                _group(sub, child, indent, lines, const, tables, reads)
            else:  # absent or null: read as an empty group
                empty = const({}, "{} (an absent group: never written to)")
                lines.append(f"{indent}if {child} is None:")
                lines.append(f"{indent}    {child} = {empty}")
                lines.append(f"{indent}elif type({child}) is not dict:")
                lines.append(f"{indent}    return None")
                _group(sub, child, indent, lines, const, tables, reads)
            continue
        path: str = sub
        local = local_of(path)
        lines.append(f"{indent}{local} = {name}.get({key!r})")
        check = _check(CONTEXT_FIELDS[path].kind, local, const, tables.get(path), reads.get(path))
        if path in _REQUIRED:
            lines.append(f"{indent}if {local} is None:")
            lines.append(f"{indent}    return None")
            lines.extend(f"{indent}{line}" for line in check)
        else:
            lines.append(f"{indent}if {local} is not None:")
            lines.extend(f"{indent}    {line}" for line in check)


def _leaves(tree: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for sub in tree.values():
        out.extend(_leaves(sub) if isinstance(sub, dict) else [sub])
    return out


#: kind -> the type it is read from, the shared memo of what was read before and its note, the
#: function that reads a value it lacks and its note, the memo's key (``x``: the local)
_SHARED_MEMOS: dict[type, tuple[str, dict[Any, Any], str, Callable[[Any], Any], str, str]] = {
    Date: ("str", DATES, "DATES (memo)", date_or_bad, "date_or_bad", "{x}"),
    Statuses: ("list", STATUS_SETS, "STATUS_SETS (memo)", statuses_or_bad,
               "statuses_or_bad (implied statuses added)", "tuple({x})"),
    Diagnoses: ("list", DIAGNOSES, "DIAGNOSES (memo)", diagnoses_or_bad, "diagnoses_or_bad", "tuple({x})"),
}


def _check(kind: FieldKind, x: str, const: Const, table: str | None = None,
           read: tuple[str, str] | None = None) -> list[str]:
    """Lines that take ``x`` as ``kind`` takes it at a glance, or return None (an unhashable
    value raises TypeError in a lookup: the reader's ``except TypeError`` returns None).
    ``table``: for a word, the constant of a table keyed by every word of its vocabulary (for a
    region, of the set of the only regions to take);
    ``read``: for a date, statuses or diagnoses, the lookup and the call instead of the shared
    memo's (`reader_lines`)."""
    if isinstance(kind, WholeYears):  # compared, not looked up: no table for the cache to hold
        return [f"if type({x}) is not int or not 0 <= {x} <= 150:", "    return None"]
    if isinstance(kind, Flag):
        return [f"if type({x}) is not bool:", "    return None"]
    if isinstance(kind, Choice):  # words only: nothing but the word itself is equal to one
        # a condition's table of truths by word has every word as a key (and None, which never
        # comes here): looked up here, it is in the cache when the condition reads it
        allowed = table if table is not None else const(frozenset(kind.vocabulary), None)
        return [f"if {x} not in {allowed}:", "    return None"]
    if isinstance(kind, Region):
        if table is not None:  # the only regions it takes: codes of counties (text, six digits)
            return [f"if {x} not in {table}:", "    return None"]
        good, check = const(GOOD_REGIONS, "GOOD_REGIONS (memo)"), const(region_ok, "region_ok")
        return [f"if {x} not in {good} and not {check}({x}):", "    return None"]
    if isinstance(kind, Text):  # InstitutionName too
        good, check = const(GOOD_TEXTS, "GOOD_TEXTS (memo)"), const(text_ok, "text_ok")
        return [f"if {x} not in {good} and not {check}({x}):", "    return None"]
    bad = const(BAD, "BAD (what a fast check returns for a value it will not take)")
    for kind_class, (wanted, memo, memo_note, helper, helper_note, key) in _SHARED_MEMOS.items():
        if isinstance(kind, kind_class):
            if read is None:
                read = (f"{const(memo, memo_note)}.get({key.format(x=x)})",
                        f"{const(helper, helper_note)}({x})")
            return [f"if type({x}) is not {wanted}:", "    return None", *_memo(x, *read, bad)]
    return [f"if {x} is not None:", "    return None"]  # a kind it does not know: careful reader


def _memo(x: str, lookup: str, call: str, bad: str) -> list[str]:
    return [f"found = {lookup}", "if found is None:", f"    found = {call}", f"    if found is {bad}:",
            "        return None", f"{x} = found"]
