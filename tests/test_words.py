"""Conditions in words (policyrules.words)."""

from __future__ import annotations

import pytest

import policyrules
from policyrules.model import (
    AgeRange,
    AllOf,
    AnyOf,
    DiagnosisIn,
    FieldIs,
    InCounty,
    InstitutionIn,
    Not,
    NotGiven,
    StatusAny,
)
from policyrules.words import describe, describe_items, describe_rule

from .conftest import POLICIES


@pytest.fixture(scope="module")
def model() -> object:
    return policyrules.load_policy(POLICIES / "beita_2021.yaml").model


def test_statuses_in_vocabulary_order_with_their_group(model: object) -> None:
    zh, en = describe(StatusAny(frozenset({"destitute", "rural_dibao"})), None)
    assert zh == "身份为 农村低保对象、特困人员（特困供养人员） 之一"
    assert en.startswith("has one of the statuses: rural_dibao (农村低保对象), destitute")
    zh, en = describe(StatusAny(frozenset({"rural_dibao", "destitute", "monitored"}), "rural_low_income"),
                      model)  # type: ignore[arg-type]
    assert "身份组「农村低保对象、特困人员、纳入民政" in zh and "status group rural_low_income" in en
    assert describe(StatusAny(frozenset({"destitute"})), None)[1] == "has the status destitute (特困人员（特困供养人员）)"


def test_fields_ages_and_places() -> None:
    assert describe(FieldIs("encounter.kind", frozenset({"inpatient"})), None) == (
        "就诊类别为住院", "kind of encounter is inpatient")
    assert describe(FieldIs("person.sex", frozenset({"male", "female"})), None) == (
        "性别为 女性、男性 之一", "sex is female or male")
    assert describe(FieldIs("history.pay_later_default", frozenset({True})), None)[0] == "有拖欠先诊疗后付费费用的记录"
    assert describe(FieldIs("encounter.institution.designated", frozenset({False})), None)[1].startswith("not: ")
    assert describe(AgeRange(35, 64), None) == ("年龄 35 至 64 周岁（含两端）", "aged 35 to 64 (both included)")
    assert describe(AgeRange(at_least=65), None)[1] == "aged 65 or over"
    assert describe(AgeRange(at_most=6), None)[0] == "年龄 6 周岁以下（含 6 岁）"
    assert describe(InCounty(False), None)[0].startswith("县域外")
    assert describe(NotGiven("the age is not given"), None)[1] == (
        "not given by the document (always unknown): the age is not given")


def test_named_things_are_said_with_their_labels(model: object) -> None:
    zh, en = describe(DiagnosisIn("pulmonary_tb"), model)  # type: ignore[arg-type]
    assert zh == "有一个诊断在目录「肺结核」中" and en == "a diagnosis is in the catalog pulmonary_tb (肺结核)"
    zh, en = describe(InstitutionIn("beita_pay_later_institutions"), None)
    assert zh == "就诊机构在名单「beita_pay_later_institutions」上"


def test_combinations_are_bracketed_when_nested() -> None:
    inner = AnyOf((FieldIs("person.sex", frozenset({"female"})), AgeRange(at_least=65)))
    zh, en = describe(AllOf((FieldIs("encounter.kind", frozenset({"inpatient"})), inner)), None)
    assert zh == "就诊类别为住院，并且（以下至少一项：性别为女性；或者年龄 65 周岁以上（含 65 岁））"
    assert en == "kind of encounter is inpatient, and (at least one of: sex is female; or aged 65 or over)"
    assert describe(Not(InCounty()), None)[1].startswith("not: in county")
    assert len(describe_items(AllOf((InCounty(), AgeRange(1, 2))), None)) == 2
    assert len(describe_items(InCounty(), None)) == 1


def test_every_shipped_rule_reads_as_a_sentence() -> None:
    for policy in policyrules.load_policies(POLICIES):
        for rule in policy.model.rules:
            zh, en = describe_rule(rule, policy.model)
            assert zh.startswith("若") and zh.endswith("。") and en.startswith("If ") and en.endswith(".")
            assert ("例外" in zh) == (rule.effect.value == "exception")


def test_not_a_condition() -> None:
    with pytest.raises(TypeError):
        describe("inpatient", None)  # type: ignore[arg-type]
