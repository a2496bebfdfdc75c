"""Full answers from truth codes: each outcome's rules, missing and not_given, as the per-call answer.

SQL gives, per row and outcome, the truth of every condition node of the outcome's rules
(packed by `SqlCompiler.signature`) and a few facts about the row that explanations read: which
of the fields ``InCounty`` and ``DiagnosisIn`` look at are absent, and which catalog match each
catalog made. An outcome's answer depends on nothing else, so it is derived here once per
distinct `Signature`, walking the model exactly as `engines.reference` does (`_bool_outcome`,
`_list_outcome`, the explainers) and building the answers with the same `OutcomePlan`s.
"""

from __future__ import annotations

from typing import Any

from ..determination import Outcome
from ..engines.matching import FALSE, TRUE, UNKNOWN, Match, Truth
from ..engines.outcomes import OutcomePlan, plans_of
from ..model import (
    AllOf,
    AnyOf,
    Condition,
    DiagnosisIn,
    InCounty,
    Not,
    NotGiven,
    PolicyModel,
    Rule,
    StatusAny,
)
from ..vocabulary import PASSING_STATUSES
from .compiler import SIGNATURE_DIGITS, SqlCompiler

__all__ = ["Explainer", "Signature", "answer_dict"]

#: (packed truth codes..., absent flags of NULL_FIELDS..., one match id per catalog)
Signature = tuple[int, ...]
#: The fields whose absence an explanation reads (beyond what a node always reads).
NULL_FIELDS = ("person.insured_region", "encounter.institution.region", "person.age", "encounter.diagnoses",
               "household.id", "household.statuses")
_CODE = {0: FALSE, 1: TRUE, 2: UNKNOWN}
_DIAGNOSES, _AGE = "encounter.diagnoses", "person.age"
_STATUSES, _HOUSEHOLD = "person.statuses", "household.statuses"


def answer_dict(outcome: Outcome) -> dict[str, Any]:
    """The per-call answer of one outcome without its citations (what a roster row carries)."""
    out = outcome.to_dict()
    del out["citations"]
    return out


class _Row:
    __slots__ = ("absent", "matches", "truths")

    def __init__(self, truths: dict[int, Truth], absent: set[str], matches: dict[int, Match]) -> None:
        self.truths, self.absent, self.matches = truths, absent, matches


