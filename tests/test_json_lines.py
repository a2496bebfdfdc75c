"""JSON as hospital systems send it: streamed JSON Lines, the error shape, --values, the answer
schema, strict JSON (BOM, encodings, duplicate keys) and terminals that cannot show 中文."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import policyrules
from policyrules import JsonInputError
from policyrules.jsonlines import loads_strict, read_lines
from policyrules.schema import SCHEMA_DIR

from .conftest import ROOT

EXAMPLES = ROOT / "examples"
GOOD = json.loads((EXAMPLES / "beita_destitute_inpatient.json").read_text("utf-8"))
ANSWER_SCHEMA = json.loads((SCHEMA_DIR / "answer.schema.json").read_text("utf-8"))


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "policyrules.cli", *args], capture_output=True, input=stdin,
                            cwd=ROOT, timeout=120, env={**os.environ, **(env or {})})
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8"),
                                       result.stderr.decode("utf-8"))


def shape(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one of the answer schema's shapes (``$defs``), or the answer itself."""
    schema = dict(ANSWER_SCHEMA)
    if name != "answer":
        schema["$ref"] = f"#/$defs/{name}"
        del schema["unevaluatedProperties"]
    return jsonschema.Draft202012Validator(schema)


def line(context: dict[str, Any]) -> bytes:
    return json.dumps(context, ensure_ascii=False).encode("utf-8")


ROSTER = [
    line(GOOD | {"id": "P-1"}),
    b'{"id": 7, "person": {"age": "old"}}',
    b"{not json",
    line(GOOD).replace(b"}", b"} ", 1).decode("utf-8").encode("gbk"),
    b"",
    line(GOOD | {"id": 9, "person": GOOD["person"] | {"sex": "female"},
                 "encounter": GOOD["encounter"] | {"institution": GOOD["encounter"]["institution"]
                                                   | {"code": "a\u2028b\u0085c"}}}),
    b'{"id": 3, "id": 4}',
    line(GOOD | {"id": 10}),
]


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.jsonl"
    path.write_bytes(b"\r\n".join(ROSTER) + b"\r\n")
    return path


# ---------------------------------------------------------------- items 3 and 4


def test_every_line_is_answered_or_written_in_place_as_unanswered(roster: Path) -> None:
    result = run("evaluate", str(roster), "--json")
    assert result.returncode == 1, result.stderr
    rows = [json.loads(text) for text in result.stdout.splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 3, 4, 6, 7, 8]
    answered = {row["line"]: row for row in rows if "outcomes" in row}
    assert sorted(answered) == [1, 6, 8]
    assert list(answered[1])[:2] == ["line", "id"] and answered[1]["id"] == "P-1"
    assert answered[6]["id"] == 9  # U+2028 and U+0085 inside a string do not split the line
    by_line = {row["line"]: row for row in rows}
    assert by_line[2] == {"line": 2, "id": 7, "errors": [
        {"field": "person.age", "message": "must be whole years from 0 to 150, not 'old'", "suggestion": ""}]}
    assert by_line[3]["errors"][0]["field"] is None and by_line[3]["errors"][0]["column"] == 2
    assert "id" not in by_line[3]
    gbk = by_line[4]["errors"][0]
    assert gbk["field"] is None and "GBK" in gbk["message"] and gbk["column"] >= 1
    duplicate = by_line[7]["errors"][0]
    assert duplicate["field"] is None and '"id"' in duplicate["message"] and duplicate["column"] == 11
    for row in rows:
        assert shape("answer_line" if "outcomes" in row else "unanswered").is_valid(row), row
    assert "roster.jsonl:2: bad context: person.age" in result.stderr
    assert "roster.jsonl:3:2: not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_all_answered_is_exit_0_and_unreadable_input_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "good.ndjson"
    path.write_bytes(line(GOOD) + b"\n" + line(GOOD | {"id": 2}))  # no final newline
    result = run("evaluate", str(path), "--values")
    assert result.returncode == 0, result.stderr
    assert [json.loads(text).get("id") for text in result.stdout.splitlines()] == [None, 2]
    assert run("evaluate", str(tmp_path / "absent.jsonl")).returncode == 2
    assert run("evaluate", str(tmp_path)).returncode == 2


@pytest.mark.parametrize("args", [("-",), (), ("--jsonl",)])
def test_standard_input_is_json_lines(args: tuple[str, ...]) -> None:
    result = run("evaluate", *args, "--values", stdin=line(GOOD) + b"\n" + line(GOOD | {"id": "b"}) + b"\n")
    assert result.returncode == 0, result.stderr
    assert [json.loads(text)["line"] for text in result.stdout.splitlines()] == [1, 2]


