"""The compiled engine: each policy compiled at load into one generated Python function.

`policyrules.engines.codegen` writes the function's source from the model (as attrs writes an
``__init__``); this module runs it. Decided answers come straight from the prebuilt `Outcome`
objects of the policy's `OutcomePlan`s (so they are the very objects every other engine
answers); an unknown answer is asked of the reference engine, the oracle, once per distinct
explanation key (every truth the outcome's rules computed and what their explanation reads
besides), and remembered.

``policyrules compile POLICY`` prints the generated source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..context import Facts, read_context
from ..determination import Determination, Outcome
from .base import Answers, Engine, PreparedPolicy
from .codegen import Generated, generate
from .reference import ReferenceEngine

__all__ = ["CompiledEngine", "MEMO_LIMIT"]

#: The memo of one outcome's unknown answers is emptied when it grows past this many keys.
MEMO_LIMIT = 20_000


class CompiledEngine(Engine):
    """Answers a policy with its generated function. Thread-safe (the memos only grow)."""

    name = "compiled"

    def __init__(self, prepared: PreparedPolicy) -> None:
        super().__init__(prepared)
        self._memos: list[dict[tuple[Any, ...], Outcome]] = [{} for _ in prepared.plans]
        self.generated: Generated = generate(prepared, self._memos)
        self._oracle = ReferenceEngine(prepared)
        self._names = [plan.name for plan in self.generated.plans]
        self._namespace = self.generated.namespace(self._explain, self._explain_context)
        self.answer_context = self.generated.build("answer", self._namespace)
        self._function: Callable[[dict[str, Any]], Answers] | None = None  # compiled on first use

    #: ``answer_context(context)``: the `Determination` for a CONTRACT context read by the
    #: generated straight-line reader, or None when that reader leaves it to the careful one
    #: (then `policyrules.context.read_context` reads it, and evaluate is called on its facts),
    #: and None too when the policy does not apply: a date it is not in force on, an insured
    #: region it does not cover (`Policy` then raises `NoPolicyError`; `PolicySet` picks another).
    answer_context: Callable[[dict[str, Any]], Determination | None]

    @property
    def source(self) -> str:
        """The generated Python source of this policy."""
        return self.generated.source

    def evaluate(self, facts: Facts) -> Answers:
        function = self._function or self._build_evaluate()
        return function(facts.values)

    def evaluate_values(self, values: dict[str, Any]) -> Answers:
        """`evaluate` for flat values (`Facts.values`) directly."""
        function = self._function or self._build_evaluate()
        return function(values)

    def _build_evaluate(self) -> Callable[[dict[str, Any]], Answers]:
        # not at load: most contexts are answered by `answer_context`; building it twice (two
        # threads at once) gives two equal functions, either of which may be kept
        function: Callable[[dict[str, Any]], Answers] = self.generated.build("evaluate", self._namespace)
        self._function = function
        return function

    def _explain_context(self, number: int, key: tuple[Any, ...], context: dict[str, Any]) -> Outcome:
        return self._explain(number, key, read_context(context).values)

    def _explain(self, number: int, key: tuple[Any, ...], values: dict[str, Any]) -> Outcome:
        memo = self._memos[number]
        found = memo.get(key)
        if found is None:
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            found = memo[key] = self._oracle.answer(self._names[number], values)
        return found
