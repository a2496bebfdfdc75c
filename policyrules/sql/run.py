"""A roster from end to end: read in batches, answered (`RosterRun`), written as Parquet, CSV or
JSON Lines, the unanswered rows to ``OUT.errors.jsonl``; and `answer_roster`, the Python API."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from ..errors import RosterError, RosterRowsError
from ..policy import PolicySet
from .native import SLICE_ROWS, ParquetSlice, slices
from .reading import Batch, batches_of, household_table, joined
from .plan import INTERNAL_COLUMNS, RosterShape
from .roster import RosterRun

__all__ = ["RosterSummary", "answer_roster", "answer_with", "run_roster"]

_FORMATS = (".parquet", ".csv", ".jsonl")
_SHOWN = 20  # skipped row numbers the summary lists


def answer_roster(policies: PolicySet, data: Any, values: bool = False,
                  errors: list[dict[str, Any]] | None = None, today: dt.date | None = None,
                  households: Any = None) -> pa.Table:
    """`PolicySet.evaluate_roster`: the answers as one pyarrow Table."""
    run = RosterRun(policies, values_only=values, today=today)
    try:
        return answer_with(run, data, errors, households)
    finally:
        run.close()


def _batches(data: Any, households: Any, today: dt.date) -> Iterator[Batch]:
    """The validated Arrow batches of a roster, joined to a household table by household.id where
    one is given (what every engine reads)."""
    batches = batches_of(data, today)
    return batches if households is None else joined(batches, household_table(households, today))


def _members(data: Any, households: Any, today: dt.date, values: bool = False) -> Iterator[Batch | ParquetSlice]:
    """What the DuckDB run reads: a Parquet file DuckDB can read itself in slices of it
    (`policyrules.sql.native`), anything else as `_batches`."""
    if households is None and isinstance(data, (str, Path)) and Path(data).suffix.lower() == ".parquet" \
            and Path(data).is_file():
        found = slices(Path(data), today, SLICE_ROWS * (4 if values else 1))
        if found is not None:
            return found
    return _batches(data, households, today)


def answer_with(run: RosterRun, data: Any, errors: list[dict[str, Any]] | None = None,
                households: Any = None) -> pa.Table:
    """The answers of ``data`` by an existing run (its policies compiled once)."""
    tables: list[pa.Table] = []
    unanswered: list[dict[str, Any]] = []
    id_type: pa.DataType | None = None
    for batch in _members(data, households, run.today, run.values_only):
        table, bad = run.answer(batch)
        unanswered.extend(bad)
        table = table.drop_columns(list(INTERNAL_COLUMNS))
        id_type = id_type or table.schema.field("id").type
        tables.append(table)
    if errors is not None:
        errors.extend(unanswered)
    elif unanswered:
        raise RosterRowsError(unanswered)
    schema = run.schema(id_type or pa.int64())
    if not tables:
        return schema.empty_table()
    return pa.concat_tables([_conform(t, schema) for t in tables])


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


class RosterSummary:
    """What a run did: rows answered and skipped, counts per outcome and value."""

    def __init__(self, run: RosterShape, errors_path: Path, skipped_rows: list[int]) -> None:
        self.skipped_rows = skipped_rows
        self.answered = run.answered
        self.skipped = run.skipped
        self.counts = run.counts
        self.errors_path = errors_path

    def render(self) -> str:
        lines = [f"{self.answered} rows answered, {self.skipped} skipped"
                 + (f" (see {self.errors_path})" if self.skipped else "")]
        if self.skipped:
            shown = ", ".join(str(n) for n in self.skipped_rows[:_SHOWN])
            lines.append(f"  skipped rows: {shown}" + (", …" if self.skipped > _SHOWN else ""))
        for outcome, counts in self.counts.items():
            shown = ", ".join(f"{value}: {count}" for value, count in sorted(counts.items()))
            lines.append(f"  {outcome}: {shown or 'not addressed'}")
        return "\n".join(lines)


def _output_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise RosterError(f"{path}: the output is .parquet, .csv or .jsonl, not {suffix or 'a file without suffix'}")
    return suffix


def run_roster(policies: PolicySet, roster: Path, out: Path, values: bool = False,
               progress: bool | None = None, today: dt.date | None = None,
               households: Path | None = None) -> RosterSummary:
    """Answer ``roster`` into ``out`` (and ``out``.errors.jsonl); `RosterError` when it cannot be read."""
    kind = _output_kind(out)
    run = RosterRun(policies, values_only=values, today=today)
    errors_path = Path(f"{out}.errors.jsonl")
    bar = None
    if progress is None:
        progress = sys.stderr.isatty()
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc=roster.name)
    writer: _Writer | None = None
    skipped_rows: list[int] = []
    try:
        error_stream = errors_path.open("w", encoding="utf-8")
    except OSError as error:
        run.close()
        if bar is not None:
            bar.close()
        raise RosterError(f"{errors_path}: cannot write the skipped rows: {error.strerror}") from error
    try:
        with error_stream:
            for batch in _members(roster, households, run.today, run.values_only):
                table, bad = run.answer(batch)
                for item in bad:
                    error_stream.write(json.dumps(item, ensure_ascii=False) + "\n")
                    if len(skipped_rows) < _SHOWN:
                        skipped_rows.append(item["row"])
                if writer is None:
                    writer = _writer(kind, out, run, table.schema.field("id").type, encoded=True)
                writer.write(table)
                if bar is not None:
                    bar.update(len(batch))
            if writer is None:
                writer = _writer(kind, out, run, pa.int64(), encoded=True)
    finally:
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
        run.close()
    if not run.skipped:
        errors_path.unlink()
    return RosterSummary(run, errors_path, skipped_rows)


# ---------------------------------------------------------------- writers


class _Writer:
    def __init__(self, out: Path, run: RosterShape, id_type: pa.DataType, encoded: bool = False) -> None:
        self.out = out
        self.run = run
        self.schema = run.schema(id_type, encoded)

    def write(self, table: pa.Table) -> None:  # pragma: no cover - every writer overrides it
        raise AssertionError(type(self).__name__)

    def close(self) -> None:  # pragma: no cover
        raise AssertionError(type(self).__name__)


class _ParquetWriter(_Writer):
    """Parquet as the schema says, lists of strings stored as such whether the tables hold them
    plain or dictionary-encoded (``encoded``: the DuckDB run's, written without decoding them);
    the Arrow schema is not stored (it would name the encoding), the policies' sha256 are."""

    def __init__(self, out: Path, run: RosterShape, id_type: pa.DataType, encoded: bool = False) -> None:
        import pyarrow.parquet as pq

        super().__init__(out, run, id_type, encoded)
        self.file = pq.ParquetWriter(out, self.schema, store_schema=False)

    def write(self, table: pa.Table) -> None:
        self.file.write_table(_conform(table, self.schema))

    def close(self) -> None:
        metadata = self.schema.metadata or {}
        self.file.add_key_value_metadata({k.decode(): v.decode() for k, v in metadata.items()})
        self.file.close()


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return ";".join(value)
    return "" if value is None else str(value)


class _CsvWriter(_Writer):
    def __init__(self, out: Path, run: RosterShape, id_type: pa.DataType, encoded: bool = False) -> None:
        super().__init__(out, run, id_type, encoded)
        self.stream: IO[str] = out.open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.stream)
        header = ["id", "policy"]
        for outcome in run.outcomes:
            header.append(outcome)
            if not run.values_only:
                header += [f"{outcome}__{part}" for part in ("rules", "missing", "not_given")]
                if outcome in run.with_ratio:
                    header.append(f"{outcome}__target_ratio")
        self.csv.writerow(header)

    def write(self, table: pa.Table) -> None:
        run = self.run
        for row in table.drop_columns(list(INTERNAL_COLUMNS)).to_pylist():
            cells = [_text(row["id"]), row["policy"]]
            for outcome in run.outcomes:
                answer = row[outcome]
                if answer is None:
                    cells.append("")
                    width = 0 if run.values_only else 3 + (outcome in run.with_ratio)
                    cells += [""] * width
                    continue
                cells.append("unknown" if answer["value"] is None else _text(answer["value"]))
                if not run.values_only:
                    cells += [_text(answer[part]) for part in ("rules", "missing", "not_given")]
                    if outcome in run.with_ratio:
                        cells.append(_text(answer["target_ratio"]))
            self.csv.writerow(cells)

    def close(self) -> None:
        self.stream.close()


