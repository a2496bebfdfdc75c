"""Reading rosters: Parquet, CSV and JSON Lines, in record batches, validated as contexts are.

Every batch becomes a `Batch`: the CONTRACT's fields as typed Arrow columns of validated values
(statuses with their implications, ages computed from birth dates on the encounter date), and
the problems of each bad row. Typed columns (Parquet, an Arrow table) and CSV text are checked
per distinct value with the fields' own ``careful`` readings (so the messages are the per-call
ones); JSON Lines and dicts are read one context at a time with `read_context` itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..context import read_context
from ..errors import ContextError, ContextProblem, RosterError
from ..fields import Date, Diagnoses, Flag, RecordId, Statuses, WholeYears
from ..jsonlines import error_object, errors_of, json_error_object, read_id, read_lines
from ..suggest import closest
from ..vocabulary import CONTEXT_FIELDS, STATUS_IMPLIES

__all__ = ["BATCH_ROWS", "FIELDS", "Batch", "batches_of", "distinct"]

#: Rows per record batch: memory stays bounded whatever the roster's size.
BATCH_ROWS = 65_536
_BIRTH = "person.birth_date"
#: The fields a batch carries (birth dates are read into ages, then dropped).
FIELDS: tuple[str, ...] = tuple(f for f in CONTEXT_FIELDS if f != _BIRTH)
_LIST_SEPARATOR = ";"
_EMPTY_LIST = "[]"
_INTEGER = re.compile(r"^[0-9]+$")


def _arrow_type(field: str) -> pa.DataType:
    kind = CONTEXT_FIELDS[field].kind
    if isinstance(kind, WholeYears):
        return pa.int64()
    if isinstance(kind, Date):
        return pa.date32()
    if isinstance(kind, Flag):
        return pa.bool_()
    if isinstance(kind, (Statuses, Diagnoses)):
        return pa.list_(pa.string())
    return pa.string()


def _canonical(field: str, value: Any) -> Any:
    """A validated value as its Arrow column holds it (statuses with their implications, sorted)."""
    if isinstance(value, frozenset):
        for status in value & frozenset(STATUS_IMPLIES):
            value = value | STATUS_IMPLIES[status]
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


class Batch:
    """Validated rows: ``rows`` (1-based numbers), ``ids``, a column per field, each bad row's errors."""

    def __init__(self, rows: pa.Array, ids: pa.Array | None, columns: dict[str, pa.Array],
                 errors: dict[int, list[dict[str, Any]]]) -> None:
        self.rows = rows
        self.ids = ids
        self.columns = columns
        #: position in the batch -> the row's error objects (only bad rows are here)
        self.errors = errors

    def __len__(self) -> int:
        return len(self.rows)

    def table(self) -> pa.Table:
        return pa.table({"__row": self.rows, **self.columns})

    def id_of(self, position: int) -> Any:
        return self.rows[position].as_py() if self.ids is None else self.ids[position].as_py()


# ---------------------------------------------------------------- distinct values


def distinct(array: pa.Array) -> tuple[list[Any], pa.Array]:
    """The distinct values of ``array`` (as Python values) and each row's index among them."""
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        return _distinct_lists(array)
    encoded = pc.dictionary_encode(array)
    return encoded.dictionary.to_pylist(), encoded.indices


def _distinct_lists(array: pa.Array) -> tuple[list[Any], pa.Array]:
    try:
        texts = pc.cast(array, pa.list_(pa.string()))
    except pa.ArrowException:  # ArrowInvalid, or a cast Arrow does not implement
        # not a list of scalars: read row by row (each row's value names its own type)
        values = array.to_pylist()
        keys = [None if v is None else json.dumps(v, default=str) for v in values]
        encoded = pc.dictionary_encode(pa.array(keys, pa.string()))
        firsts = {k: v for k, v in zip(keys, values, strict=True)}
        return [firsts[k] for k in encoded.dictionary.to_pylist()], encoded.indices
    lengths = pc.cast(pc.list_value_length(texts), pa.string())
    joined = pc.binary_join(texts, "\x1f")
    keys = pc.binary_join_element_wise(lengths, joined, "\x1e")
    # a list holding a null has no joined text: such rows are keyed apart, by their own value
    holes = pc.and_(pc.is_valid(texts), pc.is_null(joined))
    if pc.any(holes).as_py():
        odd = pc.indices_nonzero(holes).to_pylist()
        key_list = keys.to_pylist()
        for position in odd:
            key_list[position] = "\x1d" + json.dumps(texts[position].as_py())
        keys = pa.array(key_list, pa.string())
    encoded = pc.dictionary_encode(keys)
    uniques: list[Any] = []
    for key in encoded.dictionary.to_pylist():
        if key.startswith("\x1d"):
            uniques.append(json.loads(key[1:]))
            continue
        count, _, rest = key.partition("\x1e")
        uniques.append(rest.split("\x1f") if int(count) else [])
    return uniques, encoded.indices


