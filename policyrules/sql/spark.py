"""A roster answered on Spark (issue 18): the DuckDB run's algorithm, with Spark doing the SQL.

`SparkRun` shares `RosterPlan` with the DuckDB run: the same compiled policies (their SELECTs
generated in the ``spark`` dialect from the same sqlglot trees), the same schema, structs and
counts. Every step the DuckDB run prepares in Python per distinct value is done the same way
here, with Spark finding the distinct values: the distinct institution names, (diagnoses, age)
pairs and truth signatures are collected to the driver (they are few), answered by the shared code
(`normalise_name`, `CatalogIndex.match`, `Explainer`) and sent back as small tables joined with a
broadcast hint; no Python function runs on Spark's rows.

Rows come in as the DuckDB run reads them (`batches_of`: the same validation, bad rows and
messages); in local mode the validated rows are staged as one Parquet file that Spark reads, and
the answers are staged as Parquet in row order and read back in record batches for the writers of
`policyrules.sql.run`, so memory stays bounded. On a cluster or through Spark Connect the
validated batches are sent from the driver and the answers come back through
``toLocalIterator``; a catalog table (`SparkRun.from_table`) is read where it lies.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sqlglot import exp

from ..determination import Outcome
from ..engines.matching import normalise_name
from ..errors import ContextProblem, RosterError
from ..jsonlines import error_object
from ..policy import PolicySet
from ..vocabulary import LIST_OUTCOMES
from .compiler import NAME_COLUMN, catalog_column, column, generate, match_column
from .reading import Batch
from .plan import RosterPlan
from .run import _SHOWN, RosterSummary, _batches, _output_kind, _writer

__all__ = ["SparkRun", "run_spark_roster", "spark_session"]

_ROWS_BACK = 65_536  # rows per table handed to the writers
_NAME_IN, _P_IN, _DIAGNOSES_IN, _AGE_IN = "__name_in", "__p_in", "__diagnoses_in", "__age_in"
_AGE_KEY = "__age_key"  # the age where the row's policy has a catalog reading ages, else NULL


def spark_session(master: str | None = None, remote: str | None = None) -> SparkSession:
    """The session a run uses: Spark Connect at ``remote`` (default: the ``SPARK_REMOTE``
    environment variable) unless a ``master`` is given, else a session on ``master`` (default: the
    one spark-submit was given, else ``local[*]``), with Arrow transfers on."""
    remote = remote if remote is not None else (None if master else os.environ.get("SPARK_REMOTE"))
    builder: Any = SparkSession.builder.appName("policyrules roster")
    if remote:
        session: SparkSession = builder.remote(remote).getOrCreate()
        return session
    if master:  # else spark-submit's master, or Spark's default, local[*]
        builder = builder.master(master)
    if (master or "local").startswith("local") and "PYSPARK_GATEWAY_PORT" not in os.environ:
        # one machine, not spark-submit: Spark's 200 shuffle partitions halve the speed here
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
    session = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate()
    return session


def _is_local(spark: SparkSession) -> bool:
    """Whether the driver's files are the executors' files (a classic session in local mode)."""
    try:
        master = spark.sparkContext.master
    except Exception:  # Spark Connect has no SparkContext on the client
        return False
    return bool(master) and str(master).startswith("local")


def _name(name: str) -> Any:
    """A DataFrame column by its exact name (dotted CONTRACT names are not struct paths here)."""
    return F.col(exp.to_identifier(name, quoted=True).sql("spark"))


def _spark_type(arrow: pa.DataType) -> str:
    return {pa.bool_(): "boolean", pa.float64(): "double", pa.list_(pa.string()): "array<string>"}[arrow]


def _unanswered(row: int, the_id: Any, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"row": row, **({} if the_id is None else {"id": the_id}), "errors": errors}


class SparkRun(RosterPlan):
    """A roster's answers on Spark, with the counts the summary prints (as `RosterRun`)."""

    def __init__(self, policies: PolicySet, spark: SparkSession, values_only: bool = False,
                 today: dt.date | None = None) -> None:
        super().__init__(policies, values_only, today, dialect="spark")
        self.spark = spark
        self.local = _is_local(spark)
        self.folder = Path(tempfile.mkdtemp(prefix="policyrules-spark-"))
        self.id_type: pa.DataType = pa.int64()
        #: each policy's answers, per outcome, by the index its rows carry in ``a:OUTCOME``
        self.answers: dict[str, dict[str, list[Outcome]]] = {}
        self._persisted: list[DataFrame] = []
        self._views = 0

    def close(self) -> None:
        for frame in self._persisted:
            frame.unpersist()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _view(self, frame: DataFrame) -> str:
        self._views += 1
        name = f"__policyrules_{id(self)}_{self._views}"
        frame.createOrReplaceTempView(name)
        return name

    def _keep(self, frame: DataFrame) -> DataFrame:
        frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
        self._persisted.append(frame)
        return frame

    # ------------------------------------------------------------ rows in

    def load(self, batches: Iterable[Batch]) -> tuple[DataFrame | None, list[dict[str, Any]]]:
        """The validated good rows of ``batches`` as a Spark DataFrame (``__row``, ``__id`` and a
        column per field; None without any), and the bad rows' entries of ``OUT.errors.jsonl``."""
        errors: list[dict[str, Any]] = []
        tables: list[pa.Table] = []
        writer: pq.ParquetWriter | None = None
        staged = self.folder / "roster.parquet"
        schema: pa.Schema | None = None
        for batch in batches:
            for position in sorted(batch.errors):
                errors.append(_unanswered(batch.rows[position].as_py(), batch.id_of(position),
                                          batch.errors[position]))
            table = batch.table()
            table = table.append_column("__id", batch.rows if batch.ids is None else batch.ids)
            if batch.errors:
                table = table.filter(pa.array([i not in batch.errors for i in range(len(batch))], pa.bool_()))
            if schema is None:
                schema = table.schema
                self.id_type = schema.field("__id").type
            table = table.cast(schema)
            if not table.num_rows:
                continue
            if not self.local:
                tables.append(table)
                continue
            if writer is None:
                writer = pq.ParquetWriter(staged, schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
            return self.spark.read.parquet(str(staged)), errors
        if tables:
            frames = [self.spark.createDataFrame(t) for t in tables]
            frame = frames[0]
            for other in frames[1:]:
                frame = frame.unionByName(other)
            return frame, errors
        return None, errors

    # ------------------------------------------------------------ the run

    def run(self, roster: DataFrame) -> tuple[DataFrame | None, list[dict[str, Any]]]:
        """Each good row's policy and answer columns (``__row``, ``__id``, ``__date``, ``__policy``,
        ``v:OUTCOME`` and, for full answers, ``a:OUTCOME``), and the rows no policy covers. A few
        Spark jobs whatever the number of policies: the rows per policy, the distinct names, the
        distinct (policy, diagnoses, age), the distinct signatures of every policy's outcomes."""
        choice = exp.select(exp.Star(), exp.alias_(self.policy_index.copy(), "__p", quoted=True)).from_(
            exp.table_(self._view(roster), quoted=True))
        chosen = self._keep(self.spark.sql(generate(choice, "spark")))
        sizes = {r["__p"]: r["count"] for r in chosen.groupBy("__p").count().collect()}
        unplaced: list[dict[str, Any]] = []
        if sizes.get(None):
            fields = ("person.insured_region", "encounter.institution.region", "encounter.date")
            rows = chosen.where(F.col("__p").isNull()).select("__row", "__id", *[_name(f) for f in fields])
            for row in rows.orderBy("__row").toLocalIterator():
                why = self.why_no_policy(row[2], row[3], row[4])
                unplaced.append(_unanswered(row[0], row[1], [error_object(ContextProblem("(context)", why))]))
        numbers = [n for n in range(len(self.compiled)) if sizes.get(n)]
        if not numbers:
            return None, unplaced
        prepared = self._prepare(self._names(chosen.where(F.col("__p").isNotNull())), numbers)
        results = {}
        for number in numbers:
            compiled = self.compiled[number]
            select = compiled.select.copy().select(column("__id"), column("encounter.date"))
            view = self._view(prepared.where(F.col("__p") == number))
            results[number] = self.spark.sql(generate(select.from_(exp.table_(view, quoted=True)), "spark"))
        if not self.values_only:
            results = {n: self._keep(r) for n, r in results.items()}
            indexes = self._signatures(results)
        parts = []
        for number, result in results.items():
            compiled = self.compiled[number]
            columns = [F.col("__row"), F.col("__id"), _name("encounter.date").alias("__date"),
                       F.lit(compiled.policy.id).alias("__policy")]
            columns += [F.col(f"`v:{o}`").cast("array<string>" if o in LIST_OUTCOMES else "boolean").alias(f"v:{o}")
                        for o in compiled.outcomes]
            if not self.values_only:
                for outcome in compiled.outcomes:
                    keys = compiled.keys[outcome]
                    result = result.join(F.broadcast(indexes[number, outcome]), keys, "inner")
                    columns.append(F.col(f"`a:{outcome}`"))
            parts.append(result.select(*columns))
        answered = parts[0]
        for part in parts[1:]:
            answered = answered.unionByName(part, allowMissingColumns=True)
        return answered, unplaced

    def _names(self, rows: DataFrame) -> DataFrame:
        """``rows`` with the normalised institution name, per distinct name (`NAME_COLUMN`)."""
        names = [r[0] for r in rows.select(_name("encounter.institution.name")).distinct().collect()
                 if r[0] is not None]
        normalised = self.spark.createDataFrame(pa.table({
            _NAME_IN: pa.array(names, pa.string()),
            NAME_COLUMN: pa.array([normalise_name(n) for n in names], pa.string())}))
        return rows.join(F.broadcast(normalised), _name("encounter.institution.name") == F.col(_NAME_IN),
                         "left").drop(_NAME_IN)

    def _prepare(self, rows: DataFrame, numbers: list[int]) -> DataFrame:
        """The policies' catalog columns: each catalog's match per distinct (policy, diagnoses, age),
        found by Spark, matched by the shared matcher, joined back (no diagnoses: unknown)."""
        with_catalogs = [n for n in numbers if self.compiled[n].catalogs]
        if not with_catalogs:
            return rows
        by_age = [n for n in with_catalogs if any(i.reads_age for _, i in self.compiled[n].catalogs)]
        rows = rows.withColumn(_AGE_KEY, F.when(F.col("__p").isin(by_age), _name("person.age")))
        pairs = (rows.where(F.col("__p").isin(with_catalogs) & _name("encounter.diagnoses").isNotNull())
                 .select("__p", _name("encounter.diagnoses"), _AGE_KEY).distinct().collect())
        width = max(j for n in with_catalogs for j, _ in self.compiled[n].catalogs) + 1
        truths: list[list[bool | None]] = [[None] * len(pairs) for _ in range(width)]
        ids: list[list[int | None]] = [[None] * len(pairs) for _ in range(width)]
        for row, (number, diagnoses, age) in enumerate(pairs):
            compiled = self.compiled[number]
            for position, (j, index) in enumerate(compiled.catalogs):
                truths[j][row], ids[j][row] = compiled.match(position, diagnoses, age if index.reads_age else None)
        columns: dict[str, pa.Array] = {
            _P_IN: pa.array([p[0] for p in pairs], pa.int64()),
            _DIAGNOSES_IN: pa.array([p[1] for p in pairs], pa.list_(pa.string())),
            _AGE_IN: pa.array([p[2] for p in pairs], pa.int64())}
        for j in range(width):
            columns[catalog_column(j)] = pa.array(truths[j], pa.bool_())
            columns[match_column(j)] = pa.array(ids[j], pa.int64())
        matches = self.spark.createDataFrame(pa.table(columns))
        on = ((F.col("__p") == F.col(_P_IN)) & _name("encounter.diagnoses").eqNullSafe(F.col(_DIAGNOSES_IN))
              & F.col(_AGE_KEY).eqNullSafe(F.col(_AGE_IN)))
        return rows.join(F.broadcast(matches), on, "left").drop(_P_IN, _DIAGNOSES_IN, _AGE_IN, _AGE_KEY)

    def _signatures(self, results: dict[int, DataFrame]) -> dict[tuple[int, str], DataFrame]:
        """Per (policy, outcome), the small table from the outcome's signature columns to the index
        of its answer; the answers kept in `answers`. The distinct signatures of every policy's
        outcomes are found in one Spark job and answered by the policy's `Explainer`."""
        every = list(dict.fromkeys(k for n in results for o in self.compiled[n].outcomes
                                   for k in self.compiled[n].keys[o]))
        stacked: DataFrame | None = None
        for number, result in results.items():
            # each row once per outcome: (policy, outcome, the outcome's signature columns)
            outcomes = F.array(*[F.struct(F.lit(o).alias("__o"), *[
                F.col(k) if k in self.compiled[number].keys[outcome] else F.lit(None).cast("bigint").alias(k)
                for k in every]) for o, outcome in enumerate(self.compiled[number].outcomes)])
            one = result.select(F.lit(number).alias("__k"), F.explode(outcomes).alias("__s")).select("__k", "__s.*")
            stacked = one if stacked is None else stacked.unionByName(one)
        assert stacked is not None
        distinct = stacked.distinct()
        found: dict[tuple[int, int], list[Any]] = {}
        for row in distinct.collect():
            found.setdefault((row["__k"], row["__o"]), []).append(row)
        indexes = {}
        for number in results:
            compiled = self.compiled[number]
            answers = self.answers[compiled.policy.id] = {}
            for o, outcome in enumerate(compiled.outcomes):
                keys = compiled.keys[outcome]
                signatures = found.get((number, o), [])
                answers[outcome] = [compiled.explainer.answer(outcome, tuple(s[k] for k in keys)) for s in signatures]
                lookup = {k: pa.array([s[k] for s in signatures], pa.int64()) for k in keys}
                lookup[f"a:{outcome}"] = pa.array(range(len(signatures)), pa.int64())
                indexes[number, outcome] = self.spark.createDataFrame(pa.table(lookup))
        return indexes

    # ------------------------------------------------------------ answers out

    def tables(self, answered: DataFrame | None) -> Iterator[pa.Table]:
        """The answers in row order, as tables of the output columns and `INTERNAL_COLUMNS`, for the
        writers (the counts of the summary taken on the way)."""
        if answered is None:
            return
        ordered = answered.orderBy("__row")
        for table in self._back(ordered):
            parts = []
            policies = table.column("__policy")
            for compiled in self.compiled:
                part = table.filter(pc.equal(policies, compiled.policy.id))
                if part.num_rows:
                    if not self.values_only:
                        part = self.expand(part, self.answers[compiled.policy.id])
                    parts.append(part)
            joined = pa.concat_tables(parts, promote_options="default").sort_by("__row")
            yield self.structure(joined, joined.column("__id").combine_chunks(),
                                 joined.column("__date").combine_chunks())

    def _back(self, ordered: DataFrame) -> Iterator[pa.Table]:
        """``ordered`` to the driver in row order, a bounded table at a time."""
        if self.local:  # staged as Parquet, its part files in the order of the range partitions
            folder = self.folder / "answers"
            ordered.write.mode("overwrite").parquet(str(folder))
            pending: list[pa.RecordBatch] = []  # part files are often small: gathered to a table's worth
            for path in sorted(folder.glob("part-*.parquet")):
                for batch in pq.ParquetFile(path).iter_batches(batch_size=_ROWS_BACK):
                    pending.append(batch)
                    if sum(b.num_rows for b in pending) >= _ROWS_BACK:
                        yield pa.Table.from_batches(pending)
                        pending = []
            if pending:
                yield pa.Table.from_batches(pending)
            return
        rows: list[dict[str, Any]] = []
        for row in ordered.toLocalIterator():
            rows.append(row.asDict(recursive=True))
            if len(rows) >= _ROWS_BACK:
                yield self._typed(pa.Table.from_pylist(rows))
                rows = []
        if rows:
            yield self._typed(pa.Table.from_pylist(rows))

    def _typed(self, table: pa.Table) -> pa.Table:
        """Rows from Python values with the types a column of nulls cannot tell."""
        types = {"__row": pa.int64(), "__id": self.id_type, "__date": pa.date32(), "__policy": pa.string()}
        for name, kind in types.items():
            table = table.set_column(table.schema.get_field_index(name), name, table.column(name).cast(kind))
        return table

    def answer(self, batches: Iterable[Batch] | str) -> tuple[Iterator[pa.Table], list[dict[str, Any]]]:
        """The answers of ``batches`` (tables in row order, as `tables`) and every unanswered row,
        in row order, as `RosterRun.answer` gives them."""
        answered, errors = self.answer_frame(batches)
        return self.tables(answered), errors

    def answer_frame(self, batches: Iterable[Batch] | str) -> tuple[DataFrame | None, list[dict[str, Any]]]:
        """The answer columns of ``batches`` (or of the catalog table so named) in Spark (as `run`),
        and every unanswered row."""
        roster: DataFrame | None
        if isinstance(batches, str):
            from .spark_table import read_table

            roster, self.id_type, bad = read_table(self.spark, batches, self.today)
        else:
            roster, bad = self.load(batches)
        if roster is None:
            self.skipped += len(bad)
            return None, bad
        answered, unplaced = self.run(roster)
        errors = list(heapq.merge(bad, unplaced, key=lambda e: int(e["row"])))
        self.skipped += len(errors)
        return answered, errors

    # ------------------------------------------------------------ answers kept on the cluster

    def assembled(self, answered: DataFrame) -> DataFrame:
        """The output columns built in Spark, for a table or a folder of part files: the structs
        of `structure` (a null struct where the row's policy does not address the outcome), each
        row's rules, missing, not_given and target_ratio joined from its policy's answers."""
        present = set(answered.columns)
        frame = answered
        columns = [F.col("__row"), F.col("__id").alias("id"), F.col("__policy").alias("policy")]
        for o, outcome in enumerate(self.outcomes):
            struct = self.struct_type(outcome)
            value = f"v:{outcome}"
            fields = [(F.col(f"`{value}`") if value in present else F.lit(None).cast(_spark_type(struct[0].type)))
                      .alias("value")]
            if not self.values_only:
                keyed = [(policy, i, a) for policy, outcomes in self.answers.items()
                         for i, a in enumerate(outcomes.get(outcome, ()))]
                strings = pa.list_(pa.string())
                lookup = self.spark.createDataFrame(pa.table({
                    f"__lp{o}": pa.array([k[0] for k in keyed], pa.string()),
                    f"__la{o}": pa.array([k[1] for k in keyed], pa.int64()),
                    **{f"__{part}{o}": pa.array([list(getattr(k[2], part)) for k in keyed], strings)
                       for part in ("rules", "missing", "not_given")},
                    f"__target_ratio{o}": pa.array([k[2].target_ratio for k in keyed], pa.float64())}))
                index = F.col(f"`a:{outcome}`") if f"a:{outcome}" in present else F.lit(None).cast("bigint")
                frame = frame.join(F.broadcast(lookup), (F.col("__policy") == F.col(f"__lp{o}"))
                                   & (index == F.col(f"__la{o}")), "left")
                fields += [F.col(f"__{f.name}{o}").cast(_spark_type(f.type)).alias(f.name) for f in struct
                           if f.name != "value"]
            addressed = F.col("__policy").isin(self.addressing[outcome])
            columns.append(F.when(addressed, F.struct(*fields)).alias(outcome))
        return frame.select(*columns)

    def count_assembled(self, assembled: DataFrame) -> None:
        """The summary's counts, in one Spark job, as `structure` takes them."""
        keys = []
        for outcome in self.outcomes:
            value = F.col(f"`{outcome}`.value")
            text = (F.concat_ws(" → ", value) if outcome in LIST_OUTCOMES
                    else F.when(value, F.lit("true")).otherwise(F.lit("false")))
            key = F.when(F.col(f"`{outcome}`").isNotNull(), F.when(value.isNull(), F.lit("unknown")).otherwise(text))
            keys.append(F.struct(F.lit(outcome).alias("o"), key.alias("k")))
        stacked = assembled.select(F.explode(F.array(*keys)).alias("s")).select("s.o", "s.k")
        for row in stacked.groupBy("o", "k").count().collect():
            if row["o"] == self.outcomes[0]:  # every row once
                self.answered += row["count"]
            if row["k"] is not None:  # (None: not addressed)
                self.counts[row["o"]][row["k"]] += row["count"]


def run_spark_roster(policies: PolicySet, roster: Path | None, out: Path | str | None, values: bool = False,
                     today: dt.date | None = None, households: Path | None = None,
                     master: str | None = None, spark: SparkSession | None = None,
                     out_table: str | None = None, table: str | None = None) -> RosterSummary:
    """`run_roster` on Spark: ``roster`` answered into ``out`` (and ``out``.errors.jsonl), on
    ``spark``, else the active session, else one of `spark_session` (stopped at the end);
    `RosterError` when the roster cannot be read. ``out`` ending in ``/`` is a folder of Parquet
    part files written by Spark; ``out_table`` (instead of ``out``) a table saved in the
    session's catalog (the skipped rows then go to ``OUT_TABLE.errors.jsonl`` here); ``table``
    (instead of ``roster``) a catalog table read and validated on the cluster."""
    folder = out_table is None and str(out).endswith("/")
    target = str(out).rstrip("/") if out_table is None else out_table
    kind = "" if folder or out_table is not None else _output_kind(Path(target))
    errors_path = Path(f"{target}.errors.jsonl")
    if folder and "://" not in target:  # a local path: Spark's JVM has its own working folder
        target = str(Path(target).absolute())
    session, own = (spark, False) if spark is not None else _started(master)
    run = SparkRun(policies, session, values_only=values, today=today)
    try:
        if out_table is not None and session.catalog.tableExists(out_table):
            raise RosterError(f"{out_table}: cannot write the answers: the table exists (drop it, or name another)")
        if folder and run.local and Path(target).exists():
            raise RosterError(f"{target}/: cannot write the answers: the folder exists (remove it, or name another)")
        if table is not None and households is not None:
            raise RosterError("--households is for a roster file, not --table (join the households in the table)")
        source: Iterable[Batch] | str = table if table is not None else _batches(roster, households, run.today)
        if kind:
            tables, errors = run.answer(source)
            writer = _writer(kind, Path(target), run, run.id_type)
            try:
                for table in tables:
                    writer.write(table)
            finally:
                writer.close()
        else:
            errors = _kept(run, source, target, folder)
        try:
            if errors:
                with errors_path.open("w", encoding="utf-8") as stream:
                    stream.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in errors)
            else:
                errors_path.unlink(missing_ok=True)
        except OSError as error:
            raise RosterError(f"{errors_path}: cannot write the skipped rows: {error.strerror}") from error
    finally:
        run.close()
        if own:
            session.stop()
    return RosterSummary(run, errors_path, [int(e["row"]) for e in errors[:_SHOWN]])


def _kept(run: SparkRun, batches: Iterable[Batch] | str, target: str, folder: bool) -> list[dict[str, Any]]:
    """The answers written by Spark: a folder of Parquet part files (in row order) or a table."""
    answered, errors = run.answer_frame(batches)
    if answered is None:
        return errors
    assembled = run._keep(run.assembled(answered))
    run.count_assembled(assembled)
    try:
        if folder:
            assembled.orderBy("__row").drop("__row").write.parquet(target)
        else:
            assembled.drop("__row").write.saveAsTable(target)
    except Exception as error:  # a folder or table that exists, a catalog that refuses: one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RosterError(f"{target}: cannot write the answers: {first}") from error
    return errors


def _started(master: str | None) -> tuple[SparkSession, bool]:
    """A session for one run, and whether the run started it (an active one is used, not stopped)."""
    active = SparkSession.getActiveSession() if master is None and not os.environ.get("SPARK_REMOTE") else None
    if active is not None:
        return active, False
    try:
        return spark_session(master), True
    except Exception as error:  # no Java, a master that does not answer: one line, not a traceback
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RosterError(f"--engine spark: cannot start Spark ({master or 'local[*]'}): {first}") from error
