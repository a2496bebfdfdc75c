"""Both versions of a policy over a roster on DuckDB, for `policyrules.impact`: the SQL side.

`NativeBoth`, for a Parquet roster DuckDB reads itself (`policyrules.sql.native`): each slice of
the file is the relation ``__base`` (the CONTRACT's fields validated in SQL, statuses raw, ``__bad``
rows flagged with the per-call errors); the institution names and (diagnosis list, age band) pairs
not met before are normalised and matched in Python into two small tables; then one query gives
every outcome's value by both versions (`policyrules.sql.duck`'s `DuckCompiler`: statuses on
bitmasks with their implications), OLD's choice of the rows it is in force for, NEW as if in
force there. The transitions are counted in SQL; only the rows where some outcome's values
differ (and those no version covers) leave DuckDB with their fields, read again as a `Batch`
(`policyrules.sql.reading`) so that their classes and answers are found exactly as on the batch
path.

`BothVersions`, for any other roster: each Arrow batch of `policyrules.sql.reading` (read ahead in
a thread, `read_ahead`) registered in DuckDB, its names normalised and its catalogs matched once
per distinct (diagnoses, age band) in Arrow, one query giving both versions' values.

Needs the ``roster`` extra (duckdb, pyarrow); imported only by `policyrules.impact`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from .diff import ABSENT
from .engines.matching import UNKNOWN, CatalogIndex, Match, normalise_name
from .errors import ContextProblem
from .fields import BAD
from .jsonlines import error_object
from .model import Catalog, DiagnosisIn, InstitutionIn
from .policy import Policy, PolicySet
from .sql.compiler import NAME_COLUMN, SqlCompiler, catalog_column, choice_expression, column
from .sql.duck import STATUS_FIELDS, AGE_NONE, DuckCompiler, arrow_of, at, mask_column, number, quoted, sql_text
from .sql.duck import insert_columns, status_bits, status_mask
from .sql.native import SLICE_ROWS, ParquetSlice, slices
from .sql.plan import RosterShape
from .sql.reading import FIELDS, Batch, _columnar, distinct
from .vocabulary import CONTEXT_FIELDS

__all__ = ["BothVersions", "NativeAnswer", "NativeBoth", "native_slices", "read_ahead"]

_NAME, _DIAGNOSES, _AGE = "encounter.institution.name", "encounter.diagnoses", "person.age"
_DIAGNOSIS_KIND = CONTEXT_FIELDS[_DIAGNOSES].kind
#: Rows per slice: only values are computed, and only the changed rows leave DuckDB.
_SLICE = SLICE_ROWS * 4
_TRUTHS_KEPT = 200_000  # diagnosis lists whose catalog truths are kept between batches


def native_slices(data: Any, today: dt.date) -> Iterator[ParquetSlice] | None:
    """The slices of a Parquet roster DuckDB can read itself, or None (then: the batch path)."""
    if not isinstance(data, (str, Path)) or Path(data).suffix.lower() != ".parquet" or not Path(data).is_file():
        return None
    return slices(Path(data), today, _SLICE)


@attrs.frozen
class NativeAnswer:
    """One slice: ``counts`` outcome -> [(OLD's value, NEW's value, rows)] (`ABSENT` for a version
    that does not answer the outcome; lists as Python lists);
    ``changed``: the rows where some outcome's values differ (``__row``, ``id``, ``old:o``/``new:o``,
    ``__g``, in row order); ``batch``: the distinct assignments of those rows' fields, validated,
    ``__g`` being a row's position there; ``errors``: the rows not answered; ``rows``: the rows
    answered."""

    counts: dict[str, list[tuple[Any, Any, int]]]
    changed: pa.Table
    batch: Batch
    errors: list[dict[str, Any]]
    rows: int


class _Compiler(DuckCompiler):
    """One version's SQL over the impact's prepared columns: statuses on the shared bitmasks,
    each catalog its prepared truth (one column for a catalog both versions hold alike),
    institution lists tested on the normalised name."""

    def __init__(self, policy: Policy, number: int, bits: dict[str, int], targets: dict[str, str],
                 lists: dict[str, str]) -> None:
        super().__init__(policy, number, bits)
        self.targets, self.list_targets = targets, lists

    def _diagnosis_in(self, node: DiagnosisIn) -> exp.Expr:
        return column(self.targets[node.catalog])

    def _institution_in(self, node: InstitutionIn) -> exp.Expr:
        return column(self.list_targets[node.list_name])


class NativeBoth:
    """Both versions (``new`` as if in force where ``old`` is) over the slices of one file."""

    def __init__(self, old: Policy, new: Policy, today: dt.date, every_outcome: bool = False) -> None:
        import duckdb

        self.today = today
        bits = status_bits([old, new])
        self.bits = bits
        #: catalog column -> (its catalog index, the version's matcher entry)
        self.catalogs: dict[str, Any] = {}
        values: dict[str, dict[str, tuple[exp.Expr, str]]] = {"old": {}, "new": {}}
        #: institution list column -> the normalised names on it (one column for a list both hold alike)
        self.lists: dict[str, frozenset[str]] = {}
        old_lists: dict[str, list[str]] = {}
        for number_, (side, policy) in enumerate((("old", old), ("new", new))):
            targets: dict[str, str] = {}
            for name in policy.model.catalogs:
                shared = old.model.catalogs.get(name) == policy.model.catalogs[name]
                targets[name] = target = f"__cat:{'old' if shared else side}:{name}"
                self.catalogs.setdefault(target, policy.prepared.matcher.catalogs[name])
            listed: dict[str, str] = {}
            for name, names in SqlCompiler(policy.model).lists.items():
                shared = old_lists.get(name) == names
                listed[name] = target = f"__list:{'old' if shared else side}:{name}"
                self.lists.setdefault(target, frozenset(names))
                if side == "old":
                    old_lists[name] = names
            compiler = _Compiler(policy, number_, bits, targets, listed)
            for outcome in policy.model.outcomes():
                value = compiler.value(outcome)
                values[side][outcome] = (value, sql_text(value))
        self.same = {o for o, (_, text) in values["new"].items() if values["old"].get(o, (None, None))[1] == text}
        self.counted: dict[str, list[str]] = {}  # outcome -> the value columns its counts group by
        projections: list[exp.Expr] = [column("__row"), column("__id"),
                                       exp.alias_(choice_expression([(old.counties, old.model.meta.effective_from,
                                                                      old.model.meta.effective_to)], today),
                                                  "__p", quoted=True)]
        differ: list[exp.Expr] = []
        for outcome in dict.fromkeys([*values["old"], *values["new"]]):
            names = []
            for side in ("old", "new"):
                if outcome not in values[side] or (outcome in self.same and (side == "new" or not every_outcome)):
                    continue
                projections.append(exp.alias_(values[side][outcome][0], f"{side}:{outcome}", quoted=True, copy=False))
                names.append(f"{side}:{outcome}")
            if names:
                self.counted[outcome] = names
            if outcome in self.same:
                continue
            if len(names) == 2:
                differ.append(exp.NullSafeNEQ(this=column(names[0]), expression=column(names[1])))
            elif names:  # answered by one version only: every row's answer changes
                differ.append(exp.true())
        self.used_catalogs = {c.name for p in projections for c in p.find_all(exp.Column) if c.name in self.catalogs}
        self.catalogs = {name: index for name, index in self.catalogs.items() if name in self.used_catalogs}
        self.cuts = sorted({bound for index in self.catalogs.values() if index.reads_age
                            for entry in index.catalog.entries if entry.children is not None
                            for bound in (entry.children.certainly_child_below, entry.children.certainly_adult_from)})
        # the fields leave DuckDB only for the rows kept (changed, or not covered by OLD): the
        # others' fields are never materialised
        # (the trees are built without copies: they are large, and used once)
        both = exp.select(*projections, *[column(f) for f in FIELDS], copy=False).from_(
            exp.alias_(exp.Subquery(this=self._prepared()), "p", copy=False), copy=False)
        keep = exp.or_(exp.Is(this=column("__p"), expression=exp.Null()), *(differ or [exp.false()]), copy=False)
        kept = exp.select(exp.Star(), exp.alias_(keep, "__keep", quoted=True, copy=False), copy=False).from_(
            exp.alias_(exp.Subquery(this=both), "v", copy=False), copy=False)
        outer: list[exp.Expr] = [column("__row"), column("__p"), column("__keep")]
        outer += [column(c) for names in self.counted.values() for c in names]
        outer += [exp.alias_(exp.If(this=column("__keep"), true=column(f)), f, quoted=True) for f in ("__id", *FIELDS)]
        self.values_sql = sql_text(exp.select(*outer, copy=False).from_(
            exp.alias_(exp.Subquery(this=kept), "k", copy=False), copy=False))
        self.con = duckdb.connect(config={"preserve_insertion_order": False})
        self.shape = RosterShape(PolicySet([old]), values_only=True, today=today)
        self._names: set[str] = set()
        self._keys: set[tuple[tuple[str, ...], int]] = set()
        self._create_tables()

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------ SQL

    def _band(self, age: exp.Expr) -> exp.Expr:
        """The youngest age of ``age``'s band among every age-reading catalog's bounds (`AGE_NONE`
        where absent): a match reads an age only against its 儿童 entries' bounds."""
        ifs = [exp.If(this=exp.Is(this=age.copy(), expression=exp.Null()), true=number(AGE_NONE))]
        for low, high in zip([0, *self.cuts], self.cuts, strict=False):
            ifs.append(exp.If(this=exp.LT(this=age.copy(), expression=number(high)), true=number(low)))
        return exp.Case(ifs=ifs, default=number(self.cuts[-1] if self.cuts else 0))

    def _prepared(self) -> exp.Select:
        """The good rows of ``__base`` with the normalised name, the catalogs' truths, the masks."""
        query = exp.select().from_(exp.table_("__base", quoted=True, alias="b")).join(
            exp.table_("__names", quoted=True, alias="n"), join_type="left",
            on=exp.EQ(this=at("b", _NAME), expression=at("n", "raw")))
        projections: list[exp.Expr] = [exp.Column(this=exp.Star(), table=quoted("b")), at("n", NAME_COLUMN)]
        projections += [at("n", name) for name in self.lists]
        if self.catalogs:
            on = exp.and_(exp.EQ(this=at("b", _DIAGNOSES), expression=at("d", "__key")),
                          exp.EQ(this=self._band(at("b", _AGE)), expression=at("d", "__age")))
            query = query.join(exp.table_("__diagnoses", quoted=True, alias="d"), join_type="left", on=on)
            projections += [at("d", name) for name in self.catalogs]
        projections += [exp.alias_(status_mask(f, self.bits), mask_column(f), quoted=True) for f in STATUS_FIELDS]
        return query.select(*projections).where(exp.not_(at("b", "__bad")))

    def _create_tables(self) -> None:
        def create(name: str, columns: list[tuple[str, str]]) -> None:
            listed = ", ".join(f"{quoted(c).sql('duckdb')} {kind}" for c, kind in columns)
            self.con.execute(f"CREATE TEMP TABLE {quoted(name).sql('duckdb')} ({listed})")

        create("__names", [("raw", "VARCHAR"), (NAME_COLUMN, "VARCHAR")] + [(n, "BOOLEAN") for n in self.lists])
        create("__diagnoses", [("__key", "VARCHAR[]"), ("__age", "BIGINT")] + [(n, "BOOLEAN") for n in self.catalogs])

    def _insert(self, table: str, columns: dict[str, pa.Array]) -> None:
        insert_columns(self.con, table, columns)

    def _prepare(self) -> None:
        """The names and (diagnosis list, age band) pairs of ``__base``'s good rows not met before."""
        good = exp.not_(column("__bad"))
        base = exp.table_("__base", quoted=True)
        found = self.con.execute(sql_text(exp.select(column(_NAME)).distinct().from_(base).where(good))).fetchall()
        names = [n for (n,) in found if n is not None and n not in self._names]
        if names:
            self._names.update(names)
            normalised = [normalise_name(n) for n in names]
            self._insert("__names", {"raw": pa.array(names, pa.string()), NAME_COLUMN: pa.array(normalised, pa.string()),
                                     **{column_name: pa.array([n in listed for n in normalised], pa.bool_())
                                        for column_name, listed in self.lists.items()}})
        if not self.catalogs:
            return
        query = exp.select(column(_DIAGNOSES), self._band(column(_AGE))).distinct().from_(base.copy()).where(good.copy())
        keys: list[list[str]] = []
        bands: list[int] = []
        truths: dict[str, list[bool | None]] = {name: [] for name in self.catalogs}
        for raw, band in self.con.execute(sql_text(query)).fetchall():
            codes = None if raw is None else _DIAGNOSIS_KIND.fast(raw)
            if codes is BAD or codes is None or (tuple(raw), band) in self._keys:
                continue
            self._keys.add((tuple(raw), band))
            keys.append(raw)
            bands.append(band)
            age = None if band == AGE_NONE else band
            for name, index in self.catalogs.items():
                match = index.match(codes, age if index.reads_age else None)
                truths[name].append(None if match[0] == UNKNOWN else bool(match[0]))
        if keys:
            self._insert("__diagnoses", {"__key": pa.array(keys, pa.list_(pa.string())),
                                         "__age": pa.array(bands, pa.int64()),
                                         **{name: pa.array(found, pa.bool_()) for name, found in truths.items()}})

    # ------------------------------------------------------------ one slice

    def answer(self, piece: ParquetSlice) -> NativeAnswer:
        errors, ids_of = piece.create(self.con)
        self._prepare()
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE __v AS {self.values_sql}")
        placed = exp.not_(exp.Is(this=column("__p"), expression=exp.Null()))
        values = exp.table_("__v", quoted=True)
        unplaced = self.con.execute(sql_text(
            exp.select(*[column(f) for f in ("__row", "__id", "person.insured_region", "encounter.institution.region",
                                             "encounter.date")])
            .from_(values.copy()).where(exp.Is(this=column("__p"), expression=exp.Null())))).fetchall()
        unplaced_ids: dict[int, Any] = {}
        for row, the_id, insured, region, date in unplaced:
            errors[row] = [error_object(ContextProblem("(context)", self.shape.why_no_policy(insured, region, date)))]
            unplaced_ids[row] = the_id
        count = exp.select(exp.func("COUNT", exp.Star())).from_(values.copy()).where(placed.copy())
        rows = self.con.execute(sql_text(count)).fetchall()[0][0]
        counts: dict[str, list[tuple[Any, Any, int]]] = {}
        for outcome, names in self.counted.items():
            query = exp.select(*[column(n) for n in names], exp.func("COUNT", exp.Star())).from_(values.copy())
            query = query.where(placed.copy()).group_by(*[number(i + 1) for i in range(len(names))])
            found = []
            for item in self.con.execute(sql_text(query)).fetchall():
                if len(names) == 2:
                    found.append((item[0], item[1], item[2]))
                elif outcome in self.same:  # the same SQL: the same value
                    found.append((item[0], item[0], item[1]))
                else:  # one version does not answer the outcome
                    found.append((item[0], ABSENT, item[1]) if names[0].startswith("old:") else (ABSENT, item[0], item[1]))
            counts[outcome] = found
        # the changed rows, and the distinct assignments of their fields (``__g``: which one a
        # row has): only those are read back as a Batch, classed and answered
        value_columns = [c for names in self.counted.values() for c in names]
        group = exp.Sub(this=exp.Window(this=exp.func("DENSE_RANK"), order=exp.Order(
            expressions=[exp.Ordered(this=column(f), nulls_first=True) for f in FIELDS])), expression=number(1))
        self.con.execute("CREATE OR REPLACE TEMP TABLE __c AS " + sql_text(
            exp.select(column("__row"), column("__id"), *[column(c) for c in value_columns], *[column(f) for f in FIELDS],
                       exp.alias_(group, "__g", quoted=True))
            .from_(values.copy()).where(exp.and_(placed.copy(), column("__keep")))))
        changed = arrow_of(self.con.sql(sql_text(
            exp.select(column("__row"), exp.alias_(column("__id"), "id", quoted=True), *[column(c) for c in value_columns],
                       column("__g")).from_(exp.table_("__c", quoted=True)).order_by(column("__row")))))
        combos = arrow_of(self.con.sql(sql_text(
            exp.select(column("__g"), *[column(f) for f in FIELDS]).distinct()
            .from_(exp.table_("__c", quoted=True)).order_by(column("__g")))))
        batch = _columnar(combos.select(list(FIELDS)), 1, False, self.today)
        batch = Batch(combos.column("__g").combine_chunks(), None, batch.columns, batch.errors)
        unanswered = []
        for row in sorted(errors):
            the_id = unplaced_ids[row] if row in unplaced_ids else ids_of.get(row)
            unanswered.append({"row": row, **({} if the_id is None else {"id": the_id}), "errors": errors[row]})
        return NativeAnswer(counts, changed, batch, unanswered, rows)


