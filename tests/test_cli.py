"""The command line, run as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import policyrules

from .conftest import FIXTURES, POLICIES, ROOT

EXAMPLES = ROOT / "examples"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policyrules.cli", *args],
        capture_output=True, text=True, input=stdin, cwd=ROOT, timeout=120,
    )


def test_check_the_shipped_policies_is_clean() -> None:
    result = run("check", str(POLICIES))
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stdout


def test_check_reports_every_problem_with_place() -> None:
    result = run("check", str(FIXTURES / "broken" / "unknown_status.yaml"), str(FIXTURES / "broken" / "tab_indent.yaml"))
    assert result.returncode == 2
    assert "unknown_status.yaml:16:29:" in result.stderr
    assert "tab_indent.yaml:5:1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_a_missing_path() -> None:
    result = run("check", "no/such/dir")
    assert result.returncode == 2 and "No such file" in result.stderr


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_is_answered_with_citations(example: str) -> None:
    result = run("evaluate", str(EXAMPLES / example), "--policies", str(POLICIES), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["schema_version"] == "1"
    for outcome in answer["outcomes"].values():
        if outcome["value"] is True:
            assert outcome["citations"] and all(c["quote"] for c in outcome["citations"])
    readable = run("evaluate", str(EXAMPLES / example))
    assert readable.returncode == 0, readable.stderr
    assert answer["policy"]["document"] in readable.stdout


def test_evaluate_with_one_policy_file() -> None:
    result = run("evaluate", str(EXAMPLES / "beita_destitute_inpatient.json"), "--policy", str(POLICIES / "beita_2021.yaml"))
    assert result.returncode == 0, result.stderr
    assert "pay_later (先诊疗后付费): yes" in result.stdout
    assert "三(一)2" in result.stdout


def test_bad_context_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"person": {"statuses": ["destitue"], "insured_region": "430511"},
                                "encounter": {"date": "2022-01-01"}}), "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 2
    assert "person.statuses" in result.stderr and "destitute" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"person": {', "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 2 and "bad.json:1:" in result.stderr and "not valid JSON" in result.stderr


def test_no_policy_for_the_region(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"person": {"insured_region": "110101"}, "encounter": {"date": "2022-01-01"}}), "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 2 and "110101" in result.stderr and "beita_2021" in result.stderr


def test_json_lines_answers_the_good_lines_and_names_the_bad_one(tmp_path: Path) -> None:
    good = json.loads((EXAMPLES / "beita_destitute_inpatient.json").read_text("utf-8"))
    lines = [json.dumps(good), '{"person": {"age": "old"}}', "{not json", json.dumps(good)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = run("evaluate", str(path), "--json")
    assert result.returncode == 1  # some lines are not answered (2: the input cannot be read at all)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 3, 4]
    assert "outcomes" in rows[0] and "outcomes" in rows[3]
    assert [e["field"] for e in rows[1]["errors"]] == ["person.age"]
    assert rows[2]["errors"][0]["field"] is None and rows[2]["errors"][0]["column"] == 2
    assert "many.jsonl:2" in result.stderr and "Traceback" not in result.stderr


def test_json_lines_from_stdin() -> None:
    good = (EXAMPLES / "beita_destitute_inpatient.json").read_text("utf-8")
    line = json.dumps(json.loads(good))
    result = run("evaluate", "-", "--json", stdin=f"{line}\n{line}\n")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_bad_policy_file_for_evaluate() -> None:
    result = run("evaluate", str(EXAMPLES / "beita_destitute_inpatient.json"), "--policy", str(FIXTURES / "broken" / "gbk.yaml"))
    assert result.returncode == 2 and "gbk.yaml:4:13:" in result.stderr and "GBK" in result.stderr


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_rete_answers_every_example_exactly_as_reference(example: str) -> None:
    from policyrules.engines import rete_runner as rete

    if not rete.AVAILABLE:
        pytest.skip(rete.UNAVAILABLE_REASON)
    answers = []
    for engine in ("rete", "reference"):
        result = run("evaluate", str(EXAMPLES / example), "--json", "--engine", engine)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert answer["policy"].pop("engine") == engine
        answers.append(answer)
    assert answers[0] == answers[1]


def test_the_readme_shows_real_output() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    command = "$ policyrules evaluate examples/beita_destitute_inpatient.json\n"
    shown = readme[readme.index(command) + len(command):].split("\n… (")[0].splitlines()
    result = run("evaluate", "examples/beita_destitute_inpatient.json")
    assert result.returncode == 0
    real = result.stdout.splitlines()
    assert shown and all(line in real for line in shown if line)


def test_an_engine_failure_is_a_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A ReteError or EngineDisagreement in the middle of a run ends it with a message and exit 2."""
    from policyrules import cli
    from policyrules.engines.reference import ReferenceEngine

    def fail(self: object, facts: object) -> None:
        raise policyrules.EngineDisagreement("pay_later", True, False)

    monkeypatch.setattr(ReferenceEngine, "evaluate", fail)
    code = cli.main(["evaluate", str(ROOT / "examples" / "beita_destitute_inpatient.json"), "--engine", "reference"])
    assert code == 2
    assert "no answer is given: EngineDisagreement" in capsys.readouterr().err
def test_the_readme_shows_real_explain_output() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    command = "$ policyrules explain examples/beita_destitute_shaoyang_central.json\n"
    shown = readme[readme.index(command) + len(command):].split("\n… (")[0].splitlines()
    result = run("explain", "examples/beita_destitute_shaoyang_central.json")
    assert result.returncode == 0, result.stderr
    real = result.stdout.splitlines()
    assert shown and all(line in real for line in shown if line)
