"""The roster impact of a change: two versions of a policy over a whole roster, on the roster
engine (DuckDB, `policyrules.sql.roster.RosterRun`), NEW as if in force wherever OLD is (OLD's
regions and period), the transitions of each outcome counted and the changed rows written out,
each with the class of the diff (`policyrules.diff`) it falls in.

The roster is read and validated once; each batch is answered by both versions, and the answers
are compared column by column in Arrow. A changed row's class is found per distinct value of
each field the outcome's diff space varies, then per distinct assignment of classes, never row
by row in Python.

Needs the ``roster`` extra (duckdb, pyarrow); imported only by ``policyrules impact``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from .diff import ABSENT, PolicyDiff, diff_policies
from .policy import Policy, PolicySet
from .space import SpaceTooLarge
from .sql.reading import Batch, batches_of, distinct
from .sql.roster import RosterRun

__all__ = ["CHANGED_COLUMNS", "Impact", "as_if_in_force", "roster_impact", "write_changed"]

#: The columns of the changed rows: ``from``/``to`` as JSON text, ``class`` the index of the
#: diff's class among ``policyrules diff --json``'s list for the outcome (null: in none).
CHANGED_COLUMNS = ("id", "outcome", "from", "to", "class", "description")

_REGION, _INSURED = "encounter.institution.region", "person.insured_region"
_RADIX = 1 << 16  # a (from, to) pair of value codes as one integer


@attrs.frozen
class Impact:
    """``counts``: outcome -> (from, to) -> rows (unchanged rows included, as (v, v));
    ``changed``: a pyarrow Table of `CHANGED_COLUMNS`, one row per changed answer; ``errors``:
    the rows that are not answered, as the roster path writes them; ``rows``: the rows answered;
    ``diff``: the diff whose classes the changed rows are placed in (None when its space is too
    large to enumerate: then no row has a class)."""

    old: Policy
    new: Policy
    counts: dict[str, Counter[tuple[Any, Any]]]
    changed: Any
    errors: list[dict[str, Any]]
    rows: int
    diff: PolicyDiff | None

    def changed_rows(self) -> list[dict[str, Any]]:
        """The changed answers as dicts, ``from``/``to`` as values (True, False, None, a list, "absent")."""
        rows: list[dict[str, Any]] = self.changed.to_pylist()
        for row in rows:
            row["from"], row["to"] = json.loads(row["from"]), json.loads(row["to"])
        return rows

    def class_counts(self) -> dict[str, Counter[int | None]]:
        """outcome -> the diff's class index (None: none) -> changed rows in it."""
        out: dict[str, Counter[int | None]] = {}
        if self.changed.num_rows == 0:
            return out
        pairs = pc.value_counts(pc.binary_join_element_wise(
            self.changed.column("outcome"), pc.fill_null(pc.cast(self.changed.column("class"), pa.string()), ""),
            "\x1f")).to_pylist()
        for item in pairs:
            outcome, _, index = item["values"].partition("\x1f")
            out.setdefault(outcome, Counter())[int(index) if index else None] += item["counts"]
        return out

    def render(self) -> str:
        lines = [f"{self.old.id} -> {self.new.id}: {self.rows} rows answered, {len(self.errors)} not answered, "
                 f"{self.changed.num_rows} answers changed"]
        if self.diff is None:
            lines.append("(the diff has too many classes to enumerate: the changed rows carry no class)")
        by_class = self.class_counts()
        for outcome, counts in self.counts.items():
            moved = {k: n for k, n in counts.items() if k[0] != k[1]}
            if not moved:
                continue
            lines.append(f"{outcome}:")
            changes = self.diff.outcomes.get(outcome, ()) if self.diff is not None else ()
            for (before, after), n in sorted(moved.items(), key=lambda kv: -kv[1]):
                lines.append(f"  {_word(before)} -> {_word(after)}: {n}")
                for index, change in enumerate(changes):
                    if (change.before, change.after) == (before, after) and by_class[outcome][index]:
                        lines.append(f"    class {index}: {by_class[outcome][index]}")
            if self.diff is not None and by_class.get(outcome, Counter())[None]:
                lines.append(f"  in no class of the diff: {by_class[outcome][None]}")
        return "\n".join(lines) + "\n"


