"""YAML test cases, the OpenFisca way: a region's expected answers, written by policy staff.

A case file (``policies/cases/<policy id>/*.yaml``) names its policy and lists cases::

    policy: beita_2021
    cases:
      - name: 特困人员在陈家桥卫生院住院
        clause: 三(一)2
        quote: 我区将县域内定点医疗机构住院先诊疗后付费政策保障对象调整为农村低保对象、特困人员
        context:
          person: {statuses: [destitute], insured_region: "430511"}
          encounter: {kind: inpatient, date: 2022-03-01,
                      institution: {name: 陈家桥卫生院, region: "430511"}}
        expect:
          pay_later: true
          deposit_exempt: true
        missing:                       # optional: the expected 'missing' of an outcome
          major_disease_treatment: [encounter.diagnoses]

``expect`` values are ``true``, ``false``, ``null`` (unknown) or, for a list outcome, the
list of codes. `run_cases` checks them and says, for a failure,
``file: case 'name': outcome: expected X, got Y`` with the rules behind the answer.
`coverage` lists the rules that no case makes hold (or, for a rule whose document leaves
it open, leaves unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
from yaml.nodes import MappingNode, Node

from .context import read_context
from .engines.matching import TRUE, UNKNOWN
from .engines.reference import ReferenceEngine
from .errors import ContextError, NoPolicyError, PolicyLoadError, Problem
from .loading import NodeReader, first_difference, first_missing_part, read_yaml, source_text, to_python
from .model import NotGiven, Rule
from .policy import Policy, PolicySet
from .suggest import did_you_mean
from .vocabulary import LIST_OUTCOMES, OUTCOMES

__all__ = ["Case", "CaseFailure", "CaseFile", "coverage", "exercised_by", "find_case_files", "policies_dir_for",
           "policy_for", "read_case_file", "run_cases"]

_CASE_KEYS = (("name", "context", "expect"), ("clause", "quote", "missing", "note"))


@attrs.frozen
class Case:
    path: str
    line: int
    name: str
    context: dict[str, Any]
    expect: dict[str, Any]
    missing: dict[str, tuple[str, ...]]
    clause: str = ""
    quote: str = ""


@attrs.frozen
class CaseFile:
    path: str
    policy_id: str
    cases: tuple[Case, ...]


@attrs.frozen
class CaseFailure:
    case: Case
    engine: str
    lines: tuple[str, ...]

    def render(self) -> str:
        head = f"{self.case.path}:{self.case.line}: case '{self.case.name}'"
        if self.engine != "reference":
            head += f" [{self.engine}]"
        return head + ":\n" + "\n".join(f"    {line}" for line in self.lines)


def find_case_files(paths: Sequence[Path]) -> list[Path]:
    """Case files under ``paths`` (files are taken as they are, folders searched)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.yaml") if p.is_file()))
        else:
            found.append(path)
    return found


def read_case_file(path: Path) -> CaseFile:
    """Read one case file, or raise `PolicyLoadError` with every problem and its place."""
    read = read_yaml(str(path), path.read_bytes())
    if read.problems or read.root is None:
        raise PolicyLoadError(read.problems)
    b = NodeReader(read)
    keys = b.mapping(read.root, "the case file", ("policy", "cases"), ("note",))
    cases: list[Case] = []
    policy_id = ""
    if keys:
        if "policy" in keys:
            policy_id = b.identifier(keys["policy"][1], "policy") or ""
        names: dict[str, int] = {}
        for item in (b.sequence(keys["cases"][1], "cases") or []) if "cases" in keys else []:
            case = _case(b, str(path), item)
            if case is None:
                continue
            if case.name in names:
                b.error(item, f"用例名 '{case.name}' 重复（第 {names[case.name]} 行已有）。",
                        f"Duplicate case name '{case.name}' (first on line {names[case.name]}).")
                continue
            names[case.name] = case.line
            cases.append(case)
    if b.problems:
        raise PolicyLoadError(b.problems)
    return CaseFile(str(path), policy_id, tuple(cases))


def _case(b: NodeReader, path: str, node: Node) -> Case | None:
    keys = b.mapping(node, "a case", *_CASE_KEYS)
    if not keys or not all(k in keys for k in _CASE_KEYS[0]):
        return None
    name = b.text(keys["name"][1], "name")
    context = to_python(keys["context"][1])
    if not isinstance(context, dict):
        b.error(keys["context"][1], "context 应该是映射。", "context must be a mapping (a CONTRACT context).")
        return None
    expect: dict[str, Any] = {}
    expect_node = keys["expect"][1]
    before = len(b.problems)
    if isinstance(expect_node, MappingNode):
        for key_node, value_node in expect_node.value:
            outcome = str(key_node.value)
            if outcome not in OUTCOMES:
                b.error(key_node, f"结果 '{outcome}' 不存在。", f"Unknown outcome '{outcome}'.",
                        did_you_mean(outcome, OUTCOMES))
                continue
            value = to_python(value_node)
            ok = value in (True, False, None) if outcome not in LIST_OUTCOMES else (
                value is None or (isinstance(value, list) and all(v in LIST_OUTCOMES[outcome] for v in value)))
            if not ok:
                b.error(value_node, f"'{outcome}' 的期望值不对。",
                        f"The expected value of '{outcome}' must be "
                        + ("true, false or null." if outcome not in LIST_OUTCOMES
                           else f"null or a list of: {', '.join(LIST_OUTCOMES[outcome])}."))
                continue
            expect[outcome] = tuple(value) if isinstance(value, list) else value
    else:
        b.error(expect_node, "expect 应该是映射。", "expect must be a mapping of outcome: expected value.")
    if not expect and len(b.problems) == before:
        b.error(expect_node, "expect 不能为空。", "expect must name at least one outcome.")
    missing: dict[str, tuple[str, ...]] = {}
    if "missing" in keys:
        raw = to_python(keys["missing"][1])
        if isinstance(raw, dict) and all(isinstance(v, list) for v in raw.values()):
            missing = {str(k): tuple(sorted(str(x) for x in v)) for k, v in raw.items()}
        else:
            b.error(keys["missing"][1], "missing 应该是“结果: [字段]”。",
                    "missing must be a mapping of outcome: [fields].")
    clause = b.text(keys["clause"][1], "clause") if "clause" in keys else ""
    quote = b.text(keys["quote"][1], "quote") if "quote" in keys else ""
    if name is None:
        return None
    return Case(path, node.start_mark.line + 1, name, context, expect, missing, clause or "", quote or "")


