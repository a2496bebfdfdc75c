"""Rosters on Spark (issue 18), local mode on the one SparkSession of the run (conftest ``spark``):
the same answers as the reference engine, row by row, unknowns included; the CLI's outputs, bad
rows, summary and exit codes as on DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")
pytest.importorskip("pyspark")
import pyarrow.parquet as pq  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from policyrules.cli import main  # noqa: E402
from policyrules.policy import PolicySet  # noqa: E402
from policyrules.sql.reading import batches_of  # noqa: E402
from policyrules.sql.spark import SparkRun  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .test_roster import (  # noqa: E402
    _CONTEXTS,
    GOOD,
    HOSTILE,
    HOSTILE_NAMES,
    POLICIES,
    as_csv,
    compare,
    hostile_roster,
)


def spark_answers(spark: Any, policies: PolicySet, data: Any, values: bool = False, local: bool = True,
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], SparkRun]:
    """The rows Spark answers (in the order it gives them) and the unanswered rows; ``local``
    False takes the cluster's way in and out (rows sent from the driver, ``toLocalIterator``)."""
    run = SparkRun(policies, spark, values_only=values)
    run.local = local
    try:
        tables, errors = run.answer(batches_of(data, run.today))
        rows = [row for table in tables for row in table.to_pylist()]
    finally:
        run.close()
    return rows, errors, run


def check(spark: Any, policies: PolicySet, roster: list[dict[str, Any]], data: Any, local: bool = True) -> None:
    answered, errors, run = spark_answers(spark, policies, data, local=local)
    compare(policies, roster, answered, errors, run.outcomes)
    assert run.answered == len(answered) and run.skipped == len(errors)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(_CONTEXTS, min_size=30, max_size=90))
def test_spark_answers_as_the_reference_engine(spark: Any, roster: list[dict[str, Any]]) -> None:
    """Row by row, on generated rosters of all six policies: values, rules, missing, not_given,
    unknowns, outcomes the row's policy does not address, and the rows no policy covers."""
    check(spark, POLICIES, roster, roster)  # (--values: the CLI test checks it against DuckDB's)


def test_hostile_names_on_spark(spark: Any, tmp_path: Path) -> None:
    """The hostile fixture's names (quotes, backslashes, SQL) are string literals in Spark SQL too."""
    roster = hostile_roster([*HOSTILE_NAMES, "`; DROP TABLE x; --", "a\nb`"])  # Spark quotes names with `
    check(spark, HOSTILE, roster, as_csv(roster, tmp_path / "hostile.csv"))
    check(spark, HOSTILE, roster, roster, local=False)  # as on a cluster: sent from the driver and back


def _read(path: Path) -> Any:
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return table.schema, table.schema.metadata, table.to_pylist()
    return path.read_text("utf-8")


