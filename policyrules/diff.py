"""An exact semantic diff of two versions of a policy: for each outcome, every class of contexts
whose answer changes, in words, with the clauses behind it and a witness context.

The rules are compared, periods and regions aside: each side is evaluated as if in force, and a
witness carries OLD's region (a county both cover, when there is one) and a date inside OLD's
period (inside NEW's too, when the periods overlap).

Exact by enumeration: for each outcome a `ContextSpace` over both sides' rules of it (each with
its own lists and catalogs) cuts the contexts into finitely many classes that neither side can
tell apart inside; both sides' answers are computed for one representative of each, and the
classes whose answers differ are grouped by transition and covered with boxes (a product of
classes of each field), each box one class of the diff::

    result = diff_policies(load_policy("old.yaml"), load_policy("new.yaml"))
    for outcome, changes in result.outcomes.items():
        for change in changes:
            print(change.description_zh, change.before, "->", change.after)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from .engines.matching import FALSE, Truth
from .engines.reference import ReferenceEngine
from .fields import nest
from .model import Condition, PolicyModel, Rule
from .policy import Policy
from .space import ContextSpace, cover, outcome_value
from .vocabulary import LIST_OUTCOMES
from .words import FIELD_WORDS

__all__ = ["ABSENT", "Change", "Clause", "PolicyDiff", "cases_yaml", "diff_policies"]

#: The value of an outcome a side does not answer.
ABSENT = "absent"

_FIELD_WORDS = {**FIELD_WORDS, "person.statuses": ("身份", "statuses"), "household.statuses": ("家庭身份", "household statuses"),
                "person.age": ("年龄", "age"), "encounter.institution.name": ("就诊机构", "institution"),
                "encounter.institution.region": ("就诊机构所在地", "institution's region"),
                "encounter.diagnoses": ("诊断", "diagnoses")}

_REGION, _INSURED = "encounter.institution.region", "person.insured_region"

_WORDS = {True: ("是", "yes"), False: ("否", "no"), None: ("未知", "unknown"), ABSENT: ("不回答", "absent")}


@attrs.frozen
class Clause:
    """A rule whose answer differs between the sides for a class: its clause and quote."""

    rule: str
    clause: str
    quote: str
    side: str  # "both", "old" or "new"

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "clause": self.clause, "quote": self.quote, "side": self.side}


@attrs.frozen
class Change:
    """One class of contexts whose answer of ``outcome`` goes from ``before`` to ``after``.

    ``box`` is the class as a product: for each field of ``fields``, the indexes of the space's
    classes it takes in (every class of a field not named in the description)."""

    outcome: str
    before: Any
    after: Any
    description_zh: str
    description_en: str
    clauses: tuple[Clause, ...]
    witness: dict[str, Any]
    fields: tuple[str, ...] = attrs.field(repr=False)
    box: tuple[frozenset[int], ...] = attrs.field(repr=False)

    @property
    def description(self) -> str:
        return f"{self.description_zh} / {self.description_en}"

    def to_dict(self) -> dict[str, Any]:
        return {"from": _json(self.before), "to": _json(self.after), "description": self.description,
                "clauses": [c.to_dict() for c in self.clauses], "witness": self.witness}


@attrs.frozen
class PolicyDiff:
    """The changes of every outcome that changes (an outcome with none is not listed)."""

    old: Policy
    new: Policy
    outcomes: dict[str, tuple[Change, ...]]
    spaces: dict[str, ContextSpace] = attrs.field(repr=False)

    @property
    def equal(self) -> bool:
        return not self.outcomes

    def change_of(self, outcome: str, values: dict[str, Any]) -> Change | None:
        """The change whose class holds flat fact ``values`` (None: the outcome does not change
        there). The institution's region counts as in or out of the context's own insured county
        (the space's classes are of the witness county)."""
        space = self.spaces.get(outcome)
        if space is None:
            return None
        if _REGION in space.fields and values.get(_REGION) is not None:
            values = dict(values)
            insured = values.get(_INSURED)
            if insured is None:  # "in county" is unknown without the insured county
                del values[_REGION]
            else:
                values[_REGION] = space.insured_region if values[_REGION] == insured else ""
        index = self.change_index(outcome, space.classify(values))
        return None if index is None else self.outcomes[outcome][index]

    def change_index(self, outcome: str, assignment: Sequence[int]) -> int | None:
        """The index among ``outcomes[outcome]`` (as the JSON lists them) of the change whose box
        holds ``assignment`` (a class index per field of ``spaces[outcome]``), None for none."""
        for index, change in enumerate(self.outcomes.get(outcome, ())):
            if all(k in box for k, box in zip(assignment, change.box, strict=True)):
                return index
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": {"id": self.old.id, "sha256": self.old.model.sha256},
            "new": {"id": self.new.id, "sha256": self.new.model.sha256},
            "outcomes": {name: [c.to_dict() for c in changes] for name, changes in self.outcomes.items()},
        }

    def render(self) -> str:
        """The diff as text, one line per class."""
        head = f"{self.old.id} ({self.old.model.sha256[:12]}) -> {self.new.id} ({self.new.model.sha256[:12]})"
        if self.equal:
            return f"{head}: the two agree on every context\n"
        lines = [head]
        for name, changes in self.outcomes.items():
            lines.append(f"{name}:")
            for change in changes:
                lines.append(f"  {change.description_zh} —— {_said(change.before, 0)} → {_said(change.after, 0)}")
                lines.append(f"  {change.description_en} — {_said(change.before, 1)} → {_said(change.after, 1)}")
                for clause in change.clauses:
                    lines.append(f"    {clause.clause} ({clause.rule}, {clause.side})")
        return "\n".join(lines) + "\n"


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """The exact semantic diff of ``old`` and ``new`` (`SpaceTooLarge` when an outcome's classes
    are too many to enumerate)."""
    region, date = _witness_place(old, new)
    engines = (_reference(old), _reference(new))
    names = list(dict.fromkeys([*old.model.outcomes(), *new.model.outcomes()]))
    outcomes: dict[str, tuple[Change, ...]] = {}
    spaces: dict[str, ContextSpace] = {}
    for name in names:
        has = (name in old.model.outcomes(), name in new.model.outcomes())
        sides = [(p.model, p.prepared.matcher, _rules_of(p.model, name)) for p in (old, new)]
        present = [side for side, here in zip(sides, has, strict=True) if here]
        space = ContextSpace(*present[0], insured_region=region, also=present[1:])
        spaces[name] = space
        changes = _changes(name, space, (old.model, new.model), engines, has, region, date)
        if changes:
            outcomes[name] = changes
    return PolicyDiff(old, new, outcomes, spaces)


