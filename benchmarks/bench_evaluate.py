"""Benchmark: `PolicySet.evaluate` (the default engine) for 北塔 2021 next to a lean hand-written function.

    python benchmarks/bench_evaluate.py [--pool 5000] [--rounds 7] [--no-pool] [--no-cli] [--cli-lines 60000[,1000000]]

The hand-written function (`Lean`) computes every outcome of beita_2021.yaml three-valued from the
raw context, as a competent engineer writes it for speed: sets and lookups built once, no
validation, no citations, no explanation. The script checks that both agree on the whole pool
(values only), then, in one process and interleaved round by round, times `PolicySet.evaluate`
(the default engine, and the reference engine for comparison) and the lean function, and prints:

- the throughput ratio default engine ÷ hand-written (1.0 = as fast as hand-written code);
- the per-call median and p99 of `PolicySet.evaluate`;
- the time to load every shipped policy in a fresh process (import included), as deployed and as
  this checkout runs;
- the JSON Lines loop (parse a line, evaluate, write it with `policyrules.serialise`) for full
  answers (``--json``) and for values lines (``--values``), and the CLI end to end on a roster of
  ``--cli-lines`` lines (a roster for each number of a list: the start-up weighs less on a
  nightly roster of a million), ``--json`` and ``--values``, at the default ``--workers`` (every core)
  and at 1, as a deployed package runs (bytecode cached; this machine sets
  PYTHONDONTWRITEBYTECODE=1, under which every fresh process compiles policyrules from source);
- a `multiprocessing` pool of 2 processes (policies pickled to the workers) against one.

Targets (issue 12): ratio >= 0.8, p99 < 20 µs, loading < 200 ms, JSON Lines >= 50,000/s full
answers and >= 100,000/s values lines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import policyrules  # noqa: E402
from policyrules import serialise  # noqa: E402
from policyrules.jsonlines import loads_strict  # noqa: E402

BEITA = "430511"
LISTED = ["茶元街道社区卫生服务中心", "新滩镇街道社区卫生服务中心", "陈家桥卫生院", "状元洲社区卫生服务中心",
          "田江街道社区卫生服务中心", "邵阳市中医院北塔分院", "陈家桥乡卫生院", "状元洲街道社区卫生服务中心",
          "邵阳市中医医院北塔分院"]
STATUSES = ["registered_poor", "lifted_out_of_poverty", "rural_dibao", "urban_dibao", "destitute",
            "monitored", "illness_caused_poverty", "pregnant_or_postpartum"]
DIAGNOSES = ["C16.900", "I10.x00", "E11.900", "A15.000", "A16.200", "C91.000", "F20.000", "F06.800",
             "G40.900", "J06.900", "S72.000", "N18.500", "Q21.000", "U84.300", "A18.000", "I63.900",
             # the edges of issue 11: hypertensive heart disease, secondary hypertension, gestational
             # diabetes, miliary and laryngeal TB, TB meningitis
             "I11.900", "I15.000", "O24.400", "A19.900", "A15.500", "A17.000"]


# ---------------------------------------------------------------- the hand-written function
# What a competent engineer writes for speed, knowing the rules of beita_2021.yaml: the sets and
# lookups built once (the listed names normalised, each catalog as WHO key -> its entries),
# three-valued (None = unknown), nothing the rules do not need: no validation, no citations,
# no explanation.

_F, _T, _U = False, True, None


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


class Lean:
    """北塔 2021 by hand. ``catalogs``: the policy's catalogs (their codes, read once)."""

    def __init__(self, catalogs: dict[str, Any]) -> None:
        self.listed = frozenset(_norm(n) for n in LISTED)
        self.names: dict[str, bool] = {}  # institution name -> listed (memo of the normalisation)
        index = {name: self._index(catalogs[name]) for name in (
            "hunan_33_major_diseases", "chronic_4", "chronic_4_or_edges", "hypertension_diabetes",
            "chronic_4_edges", "pulmonary_tb", "pulmonary_tb_edges")}
        self.major, self.chronic, self.chronic_or_edges = (
            index["hunan_33_major_diseases"], index["chronic_4"], index["chronic_4_or_edges"])
        self.htn_dm, self.chronic_edges = index["hypertension_diabetes"], index["chronic_4_edges"]
        self.tb, self.tb_edges = index["pulmonary_tb"], index["pulmonary_tb_edges"]

    @staticmethod
    def _index(catalog: Any) -> tuple[dict[str, list[tuple[frozenset[str], Any]]], bool]:
        by_key: dict[str, list[tuple[frozenset[str], Any]]] = {}
        for entry in catalog.entries:
            child = None if entry.children is None else (entry.children.certainly_child_below,
                                                          entry.children.certainly_adult_from)
            for code in entry.codes:
                by_key.setdefault(code, []).append((entry.together_with, child))
        return by_key, bool(catalog.more_not_given)

    @staticmethod
    def _in(index: tuple[dict[str, list[tuple[frozenset[str], Any]]], bool], keys: set[str] | None,
            age: int | None) -> bool | None:
        if keys is None:
            return _U
        by_key, open_list = index
        result: bool | None = _F
        for key in keys:
            for together, child in by_key.get(key, ()):
                if together and keys.isdisjoint(together):
                    continue
                if child is None or (age is not None and age < child[0]):
                    return _T
                if age is None or age < child[1]:
                    result = _U
        return _U if open_list and keys else result

    def __call__(self, context: dict[str, Any]) -> dict[str, Any]:
        person = context.get("person") or {}
        encounter = context.get("encounter") or {}
        institution = encounter.get("institution") or {}
        residence = person.get("residence")
        rural = None if residence is None else residence == "rural"
        statuses = person.get("statuses")
        if statuses is None:
            lifted = low = registered = rural_status = destitute = urban_dibao = pregnant = _U
        else:
            s = set(statuses)
            lifted = "lifted_out_of_poverty" in s
            registered = lifted or "registered_poor" in s
            rural_status = "rural_dibao" in s or "monitored" in s  # 农村低保, 监测对象: rural by name
            destitute = "destitute" in s
            low = rural_status or destitute
            urban_dibao = "urban_dibao" in s
            pregnant = "pregnant_or_postpartum" in s
        # 三(一)4, 附件1 指标4 农村低收入人口: 农村低保 and 监测对象, and a 特困 person if rural
        rural_low = _or2(rural_status, _and2(destitute, rural))
        age = person.get("age")
        diagnoses = encounter.get("diagnoses")
        keys = None
        if diagnoses is not None:
            keys = set()
            for code in diagnoses:
                keys.add(code[:3])
                if len(code) > 4 and code[3] == "." and code[4].isdigit():
                    keys.add(code[:5])
        kind = encounter.get("kind")
        region, insured = institution.get("region"), person.get("insured_region")
        name = institution.get("name")
        if name is None:
            listed = _U
        else:
            listed = self.names.get(name)
            if listed is None:
                listed = self.names[name] = _norm(name) in self.listed
        pay_later = (
            _F if (context.get("history") or {}).get("pay_later_default") is True
            else _and4(None if kind is None else kind == "inpatient",
                       None if region is None or insured is None else region == insured, listed, low)
        )
        # a not_given rule: never true; unknown unless one of its other conditions fails
        undecided_chronic = _and2(_or2(_or2(registered, rural_status), _and2(destitute, rural)),
                                  self._in(self.chronic_or_edges, keys, age))
        chronic = _or2(_and2(_or2(lifted, rural_low), self._in(self.chronic, keys, age)),
                       _U if undecided_chronic is not _F else _F)
        htn_dm = _or2(self._in(self.htn_dm, keys, age), self._in(self.chronic_edges, keys, age))
        tb_edges = self._in(self.tb_edges, keys, age)
        sex = person.get("sex")
        screening_group = _or2(_or2(rural, rural_status), urban_dibao)
        return {
            "pay_later": pay_later,
            "deposit_exempt": pay_later,
            "major_disease_treatment": _and2(_or2(registered, rural_low), self._in(self.major, keys, age)),
            "chronic_disease_contract": chronic,
            # 逐步扩大签约服务重点人群范围 (not_given): never no
            "family_doctor_priority": _T if lifted is _T or rural_low is _T else _U,
            "free_tb_treatment": _or2(self._in(self.tb, keys, age), _U if tb_edges is not _F else _F),
            "maternal_hiv_service": pregnant,
            "green_channel": _U if htn_dm is not _F else _F,
            "two_cancer_screening": _and3(None if sex is None else sex == "female",
                                          None if age is None else 35 <= age <= 64, screening_group),
        }


