"""What the YAML cases of a policy exercise: its rules, and the members that decide them.

`coverage` of `policyrules.cases` asks of each rule that some case makes it hold. That says
nothing of a list's members: removing an institution from a list keeps every rule exercised.
`required_coverage` also asks, of each

- **institution-list member** (a list some rule reads),
- **side of each age bound** (``at_least: 60`` has the sides ``>= 60`` and ``< 60``; ``at_most: 6``
  has ``<= 6`` and ``> 6``), and
- **status of each status group** (a group some rule reads),

that a case exercise it **alone**: the member is the case's (its institution is that member, by
name or alias, compared as the engines compare; its age is on that side; its statuses include that
status), and replacing that value in the case's context by one outside it (an institution on no
list; the age just across the bound, ``59`` or ``60`` for ``at_least: 60``; the statuses without
that one) changes the truth (true, false or unknown) of a rule that reads it. A member that only
matters together with another value, or that the case shares with another that decides the rule
anyway (``lifted_out_of_poverty`` implies ``registered_poor``), is not exercised by that case.

It reports, as a figure only, the catalog entries (of catalogs a rule reads) that some case's
diagnoses fall in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from .context import Facts, read_context
from .engines.matching import normalise_name
from .engines.reference import ReferenceEngine
from .errors import ContextError, SourceSpan
from .icd10 import diagnosis_keys
from .model import AgeRange, DiagnosisIn, InstitutionIn, Rule, StatusAny
from .policy import Policy

__all__ = ["OUTSIDE_INSTITUTION", "CoverageReport", "Requirement", "required_coverage"]

#: The institution a member is replaced by to see if it decides: a name on no list.
OUTSIDE_INSTITUTION = "不在任何名单上的医疗机构"


@attrs.frozen
class Requirement:
    """One thing a case must exercise alone: ``kind`` is "member", "age" or "status"."""

    kind: str
    what: str
    span: SourceSpan | None = attrs.field(default=None, eq=False)

    def render(self) -> str:
        return f"{self.span}: {self.what}" if self.span else self.what


@attrs.frozen
class CoverageReport:
    """What the cases of one policy exercise (`required_coverage`)."""

    policy_id: str
    cases: int
    required: tuple[Requirement, ...]
    unexercised: tuple[Requirement, ...]
    entries_exercised: int
    entries_total: int

    @property
    def complete(self) -> bool:
        return not self.unexercised


# A check: (its requirement, whether a case's context has that member, the context with it
# replaced by a value outside, the rules that read it).
_Check = tuple[Requirement, Callable[[dict[str, Any], Facts], bool], Callable[[dict[str, Any]], dict[str, Any]],
               tuple[Rule, ...]]


def required_coverage(policy: Policy, cases: Iterable[Any]) -> CoverageReport:
    """What the ``cases`` (`policyrules.cases.Case`\\ s, or anything with a ``context``) of
    ``policy`` exercise alone, and the catalog entries their diagnoses fall in."""
    engine = policy.engine("reference")
    assert isinstance(engine, ReferenceEngine)
    checks = _checks(policy)
    exercised: set[Requirement] = set()
    entries: set[tuple[str, str]] = set()
    catalogs = {n.catalog for rule in policy.model.rules for n in rule.when.find_all(DiagnosisIn)}
    count = 0
    for case in cases:
        count += 1
        try:
            facts = read_context(case.context)
        except ContextError:
            continue
        keys = {k for code in facts.values.get("encounter.diagnoses", ()) for k in diagnosis_keys(code)}
        for name in catalogs:
            for entry in policy.model.catalogs[name].entries:
                if keys & entry.codes:
                    entries.add((name, entry.id))
        for requirement, has, replaced, rules in checks:
            if requirement in exercised or not has(case.context, facts):
                continue
            try:
                other = read_context(replaced(case.context))
            except ContextError:
                continue
            if any(engine.truth(r.when, facts) != engine.truth(r.when, other) for r in rules):
                exercised.add(requirement)
    required = tuple(dict.fromkeys(check[0] for check in checks))
    total = sum(len(policy.model.catalogs[name].entries) for name in catalogs)
    return CoverageReport(policy.id, count, required, tuple(r for r in required if r not in exercised),
                          len(entries), total)


def _checks(policy: Policy) -> list[_Check]:
    model = policy.model
    out: list[_Check] = []
    readers: dict[Any, list[Rule]] = {}
    for rule in model.rules:
        for node in rule.when.walk():
            key: Any = None
            if isinstance(node, InstitutionIn):
                key = ("list", node.list_name)
            elif isinstance(node, StatusAny) and node.group is not None:
                key = ("group", node.group)
            elif isinstance(node, AgeRange):
                key = ("age", node.at_least, node.at_most)
            if key is not None and rule not in readers.setdefault(key, []):
                readers[key].append(rule)
    for key, rules in readers.items():
        if key[0] == "list":
            lst = model.institution_lists[key[1]]
            for member in lst.members:
                names = frozenset(normalise_name(n) for n in (member.name, *member.aliases))
                out.append((Requirement("member", f"institution {member.name} ({lst.id})", member.span),
                            _has_institution(names), _set_institution, tuple(rules)))
        elif key[0] == "group":
            group = model.status_groups[key[1]]
            for status in sorted(group.statuses):
                out.append((Requirement("status", f"status {status} ({group.id})", group.span),
                            _has_status(status), _without_status(status), tuple(rules)))
        else:
            _, low, high = key
            span = next((n.span for r in rules for n in r.when.find_all(AgeRange)
                         if (n.at_least, n.at_most) == (low, high)), None)
            if low is not None:
                out.append((Requirement("age", f"age >= {low} (at_least: {low})", span),
                            _age_in(low, None), _set_age(low - 1), tuple(rules)))
                out.append((Requirement("age", f"age < {low} (at_least: {low})", span),
                            _age_in(None, low - 1), _set_age(low), tuple(rules)))
            if high is not None:
                out.append((Requirement("age", f"age <= {high} (at_most: {high})", span),
                            _age_in(None, high), _set_age(high + 1), tuple(rules)))
                out.append((Requirement("age", f"age > {high} (at_most: {high})", span),
                            _age_in(high + 1, None), _set_age(high), tuple(rules)))
    return out


def _part(context: dict[str, Any], *path: str) -> dict[str, Any]:
    """The nested mapping at ``path`` of a copied context (made where absent)."""
    node = context
    for key in path:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    return node


def _has_institution(names: frozenset[str]) -> Callable[[dict[str, Any], Facts], bool]:
    def has(context: dict[str, Any], facts: Facts) -> bool:
        name = facts.values.get("encounter.institution.name")
        return isinstance(name, str) and normalise_name(name) in names
    return has


def _set_institution(context: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(context)
    _part(out, "encounter", "institution")["name"] = OUTSIDE_INSTITUTION
    return out


def _has_status(status: str) -> Callable[[dict[str, Any], Facts], bool]:
    def has(context: dict[str, Any], facts: Facts) -> bool:
        return status in facts.values.get("person.statuses", ())
    return has


def _without_status(status: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def replaced(context: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(context)
        person = _part(out, "person")
        person["statuses"] = [s for s in person.get("statuses") or [] if s != status]
        return out
    return replaced


def _age_in(low: int | None, high: int | None) -> Callable[[dict[str, Any], Facts], bool]:
    def has(context: dict[str, Any], facts: Facts) -> bool:
        age = facts.values.get("person.age")
        return isinstance(age, int) and (low is None or age >= low) and (high is None or age <= high)
    return has


def _set_age(age: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def replaced(context: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(context)
        person = _part(out, "person")
        person.pop("birth_date", None)
        person["age"] = age
        return out
    return replaced
