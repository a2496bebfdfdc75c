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
