"""The compiled engine (issue 12): it answers exactly as the reference engine (and Rete) does,
its generated source can be read and cannot be injected from YAML, its straight-line reader
hands everything unusual to the careful one, and policies pickle."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import multiprocessing
import pickle
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policyrules
from policyrules import ContextError
from policyrules.cli import main
from policyrules.context import read_context
from policyrules.context_fast import read_context_fast
from policyrules.engines import DEFAULT_ENGINE, ENGINES
from policyrules.engines import rete_runner
from policyrules.engines.compiled import CompiledEngine
from policyrules.model import AllOf, AnyOf, Not
from policyrules.policy import CHECKING_ENGINE
from policyrules.testing import OPTIONAL_FIELDS, full_contexts, omit_fields

from .conftest import FIXTURES, POLICIES

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}
HOSTILE = FIXTURES / "hostile_compiled" / "hostile.yaml"
HOSTILE_TEXTS = ['"""', "'''", "\n", "\\", "'); import os; ('"]


def _plain(answer: policyrules.Determination, engine: str) -> dict[str, Any]:
    out = answer.to_dict()
    assert out["policy"].pop("engine") == engine
    return out


def _unusual(flat: dict[str, Any], nulls: set[str], how: int) -> dict[str, Any]:
    """A context the straight-line reader leaves to the careful one: nulls, a null group or a
    birth date instead of the age."""
    context = omit_fields(flat, set())
    for field in nulls:
        node = context
        *parents, leaf = field.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None
    if how == 1 and "history" not in context:
        context["history"] = None
    if how == 2 and isinstance(context.get("person", {}).get("age"), int):
        age = context["person"].pop("age")
        year, rest = context["encounter"]["date"].split("-", 1)
        if rest != "02-29":
            context["person"]["birth_date"] = f"{int(year) - age:04d}-{rest}"
    return context


def _engines() -> list[str]:
    return [e for e in ENGINES if e != "rete" or rete_runner.AVAILABLE]


def test_compiled_is_the_default_and_checks_rete() -> None:
    assert DEFAULT_ENGINE == "compiled" and CHECKING_ENGINE == "compiled"
    assert "compiled" in ENGINES and "reference" in ENGINES
    policy = LOADED["beita_2021.yaml"]
    assert isinstance(policy.engine(), CompiledEngine)
    assert policy.prepared.checker == policy.engine("compiled").evaluate


@pytest.mark.parametrize("name", POLICY_FILES)
def test_every_engine_answers_alike(name: str) -> None:
    policy = LOADED[name]
    engines = _engines()

    @given(full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS)),
           st.sets(st.sampled_from(OPTIONAL_FIELDS)), st.integers(0, 3))
    def check(flat: dict[str, Any], omitted: set[str], nulls: set[str], how: int) -> None:
        kept = {f: v for f, v in flat.items() if f not in omitted}
        for context in (omit_fields(kept, set()), _unusual(kept, nulls - omitted, how)):
            expected = _plain(policy.evaluate(context, engine="reference"), "reference")
            compiled = policy.evaluate(context)
            assert _plain(compiled, "compiled") == expected
            # the very answer objects the reference engine gives (one prebuilt Outcome each)
            reference = policy.evaluate(context, engine="reference")
            assert all(compiled[o] is reference[o] for o in reference.outcomes)
            for engine in engines:
                assert _plain(policy.evaluate(context, engine=engine), engine) == expected

    check()


def test_a_policy_set_answers_as_its_policies() -> None:
    policies = policyrules.load_policies(POLICIES)
    for name, policy in LOADED.items():
        removable = [f for f in OPTIONAL_FIELDS if f != "person.insured_region"]  # it picks the policy

        @given(st.builds(omit_fields, full_contexts(policy), st.sets(st.sampled_from(removable))))
        def check(context: dict[str, Any]) -> None:
            want = policies.select(read_context(context))
            expected = _plain(want.evaluate(context, engine="reference"), "reference")
            # twice: the second finds the policy in the memo of the context's region and date
            assert _plain(policies.evaluate(context), "compiled") == expected
            assert _plain(policies.evaluate(context), "compiled") == expected

        check()
        assert name


@pytest.mark.parametrize("name", POLICY_FILES)
def test_the_fast_readers_read_as_the_careful_one(name: str) -> None:
    policy = LOADED[name]
    answer = policy.engine("compiled").answer_context  # type: ignore[attr-defined]

    @given(full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS)), st.sets(st.sampled_from(OPTIONAL_FIELDS)),
           st.integers(0, 3))
    def check(flat: dict[str, Any], omitted: set[str], nulls: set[str], how: int) -> None:
        kept = {f: v for f, v in flat.items() if f not in omitted}
        for context in (omit_fields(kept, set()), _unusual(kept, nulls - omitted, how)):
            careful = read_context(context)
            fast = read_context_fast(context)
            assert (fast.values, fast.date, fast.date_given) == (careful.values, careful.date, careful.date_given)
            direct = answer(context)
            if direct is not None:
                assert direct.to_dict() == policy._evaluate(careful, "compiled").to_dict()

    check()


