"""Rule-set analysis: what a policy's rules can never do, do twice, or leave open.

Per policy, over its context space (`policyrules.space`, one outcome at a time, exact by
enumeration):

- ``never_fires``: a rule whose condition holds in no context;
- ``redundant``: a rule whose removal changes no answer of its outcome anywhere (another rule of
  the outcome already decides every case it decides, the same way);
- ``list_gap``: a fully known context in which no rule decides a list outcome;
- ``silent_group``: a status class (of the rules' status sets) for which an outcome, with every
  other fact known, is only ever unknown: the notice is silent there (tied to the ``not_given``
  the rules carry);
- ``period_hole``: (over a folder) days between the periods of one county's policies that no
  policy covers.

Each finding carries a witness context and the clause's words. A finding the policy accepts is
listed under ``accepted_findings`` in its YAML (kind, rule or outcome, reason, cite) and is then
reported as accepted, not as a finding.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from .engines.matching import TRUE, UNKNOWN
from .engines.reference import ReferenceEngine
from .fields import nest
from .model import Effect, NotGiven, PolicyModel, Rule
from .loading.sections import FINDING_KINDS
from .policy import Policy
from .space import ContextSpace, outcome_value
from .vocabulary import LIST_OUTCOMES
from .words import describe_rule

__all__ = ["KINDS", "Finding", "analyze_policies", "analyze_policy", "period_holes", "render"]

#: Every kind of finding: those a policy can accept (`FINDING_KINDS`), and the holes between
#: policies, which no one file can accept.
KINDS = (*FINDING_KINDS, "period_hole")


@attrs.frozen
class Finding:
    """One finding: its kind, the policy, the rule or outcome it is about, in words, a witness
    (a CONTRACT context, None for a rule that never fires and is never even unknown)."""

    kind: str
    policy: str
    subject: str  # a rule id, an outcome, or (period_hole) a county
    zh: str
    en: str
    clause: str = ""
    quote: str = ""
    witness: dict[str, Any] | None = None
    accepted: str = ""  # the reason the policy gives for accepting it, if it does

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "policy": self.policy, "subject": self.subject,
                               "description": f"{self.zh} / {self.en}", "clause": self.clause,
                               "quote": self.quote, "witness": self.witness}
        if self.accepted:
            out["accepted"] = self.accepted
        return out


def analyze_policies(policies: Sequence[Policy]) -> list[Finding]:
    """The findings of every policy, and the holes between the periods of each county's policies."""
    findings = [f for policy in policies for f in analyze_policy(policy)]
    return findings + period_holes(policies)


def analyze_policy(policy: Policy) -> list[Finding]:
    model = policy.model
    engine = policy.engine("reference")
    assert isinstance(engine, ReferenceEngine)
    region = sorted(policy.counties)[0]
    findings: list[Finding] = []
    for outcome in model.outcomes():
        findings += _outcome(policy, engine, outcome, region)
    return _accept(model, findings)


def _witness(space: ContextSpace, assignment: Sequence[int], region: str, date: dt.date) -> dict[str, Any]:
    flat: dict[str, Any] = {"person.insured_region": region, "encounter.date": date.isoformat()}
    for field, k in zip(space.fields, assignment, strict=True):
        value_class = space[field].classes[k]
        if not value_class.absent:
            flat[field] = value_class.value
    return nest(flat)


def _cite(rule: Rule) -> tuple[str, str]:
    return (rule.citations[0].clause, rule.citations[0].quote) if rule.citations else ("", "")


