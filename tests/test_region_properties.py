"""Region properties: what each shipped document says must hold for every patient, checked on
generated contexts (policyrules.testing).

Every property is written from a document in policies/sources/, not from the policy files: each
test names the clause and quotes the words it rests on, and each region's words are kept in the
tables below (test_quoted_words_are_in_the_documents checks they are in the document, verbatim up
to white space). A property runs only for the regions whose document says it.

Every evaluation goes through `policyrules.testing.answer`, which, where durable_rules runs (policyrules.engines.rete_runner.AVAILABLE),
also evaluates with the Rete engine and requires the same outcomes: so both engines agree on every
property's contexts.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policyrules
from policyrules.engines import rete_runner as rete
from policyrules.testing import (
    OPTIONAL_FIELDS,
    answer,
    fields_but,
    full_contexts,
    granting_statuses,
    omit_fields,
    towards_a_grant,
    with_status,
)

from .conftest import POLICIES

POLICY_IDS = sorted(p.stem for p in POLICIES.glob("*.yaml"))
LOADED = {pid: policyrules.load_policy(POLICIES / f"{pid}.yaml") for pid in POLICY_IDS}
OTHER_PROVINCE = "110101"  # 北京市东城区: out of county for every shipped region


class Words(NamedTuple):
    """A clause of a region's document and its words (as printed, OCR slips kept)."""

    clause: str
    quote: str


# ---------------------------------------------------------------- the documents' words, per region

#: 先诊疗后付费 means no admission deposit (the deposit sentence is the working-out of pay-later).
PAY_LATER_MEANS_NO_DEPOSIT: dict[str, Words] = {
    "beita_2021": Words("三(一)2", "县域内定点医疗机构住院先诊疗后付费政策保障对象调整为农村低保对象、特困人员、"
                                  "纳入民政和乡村振兴等部门农村低收入人口监测范围的困难人员，患者入院时不需缴纳住院押金"),
    "guyang_2020": Words("二(五)", "建档立卡贫困人口住院患者县域内住院时无需缴纳住院押金，只在出院时支付自负医疗费用部分"),
}

#: Benefits the document gives for a stay in hospital (住院) only.
INPATIENT_ONLY: dict[str, dict[str, Words]] = {
    "beita_2021": {
        "pay_later": Words("三(一)2", "我区将县域内定点医疗机构住院先诊疗后付费政策保障对象调整为"),
        "deposit_exempt": Words("三(一)2", "患者入院时不需缴纳住院押金"),
    },
    "guyang_2020": {
        "pay_later": Words("二(五)", "认真贯彻落实建档立卡贫困人口住院患者“先诊疗，后付费”和“一站式”结算政策"),
        "deposit_exempt": Words("二(五)", "建档立卡贫困人口住院患者县域内住院时无需缴纳住院押金"),
        "one_stop_settlement": Words("二(五)", "认真贯彻落实建档立卡贫困人口住院患者“先诊疗，后付费”和“一站式”结算政策"),
    },
    "xianning_2020": {
        "pay_later": Words("四(一)", "严格落实贫困人口县域内定点医疗机构住院“先诊疗、后付费”"),
    },
    "xuchang_2020": {
        "pay_later": Words("许昌 · 建立贫困人口医疗保障机制", "许昌市还实现贫困人口县域内住院“先诊疗后付费”和“一站式”就诊结算全覆盖"),
        "one_stop_settlement": Words("许昌 · 建立贫困人口医疗保障机制", "许昌市还实现贫困人口县域内住院“先诊疗后付费”和“一站式”就诊结算全覆盖"),
    },
}

