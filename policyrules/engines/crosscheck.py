"""The cross-engine check: values another engine decided, explained and checked against the
answers of the checking engine for the same facts.

An engine that only decides values (Rete decides a value and which rules decided it) gets its
explanation from the outcome plans, and every value is compared with the checking engine's: a
difference is an `EngineDisagreement`, and no answer is given. An outcome the other engine
left unknown is explained by the checking engine's answer (undecided rules, missing,
not_given)."""

from __future__ import annotations

from typing import Any

from ..errors import EngineDisagreement
from .base import Answers
from .outcomes import OutcomePlan

__all__ = ["Decided", "explain_and_check"]

#: What a deciding engine answers: outcome -> (value, ids of the rules that decided it); an
#: outcome absent from it (or valued ``NONE_APPLIES`` for a list outcome) is unknown there.
Decided = dict[str, tuple[Any, set[str]]]

#: The value a list outcome gets from a deciding engine when none of its rules applies.
NONE_APPLIES = "none"


def explain_and_check(plans: dict[str, OutcomePlan], decided: Decided, checked: Answers) -> Answers:
    """The answers for ``decided``, each equal in value to ``checked``'s, or `EngineDisagreement`."""
    out: Answers = {}
    for name, plan in plans.items():
        mine = checked[name]
        found = decided.get(name)
        if found is None or found[0] == NONE_APPLIES:  # unknown there (or no rule gives a value)
            outcome = mine if mine.value is None else None
        else:
            outcome = plan.from_deciders(*found)
        if outcome is None or outcome.value != mine.value:
            raise EngineDisagreement(name, None if found is None else found[0], mine.value)
        out[name] = outcome
    return out
