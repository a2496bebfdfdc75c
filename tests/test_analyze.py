"""`policyrules analyze`: rules that never fire, redundant rules, list gaps, silent groups, holes
between periods; `accepted_findings` in the YAML; the shipped policies analyze clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import policyrules
from policyrules.analyze import analyze_policies, analyze_policy
from policyrules.cli import main
from policyrules.engines.matching import TRUE
from policyrules.errors import NoPolicyError, PolicyLoadError

from .conftest import POLICIES

BEITA = POLICIES / "beita_2021.yaml"
EXTRA_RULES = """
  - id: pay_later.copy
    outcome: pay_later
    when:
      - encounter.kind: inpatient
      - in_county: true
      - encounter.institution.name: {in: beita_pay_later_institutions}
      - person.statuses: {any_of: [rural_dibao]}
    cite:
      clause: 三(一)2
      quote: “先诊疗 后付费”区内定点医疗机构名单
  - id: pay_later.never
    outcome: pay_later
    when:
      - person.age: {at_most: 10}
      - person.age: {at_least: 20}
    cite:
      clause: 三(一)2
      quote: “先诊疗 后付费”区内定点医疗机构名单
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for shared in ("catalogs", "sources"):
        if not (folder / shared).exists():
            (folder / shared).symlink_to(POLICIES / shared)
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def _beita(**replace: str) -> str:
    text = BEITA.read_text("utf-8")
    for old, new in replace.items():
        assert old.replace("_", " ") in text or old in text
        text = text.replace(old, new, 1)
    return text


def test_the_shipped_policies_analyze_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(POLICIES)]) == 0
    out = capsys.readouterr().out
    assert "no findings" in out and "accepted" in out
    assert main(["analyze", str(POLICIES), "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert findings and all(f["accepted"] for f in findings)


def test_a_copied_rule_is_redundant_and_a_contradiction_never_fires(tmp_path: Path) -> None:
    text = BEITA.read_text("utf-8").replace("\nrules:\n", "\nrules:\n" + EXTRA_RULES.lstrip("\n"), 1)
    policy = policyrules.load_policy(_write(tmp_path, "beita_2021.yaml", text))
    found = {(f.kind, f.subject): f for f in analyze_policy(policy) if not f.accepted}
    assert set(found) == {("redundant", "pay_later.copy"), ("never_fires", "pay_later.never")}
    copy = found[("redundant", "pay_later.copy")]
    assert copy.clause == "三(一)2" and copy.witness is not None
    rule = next(r for r in policy.model.rules if r.id == "pay_later.copy")
    facts = policyrules.context.read_context(copy.witness)
    assert policy.engine("reference").compile(rule.when)(facts.values) == TRUE  # type: ignore[attr-defined]
    # the copied rule and the original it copies give the same answer there
    assert policy.evaluate(copy.witness).value("pay_later") is True
    assert main(["analyze", str(tmp_path / "beita_2021.yaml")]) == 1


def test_an_unaccepted_silent_group_is_a_finding(tmp_path: Path) -> None:
    text = BEITA.read_text("utf-8")
    text = text[:text.index("\n# ---------------------------------------------------------------- policyrules analyze")]
    policy = policyrules.load_policy(_write(tmp_path, "beita_2021.yaml", text + "\n"))
    found = [f for f in analyze_policy(policy) if not f.accepted]
    assert [(f.kind, f.subject) for f in found] == [("silent_group", "family_doctor_priority")]
    silent = found[0]
    assert "不是" not in silent.zh and "40号" in silent.en  # tied to the rule's not_given
    assert silent.witness is not None
    assert policy.evaluate(silent.witness).value("family_doctor_priority") is None


def test_a_hole_between_one_region_s_periods(tmp_path: Path) -> None:
    first = _beita().replace("effective_to: 2025-12-31", "effective_to: 2023-12-31", 1)
    second = first.replace("id: beita_2021", "id: beita_2024", 1).replace(
        "effective_from: 2021-11-05", "effective_from: 2024-03-01", 1).replace(
        "effective_to: 2023-12-31", "effective_to: 2025-12-31", 1)
    _write(tmp_path, "beita_2021.yaml", first)
    _write(tmp_path, "beita_2024.yaml", second)
    policies = policyrules.load_policies(tmp_path)
    holes = [f for f in analyze_policies(list(policies)) if f.kind == "period_hole"]
    assert len(holes) == 1 and holes[0].subject == "430511" and holes[0].witness is not None
    assert holes[0].witness["encounter"]["date"] == "2024-01-01"
    with pytest.raises(NoPolicyError):
        policies.evaluate(holes[0].witness)


@pytest.mark.parametrize(("entry", "said"), [
    ("  - kind: never_fire\n    rule: pay_later.low_income_in_county\n", "never_fires"),
    ("  - kind: never_fires\n    outcome: pay_later\n", "names its rule"),
    ("  - kind: list_gap\n    outcome: visit_schedule\n", "No outcome 'visit_schedule'"),
    ("  - kind: redundant\n    rule: pay_later.nothing\n", "No rule 'pay_later.nothing'"),
])
def test_a_bad_accepted_finding_is_named(tmp_path: Path, entry: str, said: str) -> None:
    block = (entry + "    reason: because\n    cite:\n      clause: 三(一)2\n"
             "      quote: “先诊疗 后付费”区内定点医疗机构名单\n")
    text = BEITA.read_text("utf-8").replace("accepted_findings:\n", "accepted_findings:\n" + block, 1)
    with pytest.raises(PolicyLoadError) as error:
        policyrules.load_policy(_write(tmp_path, "beita_2021.yaml", text))
    assert said in str(error.value)