def test_jsonl_reads_a_file_of_any_name_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes(line(GOOD) + b"\n" + line(GOOD) + b"\n")
    result = run("evaluate", str(path), "--jsonl", "--values")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.calls = 0

    def readline(self, size: int | None = -1) -> bytes:
        self.calls += 1
        return super().readline(size)

    def read(self, size: int | None = -1) -> bytes:  # pragma: no cover - must not be called
        raise AssertionError("the stream is read whole")


def test_json_lines_are_read_one_at_a_time_in_bounded_memory() -> None:
    stream = _CountingStream(b"\n".join([line(GOOD)] * 1000))
    lines = read_lines(stream)
    first = next(lines)
    assert first.number == 1 and first.value == GOOD and stream.calls == 1
    long = _CountingStream(b'{"a": "' + b"x" * 5000 + b'"}\n{"b": 1}\n')
    rows = list(read_lines(long, max_bytes=1000))
    assert rows[0].error is not None and "longer than 1000 bytes" in rows[0].error.message
    assert rows[1].number == 2 and rows[1].value == {"b": 1}


# ---------------------------------------------------------------- item 5: --values and the schema


def test_values_lines_are_compact_and_match_the_answers(roster: Path) -> None:
    values = [json.loads(text) for text in run("evaluate", str(roster), "--values").stdout.splitlines()]
    full = {row["line"]: row for row in map(json.loads, run("evaluate", str(roster), "--json").stdout.splitlines())}
    first = values[0]
    assert list(first) == ["line", "id", "policy", "date_used", "values"]
    assert first["values"] == {name: o["value"] for name, o in full[1]["outcomes"].items()}
    assert first["policy"] == "beita_2021" and first["date_used"] == "2022-03-01"
    for row in values:
        assert shape("values_line" if "values" in row else "unanswered").is_valid(row), row
    assert len(json.dumps(first)) * 10 < len(json.dumps(full[1]))


def test_real_answers_validate_against_the_answer_schema(policy_set: policyrules.PolicySet) -> None:
    jsonschema.Draft202012Validator.check_schema(ANSWER_SCHEMA)
    validator = shape("answer")
    for example in sorted(EXAMPLES.glob("*.json")):
        context = json.loads(example.read_text("utf-8"))
        for extra in ({}, {"id": "P-1"}, {"id": 12}):
            answer = policy_set.evaluate(context | extra).to_dict()
            errors = [e.message for e in validator.iter_errors(answer)]
            assert not errors, (example.name, errors)
    answer = policy_set.evaluate(GOOD).to_dict()
    assert not validator.is_valid(answer | {"extra": 1})
    assert not validator.is_valid(answer | {"id": True})
    assert not shape("error").is_valid({"field": None, "message": "m", "suggestion": ""})  # no column


# ---------------------------------------------------------------- item 8: strict JSON


def test_a_bom_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + line(GOOD))
    assert run("evaluate", str(path), "--values").returncode == 0
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + line(GOOD) + b"\n")
    assert run("evaluate", str(lines), "--values").returncode == 0


def test_a_gbk_file_is_refused_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "gbk.json"
    path.write_bytes(line(GOOD).decode("utf-8").encode("gbk"))
    result = run("evaluate", str(path))
    assert result.returncode == 2 and "GBK" in result.stderr and "gbk.json:1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_given_twice_is_refused_naming_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{\n  "person": {"age": 70},\n  "encounter": {"kind": "inpatient",\n'
                    '                "kind": "outpatient"}\n}\n', "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 2 and 'twice.json:4:17: the key "kind" is given twice' in result.stderr
    with pytest.raises(JsonInputError) as raised:
        loads_strict('{"a": {"b": 1}, "c": {"b": 1, "d": [{"b": 2}], "b": 2}}')
    assert (raised.value.line, raised.value.column) == (1, 48)
    assert loads_strict('{"a": {"b": 1}, "c": {"b": 1}}') == {"a": {"b": 1}, "c": {"b": 1}}


# ---------------------------------------------------------------- item 9: terminals


