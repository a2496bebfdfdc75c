"""Benchmark: `policyrules diff` on each shipped policy against an edit of it, and `policyrules
impact` over a generated 北塔 roster against the compiled engine's per-row loop over both versions.

    python benchmarks/bench_diff.py [--rows 1000000] [--sample 20000] [--repeat 3] [--every-outcome]
                                    [--roster R.parquet]

The edit of each policy is the first edit `tests/test_diff.py` makes of its YAML text that
changes an answer (a status added to or dropped from a group, a list member removed, an age bound
moved). The impact roster is drawn from bench_evaluate.py's pool as bench_roster.py draws it; NEW is
北塔 with its pay-later group widened back to all 脱贫人口. The per-row loop is timed over
``--sample`` rows (both versions, compiled engine) and given as rows per second; the two are
timed in turn ``--repeat`` times and the median ratio given. Impact leaves out the outcomes
both versions compile to the same SQL (they cannot change); ``--every-outcome`` evaluates them
too, as the loop does. ``--roster`` reuses a roster made by bench_roster.py's ``make_roster``
(its row count is then the file's). The roster is a Parquet file DuckDB reads itself: impact
takes its native path (`policyrules.impact_sql.NativeBoth`).

Each side is timed in wall-clock time and in CPU time (``time.process_time``, every thread of the
process): on a shared machine the wall-clock ratio moves with the others' load (DuckDB runs on
every core, the loop on one), the CPU-time ratio much less.

Goal (issue 14): impact rows/s >= 10x the per-row loop evaluating both versions. Not a test:
nothing here asserts.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pyarrow.parquet as pq  # noqa: E402
from bench_roster import make_roster  # noqa: E402

import policyrules  # noqa: E402
from policyrules.diff import diff_policies  # noqa: E402
from policyrules.impact import as_if_in_force, roster_impact  # noqa: E402
from tests.test_diff import EDITS, _write  # noqa: E402

POLICIES = ROOT / "policies"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every-outcome", action="store_true",
                        help="evaluate every outcome, also those both versions compile alike")
    parser.add_argument("--roster", type=Path, help="a roster made by make_roster, reused")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-diff-"))
    for path in sorted(POLICIES.glob("*.yaml")):
        old = policyrules.load_policy(path)
        for n, (what, text) in enumerate(EDITS[path.name]):
            try:
                new = policyrules.load_policy(_write(folder / f"{path.stem}_{n}", path.name, text))
            except policyrules.PolicyLoadError:
                continue
            start = time.perf_counter()
            result = diff_policies(old, new)
            took = time.perf_counter() - start
            if not result.equal:
                classes = sum(len(c) for c in result.outcomes.values())
                print(f"diff {path.stem} ({what}): {took * 1000:.0f} ms, {classes} classes")
                break
    text = (POLICIES / "beita_2021.yaml").read_text("utf-8").replace(
        "statuses: [rural_dibao, destitute, monitored]",
        "statuses: [rural_dibao, destitute, monitored, lifted_out_of_poverty]", 1)
    old = policyrules.load_policy(POLICIES / "beita_2021.yaml")
    new = policyrules.load_policy(_write(folder / "widened", "beita_2021.yaml", text))
    roster = args.roster
    if roster is None:
        roster = folder / "roster.parquet"
        make_roster(roster, args.rows)
    size = pq.ParquetFile(roster).metadata.num_rows
    rows = pq.read_table(roster).slice(0, args.sample).to_pylist()
    rows = [{k: v for k, v in row.items() if v is not None} for row in rows]
    in_force = as_if_in_force(new, old)
    ratios, cpu_ratios = [], []
    for n in range(args.repeat):  # interleaved: both sides see the same load on a shared machine
        start, cpu = time.perf_counter(), time.process_time()
        impact = roster_impact(old, new, roster, every_outcome=args.every_outcome)
        took, took_cpu = time.perf_counter() - start, time.process_time() - cpu
        if n == 0:
            print(impact.render(), end="")
        start, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            old.evaluate(row)
            in_force.evaluate(row)
        loop, loop_cpu = time.perf_counter() - start, time.process_time() - cpu
        ratios.append((size / took) / (len(rows) / loop))
        cpu_ratios.append((size / took_cpu) / (len(rows) / loop_cpu))
        print(f"run {n + 1}: impact {size} rows in {took:.1f} s ({took_cpu:.1f} s CPU), {size / took:,.0f} rows/s; "
              f"per-row loop, both versions (compiled): {len(rows) / loop:,.0f} rows/s; "
              f"impact is {ratios[-1]:.1f}x ({cpu_ratios[-1]:.1f}x in CPU time)")
    print(f"median of {len(ratios)}: impact is {statistics.median(ratios):.1f}x the per-row loop "
          f"({statistics.median(cpu_ratios):.1f}x in CPU time; goal: 10x); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024:.2f} GB")

if __name__ == "__main__":
    main()