def as_if_in_force(policy: Policy, like: Policy) -> Policy:
    """``policy`` with ``like``'s regions and period: its rules, in force wherever ``like`` is."""
    meta = attrs.evolve(policy.model.meta, regions=like.model.meta.regions,
                        effective_from=like.model.meta.effective_from, effective_to=like.model.meta.effective_to)
    return Policy(attrs.evolve(policy.model, meta=meta))


def roster_impact(old: Policy, new: Policy, data: Any, diff: PolicyDiff | None = None,
                  progress: Callable[[int], None] | None = None, today: dt.date | None = None) -> Impact:
    """Both versions over ``data`` (anything `PolicySet.evaluate_roster` takes). ``diff``: the
    diff of ``old`` and ``new`` (computed when not given); ``progress`` is called with the rows
    of each batch done."""
    if diff is None:
        try:
            diff = diff_policies(old, new)
        except SpaceTooLarge:
            diff = None
    counter = _Counter(old, new, diff)
    today = today or dt.date.today()
    runs = [RosterRun(PolicySet([old]), values_only=True, today=today),
            RosterRun(PolicySet([as_if_in_force(new, old)]), values_only=True, today=today)]
    try:
        for batch in batches_of(data, today):
            before, errors = runs[0].answer(batch)
            after, new_errors = runs[1].answer(batch)
            counter.add(batch, before, after, errors, new_errors)
            if progress is not None:
                progress(len(batch))
    finally:
        for run in runs:
            run.close()
    return counter.impact()