# ---------------------------------------------------------------- typed and text columns


def _from_text(field: str, text: str) -> Any:
    """A CSV cell as the JSON value the CONTRACT writes (the field's reading then checks it)."""
    kind = CONTEXT_FIELDS[field].kind
    if isinstance(kind, WholeYears):
        return int(text) if _INTEGER.match(text) else text
    if isinstance(kind, Flag):
        return {"true": True, "false": False}.get(text, text)
    if isinstance(kind, (Statuses, Diagnoses)):
        if text == _EMPTY_LIST:
            return []
        return [item.strip() for item in text.split(_LIST_SEPARATOR)]
    return text


def _from_typed(field: str, value: Any) -> Any:
    if isinstance(CONTEXT_FIELDS[field].kind, Date) and type(value) is dt.date:
        return value.isoformat()
    return value


def _check_column(field: str, array: pa.Array, text: bool, errors: dict[int, list[dict[str, Any]]],
                  ) -> pa.Array:
    """The validated column of ``field``; each bad row's problems added to ``errors``."""
    kind = CONTEXT_FIELDS[field].kind
    uniques, indices = distinct(array)
    values: list[Any] = []
    problems_of: list[list[ContextProblem]] = []
    for raw in uniques:
        problems: list[ContextProblem] = []
        if text and raw == "":
            values.append(None)  # an empty cell: absent
        else:
            raw = _from_text(field, raw) if text else _from_typed(field, raw)
            value = kind.careful(field, raw, problems)
            values.append(None if problems else _canonical(field, value))
        problems_of.append(problems)
    flags = pa.array([bool(p) for p in problems_of], pa.bool_()).take(indices)
    if pc.any(flags).as_py():
        for position in pc.indices_nonzero(pc.fill_null(flags, False)).to_pylist():
            errors.setdefault(position, []).extend(
                error_object(p) for p in problems_of[indices[position].as_py()])
    column_type = pa.date32() if field == _BIRTH else _arrow_type(field)
    return pa.array(values, column_type).take(indices)


def _check_ids(array: pa.Array, errors: dict[int, list[dict[str, Any]]]) -> pa.Array:
    if pa.types.is_integer(array.type):
        return pc.cast(array, pa.int64())
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        length = pc.utf8_length(array)
        bad = pc.or_(pc.equal(length, 0), pc.greater(length, 128))
    else:
        bad = pc.is_valid(array)
    bad = pc.fill_null(bad, False)
    if pc.any(bad).as_py():
        for position in pc.indices_nonzero(bad).to_pylist():
            errors.setdefault(position, []).append(_id_problem(array[position].as_py()))
    return array


def _id_problem(value: Any) -> dict[str, Any]:
    problems: list[ContextProblem] = []
    RecordId().careful("id", value, problems)
    return error_object(problems[0])


def _ages(columns: dict[str, pa.Array], birth: pa.Array, today: dt.date,
          errors: dict[int, list[dict[str, Any]]]) -> None:
    """Ages from birth dates on the encounter date (as `read_context`), a birth after it a problem."""
    if birth.null_count == len(birth):
        return
    day = pc.fill_null(columns["encounter.date"], pa.scalar(today, pa.date32()))
    late = pc.fill_null(pc.greater(birth, day), False)
    if pc.any(late).as_py():
        for position in pc.indices_nonzero(late).to_pylist():
            if position not in errors:
                errors[position] = [error_object(ContextProblem(
                    _BIRTH, f"{birth[position].as_py()} is after the encounter date {day[position].as_py()}"))]
    before = pc.or_(pc.less(pc.month(day), pc.month(birth)),
                    pc.and_(pc.equal(pc.month(day), pc.month(birth)), pc.less(pc.day(day), pc.day(birth))))
    years = pc.subtract(pc.subtract(pc.year(day), pc.year(birth)), pc.cast(before, pa.int64()))
    age = columns["person.age"]
    columns["person.age"] = pc.if_else(pc.is_null(age), pc.cast(years, pa.int64()), age)


