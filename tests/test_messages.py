"""Issue 10 item 5: the loader's messages speak one language a line, and each common mistake
gets its own fix (YAML syntax errors, dates written the Chinese or dotted way, a duplicate id)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import policyrules
from policyrules import PolicyLoadError, Problem
from policyrules.loading import SECTIONS

from .conftest import FIXTURES

MINIMAL = (FIXTURES / "broken" / "date_not_dashed.yaml").read_text("utf-8").replace("issued: 20211105", "issued: 2021-11-05")

#: name -> a YAML text with the mistake (each a complaint PyYAML makes in its own words).
SYNTAX = {
    "value with ': '": "policy:\n  id: x\n  title: a: b\n",
    "missing ':'": "policy:\n  id: x\n  title\n  b: c\n",
    "key out of line": "a:\n  - x\n  - y\n b: 1\n",
    "list item out of line": "a:\n  - b\n  c: 1\n",
    "unclosed [": "a: [1, 2\nb: 3\n",
    "unclosed {": "a: {x: 1\nb: 3\n",
    "unclosed quote": 'a: "abc\n',
    "bad escape": 'a: "\\q"\n',
    "value starting with @": "a: @x\n",
    "value starting with *": "a: *\n",
}

_KEYS = {key for required, optional in SECTIONS.values() for key in (*required, *optional)} | {
    "above", "below", "at_least", "at_most", "between", "any_of", "any_in", "in", "not_given", "id", "seed"}
_QUOTED = re.compile(r"'[^']*'|“[^”]*”|\"[^\"]*\"|‘[^’]*’|\[\.\.\.\]|\{\.\.\.\}")


def _problem(tmp_path: Path, text: str) -> Problem:
    path = tmp_path / "p.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    (problem,) = caught.value.problems
    return problem


def _one_language_a_line(problem: Problem) -> None:
    chinese, english = problem.message.split("\n")
    # The key a message is about (``issued``) and the names YAML and YYYY-MM-DD are not English words.
    bare = re.sub(r"^[a-z_.]+ ", "", _QUOTED.sub("", chinese)).replace("YAML", "").replace("YYYY-MM-DD", "")
    assert not re.search(r"[A-Za-z]{3,}", bare), chinese
    assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
    assert not re.search(r"[\u4e00-\u9fff]", _QUOTED.sub("", english)), english
    assert not re.search(r"[\u4e00-\u9fff]", _QUOTED.sub("", problem.suggestion)), problem.suggestion


@pytest.mark.parametrize("name", sorted(SYNTAX))
def test_a_yaml_syntax_error_is_translated_with_its_own_fix(tmp_path: Path, name: str) -> None:
    problem = _problem(tmp_path, SYNTAX[name])
    assert problem.message.startswith("YAML 格式错误："), problem.message
    assert "YAML syntax error: " in problem.message
    assert problem.suggestion and "docs/policy-format.md" not in problem.suggestion, problem.suggestion
    _one_language_a_line(problem)


def test_the_yaml_fixes_differ_by_mistake(tmp_path: Path) -> None:
    fixes = {name: _problem(tmp_path, text).suggestion for name, text in SYNTAX.items()}
    assert len(set(fixes.values())) >= 8, fixes


@pytest.mark.parametrize("written", ["2021年11月5日", "2021.11.05", "2021/11/05", "2021-11-5", "20211105",
                                     "2021 年 11 月 05 日"])
def test_a_date_written_another_way_gets_the_iso_spelling(tmp_path: Path, written: str) -> None:
    problem = _problem(tmp_path, MINIMAL.replace("issued: 2021-11-05", f"issued: '{written}'"))
    assert problem.suggestion == "Write 2021-11-05.", problem.suggestion
    assert "YYYY-MM-DD" in problem.message
    _one_language_a_line(problem)


def test_a_date_that_does_not_exist_is_still_called_so(tmp_path: Path) -> None:
    problem = _problem(tmp_path, MINIMAL.replace("issued: 2021-11-05", "issued: 2021年2月30日"))
    assert "not a real date" in problem.message and "Write" not in problem.suggestion


def test_a_duplicate_rule_id_has_a_fix() -> None:
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(FIXTURES / "broken" / "duplicate_rule_id.yaml")
    (problem,) = caught.value.problems
    assert "Give each rule its own id" in problem.suggestion
    _one_language_a_line(problem)


def _mixes(line: str) -> bool:
    """Whether ``line`` has Chinese and an English word outside quotes, ids and codes."""
    bare = _QUOTED.sub("", line)
    bare = re.sub(r"`[^`]*`|\([^)]*\.[a-z]+\)|[A-Za-z_]+[._][A-Za-z_.]+|[a-z]+_[a-z_]+", "", bare)
    for name in ("YAML", "YYYY-MM-DD", "UTF-8", "GBK", "GB2312", "BOM", "CONTRACT", "ICD-10", "WHO", "Tab", "Rete",
                 "Windows", "durable_rules"):
        bare = bare.replace(name, "")
    # The format's own keys are names, not English words (at_least 和 above).
    bare = re.sub(r"\b[a-z_]+\b", lambda m: "" if m.group() in _KEYS else m.group(), bare)
    has_chinese = re.search(r"[\u4e00-\u9fff]", bare) is not None
    has_english = re.search(r"\b[A-Za-z]{3,}\b", re.sub(r"^\s*[a-z_.]+ ", "", bare)) is not None
    return has_chinese and has_english


@pytest.mark.parametrize("name", sorted(p.stem for p in (FIXTURES / "broken").glob("*.yaml")))
def test_no_line_of_a_loader_message_mixes_the_languages(name: str) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(FIXTURES / "broken" / f"{name}.yaml")
    rendered = str(caught.value).split("\n")
    for problem in caught.value.problems:
        source = problem.source_line.rstrip("\n").replace("\t", " ")
        for line in rendered:
            if line.strip() and line.strip() != source.strip() and set(line.strip()) != {"^"}:
                assert not _mixes(line.split(": ", 1)[-1] if line.startswith(str(FIXTURES)) else line), line
