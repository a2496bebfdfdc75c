"""Rosters on the SQL target (issue 16): the same answers as the reference engine, row by row,
through every way a roster comes in; bad rows named and skipped, good rows never lost."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")
import pyarrow.parquet as pq  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from policyrules import load_policies  # noqa: E402
from policyrules.cli import main  # noqa: E402
from policyrules.errors import ContextError, NoPolicyError, RosterError, RosterRowsError  # noqa: E402
from policyrules.fields import nest  # noqa: E402
from policyrules.policy import PolicySet  # noqa: E402
from policyrules.sql.answers import answer_dict  # noqa: E402
from policyrules.sql.compiler import policy_sql  # noqa: E402
from policyrules.sql.roster import RosterRun  # noqa: E402
from policyrules.sql.run import answer_with  # noqa: E402
from policyrules.testing import OPTIONAL_FIELDS, full_contexts, omit_fields  # noqa: E402
from policyrules.vocabulary import CONTEXT_FIELDS  # noqa: E402

from .conftest import ROOT  # noqa: E402

POLICIES = load_policies(ROOT / "policies")
HOSTILE = load_policies(ROOT / "tests" / "fixtures" / "hostile_sql")
_RUNS: dict[tuple[int, bool], RosterRun] = {}


def _run(policies: PolicySet, values: bool = False) -> RosterRun:
    if (id(policies), values) not in _RUNS:
        _RUNS[id(policies), values] = RosterRun(policies, values_only=values)
    return _RUNS[id(policies), values]


def expected(policies: PolicySet, context: dict[str, Any]) -> dict[str, Any] | None:
    """The reference engine's answer of every outcome (None: the row is not answered)."""
    try:
        answer = policies.evaluate(context)
    except (ContextError, NoPolicyError):
        return None
    return {"policy": answer.policy.id,
            **{name: answer_dict(outcome) for name, outcome in answer.outcomes.items()}}


def got(row: dict[str, Any], outcomes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"policy": row["policy"]}
    for name in outcomes:
        answer = row[name]
        if answer is None:  # the policy does not address it
            continue
        answer = dict(answer)
        if answer.get("target_ratio", 0) is None:
            del answer["target_ratio"]
        out[name] = answer
    return out


def check(policies: PolicySet, roster: list[dict[str, Any]], data: Any) -> None:
    run = _run(policies)
    errors: list[dict[str, Any]] = []
    table = answer_with(run, data, errors)
    compare(policies, roster, table.to_pylist(), errors, run.outcomes)


def compare(policies: PolicySet, roster: list[dict[str, Any]], answered: list[dict[str, Any]],
            errors: list[dict[str, Any]], outcomes: list[str]) -> None:
    """A run's answered rows and unanswered rows against the reference engine, row by row."""
    rows = {row["id"]: row for row in answered}
    assert [row["id"] for row in answered] == sorted(rows)  # input order, each row once
    unanswered = {e["row"] for e in errors}
    for number, context in enumerate(roster, start=1):
        want = expected(policies, context)
        if want is None:
            assert number in unanswered and number not in rows
            continue
        assert number in rows, (number, errors)
        assert got(rows[number], outcomes) == want, (number, context)
    assert len(rows) + len(unanswered) == len(roster)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value) if value else "[]"
    return str(value)


def as_csv(roster: list[dict[str, Any]], path: Path) -> Path:
    """The roster as CSV, one column per dotted field."""
    fields = [f for f in CONTEXT_FIELDS if f != "person.birth_date"]
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(fields)
        for context in roster:
            flat = {f"{group}.{key}": value for group, values in context.items() for key, value in values.items()
                    if not isinstance(value, dict)}
            flat |= {f"encounter.institution.{k}": v
                     for k, v in context.get("encounter", {}).get("institution", {}).items()}
            writer.writerow([_cell(flat.get(f)) for f in fields])
    return path