#: Benefits the document gives 县域内 (in the person's own county) only.
IN_COUNTY_ONLY: dict[str, dict[str, Words]] = {
    "beita_2021": {
        "pay_later": Words("三(一)2", "我区将县域内定点医疗机构住院先诊疗后付费政策保障对象调整为"),
        "deposit_exempt": Words("三(一)2", "县域内定点医疗机构住院先诊疗后付费政策保障对象调整为农村低保对象、特困人员、"
                                           "纳入民政和乡村振兴等部门农村低收入人口监测范围的困难人员，患者入院时不需缴纳住院押金"),
    },
    "guyang_2020": {
        "pay_later": Words("二(五)", "巩固贫困人口县域内定点医疗机构住院“先诊疗后付费”和“一站式”结算机制"),
        "deposit_exempt": Words("二(五)", "建档立卡贫困人口住院患者县域内住院时无需缴纳住院押金"),
        "one_stop_settlement": Words("二(五)", "巩固贫困人口县域内定点医疗机构住院“先诊疗后付费”和“一站式”结算机制"),
    },
    "xianning_2020": {
        "pay_later": Words("四(一)", "严格落实贫困人口县域内定点医疗机构住院“先诊疗、后付费”"),
        "one_stop_settlement": Words("四(二)", "不断完善县域内贫困人口基本医保、大病保险、医疗救助“一站式”即时结算"),
    },
    "xuchang_2020": {
        "pay_later": Words("许昌 · 建立贫困人口医疗保障机制", "许昌市还实现贫困人口县域内住院“先诊疗后付费”和“一站式”就诊结算全覆盖"),
        "one_stop_settlement": Words("许昌 · 建立贫困人口医疗保障机制", "许昌市还实现贫困人口县域内住院“先诊疗后付费”和“一站式”就诊结算全覆盖"),
    },
}

#: Who the document treats for the major diseases (大病专项救治), and its words.
MAJOR_DISEASE_GROUPS: dict[str, tuple[tuple[str, ...], tuple[Words, ...]]] = {
    "beita_2021": (
        # a 特困 person is 农村低收入人口 only when rural (三(一)4), so destitute alone does not decide;
        # 继续 covers every 建档立卡 person, lifted out or not (三(一)1)
        ("registered_poor", "lifted_out_of_poverty", "rural_dibao", "monitored"),
        (Words("三(一)1", "继续做好 33 种大病专项救治工作。适时调整优化大病专项救治政策，严防农村脱贫人口“因病返贫”"),
         Words("三(一)4", "加强农村低收入人口健康帮扶。落实大病专项救治")),
    ),
    "guyang_2020": (
        ("registered_poor", "lifted_out_of_poverty"),
        (Words("二(四)", "排查管理的贫困人口患病情况，对患有32种大病的患者要进行集中救治工作"),),
    ),
    "xianning_2020": (
        ("registered_poor", "lifted_out_of_poverty"),
        (Words("三(一)", "农村贫困人口大病专项救治病种增加到30种,做到“应治尽治”"),),
    ),
    "xuchang_2020": (
        # 因病致贫户 are counted among the report's 贫困人口 ("未脱贫贫困人口中因病致贫户数…")
        ("registered_poor", "lifted_out_of_poverty", "illness_caused_poverty"),
        (Words("许昌 · 建立贫困人口救治机制", "许昌市卫生健康委对患有30种大病的贫困人口实行集中救治，确保“应治尽治、不落一人”"),),
    ),
    "xinyang_2020": (
        # the report counts 因病致贫(返贫)人口 among the poor it treats ("对因病致贫人口…登记")
        ("registered_poor", "lifted_out_of_poverty", "illness_caused_poverty"),
        (Words("信阳 · 健康扶贫工作向纵深推进", "为患30种大病的贫困人口建立专门台账，重点管理大病患者救治、医疗费用报销等情况，"
                                           "并对全市未脱贫人口中筛查出来的3000多名大病患者全部进行救治"),),
    ),
}

#: The words each document grants its benefits with: to groups (对…, 为…, 保障对象), never
#: withholding one from a member of a further group.
GRANTS_TO_GROUPS: dict[str, Words] = {
    "beita_2021": Words("三(一)2", "保障对象调整为农村低保对象、特困人员、纳入民政和乡村振兴等部门农村低收入人口监测范围的困难人员"),
    "guyang_2020": Words("二(二)", "实现常住贫困人口应签尽签"),
    "xianning_2020": Words("三(二)", "对患有原发性高血压、Ⅱ型糖尿病、肺结核和严重精神障碍等4类慢性病贫困患者做到“应签尽签”"),
    "xinyang_2020": Words("信阳 · 健康扶贫工作向纵深推进", "为患30种大病的贫困人口建立专门台账"),
    "xixian_2017": Words("政策解答 三", "初期阶段签约服务的重点对象为建档立卡贫困户、计划生育贫困家庭、65岁以上老年人、慢性病患者、"
                                      "学龄前儿童、孕产妇、严重精神障碍在家康复者、晚期肿瘤维持治疗患者、生活不便的残疾人、长期卧床者"),
    "xuchang_2020": Words("许昌 · 建立贫困人口医疗保障机制", "对建档立卡贫困人口等困难人员产生的医疗费用进行第四次报销"),
}

