"""The roster impact of a change: two versions of a policy over a whole roster, on the roster
engine (DuckDB, `PolicySet.evaluate_roster`), NEW as if in force wherever OLD is (OLD's regions
and period), the transitions of each outcome counted and the changed rows written out.

Needs the ``roster`` extra (duckdb, pyarrow); imported only by ``policyrules impact``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from .diff import ABSENT
from .policy import Policy, PolicySet

__all__ = ["Impact", "as_if_in_force", "roster_impact", "write_changed"]


@attrs.frozen
class Impact:
    """``counts``: outcome -> (from, to) -> rows (unchanged rows included, as (v, v));
    ``changed``: one dict per changed answer (id, outcome, from, to); ``errors``: the rows that
    are not answered, as the roster path writes them; ``rows``: the rows answered."""

    old: Policy
    new: Policy
    counts: dict[str, Counter[tuple[Any, Any]]]
    changed: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    rows: int

    def render(self) -> str:
        lines = [f"{self.old.id} -> {self.new.id}: {self.rows} rows answered, {len(self.errors)} not answered, "
                 f"{len(self.changed)} answers changed"]
        for outcome, counts in self.counts.items():
            moved = {k: n for k, n in counts.items() if k[0] != k[1]}
            if not moved:
                continue
            lines.append(f"{outcome}:")
            for (before, after), n in sorted(moved.items(), key=lambda kv: -kv[1]):
                lines.append(f"  {_word(before)} -> {_word(after)}: {n}")
        return "\n".join(lines) + "\n"


def as_if_in_force(policy: Policy, like: Policy) -> Policy:
    """``policy`` with ``like``'s regions and period: its rules, in force wherever ``like`` is."""
    meta = attrs.evolve(policy.model.meta, regions=like.model.meta.regions,
                        effective_from=like.model.meta.effective_from, effective_to=like.model.meta.effective_to)
    return Policy(attrs.evolve(policy.model, meta=meta))


def _values(table: Any, outcomes: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    names = set(table.column_names)
    for row in table.to_pylist():
        out[str(row["id"])] = {o: (_plain(row[o]["value"]) if o in names and row[o] is not None else ABSENT)
                               for o in outcomes}
    return out


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def roster_impact(old: Policy, new: Policy, data: Any) -> Impact:
    """Both versions over ``data`` (anything `PolicySet.evaluate_roster` takes)."""
    outcomes = list(dict.fromkeys([*old.model.outcomes(), *new.model.outcomes()]))
    errors: list[dict[str, Any]] = []
    before = _values(PolicySet([old]).evaluate_roster(data, values=True, errors=errors), outcomes)
    new_errors: list[dict[str, Any]] = []
    after = _values(PolicySet([as_if_in_force(new, old)]).evaluate_roster(data, values=True, errors=new_errors),
                    outcomes)
    seen = {e["row"] for e in errors}
    errors += [e for e in new_errors if e["row"] not in seen]
    counts: dict[str, Counter[tuple[Any, Any]]] = {o: Counter() for o in outcomes}
    changed = []
    for row_id, old_values in before.items():
        new_values = after.get(row_id)
        if new_values is None:
            continue
        for outcome in outcomes:
            pair = (old_values[outcome], new_values[outcome])
            counts[outcome][pair] += 1
            if pair[0] != pair[1]:
                changed.append({"id": row_id, "outcome": outcome, "from": _json(pair[0]), "to": _json(pair[1])})
    return Impact(old, new, counts, changed, errors, len(set(before) & set(after)))


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _word(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return {True: "yes", False: "no", None: "unknown"}.get(value, str(value))


def write_changed(impact: Impact, out: Path) -> None:
    """The changed answers to ``out`` (.jsonl, .csv or .parquet: ``from``/``to`` as JSON text
    in the last two), and the rows not answered to ``out``.errors.jsonl when there are any."""
    suffix = out.suffix.lower()
    if suffix == ".jsonl":
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in impact.changed), "utf-8")
    elif suffix in (".csv", ".parquet"):
        import pyarrow as pa

        columns = {key: [r[key] if key in ("id", "outcome") else json.dumps(r[key], ensure_ascii=False)
                         for r in impact.changed] for key in ("id", "outcome", "from", "to")}
        table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
        if suffix == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, out)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, out)
    else:
        raise ValueError(f"{out}: the changed rows are written as .parquet, .csv or .jsonl")
    errors = out.with_name(out.name + ".errors.jsonl")
    if impact.errors:
        errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in impact.errors), "utf-8")
