"""One deliberately broken policy file per loader mistake: the kind of message, line and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import policyrules
from policyrules import PolicyLoadError

from .conftest import FIXTURES, POLICIES

BROKEN = FIXTURES / "broken"

#: fixture name -> (line, column, words the message must contain)
EXPECTED: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "yaml_syntax": (6, 9, ("YAML syntax error", "line 5, column 10")),
    "tab_indent": (5, 1, ("tab", "制表符")),
    "duplicate_key": (7, 3, ("Duplicate key 'issuer'", "line 6")),
    "unknown_key": (6, 3, ("Unknown key 'isuer'", "Did you mean 'issuer'")),
    "wrong_type": (8, 12, ("regions must be a list",)),
    "impossible_date": (9, 19, ("not a real date", "2021-02-30")),
    "effective_to_before_from": (10, 17, ("before effective_from",)),
    "unknown_region": (8, 13, ("Unknown region code '430599'", "Did you mean '430511'")),
    "unknown_status": (16, 29, ("Unknown status 'destitue'", "Did you mean 'destitute'")),
    "unknown_outcome": (31, 14, ("Unknown outcome 'pay_latter'", "Did you mean 'pay_later'")),
    "undefined_group": (36, 35, ("no status group 'rural_low_incom'", "Did you mean 'rural_low_income'")),
    "undefined_catalog": (52, 39, ("no catalog 'majr'", "Did you mean 'major'")),
    "undefined_shared_catalog": (
        21, 15, ("no catalog 'national_major_disease_2020'", "Did you mean 'national_major_diseases_2020'"),
    ),
    "undefined_institution_list": (35, 42, ("no institution list 'lsted'", "Did you mean 'listed'")),
    "not_icd10": (24, 17, ("'C16.900' is not a WHO ICD-10",)),
    "rule_without_citation": (48, 5, ("missing the required key 'cite'",)),
    "fullwidth_colon": (6, 9, ("full-width colon", "全角冒号")),
    "fullwidth_comma": (16, 27, ("full-width comma", "全角逗号")),
    "fullwidth_key": (6, 3, ("Unknown key 'issuer（发文）'", "full-width characters")),
    "unknown_condition_field": (33, 9, ("Unknown condition field 'encounter.knd'", "Did you mean 'encounter.kind'")),
    "bad_enum_value": (33, 25, ("'inpatent' is not a value of encounter.kind", "Did you mean 'inpatient'")),
    "exception_without_grant": (40, 5, ("no rule grants it",)),
    "python_tag": (5, 10, ("tag", "not allowed")),
    "alias": (7, 9, ("anchors and aliases",)),
    "duplicate_rule_id": (48, 5, ("Duplicate rule id 'pay_later.default'",)),
    "rule_id_not_prefixed": (48, 9, ("must start with its outcome", "major_disease_treatment.poor")),
    "age_bounds_twice": (52, 36, ("both at_least and above",)),
    "date_not_dashed": (7, 11, ("written in the form YYYY-MM-DD", "Write 2021-11-05.")),
    "empty": (1, 1, ("The file is empty",)),
    "bom": (1, 1, ("byte-order mark", "UTF-8")),
    "gbk": (4, 13, ("GBK", "UTF-8")),
}


def test_every_fixture_has_an_expectation() -> None:
    assert {p.stem for p in BROKEN.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_is_reported_at_its_place(name: str) -> None:
    line, column, words = EXPECTED[name]
    path = BROKEN / f"{name}.yaml"
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    problems = caught.value.problems
    assert len(problems) == 1, str(caught.value)  # one mistake, one message: no cascades
    problem = problems[0]
    assert (problem.line, problem.column) == (line, column), str(caught.value)
    assert problem.path == str(path)
    text = problem.message + " " + problem.suggestion
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert "\n" in problem.message  # a Chinese line and an English line
    rendered = str(caught.value)
    assert f"{path}:{line}:{column}:" in rendered
    if problem.source_line:
        assert "^" in rendered
    assert isinstance(caught.value, ValueError)


def test_the_valid_base_of_the_fixtures_loads() -> None:
    policy = policyrules.load_policy(FIXTURES / "valid" / "minimal.yaml")
    assert policy.id == "minimal_test"


def test_all_mistakes_of_a_file_in_one_run(tmp_path: Path) -> None:
    text = (FIXTURES / "valid" / "minimal.yaml").read_text("utf-8")
    text = text.replace("  issuer: 测试局", "  isuer: 测试局")
    text = text.replace("statuses: [rural_dibao, destitute]", "statuses: [rural_dibao, destitue]")
    text = text.replace("{any_in: major}", "{any_in: majr}")
    path = tmp_path / "three.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    assert [p.line for p in caught.value.problems] == [6, 16, 52]


def test_tags_never_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (FIXTURES / "valid" / "minimal.yaml").read_text("utf-8").replace(
        "  title: 测试政策", f'  title: !!python/object/apply:os.system ["touch {marker}"]'
    )
    path = tmp_path / "evil.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyLoadError):
        policyrules.load_policy(path)
    assert not marker.exists()


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 30)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    assert "aliases" in str(caught.value)


def test_a_bad_file_in_a_directory_loads_nothing(tmp_path: Path) -> None:
    shutil.copytree(POLICIES, tmp_path / "policies")
    shutil.copy(BROKEN / "unknown_status.yaml", tmp_path / "policies" / "zz_bad.yaml")
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policies(tmp_path / "policies")
    assert all(p.path.endswith("zz_bad.yaml") for p in caught.value.problems)


def test_overlapping_versions_of_one_region(tmp_path: Path) -> None:
    base = (FIXTURES / "valid" / "minimal.yaml").read_text("utf-8")
    (tmp_path / "a.yaml").write_text(base, "utf-8")
    (tmp_path / "b.yaml").write_text(
        base.replace("id: minimal_test", "id: minimal_test_2022").replace(
            "effective_from: 2021-11-05", "effective_from: 2022-06-01"
        ).replace("effective_to: 2022-12-31", "effective_to: null"),
        "utf-8",
    )
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policies(tmp_path)
    (problem,) = caught.value.problems
    assert "overlaps" in problem.message and "2022-06-01" in problem.message
    assert problem.path.endswith("b.yaml") and problem.line == 3


def test_consecutive_versions_load(tmp_path: Path) -> None:
    base = (FIXTURES / "valid" / "minimal.yaml").read_text("utf-8")
    (tmp_path / "a.yaml").write_text(base, "utf-8")
    (tmp_path / "b.yaml").write_text(
        base.replace("id: minimal_test", "id: minimal_test_2023").replace(
            "effective_from: 2021-11-05", "effective_from: 2023-01-01"
        ).replace("effective_to: 2022-12-31", "effective_to: null"),
        "utf-8",
    )
    assert len(policyrules.load_policies(tmp_path)) == 2


def test_quote_not_in_the_source_text(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    path = folder / "beita_2021.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("对肺结核患者免费提供抗痨药物治疗", "对肺结核患者免费提供抗结核药物治疗"), "utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(path)
    (problem,) = caught.value.problems
    assert "not in the source text" in problem.message


def test_missing_file() -> None:
    with pytest.raises(PolicyLoadError) as caught:
        policyrules.load_policy(FIXTURES / "nope.yaml")
    assert "Cannot read" in str(caught.value)
