"""The policy file: a YAML file's nodes -> the policy model, with every mistake reported.

docs/policy-format.md describes the format for policy staff; this module is its one
implementation. `PolicyFileReader` checks keys, types, vocabularies and references, collects
*all* the problems of a file (never only the first), and builds the frozen model of
`policyrules.model`; conditions are read by `ConditionReader`, catalogs by
`policyrules.loading.catalogs`, quotes checked by `policyrules.loading.quotes`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from yaml.nodes import MappingNode, Node

from ..errors import Problem
from ..model import (
    AcceptedFinding,
    Catalog,
    CatalogEntry,
    Citation,
    Effect,
    Institution,
    InstitutionList,
    NotEncoded,
    PolicyMeta,
    PolicyModel,
    Rule,
    StatusGroup,
)
from ..suggest import did_you_mean
from ..vocabulary import HOUSEHOLD_OUTCOMES, LIST_OUTCOMES, OUTCOMES
from .catalogs import CatalogLibrary, catalog_entries, catalog_notes, child_age, source_text
from .conditions import ConditionReader
from .nodes import is_null
from .lint import lint
from .quotes import check_quotes
from .reader import ReadResult, read_yaml
from .sections import FINDING_KINDS, RULE_FINDING_KINDS, SECTIONS, SOURCE_KINDS

__all__ = ["PolicyFileReader", "parse_policy"]

_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class PolicyFileReader(ConditionReader):
    """Reads one policy file's nodes into a `PolicyModel`, collecting every problem."""

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
        #: Warnings (`Problem.is_warning`): said, but the file loads.
        self.warnings: list[Problem] = []

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
        accepted = self.accepted_findings(keys["accepted_findings"][1], rules) if "accepted_findings" in keys else []
        if meta is not None:
            self.quotes(meta, rules, not_encoded, [a.citation for a in accepted])
        if self.problems or meta is None:
            return None
        self.warnings.extend(lint(self.read, meta, self.lists.values(), rules))
        return PolicyModel(
            meta,
            self.status_groups,
            self.catalogs,
            self.lists,
            tuple(rules),
            tuple(not_encoded),
            tuple(accepted),
            path=self.read.path,
            sha256=hashlib.sha256(data).hexdigest(),
            warnings=tuple(self.warnings),
        )

    # -- quotes

    def quotes(self, meta: PolicyMeta, rules: list[Rule], not_encoded: list[NotEncoded],
               more: list[Citation] | None = None) -> None:
        """Every quote of this document must stand in its source text; quotes of other documents
        (``cite.document``) are not checked."""
        citations = [c for rule in rules for c in rule.citations] + list(more or ())
        citations += [c for lst in self.lists.values() for c in lst.citations]
        quotes = [(c.quote, c.quote_span or c.span) for c in citations if c.document == meta.document]
        quotes += [(n.quote, n.quote_span or n.span) for n in not_encoded if n.quote]
        for problem in check_quotes(self.read, meta, quotes):
            (self.warnings if problem.is_warning else self.problems).append(problem)

    # -- metadata

    def meta(self, node: Node) -> PolicyMeta | None:
        keys = self.mapping(node, "policy", *SECTIONS["policy"])
        if keys is None:
            return None
        get: Callable[[str], Node] = lambda key: keys[key][1]  # noqa: E731
        policy_id = self.required(keys, "id", self.identifier, where="policy id")
        document = self.required(keys, "document", self.text)
        self.document = document or ""
        title = self.required(keys, "title", self.text)
        issuer = self.required(keys, "issuer", self.text)
        seed = self.required(keys, "seed", self.text)
        issued = self.required(keys, "issued", self.date)
        start = self.required(keys, "effective_from", self.date)
        end = None
        if "effective_to" in keys and not is_null(get("effective_to")):
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
                    did_you_mean(kind, SOURCE_KINDS),
                )
        inferred = tuple(v for _, v in self.optional(keys, "inferred", self.texts, []))
        note = self.optional(keys, "note", self.text, "")
        if None in (policy_id, document, title, issuer, seed, start) or not regions:
            return None
        assert policy_id and document and title and issuer and seed and start
        return PolicyMeta(
            policy_id, document, title, issuer, issued, tuple(regions), start, end, seed,
            kind, inferred, note or "", span=self.span(node), seed_span=self.span(get("seed")),
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
            label = self.optional(keys, "label", self.text, "")
            statuses = self.status_list(keys["statuses"][1]) if "statuses" in keys else None
            if statuses:
                self.status_groups[name] = StatusGroup(name, label or "", statuses,
                                                       note=self.optional(keys, "note", self.text, "").strip(),
                                                       span=self.span(value))
            else:
                self.broken.add(name)

    def policy_catalogs(self, node: Node) -> None:
        for name, _, value in self.named_mapping(node, "catalogs"):
            before = len(self.problems)
            self.broken.add(name)
            keys = self.mapping(value, f"catalog '{name}'", *SECTIONS["catalog"])
            if keys is None:
                continue
            label = self.optional(keys, "label", self.text, "")
            entries: list[CatalogEntry] = []
            included_notes: list[tuple[str, str]] = []
            more = ""
            for item, ref in self.optional(keys, "include", self.texts, []):
                included = self.library.get(ref) if ref not in self.catalogs else self.catalogs[ref]
                if included is None:
                    if ref in self.library.names():
                        continue  # the catalog file itself is wrong: its problems are reported
                    self.error(
                        item,
                        f"找不到目录 '{ref}'。",
                        f"There is no catalog '{ref}' (neither in this file's catalogs nor in "
                        "policies/catalogs/).",
                        did_you_mean(ref, list(self.catalogs) + self.library.names()),
                    )
                    continue
                entries.extend(included.entries)
                included_notes += [(where or ref, text) for where, text in included.notes]
                more = more or included.more_not_given
            children = child_age(self, keys["children"][1]) if "children" in keys else None
            if "entries" in keys:
                entries.extend(catalog_entries(self, keys["entries"][1], children))
            if "more_not_given" in keys:
                more = self.optional(keys, "more_not_given", self.text, "")
            if len(self.problems) > before:
                continue
            if not entries and not more:
                self.error(
                    value,
                    f"目录 '{name}' 是空的。",
                    f"Catalog '{name}' has no entries and no 'include'.",
                )
                continue
            source = source_text(self, keys["source"][1]) if "source" in keys else ""
            notes = catalog_notes(self, keys, source) + tuple(included_notes)
            self.catalogs[name] = Catalog(name, label, tuple(entries), more, source, notes=notes, span=self.span(value))
            self.broken.discard(name)

    def institution_lists(self, node: Node) -> None:
        for name, _, value in self.named_mapping(node, "institution_lists"):
            self.broken.add(name)
            keys = self.mapping(value, f"institution list '{name}'", *SECTIONS["institution_list"])
            if keys is None:
                continue
            label = self.optional(keys, "label", self.text, "")
            citations = self.citations(keys["cite"][1]) if "cite" in keys else ()
            members: list[Institution] = []
            for item in self.optional(keys, "members", self.sequence, []):
                member_keys = self.mapping(item, "a member", *SECTIONS["member"])
                if member_keys is None:
                    continue
                member = self.required(member_keys, "name", self.text)
                aliases = tuple(v for _, v in self.optional(member_keys, "aliases", self.texts, []))
                if member:
                    members.append(Institution(member, aliases, note=self.optional(member_keys, "note", self.text, "").strip(),
                                               span=self.span(item)))
            self.lists[name] = InstitutionList(name, label, tuple(members), citations,
                                               note=self.optional(keys, "note", self.text, "").strip(),
                                               span=self.span(value))
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
                    "Give each rule its own id (for example add what sets it apart: "
                    f"'{rule.id}_2' or '{rule.outcome}.<who>_<where>'), or delete the copy.",
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
        rule_id = self.required(keys, "id", self.identifier, _RULE_ID, where="rule id")
        outcome = self.outcome(keys["outcome"][1]) if "outcome" in keys else None
        effect = Effect.GRANT
        if "effect" in keys:
            word = self.text(keys["effect"][1], "effect")
            if word not in ("grant", "exception"):
                self.error(
                    keys["effect"][1],
                    f"effect '{word}' 只能是 grant（给予）或 exception（例外，取消）。",
                    f"effect '{word}' must be 'grant' or 'exception'.",
                    did_you_mean(word or "", ("grant", "exception")),
                )
            else:
                effect = Effect(word)
        when = self.when(keys["when"][1]) if "when" in keys else None
        citations = self.citations(keys["cite"][1]) if "cite" in keys else ()
        label = self.optional(keys, "label", self.text, "")
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
        if outcome in HOUSEHOLD_OUTCOMES and when is not None:
            personal = [f for f in when.fields() if not f.startswith("household.")]
            if personal:
                self.error(
                    keys["when"][1],
                    f"'{outcome}' 是给户的结果，条件只能看户的字段（household.statuses）。",
                    f"'{outcome}' is granted to a household as such; its conditions may read household "
                    f"fields only, not {', '.join(personal)}.",
                    "Test household.statuses, or give the rule a person's outcome.",
                )
                return None
        if rule_id is None or outcome is None or when is None or not citations:
            return None
        if outcome in LIST_OUTCOMES and value is None:
            return None
        return Rule(
            rule_id, outcome, effect, when, citations, value, ratio, label or "",
            note=self.optional(keys, "note", self.text, "").strip(), span=self.span(node),
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
                did_you_mean(value, OUTCOMES) or f"Outcomes: {', '.join(OUTCOMES)}.",
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
                    did_you_mean(value, vocabulary) or f"Codes: {', '.join(vocabulary)}.",
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
            clause = self.required(keys, "clause", self.text)
            quote = self.required(keys, "quote", self.text)
            note = self.optional(keys, "note", self.text, "")
            document = self.required(keys, "document", self.text)
            if clause and quote:
                out.append(
                    Citation(
                        clause, quote.strip(), document or self.document, note or "",
                        span=self.span(item), quote_span=self.span(keys["quote"][1]),
                    )
                )
        return tuple(out)

    # -- conditions

    def not_encoded(self, node: Node) -> list[NotEncoded]:
        out = []
        for item in self.sequence(node, "not_encoded") or []:
            keys = self.mapping(item, "not_encoded", *SECTIONS["not_encoded"])
            if not keys:
                continue
            clause = self.required(keys, "clause", self.text)
            reason = self.required(keys, "reason", self.text)
            quote = self.optional(keys, "quote", self.text, "")
            if clause and reason:
                out.append(NotEncoded(clause, reason, quote or "", span=self.span(item),
                                      quote_span=self.span(keys["quote"][1]) if quote else None))
        return out

    def accepted_findings(self, node: Node, rules: list[Rule]) -> list[AcceptedFinding]:
        """``accepted_findings``: each names a kind of `policyrules analyze` finding, the rule (for
        never_fires and redundant) or the outcome it is about, the reason and a citation."""
        out = []
        rule_ids = {r.id for r in rules}
        outcomes = {r.outcome for r in rules}
        for item in self.sequence(node, "accepted_findings") or []:
            keys = self.mapping(item, "accepted_findings", *SECTIONS["accepted_finding"])
            if not keys:
                continue
            kind = self.required(keys, "kind", self.text)
            reason = self.required(keys, "reason", self.text)
            citations = self.citations(keys["cite"][1]) if "cite" in keys else ()
            if kind is not None and kind not in FINDING_KINDS:
                self.error(keys["kind"][1], f"kind '{kind}' 不是 policyrules analyze 的发现种类。",
                           f"Unknown kind of finding '{kind}'.",
                           did_you_mean(kind, FINDING_KINDS) or f"Kinds: {', '.join(FINDING_KINDS)}.")
                continue
            if kind is None or not reason or not citations:
                continue
            key = "rule" if kind in RULE_FINDING_KINDS else "outcome"
            other = "outcome" if key == "rule" else "rule"
            if other in keys:
                self.error(keys[other][1], f"{kind} 的发现要写 {key}，不写 {other}。",
                           f"A {kind} finding names its {key}, not an {other}.")
                continue
            if key not in keys:
                self.error(item, f"{kind} 的发现要写 {key}。", f"A {kind} finding must name its {key}.")
                continue
            subject = self.text(keys[key][1], key)
            known = rule_ids if key == "rule" else outcomes
            if subject is None:
                continue
            if subject not in known and not self.broken_outcomes:
                self.error(keys[key][1], f"{key} '{subject}' 不在本文件的规则中。",
                           f"No {key} '{subject}' among this file's rules.",
                           did_you_mean(subject, sorted(known)))
                continue
            out.append(AcceptedFinding(kind, subject, reason, citations[0], span=self.span(item)))
        return out


def parse_policy(path: str, data: bytes, library: CatalogLibrary) -> tuple[PolicyModel | None, list[Problem]]:
    """Parse one policy file's bytes. Returns the model, or None and every problem found."""
    read = read_yaml(path, data)
    if read.problems or read.root is None:
        return None, read.problems
    before = len(library.problems)
    builder = PolicyFileReader(read, library)
    model = builder.build(data)
    problems = builder.problems + library.problems[before:]
    return (model if not problems else None), problems