class _JsonLinesWriter(_Writer):
    def __init__(self, out: Path, run: RosterShape, id_type: pa.DataType, encoded: bool = False) -> None:
        super().__init__(out, run, id_type, encoded)
        self.stream: IO[str] = out.open("w", encoding="utf-8")
        self.outcomes_of = {p.id: p.model.outcomes() for p in run.policies}

    def write(self, table: pa.Table) -> None:
        write = self.stream.write
        for row in table.to_pylist():
            if self.run.values_only:  # the values line of the JSON Lines path
                line: dict[str, Any] = {"line": row["__row"], "id": row["id"], "policy": row["policy"],
                                        "date_used": row["__date"].isoformat(),
                                        "values": {o: row[o]["value"] for o in self.outcomes_of[row["policy"]]}}
            else:
                line = {"id": row["id"], "policy": row["policy"]}
                for outcome in self.run.outcomes:
                    answer = row[outcome]
                    if answer is not None and answer.get("target_ratio", 0) is None:
                        del answer["target_ratio"]
                    line[outcome] = answer
            write(json.dumps(line, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.stream.close()


def _writer(kind: str, out: Path, run: RosterShape, id_type: pa.DataType, encoded: bool = False) -> _Writer:
    cls = {".parquet": _ParquetWriter, ".csv": _CsvWriter, ".jsonl": _JsonLinesWriter}[kind]
    try:
        return cls(out, run, id_type, encoded)
    except OSError as error:
        raise RosterError(f"{out}: cannot write the answers: {error.strerror}") from error
