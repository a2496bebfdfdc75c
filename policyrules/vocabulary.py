"""The names of the CONTRACT (docs/contract.md): context fields, statuses, outcomes, layer codes.

Hospital systems are written against these names. They are never renamed or given another
meaning; new optional ones may be added.
"""

from __future__ import annotations

from typing import Final

import attrs

from .fields import (
    Choice,
    ContextField,
    Date,
    Diagnoses,
    Flag,
    HouseholdStatuses,
    InstitutionName,
    RecordId,
    Region,
    Statuses,
    Text,
    WholeYears,
)

__all__ = [
    "BOOLEAN_OUTCOMES",
    "CONTEXT_FIELDS",
    "HISTORY_FIELDS",
    "LAYERS",
    "LIST_OUTCOMES",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "STATUSES",
    "STATUS_IMPLIES",
    "HOUSEHOLD_OUTCOMES",
    "HOUSEHOLD_STATUSES",
    "PASSING_STATUSES",
    "StatusHolder",
]

#: Status code -> 中文.
STATUSES: Final[dict[str, str]] = {
    "registered_poor": "建档立卡贫困人口",
    "lifted_out_of_poverty": "脱贫人口（已脱贫的建档立卡人口）",
    "rural_dibao": "农村低保对象",
    "urban_dibao": "城镇低保对象",
    "destitute": "特困人员（特困供养人员）",
    "monitored": "防返贫监测对象 / 农村低收入人口监测范围的困难人员",
    "illness_caused_poverty": "因病致贫、因病返贫",
    "family_planning_poor": "计划生育贫困家庭",
    "pregnant_or_postpartum": "孕产妇",
    "disabled_limited_mobility": "生活不便的残疾人",
    "bedridden": "长期卧床者",
    "advanced_cancer_maintenance": "晚期肿瘤维持治疗患者",
    "severe_mental_disorder_at_home": "严重精神障碍在家康复者",
    "disabled_elderly": "失能、半失能老年人",
}

@attrs.frozen
class StatusHolder:
    """Who holds a status: a household (``household=True``; and whether its members hold it by
    being members, ``passes``) or a person alone; ``source`` is the rule or document that says so."""

    household: bool
    passes: bool
    source: str


_PERSON = StatusHolder(False, False, "")

#: Statuses a household holds (the registers are kept by household), and whether each passes to
#: every member of the household. Every other status of `STATUSES` is a person's own: it cannot
#: stand in a household's list.
HOUSEHOLD_STATUSES: Final[dict[str, StatusHolder]] = {
    "registered_poor": StatusHolder(True, True, (
        "建档立卡 identifies 贫困户 by household and registers every member as 建档立卡贫困人口 "
        "(国开办发〔2014〕24号《扶贫开发建档立卡工作方案》: 以户为单位); 隰县 双签约: “建档立卡贫困户”")),
    "lifted_out_of_poverty": StatusHolder(True, True, (
        "贫困人口退出以户为单位 (中办发 厅字〔2016〕16号《关于建立贫困退出机制的意见》): a household "
        "lifted out is lifted out with all its members")),
    "monitored": StatusHolder(True, True, (
        "防返贫监测 is kept by household: 以家庭为单位 (国开发〔2020〕6号《关于建立防止返贫监测和帮扶机制"
        "的指导意见》); 咸宁 三(二): “通过监测预警确定的……贫困户”")),
    "rural_dibao": StatusHolder(True, True, (
        "最低生活保障 is granted to 共同生活的家庭 whose members' income is below the standard "
        "(《社会救助暂行办法》第九条): the members of a 低保户 are its 低保对象")),
    "urban_dibao": StatusHolder(True, True, (
        "最低生活保障 is granted to 共同生活的家庭 (《社会救助暂行办法》第九条), in town as in the country")),
    "illness_caused_poverty": StatusHolder(True, True, (
        "许昌 counts 因病致贫 by household and by person, the persons being those of the households: "
        "“因病致贫户数由原来的14390户降至现在的1631户3834人”")),
    "family_planning_poor": StatusHolder(True, True, (
        "计划生育贫困家庭 is a family's status, and 隰县 双签约 signs such families as it signs 建档立卡贫困户: "
        "“建档立卡贫困户、计划生育贫困家庭签约服务覆盖率达到95%以上”")),
}
#: The household statuses a member holds by being a member.
PASSING_STATUSES: Final[frozenset[str]] = frozenset(
    code for code, holder in HOUSEHOLD_STATUSES.items() if holder.passes
)


def holder_of(status: str) -> StatusHolder:
    """Who holds ``status`` (a person, unless `HOUSEHOLD_STATUSES` says a household)."""
    return HOUSEHOLD_STATUSES.get(status, _PERSON)


