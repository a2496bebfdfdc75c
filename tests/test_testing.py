"""policyrules.testing: everything the strategies generate is a valid context the policy covers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

import policyrules
from policyrules.context import read_context
from policyrules.testing import contexts, diagnosis_codes
from policyrules.icd10 import DIAGNOSIS_PATTERN

from .conftest import POLICIES

LOADED = {p.stem: policyrules.load_policy(p) for p in sorted(POLICIES.glob("*.yaml"))}


@pytest.mark.parametrize("name", sorted(LOADED))
def test_generated_contexts_validate_and_are_covered(name: str) -> None:
    policy = LOADED[name]

    @given(contexts(policy))
    def check(context: dict[str, Any]) -> None:
        facts = read_context(context)  # raises ContextError if invalid
        assert policy.in_force(facts.date)
        region = facts.values.get("person.insured_region")
        assert region is None or policy.covers(region)
        policy.evaluate(context)  # never NoPolicyError

    check()


@given(diagnosis_codes(LOADED["beita_2021"]))
def test_diagnosis_codes_look_like_icd10(code: str) -> None:
    assert DIAGNOSIS_PATTERN.match(code)


# ---------------------------------------------------------------- the property helpers


def test_fields_but_never_leaves_out_a_kept_field() -> None:
    from hypothesis import strategies as st

    from policyrules.testing import OPTIONAL_FIELDS, fields_but

    @given(fields_but("encounter.kind", "person.statuses"))
    def check(omitted: set[str]) -> None:
        assert omitted <= set(OPTIONAL_FIELDS)
        assert "encounter.kind" not in omitted and "person.statuses" not in omitted

    check()
    with pytest.raises(ValueError, match="encounter.knd"):
        fields_but("encounter.knd")
    assert isinstance(fields_but(), st.SearchStrategy)


def test_granting_statuses_reads_the_grant_rules() -> None:
    from policyrules.testing import granting_statuses

    beita = LOADED["beita_2021"]
    assert granting_statuses(beita, "pay_later") == ["destitute", "monitored", "rural_dibao"]
    assert set(granting_statuses(beita)) >= {"destitute", "monitored", "rural_dibao", "lifted_out_of_poverty"}
    assert granting_statuses(beita, "no_such_outcome") == []


def test_towards_a_grant_makes_an_in_county_designated_stay() -> None:
    from policyrules.testing import answer, omit_fields, towards_a_grant

    beita = LOADED["beita_2021"]
    flat: dict[str, Any] = {
        "person.statuses": [], "person.insured_region": "430511", "encounter.kind": "outpatient",
        "encounter.date": "2022-03-01", "encounter.institution.name": "陈家桥卫生院",
        "encounter.institution.region": "110101", "encounter.institution.designated": False,
        "history.pay_later_default": False,
    }
    assert answer(beita, omit_fields(flat, set())).value("pay_later") is False
    towards_a_grant(flat, "destitute")
    assert flat["encounter.kind"] == "inpatient" and flat["encounter.institution.region"] == "430511"
    assert flat["person.statuses"] == ["destitute"] and flat["encounter.institution.designated"] is True
    assert answer(beita, omit_fields(flat, set())).value("pay_later") is True
    towards_a_grant(flat, "destitute")
    assert flat["person.statuses"] == ["destitute"]  # not added twice
