"""固阳县 2020 (固卫健发〔2020〕105号): scenarios written from the notice's own words.

Each test quotes the words of policies/sources/000_132ce4423cf5d354.txt it checks. The
expected values come from the notice, not from policies/guyang_2020.yaml; the YAML is only
read for the outcome names.
"""

from __future__ import annotations

import pytest

import policyrules

from .conftest import POLICIES
from .scenarios import ABSENT, Scenario

DOCUMENT = "固卫健发〔2020〕105号"
GUYANG = "150222"
KUNDULUN = "150203"  # 昆都仑区, 包头市: outside 固阳县
DATE = "2020-10-15"

SCENARIO = Scenario(document=DOCUMENT, seed="000_132ce4423cf5d354.txt", kind="inpatient", name="固阳县医院", level="county", region=GUYANG, insured=GUYANG, designated=True, date=DATE)
context, in_document, evaluate, outcome = (
    SCENARIO.context, SCENARIO.in_document, SCENARIO.evaluate, SCENARIO.outcome)
check_invariants = SCENARIO.check


@pytest.fixture(scope="module")
def guyang() -> policyrules.Policy:
    return policyrules.load_policy(POLICIES / "guyang_2020.yaml")












INPATIENT_BENEFITS = ("pay_later", "deposit_exempt", "one_stop_settlement")


# ------------------------------------------------------------------ 二(五) 先诊疗后付费, 免押金, 一站式


@pytest.mark.parametrize("statuses", [["registered_poor"], ["lifted_out_of_poverty"]])
def test_registered_poor_inpatient_in_county_designated_gets_all_three(guyang, statuses):
    """二(五) '建档立卡贫困人口住院患者县域内住院时无需缴纳住院押金…实现补偿政策的“一站式”即时结算'."""
    answer = evaluate(guyang, context(statuses=statuses))
    for benefit in INPATIENT_BENEFITS:
        assert answer.outcomes[benefit].value is True, benefit
    assert any("先诊疗" in c.quote for c in answer.outcomes["pay_later"].citations)


def test_outpatient_gets_none_of_the_inpatient_benefits(guyang):
    """二(五) '建档立卡贫困人口住院患者…': only 住院 is named."""
    answer = evaluate(guyang, context(statuses=["registered_poor"], kind="outpatient"))
    for benefit in INPATIENT_BENEFITS:
        assert answer.outcomes[benefit].value is False, benefit


def test_out_of_county_is_false(guyang):
    """二(五) '巩固贫困人口县域内定点医疗机构住院…': a 固阳 patient in 昆都仑区 is out of county."""
    answer = evaluate(guyang, context(statuses=["registered_poor"], region=KUNDULUN))
    for benefit in INPATIENT_BENEFITS:
        assert answer.outcomes[benefit].value is False, benefit


def test_not_designated_is_false(guyang):
    """二(五) '县域内定点医疗机构住院“先诊疗后付费”': a hospital that is not 定点 is outside it."""
    assert outcome(guyang, "pay_later", statuses=["registered_poor"], designated=False).value is False


@pytest.mark.parametrize("statuses", [["rural_dibao"], ["destitute"], ["monitored"], []])
def test_not_registered_poor_is_false(guyang, statuses):
    """二(五) '认真贯彻落实建档立卡贫困人口住院患者“先诊疗，后付费”': only the 建档立卡 register counts."""
    answer = evaluate(guyang, context(statuses=statuses))
    for benefit in INPATIENT_BENEFITS:
        assert answer.outcomes[benefit].value is False, benefit


def test_statuses_absent_is_unknown(guyang):
    """二(五) '建档立卡贫困人口住院患者': with statuses absent it cannot be told."""
    out = outcome(guyang, "pay_later")
    assert out.value is None and tuple(out.missing) == ("person.statuses",)


def test_outpatient_decides_with_statuses_absent(guyang):
    """二(五) '住院患者': an outpatient is out whatever his statuses."""
    out = outcome(guyang, "pay_later", kind="outpatient")
    assert out.value is False and tuple(out.missing) == ()


def test_region_absent_and_statuses_absent_both_missing(guyang):
    """二(五) '县域内…建档立卡贫困人口': both the institution's county and the statuses are needed."""
    out = outcome(guyang, "pay_later", region=ABSENT)
    assert out.value is None
    assert tuple(out.missing) == ("encounter.institution.region", "person.statuses")


def test_notice_has_no_default_exception(guyang):
    """二(五) names no loss of '先诊疗，后付费' for arrears (unlike 北塔 附件3 第六条): a past default changes nothing."""
    answer = evaluate(guyang, context(statuses=["registered_poor"], default=True))
    assert answer.outcomes["pay_later"].value is True
    assert answer.outcomes["deposit_exempt"].value is True


# ------------------------------------------------------------------ 二(四) 32种大病


@pytest.mark.parametrize("code", ["C16.900", "C53.9", "N18.5", "J44.1"])
def test_poor_with_a_national_30_disease(guyang, code):
    """二(四) '排查管理的贫困人口患病情况，对患有32种大病的患者要进行集中救治工作'."""
    assert outcome(guyang, "major_disease_treatment", statuses=["registered_poor"], diagnoses=[code]).value is True


