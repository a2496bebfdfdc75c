"""The policy model compiled to SQL: one sqlglot expression tree per rule and per outcome.

SQL's NULL is our unknown: AND, OR and NOT are Kleene's, and ``=``, ``IN``, ``BETWEEN`` and list
overlap give NULL on NULL input, so a condition compiles node for node (`SqlCompiler.condition`,
dispatching on the node's class like sqlglot's generators, with a named `unsupported`). Every
literal and name is a sqlglot node (`exp.Literal.string`, `exp.column`, ...), never formatted
text, so a hostile name in a policy stays a string literal in every dialect.

What SQL is not asked to do is prepared per distinct value in Python by the shared code, so the
answers are the engines' own: institution names are normalised (`normalise_name`) into the
column `NAME_COLUMN`, and each catalog's ICD-10 match (`Matcher`) is the boolean column
`catalog_column(i)`, with `match_column(i)` naming which match it was (for explanations).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlglot import exp

from ..errors import UnsupportedConstructError
from ..model import (
    AgeRange,
    AllOf,
    AnyOf,
    Condition,
    DiagnosisIn,
    FieldIs,
    InCounty,
    InstitutionIn,
    Not,
    NotGiven,
    PolicyModel,
    StatusAny,
)
from ..vocabulary import HISTORY_FIELDS, PASSING_STATUSES

__all__ = ["NAME_COLUMN", "SIGNATURE_DIGITS", "SqlCompiler", "catalog_column", "choice_expression",
           "column", "generate", "match_column", "policy_sql"]

#: The normalised institution name (`normalise_name` of ``encounter.institution.name``).
NAME_COLUMN = "__name"
#: Truth codes of this many condition nodes are packed, base 3, into one BIGINT (3**39 < 2**63).
SIGNATURE_DIGITS = 39

_AGE, _STATUSES, _HOUSEHOLD = "person.age", "person.statuses", "household.statuses"
_REGION, _INSURED = "encounter.institution.region", "person.insured_region"


def column(name: str) -> exp.Column:
    """The column ``name`` (a dotted CONTRACT field or a prepared column), always quoted."""
    return exp.column(exp.to_identifier(name, quoted=True))


def catalog_column(index: int) -> str:
    """The prepared column holding the truth of the policy's catalog number ``index``."""
    return f"__catalog{index}"


def match_column(index: int) -> str:
    """The prepared column naming the match (an integer id) of the policy's catalog ``index``."""
    return f"__match{index}"


def _literal(value: str | bool | int) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


def _date(day: dt.date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("DATE"))


def _null_unless_known(subject: exp.Expr, known: exp.Expr) -> exp.Expr:
    """``known`` where ``subject`` is given, NULL where it is not."""
    return exp.Case(ifs=[exp.If(this=exp.Is(this=subject, expression=exp.Null()), true=exp.Null())],
                    default=known)


def _in(subject: exp.Expr, values: Sequence[str | bool]) -> exp.Expr:
    if not values:  # "is one of nothing": false when given, unknown when not
        return _null_unless_known(subject, exp.false())
    if len(values) == 1:
        return exp.EQ(this=subject, expression=_literal(values[0]))
    return exp.In(this=subject, expressions=[_literal(v) for v in values])


def _sorted(values: frozenset[str | bool] | frozenset[str]) -> list[str | bool]:
    return sorted(values, key=lambda v: (isinstance(v, bool), str(v)))


def _overlaps(field: str, statuses: frozenset[str]) -> exp.Expr:
    """``field`` (a list column) has one of ``statuses``: NULL when the column is NULL."""
    wanted = exp.Array(expressions=[exp.Literal.string(s) for s in sorted(statuses)])
    return exp.ArrayOverlaps(this=column(field), expression=wanted)


