"""A condition in words, Chinese and English: what a reviewer reads beside the notice.

Pure functions of the model (no I/O, no template engine), so that the review page,
explanations and diffs say a rule the same way::

    >>> from policyrules.model import StatusAny
    >>> zh, en = describe(StatusAny(frozenset({"rural_dibao", "destitute"})), None)
    >>> zh
    '身份为 农村低保对象、特困人员（特困供养人员） 之一'
    >>> en
    'has one of the statuses: rural_dibao (农村低保对象), destitute (特困人员（特困供养人员）)'

Names the model refers to (status groups, catalogs, institution lists) are given with
their labels when ``model`` is passed, by id alone when it is ``None``.
"""

from __future__ import annotations

from .model import (
    AgeRange,
    AllOf,
    AnyOf,
    Condition,
    DiagnosisIn,
    Effect,
    FieldIs,
    InCounty,
    InstitutionIn,
    Not,
    NotGiven,
    PolicyModel,
    Rule,
    StatusAny,
)
from .vocabulary import LIST_OUTCOMES, OUTCOME_LABELS, STATUSES

__all__ = ["FIELD_WORDS", "VALUE_WORDS", "describe", "describe_items", "describe_rule", "describe_value"]

#: Context field -> (中文, English), for the fields a rule can test directly.
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "person.sex": ("性别", "sex"),
    "person.residence": ("户籍/居住地", "residence"),
    "person.insurance": ("参保类别", "insurance"),
    "encounter.kind": ("就诊类别", "kind of encounter"),
    "encounter.institution.level": ("就诊机构级别", "level of the institution"),
    "encounter.institution.designated": ("就诊机构为医保定点医疗机构", "the institution is designated (医保定点)"),
    "history.pay_later_default": ("有拖欠先诊疗后付费费用的记录",
                                  "has a record of an unpaid pay-later bill"),
}

#: (field, value) -> (中文, English).
VALUE_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("person.sex", "female"): ("女性", "female"),
    ("person.sex", "male"): ("男性", "male"),
    ("person.residence", "rural"): ("农村", "rural"),
    ("person.residence", "urban"): ("城镇", "urban"),
    ("person.insurance", "resident"): ("城乡居民医保", "resident insurance"),
    ("person.insurance", "employee"): ("职工医保", "employee insurance"),
    ("person.insurance", "none"): ("未参保", "not insured"),
    ("encounter.kind", "inpatient"): ("住院", "inpatient"),
    ("encounter.kind", "outpatient"): ("门诊", "outpatient"),
    ("encounter.institution.level", "village"): ("村级", "village"),
    ("encounter.institution.level", "township"): ("乡镇级", "township"),
    ("encounter.institution.level", "county"): ("县级", "county"),
    ("encounter.institution.level", "city"): ("市级", "city"),
    ("encounter.institution.level", "provincial"): ("省级", "provincial"),
}

_VALUE_ORDER = {key: n for n, key in enumerate(VALUE_WORDS)}
_STATUS_ORDER = {code: n for n, code in enumerate(STATUSES)}


def describe(condition: Condition, model: PolicyModel | None) -> tuple[str, str]:
    """``condition`` in words: (中文, English). Deterministic: sets are said in vocabulary order."""
    if isinstance(condition, FieldIs):
        return _field(condition)
    if isinstance(condition, StatusAny):
        return _statuses(condition, model)
    if isinstance(condition, AgeRange):
        return _age(condition)
    if isinstance(condition, DiagnosisIn):
        label = _label(model.catalogs.get(condition.catalog) if model else None)
        return (f"有一个诊断在目录「{label or condition.catalog}」中",
                f"a diagnosis is in the catalog {condition.catalog}" + (f" ({label})" if label else ""))
    if isinstance(condition, InstitutionIn):
        label = _label(model.institution_lists.get(condition.list_name) if model else None)
        return (f"就诊机构在名单「{label or condition.list_name}」上",
                f"the institution is on the list {condition.list_name}" + (f" ({label})" if label else ""))
    if isinstance(condition, InCounty):
        if condition.expected:
            return ("县域内就诊（就诊机构所在县 = 参保县）",
                    "in county: the institution is in the county the person is insured in")
        return ("县域外就诊（就诊机构所在县 ≠ 参保县）",
                "out of county: the institution is not in the county the person is insured in")
    if isinstance(condition, NotGiven):
        return (f"通知未说明（总是未知）：{condition.text}",
                f"not given by the document (always unknown): {condition.text}")
    if isinstance(condition, AllOf):
        parts = [_nested(item, model) for item in condition.items]
        return ("，并且".join(p[0] for p in parts), ", and ".join(p[1] for p in parts))
    if isinstance(condition, AnyOf):
        parts = [_nested(item, model) for item in condition.items]
        return ("以下至少一项：" + "；或者".join(p[0] for p in parts),
                "at least one of: " + "; or ".join(p[1] for p in parts))
    if isinstance(condition, Not):
        zh, en = _nested(condition.item, model)
        return f"并非：{zh}", f"not: {en}"
    raise TypeError(f"not a condition: {condition!r}")


