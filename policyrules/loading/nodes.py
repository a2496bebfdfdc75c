"""Reading positioned YAML nodes for policy staff: `NodeReader` checks each node's shape and
type and collects a positioned, bilingual problem for each mistake instead of raising.

Every file the package reads (policies, shared catalogs, YAML test cases) is read through it.
``mapping`` returns the keys of a mapping node; ``required``/``optional`` read one of them with
a reader method (``text``, ``date``, ``boolean``, …), so no caller writes
``self.text(keys["x"][1], "x") if "x" in keys else …``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem, SourceSpan
from ..regions import region_table
from ..suggest import closest, did_you_mean
from .reader import ReadResult

__all__ = ["Keys", "NodeReader", "describe_node", "is_null", "to_python"]

T = TypeVar("T")
D = TypeVar("D")

ID = re.compile(r"^[a-z][a-z0-9_]*$")
_REGION = re.compile(r"^[1-9][0-9]{5}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: Dates as people write them: 2021年11月5日, 2021.11.05, 2021/11/05, 2021-11-5.
_OTHER_DATE = re.compile(r"^\s*([0-9]{4})\s*[年./-]\s*([0-9]{1,2})\s*[月./-]\s*([0-9]{1,2})\s*[日号]?\s*$")


_RUN_DATE = re.compile(r"^\s*([0-9]{4})([0-9]{2})([0-9]{2})\s*$")


def _other_date(value: str) -> dt.date | None:
    """The real date ``value`` writes another way than YYYY-MM-DD, or None."""
    found = _OTHER_DATE.match(value) or _RUN_DATE.match(value)
    if not found:
        return None
    try:
        return dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        return None

#: The keys of a mapping node: key -> (key node, value node).
Keys = dict[str, tuple[Node, Node]]


#: The English descriptions a reader passes as ``where``, as a Chinese line says them (keys and
#: dotted fields are names and stay as they are written).
_WHERE_ZH = {
    "the policy file": "政策文件", "the catalog file": "目录文件", "the case file": "用例文件",
    "a rule": "规则", "a member": "名单成员", "a catalog entry": "目录条目", "a case": "用例",
}


def chinese_where(where: str) -> str:
    """``where`` for a Chinese line: 'a rule' -> 规则, 'an item of regions' -> regions 的一项."""
    if where.startswith("an item of "):
        return f"{chinese_where(where[len('an item of '):])} 的一项"
    if where.startswith("a name in "):
        return f"{chinese_where(where[len('a name in '):])} 中的名称"
    if where == "a region of 'regions'":
        return "regions 中的区划代码"
    return _WHERE_ZH.get(where, where)


class NodeReader:
    """Walks positioned nodes of one file, collecting problems instead of raising."""

    def __init__(self, read: ReadResult) -> None:
        self.read = read
        self.problems: list[Problem] = []

    def span(self, node: Node) -> SourceSpan:
        mark = node.start_mark
        return SourceSpan(self.read.path, mark.line + 1, mark.column + 1)

    def error(self, node: Node, chinese: str, english: str, suggestion: str = "") -> None:
        self.problems.append(self.read.at(node, f"{chinese}\n{english}", suggestion))

    def required(self, keys: Keys, key: str, read: Callable[..., T | None], *args: Any,
                 where: str | None = None) -> T | None:
        """``read`` (a reader method) of a required key's value; None when it is absent (the
        absence is already reported by ``mapping``) or wrong (reported by ``read``)."""
        if key not in keys:
            return None
        return read(keys[key][1], where or key, *args)

    def optional(self, keys: Keys, key: str, read: Callable[..., T | None], default: D, *args: Any,
                 where: str | None = None) -> T | D:
        """``read`` of an optional key's value, ``default`` when it is absent (or wrong: then the
        problem is reported and no model is built from it)."""
        if key not in keys:
            return default
        value = read(keys[key][1], where or key, *args)
        return default if value is None else value

    def mapping(
        self,
        node: Node,
        where: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> Keys | None:
        """The keys of a mapping node -> (key node, value node); None if not a mapping."""
        if not isinstance(node, MappingNode):
            self.error(
                node,
                f"{chinese_where(where)} 应该是“键: 值”形式的映射。",
                f"{where} must be a mapping of 'key: value' lines, not {describe_node(node)}.",
            )
            return None
        allowed = list(required) + list(optional)
        found: Keys = {}
        meant: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, "键必须是文字。", "A key must be plain text.")
                continue
            key = str(key_node.value)
            if key in found:
                first = found[key][0].start_mark.line + 1
                self.error(
                    key_node,
                    f"键 '{key}' 重复（第 {first} 行已有）。",
                    f"Duplicate key '{key}' in {where} (first written on line {first}).",
                    "Keep one of them: YAML would silently use only the last.",
                )
                continue
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                meant.update(m for m in [closest(key, allowed)] if m)
                meant.update(k for k in allowed if key.startswith(k))
                if any(ord(ch) > 0x2E80 for ch in key):
                    hint = (hint + " " if hint else "") + (
                        "The key has Chinese or full-width characters (such as '：' or '（'); "
                        "keys are written in English letters."
                    )
                self.error(
                    key_node,
                    f"{chinese_where(where)} 中没有 '{key}' 这个键。",
                    f"Unknown key '{key}' in {where}; allowed: {', '.join(allowed)}.",
                    hint,
                )
                continue
            found[key] = (key_node, value_node)
        for key in required:
            if key not in found and key not in meant:
                self.error(
                    node,
                    f"{chinese_where(where)} 缺少必填的 '{key}'。",
                    f"{where} is missing the required key '{key}'.",
                )
        return found

    def text(self, node: Node, where: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f"{chinese_where(where)} 应该是一段文字。", f"{chinese_where(where)} must be text, not {describe_node(node)}.")
            return None
        value = str(node.value)
        if not allow_empty and not value.strip():
            self.error(node, f"{chinese_where(where)} 不能为空。", f"{chinese_where(where)} must not be empty.")
            return None
        return value

    def identifier(self, node: Node, where: str, pattern: re.Pattern[str] = ID) -> str | None:
        value = self.text(node, where)
        if value is not None and not pattern.match(value):
            self.error(
                node,
                f"{chinese_where(where)} '{value}' 只能用小写英文字母、数字和下划线。",
                f"{where} '{value}' must be lower-case English letters, digits and '_' "
                "(Chinese names go in 'label').",
            )
            return None
        return value

    def date(self, node: Node, where: str) -> dt.date | None:
        value = self.text(node, where)
        if value is None:
            return None
        try:
            if not _DATE.match(value.strip()):
                raise ValueError(value)
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            written = _other_date(value)
            if written is not None:
                self.error(
                    node,
                    f"{chinese_where(where)} '{value}' 应该写成 YYYY-MM-DD 形式。",
                    f"{where} '{value}' must be written in the form YYYY-MM-DD.",
                    f"Write {written.isoformat()}.",
                )
                return None
            self.error(
                node,
                f"{chinese_where(where)} '{value}' 不是一个存在的日期（格式 YYYY-MM-DD）。",
                f"{where} '{value}' is not a real date in the form YYYY-MM-DD.",
                "Check the month and the day (for example 2021-02-30 does not exist).",
            )
            return None

    def integer(self, node: Node, where: str, low: int, high: int) -> int | None:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            value = int(node.value)
            if low <= value <= high:
                return value
        self.error(
            node,
            f"{chinese_where(where)} 应该是 {low} 到 {high} 之间的整数。",
            f"{where} must be a whole number from {low} to {high}.",
        )
        return None

    def number(self, node: Node, where: str) -> float | None:
        if isinstance(node, ScalarNode) and node.tag in (
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        ):
            value = float(node.value)
            if 0 <= value <= 1:
                return value
        self.error(
            node,
            f"{chinese_where(where)} 应该是 0 到 1 之间的小数（如 90% 写作 0.9）。",
            f"{where} must be a ratio from 0 to 1 (write 90% as 0.9).",
        )
        return None

    def boolean(self, node: Node, where: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return str(node.value).lower() in ("true", "yes", "on")
        self.error(node, f"{chinese_where(where)} 应该是 true 或 false。", f"{chinese_where(where)} must be true or false.")
        return None

    def sequence(self, node: Node, where: str, allow_empty: bool = False) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(
                node,
                f"{chinese_where(where)} 应该是一个列表（每项以 '- ' 开头）。",
                f"{where} must be a list (items start with '- '), not {describe_node(node)}.",
            )
            return None
        if not allow_empty and not node.value:
            self.error(node, f"{chinese_where(where)} 不能是空列表。", f"{chinese_where(where)} must not be an empty list.")
            return None
        return list(node.value)

    def texts(self, node: Node, where: str, allow_empty: bool = True) -> list[tuple[Node, str]]:
        items = self.sequence(node, where, allow_empty=allow_empty) or []
        out = []
        for item in items:
            value = self.text(item, f"an item of {where}")
            if value is not None:
                out.append((item, value))
        return out

    def region(self, node: Node, where: str) -> str | None:
        if not isinstance(node, ScalarNode):
            self.error(node, f"{chinese_where(where)} 应该是六位区划代码。", f"{chinese_where(where)} must be a six-digit region code.")
            return None
        value = str(node.value)
        table = region_table()
        if not _REGION.match(value) or value not in table.regions:
            self.error(
                node,
                f"区划代码 '{value}' 不在区划代码表中。",
                f"Unknown region code '{value}' (not in policyrules/data/regions.yaml, "
                f"'{table.source}', as of {table.as_of}).",
                did_you_mean(value, table.regions)
                or "Add the region to policyrules/data/regions.yaml with its source, or fix the code.",
            )
            return None
        return value


def describe_node(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing (empty)"
    return f"'{node.value}'"



def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def to_python(node: Node) -> Any:
    """Plain values of a composed node, with dates kept as text (as JSON would have them)."""
    if isinstance(node, MappingNode):
        return {str(k.value): to_python(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [to_python(item) for item in node.value]
    assert isinstance(node, ScalarNode)
    tag = node.tag.rsplit(":", 1)[-1]
    value = str(node.value)
    if tag == "null":
        return None
    if tag == "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == "int":
        return int(value)
    if tag == "float":
        return float(value)
    return value