# ---------------------------------------------------------------- the batch path (any other roster)


def read_ahead(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """The batches, the next ones read and validated in a thread while this one is answered
    (Parquet decoding and Arrow compute release the GIL, and so does DuckDB). An error of the
    reading is raised here, in order; when the consumer stops, the reader stops too."""
    import queue
    import threading

    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(error)
        else:
            put(end)

    reader = threading.Thread(target=read, name="policyrules-impact-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


class BothVersions:
    """Both versions answered in one pass per batch: the batch read and validated once, its
    institution names normalised once, each catalog matched once per distinct (diagnoses, age
    band) (a catalog both versions hold alike, once for both), and one DuckDB query choosing
    the rows OLD is in force for (NEW is in force exactly there) and giving every outcome's
    value by both versions (``old:<outcome>``, ``new:<outcome>``)."""

    def __init__(self, old: Policy, new: Policy, today: dt.date, every_outcome: bool = False) -> None:
        import duckdb

        self.old, self.today = old, today
        self.outcomes = {"old": old.model.outcomes(), "new": new.model.outcomes()}
        #: the prepared catalog columns: column name -> (its catalog, the age bands' lower bounds)
        self.catalogs: dict[str, tuple[CatalogIndex, list[int]]] = {}
        values: dict[str, dict[str, tuple[exp.Expr, str]]] = {"old": {}, "new": {}}
        meta = old.model.meta
        projections: list[exp.Expr] = [
            column("__row"),
            exp.alias_(choice_expression([(old.counties, meta.effective_from, meta.effective_to)], today), "p",
                       quoted=True)]
        for side, policy in (("old", old), ("new", new)):
            compiler = SqlCompiler(policy.model)
            renamed: dict[str, str] = {}
            used = {node.catalog for node in policy.model.conditions() if isinstance(node, DiagnosisIn)}
            for name, j in compiler.catalogs.items():
                if name not in used:
                    continue
                shared = old.model.catalogs.get(name) == policy.model.catalogs[name]
                renamed[catalog_column(j)] = target = f"{'old' if shared else side}:{name}"
                if target not in self.catalogs:
                    index = policy.prepared.matcher.catalogs[name]
                    self.catalogs[target] = (index, _age_bands(policy.model.catalogs[name]))

            def rename(node: exp.Expr, renamed: dict[str, str] = renamed) -> exp.Expr:
                if isinstance(node, exp.Column) and node.name in renamed:
                    return column(renamed[node.name])
                return node

            for outcome in self.outcomes[side]:
                value = compiler.value(outcome).transform(rename)
                values[side][outcome] = (value, value.sql(dialect="duckdb"))
        # the very same SQL on the same columns gives the same values: such an outcome cannot
        # change, and is computed once (for its (v, v) counts) or, by default, not at all
        self.same = {o for o, (_, text) in values["new"].items() if values["old"].get(o, (None, None))[1] == text}
        for side in ("old", "new"):
            for outcome, (value, _) in values[side].items():
                if outcome in self.same and (side == "new" or not every_outcome):
                    continue
                projections.append(exp.alias_(value, f"{side}:{outcome}", quoted=True))
        self.sql = exp.select(*projections).from_(exp.table_("batch", quoted=True)).sql(dialect="duckdb")
        #: the columns the query reads: only these are handed to DuckDB, only these catalogs matched
        self.read = list(dict.fromkeys(c.name for p in projections for c in p.find_all(exp.Column)))
        self.catalogs = {name: found for name, found in self.catalogs.items() if name in self.read}
        self.con = duckdb.connect()
        #: OLD alone, for the message of a row it does not cover (as `policyrules roster` gives it)
        self.shape = RosterShape(PolicySet([old]), values_only=True, today=today)
        #: catalog column -> diagnosis list -> its truth for each age band (and for no age)
        self._truths: dict[str, dict[tuple[str, ...], list[bool | None]]] = {}

    def close(self) -> None:
        self.con.close()

    def answer(self, batch: Batch) -> tuple[pa.Table, pa.Array, list[dict[str, Any]]]:
        """The answered rows' values (``old:``/``new:`` columns, in row order), their positions
        in the batch, and the rows not answered (``{"row", "id", "errors"}``)."""
        table = batch.table()
        names, index = distinct(table.column("encounter.institution.name").combine_chunks())
        table = table.append_column(NAME_COLUMN, pa.array([normalise_name(n) for n in names], pa.string()).take(index))
        table = self._prepare(table)
        self.con.register("batch", table.select([c for c in self.read if c in table.column_names]))
        try:
            relation = self.con.sql(self.sql)
            result = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
        finally:
            self.con.unregister("batch")
        first = batch.rows[0].as_py() if len(batch) else 0
        rows = result.column("__row").combine_chunks()
        contiguous = len(batch) and batch.rows[-1].as_py() - first + 1 == len(batch)
        positions = pc.subtract(rows, first) if contiguous else pc.index_in(rows, value_set=batch.rows)
        errors = dict(batch.errors)
        unplaced = pc.is_null(result.column("p").combine_chunks())
        for place in pc.filter(positions, unplaced).to_pylist():
            if place not in errors:
                errors[place] = [error_object(ContextProblem("(context)", self._why_no_policy(batch, place)))]
        good = pc.invert(unplaced)
        if errors:
            good = pc.and_(good, pc.invert(pc.is_in(positions, value_set=pa.array(list(errors), pa.int64()))))
        answered = result.filter(good).append_column("__at", pc.filter(positions, good)).sort_by("__row")
        unanswered = [{"row": batch.rows[at].as_py(), **({} if (i := batch.id_of(at)) is None else {"id": i}),
                       "errors": errors[at]} for at in sorted(errors)]
        return answered, answered.column("__at").combine_chunks(), unanswered

    def _prepare(self, table: pa.Table) -> pa.Table:
        """Each catalog's truth per distinct diagnosis list and age band: the match reads the age
        only against the entries' child limits, so a band's lower bound answers for every age in
        it. A list's truths (one per band, and for no age) are kept from batch to batch."""
        if not self.catalogs:
            return table
        diagnoses, diagnosis_index = distinct(table.column("encounter.diagnoses").combine_chunks())
        keys = [tuple(d) for d in diagnoses]
        ages = table.column("person.age").combine_chunks()
        for name, (catalog, bands) in self.catalogs.items():
            ages_read = [*bands, None] if catalog.reads_age else [None]
            known = self._truths.setdefault(name, {})
            if len(known) > _TRUTHS_KEPT:
                known.clear()
            flat: list[bool | None] = []
            for key in keys:
                truths = known.get(key)
                if truths is None:
                    truths = known[key] = [_truth(catalog.match(key, age)) for age in ages_read]
                flat.extend(truths)
            if catalog.reads_age:
                band = pa.array([0] * len(ages), pa.int64())
                for cut in bands[1:]:
                    band = pc.add(band, pc.cast(pc.greater_equal(ages, cut), pa.int64()))
                band = pc.fill_null(band, len(bands))  # no age: the last of the list's truths
                index = pc.add(pc.multiply(pc.cast(diagnosis_index, pa.int64()), len(ages_read)), band)
            else:
                index = diagnosis_index
            table = table.append_column(name, pa.array(flat, pa.bool_()).take(index))
        return table

    def _why_no_policy(self, batch: Batch, position: int) -> str:
        columns = batch.columns
        insured = columns["person.insured_region"][position].as_py()
        region = columns["encounter.institution.region"][position].as_py()
        date = columns["encounter.date"][position].as_py()
        return self.shape.why_no_policy(insured, region, date)


def _age_bands(catalog: Catalog) -> list[int]:
    """The lower bounds of the ages a catalog's match cannot tell apart (0 first)."""
    cuts = {0}
    for entry in catalog.entries:
        if entry.children is not None:
            cuts |= {entry.children.certainly_child_below, entry.children.certainly_adult_from}
    return sorted(c for c in cuts if c >= 0)


def _truth(match: Match) -> bool | None:
    return None if match[0] == UNKNOWN else bool(match[0])