def test_poor_with_a_disease_outside_the_national_30_is_unknown(guyang):
    """二(四) '32种大病': the notice does not list the 32, so appendicitis is left open."""
    out = outcome(guyang, "major_disease_treatment", statuses=["registered_poor"], diagnoses=["K35.8"])
    assert out.value is None
    assert tuple(out.missing) == () and len(out.not_given) > 0


def test_non_poor_with_a_major_disease_is_false(guyang):
    """二(四) '排查管理的贫困人口患病情况': the measure is for 贫困人口."""
    assert outcome(guyang, "major_disease_treatment", statuses=[], diagnoses=["C16.900"]).value is False


@pytest.mark.parametrize("age,expected", [(10, True), (16, None), (30, None)])
def test_childhood_congenital_heart_disease_by_age(guyang, age, expected):
    """二(四) '32种大病' (national 儿童先心病): 10 is a child; 16 is not settled; at 30 only the unlisted 2 could cover it."""
    out = outcome(guyang, "major_disease_treatment", statuses=["lifted_out_of_poverty"],
                  diagnoses=["Q21.1"], age=age)
    assert out.value is expected
    if expected is None:
        assert tuple(out.missing) == () and len(out.not_given) > 0


# ------------------------------------------------------------------ 二(二) 应签尽签, 二(三) 慢病签约


def test_poor_are_family_doctor_priority(guyang):
    """二(二) '实现常住贫困人口应签尽签'."""
    assert outcome(guyang, "family_doctor_priority", statuses=["lifted_out_of_poverty"]).value is True
    assert outcome(guyang, "family_doctor_priority", statuses=[]).value is False
    out = outcome(guyang, "family_doctor_priority")
    assert out.value is None and tuple(out.missing) == ("person.statuses",)


@pytest.mark.parametrize("code", ["I10", "E11.9", "F20.0"])
def test_poor_chronic_patient_gets_personal_contract(guyang, code):
    """二(三) '根据情况开展贫困慢病患者“送医配药”等多种形式的个性化签约服务' (hypertension, diabetes, schizophrenia are 慢病)."""
    out = outcome(guyang, "chronic_disease_contract", statuses=["registered_poor"], diagnoses=[code])
    assert out.value is True


def test_unnamed_chronic_disease_is_not_ruled_out(guyang):
    """二(三) '贫困慢病患者' names no 慢病: COPD cannot be ruled out, so the answer is not false."""
    out = outcome(guyang, "chronic_disease_contract", statuses=["registered_poor"], diagnoses=["J44.9"])
    assert out.value is not False
    if out.value is None:
        assert len(out.not_given) > 0


def test_non_poor_chronic_patient_is_false(guyang):
    """二(三) '贫困慢病患者': a non-poor hypertensive is not one."""
    assert outcome(guyang, "chronic_disease_contract", statuses=[], diagnoses=["I10"]).value is False


# ------------------------------------------------------------------ 二(七) 两癌, 结核病


def test_two_cancer_screening_man_false_woman_not_given(guyang):
    """二(七) '开展妇女“两癌”筛查项目': a man is not 妇女; for a woman no age or group is given."""
    assert outcome(guyang, "two_cancer_screening", sex="male", age=45).value is False
    out = outcome(guyang, "two_cancer_screening", sex="female", age=45, statuses=["registered_poor"])
    assert out.value is None and len(out.not_given) > 0


def test_two_cancer_screening_girl_is_not_a_woman(guyang):
    """二(七) '开展妇女“两癌”筛查项目': 妇女 does not take in children."""
    assert outcome(guyang, "two_cancer_screening", sex="female", age=10).value is False


def test_tb_is_screening_not_free_treatment(guyang):
    """二(七) '开展重点人群结核病主动筛查': screening only; no free anti-TB drugs are granted."""
    answer = evaluate(guyang, context(statuses=["registered_poor"], diagnoses=["A15.0"]))
    assert "free_tb_treatment" not in answer.outcomes


# ------------------------------------------------------------------ period (2020年8月7日) via the policy set


def test_before_the_notice_no_policy(policy_set):
    """Issued '2020年8月7日': a 固阳 admission on 2020-08-06 is under no shipped policy."""
    with pytest.raises(policyrules.NoPolicyError):
        policy_set.evaluate(context(statuses=["registered_poor"], date="2020-08-06"))


@pytest.mark.parametrize("date", ["2020-08-07", "2022-05-01", "2025-12-31"])
def test_from_the_notice_the_set_picks_guyang(policy_set, date):
    """'2020年8月7日', '2020 年后国家设定脱贫攻坚政策过渡期内': the notice gives no end date; the
    过渡期 the state set is 5 years, 2021-2025 (policy.inferred)."""
    answer = policy_set.evaluate(context(statuses=["registered_poor"], date=date))
    check_invariants(answer)
    assert answer.to_dict()["policy"]["document"] == DOCUMENT
    assert answer.outcomes["pay_later"].value is True


def test_after_the_transition_period_no_policy(policy_set):
    """'2020年后国家设定脱贫攻坚政策过渡期内': after the 过渡期 (2021-2025) 105号 does not answer."""
    with pytest.raises(policyrules.NoPolicyError):
        policy_set.evaluate(context(statuses=["registered_poor"], date="2026-01-01"))