BAD_CONTEXTS = [
    {"person": {"age": -1}, "encounter": {"date": "2022-01-01"}},
    {"person": {"age": True}, "encounter": {"date": "2022-01-01"}},
    {"person": {"age": 30.0}, "encounter": {"date": "2022-01-01"}},
    {"person": {"statuses": ["poor"]}, "encounter": {"date": "2022-01-01"}},
    {"person": {"statuses": "rural_dibao"}, "encounter": {"date": "2022-01-01"}},
    {"person": {"statuses": [["rural_dibao"]]}, "encounter": {"date": "2022-01-01"}},
    {"person": {"sex": "f"}, "encounter": {"date": "2022-01-01"}},
    {"person": {"insured_region": 430511}, "encounter": {"date": "2022-01-01"}},
    {"person": {"insured_region": "４３０５１１"}, "encounter": {"date": "2022-01-01"}},
    {"person": {"agee": 3}, "encounter": {"date": "2022-01-01"}},
    {"persons": {}, "encounter": {"date": "2022-01-01"}},
    {"encounter": {"date": "2022-02-30"}},
    {"encounter": {"date": 20220101}},
    {"encounter": {"date": "2022-01-01", "diagnoses": ["X"]}},
    {"encounter": {"date": "2022-01-01", "diagnoses": [{"code": "C16"}]}},
    {"encounter": {"date": "2022-01-01", "institution": {"name": "  "}}},
    {"encounter": {"date": "2022-01-01", "institution": {"designated": "yes"}}},
    {"encounter": {"date": "2022-01-01", "institution": []}},
    {"encounter": {"date": "2022-01-01"}, "history": {"pay_later_default": 1}},
    {"encounter": {"date": "2022-01-01"}, "history": {"defaulted": True}},
    {"encounter": "2022-01-01"},
    {1: {}},
    ["not", "an", "object"],
]


@pytest.mark.parametrize("context", BAD_CONTEXTS, ids=range(len(BAD_CONTEXTS)))
def test_a_bad_context_is_the_careful_readers_error(context: Any) -> None:
    with pytest.raises(ContextError) as careful:
        read_context(context)
    with pytest.raises(ContextError) as fast:
        read_context_fast(context)
    assert str(fast.value) == str(careful.value)
    policy = LOADED["beita_2021.yaml"]
    if isinstance(context, dict):
        assert policy.engine("compiled").answer_context(context) is None  # type: ignore[attr-defined]
    policies = policyrules.load_policies(POLICIES)
    for _ in range(2):  # the second time too, whatever the memos hold
        with pytest.raises(ContextError) as through_set:
            policies.evaluate(context)
        assert str(through_set.value) == str(careful.value)


def test_a_bad_value_after_a_good_one_of_the_same_region_and_date_is_an_error() -> None:
    policies = policyrules.load_policies(POLICIES)
    good = {"person": {"insured_region": "430511", "age": 30}, "encounter": {"date": "2022-01-01"}}
    policies.evaluate(good)
    policies.evaluate(good)
    bad = copy.deepcopy(good)
    bad["person"]["age"] = 151
    with pytest.raises(ContextError, match="person.age"):
        policies.evaluate(bad)


def _two_versions_of_beita(folder: Any) -> policyrules.PolicySet:
    """北塔 2021 cut in two: beita_2021 until 2022-06-30, beita_2022 from 2022-07-01 (one county)."""
    text = (POLICIES / "beita_2021.yaml").read_text(encoding="utf-8")
    assert "  effective_to: 2025-12-31\n" in text and "  id: beita_2021\n" in text
    (folder / "old.yaml").write_text(text.replace("  effective_to: 2025-12-31\n", "  effective_to: 2022-06-30\n"),
                                     encoding="utf-8")
    (folder / "new.yaml").write_text(
        text.replace("  id: beita_2021\n", "  id: beita_2022\n").replace("  effective_from: 2021-11-05\n",
                                                                           "  effective_from: 2022-07-01\n"),
        encoding="utf-8")
    return policyrules.load_policies(folder)


