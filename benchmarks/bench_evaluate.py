"""Benchmark: `Policy.evaluate` for 北塔 2021 next to a hand-written function of the same values.

    python benchmarks/bench_evaluate.py [--pool 2000] [--rounds 5]

The hand-written function computes every outcome of beita_2021.yaml three-valued, from the
raw context, with no validation, no citations and no explanation: the floor a rules engine
is measured against. The script first checks that both agree on the whole pool (values only),
then times both over the same pool in one process and prints the per-call median and p99 of
`evaluate`, the throughput ratio evaluate ÷ hand-written (higher is better; 1.0 = as fast as
hand-written code), and the time to load every shipped policy in a fresh process.
Targets (issue 3): ratio >= 0.3, p99 < 50 µs, loading < 200 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import policyrules  # noqa: E402
from policyrules.icd10 import diagnosis_keys  # noqa: E402

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


def _and(*values: bool | None) -> bool | None:
    if False in values:
        return False
    return None if None in values else True


def _or(*values: bool | None) -> bool | None:
    if True in values:
        return True
    return None if None in values else False


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


LISTED_NORMAL = frozenset(_norm(n) for n in LISTED)


def beita_by_hand(context: dict[str, Any], catalogs: dict[str, Any]) -> dict[str, Any]:
    """北塔 2021 written out by hand: the values of every outcome, three-valued."""
    person = context.get("person") or {}
    encounter = context.get("encounter") or {}
    institution = encounter.get("institution") or {}
    history = context.get("history") or {}
    statuses = person.get("statuses")
    status_set = None if statuses is None else set(statuses)
    if status_set is not None and "lifted_out_of_poverty" in status_set:
        status_set.add("registered_poor")

    def has(*wanted: str) -> bool | None:
        return None if status_set is None else not status_set.isdisjoint(wanted)

    kind = encounter.get("kind")
    inpatient = None if kind is None else kind == "inpatient"
    region, insured = institution.get("region"), person.get("insured_region")
    in_county = None if region is None or insured is None else region == insured
    name = institution.get("name")
    listed = None if name is None else _norm(name) in LISTED_NORMAL
    age = person.get("age")
    diagnoses = encounter.get("diagnoses")
    defaulted = history.get("pay_later_default") is True
    low_income = has("rural_dibao", "destitute", "monitored")
    lifted = has("lifted_out_of_poverty")
    registered = has("registered_poor")
    sex, residence = person.get("sex"), person.get("residence")
    rural = None if residence is None else residence == "rural"
    # 三(一)4, 附件1 指标4 农村低收入人口: 农村低保 and 监测对象 by status, a 特困 person if rural
    rural_low_income = _or(has("rural_dibao", "monitored"), _and(has("destitute"), rural))

    def diagnosed(name: str) -> bool | None:
        return _in_catalog(diagnoses, age, catalogs[name])

    pay_later_grant = _and(inpatient, in_county, listed, low_income)
    pay_later = False if defaulted else pay_later_grant
    female = None if sex is None else sex == "female"
    of_age = None if age is None else 35 <= age <= 64
    undecided = None  # a not_given rule: never true, unknown unless another condition fails
    chronic = _or(_and(_or(lifted, rural_low_income), diagnosed("chronic_4")),
                  _and(_or(has("registered_poor", "rural_dibao", "monitored"), _and(has("destitute"), rural)),
                       diagnosed("chronic_4_or_edges"), undecided))
    htn_dm = _or(diagnosed("hypertension_diabetes"), diagnosed("chronic_4_edges"))
    return {
        "pay_later": pay_later,
        "deposit_exempt": pay_later,
        "major_disease_treatment": _and(_or(registered, rural_low_income), diagnosed("hunan_33_major_diseases")),
        "chronic_disease_contract": chronic,
        "family_doctor_priority": _or(lifted, _and(registered, undecided), rural_low_income, undecided),
        "free_tb_treatment": _or(diagnosed("pulmonary_tb"), _and(diagnosed("pulmonary_tb_edges"), undecided)),
        "maternal_hiv_service": has("pregnant_or_postpartum"),
        "green_channel": _and(htn_dm, undecided),
        "two_cancer_screening": _and(female, of_age, _or(rural, has("rural_dibao", "monitored"), has("urban_dibao"))),
    }


def _in_catalog(diagnoses: list[str] | None, age: int | None, catalog: Any) -> bool | None:
    """Written out: a diagnosis matches an entry by WHO category or subcategory; 儿童 entries
    are certain below 14, excluded from 18, unknown between; an open list leaves the rest unknown."""
    if diagnoses is None:
        return None
    keys = {key for code in diagnoses for key in diagnosis_keys(code)}
    result: bool | None = False
    for entry in catalog.entries:
        if not keys & entry.codes or (entry.together_with and not keys & entry.together_with):
            continue
        if entry.children is None:
            return True
        if age is None or 14 <= age < 18:
            result = None
        elif age < 14:
            return True
    if catalog.more_not_given and diagnoses:
        return None
    return result


# ---------------------------------------------------------------- the pool


OUTCOME_NAMES = ("pay_later", "deposit_exempt", "major_disease_treatment", "chronic_disease_contract",
                 "family_doctor_priority", "free_tb_treatment", "maternal_hiv_service", "green_channel",
                 "two_cancer_screening")


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


def load_time() -> float:
    code = ("import time; t = time.perf_counter(); import policyrules; policyrules.load_policies(); "
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True, cwd=ROOT).stdout) for _ in range(3)]
    return min(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    policy = policyrules.load_policy(ROOT / "policies" / "beita_2021.yaml")
    catalogs = policy.model.catalogs
    pool = make_pool(args.pool)

    def by_hand(context: dict[str, Any]) -> dict[str, Any]:
        return beita_by_hand(context, catalogs)

    disagreements = 0
    for context in pool:
        expected = by_hand(context)
        answer = policy.evaluate(context)
        got = {name: outcome.value for name, outcome in answer.outcomes.items()}
        if got != expected:
            disagreements += 1
            if disagreements <= 3:
                print("DISAGREE", json.dumps(context, ensure_ascii=False), got, expected)
    if disagreements:
        print(f"{disagreements} of {len(pool)} contexts disagree: no timing", file=sys.stderr)
        return 1
    unknown = sum(1 for c in pool for o in policy.evaluate(c).outcomes.values() if o.value is None)
    print(f"pool: {len(pool)} contexts (seed 20211105), all {len(pool)} agree; "
          f"{unknown / (len(pool) * len(OUTCOME_NAMES)):.0%} of outcomes unknown")

    for _ in range(2):  # warm caches and the allocator
        throughput(policy.evaluate, pool, 1)
        throughput(by_hand, pool, 1)
    calls = sorted(time_calls(policy.evaluate, pool, args.rounds))
    median = statistics.median(calls) * 1e6
    p99 = calls[int(len(calls) * 0.99)] * 1e6
    engine = throughput(policy.evaluate, pool, args.rounds)
    hand = throughput(by_hand, pool, args.rounds)
    print(f"evaluate:     median {median:6.1f} µs   p99 {p99:6.1f} µs   {engine:9.0f} calls/s")
    print(f"hand-written: {1e6 / hand:13.1f} µs/call                {hand:9.0f} calls/s")
    print(f"throughput ratio evaluate ÷ hand-written: {engine / hand:.2f}  (target >= 0.3)")
    print(f"load all shipped policies (fresh process, import included): {load_time() * 1e3:.0f} ms "
          "(target < 200 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
