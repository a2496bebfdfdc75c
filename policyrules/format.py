"""The policy file format: positioned YAML nodes -> the model, with every mistake reported.

docs/policy-format.md describes the format for policy staff. This module is its one
implementation: it checks keys, types, vocabularies and references, collects *all* the
problems of a file (never only the first), and builds the frozen model of
`policyrules.model`. Shared disease catalogs (``policies/catalogs/*.yaml``) are read by the
same code.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import icd10
from .errors import PolicyLoadError, Problem, SourceSpan
from .model import (
    AgeRange,
    AllOf,
    AnyOf,
    Catalog,
    CatalogEntry,
    ChildAge,
    Citation,
    Condition,
    DiagnosisIn,
    Effect,
    FieldIs,
    InCounty,
    Institution,
    InstitutionIn,
    InstitutionList,
    Not,
    NotEncoded,
    NotGiven,
    PolicyMeta,
    PolicyModel,
    Rule,
    StatusAny,
    StatusGroup,
)
from .reader import ReadResult, read_yaml
from .regions import region_table
from .vocabulary import CONTEXT_FIELDS, LIST_OUTCOMES, OUTCOMES, STATUSES

__all__ = ["SECTIONS", "SHIPPED_CATALOGS", "SOURCE_KINDS", "CatalogLibrary", "parse_policy"]

T = TypeVar("T")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_REGION = re.compile(r"^[1-9][0-9]{5}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
SOURCE_KINDS = ("notice", "government_document", "newspaper_report")

#: Where the shipped shared catalogs live (inside the wheel, or beside the package in a checkout).
SHIPPED_CATALOGS: tuple[Path, ...] = (
    Path(__file__).parent / "policies" / "catalogs",
    Path(__file__).parent.parent / "policies" / "catalogs",
)


#: Every mapping of the format: section -> (required keys, optional keys). The loader checks
#: files against it and `policyrules.schema` generates the JSON Schema from it.
SECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "file": (("policy", "rules"), ("status_groups", "catalogs", "institution_lists", "not_encoded")),
    "policy": (
        ("id", "document", "title", "issuer", "regions", "effective_from", "seed"),
        ("issued", "effective_to", "source_kind", "inferred", "note"),
    ),
    "status_group": (("label", "statuses"), ("note",)),
    "catalog": (("label",), ("include", "entries", "more_not_given", "children", "note", "source")),
    "catalog_file": (
        ("catalog", "label", "entries"),
        ("source", "mapping_note", "children", "more_not_given", "note"),
    ),
    "source": (("document",), ("title", "date", "url", "note")),
    "children": (
        ("not_given", "certainly_child_below", "certainly_adult_from"),
        ("label", "note"),
    ),
    "entry": (
        ("id", "name", "icd10"),
        ("aliases", "together_with", "children_only", "added", "source", "note"),
    ),
    "institution_list": (("label", "members"), ("cite", "note")),
    "member": (("name",), ("aliases", "note")),
    "rule": (("id", "outcome", "when", "cite"), ("effect", "label", "value", "target_ratio", "note")),
    "cite": (("clause", "quote"), ("note", "document")),
    "not_encoded": (("clause", "reason"), ("quote",)),
    "statuses_condition": (("any_of",), ()),
    "age_condition": ((), ("at_least", "at_most", "between", "above", "below")),
    "diagnoses_condition": (("any_in",), ()),
    "institution_condition": (("in",), ()),
}


def _suggest(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"Did you mean '{match[0]}'? / 是不是 '{match[0]}'？" if match else ""


class _Builder:
    """Walks positioned nodes of one file, collecting problems instead of raising."""

    def __init__(self, read: ReadResult) -> None:
        self.read = read
        self.problems: list[Problem] = []

    def span(self, node: Node) -> SourceSpan:
        mark = node.start_mark
        return SourceSpan(self.read.path, mark.line + 1, mark.column + 1)

    def error(self, node: Node, chinese: str, english: str, suggestion: str = "") -> None:
        self.problems.append(self.read.at(node, f"{chinese}\n{english}", suggestion))

    def mapping(
        self,
        node: Node,
        where: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> dict[str, tuple[Node, Node]] | None:
        """The keys of a mapping node -> (key node, value node); None if not a mapping."""
        if not isinstance(node, MappingNode):
            self.error(
                node,
                f"{where} 应该是“键: 值”形式的映射。",
                f"{where} must be a mapping of 'key: value' lines, not {_kind(node)}.",
            )
            return None
        allowed = list(required) + list(optional)
        found: dict[str, tuple[Node, Node]] = {}
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
                hint = _suggest(key, allowed)
                meant.update(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6))
                meant.update(k for k in allowed if key.startswith(k))
                if any(ord(ch) > 0x2E80 for ch in key):
                    hint = (hint + " " if hint else "") + (
                        "The key has Chinese or full-width characters (such as '：' or '（'); "
                        "keys are written in English letters."
                    )
                self.error(
                    key_node,
                    f"{where} 中没有 '{key}' 这个键。",
                    f"Unknown key '{key}' in {where}; allowed: {', '.join(allowed)}.",
                    hint,
                )
                continue
            found[key] = (key_node, value_node)
        for key in required:
            if key not in found and key not in meant:
                self.error(
                    node,
                    f"{where} 缺少必填的 '{key}'。",
                    f"{where} is missing the required key '{key}'.",
                )
        return found

    def text(self, node: Node, where: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f"{where} 应该是一段文字。", f"{where} must be text, not {_kind(node)}.")
            return None
        value = str(node.value)
        if not allow_empty and not value.strip():
            self.error(node, f"{where} 不能为空。", f"{where} must not be empty.")
            return None
        return value

    def identifier(self, node: Node, where: str, pattern: re.Pattern[str] = _ID) -> str | None:
        value = self.text(node, where)
        if value is not None and not pattern.match(value):
            self.error(
                node,
                f"{where} '{value}' 只能用小写英文字母、数字和下划线。",
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
            self.error(
                node,
                f"{where} '{value}' 不是一个存在的日期（格式 YYYY-MM-DD）。",
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
            f"{where} 应该是 {low} 到 {high} 之间的整数。",
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
            f"{where} 应该是 0 到 1 之间的小数（如 90% 写作 0.9）。",
            f"{where} must be a ratio from 0 to 1 (write 90% as 0.9).",
        )
        return None

    def boolean(self, node: Node, where: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return str(node.value).lower() in ("true", "yes", "on")
        self.error(node, f"{where} 应该是 true 或 false。", f"{where} must be true or false.")
        return None

    def sequence(self, node: Node, where: str, allow_empty: bool = False) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(
                node,
                f"{where} 应该是一个列表（每项以 '- ' 开头）。",
                f"{where} must be a list (items start with '- '), not {_kind(node)}.",
            )
            return None
        if not allow_empty and not node.value:
            self.error(node, f"{where} 不能是空列表。", f"{where} must not be an empty list.")
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
            self.error(node, f"{where} 应该是六位区划代码。", f"{where} must be a six-digit region code.")
            return None
        value = str(node.value)
        table = region_table()
        if not _REGION.match(value) or value not in table.regions:
            self.error(
                node,
                f"区划代码 '{value}' 不在区划代码表中。",
                f"Unknown region code '{value}' (not in policyrules/data/regions.yaml, "
                f"{table.source}, as of {table.as_of}).",
                _suggest(value, table.regions)
                or "Add the region to policyrules/data/regions.yaml with its source, or fix the code.",
            )
            return None
        return value


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing (empty)"
    return f"'{node.value}'"


# ---------------------------------------------------------------- catalogs


class CatalogLibrary:
    """Shared catalogs, by file stem, read once from the catalog folders given.

    ``folders`` are searched in order (a policy folder's own ``catalogs/`` first, then the
    shipped ones). Problems found in a catalog file are reported with that file's path.
    """

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = [folder for folder in folders if folder.is_dir()]
        self._loaded: dict[str, Catalog | None] = {}
        self.problems: list[Problem] = []

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for folder in self.folders:
            for path in sorted(folder.glob("*.yaml")):
                seen.setdefault(path.stem, None)
        return list(seen)

    def get(self, name: str) -> Catalog | None:
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def _load(self, name: str) -> Catalog | None:
        for folder in self.folders:
            path = folder / f"{name}.yaml"
            if path.is_file():
                read = read_yaml(str(path), path.read_bytes())
                if read.problems or read.root is None:
                    self.problems.extend(read.problems)
                    return None
                builder = _Builder(read)
                catalog = _shared_catalog(builder, read.root, name)
                self.problems.extend(builder.problems)
                return None if builder.problems else catalog
        return None




def _shared_catalog(b: _Builder, root: Node, name: str) -> Catalog | None:
    keys = b.mapping(root, "the catalog file", *SECTIONS["catalog_file"])
    if keys is None:
        return None
    catalog_id = b.identifier(keys["catalog"][1], "catalog")
    if catalog_id is not None and catalog_id != name:
        b.error(
            keys["catalog"][1],
            f"catalog 名 '{catalog_id}' 与文件名 '{name}.yaml' 不一致。",
            f"The catalog is named '{catalog_id}' but its file is '{name}.yaml'; "
            "policies refer to it by file name.",
            f"Rename one of them so that both say '{name}'.",
        )
    label = b.text(keys["label"][1], "label") or ""
    children = None
    if "children" in keys:
        children = _child_age(b, keys["children"][1])
    source = ""
    if "source" in keys:
        source = _source_text(b, keys["source"][1])
    entries = _entries(b, keys["entries"][1], children)
    more = b.text(keys["more_not_given"][1], "more_not_given") if "more_not_given" in keys else ""
    return Catalog(name, label, tuple(entries), more or "", source, span=b.span(root))


def _source_text(b: _Builder, node: Node) -> str:
    if isinstance(node, ScalarNode):
        return b.text(node, "source") or ""
    keys = b.mapping(node, "source", *SECTIONS["source"])
    if not keys:
        return ""
    parts = [str(value.value) for _, value in keys.values() if isinstance(value, ScalarNode)]
    return " ".join(parts)


def _child_age(b: _Builder, node: Node) -> ChildAge | None:
    keys = b.mapping(node, "children", *SECTIONS["children"])
    if keys is None:
        return None
    text = b.text(keys["not_given"][1], "not_given")
    below = b.integer(keys["certainly_child_below"][1], "certainly_child_below", 0, 30)
    adult = b.integer(keys["certainly_adult_from"][1], "certainly_adult_from", 0, 30)
    if below is not None and adult is not None and adult < below:
        b.error(
            keys["certainly_adult_from"][1],
            "certainly_adult_from 不能小于 certainly_child_below。",
            "certainly_adult_from must not be less than certainly_child_below.",
        )
        return None
    if text is None or below is None or adult is None:
        return None
    return ChildAge(text, below, adult, span=b.span(node))


def _entries(b: _Builder, node: Node, children: ChildAge | None) -> list[CatalogEntry]:
    entries: list[CatalogEntry] = []
    seen: set[str] = set()
    for item in b.sequence(node, "entries") or []:
        keys = b.mapping(item, "a catalog entry", *SECTIONS["entry"])
        if keys is None:
            continue
        entry_id = b.identifier(keys["id"][1], "entry id")
        if entry_id in seen:
            b.error(keys["id"][1], f"条目 id '{entry_id}' 重复。", f"Duplicate entry id '{entry_id}'.")
        if entry_id:
            seen.add(entry_id)
        name = b.text(keys["name"][1], "name")
        codes, written = _codes(b, keys["icd10"][1], "icd10")
        together: frozenset[str] = frozenset()
        if "together_with" in keys:
            together, _ = _codes(b, keys["together_with"][1], "together_with")
        aliases = tuple(v for _, v in b.texts(keys["aliases"][1], "aliases")) if "aliases" in keys else ()
        only_children = False
        if "children_only" in keys:
            only_children = bool(b.boolean(keys["children_only"][1], "children_only"))
            if only_children and children is None:
                b.error(
                    keys["children_only"][1],
                    "children_only 需要目录里有 children 一节（儿童年龄）。",
                    "children_only needs a 'children' section in the catalog (what 儿童 means).",
                )
        if entry_id and name and codes:
            entries.append(
                CatalogEntry(
                    entry_id,
                    name,
                    codes,
                    together,
                    aliases,
                    children if only_children else None,
                    written,
                    span=b.span(item),
                )
            )
    return entries


def _codes(b: _Builder, node: Node, where: str) -> tuple[frozenset[str], tuple[str, ...]]:
    found: set[str] = set()
    written: list[str] = []
    for item, value in b.texts(node, where, allow_empty=False):
        code = value.strip()
        if icd10.who_kind(code) is None:
            b.error(
                item,
                f"'{code}' 不是 WHO ICD-10（2019 版）的类目、亚目或区段。",
                f"'{code}' is not a WHO ICD-10 (2019) category, subcategory or block.",
                "Write a category such as C16, a subcategory such as C91.0, or a WHO block such "
                "as A15-A19 (医保版 extensions like C16.900 go in contexts, not catalogs).",
            )
            continue
        written.append(code)
        found |= icd10.expand_catalog_code(code)
    return frozenset(found), tuple(written)


# ---------------------------------------------------------------- the policy file




class _PolicyBuilder(_Builder):
    def __init__(self, read: ReadResult, library: CatalogLibrary) -> None:
        super().__init__(read)
        self.library = library
        self.status_groups: dict[str, StatusGroup] = {}
        self.catalogs: dict[str, Catalog] = {}
        self.lists: dict[str, InstitutionList] = {}
        self.document = ""
        #: Names whose definition had a problem (already reported): references to them are not.
        self.broken: set[str] = set()
        self.broken_outcomes = False

    def build(self, data: bytes) -> PolicyModel | None:
        root = self.read.root
        assert root is not None
        keys = self.mapping(root, "the policy file", *SECTIONS["file"])
        if keys is None:
            return None
        meta = self.meta(keys["policy"][1]) if "policy" in keys else None
        if "status_groups" in keys:
            self.groups(keys["status_groups"][1])
        if "catalogs" in keys:
            self.policy_catalogs(keys["catalogs"][1])
        if "institution_lists" in keys:
            self.institution_lists(keys["institution_lists"][1])
        rules = self.rules(keys["rules"][1]) if "rules" in keys else []
        not_encoded = self.not_encoded(keys["not_encoded"][1]) if "not_encoded" in keys else []
        if meta is not None:
            self.check_quotes(meta, rules, not_encoded)
        if self.problems or meta is None:
            return None
        return PolicyModel(
            meta,
            self.status_groups,
            self.catalogs,
            self.lists,
            tuple(rules),
            tuple(not_encoded),
            path=self.read.path,
            sha256=hashlib.sha256(data).hexdigest(),
        )

    # -- quotes

    def check_quotes(self, meta: PolicyMeta, rules: list[Rule], not_encoded: list[NotEncoded]) -> None:
        """Every quote of this document must stand in its source text (``sources/<seed>``
        beside the policy file), whitespace aside; '……' marks an omission (the parts must
        stand in that order). Quotes of other documents (``cite.document``) are not checked."""
        sources = Path(self.read.path).parent / "sources"
        if not sources.is_dir():
            return  # a policy kept without its sources: nothing to check against
        seed = sources / meta.seed
        if not seed.is_file():
            assert meta.span is not None
            self.problems.append(
                self.read.problem(
                    meta.span.line,
                    meta.span.column,
                    f"找不到原文文件 sources/{meta.seed}。\n"
                    f"The source text sources/{meta.seed} named by 'seed' does not exist.",
                    _suggest(meta.seed, [p.name for p in sources.glob("*.txt")]),
                )
            )
            return
        text = _squeeze(seed.read_text("utf-8"))
        citations = [c for rule in rules for c in rule.citations]
        quotes = [(c.quote, c.span) for c in citations if c.document == meta.document]
        quotes += [(c.quote, c.span) for lst in self.lists.values() for c in lst.citations
                   if c.document == meta.document]
        quotes += [(n.quote, n.span) for n in not_encoded if n.quote]
        for quote, span in quotes:
            missing = _not_in(quote, text)
            if missing and span is not None:
                self.problems.append(
                    self.read.problem(
                        span.line,
                        span.column,
                        f"引文在原文 {meta.seed} 中找不到：“{missing[:40]}”。\n"
                        f"This quote is not in the source text {meta.seed}: "
                        f"'{missing[:40]}'.",
                        "Copy the words exactly as the source prints them (OCR slips "
                        "included; explain them in 'note'); mark left-out words with '……'.",
                    )
                )

    # -- metadata

    def meta(self, node: Node) -> PolicyMeta | None:
        keys = self.mapping(node, "policy", *SECTIONS["policy"])
        if keys is None:
            return None
        get: Callable[[str], Node] = lambda key: keys[key][1]  # noqa: E731
        policy_id = self.identifier(get("id"), "policy id") if "id" in keys else None
        document = self.text(get("document"), "document") if "document" in keys else None
        self.document = document or ""
        title = self.text(get("title"), "title") if "title" in keys else None
        issuer = self.text(get("issuer"), "issuer") if "issuer" in keys else None
        seed = self.text(get("seed"), "seed") if "seed" in keys else None
        issued = self.date(get("issued"), "issued") if "issued" in keys else None
        start = self.date(get("effective_from"), "effective_from") if "effective_from" in keys else None
        end = None
        if "effective_to" in keys and not _is_null(get("effective_to")):
            end = self.date(get("effective_to"), "effective_to")
            if end is not None and start is not None and end < start:
                self.error(
                    get("effective_to"),
                    f"失效日期 {end} 早于生效日期 {start}。",
                    f"effective_to ({end}) is before effective_from ({start}).",
                    "Swap them, or correct the year.",
                )
                end = None
        regions: list[str] = []
        if "regions" in keys:
            for item in self.sequence(get("regions"), "regions") or []:
                code = self.region(item, "a region of 'regions'")
                if code:
                    regions.append(code)
        kind = "notice"
        if "source_kind" in keys:
            kind = self.text(get("source_kind"), "source_kind") or "notice"
            if kind not in SOURCE_KINDS:
                self.error(
                    get("source_kind"),
                    f"source_kind '{kind}' 不认识。",
                    f"Unknown source_kind '{kind}'; one of {', '.join(SOURCE_KINDS)}.",
                    _suggest(kind, SOURCE_KINDS),
                )
        inferred = tuple(v for _, v in self.texts(get("inferred"), "inferred")) if "inferred" in keys else ()
        note = self.text(get("note"), "note") if "note" in keys else ""
        if None in (policy_id, document, title, issuer, seed, start) or not regions:
            return None
        assert policy_id and document and title and issuer and seed and start
        return PolicyMeta(
            policy_id, document, title, issuer, issued, tuple(regions), start, end, seed,
            kind, inferred, note or "", span=self.span(node),
        )

    # -- groups, catalogs, lists

    def named_mapping(self, node: Node, where: str) -> list[tuple[str, Node, Node]]:
        if not isinstance(node, MappingNode):
            self.error(node, f"{where} 应该是映射。", f"{where} must be a mapping of name: definition.")
            return []
        out = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = self.identifier(key_node, f"a name in {where}")
            if name is None:
                continue
            if name in seen:
                self.error(key_node, f"名称 '{name}' 重复。", f"'{name}' is defined twice in {where}.")
                continue
            seen.add(name)
            out.append((name, key_node, value_node))
        return out

    def groups(self, node: Node) -> None:
        for name, _, value in self.named_mapping(node, "status_groups"):
            keys = self.mapping(value, f"status group '{name}'", *SECTIONS["status_group"])
            if keys is None:
                continue
            label = self.text(keys["label"][1], "label") if "label" in keys else ""
            statuses = self.status_list(keys["statuses"][1]) if "statuses" in keys else None
            if statuses:
                self.status_groups[name] = StatusGroup(name, label or "", statuses, span=self.span(value))
            else:
                self.broken.add(name)

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
                    _suggest(value, STATUSES) or f"Known statuses: {', '.join(STATUSES)}.",
                )
            found.add(value)
        return frozenset(found) if ok and found else None

    def policy_catalogs(self, node: Node) -> None:
        for name, _, value in self.named_mapping(node, "catalogs"):
            before = len(self.problems)
            self.broken.add(name)
            keys = self.mapping(value, f"catalog '{name}'", *SECTIONS["catalog"])
            if keys is None:
                continue
            label = self.text(keys["label"][1], "label") or ""
            entries: list[CatalogEntry] = []
            more = ""
            for item, ref in (self.texts(keys["include"][1], "include") if "include" in keys else []):
                included = self.library.get(ref) if ref not in self.catalogs else self.catalogs[ref]
                if included is None:
                    if ref in self.library.names():
                        continue  # the catalog file itself is wrong: its problems are reported
                    self.error(
                        item,
                        f"找不到目录 '{ref}'。",
                        f"There is no catalog '{ref}' (neither in this file's catalogs nor in "
                        "policies/catalogs/).",
                        _suggest(ref, list(self.catalogs) + self.library.names()),
                    )
                    continue
                entries.extend(included.entries)
                more = more or included.more_not_given
            children = _child_age(self, keys["children"][1]) if "children" in keys else None
            if "entries" in keys:
                entries.extend(_entries(self, keys["entries"][1], children))
            if "more_not_given" in keys:
                more = self.text(keys["more_not_given"][1], "more_not_given") or ""
            if len(self.problems) > before:
                continue
            if not entries and not more:
                self.error(
                    value,
                    f"目录 '{name}' 是空的。",
                    f"Catalog '{name}' has no entries and no 'include'.",
                )
                continue
            source = _source_text(self, keys["source"][1]) if "source" in keys else ""
            self.catalogs[name] = Catalog(
                name, label, tuple(entries), more, source, span=self.span(value)
            )
            self.broken.discard(name)

    def institution_lists(self, node: Node) -> None:
        for name, _, value in self.named_mapping(node, "institution_lists"):
            self.broken.add(name)
            keys = self.mapping(value, f"institution list '{name}'", *SECTIONS["institution_list"])
            if keys is None:
                continue
            label = self.text(keys["label"][1], "label") or ""
            citations = self.citations(keys["cite"][1]) if "cite" in keys else ()
            members: list[Institution] = []
            for item in self.sequence(keys["members"][1], "members") or []:
                member_keys = self.mapping(item, "a member", *SECTIONS["member"])
                if member_keys is None:
                    continue
                member = self.text(member_keys["name"][1], "name")
                aliases = (
                    tuple(v for _, v in self.texts(member_keys["aliases"][1], "aliases"))
                    if "aliases" in member_keys
                    else ()
                )
                if member:
                    members.append(Institution(member, aliases, span=self.span(item)))
            self.lists[name] = InstitutionList(
                name, label, tuple(members), citations, span=self.span(value)
            )
            self.broken.discard(name)

    # -- rules

    def rules(self, node: Node) -> list[Rule]:
        out: list[Rule] = []
        ids: dict[str, int] = {}
        failed = False
        for item in self.sequence(node, "rules") or []:
            rule = self.rule(item)
            if rule is None:
                failed = True
                continue
            if rule.id in ids:
                self.error(
                    item,
                    f"规则 id '{rule.id}' 重复（第 {ids[rule.id]} 行已有）。",
                    f"Duplicate rule id '{rule.id}' (first on line {ids[rule.id]}).",
                )
                continue
            ids[rule.id] = item.start_mark.line + 1
            out.append(rule)
        granted = {rule.outcome for rule in out if rule.effect is Effect.GRANT}
        for rule in out:
            if rule.effect is Effect.EXCEPTION and rule.outcome not in granted and not failed:
                assert rule.span is not None
                self.problems.append(
                    self.read.problem(
                        rule.span.line,
                        rule.span.column,
                        f"例外规则 '{rule.id}' 所属的 '{rule.outcome}' 没有任何给予规则。\n"
                        f"Exception '{rule.id}' takes '{rule.outcome}' away, but no rule grants it.",
                        "Add the rule that grants it, or make this rule a grant.",
                    )
                )
        return out

    def rule(self, node: Node) -> Rule | None:
        keys = self.mapping(node, "a rule", *SECTIONS["rule"])
        if keys is None:
            return None
        rule_id = self.identifier(keys["id"][1], "rule id", _RULE_ID) if "id" in keys else None
        outcome = self.outcome(keys["outcome"][1]) if "outcome" in keys else None
        effect = Effect.GRANT
        if "effect" in keys:
            word = self.text(keys["effect"][1], "effect")
            if word not in ("grant", "exception"):
                self.error(
                    keys["effect"][1],
                    f"effect '{word}' 只能是 grant（给予）或 exception（例外，取消）。",
                    f"effect '{word}' must be 'grant' or 'exception'.",
                    _suggest(word or "", ("grant", "exception")),
                )
            else:
                effect = Effect(word)
        when = self.when(keys["when"][1]) if "when" in keys else None
        citations = self.citations(keys["cite"][1]) if "cite" in keys else ()
        label = self.text(keys["label"][1], "label") if "label" in keys else ""
        value: tuple[str, ...] | None = None
        ratio = None
        if outcome in LIST_OUTCOMES:
            if "value" not in keys:
                self.error(
                    node,
                    f"'{outcome}' 的规则需要写 value（报销层次列表）。",
                    f"A rule for '{outcome}' needs 'value': the list of codes it gives.",
                    f"Codes: {', '.join(LIST_OUTCOMES[outcome])}.",
                )
            else:
                value = self.codes(keys["value"][1], outcome)
            if "target_ratio" in keys:
                ratio = self.number(keys["target_ratio"][1], "target_ratio")
        elif outcome is not None:
            for extra in ("value", "target_ratio"):
                if extra in keys:
                    self.error(
                        keys[extra][0],
                        f"'{outcome}' 是“是/否”结果，不需要 {extra}。",
                        f"'{outcome}' is a yes/no outcome; '{extra}' is only for "
                        f"{', '.join(LIST_OUTCOMES)}.",
                    )
        if rule_id is not None and outcome is not None and not rule_id.startswith(outcome + "."):
            self.error(
                keys["id"][1],
                f"规则 id '{rule_id}' 应以它的结果名 '{outcome}.' 开头。",
                f"The rule id '{rule_id}' must start with its outcome, '{outcome}.', so that a "
                "reader sees what it decides.",
                f"For example '{outcome}.{rule_id.rsplit('.', 1)[-1]}'.",
            )
            return None
        if outcome in LIST_OUTCOMES and effect is Effect.EXCEPTION:
            self.error(
                keys["effect"][1],
                f"'{outcome}' 的规则不能是 exception。",
                f"A rule for '{outcome}' gives a list of layers; it cannot be an exception.",
                "Write the case as its own grant rule with the layers it gives.",
            )
            return None
        if rule_id is None or outcome is None or when is None or not citations:
            return None
        if outcome in LIST_OUTCOMES and value is None:
            return None
        return Rule(
            rule_id, outcome, effect, when, citations, value, ratio, label or "",
            span=self.span(node),
        )

    def outcome(self, node: Node) -> str | None:
        value = self.text(node, "outcome")
        if value is None:
            return None
        if value not in OUTCOMES:
            self.error(
                node,
                f"结果 '{value}' 不在 CONTRACT 的结果列表中。",
                f"Unknown outcome '{value}'.",
                _suggest(value, OUTCOMES) or f"Outcomes: {', '.join(OUTCOMES)}.",
            )
            return None
        return value

    def codes(self, node: Node, outcome: str) -> tuple[str, ...] | None:
        """The codes a rule of a list outcome gives, checked against that outcome's list."""
        vocabulary = LIST_OUTCOMES[outcome]
        out: list[str] = []
        ok = True
        for item, value in self.texts(node, "value", allow_empty=False):
            if value not in vocabulary:
                ok = False
                self.error(
                    item,
                    f"'{value}' 不是 {outcome} 的取值。",
                    f"'{value}' is not a code of {outcome}.",
                    _suggest(value, vocabulary) or f"Codes: {', '.join(vocabulary)}.",
                )
            out.append(value)
        order = list(vocabulary)
        if ok and out != sorted(out, key=order.index):
            self.error(
                node,
                f"{outcome} 的取值要按规定顺序写。",
                f"Write the codes of {outcome} in this order: {', '.join(vocabulary)}"
                + (" (the order a bill is settled)." if outcome == "reimbursement_layers" else "."),
            )
            return None
        return tuple(out) if ok and out else None

    def citations(self, node: Node) -> tuple[Citation, ...]:
        items = [node] if isinstance(node, MappingNode) else (self.sequence(node, "cite") or [])
        out = []
        for item in items:
            keys = self.mapping(item, "cite", *SECTIONS["cite"])
            if keys is None:
                continue
            clause = self.text(keys["clause"][1], "clause") if "clause" in keys else None
            quote = self.text(keys["quote"][1], "quote") if "quote" in keys else None
            note = self.text(keys["note"][1], "note") if "note" in keys else ""
            document = self.text(keys["document"][1], "document") if "document" in keys else None
            if clause and quote:
                out.append(
                    Citation(
                        clause, quote.strip(), document or self.document, note or "",
                        span=self.span(item),
                    )
                )
        return tuple(out)

    # -- conditions

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
                f"A condition must be written 'field: value', not {_kind(node)}.",
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
            choices = list(CONTEXT_FIELDS) + ["all", "any", "not", "in_county", "not_given"]
            self.error(
                key_node,
                f"条件里的字段 '{key}' 不存在。",
                f"Unknown condition field '{key}'.",
                _suggest(key, choices) or f"Fields: {', '.join(choices)}.",
            )
            return None
        return self.field_condition(key, key_node, value)

    def field_condition(self, field: str, key_node: Node, value: Node) -> Condition | None:
        kind, vocabulary = CONTEXT_FIELDS[field]
        span = self.span(key_node)
        if kind == "statuses":
            keys = self.mapping(value, field, *SECTIONS["statuses_condition"])
            if not keys:
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
                        _suggest(name, self.status_groups)
                        or ("Define it under status_groups, or list statuses here."
                            if name not in STATUSES else f"Write a list: [{name}]."),
                    )
                    return None
                return StatusAny(group.statuses, name, span=span)
            statuses = self.status_list(target)
            return StatusAny(statuses, None, span=span) if statuses else None
        if kind == "int":  # person.age
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
        if kind == "diagnoses":
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
                    _suggest(name, self.catalogs)
                    or ("Add it under catalogs with 'include: [" + name + "]'."
                        if name in self.library.names() else ""),
                )
                return None
            return DiagnosisIn(name, span=span)
        if field == "encounter.institution.name":
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
                    _suggest(name, self.lists),
                )
                return None
            return InstitutionIn(name, span=span)
        if kind in ("enum", "bool"):
            items = value.value if isinstance(value, SequenceNode) else [value]
            values: set[str | bool] = set()
            for item in items:
                if kind == "bool":
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
                        _suggest(word, vocabulary),
                    )
                    return None
                values.add(word)
            if not values:
                self.error(value, "条件没有取值。", "The condition lists no value.")
                return None
            return FieldIs(field, frozenset(values), span=span)
        hint = "use 'in_county: true'" if kind == "region" else "it cannot be tested by a rule"
        self.error(
            key_node,
            f"字段 '{field}' 不能直接作为条件。",
            f"The field '{field}' cannot be a condition ({hint}).",
        )
        return None

    def not_encoded(self, node: Node) -> list[NotEncoded]:
        out = []
        for item in self.sequence(node, "not_encoded") or []:
            keys = self.mapping(item, "not_encoded", *SECTIONS["not_encoded"])
            if not keys:
                continue
            clause = self.text(keys["clause"][1], "clause") if "clause" in keys else None
            reason = self.text(keys["reason"][1], "reason") if "reason" in keys else None
            quote = self.text(keys["quote"][1], "quote") if "quote" in keys else ""
            if clause and reason:
                out.append(NotEncoded(clause, reason, quote or "", span=self.span(item)))
        return out


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _not_in(quote: str, text: str) -> str:
    """The first part of ``quote`` (split at '……') not found in ``text`` after the previous
    part; '' when the whole quote stands in the text."""
    position = 0
    for part in (_squeeze(p) for p in re.split(r"…+|\.\.\.", quote)):
        if not part:
            continue
        found = text.find(part, position)
        if found < 0:
            return part
        position = found + len(part)
    return ""


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def parse_policy(path: str, data: bytes, library: CatalogLibrary) -> tuple[PolicyModel | None, list[Problem]]:
    """Parse one policy file's bytes. Returns the model, or None and every problem found."""
    read = read_yaml(path, data)
    if read.problems or read.root is None:
        return None, read.problems
    before = len(library.problems)
    builder = _PolicyBuilder(read, library)
    model = builder.build(data)
    problems = builder.problems + library.problems[before:]
    return (model if not problems else None), problems


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise PolicyLoadError(problems)
