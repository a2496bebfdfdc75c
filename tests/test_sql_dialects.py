"""The SQL target in every dialect sqlglot knows: list overlap is written as each dialect has it
(sqlglot writes ``&&``, which Spark, Trino or BigQuery do not accept), with the same NULL logic."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlglot")
duckdb = pytest.importorskip("duckdb")
from sqlglot import exp  # noqa: E402
from sqlglot.dialects.dialect import Dialects  # noqa: E402

from policyrules import load_policies  # noqa: E402
from policyrules.sql.compiler import _overlap_form, _portable_overlaps, generate, policy_sql  # noqa: E402

from .conftest import ROOT  # noqa: E402

POLICIES = load_policies(ROOT / "policies")
DIALECTS = [d.value for d in Dialects if d.value]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_list_overlap_is_written_as_the_dialect_has_it(dialect: str) -> None:
    beita = POLICIES["beita_2021"].model  # it reads person.statuses and household.statuses
    sql = policy_sql(beita, dialect, pretty=False)
    form = _overlap_form(dialect)
    assert ("&&" in sql) == (form == "native" and dialect != "snowflake")
    if dialect in ("spark", "databricks", "trino"):
        assert "ARRAYS_OVERLAP(`person.statuses`" in sql or 'ARRAYS_OVERLAP("person.statuses"' in sql


def test_each_form_of_overlap_has_the_same_truth_on_duckdb() -> None:
    """Membership tests (the form for dialects without overlap) answer as ``&&``: NULL on a NULL
    list, FALSE on the empty list, TRUE on any shared value."""
    lists = [None, [], ["a"], ["b"], ["a", "b"], ["b", "c"]]
    wanted = exp.Array(expressions=[exp.Literal.string("a"), exp.Literal.string("c")])
    tree = exp.select(exp.alias_(exp.ArrayOverlaps(this=exp.column("l"), expression=wanted), "o")).from_("t")
    con = duckdb.connect()
    con.execute("CREATE TABLE t (n INTEGER, l VARCHAR[])")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(lists)))
    native = [r[0] for r in con.sql(generate(tree.order_by("n"), "duckdb")).fetchall()]
    contains = [r[0] for r in con.sql(_portable_overlaps(tree.order_by("n"), "contains").sql("duckdb")).fetchall()]
    assert native == [None, False, True, False, True, True]
    assert contains == native