def _rules_of(model: PolicyModel, outcome: str) -> tuple[Rule, ...]:
    return tuple(model.grants(outcome)) + tuple(model.exceptions(outcome))


def _reference(policy: Policy) -> ReferenceEngine:
    engine = policy.engine("reference")
    assert isinstance(engine, ReferenceEngine)
    return engine


def _witness_place(old: Policy, new: Policy) -> tuple[str, dt.date]:
    both = sorted(old.counties & new.counties)
    region = both[0] if both else sorted(old.counties)[0]
    meta, other = old.model.meta, new.model.meta
    date = meta.effective_from
    if meta.effective_from <= other.effective_from and (meta.effective_to is None
                                                        or other.effective_from <= meta.effective_to):
        date = other.effective_from
    return region, date


def _value(model: PolicyModel, engine: ReferenceEngine, outcome: str, values: dict[str, Any]) -> Any:
    if outcome not in model.outcomes():
        return ABSENT
    value = outcome_value(engine.compile, model.grants(outcome), model.exceptions(outcome), values,
                          outcome in LIST_OUTCOMES)
    return tuple(value) if isinstance(value, list) else value


def _changes(outcome: str, space: ContextSpace, models: tuple[PolicyModel, PolicyModel],
             engines: tuple[ReferenceEngine, ReferenceEngine], has: tuple[bool, bool], region: str,
             date: dt.date) -> tuple[Change, ...]:
    groups: dict[tuple[Any, Any], set[tuple[int, ...]]] = {}
    for assignment in space.assignments():
        values = space.values_of(assignment)
        before = _value(models[0], engines[0], outcome, values)
        after = _value(models[1], engines[1], outcome, values)
        if before != after:
            groups.setdefault((before, after), set()).add(tuple(assignment))
    changes = []
    for (before, after), group in groups.items():
        for box in cover(group, len(space.fields)):
            changes.append(_change(outcome, space, models, engines, has, before, after, box, region, date))
    return tuple(changes)


