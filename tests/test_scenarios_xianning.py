"""咸宁市 2020 (咸医保发〔2020〕20号): scenarios written from the notice's own words.

Each test quotes the words of policies/sources/002_f5479c42a9741515.txt it checks. The
expected values come from the notice (and CONTRACT for "县域内" under a city-level notice),
not from policies/xianning_2020.yaml; the YAML is only read for the outcome names.
"""

from __future__ import annotations

import pytest

import policyrules

from .conftest import POLICIES
from .scenarios import SAME_COUNTY, Scenario

DOCUMENT = "咸医保发〔2020〕20号"
XIANAN, JIAYU = "421202", "421221"
COUNTIES = {"咸安区": "421202", "嘉鱼县": "421221", "通城县": "421222", "崇阳县": "421223",
            "通山县": "421224", "赤壁市": "421281"}
DATE = "2020-06-15"
LAYERS = ("basic_medical_insurance", "critical_illness_insurance", "medical_assistance")

SCENARIO = Scenario(document=DOCUMENT, seed="002_f5479c42a9741515.txt", kind="inpatient", name="县人民医院", level="county", insured=XIANAN, region=SAME_COUNTY, designated=True, date=DATE)
context, in_document, evaluate, outcome = (
    SCENARIO.context, SCENARIO.in_document, SCENARIO.evaluate, SCENARIO.outcome)
check_invariants = SCENARIO.check


@pytest.fixture(scope="module")
def xianning() -> policyrules.Policy:
    return policyrules.load_policy(POLICIES / "xianning_2020.yaml")












# ------------------------------------------------------------------ 四(一) 先诊疗后付费, 四(二) 一站式


@pytest.mark.parametrize("county,code", sorted(COUNTIES.items()))
def test_poor_inpatient_in_own_county_in_every_county(policy_set, county, code):
    """四(一) '严格落实贫困人口县域内定点医疗机构住院“先诊疗、后付费”' (a city notice: all six counties)."""
    answer = evaluate(policy_set, context(statuses=["registered_poor"], insured=code))
    assert answer.to_dict()["policy"]["document"] == DOCUMENT
    assert answer.outcomes["pay_later"].value is True
    assert answer.outcomes["one_stop_settlement"].value is True


def test_jiayu_patient_in_xianan_hospital_is_out_of_county(xianning):
    """四(一) '贫困人口县域内定点医疗机构住院': 县域内 is the patient's own 嘉鱼县, not the city."""
    answer = evaluate(xianning, context(statuses=["registered_poor"], insured=JIAYU, region=XIANAN))
    assert answer.outcomes["pay_later"].value is False
    assert answer.outcomes["one_stop_settlement"].value is False


def test_not_designated_no_pay_later(xianning):
    """四(一) '县域内定点医疗机构住院“先诊疗、后付费”': not 定点, not covered."""
    assert outcome(xianning, "pay_later", statuses=["registered_poor"], designated=False).value is False


def test_outpatient_no_pay_later_but_one_stop_still_applies(xianning):
    """四(一) '住院“先诊疗、后付费”' is 住院 only; 四(二) '县域内贫困人口…“一站式”即时结算' names no kind of visit."""
    answer = evaluate(xianning, context(statuses=["registered_poor"], kind="outpatient"))
    assert answer.outcomes["pay_later"].value is False
    assert answer.outcomes["one_stop_settlement"].value is True


@pytest.mark.parametrize("statuses", [["rural_dibao"], ["destitute"], ["urban_dibao"], []])
def test_not_poor_no_pay_later(xianning, statuses):
    """四(一) '贫困人口…住院“先诊疗、后付费”': 低保 or 特困 alone is not 贫困人口 (建档立卡)."""
    answer = evaluate(xianning, context(statuses=statuses))
    assert answer.outcomes["pay_later"].value is False
    assert answer.outcomes["one_stop_settlement"].value is False


def test_lifted_out_counts_as_poor(xianning):
    """四(一) '贫困人口': a 脱贫 person stays on the register (CONTRACT), so is covered."""
    answer = evaluate(xianning, context(statuses=["lifted_out_of_poverty"]))
    assert answer.outcomes["pay_later"].value is True
    assert answer.outcomes["reimbursement_layers"].value == LAYERS


def test_statuses_absent_unknown_with_missing(xianning):
    """四(一) '贫困人口': statuses absent leave pay-later and the layers undecided."""
    answer = evaluate(xianning, context())
    for name in ("pay_later", "one_stop_settlement", "reimbursement_layers"):
        assert answer.outcomes[name].value is None, name
        assert tuple(answer.outcomes[name].missing) == ("person.statuses",), name


def test_notice_has_no_default_exception(xianning):
    """四(一) '严格落实…“先诊疗、后付费”' names no loss for arrears: a past default changes nothing."""
    assert outcome(xianning, "pay_later", statuses=["registered_poor"], default=True).value is True


def test_deposit_exemption_not_addressed(xianning):
    """四(一) says '先诊疗、后付费' but never mentions 住院押金: deposit_exempt is not answered."""
    answer = evaluate(xianning, context(statuses=["registered_poor"]))
    assert "deposit_exempt" not in answer.outcomes