class Explainer:
    """One policy's answers per outcome and signature (memoised); ``matches[i]`` lists catalog i's
    matches by id. An outcome's signature is (its nodes' truth codes packed by
    `SqlCompiler.signature`, an absent flag per `NULL_FIELDS`, a match id per catalog it reads)."""

    def __init__(self, model: PolicyModel, compiler: SqlCompiler) -> None:
        self.model = model
        self.compiler = compiler
        self.plans: dict[str, OutcomePlan] = plans_of(model)
        self.reads_age = [model.catalogs[name].reads_age for name in compiler.catalogs]
        self.matches: list[list[Match]] = [[] for _ in compiler.catalogs]
        #: outcome -> (the global index of each of its nodes, the catalogs it reads)
        self.layout: dict[str, tuple[list[int], list[int]]] = {
            outcome: ([compiler.index[id(node)] for node in compiler.outcome_nodes(outcome)],
                      compiler.outcome_catalogs(outcome))
            for outcome in self.plans
        }
        self._memo: dict[tuple[str, Signature], Outcome] = {}

    def answer(self, outcome: str, signature: Signature) -> Outcome:
        """The answer of ``outcome`` for a row with this signature."""
        key = (outcome, signature)
        found = self._memo.get(key)
        if found is None:
            plan = self.plans[outcome]
            row = self._row(outcome, signature)
            found = self._memo[key] = self._list(plan, row) if plan.is_list else self._bool(plan, row)
        return found

    def _row(self, outcome: str, signature: Signature) -> _Row:
        nodes, catalogs = self.layout[outcome]
        chunks = -(-len(nodes) // SIGNATURE_DIGITS)
        truths: dict[int, Truth] = {}
        for start, chunk in zip(range(0, len(nodes), SIGNATURE_DIGITS), signature[:chunks], strict=True):
            for node in nodes[start:start + SIGNATURE_DIGITS]:
                truths[node] = _CODE[chunk % 3]
                chunk //= 3
        flags = signature[chunks:chunks + len(NULL_FIELDS)]
        absent = {field for field, flag in zip(NULL_FIELDS, flags, strict=True) if flag}
        ids = signature[chunks + len(NULL_FIELDS):]
        matches = {c: self.matches[c][i] for c, i in zip(catalogs, ids, strict=True) if i >= 0}
        return _Row(truths, absent, matches)

    def truth(self, node: Condition, row: _Row) -> Truth:
        return row.truths[self.compiler.index[id(node)]]

    # ------------------------------------------------------------ as reference.py

    def _holding(self, rules: tuple[Rule, ...], row: _Row) -> tuple[list[Rule], list[Rule]]:
        holding = [r for r in rules if self.truth(r.when, row) == TRUE]
        open_ = [r for r in rules if self.truth(r.when, row) == UNKNOWN]
        return holding, open_

    def _bool(self, plan: OutcomePlan, row: _Row) -> Outcome:
        taken, exception_open = self._holding(plan.exceptions, row)
        if taken:
            return plan.decided(False, taken)
        granted, grant_open = self._holding(plan.grants, row)
        if not granted and not grant_open:
            return plan.decided(False, plan.grants)
        if granted and not exception_open:
            return plan.decided(True, granted)
        return self._unknown(plan, exception_open + ([] if granted else grant_open), row)

    def _list(self, plan: OutcomePlan, row: _Row) -> Outcome:
        undecided: list[Rule] = []
        for rule in plan.grants:
            truth = self.truth(rule.when, row)
            if truth == TRUE and not undecided:
                return plan.decided(rule.value, [rule], rule.target_ratio)
            if truth != FALSE:
                undecided.append(rule)
        if undecided:
            return self._unknown(plan, undecided, row)
        return plan.none_applies()

    def _unknown(self, plan: OutcomePlan, undecided: list[Rule], row: _Row) -> Outcome:
        missing: set[str] = set()
        gaps: dict[str, None] = {}
        for rule in undecided:
            rule_missing, rule_gaps = self.explain(rule.when, row)
            missing |= rule_missing
            gaps.update(dict.fromkeys(rule_gaps))
        return plan.unknown(undecided, tuple(sorted(missing)), tuple(gaps))

    def explain(self, node: Condition, row: _Row) -> tuple[frozenset[str], tuple[str, ...]]:
        """For a node that is UNKNOWN: the absent fields and the gaps behind it (the explainers of
        `engines.reference`, node kind by node kind)."""
        if isinstance(node, (AllOf, AnyOf, Not)):
            missing: set[str] = set()
            gaps: dict[str, None] = {}
            for item in node.children:
                if self.truth(item, row) == UNKNOWN:
                    item_missing, item_gaps = self.explain(item, row)
                    missing |= item_missing
                    gaps.update(dict.fromkeys(item_gaps))
            return frozenset(missing), tuple(gaps)
        if isinstance(node, NotGiven):
            return frozenset(), (node.text,)
        if isinstance(node, InCounty):
            return frozenset(f for f in node.reads if f in row.absent), ()
        if isinstance(node, DiagnosisIn):
            position = self.compiler.catalogs[node.catalog]
            if _DIAGNOSES in row.absent:
                both = self.reads_age[position] and _AGE in row.absent
                return frozenset({_DIAGNOSES, _AGE} if both else {_DIAGNOSES}), ()
            match = row.matches[position]
            return match[1], tuple(sorted(match[2]))
        if isinstance(node, StatusAny):
            if node.holder == "household":
                return frozenset({_HOUSEHOLD}), ()
            household_given = not {"household.id", _HOUSEHOLD} <= row.absent
            if node.statuses <= PASSING_STATUSES and household_given and _HOUSEHOLD in row.absent:
                return frozenset({_HOUSEHOLD}), ()
            return frozenset({_STATUSES}), ()
        return frozenset(node.reads), ()