def _and2(a: bool | None, b: bool | None) -> bool | None:
    if a is _F or b is _F:
        return _F
    return _U if a is _U or b is _U else _T


def _and3(a: bool | None, b: bool | None, c: bool | None) -> bool | None:
    if a is _F or b is _F or c is _F:
        return _F
    return _U if a is _U or b is _U or c is _U else _T


def _and4(a: bool | None, b: bool | None, c: bool | None, d: bool | None) -> bool | None:
    if a is _F or b is _F or c is _F or d is _F:
        return _F
    return _U if a is _U or b is _U or c is _U or d is _U else _T


def _or2(a: bool | None, b: bool | None) -> bool | None:
    if a is _T or b is _T:
        return _T
    return _U if a is _U or b is _U else _F


# ---------------------------------------------------------------- the pool


def make_pool(size: int, seed: int = 20211105) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    pool = []
    for _ in range(size):
        flat: dict[str, Any] = {
            "person.age": rnd.choice([rnd.randint(0, 95), 13, 14, 17, 18, 34, 35, 64, 65]),
            "person.sex": rnd.choice(["female", "male"]),
            "person.residence": rnd.choice(["rural", "urban"]),
            "person.statuses": rnd.sample(STATUSES, rnd.randint(0, 3)),
            "person.insured_region": BEITA,
            "encounter.kind": rnd.choice(["inpatient", "outpatient"]),
            "encounter.date": f"2022-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "encounter.diagnoses": rnd.sample(DIAGNOSES, rnd.randint(0, 2)),
            "encounter.institution.name": rnd.choice(LISTED + ["邵阳市中心医院", " 陈家桥 卫生院 "]),
            "encounter.institution.region": rnd.choice([BEITA, BEITA, "430502"]),
            "history.pay_later_default": rnd.random() < 0.1,
        }
        context: dict[str, Any] = {}
        for field, value in flat.items():
            if field not in ("encounter.date", "person.insured_region") and rnd.random() < 0.15:
                continue  # left out: unknown
            node = context
            *parents, leaf = field.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        pool.append(context)
    return pool


