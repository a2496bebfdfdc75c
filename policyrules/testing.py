"""Hypothesis strategies that generate CONTRACT contexts for a policy (needs ``hypothesis``).

    from hypothesis import given
    from policyrules import load_policy
    from policyrules.testing import contexts

    beita = load_policy("policies/beita_2021.yaml")

    @given(contexts(beita))
    def test_outpatients_never_pay_later(context):
        context["encounter"]["kind"] = "outpatient"
        assert beita.evaluate(context).value("pay_later") is False

A generated context always validates and always falls inside the policy's period and
region (so ``evaluate`` never raises); values are drawn where the policy's answers change:
its statuses, the codes of its catalogs and near misses, ages at and around every threshold,
its listed institutions and spelling variants, in- and out-of-county regions. Fields are
left out at random, so unknown answers are generated too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from .determination import Determination
from .fields import nest
from .model import AgeRange, AllOf, AnyOf, Condition, Effect, Not, PolicyModel, StatusAny
from .policy import Policy
from .vocabulary import CONTEXT_FIELDS, STATUSES

__all__ = ["OPTIONAL_FIELDS", "answer", "contexts", "diagnosis_codes", "fields_but", "full_contexts",
           "granting_statuses", "omit_fields", "towards_a_grant", "with_status"]

#: Fields a generated context may leave out: all but the encounter date (it picks the policy
#: version, so it is always given inside the period); birth dates and institution codes are never
#: generated. A property about "unknown" should not remove ``history`` fields: absent there means
#: "nothing on file", not unknown (CONTRACT).
OPTIONAL_FIELDS: tuple[str, ...] = tuple(
    f for f in CONTEXT_FIELDS
    if f not in ("encounter.date", "person.birth_date", "encounter.institution.code")
)


def _ages(model: PolicyModel) -> list[int]:
    edges: set[int] = {0, 5, 30, 70, 100}
    for node in model.conditions():
        if isinstance(node, AgeRange):
            for bound in (node.at_least, node.at_most):
                if bound is not None:
                    edges.update({bound - 1, bound, bound + 1})
    for catalog in model.catalogs.values():
        for entry in catalog.entries:
            if entry.children:
                for bound in (entry.children.certainly_child_below, entry.children.certainly_adult_from):
                    edges.update({bound - 1, bound, bound + 1})
    return sorted(age for age in edges if 0 <= age <= 150)


def diagnosis_codes(policy: Policy) -> st.SearchStrategy[str]:
    """ICD-10 codes in 医保版 or WHO style: the policy's catalog codes, their neighbours, others."""
    inside: set[str] = set()
    for catalog in policy.model.catalogs.values():
        for entry in catalog.entries:
            inside |= entry.codes | entry.together_with
    near = {c[0] + f"{(int(c[1:3]) + d) % 100:02d}" for c in inside for d in (-1, 1)}
    categories = sorted(inside | near | {"J06", "S72", "Z00", "K35", "R51"})
    extension = st.sampled_from(["", ".9", ".900", ".x00", ".001", ".0"])

    def write(code: str, ext: str) -> str:
        if "." in code:  # a subcategory: keep it, maybe add 医保版 digits
            return code + ("00" if ext in (".900", ".001") else "")
        return code + ext

    return st.builds(write, st.sampled_from(categories), extension)


def full_contexts(policy: Policy) -> st.SearchStrategy[dict[str, Any]]:
    """Contexts with every field given (flat: dotted field -> value)."""
    model = policy.model
    meta = model.meta
    counties = sorted(policy.counties)
    other_region = "110101"
    names: list[str] = ["县人民医院", "某某诊所"]
    for lst in model.institution_lists.values():
        for member in lst.members:
            names += [member.name, *member.aliases]
            names.append(" " + member.name.replace("卫生", "卫 生") + " ")  # spaced variant
            names.append(member.name.translate(str.maketrans("()", "（）")))
    start = meta.effective_from
    end = meta.effective_to or start + dt.timedelta(days=5 * 366)
    insured = st.sampled_from(counties)
    fields = st.fixed_dictionaries(
        {
            "person.age": st.sampled_from(_ages(model)) | st.integers(0, 110),
            "person.sex": st.sampled_from(["female", "male"]),
            "person.residence": st.sampled_from(["rural", "urban"]),
            "person.statuses": st.lists(st.sampled_from(sorted(STATUSES)), max_size=4, unique=True),
            "person.insurance": st.sampled_from(["resident", "employee", "none"]),
            "person.insured_region": insured,
            "encounter.kind": st.sampled_from(["inpatient", "outpatient"]),
            "encounter.date": st.dates(start, end).map(dt.date.isoformat),
            "encounter.diagnoses": st.lists(diagnosis_codes(policy), max_size=3),
            "encounter.institution.name": st.sampled_from(names),
            "encounter.institution.region": st.sampled_from([*counties, other_region]),
            "encounter.institution.level": st.sampled_from(
                ["village", "township", "county", "city", "provincial"]
            ),
            "encounter.institution.designated": st.booleans(),
            "history.pay_later_default": st.booleans(),
        }
    )
    return st.builds(_same_county_often, fields, st.booleans())


