"""The policy model: frozen attrs classes, the single truth every target is derived from.

`policyrules.loading` builds it from a YAML file; every engine and tool reads it and nothing
else. Every node keeps where it was written (``span``), which is not part of its equality.

The model knows its own shape, so no target walks it by hand (as sqlglot's expressions do):
every condition node has ``children``, ``walk()`` (the node and everything under it, depth
first) and ``find_all(*classes)``, and says which context fields it ``reads``; a policy gives
each outcome's ``grants`` and ``exceptions``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import TypeAlias, TypeVar

import attrs

from .errors import Problem, SourceSpan

__all__ = [
    "AgeRange",
    "AllOf",
    "AnyOf",
    "Catalog",
    "CatalogEntry",
    "ChildAge",
    "Citation",
    "Condition",
    "ConditionNode",
    "DiagnosisIn",
    "Effect",
    "FieldIs",
    "InCounty",
    "Institution",
    "InstitutionIn",
    "InstitutionList",
    "Not",
    "NotEncoded",
    "AcceptedFinding",
    "NotGiven",
    "PolicyMeta",
    "PolicyModel",
    "Rule",
    "StatusAny",
    "StatusGroup",
]


def _span() -> SourceSpan | None:
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)  # type: ignore[no-any-return]


def _note() -> str:
    """A reader's note (a judgement, an OCR slip explained): kept for reviewers and explanations,
    never evaluated, and not part of a node's meaning (equality)."""
    return attrs.field(default="", eq=False, repr=False, kw_only=True)


@attrs.frozen
class Citation:
    """The clause a rule encodes and the words it quotes, verbatim (OCR slips kept)."""

    clause: str
    quote: str
    document: str = ""
    note: str = ""
    span: SourceSpan | None = _span()
    #: Where the ``quote:`` value itself is written (a quote problem points there).
    quote_span: SourceSpan | None = _span()


# ---------------------------------------------------------------- conditions

N = TypeVar("N", bound="ConditionNode")

#: The context fields a condition kind reads (the others read what their attributes say).
_AGE, _STATUSES, _NAME = "person.age", "person.statuses", "encounter.institution.name"
_HOUSEHOLD_STATUSES = "household.statuses"
_REGIONS = ("encounter.institution.region", "person.insured_region")


class ConditionNode:
    """What every condition node has: its children, a walk, a search, the fields it reads."""

    __slots__ = ()

    @property
    def children(self) -> tuple[Condition, ...]:
        """The conditions directly under this one (none for a leaf)."""
        return ()

    @property
    def reads(self) -> tuple[str, ...]:
        """The context fields this node itself reads (not its children's)."""
        return ()

    def walk(self) -> Iterator[Condition]:
        """This node and every node under it, depth first, in the file's order."""
        stack: list[ConditionNode] = [self]
        while stack:
            node = stack.pop()
            yield node  # type: ignore[misc]
            stack.extend(reversed(node.children))

    def find_all(self, *classes: type[N]) -> Iterator[N]:
        """The nodes of ``walk()`` that are instances of ``classes``."""
        for node in self.walk():
            if isinstance(node, classes):
                yield node

    def fields(self) -> tuple[str, ...]:
        """Every context field this condition and the nodes under it read, in order, once."""
        return tuple(dict.fromkeys(field for node in self.walk() for field in node.reads))


@attrs.frozen
class FieldIs(ConditionNode):
    """A context field has one of ``values`` (a single value reads as equality)."""

    field: str
    values: frozenset[str | bool]
    span: SourceSpan | None = _span()

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.field,)


@attrs.frozen
class StatusAny(ConditionNode):
    """The person (or, with ``holder`` "household", the household) has any of ``statuses``
    (``group`` names the status group used, if any).

    A person's statuses are read from ``person.statuses`` and, for a member of a household, from
    the household statuses that pass to its members (``household.statuses``)."""

    statuses: frozenset[str]
    group: str | None = None
    holder: str = "person"
    span: SourceSpan | None = _span()

    @property
    def reads(self) -> tuple[str, ...]:
        return (_HOUSEHOLD_STATUSES,) if self.holder == "household" else (_STATUSES, _HOUSEHOLD_STATUSES)


