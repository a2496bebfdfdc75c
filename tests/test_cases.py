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


def test_cli_test_without_paths_tests_the_current_folders_cases(tmp_path: Path) -> None:
    """Issue 10 item 1: in an edited copy of policies/, `policyrules test` tests the copy's cases
    against the copy's policies, and says which set it tests; elsewhere, the shipped set."""
    copy = tmp_path / "work"
    shutil.copytree(POLICIES, copy / "policies")
    beita = copy / "policies" / "beita_2021.yaml"
    text = beita.read_text("utf-8")
    beita.write_text(text.replace("      - name: 陈家桥卫生院\n        aliases: [陈家桥乡卫生院]\n", ""), "utf-8")
    run = lambda cwd: subprocess.run([sys.executable, "-m", "policyrules.cli", "test"],  # noqa: E731
                                     capture_output=True, text=True, cwd=cwd, timeout=300)
    edited = run(copy)
    assert "testing the cases of this folder: policies/cases/" in edited.stdout
    assert edited.returncode == 1 and "陈家桥" in edited.stdout and " 0 failed" not in edited.stdout
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    shipped = run(elsewhere)
    assert "testing the shipped cases" in shipped.stdout and shipped.returncode == 0, shipped.stdout


# ---------------------------------------------------------------- issue 10 item 7: required coverage


def _cases_of(policy_id: str, *, without: str = "") -> list:
    from policyrules.cases import find_case_files

    out = []
    for path in find_case_files([POLICIES / "cases" / policy_id]):
        out.extend(c for c in read_case_file(path).cases if not (without and without in str(c.context)))
    return out


class _Ctx:
    def __init__(self, **context: object) -> None:
        self.context = context


def test_the_shipped_cases_reach_full_required_coverage() -> None:
    from policyrules.coverage import required_coverage

    for policy in policyrules.load_policies(POLICIES):
        report = required_coverage(policy, _cases_of(policy.id))
        assert report.required, policy.id
        assert [r.render() for r in report.unexercised] == [], policy.id
        assert 0 <= report.entries_exercised <= report.entries_total


def test_a_member_no_case_decides_alone_is_not_exercised(beita: policyrules.Policy) -> None:
    """Without the cases at 新滩镇街道社区卫生服务中心 every rule is still exercised, but that member is not."""
    from policyrules.coverage import required_coverage

    cases = _cases_of("beita_2021", without="新滩镇街道社区卫生服务中心")
    assert coverage(beita, cases) == []
    report = required_coverage(beita, cases)
    assert [r.what for r in report.unexercised] == ["institution 新滩镇街道社区卫生服务中心 (beita_pay_later_institutions)"]
    assert report.unexercised[0].span is not None and report.unexercised[0].span.line > 1


def test_a_member_counts_only_where_it_alone_decides(beita: policyrules.Policy) -> None:
    from policyrules.coverage import required_coverage

    def stay(kind: str, name: str, statuses: list[str]) -> _Ctx:
        return _Ctx(person={"statuses": statuses, "insured_region": "430511"},
                    encounter={"kind": kind, "date": "2022-03-01", "institution": {"name": name, "region": "430511"}})

    def unexercised(*cases: _Ctx) -> set[str]:
        return {r.what for r in required_coverage(beita, cases).unexercised}

    member = "institution 茶元街道社区卫生服务中心 (beita_pay_later_institutions)"
    assert member in unexercised(stay("outpatient", "茶元街道社区卫生服务中心", ["destitute"]))  # 住院 fails anyway
    assert member in unexercised(stay("inpatient", "茶元街道社区卫生服务中心", []))  # no status: false anyway
    assert member not in unexercised(stay("inpatient", "茶元街道社区卫生服务中心", ["destitute"]))
    assert member not in unexercised(stay("inpatient", "茶元街道 社区卫生服务中心", ["destitute"]))  # as engines match
    # Two granting statuses: neither decides alone; one does.
    both = unexercised(stay("inpatient", "陈家桥卫生院", ["destitute", "rural_dibao"]))
    assert {"status destitute (rural_low_income)", "status rural_dibao (rural_low_income)"} <= both
    assert "status destitute (rural_low_income)" not in unexercised(stay("inpatient", "陈家桥卫生院", ["destitute"]))


def test_each_side_of_an_age_bound_is_required() -> None:
    from policyrules.coverage import required_coverage

    xixian = policyrules.load_policy(POLICIES / "xixian_2017.yaml")

    def person(age: int, statuses: list[str]) -> _Ctx:
        return _Ctx(person={"age": age, "statuses": statuses, "insured_region": "141031"},
                    encounter={"date": "2018-03-01"})

    def exercised(*cases: _Ctx) -> set[str]:
        report = required_coverage(xixian, cases)
        return {r.what for r in report.required} - {r.what for r in report.unexercised}

    assert "age >= 65 (at_least: 65)" in exercised(person(65, []))
    assert "age < 65 (at_least: 65)" in exercised(person(64, []))
    # A priority status decides the rule whatever the age: the age decides nothing alone.
    assert not {"age >= 65 (at_least: 65)", "age < 65 (at_least: 65)"} & exercised(
        person(65, ["bedridden"]), person(64, ["bedridden"]))


def test_cli_coverage_requires_the_members_and_reports_catalog_entries(tmp_path: Path) -> None:
    folder = tmp_path / "cases" / "beita_2021"
    folder.mkdir(parents=True)
    for path in (POLICIES / "cases" / "beita_2021").glob("*.yaml"):
        if path.name != "coverage_members.yaml":
            shutil.copy(path, folder / path.name)
    run = lambda: subprocess.run([sys.executable, "-m", "policyrules.cli", "test", str(folder), "--policies",  # noqa: E731
                                  str(POLICIES), "--coverage"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    import re

    result = run()
    rules = re.search(r"coverage beita_2021: (\d+) of (\d+) rules exercised", result.stdout)
    assert rules and rules[1] == rules[2], result.stdout  # every rule is exercised ...
    members = re.search(r"(\d+) of (\d+) list members, age-bound sides and group statuses exercised alone",
                        result.stdout)
    assert members and int(members[1]) == int(members[2]) - 1, result.stdout  # ... but one member is not
    assert "not exercised alone: " in result.stdout and "新滩镇街道社区卫生服务中心" in result.stdout
    assert re.search(r"catalog entries exercised: \d+ of \d+", result.stdout)
    assert result.returncode == 1
    shutil.copy(POLICIES / "cases" / "beita_2021" / "coverage_members.yaml", folder)
    full = run()
    assert full.returncode == 0 and f"{members[2]} of {members[2]} list members" in full.stdout, full.stdout
