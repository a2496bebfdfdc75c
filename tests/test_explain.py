"""Explanations: the trace in the document's words, why-not, ask-next, the JSON and its schema, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings

import policyrules
from policyrules import schema
from policyrules.cli import main
from policyrules.determination import Determination
from policyrules.engines import ENGINES
from policyrules.errors import EngineDisagreement
from policyrules.explain import Explainer
from policyrules.space import FIXED_FIELDS
from policyrules.testing import contexts

from .conftest import POLICIES

#: The issue's patient: a 特困 inpatient at 邵阳市中心医院, in county, not on 附件2's list.
SHAOYANG: dict[str, Any] = {
    "person": {"statuses": ["destitute"], "insured_region": "430511"},
    "encounter": {"kind": "inpatient", "date": "2022-03-01",
                  "institution": {"name": "邵阳市中心医院", "region": "430511"}},
}
VALIDATOR = jsonschema.Draft202012Validator(schema.explanation_schema())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_no_says_why_and_what_would_make_it_yes(policy_set: policyrules.PolicySet, engine: str) -> None:
    explained = policy_set.explain(SHAOYANG, engine=engine)["pay_later"]
    assert explained.value is False and explained.exception is None
    (grant, exception) = explained.rules
    assert grant.id == "pay_later.low_income_in_county" and grant.decides and grant.truth is False
    decided = grant.condition.deciding()
    assert decided is not None and decided.kind == "institution"
    assert decided.zh == "邵阳市中心医院 不在「北塔区“先诊疗 后付费”区内定点医疗机构名单（附件2）」名单上"
    assert decided.en.startswith("邵阳市中心医院 is not on the list beita_pay_later_institutions")
    assert decided.read == (("encounter.institution.name", "邵阳市中心医院"),)
    assert exception.effect == "exception" and exception.truth is False and not exception.decides
    (entry,) = explained.why_not or ()
    (change,) = entry.changes
    assert change.field == "encounter.institution.name" and change.value == "茶元街道社区卫生服务中心"
    assert "陈家桥卫生院" in change.any_of and change.clause == "三(一)2"
    assert explained.ask_next == ()


def test_an_unknown_says_what_to_ask_most_settling_first(policy_set: policyrules.PolicySet) -> None:
    context = json.loads(json.dumps(SHAOYANG))
    context["encounter"]["institution"]["name"] = "陈家桥卫生院"
    del context["person"]["statuses"]
    explained = policy_set.explain(context)["pay_later"]
    assert explained.value is None
    (ask,) = explained.ask_next
    assert ask.field == "person.statuses"
    gives = {tuple(a.value): a.gives for a in ask.answers}
    assert gives == {(): False, ("rural_dibao",): True}
    # why not: the statuses alone make it yes
    assert [[c.field for c in w.changes] for w in explained.why_not or ()] == [["person.statuses"]]


def test_ask_next_puts_the_field_that_settles_most_first(policy_set: policyrules.PolicySet) -> None:
    context = {"person": {"insured_region": "430511", "statuses": ["destitute"]},
               "encounter": {"date": "2022-03-01"}}
    asks = policy_set.explain(context)["major_disease_treatment"].ask_next
    settles = [ask.settles() for ask in asks]
    assert settles == sorted(settles, reverse=True) and settles[0] > 0


def test_list_outcomes_have_no_why_not(policy_set: policyrules.PolicySet) -> None:
    context = {"person": {"insured_region": "421202", "statuses": ["registered_poor"]},
               "encounter": {"date": "2020-06-01"}}
    explanation = policy_set.explain(context)
    assert explanation["reimbursement_layers"].why_not is None
    assert explanation.to_dict()["outcomes"]["reimbursement_layers"]["why_not"] is None


def test_the_json_is_the_answer_extended(policy_set: policyrules.PolicySet) -> None:
    explanation = policy_set.explain(SHAOYANG)
    data = explanation.to_dict()
    answer = policy_set.evaluate(SHAOYANG).to_dict()
    assert data["schema_version"] == "1" and data["policy"] == answer["policy"]
    for name, outcome in answer["outcomes"].items():
        assert {k: v for k, v in data["outcomes"][name].items() if k in outcome} == outcome
        assert {"trace", "why_not", "ask_next"} <= set(data["outcomes"][name])
    VALIDATOR.validate(data)
    assert "id" not in data


def test_the_context_id_comes_first_when_the_answer_has_one(policy_set: policyrules.PolicySet) -> None:
    explanation = policy_set.explain(SHAOYANG)
    determination = explanation.determination

    class WithId:
        id = "visit-7"

        def __getattr__(self, name: str) -> Any:
            return getattr(determination, name)

        def to_dict(self) -> dict[str, Any]:
            return {"id": "visit-7"} | determination.to_dict()

    data = type(explanation)(WithId(), explanation.outcomes).to_dict()  # type: ignore[arg-type]
    assert next(iter(data)) == "id" and data["id"] == "visit-7"
    VALIDATOR.validate(data)


@pytest.mark.parametrize("name", ["beita_2021.yaml", "xixian_2017.yaml", "xianning_2020.yaml"])
def test_real_explanations_validate_against_the_shipped_schema(name: str) -> None:
    policy = policyrules.load_policy(POLICIES / name)

    @settings(max_examples=20)
    @given(contexts(policy))
    def check(context: dict[str, Any]) -> None:
        data = policy.explain(context).to_dict()
        VALIDATOR.validate(data)
        for outcome in data["outcomes"].values():
            for entry in outcome["why_not"] or ():
                assert not {c["field"] for c in entry["changes"]} & set(FIXED_FIELDS)
            for ask in outcome["ask_next"]:
                assert ask["field"] not in FIXED_FIELDS

    check()


def test_an_engine_that_disagrees_with_the_model_is_refused(beita: policyrules.Policy) -> None:
    from policyrules.context import read_context

    facts = read_context(SHAOYANG)
    answer = beita.evaluate(SHAOYANG)
    outcomes = dict(answer.outcomes)
    outcomes["pay_later"] = type(outcomes["pay_later"])("pay_later", True, (), ())
    wrong = Determination(answer.policy, answer.sha256, outcomes, answer.date_used, answer.date_given, "fake")
    with pytest.raises(EngineDisagreement, match="pay_later"):
        Explainer(beita).explain(wrong, facts)


def test_the_cli_explains_in_the_documents_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "context.json"
    path.write_text(json.dumps(SHAOYANG, ensure_ascii=False), "utf-8")
    assert main(["explain", str(path)]) == 0
    text = capsys.readouterr().out
    assert "pay_later (先诊疗后付费): no / 否" in text
    assert "邵阳市中心医院 不在「北塔区“先诊疗 后付费”区内定点医疗机构名单（附件2）」名单上  ← decided it" in text
    assert "1. encounter.institution.name = 茶元街道社区卫生服务中心 → yes / 是" in text
    assert main(["explain", str(path), "--json", "--engine", "rete",
                 "--policy", str(POLICIES / "beita_2021.yaml")]) == 0
    VALIDATOR.validate(json.loads(capsys.readouterr().out))


def test_the_cli_explain_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "context.json"
    path.write_text('{"person": {"agee": 3}}', "utf-8")
    assert main(["explain", str(path)]) == 2
    assert "did you mean 'person.age'" in capsys.readouterr().err
    path.write_text("{not json", "utf-8")
    assert main(["explain", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