def _columnar(table: pa.Table, first_row: int, text: bool, today: dt.date) -> Batch:
    errors: dict[int, list[dict[str, Any]]] = {}
    n = table.num_rows
    ids = _check_ids(table.column("id").combine_chunks(), errors) if "id" in table.column_names else None
    columns: dict[str, pa.Array] = {}
    for field in FIELDS:
        if field in table.column_names:
            columns[field] = _check_column(field, table.column(field).combine_chunks(), text, errors)
        else:
            columns[field] = pa.nulls(n, _arrow_type(field))
    if _BIRTH in table.column_names:
        birth = _check_column(_BIRTH, table.column(_BIRTH).combine_chunks(), text, errors)
        _ages(columns, birth, today, errors)
    rows = pa.array(range(first_row, first_row + n), pa.int64())
    return Batch(rows, ids, columns, errors)


def check_columns(names: Iterable[str], where: str) -> None:
    """A roster's columns must be CONTRACT fields (or ``id``): `RosterError` naming any other."""
    known = [*CONTEXT_FIELDS, "id"]
    for name in names:
        if name not in CONTEXT_FIELDS and name != "id":
            close = closest(name, known)
            hint = f" (did you mean '{close}'?)" if close else " (see docs/contract.md for the fields)"
            raise RosterError(f"{where}: the column {name!r} is not a context field of the CONTRACT{hint}")


def flatten(table: pa.Table) -> pa.Table:
    """A nested table (Parquet, an Arrow table) with one column per dotted field."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


# ---------------------------------------------------------------- contexts one by one


def _contexts(items: Iterable[tuple[int, Any, list[dict[str, Any]]]], today: dt.date) -> Iterator[Batch]:
    """(row, context or None, problems already found) -> batches, each context read by `read_context`."""
    rows: list[int] = []
    ids: list[Any] = []
    values: dict[str, list[Any]] = {f: [] for f in FIELDS}
    errors: dict[int, list[dict[str, Any]]] = {}

    def flush() -> Batch:
        id_array: pa.Array | None = None
        if any(i is not None for i in ids):  # a context without an id is known by its row number
            filled = [row if i is None else i for row, i in zip(rows, ids, strict=True)]
            if all(type(i) is int for i in filled):
                id_array = pa.array(filled, pa.int64())
            else:
                id_array = pa.array([str(i) for i in filled], pa.string())
        columns = {f: pa.array(v, _arrow_type(f)) for f, v in values.items()}
        return Batch(pa.array(rows, pa.int64()), id_array, columns, dict(errors))

    for row, context, problems in items:
        position = len(rows)
        rows.append(row)
        found: list[dict[str, Any]] = list(problems)
        the_id = None
        facts_values: Mapping[str, Any] = {}
        if context is not None and not problems:
            try:
                facts = read_context(context, today)
                facts_values, the_id = facts.values, facts.id
            except ContextError as error:
                found.extend(errors_of(error))
                the_id = read_id(context)
        ids.append(the_id)
        if found:
            errors[position] = found
            facts_values = {}
        for field in FIELDS:
            value = facts_values.get(field)
            values[field].append(None if value is None else _canonical(field, value))
        if len(rows) >= BATCH_ROWS:
            yield flush()
            rows.clear()
            ids.clear()
            errors.clear()
            for column in values.values():
                column.clear()
    if rows:
        yield flush()


def _json_lines(path: Path) -> Iterator[tuple[int, Any, list[dict[str, Any]]]]:
    """The lines of a JSON Lines roster as the JSON Lines path reads them (`read_lines`)."""
    try:
        stream = path.open("rb")
    except OSError as error:
        raise RosterError(f"{path}: cannot read the roster: {error.strerror}") from error
    with stream:
        for line in read_lines(stream):
            if line.error is not None:
                yield line.number, None, [json_error_object(line.error)]
            else:
                yield line.number, line.value, []


def _csv(path: Path, today: dt.date) -> Iterator[Batch]:
    try:
        stream = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise RosterError(f"{path}: cannot read the roster: {error.strerror}") from error
    with stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as error:
            raise RosterError(f"{path}: cannot read the header: {error}") from error
        if not header:
            raise RosterError(f"{path}: the roster has no header line")
        check_columns(header, str(path))
        if len(set(header)) != len(header):
            raise RosterError(f"{path}: a column is named twice in the header")
        width = len(header)
        row = 0
        while True:
            cells: list[list[str | None]] = [[] for _ in header]
            wrong: dict[int, list[dict[str, Any]]] = {}
            count = 0
            try:
                for record in reader:
                    row += 1
                    if len(record) != width:
                        wrong[count] = [error_object(ContextProblem(
                            "(context)", f"has {len(record)} columns where the header has {width}",
                            "quote a value holding a comma"))]
                        record = [""] * width
                    for i, cell in enumerate(record):
                        cells[i].append(cell)
                    count += 1
                    if count >= BATCH_ROWS:
                        break
            except (UnicodeDecodeError, csv.Error) as error:
                raise RosterError(f"{path}: row {row}: cannot be read: {error}") from error
            if not count:
                return
            table = pa.table({name: pa.array(column, pa.string()) for name, column in zip(header, cells,
                                                                                          strict=True)})
            batch = _columnar(table, row - count + 1, True, today)
            for position, problems in wrong.items():
                batch.errors[position] = problems
            yield batch
            if count < BATCH_ROWS:
                return


def _parquet(path: Path, today: dt.date) -> Iterator[Batch]:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise RosterError(f"{path}: cannot read the roster as Parquet: {error}") from error
    check_columns(flatten(file.schema_arrow.empty_table()).column_names, str(path))  # even with no rows
    yield from _tables((pa.Table.from_batches([b]) for b in file.iter_batches(batch_size=BATCH_ROWS)),
                       str(path), today)


def _tables(tables: Iterable[pa.Table], where: str, today: dt.date) -> Iterator[Batch]:
    first = 1
    for table in tables:
        flat = flatten(table)
        check_columns(flat.column_names, where)
        yield _columnar(flat, first, False, today)
        first += flat.num_rows


def batches_of(data: Any, today: dt.date) -> Iterator[Batch]:
    """The batches of a roster: a path (.parquet, .csv, .jsonl), a pyarrow Table, a pandas or
    polars DataFrame, or an iterable of context dicts."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise RosterError(f"{path}: no such roster file")
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return _parquet(path, today)
        if suffix == ".csv":
            return _csv(path, today)
        if suffix == ".jsonl":
            return _contexts(_json_lines(path), today)
        raise RosterError(f"{path}: a roster is .parquet, .csv or .jsonl, not {suffix or 'a file without suffix'}")
    if isinstance(data, pa.Table):
        return _tables((pa.Table.from_batches([b]) for b in data.to_batches(max_chunksize=BATCH_ROWS)),
                       "the roster", today)
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return batches_of(pa.Table.from_pandas(data, preserve_index=False), today)
    if module == "polars":
        return batches_of(data.to_arrow(), today)
    if isinstance(data, (io.IOBase, bytes, Mapping)):
        raise RosterError(f"a roster is a path, a table or an iterable of contexts, not {type(data).__name__}")
    return _contexts(((row, context, []) for row, context in enumerate(data, start=1)), today)


