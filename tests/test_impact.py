"""`policyrules impact`: both versions over a roster on DuckDB; its counts and changed rows agree
with evaluating every row with both versions one by one."""

from __future__ import annotations

import io
import itertools
import tempfile
import sys
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

import pyarrow.parquet as pq  # noqa: E402

import policyrules  # noqa: E402
from policyrules.cli import main  # noqa: E402
from policyrules.context import read_context  # noqa: E402
from policyrules.policy import Policy  # noqa: E402
from policyrules.impact import CHANGED_COLUMNS, as_if_in_force, roster_impact  # noqa: E402

from .conftest import POLICIES  # noqa: E402
from policyrules.diff import ABSENT  # noqa: E402
from policyrules.testing import contexts  # noqa: E402

from .test_diff import LOADED, _widened, draw_edit  # noqa: E402

BEITA = POLICIES / "beita_2021.yaml"


def _roster(path: Path) -> list[dict[str, Any]]:
    rows = []
    statuses: list[list[str]] = [[], ["lifted_out_of_poverty"], ["rural_dibao"], ["destitute", "registered_poor"]]
    kinds: list[str | None] = ["inpatient", "outpatient", None]
    names: list[str | None] = ["茶元街道社区卫生服务中心", "邵阳市中心医院", None]
    regions: list[str | None] = ["430511", "430521", None]
    for n, (s, kind, name, region, default) in enumerate(
            itertools.product(statuses, kinds, names, regions, [True, False])):
        encounter: dict[str, Any] = {"date": "2022-03-01", "diagnoses": ["I10"]}
        if kind:
            encounter["kind"] = kind
        if name:
            encounter["institution"] = {"name": name, **({"region": region} if region else {})}
        rows.append({"id": f"r{n}", "person": {"statuses": s, "insured_region": "430511", "age": 40},
                     "encounter": encounter, "history": {"pay_later_default": default}})
    rows.append({"id": "bad", "person": {"age": "forty", "insured_region": "430511"}, "encounter": {"date": "2022-03-01"}})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return rows


def test_impact_agrees_with_row_by_row_evaluation(tmp_path: Path) -> None:
    old, new = policyrules.load_policy(BEITA), policyrules.load_policy(_widened(tmp_path / "new"))
    rows = _roster(tmp_path / "roster.jsonl")
    result = roster_impact(old, new, tmp_path / "roster.jsonl")
    assert [e["id"] for e in result.errors] == ["bad"] and result.rows == len(rows) - 1
    in_force = as_if_in_force(new, old)
    expected: dict[str, Counter[tuple[Any, Any]]] = {o: Counter() for o in old.model.outcomes()}
    changed = set()
    for row in rows[:-1]:
        a, b = old.evaluate(row, engine="reference"), in_force.evaluate(row, engine="reference")
        for outcome in old.model.outcomes():
            pair = (a.value(outcome), b.value(outcome))
            expected[outcome][pair] += 1
            if pair[0] != pair[1]:
                changed.add((row["id"], outcome, pair[0], pair[1]))
    assert result.same and {o: c for o, c in result.counts.items() if o not in result.same} == {
        o: c for o, c in expected.items() if o not in result.same}
    assert all(not result.counts[o] for o in result.same)
    assert all(a == b for o in result.same for (a, b) in expected[o])  # what cannot change does not
    assert {(c["id"], c["outcome"], c["from"], c["to"]) for c in result.changed_rows()} == changed
    assert changed and {c[1] for c in changed} == {"pay_later", "deposit_exempt"}


def test_every_changed_row_falls_in_the_class_it_names(tmp_path: Path) -> None:
    old, new = policyrules.load_policy(BEITA), policyrules.load_policy(_widened(tmp_path / "new"))
    rows = {r["id"]: r for r in _roster(tmp_path / "roster.jsonl")}
    result = roster_impact(old, new, tmp_path / "roster.jsonl")
    assert result.diff is not None
    named = set()
    for row in result.changed_rows():
        change = result.diff.change_of(row["outcome"], read_context(rows[row["id"]]).values)
        assert change is not None, row
        changes = result.diff.outcomes[row["outcome"]]
        assert row["class"] == next(i for i, c in enumerate(changes) if c is change)
        assert row["description"] == change.description
        assert (row["from"], row["to"]) == (change.before, change.after)
        named.add((row["outcome"], row["class"]))
    assert len(named) > 2  # more than one class met: the index is not a constant
    by_class = result.class_counts()
    assert sum(by_class["pay_later"].values()) == sum(
        n for (a, b), n in result.counts["pay_later"].items() if a != b)


