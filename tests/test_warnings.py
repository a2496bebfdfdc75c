"""Issue 10 items 2-4: a lone copied policy's quotes are checked against the shipped sources
(or it is said that they were not), warnings that do not stop a file loading, and quote
mismatches shown where the quote is, beside the document's nearest passage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import policyrules
from policyrules import PolicyLoadError

from .conftest import POLICIES, ROOT

BEITA = (POLICIES / "beita_2021.yaml").read_text("utf-8")
QUOTE = "我区将县域内定点医疗机构住院先诊疗后付费政策保障对象调整为农村低保对象、特困人员"


def _lone(tmp_path: Path, text: str = BEITA) -> Path:
    """A policy copied alone (its catalogs beside it, no sources/)."""
    shutil.copytree(POLICIES / "catalogs", tmp_path / "catalogs")
    path = tmp_path / "beita_2021.yaml"
    path.write_text(text, "utf-8")
    return path


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policyrules.cli", "check", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


# ---------------------------------------------------------------- item 2: a lone copied policy


def test_a_lone_copied_policy_is_checked_against_the_shipped_sources(tmp_path: Path) -> None:
    path = _lone(tmp_path, BEITA.replace(QUOTE, QUOTE.replace("我区", "我县"), 1))
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    assert "This quote is not in the source text 001_df8287ab396bc7a1.txt" in str(caught.value)
    result = _check(str(path))
    assert result.returncode == 2 and "no problems" not in result.stdout


def test_where_no_source_is_found_check_says_the_quotes_were_not_checked(tmp_path: Path) -> None:
    path = _lone(tmp_path, BEITA.replace("seed: 001_df8287ab396bc7a1.txt", "seed: 999_not_shipped.txt"))
    policy = policyrules.load_policy(path)  # a warning never stops loading
    (warning,) = policy.warnings
    assert warning.is_warning and "The quotes were not checked" in warning.message
    result = _check(str(path))
    assert result.returncode == 0, result.stderr
    text = path.read_text("utf-8")
    line = text[: text.index("seed: 999")].count("\n") + 1
    assert (warning.line, warning.column) == (line, 9)  # the seed's value
    assert f"{path}:{line}:9: warning: 没有找到原文 999_not_shipped.txt，引文没有核对。" in result.stdout
    assert "1 warning" in result.stdout
    assert _check("--strict", str(path)).returncode == 1


def test_a_sources_folder_without_the_seed_is_still_an_error(tmp_path: Path) -> None:
    path = _lone(tmp_path, BEITA.replace("seed: 001_df8287ab396bc7a1.txt", "seed: 999_not_shipped.txt"))
    (tmp_path / "sources").mkdir()
    with pytest.raises(PolicyLoadError, match="does not exist"):
        policyrules.load_policy(path)


# ---------------------------------------------------------------- item 3: warnings


def test_the_shipped_policies_have_no_warning() -> None:
    assert [w.render() for p in policyrules.load_policies(POLICIES) for w in p.warnings] == []
    assert _check("--strict", str(POLICIES)).returncode == 0


def test_a_member_name_not_in_the_cited_document_is_a_warning(tmp_path: Path) -> None:
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies" / "beita_2021.yaml"
    text = BEITA.replace("      - name: 陈家桥卫生院\n", "      - name: 陈家桥镇卫生院\n", 1)
    path.write_text(text, "utf-8")
    policy = policyrules.load_policy(path)
    (warning,) = policy.warnings
    line = text[: text.index("- name: 陈家桥镇卫生院")].count("\n") + 1
    assert (warning.line, warning.column) == (line, 9)
    assert "'陈家桥镇卫生院'" in warning.message and "does not occur in the source text" in warning.message
    rendered = warning.render()
    assert rendered.startswith(f"{path}:{line}:9: warning: 名单 beita_pay_later_institutions 的成员")
    # An alias the notice does not print is not warned of: aliases are other spellings.
    assert "陈家桥乡卫生院" in text


def test_a_rule_repeated_under_a_new_id_is_a_warning(tmp_path: Path) -> None:
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies" / "beita_2021.yaml"
    start = BEITA.index("  - id: pay_later.default_on_past_bill")
    end = BEITA.index("\n\n", start)
    copy = BEITA[start:end].replace("pay_later.default_on_past_bill", "pay_later.default_again")
    # Re-indented and re-cited, the condition is still the same (spans are not compared).
    copy = copy.replace("      - history.pay_later_default: true", "      - {history.pay_later_default: true}")
    text = BEITA[:end] + "\n" + copy + BEITA[end:]
    path.write_text(text, "utf-8")
    (warning,) = policyrules.load_policy(path).warnings
    assert "'pay_later.default_again' repeats the outcome, effect and condition" in warning.message
    assert "'pay_later.default_on_past_bill'" in warning.message
    assert warning.line == text[: text.index("  - id: pay_later.default_again")].count("\n") + 1


def test_two_outcomes_sharing_a_condition_are_no_repeat() -> None:
    """北塔's pay_later and deposit_exempt rules share one condition for different outcomes."""
    beita = policyrules.load_policy(POLICIES / "beita_2021.yaml")
    rules = {r.id: r for r in beita.model.rules}
    assert rules["pay_later.low_income_in_county"].when == rules["deposit_exempt.low_income_in_county"].when
    assert beita.warnings == ()


# ---------------------------------------------------------------- item 4: quote mismatches


@pytest.mark.parametrize(("old", "new", "quote_has", "document_has"), [
    ("我区将县域内", "我县将县域内", "'县' (U+53BF)", "'区' (U+533A)"),
    ("农村低保对象、特困人员", "农村低保对象,特困人员", "',' (U+002C)", "'、' (U+3001)"),
])
def test_a_quote_mismatch_points_at_the_quote_and_shows_the_first_difference(
        tmp_path: Path, old: str, new: str, quote_has: str, document_has: str) -> None:
    path = _lone(tmp_path, BEITA.replace(QUOTE, QUOTE.replace(old, new), 1))
    text = path.read_text("utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    (problem,) = caught.value.problems
    quote_at = text.index(QUOTE.replace(old, new))
    line = text[:quote_at].count("\n") + 1
    column = quote_at - text.rfind("\n", 0, quote_at)
    assert (problem.line, problem.column) == (line, column)  # the quote, not '- clause:'
    assert problem.source_line.lstrip().startswith("quote: ")
    assert f"the quote has {quote_has}, the document {document_has}" in problem.suggestion
    assert "nearest passage of the document reads '" in problem.message
    chinese, english = problem.message.split("\n")
    assert "原文最接近处“" in chinese and old[:2] in chinese.split("原文最接近处")[1]


def test_first_difference_finds_the_nearest_passage() -> None:
    from policyrules.loading.quotes import first_difference

    text = "前言。我区将县域内定点医疗机构住院先诊疗后付费。后记。"
    diff = first_difference("我区将县域外定点医疗机构", text)
    assert (diff.index, diff.quote_char, diff.document_char) == (5, "外", "内")
    diff = first_difference("你区将县域内定点医疗机构", text)  # differs at once: aligned on the common run
    assert (diff.index, diff.quote_char, diff.document_char) == (0, "你", "我")
    diff = first_difference("后付费。后记。再见", text)  # runs past the end
    assert (diff.quote_char, diff.document_char) == ("再", "")
