"""Benchmark: `policyrules roster` (SQL on DuckDB) against a per-row loop, on one big Parquet roster.

    python benchmarks/bench_roster.py [--rows 1000000] [--sample 20000] [--spark]

Generates a 北塔 roster of ``--rows`` rows as Parquet (drawn from the pool of
bench_evaluate.py, with an id per row), then in one run times:

- ``policyrules roster IN.parquet -o OUT.parquet --values`` and the full answers (rules,
  missing, not_given), each in a fresh process: Parquet in, validation, DuckDB, Parquet out,
  with the process's peak memory (max RSS);
- the same on a 1,000-row roster, for the fixed cost of a run (imports, loading and compiling the
  policies), and the rate beyond it;
- the compiled engine's loop (`PolicySet.evaluate` per row, the reference engine) and the
  lean hand-written function per row (`bench_evaluate.Lean`), timed over ``--sample`` rows and given
  as rows per second (their cost per row does not depend on the roster's size).

With ``--spark``, each of those runs is followed by the same with ``--engine spark`` (Spark in
local mode, ``local[*]``; its fresh process includes starting the JVM and the session, about
10-20 s here), interleaved so both see the same load: Spark local rows/s beside DuckDB's.

Every ``policyrules roster`` process runs as a deployed (pip-installed) package does: without
``PYTHONDONTWRITEBYTECODE`` and with ``PYTHONPYCACHEPREFIX`` set to a temporary folder, warmed
by one untimed run, so policyrules' own modules are loaded from bytecode, not compiled afresh
(a machine that sets ``PYTHONDONTWRITEBYTECODE=1`` would otherwise add ~0.2 s to every run).
Each run's CPU time (user + system, all threads) is printed beside its wall time: on a shared
machine it moves less with the load than the wall clock does.

Goals (issue 16): ``--values`` >= 10x the hand-written function per row, full answers >= 5x,
peak memory < 1 GB. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from bench_evaluate import Lean, make_pool  # noqa: E402

import policyrules  # noqa: E402


def make_roster(path: Path, rows: int, pool_size: int = 20_000) -> None:
    """``rows`` rows drawn from a pool of generated contexts (Arrow-side, so memory stays small)."""
    import random

    pool = make_pool(pool_size)
    table = pa.Table.from_struct_array(pa.array(pool))
    rnd = random.Random(16)
    writer = pq.ParquetWriter(path, table.schema.insert(0, pa.field("id", pa.string())))
    done = 0
    while done < rows:
        n = min(100_000, rows - done)
        picked = table.take(pa.array([rnd.randrange(pool_size) for _ in range(n)]))
        ids = pa.array([f"P{done + i + 1:08d}" for i in range(n)], pa.string())
        writer.write_table(picked.add_column(0, "id", ids))
        done += n
    writer.close()


def deployed_environment(cache: Path) -> dict[str, str]:
    """The environment of a deployed package: bytecode written and read (in ``cache``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def run_cli(roster: Path, out: Path, values: bool, engine: str = "duckdb",
            env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Seconds, CPU seconds (user + system) and peak RSS (MB) of one ``policyrules roster`` process."""
    command = [sys.executable, "-m", "policyrules.cli", "roster", str(roster), "-o", str(out),
               "--policies", str(ROOT / "policies"), "--engine", engine] + (["--values"] if values else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1) or "Traceback" in result.stderr or not out.exists():
        raise SystemExit(f"policyrules roster failed: {result.stderr}")  # exit 1 is skipped rows, not a crash
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, max(after.ru_maxrss, before.ru_maxrss) / 1024


def per_row(function: Any, contexts: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for context in contexts:
        function(context)
    return len(contexts) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--spark", action="store_true", help="also time --engine spark (local mode)")
    args = parser.parse_args()
    policies = policyrules.load_policies(ROOT / "policies")
    beita = policies["beita_2021"].model
    catalogs = beita.catalogs
    with tempfile.TemporaryDirectory() as folder:
        roster = Path(folder) / "roster.parquet"
        start = time.perf_counter()
        make_roster(roster, args.rows)
        print(f"roster: {args.rows} rows, {roster.stat().st_size / 1e6:.1f} MB Parquet "
              f"(made in {time.perf_counter() - start:.1f} s)")
        small = Path(folder) / "small.parquet"
        make_roster(small, 1_000)
        env = deployed_environment(Path(folder) / "pycache")
        run_cli(small, Path(folder) / "warm.parquet", True, env=env)  # untimed: writes the bytecode
        print("each run: a fresh process, as a deployed package (bytecode written once, then read)")
        results = {}
        engines = ("duckdb", "spark") if args.spark else ("duckdb",)
        for label, values in (("--values", True), ("full", False)):
            for engine in engines:
                name = label if engine == "duckdb" else f"{label} spark"
                startup, _, _ = run_cli(small, Path(folder) / f"small{label}.parquet", values, engine, env)
                seconds, cpu, peak = run_cli(roster, Path(folder) / f"out{label}.parquet", values, engine, env)
                results[name] = args.rows / seconds
                print(f"policyrules roster {name:14}: {seconds:6.1f} s (CPU {cpu:.1f} s), "
                      f"{args.rows / seconds:>10,.0f} rows/s, "
                      f"peak memory (max RSS of the process, as measured) {peak:,.0f} MB; "
                      f"a 1,000-row roster takes {startup:.1f} s (imports, policies, compiling), "
                      f"so beyond that {args.rows / max(seconds - startup, 1e-9):,.0f} rows/s")
            if args.spark:
                print(f"  spark local ÷ duckdb ({label}): {results[label + ' spark'] / results[label]:.2f}x")
    sample = make_pool(args.sample, seed=7)
    loop = per_row(policies.evaluate, sample)
    by_hand = per_row(Lean(catalogs), sample)
    print(f"compiled engine loop (evaluate per row): {loop:>10,.0f} rows/s")
    print(f"hand-written function per row:           {by_hand:>10,.0f} rows/s")
    for label, rate in results.items():
        print(f"{label:14} ÷ hand-written: {rate / by_hand:5.1f}x   ÷ evaluate loop: {rate / loop:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
