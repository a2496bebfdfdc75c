"""北塔区 2021 (邵北卫健字〔2021〕40号): scenarios written from the notice's own words.

Each test quotes the words of policies/sources/001_df8287ab396bc7a1.txt it checks. The
expected values come from the notice (and, for ages, CONTRACT / domain-facts §8), not from
policies/beita_2021.yaml; the YAML is only read for the outcome names.
"""

from __future__ import annotations

import pytest

import policyrules

from .scenarios import ABSENT, Scenario

DOCUMENT = "邵北卫健字〔2021〕40号"
BEITA = "430511"
DAXIANG = "430503"  # 大祥区, another district of 邵阳市
DATE = "2021-12-01"
LISTED = [  # 附件2, as printed
    "茶元街道社区卫生服务中心",
    "新滩镇街道社区卫生服务中心",
    "陈家桥卫生院",
    "状元洲社区卫生服务中心",
    "田江街道社区卫生服务中心",
    "邵阳市中医院北塔分院",
]

SCENARIO = Scenario(document=DOCUMENT, seed="001_df8287ab396bc7a1.txt", kind="inpatient", name="陈家桥卫生院", region=BEITA, insured=BEITA, date=DATE)
context, in_document, evaluate, outcome = (
    SCENARIO.context, SCENARIO.in_document, SCENARIO.evaluate, SCENARIO.outcome)
check_invariants = SCENARIO.check












# ------------------------------------------------------------------ three-valued.md worked table


def test_table_row1_destitute_inpatient_at_listed_institution(beita):
    """三(一)2 '县域内定点医疗机构住院先诊疗后付费政策保障对象调整为农村低保对象、特困人员…'."""
    out = outcome(beita, "pay_later", statuses=["destitute"])
    assert out.value is True and tuple(out.missing) == ()


def test_table_row2_statuses_absent_is_unknown(beita):
    """三(一)2 '保障对象调整为农村低保对象、特困人员…': without the statuses it cannot be told."""
    out = outcome(beita, "pay_later")
    assert out.value is None
    assert tuple(out.missing) == ("person.statuses",)


def test_table_row3_outpatient_is_false_even_with_statuses_absent(beita):
    """三(一)2 '住院先诊疗后付费': an outpatient visit is not 住院."""
    out = outcome(beita, "pay_later", kind="outpatient")
    assert out.value is False and tuple(out.missing) == ()


def test_table_row4_region_and_statuses_absent(beita):
    """三(一)2 '县域内定点医疗机构住院': 县域内 needs the institution's region, 对象 needs the statuses."""
    out = outcome(beita, "pay_later", region=ABSENT)
    assert out.value is None
    assert tuple(out.missing) == ("encounter.institution.region", "person.statuses")


def test_table_row5_unlisted_institution_is_false(beita):
    """附件2 '“先诊疗 后付费”区内定点医疗机构名单': a hospital not on the list is out."""
    out = outcome(beita, "pay_later", name="邵阳市中心医院")
    assert out.value is False and tuple(out.missing) == ()


def test_table_row6_default_on_past_bill_is_false(beita):
    """附件3 第六条 '住院医疗费用未结清或恶意拖欠住院费用的，今后甲方…不再享受“先诊疗后付费”政策'."""
    out = outcome(beita, "pay_later", statuses=["destitute"], default=True)
    assert out.value is False and tuple(out.missing) == ()
    assert any("不再享受" in c.quote for c in out.citations)


# ------------------------------------------------------------------ 先诊疗后付费 / 免交押金 (三(一)2, 附件2, 附件3)


@pytest.mark.parametrize("status", ["rural_dibao", "destitute", "monitored"])
@pytest.mark.parametrize("name", LISTED)
def test_each_group_at_each_listed_institution_pays_later_without_deposit(beita, status, name):
    """三(一)2 '农村低保对象、特困人员、纳入…监测范围的困难人员，患者入院时不需缴纳住院押金'; 附件2 the six."""
    answer = evaluate(beita, context(statuses=[status], name=name))
    assert answer.outcomes["pay_later"].value is True
    assert answer.outcomes["deposit_exempt"].value is True
    assert any(c.clause.startswith("三(一)2") for c in answer.outcomes["pay_later"].citations)


@pytest.mark.parametrize(
    "variant",
    ["陈家桥 卫生院", "陈家桥\u3000卫生院", " 陈家桥卫生院 ", "\u3000邵阳市中医院\u3000北塔分院", "茶元街道 社区卫生服务中心"],
)
def test_spaced_or_full_width_spaced_listed_name_still_matches(beita, variant):
    """附件2 lists '陈家桥卫生院', '邵阳市中医院北塔分院', '茶元街道社区卫生服务中心'; a space is not another name."""
    assert outcome(beita, "pay_later", statuses=["rural_dibao"], name=variant).value is True


