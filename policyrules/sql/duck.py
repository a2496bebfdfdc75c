"""A policy compiled for a DuckDB roster run (`policyrules.sql.roster`): every condition node a
column computed once from its children's (`DuckCompiler.layers`), statuses tested on bitmasks
(`status_mask`), catalogs and institution lists read from the run's prepared columns, and for full
answers each outcome's key columns and the answers learnt per distinct key (`CompiledPolicy`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from sqlglot import exp

from ..determination import Outcome
from ..engines.matching import UNKNOWN, Match
from ..model import Condition, DiagnosisIn, InstitutionIn, StatusAny
from ..policy import Policy
from ..vocabulary import PASSING_STATUSES, STATUS_IMPLIES
from .answers import NULL_FIELDS, Explainer
from .compiler import SqlCompiler, column

__all__ = ["AGE_NONE", "STATUS_FIELDS", "CompiledPolicy", "DuckCompiler", "arrow_of", "at", "catalog_of", "mask_column",
           "encoded_lists", "insert_columns", "match_of", "number", "quoted", "sql_text", "status_bits", "status_mask"]

STATUS_FIELDS = ("person.statuses", "household.statuses")
#: An absent age in a (diagnoses, age band) key.
AGE_NONE = -1
_BIGINT = exp.DataType.build("BIGINT")


def arrow_of(relation: Any) -> pa.Table:
    table: pa.Table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    return table


def sql_text(select: exp.Expr) -> str:
    return select.sql(dialect="duckdb")


def quoted(text: str) -> exp.Identifier:
    return exp.to_identifier(text, quoted=True)


def insert_columns(con: Any, table: str, columns: dict[str, pa.Array]) -> None:
    """Append ``columns`` (in the table's column order) to the DuckDB table ``table`` of ``con``."""
    con.register("__new", pa.table(columns))
    try:
        con.execute(f"INSERT INTO {quoted(table).sql('duckdb')} SELECT * FROM __new")
    finally:
        con.unregister("__new")


def at(table: str, name: str) -> exp.Column:
    return exp.column(quoted(name), table=quoted(table))


def number(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def mask_column(field: str) -> str:
    """The prepared BIGINT column of a statuses field: one bit per status (implications included)."""
    return f"__mask:{field}"


def catalog_of(policy: int, index: int) -> str:
    """The prepared column of the truth of catalog ``index`` of the run's policy number ``policy``."""
    return f"__p{policy}c{index}"


def match_of(policy: int, index: int) -> str:
    """The prepared column of the match id of catalog ``index`` of policy number ``policy``."""
    return f"__p{policy}m{index}"


class DuckCompiler(SqlCompiler):
    """The compiler of one policy of a run: statuses tested on bitmasks, catalogs per policy."""

    def __init__(self, policy: Policy, number: int, bits: dict[str, int]) -> None:
        super().__init__(policy.model)
        self.number = number
        self.bits = bits
        #: id(node) -> the column holding its truth, once `layers` has placed it
        self.columns: dict[int, str] = {}

    def condition(self, node: Condition) -> exp.Expr:
        name = self.columns.get(id(node))
        return column(name) if name is not None else super().condition(node)

    def layers(self) -> list[list[tuple[str, exp.Expr]]]:
        """Every condition node as a column ``__n{i}``, computed once: leaves first, then each node
        from its children's columns (nodes that compile alike share one column)."""
        height: dict[int, int] = {}

        def measure(node: Condition) -> int:
            if id(node) not in height:
                height[id(node)] = 1 + max((measure(c) for c in node.children), default=-1)
            return height[id(node)]

        for node in self.nodes:
            measure(node)
        by_text: dict[str, str] = {}
        out: list[list[tuple[str, exp.Expr]]] = []
        for level in range(max(height.values(), default=-1) + 1):
            layer: list[tuple[str, exp.Expr]] = []
            for node in self.nodes:
                if height[id(node)] != level:
                    continue
                compiled = self.condition(node)
                text = compiled.sql("duckdb")
                name = by_text.get(text)
                if name is None:
                    name = by_text[text] = f"__n{len(by_text)}"
                    layer.append((name, compiled))
                self.columns[id(node)] = name
            out.append(layer)
        return out

    def _diagnosis_in(self, node: DiagnosisIn) -> exp.Expr:
        return column(catalog_of(self.number, self.catalogs[node.catalog]))

    def truth_code(self, node: Condition) -> exp.Expr:
        """1 where ``node`` holds, 0 where it does not, 2 where it is unknown (from its column)."""
        return exp.Coalesce(this=exp.cast(self.condition(node), _BIGINT), expressions=[number(2)])

    def list_columns(self) -> dict[str, str]:
        """list name -> the prepared column of whether the normalised name is on it (NULL: no name)."""
        return {name: f"__p{self.number}list{i}" for i, name in enumerate(sorted(self.lists))}

    def _institution_in(self, node: InstitutionIn) -> exp.Expr:
        return column(self.list_columns()[node.list_name])

    def _has(self, field: str, statuses: frozenset[str]) -> exp.Expr:
        """``field`` holds one of ``statuses``: NULL when the field is absent (as list overlap)."""
        bits = sum(1 << self.bits[s] for s in statuses)
        held = exp.BitwiseAnd(this=column(mask_column(field)), expression=number(bits))
        return exp.NEQ(this=exp.Paren(this=held), expression=number(0))

    def _status_any(self, node: StatusAny) -> exp.Expr:  # as SqlCompiler._status_any, on bitmasks
        person, household = STATUS_FIELDS
        if node.holder == "household":
            return self._has(household, node.statuses)
        passing = node.statuses & PASSING_STATUSES
        by_household = self._has(household, passing) if passing else exp.false()
        settled = exp.false() if node.statuses <= PASSING_STATUSES else exp.null()
        return exp.Case(ifs=[
            exp.If(this=exp.Not(this=exp.Is(this=column(mask_column(person)), expression=exp.Null())),
                   true=exp.or_(self._has(person, node.statuses), exp.func("COALESCE", by_household, exp.false()))),
            exp.If(this=exp.Is(this=column(mask_column(household)), expression=exp.Null()), true=exp.null()),
            exp.If(this=by_household, true=exp.true()),
        ], default=settled)


class CompiledPolicy:
    """One policy of a run: its SQL expressions (values, and for full answers each outcome's key)
    and its explainer."""

    def __init__(self, policy: Policy, number: int, bits: dict[str, int], values_only: bool) -> None:
        self.policy = policy
        self.number = number
        self.compiler = DuckCompiler(policy, number, bits)
        self.explainer = Explainer(policy.model, self.compiler)
        self.outcomes = policy.model.outcomes()
        matcher = policy.prepared.matcher
        self.catalogs = [(j, matcher.catalogs[name]) for name, j in self.compiler.catalogs.items()]
        self._match_ids: list[dict[Match, int]] = [{} for _ in self.catalogs]
        #: the (diagnosis list, age) keys already in the policy's tables, without and with age
        self.seen: dict[bool, set[tuple[tuple[str, ...], int | None]]] = {False: set(), True: set()}
        self.values_only = values_only
        self.built = False
        self.layers: list[list[tuple[str, exp.Expr]]] = []
        self.values: dict[str, exp.Expr] = {}
        #: outcome -> the names of its key columns (packed truth codes, absent flags, match ids)
        self.keys: dict[str, list[str]] = {}
        self.key_columns: list[tuple[str, exp.Expr]] = []
        #: (outcome -> the answers of its lookup table, by index; their Arrow columns)
        self.answers: dict[str, list[Outcome]] = {o: [] for o in self.outcomes}
        self.answer_arrays: dict[str, dict[str, pa.Array]] = {}
        self.known: dict[str, set[tuple[int, ...]]] = {o: set() for o in self.outcomes}

    def build(self) -> None:
        """The policy's SQL: its condition nodes as layered columns, values and keys (made when
        the policy first has rows: a roster seldom needs every policy)."""
        if self.built:
            return
        self.built = True
        self.layers = self.compiler.layers()
        self.values = {o: self.compiler.value(o) for o in self.outcomes}
        if not self.values_only:
            absent: exp.Expr = number(0)  # the absent flags of NULL_FIELDS, one bit each: one key column
            for i, field in enumerate(NULL_FIELDS):
                flag = exp.cast(exp.Is(this=column(field), expression=exp.Null()), _BIGINT)
                absent = exp.Add(this=absent, expression=exp.Mul(this=flag, expression=number(1 << i)))
            self.key_columns.append(("n", absent))
            for o, outcome in enumerate(self.outcomes):
                keys = self.keys[outcome] = []
                for k, packed in enumerate(self.compiler.signature(self.compiler.outcome_nodes(outcome))):
                    self.key_columns.append((f"o{o}s{k}", packed))
                    keys.append(f"o{o}s{k}")
                keys.append("n")
                for j in self.compiler.outcome_catalogs(outcome):
                    match = exp.Coalesce(this=column(match_of(self.number, j)), expressions=[number(-1)])
                    self.key_columns.append((f"o{o}m{j}", match))
                    keys.append(f"o{o}m{j}")

    def select(self, source: exp.Expr, today: dt.date) -> str:
        """The SQL of the policy's rows of ``source`` (the prepared batch): ``__row``, ``id``,
        ``__date``, each outcome's value ``v:o`` and, for full answers, each key column."""
        where = exp.EQ(this=column("__p"), expression=number(self.number))
        query = exp.select(exp.Star()).from_(source).where(where)
        for n, layer in enumerate(self.layers):
            query = exp.select(exp.Star(), *[exp.alias_(e, name, quoted=True) for name, e in layer]).from_(
                exp.alias_(exp.Subquery(this=query), f"l{n}"))
        day = exp.Coalesce(this=column("encounter.date"),
                           expressions=[exp.cast(exp.Literal.string(today.isoformat()), "DATE")])
        projections: list[exp.Expr] = [column("__row"), exp.alias_(column("__id"), "id", quoted=True),
                                       exp.alias_(day, "__date", quoted=True)]
        projections += [exp.alias_(value, f"v:{o}", quoted=True) for o, value in self.values.items()]
        projections += [exp.alias_(e, name, quoted=True) for name, e in self.key_columns]
        projections.append(column("__miss"))
        return sql_text(exp.select(*projections).from_(exp.alias_(exp.Subquery(this=query), "c")))

    def matches(self, diagnoses: tuple[str, ...], age: int | None, by_age: bool) -> list[tuple[bool | None, int]]:
        """(truth, match id) of each of the policy's catalogs that reads age (``by_age``) or not."""
        out: list[tuple[bool | None, int]] = []
        for position, (j, index) in enumerate(self.catalogs):
            if index.reads_age != by_age:
                continue
            match = index.match(diagnoses, age)
            known = self._match_ids[position]
            found = known.get(match)
            if found is None:
                found = known[match] = len(self.explainer.matches[j])
                self.explainer.matches[j].append(match)
            out.append((None if match[0] == UNKNOWN else bool(match[0]), found))
        return out

    def age_band(self, age: exp.Expr) -> exp.Expr:
        """The youngest age of ``age``'s band (`AGE_NONE` where absent): a catalog match reads an age
        only by comparing it with its 儿童 entries' bounds, so every age of a band matches alike."""
        cuts = sorted({bound for _, index in self.catalogs if index.reads_age for entry in index.catalog.entries
                       if entry.children is not None
                       for bound in (entry.children.certainly_child_below, entry.children.certainly_adult_from)})
        ifs = [exp.If(this=exp.Is(this=age.copy(), expression=exp.Null()), true=number(AGE_NONE))]
        for low, high in zip([0, *cuts], cuts, strict=False):
            ifs.append(exp.If(this=exp.LT(this=age.copy(), expression=number(high)), true=number(low)))
        return exp.Case(ifs=ifs, default=number(cuts[-1] if cuts else 0))

    def catalog_columns(self, by_age: bool) -> list[tuple[str, str]]:
        return [(catalog_of(self.number, j), match_of(self.number, j))
                for j, index in self.catalogs if index.reads_age == by_age]

    def diagnoses_table(self, by_age: bool) -> str:
        """The run's table of this policy's catalog matches per diagnosis list (and age)."""
        return f"__diagnoses{self.number}" + ("_ages" if by_age else "")

    def lookup(self, outcome: str) -> str:
        """The run's lookup table of ``outcome``'s answers (its key columns, then ``__a``)."""
        return f"__l{self.number}_{self.outcomes.index(outcome)}"

    def learn(self, outcome: str, keys: list[tuple[int, ...]]) -> list[int]:
        """The keys not seen before, answered and indexed; returns their indices."""
        start = len(self.answers[outcome])
        place = self.keys[outcome].index("n")  # the explainer reads one flag per field
        flags = range(len(NULL_FIELDS))
        self.answers[outcome].extend(
            self.explainer.answer(outcome, (*key[:place], *((key[place] >> i) & 1 for i in flags), *key[place + 1:]))
            for key in keys)
        self.known[outcome].update(keys)
        found = self.answers[outcome]
        self.answer_arrays[outcome] = {
            "rules": encoded_lists([a.rules for a in found]),
            "missing": encoded_lists([a.missing for a in found]),
            "not_given": encoded_lists([a.not_given for a in found]),
            "target_ratio": pa.array([a.target_ratio for a in found], pa.float64())}
        return list(range(start, len(found)))


def encoded_lists(lists: list[tuple[str, ...]]) -> pa.Array:
    """Lists of strings as `ENCODED_LIST`: each distinct string once, the lists holding indices."""
    strings: dict[str, int] = {}
    offsets = [0]
    indices: list[int] = []
    for items in lists:
        indices.extend(strings.setdefault(item, len(strings)) for item in items)
        offsets.append(len(indices))
    values = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(list(strings), pa.string()))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def status_bits(policies: Iterable[Policy]) -> dict[str, int]:
    """A bit for every status a StatusAny node of the policies tests."""
    used: set[str] = set()
    for policy in policies:
        for node in policy.model.conditions():
            if isinstance(node, StatusAny):
                used |= node.statuses
    return {status: bit for bit, status in enumerate(sorted(used))}


def status_mask(field: str, bits: dict[str, int]) -> exp.Expr:
    """The statuses of ``field`` as a bitmask, with their implications (as `reading._canonical`)."""
    implied_by: dict[str, set[str]] = {s: {s} for s in bits}
    for status, implied in STATUS_IMPLIES.items():
        for target in implied & set(bits):
            implied_by[target].add(status)
    total: exp.Expr = number(0)
    for status, bit in bits.items():
        held = exp.or_(*[exp.func("LIST_CONTAINS", column(field), exp.Literal.string(s))
                         for s in sorted(implied_by[status])])
        total = exp.Add(this=total, expression=exp.Case(ifs=[exp.If(this=held, true=number(1 << bit))],
                                                        default=number(0)))
    return exp.Case(ifs=[exp.If(this=exp.Is(this=column(field), expression=exp.Null()), true=exp.Null())],
                    default=total)