#: Every context field: dotted path -> its `ContextField` (kind, vocabulary, checks, schema).
CONTEXT_FIELDS: Final[dict[str, ContextField]] = {
    field.path: field
    for field in (
        ContextField("person.age", WholeYears()),
        ContextField("person.birth_date", Date()),
        ContextField("person.sex", Choice("female", "male")),
        ContextField("person.residence", Choice("rural", "urban")),
        ContextField("person.statuses", Statuses(STATUSES)),
        ContextField("person.insurance", Choice("resident", "employee", "none")),
        ContextField("person.insured_region", Region()),
        ContextField("encounter.kind", Choice("inpatient", "outpatient")),
        ContextField("encounter.date", Date()),
        ContextField("encounter.diagnoses", Diagnoses()),
        ContextField("encounter.institution.name", InstitutionName()),
        ContextField("encounter.institution.code", Text()),
        ContextField("encounter.institution.region", Region()),
        ContextField("encounter.institution.level", Choice("village", "township", "county", "city", "provincial")),
        ContextField("encounter.institution.designated", Flag()),
        ContextField("history.pay_later_default", Flag(), on_file=True),
        # added by the project (docs/contract.md, "Households")
        ContextField("household.id", RecordId()),
        ContextField("household.statuses", HouseholdStatuses(HOUSEHOLD_STATUSES, STATUSES)),
    )
}

#: Fields that are "what is on file": absent means nothing on file, not unknown.
HISTORY_FIELDS: Final[frozenset[str]] = frozenset(name for name, f in CONTEXT_FIELDS.items() if f.on_file)

#: A status that implies others (CONTRACT: a lifted-out person stays on the register).
STATUS_IMPLIES: Final[dict[str, frozenset[str]]] = {
    "lifted_out_of_poverty": frozenset({"registered_poor"}),
}

BOOLEAN_OUTCOMES: Final[tuple[str, ...]] = (
    "pay_later",
    "deposit_exempt",
    "one_stop_settlement",
    "major_disease_treatment",
    "chronic_disease_contract",
    "family_doctor_priority",
    "free_tb_treatment",
    "two_cancer_screening",
    # added by the project (docs/contract.md, "Additions"): optional, never renamed
    "free_health_check",
    "green_channel",
    "policy_contract",
    "maternal_hiv_service",
    # granted to a household as such (docs/contract.md, "Households"): they read household.* alone
    "household_signing_target",
    "household_policy_contract",
)

#: Reimbursement layer codes, in the order a bill is settled.
LAYERS: Final[dict[str, str]] = {
    "basic_medical_insurance": "基本医疗保险",
    "critical_illness_insurance": "大病保险",
    "medical_assistance": "医疗救助",
    "supplementary": "地方补充层次（如医保帮扶、兜底保障）",
}

#: Outcomes whose value is an ordered list of codes: outcome -> its codes, in their order.
LIST_OUTCOMES: Final[dict[str, dict[str, str]]] = {
    "reimbursement_layers": LAYERS,
    # added by the project (docs/contract.md, "Additions")
    "family_doctor_team": {
        "village_doctor": "乡村医生",
        "township_doctor": "乡镇卫生院临床医生（全科医生）",
        "county_specialist": "县级医院专科医生",
    },
    "visit_schedule": {
        "county_quarterly": "县级责任医生每季度一次",
        "township_monthly": "乡级责任医生每月一次",
        "village_weekly": "村级责任医生每周一次",
    },
}
OUTCOMES: Final[tuple[str, ...]] = BOOLEAN_OUTCOMES + tuple(LIST_OUTCOMES)
#: Outcomes granted to a household as such: their rules read household fields alone, and a
#: household's answer gives them once (`policyrules.households`).
HOUSEHOLD_OUTCOMES: Final[frozenset[str]] = frozenset({"household_signing_target", "household_policy_contract"})

OUTCOME_LABELS: Final[dict[str, str]] = {
    "pay_later": "先诊疗后付费",
    "deposit_exempt": "免交住院押金",
    "one_stop_settlement": "“一站式”即时结算",
    "major_disease_treatment": "大病专项救治",
    "chronic_disease_contract": "慢病签约服务",
    "family_doctor_priority": "家庭医生签约重点人群",
    "free_tb_treatment": "肺结核免费抗痨药物治疗",
    "two_cancer_screening": "宫颈癌、乳腺癌免费检查",
    "reimbursement_layers": "报销层次",
    "free_health_check": "免费健康体检",
    "green_channel": "就医转诊“绿色通道”",
    "policy_contract": "乡村干部政策保障签约",
    "family_doctor_team": "家庭医生签约服务团队组成",
    "visit_schedule": "签约责任医生巡诊频次",
    "maternal_hiv_service": "孕产妇艾滋病检测、转介或诊疗服务",
    "household_signing_target": "按户计的家庭医生签约服务覆盖率目标（户）",
    "household_policy_contract": "乡村干部对因病致贫返贫户入户拜访、政策保障签约（户）",
}
