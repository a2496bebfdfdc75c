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
from .icd10 import diagnosis_keys
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

__all__ = ["FALSE", "TRUE", "UNKNOWN", "ReferenceEvaluator", "TargetDisagreement"]


class TargetDisagreement(Exception):
    """Two targets of the model decided one outcome differently: neither answer is given."""

    def __init__(self, outcome: str, elsewhere: Any, here: Any) -> None:
        super().__init__(f"{outcome}: the other target decided {elsewhere!r}, the reference evaluator {here!r}")
        self.outcome = outcome

FALSE, TRUE, UNKNOWN = 0, 1, 2
Truth = int
Values = dict[str, Any]
Test = Callable[[Values], Truth]
Explainer = Callable[[Values], tuple[frozenset[str], tuple[str, ...]]]

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
        self.reads_age = any(entry.children for entry in catalog.entries)
        self._memo: dict[tuple[tuple[str, ...], int | None], tuple[Truth, frozenset[str], frozenset[str]]] = {}
        self.by_code: dict[str, list[int]] = {}
        for index, entry in enumerate(catalog.entries):
            for code in entry.codes:
                self.by_code.setdefault(code, []).append(index)

    def match(self, diagnoses: tuple[str, ...], age: int | None) -> tuple[Truth, frozenset[str], frozenset[str]]:
        """Truth of "some diagnosis is in the catalog", with missing fields and gaps."""
        key = (diagnoses, age if self.reads_age else None)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 50_000:
                self._memo.clear()
            found = self._memo[key] = self._match(diagnoses, age)
        return found

    def _match(self, diagnoses: tuple[str, ...], age: int | None) -> tuple[Truth, frozenset[str], frozenset[str]]:
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
                return TRUE, frozenset(), frozenset()
            if age is None:
                result = UNKNOWN
                missing.add(_AGE)
            elif age < child.certainly_child_below:
                return TRUE, frozenset(), frozenset()
            elif age < child.certainly_adult_from:
                result = UNKNOWN
                gaps.add(child.not_given)
        if self.catalog.more_not_given and diagnoses:
            result = UNKNOWN
            gaps.add(self.catalog.more_not_given)
        return result, frozenset(missing), frozenset(gaps)


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
        self._tests: dict[int, Test] = {}  # id(condition node) -> compiled test
        self._explainers: dict[int, Explainer] = {}  # id(condition node) -> compiled explainer
        self._position = {id(rule): index for index, rule in enumerate(model.rules)}
        self._plan: list[_OutcomePlan] = []
        for outcome in model.outcomes():
            grants = tuple((r, self.compile(r.when)) for r in model.rules
                           if r.outcome == outcome and r.effect is Effect.GRANT)
            exceptions = tuple((r, self.compile(r.when)) for r in model.rules
                               if r.outcome == outcome and r.effect is Effect.EXCEPTION)
            self._plan.append(_OutcomePlan(outcome, grants, exceptions))

    # ------------------------------------------------------------ evaluation

    def evaluate(self, facts: Facts) -> dict[str, Outcome]:
        values = facts.values
        return {
            plan.name: (self._list_outcome(plan, values) if plan.is_list
                        else self._bool_outcome(plan, values))
            for plan in self._plan
        }

    def explain_values(
        self, decided: dict[str, tuple[Any, set[str]]], checked: dict[str, Outcome]
    ) -> dict[str, Outcome]:
        """The answer for values another target decided (the Rete engine), checked against this
        evaluator's own answer ``checked`` (from `evaluate`, for the same facts).

        ``decided`` maps an outcome to its value and the ids of the rules that decided it; an
        outcome absent from it is unknown there. A decided value is explained by the rules that
        decided it; an unknown one by this evaluator (undecided rules, missing, not_given).
        Raises `TargetDisagreement` when the two targets differ on any value."""
        out: dict[str, Outcome] = {}
        for plan in self._plan:
            mine = checked[plan.name]
            found = decided.get(plan.name)
            if found is None or found[0] == "none":  # unknown there (or no rule gives a value)
                outcome: Outcome | None = mine if mine.value is None else None
            else:
                outcome = plan.explain(*found)
            if outcome is None or outcome.value != mine.value:
                raise TargetDisagreement(plan.name, None if found is None else found[0], mine.value)
            out[plan.name] = outcome
        return out

    def _bool_outcome(self, plan: _OutcomePlan, values: Values) -> Outcome:
        taken, exception_unknown, exception_truths = _truths(plan.exceptions, values)
        if taken:  # an exception holds: the benefit is taken away, whatever the grants say
            return plan.decided(False, taken)
        granted, grant_unknown, grant_truths = _truths(plan.grants, values)
        if not granted and not grant_unknown:
            return plan.decided(False, plan.grant_rules)
        if granted and not exception_unknown:
            return plan.decided(True, granted)
        undecided = [r for (r, _), t in zip(plan.exceptions, exception_truths, strict=True) if t == UNKNOWN]
        if not granted:
            undecided += [r for (r, _), t in zip(plan.grants, grant_truths, strict=True) if t == UNKNOWN]
        undecided.sort(key=lambda rule: self._position[id(rule)])
        return self._unknown(plan, undecided, values)

    def _list_outcome(self, plan: _OutcomePlan, values: Values) -> Outcome:
        undecided: list[Rule] = []
        for rule, test in plan.grants:
            truth = test(values)
            if truth == TRUE and not undecided:
                return plan.decided(rule.value, [rule], rule.target_ratio)
            if truth != FALSE:
                undecided.append(rule)
        if undecided:
            return self._unknown(plan, undecided, values)
        if plan.none_applies is None:
            labels = "; ".join(r.label or r.id for r in plan.grant_rules)
            gap = (
                f"{self.model.meta.document} does not say what {plan.name} is in this case; "
                f"it gives it only for: {labels}"
            )
            plan.none_applies = Outcome(
                plan.name, None, tuple(r.id for r in plan.grant_rules),
                _citations(plan.grant_rules), (), (gap,),
            )
        return plan.none_applies

    def _unknown(self, plan: _OutcomePlan, undecided: list[Rule], values: Values) -> Outcome:
        missing: set[str] = set()
        gaps: dict[str, None] = {}
        for rule in undecided:
            rule_missing, rule_gaps = self.explain(rule.when, values)
            missing |= rule_missing
            for gap in rule_gaps:
                gaps.setdefault(gap, None)
        return plan.unknown(undecided, tuple(sorted(missing)), tuple(gaps))

    # ------------------------------------------------------------ compilation

    def compile(self, node: Condition) -> Test:
        """The test of ``node``, compiled once (the model keeps every node alive)."""
        test = self._tests.get(id(node))
        if test is None:
            test = self._tests[id(node)] = _compile(node, self)
        return test

    def explain(self, node: Condition, values: Values) -> tuple[frozenset[str], tuple[str, ...]]:
        """For a condition that is UNKNOWN: the absent fields and the gaps that make it so."""
        explainer = self._explainers.get(id(node))
        if explainer is None:
            explainer = self._explainers[id(node)] = _explainer(node, self)
        return explainer(values)