# ------------------------------------------------------------------ 四(二) 三项制度 (reimbursement layers)


def test_reimbursement_layers_for_the_poor(xianning):
    """四(二) '将贫困人口纳入三项制度覆盖范围…基本医保、大病保险、医疗救助“一站式”即时结算', in that order."""
    out = outcome(xianning, "reimbursement_layers", statuses=["registered_poor"])
    assert out.value == LAYERS
    assert "supplementary" not in out.value  # '确保年底前平稳过渡到三项制度框架内'
    assert any("三项制度" in c.quote for c in out.citations)


# ------------------------------------------------------------------ 三(一) 大病专项救治


@pytest.mark.parametrize("code", ["C16.900", "I63.9", "F20.0", "I05.0"])
def test_poor_with_a_national_30_disease(xianning, code):
    """三(一) '农村贫困人口大病专项救治病种增加到30种,做到“应治尽治”'."""
    assert outcome(xianning, "major_disease_treatment", statuses=["registered_poor"], diagnoses=[code]).value is True


def test_poor_outside_the_30_unknown_because_counties_may_add(xianning):
    """三(一) '各地可结合本地实际,将本地区多发…重大疾病纳入专项救治病种范围': none is named, so it is open."""
    out = outcome(xianning, "major_disease_treatment", statuses=["registered_poor"], diagnoses=["K35.8"])
    assert out.value is None
    assert tuple(out.missing) == () and len(out.not_given) > 0


def test_non_poor_major_disease_false(xianning):
    """三(一) '农村贫困人口大病专项救治': a non-poor cancer patient is outside it."""
    assert outcome(xianning, "major_disease_treatment", statuses=[], diagnoses=["C16.900"]).value is False


@pytest.mark.parametrize("age,expected", [(10, True), (16, None), (30, None)])
def test_childhood_leukaemia_by_age(xianning, age, expected):
    """三(一) '30种' (national 儿童白血病): 10 is a child; 16 is not settled; at 30 only a county addition could cover it."""
    out = outcome(xianning, "major_disease_treatment", statuses=["registered_poor"],
                  diagnoses=["C92.0"], age=age)
    assert out.value is expected
    if expected is None:
        assert tuple(out.missing) == () and len(out.not_given) > 0


# ------------------------------------------------------------------ 三(二) 签约服务


@pytest.mark.parametrize("code", ["I10", "E11.9", "A15.0", "A16.2", "F31.1"])
def test_poor_with_one_of_the_four_chronic_diseases(xianning, code):
    """三(二) '对患有原发性高血压、Ⅱ型糖尿病、肺结核和严重精神障碍等4类慢性病贫困患者做到“应签尽签”'."""
    out = outcome(xianning, "chronic_disease_contract", statuses=["registered_poor"], diagnoses=[code])
    assert out.value is True


@pytest.mark.parametrize(
    "code", ["E10.9", "I15.0", "A18.0", "J44.9"],
    ids=["type1-diabetes", "secondary-hypertension", "bone-tb", "copd"],
)
def test_poor_with_other_diseases_no_chronic_contract(xianning, code):
    """三(二) '原发性高血压、Ⅱ型糖尿病、肺结核…等4类': type 1 diabetes, secondary hypertension, bone TB, COPD are not the 4."""
    out = outcome(xianning, "chronic_disease_contract", statuses=["registered_poor"], diagnoses=[code])
    assert out.value is False


def test_family_doctor_for_registered_poor(xianning):
    """三(二) '继续做好建档立卡贫困人口签约服务工作'."""
    assert outcome(xianning, "family_doctor_priority", statuses=["registered_poor"]).value is True
    assert outcome(xianning, "family_doctor_priority", statuses=["rural_dibao"]).value is False


def test_not_addressed_outcomes(xianning):
    """五(三) '妇女“两癌”检查等公共卫生项目' names no eligible women; the notice grants no free TB drugs."""
    answer = evaluate(xianning, context(statuses=["registered_poor"], diagnoses=["A15.0"]))
    assert "two_cancer_screening" not in answer.outcomes
    assert "free_tb_treatment" not in answer.outcomes


# ------------------------------------------------------------------ period (2020年04月29日, 2020年工作要点)


@pytest.mark.parametrize("date", ["2020-04-28", "2021-01-01"])
def test_outside_2020_no_policy(policy_set, date):
    """'发文日期: 2020年04月29日', '咸宁市2020年健康扶贫工作要点': before issue or after 2020 nothing applies."""
    with pytest.raises(policyrules.NoPolicyError):
        policy_set.evaluate(context(statuses=["registered_poor"], insured=JIAYU, date=date))


@pytest.mark.parametrize("date", ["2020-04-29", "2020-12-31"])
def test_inside_2020_the_set_picks_xianning(policy_set, date):
    """'发文日期: 2020年04月29日', '2020年': first and last day of the period."""
    answer = evaluate(policy_set, context(statuses=["registered_poor"], insured=JIAYU, date=date))
    assert answer.to_dict()["policy"]["document"] == DOCUMENT
    assert answer.outcomes["pay_later"].value is True