@attrs.frozen
class AgeRange(ConditionNode):
    """Age in whole years (周岁) within the bounds, both inclusive (以上/以下)."""

    at_least: int | None = None
    at_most: int | None = None
    span: SourceSpan | None = _span()

    @property
    def reads(self) -> tuple[str, ...]:
        return (_AGE,)


@attrs.frozen
class DiagnosisIn(ConditionNode):
    """Some diagnosis of the encounter is in the catalog ``catalog``.

    It reads ``encounter.diagnoses``, and ``person.age`` too where the catalog has 儿童 entries
    (`Catalog.reads_age`)."""

    catalog: str
    span: SourceSpan | None = _span()

    @property
    def reads(self) -> tuple[str, ...]:
        return ("encounter.diagnoses",)


@attrs.frozen
class InstitutionIn(ConditionNode):
    """The encounter's institution is on the institution list ``list_name``."""

    list_name: str
    span: SourceSpan | None = _span()

    @property
    def reads(self) -> tuple[str, ...]:
        return (_NAME,)


@attrs.frozen
class InCounty(ConditionNode):
    """县域内: the institution's county equals the person's insured county (or not)."""

    expected: bool = True
    span: SourceSpan | None = _span()

    @property
    def reads(self) -> tuple[str, ...]:
        return _REGIONS


@attrs.frozen
class NotGiven(ConditionNode):
    """A condition the document leaves open: always unknown, and the answer says why."""

    text: str
    span: SourceSpan | None = _span()


@attrs.frozen
class AllOf(ConditionNode):
    items: tuple[Condition, ...]
    span: SourceSpan | None = _span()

    @property
    def children(self) -> tuple[Condition, ...]:
        return self.items


@attrs.frozen
class AnyOf(ConditionNode):
    items: tuple[Condition, ...]
    span: SourceSpan | None = _span()

    @property
    def children(self) -> tuple[Condition, ...]:
        return self.items


@attrs.frozen
class Not(ConditionNode):
    item: Condition
    span: SourceSpan | None = _span()

    @property
    def children(self) -> tuple[Condition, ...]:
        return (self.item,)


Condition: TypeAlias = (
    FieldIs | StatusAny | AgeRange | DiagnosisIn | InstitutionIn | InCounty | NotGiven
    | AllOf | AnyOf | Not
)


# ---------------------------------------------------------------- rules


class Effect(enum.Enum):
    """How a rule combines with the others of its outcome (default logic, as in Catala).

    The outcome is granted when some ``GRANT`` rule holds and no ``EXCEPTION`` does: an
    exception takes the benefit away (附件3 第六条 takes pay-later from a defaulter), it
    does not conflict with the grant.
    """

    GRANT = "grant"
    EXCEPTION = "exception"


@attrs.frozen
class Rule:
    id: str
    outcome: str
    effect: Effect
    when: Condition
    citations: tuple[Citation, ...]
    #: For list outcomes (reimbursement_layers): the value this rule gives.
    value: tuple[str, ...] | None = None
    target_ratio: float | None = None
    label: str = ""
    note: str = _note()
    span: SourceSpan | None = _span()


# ---------------------------------------------------------------- groups and catalogs


@attrs.frozen
class StatusGroup:
    id: str
    label: str
    statuses: frozenset[str]
    note: str = _note()
    span: SourceSpan | None = _span()


@attrs.frozen
class ChildAge:
    """An age limit for 儿童 that the text does not give, bounded by every reading in use."""

    not_given: str
    certainly_child_below: int
    certainly_adult_from: int
    span: SourceSpan | None = _span()


@attrs.frozen
class CatalogEntry:
    """One disease: matched when a diagnosis falls under ``codes`` (WHO categories and
    subcategories, blocks already expanded) and, if given, another under ``together_with``."""

    id: str
    name: str
    codes: frozenset[str]
    together_with: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()
    children: ChildAge | None = None
    written_codes: tuple[str, ...] = ()
    note: str = _note()
    span: SourceSpan | None = _span()


