"""Properties every evaluation has (../shared/three-valued.md), on generated contexts."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policyrules
from policyrules import ContextError, NoPolicyError
from policyrules.context import read_context
from policyrules.vocabulary import HOUSEHOLD_OUTCOMES
from policyrules.testing import OPTIONAL_FIELDS, full_contexts, omit_fields

from .conftest import POLICIES

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}
POLICY_SET = policyrules.load_policies(POLICIES)
#: Fields whose absence means unknown (history is what is on file: absent = nothing on file).
REMOVABLE = [f for f in OPTIONAL_FIELDS if not f.startswith("history.")]


def _answers(policy: policyrules.Policy, context: dict[str, Any]) -> dict[str, Any]:
    return {name: o.value for name, o in policy.evaluate(context).outcomes.items()}


@pytest.mark.parametrize("name", POLICY_FILES)
def test_filling_in_never_flips_a_decided_value(name: str) -> None:
    policy = LOADED[name]

    @given(full_contexts(policy), st.sets(st.sampled_from(REMOVABLE)), st.sets(st.sampled_from(REMOVABLE)))
    def check(flat: dict[str, Any], first: set[str], second: set[str]) -> None:
        less = _answers(policy, omit_fields(flat, first | second))
        more = _answers(policy, omit_fields(flat, first))
        full = _answers(policy, omit_fields(flat, set()))
        for outcome, value in less.items():
            if value is not None:
                assert more[outcome] == value, (outcome, first, second)
                assert full[outcome] == value, (outcome, first | second)

    check()


@pytest.mark.parametrize("name", POLICY_FILES)
def test_decided_answers_need_nothing_and_unknown_ones_say_why(name: str) -> None:
    policy = LOADED[name]

    @given(full_contexts(policy), st.sets(st.sampled_from(REMOVABLE)))
    def check(flat: dict[str, Any], omitted: set[str]) -> None:
        context = omit_fields(flat, omitted)
        for outcome in policy.evaluate(context).outcomes.values():
            if outcome.name in HOUSEHOLD_OUTCOMES:  # a person's context: tests/test_households.py
                continue
            if outcome.value is None:
                assert outcome.missing or outcome.not_given, outcome
                assert set(outcome.missing) <= omitted, outcome
                assert list(outcome.missing) == sorted(outcome.missing)
            else:
                assert outcome.missing == () and outcome.not_given == (), outcome
            assert outcome.rules, outcome
            if outcome.value is True:
                assert outcome.citations, outcome

    check()


@pytest.mark.parametrize("name", POLICY_FILES)
def test_a_missing_field_can_still_change_the_answer(name: str) -> None:
    """'missing' names only fields that matter: filling them in decides the value one way or
    the other for some filling (checked by trying the generated full context's values)."""
    policy = LOADED[name]

    @given(full_contexts(policy), st.sets(st.sampled_from(REMOVABLE), min_size=1))
    def check(flat: dict[str, Any], omitted: set[str]) -> None:
        partial = policy.evaluate(omit_fields(flat, omitted)).outcomes
        full = policy.evaluate(omit_fields(flat, set())).outcomes
        for outcome_name, outcome in partial.items():
            if outcome.value is None and not outcome.not_given and outcome_name not in HOUSEHOLD_OUTCOMES:
                # with every missing field filled in (and nothing else), the value is decided
                refill = omitted - set(outcome.missing)
                filled = policy.evaluate(omit_fields(flat, refill)).outcomes[outcome_name]
                assert filled.value == full[outcome_name].value
                assert filled.value is not None or filled.not_given, (outcome_name, outcome.missing)

    check()


@pytest.mark.parametrize("name", POLICY_FILES)
def test_order_of_lists_does_not_matter(name: str) -> None:
    policy = LOADED[name]

    @given(full_contexts(policy), st.sets(st.sampled_from(REMOVABLE)), st.randoms())
    def check(flat: dict[str, Any], omitted: set[str], rnd: random.Random) -> None:
        context = omit_fields(flat, omitted)
        shuffled = json.loads(json.dumps(context))
        for group, field in (("person", "statuses"), ("encounter", "diagnoses")):
            if field in shuffled.get(group, {}):
                rnd.shuffle(shuffled[group][field])
        assert policy.evaluate(context).to_dict() == policy.evaluate(shuffled).to_dict()

    check()


@pytest.mark.parametrize("name", POLICY_FILES)
def test_to_dict_is_plain_json(name: str) -> None:
    policy = LOADED[name]

    @given(full_contexts(policy), st.sets(st.sampled_from(REMOVABLE)))
    def check(flat: dict[str, Any], omitted: set[str]) -> None:
        answer = policy.evaluate(omit_fields(flat, omitted)).to_dict()
        assert json.loads(json.dumps(answer, ensure_ascii=False)) == answer
        assert answer["schema_version"] == "1"
        assert set(answer["outcomes"]) == set(policy.model.outcomes())

    check()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(["person", "encounter", "history", "institution", "age", "statuses",
                               "kind", "date", "diagnoses", "name", "region", "insured_region",
                               "designated", "pay_later_default", "sex", "birth_date"])
NEAR_CONTEXTS = st.recursive(
    JSON, lambda children: st.dictionaries(FIELD_NAMES, children, max_size=5), max_leaves=20
)


@given(NEAR_CONTEXTS)
def test_random_input_raises_only_context_or_policy_errors(context: Any) -> None:
    for target in (POLICY_SET, *LOADED.values()):
        try:
            answer = target.evaluate(context)
        except (ContextError, NoPolicyError):
            continue
        json.dumps(answer.to_dict())


def _candidates(policy: policyrules.Policy, field: str, flat: dict[str, Any]) -> list[Any]:
    """Values worth trying for ``field``: the policy's own vocabulary and a value outside it."""
    from policyrules.testing import _ages
    from policyrules.vocabulary import CONTEXT_FIELDS, STATUSES

    kind, vocabulary = CONTEXT_FIELDS[field].kind.name, CONTEXT_FIELDS[field].vocabulary
    model = policy.model
    if kind == "enum":
        return list(vocabulary)
    if kind == "bool":
        return [True, False]
    if kind == "int":
        return _ages(model)
    if kind == "statuses":
        return [[]] + [[status] for status in STATUSES]
    if kind == "region":  # the policy's own, the other region of the context, one elsewhere
        other = flat["encounter.institution.region" if field == "person.insured_region" else "person.insured_region"]
        return sorted(policy.counties)[:3] + [other, "110101"]
    if kind == "diagnoses":
        codes = sorted({code for c in model.catalogs.values() for e in c.entries
                        for code in (*sorted(e.codes)[:1], *sorted(e.together_with)[:1])})
        with_partners = [[code] for code in codes]
        with_partners += [[a, b] for c in model.catalogs.values() for e in c.entries if e.together_with
                          for a, b in [(sorted(e.codes)[0], sorted(e.together_with)[0])]]
        return [[], ["J06"]] + with_partners
    if field == "encounter.institution.name":
        names = [m.name for lst in model.institution_lists.values() for m in lst.members]
        return names + ["某某诊所"]
    return [flat[field]]


@pytest.mark.parametrize("name", POLICY_FILES)
def test_an_unknown_answer_can_still_go_either_way(name: str) -> None:
    """three-valued.md: when a value is unknown and the document leaves nothing open
    (`not_given` empty), some filling-in of `missing` makes it true and some makes it false:
    no listed field was unneeded, and no answer was left unknown that the facts decide."""
    import itertools

    policy = LOADED[name]

    @settings(max_examples=40)
    @given(full_contexts(policy), st.sets(st.sampled_from(REMOVABLE), min_size=1), st.randoms())
    def check(flat: dict[str, Any], omitted: set[str], rnd: random.Random) -> None:
        answer = policy.evaluate(omit_fields(flat, omitted))
        for outcome_name, outcome in answer.outcomes.items():
            if (outcome.value is not None or outcome.not_given or outcome_name in LIST_OUTCOME_NAMES
                    or outcome_name in HOUSEHOLD_OUTCOMES):  # a person's context: tests/test_households.py
                continue
            options = [_candidates(policy, field, flat) for field in outcome.missing]
            combos = list(itertools.product(*options))
            rnd.shuffle(combos)
            seen = set()
            for combo in combos[:3000]:
                filled = dict(flat)
                filled.update(zip(outcome.missing, combo, strict=True))
                keep = omitted - set(outcome.missing)
                # the rules' logic alone: a region filled in may lie outside the policy
                facts = read_context(omit_fields(filled, keep))
                seen.add(policy._evaluate(facts, "reference").outcomes[outcome_name].value)
                if {True, False} <= seen:
                    break
            assert {True, False} <= seen, (outcome_name, outcome.missing, seen)

    check()


LIST_OUTCOME_NAMES = frozenset(("reimbursement_layers", "family_doctor_team", "visit_schedule"))
