"""An outcome's answers, built once and shared: every engine that decides a value asks the
outcome's `OutcomePlan` for the `Outcome` object, so identical answers are identical objects
(read-only), whichever engine decided them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..determination import Outcome
from ..model import Citation, PolicyModel, Rule
from ..vocabulary import LIST_OUTCOMES

__all__ = ["OutcomePlan", "plans_of"]


def citations_of(rules: Iterable[Rule]) -> tuple[Citation, ...]:
    return tuple(c for rule in rules for c in rule.citations)


class OutcomePlan:
    """One outcome of a policy: its grants and exceptions, and its answers (memoised)."""

    __slots__ = ("_answers", "_none_applies", "document", "exceptions", "grants", "is_list", "name", "position")

    def __init__(self, model: PolicyModel, name: str) -> None:
        self.name = name
        self.document = model.meta.document
        self.grants = model.grants(name)
        self.exceptions = model.exceptions(name)
        self.is_list = name in LIST_OUTCOMES
        self.position = {rule.id: index for index, rule in enumerate(model.rules)}
        self._none_applies: Outcome | None = None
        self._answers: dict[tuple[Any, ...], Outcome] = {}

    def decided(self, value: Any, rules: Iterable[Rule], ratio: float | None = None) -> Outcome:
        """The answer ``value``, decided by ``rules``."""
        rules = tuple(rules)
        key = (value, *(rule.id for rule in rules))
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = Outcome(
                self.name, value, tuple(r.id for r in rules), citations_of(rules), (), (), ratio
            )
        return found

    def unknown(self, rules: Iterable[Rule], missing: tuple[str, ...], gaps: tuple[str, ...]) -> Outcome:
        """The unknown answer left by ``rules``, with the missing fields and the document's gaps."""
        rules = sorted(rules, key=lambda rule: self.position[rule.id])
        key = (None, missing, gaps, *(rule.id for rule in rules))
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = Outcome(
                self.name, None, tuple(r.id for r in rules), citations_of(rules), missing, gaps
            )
        return found

    def none_applies(self) -> Outcome:
        """A list outcome none of whose rules applies to fully known facts: the document is silent."""
        if self._none_applies is None:
            labels = "; ".join(r.label or r.id for r in self.grants)
            gap = (f"{self.document} does not say what {self.name} is in this case; "
                   f"it gives it only for: {labels}")
            self._none_applies = Outcome(
                self.name, None, tuple(r.id for r in self.grants), citations_of(self.grants), (), (gap,)
            )
        return self._none_applies

    def from_deciders(self, value: Any, deciders: set[str]) -> Outcome | None:
        """The answer for a value decided elsewhere by the rules named in ``deciders`` (None when
        no answer of this outcome fits: the other engine is wrong)."""
        if self.is_list:
            for rule in self.grants:
                if rule.id in deciders and rule.value == value:
                    return self.decided(value, [rule], rule.target_ratio)
            return None
        if value is True:
            return self.decided(True, [r for r in self.grants if r.id in deciders])
        if value is False:
            taken = [r for r in self.exceptions if r.id in deciders]
            return self.decided(False, taken or self.grants)
        return None


def plans_of(model: PolicyModel) -> dict[str, OutcomePlan]:
    """Every outcome's plan, in the file's order."""
    return {name: OutcomePlan(model, name) for name in model.outcomes()}