# ---------------------------------------------------------------- timing


def time_calls(function: Any, pool: list[dict[str, Any]], rounds: int) -> list[float]:
    """Seconds per call, for every call of every round (perf_counter around each call)."""
    timings = []
    clock = time.perf_counter
    for _ in range(rounds):
        for context in pool:
            start = clock()
            function(context)
            timings.append(clock() - start)
    return timings


def throughput(function: Any, pool: list[dict[str, Any]], rounds: int) -> float:
    """Calls per second over whole rounds (no per-call clock overhead)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for context in pool:
            function(context)
        best = min(best, time.perf_counter() - start)
    return len(pool) / best


def deployed_env(cache: str) -> dict[str, str]:
    """The environment of a fresh process as a pip-installed package runs: bytecode written and
    read (PYTHONDONTWRITEBYTECODE, which this machine sets, removed; the bytecode kept under
    ``cache``, so the checkout stays clean)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def load_time(env: dict[str, str] | None = None) -> float:
    """Seconds to import policyrules and load every shipped policy in a fresh process, best of 5
    (with ``env``, after one untimed run that writes the bytecode)."""
    code = ("import time; t = time.perf_counter(); import policyrules; policyrules.load_policies(); "
            "print(time.perf_counter() - t)")

    def once() -> float:
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True, cwd=ROOT, env=env).stdout)

    if env is not None:
        once()
    return min(once() for _ in range(5))