# ---------------------------------------------------------------- households joined to members


def household_table(data: Any, today: dt.date) -> dict[Any, list[str] | None]:
    """A household table (columns ``household.id`` and ``household.statuses``, read and
    validated as a roster is): household id -> its statuses (None: not given). A bad row, a
    household given twice or a column that is not a household's is a `RosterError`."""
    found: dict[Any, list[str] | None] = {}
    for batch in batches_of(data, today):
        for position, problems in batch.errors.items():
            raise RosterError(f"the household table, row {batch.rows[position].as_py()}: "
                              + "; ".join(f"{p['field']}: {p['message']}" for p in problems))
        given = [f for f, column in batch.columns.items() if column.null_count < len(column)]
        others = [f for f in given if not f.startswith("household.")]
        if others:
            raise RosterError(f"the household table has columns that are not a household's: {', '.join(others)}")
        ids = batch.columns["household.id"].to_pylist()
        statuses = batch.columns["household.statuses"].to_pylist()
        for row, (household, held) in enumerate(zip(ids, statuses, strict=True), start=1):
            if household is None:
                raise RosterError(f"the household table, row {batch.rows[row - 1].as_py()}: household.id is empty")
            if household in found:
                raise RosterError(f"the household table lists household {household!r} twice")
            found[household] = held
    return found


def joined(batches: Iterable[Batch], households: Mapping[Any, list[str] | None]) -> Iterator[Batch]:
    """Member batches with each member's ``household.statuses`` taken from ``households`` by its
    ``household.id`` (a member whose household is not in the table: unknown)."""
    for batch in batches:
        statuses = batch.columns["household.statuses"]
        if statuses.null_count < len(statuses):
            raise RosterError("the roster has a household.statuses column and a household table: give one")
        ids = batch.columns["household.id"].to_pylist()
        batch.columns["household.statuses"] = pa.array([households.get(h) for h in ids], pa.list_(pa.string()))
        yield batch