def test_each_version_of_a_county_answers_its_own_period(tmp_path: Any) -> None:
    """A county two versions cover is answered by the one in force on the context's date, each
    time, whichever answered before; a county one version covers is refused past its period,
    each time, though the same county was just answered inside it (its answer checks the date)."""
    both = _two_versions_of_beita(tmp_path)
    alone = LOADED["beita_2021.yaml"]
    only_set = policyrules.PolicySet([alone])

    def on(date: str) -> dict[str, Any]:
        return {"person": {"insured_region": "430511", "statuses": ["destitute"]},
                "encounter": {"date": date, "kind": "inpatient"}}

    for _ in range(2):
        for date, expected in (("2022-06-30", "beita_2021"), ("2022-07-01", "beita_2022"),
                               ("2021-11-05", "beita_2021"), ("2025-12-31", "beita_2022")):
            assert both.evaluate(on(date)).policy.id == expected
        assert alone.evaluate(on("2025-12-31")).policy.id == "beita_2021"
        assert only_set.evaluate(on("2025-12-31")).policy.id == "beita_2021"
        for late in ("2026-01-01", "2021-11-04"):
            with pytest.raises(policyrules.NoPolicyError):
                alone.evaluate(on(late))
            with pytest.raises(policyrules.NoPolicyError):
                only_set.evaluate(on(late))
        elsewhere = on("2022-01-01")
        elsewhere["person"]["insured_region"] = "421202"  # 咸宁 咸安区: not 北塔's
        with pytest.raises(policyrules.NoPolicyError):
            alone.evaluate(elsewhere)


def test_two_versions_of_a_county_answer_as_the_reference_on_any_date(tmp_path: Any) -> None:
    """On generated contexts dated across both versions' periods and beyond them, with or
    without the insured region, a set of two versions of 北塔 (and a set of one) answers as the
    reference engine of the version in force, or raises NoPolicyError as the careful path does."""
    both = _two_versions_of_beita(tmp_path)
    alone = policyrules.PolicySet([LOADED["beita_2021.yaml"]])  # its county by the region alone
    dates = st.dates(dt.date(2021, 10, 1), dt.date(2026, 3, 1)).map(dt.date.isoformat)

    @given(full_contexts(LOADED["beita_2021.yaml"]), dates, st.booleans(), st.integers(1, 2))
    def check(flat: dict[str, Any], date: str, insured: bool, times: int) -> None:
        flat = {**flat, "encounter.date": date}
        if not insured:
            flat.pop("person.insured_region")
        context = omit_fields(flat, set())
        for policies in (both, alone):
            try:
                want = policies.select(read_context(context))
            except policyrules.NoPolicyError:
                for _ in range(times):
                    with pytest.raises(policyrules.NoPolicyError):
                        policies.evaluate(context)
                continue
            expected = _plain(want.evaluate(context, engine="reference"), "reference")
            for _ in range(times):  # the second time, whatever the memos hold
                assert _plain(policies.evaluate(context), "compiled") == expected

    check()


def test_equal_conditions_are_computed_once() -> None:
    policy = LOADED["beita_2021.yaml"]
    source = policy.engine("compiled").source  # type: ignore[attr-defined]
    model = policy.model
    distinct = set(model.conditions())
    assert len(distinct) < len(list(model.conditions()))  # pay_later and deposit_exempt share theirs
    tree = ast.parse(source)
    evaluate = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "evaluate")
    targets = [t for n in ast.walk(evaluate) if isinstance(n, ast.Assign) for t in n.targets]
    names = [t for target in targets for t in ([target] if isinstance(target, ast.Name) else target.elts)
             if isinstance(t, ast.Name)]
    nodes = [t.id for t in names if t.id[0] in "cs" and t.id[1:].isdigit()]  # c<i>; s<i>: status conditions
    evaluate_source = source[source.index("def evaluate("):source.index("def answer(")]
    known = re.findall(r"^    # (c\d+) = [012] \(known at load: no code\)$", evaluate_source, re.M)
    assert known  # 北塔 has not_given conditions: their truth is a literal
    assert len(nodes + known) == len(set(nodes + known))
    assert len(nodes) + len(known) == len(distinct)
    composite = [n for n in distinct if isinstance(n, AllOf | AnyOf | Not)]
    assert composite


