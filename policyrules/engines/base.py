"""The engine interface: a policy model compiled once, then asked for answers.

`PreparedPolicy` is what every engine of one policy shares: the model, its `Matcher` (lists and
catalogs ready for matching), its `OutcomePlan`s (answers built once) and, for an engine whose
answers are checked (Rete), the engine that checks them. An engine is built from it once, at
load or on first use, and ``evaluate`` takes validated facts (`policyrules.context.Facts`) to a
value per outcome; it must be safe to call from several threads.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

from ..context import Facts
from ..determination import Outcome
from ..model import PolicyModel
from ..regions import region_table
from .matching import Matcher
from .outcomes import OutcomePlan, plans_of

__all__ = ["Answers", "Engine", "PreparedPolicy"]

#: What an engine answers for one context: outcome -> its answer.
Answers = dict[str, Outcome]


class PreparedPolicy:
    """A policy model with what all its engines share."""

    def __init__(self, model: PolicyModel) -> None:
        self.model = model
        self.matcher = Matcher(model)
        self.plans: dict[str, OutcomePlan] = plans_of(model)
        #: The county codes the policy's regions cover (a city's or province's counties too).
        regions = region_table()
        self.counties: frozenset[str] = frozenset().union(
            *(regions.covered_counties(code) for code in model.meta.regions)
        )
        #: The engine whose answers check another engine's (set by `policyrules.policy.Policy`).
        self.checker: Callable[[Facts], Answers] | None = None


class Engine(abc.ABC):
    """One way of answering a policy. Subclasses set ``name`` and implement ``evaluate``."""

    name: ClassVar[str]

    def __init__(self, prepared: PreparedPolicy) -> None:
        self.prepared = prepared
        self.model = prepared.model

    @classmethod
    def validate(cls, model: PolicyModel) -> None:
        """Raise `UnsupportedConstructError` for a policy this engine cannot express (called at
        load for every registered engine, so such a policy is a load problem with its place);
        an engine that can express every policy keeps this default."""
        return None

    @abc.abstractmethod
    def evaluate(self, facts: Facts) -> Answers:
        """The answer of every outcome of the policy for ``facts``."""
