"""The policy model: frozen attrs classes, the single truth every target is derived from.

`policyrules.format` builds it from a YAML file; the reference evaluator, explanations,
batch evaluation and (later) the Rete compiler all read it and nothing else. Every node
keeps where it was written (``span``), which is not part of its equality.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TypeAlias

import attrs

from .errors import SourceSpan

__all__ = [
    "AgeRange",
    "AllOf",
    "AnyOf",
    "Catalog",
    "CatalogEntry",
    "ChildAge",
    "Citation",
    "Condition",
    "DiagnosisIn",
    "Effect",
    "FieldIs",
    "InCounty",
    "Institution",
    "InstitutionIn",
    "InstitutionList",
    "Not",
    "NotEncoded",
    "NotGiven",
    "PolicyMeta",
    "PolicyModel",
    "Rule",
    "StatusAny",
    "StatusGroup",
]


def _span() -> SourceSpan | None:
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)  # type: ignore[no-any-return]


@attrs.frozen
class Citation:
    """The clause a rule encodes and the words it quotes, verbatim (OCR slips kept)."""

    clause: str
    quote: str
    document: str = ""
    note: str = ""
    span: SourceSpan | None = _span()


# ---------------------------------------------------------------- conditions


@attrs.frozen
class FieldIs:
    """A context field has one of ``values`` (a single value reads as equality)."""

    field: str
    values: frozenset[str | bool]
    span: SourceSpan | None = _span()


@attrs.frozen
class StatusAny:
    """The person has any of ``statuses`` (``group`` names the status group used, if any)."""

    statuses: frozenset[str]
    group: str | None = None
    span: SourceSpan | None = _span()


@attrs.frozen
class AgeRange:
    """Age in whole years (周岁) within the bounds, both inclusive (以上/以下)."""

    at_least: int | None = None
    at_most: int | None = None
    span: SourceSpan | None = _span()


@attrs.frozen
class DiagnosisIn:
    """Some diagnosis of the encounter is in the catalog ``catalog``."""

    catalog: str
    span: SourceSpan | None = _span()


@attrs.frozen
class InstitutionIn:
    """The encounter's institution is on the institution list ``list_name``."""

    list_name: str
    span: SourceSpan | None = _span()


@attrs.frozen
class InCounty:
    """县域内: the institution's county equals the person's insured county (or not)."""

    expected: bool = True
    span: SourceSpan | None = _span()


@attrs.frozen
class NotGiven:
    """A condition the document leaves open: always unknown, and the answer says why."""

    text: str
    span: SourceSpan | None = _span()


@attrs.frozen
class AllOf:
    items: tuple[Condition, ...]
    span: SourceSpan | None = _span()


@attrs.frozen
class AnyOf:
    items: tuple[Condition, ...]
    span: SourceSpan | None = _span()


@attrs.frozen
class Not:
    item: Condition
    span: SourceSpan | None = _span()


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
    span: SourceSpan | None = _span()


# ---------------------------------------------------------------- groups and catalogs


@attrs.frozen
class StatusGroup:
    id: str
    label: str
    statuses: frozenset[str]
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
    span: SourceSpan | None = _span()


@attrs.frozen
class Institution:
    name: str
    aliases: tuple[str, ...] = ()
    span: SourceSpan | None = _span()


@attrs.frozen
class InstitutionList:
    id: str
    label: str
    members: tuple[Institution, ...]
    citations: tuple[Citation, ...] = ()
    span: SourceSpan | None = _span()


# ---------------------------------------------------------------- the policy


@attrs.frozen
class NotEncoded:
    """A clause deliberately left out, and why (so a reviewer sees it was read)."""

    clause: str
    reason: str
    quote: str = ""
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


@attrs.frozen
class PolicyModel:
    meta: PolicyMeta
    status_groups: dict[str, StatusGroup] = attrs.field(eq=False)
    catalogs: dict[str, Catalog] = attrs.field(eq=False)
    institution_lists: dict[str, InstitutionList] = attrs.field(eq=False)
    rules: tuple[Rule, ...]
    not_encoded: tuple[NotEncoded, ...] = ()
    path: str = attrs.field(default="", eq=False)
    sha256: str = ""

    def outcomes(self) -> tuple[str, ...]:
        """The outcomes this policy has rules for, in the file's order."""
        seen: dict[str, None] = {}
        for rule in self.rules:
            seen.setdefault(rule.outcome, None)
        return tuple(seen)