def _calls_and_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    calls = {n.func.id if isinstance(n.func, ast.Name) else ast.unparse(n.func)
             for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return calls, names


@pytest.mark.parametrize("path", [HOSTILE, *sorted(POLICIES.glob("*.yaml"))], ids=lambda p: p.name)
def test_nothing_of_a_policy_file_becomes_code(path: Any) -> None:
    policy = policyrules.load_policy(path)
    source = policy.engine("compiled").source  # type: ignore[attr-defined]
    tree = ast.parse(source)
    assert [type(n) for n in tree.body] == [ast.FunctionDef, ast.FunctionDef]
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom | ast.Attribute)
                and not (isinstance(n, ast.Attribute) and n.attr in ("get", "match", "isdisjoint", "keys"))]
    # every string literal is a CONTRACT field or group name, or a docstring of the generator
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    allowed = {part for field in policyrules.vocabulary.CONTEXT_FIELDS for part in (field, *field.split("."))}
    docstrings = {ast.get_docstring(f) for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert strings - allowed - docstrings == set()
    calls, _ = _calls_and_names(tree)
    assert all(c in {"get", "type", "len", "tuple", "explain", "explain_context"} or c.startswith("K")
               or c.endswith((".get", ".match", ".isdisjoint", ".keys")) for c in calls), calls
    # the YAML text is in the comments only through repr: no line of it starts a line of code
    for line in source.splitlines():
        assert line.startswith(("#", "def ", "    ")) or not line, line


def test_a_hostile_policy_is_answered_as_the_reference_engine_answers_it() -> None:
    policy = policyrules.load_policy(HOSTILE)
    texts = [policy.model.meta.document, policy.model.meta.title, policy.model.meta.note,
             *(m.name for lst in policy.model.institution_lists.values() for m in lst.members),
             *(c.quote for r in policy.model.rules for c in r.citations), *(r.label for r in policy.model.rules)]
    for hostile in HOSTILE_TEXTS:
        assert any(hostile in text for text in texts), hostile
    contexts = []
    for name in ["陈家桥卫生院'); import os; ('", '"""医院"""', "'''诊所'''", "反斜杠\\卫生院", "两行\n卫生院", "别的"]:
        for statuses in (["rural_dibao"], ["destitute"], [], None):
            for diagnoses in (["C16.900"], ["I10.x00"], ["J06.9"], [], None):
                context: dict[str, Any] = {
                    "person": {"insured_region": "430511", "statuses": statuses},
                    "encounter": {"date": "2022-01-01", "kind": "inpatient", "diagnoses": diagnoses,
                                  "institution": {"name": name, "region": "430511"}},
                }
                contexts.append(context)
    listed = 0
    for context in contexts:
        for engine in _engines():
            assert _plain(policy.evaluate(context, engine=engine), engine) == _plain(
                policy.evaluate(context, engine="reference"), "reference")
        answer = policy.evaluate(context)
        listed += answer.value("pay_later") is True
        assert answer.to_dict()["policy"]["document"] == policy.model.meta.document
    assert listed  # the hostile names are matched as names
    quotes = {c["quote"] for c in policy.evaluate(contexts[0]).to_dict()["outcomes"]["pay_later"]["citations"]}
    assert any("'); import os; ('" in quote for quote in quotes)


def test_compile_prints_the_generated_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(HOSTILE)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == policyrules.load_policy(HOSTILE).engine("compiled").source.strip()  # type: ignore[attr-defined]
    assert "def answer(context):" in out and "def evaluate(v):" in out


def test_compile_of_a_missing_policy_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    assert main(["compile", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


EXAMPLE = {"person": {"age": 40, "sex": "female", "residence": "rural", "statuses": ["rural_dibao"],
                      "insured_region": "430511"},
           "encounter": {"kind": "inpatient", "date": "2022-03-01", "diagnoses": ["C16.900"],
                         "institution": {"name": "陈家桥卫生院", "region": "430511"}}}


def test_policies_pickle_and_answer_alike_after() -> None:
    policies = policyrules.load_policies(POLICIES)
    policies.evaluate(EXAMPLE)
    again = pickle.loads(pickle.dumps(policies))
    assert [p.id for p in again] == [p.id for p in policies]
    assert again.evaluate(EXAMPLE).to_dict() == policies.evaluate(EXAMPLE).to_dict()
    one = pickle.loads(pickle.dumps(LOADED["beita_2021.yaml"]))
    assert one.evaluate(EXAMPLE).to_dict() == policies.evaluate(EXAMPLE).to_dict()
    assert one.engine("compiled").source == LOADED["beita_2021.yaml"].engine("compiled").source  # type: ignore[attr-defined]


_POOL_SET: policyrules.PolicySet | None = None


def _init(policies: policyrules.PolicySet) -> None:
    global _POOL_SET
    _POOL_SET = policies


def _answer(context: dict[str, Any]) -> dict[str, Any]:
    assert _POOL_SET is not None
    return _POOL_SET.evaluate(context).to_dict()


def test_a_process_pool_of_two_answers_alike() -> None:
    policies = policyrules.load_policies(POLICIES)
    contexts = []
    for age in range(0, 90, 3):
        context = copy.deepcopy(EXAMPLE)
        context["person"]["age"] = age
        contexts.append(context)
    with multiprocessing.get_context("spawn").Pool(2, initializer=_init, initargs=(policies,)) as pool:
        answers = pool.map(_answer, contexts, chunksize=5)
    assert answers == [policies.evaluate(c).to_dict() for c in contexts]
