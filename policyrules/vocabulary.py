"""The names of the CONTRACT (docs/contract.md): context fields, statuses, outcomes, layer codes.

Hospital systems are written against these names. They are never renamed or given another
meaning; new optional ones may be added.
"""

from __future__ import annotations

from typing import Final

from .fields import Choice, ContextField, Date, Diagnoses, Flag, InstitutionName, Region, Statuses, Text, WholeYears

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
}
