"""The roster impact of a change: two versions of a policy over a whole roster, on the roster
engine (DuckDB, the SQL of `policyrules.sql.compiler`), NEW as if in force wherever OLD is (OLD's
regions and period), the transitions of each outcome counted and the changed rows written out,
each with the class of the diff (`policyrules.diff`) it falls in.

One pass (`_BothVersions`): each batch is read and validated once (`policyrules.sql.reading`,
the next ones in a thread meanwhile), its names normalised and its catalogs matched once, and one
DuckDB query chooses the rows OLD is in force for and gives both versions' values; an outcome
whose SQL is the same in both cannot change and is not evaluated. The answers are compared column by column in
Arrow. A changed row's class is found per distinct value of each field the outcome's diff space
varies, then per distinct assignment of classes, never row by row in Python. The unanswered rows
are those `policyrules roster` leaves out, with the same error objects.

Needs the ``roster`` extra (duckdb, pyarrow); imported only by ``policyrules impact``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from sqlglot import exp

from .fields import nest
from .diff import ABSENT, PolicyDiff, diff_policies
from .engines.matching import UNKNOWN, CatalogIndex, Match, normalise_name
from .errors import ContextProblem
from .jsonlines import error_object
from .model import Catalog, DiagnosisIn
from .policy import Policy, PolicySet
from .impact_sql import NativeAnswer, NativeBoth, native_slices
from .space import SpaceTooLarge
from .sql.compiler import NAME_COLUMN, SqlCompiler, catalog_column, choice_expression, column
from .sql.plan import RosterShape
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
    both = _BothVersions(old, in_force, today, every_outcome)
    counter = _Counter(old, new, diff, both.same, in_force, today)
    try:
        for batch in _read_ahead(batches_of(data, today)):
            counter.add(batch, *both.answer(batch))
            if progress is not None:
                progress(len(batch))
    finally:
        both.close()
    return counter.impact()


def _read_ahead(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """The batches, the next ones read and validated in a thread while this one is answered
    (Parquet decoding and Arrow compute release the GIL, and so does DuckDB). An error of the
    reading is raised here, in order; when the consumer stops, the reader stops too."""
    import queue
    import threading

    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(error)
        else:
            put(end)

    reader = threading.Thread(target=read, name="policyrules-impact-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


class _BothVersions:
    """Both versions answered in one pass per batch: the batch read and validated once, its
    institution names normalised once, each catalog matched once per distinct (diagnoses, age
    band) (a catalog both versions hold alike, once for both), and one DuckDB query choosing
    the rows OLD is in force for (NEW is in force exactly there) and giving every outcome's
    value by both versions (``old:<outcome>``, ``new:<outcome>``)."""

    def __init__(self, old: Policy, new: Policy, today: dt.date, every_outcome: bool = False) -> None:
        import duckdb

        self.old, self.today = old, today
        self.outcomes = {"old": old.model.outcomes(), "new": new.model.outcomes()}
        #: the prepared catalog columns: column name -> (its catalog, the age bands' lower bounds)
        self.catalogs: dict[str, tuple[CatalogIndex, list[int]]] = {}
        values: dict[str, dict[str, tuple[exp.Expr, str]]] = {"old": {}, "new": {}}
        meta = old.model.meta
        projections: list[exp.Expr] = [
            column("__row"),
            exp.alias_(choice_expression([(old.counties, meta.effective_from, meta.effective_to)], today), "p",
                       quoted=True)]
        for side, policy in (("old", old), ("new", new)):
            compiler = SqlCompiler(policy.model)
            renamed: dict[str, str] = {}
            used = {node.catalog for node in policy.model.conditions() if isinstance(node, DiagnosisIn)}
            for name, j in compiler.catalogs.items():
                if name not in used:
                    continue
                shared = old.model.catalogs.get(name) == policy.model.catalogs[name]
                renamed[catalog_column(j)] = target = f"{'old' if shared else side}:{name}"
                if target not in self.catalogs:
                    index = policy.prepared.matcher.catalogs[name]
                    self.catalogs[target] = (index, _age_bands(policy.model.catalogs[name]))

            def rename(node: exp.Expr, renamed: dict[str, str] = renamed) -> exp.Expr:
                if isinstance(node, exp.Column) and node.name in renamed:
                    return column(renamed[node.name])
                return node

            for outcome in self.outcomes[side]:
                value = compiler.value(outcome).transform(rename)
                values[side][outcome] = (value, value.sql(dialect="duckdb"))
        # the very same SQL on the same columns gives the same values: such an outcome cannot
        # change, and is computed once (for its (v, v) counts) or, by default, not at all
        self.same = {o for o, (_, text) in values["new"].items() if values["old"].get(o, (None, None))[1] == text}
        for side in ("old", "new"):
            for outcome, (value, _) in values[side].items():
                if outcome in self.same and (side == "new" or not every_outcome):
                    continue
                projections.append(exp.alias_(value, f"{side}:{outcome}", quoted=True))
        self.sql = exp.select(*projections).from_(exp.table_("batch", quoted=True)).sql(dialect="duckdb")
        #: the columns the query reads: only these are handed to DuckDB, only these catalogs matched
        self.read = list(dict.fromkeys(c.name for p in projections for c in p.find_all(exp.Column)))
        self.catalogs = {name: found for name, found in self.catalogs.items() if name in self.read}
        self.con = duckdb.connect()
        #: OLD alone, for the message of a row it does not cover (as `policyrules roster` gives it)
        self.shape = RosterShape(PolicySet([old]), values_only=True, today=today)
        #: catalog column -> diagnosis list -> its truth for each age band (and for no age)
        self._truths: dict[str, dict[tuple[str, ...], list[bool | None]]] = {}

    def close(self) -> None:
        self.con.close()

    def answer(self, batch: Batch) -> tuple[pa.Table, pa.Array, list[dict[str, Any]]]:
        """The answered rows' values (``old:``/``new:`` columns, in row order), their positions
        in the batch, and the rows not answered (``{"row", "id", "errors"}``)."""
        table = batch.table()
        names, index = distinct(table.column("encounter.institution.name").combine_chunks())
        table = table.append_column(NAME_COLUMN, pa.array([normalise_name(n) for n in names], pa.string()).take(index))
        table = self._prepare(table)
        self.con.register("batch", table.select([c for c in self.read if c in table.column_names]))
        try:
            relation = self.con.sql(self.sql)
            result = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
        finally:
            self.con.unregister("batch")
        first = batch.rows[0].as_py() if len(batch) else 0
        rows = result.column("__row").combine_chunks()
        contiguous = len(batch) and batch.rows[-1].as_py() - first + 1 == len(batch)
        positions = pc.subtract(rows, first) if contiguous else pc.index_in(rows, value_set=batch.rows)
        errors = dict(batch.errors)
        unplaced = pc.is_null(result.column("p").combine_chunks())
        for at in pc.filter(positions, unplaced).to_pylist():
            if at not in errors:
                errors[at] = [error_object(ContextProblem("(context)", self._why_no_policy(batch, at)))]
        good = pc.invert(unplaced)
        if errors:
            good = pc.and_(good, pc.invert(pc.is_in(positions, value_set=pa.array(list(errors), pa.int64()))))
        answered = result.filter(good).append_column("__at", pc.filter(positions, good)).sort_by("__row")
        unanswered = [{"row": batch.rows[at].as_py(), **({} if (i := batch.id_of(at)) is None else {"id": i}),
                       "errors": errors[at]} for at in sorted(errors)]
        return answered, answered.column("__at").combine_chunks(), unanswered

    def _prepare(self, table: pa.Table) -> pa.Table:
        """Each catalog's truth per distinct diagnosis list and age band: the match reads the age
        only against the entries' child limits, so a band's lower bound answers for every age in
        it. A list's truths (one per band, and for no age) are kept from batch to batch."""
        if not self.catalogs:
            return table
        diagnoses, diagnosis_index = distinct(table.column("encounter.diagnoses").combine_chunks())
        keys = [tuple(d) for d in diagnoses]
        ages = table.column("person.age").combine_chunks()
        for name, (catalog, bands) in self.catalogs.items():
            ages_read = [*bands, None] if catalog.reads_age else [None]
            known = self._truths.setdefault(name, {})
            if len(known) > _TRUTHS_KEPT:
                known.clear()
            flat: list[bool | None] = []
            for key in keys:
                truths = known.get(key)
                if truths is None:
                    truths = known[key] = [_truth(catalog.match(key, age)) for age in ages_read]
                flat.extend(truths)
            if catalog.reads_age:
                band = pa.array([0] * len(ages), pa.int64())
                for cut in bands[1:]:
                    band = pc.add(band, pc.cast(pc.greater_equal(ages, cut), pa.int64()))
                band = pc.fill_null(band, len(bands))  # no age: the last of the list's truths
                index = pc.add(pc.multiply(pc.cast(diagnosis_index, pa.int64()), len(ages_read)), band)
            else:
                index = diagnosis_index
            table = table.append_column(name, pa.array(flat, pa.bool_()).take(index))
        return table

    def _why_no_policy(self, batch: Batch, position: int) -> str:
        columns = batch.columns
        insured = columns["person.insured_region"][position].as_py()
        region = columns["encounter.institution.region"][position].as_py()
        date = columns["encounter.date"][position].as_py()
        return self.shape.why_no_policy(insured, region, date)