def describe_items(condition: Condition, model: PolicyModel | None) -> list[tuple[str, str]]:
    """The parts that must all hold, each in words: a rule's ``when`` list read line by line
    (one item when the condition is not an `AllOf`)."""
    items = condition.items if isinstance(condition, AllOf) else (condition,)
    return [describe(item, model) for item in items]


def describe_value(rule: Rule) -> tuple[str, str] | None:
    """The value a list-outcome rule gives (and its target ratio), in words; None for a yes/no rule."""
    if rule.value is None:
        return None
    codes = LIST_OUTCOMES.get(rule.outcome, {})
    zh = " → ".join(codes.get(code, code) for code in rule.value)
    en = " → ".join(rule.value)
    if rule.target_ratio is not None:
        zh += f"（目标报销比例 {rule.target_ratio:.0%}）"
        en += f" (target ratio {rule.target_ratio:.0%})"
    return zh, en


def describe_rule(rule: Rule, model: PolicyModel | None) -> tuple[str, str]:
    """The whole rule as one sentence: 'if …, then …' (中文, English)."""
    zh, en = describe(rule.when, model)
    outcome_zh = OUTCOME_LABELS.get(rule.outcome, rule.outcome)
    value = describe_value(rule)
    if rule.effect is Effect.EXCEPTION:
        then_zh, then_en = f"不享受{outcome_zh}（例外）", f"{rule.outcome} is taken away (exception)"
    elif value is not None:
        then_zh, then_en = f"{outcome_zh}为 {value[0]}", f"{rule.outcome} is {value[1]}"
    else:
        then_zh, then_en = f"享受{outcome_zh}", f"{rule.outcome} is granted"
    return f"若{zh}，则{then_zh}。", f"If {en}, then {then_en}."


# ---------------------------------------------------------------- helpers


def _nested(condition: Condition, model: PolicyModel | None) -> tuple[str, str]:
    zh, en = describe(condition, model)
    if isinstance(condition, (AllOf, AnyOf)):
        return f"（{zh}）", f"({en})"
    return zh, en


def _label(named: object) -> str:
    return str(getattr(named, "label", "") or "")


def _field(condition: FieldIs) -> tuple[str, str]:
    field = condition.field
    name_zh, name_en = FIELD_WORDS.get(field, (field, field))
    flags = [v for v in condition.values if isinstance(v, bool)]
    if flags:  # a yes/no field: true reads as the field's words, false as their negation
        if set(flags) == {True, False}:
            return f"{name_zh}：是或否（已提供即可）", f"{name_en}: yes or no (given at all)"
        if flags[0]:
            return name_zh, name_en
        return f"并非{name_zh}", f"not: {name_en}"
    words = sorted((str(v) for v in condition.values), key=lambda v: (_VALUE_ORDER.get((field, v), 99), v))
    zh = "、".join(VALUE_WORDS.get((field, v), (v, v))[0] for v in words)
    en = " or ".join(VALUE_WORDS.get((field, v), (v, v))[1] for v in words)
    if len(words) == 1:
        return f"{name_zh}为{zh}", f"{name_en} is {en}"
    return f"{name_zh}为 {zh} 之一", f"{name_en} is {en}"


def _statuses(condition: StatusAny, model: PolicyModel | None) -> tuple[str, str]:
    codes = sorted(condition.statuses, key=lambda c: (_STATUS_ORDER.get(c, len(_STATUS_ORDER)), c))
    zh = "、".join(STATUSES.get(c, c) for c in codes)
    en = ", ".join(f"{c} ({STATUSES[c]})" if c in STATUSES else c for c in codes)
    group = model.status_groups.get(condition.group) if (model and condition.group) else None
    if len(codes) == 1:
        said_zh, said_en = f"身份为 {zh}", f"has the status {en}"
    else:
        said_zh, said_en = f"身份为 {zh} 之一", f"has one of the statuses: {en}"
    if group is not None:
        return (f"{said_zh}（身份组「{group.label}」）",
                f"{said_en} (status group {group.id}: {group.label})")
    if condition.group:
        return f"{said_zh}（身份组 {condition.group}）", f"{said_en} (status group {condition.group})"
    return said_zh, said_en


def _age(condition: AgeRange) -> tuple[str, str]:
    low, high = condition.at_least, condition.at_most
    if low is not None and high is not None:
        if low == high:
            return f"年龄为 {low} 周岁", f"aged {low}"
        return f"年龄 {low} 至 {high} 周岁（含两端）", f"aged {low} to {high} (both included)"
    if low is not None:
        return f"年龄 {low} 周岁以上（含 {low} 岁）", f"aged {low} or over"
    if high is not None:
        return f"年龄 {high} 周岁以下（含 {high} 岁）", f"aged {high} or under"
    return "年龄不限", "any age"