BEITA_DEFAULT = Words("附件3 第六条", "甲方出院时，住院医疗费用未结清或恶意拖欠住院费用的，今后甲方（及其委托人）不再享受“先诊疗后付费”政策。")
XIANNING_LAYERS = (Words("四(二)", "将贫困人口纳入三项制度覆盖范围"),
                   Words("四(二)", "统筹三项制度综合保障,梯次降低贫困人口负担"),
                   Words("四(二)", "县域内贫困人口基本医保、大病保险、医疗救助“一站式”即时结算"))
XUCHANG_RATIO = Words("许昌 · 建立贫困人口医疗保障机制",
                      "实施“医保帮扶计划”，对建档立卡贫困人口等困难人员产生的医疗费用进行第四次报销，把贫困人口医疗费用报销比例维持在90%")

ALL_WORDS: list[tuple[str, Words]] = [
    *((pid, w) for pid, w in PAY_LATER_MEANS_NO_DEPOSIT.items()),
    *((pid, w) for pid, table in INPATIENT_ONLY.items() for w in table.values()),
    *((pid, w) for pid, table in IN_COUNTY_ONLY.items() for w in table.values()),
    *((pid, w) for pid, (_, words) in MAJOR_DISEASE_GROUPS.items() for w in words),
    *((pid, w) for pid, w in GRANTS_TO_GROUPS.items()),
    ("beita_2021", BEITA_DEFAULT),
    *(("xianning_2020", w) for w in XIANNING_LAYERS),
    ("xuchang_2020", XUCHANG_RATIO),
]


# ---------------------------------------------------------------- helpers


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- the words are the documents'


@pytest.mark.parametrize(("pid", "words"), ALL_WORDS, ids=[f"{p}-{w.clause}" for p, w in ALL_WORDS])
def test_quoted_words_are_in_the_documents(pid: str, words: Words) -> None:
    """Every quote a property rests on is in its region's document (policy seed), as printed."""
    seed = LOADED[pid].model.meta.seed
    text = _compact((POLICIES / "sources" / seed).read_text(encoding="utf-8"))
    assert _compact(words.quote) in text, (pid, words.clause)


def test_every_region_answering_pay_later_or_major_disease_is_checked() -> None:
    """A region that answers pay_later must have its 住院 and 县域内 words here; one that answers
    major_disease_treatment, the group it treats (a new region adds its rows)."""
    for pid, policy in LOADED.items():
        outcomes = policy.model.outcomes()
        if "pay_later" in outcomes:
            assert "pay_later" in INPATIENT_ONLY.get(pid, {}), pid
            assert "pay_later" in IN_COUNTY_ONLY.get(pid, {}), pid
        if "major_disease_treatment" in outcomes:
            assert pid in MAJOR_DISEASE_GROUPS, pid


# ---------------------------------------------------------------- 先诊疗后付费 means no deposit


@pytest.mark.parametrize("pid", sorted(PAY_LATER_MEANS_NO_DEPOSIT))
def test_pay_later_means_no_deposit(pid: str) -> None:
    """北塔 三(一)2: "我区将县域内定点医疗机构住院先诊疗后付费政策保障对象调整为……，患者入院时不需缴纳住院押金";
    固阳 二(五): "建档立卡贫困人口住院患者县域内住院时无需缴纳住院押金，只在出院时支付自负医疗费用部分".

    Whoever gets pay-later pays no admission deposit: pay_later True implies deposit_exempt True.
    Half of the contexts are steered towards a grant (in-county inpatient, a granting status).
    """
    policy = LOADED[pid]
    statuses = granting_statuses(policy, "pay_later")

    @given(full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS)), st.booleans(), st.sampled_from(statuses))
    def check(flat: dict[str, Any], omitted: set[str], steer: bool, status: str) -> None:
        if steer:
            towards_a_grant(flat, status)
        result = answer(policy, omit_fields(flat, omitted))
        if result.value("pay_later") is True:
            assert result.value("deposit_exempt") is True, (PAY_LATER_MEANS_NO_DEPOSIT[pid], result.to_dict())

    check()


