"""Benchmark: the Rete path through the public API, next to raw durable_rules and the reference.

    python benchmarks/bench_rete.py [--pool 2000] [--rounds 3] [--soak 200000] [--million]

- **raw**: a durable_rules ruleset written by hand for 北塔 2021 that decides the same outcome
  values from the same prepared fact (one rule per outcome value, conditions written out),
  assert + retract in one session, actions record the values. No validation, no
  explanation: the floor of the Rete path.
- **wrapper**: `Policy.evaluate(context, engine="rete")`: validation, the prepared fact, the
  hazard-proof wrapper, rules and citations from what fired, explanations of unknowns.
- **reference**: `Policy.evaluate(context)`.

It first checks that raw and wrapper agree with the reference on the whole pool, then prints
per-call means, the ratio raw ÷ wrapper time (the wrapper's share: 1.0 = no cost; target
>= 0.9), and RSS before and after ``--soak`` evaluations (target: growth <= 10%).
``--million`` evaluates a million contexts on the Rete path and reports errors (target: none).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_evaluate import LISTED_NORMAL, make_pool, throughput  # noqa: E402

import policyrules  # noqa: E402
from policyrules.engines import rete_runner as rete  # noqa: E402
from policyrules.context import read_context  # noqa: E402
from policyrules.engines.matching import FALSE, TRUE  # noqa: E402

NAMES = sorted(LISTED_NORMAL)
LOW_INCOME = ["destitute", "monitored", "rural_dibao"]


def _or(*items: dict[str, Any]) -> dict[str, Any]:
    return {"$or": list(items)}


def _and(*items: dict[str, Any]) -> dict[str, Any]:
    return {"$and": [{"pr": 1}, *items]}


def raw_ruleset() -> dict[str, tuple[str, Any, dict[str, Any]]]:
    """北塔 2021 written by hand for durable_rules: rule name -> (outcome, value, condition)."""
    kind, region, insured, name = "f_encounter_kind", "f_encounter_institution_region", \
        "f_person_insured_region", "f_encounter_institution_name"
    statuses, age, sex, residence = "f_person_statuses", "f_person_age", "f_person_sex", "f_person_residence"
    default = "f_history_pay_later_default"

    def any_status(*wanted: str) -> dict[str, Any]:
        inner = [{"$i": s} for s in wanted]
        return {"$and": [{"k_person_statuses": True},
                         {"$iany": {statuses: inner[0] if len(inner) == 1 else {"$or": inner}}}]}

    def no_status(*wanted: str) -> dict[str, Any]:
        inner = [{"$neq": {"$i": s}} for s in wanted]
        return {"$and": [{"k_person_statuses": True},
                         {"$iall": {statuses: inner[0] if len(inner) == 1 else {"$and": inner}}}]}

    pay_later_true = _and({"k_encounter_kind": True}, {kind: "inpatient"},
                          {"k_encounter_institution_region": True}, {"k_person_insured_region": True},
                          {region: {"$m": insured}}, {"k_encounter_institution_name": True},
                          _or(*({name: n} for n in NAMES)), any_status(*LOW_INCOME), {default: False})
    pay_later_false = _and(_or(
        {default: True},
        {"$and": [{"k_encounter_kind": True}, {"$neq": {kind: "inpatient"}}]},
        {"$and": [{"k_encounter_institution_region": True}, {"k_person_insured_region": True},
                  {"$neq": {region: {"$m": insured}}}]},
        {"$and": [{"k_encounter_institution_name": True}, *({"$neq": {name: n}} for n in NAMES)]},
        no_status(*LOW_INCOME)))
    rules: dict[str, tuple[str, Any, dict[str, Any]]] = {}
    for outcome in ("pay_later", "deposit_exempt"):
        rules[f"{outcome}_t"] = (outcome, True, pay_later_true)
        rules[f"{outcome}_f"] = (outcome, False, pay_later_false)
    eligible = LOW_INCOME + ["lifted_out_of_poverty"]
    rules["major_t"] = ("major_disease_treatment", True, _and(any_status(*eligible), {"dx_hunan_33_major_diseases": int(TRUE)}))
    rules["major_f"] = ("major_disease_treatment", False,
                        _and(_or(no_status(*eligible), {"dx_hunan_33_major_diseases": int(FALSE)})))
    rules["chronic_t"] = ("chronic_disease_contract", True, _and(any_status(*eligible), {"dx_chronic_4": int(TRUE)}))
    rules["chronic_f"] = ("chronic_disease_contract", False, _and(_or(no_status(*eligible), {"dx_chronic_4": int(FALSE)})))
    rules["doctor_t"] = ("family_doctor_priority", True, _and(any_status(*eligible)))
    rules["doctor_f"] = ("family_doctor_priority", False, _and(no_status(*eligible)))
    rules["tb_t"] = ("free_tb_treatment", True, _and({"dx_pulmonary_tb": int(TRUE)}))
    rules["tb_f"] = ("free_tb_treatment", False, _and({"dx_pulmonary_tb": int(FALSE)}))
    rules["cancer_t"] = ("two_cancer_screening", True, _and(
        {"k_person_sex": True}, {sex: "female"}, {"k_person_age": True}, {"$gte": {age: 35}}, {"$lte": {age: 64}},
        _or({"$and": [{"k_person_residence": True}, {residence: "rural"}]}, any_status("rural_dibao", "urban_dibao"))))
    rules["cancer_f"] = ("two_cancer_screening", False, _and(_or(
        {"$and": [{"k_person_sex": True}, {"$neq": {sex: "female"}}]},
        {"$and": [{"k_person_age": True}, {"$lt": {age: 35}}]},
        {"$and": [{"k_person_age": True}, {"$gt": {age: 64}}]},
        {"$and": [{"k_person_residence": True}, {"$neq": {residence: "rural"}},
                  no_status("rural_dibao", "urban_dibao")]})))
    return rules


class Raw:
    """Raw durable_rules: the hand-written ruleset, assert + retract in one session."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        definition = {}
        for rule_name, (outcome, value, condition) in raw_ruleset().items():
            definition[rule_name] = {"all": [{"m": condition}], "run": self._action(outcome, value)}
        self.host = rete._Host()
        self.host.set_rulesets({"raw_beita": definition})
        self.ids = 0

    def _action(self, outcome: str, value: Any) -> Any:
        def action(c: Any) -> None:
            self.results[outcome] = value
        return action

    def __call__(self, fact: dict[str, Any]) -> dict[str, Any]:
        self.results = {}
        self.ids += 1
        fact["sid"], fact["id"] = "raw", self.ids
        try:
            self.host.assert_fact("raw_beita", fact)
        except Exception as error:  # noqa: BLE001 - only "no rule matched" is expected
            if type(error).__name__ != "MessageNotHandledException":
                raise
            return {}
        self.host.retract_fact("raw_beita", fact)
        return self.results


