"""What a hospital system passes from Python: the record id, dates, and lookups of an answer."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

import policyrules
from policyrules import ContextError
from policyrules.context import _read_checked, read_context
from policyrules.fields import BAD, DATE_PATTERN, Date
from policyrules.schema import context_schema

from .conftest import ROOT

EXAMPLE = json.loads((ROOT / "examples" / "beita_destitute_inpatient.json").read_text("utf-8"))


def _with(**changes: Any) -> dict[str, Any]:
    context = copy.deepcopy(EXAMPLE)
    for dotted, value in changes.items():
        node = context
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return context


# ---------------------------------------------------------------- item 2: the record id


@pytest.mark.parametrize("record_id", ["P-0001", "患者-7", "x" * 128, 0, 42, -3, 10**20])
def test_an_id_is_echoed_first_and_never_evaluated(policy_set: policyrules.PolicySet, record_id: Any) -> None:
    plain = policy_set.evaluate(EXAMPLE)
    answer = policy_set.evaluate(_with(id=record_id))
    assert answer.id == record_id
    out = answer.to_dict()
    assert next(iter(out)) == "id" and out["id"] == record_id
    assert {k: v for k, v in out.items() if k != "id"} == plain.to_dict()
    assert "id" not in plain.to_dict() and plain.id is None
    assert read_context(_with(id=record_id)).id == record_id
    assert _read_checked(_with(id=record_id)).get("id") == record_id


@pytest.mark.parametrize("bad", ["", "x" * 129, True, False, 1.0, 2.5, [1], {"a": 1}])
def test_a_bad_id_is_a_context_error_on_id(policy_set: policyrules.PolicySet, bad: Any) -> None:
    with pytest.raises(ContextError) as raised:
        policy_set.evaluate(_with(id=bad))
    assert [p.field for p in raised.value.problems] == ["id"]


def test_a_patient_id_is_pointed_to_id(policy_set: policyrules.PolicySet) -> None:
    with pytest.raises(ContextError) as raised:
        policy_set.evaluate(_with(patient_id="P-1"))
    (problem,) = raised.value.problems
    assert problem.field == "patient_id" and "'id'" in problem.suggestion


def test_each_call_has_its_own_id_and_the_outcomes_are_shared(beita: policyrules.Policy) -> None:
    first, second = beita.evaluate(_with(id="a")), beita.evaluate(_with(id="b"))
    assert (first.id, second.id) == ("a", "b")
    assert first.outcomes["pay_later"] is second.outcomes["pay_later"]


# ---------------------------------------------------------------- item 6: lookups


def test_an_outcome_not_answered_is_a_key_error_naming_those_answered(beita: policyrules.Policy) -> None:
    answer = beita.evaluate(EXAMPLE)
    for lookup in (answer.value, answer.__getitem__):
        with pytest.raises(KeyError, match="pay_later.*deposit_exempt") as raised:
            lookup("pay_latter")
        assert "did you mean 'pay_later'" in str(raised.value)
        with pytest.raises(KeyError, match="does not answer 'reimbursement_layers'"):
            lookup("reimbursement_layers")
    assert answer.value("pay_later") is True


def test_an_unknown_policy_id_names_the_loaded_ones(policy_set: policyrules.PolicySet) -> None:
    with pytest.raises(KeyError, match="beita_2021.*xuchang_2020") as raised:
        policy_set["beta_2021"]
    assert "did you mean 'beita_2021'" in str(raised.value)


# ---------------------------------------------------------------- item 7: dates


@pytest.mark.parametrize("given_date", [
    dt.date(2022, 3, 1), dt.datetime(2022, 3, 1, 23, 30), dt.datetime(2022, 3, 1, 23, 30, tzinfo=dt.timezone.utc),
    "2022-03-01", "2022-03-01T08:30", "2022-03-01T08:30:05", "2022-03-01T23:59:59.123456-05:00",
    "2022-03-01T00:00:00Z", "2022-03-01T08:30:00+0800",
])
@pytest.mark.parametrize("field", ["encounter__date", "person__birth_date"])
def test_dates_python_and_iso(policy_set: policyrules.PolicySet, given_date: Any, field: str) -> None:
    context = _with(**{field: given_date})
    if field == "person__birth_date":
        del context["person"]["age"]
    facts = read_context(context)
    key = field.replace("__", ".")
    assert facts.values[key] == dt.date(2022, 3, 1)
    assert _read_checked(context)[key] == dt.date(2022, 3, 1)
    policy_set.evaluate(context)


@pytest.mark.parametrize("bad", ["20220301", "2022-W09-2", "2022-060", "2022-3-1", "2022-02-30", "2022/03/01",
                                 "2022-03-01 08:30", "2022-03-01T25:00", "２０２２-03-01", 20220301, ""])
@pytest.mark.parametrize("field", ["encounter__date", "person__birth_date"])
def test_other_dates_are_refused_with_the_hint(policy_set: policyrules.PolicySet, bad: Any, field: str) -> None:
    with pytest.raises(ContextError) as raised:
        policy_set.evaluate(_with(**{field: bad}))
    (problem,) = raised.value.problems
    assert problem.field == field.replace("__", ".") and "YYYY-MM-DD" in problem.suggestion


_SCHEMA_DATE = context_schema()["properties"]["encounter"]["oneOf"][0]["properties"]["date"]["oneOf"][0]
_DATEISH = st.from_regex(re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.,Z+-]{0,16})?"), fullmatch=True)


@given(st.one_of(_DATEISH, st.text(max_size=30), st.dates().map(str),
                 st.datetimes(timezones=st.just(dt.timezone(dt.timedelta(hours=8)))).map(dt.datetime.isoformat)))
def test_the_schema_and_the_reader_agree_on_dates(text: str) -> None:
    assert _SCHEMA_DATE == {"type": "string", "pattern": DATE_PATTERN}
    by_schema = jsonschema.Draft202012Validator(_SCHEMA_DATE).is_valid(text)
    fast = Date().fast(text)
    problems: list[Any] = []
    careful = Date().careful("encounter.date", text, problems)
    assert (fast is BAD) == (careful is None) == bool(problems)
    if fast is not BAD:
        assert by_schema and fast == careful == dt.date.fromisoformat(text[:10])
    elif by_schema:  # the schema cannot know the calendar: only a day that does not exist differs
        assert "not a real date" in problems[0].message
