"""Explanations: how each answer was reached, what would make it yes, what to ask next.

`Policy.explain` / `PolicySet.explain` evaluate a context on an engine and explain the answer
from the model and the facts (the reference engine's truth of every condition node), so an
explanation is the same whichever engine answered; the value the model gives is checked
against the engine's (`EngineDisagreement` if they differ). Per outcome:

- ``trace``: each rule of the outcome with each condition, the fact values it read, its
  truth, which condition decided it (``decides``), the exception that applied, what the
  document leaves open, and the clause with its quote, in the document's words;
- ``why_not`` (a yes/no outcome that is no or unknown): the minimal sets of fact changes that
  make it yes, smallest first, exact for the model (the classes of `policyrules.space`
  enumerated); list outcomes have none (``null``);
- ``ask_next`` (an unknown outcome): the absent fields to ask for, the one that settles most
  first, with what the outcome becomes for a representative of each class of answers.

The JSON (``Explanation.to_dict``) is the answer's JSON with each outcome extended by these
three keys (docs/contract.md, "Explanations"; schema ``schemas/explanation.schema.json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .context import Facts
from .determination import Determination, Outcome
from .engines.matching import TRUE, UNKNOWN, Truth
from .engines.reference import ReferenceEngine
from .errors import EngineDisagreement
from .model import AllOf, AnyOf, Citation, Condition, DiagnosisIn, Effect, Not, PolicyModel, Rule
from .space import ContextSpace, ValueClass, cover, outcome_value, vector_closure
from .vocabulary import LIST_OUTCOMES, STATUS_IMPLIES
from .words import describe, describe_fact, describe_value_of

if TYPE_CHECKING:
    from .policy import Policy

__all__ = ["Answer", "Ask", "Change", "ConditionTrace", "Explainer", "Explanation", "OutcomeExplanation",
           "RuleTrace", "WhyNot"]

EXPLANATION_SCHEMA_VERSION = "1"
_KINDS = {"AllOf": "all", "AnyOf": "any", "Not": "not", "FieldIs": "field", "StatusAny": "statuses",
          "AgeRange": "age", "DiagnosisIn": "diagnoses", "InstitutionIn": "institution",
          "InCounty": "in_county", "NotGiven": "not_given"}


def _json(value: Any) -> Any:
    """A fact value as the CONTRACT writes it (status sets sorted, tuples as lists)."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _citation(c: Citation) -> dict[str, Any]:
    return {"document": c.document, "clause": c.clause, "quote": c.quote}


# ---------------------------------------------------------------- the parts of an explanation


@attrs.frozen
class ConditionTrace:
    """One condition node as evaluated: its truth, the facts it read, its words, its items."""

    kind: str
    truth: bool | None
    zh: str
    en: str
    read: tuple[tuple[str, Any], ...] = ()
    decides: bool = False
    items: tuple[ConditionTrace, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "truth": self.truth, "zh": self.zh, "en": self.en,
                               "decides": self.decides}
        if self.items:
            out["items"] = [item.to_dict() for item in self.items]
        else:
            out["read"] = [{"field": f, "value": _json(v)} for f, v in self.read]
        return out

    def deciding(self) -> ConditionTrace | None:
        """The innermost condition on the deciding path (None when none decides)."""
        if not self.decides:
            return None
        for item in self.items:
            found = item.deciding()
            if found is not None:
                return found
        return self


@attrs.frozen
class RuleTrace:
    """One rule of an outcome as evaluated."""

    id: str
    effect: str
    label: str
    truth: bool | None
    decides: bool
    citations: tuple[Citation, ...]
    condition: ConditionTrace
    #: The reader's note on the rule (a judgement, a reading explained), '' when none.
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        decided = self.condition.deciding()
        return {"id": self.id, "effect": self.effect, "label": self.label, "note": self.note, "truth": self.truth,
                "decides": self.decides, "citations": [_citation(c) for c in self.citations],
                "decided_by": {"zh": decided.zh, "en": decided.en} if decided else None,
                "condition": self.condition.to_dict()}