class _OutcomePlan:
    """One outcome's compiled rules, and its decided answers (immutable, so shared)."""

    __slots__ = ("_decided", "exceptions", "grant_rules", "grants", "is_list", "name", "none_applies")

    def __init__(
        self,
        name: str,
        grants: tuple[tuple[Rule, Test], ...],
        exceptions: tuple[tuple[Rule, Test], ...],
    ) -> None:
        self.name = name
        self.grants = grants
        self.exceptions = exceptions
        self.grant_rules = [rule for rule, _ in grants]
        self.is_list = name in LIST_OUTCOMES
        self.none_applies: Outcome | None = None
        self._decided: dict[tuple[Any, ...], Outcome] = {}

    def explain(self, value: Any, deciders: set[str]) -> Outcome | None:
        """The outcome for a value decided elsewhere, by the rules named in ``deciders``."""
        if self.is_list:
            for rule in self.grant_rules:
                if rule.id in deciders and rule.value == value:
                    return self.decided(value, [rule], rule.target_ratio)
            return None
        if value is True:
            return self.decided(True, [r for r in self.grant_rules if r.id in deciders])
        if value is False:
            taken = [r for r, _ in self.exceptions if r.id in deciders]
            return self.decided(False, taken or self.grant_rules)
        return None

    def unknown(self, rules: list[Rule], missing: tuple[str, ...], gaps: tuple[str, ...]) -> Outcome:
        key = (None, missing, gaps, *(rule.id for rule in rules))
        found = self._decided.get(key)
        if found is None:
            found = self._decided[key] = Outcome(
                self.name, None, tuple(r.id for r in rules), _citations(rules), missing, gaps
            )
        return found

    def decided(self, value: Any, rules: list[Rule], ratio: float | None = None) -> Outcome:
        key = (value, *(rule.id for rule in rules))
        found = self._decided.get(key)
        if found is None:
            found = self._decided[key] = Outcome(
                self.name, value, tuple(r.id for r in rules), _citations(rules), (), (), ratio
            )
        return found