@pytest.mark.parametrize("form", [(), ("--json",), ("--values",)])
def test_a_terminal_that_cannot_show_chinese_gets_escapes(form: tuple[str, ...]) -> None:
    result = subprocess.run([sys.executable, "-m", "policyrules.cli", "evaluate",
                             "examples/beita_destitute_inpatient.json", *form],
                            capture_output=True, cwd=ROOT, timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("ascii")
    if form:
        json.loads(text)  # \uXXXX escapes are JSON escapes too
    else:
        assert "pay_later (\\u5148\\u8bca\\u7597\\u540e\\u4ed8\\u8d39): yes / \\u662f" in text


def test_text_output_says_yes_no_unknown_in_both_languages() -> None:
    result = run("evaluate", "examples/beita_destitute_inpatient.json")
    assert "pay_later (先诊疗后付费): yes / 是" in result.stdout
    assert "free_tb_treatment (肺结核免费抗痨药物治疗): no / 否" in result.stdout
    assert "major_disease_treatment (大病专项救治): unknown / 未知" in result.stdout


def test_the_readme_roster_sample_is_real_output(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    command = "$ policyrules evaluate roster.jsonl --values\n"
    shown = readme[readme.index(command) + len(command):].split("```")[0].splitlines()
    path = tmp_path / "roster.jsonl"
    path.write_bytes(line(GOOD | {"id": "P-0001"}) + b"\n" + b'{"id": "P-0002", "person": {"age": "old"}}\n')
    result = run("evaluate", str(path), "--values")
    real = result.stdout.splitlines()
    assert result.returncode == 1 and len(shown) == len(real) == 2
    for sample, out in zip(shown, real, strict=True):
        assert out.startswith(sample.split("…")[0]), (sample, out)


def test_a_line_no_policy_covers_is_an_error_on_the_whole_context(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.jsonl"
    path.write_bytes(line(GOOD) + b"\n" + line(GOOD | {"id": "B-1", "person": {"insured_region": "110101"}}) + b"\n"
                     + b"[1, 2]\n")
    result = run("evaluate", str(path), "--values")
    assert result.returncode == 1
    rows = [json.loads(text) for text in result.stdout.splitlines()]
    assert rows[1]["id"] == "B-1" and rows[1]["errors"][0]["field"] == "(context)"
    assert rows[1]["errors"][0]["message"].startswith("no policy:") and "110101" in rows[1]["errors"][0]["message"]
    assert rows[2] == {"line": 3, "errors": [{"field": "(context)", "message": "must be a JSON object",
                                              "suggestion": ""}]}
    assert all(shape("unanswered").is_valid(row) for row in rows[1:])


# ---------------------------------------------------------------- --workers: chunks on several processes


class _Trickle(io.BytesIO):
    """A stream that gives at most ``most`` bytes a read, as a pipe may."""

    def __init__(self, data: bytes, most: int) -> None:
        super().__init__(data)
        self.most = most

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self.most if size is None or size < 0 else min(size, self.most))


_TRICKY = [
    b"\xef\xbb\xbf" + line(GOOD) + b"\r\n\n   \r\n" + b'{"a": "' + b"x" * 300 + b'"}\n{"b": 1}\r\n' + b"x" * 250,
    b'{"a": "' + b"x" * 1000 + b'"}\n{"b": 2}\n\n[1]',
    b"\xef\xbb" + b"\n{}\n" + b'{"id": 3, "id": 4}\n' + b"y" * 101 + b"\n" + b"z" * 100 + b"\n",
    b"\n".join([line(GOOD)] * 40) + b"\n",
]


@pytest.mark.parametrize("data", _TRICKY)
@pytest.mark.parametrize("size", [1, 2, 7, 64, 101, 4096])
def test_chunks_hold_exactly_the_lines_read_one_at_a_time(data: bytes, size: int) -> None:
    from policyrules.jsonlines import chunk_lines, read_chunks

    def key(lines: Any) -> list[tuple[int, Any, Any]]:
        return [(x.number, x.value, None if x.error is None else (x.error.message, x.error.column)) for x in lines]

    expected = key(read_lines(io.BytesIO(data), max_bytes=100))
    for stream in (io.BytesIO(data), _Trickle(data, max(1, size // 3))):
        chunks = list(read_chunks(stream, size=size, max_bytes=100))
        assert all(len(chunk) <= size + 102 for _, chunk in chunks)  # bounded: a long line is cut
        assert key(line for first, chunk in chunks for line in chunk_lines(first, chunk, max_bytes=100)) == expected
    assert any(row[2] and "longer than 100 bytes" in row[2][0] for row in expected) or data is _TRICKY[3]


def _big_roster(tmp_path: Path, lines: list[bytes], name: str) -> Path:
    """``lines`` repeated past three chunks (so ``--workers 2`` splits it), the bad lines of ROSTER
    among them."""
    from policyrules.jsonlines import CHUNK_BYTES

    body: list[bytes] = []
    while sum(map(len, body)) < 3 * CHUNK_BYTES:
        body.extend(lines)
    path = tmp_path / name
    path.write_bytes(b"\r\n".join(body) + b"\r\n")
    return path


@pytest.mark.parametrize("form", [("--json",), ("--values",), ()])
def test_workers_write_the_same_bytes_as_one_process(tmp_path: Path, form: tuple[str, ...]) -> None:
    good = [line(GOOD | {"id": n, "person": GOOD["person"] | {"age": n % 90}}) for n in range(300)]
    nowhere = line(GOOD | {"id": "N", "person": {"insured_region": "110101"}})
    path = _big_roster(tmp_path, good + ROSTER + [nowhere], "roster.jsonl")
    one = run("evaluate", str(path), *form, "--workers", "1")  # in chunks, in this process
    two = run("evaluate", str(path), *form, "--workers", "2")
    default = run("evaluate", str(path), *form)  # a file past two chunks: every core
    piped = run("evaluate", *form, stdin=path.read_bytes())  # line by line
    assert one.returncode == two.returncode == default.returncode == piped.returncode == 1
    assert one.stdout == two.stdout == default.stdout == piped.stdout
    assert one.stderr == two.stderr == default.stderr == piped.stderr.replace("-:", f"{path}:")
    assert "no policy" in one.stderr and "given twice" in one.stderr and "GBK" in one.stderr
    assert one.stdout.count("\n") > 2000


_KILL_THE_SECOND_CHUNK = """
import os, sys, time
from policyrules import evaluate_cli
from policyrules.cli import main

answer = evaluate_cli.LineWriter.chunk

def chunk(self, first, data):  # a worker past the first chunk is killed, as by the OOM killer
    if first > 1:
        time.sleep(0.5)  # the first chunk written by then
        os.kill(os.getpid(), 9)
    return answer(self, first, data)

evaluate_cli.LineWriter.chunk = chunk
sys.argv = ["policyrules", *sys.argv[1:]]
sys.exit(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the workers are forked (they inherit the patch)")
@pytest.mark.parametrize("form", ["--values", "--json", "--text"])
def test_a_killed_worker_stops_the_run_with_exit_2_not_a_hang(tmp_path: Path, form: str) -> None:
    good = [line(GOOD | {"id": n}) for n in range(300)]
    path = _big_roster(tmp_path, good, "roster.jsonl")
    shown = [] if form == "--text" else [form]
    done = subprocess.run([sys.executable, "-c", _KILL_THE_SECOND_CHUNK, "evaluate", str(path), *shown,
                           "--workers", "2"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert "a worker process stopped abruptly" in done.stderr and "Traceback" not in done.stderr
    whole = run("evaluate", str(path), *shown, "--workers", "1").stdout
    stopped_at = int(done.stderr.split("the lines from ")[1].split(" ")[0])
    assert 1 < stopped_at < len(good) * 3  # the first chunk's lines answered, not the rest
    assert done.stdout and whole.startswith(done.stdout)  # the answers of the lines before it, in order
    if form != "--text":  # a line each
        assert done.stdout.count("\n") == stopped_at - 1


def test_workers_answer_households_as_one_process(tmp_path: Path) -> None:
    households = [json.dumps({"household": {"id": f"h{n}", "statuses": ["registered_poor"], "members": [
        {"id": "a", "person": {"insured_region": "141031", "age": n % 90}, "encounter": {"date": "2017-06-01"}}]}},
        ensure_ascii=False).encode("utf-8") for n in range(200)]
    path = _big_roster(tmp_path, households + [b'{"household": {"id": "h", "members": []}}', b"{oops"],
                       "households.jsonl")
    for form in ("--json", "--values"):
        one = run("evaluate", "--households", str(path), form, "--workers", "1")
        two = run("evaluate", "--households", str(path), form, "--workers", "2")
        piped = run("evaluate", "--households", form, stdin=path.read_bytes())
        assert one.returncode == two.returncode == piped.returncode == 1
        assert one.stdout == two.stdout == piped.stdout and one.stderr == two.stderr and "oops" not in one.stdout


def test_workers_must_be_at_least_one(roster: Path) -> None:
    result = run("evaluate", str(roster), "--workers", "0")
    assert result.returncode == 2 and result.stderr.strip() == "--workers must be at least 1"


def test_an_engine_failure_in_a_worker_comes_back_whole() -> None:
    """A worker's exception is pickled to the parent: one that did not unpickle would stop the
    pool's result thread (and the command would hang)."""
    import pickle

    from policyrules.errors import EngineDisagreement, ReteError

    for error in (EngineDisagreement("pay_later", True, None), ReteError("durable_rules failed")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
