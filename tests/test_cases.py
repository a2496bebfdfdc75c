"""The YAML case runner: failures say where and what, coverage names unexercised rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import policyrules
from policyrules import PolicyLoadError
from policyrules.cases import coverage, read_case_file, run_cases

from .conftest import POLICIES, ROOT

WORKED = POLICIES / "cases" / "beita_2021" / "pay_later_worked_example.yaml"


def test_the_worked_example_passes(beita: policyrules.Policy) -> None:
    case_file = read_case_file(WORKED)
    assert case_file.policy_id == "beita_2021" and len(case_file.cases) == 6
    assert run_cases(case_file, beita) == []
    # dates are read as text, as JSON would carry them
    assert case_file.cases[0].context["encounter"]["date"] == "2022-03-01"


def test_a_failure_names_file_case_outcome_and_rules(tmp_path: Path, beita: policyrules.Policy) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(WORKED.read_text("utf-8").replace(
        "expect: {pay_later: true, deposit_exempt: true}", "expect: {pay_later: false, deposit_exempt: true}"), "utf-8")
    (failure,) = run_cases(read_case_file(path), beita)
    text = failure.render()
    assert f"{path}:4: case '特困人员在区内陈家桥卫生院住院'" in text
    assert "pay_later: expected false, got true" in text
    assert "rules: pay_later.low_income_in_county" in text


def test_expected_missing_is_checked(tmp_path: Path, beita: policyrules.Policy) -> None:
    path = tmp_path / "missing.yaml"
    path.write_text(WORKED.read_text("utf-8").replace(
        "missing: {pay_later: [person.statuses]}", "missing: {pay_later: [person.age]}"), "utf-8")
    (failure,) = run_cases(read_case_file(path), beita)
    assert "expected missing [person.age], got [person.statuses]" in failure.render()


def test_coverage_names_the_rules_no_case_exercises(beita: policyrules.Policy) -> None:
    uncovered = {rule.id for rule in coverage(beita, read_case_file(WORKED).cases)}
    assert "pay_later.low_income_in_county" not in uncovered
    assert "pay_later.default_on_past_bill" not in uncovered
    assert "free_tb_treatment.pulmonary_tb" in uncovered


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("expect: {pay_later: null}", "expect: {pay_latr: null}", "Unknown outcome 'pay_latr'"),
        ("expect: {pay_later: false}", "expect: {pay_later: maybe}", "must be true, false or null"),
    ],
)
def test_a_bad_case_file_is_reported_at_its_place(tmp_path: Path, old: str, new: str, words: str) -> None:
    text = WORKED.read_text("utf-8")
    line = text[: text.index(old)].count("\n") + 1
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        read_case_file(path)
    (problem,) = caught.value.problems
    assert problem.line == line and words in problem.message


def test_cli_test_exit_codes(tmp_path: Path) -> None:
    folder = tmp_path / "cases" / "beita_2021"
    folder.mkdir(parents=True)
    shutil.copy(WORKED, folder / "ok.yaml")
    run = lambda *a: subprocess.run([sys.executable, "-m", "policyrules.cli", "test", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT, timeout=120)
    ok = run(str(folder), "--policies", str(POLICIES))
    assert ok.returncode == 0 and "6 passed, 0 failed" in ok.stdout
    (folder / "ok.yaml").write_text(WORKED.read_text("utf-8").replace("pay_later: true, deposit", "pay_later: false, deposit"), "utf-8")
    bad = run(str(folder), "--policies", str(POLICIES))
    assert bad.returncode == 1 and "5 passed, 1 failed" in bad.stdout
    missing = run("no/such/cases")
    assert missing.returncode == 2 and "No such file" in missing.stderr


def test_every_shipped_rule_is_exercised_by_a_case() -> None:
    """Issue: `policyrules test --coverage` lists no rule for the shipped policies."""
    from policyrules.cases import find_case_files, policy_for

    policies = policyrules.load_policies(POLICIES)
    cases: dict[str, list] = {}
    for path in find_case_files([POLICIES / "cases"]):
        case_file = read_case_file(path)
        cases.setdefault(policy_for(case_file, policies).id, []).extend(case_file.cases)
    assert set(cases) == {p.id for p in policies}, "every shipped policy has cases"
    for policy in policies:
        assert len(cases[policy.id]) >= 15, policy.id
        assert [r.id for r in coverage(policy, cases[policy.id])] == [], policy.id


def test_a_case_quote_must_stand_in_the_document(tmp_path: Path, beita: policyrules.Policy) -> None:
    path = tmp_path / "quote.yaml"
    path.write_text(WORKED.read_text("utf-8").replace(
        "quote: 县域内定点医疗机构住院先诊疗后付费\n", "quote: 县域外定点医疗机构住院先诊疗后付费\n", 1), "utf-8")
    (failure,) = run_cases(read_case_file(path), beita)
    assert "is not in the source text 001_df8287ab396bc7a1.txt" in failure.render()


def test_case_names_are_unique_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(WORKED.read_text("utf-8").replace("name: 同上，身份未知", "name: 特困人员在区内陈家桥卫生院住院"), "utf-8")
    with pytest.raises(PolicyLoadError, match="Duplicate case name"):
        read_case_file(path)


def test_coverage_fails_the_command_when_a_rule_is_not_exercised(tmp_path: Path) -> None:
    folder = tmp_path / "cases" / "beita_2021"
    folder.mkdir(parents=True)
    shutil.copy(WORKED, folder / "ok.yaml")
    result = subprocess.run([sys.executable, "-m", "policyrules.cli", "test", str(folder), "--policies",
                             str(POLICIES), "--coverage"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1 and "not exercised" in result.stdout and "6 passed, 0 failed" in result.stdout
    full = subprocess.run([sys.executable, "-m", "policyrules.cli", "test", "--coverage"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert full.returncode == 0 and "not exercised" not in full.stdout


def test_a_failure_shows_the_deciding_condition_in_words(tmp_path: Path, beita: policyrules.Policy) -> None:
    path = tmp_path / "wrong.yaml"
    head, sep, tail = WORKED.read_text("utf-8").partition("name: 邵阳市中心医院")
    assert sep, "the worked example has its 邵阳市中心医院 case"
    path.write_text(head + sep + tail.replace("expect: {pay_later: false}", "expect: {pay_later: true}", 1), "utf-8")
    (failure,) = run_cases(read_case_file(path), beita)
    rendered = failure.render()
    assert "pay_later: expected true, got false" in rendered
    assert ("pay_later.low_income_in_county: 邵阳市中心医院 不在「北塔区“先诊疗 后付费”区内定点医疗机构名单（附件2）」名单上"
            " / 邵阳市中心医院 is not on the list beita_pay_later_institutions") in rendered
