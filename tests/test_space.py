"""The context space: the classes of each field's values, as far as the rules can tell."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

import policyrules
from policyrules import space as space_module
from policyrules.context import read_context
from policyrules.engines.reference import ReferenceEngine
from policyrules.space import ContextSpace, SpaceTooLarge, outcome_value
from policyrules.testing import contexts
from policyrules.vocabulary import LIST_OUTCOMES

from .conftest import POLICIES

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}


def _space(policy: policyrules.Policy, outcome: str, insured: str | None) -> ContextSpace:
    model = policy.model
    return ContextSpace(model, policy.prepared.matcher, model.grants(outcome) + model.exceptions(outcome), insured)


def test_the_classes_of_beita_pay_later() -> None:
    policy = LOADED["beita_2021.yaml"]
    space = _space(policy, "pay_later", "430511")
    assert space.fields == ("person.statuses", "encounter.kind", "encounter.institution.name",
                            "encounter.institution.region", "history.pay_later_default")
    statuses = space["person.statuses"]
    # one status set in the rules: on it, off it, unknown
    assert [c.value for c in statuses.classes] == [[], ["rural_dibao"], None]
    assert ["destitute"] in statuses.classes[1].members and ["monitored"] in statuses.classes[1].members
    names = space["encounter.institution.name"].classes
    assert names[0].value == "茶元街道社区卫生服务中心" and "陈家桥卫生院" in names[0].members
    assert names[1].zh == "不在任何名单上的医疗机构" and names[2].absent
    region = space["encounter.institution.region"].classes
    assert region[0].value == "430511" and region[1].value != "430511"
    assert len(space["history.pay_later_default"].classes) == 2  # absent is "nothing on file"
    assert space.size == 3 * 3 * 3 * 3 * 2


def test_no_region_classes_without_the_insured_region() -> None:
    space = _space(LOADED["beita_2021.yaml"], "pay_later", None)
    assert "encounter.institution.region" not in space.fields


def test_age_classes_cut_at_every_bound_and_child_limit() -> None:
    policy = LOADED["beita_2021.yaml"]
    space = _space(policy, "major_disease_treatment", "430511")
    ages = space["person.age"].classes
    lows = [c.value for c in ages if not c.absent]
    assert lows[0] == 0 and lows == sorted(lows) and len(lows) >= 2
    for index, value_class in enumerate(ages):
        assert space["person.age"].classify(value_class.fact) == index


def test_every_representative_and_member_classifies_into_its_class() -> None:
    for policy in LOADED.values():
        for outcome in policy.model.outcomes():
            space = _space(policy, outcome, sorted(policy.counties)[0])
            for field in space.fields:
                for index, value_class in enumerate(space[field].classes):
                    assert space[field].classify(value_class.fact) == index, (field, value_class)
                    for member in value_class.members:
                        facts = read_context(_nested(field, member)).values
                        assert space[field].classify(facts.get(field)) == index, (field, member)


def _nested(field: str, value: Any) -> dict[str, Any]:
    from policyrules.fields import nest

    return nest({field: value})


def test_enumeration_copes_with_every_shipped_policy() -> None:
    for policy in LOADED.values():
        for outcome in policy.model.outcomes():
            assert _space(policy, outcome, sorted(policy.counties)[0]).size < 1000, (policy.id, outcome)


def test_too_large_a_product_is_said_precisely(monkeypatch: pytest.MonkeyPatch) -> None:
    space = _space(LOADED["beita_2021.yaml"], "pay_later", "430511")
    monkeypatch.setattr(space_module, "MAX_ASSIGNMENTS", 10)
    with pytest.raises(SpaceTooLarge, match="162 combinations of classes of person.statuses"):
        list(space.assignments())


@pytest.mark.parametrize("name", POLICY_FILES)
def test_a_context_answers_as_its_classes_do(name: str) -> None:
    """What makes the classes classes: replacing every field by its class's representative never
    changes an outcome."""
    policy = LOADED[name]
    engine = policy.engine("reference")
    assert isinstance(engine, ReferenceEngine)
    model = policy.model

    @settings(max_examples=40)
    @given(contexts(policy))
    def check(context: dict[str, Any]) -> None:
        facts = read_context(context)
        insured = facts.values.get("person.insured_region")
        for outcome in model.outcomes():
            grants, exceptions = model.grants(outcome), model.exceptions(outcome)
            space = _space(policy, outcome, insured)
            is_list = outcome in LIST_OUTCOMES
            here = outcome_value(engine.compile, grants, exceptions, facts.values, is_list)
            there = outcome_value(engine.compile, grants, exceptions, space.values_of(space.classify(facts.values)),
                                  is_list)
            assert here == there == policy.evaluate(context).value(outcome), outcome

    check()