@pytest.mark.parametrize("name", ["陈家桥卫生室", "邵阳市中医院", "北塔区人民医院"])
def test_near_miss_names_are_not_on_the_list(beita, name):
    """附件2 '区内定点医疗机构名单' names six; a village 卫生室 or the main 中医院 is not one of them."""
    out = outcome(beita, "pay_later", statuses=["rural_dibao"], name=name)
    assert out.value is False


def test_out_of_county_hospital_is_false(beita):
    """三(一)2 '我区将县域内定点医疗机构住院…': a 北塔 patient admitted in 大祥区 is out of county."""
    answer = evaluate(beita, context(statuses=["destitute"], region=DAXIANG))
    assert answer.outcomes["pay_later"].value is False
    assert answer.outcomes["deposit_exempt"].value is False


def test_patient_insured_elsewhere_is_not_under_this_notice(policy_set):
    """三(一)2 '我区将…保障对象调整为…': a 大祥区-insured patient in a 北塔 hospital is not 北塔's 对象."""
    with pytest.raises(policyrules.NoPolicyError):
        policy_set.evaluate(context(statuses=["destitute"], insured=DAXIANG))


def test_the_list_of_annex_2_settles_designation(beita):
    """附件2 '“先诊疗 后付费”区内定点医疗机构名单': the notice itself names the six 定点 institutions,
    so membership of the list decides, whatever `designated` says (three-valued.md's worked
    example answers true with `designated` absent)."""
    assert outcome(beita, "pay_later", statuses=["destitute"], designated=False).value is True
    assert outcome(beita, "pay_later", statuses=["destitute"], designated=None).value is True


def test_default_on_past_bill_also_ends_deposit_exemption(beita):
    """附件3 第六条 '不再享受“先诊疗后付费”政策'; 三(一)2 makes '入院时不需缴纳住院押金' part of that policy."""
    answer = evaluate(beita, context(statuses=["rural_dibao"], default=True))
    assert answer.outcomes["deposit_exempt"].value is False
    assert tuple(answer.outcomes["deposit_exempt"].missing) == ()


def test_no_default_on_file_keeps_pay_later(beita):
    """附件3 第六条 takes pay-later away only from one who '未结清或恶意拖欠'; false on file keeps it."""
    assert outcome(beita, "pay_later", statuses=["rural_dibao"], default=False).value is True


def test_default_decides_even_with_statuses_unknown(beita):
    """附件3 第六条 '今后甲方…不再享受': whoever he is, a defaulter no longer gets pay-later."""
    out = outcome(beita, "pay_later", default=True)
    assert out.value is False and tuple(out.missing) == ()


@pytest.mark.parametrize("statuses", [["lifted_out_of_poverty"], ["registered_poor"], ["urban_dibao"], []])
def test_groups_outside_the_three_do_not_pay_later(beita, statuses):
    """三(一)2 '保障对象调整为农村低保对象、特困人员、纳入…监测范围的困难人员': only these three."""
    answer = evaluate(beita, context(statuses=statuses))
    assert answer.outcomes["pay_later"].value is False
    assert answer.outcomes["deposit_exempt"].value is False


def test_lifted_out_who_is_also_rural_dibao_pays_later(beita):
    """三(一)2 '农村低保对象': a 脱贫 person who is also 农村低保 is covered as 低保."""
    assert outcome(beita, "pay_later", statuses=["lifted_out_of_poverty", "rural_dibao"]).value is True


# ------------------------------------------------------------------ 大病专项救治 (三(一)1, 三(一)4)


@pytest.mark.parametrize(
    "statuses,code",
    [(["lifted_out_of_poverty"], "C16.900"), (["rural_dibao"], "C34.1"), (["monitored"], "I21.0"),
     (["registered_poor"], "C50.9")],
)
def test_national_30_disease_is_decided_true(beita, statuses, code):
    """三(一)1 '继续做好 33 种大病专项救治工作…严防农村脱贫人口“因病返贫”'; 三(一)4 '农村低收入人口…落实大病专项救治'."""
    out = outcome(beita, "major_disease_treatment", statuses=statuses, diagnoses=[code], kind="outpatient")
    assert out.value is True


@pytest.mark.parametrize("residence,expected", [("rural", True), ("urban", False), (ABSENT, None)])
def test_destitute_must_be_rural_for_major_disease(beita, residence, expected):
    """三(一)4 '加强农村低收入人口健康帮扶。落实大病专项救治': a 特困 person is 农村 low-income only if rural."""
    out = outcome(beita, "major_disease_treatment", statuses=["destitute"], diagnoses=["C50.9"],
                  residence=residence)
    assert out.value is expected