# ---------------------------------------------------------------- 住院 only


@pytest.mark.parametrize("pid", sorted(INPATIENT_ONLY))
def test_an_outpatient_visit_gets_no_inpatient_benefit(pid: str) -> None:
    """The documents give pay-later (and, where they name them, the deposit exemption and
    one-stop settlement) for a stay in hospital (住院) only:
    北塔 三(一)2 "县域内定点医疗机构住院先诊疗后付费", "患者入院时不需缴纳住院押金";
    固阳 二(五) "建档立卡贫困人口住院患者“先诊疗，后付费”和“一站式”结算政策", "住院患者县域内住院时无需缴纳住院押金";
    咸宁 四(一) "严格落实贫困人口县域内定点医疗机构住院“先诊疗、后付费”";
    许昌 "实现贫困人口县域内住院“先诊疗后付费”和“一站式”就诊结算全覆盖".

    An outpatient visit (encounter.kind: outpatient) gets none of them, whatever else is
    known: the value is False (decided), never True or unknown.
    """
    policy = LOADED[pid]
    table = INPATIENT_ONLY[pid]

    @given(full_contexts(policy), fields_but("encounter.kind"))
    def check(flat: dict[str, Any], omitted: set[str]) -> None:
        flat["encounter.kind"] = "outpatient"
        result = answer(policy, omit_fields(flat, omitted))
        for outcome, words in table.items():
            assert outcome in result.outcomes, (outcome, words)
            assert result.value(outcome) is False, (outcome, words, result[outcome])

    check()


# ---------------------------------------------------------------- 县域内 only


@pytest.mark.parametrize("pid", sorted(IN_COUNTY_ONLY))
def test_an_out_of_county_institution_gets_no_in_county_benefit(pid: str) -> None:
    """The documents give these benefits 县域内 only:
    北塔 三(一)2 "我区将县域内定点医疗机构住院先诊疗后付费政策保障对象调整为……患者入院时不需缴纳住院押金";
    固阳 二(五) "巩固贫困人口县域内定点医疗机构住院“先诊疗后付费”和“一站式”结算机制",
    "建档立卡贫困人口住院患者县域内住院时无需缴纳住院押金";
    咸宁 四(一) "严格落实贫困人口县域内定点医疗机构住院“先诊疗、后付费”", 四(二) "不断完善县域内贫困人口基本医保、
    大病保险、医疗救助“一站式”即时结算";
    许昌 "实现贫困人口县域内住院“先诊疗后付费”和“一站式”就诊结算全覆盖".

    With both regions given and different (another county of the same city, or another
    province), pay_later / deposit_exempt / one_stop_settlement are never True; being out of
    county is known, so the value is decided: False.
    """
    policy = LOADED[pid]
    table = IN_COUNTY_ONLY[pid]
    regions = [*sorted(policy.counties), OTHER_PROVINCE]

    @given(full_contexts(policy), fields_but("encounter.institution.region", "person.insured_region"), st.data())
    def check(flat: dict[str, Any], omitted: set[str], data: st.DataObject) -> None:
        insured = flat["person.insured_region"]
        flat["encounter.institution.region"] = data.draw(st.sampled_from([r for r in regions if r != insured]))
        result = answer(policy, omit_fields(flat, omitted))
        for outcome, words in table.items():
            assert outcome in result.outcomes, (outcome, words)
            assert result.value(outcome) is False, (outcome, words, result[outcome])

    check()


# ---------------------------------------------------------------- more statuses never take a benefit away