def _age_bands(catalog: Catalog) -> list[int]:
    """The lower bounds of the ages a catalog's match cannot tell apart (0 first)."""
    cuts = {0}
    for entry in catalog.entries:
        if entry.children is not None:
            cuts |= {entry.children.certainly_child_below, entry.children.certainly_adult_from}
    return sorted(c for c in cuts if c >= 0)


def _truth(match: Match) -> bool | None:
    return None if match[0] == UNKNOWN else bool(match[0])


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
        ids = changed.column("id").combine_chunks()
        positions = pa.array(range(changed.num_rows), pa.int64())
        for outcome in self.outcomes:
            if outcome in self.same:
                continue
            was, now = self._codes(changed, "old", outcome), self._codes(changed, "new", outcome)
            self._changed(outcome, found.batch, ids, found.batch.rows, positions, was, now)

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
        parts = []
        for field in fields:
            _, index = distinct(batch.columns[field].take(at))
            parts.append(pc.cast(pc.fill_null(index, -1), pa.string()))
        key = pc.binary_join_element_wise(*parts, "/") if len(parts) > 1 else parts[0]
        encoded = pc.dictionary_encode(key)
        groups = encoded.indices
        firsts: dict[int, int] = {}
        for position, group in enumerate(groups.to_pylist()):
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
