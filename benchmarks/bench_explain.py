"""Benchmark: `Policy.explain` (trace, exact why-not, ask-next) next to `Policy.evaluate`.

    python benchmarks/bench_explain.py [--pool 300]

For every shipped policy: the time of the first explanation (it builds each outcome's table of
values over its classes, `policyrules.space`), then the per-call median and p99 of `explain` and
of `evaluate` over the same pool of generated contexts (`policyrules.testing.contexts`), and the
largest class product of an outcome (what enumeration has to cope with).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import policyrules  # noqa: E402
from policyrules.space import ContextSpace  # noqa: E402
from policyrules.testing import contexts  # noqa: E402


def _pool(policy: policyrules.Policy, size: int) -> list[dict[str, Any]]:
    from hypothesis.errors import NonInteractiveExampleWarning

    strategy = contexts(policy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        return [strategy.example() for _ in range(size)]


def _times(call: Any, pool: list[dict[str, Any]]) -> list[float]:
    out = []
    for context in pool:
        start = time.perf_counter()
        call(context)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=300)
    args = parser.parse_args()
    print(f"{'policy':<15}{'first':>10}{'explain p50':>13}{'p99':>10}{'evaluate p50':>14}{'largest space':>15}")
    for policy in policyrules.load_policies(ROOT / "policies"):
        model = policy.model
        insured = sorted(policy.counties)[0]
        largest = max(ContextSpace(model, policy.prepared.matcher, model.grants(o) + model.exceptions(o),
                                   insured).size for o in model.outcomes())
        pool = _pool(policy, args.pool)
        start = time.perf_counter()
        policy.explain(pool[0])
        first = time.perf_counter() - start
        explain = sorted(_times(policy.explain, pool))
        evaluate = sorted(_times(policy.evaluate, pool))
        p99 = explain[int(len(explain) * 0.99) - 1]
        print(f"{policy.id:<15}{first * 1e3:>8.1f}ms{statistics.median(explain) * 1e3:>11.2f}ms"
              f"{p99 * 1e3:>8.2f}ms{statistics.median(evaluate) * 1e6:>12.1f}µs{largest:>15}")


if __name__ == "__main__":
    main()