def test_diagnosis_outside_national_30_is_unknown_with_not_given(beita):
    """三(一)1 '33 种大病': the notice does not list the 33, so pneumonia cannot be decided."""
    out = outcome(beita, "major_disease_treatment", statuses=["lifted_out_of_poverty"], diagnoses=["J18.9"])
    assert out.value is None
    assert tuple(out.missing) == ()
    assert len(out.not_given) > 0


@pytest.mark.parametrize("statuses", [[], ["urban_dibao"]])
def test_major_disease_not_for_people_outside_the_groups(beita, statuses):
    """三(一)1 '农村脱贫人口', 三(一)4 '农村低收入人口': a non-poor or urban 低保 person is neither."""
    out = outcome(beita, "major_disease_treatment", statuses=statuses, diagnoses=["C16.900"])
    assert out.value is False


def test_major_disease_statuses_unknown(beita):
    """三(一)1 '农村脱贫人口', 三(一)4 '农村低收入人口': with statuses absent it cannot be told (and a
    特困 person's 农村 is read from the residence)."""
    out = outcome(beita, "major_disease_treatment", diagnoses=["C16.900"])
    assert out.value is None and tuple(out.missing) == ("person.residence", "person.statuses")


@pytest.mark.parametrize("age,expected", [(10, True), (16, None), (30, None)])
def test_childhood_leukaemia_by_age(beita, age, expected):
    """三(一)1 '33 种大病' (national 儿童白血病): 10 is a child; 16 is not settled; at 30 only the unlisted 3 could cover it."""
    out = outcome(beita, "major_disease_treatment", statuses=["lifted_out_of_poverty"],
                  diagnoses=["C91.0"], age=age)
    assert out.value is expected
    if expected is None:
        assert tuple(out.missing) == () and len(out.not_given) > 0


def test_childhood_disease_with_age_unknown(beita):
    """三(一)1 '33 种大病' (儿童先心病): the age decides whether it is the 儿童 disease."""
    out = outcome(beita, "major_disease_treatment", statuses=["lifted_out_of_poverty"], diagnoses=["Q21.0"])
    assert out.value is None and "person.age" in out.missing


# ------------------------------------------------------------------ 慢病签约, 家庭医生签约 (三(一)1, 三(一)4, 附件1)


@pytest.mark.parametrize("code", ["I10", "E11.9", "A15.0", "F20.0"])
def test_lifted_out_with_one_of_the_four_chronic_diseases(beita, code):
    """三(一)1 '持续做好脱贫人口家庭医生签约服务…重点做好高血压、糖尿病、结核病、严重精神障碍等 4种主要慢病患者的规范管理'."""
    out = outcome(beita, "chronic_disease_contract", statuses=["lifted_out_of_poverty"], diagnoses=[code])
    assert out.value is True


def test_lifted_out_with_another_disease_has_no_chronic_contract(beita):
    """三(一)1 '等 4种主要慢病': appendicitis is not one of the four."""
    out = outcome(beita, "chronic_disease_contract", statuses=["lifted_out_of_poverty"], diagnoses=["K35.8"])
    assert out.value is False


def test_non_poor_hypertension_has_no_chronic_contract(beita):
    """三(一)1 '脱贫人口家庭医生签约服务': a person in none of the groups is not targeted."""
    assert outcome(beita, "chronic_disease_contract", statuses=[], diagnoses=["I10"]).value is False


@pytest.mark.parametrize("statuses", [["lifted_out_of_poverty"], ["rural_dibao"], ["monitored"]])
def test_family_doctor_priority_for_lifted_out_and_low_income(beita, statuses):
    """三(一)1 '持续做好脱贫人口家庭医生签约服务'; 三(一)4 '加强农村低收入人口健康帮扶…做实家庭医生签约服务'."""
    assert outcome(beita, "family_doctor_priority", statuses=statuses).value is True


def test_family_doctor_priority_never_no_for_others_and_unknown_without_statuses(beita):
    """三(一)1 '结合脱贫地区实际，逐步扩大签约服务重点人群范围': the range is widened to groups the
    notice does not name, so [] is unknown (not no), with the gap in not_given; absent statuses
    is unknown too."""
    out = outcome(beita, "family_doctor_priority", statuses=[])
    assert out.value is None and tuple(out.missing) == () and len(out.not_given) > 0
    out = outcome(beita, "family_doctor_priority")
    assert out.value is None and "person.statuses" in out.missing


# ------------------------------------------------------------------ 肺结核 (三(三)12)


def test_any_pulmonary_tb_patient_gets_free_drugs_whatever_the_status(beita):
    """三(三)12 '对肺结核患者免费提供抗痨药物治疗和随访检查': no status is asked."""
    out = outcome(beita, "free_tb_treatment", diagnoses=["A16.2"], kind="outpatient")
    assert out.value is True and tuple(out.missing) == ()


