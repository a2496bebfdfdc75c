"""Benchmark: `policyrules evaluate ROSTER.jsonl --values` on a large roster: peak memory and speed.

    python benchmarks/bench_jsonlines.py [--lines 100000]

Writes a roster of ``--lines`` contexts (each with an ``id``; every 1000th line bad, one in
GBK) to a temporary file, runs the command line on it in a fresh process, and prints the file's
size, the wall time, lines per second and the process's peak resident memory (ru_maxrss). The
JSON Lines path streams: its peak memory does not grow with the file (issue 9: a 100 MB file used
to peak at 512 MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    good = json.loads((ROOT / "examples" / "beita_destitute_inpatient.json").read_text("utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.jsonl"
        with path.open("wb") as out:
            for number in range(1, args.lines + 1):
                context = good | {"id": f"P-{number:07d}"}
                if number % 1000 == 0:
                    context = context | {"person": {"age": "old"}}
                data = json.dumps(context, ensure_ascii=False)
                out.write((data.encode("gbk") if number == 500 else data.encode("utf-8")) + b"\n")
        size = path.stat().st_size
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "policyrules.cli", "evaluate", str(path), "--values"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows = result.stdout.count(b"\n")
    print(f"{args.lines} lines, {size / 1e6:.1f} MB: exit {result.returncode}, {rows} lines out, "
          f"{elapsed:.1f} s ({args.lines / elapsed:,.0f} lines/s), peak memory {peak_kib / 1024:.0f} MB")


if __name__ == "__main__":
    main()
