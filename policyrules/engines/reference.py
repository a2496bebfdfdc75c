"""The reference engine: pure Python, Kleene's three-valued logic over the model, readable.

Each condition of the model is compiled once into a small function of the facts that
returns TRUE, FALSE or UNKNOWN (`compile_test`, dispatching on the node's class); only when
an outcome stays unknown is the second pass (`explain`) run, which names the absent fields
(``missing``) and the document's gaps (``not_given``) that left it so. It is the oracle the
other engines are checked against; the CONTRACT's three-valued.md is its specification.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch
from typing import Any

from ..context import HOUSEHOLD_GIVEN, Facts
from ..determination import Outcome
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
    Rule,
    StatusAny,
)
from ..vocabulary import HISTORY_FIELDS, PASSING_STATUSES
from .base import Answers, Engine, PreparedPolicy
from .matching import FALSE, NEGATION, TRUE, UNKNOWN, Truth, normalise_name
from .outcomes import OutcomePlan

__all__ = ["ReferenceEngine"]

Values = dict[str, Any]
Test = Callable[[Values], Truth]
Why = tuple[frozenset[str], tuple[str, ...]]
Explainer = Callable[[Values], Why]

_REGION = "encounter.institution.region"
_INSURED = "person.insured_region"
_NAME = "encounter.institution.name"
_AGE = "person.age"
_DIAGNOSES = "encounter.diagnoses"
_STATUSES = "person.statuses"
_HOUSEHOLD = "household.statuses"


class ReferenceEngine(Engine):
    """Evaluates one policy model. Build once per policy; ``evaluate`` is thread-safe."""

    name = "reference"

    def __init__(self, prepared: PreparedPolicy) -> None:
        super().__init__(prepared)
        self.matcher = prepared.matcher
        self._tests: dict[int, Test] = {}  # id(condition node) -> compiled test
        self._explainers: dict[int, Explainer] = {}  # id(condition node) -> compiled explainer
        self._plan: list[tuple[OutcomePlan, tuple[tuple[Rule, Test], ...], tuple[tuple[Rule, Test], ...]]] = [
            (plan, tuple((r, self.compile(r.when)) for r in plan.grants),
             tuple((r, self.compile(r.when)) for r in plan.exceptions))
            for plan in prepared.plans.values()
        ]

        self._by_name = {entry[0].name: entry for entry in self._plan}

    def evaluate(self, facts: Facts) -> Answers:
        values = facts.values
        return {
            plan.name: (self._list_outcome(plan, grants, values) if plan.is_list
                        else self._bool_outcome(plan, grants, exceptions, values))
            for plan, grants, exceptions in self._plan
        }

    def answer(self, outcome: str, values: Values) -> Outcome:
        """The answer of one outcome for flat ``values`` (`Facts.values`); the compiled engine
        asks it for the unknown answers it explains."""
        plan, grants, exceptions = self._by_name[outcome]
        if plan.is_list:
            return self._list_outcome(plan, grants, values)
        return self._bool_outcome(plan, grants, exceptions, values)

    def _bool_outcome(self, plan: OutcomePlan, grants: tuple[tuple[Rule, Test], ...],
                      exceptions: tuple[tuple[Rule, Test], ...], values: Values) -> Outcome:
        taken, exception_open = _holding(exceptions, values)
        if taken:  # an exception holds: the benefit is taken away, whatever the grants say
            return plan.decided(False, taken)
        granted, grant_open = _holding(grants, values)
        if not granted and not grant_open:
            return plan.decided(False, plan.grants)
        if granted and not exception_open:
            return plan.decided(True, granted)
        # undecided: the open exceptions, and (when nothing granted) the open grants
        return self._unknown(plan, exception_open + ([] if granted else grant_open), values)

    def _list_outcome(self, plan: OutcomePlan, grants: tuple[tuple[Rule, Test], ...], values: Values) -> Outcome:
        undecided: list[Rule] = []
        for rule, test in grants:
            truth = test(values)
            if truth == TRUE and not undecided:
                return plan.decided(rule.value, [rule], rule.target_ratio)
            if truth != FALSE:
                undecided.append(rule)
        if undecided:
            return self._unknown(plan, undecided, values)
        return plan.none_applies()

    def _unknown(self, plan: OutcomePlan, undecided: list[Rule], values: Values) -> Outcome:
        missing: set[str] = set()
        gaps: dict[str, None] = {}
        for rule in undecided:
            rule_missing, rule_gaps = self.explain(rule.when, values)
            missing |= rule_missing
            gaps.update(dict.fromkeys(rule_gaps))
        return plan.unknown(undecided, tuple(sorted(missing)), tuple(gaps))

    # ------------------------------------------------------------ compilation

    def compile(self, node: Condition) -> Test:
        """The test of ``node``, compiled once (the model keeps every node alive)."""
        test = self._tests.get(id(node))
        if test is None:
            test = self._tests[id(node)] = compile_test(node, self)
        return test

    def truth(self, node: Condition, facts: Facts) -> Truth:
        """The truth of one condition for ``facts`` (what YAML case coverage asks)."""
        return self.compile(node)(facts.values)

    def explain(self, node: Condition, values: Values) -> Why:
        """For a condition that is UNKNOWN: the absent fields and the gaps that make it so."""
        explainer = self._explainers.get(id(node))
        if explainer is None:
            explainer = self._explainers[id(node)] = explainer_of(node, self)
        return explainer(values)


def _holding(rules: tuple[tuple[Rule, Test], ...], values: Values) -> tuple[list[Rule], list[Rule]]:
    """The rules that hold and the rules that are unknown, each in order."""
    holding: list[Rule] = []
    open_: list[Rule] = []
    for rule, test in rules:
        truth = test(values)
        if truth == TRUE:
            holding.append(rule)
        elif truth == UNKNOWN:
            open_.append(rule)
    return holding, open_


# ---------------------------------------------------------------- compile: condition -> test


@singledispatch
def compile_test(node: Condition, engine: ReferenceEngine) -> Test:
    raise TypeError(f"the reference engine has no rule for {type(node).__name__}")


@compile_test.register
def _(node: FieldIs, engine: ReferenceEngine) -> Test:
    field, accepted = node.field, node.values
    if field in HISTORY_FIELDS:  # what is on file: absent means "nothing on file" (false)
        absent = TRUE if False in accepted else FALSE
        return lambda v: absent if (x := v.get(field)) is None else (TRUE if x in accepted else FALSE)
    return lambda v: UNKNOWN if (x := v.get(field)) is None else (TRUE if x in accepted else FALSE)


@compile_test.register
def _(node: StatusAny, engine: ReferenceEngine) -> Test:
    wanted = node.statuses
    if node.holder == "household":
        return lambda v: UNKNOWN if (x := v.get(_HOUSEHOLD)) is None else (TRUE if x & wanted else FALSE)
    # a member's household statuses are known from the household's list (what passes to members)
    passing = wanted & PASSING_STATUSES
    settled_by_household = FALSE if wanted <= PASSING_STATUSES else UNKNOWN

    def test(v: Values) -> Truth:
        x = v.get(_STATUSES)
        if x is not None:
            return TRUE if x & wanted else FALSE
        h = v.get(_HOUSEHOLD)
        if h is None:
            return UNKNOWN
        return TRUE if h & passing else settled_by_household

    return test


@compile_test.register
def _(node: AgeRange, engine: ReferenceEngine) -> Test:
    low = node.at_least if node.at_least is not None else -1
    high = node.at_most if node.at_most is not None else 10_000
    return lambda v: UNKNOWN if (x := v.get(_AGE)) is None else (TRUE if low <= x <= high else FALSE)


@compile_test.register
def _(node: DiagnosisIn, engine: ReferenceEngine) -> Test:
    index = engine.matcher.catalogs[node.catalog]

    def test(v: Values) -> Truth:
        diagnoses = v.get(_DIAGNOSES)
        if diagnoses is None:
            return UNKNOWN
        return index.match(diagnoses, v.get(_AGE))[0]

    return test


@compile_test.register
def _(node: InstitutionIn, engine: ReferenceEngine) -> Test:
    names = engine.matcher.lists[node.list_name]
    return lambda v: UNKNOWN if (x := v.get(_NAME)) is None else (TRUE if normalise_name(x) in names else FALSE)


@compile_test.register
def _(node: InCounty, engine: ReferenceEngine) -> Test:
    same, other = (TRUE, FALSE) if node.expected else (FALSE, TRUE)

    def test(v: Values) -> Truth:
        a, b = v.get(_REGION), v.get(_INSURED)
        if a is None or b is None:
            return UNKNOWN
        return same if a == b else other

    return test


@compile_test.register
def _(node: NotGiven, engine: ReferenceEngine) -> Test:
    return lambda v: UNKNOWN


@compile_test.register
def _(node: AllOf, engine: ReferenceEngine) -> Test:
    tests = [engine.compile(item) for item in node.children]

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


@compile_test.register
def _(node: AnyOf, engine: ReferenceEngine) -> Test:
    tests = [engine.compile(item) for item in node.children]

    def test(v: Values) -> Truth:
        result = FALSE
        for t in tests:
            truth = t(v)
            if truth == TRUE:
                return TRUE
            if truth == UNKNOWN:
                result = UNKNOWN
        return result

    return test


@compile_test.register
def _(node: Not, engine: ReferenceEngine) -> Test:
    inner = engine.compile(node.item)
    return lambda v: NEGATION[inner(v)]


# ---------------------------------------------------------------- explain: why unknown
# An explainer is compiled per node, like a test; it is only called on a node whose test
# gave UNKNOWN, and returns the absent fields and the document's gaps behind that.

_NOTHING: tuple[str, ...] = ()


@singledispatch
def explainer_of(node: Condition, engine: ReferenceEngine) -> Explainer:
    raise TypeError(f"the reference engine cannot explain {type(node).__name__}")


@explainer_of.register
def _(node: StatusAny, engine: ReferenceEngine) -> Explainer:
    """The field that would settle it: the household's list where only household statuses that
    pass to members are wanted and a household was sent, else the person's own list."""
    own = (frozenset({_STATUSES}), _NOTHING)
    household = (frozenset({_HOUSEHOLD}), _NOTHING)
    if node.holder == "household":
        return lambda v: household
    if not node.statuses <= PASSING_STATUSES:
        return lambda v: own
    return lambda v: household if v.get(HOUSEHOLD_GIVEN) and v.get(_HOUSEHOLD) is None else own