class SqlCompiler:
    """One policy compiled to SQL; ``catalogs`` maps catalog name -> its index (column number)."""

    def __init__(self, model: PolicyModel) -> None:
        self.model = model
        self.catalogs: dict[str, int] = {name: i for i, name in enumerate(model.catalogs)}
        self.lists: dict[str, list[str]] = {}
        from ..engines.matching import Matcher  # the engines' own normalised names

        for name, names in Matcher(model).lists.items():
            self.lists[name] = sorted(names)
        #: every condition node of every rule, once (by identity), in the order rules walk them
        self.nodes: list[Condition] = []
        self.index: dict[int, int] = {}
        for node in model.conditions():
            if id(node) not in self.index:
                self.index[id(node)] = len(self.nodes)
                self.nodes.append(node)
        self._dispatch: dict[type, Callable[..., exp.Expr]] = {
            FieldIs: self._field_is, StatusAny: self._status_any, AgeRange: self._age_range,
            DiagnosisIn: self._diagnosis_in, InstitutionIn: self._institution_in, InCounty: self._in_county,
            NotGiven: self._not_given, AllOf: self._all_of, AnyOf: self._any_of, Not: self._not,
        }

    # ------------------------------------------------------------ conditions

    def condition(self, node: Condition) -> exp.Expr:
        """The SQL of ``node``: TRUE, FALSE or NULL (unknown), as the reference engine's test."""
        method = self._dispatch.get(type(node))
        if method is None:
            self.unsupported(node)
        assert method is not None
        return method(node)

    def unsupported(self, node: object) -> None:
        raise UnsupportedConstructError(f"the SQL target has no rule for {type(node).__name__}")

    def _field_is(self, node: FieldIs) -> exp.Expr:
        test = _in(column(node.field), _sorted(node.values))
        if node.field in HISTORY_FIELDS:  # what is on file: absent means nothing on file
            return exp.Coalesce(this=test, expressions=[exp.Boolean(this=False in node.values)])
        return test

    def _status_any(self, node: StatusAny) -> exp.Expr:
        if node.holder == "household":
            return _overlaps(_HOUSEHOLD, node.statuses)
        # a person's statuses: their own list, and what their household passes to its members
        passing = node.statuses & PASSING_STATUSES
        by_household = _overlaps(_HOUSEHOLD, passing) if passing else exp.false()
        settled = exp.false() if node.statuses <= PASSING_STATUSES else exp.null()
        return exp.Case(ifs=[
            exp.If(this=exp.Not(this=exp.Is(this=column(_STATUSES), expression=exp.Null())),
                   true=exp.or_(_overlaps(_STATUSES, node.statuses), exp.func("COALESCE", by_household, exp.false()))),
            exp.If(this=exp.Is(this=column(_HOUSEHOLD), expression=exp.Null()), true=exp.null()),
            exp.If(this=by_household, true=exp.true()),
        ], default=settled)

    def _age_range(self, node: AgeRange) -> exp.Expr:
        age = column(_AGE)
        low, high = node.at_least, node.at_most
        if low is not None and high is not None:
            return exp.Between(this=age, low=exp.Literal.number(low), high=exp.Literal.number(high))
        if low is not None:
            return exp.GTE(this=age, expression=exp.Literal.number(low))
        if high is not None:
            return exp.LTE(this=age, expression=exp.Literal.number(high))
        return exp.GTE(this=age, expression=exp.Literal.number(-1))

    def _diagnosis_in(self, node: DiagnosisIn) -> exp.Expr:
        return column(catalog_column(self.catalogs[node.catalog]))

    def _institution_in(self, node: InstitutionIn) -> exp.Expr:
        return _in(column(NAME_COLUMN), self.lists[node.list_name])

    def _in_county(self, node: InCounty) -> exp.Expr:
        cls = exp.EQ if node.expected else exp.NEQ
        return cls(this=column(_REGION), expression=column(_INSURED))

    def _not_given(self, node: NotGiven) -> exp.Expr:
        return exp.cast(exp.Null(), exp.DataType.build("BOOLEAN"))

    def _all_of(self, node: AllOf) -> exp.Expr:
        items = [self.condition(item) for item in node.items]
        return exp.and_(*items, copy=False) if items else exp.true()

    def _any_of(self, node: AnyOf) -> exp.Expr:
        items = [self.condition(item) for item in node.items]
        return exp.or_(*items, copy=False) if items else exp.false()

    def _not(self, node: Not) -> exp.Expr:
        return exp.not_(self.condition(node.item), copy=False)

    # ------------------------------------------------------------ outcomes

    def value(self, outcome: str) -> exp.Expr:
        """The outcome's value: granted unless an exception holds (Kleene), or for a list outcome
        the value of the first rule that holds with none before it undecided."""
        grants = self.model.grants(outcome)
        from ..vocabulary import LIST_OUTCOMES

        if outcome in LIST_OUTCOMES:
            ifs: list[exp.If] = []
            for rule in grants:
                test = self.condition(rule.when)
                codes = exp.Array(expressions=[exp.Literal.string(c) for c in rule.value or ()])
                ifs.append(exp.If(this=test, true=codes))
                ifs.append(exp.If(this=exp.Is(this=test.copy(), expression=exp.Null()), true=exp.Null()))
            if not ifs:
                return exp.Null()
            return exp.Case(ifs=ifs, default=exp.Null())
        granted = exp.or_(*[self.condition(r.when) for r in grants]) if grants else exp.false()
        exceptions = self.model.exceptions(outcome)
        if not exceptions:
            return granted
        taken = exp.or_(*[self.condition(r.when) for r in exceptions])
        return exp.and_(granted, exp.not_(taken))

    def truth_code(self, node: Condition) -> exp.Expr:
        """1 where ``node`` holds, 0 where it does not, 2 where it is unknown."""
        test = self.condition(node)
        return exp.Case(ifs=[exp.If(this=test, true=exp.Literal.number(1)),
                             exp.If(this=exp.not_(test.copy()), true=exp.Literal.number(0))],
                        default=exp.Literal.number(2))

    def outcome_nodes(self, outcome: str) -> list[Condition]:
        """Every condition node of the outcome's rules, once, in the order they walk."""
        rules = (*self.model.grants(outcome), *self.model.exceptions(outcome))
        found: dict[int, Condition] = {}
        for rule in rules:
            for node in rule.when.walk():
                found.setdefault(id(node), node)
        return list(found.values())

    def outcome_catalogs(self, outcome: str) -> list[int]:
        """The catalogs (by index) the outcome's rules match diagnoses against, in order."""
        return list(dict.fromkeys(self.catalogs[node.catalog] for node in self.outcome_nodes(outcome)
                                  if isinstance(node, DiagnosisIn)))

    def signature(self, nodes: Sequence[Condition]) -> list[exp.Expr]:
        """The truth codes of ``nodes``, packed base 3 into BIGINTs of `SIGNATURE_DIGITS` nodes."""
        packed: list[exp.Expr] = []
        for start in range(0, len(nodes), SIGNATURE_DIGITS):
            terms: list[exp.Expr] = []
            for power, node in enumerate(nodes[start:start + SIGNATURE_DIGITS]):
                code = exp.cast(self.truth_code(node), exp.DataType.build("BIGINT"))
                terms.append(exp.Mul(this=code, expression=exp.Literal.number(3 ** power)) if power else code)
            total = terms[0]
            for term in terms[1:]:
                total = exp.Add(this=total, expression=term)
            packed.append(total)
        return packed

    def select(self, table: str = "roster") -> exp.Select:
        """A SELECT giving every rule's truth and every outcome's value (what ``policyrules sql`` prints)."""
        projections: list[exp.Expr] = []
        for rule in self.model.rules:
            projections.append(exp.alias_(self.condition(rule.when), f"rule:{rule.id}", quoted=True))
        for outcome in self.model.outcomes():
            projections.append(exp.alias_(self.value(outcome), outcome, quoted=True))
        return exp.select(*projections).from_(exp.table_(table, quoted=True))