@pytest.mark.parametrize("pid", POLICY_IDS)
def test_adding_a_qualifying_status_never_takes_a_benefit_away(pid: str) -> None:
    """Each document grants its benefits to groups of people and withholds none from a member of
    a further group; e.g. 北塔 三(一)2 "保障对象调整为农村低保对象、特困人员、纳入民政和乡村振兴等部门农村低收入
    人口监测范围的困难人员"; 固阳 二(二) "实现常住贫困人口应签尽签"; 咸宁 三(二) "对患有原发性高血压、Ⅱ型糖尿病、
    肺结核和严重精神障碍等4类慢性病贫困患者做到“应签尽签”"; 许昌 "对建档立卡贫困人口等困难人员产生的医疗费用进行
    第四次报销"; 信阳 "为患30种大病的贫困人口建立专门台账"; 隰县 政策解答 三 "初期阶段签约服务的重点对象为建档立卡
    贫困户、计划生育贫困家庭、……". (Only a history fact takes a benefit away: 北塔 附件3 第六条.)

    With the status list given, adding a status the policy grants on never turns a True into
    False or unknown, for any outcome; a list outcome (reimbursement_layers) that had a value
    keeps every layer. Most contexts are steered towards a grant (an in-county inpatient stay
    with one granting status already), so that there are benefits to lose.
    """
    policy = LOADED[pid]
    statuses = granting_statuses(policy)
    assert statuses, pid

    @given(full_contexts(policy), fields_but("person.statuses"), st.sampled_from(statuses),
           st.sampled_from([None, *statuses]))
    def check(flat: dict[str, Any], omitted: set[str], status: str, steer: str | None) -> None:
        if steer is not None:
            towards_a_grant(flat, steer)
        before = answer(policy, omit_fields(flat, omitted))
        after = answer(policy, omit_fields(with_status(dict(flat), status), omitted))
        for outcome, was in before.outcomes.items():
            now = after[outcome].value
            if was.value is True:
                assert now is True, (outcome, status, after[outcome])
            elif isinstance(was.value, tuple):
                assert isinstance(now, tuple) and set(was.value) <= set(now), (outcome, status, after[outcome])

    check()


# ---------------------------------------------------------------- 北塔: a default ends pay-later


def test_beita_a_recorded_default_ends_pay_later() -> None:
    """北塔 附件3 第六条: "甲方出院时，住院医疗费用未结清或恶意拖欠住院费用的，今后甲方（及其委托人）不再享受
    “先诊疗后付费”政策。"

    With a default on file (history.pay_later_default: true), pay_later is False, whatever
    else is known; half of the contexts would otherwise be granted it.
    """
    policy = LOADED["beita_2021"]
    statuses = granting_statuses(policy, "pay_later")

    @given(full_contexts(policy), fields_but("history.pay_later_default"), st.booleans(), st.sampled_from(statuses))
    def check(flat: dict[str, Any], omitted: set[str], steer: bool, status: str) -> None:
        if steer:
            towards_a_grant(flat, status)
        flat["history.pay_later_default"] = True
        result = answer(policy, omit_fields(flat, omitted))
        assert result.value("pay_later") is False, (BEITA_DEFAULT, result["pay_later"])

    check()


# ---------------------------------------------------------------- reimbursement layers


def test_xianning_the_poor_are_settled_by_the_three_systems() -> None:
    """咸宁 四(二): "将贫困人口纳入三项制度覆盖范围", "统筹三项制度综合保障,梯次降低贫困人口负担", "不断完善县域内
    贫困人口基本医保、大病保险、医疗救助“一站式”即时结算".

    For a registered poor person (or one lifted out, who stays registered), whatever else is
    known, reimbursement_layers is the three 三项制度 layers in the order the notice names them:
    基本医保, 大病保险, 医疗救助; the notice gives no target ratio.
    """
    policy = LOADED["xianning_2020"]
    three = ("basic_medical_insurance", "critical_illness_insurance", "medical_assistance")

    @given(full_contexts(policy), fields_but("person.statuses"), st.sampled_from(["registered_poor", "lifted_out_of_poverty"]))
    def check(flat: dict[str, Any], omitted: set[str], status: str) -> None:
        result = answer(policy, omit_fields(with_status(flat, status), omitted))
        assert result.value("reimbursement_layers") == three, (XIANNING_LAYERS, result["reimbursement_layers"])
        assert result["reimbursement_layers"].target_ratio is None

    check()


