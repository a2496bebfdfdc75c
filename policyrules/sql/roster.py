"""Answering a roster on embedded DuckDB: policy choice, the compiled SQL, full answers per row.

`RosterRun` answers batch after batch (`policyrules.sql.reading`): the policy in force for each
row is chosen in SQL (`choice_expression`, as `PolicySet.select`); each policy's rows get their
prepared columns (normalised institution names, catalog matches per distinct diagnosis list) and
run through the policy's SQL, which gives every outcome's value and, for full answers, the truth
of every condition node; the answers' rules, missing and not_given are derived once per distinct
signature (`policyrules.sql.answers`) and joined back. Rows carry their number: DuckDB does not
keep input order on a parallel scan, so each batch is sorted by it.
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from ..context import Facts
from ..determination import Outcome
from ..engines.matching import UNKNOWN, Match, normalise_name
from ..errors import ContextProblem, NoPolicyError
from ..policy import Policy, PolicySet
from ..vocabulary import LIST_OUTCOMES
from .answers import NULL_FIELDS, Explainer
from .compiler import (
    NAME_COLUMN,
    SqlCompiler,
    catalog_column,
    choice_expression,
    column,
    generate,
    match_column,
)
from ..jsonlines import error_object
from .reading import Batch, distinct

__all__ = ["INTERNAL_COLUMNS", "RosterPlan", "RosterRun"]

#: Columns of a run's tables that the outputs leave out (the row number, the date used).
INTERNAL_COLUMNS = ("__row", "__date")
_AGE_NONE = 999  # an absent age in a (diagnoses, age) key


def _arrow(relation: Any) -> pa.Table:
    table: pa.Table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    return table


def _sql(select: exp.Expr) -> str:
    return generate(select, "duckdb")


class _Compiled:
    """One policy's SQL (values, and for full answers the signature) and its explainer."""

    def __init__(self, policy: Policy, values_only: bool, dialect: str = "duckdb") -> None:
        self.policy = policy
        self.compiler = SqlCompiler(policy.model)
        self.explainer = Explainer(policy.model, self.compiler)
        self.outcomes = policy.model.outcomes()
        matcher = policy.prepared.matcher
        self.catalogs = [(j, matcher.catalogs[name]) for name, j in self.compiler.catalogs.items()]
        self._match_ids: list[dict[Match, int]] = [{} for _ in self.catalogs]
        projections: list[exp.Expr] = [column("__row")]
        projections += [exp.alias_(self.compiler.value(o), f"v:{o}", quoted=True) for o in self.outcomes]
        #: outcome -> the names of its signature columns (its lookup table's keys)
        self.keys: dict[str, list[str]] = {}
        if not values_only:
            for i, field in enumerate(NULL_FIELDS):
                absent = exp.Is(this=column(field), expression=exp.Null())
                projections.append(exp.alias_(exp.cast(absent, exp.DataType.build("BIGINT")), f"n{i}", quoted=True))
            for o, outcome in enumerate(self.outcomes):
                keys = self.keys[outcome] = []
                for k, packed in enumerate(self.compiler.signature(self.compiler.outcome_nodes(outcome))):
                    projections.append(exp.alias_(packed, f"o{o}s{k}", quoted=True))
                    keys.append(f"o{o}s{k}")
                keys += [f"n{i}" for i in range(len(NULL_FIELDS))]
                for j in self.compiler.outcome_catalogs(outcome):
                    match = exp.Coalesce(this=column(match_column(j)), expressions=[exp.Literal.number(-1)])
                    projections.append(exp.alias_(match, f"o{o}m{j}", quoted=True))
                    keys.append(f"o{o}m{j}")
        #: the policy's SELECT over the table ``batch`` (its tree, and as SQL text in ``dialect``)
        self.select = exp.select(*projections).from_(exp.table_("batch", quoted=True))
        self.sql = generate(self.select, dialect)

    def prepare(self, table: pa.Table) -> pa.Table:
        """The policy's catalog columns: each catalog's match per distinct (diagnoses, age)."""
        if not self.catalogs:
            return table
        diagnoses, diagnosis_index = distinct(table.column("encounter.diagnoses").combine_chunks())
        ages = table.column("person.age").combine_chunks()
        for position, (j, index) in enumerate(self.catalogs):
            if index.reads_age:
                key = pc.add(pc.multiply(pc.cast(diagnosis_index, pa.int64()), 1000),
                             pc.fill_null(ages, _AGE_NONE))
                keys, key_index = distinct(key)
                pairs = [(k // 1000, None if k % 1000 == _AGE_NONE else k % 1000) for k in keys]
            else:
                key_index = diagnosis_index
                pairs = [(d, None) for d in range(len(diagnoses))]
            truths: list[bool | None] = []
            ids: list[int] = []
            for d, age in pairs:
                truth, found = self.match(position, diagnoses[d], age)
                truths.append(truth)
                ids.append(found)
            table = table.append_column(catalog_column(j), pa.array(truths, pa.bool_()).take(key_index))
            table = table.append_column(match_column(j), pa.array(ids, pa.int64()).take(key_index))
        return table


    def match(self, position: int, diagnoses: list[str], age: int | None) -> tuple[bool | None, int]:
        """The truth of catalog number ``position`` (of `catalogs`) for a diagnosis list and age, and
        the id of the match (its index in the explainer's matches, for the answers)."""
        j, index = self.catalogs[position]
        match = index.match(tuple(diagnoses), age)
        known = self._match_ids[position]
        found = known.get(match)
        if found is None:
            found = known[match] = len(self.explainer.matches[j])
            self.explainer.matches[j].append(match)
        return (None if match[0] == UNKNOWN else bool(match[0])), found


class RosterPlan:
    """What every engine's run of a roster shares: each policy compiled (its SQL in ``dialect``),
    the output schema, the policy choice, the structs assembled from a run's columns, the counts."""

    def __init__(self, policies: PolicySet, values_only: bool = False, today: dt.date | None = None,
                 dialect: str = "duckdb") -> None:
        self.policies = policies
        self.values_only = values_only
        self.today = today or dt.date.today()
        self.compiled = [_Compiled(policy, values_only, dialect) for policy in policies]
        self.outcomes: list[str] = list(dict.fromkeys(o for c in self.compiled for o in c.outcomes))
        self.addressing = {o: [c.policy.id for c in self.compiled if o in c.outcomes] for o in self.outcomes}
        self.with_ratio = {r.outcome for c in self.compiled for r in c.policy.model.rules
                           if r.target_ratio is not None}
        choice = choice_expression([(p.counties, p.model.meta.effective_from, p.model.meta.effective_to)
                                    for p in policies], self.today)
        #: the index of each row's policy (NULL: none covers it), and as a column ``p`` beside ``__row``
        self.policy_index = choice
        self.choice = exp.select(column("__row"), exp.alias_(choice, "p", quoted=True)).from_(
            exp.table_("batch", quoted=True))
        self.answered = 0
        self.skipped = 0
        self.counts: dict[str, collections.Counter[str]] = {o: collections.Counter() for o in self.outcomes}
        self._no_policy: dict[tuple[Any, ...], str] = {}

    # ------------------------------------------------------------ schema

    def value_type(self, outcome: str) -> pa.DataType:
        return pa.list_(pa.string()) if outcome in LIST_OUTCOMES else pa.bool_()

    def struct_type(self, outcome: str) -> pa.StructType:
        fields = [pa.field("value", self.value_type(outcome))]
        if not self.values_only:
            fields += [pa.field(name, pa.list_(pa.string())) for name in ("rules", "missing", "not_given")]
            if outcome in self.with_ratio:
                fields.append(pa.field("target_ratio", pa.float64()))
        return pa.struct(fields)

    def schema(self, id_type: pa.DataType) -> pa.Schema:
        fields = [pa.field("id", id_type), pa.field("policy", pa.string())]
        fields += [pa.field(o, self.struct_type(o)) for o in self.outcomes]
        metadata = {"policyrules.sha256": ",".join(f"{c.policy.id}={c.policy.model.sha256}" for c in self.compiled)}
        return pa.schema(fields, metadata=metadata)

    def why_no_policy(self, insured: str | None, region: str | None, date: dt.date | None) -> str:
        """Why no policy covers a row of these regions and date (`PolicySet.select`'s message)."""
        key = (insured, region, date)
        found = self._no_policy.get(key)
        if found is None:
            values = {f: v for f, v in (("person.insured_region", insured),
                                        ("encounter.institution.region", region)) if v is not None}
            try:
                self.policies.select(Facts(values, date or self.today, date is not None))
                found = "no policy covers the context"
            except NoPolicyError as error:
                found = str(error)
            self._no_policy[key] = found
        return found

    def expand(self, joined: pa.Table, answers: dict[str, list[Outcome]]) -> pa.Table:
        """``joined`` (one policy's rows, with the column ``a:OUTCOME``, each row's index among the
        outcome's distinct ``answers``) with the answers' rules, missing, not_given, target_ratio."""
        strings = pa.list_(pa.string())
        for outcome, found in answers.items():
            index = joined.column(f"a:{outcome}").combine_chunks()
            joined = joined.append_column(f"rules:{outcome}", pa.array([list(a.rules) for a in found], strings).take(index))
            joined = joined.append_column(f"missing:{outcome}",
                                          pa.array([list(a.missing) for a in found], strings).take(index))
            joined = joined.append_column(f"not_given:{outcome}",
                                          pa.array([list(a.not_given) for a in found], strings).take(index))
            joined = joined.append_column(f"target_ratio:{outcome}",
                                          pa.array([a.target_ratio for a in found], pa.float64()).take(index))
        return joined

    def structure(self, table: pa.Table, ids: pa.Array, dates: pa.Array) -> pa.Table:
        """The output columns of a run's answered rows: ``table`` (sorted by ``__row``, with
        ``__policy`` and the columns ``v:OUTCOME``, ``rules:OUTCOME``, … of each row's policy), the
        rows' ``ids`` and encounter ``dates``; the counts of the summary taken on the way."""
        rows = table.column("__row").combine_chunks()
        policy = table.column("__policy").combine_chunks()
        arrays: dict[str, pa.Array] = {"id": ids, "policy": policy}
        n = table.num_rows
        for outcome in self.outcomes:
            addressed = pc.is_in(policy, value_set=pa.array(self.addressing[outcome], pa.string()))
            struct = self.struct_type(outcome)
            children = []
            for field in struct:
                name = "v:" + outcome if field.name == "value" else f"{field.name}:{outcome}"
                if name in table.column_names:
                    children.append(pc.cast(table.column(name).combine_chunks(), field.type))
                else:
                    children.append(pa.nulls(n, field.type))
            arrays[outcome] = pa.StructArray.from_arrays(children, fields=list(struct), mask=pc.invert(addressed))
            self._count(outcome, children[0], addressed)
        self.answered += n
        arrays["__row"] = rows
        arrays["__date"] = pc.fill_null(dates, pa.scalar(self.today, pa.date32()))
        return pa.table(arrays)

    def empty(self, batch: Batch) -> pa.Table:
        id_type = pa.int64() if batch.ids is None else batch.ids.type
        schema = self.schema(id_type)
        arrays = {f.name: pa.array([], f.type) for f in schema}
        return pa.table({**arrays, "__row": pa.array([], pa.int64()), "__date": pa.array([], pa.date32())})

    def _count(self, outcome: str, values: pa.Array, addressed: pa.Array) -> None:
        values = values.filter(addressed)
        if outcome in LIST_OUTCOMES:
            keys = pc.fill_null(pc.binary_join(values, " → "), "unknown")
        else:
            keys = pc.fill_null(pc.cast(values, pa.string()), "unknown")
        for item in pc.value_counts(keys).to_pylist():
            self.counts[outcome][item["values"]] += item["counts"]


class RosterRun(RosterPlan):
    """A roster's answers on embedded DuckDB, batch by batch, with the counts the summary prints."""

    def __init__(self, policies: PolicySet, values_only: bool = False, today: dt.date | None = None) -> None:
        super().__init__(policies, values_only, today)
        self._choice_sql = _sql(self.choice)
        self.con = duckdb.connect()

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------ one batch

    def answer(self, batch: Batch) -> tuple[pa.Table, list[dict[str, Any]]]:
        """The answers of the batch's good rows (output columns and `INTERNAL_COLUMNS`), in order,
        and the unanswered rows (``{"row", "id", "errors"}``)."""
        table = batch.table()
        names = table.column("encounter.institution.name").combine_chunks()
        uniques, index = distinct(names)
        table = table.append_column(NAME_COLUMN, pa.array(
            [normalise_name(n) for n in uniques], pa.string()).take(index))
        self.con.register("batch", table)
        try:
            chosen = _arrow(self.con.sql(self._choice_sql)).sort_by("__row").column("p").combine_chunks()
        finally:
            self.con.unregister("batch")
        errors = dict(batch.errors)
        unplaced = pc.fill_null(pc.is_null(chosen), False)
        if pc.any(unplaced).as_py():
            for position in pc.indices_nonzero(unplaced).to_pylist():
                if position not in errors:
                    errors[position] = [error_object(ContextProblem("(context)", self._why_no_policy(batch, position)))]
        bad = pa.array([i in errors for i in range(len(batch))], pa.bool_()) if errors else None
        parts: list[pa.Table] = []
        for number, compiled in enumerate(self.compiled):
            mask = pc.fill_null(pc.equal(chosen, number), False)
            if bad is not None:
                mask = pc.and_(mask, pc.invert(bad))
            if not pc.any(mask).as_py():
                continue
            parts.append(self._run(compiled, table.filter(mask)))
        unanswered = [{"row": batch.rows[p].as_py(), **({} if (i := batch.id_of(p)) is None else {"id": i}),
                       "errors": errors[p]} for p in sorted(errors)]
        self.skipped += len(unanswered)
        return self._assemble(batch, parts), unanswered

    def _why_no_policy(self, batch: Batch, position: int) -> str:
        columns = batch.columns
        return self.why_no_policy(columns["person.insured_region"][position].as_py(),
                                  columns["encounter.institution.region"][position].as_py(),
                                  columns["encounter.date"][position].as_py())

    def _run(self, compiled: _Compiled, table: pa.Table) -> pa.Table:
        table = compiled.prepare(table)
        self.con.register("batch", table)
        try:
            result = _arrow(self.con.sql(compiled.sql))
        finally:
            self.con.unregister("batch")
        result = result.append_column("__policy", pa.array([compiled.policy.id] * result.num_rows, pa.string()))
        if self.values_only:
            return result
        registered = ["r"]
        self.con.register("r", result)
        answers: dict[str, list[Outcome]] = {}
        try:
            projections: list[exp.Expr] = [exp.Column(this=exp.Star(), table=exp.to_identifier("r"))]
            query = exp.select()
            for o, outcome in enumerate(compiled.outcomes):
                keys = compiled.keys[outcome]
                listed = ", ".join(exp.to_identifier(k, quoted=True).sql("duckdb") for k in keys)
                signatures = _arrow(self.con.sql(f"SELECT DISTINCT {listed} FROM r")).to_pylist()
                answers[outcome] = [compiled.explainer.answer(outcome, tuple(s[k] for k in keys)) for s in signatures]
                name = f"l{o}"
                lookup = {k: pa.array([s[k] for s in signatures], pa.int64()) for k in keys}
                lookup[f"a:{outcome}"] = pa.array(range(len(signatures)), pa.int64())
                self.con.register(name, pa.table(lookup))
                registered.append(name)
                on = exp.and_(*[exp.EQ(this=exp.column(exp.to_identifier(k, quoted=True), table="r"),
                                       expression=exp.column(exp.to_identifier(k, quoted=True), table=name))
                                for k in keys])
                query = query.join(exp.table_(name, quoted=True), on=on)
                projections.append(exp.column(exp.to_identifier(f"a:{outcome}", quoted=True), table=name))
            query = query.select(*projections).from_(exp.table_("r", quoted=True))
            joined = _arrow(self.con.sql(_sql(query)))
        finally:
            for name in registered:
                self.con.unregister(name)
        return self.expand(joined, answers)

    def _assemble(self, batch: Batch, parts: list[pa.Table]) -> pa.Table:
        if not parts:
            return self.empty(batch)
        table = pa.concat_tables(parts, promote_options="default").sort_by("__row")
        rows = table.column("__row").combine_chunks()
        first, last = batch.rows[0].as_py(), batch.rows[-1].as_py()
        if last - first + 1 == len(batch):
            positions = pc.subtract(rows, first)
        else:  # row numbers skip (a blank JSON line)
            positions = pc.index_in(rows, value_set=batch.rows)
        ids = rows if batch.ids is None else batch.ids.take(positions)
        return self.structure(table, ids, batch.columns["encounter.date"].take(positions))
