"""The reference evaluator: pure Python, Kleene's three-valued logic over the model.

Each condition of the model is compiled once into a small function of the facts that
returns TRUE, FALSE or UNKNOWN; only when an outcome stays unknown is the second pass
(`_explain`) run, which names the absent fields (``missing``) and the gaps of the
document (``not_given``) that left it so. ../shared/three-valued.md is the specification.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch
from typing import Any

from .context import Facts, normalise_name
from .determination import Outcome
from .model import (
    AgeRange,
    AllOf,
    AnyOf,
    Catalog,
    Citation,
    Condition,
    DiagnosisIn,
    Effect,
    FieldIs,
    InCounty,
    InstitutionIn,
    Not,
    NotGiven,
    PolicyModel,
    Rule,
    StatusAny,
)
from .vocabulary import HISTORY_FIELDS, LIST_OUTCOMES

__all__ = ["FALSE", "TRUE", "UNKNOWN", "ReferenceEvaluator"]

FALSE, TRUE, UNKNOWN = 0, 1, 2
Truth = int
Values = dict[str, Any]
Test = Callable[[Values], Truth]

_REGION = "encounter.institution.region"
_INSURED = "person.insured_region"
_NAME = "encounter.institution.name"
_AGE = "person.age"
_DIAGNOSES = "encounter.diagnoses"
_STATUSES = "person.statuses"


class _CatalogIndex:
    """A catalog ready for matching: code -> entries that take it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_code: dict[str, list[int]] = {}
        for index, entry in enumerate(catalog.entries):
            for code in entry.codes:
                self.by_code.setdefault(code, []).append(index)

    def match(self, diagnoses: tuple[str, ...], age: int | None) -> tuple[Truth, set[str], set[str]]:
        """Truth of "some diagnosis is in the catalog", with missing fields and gaps."""
        from .icd10 import diagnosis_keys

        keys: set[str] = set()
        for code in diagnoses:
            keys.update(diagnosis_keys(code))
        result, missing, gaps = FALSE, set(), set()
        for index in sorted({i for key in keys for i in self.by_code.get(key, ())}):
            entry = self.catalog.entries[index]
            if entry.together_with and not keys & entry.together_with:
                continue
            child = entry.children
            if child is None:
                return TRUE, set(), set()
            if age is None:
                result = UNKNOWN
                missing.add(_AGE)
            elif age < child.certainly_child_below:
                return TRUE, set(), set()
            elif age < child.certainly_adult_from:
                result = UNKNOWN
                gaps.add(child.not_given)
        if self.catalog.more_not_given and diagnoses:
            result = UNKNOWN
            gaps.add(self.catalog.more_not_given)
        return result, missing, gaps