def interleaved(functions: dict[str, Any], pool: list[Any], rounds: int,
                chunk: int = 250) -> dict[str, float]:
    """Calls per second of each function over the pool. The pool is cut into chunks; each round
    times every function on every chunk, the functions taking turns chunk by chunk, and a
    function's time is the sum over chunks of its best time on each (so a burst of other work on
    a shared machine spoils one chunk's timing of one round, not the figure).

    The function that runs first on a chunk reads its contexts from memory, the others find them
    in the CPU's caches: with a fixed order, the first function pays about 1.5 µs a call more here
    (measured by putting an untimed function first). The order is therefore rotated, chunk by chunk
    and round by round, so each function runs first as often as the others; with ``rounds`` at
    least the number of functions, each chunk's best time is one where its contexts were in the
    cache, as they are for a caller that has just parsed them. The order stays cyclic, so each
    function always follows the same one: time together only functions that touch the same data
    (a pair), never one that sweeps the caches (the reference engine) between them."""
    chunks = [pool[i:i + chunk] for i in range(0, len(pool), chunk)]
    best = {name: [float("inf")] * len(chunks) for name in functions}
    clock = time.perf_counter
    named = list(functions.items())
    for turn in range(rounds):
        for number, part in enumerate(chunks):
            shift = (turn + number) % len(named)
            for name, function in named[shift:] + named[:shift]:
                start = clock()
                for context in part:
                    function(context)
                elapsed = clock() - start
                if elapsed < best[name][number]:
                    best[name][number] = elapsed
    return {name: len(pool) / sum(times) for name, times in best.items()}


def json_lines(policies: policyrules.PolicySet, lines: list[bytes], rounds: int) -> tuple[float, float]:
    """Contexts per second of the JSON Lines loop as ``policyrules evaluate`` runs it: the strict
    reader (`policyrules.jsonlines.loads_strict`), evaluate, write (full answers; values lines).
    Timed as `interleaved` times calls: chunk by chunk, the two loops taking turns, each chunk's
    best of ``rounds``."""
    loads, evaluate = loads_strict, policies.evaluate
    answer_json, values_json = serialise.answer_json, serialise.values_json
    numbered = list(enumerate(lines, start=1))

    def full(item: tuple[int, bytes]) -> bytes:
        return answer_json(evaluate(loads(item[1])), {"line": item[0]})

    def values(item: tuple[int, bytes]) -> bytes:
        return values_json(evaluate(loads(item[1])), line=item[0])

    rates = interleaved({"full": full, "values": values}, numbered, rounds)
    return rates["full"], rates["values"]


def chunk_loop(policies: policyrules.PolicySet, lines: list[bytes], rounds: int) -> tuple[float, float]:
    """Contexts per second of the loop ``policyrules evaluate FILE`` runs in each process
    (`policyrules.evaluate_cli.LineWriter.chunk` on chunks of 250 lines, bytes out), full
    answers and values lines, timed as `json_lines` is."""
    from policyrules.evaluate_cli import LineWriter

    full = LineWriter("bench", policies, "evaluate", policyrules.DEFAULT_ENGINE, True, False, True, True)
    values = LineWriter("bench", policies, "evaluate", policyrules.DEFAULT_ENGINE, False, True, True, True)
    chunks = [(n + 1, b"\n".join(lines[n:n + 250]) + b"\n") for n in range(0, len(lines), 250)]
    rates = interleaved({"full": lambda item: full.chunk(*item), "values": lambda item: values.chunk(*item)},
                        chunks, rounds, chunk=1)
    return rates["full"] * 250, rates["values"] * 250