@attrs.frozen
class Change:
    """One fact changed: the field's whole new ``value``, the ``any_of`` values that do the same
    (``value`` first), the clause and quote of the rule the change satisfies, and words."""

    field: str
    value: Any
    any_of: tuple[Any, ...]
    clause: str
    quote: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "any_of": list(self.any_of), "clause": self.clause,
                "quote": self.quote, "zh": self.zh, "en": self.en}


@attrs.frozen
class WhyNot:
    """A minimal set of changes that makes the outcome ``gives`` (always yes)."""

    changes: tuple[Change, ...]
    gives: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"changes": [c.to_dict() for c in self.changes], "gives": self.gives}


@attrs.frozen
class Answer:
    """One class of answers to a missing field: a representative value, what the outcome becomes."""

    value: Any
    gives: Any
    zh: str
    en: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "gives": _json(self.gives), "zh": self.zh, "en": self.en}


@attrs.frozen
class Ask:
    """A missing field to ask for, and what each class of answers gives."""

    field: str
    answers: tuple[Answer, ...]

    def settles(self) -> int:
        """How many of the answers decide the outcome."""
        return sum(answer.gives is not None for answer in self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "answers": [a.to_dict() for a in self.answers]}


@attrs.frozen
class OutcomeExplanation:
    outcome: Outcome
    rules: tuple[RuleTrace, ...]
    exception: str | None
    why_not: tuple[WhyNot, ...] | None
    ask_next: tuple[Ask, ...]

    @property
    def value(self) -> Any:
        return self.outcome.value

    def to_dict(self) -> dict[str, Any]:
        return self.outcome.to_dict() | {
            "trace": {"rules": [r.to_dict() for r in self.rules], "exception": self.exception,
                      "not_given": list(self.outcome.not_given)},
            "why_not": None if self.why_not is None else [w.to_dict() for w in self.why_not],
            "ask_next": [a.to_dict() for a in self.ask_next],
        }


@attrs.frozen
class Explanation:
    """An answer with, per outcome, its trace, its why-not and what to ask next."""

    determination: Determination
    outcomes: dict[str, OutcomeExplanation]

    def __getitem__(self, outcome: str) -> OutcomeExplanation:
        return self.outcomes[outcome]

    def to_dict(self) -> dict[str, Any]:
        """The answer's JSON (``id`` first when the context has one), each outcome extended by
        ``trace``, ``why_not`` and ``ask_next``; ``schema_version`` is the explanation's."""
        answer = self.determination.to_dict()
        context_id = self.determination.id
        head: dict[str, Any] = {"id": context_id} if context_id is not None else {}
        answer.pop("id", None)
        answer["schema_version"] = EXPLANATION_SCHEMA_VERSION
        answer["outcomes"] = {name: o.to_dict() for name, o in self.outcomes.items()}
        return head | answer

    def render(self) -> str:
        """The explanation as text, bilingual, in the documents' words."""
        from .explain_text import render

        return render(self)


# ---------------------------------------------------------------- the explainer of a policy


