"""Conditions of a rule: ``when:`` in a policy file -> the model's condition nodes.

`ConditionReader` is the part of the policy file reader that reads conditions; it needs the
names the file defines (status groups, catalogs, institution lists) to resolve references.
A field condition is read by the method its field's kind calls for (`CONDITION_READERS`).
"""

from __future__ import annotations

from collections.abc import Callable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..fields import Choice, Diagnoses, FieldKind, Flag, HouseholdStatuses, InstitutionName, Region, Statuses, WholeYears
from ..model import (
    AgeRange,
    AllOf,
    AnyOf,
    Catalog,
    Condition,
    DiagnosisIn,
    FieldIs,
    InCounty,
    InstitutionIn,
    InstitutionList,
    Not,
    NotGiven,
    StatusAny,
    StatusGroup,
)
from ..suggest import did_you_mean
from ..vocabulary import CONTEXT_FIELDS, HOUSEHOLD_STATUSES, STATUSES
from .catalogs import CatalogLibrary
from .nodes import NodeReader, describe_node
from .sections import SECTIONS

__all__ = ["CONDITION_READERS", "ConditionReader"]

#: The words that are not fields but condition forms.
FORMS = ("all", "any", "not", "in_county", "not_given")


class ConditionReader(NodeReader):
    """Reads conditions, resolving the names this file defines (set by the policy reader)."""

    status_groups: dict[str, StatusGroup]
    catalogs: dict[str, Catalog]
    lists: dict[str, InstitutionList]
    library: CatalogLibrary
    #: Names whose definition had a problem (already reported): references to them are not.
    broken: set[str]

    def status_list(self, node: Node) -> frozenset[str] | None:
        found: set[str] = set()
        ok = True
        for item, value in self.texts(node, "statuses", allow_empty=False):
            if value not in STATUSES:
                ok = False
                self.error(
                    item,
                    f"身份 '{value}' 不在 CONTRACT 的身份列表中。",
                    f"Unknown status '{value}'.",
                    did_you_mean(value, STATUSES) or f"Known statuses: {', '.join(STATUSES)}.",
                )
            found.add(value)
        return frozenset(found) if ok and found else None

    def when(self, node: Node) -> Condition | None:
        if isinstance(node, SequenceNode):
            items = [self.condition(item) for item in self.sequence(node, "when") or []]
            if not items or any(item is None for item in items):
                return None
            if len(items) == 1:
                return items[0]
            return AllOf(tuple(i for i in items if i is not None), span=self.span(node))
        return self.condition(node)

    def condition(self, node: Node) -> Condition | None:
        if not isinstance(node, MappingNode):
            self.error(
                node,
                "条件应写成“字段: 值”的形式。",
                f"A condition must be written 'field: value', not {describe_node(node)}.",
                "For example '- encounter.kind: inpatient'.",
            )
            return None
        pairs = [(k, v) for k, v in node.value if not (isinstance(k, ScalarNode) and k.value == "note")]
        if len(pairs) != 1:
            self.error(
                node,
                "每个条件只能写一个“字段: 值”（多个条件请各占一行，以 '- ' 开头）。",
                "A condition has exactly one 'field: value'; put each condition on its own "
                "'- ' line.",
            )
            return None
        key_node, value = pairs[0]
        key = str(key_node.value)
        span = self.span(key_node)
        if key in ("all", "any"):
            items = [self.condition(item) for item in self.sequence(value, key) or []]
            if not items or any(item is None for item in items):
                return None
            clean = tuple(i for i in items if i is not None)
            return AllOf(clean, span=span) if key == "all" else AnyOf(clean, span=span)
        if key == "not":
            inner = self.condition(value)
            return Not(inner, span=span) if inner is not None else None
        if key == "in_county":
            flag = self.boolean(value, "in_county")
            return InCounty(flag, span=span) if flag is not None else None
        if key == "not_given":
            text = self.text(value, "not_given")
            return NotGiven(text, span=span) if text else None
        if key not in CONTEXT_FIELDS:
            choices = [*CONTEXT_FIELDS, *FORMS]
            self.error(
                key_node,
                f"条件里的字段 '{key}' 不存在。",
                f"Unknown condition field '{key}'.",
                did_you_mean(key, choices) or f"Fields: {', '.join(choices)}.",
            )
            return None
        return self.field_condition(key, key_node, value)

    def field_condition(self, field: str, key_node: Node, value: Node) -> Condition | None:
        kind = CONTEXT_FIELDS[field].kind
        read = CONDITION_READERS.get(type(kind))
        if read is None:
            hint = "use 'in_county: true'" if isinstance(kind, Region) else "it cannot be tested by a rule"
            self.error(
                key_node,
                f"字段 '{field}' 不能直接作为条件。",
                f"The field '{field}' cannot be a condition ({hint}).",
            )
            return None
        return read(self, field, kind, key_node, value)

    def statuses_condition(self, field: str, kind: FieldKind, key_node: Node, value: Node) -> Condition | None:
        span = self.span(key_node)
        keys = self.mapping(value, field, *SECTIONS["statuses_condition"])
        if not keys or "any_of" not in keys:
            return None
        target = keys["any_of"][1]
        if isinstance(target, ScalarNode):
            name = str(target.value)
            group = self.status_groups.get(name)
            if group is None and name in self.broken:
                return None
            if group is None:
                self.error(
                    target,
                    f"找不到身份组 '{name}'。",
                    f"There is no status group '{name}' in status_groups.",
                    did_you_mean(name, self.status_groups)
                    or ("Define it under status_groups, or list statuses here."
                        if name not in STATUSES else f"Write a list: [{name}]."),
                )
                return None
            return StatusAny(group.statuses, name, span=span)
        statuses = self.status_list(target)
        return StatusAny(statuses, None, span=span) if statuses else None

    def household_statuses_condition(self, field: str, kind: FieldKind, key_node: Node,
                                     value: Node) -> Condition | None:
        """A condition on the household's own statuses (an outcome granted to the household)."""
        condition = self.statuses_condition(field, kind, key_node, value)
        if not isinstance(condition, StatusAny):
            return None
        own = sorted(condition.statuses - frozenset(HOUSEHOLD_STATUSES))
        if own:
            self.error(
                key_node,
                f"身份 {', '.join(own)} 是个人的身份，户不会有。",
                f"{', '.join(own)} {'is a' if len(own) == 1 else 'are'} person's own "
                "status, which no household holds.",
                "Test it with person.statuses, or keep only household statuses here: "
                + ", ".join(HOUSEHOLD_STATUSES) + ".",
            )
            return None
        return StatusAny(condition.statuses, condition.group, "household", span=condition.span)

    def age_condition(self, field: str, kind: FieldKind, key_node: Node, value: Node) -> Condition | None:
        span = self.span(key_node)
        keys = self.mapping(value, field, *SECTIONS["age_condition"])
        if not keys:
            if keys == {}:
                self.error(value, "年龄条件是空的。", "The age condition is empty.",
                           "Use at_least, at_most, between, above or below.")
            return None
        low: int | None = None
        high: int | None = None
        lows = [k for k in ("at_least", "above", "between") if k in keys]
        highs = [k for k in ("at_most", "below", "between") if k in keys]
        for bounds in (lows, highs):
            if len(bounds) > 1:
                self.error(
                    keys[bounds[1]][0],
                    f"年龄条件同时写了 {' 和 '.join(bounds)}，只能写一个。",
                    f"The age condition gives both {' and '.join(bounds)}; give one.",
                )
                return None
        if "at_least" in keys:
            low = self.integer(keys["at_least"][1], "at_least", 0, 150)
        if "above" in keys:
            above = self.integer(keys["above"][1], "above", 0, 150)
            low = None if above is None else above + 1
        if "at_most" in keys:
            high = self.integer(keys["at_most"][1], "at_most", 0, 150)
        if "below" in keys:
            below = self.integer(keys["below"][1], "below", 0, 150)
            high = None if below is None else below - 1
        if "between" in keys:
            pair = self.sequence(keys["between"][1], "between") or []
            if len(pair) != 2:
                self.error(keys["between"][1], "between 需要两个数：[最小, 最大]。",
                           "between needs two numbers: [lowest, highest], both included.")
                return None
            low = self.integer(pair[0], "between", 0, 150)
            high = self.integer(pair[1], "between", 0, 150)
        if low is not None and high is not None and high < low:
            self.error(value, "年龄下限大于上限。", "The lowest age is above the highest.")
            return None
        if low is None and high is None:
            return None
        return AgeRange(low, high, span=span)

    def catalog_condition(self, field: str, kind: FieldKind, key_node: Node, value: Node) -> Condition | None:
        span = self.span(key_node)
        keys = self.mapping(value, field, *SECTIONS["diagnoses_condition"])
        if not keys:
            return None
        catalog = self.text(keys["any_in"][1], "any_in")
        if catalog is None:
            return None
        name = catalog
        if name not in self.catalogs and name in self.broken:
            return None
        if name not in self.catalogs:
            self.error(
                keys["any_in"][1],
                f"找不到目录 '{name}'（要先在 catalogs 中定义）。",
                f"There is no catalog '{name}' in this file's catalogs.",
                did_you_mean(name, self.catalogs)
                or ("Add it under catalogs with 'include: [" + name + "]'."
                    if name in self.library.names() else ""),
            )
            return None
        return DiagnosisIn(name, span=span)

    def institution_condition(self, field: str, kind: FieldKind, key_node: Node, value: Node) -> Condition | None:
        span = self.span(key_node)
        keys = self.mapping(value, field, *SECTIONS["institution_condition"])
        if not keys:
            return None
        list_name = self.text(keys["in"][1], "in")
        if list_name is None:
            return None
        name = list_name
        if name not in self.lists and name in self.broken:
            return None
        if name not in self.lists:
            self.error(
                keys["in"][1],
                f"找不到机构名单 '{name}'。",
                f"There is no institution list '{name}' in institution_lists.",
                did_you_mean(name, self.lists),
            )
            return None
        return InstitutionIn(name, span=span)

    def values_condition(self, field: str, kind: FieldKind, key_node: Node, value: Node) -> Condition | None:
        span = self.span(key_node)
        vocabulary = CONTEXT_FIELDS[field].vocabulary
        items = value.value if isinstance(value, SequenceNode) else [value]
        values: set[str | bool] = set()
        for item in items:
            if isinstance(kind, Flag):
                flag = self.boolean(item, field)
                if flag is None:
                    return None
                values.add(flag)
                continue
            word = self.text(item, field)
            if word is None:
                return None
            if word not in vocabulary:
                self.error(
                    item,
                    f"'{word}' 不是 {field} 的取值。",
                    f"'{word}' is not a value of {field}; one of {', '.join(vocabulary)}.",
                    did_you_mean(word, vocabulary),
                )
                return None
            values.add(word)
        if not values:
            self.error(value, "条件没有取值。", "The condition lists no value.")
            return None
        return FieldIs(field, frozenset(values), span=span)


ConditionRead = Callable[[ConditionReader, str, FieldKind, Node, Node], "Condition | None"]

#: How a condition on a field of each kind is read (a kind absent here cannot be a condition).
CONDITION_READERS: dict[type[FieldKind], ConditionRead] = {
    Statuses: ConditionReader.statuses_condition,
    WholeYears: ConditionReader.age_condition,
    Diagnoses: ConditionReader.catalog_condition,
    HouseholdStatuses: ConditionReader.household_statuses_condition,
    InstitutionName: ConditionReader.institution_condition,
    Choice: ConditionReader.values_condition,
    Flag: ConditionReader.values_condition,
}