def cli_rate(roster: Path, count: int, form: str, workers: int | None, env: dict[str, str]) -> tuple[float, float]:
    """Contexts per second of ``policyrules evaluate ROSTER.jsonl FORM [--workers N]`` (the best
    of 3 runs, after an untimed one), end to end (the process start and the load of the
    policies included) and answering alone (the time of the same command on a one-line roster
    taken off)."""
    one_line = roster.with_name("one.jsonl")
    one_line.write_bytes(roster.read_bytes().split(b"\n", 1)[0] + b"\n")

    def best(path: Path) -> float:
        command = [sys.executable, "-m", "policyrules.cli", "evaluate", str(path), form]
        if workers is not None:
            command += ["--workers", str(workers)]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
            times.append(time.perf_counter() - start)
        return min(times)

    whole, start_up = best(roster), best(one_line)
    return count / whole, count / max(whole - start_up, 1e-9)


_WORKER: policyrules.PolicySet | None = None
_CONTEXTS: list[dict[str, Any]] = []


def _init(policies: policyrules.PolicySet, warm: list[dict[str, Any]] | None = None) -> None:
    global _WORKER, _CONTEXTS
    _WORKER = policies
    _CONTEXTS = warm or []
    if warm:  # the memos of a fresh process filled, as they are in this one
        _work(warm)


def _work(chunk: list[dict[str, Any]]) -> int:
    assert _WORKER is not None
    values_json = serialise.values_json
    return sum(len(values_json(_WORKER.evaluate(context))) for context in chunk)


def _work_on_own(span: tuple[int, int]) -> int:
    """`_work` on contexts the worker holds (its copy of the pool, by index): nothing sent but the span."""
    start, stop = span
    size = len(_CONTEXTS)
    return _work([_CONTEXTS[n % size] for n in range(start, stop)])