def choice_expression(policies: Sequence[tuple[frozenset[str], dt.date, dt.date | None]],
                      today: dt.date) -> exp.Expr:
    """The index of the policy in force for the row's insured region (else institution region) and
    date (``today`` where the row has none), NULL where none is; ``policies`` as (counties, from, to)."""
    region = exp.Coalesce(this=column(_INSURED), expressions=[column(_REGION)])
    day = exp.Coalesce(this=column("encounter.date"), expressions=[_date(today)])
    ifs: list[exp.If] = []
    for index, (counties, start, end) in enumerate(policies):
        covered = _in(region.copy(), sorted(counties))
        period: exp.Expr = exp.GTE(this=day.copy(), expression=_date(start))
        if end is not None:
            period = exp.Between(this=day.copy(), low=_date(start), high=_date(end))
        ifs.append(exp.If(this=exp.and_(covered, period), true=exp.Literal.number(index)))
    if not ifs:
        return exp.cast(exp.Null(), exp.DataType.build("INT"))
    return exp.Case(ifs=ifs, default=exp.Null())


# ---------------------------------------------------------------- list overlap in every dialect

#: Dialects whose ``&&`` is list overlap, NULL on a NULL list (sqlglot's default rendering).
_NATIVE_OVERLAP = frozenset({"duckdb", "postgres", "materialize", "risingwave"})
#: Dialects with ``ARRAYS_OVERLAP(a, b)``, NULL on a NULL list (sqlglot renders ``&&`` there).
_OVERLAP_FUNCTION = frozenset({"spark", "spark2", "databricks", "trino", "presto", "athena", "dune",
                               "starrocks", "doris"})


