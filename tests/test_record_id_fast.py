"""A context with a record ``id`` (CONTRACT "Shapes") is read by the straight-line readers, not
handed to the careful one: every roster line carries an id, so this is the usual context. The
answers, ids and errors are the careful reader's and the reference engine's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policyrules
from policyrules import ContextError
from policyrules.context import read_context
from policyrules.context_fast import read_context_fast
from policyrules.testing import OPTIONAL_FIELDS, full_contexts, omit_fields

from .conftest import POLICIES

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}
SET = policyrules.load_policies(POLICIES)

GOOD_IDS = st.one_of(st.text(min_size=1, max_size=128), st.integers(), st.integers(min_value=2**64, max_value=2**80))
BAD_IDS = st.one_of(st.just(""), st.text(min_size=129, max_size=140), st.booleans(), st.floats(allow_nan=False),
                    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))


def _plain(answer: policyrules.Determination) -> dict[str, Any]:
    out = answer.to_dict()
    out["policy"].pop("engine")
    return out


def _through_set(context: dict[str, Any], engine: str) -> Any:
    try:
        return _plain(SET.evaluate(context, engine=engine))
    except policyrules.NoPolicyError as error:
        return str(error)


@pytest.mark.parametrize("name", POLICY_FILES)
def test_a_context_with_an_id_is_answered_by_the_straight_line_reader(name: str) -> None:
    policy = LOADED[name]
    answer = policy.engine("compiled").answer_context  # type: ignore[attr-defined]

    @given(full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS)), GOOD_IDS)
    def check(flat: dict[str, Any], omitted: set[str], record_id: Any) -> None:
        plain = omit_fields({f: v for f, v in flat.items() if f not in omitted}, set())
        context = {"id": record_id, **plain}
        careful = read_context(context)
        fast = read_context_fast(context)
        assert (fast.values, fast.date, fast.date_given, fast.id) == (
            careful.values, careful.date, careful.date_given, careful.id) and fast.id == record_id
        if "encounter" in plain and "date" in plain["encounter"] and "birth_date" not in plain.get("person", {}):
            if plain.get("household") is None:
                direct = answer(context)
                assert direct is not None  # not handed to the careful reader
                expected = _plain(policy.evaluate(context, engine="reference"))
                assert _plain(direct) == expected and direct.id == record_id
                assert _through_set(context, "compiled") == _through_set(context, "reference")

    check()


def test_a_bad_id_is_the_careful_readers_error() -> None:
    policy = LOADED["beita_2021.yaml"]
    good = {"person": {"insured_region": "430511", "age": 30}, "encounter": {"date": "2022-01-01"}}
    SET.evaluate({"id": "warm", **good})  # the set's memo of the region and date filled

    @given(BAD_IDS)
    def check(record_id: Any) -> None:
        context = {"id": record_id, **good}
        with pytest.raises(ContextError) as careful:
            read_context(context)
        with pytest.raises(ContextError) as fast:
            read_context_fast(context)
        with pytest.raises(ContextError) as through_set:
            SET.evaluate(context)
        assert str(fast.value) == str(careful.value) == str(through_set.value)
        assert policy.engine("compiled").answer_context(context) is None  # type: ignore[attr-defined]

    check()
