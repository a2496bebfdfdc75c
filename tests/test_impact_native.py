"""`policyrules impact` on a Parquet roster DuckDB reads itself (`policyrules.impact_sql.NativeBoth`)
gives what the Arrow batch path gives for the same rows: the same changed rows (classes, both
answers), the same unanswered rows with the same error objects, the same counts."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")

import pyarrow.parquet as pq  # noqa: E402

import policyrules  # noqa: E402
from policyrules.impact import Impact, roster_impact  # noqa: E402
from policyrules.impact_sql import native_slices  # noqa: E402
from policyrules.testing import contexts  # noqa: E402

from .conftest import POLICIES  # noqa: E402
from .test_diff import EDITS, LOADED, _edited, _widened, draw_edit  # noqa: E402

BEITA = POLICIES / "beita_2021.yaml"


def _parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    pq.write_table(pa.Table.from_struct_array(pa.array(rows)), path)
    return path


def _both_paths(old: policyrules.Policy, new: policyrules.Policy, path: Path, **kw: Any) -> tuple[Impact, Impact]:
    """The impact on the file (the native path) and on the same table handed over in Arrow (batches)."""
    assert native_slices(path, dt.date.today()) is not None  # DuckDB reads this file itself
    return roster_impact(old, new, path, **kw), roster_impact(old, new, pq.read_table(path), **kw)


def _same(native: Impact, batches: Impact) -> None:
    assert native.changed_rows() == batches.changed_rows()
    assert native.errors == batches.errors
    assert native.counts == batches.counts and native.rows == batches.rows and native.same == batches.same


def _bad_rows() -> list[dict[str, Any]]:
    def row(the_id: Any, **person: Any) -> dict[str, Any]:
        encounter = person.pop("encounter", {})
        return {"id": the_id, "person": {"statuses": ["lifted_out_of_poverty"], "insured_region": "430511",
                                         "age": 40, **person},
                "encounter": {"date": "2022-03-01", "kind": "inpatient", "diagnoses": ["I10"],
                              "institution": {"name": "茶元街道社区卫生服务中心", "region": "430511"}, **encounter},
                "history": {"pay_later_default": False}}

    return [
        row("bad-status", statuses=["lifted_out_of_povrty"]),
        row("bad-kind", encounter={"kind": "inpatientt"}),
        row("bad-date", encounter={"date": "2022-13-01"}),
        row("bad-diagnosis", encounter={"diagnoses": ["not a code"]}),
        row("late-birth", age=None, birth_date="2023-01-01"),
        row("", statuses=["rural_dibao"]),
        row("x" * 200),
        row(None, statuses=["destitute", "lifted_out_of_povrty"]),
        row("elsewhere", insured_region="110101", encounter={"institution": {"name": "x", "region": "110101"}}),
        row("too-early", encounter={"date": "2019-01-01"}),
        row("born", age=None, birth_date="1980-06-30"),
        row("no-diagnoses", encounter={"diagnoses": None}),
    ]


def test_the_native_path_and_the_batch_path_agree_on_a_roster_with_bad_rows(tmp_path: Path) -> None:
    old, new = policyrules.load_policy(BEITA), policyrules.load_policy(_widened(tmp_path / "new"))
    statuses: list[list[str]] = [[], ["lifted_out_of_poverty"], ["rural_dibao"], ["destitute", "registered_poor"]]
    names: list[str | None] = ["茶元街道社区卫生服务中心", "邵阳市中心医院", None]
    rows = []
    for n, (s, kind, name, region, default) in enumerate(itertools.product(
            statuses, ["inpatient", "outpatient", None], names, ["430511", "430521", None], [True, False])):
        rows.append({"id": f"r{n}", "person": {"statuses": s, "insured_region": "430511", "age": 40},
                     "encounter": {"date": "2022-03-01", "kind": kind, "diagnoses": ["I10"],
                                   "institution": {"name": name, "region": region}},
                     "history": {"pay_later_default": default}})
        if n % 25 == 0:
            rows += _bad_rows()
    path = _parquet(tmp_path / "roster.parquet", rows)
    native, batches = _both_paths(old, new, path)
    _same(native, batches)
    refused = {e.get("id") for e in native.errors}
    assert {"bad-status", "bad-kind", "bad-date", "bad-diagnosis", "late-birth", "", "x" * 200, "elsewhere",
            "too-early"} <= refused and "born" not in refused
    assert native.changed.num_rows > 0 and native.rows == len(rows) - len(native.errors)


def test_a_catalog_read_at_every_age_agrees_on_both_paths(tmp_path: Path) -> None:
    """固阳's catalogs read the age (the children's section): the native path's age bands and
    diagnosis tables give the batch path's answers, ages from birth dates included."""
    name = "guyang_2020.yaml"
    old = LOADED[name]
    rows = [{"id": f"a{age}-{code}", "person": {"statuses": ["registered_poor"], "insured_region": "150222",
                                                 "age": age, "birth_date": None if age is not None else "2010-05-01"},
             "encounter": {"date": "2021-06-01", "kind": "inpatient", "diagnoses": [code]}}
            for age in [*range(0, 21), None] for code in ("C92.0", "Q21.0", "C16.9", "I10")]
    path = _parquet(tmp_path / "roster.parquet", rows)
    for index in range(len(EDITS[name])):
        edited = _edited(name, index)
        if edited is None:
            continue
        native, batches = _both_paths(old, edited[0], path, diff=edited[1], every_outcome=True)
        _same(native, batches)
    native, batches = _both_paths(old, old, path, every_outcome=True)
    _same(native, batches)
    assert native.errors == [] and native.rows == len(rows)


@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_both_paths_agree_on_random_edits(data: st.DataObject) -> None:
    name, _, new, diff = draw_edit(data)
    old = LOADED[name]
    rows = [{"id": f"g{n}", **c} for n, c in enumerate(data.draw(st.lists(contexts(old), min_size=1, max_size=30),
                                                                 label="rows"))]
    try:
        table = pa.Table.from_struct_array(pa.array(rows))
    except (pa.ArrowException, TypeError):
        assume(False)  # rows Arrow cannot put in one table are no Parquet roster
    path = Path(tempfile.mkdtemp(prefix="policyrules-impact-native-")) / "roster.parquet"
    pq.write_table(table, path)
    assume(native_slices(path, dt.date.today()) is not None)
    native, batches = _both_paths(old, new, path, diff=diff)
    _same(native, batches)