_CONTEXTS = st.one_of(*[
    st.builds(omit_fields, full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS)))
    for policy in POLICIES
])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_CONTEXTS, min_size=1, max_size=30))
def test_the_sql_target_answers_as_the_reference_engine(roster: list[dict[str, Any]]) -> None:
    """Row by row, on generated rosters of all six policies: values, rules, missing, not_given,
    unknowns and outcomes the row's policy does not address; as dicts, an Arrow table and CSV."""
    check(POLICIES, roster, roster)
    check(POLICIES, roster, pa.Table.from_struct_array(pa.array(roster)))
    values = {row["id"]: row for row in answer_with(_run(POLICIES, values=True), roster, []).to_pylist()}
    for number, context in enumerate(roster, start=1):
        want = expected(policies=POLICIES, context=context)
        if want is not None:  # --values: the same values, the same not-addressed outcomes
            assert {k: v if k == "policy" else v["value"] for k, v in want.items()} == {
                k: v if k == "policy" else v["value"] for k, v in values[number].items()
                if k != "id" and v is not None}
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        check(POLICIES, roster, as_csv(roster, Path(folder) / "roster.csv"))


#: Institution names a generator must keep as string literals (the hostile_sql policy lists some).
HOSTILE_NAMES = ["'; DROP TABLE x; --", "O'Brien's \"clinic\"", "C:\\clinic\\'", "x' OR '1'='1", "x", "'", "\\",
                 " O'Brien's  \"clinic\" ", "陈家桥卫生院", "'; DROP TABLE x; -- "]


def hostile_roster(names: list[str]) -> list[dict[str, Any]]:
    """A roster of the hostile_sql policy: each name with a listed, an unlisted and no diagnosis."""
    return [nest({"person.insured_region": "430511", "encounter.kind": "inpatient",
                  "encounter.date": "2022-01-01", "encounter.institution.name": name,
                  "encounter.diagnoses": diagnoses})
            for name in names for diagnoses in (["C16.900"], ["J06"], [])]


def test_hostile_names_are_answered_as_the_reference_engine(tmp_path: Path) -> None:
    sql = policy_sql(HOSTILE.policies[0].model)
    assert "''';droptablex;--'" in sql  # a string literal (normalised), its quote doubled
    roster = hostile_roster(HOSTILE_NAMES)
    check(HOSTILE, roster, roster)
    check(HOSTILE, roster, pa.Table.from_struct_array(pa.array(roster)))
    check(HOSTILE, roster, as_csv(roster, tmp_path / "hostile.csv"))
    answers = {row["id"]: row for row in answer_with(_run(HOSTILE), roster).to_pylist()}
    assert answers[1]["pay_later"]["value"] is True  # the first name is on the list
    assert answers[4 * 3 + 1]["pay_later"]["value"] is False  # "x" is not


GOOD = {"person": {"age": 58, "statuses": ["destitute"], "insured_region": "430511"},
        "encounter": {"kind": "inpatient", "date": "2022-03-01", "diagnoses": ["I10.x00"],
                      "institution": {"name": "陈家桥卫生院", "region": "430511", "designated": True}}}


def test_bad_json_lines_lose_no_good_row(tmp_path: Path) -> None:
    lines = [json.dumps(GOOD), "{not json", json.dumps([1]), json.dumps({**GOOD, "persn": {}}),
             json.dumps({**GOOD, "id": True}), "", json.dumps({**GOOD, "id": "x-7"}),
             json.dumps({"person": {"age": "58", "insured_region": "430511"}}), json.dumps(GOOD)]
    path = tmp_path / "roster.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors: list[dict[str, Any]] = []
    table = POLICIES.evaluate_roster(path, errors=errors)
    assert table.column("id").to_pylist() == ["1", "x-7", "9"]  # ids as text when some are text
    by_row = {e["row"]: e for e in errors}
    assert sorted(by_row) == [2, 3, 4, 5, 8]
    assert by_row[2]["errors"][0]["field"] is None and by_row[2]["errors"][0]["column"] == 2
    assert by_row[4]["errors"][0]["field"] == "persn"
    assert by_row[5]["errors"][0]["field"] == "id"
    assert by_row[8]["errors"][0]["field"] == "person.age"
    with pytest.raises(RosterRowsError):
        POLICIES.evaluate_roster(path)