def _change(outcome: str, space: ContextSpace, models: tuple[PolicyModel, PolicyModel],
            engines: tuple[ReferenceEngine, ReferenceEngine], has: tuple[bool, bool], before: Any, after: Any,
            box: list[list[int]], region: str, date: dt.date) -> Change:
    first = [choices[0] for choices in box]
    zh_parts, en_parts = [], []
    for field, choices in zip(space.fields, box, strict=True):
        classes = space[field].classes
        if len(choices) == len(classes):
            continue
        name_zh, name_en = _FIELD_WORDS.get(field, (field, field))
        zh = "或".join(classes[k].zh for k in choices)
        en = " or ".join(classes[k].en for k in choices)
        bool_class = isinstance(classes[choices[0]].value, bool)
        zh_parts.append(zh if bool_class else f"{name_zh}：{zh}")
        en_parts.append(en if bool_class else f"{name_en}: {en}")
    description_zh = "；".join(zh_parts) or "所有情形"
    description_en = "; ".join(en_parts) or "every context"
    values = space.values_of(first)
    witness_flat: dict[str, Any] = {"person.insured_region": region, "encounter.date": date.isoformat()}
    for field, k in zip(space.fields, first, strict=True):
        value_class = space[field].classes[k]
        if not value_class.absent:
            witness_flat[field] = value_class.value
    clauses = _clauses(outcome, models, engines, has, values)
    return Change(outcome, before, after, description_zh, description_en, clauses, nest(witness_flat),
                  space.fields, tuple(frozenset(c) for c in box))


def _clauses(outcome: str, models: tuple[PolicyModel, PolicyModel], engines: tuple[ReferenceEngine, ReferenceEngine],
             has: tuple[bool, bool], values: dict[str, Any]) -> tuple[Clause, ...]:
    """The rules of the outcome whose truth differs between the sides at ``values`` (a rule of one
    side only: when it does not fail there), with their first citation."""
    truths: list[dict[str, tuple[Rule, Truth]]] = []
    for model, engine, here in zip(models, engines, has, strict=True):
        rules = _rules_of(model, outcome) if here else ()
        tests: Callable[[Condition], Callable[[dict[str, Any]], Truth]] = engine.compile
        truths.append({rule.id: (rule, tests(rule.when)(values)) for rule in rules})
    found = []
    for rule_id in dict.fromkeys(itertools.chain(truths[0], truths[1])):
        old, new = truths[0].get(rule_id), truths[1].get(rule_id)
        if old is not None and new is not None:
            if old[1] == new[1] and old[0].value == new[0].value and old[0].effect == new[0].effect:
                continue
            rule, side = new[0], "both"
        elif old is not None:
            if old[1] == FALSE:
                continue
            rule, side = old[0], "old"
        else:
            assert new is not None
            if new[1] == FALSE:
                continue
            rule, side = new[0], "new"
        citation = rule.citations[0] if rule.citations else None
        found.append(Clause(rule_id, citation.clause if citation else "", citation.quote if citation else "", side))
    return tuple(found)


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _said(value: Any, language: int) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return _WORDS[value][language]


def cases_yaml(diff: PolicyDiff, outcome_filter: Sequence[str] | None = None) -> str:
    """The witnesses as YAML test cases for NEW: each expects NEW's answer."""
    import yaml

    cases = []
    for name, changes in diff.outcomes.items():
        if outcome_filter is not None and name not in outcome_filter:
            continue
        if name not in diff.new.model.outcomes():
            continue
        for n, change in enumerate(changes, 1):
            cases.append({
                "name": f"{name} #{n}: {change.description_zh} —— {_said(change.before, 0)} → {_said(change.after, 0)}",
                "context": json.loads(json.dumps(change.witness)),  # no shared lists: no YAML aliases
                "expect": {name: _json(change.after)},
            })
    head = (f"# Witnesses of the diff {diff.old.id} ({diff.old.model.sha256[:12]}) -> "
            f"{diff.new.id} ({diff.new.model.sha256[:12]}), written by policyrules diff --cases.\n")
    return head + yaml.safe_dump({"policy": diff.new.id, "cases": cases}, allow_unicode=True, sort_keys=False,
                                 width=120)