@explainer_of.register(FieldIs)
@explainer_of.register(AgeRange)
@explainer_of.register(InstitutionIn)
def _(node: Any, engine: ReferenceEngine) -> Explainer:
    answer = (frozenset(node.reads), _NOTHING)
    return lambda v: answer


@explainer_of.register
def _(node: InCounty, engine: ReferenceEngine) -> Explainer:
    return lambda v: (frozenset(f for f in node.reads if v.get(f) is None), _NOTHING)


@explainer_of.register
def _(node: NotGiven, engine: ReferenceEngine) -> Explainer:
    answer: Why = (frozenset(), (node.text,))
    return lambda v: answer


@explainer_of.register
def _(node: DiagnosisIn, engine: ReferenceEngine) -> Explainer:
    index = engine.matcher.catalogs[node.catalog]
    absent = (frozenset({_DIAGNOSES}), _NOTHING)
    # with the diagnoses unknown, a 儿童 entry may yet need the age too
    both_absent = (frozenset({_DIAGNOSES, _AGE}) if index.reads_age else absent[0], _NOTHING)

    def explain(v: Values) -> Why:
        diagnoses = v.get(_DIAGNOSES)
        if diagnoses is None:
            return both_absent if v.get(_AGE) is None else absent
        _, missing, gaps = index.match(diagnoses, v.get(_AGE))
        return missing, tuple(sorted(gaps))

    return explain


@explainer_of.register(AllOf)
@explainer_of.register(AnyOf)
@explainer_of.register(Not)
def _(node: AllOf | AnyOf | Not, engine: ReferenceEngine) -> Explainer:
    children = [(engine.compile(item), item) for item in node.children]

    def explain(v: Values) -> Why:
        missing: set[str] = set()
        gaps: dict[str, None] = {}
        for test, item in children:
            if test(v) == UNKNOWN:
                item_missing, item_gaps = engine.explain(item, v)
                missing |= item_missing
                gaps.update(dict.fromkeys(item_gaps))
        return frozenset(missing), tuple(gaps)

    return explain