class Explainer:
    """Explains one policy's answers. Built once per policy (`Policy.explain` keeps it); the
    tables of each outcome's value over its classes are built on first use."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.model: PolicyModel = policy.model
        engine = policy.engine("reference")
        assert isinstance(engine, ReferenceEngine)
        self.engine = engine
        self._spaces: dict[tuple[str, str | None], tuple[ContextSpace, dict[tuple[int, ...], Any]]] = {}

    def explain(self, determination: Determination, facts: Facts) -> Explanation:
        outcomes = {name: self._outcome(answer, facts) for name, answer in determination.outcomes.items()}
        return Explanation(determination, outcomes)

    # ------------------------------------------------------------ one outcome

    def _outcome(self, answer: Outcome, facts: Facts) -> OutcomeExplanation:
        name = answer.name
        grants, exceptions = self.model.grants(name), self.model.exceptions(name)
        is_list = name in LIST_OUTCOMES
        values = facts.values
        model_value = outcome_value(self.engine.compile, grants, exceptions, values, is_list)
        if model_value != answer.value:
            raise EngineDisagreement(name, answer.value, model_value)
        rules = tuple(self._rule(rule, values, rule.id in answer.rules)
                      for rule in self.model.rules if rule.outcome == name)
        exception = next((r.id for r in rules if r.effect == "exception" and r.truth is True), None)
        why_not: tuple[WhyNot, ...] | None = None
        ask: tuple[Ask, ...] = ()
        if not is_list or answer.value is None:
            space, table = self._space(name, values.get("person.insured_region"))
            current = space.classify(values)
            if not is_list:
                why_not = () if answer.value is True else self._why_not(name, space, table, current, values)
            if answer.value is None:
                ask = self._ask_next(space, table, current, answer)
        return OutcomeExplanation(answer, rules, exception, why_not, ask)

    def _rule(self, rule: Rule, values: dict[str, Any], decides: bool) -> RuleTrace:
        truth = self._truth(rule.when, values)
        condition = self._condition(rule.when, values, decides)
        return RuleTrace(rule.id, rule.effect.value, rule.label, truth.as_value(), decides, rule.citations, condition,
                         rule.note)

    def _truth(self, node: Condition, values: dict[str, Any]) -> Truth:
        return self.engine.compile(node)(values)

    def _condition(self, node: Condition, values: dict[str, Any], decides: bool) -> ConditionTrace:
        truth = self._truth(node, values)
        kind = _KINDS[type(node).__name__]
        if isinstance(node, AllOf | AnyOf | Not):
            decider = _decider(node, truth, [self._truth(item, values) for item in node.children])
            items = tuple(self._condition(item, values, decides and index == decider)
                          for index, item in enumerate(node.children))
            zh, en = describe(node, self.model)
            word_zh, word_en = {TRUE: ("成立", "holds"), UNKNOWN: ("未知", "unknown")}.get(
                truth, ("不成立", "does not hold"))
            return ConditionTrace(kind, truth.as_value(), f"{zh}：{word_zh}", f"{en}: {word_en}", (), decides, items)
        read = tuple((field, values.get(field)) for field in _reads(node, self.model))
        zh, en = describe_fact(node, self.model, values, truth.as_value())
        return ConditionTrace(kind, truth.as_value(), zh, en, read, decides)

    # ------------------------------------------------------------ the classes of an outcome

    def _space(self, outcome: str, insured: str | None) -> tuple[ContextSpace, dict[tuple[int, ...], Any]]:
        key = (outcome, insured)
        found = self._spaces.get(key)
        if found is None:
            grants, exceptions = self.model.grants(outcome), self.model.exceptions(outcome)
            space = ContextSpace(self.model, self.policy.prepared.matcher, grants + exceptions, insured)
            is_list = outcome in LIST_OUTCOMES
            table = {a: outcome_value(self.engine.compile, grants, exceptions, space.values_of(a), is_list)
                     for a in space.assignments()}
            found = self._spaces[key] = (space, table)
        return found

    def _why_not(self, outcome: str, space: ContextSpace, table: dict[tuple[int, ...], Any], current: tuple[int, ...],
                 values: dict[str, Any]) -> tuple[WhyNot, ...]:
        diffs = []
        for assignment, value in table.items():
            if value is True:
                mask = tuple(i for i, (a, c) in enumerate(zip(assignment, current, strict=True)) if a != c)
                diffs.append((len(mask), mask, assignment))
        diffs.sort()
        minimal: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        for _, mask, assignment in diffs:
            if not any(set(m) <= set(mask) and all(assignment[i] == a[i] for i in m) for m, a in minimal):
                minimal.append((mask, assignment))
        by_mask: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
        for mask, assignment in minimal:
            by_mask.setdefault(mask, set()).add(tuple(assignment[i] for i in mask))
        entries = []
        for mask, group in by_mask.items():
            for box in cover(group, len(mask)):
                entries.append(self._entry(outcome, space, current, mask, box, values))
        return tuple(entries)

    def _entry(self, outcome: str, space: ContextSpace, current: tuple[int, ...], mask: tuple[int, ...],
               box: list[list[int]], values: dict[str, Any]) -> WhyNot:
        box = [self._own_first(space, space.fields[i], choices, values) for i, choices in zip(mask, box, strict=True)]
        first = list(current)
        for i, choices in zip(mask, box, strict=True):
            first[i] = choices[0]
        after = space.values_of(first, values)
        changes = []
        for i, choices in zip(mask, box, strict=True):
            field = space.fields[i]
            classes = [space[field].classes[k] for k in choices]
            options = [_relative(field, member, c, values, space) for c in classes for member in c.members or (c.value,)]
            any_of = tuple(dict.fromkeys(_hashable(o) for o in options))
            value = _relative(field, classes[0].value, classes[0], values, space)
            clause, quote = self._clause_for(outcome, field, after)
            zh, en = (describe_value_of(field, value) if field == "person.statuses"
                      else (classes[0].zh, classes[0].en))
            changes.append(Change(field, value, tuple(_json(o) for o in any_of), clause, quote, zh, en))
        return WhyNot(tuple(changes))

    @staticmethod
    def _own_first(space: ContextSpace, field: str, choices: list[int], values: dict[str, Any]) -> list[int]:
        """The classes a change can choose from, those that keep the person's own statuses first."""
        if field != "person.statuses" or not values.get(field):
            return choices
        classes = space[field].classes

        def keeps(k: int) -> bool:
            kept = vector_closure([*values[field], *classes[k].value])
            return space[field].classify(frozenset(kept)) == k

        return sorted(choices, key=lambda k: not keeps(k))

    def _clause_for(self, outcome: str, field: str, after: dict[str, Any]) -> tuple[str, str]:
        """The clause of the rule a change serves: the first holding grant that reads the field
        (after the changes), else the first exception that reads it."""
        outcome_rules = [r for r in self.model.rules if r.outcome == outcome and field in _rule_fields(r, self.model)]
        for rule in outcome_rules:
            if rule.effect is Effect.GRANT and self._truth(rule.when, after) == TRUE and rule.citations:
                return rule.citations[0].clause, rule.citations[0].quote
        for rule in outcome_rules:
            if rule.effect is Effect.EXCEPTION and rule.citations:
                return rule.citations[0].clause, rule.citations[0].quote
        return "", ""

    def _ask_next(self, space: ContextSpace, table: dict[tuple[int, ...], Any], current: tuple[int, ...],
                  answer: Outcome) -> tuple[Ask, ...]:
        asks = []
        for i, field in enumerate(space.fields):
            classes = space[field].classes
            if not classes[current[i]].absent:
                continue
            answers = []
            for k, value_class in enumerate(classes):
                if value_class.absent:
                    continue
                assignment = current[:i] + (k,) + current[i + 1:]
                answers.append(Answer(value_class.value, table[assignment], value_class.zh, value_class.en))
            ask = Ask(field, tuple(answers))
            if ask.settles() or field in answer.missing:
                asks.append(ask)
        asks.sort(key=lambda a: -a.settles())
        return tuple(asks)


