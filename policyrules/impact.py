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
    before = PolicySet([old]).evaluate_roster(data, values=True, errors=errors)
    new_errors: list[dict[str, Any]] = []
    after = PolicySet([as_if_in_force(new, old)]).evaluate_roster(data, values=True, errors=new_errors)
    seen = {e["row"] for e in errors}
    errors += [e for e in new_errors if e["row"] not in seen]
    if before.column("id").equals(after.column("id")):  # the usual case: the same rows answered
        counts, changed = _compare_columns(before, after, outcomes)
        return Impact(old, new, counts, changed, errors, before.num_rows)
    old_values, new_values = _values(before, outcomes), _values(after, outcomes)
    counts = {o: Counter() for o in outcomes}
    changed = []
    for row_id, was in old_values.items():
        now = new_values.get(row_id)
        if now is None:
            continue
        for outcome in outcomes:
            pair = (was[outcome], now[outcome])
            counts[outcome][pair] += 1
            if pair[0] != pair[1]:
                changed.append({"id": row_id, "outcome": outcome, "from": _json(pair[0]), "to": _json(pair[1])})
    return Impact(old, new, counts, changed, errors, len(set(old_values) & set(new_values)))


_CODES: tuple[Any, ...] = (False, True, None, ABSENT)


def _codes(table: Any, outcome: str) -> Any:
    """A yes/no/unknown column as codes 0 (no), 1 (yes), 2 (unknown), 3 (absent); None for a
    list outcome (compared row by row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if outcome not in table.column_names:
        return pa.array([3] * table.num_rows, pa.int8())
    values = pc.struct_field(table.column(outcome).combine_chunks(), "value")
    if not pa.types.is_boolean(values.type):
        return None
    return pc.if_else(pc.is_null(values), pa.scalar(2, pa.int8()), pc.cast(values, pa.int8()))


def _compare_columns(before: Any, after: Any, outcomes: list[str]) -> tuple[dict[str, Counter[tuple[Any, Any]]],
                                                                          list[dict[str, Any]]]:
    import pyarrow.compute as pc

    counts: dict[str, Counter[tuple[Any, Any]]] = {}
    changed: list[dict[str, Any]] = []
    ids = before.column("id").combine_chunks()
    for outcome in outcomes:
        was, now = _codes(before, outcome), _codes(after, outcome)
        if was is None or now is None:
            rows = _values(before.select(["id", outcome]), [outcome]), _values(after.select(["id", outcome]), [outcome])
            pairs = [(rows[0][i][outcome], rows[1][i][outcome]) for i in rows[0]]
            counts[outcome] = Counter(pairs)
            changed += [{"id": i, "outcome": outcome, "from": _json(a), "to": _json(b)}
                        for i, (a, b) in zip(rows[0], pairs, strict=True) if a != b]
            continue
        code = pc.add(pc.multiply(pc.cast(was, "int16"), 4), pc.cast(now, "int16"))
        tally = pc.value_counts(code)
        counts[outcome] = Counter({(_CODES[c // 4], _CODES[c % 4]): n for c, n in zip(
            tally.field("values").to_pylist(), tally.field("counts").to_pylist(), strict=True)})
        mask = pc.not_equal(was, now)
        for row_id, c in zip(pc.filter(ids, mask).to_pylist(), pc.filter(code, mask).to_pylist(), strict=True):
            changed.append({"id": row_id, "outcome": outcome, "from": _CODES[c // 4], "to": _CODES[c % 4]})
    return counts, changed


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
