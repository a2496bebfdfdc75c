"""Benchmark: instructions and L1 data-cache misses per call, counted by valgrind, not timed.

    python benchmarks/bench_cachegrind.py [--rounds 2] [--pool 3000]

On a shared virtual machine the wall clock moves a measurement by up to 2x from run to run;
valgrind's counts do not move with the load. For `PolicySet.evaluate` (the default engine) and
the lean hand-written function of bench_evaluate.py, over the same pool of 北塔 contexts, this
runs ``valgrind --tool=cachegrind --cache-sim=yes`` on a fresh process twice, once warming the
pool only and once warming it and then calling the function ``--rounds`` times over it, and
prints the difference per call: instructions executed, L1 data-cache read and write misses
(cachegrind simulates the caches of the machine it runs on) and mispredicted branches (its
simulated predictor: the interpreter's jump from one bytecode to the next is an indirect branch).

The counts repeat exactly from run to run of one version of the code (the hash seed is fixed).
A change to the code moves the memory layout, and with it the misses by 10-20 a call, even for
a function the change does not touch: the lean function's ranged over 67-85 across three
versions of the package on 2 December 2026. So compare instructions across versions, and misses
only for a difference well beyond that.

Needs valgrind (``apt-get install valgrind``); takes ~1.5 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_evaluate import deployed_env  # noqa: E402  (the environment of a deployed package)

_CALLS = """
import gc
import sys
sys.path.insert(0, {benchmarks!r})
sys.path.insert(0, {root!r})
import policyrules
from bench_evaluate import Lean, make_pool
policies = policyrules.load_policies()
lean = Lean(policies["beita_2021"].model.catalogs)
pool = make_pool({pool})
for context in pool:  # every memo of both warm
    policies.evaluate(context)
    lean(context)
function = policies.evaluate if {which!r} == "default" else lean
gc.collect()
gc.disable()  # a collection falls in one run and not in the other: not the calls' own work
for _ in range({rounds}):
    for context in pool:
        function(context)
"""


def counts(which: str, rounds: int, pool: int, env: dict[str, str]) -> tuple[int, int, int]:
    """(instructions, D1 misses, mispredicted branches) of one fresh process that calls ``which`` ``rounds`` times over the pool."""
    code = _CALLS.format(benchmarks=str(ROOT / "benchmarks"), root=str(ROOT), pool=pool, which=which, rounds=rounds)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "cachegrind.out"
        done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes", f"--cachegrind-out-file={out}",
                               sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    found = {}
    for label, pattern in (("instructions", r"I\s+refs:\s+([\d,]+)"), ("misses", r"D1\s+misses:\s+([\d,]+)"),
                           ("mispredicts", r"Mispredicts:\s+([\d,]+)")):
        match = re.search(pattern, done.stderr)
        if match is None:
            raise SystemExit(f"valgrind said:\n{done.stderr[-2000:]}")
        found[label] = int(match.group(1).replace(",", ""))
    return found["instructions"], found["misses"], found["mispredicts"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=3000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as cache:  # as a deployed package runs: bytecode cached
        env = deployed_env(cache)
        env["PYTHONHASHSEED"] = "0"  # the same dict and set layouts every run: the same counts
        calls = args.rounds * args.pool
        warm = _CALLS.format(benchmarks=str(ROOT / "benchmarks"), root=str(ROOT), pool=10, which="lean", rounds=0)
        subprocess.run([sys.executable, "-c", warm], env=env, check=True)  # the bytecode written, untimed
        rows: dict[str, tuple[float, ...]] = {}
        for which in ("default", "lean"):
            base = counts(which, 0, args.pool, env)
            timed = counts(which, args.rounds, args.pool, env)
            rows[which] = tuple((after - before) / calls for after, before in zip(timed, base, strict=True))
    for which, label in (("default", "PolicySet.evaluate (default engine)"), ("lean", "lean hand-written function")):
        instructions, misses, mispredicts = rows[which]
        print(f"{label:36}: {instructions:9,.0f} instructions, {misses:6,.0f} L1 data-cache misses, "
              f"{mispredicts:5,.0f} mispredicted branches per call")
    default, lean = rows["default"], rows["lean"]
    print(f"default ÷ lean: {default[0] / lean[0]:.2f}× the instructions, {default[1] / lean[1]:.2f}× the misses, "
          f"{default[2] / lean[2]:.2f}× the mispredicted branches ({calls:,} calls each, after warming)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
