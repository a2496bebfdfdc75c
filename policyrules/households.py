"""Households evaluated whole: the unit the poverty registers are kept in (docs/contract.md,
"Households").

A household context is ``{"household": {"id", "statuses", "members": [{"id", "person",
"encounter", "history"}, …]}}``. Each member is evaluated as the member context
``{"id", "household": {"id", "statuses"}, "person", "encounter", "history"}``: its household
statuses that pass to members (`policyrules.vocabulary.PASSING_STATUSES`) are known from the
household's list, so they are known even where the member's ``person.statuses`` is absent, and
only its own statuses are then unknown. Outcomes a document grants to the household as such
(`policyrules.vocabulary.HOUSEHOLD_OUTCOMES`) read the household's statuses alone, and are given
once for the household.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .determination import Determination, Outcome
from .errors import ContextError, ContextProblem, NoPolicyError
from .vocabulary import HOUSEHOLD_OUTCOMES

__all__ = ["HouseholdDetermination", "evaluate_household", "member_contexts"]

_HOUSEHOLD_KEYS = ("id", "statuses", "members")
_MEMBER_KEYS = ("id", "person", "encounter", "history")

Evaluate = Callable[..., Determination]


@attrs.frozen
class HouseholdDetermination:
    """The answers of one household: each member's, in order, and the household's own outcomes."""

    id: str | int | None
    members: tuple[Determination, ...]
    outcomes: dict[str, Outcome]

    def to_dict(self) -> dict[str, Any]:
        head: dict[str, Any] = {} if self.id is None else {"id": self.id}
        return head | {
            "household": {"outcomes": {name: o.to_dict() for name, o in self.outcomes.items()}},
            "members": [member.to_dict() for member in self.members],
        }


def member_contexts(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The member contexts of a household context; `ContextError` naming each misplaced key."""
    problems: list[ContextProblem] = []
    if not isinstance(context, Mapping) or set(context) - {"household"}:
        extra = sorted(set(context) - {"household"}) if isinstance(context, Mapping) else []
        raise ContextError([ContextProblem(
            extra[0] if extra else "(context)",
            "a household context has one key, household" if extra else "must be a JSON object",
            "put person, encounter and history inside each of household.members")])
    household = context.get("household")
    if not isinstance(household, Mapping):
        raise ContextError([ContextProblem("household", "must be an object with id, statuses and members")])
    for key in household:
        if key not in _HOUSEHOLD_KEYS:
            problems.append(ContextProblem(f"household.{key}", "is not a field of a household",
                                           f"a household has {', '.join(_HOUSEHOLD_KEYS)}"))
    members = household.get("members")
    if not isinstance(members, list) or not members:
        problems.append(ContextProblem("household.members", "must be a list of at least one member"))
        members = []
    own = {key: household[key] for key in ("id", "statuses") if household.get(key) is not None}
    out = []
    for index, member in enumerate(members):
        where = f"household.members[{index}]"
        if not isinstance(member, Mapping):
            problems.append(ContextProblem(where, "must be an object with id, person, encounter, history"))
            continue
        for key in member:
            if key not in _MEMBER_KEYS:
                problems.append(ContextProblem(f"{where}.{key}", "is not a field of a member",
                                               f"a member has {', '.join(_MEMBER_KEYS)}"))
        out.append({**{k: v for k, v in member.items() if k in _MEMBER_KEYS}, "household": dict(own)})
    if problems:
        raise ContextError(problems)
    return out


def evaluate_household(evaluate: Evaluate, context: Mapping[str, Any], engine: str) -> HouseholdDetermination:
    """Every member of ``context`` answered by ``evaluate`` (a policy's or a policy set's), and
    the household's own outcomes from the first member's answer (they read the household alone).
    A member that cannot be answered is a `ContextError` (or `NoPolicyError`) naming it."""
    answers: list[Determination] = []
    problems: list[ContextProblem] = []
    for index, member in enumerate(member_contexts(context)):
        where = f"household.members[{index}]"
        try:
            answers.append(evaluate(member, engine=engine))
        except ContextError as error:
            problems.extend(ContextProblem(f"{where}.{p.field}", p.message, p.suggestion) for p in error.problems)
        except NoPolicyError as error:
            problems.append(ContextProblem(where, f"no policy: {error}"))
    if problems:
        raise ContextError(problems)
    household = context["household"]
    outcomes = {name: o for name, o in answers[0].outcomes.items() if name in HOUSEHOLD_OUTCOMES}
    members = tuple(
        attrs.evolve(answer, outcomes={n: o for n, o in answer.outcomes.items() if n not in HOUSEHOLD_OUTCOMES})
        for answer in answers
    )
    return HouseholdDetermination(household.get("id"), members, outcomes)