def pool_rates(policies: policyrules.PolicySet, pool: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Contexts per second (evaluate and write a values line) in this process and in a pool of 2
    processes that were handed the pickled policies (start-up and warming not counted): with the
    contexts sent to the workers pickled, 1,000 a task, and with each worker reading its own
    (as `policyrules evaluate --workers` does, each worker parsing its chunk of the file)."""
    work = pool * 10
    chunks = [work[i:i + 1000] for i in range(0, len(work), 1000)]
    spans = [(i, min(i + 1000, len(work))) for i in range(0, len(work), 1000)]
    _init(policies)
    start = time.perf_counter()
    for chunk in chunks:
        _work(chunk)
    one = len(work) / (time.perf_counter() - start)
    with multiprocessing.get_context("spawn").Pool(2, initializer=_init, initargs=(policies, pool)) as workers:
        workers.map(_work, chunks[:4], chunksize=1)  # both started and warm
        time.sleep(1.0)
        workers.map(_work, chunks[:4], chunksize=1)
        start = time.perf_counter()
        workers.map(_work, chunks, chunksize=1)
        sent = len(work) / (time.perf_counter() - start)
        start = time.perf_counter()
        workers.map(_work_on_own, spans, chunksize=1)
        own = len(work) / (time.perf_counter() - start)
    return one, sent, own


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-pool", action="store_true", help="skip the 2-process pool")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI end to end")
    parser.add_argument("--cli-lines", default="60000",
                        help="lines of the CLI's roster (a list, such as 60000,1000000: a roster each)")
    args = parser.parse_args()
    policies = policyrules.load_policies(ROOT / "policies")
    policy = policies["beita_2021"]
    by_hand = Lean(policy.model.catalogs)
    pool = make_pool(args.pool)

    disagreements = 0
    for context in pool:
        expected = by_hand(context)
        answer = policies.evaluate(context)
        got = {name: outcome.value for name, outcome in answer.outcomes.items()}
        if got != expected:
            disagreements += 1
            if disagreements <= 3:
                print("DISAGREE", json.dumps(context, ensure_ascii=False), got, expected)
    if disagreements:
        print(f"{disagreements} of {len(pool)} contexts disagree: no timing", file=sys.stderr)
        return 1
    unknown = sum(1 for c in pool for o in policies.evaluate(c).outcomes.values() if o.value is None)
    print(f"pool: {len(pool)} contexts (seed 20211105), all {len(pool)} agree; "
          f"{unknown / (len(pool) * 9):.0%} of outcomes unknown; default engine: {policyrules.DEFAULT_ENGINE}")

    def reference(context: dict[str, Any]) -> Any:
        return policies.evaluate(context, engine="reference")

    # the pair compared is timed alone: the reference engine, run between them, would empty the
    # caches for whichever of the two comes after it (`interleaved`)
    interleaved({"default": policies.evaluate, "hand": by_hand}, pool, 1)  # warm
    rates = interleaved({"default": policies.evaluate, "hand": by_hand}, pool, args.rounds)
    rates |= interleaved({"reference": reference}, pool, max(1, args.rounds // 2))
    calls = sorted(time_calls(policies.evaluate, pool, 3))
    median = statistics.median(calls) * 1e6
    p99 = calls[int(len(calls) * 0.99)] * 1e6
    print(f"PolicySet.evaluate ({policyrules.DEFAULT_ENGINE}): {1e6 / rates['default']:6.2f} µs/call  "
          f"median {median:5.1f} µs  p99 {p99:5.1f} µs (target < 20)  {rates['default']:9.0f} calls/s")
    print(f"lean hand-written:           {1e6 / rates['hand']:6.2f} µs/call"
          f"{'':31}{rates['hand']:9.0f} calls/s")
    print(f"PolicySet.evaluate (reference): {1e6 / rates['reference']:6.2f} µs/call")
    print(f"ratio default engine ÷ hand-written: {rates['default'] / rates['hand']:.2f} (target >= 0.8); "
          f"reference ÷ hand-written: {rates['reference'] / rates['hand']:.2f}")
    with tempfile.TemporaryDirectory() as cache:
        deployed = deployed_env(cache)
        print(f"load all shipped policies (fresh process, import included, best of 5; target < 200 ms): "
              f"as deployed (bytecode cached) {load_time(deployed) * 1e3:.0f} ms; "
              f"as this checkout runs (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}) "
              f"{load_time() * 1e3:.0f} ms")
    lines = [json.dumps(c, ensure_ascii=False).encode("utf-8") for c in pool]
    full, values = json_lines(policies, lines, args.rounds)
    print(f"JSON Lines loop (loads_strict, evaluate, policyrules.serialise): {full:9.0f}/s full answers "
          f"(target >= 50,000), {values:9.0f}/s values lines (target >= 100,000); "
          f"orjson: {serialise.FAST}")
    full, values = chunk_loop(policies, lines, args.rounds)
    print(f"the CLI's chunk loop in one process (LineWriter.chunk, 250 lines a chunk): {full:9.0f}/s full "
          f"answers, {values:9.0f}/s values lines")
    if not args.no_cli:
        for count in (int(n) for n in args.cli_lines.split(",")):
            with tempfile.TemporaryDirectory() as folder:
                roster = Path(folder) / "roster.jsonl"
                body = (lines * (count // len(lines) + 1))[:count]
                roster.write_bytes(b"\n".join(body) + b"\n")
                deployed = deployed_env(str(Path(folder) / "pycache"))
                for form in ("--json", "--values"):
                    for workers in (None, 1):
                        whole, answering = cli_rate(roster, len(body), form, workers, deployed)
                        named = "default" if workers is None else str(workers)
                        print(f"policyrules evaluate ROSTER.jsonl {form} --workers {named} ({len(body)} lines, as "
                              f"deployed): {whole:9.0f}/s end to end, {answering:9.0f}/s start-up taken off "
                              f"(target >= {50_000 if form == '--json' else 100_000:,})")
    if not args.no_pool:
        one, sent, own = pool_rates(policies, pool)
        print(f"evaluate + values line: 1 process {one:9.0f}/s; pool of 2 processes {own:9.0f}/s "
              f"({own / one:.2f}×) with each worker reading its own contexts, {sent:9.0f}/s ({sent / one:.2f}×) "
              f"with the contexts sent to them pickled ({os.cpu_count()} CPUs, shared with whatever else runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