def _same_county_often(flat: dict[str, Any], same: bool) -> dict[str, Any]:
    # Half of the encounters are in the insured county, so in-county rules are exercised.
    if same:
        flat["encounter.institution.region"] = flat["person.insured_region"]
    return flat


def omit_fields(flat: dict[str, Any], omitted: set[str]) -> dict[str, Any]:
    """The nested CONTRACT context of a flat one, without the ``omitted`` fields."""
    return nest({field: value for field, value in flat.items() if field not in omitted})


def contexts(policy: Policy) -> st.SearchStrategy[dict[str, Any]]:
    """Valid nested contexts for ``policy``, with fields left out at random."""
    return st.builds(
        omit_fields,
        full_contexts(policy),
        st.sets(st.sampled_from(OPTIONAL_FIELDS)),
    )


# ---------------------------------------------------------------- helpers for writing properties


def fields_but(*kept: str) -> st.SearchStrategy[set[str]]:
    """Sets of `OPTIONAL_FIELDS` to leave out, never one of ``kept`` (the fields a property sets)."""
    unknown = [f for f in kept if f not in CONTEXT_FIELDS]
    if unknown:
        raise ValueError(f"not CONTRACT context fields: {', '.join(unknown)}")
    return st.sets(st.sampled_from([f for f in OPTIONAL_FIELDS if f not in kept]))


def answer(policy: Policy, context: dict[str, Any]) -> Determination:
    """The reference engine's answer to ``context``; where durable_rules runs, the Rete engine's
    outcomes must be the same (an ``AssertionError`` names the context when they are not)."""
    from .engines import rete_runner

    reference = policy.evaluate(context, engine="reference")
    if rete_runner.AVAILABLE:
        other = policy.evaluate(context, engine="rete")
        if other.to_dict()["outcomes"] != reference.to_dict()["outcomes"]:
            raise AssertionError(f"the engines disagree on {context!r}")
    return reference


def _statuses_under(node: Condition, negated: bool, found: dict[bool, set[str]]) -> None:
    if isinstance(node, StatusAny):
        found[negated] |= node.statuses
    elif isinstance(node, (AllOf, AnyOf)):
        for item in node.items:
            _statuses_under(item, negated, found)
    elif isinstance(node, Not):
        _statuses_under(node.item, not negated, found)


def granting_statuses(policy: Policy, outcome: str | None = None) -> list[str]:
    """The statuses ``policy`` grants on, sorted: those its grant rules (for ``outcome``, or any
    outcome when None) ask for outside a ``not``; with no outcome, also its status groups'. With
    registered_poor comes lifted_out_of_poverty, which implies it (CONTRACT)."""
    found: dict[bool, set[str]] = {False: set(), True: set()}
    for rule in policy.model.rules:
        if rule.effect is Effect.GRANT and outcome in (None, rule.outcome):
            _statuses_under(rule.when, False, found)
    granted = set(found[False])
    if outcome is None:
        for group in policy.model.status_groups.values():
            granted |= group.statuses
    if "registered_poor" in granted:
        granted.add("lifted_out_of_poverty")
    return sorted(granted)


def with_status(flat: dict[str, Any], status: str) -> dict[str, Any]:
    """``flat`` (a `full_contexts` dict) with ``status`` among its statuses (changed in place)."""
    if status not in flat["person.statuses"]:
        flat["person.statuses"] = [*flat["person.statuses"], status]
    return flat


def towards_a_grant(flat: dict[str, Any], status: str) -> dict[str, Any]:
    """``flat`` made an in-county inpatient stay at a designated institution with ``status``
    (changed in place): where in-county benefits are granted, so a property about them is not
    checked vacuously."""
    flat["encounter.kind"] = "inpatient"
    flat["encounter.institution.region"] = flat["person.insured_region"]
    flat["encounter.institution.designated"] = True
    return with_status(flat, status)
