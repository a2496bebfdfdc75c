"""Answering a roster on embedded DuckDB: policy choice, each policy's SQL, full answers per row.

`RosterRun` answers batch after batch. A batch is a relation ``__base`` inside DuckDB (an Arrow
batch of `policyrules.sql.reading` registered as it is, or a slice of a Parquet file that DuckDB
reads itself, `policyrules.sql.native`) holding the CONTRACT's fields, the row number ``__row``,
the ``__id`` and a ``__bad`` flag. The policy in force is chosen in SQL (`choice_expression`, as
`PolicySet.select`); each policy present in the batch then answers its rows in one query
(`policyrules.sql.duck`), its prepared columns joined from small tables that grow with the
distinct values met: normalised institution names and their lists, each catalog's match per
diagnosis list (and age, for a catalog with 儿童 entries). They are filled when a policy is first
used and again only when a row flags a value not in them yet (``__miss``). For full answers the
query also gives each outcome's key (`SqlCompiler.signature`); the rules, missing and not_given of
a key are derived once (`policyrules.sql.answers`) into a lookup table joined back, and taken per
row in Arrow. DuckDB does not keep input order on a parallel scan: each batch is sorted by row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from ..engines.matching import normalise_name
from ..errors import ContextProblem
from ..fields import BAD
from ..jsonlines import error_object
from ..policy import PolicySet
from ..vocabulary import CONTEXT_FIELDS
from .compiler import NAME_COLUMN, choice_expression, column
from .duck import (
    AGE_NONE,
    STATUS_FIELDS,
    CompiledPolicy,
    arrow_of,
    at,
    insert_columns,
    mask_column,
    number,
    quoted,
    sql_text,
    status_bits,
    status_mask,
)
from .native import ParquetSlice
from .plan import INTERNAL_COLUMNS, RosterShape
from .reading import Batch

__all__ = ["BASE", "INTERNAL_COLUMNS", "RosterRun"]

#: The relation a batch is answered from (registered or created by the reader).
BASE = "__base"
_AGE_NONE = AGE_NONE
_DIAGNOSES, _AGE, _NAME = "encounter.diagnoses", "person.age", "encounter.institution.name"
_DIAGNOSIS_KIND = CONTEXT_FIELDS[_DIAGNOSES].kind


class RosterRun(RosterShape):
    """A roster's answers on embedded DuckDB, batch by batch, with the counts the summary prints."""

    def __init__(self, policies: PolicySet, values_only: bool = False, today: dt.date | None = None) -> None:
        super().__init__(policies, values_only, today)
        bits = status_bits(policies)
        self.compiled = [CompiledPolicy(policy, n, bits, values_only) for n, policy in enumerate(policies)]
        self.con = duckdb.connect(config={"preserve_insertion_order": False})  # rows are sorted by number
        self._names: set[str] = set()
        self._create_tables()
        self._chosen_sql = self._chosen_query()
        self._unplaced_sql = self._unplaced_query()
        self._names_sql = self._names_query()
        self._bits = bits
        self._selects: dict[tuple[int, bool], str] = {}
        self._joins: dict[int, str] = {}
        self._used: set[int] = set()  # the policies whose tables have been filled once

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------ the run's tables and queries

    def _create_tables(self) -> None:
        def create(name: str, columns: list[tuple[str, str]]) -> None:
            listed = ", ".join(f"{quoted(c).sql('duckdb')} {kind}" for c, kind in columns)
            self.con.execute(f"CREATE TEMP TABLE {quoted(name).sql('duckdb')} ({listed})")

        self._lists = [(c.compiler.list_columns()[name], frozenset(names)) for c in self.compiled
                       for name, names in c.compiler.lists.items()]
        create("__names", [("raw", "VARCHAR"), (NAME_COLUMN, "VARCHAR")] + [(n, "BOOLEAN") for n, _ in self._lists])
        for c in self.compiled:
            for by_age in (False, True):
                columns = [("__key", "VARCHAR[]")] + ([("__age", "BIGINT")] if by_age else [])
                for truth, match in c.catalog_columns(by_age):
                    columns += [(truth, "BOOLEAN"), (match, "BIGINT")]
                create(c.diagnoses_table(by_age), columns)

    def _prepared(self, bits: dict[str, int], compiled: CompiledPolicy, sole: bool = False) -> exp.Select:
        """``__base``'s good rows with the prepared columns of one policy and the chosen policy ``__p``
        (``sole``: the policy of every good row, no choice to make)."""
        base = exp.table_(BASE, quoted=True, alias="b")
        projections: list[exp.Expr] = [exp.Column(this=exp.Star(), table=quoted("b")), at("n", NAME_COLUMN)]
        projections += [at("n", name) for name in compiled.compiler.list_columns().values()]
        query = exp.select().from_(base).join(
            exp.table_("__names", quoted=True, alias="n"), join_type="left",
            on=exp.EQ(this=at("b", _NAME), expression=at("n", "raw")))

        def unseen(given: str, found: exp.Expr) -> exp.Expr:
            return exp.and_(exp.not_(exp.Is(this=at("b", given), expression=exp.Null())),
                            exp.Is(this=found, expression=exp.Null()))

        #: whether the row has a name or a diagnosis list not yet in the run's tables
        missing: list[exp.Expr] = [unseen(_NAME, at("n", "raw"))]
        for alias, by_age in (("d", False), ("a", True)):
            table = compiled.diagnoses_table(by_age)
            names = [name for pair in compiled.catalog_columns(by_age) for name in pair]
            if not names:
                continue
            on: exp.Expr = exp.EQ(this=at("b", _DIAGNOSES), expression=at(alias, "__key"))
            if by_age:
                age = compiled.age_band(at("b", _AGE))
                on = exp.and_(on, exp.EQ(this=age, expression=at(alias, "__age")))
            query = query.join(exp.table_(table, quoted=True, alias=alias), join_type="left", on=on)
            projections += [at(alias, name) for name in names]
            missing.append(unseen(_DIAGNOSES, at(alias, "__key")))
        projections.append(exp.alias_(exp.or_(*missing), "__miss", quoted=True))
        projections += [exp.alias_(status_mask(f, bits), mask_column(f), quoted=True) for f in STATUS_FIELDS]
        projections.append(exp.alias_(number(compiled.number) if sole else self._choice(), "__p", quoted=True))
        return query.select(*projections).where(exp.not_(at("b", "__bad")))

    def _choice(self) -> exp.Expr:
        return choice_expression([(p.counties, p.model.meta.effective_from, p.model.meta.effective_to)
                                  for p in self.policies], self.today)

    def _chosen_query(self) -> str:
        """How many good rows of ``__base`` each policy (NULL: none) answers."""
        choice = exp.alias_(self._choice(), "__p", quoted=True)
        query = exp.select(choice, exp.func("COUNT", exp.Star())).from_(exp.table_(BASE, quoted=True))
        return sql_text(query.where(exp.not_(column("__bad"))).group_by(number(1)))

    def _unplaced_query(self) -> str:
        fields = ("__row", "__id", "person.insured_region", "encounter.institution.region", "encounter.date")
        query = exp.select(*[column(f) for f in fields]).from_(exp.table_(BASE, quoted=True))
        good = exp.not_(column("__bad"))
        return sql_text(query.where(exp.and_(good, exp.Is(this=self._choice(), expression=exp.Null()))))

    def _names_query(self) -> str:
        """The distinct institution names of a batch's good rows."""
        query = exp.select(column(_NAME)).distinct().from_(exp.table_(BASE, quoted=True))
        return sql_text(query.where(exp.not_(column("__bad"))))

    # ------------------------------------------------------------ one batch

    def answer(self, batch: Batch | ParquetSlice) -> tuple[pa.Table, list[dict[str, Any]]]:
        """The answers of the batch's good rows (output columns and `INTERNAL_COLUMNS`), in order,
        and the unanswered rows (``{"row", "id", "errors"}``)."""
        if isinstance(batch, ParquetSlice):
            errors, ids_of = batch.create(self.con)
            return self.answer_base(errors, ids_of.get)
        table = batch.table()
        ids = batch.rows if batch.ids is None else batch.ids
        bad = pa.array([i in batch.errors for i in range(len(batch))], pa.bool_())
        table = table.append_column("__id", ids).append_column("__bad", bad)
        by_row = {batch.rows[p].as_py(): problems for p, problems in batch.errors.items()}
        positions: dict[int, int] = {}

        def id_of(row: int) -> Any:
            if not positions:
                positions.update((r, p) for p, r in enumerate(batch.rows.to_pylist()))
            return batch.id_of(positions[row])

        self.con.register(BASE, table)
        try:
            return self.answer_base(by_row, id_of)
        finally:
            self.con.unregister(BASE)

    def answer_base(self, errors: dict[int, list[dict[str, Any]]], id_of: Any,
                    ) -> tuple[pa.Table, list[dict[str, Any]]]:
        """The answers of the relation ``__base`` (see the module's doc) whose bad rows (by row
        number) have ``errors``; ``id_of(row)`` is a bad row's id."""
        errors = dict(errors)
        unplaced: dict[int, Any] = {}
        chosen = dict(self.con.execute(self._chosen_sql).fetchall())
        if None in chosen:
            for row, the_id, insured, region, date in self.con.execute(self._unplaced_sql).fetchall():
                errors[row] = [error_object(ContextProblem("(context)", self.why_no_policy(insured, region, date)))]
                unplaced[row] = the_id
        parts: list[pa.Table] = []
        if any(n is not None for n in chosen):
            sole = len(chosen) == 1  # every good row is that policy's: no choice to make in SQL
            parts = [self._run(self.compiled[n], sole) for n in sorted(n for n in chosen if n is not None)]
        unanswered = []
        for row in sorted(errors):
            the_id = unplaced[row] if row in unplaced else id_of(row)
            unanswered.append({"row": row, **({} if the_id is None else {"id": the_id}), "errors": errors[row]})
        self.skipped += len(unanswered)
        table = pa.concat_tables(parts).sort_by("__row") if len(parts) > 1 else parts[0] if parts else None
        if table is None or table.num_rows == 0:
            id_type = table.schema.field("id").type if table is not None else pa.int64()
            return self.empty_table(id_type, encoded=True), unanswered
        self.answered += table.num_rows
        return table, unanswered

    def _select(self, compiled: CompiledPolicy, sole: bool = False) -> str:
        """The SQL of one policy's rows (made when the policy first has rows: it takes a while);
        ``sole``: of every good row (see `_prepared`)."""
        found = self._selects.get((compiled.number, sole))
        if found is None:
            if not compiled.built:
                compiled.build()
                for outcome in compiled.outcomes if not self.values_only else ():
                    listed = ", ".join(f"{quoted(k).sql('duckdb')} BIGINT" for k in [*compiled.keys[outcome], "__a"])
                    self.con.execute(f"CREATE TEMP TABLE {quoted(compiled.lookup(outcome)).sql('duckdb')} ({listed})")
            prepared = exp.alias_(exp.Subquery(this=self._prepared(self._bits, compiled, sole)), "p")
            found = self._selects[compiled.number, sole] = compiled.select(prepared, self.today)
        return found

    def _run(self, compiled: CompiledPolicy, sole: bool) -> pa.Table:
        """The answers of the batch's rows of one policy, ordered by row, as the output's columns."""
        first = compiled.number not in self._used
        if first:  # the run's tables are empty: fill them first
            self._used.add(compiled.number)
            self._prepare_names()
            self._prepare(compiled)
        if self.values_only:
            result = arrow_of(self.con.sql(self._select(compiled, sole)))
            if not first and pc.any(result.column("__miss")).as_py():  # then once more, with them
                self._prepare_names()
                self._prepare(compiled)
                result = arrow_of(self.con.sql(self._select(compiled, sole)))
        else:
            result = self._full(compiled, first, sole)
        order = pc.sort_indices(result.column("__row"))
        result = result.take(order)
        n = result.num_rows
        arrays: dict[str, Any] = {"id": result.column("id"),
                                  "policy": pa.repeat(pa.scalar(compiled.policy.id, pa.string()), n)}
        for outcome in self.outcomes:
            struct = self.struct_type(outcome, encoded=True)
            if outcome not in compiled.outcomes:
                arrays[outcome] = pa.nulls(n, struct)
                continue
            children = [result.column(f"v:{outcome}").combine_chunks().cast(struct.field("value").type)]
            self.count(outcome, children[0])
            if not self.values_only:
                index = result.column(f"a:{outcome}").combine_chunks()
                found = compiled.answer_arrays[outcome]
                children += [found[f.name].take(index) for f in list(struct)[1:]]
            arrays[outcome] = pa.StructArray.from_arrays(children, fields=list(struct))
        arrays["__row"] = result.column("__row")
        arrays["__date"] = result.column("__date")
        return pa.table(arrays)

    def _full(self, compiled: CompiledPolicy, first: bool, sole: bool) -> pa.Table:
        """The policy's rows with each outcome's answer index ``a:o``: the keys not seen before are
        answered (`Explainer`) into the outcome's lookup table, then joined."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE __r AS {self._select(compiled, sole)}")
        if not first and self.con.execute("SELECT BOOL_OR(__miss) FROM __r").fetchall()[0][0]:
            self._prepare_names()
            self._prepare(compiled)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE __r AS {self._select(compiled, sole)}")
        for outcome in compiled.outcomes:
            keys = compiled.keys[outcome]
            distinct = exp.select(*[column(k) for k in keys]).distinct().from_(exp.table_("__r", quoted=True))
            new = [tuple(k) for k in self.con.execute(sql_text(distinct)).fetchall()
                   if tuple(k) not in compiled.known[outcome]]
            if new:
                indices = compiled.learn(outcome, new)
                columns = {k: pa.array([key[i] for key in new], pa.int64()) for i, k in enumerate(keys)}
                self._insert(compiled.lookup(outcome), {**columns, "__a": pa.array(indices, pa.int64())})
        found = self._joins.get(compiled.number)
        if found is None:
            query = exp.select().from_(exp.table_("__r", quoted=True, alias="r"))
            projections: list[exp.Expr] = [at("r", name) for name in ("__row", "id", "__date")]
            projections += [at("r", f"v:{o}") for o in compiled.outcomes]
            for o, outcome in enumerate(compiled.outcomes):
                alias = f"l{o}"
                on = exp.and_(*[exp.EQ(this=at("r", k), expression=at(alias, k)) for k in compiled.keys[outcome]])
                query = query.join(exp.table_(compiled.lookup(outcome), quoted=True, alias=alias), on=on)
                projections.append(exp.alias_(at(alias, "__a"), f"a:{outcome}", quoted=True))
            found = self._joins[compiled.number] = sql_text(query.select(*projections))
        return arrow_of(self.con.sql(found))

    def _prepare_names(self) -> None:
        """The institution names of ``__base`` not seen before, normalised into the run's table."""
        found = self.con.execute(self._names_sql).fetchall()
        names = [n for (n,) in found if n is not None and n not in self._names]
        if names:
            self._names.update(names)
            normalised = [normalise_name(n) for n in names]
            columns = {"raw": pa.array(names, pa.string()), NAME_COLUMN: pa.array(normalised, pa.string())}
            for name, listed in self._lists:
                columns[name] = pa.array([n in listed for n in normalised], pa.bool_())
            self._insert("__names", columns)

    def _prepare(self, compiled: CompiledPolicy) -> None:
        """The diagnosis lists (and ages) of the policy's rows of ``__base`` not seen before,
        matched against its catalogs into its tables."""
        if not compiled.catalogs:
            return
        chosen = exp.EQ(this=self._choice(), expression=number(compiled.number))
        good = exp.and_(exp.not_(column("__bad")), chosen)
        with_age = bool(compiled.catalog_columns(True))
        # one scan: the distinct (list, age band) pairs, and of them the distinct lists
        keys: list[exp.Expr] = [column(_DIAGNOSES), *([compiled.age_band(column(_AGE))] if with_age else [])]
        query = exp.select(*keys).distinct().from_(exp.table_(BASE, quoted=True)).where(good)
        found = self.con.execute(sql_text(query)).fetchall()
        read: dict[tuple[str, ...], Any] = {}  # a list's codes, read once
        for by_age in (False, True):
            if not compiled.catalog_columns(by_age):
                continue
            known = compiled.seen[by_age]
            rows: list[tuple[list[str], tuple[str, ...], int | None]] = []
            for pair in found:
                raw = pair[0]
                age = pair[1] if by_age else None
                if raw is None:
                    continue
                key = tuple(raw)
                codes = read[key] if key in read else read.setdefault(key, _DIAGNOSIS_KIND.fast(raw))
                if codes is BAD or codes is None or (key, age) in known:
                    continue
                known.add((key, age))
                rows.append((raw, codes, age))
            self._insert_matches(compiled, rows, by_age)

    def _insert_matches(self, compiled: CompiledPolicy, rows: list[tuple[list[str], tuple[str, ...], int | None]],
                        by_age: bool) -> None:
        if not rows:
            return
        columns: dict[str, pa.Array] = {"__key": pa.array([r[0] for r in rows], pa.list_(pa.string()))}
        if by_age:
            columns["__age"] = pa.array([r[2] for r in rows], pa.int64())
        found = [compiled.matches(codes, None if age == _AGE_NONE else age, by_age) for _, codes, age in rows]
        for position, (truth, match) in enumerate(compiled.catalog_columns(by_age)):
            columns[truth] = pa.array([f[position][0] for f in found], pa.bool_())
            columns[match] = pa.array([f[position][1] for f in found], pa.int64())
        self._insert(compiled.diagnoses_table(by_age), columns)

    def _insert(self, table: str, columns: dict[str, pa.Array]) -> None:
        insert_columns(self.con, table, columns)