class ReferenceEvaluator:
    """Evaluates one policy model. Build once per policy; ``evaluate`` is thread-safe."""

    engine = "reference"

    def __init__(self, model: PolicyModel) -> None:
        self.model = model
        self._catalogs = {name: _CatalogIndex(c) for name, c in model.catalogs.items()}
        self._lists = {
            name: frozenset(
                normalise_name(n) for m in lst.members for n in (m.name, *m.aliases)
            )
            for name, lst in model.institution_lists.items()
        }
        self._plan: list[tuple[str, list[tuple[Rule, Test]], list[tuple[Rule, Test]]]] = []
        for outcome in model.outcomes():
            grants = [(r, self.compile(r.when)) for r in model.rules
                      if r.outcome == outcome and r.effect is Effect.GRANT]
            exceptions = [(r, self.compile(r.when)) for r in model.rules
                          if r.outcome == outcome and r.effect is Effect.EXCEPTION]
            self._plan.append((outcome, grants, exceptions))

    # ------------------------------------------------------------ evaluation

    def evaluate(self, facts: Facts) -> dict[str, Outcome]:
        values = facts.values
        return {
            outcome: (
                self._list_outcome(outcome, grants, values)
                if outcome in LIST_OUTCOMES
                else self._bool_outcome(outcome, grants, exceptions, values)
            )
            for outcome, grants, exceptions in self._plan
        }

    def _bool_outcome(
        self,
        outcome: str,
        grants: list[tuple[Rule, Test]],
        exceptions: list[tuple[Rule, Test]],
        values: Values,
    ) -> Outcome:
        granted = [(rule, test(values)) for rule, test in grants]
        taken = [(rule, test(values)) for rule, test in exceptions]
        g = _any(t for _, t in granted)
        e = _any(t for _, t in taken)
        if e == TRUE:
            return _decided(outcome, False, [r for r, t in taken if t == TRUE])
        if g == FALSE:
            return _decided(outcome, False, [r for r, _ in granted])
        if g == TRUE and e == FALSE:
            return _decided(outcome, True, [r for r, t in granted if t == TRUE])
        undecided = [r for r, t in granted if t == UNKNOWN and g == UNKNOWN]
        undecided += [r for r, t in taken if t == UNKNOWN]
        order = {id(rule): i for i, rule in enumerate(self.model.rules)}
        undecided.sort(key=lambda r: order[id(r)])
        return self._unknown(outcome, undecided, values)

    def _list_outcome(self, outcome: str, grants: list[tuple[Rule, Test]], values: Values) -> Outcome:
        undecided: list[Rule] = []
        for rule, test in grants:
            truth = test(values)
            if truth == TRUE and not undecided:
                return _decided(outcome, rule.value, [rule], rule.target_ratio)
            if truth != FALSE:
                undecided.append(rule)
        if undecided:
            return self._unknown(outcome, undecided, values)
        labels = "; ".join(r.label or r.id for r, _ in grants)
        gap = (
            f"{self.model.meta.document} does not say which reimbursement layers apply to this "
            f"case; it gives them only for: {labels}"
        )
        return Outcome(outcome, None, tuple(r.id for r, _ in grants),
                       _citations(r for r, _ in grants), (), (gap,))

    def _unknown(self, outcome: str, undecided: list[Rule], values: Values) -> Outcome:
        missing: set[str] = set()
        gaps: dict[str, None] = {}
        for rule in undecided:
            rule_missing, rule_gaps = self.explain(rule.when, values)
            missing |= rule_missing
            for gap in rule_gaps:
                gaps.setdefault(gap, None)
        return Outcome(
            outcome, None, tuple(r.id for r in undecided), _citations(undecided),
            tuple(sorted(missing)), tuple(gaps),
        )

    # ------------------------------------------------------------ compilation

    def compile(self, node: Condition) -> Test:
        return _compile(node, self)

    def explain(self, node: Condition, values: Values) -> tuple[set[str], list[str]]:
        """For a condition that is UNKNOWN: the absent fields and the gaps that make it so."""
        return _explain(node, self, values)


def _any(truths: Any) -> Truth:
    result = FALSE
    for truth in truths:
        if truth == TRUE:
            return TRUE
        if truth == UNKNOWN:
            result = UNKNOWN
    return result


def _citations(rules: Any) -> tuple[Citation, ...]:
    return tuple(c for rule in rules for c in rule.citations)


def _decided(outcome: str, value: Any, rules: list[Rule], ratio: float | None = None) -> Outcome:
    return Outcome(outcome, value, tuple(r.id for r in rules), _citations(rules), (), (), ratio)


# ---------------------------------------------------------------- compile: condition -> test


@singledispatch
def _compile(node: Condition, ev: ReferenceEvaluator) -> Test:
    raise TypeError(f"the reference evaluator has no rule for {type(node).__name__}")


@_compile.register
def _(node: FieldIs, ev: ReferenceEvaluator) -> Test:
    field, accepted = node.field, node.values
    if field in HISTORY_FIELDS:  # what is on file: absent means "nothing on file" (false)
        absent = TRUE if False in accepted else FALSE
        return lambda v: absent if (x := v.get(field)) is None else (TRUE if x in accepted else FALSE)
    return lambda v: UNKNOWN if (x := v.get(field)) is None else (TRUE if x in accepted else FALSE)