def test_xuchang_the_poor_have_a_fourth_reimbursement_at_90_percent() -> None:
    """许昌 · 建立贫困人口医疗保障机制: "实施“医保帮扶计划”，对建档立卡贫困人口等困难人员产生的医疗费用进行第四次
    报销，把贫困人口医疗费用报销比例维持在90%".

    For a registered poor person (or one lifted out), whatever else is known,
    reimbursement_layers has four layers, the fourth a supplementary one (第四次报销, the
    医保帮扶计划), and carries target_ratio 0.9.
    """
    policy = LOADED["xuchang_2020"]

    @given(full_contexts(policy), fields_but("person.statuses"), st.sampled_from(["registered_poor", "lifted_out_of_poverty"]))
    def check(flat: dict[str, Any], omitted: set[str], status: str) -> None:
        result = answer(policy, omit_fields(with_status(flat, status), omitted))
        layers = result["reimbursement_layers"]
        assert isinstance(layers.value, tuple) and len(layers.value) == 4, (XUCHANG_RATIO, layers)
        assert layers.value[3] == "supplementary", (XUCHANG_RATIO, layers)
        assert layers.target_ratio == 0.9, (XUCHANG_RATIO, layers)

    check()


# ---------------------------------------------------------------- 大病专项救治


@pytest.mark.parametrize("pid", sorted(MAJOR_DISEASE_GROUPS))
def test_gastric_cancer_decides_major_disease_treatment_for_the_poor(pid: str) -> None:
    """The documents treat the poor who have one of the national 30 major diseases (胃癌, C16, is
    one of them and not a 儿童 disease, so no age is needed):
    北塔 三(一)1 "继续做好 33 种大病专项救治工作。……严防农村脱贫人口“因病返贫”", 三(一)4 "加强农村低收入人口健康
    帮扶。落实大病专项救治"; 固阳 二(四) "排查管理的贫困人口患病情况，对患有32种大病的患者要进行集中救治工作";
    咸宁 三(一) "农村贫困人口大病专项救治病种增加到30种,做到“应治尽治”"; 许昌 "对患有30种大病的贫困人口实行集中
    救治"; 信阳 "为患30种大病的贫困人口建立专门台账，……并对全市未脱贫人口中筛查出来的3000多名大病患者全部进行救治".

    A person of the group the document names, diagnosed C16.900 (医保版 gastric cancer), gets
    major_disease_treatment True, whatever else is known (the 33 and 32 include the national
    30, so the provinces' unnamed additions do not matter).
    """
    policy = LOADED[pid]
    group, words = MAJOR_DISEASE_GROUPS[pid]

    @given(full_contexts(policy), fields_but("person.statuses", "encounter.diagnoses"), st.sampled_from(group),
           st.integers(0, 3))
    def check(flat: dict[str, Any], omitted: set[str], status: str, at: int) -> None:
        diagnoses = list(flat["encounter.diagnoses"])
        diagnoses.insert(min(at, len(diagnoses)), "C16.900")
        flat["encounter.diagnoses"] = diagnoses
        result = answer(policy, omit_fields(with_status(flat, status), omitted))
        assert result.value("major_disease_treatment") is True, (words, status, result["major_disease_treatment"])

    check()


# ---------------------------------------------------------------- both engines


@pytest.mark.skipif(not rete.AVAILABLE, reason=f"Rete not available: {rete.UNAVAILABLE_REASON}")
def test_the_properties_compare_both_engines() -> None:
    """Where Rete runs, `answer` (used by every property above) evaluates with it too; this test
    only shows, as a skip, where it cannot (then the properties check the reference engine alone)."""
    policy = LOADED["beita_2021"]
    context = {"person": {"statuses": ["destitute"], "insured_region": "430511"},
               "encounter": {"kind": "inpatient", "date": "2022-03-01",
                             "institution": {"name": "陈家桥卫生院", "region": "430511"}}}
    assert answer(policy, context).value("pay_later") is True
    assert policy.evaluate(context, engine="rete").engine == "rete"
