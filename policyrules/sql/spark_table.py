"""A roster read from a catalog table on Spark (``--table db.admissions``), validated where it lies.

The checks are those `policyrules.sql.reading` makes on a typed column, per distinct value, with
the same code (`_check_column`, the fields' ``careful`` readings, so the same messages): Spark
finds each column's distinct values, the driver checks them and sends back the validated value
and the problems of each, joined with a broadcast hint. Ages come from birth dates on the
encounter date in Spark SQL, as `reading._ages` computes them. A table has no row order: a row's
number is Spark's ``monotonically_increasing_id() + 1`` (unique and increasing in the order the
table is read, not consecutive), so name rows by an ``id`` column.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import IntegralType, StringType, StructType

from ..errors import ContextProblem, RosterError
from ..jsonlines import error_object
from .reading import FIELDS, _arrow_type, _check_column, _id_problem, check_columns

__all__ = ["read_table"]

_BIRTH = "person.birth_date"
_SPARK_TYPES = {pa.int64(): "bigint", pa.date32(): "date", pa.bool_(): "boolean",
                pa.list_(pa.string()): "array<string>", pa.string(): "string"}


def _leaves(schema: StructType, parts: tuple[str, ...] = ()) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each leaf column: its dotted name and its path (nested structs and dotted names alike)."""
    for field in schema.fields:
        if isinstance(field.dataType, StructType):
            yield from _leaves(field.dataType, (*parts, field.name))
        else:
            yield ".".join((*parts, field.name)), (*parts, field.name)


def _quoted(*parts: str) -> Column:
    return F.col(".".join("`" + part.replace("`", "``") + "`" for part in parts))


def read_table(spark: Any, name: str, today: dt.date) -> tuple[DataFrame, pa.DataType, list[dict[str, Any]]]:
    """The good rows of table ``name`` (``__row``, ``__id``, a column per field, as `SparkRun.load`
    gives them), the id type, and the bad rows' entries of ``OUT.errors.jsonl``."""
    try:
        frame = spark.table(name)
    except Exception as error:  # no such table, no catalog: one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RosterError(f"{name}: cannot read the table: {first}") from error
    leaves = dict(_leaves(frame.schema))
    check_columns(list(leaves), name)
    types = {n: t for n, t in ((".".join(p), frame.select(_quoted(*p)).schema.fields[0].dataType)
                               for p in leaves.values())}
    frame = frame.select(*[_quoted(*path).alias(dotted) for dotted, path in leaves.items()])
    frame = frame.withColumn("__row", F.monotonically_increasing_id() + 1)
    flags: list[str] = []
    if "id" in leaves:
        kind = types["id"]
        if isinstance(kind, IntegralType):
            frame, id_type = frame.withColumn("__id", _quoted("id").cast("bigint")), pa.int64()
        else:
            id_type = pa.string()
            text = _quoted("id").cast("string")
            wrong = (F.length(text).between(1, 128) == F.lit(False)) if isinstance(kind, StringType) \
                else _quoted("id").isNotNull()
            frame = frame.withColumn("__id", text).withColumn("__bad_id", F.when(wrong, F.lit("id")))
            flags.append("__bad_id")
    else:
        frame, id_type = frame.withColumn("__id", F.col("__row")), pa.int64()
    for number, field in enumerate((*FIELDS, _BIRTH)):
        if field not in leaves:
            if field != _BIRTH:
                frame = frame.withColumn(field, F.lit(None).cast(_SPARK_TYPES[_arrow_type(field)]))
            continue
        raw = frame.select(_quoted(field)).distinct().toArrow().column(0).combine_chunks()
        errors: dict[int, list[dict[str, Any]]] = {}
        checked = _check_column(field, raw, False, errors)
        lookup = spark.createDataFrame(pa.table({
            "__raw": raw, "__ok": checked,
            "__problems": pa.array([json.dumps(errors[i]) if i in errors else None for i in range(len(raw))],
                                   pa.string())}))
        frame = (frame.join(F.broadcast(lookup), _quoted(field).eqNullSafe(F.col("__raw")), "left")
                 .drop("__raw", field).withColumnRenamed("__ok", field)
                 .withColumnRenamed("__problems", f"__bad{number}"))
        flags.append(f"__bad{number}")
    day = F.coalesce(_quoted("encounter.date"), F.lit(today))
    if _BIRTH in leaves:
        birth = _quoted(_BIRTH)
        before = ((F.month(day) < F.month(birth))
                  | ((F.month(day) == F.month(birth)) & (F.dayofmonth(day) < F.dayofmonth(birth))))
        years = F.year(day) - F.year(birth) - before.cast("int")
        frame = frame.withColumn("person.age", F.coalesce(_quoted("person.age"), years.cast("bigint")))
        frame = frame.withColumn("__late", F.when(birth > day, F.lit("late")))
        flags.append("__late")
    bad = F.lit(False)
    for flag in flags:
        bad = bad | F.col(flag).isNotNull()
    frame = frame.withColumn("__is_bad", bad)
    unanswered = []
    shown = ["__row", "__id", *flags] + ([_quoted(_BIRTH).alias("__birth"), day.alias("__day")]
                                         if _BIRTH in leaves else []) + ([_quoted("id").alias("__raw_id")]
                                                                         if "id" in leaves else [])
    for row in frame.where(F.col("__is_bad")).select(*shown).orderBy("__row").toLocalIterator():
        found: list[dict[str, Any]] = []
        for flag in flags:
            if row[flag] is None:
                continue
            if flag == "__bad_id":
                found.append(_id_problem(row["__raw_id"]))
            elif flag == "__late":
                if not found:
                    found.append(error_object(ContextProblem(
                        _BIRTH, f"{row['__birth']} is after the encounter date {row['__day']}")))
            else:
                found.extend(json.loads(row[flag]))
        unanswered.append({"row": row["__row"], "id": row["__raw_id"] if "id" in leaves else row["__id"],
                           "errors": found})
    good = frame.where(~F.col("__is_bad")).select("__row", "__id", *[_quoted(f).alias(f) for f in FIELDS])
    return good, id_type, unanswered