def test_the_cli_writes_the_changed_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = _widened(tmp_path / "new")
    _roster(tmp_path / "roster.jsonl")
    assert main(["impact", str(BEITA), str(BEITA), str(tmp_path / "roster.jsonl")]) == 0
    capsys.readouterr()
    out = tmp_path / "changed.parquet"
    assert main(["impact", str(BEITA), str(new), str(tmp_path / "roster.jsonl"), "-o", str(out)]) == 1
    said = capsys.readouterr().out
    assert "pay_later:" in said and "no -> yes" in said
    table = pq.read_table(out)
    assert table.column_names == list(CHANGED_COLUMNS) and table.num_rows > 0
    assert table.column("class").null_count == 0
    assert json.loads((tmp_path / "changed.parquet.errors.jsonl").read_text("utf-8"))["id"] == "bad"
    jsonl = tmp_path / "changed.jsonl"
    assert main(["impact", str(BEITA), str(new), str(tmp_path / "roster.jsonl"), "-o", str(jsonl)]) == 1
    assert len(jsonl.read_text("utf-8").splitlines()) == table.num_rows
    assert main(["impact", str(BEITA), str(new), str(tmp_path / "roster.jsonl"), "-o", str(tmp_path / "x.xlsx")]) == 2
    assert main(["impact", str(BEITA), str(new), str(tmp_path / "none.jsonl")]) == 2


def xianning_widened(tmp_path: Path) -> tuple[Policy, Policy, list[dict[str, Any]], Path]:
    """咸宁 and an edit of it whose 贫困人口 group takes in 监测对象 (a list outcome changes), with
    a four-row roster of it written as JSON Lines."""
    from .test_diff import _write

    text = (POLICIES / "xianning_2020.yaml").read_text("utf-8").replace(
        "statuses: [registered_poor]", "statuses: [registered_poor, monitored]", 1)
    old = policyrules.load_policy(POLICIES / "xianning_2020.yaml")
    new = policyrules.load_policy(_write(tmp_path / "new", "xianning_2020.yaml", text))
    rows = [{"id": f"x{n}", "person": {"statuses": s, "insured_region": "421202"},
             "encounter": {"date": "2020-06-01", "kind": "inpatient"}}
            for n, s in enumerate([[], ["monitored"], ["registered_poor"], ["rural_dibao"]])]
    path = tmp_path / "roster.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return old, new, rows, path


def test_a_list_outcome_is_compared_row_by_row(tmp_path: Path) -> None:
    old, new, rows, path = xianning_widened(tmp_path)
    result = roster_impact(old, new, path)
    in_force = as_if_in_force(new, old)
    changed = set()
    for row in rows:
        a, b = old.evaluate(row, engine="reference"), in_force.evaluate(row, engine="reference")
        for outcome in old.model.outcomes():
            x, y = a.value(outcome), b.value(outcome)
            if x != y:
                changed.add((row["id"], outcome, json.dumps(x), json.dumps(y)))
    assert {(c["id"], c["outcome"], json.dumps(c["from"]), json.dumps(c["to"])) for c in result.changed_rows()} == changed
    assert all(c["class"] is not None for c in result.changed_rows())
    assert any(c[1] == "reimbursement_layers" for c in changed)
    assert sum(result.counts["reimbursement_layers"].values()) == len(rows)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_on_a_terminal_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    new = _widened(tmp_path / "new")
    _roster(tmp_path / "roster.jsonl")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["impact", str(BEITA), str(new), str(tmp_path / "roster.jsonl")]) == 1
    bar = terminal.getvalue()
    assert "roster.jsonl: 217 rows" in bar  # the 216 good rows and the bad one, all read
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["impact", str(BEITA), str(new), str(tmp_path / "roster.jsonl")]) == 1
    assert "rows/s" not in capsys.readouterr().err