def _decider(node: AllOf | AnyOf | Not, truth: Truth, truths: Sequence[Truth]) -> int | None:
    """The index of the item that decided a compound node's truth (None: all of them together)."""
    if isinstance(node, Not):
        return 0
    if isinstance(node, AllOf) and truth != TRUE:
        return truths.index(truth)
    if isinstance(node, AnyOf) and truth == TRUE:
        return truths.index(TRUE)
    return None


def _reads(node: Condition, model: PolicyModel) -> tuple[str, ...]:
    if isinstance(node, DiagnosisIn) and model.catalogs[node.catalog].reads_age:
        return (*node.reads, "person.age")
    return node.reads


def _rule_fields(rule: Rule, model: PolicyModel) -> set[str]:
    return {field for node in rule.when.walk() for field in _reads(node, model)}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _relative(field: str, value: Any, value_class: ValueClass, values: Mapping[str, Any],
              space: ContextSpace) -> Any:
    """A class's value as a change to this context: for the statuses, the person's own statuses
    with the class's added, when that stays in the class (the full new list either way)."""
    if field != "person.statuses":
        return value
    own = values.get(field)
    target = space[field].classify(value_class.fact)
    if own:
        merged = vector_closure([*own, *value])
        if space[field].classify(frozenset(merged)) == target:
            value = sorted(merged)
    implied = set().union(*(STATUS_IMPLIES.get(s, frozenset()) for s in value))
    return [s for s in sorted(value) if s not in implied]