class _Counter:
    """The transitions and changed rows of batch after batch."""

    def __init__(self, old: Policy, new: Policy, diff: PolicyDiff | None) -> None:
        self.old, self.new, self.diff = old, new, diff
        self.outcomes = list(dict.fromkeys([*old.model.outcomes(), *new.model.outcomes()]))
        self.counts: dict[str, Counter[int]] = {o: Counter() for o in self.outcomes}
        #: outcome -> the values met, in code order (a code is the index here)
        self.values: dict[str, list[Any]] = {o: [False, True, None, ABSENT] for o in self.outcomes}
        self.codes: dict[str, dict[Any, int]] = {o: {v: i for i, v in enumerate(self.values[o])} for o in self.outcomes}
        self.changes: dict[str, dict[tuple[int, ...], int | None]] = {o: {} for o in self.outcomes}
        self.parts: list[pa.Table] = []
        self.errors: list[dict[str, Any]] = []
        self.rows = 0

    def add(self, batch: Batch, before: pa.Table, after: pa.Table, errors: list[dict[str, Any]],
            new_errors: list[dict[str, Any]]) -> None:
        seen = {e["row"] for e in errors}
        self.errors += errors + [e for e in new_errors if e["row"] not in seen]
        if not before.column("__row").equals(after.column("__row")):  # only the rows both answer
            both = pc.is_in(before.column("__row"), value_set=after.column("__row").combine_chunks())
            before = before.filter(both)
            after = after.filter(pc.is_in(after.column("__row"), value_set=before.column("__row").combine_chunks()))
        self.rows += before.num_rows
        if before.num_rows == 0:
            return
        positions = pc.index_in(before.column("__row").combine_chunks(), value_set=batch.rows)
        ids = before.column("id").combine_chunks()
        for outcome in self.outcomes:
            was, now = self._codes(before, outcome), self._codes(after, outcome)
            pair = pc.add(pc.multiply(was, _RADIX), now)
            tally = pc.value_counts(pair)
            for code, n in zip(tally.field("values").to_pylist(), tally.field("counts").to_pylist(), strict=True):
                self.counts[outcome][code] += n
            mask = pc.not_equal(was, now)
            if not pc.any(mask).as_py():
                continue
            at = pc.filter(positions, mask)
            texts = pa.array([json.dumps(_json(v), ensure_ascii=False) for v in self.values[outcome]], pa.string())
            classes = self._classes(outcome, batch, at)
            descriptions = self._descriptions(outcome).take(classes)
            n = len(at)
            self.parts.append(pa.table({
                "id": pc.filter(ids, mask), "outcome": pa.array([outcome] * n, pa.string()),
                "from": texts.take(pc.filter(was, mask)), "to": texts.take(pc.filter(now, mask)),
                "class": classes, "description": descriptions}))

    def _codes(self, table: pa.Table, outcome: str) -> pa.Array:
        """An outcome's column as value codes (int64): 0 no, 1 yes, 2 unknown, 3 absent, then the
        lists of a list outcome in the order met."""
        if outcome not in table.column_names:
            return pa.array([3] * table.num_rows, pa.int64())
        values = pc.struct_field(table.column(outcome).combine_chunks(), "value")
        if pa.types.is_boolean(values.type):
            return pc.fill_null(pc.cast(values, pa.int64()), 2)
        uniques, index = distinct(values)
        codes = self.codes[outcome]
        found = []
        for value in uniques:
            key = None if value is None else tuple(value)
            if key not in codes:
                codes[key] = len(self.values[outcome])
                self.values[outcome].append(key)
            found.append(codes[key])
        return pc.fill_null(pa.array(found, pa.int64()).take(index), 2)  # a null list: unknown

    def _classes(self, outcome: str, batch: Batch, at: pa.Array) -> pa.Array:
        """The diff class (int32, null for none) of the rows at positions ``at`` of the batch."""
        space = self.diff.spaces.get(outcome) if self.diff is not None else None
        if space is None or outcome not in self.diff.outcomes:  # type: ignore[union-attr]
            return pa.nulls(len(at), pa.int32())
        key: pa.Array = pa.array([0] * len(at), pa.int64())
        radix = 1
        for field in space.fields:
            classes = space[field]
            if field == _REGION:  # in or out of the row's own insured county
                region, insured = batch.columns[_REGION].take(at), batch.columns[_INSURED].take(at)
                inside, outside, absent = (classes.classify(space.insured_region), classes.classify(""),
                                           classes.classify(None))
                index = pc.fill_null(pc.if_else(pc.equal(region, insured), inside, outside), absent)
            else:
                uniques, positions = distinct(batch.columns[field].take(at))
                index = pa.array([classes.classify(v) for v in uniques], pa.int64()).take(positions)
                index = pc.fill_null(index, classes.classify(None))  # distinct() leaves nulls null
            key = pc.add(key, pc.multiply(pc.cast(index, pa.int64()), radix))
            radix *= len(classes.classes)
        keys, positions = distinct(key)
        memo = self.changes[outcome]
        found = []
        for k in keys:
            assignment = []
            rest = k
            for field in space.fields:
                size = len(space[field].classes)
                assignment.append(rest % size)
                rest //= size
            fixed = tuple(assignment)
            if fixed not in memo:
                memo[fixed] = self.diff.change_index(outcome, fixed)  # type: ignore[union-attr]
            found.append(memo[fixed])
        return pa.array(found, pa.int32()).take(positions)

    def _descriptions(self, outcome: str) -> pa.Array:
        changes = self.diff.outcomes.get(outcome, ()) if self.diff is not None else ()
        descriptions: list[str | None] = [c.description for c in changes]
        return pa.array(descriptions or [None], pa.string())

    def impact(self) -> Impact:
        counts = {o: Counter({(self.values[o][c // _RADIX], self.values[o][c % _RADIX]): n
                              for c, n in self.counts[o].items()}) for o in self.outcomes}
        if self.parts:
            changed = pa.concat_tables(self.parts, promote_options="default")
        else:
            changed = pa.table({"id": pa.array([], pa.string()), "outcome": pa.array([], pa.string()),
                                "from": pa.array([], pa.string()), "to": pa.array([], pa.string()),
                                "class": pa.array([], pa.int32()), "description": pa.array([], pa.string())})
        return Impact(self.old, self.new, counts, changed, self.errors, self.rows, self.diff)


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
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in impact.changed_rows()), "utf-8")
    elif suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(impact.changed, out)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(impact.changed, out)
    else:
        raise ValueError(f"{out}: the changed rows are written as .parquet, .csv or .jsonl")
    errors = out.with_name(out.name + ".errors.jsonl")
    if impact.errors:
        errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in impact.errors), "utf-8")