@settings(max_examples=30, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_impact_is_row_by_row_evaluation_on_random_edits(data: st.DataObject) -> None:
    """For a shipped policy and a random edit, over generated rows: the counts and changed rows
    are the reference engine's, row by row, and each changed row's class holds its context."""
    name, _, new, diff = draw_edit(data)
    old = LOADED[name]
    rows = [{"id": f"g{n}", **c} for n, c in enumerate(data.draw(st.lists(contexts(old), min_size=1, max_size=30),
                                                                 label="rows"))]
    path = Path(tempfile.mkdtemp(prefix="policyrules-impact-")) / "roster.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows), "utf-8")
    result = roster_impact(old, new, path, diff=diff)
    in_force = as_if_in_force(new, old)
    outcomes = list(dict.fromkeys([*old.model.outcomes(), *new.model.outcomes()]))
    expected: dict[str, Counter[tuple[Any, Any]]] = {o: Counter() for o in outcomes}
    changed, refused = {}, set()
    answered: dict[str, list[Any]] = {}
    for row in rows:
        try:
            answers = [policyrules.PolicySet([p]).evaluate(row, engine="reference") for p in (old, in_force)]
        except (policyrules.NoPolicyError, policyrules.ContextError):
            refused.add(row["id"])
            continue
        answered[row["id"]] = answers
        for outcome in outcomes:
            pair = tuple(a.value(outcome) if outcome in p.model.outcomes() else ABSENT
                         for a, p in zip(answers, (old, in_force), strict=True))
            pair = tuple(tuple(v) if isinstance(v, list) else v for v in pair)
            expected[outcome][pair] += 1
            if pair[0] != pair[1]:
                changed[(row["id"], outcome)] = pair
    assert {e["id"] for e in result.errors} == refused
    assert {o: c for o, c in result.counts.items() if o not in result.same} == {
        o: c for o, c in expected.items() if o not in result.same}
    assert all(a == b for o in result.same for (a, b) in expected[o])  # what cannot change does not
    got = {(r["id"], r["outcome"]): r for r in result.changed_rows()}
    assert {k: tuple(tuple(v) if isinstance(v, list) else v for v in (r["from"], r["to"]))
            for k, r in got.items()} == changed
    by_id = {r["id"]: r for r in rows}
    for (row_id, outcome), r in got.items():
        change = diff.change_of(outcome, read_context(by_id[row_id]).values)
        assert change is not None and r["class"] == diff.outcomes[outcome].index(change), (row_id, outcome)
        for side, answer in zip(("old_answer", "new_answer"), answered[row_id], strict=True):
            found = answer.outcomes.get(outcome)
            assert r[side] == (None if found is None else {
                "value": found.value if not isinstance(found.value, tuple) else list(found.value),
                "rules": list(found.rules), "missing": list(found.missing),
                "not_given": list(found.not_given)}), (row_id, outcome, side)


def test_a_catalog_read_at_every_age_is_matched_as_the_reference_engine_does(tmp_path: Path) -> None:
    """The children section of the national catalog makes the match read the age (below 14
    certainly a child, from 18 certainly not): every age from 0 to 20, and none, answered alike."""
    path = POLICIES / "guyang_2020.yaml"
    old = policyrules.load_policy(path)
    rows = [{"id": f"a{age}-{code}", "person": {"statuses": ["registered_poor"], "insured_region": "150222",
                                                 **({} if age is None else {"age": age})},
             "encounter": {"date": "2021-06-01", "kind": "inpatient", "diagnoses": [code]}}
            for age in [*range(0, 21), None] for code in ("C92.0", "Q21.0", "C16.9", "I10")]
    roster = tmp_path / "roster.jsonl"
    roster.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    result = roster_impact(old, old, roster, every_outcome=True)
    assert result.same == set(old.model.outcomes())
    expected: dict[str, Counter[tuple[Any, Any]]] = {o: Counter() for o in old.model.outcomes()}
    for row in rows:
        answer = policyrules.PolicySet([old]).evaluate(row, engine="reference")
        for outcome in old.model.outcomes():
            value = answer.value(outcome)
            value = tuple(value) if isinstance(value, list) else value
            expected[outcome][(value, value)] += 1
    assert result.errors == [] and result.counts == expected
    values = {v for (v, _), n in expected["major_disease_treatment"].items()}
    assert {True, None} <= values  # the ages in the children's gap are unknown, the young certain


def test_a_roster_that_cannot_be_read_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reading runs ahead in a thread: its error still reaches the CLI, as one line, exit 2."""
    bad = tmp_path / "roster.csv"
    bad.write_text("id,person.agee\nr1,40\n", "utf-8")
    assert main(["impact", str(BEITA), str(BEITA), str(bad)]) == 2
    said = capsys.readouterr().err.strip()
    assert "person.agee" in said and "person.age" in said and len(said.splitlines()) == 1
    rows = [{"id": f"r{n}", "person": {"insured_region": "430511"}, "encounter": {"date": "2022-03-01"}}
            for n in range(5)]
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    assert roster_impact(policyrules.load_policy(BEITA), policyrules.load_policy(BEITA), many).rows == 5