def test_bad_csv_rows_lose_no_good_row(tmp_path: Path) -> None:
    header = "id,person.age,person.statuses,person.insured_region,encounter.kind,encounter.date\n"
    rows = ["a,58,destitute,430511,inpatient,2022-03-01",
            "b,58,430511,inpatient",  # a column short
            "c,fifty,destitute,430511,inpatient,2022-03-01",
            "d,58,destitut,430511,inpatient,2022-03-01",
            "e,58,destitute,430511,inpatient,2022-02-30",
            "f,58,[],430511,inpatient,2022-03-01",
            "g,58,destitute,430511,inpatient,2022-03-01,extra"]
    path = tmp_path / "roster.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    errors: list[dict[str, Any]] = []
    table = POLICIES.evaluate_roster(path, errors=errors)
    assert table.column("id").to_pylist() == ["a", "f"]
    by_row = {e["row"]: e for e in errors}
    assert sorted(by_row) == [2, 3, 4, 5, 7]
    assert [by_row[n]["id"] for n in (3, 4, 5)] == ["c", "d", "e"]
    assert by_row[3]["errors"][0]["field"] == "person.age"
    assert by_row[4]["errors"][0]["suggestion"] == "did you mean 'destitute'?"
    assert by_row[5]["errors"][0]["field"] == "encounter.date"
    assert "columns" in by_row[2]["errors"][0]["message"]
    first = table.to_pylist()[0]
    context = nest({"person.age": 58, "person.statuses": ["destitute"], "person.insured_region": "430511",
                    "encounter.kind": "inpatient", "encounter.date": "2022-03-01"})
    assert got(first, _run(POLICIES).outcomes) == expected(POLICIES, context)


def test_bad_typed_rows_lose_no_good_row(tmp_path: Path) -> None:
    table = pa.table({
        "id": [1, 2, 3, 4],
        "person": pa.array([{"age": 58, "statuses": ["destitute"], "insured_region": "430511"},
                            {"age": 200, "statuses": ["destitute"], "insured_region": "430511"},
                            {"age": 58, "statuses": ["rich", None], "insured_region": "430511"},
                            {"age": 58, "statuses": [], "insured_region": "430511"}]),
        "encounter.date": pa.array([dt(2022, 3, 1), dt(2022, 3, 1), dt(2022, 3, 1), dt(2023, 1, 2)]),
    })
    path = tmp_path / "roster.parquet"
    pq.write_table(table, path)
    errors: list[dict[str, Any]] = []
    answers = POLICIES.evaluate_roster(path, errors=errors)
    assert answers.column("id").to_pylist() == [1, 4]
    assert [(e["row"], e["errors"][0]["field"]) for e in errors] == [(2, "person.age"), (3, "person.statuses")]


def dt(y: int, m: int, d: int) -> Any:
    import datetime

    return datetime.date(y, m, d)