def _overlap_form(dialect: str) -> str:
    """How ``dialect`` is given list overlap: ``native`` (sqlglot's own rendering is right),
    ``function`` (``ARRAYS_OVERLAP``) or ``contains`` (one membership test per listed value)."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.generator import Generator

    name = Dialect.get_or_raise(dialect).__class__.__name__.lower()
    generator = Dialect.get_or_raise(dialect).generator_class
    if name in _NATIVE_OVERLAP or generator.TRANSFORMS.get(exp.ArrayOverlaps) is not Generator.TRANSFORMS.get(
            exp.ArrayOverlaps):
        return "native"
    return "function" if name in _OVERLAP_FUNCTION else "contains"


def _portable_overlaps(tree: exp.Expr, form: str) -> exp.Expr:
    """``tree`` with each list overlap in ``form`` (see `_overlap_form`); the same truth, NULL on
    a NULL list, in each (our lists hold no NULL element: validated statuses)."""
    if form == "native":
        return tree

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.ArrayOverlaps):
            return node
        if form == "function":
            return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[node.this, node.expression])
        wanted = node.expression.expressions if isinstance(node.expression, exp.Array) else []
        tests = [exp.ArrayContains(this=node.this.copy(), expression=value.copy()) for value in wanted]
        # a dialect's membership test may answer FALSE on a NULL list: NULL is decided first
        return _null_unless_known(node.this.copy(), exp.or_(*tests) if tests else exp.false())

    return tree.copy().transform(rewrite)


def generate(tree: exp.Expr, dialect: str = "duckdb", pretty: bool = False) -> str:
    """``tree`` as SQL text in ``dialect`` (any dialect sqlglot knows), list overlap written as that
    dialect has it (sqlglot writes ``&&``, which Spark, Trino or BigQuery do not accept)."""
    return _portable_overlaps(tree, _overlap_form(dialect)).sql(dialect=dialect, pretty=pretty)


def policy_sql(model: PolicyModel, dialect: str = "duckdb", pretty: bool = True) -> str:
    """The policy as one SELECT in ``dialect`` (any dialect sqlglot knows)."""
    return generate(SqlCompiler(model).select(), dialect, pretty)
