"""A Parquet roster read by DuckDB itself, validated in SQL, in slices of rows.

Reading a Parquet file into Arrow, validating it there and handing it to DuckDB costs more than
answering it; so where every column of the file has a type the CONTRACT's field can take
(`eligible`), DuckDB reads the file (``read_parquet``) and each slice of `SLICE_ROWS` rows is the
relation ``__base`` of `policyrules.sql.roster` (a view: the CONTRACT's fields, ``__row``,
``__id``, ``__bad``). Validation stays the per-call one: the distinct values of each column (the
distinct items of a list column) are judged once by the field's ``careful`` reading; the rows
holding a bad one (few) are fetched and described in Python exactly as `reading._columnar` does,
in the same order. Any other file is read by `policyrules.sql.reading` into Arrow batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from ..errors import ContextProblem, RosterError
from ..fields import Date, Diagnoses, Flag, RecordId, Statuses, WholeYears
from ..jsonlines import error_object
from ..vocabulary import CONTEXT_FIELDS
from .reading import _BIRTH, FIELDS, _arrow_type, _from_typed, _id_problem, check_columns

__all__ = ["SLICE_ROWS", "ParquetSlice", "eligible", "slices"]

#: Rows per slice of full answers: memory stays bounded whatever the roster's size (DuckDB
#: streams the file; a slice's answers, lists per row, are ~1.5 KB a row in Arrow). Values alone
#: take far less room per row: their slices are four times as long (fewer queries).
SLICE_ROWS = 131_072
_LISTS = (Statuses, Diagnoses)
#: Fields holding record ids (one per household: too many to judge value by value).
_RECORDS = tuple(f for f in FIELDS if isinstance(CONTEXT_FIELDS[f].kind, RecordId))
_SQL_TYPES = {"int64": "BIGINT", "date32[day]": "DATE", "bool": "BOOLEAN", "list<item: string>": "VARCHAR[]",
              "string": "VARCHAR"}


def _leaves(schema: pa.Schema) -> list[tuple[str, list[str], pa.DataType]]:
    """(dotted name, path of struct fields, type) of every leaf column of a nested schema."""
    found: list[tuple[str, list[str], pa.DataType]] = []

    def walk(prefix: list[str], field: pa.Field) -> None:
        if pa.types.is_struct(field.type):
            for child in field.type:
                walk([*prefix, field.name], child)
        else:
            found.append((".".join([*prefix, field.name]), [*prefix, field.name], field.type))

    for field in schema:
        walk([], field)
    return found


def _string(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _fits(name: str, kind: pa.DataType) -> bool:
    """Whether a column of type ``kind`` can hold good values of ``name`` (else: the Arrow path)."""
    if name == "id":
        return _string(kind) or bool(pa.types.is_signed_integer(kind))
    if pa.types.is_null(kind):  # no value at all: the field is absent
        return True
    field = CONTEXT_FIELDS[name].kind
    if isinstance(field, WholeYears):
        return bool(pa.types.is_integer(kind))
    if isinstance(field, Flag):
        return bool(pa.types.is_boolean(kind))
    if isinstance(field, Date):
        return bool(pa.types.is_date32(kind)) or _string(kind)
    if isinstance(field, _LISTS):
        listed = pa.types.is_list(kind) or pa.types.is_large_list(kind)
        return bool(listed) and (_string(kind.value_type) or bool(pa.types.is_null(kind.value_type)))
    if isinstance(field, RecordId):
        return _string(kind)
    return _string(kind)


def eligible(path: Path) -> list[tuple[str, list[str], pa.DataType]] | None:
    """The leaf columns of a Parquet roster DuckDB can read itself, or None (read it into Arrow).
    A column that is not a CONTRACT field is a `RosterError`, as on every path."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise RosterError(f"{path}: cannot read the roster as Parquet: {error}") from error
    leaves = _leaves(schema)
    check_columns([name for name, _, _ in leaves], str(path))
    names = [name for name, _, _ in leaves]
    if len(set(names)) != len(names) or not all(_fits(name, kind) for name, _, kind in leaves):
        return None
    if any(c in str(path) for c in "*?[]{}"):  # read_parquet would take the name for a glob
        return None
    return leaves


def _source(path: Path, leaves: list[tuple[str, list[str], pa.DataType]]) -> tuple[exp.Expr, dict[str, exp.Expr]]:
    """``read_parquet`` of the file, and each leaf column as an expression over it."""
    source = exp.func("read_parquet", exp.Literal.string(str(path)),
                      exp.EQ(this=exp.column("file_row_number"), expression=exp.true()))
    reads: dict[str, exp.Expr] = {}
    for name, parts, kind in leaves:
        node: exp.Expr = exp.column(exp.to_identifier(parts[0], quoted=True))
        for part in parts[1:]:
            node = exp.func("struct_extract", node, exp.Literal.string(part))
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            node = exp.cast(node, "VARCHAR[]")  # a list of nothing but nulls is typed null
        reads[name] = node
    return source, reads