def test_a_column_outside_the_contract_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("person.agee,person.insured_region\n5,430511\n", encoding="utf-8")
    assert main(["roster", str(path), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "'person.agee'" in err and "person.age" in err and "Traceback" not in err
    parquet = tmp_path / "roster.parquet"
    pq.write_table(pa.table({"person": [{"age": 5, "sexx": "male"}]}), parquet)
    assert main(["roster", str(parquet), "-o", str(tmp_path / "out.parquet")]) == 2
    assert "'person.sexx'" in capsys.readouterr().err
    with pytest.raises(RosterError):
        POLICIES.evaluate_roster(tmp_path / "missing.csv")


def test_the_cli_writes_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples" / "roster.csv"
    out = tmp_path / "out.parquet"
    assert main(["roster", str(example), "-o", str(out), "--policies", str(ROOT / "policies")]) == 1
    summary = capsys.readouterr().out
    assert "5 rows answered, 1 skipped" in summary and "skipped rows: 6" in summary and "pay_later: false: 2, true: 2, unknown: 1" in summary
    written = pq.read_table(out)
    assert written.column("id").to_pylist() == ["A-001", "A-002", "A-003", "A-004", "A-005"]
    assert b"beita_2021=" in written.schema.metadata[b"policyrules.sha256"]
    assert json.loads((tmp_path / "out.parquet.errors.jsonl").read_text("utf-8"))["row"] == 6
    assert main(["roster", str(example), "-o", str(tmp_path / "v.parquet"), "--values"]) == 1
    assert pq.read_table(tmp_path / "v.parquet").schema.field("pay_later").type == pa.struct([("value", pa.bool_())])
    assert main(["roster", str(example), "-o", str(tmp_path / "out.csv")]) == 1
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text("utf-8"))))
    assert rows[0]["pay_later"] == "true" and rows[0]["pay_later__rules"] == "pay_later.low_income_in_county"
    assert rows[1]["pay_later"] == "unknown" and rows[0]["reimbursement_layers"] == ""
    assert main(["roster", str(example), "-o", str(tmp_path / "v.jsonl"), "--values"]) == 1
    line = json.loads((tmp_path / "v.jsonl").read_text("utf-8").splitlines()[0])
    assert line["line"] == 1 and line["id"] == "A-001" and line["values"]["pay_later"] is True
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    assert main(["roster", str(good), "-o", str(tmp_path / "good.jsonl.out.jsonl")]) == 0
    assert not (tmp_path / "good.jsonl.out.jsonl.errors.jsonl").exists()
    capsys.readouterr()
    assert main(["sql", str(ROOT / "policies" / "beita_2021.yaml"), "--dialect", "spark"]) == 0
    assert "`person.statuses`" in capsys.readouterr().out


def test_import_policyrules_imports_no_roster_dependency() -> None:
    code = ("import sys, policyrules; heavy = {'duckdb', 'pyarrow', 'sqlglot', 'tqdm'} & set(sys.modules); "
            "print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_without_the_extra_the_cli_says_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['duckdb'] = None; from policyrules.cli import main; "
            f"sys.exit(main(['roster', {str(ROOT / 'examples' / 'roster.csv')!r}, '-o', "
            f"{str(tmp_path / 'out.csv')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "pip install 'policyrules[roster]'" in result.stderr


# ---------------------------------------------------------------- Parquet read by DuckDB itself


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_CONTEXTS, min_size=1, max_size=30))
def test_a_parquet_roster_read_by_duckdb_answers_as_the_reference_engine(roster: list[dict[str, Any]]) -> None:
    """A Parquet file whose columns fit the CONTRACT is read and validated inside DuckDB
    (`policyrules.sql.native`): the same answers, row by row, as the reference engine."""
    import tempfile

    from policyrules.sql import native

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.parquet"
        pq.write_table(pa.Table.from_struct_array(pa.array(roster)), path)
        assert native.eligible(path) is not None
        check(POLICIES, roster, path)


