"""What every engine's run of a roster shares, and the portable form of the policies' SQL.

`RosterShape`: the output (schema, the struct of each outcome, the empty table), the policy
choice's message for a row no policy covers, and the summary's counts; the DuckDB run
(`policyrules.sql.roster`) and the Spark run (`policyrules.sql.spark`) both derive from it.
`RosterPlan` adds the portable form: each policy as one plain SELECT of `SqlCompiler`'s trees over
a table of prepared rows (`PortablePolicy`), in any dialect sqlglot writes, with the answers of
each outcome's truth signatures expanded and the output structs assembled in Arrow. The DuckDB run
compiles the same trees its own way (`policyrules.sql.duck`: layered columns, bitmasks).
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from ..context import Facts
from ..determination import Outcome
from ..engines.matching import UNKNOWN, Match
from ..errors import NoPolicyError
from ..policy import Policy, PolicySet
from ..vocabulary import LIST_OUTCOMES
from .answers import NULL_FIELDS, Explainer
from .reading import Batch
from .compiler import SqlCompiler, choice_expression, column, generate, match_column

__all__ = ["ENCODED_LIST", "INTERNAL_COLUMNS", "PortablePolicy", "RosterPlan", "RosterShape"]

#: Columns of a run's tables that the outputs leave out (the row number, the date used).
INTERNAL_COLUMNS = ("__row", "__date")
#: The rules, missing and not_given lists of the DuckDB run's answers: each row's list holds
#: indices into the strings of its outcome's distinct answers, so taking them per row copies no
#: string (a Parquet file stores them as plain lists of strings).
ENCODED_LIST = pa.list_(pa.dictionary(pa.int32(), pa.string()))


class RosterShape:
    """The output of a run of ``policies`` (full answers, or ``values_only``), and its counts."""

    def __init__(self, policies: PolicySet, values_only: bool = False, today: dt.date | None = None) -> None:
        self.policies = policies
        self.values_only = values_only
        self.today = today or dt.date.today()
        addressed = [(p, p.model.outcomes()) for p in policies]
        self.outcomes: list[str] = list(dict.fromkeys(o for _, outcomes in addressed for o in outcomes))
        self.addressing = {o: [p.id for p, outcomes in addressed if o in outcomes] for o in self.outcomes}
        self.with_ratio = {r.outcome for p in policies for r in p.model.rules if r.target_ratio is not None}
        self.answered = 0
        self.skipped = 0
        self.counts: dict[str, collections.Counter[str]] = {o: collections.Counter() for o in self.outcomes}
        self._no_policy: dict[tuple[Any, ...], str] = {}

    def value_type(self, outcome: str) -> pa.DataType:
        return pa.list_(pa.string()) if outcome in LIST_OUTCOMES else pa.bool_()

    def struct_type(self, outcome: str, encoded: bool = False) -> pa.StructType:
        """The struct of ``outcome``'s answers; ``encoded``: its rules, missing and not_given as
        lists of dictionary-encoded strings (`ENCODED_LIST`), as the DuckDB run builds them."""
        fields = [pa.field("value", self.value_type(outcome))]
        if not self.values_only:
            listed = ENCODED_LIST if encoded else pa.list_(pa.string())
            fields += [pa.field(name, listed) for name in ("rules", "missing", "not_given")]
            if outcome in self.with_ratio:
                fields.append(pa.field("target_ratio", pa.float64()))
        return pa.struct(fields)

    def schema(self, id_type: pa.DataType, encoded: bool = False) -> pa.Schema:
        """The output's schema (``encoded``: see `struct_type`), the policies' sha256 in its metadata."""
        fields = [pa.field("id", id_type), pa.field("policy", pa.string())]
        fields += [pa.field(o, self.struct_type(o, encoded)) for o in self.outcomes]
        metadata = {"policyrules.sha256": ",".join(f"{p.id}={p.model.sha256}" for p in self.policies)}
        return pa.schema(fields, metadata=metadata)

    def empty_table(self, id_type: pa.DataType, encoded: bool = False) -> pa.Table:
        """No answers: the output's columns and `INTERNAL_COLUMNS`, empty."""
        schema = self.schema(id_type, encoded)
        arrays = {f.name: pa.array([], f.type) for f in schema}
        return pa.table({**arrays, "__row": pa.array([], pa.int64()), "__date": pa.array([], pa.date32())})

    def empty(self, batch: Batch) -> pa.Table:
        return self.empty_table(pa.int64() if batch.ids is None else batch.ids.type)

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

    def count(self, outcome: str, values: pa.Array) -> None:
        """Count the values of rows whose policy addresses ``outcome``."""
        if outcome in LIST_OUTCOMES:
            values = pc.binary_join(values, " → ")
        for item in pc.value_counts(values).to_pylist():
            value = item["values"]
            key = "unknown" if value is None else str(value).lower() if isinstance(value, bool) else value
            self.counts[outcome][key] += item["counts"]


class PortablePolicy:
    """One policy's plain SELECT over a table ``batch`` of prepared rows (values, and for full
    answers each outcome's truth signature), in a dialect, and its explainer."""

    def __init__(self, policy: Policy, values_only: bool, dialect: str) -> None:
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


class RosterPlan(RosterShape):
    """A run of the portable form: each policy's plain SELECT in ``dialect`` (`PortablePolicy`),
    the policy choice as a tree, and the structs assembled in Arrow from a run's columns."""

    def __init__(self, policies: PolicySet, values_only: bool = False, today: dt.date | None = None,
                 dialect: str = "duckdb") -> None:
        super().__init__(policies, values_only, today)
        self.compiled = [PortablePolicy(policy, values_only, dialect) for policy in policies]
        #: the index of each row's policy (NULL: none covers it)
        self.policy_index = choice_expression(
            [(p.counties, p.model.meta.effective_from, p.model.meta.effective_to) for p in policies], self.today)

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
            self.count(outcome, children[0].filter(addressed))
        self.answered += n
        arrays["__row"] = rows
        arrays["__date"] = pc.fill_null(dates, pa.scalar(self.today, pa.date32()))
        return pa.table(arrays)
