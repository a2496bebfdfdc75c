"""policyrules.serialise: answers as JSON bytes, each shared outcome written once."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policyrules
from policyrules import serialise
from policyrules.testing import OPTIONAL_FIELDS, full_contexts, omit_fields

from .conftest import POLICIES, ROOT

LOADED = {p.name: policyrules.load_policy(p) for p in sorted(POLICIES.glob("*.yaml"))}


@pytest.mark.parametrize("name", sorted(LOADED))
def test_the_bytes_are_the_answer(name: str) -> None:
    policy = LOADED[name]

    @given(st.builds(omit_fields, full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS))),
           st.sampled_from(["compiled", "reference"]), st.integers(1, 10**6), st.text(min_size=1) | st.integers())
    def check(context: dict[str, Any], engine: str, line: int, id_: str | int) -> None:
        answer = policy.evaluate(context, engine=engine)
        expected = answer.to_dict()
        assert json.loads(serialise.answer_json(answer)) == expected
        first = json.loads(serialise.answer_json(answer, {"line": line, "id": id_}))
        assert list(first)[:3] == ["line", "id", "schema_version"]
        assert first == {"line": line, "id": id_} | expected
        values = json.loads(serialise.values_json(answer, line=line, id=id_))
        assert values == {"line": line, "id": id_, "policy": expected["policy"]["id"],
                          "date_used": expected["policy"]["date_used"],
                          "values": {k: o["value"] for k, o in expected["outcomes"].items()}}
        assert list(values["values"]) == list(expected["outcomes"])
        assert "line" not in json.loads(serialise.values_json(answer))
        for det in (answer, policy.evaluate(context | {"id": line}, engine=engine),
                    policy.evaluate(context | {"id": f"r{line}"}, engine=engine)):
            assert b"".join(serialise.answer_parts(det)) == serialise.answer_json(det)
            assert b"".join(serialise.answer_parts(det, line)) == serialise.answer_json(det, {"line": line})

    check()


def test_an_outcome_is_written_once_and_to_dict_stays_fresh() -> None:
    policy = LOADED["beita_2021.yaml"]
    context = {"person": {"insured_region": "430511", "statuses": ["rural_dibao"]},
               "encounter": {"date": "2022-01-01", "kind": "outpatient"}}
    first, second = policy.evaluate(context), policy.evaluate(context)
    assert first is not second and first["pay_later"] is second["pay_later"]
    serialise.answer_json(first)
    assert first["pay_later"]._bytes is not None
    a, b = first.to_dict(), second.to_dict()
    assert a == b and a is not b and a["outcomes"] is not b["outcomes"]
    a["outcomes"]["pay_later"]["value"] = "changed"
    a["policy"]["id"] = "changed"
    assert policy.evaluate(context).to_dict() == b
    assert json.loads(serialise.answer_json(policy.evaluate(context))) == b


def test_without_orjson_the_standard_json_module_writes_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = LOADED["xixian_2017.yaml"]
    context = {"person": {"insured_region": "141031", "age": 70}, "encounter": {"date": "2017-05-01"}}
    answer = policy.evaluate(context)
    monkeypatch.setitem(sys.modules, "orjson", None)
    plain = importlib.reload(serialise)
    try:
        assert plain.FAST is False
        assert json.loads(plain.answer_json(answer, {"line": 1})) == {"line": 1} | answer.to_dict()
        assert json.loads(plain.values_json(answer, id="x"))["id"] == "x"
    finally:
        monkeypatch.undo()
        importlib.reload(serialise)


def test_the_answer_json_carries_the_context_id() -> None:
    context = json.loads((ROOT / "examples" / "guyang_poor_inpatient.json").read_text(encoding="utf-8"))
    answer = policyrules.load_policies().evaluate(context | {"id": "r-1"})
    assert list(json.loads(serialise.answer_json(answer))) == list(answer.to_dict())
    assert json.loads(serialise.answer_json(answer)) == answer.to_dict()
    assert list(json.loads(serialise.answer_json(answer, {"line": 2})))[:2] == ["line", "id"]
