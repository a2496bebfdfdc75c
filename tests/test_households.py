"""Households (issue 15): a member's household statuses come from the household's list, three-valued
per partition, and a household is answered whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policyrules
from policyrules.testing import full_contexts, household_statuses, households, omit_fields
from policyrules.vocabulary import HOUSEHOLD_OUTCOMES, HOUSEHOLD_STATUSES, PASSING_STATUSES, STATUSES

from .conftest import POLICIES, ROOT

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}
PERSON_ONLY = sorted(set(STATUSES) - set(HOUSEHOLD_STATUSES))


def _outcomes(answer: policyrules.Determination) -> dict[str, Any]:
    return {name: outcome for name, outcome in answer.to_dict()["outcomes"].items()
            if name not in HOUSEHOLD_OUTCOMES}


def _engines() -> list[str]:
    from policyrules.engines import rete_runner

    return [e for e in policyrules.ENGINES if e != "rete" or rete_runner.AVAILABLE]


@pytest.mark.parametrize("name", POLICY_FILES)
def test_a_member_answers_as_the_person_with_the_passing_statuses_copied(name: str) -> None:
    policy = LOADED[name]

    @given(full_contexts(policy), household_statuses())
    def check(flat: dict[str, Any], household: list[str]) -> None:
        member = omit_fields(flat, set()) | {"household": {"statuses": household}}
        alone = dict(flat)
        alone["person.statuses"] = sorted(set(flat["person.statuses"]) | (set(household) & PASSING_STATUSES))
        for engine in _engines():
            assert _outcomes(policy.evaluate(member, engine=engine)) == _outcomes(
                policy.evaluate(omit_fields(alone, set()), engine=engine)), engine

    check()


@pytest.mark.parametrize("name", POLICY_FILES)
def test_without_the_person_list_a_decided_answer_holds_for_every_own_status(name: str) -> None:
    """With person.statuses absent, a member's decided value is the value of every completion of
    its own statuses (unknown, never a wrong no, where the household does not settle it), and
    `missing` names the field that would settle it."""
    policy = LOADED[name]

    @given(full_contexts(policy), household_statuses(), st.lists(st.sampled_from(PERSON_ONLY), max_size=3))
    def check(flat: dict[str, Any], household: list[str], own: list[str]) -> None:
        member = omit_fields(flat, {"person.statuses"}) | {"household": {"statuses": household}}
        alone = dict(flat)
        alone["person.statuses"] = sorted(set(own) | (set(household) & PASSING_STATUSES))
        partial = policy.evaluate(member)
        complete = policy.evaluate(omit_fields(alone, set()))
        for outcome_name, outcome in partial.outcomes.items():
            if outcome.value is not None and outcome_name not in HOUSEHOLD_OUTCOMES:
                assert complete[outcome_name].value == outcome.value, outcome_name
            assert "household.statuses" not in outcome.missing
        for engine in _engines():
            assert policy.evaluate(member, engine=engine).to_dict()["outcomes"] == partial.to_dict()["outcomes"]

    check()


def test_a_person_only_status_in_a_households_list_is_refused() -> None:
    with pytest.raises(policyrules.ContextError) as caught:
        LOADED["beita_2021.yaml"].evaluate({"household": {"statuses": ["pregnant_or_postpartum", "rural_dibao"]}})
    (problem,) = caught.value.problems
    assert problem.field == "household.statuses" and "person's own status" in problem.message


def test_missing_names_the_household_when_only_household_statuses_would_settle() -> None:
    policy = LOADED["guyang_2020.yaml"]
    context = {"household": {"id": "h"}, "person": {"insured_region": "150222"},
               "encounter": {"kind": "inpatient", "date": "2020-08-07",
                             "institution": {"name": "固阳县医院", "region": "150222", "designated": True}}}
    assert policy.evaluate(context)["pay_later"].missing == ("household.statuses",)
    del context["household"]
    assert policy.evaluate(context)["pay_later"].missing == ("person.statuses",)


@pytest.mark.parametrize("name", POLICY_FILES)
def test_a_household_is_answered_member_by_member(name: str) -> None:
    policy = LOADED[name]

    @given(households(policy))
    def check(context: dict[str, Any]) -> None:
        answer = policy.evaluate_household(context)
        members = context["household"]["members"]
        assert [m.id for m in answer.members] == [m["id"] for m in members]
        for member, got in zip(members, answer.members, strict=True):
            alone = {k: v for k, v in member.items()} | {"household": {
                k: v for k, v in context["household"].items() if k != "members"}}
            assert _outcomes(got) == _outcomes(policy.evaluate(alone))
        assert set(answer.outcomes) <= HOUSEHOLD_OUTCOMES
        json.dumps(answer.to_dict())

    check()


def test_a_bad_member_is_named() -> None:
    with pytest.raises(policyrules.ContextError) as caught:
        LOADED["beita_2021.yaml"].evaluate_household(
            {"household": {"id": "h", "members": [{"id": "a", "person": {"age": -1}}]}})
    assert caught.value.problems[0].field == "household.members[0].person.age"


def test_the_cli_answers_a_json_lines_file_of_households(tmp_path: Path) -> None:
    lines = [
        {"household": {"id": "h1", "statuses": ["registered_poor"], "members": [
            {"id": "a", "person": {"insured_region": "141031"}, "encounter": {"date": "2017-06-01"}}]}},
        {"household": {"id": "h2", "members": []}},
    ]
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", "utf-8")
    result = subprocess.run([sys.executable, "-m", "policyrules.cli", "evaluate", "--households", str(path), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == "h1" and first["household"]["outcomes"]["household_signing_target"]["value"] is True
    assert first["members"][0]["id"] == "a"
    assert second["line"] == 2 and second["id"] == "h2" and second["errors"][0]["field"] == "household.members"


@pytest.mark.parametrize("name", POLICY_FILES)
def test_household_outcomes_are_decided_by_the_households_list_alone(name: str) -> None:
    policy = LOADED[name]

    @given(households(policy))
    def check(context: dict[str, Any]) -> None:
        answer = policy.evaluate_household(context)
        given_statuses = "statuses" in context["household"]
        for outcome in answer.outcomes.values():
            assert (outcome.value is not None) == given_statuses, outcome
            assert outcome.missing == (() if given_statuses else ("household.statuses",)), outcome

    check()


def test_a_member_is_explained_with_its_households_statuses() -> None:
    policy = LOADED["xixian_2017.yaml"]
    context = {"household": {"id": "h", "statuses": ["family_planning_poor"]},
               "person": {"insured_region": "141031"}, "encounter": {"date": "2017-06-01"}}
    explanation = policy.explain(context)
    answer = policy.evaluate(context)
    for name, outcome in answer.outcomes.items():
        assert explanation[name].value == outcome.value, name
    assert explanation["household_signing_target"].value is True


@pytest.mark.parametrize("name", ["beita_2021.yaml", "guyang_2020.yaml", "xixian_2017.yaml"])
def test_the_roster_engine_answers_members_as_evaluate_does(name: str) -> None:
    """A roster of member contexts (each with its household) on DuckDB equals evaluate row by row."""
    pytest.importorskip("duckdb")
    policy = LOADED[name]
    policies = policyrules.PolicySet([policy])

    @settings(max_examples=10)
    @given(st.lists(households(policy, max_members=3), min_size=1, max_size=4))
    def check(contexts: list[dict[str, Any]]) -> None:
        from policyrules.households import member_contexts

        rows = [member for context in contexts for member in member_contexts(context)]
        for n, row in enumerate(rows):
            row["id"] = n
        errors: list[dict[str, Any]] = []
        table = policies.evaluate_roster(rows, errors=errors).to_pylist()
        skipped = {error["id"] for error in errors}
        answered = [row for row in rows if row["id"] not in skipped]
        for row in rows:  # a row is skipped only where no policy can be chosen for it
            if row["id"] in skipped:
                with pytest.raises(policyrules.NoPolicyError):
                    policies.evaluate(row)
        for row, got in zip(answered, table, strict=True):
            expected = policies.evaluate(row).to_dict()["outcomes"]
            for outcome, answer in expected.items():
                assert got[outcome] == {k: v for k, v in answer.items() if k != "citations"}, (outcome, row)

    check()


def test_the_roster_joins_a_household_table_to_its_members(tmp_path: Path) -> None:
    """A household table and a member table joined by household id (issue 15, item 4)."""
    pytest.importorskip("duckdb")
    households = tmp_path / "households.csv"
    households.write_text("household.id,household.statuses\nH1,registered_poor\nH2,\n", "utf-8")
    members = tmp_path / "members.csv"
    members.write_text(
        "id,household.id,person.insured_region,encounter.kind,encounter.date,encounter.institution.name,"
        "encounter.institution.region,encounter.institution.designated\n"
        "a,H1,150222,inpatient,2020-08-07,固阳县医院,150222,true\n"
        "b,H2,150222,inpatient,2020-08-07,固阳县医院,150222,true\n"
        "c,H9,150222,inpatient,2020-08-07,固阳县医院,150222,true\n", "utf-8")
    out = tmp_path / "answers.jsonl"
    result = subprocess.run([sys.executable, "-m", "policyrules.cli", "roster", str(members), "--households",
                             str(households), "-o", str(out), "--values"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    assert rows["a"]["values"]["pay_later"] is True      # the household's 建档立卡 passes to the member
    assert rows["b"]["values"]["pay_later"] is None      # statuses not given: unknown
    assert rows["c"]["values"]["pay_later"] is None      # a household not in the table: unknown
    policies = policyrules.load_policies(POLICIES)
    table = policies.evaluate_roster(members, households=households).to_pylist()
    context = {"household": {"id": "H1", "statuses": ["registered_poor"]}, "person": {"insured_region": "150222"},
               "encounter": {"kind": "inpatient", "date": "2020-08-07",
                             "institution": {"name": "固阳县医院", "region": "150222", "designated": True}}}
    expected = policies.evaluate(context).to_dict()["outcomes"]["pay_later"]
    assert table[0]["pay_later"] == {k: v for k, v in expected.items() if k != "citations"}