@_compile.register
def _(node: StatusAny, ev: ReferenceEvaluator) -> Test:
    wanted = node.statuses
    return lambda v: UNKNOWN if (x := v.get(_STATUSES)) is None else (TRUE if x & wanted else FALSE)


@_compile.register
def _(node: AgeRange, ev: ReferenceEvaluator) -> Test:
    low = node.at_least if node.at_least is not None else -1
    high = node.at_most if node.at_most is not None else 10_000
    return lambda v: UNKNOWN if (x := v.get(_AGE)) is None else (TRUE if low <= x <= high else FALSE)


@_compile.register
def _(node: DiagnosisIn, ev: ReferenceEvaluator) -> Test:
    index = ev._catalogs[node.catalog]

    def test(v: Values) -> Truth:
        diagnoses = v.get(_DIAGNOSES)
        if diagnoses is None:
            return UNKNOWN
        return index.match(diagnoses, v.get(_AGE))[0]

    return test


@_compile.register
def _(node: InstitutionIn, ev: ReferenceEvaluator) -> Test:
    names = ev._lists[node.list_name]
    return lambda v: UNKNOWN if (x := v.get(_NAME)) is None else (TRUE if x in names else FALSE)


@_compile.register
def _(node: InCounty, ev: ReferenceEvaluator) -> Test:
    same, other = (TRUE, FALSE) if node.expected else (FALSE, TRUE)

    def test(v: Values) -> Truth:
        a, b = v.get(_REGION), v.get(_INSURED)
        if a is None or b is None:
            return UNKNOWN
        return same if a == b else other

    return test


@_compile.register
def _(node: NotGiven, ev: ReferenceEvaluator) -> Test:
    return lambda v: UNKNOWN


@_compile.register
def _(node: AllOf, ev: ReferenceEvaluator) -> Test:
    tests = [_compile(item, ev) for item in node.items]

    def test(v: Values) -> Truth:
        result = TRUE
        for t in tests:
            truth = t(v)
            if truth == FALSE:
                return FALSE
            if truth == UNKNOWN:
                result = UNKNOWN
        return result

    return test


@_compile.register
def _(node: AnyOf, ev: ReferenceEvaluator) -> Test:
    tests = [_compile(item, ev) for item in node.items]
    return lambda v: _any(t(v) for t in tests)


@_compile.register
def _(node: Not, ev: ReferenceEvaluator) -> Test:
    inner = _compile(node.item, ev)
    return lambda v: UNKNOWN if (t := inner(v)) == UNKNOWN else 1 - t


# ---------------------------------------------------------------- explain: why unknown


@singledispatch
def _explain(node: Condition, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    raise TypeError(type(node).__name__)


@_explain.register(FieldIs)
@_explain.register(StatusAny)
@_explain.register(AgeRange)
@_explain.register(InstitutionIn)
def _(node: Any, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    field = {StatusAny: _STATUSES, AgeRange: _AGE, InstitutionIn: _NAME}.get(type(node))
    return {field or node.field}, []


@_explain.register
def _(node: InCounty, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    return {f for f in (_REGION, _INSURED) if v.get(f) is None}, []


@_explain.register
def _(node: NotGiven, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    return set(), [node.text]


@_explain.register
def _(node: DiagnosisIn, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    diagnoses = v.get(_DIAGNOSES)
    if diagnoses is None:
        return {_DIAGNOSES}, []
    _, missing, gaps = ev._catalogs[node.catalog].match(diagnoses, v.get(_AGE))
    return missing, sorted(gaps)


@_explain.register(AllOf)
@_explain.register(AnyOf)
def _(node: AllOf | AnyOf, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    missing: set[str] = set()
    gaps: list[str] = []
    for item in node.items:
        if _compile(item, ev)(v) == UNKNOWN:
            item_missing, item_gaps = _explain(item, ev, v)
            missing |= item_missing
            gaps += [g for g in item_gaps if g not in gaps]
    return missing, gaps


@_explain.register
def _(node: Not, ev: ReferenceEvaluator, v: Values) -> tuple[set[str], list[str]]:
    return _explain(node.item, ev, v)