def _bad_parquet_rows() -> list[dict[str, Any]]:
    person = {"age": 58, "statuses": ["destitute"], "insured_region": "430511", "sex": "male",
              "birth_date": None}
    encounter = {"kind": "inpatient", "date": "2022-03-01", "diagnoses": ["I10.x00"],
                 "institution": {"name": "陈家桥卫生院", "region": "430511"}}
    changes: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("good", {}, {}),
        ("old", {"age": 200}, {}),
        ("negative", {"age": -1}, {}),
        ("sex", {"sex": "mal"}, {}),
        ("status", {"statuses": ["rich", None, "destitut"]}, {}),
        ("hole", {"statuses": [None]}, {}),
        ("no statuses", {"statuses": []}, {}),
        ("implied", {"statuses": ["lifted_out_of_poverty"]}, {}),
        ("code", {}, {"diagnoses": ["E11.9", "bad"]}),
        ("loose code", {}, {"diagnoses": [" e11.900 ", "C16.9"]}),
        ("no day", {}, {"date": "2022-02-30"}),
        ("date-time", {}, {"date": "2022-03-01T08:30:00+08:00"}),
        ("not a date", {}, {"date": "2022-03-01 and more"}),
        ("born late", {"age": None, "birth_date": "2023-01-01"}, {}),
        ("born", {"age": None, "birth_date": "2010-03-02"}, {}),
        ("bad birth", {"age": None, "birth_date": "2010-13-02"}, {}),
        ("", {}, {}),
        ("x" * 129, {}, {}),
        ("region", {"insured_region": "43051"}, {}),
        ("name", {}, {"institution": {"name": "  ", "region": "430511"}}),
        ("nowhere", {"insured_region": "110101"}, {"institution": {"name": "x", "region": "110101"}}),
        ("early", {}, {"date": "1999-01-01"}),
        ("three bad", {"age": 151, "sex": "女"}, {"diagnoses": ["E1"], "date": "2022-02-29"}),
        (None, {}, {}),  # type: ignore[list-item]
    ]
    return [{"id": the_id, "person": {**person, **p}, "encounter": {**encounter, **e}}
            for the_id, p, e in changes]


def test_bad_values_found_in_sql_are_named_as_the_per_call_path_names_them(tmp_path: Path) -> None:
    """Bad values in a Parquet roster that DuckDB reads itself: the same rows skipped with the same
    error objects (in the same order) as when the same table is read into Arrow, and the same
    answers for every other row."""
    from policyrules.sql import native

    rows = _bad_parquet_rows()
    table = pa.Table.from_pylist(rows)
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    assert native.eligible(path) is not None
    for values in (False, True):
        in_sql: list[dict[str, Any]] = []
        in_arrow: list[dict[str, Any]] = []
        answers = POLICIES.evaluate_roster(path, values=values, errors=in_sql)
        expected_answers = POLICIES.evaluate_roster(table, values=values, errors=in_arrow)
        assert in_sql == in_arrow
        assert answers.to_pylist() == expected_answers.to_pylist()
    skipped = {e["id"] if "id" in e else e["row"]: e for e in in_sql}
    assert sorted(e["row"] for e in in_sql) == [2, 3, 4, 5, 6, 9, 11, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23]
    assert [p["field"] for p in skipped["three bad"]["errors"]] == ["person.age", "person.sex", "encounter.date",
                                                                      "encounter.diagnoses"]
    assert skipped["born late"]["errors"][0]["message"] == "2023-01-01 is after the encounter date 2022-03-01"
    assert skipped[""]["errors"][0]["field"] == "id"
    answered = {r["id"]: r for r in answers.to_pylist()}
    assert set(answered) == {"good", "no statuses", "implied", "loose code", "date-time", "born", None}
    contexts = [{group: {k: v for k, v in values.items() if v is not None} for group, values in r.items()
                 if group != "id"} for r in rows]
    pq.write_table(pa.Table.from_pylist(contexts), tmp_path / "no_ids.parquet")
    check(POLICIES, contexts, tmp_path / "no_ids.parquet")  # and as the reference engine answers


def test_a_parquet_column_of_another_type_is_read_into_arrow_and_named(tmp_path: Path) -> None:
    """An age written as text (the CONTRACT writes numbers) cannot be read by DuckDB as the field:
    the file goes the Arrow way, and every row with such an age is named."""
    from policyrules.sql import native

    path = tmp_path / "ages.parquet"
    pq.write_table(pa.table({"person": [{"age": "58", "insured_region": "430511"},
                                        {"age": None, "insured_region": "430511"}],
                             "encounter.date": ["2022-03-01", "2022-03-01"]}), path)
    assert native.eligible(path) is None
    errors: list[dict[str, Any]] = []
    answers = POLICIES.evaluate_roster(path, errors=errors)
    assert answers.column("id").to_pylist() == [2]
    assert [(e["row"], e["errors"][0]["field"]) for e in errors] == [(1, "person.age")]