@pytest.mark.parametrize("code", ["E11.9", "A18.0"])
def test_not_pulmonary_tb_no_free_tb_drugs(beita, code):
    """三(三)12 '对肺结核患者': diabetes, or tuberculosis of bones and joints, is not 肺结核."""
    assert outcome(beita, "free_tb_treatment", diagnoses=[code]).value is False


def test_free_tb_unknown_without_diagnoses(beita):
    """三(三)12 '肺结核患者': with no diagnoses it cannot be told."""
    out = outcome(beita, "free_tb_treatment")
    assert out.value is None and tuple(out.missing) == ("encounter.diagnoses",)


# ------------------------------------------------------------------ 两癌 (三(三)13; 适龄 = 35–64, domain-facts §8)


@pytest.mark.parametrize("age,expected", [(34, False), (35, True), (64, True), (65, False)])
def test_two_cancer_age_edges_for_rural_women(beita, age, expected):
    """三(三)13 '农村适龄…妇女宫颈癌、乳腺癌免费检查'; 适龄 is 35–64 周岁 in the Hunan scheme."""
    out = outcome(beita, "two_cancer_screening", sex="female", residence="rural", age=age, statuses=[])
    assert out.value is expected


@pytest.mark.parametrize("birth_date,expected", [("1956-12-02", True), ("1956-12-01", False)])
def test_two_cancer_age_from_birth_date(beita, birth_date, expected):
    """三(三)13 '适龄': on 2021-12-01 one born 1956-12-02 is 64, one born 1956-12-01 is 65."""
    out = outcome(beita, "two_cancer_screening", sex="female", residence="rural", birth_date=birth_date)
    assert out.value is expected


def test_two_cancer_urban_dibao_woman_yes_other_urban_woman_no(beita):
    """三(三)13 '农村适龄和城镇低保适龄妇女': an urban woman needs 城镇低保."""
    assert outcome(beita, "two_cancer_screening", sex="female", residence="urban", age=50,
                   statuses=["urban_dibao"]).value is True
    assert outcome(beita, "two_cancer_screening", sex="female", residence="urban", age=50,
                   statuses=[]).value is False


def test_two_cancer_man_is_false(beita):
    """三(三)13 '适龄妇女': a man is not one."""
    assert outcome(beita, "two_cancer_screening", sex="male", residence="rural", age=50).value is False


def test_two_cancer_unknowns(beita):
    """三(三)13 '农村适龄和城镇低保适龄妇女': an urban woman's 低保 status, or a rural woman's age, must be known."""
    out = outcome(beita, "two_cancer_screening", sex="female", residence="urban", age=50)
    assert out.value is None and tuple(out.missing) == ("person.statuses",)
    out = outcome(beita, "two_cancer_screening", sex="female", residence="rural")
    assert out.value is None and tuple(out.missing) == ("person.age",)


# ------------------------------------------------------------------ period (发文 2021年11月5日) via the policy set


def test_before_the_notice_no_policy(policy_set):
    """Issued '2021年11月5日': a 北塔 admission on 2021-11-04 is under no shipped policy."""
    with pytest.raises(policyrules.NoPolicyError):
        policy_set.evaluate(context(statuses=["destitute"], date="2021-11-04"))


@pytest.mark.parametrize("date", ["2021-11-05", "2024-06-30", "2025-12-31"])
def test_from_the_notice_the_set_picks_beita(policy_set, date):
    """'2021年11月5日', '在 5 年过渡期内': from the issue date on, 北塔 patients are under 40号."""
    answer = policy_set.evaluate(context(statuses=["destitute"], date=date))
    check_invariants(answer)
    assert answer.to_dict()["policy"]["document"] == DOCUMENT
    assert answer.outcomes["pay_later"].value is True


def test_after_the_transition_period_no_policy(policy_set):
    """一(一) '在 5 年过渡期内' (2021-2025, policy.inferred): 2026-01-01 is outside 40号's period."""
    with pytest.raises(policyrules.NoPolicyError):
        policy_set.evaluate(context(statuses=["destitute"], date="2026-01-01"))


def test_bad_context_is_a_context_error(beita):
    """CONTRACT: a status outside the vocabulary is a ContextError, never ignored."""
    with pytest.raises(policyrules.ContextError):
        beita.evaluate(context(statuses=["dibao"]))


def test_two_cancer_rural_dibao_woman_is_rural_without_residence(beita):
    """三(三)13 '农村适龄和城镇低保适龄妇女': a 农村低保 woman of 50 is a 农村适龄妇女."""
    out = outcome(beita, "two_cancer_screening", sex="female", age=50, statuses=["rural_dibao"])
    assert out.value is True
