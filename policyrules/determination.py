"""What an evaluation answers: a value per outcome, the rules and clauses behind it, and
what was missing (CONTRACT "Outcomes")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .model import Citation, PolicyMeta
from .suggest import closest

__all__ = ["Determination", "Outcome"]

SCHEMA_VERSION = "1"

Value = bool | tuple[str, ...] | None


@attrs.frozen
class Outcome:
    """One outcome's answer. ``value`` is True/False/None (unknown), or for
    ``reimbursement_layers`` a tuple of layer codes or None."""

    name: str
    value: Value
    rules: tuple[str, ...]
    citations: tuple[Citation, ...]
    missing: tuple[str, ...] = ()
    not_given: tuple[str, ...] = ()
    target_ratio: float | None = None
    #: the JSON form, built on first use (an outcome is shared by every answer that holds it)
    _json: dict[str, Any] | None = attrs.field(default=None, init=False, eq=False, repr=False)
    #: its serialised bytes (`policyrules.serialise`), likewise
    _bytes: bytes | None = attrs.field(default=None, init=False, eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The CONTRACT's JSON form of this answer: a fresh dict each call, whose lists and
        citation objects are shared by every call (treat them as read-only)."""
        found = self._json
        if found is None:
            found = self._build_dict()
            object.__setattr__(self, "_json", found)
        return dict(found)

    def json_dict(self) -> dict[str, Any]:
        """The JSON form itself, built once and shared: read-only."""
        found = self._json
        if found is None:
            found = self._build_dict()
            object.__setattr__(self, "_json", found)
        return found

    def _build_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        out: dict[str, Any] = {
            "value": value,
            "rules": list(self.rules),
            "citations": [
                {"document": c.document, "clause": c.clause, "quote": c.quote}
                | ({"note": c.note} if c.note else {})
                for c in self.citations
            ],
            "missing": list(self.missing),
            "not_given": list(self.not_given),
        }
        if self.target_ratio is not None:
            out["target_ratio"] = self.target_ratio
        return out


@attrs.frozen
class Determination:
    """The answer of one policy for one context. ``id`` is the context's record id (CONTRACT
    "Shapes"), None when it had none; the `Outcome` objects are shared between answers."""

    policy: PolicyMeta
    sha256: str
    outcomes: dict[str, Outcome]
    date_used: dt.date
    date_given: bool
    engine: str
    id: str | int | None = None

    def __getitem__(self, outcome: str) -> Outcome:
        """The answer for ``outcome``; `KeyError` naming the outcomes answered when this policy
        does not answer it (not answered is not the same as unknown)."""
        found = self.outcomes.get(outcome)
        if found is None:
            raise KeyError(self._not_answered(outcome))
        return found

    def value(self, outcome: str) -> Value:
        """The value of ``outcome``: True, False, None (unknown) or a tuple of codes.
        `KeyError` naming the outcomes answered when this policy does not answer it."""
        return self[outcome].value

    def _not_answered(self, outcome: str) -> str:
        close = closest(outcome, self.outcomes)
        hint = f"did you mean '{close}'? " if close and close != outcome else ""
        return (f"{self.policy.id} does not answer '{outcome}': {hint}"
                f"it answers {', '.join(self.outcomes) or 'nothing'}")

    def values(self) -> dict[str, Any]:
        """``{outcome: value}`` in the policy's outcome order, JSON-ready (lists for codes)."""
        return {name: list(o.value) if isinstance(o.value, tuple) else o.value
                for name, o in self.outcomes.items()}

    def to_dict(self) -> dict[str, Any]:
        """The CONTRACT's JSON answer: a fresh dict (the outcomes' inner lists are shared, read-only)."""
        meta = self.policy
        head: dict[str, Any] = {} if self.id is None else {"id": self.id}
        return head | {
            "schema_version": SCHEMA_VERSION,
            "policy": {
                "id": meta.id,
                "document": meta.document,
                "regions": list(meta.regions),
                "effective_from": meta.effective_from.isoformat(),
                "effective_to": meta.effective_to.isoformat() if meta.effective_to else None,
                "sha256": self.sha256,
                "date_used": self.date_used.isoformat(),
                "date_source": "encounter.date" if self.date_given else "evaluation day",
                "engine": self.engine,
                "source_kind": meta.source_kind,
                "inferred": list(meta.inferred),
            },
            "outcomes": {name: outcome.to_dict() for name, outcome in self.outcomes.items()},
        }