def test_the_cli_on_spark_writes_what_duckdb_writes(spark: Any, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Every format, full and --values: the same file, the same OUT.errors.jsonl, the same summary,
    the same exit code (1: a row skipped)."""
    example = ROOT / "examples" / "roster.csv"
    for name, values in (("a.parquet", False), ("a.jsonl", False), ("v.csv", True)):
        outputs = {}
        for engine in ("duckdb", "spark"):
            out = tmp_path / engine / name
            out.parent.mkdir(exist_ok=True)
            assert main(["roster", str(example), "-o", str(out), "--engine", engine]
                        + (["--values"] if values else [])) == 1
            summary = capsys.readouterr().out.replace(str(out), "OUT")
            outputs[engine] = (_read(out), (out.parent / f"{name}.errors.jsonl").read_text("utf-8"), summary)
        assert outputs["spark"] == outputs["duckdb"], name
    assert "5 rows answered, 1 skipped" in outputs["spark"][2]
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    (tmp_path / "good.out.jsonl.errors.jsonl").write_text("stale\n", encoding="utf-8")
    assert main(["roster", str(good), "-o", str(tmp_path / "good.out.jsonl"), "--engine", "spark"]) == 0
    assert not (tmp_path / "good.out.jsonl.errors.jsonl").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("person.agee\n5\n", encoding="utf-8")
    assert main(["roster", str(bad), "-o", str(tmp_path / "x.csv"), "--engine", "spark"]) == 2
    err = capsys.readouterr().err
    assert "'person.agee'" in err and "Traceback" not in err
    assert spark.sparkContext._jsc is not None  # the shared session is still up: the run did not stop it


@pytest.mark.timeout(900)
def test_answers_kept_on_spark_as_a_folder_of_part_files_and_as_a_table(
        spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """OUT ending in / (Spark's part files, in row order) and --out-table hold what DuckDB's file
    holds, row for row; the skipped rows and the summary as on DuckDB."""
    monkeypatch.chdir(tmp_path)
    example = ROOT / "examples" / "roster.csv"
    assert main(["roster", str(example), "-o", "d.parquet"]) == 1
    want = pq.read_table("d.parquet").to_pylist()
    summary = capsys.readouterr().out.replace("d.parquet", "OUT")
    skipped = Path("d.parquet.errors.jsonl").read_text("utf-8")
    assert main(["roster", str(example), "-o", "answers/", "--engine", "spark"]) == 1
    assert pq.read_table("answers").to_pylist() == want
    assert capsys.readouterr().out.replace("answers", "OUT") == summary
    assert Path("answers.errors.jsonl").read_text("utf-8") == skipped
    assert main(["roster", str(example), "--out-table", "policyrules_answers", "--engine", "spark"]) == 1
    assert capsys.readouterr().out.replace("policyrules_answers", "OUT") == summary
    table = spark.table("policyrules_answers").toArrow().to_pylist()
    assert sorted(table, key=lambda row: row["id"]) == want
    assert Path("policyrules_answers.errors.jsonl").read_text("utf-8") == skipped
    assert main(["roster", str(example), "--out-table", "policyrules_answers", "--engine", "spark"]) == 2
    err = capsys.readouterr().err
    assert "policyrules_answers: cannot write the answers: the table exists" in err and err.count("\n") == 1
    assert main(["roster", str(example), "--out-table", "t"]) == 2  # a table is for --engine spark


@pytest.mark.timeout(900)
def test_a_catalog_table_is_validated_on_the_cluster_and_answered_as_its_file(
        spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """--table: the same checks per distinct value (the same messages), ages from birth dates, the
    same answers as the same rows in a Parquet file on DuckDB; rows named by their id."""
    import datetime

    monkeypatch.chdir(tmp_path)
    day = datetime.date(2022, 3, 1)
    person = [{"age": 58, "statuses": ["destitute"], "insured_region": "430511", "birth_date": None},
              {"age": 200, "statuses": ["destitute"], "insured_region": "430511", "birth_date": None},
              {"age": None, "statuses": ["rich"], "insured_region": "430511", "birth_date": None},
              {"age": None, "statuses": [], "insured_region": "430511", "birth_date": datetime.date(1960, 5, 1)},
              {"age": None, "statuses": None, "insured_region": "430511", "birth_date": datetime.date(2030, 1, 1)},
              {"age": 7, "statuses": ["destitute"], "insured_region": "430511", "birth_date": None},
              {"age": 40, "statuses": ["destitute"], "insured_region": "999999", "birth_date": None}]
    table = pa.table({"id": ["a", "b", "c", "d", "e", "", "g"], "person": pa.array(person),
                      "encounter.date": [day] * 7, "encounter.kind": ["inpatient"] * 7,
                      "encounter.diagnoses": [["I10.x00"], ["C16.900"], None, [], ["J06"], ["I10"], ["I10"]]})
    pq.write_table(table, "r.parquet")
    spark.createDataFrame(table).coalesce(1).write.saveAsTable("policyrules_admissions")
    assert main(["roster", "r.parquet", "-o", "d.jsonl"]) == 1
    summary = capsys.readouterr().out.splitlines()
    assert main(["roster", "--table", "policyrules_admissions", "-o", "s.jsonl", "--engine", "spark"]) == 1
    got = capsys.readouterr().out.splitlines()
    assert got[0] == summary[0].replace("d.jsonl", "s.jsonl") and got[2:] == summary[2:]  # (row numbers differ)
    assert Path("s.jsonl").read_text("utf-8") == Path("d.jsonl").read_text("utf-8")

    def named(path: str) -> list[Any]:
        return [(e["id"], e["errors"]) for e in map(json.loads, Path(path).read_text("utf-8").splitlines())]
    assert named("s.jsonl.errors.jsonl") == named("d.jsonl.errors.jsonl")
    assert [i for i, _ in named("d.jsonl.errors.jsonl")] == ["b", "c", "e", "", "g"]
    assert main(["roster", "--table", "no_such_table", "-o", "x.jsonl", "--engine", "spark"]) == 2
    assert "no_such_table: cannot read the table" in capsys.readouterr().err


def test_without_pyspark_the_cli_says_what_to_install() -> None:
    with tempfile.TemporaryDirectory() as folder:
        code = ("import sys; sys.modules['pyspark'] = None; from policyrules.cli import main; "
                f"sys.exit(main(['roster', {str(ROOT / 'examples' / 'roster.csv')!r}, '-o', "
                f"{str(Path(folder) / 'out.csv')!r}, '--engine', 'spark']))")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "pip install 'policyrules[spark]'" in result.stderr


def test_pyspark_is_imported_only_by_the_spark_module_and_is_an_extra_of_the_tests() -> None:
    import tomllib

    code = ("import sys, policyrules, policyrules.cli, policyrules.sql.run; "
            "print('pyspark' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]
    assert any(d.startswith("pyspark>=4,<5") for d in extras["spark"]) and "policyrules[spark]" in extras["test"]
    assert "openjdk-17-jre-headless" in (ROOT / ".ci" / "run").read_text("utf-8")