class ParquetSlice:
    """Rows ``start`` to ``stop`` (0-based, stop excluded) of a Parquet roster read by DuckDB."""

    def __init__(self, roster: _Roster, start: int, stop: int) -> None:
        self.roster, self.start, self.stop = roster, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def create(self, con: Any) -> tuple[dict[int, list[dict[str, Any]]], dict[int, Any]]:
        """The view ``__base`` of the slice; the errors of its bad rows and their ids, by row number."""
        return self.roster.create(con, self.start, self.stop)


class _Roster:
    def __init__(self, path: Path, leaves: list[tuple[str, list[str], pa.DataType]], today: dt.date,
                 rows: int) -> None:
        self.path, self.today, self.rows = path, today, rows
        leaves = [leaf for leaf in leaves if not pa.types.is_null(leaf[2])]  # absent, as a missing column
        self.types = {name: kind for name, _, kind in leaves}
        self.source, self.reads = _source(path, leaves)
        #: field -> {raw value (lists: each item) -> its problems}, judged once
        self.judged: dict[str, dict[Any, list[ContextProblem]]] = {}
        #: list field -> whether a list of it held a null item (a bad row)
        self.holes: dict[str, bool] = {}

    # ------------------------------------------------------------ SQL

    def _from(self, start: int, stop: int) -> exp.Select:
        number = exp.column("file_row_number")
        where = exp.and_(exp.GTE(this=number, expression=exp.Literal.number(start)),
                         exp.LT(this=number, expression=exp.Literal.number(stop)))
        return exp.select().from_(self.source.copy()).where(where)

    def _value(self, field: str) -> exp.Expr:
        """The column of ``field`` as the answering SQL reads it (good rows: the validated value)."""
        kind = CONTEXT_FIELDS[field].kind
        if field not in self.reads:
            return exp.cast(exp.Null(), _SQL_TYPES[str(_arrow_type(field))])
        read = self.reads[field].copy()
        if isinstance(kind, WholeYears):  # a value too big for BIGINT is a bad row's
            return exp.TryCast(this=read, to=exp.DataType.build("BIGINT"))
        if isinstance(kind, Date) and _string(self.types[field]):
            return exp.TryCast(this=exp.func("LEFT", read, exp.Literal.number(10)), to=exp.DataType.build("DATE"))
        return read

    def _birth_age(self) -> exp.Expr:
        """Whole years from the birth date to the encounter date (or the run's day), as `_ages`."""
        birth = self._value(_BIRTH)
        day = exp.Coalesce(this=self._value("encounter.date"),
                           expressions=[exp.cast(exp.Literal.string(self.today.isoformat()), "DATE")])

        def part(name: str, of: exp.Expr) -> exp.Expr:
            return exp.func("date_part", exp.Literal.string(name), of.copy())

        before = exp.or_(exp.LT(this=part("month", day), expression=part("month", birth)),
                         exp.and_(exp.EQ(this=part("month", day), expression=part("month", birth)),
                                  exp.LT(this=part("day", day), expression=part("day", birth))))
        years = exp.Sub(this=exp.Sub(this=part("year", day), expression=part("year", birth)),
                        expression=exp.cast(before, "BIGINT"))
        return years

    def _late(self) -> exp.Expr:
        day = exp.Coalesce(this=self._value("encounter.date"),
                           expressions=[exp.cast(exp.Literal.string(self.today.isoformat()), "DATE")])
        return exp.func("COALESCE", exp.GT(this=self._value(_BIRTH), expression=day), exp.false())

    def _bad_tests(self) -> list[exp.Expr]:
        """One test per column that may hold a bad value (none for a column whose values are all good)."""
        tests: list[exp.Expr] = []
        for name in ("id", *_RECORDS):  # record ids are many: checked in SQL (RecordId's limits)
            if name in self.reads and _string(self.types[name]):
                length = exp.func("length", self.reads[name].copy())
                tests.append(exp.func("COALESCE", exp.or_(
                    exp.EQ(this=length, expression=exp.Literal.number(0)),
                    exp.GT(this=length, expression=exp.Literal.number(RecordId.MAX_LENGTH))), exp.false()))
        for field in (*FIELDS, _BIRTH):
            bad = [raw for raw, problems in self.judged.get(field, {}).items() if problems]
            lists = isinstance(CONTEXT_FIELDS[field].kind, _LISTS)
            if field not in self.reads or not (bad or (lists and self.holes.get(field))):
                continue
            read = self.reads[field].copy()
            literals: list[exp.Expr] = [exp.Literal.number(v) if isinstance(v, int) and not isinstance(v, bool)
                                        else exp.Boolean(this=v) if isinstance(v, bool)
                                        else exp.Literal.string(v.isoformat() if isinstance(v, dt.date) else v)
                                        for v in bad if v is not None]
            if lists:
                held = exp.func("list_has_any", read, exp.Array(expressions=literals)) if literals else exp.false()
                holes = exp.NEQ(this=exp.func("len", read.copy()), expression=exp.func("list_count", read.copy()))
                test: exp.Expr = exp.or_(held, holes)
            else:
                target = read if not isinstance(CONTEXT_FIELDS[field].kind, Date) else exp.cast(read, "VARCHAR")
                test = exp.In(this=target, expressions=literals)
            tests.append(exp.func("COALESCE", test, exp.false()))
        if _BIRTH in self.reads:
            tests.append(self._late())
        return tests

    # ------------------------------------------------------------ validation

    def judge(self, con: Any, start: int, stop: int) -> None:
        """The slice's distinct values (items of lists) not judged before, judged by ``careful``."""
        for field in (*FIELDS, _BIRTH):
            if field not in self.reads or field in _RECORDS:
                continue
            read = self.reads[field].copy()
            item = exp.func("unnest", read) if isinstance(CONTEXT_FIELDS[field].kind, _LISTS) else read
            query = self._from(start, stop).select(exp.alias_(item, "v", quoted=True)).distinct()
            judged = self.judged.setdefault(field, {})
            self.holes.setdefault(field, False)
            for (raw,) in con.execute(query.sql("duckdb")).fetchall():
                if raw is None:
                    self.holes[field] = isinstance(CONTEXT_FIELDS[field].kind, _LISTS)
                    continue
                if raw in judged:
                    continue
                problems: list[ContextProblem] = []
                kind = CONTEXT_FIELDS[field].kind
                if isinstance(kind, _LISTS):
                    kind.careful(field, [raw], problems)
                else:
                    kind.careful(field, _from_typed(field, raw), problems)
                judged[raw] = problems

    def create(self, con: Any, start: int, stop: int) -> tuple[dict[int, list[dict[str, Any]]], dict[int, Any]]:
        if not self.judged:  # once, over the whole file: a column's distinct values are few
            self.judge(con, 0, self.rows)
        tests = self._bad_tests()
        bad = exp.or_(*tests) if tests else exp.false()
        row = exp.Add(this=exp.column("file_row_number"), expression=exp.Literal.number(1))
        the_id: exp.Expr = row.copy()
        if "id" in self.reads:
            the_id = self.reads["id"].copy()
            if not _string(self.types["id"]):
                the_id = exp.cast(the_id, "BIGINT")
        projections: list[exp.Expr] = [exp.alias_(row, "__row", quoted=True), exp.alias_(the_id, "__id", quoted=True)]
        for field in FIELDS:
            value = self._value(field)
            if field == "person.age" and _BIRTH in self.reads:
                value = exp.Coalesce(this=value, expressions=[self._birth_age()])
            projections.append(exp.alias_(value, field, quoted=True))
        projections.append(exp.alias_(bad.copy(), "__bad", quoted=True))
        view = self._from(start, stop).select(*projections)
        con.execute(f"CREATE OR REPLACE TEMP VIEW __base AS {view.sql('duckdb')}")
        if not tests:
            return {}, {}
        return self._describe(con, start, stop, bad)

    def _describe(self, con: Any, start: int, stop: int, bad: exp.Expr) -> tuple[dict[int, list[dict[str, Any]]],
                                                                                   dict[int, Any]]:
        """The bad rows of the slice, each described as `reading._columnar` describes it."""
        fields = [f for f in ("id", *FIELDS, _BIRTH) if f in self.reads]
        projections: list[exp.Expr] = [exp.Add(this=exp.column("file_row_number"), expression=exp.Literal.number(1))]
        projections += [self.reads[f].copy() for f in fields]
        if _BIRTH in self.reads:
            projections += [self._value(_BIRTH), exp.Coalesce(this=self._value("encounter.date"), expressions=[
                exp.cast(exp.Literal.string(self.today.isoformat()), "DATE")])]
        query = self._from(start, stop).select(*projections).where(bad, append=True)
        errors: dict[int, list[dict[str, Any]]] = {}
        ids: dict[int, Any] = {}
        for found in con.execute(query.sql("duckdb")).fetchall():
            row, values = found[0], dict(zip(fields, found[1:1 + len(fields)], strict=True))
            problems: list[dict[str, Any]] = []
            raw_id = values.get("id")
            if "id" in values and raw_id is not None and not (isinstance(raw_id, int) or 0 < len(raw_id) <= 128):
                problems.append(_id_problem(raw_id))
            for field in (*FIELDS, _BIRTH):
                raw = values.get(field)
                if raw is None:
                    continue
                found_problems: list[ContextProblem] = []
                CONTEXT_FIELDS[field].kind.careful(field, _from_typed(field, raw), found_problems)
                problems.extend(error_object(p) for p in found_problems)
            if not problems and _BIRTH in values and values[_BIRTH] is not None:
                birth, day = found[-2], found[-1]
                if birth is not None and birth > day:
                    problems.append(error_object(ContextProblem(_BIRTH, f"{birth} is after the encounter date {day}")))
            if problems:
                errors[row] = problems
                ids[row] = row if "id" not in values else raw_id
        return errors, ids


def slices(path: Path, today: dt.date, size: int = SLICE_ROWS) -> Iterator[ParquetSlice] | None:
    """The slices (of ``size`` rows) of a Parquet roster DuckDB reads itself, or None where it
    cannot (see `eligible`)."""
    leaves = eligible(path)
    if leaves is None:
        return None
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    roster = _Roster(path, leaves, today, rows)
    return (ParquetSlice(roster, start, min(start + size, rows)) for start in range(0, rows, size))

