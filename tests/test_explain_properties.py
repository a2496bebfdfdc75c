"""Explanations on generated contexts, on every engine: the explanation and the value never
disagree; every why-not entry's changes give its ``gives`` and no strictly smaller subset of
them does; every ask-next answer gives its ``gives``."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import given, settings

import policyrules
from policyrules.engines import ENGINES
from policyrules.testing import contexts

from .conftest import POLICIES

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}


def _with(context: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(context)
    for field, value in changes:
        node = out
        *parents, leaf = field.split(".")
        for part in parents:
            node = node.setdefault(part, {}) if node.get(part) is not None else node.setdefault(part, {})
            if not isinstance(node, dict):  # pragma: no cover - contexts are nested dicts
                raise AssertionError(field)
        node[leaf] = value
    return out


def _value(policy: policyrules.Policy, context: dict[str, Any], outcome: str, engine: str) -> Any:
    return policy.evaluate(context, engine=engine).value(outcome)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", POLICY_FILES)
def test_explanations_agree_and_their_changes_do_what_they_say(name: str, engine: str) -> None:
    policy = LOADED[name]

    @settings(max_examples=25)
    @given(contexts(policy))
    def check(context: dict[str, Any]) -> None:
        explanation = policy.explain(context, engine=engine)
        answer = policy.evaluate(context, engine=engine)
        assert set(explanation.outcomes) == set(answer.outcomes)
        for outcome, explained in explanation.outcomes.items():
            assert explained.value == answer.value(outcome)
            for entry in explained.why_not or ():
                changes = [(c.field, c.value) for c in entry.changes]
                assert _value(policy, _with(context, changes), outcome, engine) is entry.gives, (outcome, changes)
                for size in range(len(changes)):
                    for subset in itertools.combinations(changes, size):
                        assert _value(policy, _with(context, list(subset)), outcome, engine) is not True, (
                            outcome, changes, subset)
                for index, change in enumerate(entry.changes):  # every alternative does the same
                    for other in change.any_of:
                        swapped = [*changes[:index], (change.field, other), *changes[index + 1:]]
                        assert _value(policy, _with(context, swapped), outcome, engine) is True, (outcome, swapped)
            for ask in explained.ask_next:
                for reply in ask.answers:
                    got = _value(policy, _with(context, [(ask.field, reply.value)]), outcome, engine)
                    assert got == reply.gives, (outcome, ask.field, reply.value)

    check()