def mean_time(function: Any, items: list[Any], rounds: int) -> float:
    """Seconds per call: the best of ``rounds`` whole passes over ``items``."""
    return 1 / throughput(function, items, rounds)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--soak", type=int, default=200_000)
    parser.add_argument("--million", action="store_true")
    args = parser.parse_args()
    if not rete.AVAILABLE:
        print(rete.UNAVAILABLE_REASON)
        return 1
    policy = policyrules.load_policy(ROOT / "policies" / "beita_2021.yaml")
    program = policy.engine("rete").program  # type: ignore[attr-defined]
    pool = make_pool(args.pool)
    prepared = [program.prepare(read_context(c), policy.prepared.matcher) for c in pool]
    raw = Raw()
    for context, fact in zip(pool, prepared, strict=True):
        expected = {name: o.value for name, o in policy.evaluate(context).outcomes.items()}
        by_raw = raw(dict(fact))
        got_raw = {name: by_raw.get(name) for name in expected}
        got_rete = {name: o.value for name, o in policy.evaluate(context, engine="rete").outcomes.items()}
        if got_raw != expected or got_rete != expected:
            print("DISAGREE", json.dumps(context, ensure_ascii=False), expected, got_raw, got_rete)
            return 1
    print(f"pool: {len(pool)} contexts; raw durable_rules, the Rete path and the reference agree on all")

    def wrapper(context: dict[str, Any]) -> Any:
        return policy.evaluate(context, engine="rete")

    t_raw = mean_time(lambda fact: raw(dict(fact)), prepared, args.rounds)
    t_rete = mean_time(wrapper, pool, args.rounds)
    t_ref = mean_time(policy.evaluate, pool, args.rounds)
    print(f"raw durable_rules (prepared fact, assert+retract): {t_raw * 1e6:7.1f} µs/evaluation")
    print(f"Rete path, public API:                            {t_rete * 1e6:7.1f} µs/evaluation")
    print(f"reference path, public API:                       {t_ref * 1e6:7.1f} µs/evaluation")
    print(f"ratio raw ÷ Rete path: {t_raw / t_rete:.2f}  (target >= 0.9)")

    before = rss_mb()
    start = time.perf_counter()
    for i in range(args.soak):
        wrapper(pool[i % len(pool)])
    after = rss_mb()
    print(f"soak: {args.soak} Rete evaluations in {time.perf_counter() - start:.0f} s; max RSS "
          f"{before:.1f} MB -> {after:.1f} MB ({(after / before - 1) * 100:+.1f}%, target <= +10%)")

    if args.million:
        errors = 0
        start = time.perf_counter()
        for i in range(1_000_000):
            try:
                wrapper(pool[i % len(pool)])
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors += 1
                if errors <= 3:
                    print("error:", repr(error))
        print(f"million: 1,000,000 Rete evaluations in {time.perf_counter() - start:.0f} s, "
              f"{errors} errors, max RSS {rss_mb():.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