@attrs.frozen
class Catalog:
    """A disease catalog: its entries, and, when the document names a longer list than
    it gives (湖南 33, 内蒙古 32), the text of that gap (``more_not_given``)."""

    id: str
    label: str
    entries: tuple[CatalogEntry, ...]
    more_not_given: str = ""
    source: str = ""
    #: The readers' notes on the catalog (its note, mapping note, source, what 儿童 means),
    #: its own and those of the shared catalogs it includes, each as (where, text): ``where``
    #: is the included catalog's name, '' for the catalog itself.
    notes: tuple[tuple[str, str], ...] = attrs.field(default=(), eq=False, repr=False, kw_only=True)
    span: SourceSpan | None = _span()

    @property
    def reads_age(self) -> bool:
        """Whether matching needs the person's age (an entry for 儿童 only)."""
        return any(entry.children for entry in self.entries)


@attrs.frozen
class Institution:
    name: str
    aliases: tuple[str, ...] = ()
    note: str = _note()
    span: SourceSpan | None = _span()


@attrs.frozen
class InstitutionList:
    id: str
    label: str
    members: tuple[Institution, ...]
    citations: tuple[Citation, ...] = ()
    note: str = _note()
    span: SourceSpan | None = _span()


# ---------------------------------------------------------------- the policy


@attrs.frozen
class NotEncoded:
    """A clause deliberately left out, and why (so a reviewer sees it was read)."""

    clause: str
    reason: str
    quote: str = ""
    span: SourceSpan | None = _span()
    quote_span: SourceSpan | None = _span()


@attrs.frozen
class AcceptedFinding:
    """A finding of `policyrules analyze` the policy accepts: its kind, the rule or outcome it is
    about (``subject``), why, and the words of the document that make it so."""

    kind: str
    subject: str
    reason: str
    citation: Citation
    span: SourceSpan | None = _span()


@attrs.frozen
class PolicyMeta:
    id: str
    document: str
    title: str
    issuer: str
    issued: dt.date | None
    regions: tuple[str, ...]
    effective_from: dt.date
    effective_to: dt.date | None
    seed: str
    source_kind: str = "notice"
    #: What is inferred rather than read in the text (region, dates), if anything.
    inferred: tuple[str, ...] = ()
    note: str = ""
    span: SourceSpan | None = _span()
    #: Where the ``seed:`` value is written (a missing source text is said there).
    seed_span: SourceSpan | None = _span()


@attrs.frozen
class PolicyModel:
    meta: PolicyMeta
    status_groups: dict[str, StatusGroup] = attrs.field(eq=False)
    catalogs: dict[str, Catalog] = attrs.field(eq=False)
    institution_lists: dict[str, InstitutionList] = attrs.field(eq=False)
    rules: tuple[Rule, ...]
    not_encoded: tuple[NotEncoded, ...] = ()
    #: The findings of `policyrules analyze` the file accepts (``accepted_findings``).
    accepted_findings: tuple[AcceptedFinding, ...] = ()
    path: str = attrs.field(default="", eq=False)
    sha256: str = ""
    #: What the loader warns of (`Problem` with severity "warning"): the file loads regardless.
    warnings: tuple[Problem, ...] = attrs.field(default=(), eq=False)

    def outcomes(self) -> tuple[str, ...]:
        """The outcomes this policy has rules for, in the file's order."""
        seen: dict[str, None] = {}
        for rule in self.rules:
            seen.setdefault(rule.outcome, None)
        return tuple(seen)

    def grants(self, outcome: str) -> tuple[Rule, ...]:
        """The rules that grant ``outcome`` (or give a list outcome its value), in order."""
        return tuple(r for r in self.rules if r.outcome == outcome and r.effect is Effect.GRANT)

    def exceptions(self, outcome: str) -> tuple[Rule, ...]:
        """The rules that take ``outcome`` away, in order."""
        return tuple(r for r in self.rules if r.outcome == outcome and r.effect is Effect.EXCEPTION)

    def conditions(self) -> Iterator[Condition]:
        """Every condition node of every rule, rule by rule, each tree walked depth first."""
        for rule in self.rules:
            yield from rule.when.walk()

    def fields(self) -> tuple[str, ...]:
        """Every context field the rules read, once, in order (``person.age`` included where a
        catalog a rule uses reads it)."""
        found: dict[str, None] = {}
        for node in self.conditions():
            found.update(dict.fromkeys(node.reads))
            if isinstance(node, DiagnosisIn) and self.catalogs[node.catalog].reads_age:
                found[_AGE] = None
        return tuple(found)
