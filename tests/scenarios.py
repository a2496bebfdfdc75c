"""Helpers of the scenario tests: a region's contexts, and what every answer must keep."""

from __future__ import annotations

import re
from typing import Any

import policyrules
from policyrules.engines import rete_runner as rete
from policyrules.testing import omit_fields

from .conftest import POLICIES

#: A field given as ABSENT is left out of the context (unknown).
ABSENT: Any = object()
#: The institution stands in the person's own insured county.
SAME_COUNTY: Any = object()

_FIELDS = {
    "statuses": "person.statuses", "insured": "person.insured_region", "age": "person.age",
    "birth_date": "person.birth_date", "sex": "person.sex", "residence": "person.residence",
    "kind": "encounter.kind", "date": "encounter.date", "diagnoses": "encounter.diagnoses",
    "name": "encounter.institution.name", "region": "encounter.institution.region",
    "designated": "encounter.institution.designated", "level": "encounter.institution.level",
    "default": "history.pay_later_default",
}


class Scenario:
    """Contexts with a region's defaults, and the invariants of every answer of its policy."""

    def __init__(self, document: str, seed: str, **defaults: Any) -> None:
        self.document = document
        self.text = re.sub(r"\s+", "", (POLICIES / "sources" / seed).read_text(encoding="utf-8"))
        self.defaults = defaults

    def context(self, **given: Any) -> dict[str, Any]:
        """A CONTRACT context: the region's defaults, then ``given`` (ABSENT leaves a field out)."""
        values = {**self.defaults, **given}
        if values.get("region") is SAME_COUNTY:
            values["region"] = values.get("insured", ABSENT)
        return omit_fields({_FIELDS[key]: value for key, value in values.items() if value is not ABSENT}, set())

    def in_document(self, quote: str) -> bool:
        """The quote (whitespace removed) is in the document; '……' elides text, parts in order."""
        position = 0
        for part in re.split(r"…+", re.sub(r"\s+", "", quote)):
            if not part:
                continue
            found = self.text.find(part, position)
            if found < 0:
                return False
            position = found + len(part)
        return True

    def check(self, answer: policyrules.Determination) -> None:
        """Decided ⇒ no missing, no not_given; true (or a list) ⇒ a citation quoting the document."""
        for name, out in answer.outcomes.items():
            assert list(out.missing) == sorted(out.missing), name
            if out.value is not None:
                assert tuple(out.missing) == (), (name, out.missing)
                assert tuple(out.not_given) == (), (name, out.not_given)
            if out.value is True or (isinstance(out.value, tuple) and out.value):
                assert any(c.document == self.document and self.in_document(c.quote)
                           for c in out.citations), (name, [c.quote for c in out.citations])

    def evaluate(self, policy: policyrules.Policy, context: dict[str, Any]) -> policyrules.Determination:
        """The default engine's answer, checked, and equal to the reference engine's and (where
        durable_rules runs) to the Rete one."""
        answer = policy.evaluate(context)
        self.check(answer)
        for engine in ("reference", "rete") if rete.AVAILABLE else ("reference",):
            other = policy.evaluate(context, engine=engine).to_dict()
            other["policy"]["engine"] = answer.engine
            assert other == answer.to_dict()
        return answer

    def outcome(self, policy: policyrules.Policy, which: str, **given: Any) -> Any:
        return self.evaluate(policy, self.context(**given)).outcomes[which]