def _truths(rules: tuple[tuple[Rule, Test], ...], values: Values) -> tuple[list[Rule], bool, list[Truth]]:
    """The rules that hold, whether any is unknown, and every rule's truth, in order."""
    holding: list[Rule] = []
    unknown = False
    truths: list[Truth] = []
    for rule, test in rules:
        truth = test(values)
        truths.append(truth)
        if truth == TRUE:
            holding.append(rule)
        elif truth == UNKNOWN:
            unknown = True
    return holding, unknown, truths


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
    tests = [ev.compile(item) for item in node.items]

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
    tests = [ev.compile(item) for item in node.items]
    return lambda v: _any(t(v) for t in tests)


@_compile.register
def _(node: Not, ev: ReferenceEvaluator) -> Test:
    inner = ev.compile(node.item)
    return lambda v: UNKNOWN if (t := inner(v)) == UNKNOWN else 1 - t


# ---------------------------------------------------------------- explain: why unknown
# An explainer is compiled per node, like a test; it is only called on a node whose test
# gave UNKNOWN, and returns the absent fields and the document's gaps behind that.

_NOTHING: tuple[str, ...] = ()


@singledispatch
def _explainer(node: Condition, ev: ReferenceEvaluator) -> Explainer:
    raise TypeError(f"the reference evaluator cannot explain {type(node).__name__}")


@_explainer.register(FieldIs)
@_explainer.register(StatusAny)
@_explainer.register(AgeRange)
@_explainer.register(InstitutionIn)
def _(node: Any, ev: ReferenceEvaluator) -> Explainer:
    field = {StatusAny: _STATUSES, AgeRange: _AGE, InstitutionIn: _NAME}.get(type(node))
    answer = (frozenset({field or node.field}), _NOTHING)
    return lambda v: answer


@_explainer.register
def _(node: InCounty, ev: ReferenceEvaluator) -> Explainer:
    return lambda v: (frozenset(f for f in (_REGION, _INSURED) if v.get(f) is None), _NOTHING)


@_explainer.register
def _(node: NotGiven, ev: ReferenceEvaluator) -> Explainer:
    answer: tuple[frozenset[str], tuple[str, ...]] = (frozenset(), (node.text,))
    return lambda v: answer


@_explainer.register
def _(node: DiagnosisIn, ev: ReferenceEvaluator) -> Explainer:
    index = ev._catalogs[node.catalog]
    absent = (frozenset({_DIAGNOSES}), _NOTHING)
    # with the diagnoses unknown, a 儿童 entry may yet need the age too
    both_absent = (frozenset({_DIAGNOSES, _AGE}) if index.reads_age else absent[0], _NOTHING)

    def explain(v: Values) -> tuple[frozenset[str], tuple[str, ...]]:
        diagnoses = v.get(_DIAGNOSES)
        if diagnoses is None:
            return both_absent if v.get(_AGE) is None else absent
        _, missing, gaps = index.match(diagnoses, v.get(_AGE))
        return missing, tuple(sorted(gaps))

    return explain


@_explainer.register(AllOf)
@_explainer.register(AnyOf)
def _(node: AllOf | AnyOf, ev: ReferenceEvaluator) -> Explainer:
    children = [(ev.compile(item), item) for item in node.items]

    def explain(v: Values) -> tuple[frozenset[str], tuple[str, ...]]:
        missing: set[str] = set()
        gaps: dict[str, None] = {}
        for test, item in children:
            if test(v) == UNKNOWN:
                item_missing, item_gaps = ev.explain(item, v)
                missing |= item_missing
                for gap in item_gaps:
                    gaps.setdefault(gap, None)
        return frozenset(missing), tuple(gaps)

    return explain


@_explainer.register
def _(node: Not, ev: ReferenceEvaluator) -> Explainer:
    return lambda v: ev.explain(node.item, v)
