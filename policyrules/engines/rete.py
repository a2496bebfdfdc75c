"""The Rete engine: the policy model compiled to a durable_rules ruleset (`rete_compiler`),
run behind a wrapper that no caller can push into one of durable_rules' hazards
(`rete_runner`), every value checked by the checking engine (`crosscheck`).

What Rete does and what Python does (docs/engines.md says the same for users):

- **Python prepares the fact** from the validated context: every field a condition reads,
  with a ``k_<field>`` flag saying whether it is known; institution names normalised;
  statuses as a list (with a sentinel item, so that "none of these" can be matched on an
  empty list); and, for each disease catalog, whether the diagnoses fall in it
  (``"T"``/``"F"``/``"U"``), because matching 医保版 codes to WHO categories and the 儿童
  age bands is code matching, not rule logic.
- **Rete decides every outcome's value.** Each condition of the model is compiled to when it
  holds (T) and when it fails (F), both over the prepared fields, so Kleene's three-valued
  logic is matched by the network: for ``A and B``, T = T_A & T_B and F = F_A | F_B; for
  ``not A`` they swap; a ``not_given`` condition neither holds nor fails. An outcome is true
  when some grant holds and every exception fails, false when every grant fails or some
  exception holds; both are put in disjunctive normal form and each term becomes one durable
  rule whose action records the value. An outcome none of whose rules fires is unknown.
- **Python writes the explanation** of the value Rete decided: which rules, their citations,
  ``missing`` and ``not_given``, from the same model, as the reference evaluator does; and it
  checks every value against the checking engine's (`policyrules.engines.crosscheck`).

Hazards of durable_rules 2.0.28 and how this module keeps callers away from them:

- ``post`` hands an event to the first matching rule only, and raises when none matches:
  only facts are asserted, and a fact no rule matches (every outcome unknown) is read as
  exactly that, not as an error and not as "no".
- asserting the same fact twice raises: every fact carries a fresh ``id`` and is retracted
  after its evaluation.
- 1024 live sessions per ruleset, identities by 32-bit hash: a fixed pool of session ids with
  distinct hashes; each session's state is deleted every ``SESSION_RESET`` evaluations.
- a rule whose only condition is a negation spins forever; joins between facts can segfault;
  conditions on the fact's ``id`` hang: none are ever generated (the compiler only produces
  single-fact conditions over prepared fields, each with the constant ``pr`` in it, never
  ``-m``, ``c.first`` or ``id``); durable's limit of 32 expressions per condition is kept
  by the normal form and checked at load, where a policy that would exceed it is named.
- errors inside actions are swallowed into the session state: no Python action runs inside
  durable at all. The runner takes the actions of each fact from durable's agenda itself and
  reads which rule fired; a failure of durable's own raises `ReteError` (and resets the
  session), as do two values for one outcome and an outcome Rete left unknown that the
  checking engine decides.
- the background dispatcher can run actions after ``assert_fact`` returns: this module's host
  never starts it, and the runner reads the answer only once the fact's agenda is empty.
- ruleset names are global and can never be removed: compiled rulesets are cached by the
  policy's content hash, so loading a policy again reuses its ruleset; an edited policy gets
  a new one.
- durable_rules is not thread-safe: one lock per ruleset.
- creating a ruleset now and then fails (error 102) for a definition accepted on the next try:
  up to `CREATE_ATTEMPTS` tries, each refusal recorded in `CREATE_FAILURES`.
- durable_rules does not import on Python >= 3.13: `AVAILABLE` is False with the reason, and
  asking for the Rete engine raises `EngineUnavailableError` with it.
"""

from __future__ import annotations

from ..context import Facts
from ..errors import EngineDisagreement, EngineUnavailableError, ReteError
from ..model import PolicyModel
from .base import Answers, Engine, PreparedPolicy
from .crosscheck import explain_and_check
from .rete_compiler import ReteProgram, compile_model

__all__ = ["ReteEngine"]


class ReteEngine(Engine):
    """Answers a policy on durable_rules' Rete network; every value is checked."""

    name = "rete"

    @classmethod
    def validate(cls, model: PolicyModel) -> None:
        compile_model(model)  # pure Python: a construct it cannot express fails at load

    def __init__(self, prepared: PreparedPolicy) -> None:
        from . import rete_runner

        if not rete_runner.AVAILABLE:
            raise EngineUnavailableError(rete_runner.UNAVAILABLE_REASON)
        super().__init__(prepared)
        self.program: ReteProgram = compile_model(prepared.model)
        self.runner = rete_runner.runner(self.program)

    def evaluate(self, facts: Facts) -> Answers:
        prepared = self.prepared
        decided = self.runner.run(self.program.prepare(facts, prepared.matcher))
        # Every Rete value is checked: durable_rules has been seen to fail at creating a ruleset
        # now and then, and a ruleset that came out wrong without an error could not be told
        # apart otherwise. The checking engine's answer also explains what Rete left unknown.
        assert prepared.checker is not None, "a Rete engine needs a checking engine"
        try:
            return explain_and_check(prepared.plans, decided, prepared.checker(facts))
        except EngineDisagreement as error:
            raise ReteError(f"{self.model.meta.id}: {error}; no answer is given") from error