def _outcome(policy: Policy, engine: ReferenceEngine, outcome: str, region: str) -> list[Finding]:
    model = policy.model
    date = model.meta.effective_from
    grants, exceptions = model.grants(outcome), model.exceptions(outcome)
    is_list = outcome in LIST_OUTCOMES
    space = ContextSpace(model, policy.prepared.matcher, grants + exceptions, region)
    assignments = list(space.assignments())
    points = [space.values_of(a) for a in assignments]
    table = [outcome_value(engine.compile, grants, exceptions, v, is_list) for v in points]
    found: list[Finding] = []
    for rule in grants + exceptions:
        zh, en = describe_rule(rule, model)
        clause, quote = _cite(rule)
        test = engine.compile(rule.when)
        truths = [test(v) for v in points]
        if TRUE not in truths:
            # a rule that holds nowhere but leaves the answer open where the document is silent
            # (a not_given) does what it is for; only one that can never make a difference is said
            if UNKNOWN in truths and any(True for _ in rule.when.find_all(NotGiven)):
                continue
            open_at = truths.index(UNKNOWN) if UNKNOWN in truths else None
            found.append(Finding("never_fires", model.meta.id, rule.id, f"规则从不成立：{zh}",
                                 f"the rule never holds: {en}", clause, quote,
                                 None if open_at is None else _witness(space, assignments[open_at], region, date)))
            continue
        rest_g = tuple(r for r in grants if r is not rule)
        rest_e = tuple(r for r in exceptions if r is not rule)
        without = [outcome_value(engine.compile, rest_g, rest_e, v, is_list) for v in points]
        if without == table:
            # a witness where the rule holds and the answer is the one it would give
            wanted = (rule.value if is_list else rule.effect is Effect.GRANT)
            held = [i for i, t in enumerate(truths) if t == TRUE]
            where = next((i for i in held if table[i] == wanted), held[0])
            found.append(Finding("redundant", model.meta.id, rule.id,
                                 f"规则多余：同一结果的其他规则已作出同样的决定：{zh}",
                                 f"redundant: the other rules of {outcome} already decide every case the same way: {en}",
                                 clause, quote, _witness(space, assignments[where], region, date)))
    known = [i for i, a in enumerate(assignments)
             if not any(space[f].classes[k].absent for f, k in zip(space.fields, a, strict=True))]
    if is_list:
        gaps = [i for i in known if table[i] is None]
        if gaps:
            clause, quote = _cite(grants[0]) if grants else ("", "")
            found.append(Finding("list_gap", model.meta.id, outcome,
                                 f"{len(gaps)} 类信息完整的情形无规则决定 {outcome}",
                                 f"{len(gaps)} classes of fully known contexts where no rule decides {outcome}",
                                 clause, quote, _witness(space, assignments[gaps[0]], region, date)))
    if "person.statuses" in space.fields:
        found += _silent(policy, outcome, space, assignments, table, known, region, date)
    return found


def _silent(policy: Policy, outcome: str, space: ContextSpace, assignments: list[tuple[int, ...]],
            table: list[Any], known: list[int], region: str, date: dt.date) -> list[Finding]:
    model = policy.model
    at = space.fields.index("person.statuses")
    classes = space["person.statuses"].classes
    out = []
    for k, value_class in enumerate(classes):
        if value_class.absent or not value_class.value:
            continue
        mine = [i for i in known if assignments[i][at] == k]
        if mine and all(table[i] is None for i in mine):
            rules = model.grants(outcome) + model.exceptions(outcome)
            given = [n.text for r in rules for n in r.when.find_all(NotGiven)]
            clause, quote = _cite(rules[0])
            reason_zh = f"（文件未说明：{given[0]}）" if given else ""
            out.append(Finding("silent_group", model.meta.id, outcome,
                               f"{value_class.zh}：{outcome} 只会是未知{reason_zh}",
                               f"{value_class.en}: {outcome} is only ever unknown"
                               + (f" (not given: {given[0]})" if given else ""),
                               clause, quote, _witness(space, assignments[mine[0]], region, date)))
    return out


def period_holes(policies: Iterable[Policy]) -> list[Finding]:
    """Days between the periods of one county's policies that none covers (after the first
    starts; an open end closes every later hole)."""
    by_county: dict[str, list[Policy]] = {}
    for policy in policies:
        for county in policy.counties:
            by_county.setdefault(county, []).append(policy)
    out = []
    for county, found in sorted(by_county.items()):
        found.sort(key=lambda p: p.model.meta.effective_from)
        for before, after in zip(found, found[1:], strict=False):
            end = before.model.meta.effective_to
            start = after.model.meta.effective_from
            if end is not None and end + dt.timedelta(days=1) < start:
                day = end + dt.timedelta(days=1)
                out.append(Finding(
                    "period_hole", after.id, county,
                    f"{county}：{before.id} 于 {end} 止，{after.id} 自 {start} 起，其间无政策",
                    f"{county}: {before.id} ends {end}, {after.id} starts {start}; no policy in between",
                    witness={"person": {"insured_region": county}, "encounter": {"date": day.isoformat()}}))
    return out


def render(findings: Sequence[Finding]) -> str:
    """The findings as text: the open ones, then the accepted ones with their reasons."""
    lines = []
    open_ = [f for f in findings if not f.accepted]
    for f in open_:
        where = f" [{f.clause}]" if f.clause else ""
        lines += [f"{f.policy}: {f.kind} {f.subject}{where}", f"  {f.zh}", f"  {f.en}"]
        if f.witness is not None:
            lines.append(f"  witness: {json.dumps(f.witness, ensure_ascii=False)}")
    accepted = [f for f in findings if f.accepted]
    for f in accepted:
        lines.append(f"{f.policy}: {f.kind} {f.subject}: accepted ({f.accepted})")
    lines.append(f"{len(open_)} findings, {len(accepted)} accepted" if open_ else
                 f"没有未接受的发现 / no findings ({len(accepted)} accepted)")
    return "\n".join(lines) + "\n"


def _accept(model: PolicyModel, findings: list[Finding]) -> list[Finding]:
    accepted = {(a.kind, a.subject): a.reason for a in model.accepted_findings}
    return [attrs.evolve(f, accepted=accepted.get((f.kind, f.subject), "")) for f in findings]