def run_cases(case_file: CaseFile, policy: Policy, engine: str = "reference") -> list[CaseFailure]:
    """The failures of the cases of ``case_file`` against ``policy`` (empty: all pass)."""
    failures = []
    for case in case_file.cases:
        lines = check_case(case, policy, engine)
        if lines:
            failures.append(CaseFailure(case, engine, tuple(lines)))
    return failures


def check_case(case: Case, policy: Policy, engine: str = "reference") -> list[str]:
    lines = []
    if case.quote:
        source = source_text(policy.model.path, policy.model.meta.seed)
        missing = first_missing_part(case.quote, source) if source is not None else ""
        if missing and source is not None:
            diff = first_difference(missing, source)
            lines.append(f"quote: '{missing[:40]}' is not in the source text {policy.model.meta.seed}: "
                         f"it reads '{diff.quote_passage}' where the nearest passage reads '{diff.document_passage}'")
    try:
        answer = policy.evaluate(case.context, engine=engine)
    except (ContextError, NoPolicyError) as error:
        return lines + [f"the context cannot be evaluated: {error}"]
    for outcome, expected in case.expect.items():
        got = answer.outcomes.get(outcome)
        if got is None:
            lines.append(f"{outcome}: expected {_show(expected)}, but {policy.id} does not answer it")
            continue
        if got.value != expected:
            lines.append(f"{outcome}: expected {_show(expected)}, got {_show(got.value)}")
            lines.append(f"  rules: {', '.join(got.rules) or '-'}"
                         + (f"; missing: {', '.join(got.missing)}" if got.missing else "")
                         + (f"; not given: {got.not_given[0][:80]}…" if got.not_given else ""))
    for outcome, fields in case.missing.items():
        got = answer.outcomes.get(outcome)
        if got is not None and tuple(got.missing) != fields:
            lines.append(f"{outcome}: expected missing [{', '.join(fields)}], got [{', '.join(got.missing)}]")
    return lines


def _show(value: Any) -> str:
    if value is None:
        return "null (unknown)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "[" + ", ".join(value) + "]"


def coverage(policy: Policy, cases: Iterable[Case]) -> list[Rule]:
    """The rules of ``policy`` that no case makes hold (a rule whose document leaves it open,
    one with a ``not_given`` condition, counts as exercised when a case leaves it unknown)."""
    exercised = exercised_by(policy, cases)
    return [rule for rule in policy.model.rules if not exercised[rule.id]]


def exercised_by(policy: Policy, cases: Iterable[Case]) -> dict[str, list[Case]]:
    """For each rule id of ``policy`` (in the file's order), the cases that exercise it, in
    their order: those whose context makes the rule's condition hold on the reference
    evaluator (or, for a rule whose document leaves it open, leaves it unknown). A case
    whose context cannot be read exercises nothing. `coverage` and the review page use this."""
    engine = policy.engine("reference")
    assert isinstance(engine, ReferenceEngine)
    exercised: dict[str, list[Case]] = {rule.id: [] for rule in policy.model.rules}
    tests = [(rule, _leaves_open(rule)) for rule in policy.model.rules]
    for case in cases:
        try:
            facts = read_context(case.context)
        except ContextError:
            continue
        for rule, leaves_open in tests:
            truth = engine.truth(rule.when, facts)
            if truth == TRUE or (truth == UNKNOWN and leaves_open):
                exercised[rule.id].append(case)
    return exercised


def _leaves_open(rule: Rule) -> bool:
    return any(True for _ in rule.when.find_all(NotGiven))


def policies_dir_for(case_path: Path) -> Path:
    """The policies a case file is written for: the folder that holds its ``cases`` folder."""
    for folder in case_path.parents:
        if folder.name == "cases":
            return folder.parent
    return case_path.parent


def policy_for(case_file: CaseFile, policies: PolicySet) -> Policy:
    """The policy a case file names (by ``policy:``, else by its folder's name)."""
    wanted = case_file.policy_id or Path(case_file.path).parent.name
    try:
        return policies[wanted]
    except KeyError:
        raise PolicyLoadError([Problem(case_file.path, 1, 1,
                                       f"找不到政策 '{wanted}'。\nNo loaded policy has the id '{wanted}'.",
                                       f"Loaded: {', '.join(p.id for p in policies)}.")]) from None