def test_later_slices_meet_new_names_and_diagnoses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name or a diagnosis list first met in a later slice (the run's tables do not hold it yet)
    is answered as in one batch: the slice is answered again once the tables have it."""
    import policyrules.sql.run as run_module

    names = ["陈家桥卫生院", " 陈家桥 卫生院 ", "邵阳市中心医院", "x", None]
    diagnoses = [["I10.x00"], ["C16.900"], ["e11.900", "J06"], [], None, ["A15.0"]]
    roster = [nest({"person.age": age, "person.statuses": ["destitute"], "person.insured_region": "430511",
                    "encounter.kind": "inpatient", "encounter.date": "2022-03-01",
                    "encounter.diagnoses": diagnoses[i % len(diagnoses)],
                    "encounter.institution.name": names[i % len(names)],
                    "encounter.institution.region": "430511"})
              for i, age in enumerate([3, 10, 58, 70, 13, 6, 58, 90, 1, 2, 44, 7, 15, 16, 60])]
    for context in roster:  # None: absent
        context["encounter"] = {k: v for k, v in context["encounter"].items() if v is not None}
        context["encounter"]["institution"] = {k: v for k, v in context["encounter"]["institution"].items()
                                               if v is not None}
    path = tmp_path / "roster.parquet"
    pq.write_table(pa.Table.from_pylist(roster), path)
    monkeypatch.setattr(run_module, "SLICE_ROWS", 2)
    for values in (False, True):
        sliced = POLICIES.evaluate_roster(path, values=values)
        whole = POLICIES.evaluate_roster(pa.Table.from_pylist(roster), values=values)
        assert sliced.to_pylist() == whole.to_pylist()
    check(POLICIES, roster, path)


def test_the_parquet_file_holds_the_apis_answers_as_plain_lists(tmp_path: Path) -> None:
    """The DuckDB run's lists are dictionary-encoded in Arrow (`plan.ENCODED_LIST`); the file
    stores them as lists of strings, with the same answers as the API's table, row by row."""
    parquet = tmp_path / "roster.parquet"
    pq.write_table(pa.Table.from_pylist([GOOD, {**GOOD, "id": "B"}, {**GOOD, "person": None}]), parquet)
    for roster in (ROOT / "examples" / "roster.csv", parquet):
        for values in (False, True):
            out = tmp_path / f"{roster.stem}{values}.parquet"
            main(["roster", str(roster), "-o", str(out)] + (["--values"] if values else []))
            written = pq.read_table(out)
            answers = POLICIES.evaluate_roster(roster, values=values, errors=[])
            assert written.to_pylist() == answers.to_pylist() and written.num_rows > 0
            assert written.schema.metadata == answers.schema.metadata
            rules = written.schema.field("pay_later").type
            if not values:
                assert rules.field("rules").type.value_type == pa.string()


def test_a_batch_of_one_policy_still_skips_a_row_no_policy_covers(tmp_path: Path) -> None:
    """Where every good row of a batch has one policy, its query makes no choice (`RosterRun._run`,
    ``sole``); a row that no policy covers is never among them."""
    nowhere = {"id": "X", "person": {"age": 58, "statuses": ["destitute"], "insured_region": "999999"},
               "encounter": {"kind": "inpatient", "date": "2022-03-01", "diagnoses": ["I10.x00"],
                             "institution": {"name": "某医院", "region": "999999"}}}
    rows = [{**GOOD, "id": "A"}, nowhere, {**GOOD, "id": "B"}]
    parquet = tmp_path / "roster.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    alone = [{**GOOD, "id": "A"}, {**GOOD, "id": "B"}]
    for data, skipped in ((rows, ["X"]), (parquet, ["X"]), (alone, [])):
        errors: list[dict[str, Any]] = []
        table = POLICIES.evaluate_roster(data, errors=errors)
        assert table.column("id").to_pylist() == ["A", "B"]
        assert set(table.column("policy").to_pylist()) == {"beita_2021"}
        assert [e["id"] for e in errors] == skipped
