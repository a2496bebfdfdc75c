"""The roster impact of a change: two versions of a policy over a whole roster, on the roster
engine (DuckDB, the SQL of `policyrules.sql.compiler`), NEW as if in force wherever OLD is (OLD's
regions and period), the transitions of each outcome counted and the changed rows written out,
each with the class of the diff (`policyrules.diff`) it falls in.

One pass over the roster (`policyrules.impact_sql`): a Parquet file DuckDB can read itself is
read and validated in SQL in slices (`NativeBoth`), only the rows whose answers differ leaving
DuckDB; any other roster in Arrow batches (`BothVersions`). Either way one DuckDB query chooses
the rows OLD is in force for and gives both versions' values; an outcome whose SQL is the same
in both cannot change and is not evaluated. A changed row's class is found per distinct value of
each field the outcome's diff space varies, then per distinct assignment of classes, and its
answers (each version's `evaluate`) once per distinct assignment of its validated fields, never
row by row in Python. The unanswered rows are those `policyrules roster` leaves out, with the
same error objects.

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


from .fields import nest
from .diff import ABSENT, PolicyDiff, diff_policies
from .policy import Policy
from .impact_sql import BothVersions, NativeAnswer, NativeBoth, native_slices, read_ahead
from .space import SpaceTooLarge
from .sql.reading import Batch, batches_of, distinct

__all__ = ["CHANGED_COLUMNS", "Impact", "as_if_in_force", "roster_impact", "write_changed"]

#: The columns of the changed rows (in row order, a row's outcomes in the policies' order):
#: ``from``/``to`` as JSON text, ``class`` the index of the
#: diff's class among ``policyrules diff --json``'s list for the outcome (null: in none), and
#: both versions' answers of the outcome as JSON text (``{"value", "rules", "missing",
#: "not_given"}``, the roster's answer struct; null where the version does not address it).
#: In `Impact.changed` the long repeated texts (``description``, both answers) are
#: dictionary-encoded columns; the files written hold them as plain text.
CHANGED_COLUMNS = ("id", "outcome", "from", "to", "class", "description", "old_answer", "new_answer")

_REGION, _INSURED = "encounter.institution.region", "person.insured_region"
_RADIX = 1 << 16  # a (from, to) pair of value codes as one integer
_TRUTHS_KEPT = 200_000  # diagnosis lists whose catalog truths are kept between batches


@attrs.frozen
class Impact:
    """``counts``: outcome -> (from, to) -> rows (unchanged rows included, as (v, v));
    ``changed``: a pyarrow Table of `CHANGED_COLUMNS`, one row per changed answer; ``errors``:
    the rows that are not answered, as the roster path writes them; ``rows``: the rows answered;
    ``diff``: the diff whose classes the changed rows are placed in (None when its space is too
    large to enumerate: then no row has a class); ``same``: the outcomes both versions compute
    with the same SQL, which no row can change (not counted unless asked: ``counts`` is empty)."""

    old: Policy
    new: Policy
    counts: dict[str, Counter[tuple[Any, Any]]]
    changed: Any
    errors: list[dict[str, Any]]
    rows: int
    diff: PolicyDiff | None
    same: frozenset[str] = frozenset()

    def changed_rows(self) -> list[dict[str, Any]]:
        """The changed answers as dicts, ``from``/``to`` as values (True, False, None, a list,
        "absent"), ``old_answer``/``new_answer`` as dicts (None where a version does not answer)."""
        rows: list[dict[str, Any]] = self.changed.to_pylist()
        for row in rows:
            row["from"], row["to"] = json.loads(row["from"]), json.loads(row["to"])
            for side in ("old_answer", "new_answer"):
                row[side] = None if row[side] is None else json.loads(row[side])
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
        if self.same:
            lines.append("the same rules in both versions, not evaluated: " + ", ".join(
                o for o in self.counts if o in self.same))
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
                  progress: Callable[[int], None] | None = None, today: dt.date | None = None,
                  every_outcome: bool = False) -> Impact:
    """Both versions over ``data`` (anything `PolicySet.evaluate_roster` takes). ``diff``: the
    diff of ``old`` and ``new`` (computed when not given); ``progress`` is called with the rows
    of each batch done. An outcome whose SQL is the same in both versions cannot change: it is
    listed in ``Impact.same`` and not evaluated, unless ``every_outcome`` (then its (v, v) are
    counted too)."""
    if diff is None:
        try:
            diff = diff_policies(old, new)
        except SpaceTooLarge:
            diff = None
    today = today or dt.date.today()
    in_force = as_if_in_force(new, old)
    pieces = native_slices(data, today)
    if pieces is not None:  # a Parquet file DuckDB reads itself
        native = NativeBoth(old, in_force, today, every_outcome)
        counter = _Counter(old, new, diff, native.same, in_force, today)
        try:
            for piece in pieces:
                counter.add_native(native.answer(piece))
                if progress is not None:
                    progress(len(piece))
        finally:
            native.close()
        return counter.impact()
    both = BothVersions(old, in_force, today, every_outcome)
    counter = _Counter(old, new, diff, both.same, in_force, today)
    try:
        for batch in read_ahead(batches_of(data, today)):
            counter.add(batch, *both.answer(batch))
            if progress is not None:
                progress(len(batch))
    finally:
        both.close()
    return counter.impact()


class _Counter:
    """The transitions and changed rows of batch after batch."""

    def __init__(self, old: Policy, new: Policy, diff: PolicyDiff | None, same: set[str],
                 new_in_force: Policy | None = None, today: dt.date | None = None) -> None:
        self.old, self.new, self.diff, self.same = old, new, diff, same
        #: the versions that answer a changed row in full (NEW as if in force where OLD is)
        self.answering = (old, new_in_force or as_if_in_force(new, old))
        self.today = today or dt.date.today()
        #: a row's validated values -> both versions' answers (bounded, as the catalog truths)
        self._by_content: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        #: the answers' JSON texts met, each once; id of an answer object -> (the object, its index)
        self.answer_texts: list[str] = []
        self._text_index: dict[str, int] = {}
        self._texts: dict[int, tuple[Any, int]] = {}
        #: the diff's class descriptions, outcome after outcome; outcome -> the indices of its own
        self.descriptions: list[str] = []
        self._description_index: dict[str, pa.Array] = {}
        self.outcomes = list(dict.fromkeys([*old.model.outcomes(), *new.model.outcomes()]))
        self.counts: dict[str, Counter[int]] = {o: Counter() for o in self.outcomes}
        #: outcome -> the values met, in code order (a code is the index here)
        self.values: dict[str, list[Any]] = {o: [False, True, None, ABSENT] for o in self.outcomes}
        self.codes: dict[str, dict[Any, int]] = {o: {v: i for i, v in enumerate(self.values[o])} for o in self.outcomes}
        self.changes: dict[str, dict[tuple[int, ...], int | None]] = {o: {} for o in self.outcomes}
        self.parts: list[pa.Table] = []
        self.errors: list[dict[str, Any]] = []
        self.rows = 0

    def add(self, batch: Batch, answered: pa.Table, positions: pa.Array, errors: list[dict[str, Any]]) -> None:
        self.errors += errors
        self.rows += answered.num_rows
        if answered.num_rows == 0:
            return
        numbers = answered.column("__row").combine_chunks()
        ids = numbers if batch.ids is None else batch.ids.take(positions)
        ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        for outcome in self.outcomes:
            if outcome in self.same and f"old:{outcome}" not in answered.column_names:
                continue  # it cannot change, and is not counted
            was = self._codes(answered, "old", outcome)
            if outcome in self.same:  # unchanged: (v, v) for every row
                tally = pc.value_counts(was)
                for code, n in zip(tally.field("values").to_pylist(), tally.field("counts").to_pylist(), strict=True):
                    self.counts[outcome][code * _RADIX + code] += n
                continue
            now = self._codes(answered, "new", outcome)
            pair = pc.add(pc.multiply(was, _RADIX), now)
            tally = pc.value_counts(pair)
            for code, n in zip(tally.field("values").to_pylist(), tally.field("counts").to_pylist(), strict=True):
                self.counts[outcome][code] += n
            self._changed(outcome, batch, ids, numbers, positions, was, now)

    def add_native(self, found: NativeAnswer) -> None:
        """One slice of the native path: its counts, and its changed rows (``found.batch``)."""
        self.errors += found.errors
        self.rows += found.rows
        for outcome, counts in found.counts.items():
            for before, after, n in counts:
                self.counts[outcome][self._code(outcome, before) * _RADIX + self._code(outcome, after)] += n
        changed = found.changed
        if changed.num_rows == 0:
            return
        ids, numbers = changed.column("id").combine_chunks(), changed.column("__row").combine_chunks()
        positions = pc.cast(changed.column("__g").combine_chunks(), pa.int64())
        for outcome in self.outcomes:
            if outcome in self.same:
                continue
            was, now = self._codes(changed, "old", outcome), self._codes(changed, "new", outcome)
            self._changed(outcome, found.batch, ids, numbers, positions, was, now)

    def _code(self, outcome: str, value: Any) -> int:
        """The code of one value of an outcome (as `_codes`: a null list is unknown)."""
        if value is None:
            return 2
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str):  # ABSENT: the version does not answer the outcome
            return 3
        key = tuple(value)
        codes = self.codes[outcome]
        if key not in codes:
            codes[key] = len(self.values[outcome])
            self.values[outcome].append(key)
        return codes[key]

    def _changed(self, outcome: str, batch: Batch, ids: pa.Array, numbers: pa.Array, positions: pa.Array,
                 was: pa.Array, now: pa.Array) -> None:
        """The rows (``ids``, row ``numbers``, at ``positions`` of the batch) whose codes of
        ``outcome`` differ, with their class and both answers, kept for the changed table (the
        long texts as indices, made columns once at the end)."""
        mask = pc.not_equal(was, now)
        if not pc.any(mask).as_py():
            return
        at = pc.filter(positions, mask)
        texts = pa.array([json.dumps(_json(v), ensure_ascii=False) for v in self.values[outcome]], pa.string())
        classes = self._classes(outcome, batch, at)
        n = len(at)
        old_answer, new_answer = self._both_answers(batch, at, outcome)
        self.parts.append(pa.table({
            "id": pc.filter(ids, mask), "from": texts.take(pc.filter(was, mask)), "to": texts.take(pc.filter(now, mask)),
            "class": classes, "__description": self._descriptions(outcome).take(classes),
            "__old": old_answer, "__new": new_answer,
            "__row": pc.filter(numbers, mask), "__outcome": pa.repeat(pa.scalar(self.outcomes.index(outcome), pa.int32()), n)}))

    def _both_answers(self, batch: Batch, at: pa.Array, outcome: str) -> tuple[pa.Array, pa.Array]:
        """Both versions' answers of ``outcome`` for the changed rows at positions ``at`` of the
        batch, as indices (int32, null: not answered) into ``answer_texts``: each distinct
        assignment of the rows' validated fields (found in Arrow) given back as a CONTRACT context
        to each version's `evaluate`, once (the answers are a function of those values, and are
        kept from batch to batch)."""
        fields = list(batch.columns)
        places, place_of = distinct(at)  # a position may be met more than once (the native path)
        at = pa.array(places, pa.int64())
        parts = []
        for field in fields:
            _, index = distinct(batch.columns[field].take(at))
            parts.append(pc.cast(pc.fill_null(index, -1), pa.string()))
        key = pc.binary_join_element_wise(*parts, "/") if len(parts) > 1 else parts[0]
        encoded = pc.dictionary_encode(key)
        groups = encoded.indices.take(place_of)
        firsts: dict[int, int] = {}
        for position, group in enumerate(encoded.indices.to_pylist()):
            firsts.setdefault(group, position)
        taken = pc.take(at, pa.array(list(firsts.values()), pa.int64()))
        columns = [batch.columns[field].take(taken).to_pylist() for field in fields]
        today = self.today.isoformat()
        old_version, new_version = self.answering
        if len(self._by_content) > _TRUTHS_KEPT:
            self._by_content.clear()
        old_found: list[int | None] = []
        new_found: list[int | None] = []
        for i in range(len(taken)):
            key_values = tuple(tuple(v) if isinstance(v := values[i], list) else v for values in columns)
            shared = self._by_content.get(key_values)
            if shared is None:
                flat = {f: v.isoformat() if isinstance(v, dt.date) else v
                        for f, values in zip(fields, columns, strict=True) if (v := values[i]) is not None}
                flat.setdefault("encounter.date", today)  # no date: the run's evaluation day, as in SQL
                context = nest(flat)
                shared = self._by_content[key_values] = (old_version.evaluate(context).outcomes,
                                                         new_version.evaluate(context).outcomes)
            old_found.append(self._text(shared[0].get(outcome)))
            new_found.append(self._text(shared[1].get(outcome)))
        return pa.array(old_found, pa.int32()).take(groups), pa.array(new_found, pa.int32()).take(groups)

    def _text(self, outcome: Any) -> int | None:
        """The index in ``answer_texts`` of an answer's JSON text, written once per answer object."""
        if outcome is None:
            return None
        found = self._texts.get(id(outcome))
        if found is None or found[0] is not outcome:
            if len(self._texts) >= _TRUTHS_KEPT:  # bounded: an engine may build answers afresh
                self._texts.clear()
            text = _answer_text(outcome)
            index = self._text_index.get(text)
            if index is None:
                index = self._text_index[text] = len(self.answer_texts)
                self.answer_texts.append(text)
            found = self._texts[id(outcome)] = (outcome, index)
        return found[1]

    def _codes(self, table: pa.Table, side: str, outcome: str) -> pa.Array:
        """One version's values of an outcome as codes (int64): 0 no, 1 yes, 2 unknown, 3 absent,
        then the lists of a list outcome in the order met."""
        name = f"{side}:{outcome}"
        if name not in table.column_names:
            return pa.array([3] * table.num_rows, pa.int64())
        values = table.column(name).combine_chunks()
        if pa.types.is_boolean(values.type) or pa.types.is_null(values.type):
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
        places, place_of = distinct(at)  # a position may be met more than once (the native path)
        if len(places) < len(at):
            return self._classes(outcome, batch, pa.array(places, pa.int64())).take(place_of)
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
        """The index in ``descriptions`` of each class's description of ``outcome`` (int32)."""
        found = self._description_index.get(outcome)
        if found is None:
            changes = self.diff.outcomes.get(outcome, ()) if self.diff is not None else ()
            start = len(self.descriptions)
            self.descriptions += [c.description for c in changes]
            found = self._description_index[outcome] = pa.array(range(start, len(self.descriptions)), pa.int32())
        return found if len(found) else pa.nulls(1, pa.int32())

    def impact(self) -> Impact:
        counts = {o: Counter({(self.values[o][c // _RADIX], self.values[o][c % _RADIX]): n
                              for c, n in self.counts[o].items()}) for o in self.outcomes}
        if self.parts:  # in row order, a row's outcomes in the policies' order (whatever the batches)
            parts = pa.concat_tables(self.parts, promote_options="default")
            parts = parts.sort_by([("__row", "ascending"), ("__outcome", "ascending")])
        else:
            parts = pa.table({"id": pa.array([], pa.string()), "from": pa.array([], pa.string()),
                              "to": pa.array([], pa.string()), "class": pa.array([], pa.int32()),
                              **{c: pa.array([], pa.int32()) for c in ("__description", "__old", "__new", "__outcome")}})

        def texts(indices: str, values: list[str]) -> pa.Array:  # long, repeated: dictionary-encoded
            return pa.DictionaryArray.from_arrays(parts.column(indices).combine_chunks(), pa.array(values, pa.string()))

        changed = pa.table({
            "id": parts.column("id"), "outcome": pa.array(self.outcomes, pa.string()).take(parts.column("__outcome")),
            "from": parts.column("from"), "to": parts.column("to"), "class": parts.column("class"),
            "description": texts("__description", self.descriptions),
            "old_answer": texts("__old", self.answer_texts), "new_answer": texts("__new", self.answer_texts)})
        return Impact(self.old, self.new, counts, changed, self.errors, self.rows, self.diff, frozenset(self.same))


def _answer_text(outcome: Any) -> str:
    answer = {"value": _json(outcome.value), "rules": list(outcome.rules), "missing": list(outcome.missing),
              "not_given": list(outcome.not_given)}
    return json.dumps(answer, ensure_ascii=False)


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _word(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return {True: "yes", False: "no", None: "unknown"}.get(value, str(value))


def _plain(table: pa.Table) -> pa.Table:
    """The changed rows with their dictionary-encoded texts as plain text columns (as written)."""
    return table.cast(pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                                 for f in table.schema]))


def write_changed(impact: Impact, out: Path) -> None:
    """The changed answers to ``out`` (.jsonl, .csv or .parquet: ``from``/``to`` as JSON text
    in the last two), and the rows not answered to ``out``.errors.jsonl when there are any."""
    suffix = out.suffix.lower()
    if suffix == ".jsonl":
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in impact.changed_rows()), "utf-8")
    elif suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(_plain(impact.changed), out)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(_plain(impact.changed), out)
    else:
        raise ValueError(f"{out}: the changed rows are written as .parquet, .csv or .jsonl")
    errors = out.with_name(out.name + ".errors.jsonl")
    if impact.errors:
        errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in impact.errors), "utf-8")
