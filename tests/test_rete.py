"""The Rete target: equal to the reference evaluator, and no caller can reach a durable_rules hazard.

The hazards are listed in shared/research/anchors.md §5. Anything that can spin or crash
inside durable's C code (where pytest-timeout cannot stop it: the C loop holds the GIL) runs
in a subprocess with a hard timeout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policyrules
from policyrules.engines import rete_compiler
from policyrules.engines import rete_runner as rete
from policyrules.testing import OPTIONAL_FIELDS, full_contexts, omit_fields

from .conftest import POLICIES, ROOT

pytestmark = pytest.mark.skipif(not rete.AVAILABLE, reason=rete.UNAVAILABLE_REASON)

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}
EXAMPLE = json.loads((ROOT / "examples" / "beita_destitute_inpatient.json").read_text("utf-8"))


def _same(a: policyrules.Determination, b: policyrules.Determination) -> bool:
    left, right = a.to_dict(), b.to_dict()
    assert left["policy"].pop("engine") == "rete" and right["policy"].pop("engine") == "compiled"
    return left == right


def run_python(code: str, timeout: int) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, killed after ``timeout`` seconds."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


# ---------------------------------------------------------------- the two targets agree


@pytest.mark.parametrize("name", POLICY_FILES)
def test_rete_and_reference_give_identical_answers(name: str) -> None:
    policy = LOADED[name]

    @given(full_contexts(policy), st.sets(st.sampled_from(OPTIONAL_FIELDS)))
    def check(flat: dict[str, Any], omitted: set[str]) -> None:
        context = omit_fields(flat, omitted)
        assert _same(policy.evaluate(context, engine="rete"), policy.evaluate(context))

    check()


def test_the_compiled_ruleset_is_single_fact_and_never_a_bare_negation() -> None:
    """No join (c.first/c.second can segfault), no negation-only rule (spins), no test of 'id'
    (hangs): every generated condition is one 'm' with the constant 'pr' in its $and."""
    for policy in LOADED.values():
        definition = policy.engine("rete").program.definition
        assert definition
        for rule in definition.values():
            (condition,) = rule["all"]
            assert list(condition) == ["m"]
            text = json.dumps(condition)
            assert '"id"' not in text and '"sid"' not in text and "$not" not in text
            m = condition["m"]
            assert m == {"pr": 1} or m["$and"][0] == {"pr": 1}


def test_a_construct_the_compiler_cannot_express_is_named_at_load() -> None:
    class Strange:
        span = "policies/x.yaml:3:4"

    with pytest.raises(policyrules.errors.UnsupportedConstructError, match="Strange .*policies/x.yaml:3:4"):
        rete_compiler._compile(Strange(), LOADED["beita_2021.yaml"].model)


# ---------------------------------------------------------------- hazards


def test_a_context_that_matches_no_outcome_rule_is_still_answered() -> None:
    """Everything unknown: no true/false rule matches; durable would raise 'not handled'."""
    policy = LOADED["beita_2021.yaml"]
    empty = {"person": {"insured_region": "430511"}, "encounter": {"date": "2022-01-01"}}
    answer = policy.evaluate(empty, engine="rete")
    assert [o.value for o in answer.outcomes.values()] == [None] * len(answer.outcomes)
    assert _same(answer, policy.evaluate(empty))


def test_the_same_context_twice_in_a_row() -> None:
    policy = LOADED["beita_2021.yaml"]
    first = policy.evaluate(EXAMPLE, engine="rete")
    second = policy.evaluate(EXAMPLE, engine="rete")
    assert first.to_dict() == second.to_dict()


def test_a_failure_inside_durable_is_raised_and_the_session_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    """durable swallows an exception raised in an action into the session state; here no
    Python action runs inside durable, and a failure of durable's own is raised, never read as
    an answer, and the session is reset so that the next evaluation is sound."""
    policy = LOADED["beita_2021.yaml"]
    real = rete._ENGINE

    class Failing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def complete_and_start_action(self, *args: Any) -> Any:
            raise real.error("simulated failure in the agenda")

    monkeypatch.setattr(rete, "_ENGINE", Failing())
    with pytest.raises(policyrules.ReteError, match="simulated failure"):
        policy.evaluate(EXAMPLE, engine="rete")
    monkeypatch.undo()
    for _ in range(rete.SESSION_POOL * 2):
        assert _same(policy.evaluate(EXAMPLE, engine="rete"), policy.evaluate(EXAMPLE))


def test_no_python_action_ever_runs_inside_durable() -> None:
    runner = rete.runner(LOADED["beita_2021.yaml"].engine("rete").program)
    ruleset = rete._host().get_ruleset(runner.program.name)
    assert all(action.root._func is rete._never_called for action in ruleset._actions.values())
    for _ in range(10):
        LOADED["beita_2021.yaml"].evaluate(EXAMPLE, engine="rete")  # _never_called would raise


def test_a_value_rete_leaves_unknown_but_the_reference_decides_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = LOADED["beita_2021.yaml"]
    runner = rete.runner(policy.engine("rete").program)
    decide = runner.decide
    monkeypatch.setattr(runner, "decide", lambda fired: {k: v for k, v in decide(fired).items() if k != "pay_later"})
    with pytest.raises(policyrules.ReteError, match="pay_later"):
        policy.evaluate(EXAMPLE, engine="rete")


def test_loading_one_policy_twice_and_an_edited_version_in_one_process(tmp_path: Path) -> None:
    """Ruleset names are global in durable and can never be removed."""
    import shutil

    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    first = policyrules.load_policy(folder / "beita_2021.yaml")
    again = policyrules.load_policy(folder / "beita_2021.yaml")
    assert first.evaluate(EXAMPLE, engine="rete").value("pay_later") is True
    assert again.evaluate(EXAMPLE, engine="rete").value("pay_later") is True
    path = folder / "beita_2021.yaml"
    path.write_text(path.read_text("utf-8").replace("      - name: 陈家桥卫生院\n        aliases: [陈家桥乡卫生院]\n", ""), "utf-8")
    edited = policyrules.load_policy(path)
    assert edited.model.sha256 != first.model.sha256
    assert edited.evaluate(EXAMPLE, engine="rete").value("pay_later") is False
    assert first.evaluate(EXAMPLE, engine="rete").value("pay_later") is True
    both = policyrules.load_policies(folder)  # the edited one, in a set
    assert both.evaluate(EXAMPLE, engine="rete").value("pay_later") is False


def test_no_background_dispatcher_runs_actions() -> None:
    """durable's host starts timer threads that run actions after assert_fact returns; ours does not."""
    policy = LOADED["beita_2021.yaml"]
    before = {t.name for t in threading.enumerate()}
    for _ in range(20):
        policy.evaluate(EXAMPLE, engine="rete")
    after = {t.name for t in threading.enumerate()}
    assert after <= before | {"MainThread"}


def test_eight_threads_give_the_same_answers_as_one() -> None:
    policy = LOADED["beita_2021.yaml"]
    contexts = [json.loads(line) for line in (ROOT / "examples" / "admissions.jsonl").read_text("utf-8").splitlines()]
    contexts = [c for c in contexts if c["person"].get("insured_region") == "430511"]
    expected = [policy.evaluate(c, engine="rete").to_dict() for c in contexts]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(100):
                for context, answer in zip(contexts, expected, strict=True):
                    assert policy.evaluate(context, engine="rete").to_dict() == answer
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)


def test_many_evaluations_in_a_row_and_at_once_in_a_subprocess() -> None:
    """More than 1024 sessions would raise MemoryError; 46,011 facts in one session a false
    'already observed'. 100,000 evaluations in a row through one session (never reset), then
    64 threads at once."""
    result = run_python(
        """
        import json, threading
        import policyrules
        from policyrules.engines import rete_runner as rete
        rete.SESSION_RESET = 10**9   # never reset, and one session: it sees every fact
        rete.SESSION_POOL = 1
        policy = policyrules.load_policy("policies/beita_2021.yaml")
        context = json.load(open("examples/beita_destitute_inpatient.json"))
        statuses = [[], ["destitute"], ["rural_dibao"], None]
        for i in range(100_000):
            context["person"]["statuses"] = statuses[i % 4]
            context["person"]["age"] = i % 100
            policy.evaluate(context, engine="rete")
        errors = []
        def work(n):
            try:
                local = json.loads(json.dumps(context))
                for i in range(200):
                    local["person"]["age"] = (n + i) % 100
                    policy.evaluate(local, engine="rete")
            except BaseException as error:
                errors.append(repr(error))
        threads = [threading.Thread(target=work, args=(n,)) for n in range(64)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print("ok", len(errors), errors[:1])
        """,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok 0 []"


def test_import_never_fails_where_durable_cannot_import() -> None:
    """Python >= 3.13: durable_rules' import fails (PyEval_CallObject); policyrules still imports,
    the reference engine answers, and asking for rete names the reason."""
    result = run_python(
        """
        import sys, json
        sys.modules["durable"] = None            # makes `import durable` fail, as on 3.13
        import policyrules
        from policyrules import EngineUnavailableError
        from policyrules.engines import rete_runner as rete
        assert rete.AVAILABLE is False and "durable" in rete.UNAVAILABLE_REASON
        policy = policyrules.load_policy("policies/beita_2021.yaml")
        context = json.load(open("examples/beita_destitute_inpatient.json"))
        assert policy.evaluate(context).value("pay_later") is True
        try:
            policy.evaluate(context, engine="rete")
        except EngineUnavailableError as error:
            print("unavailable:", error)
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "unavailable: durable_rules cannot be imported here" in result.stdout


def test_the_reproduced_hazards_are_real() -> None:
    """The wrapper is needed: raw durable_rules does raise on an unhandled fact and on a
    repeated one (shared/research/durable_rules/dr_exc.py), in a subprocess."""
    result = run_python(
        """
        from durable.lang import ruleset, when_all, m, assert_fact
        with ruleset("hazard_probe"):
            @when_all(m.x > 0)
            def a(c): pass
        out = []
        try:
            assert_fact("hazard_probe", {"y": 1})
        except Exception as e:
            out.append(type(e).__name__)
        assert_fact("hazard_probe", {"x": 1})
        try:
            assert_fact("hazard_probe", {"x": 1})
        except Exception as e:
            out.append(type(e).__name__)
        print(out)
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MessageNotHandledException" in result.stdout and "MessageObservedException" in result.stdout


def test_a_policy_the_compiler_cannot_express_is_a_load_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rete_compiler, "MAX_TERMS_PER_OUTCOME", 3)
    with pytest.raises(policyrules.PolicyLoadError) as caught:
        policyrules.load_policy(POLICIES / "beita_2021.yaml")
    (problem,) = caught.value.problems
    assert "needs" in problem.message and "durable rules" in problem.message and problem.line == 5


def _unseen_guyang(tmp_path: Path) -> policyrules.Policy:
    """固阳 with a content hash no earlier test used, so its ruleset is created anew."""
    import shutil

    folder = tmp_path / "p"
    shutil.copytree(POLICIES, folder)
    path = folder / "guyang_2020.yaml"
    path.write_text(path.read_text("utf-8") + f"\n# {tmp_path.name}: a new content hash\n", "utf-8")
    return policyrules.load_policy(path)


def test_a_refused_ruleset_creation_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """durable_rules now and then refuses (error 102) a ruleset it creates on the next try."""
    policy = _unseen_guyang(tmp_path)
    host = rete._host()
    real = host.set_rulesets
    refusals = {"left": 2}

    def flaky(definitions: Any) -> Any:
        if refusals["left"]:
            refusals["left"] -= 1
            raise rete._ENGINE.error("Could not create ruleset, error code: 102")
        return real(definitions)

    monkeypatch.setattr(host, "set_rulesets", flaky)
    before = len(rete.CREATE_FAILURES)
    context = {"person": {"insured_region": "150222", "statuses": ["registered_poor"]},
               "encounter": {"date": "2021-01-01", "kind": "inpatient"}}
    assert _same(policy.evaluate(context, engine="rete"), policy.evaluate(context))
    assert len(rete.CREATE_FAILURES) == before + 2


def test_a_ruleset_that_never_comes_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _unseen_guyang(tmp_path)

    def refuse(definitions: Any) -> Any:
        raise rete._ENGINE.error("Could not create ruleset, error code: 102")

    monkeypatch.setattr(rete._host(), "set_rulesets", refuse)
    with pytest.raises(policyrules.ReteError, match="could not create the ruleset"):
        policy.evaluate({"person": {"insured_region": "150222"}, "encounter": {"date": "2021-01-01"}},
                        engine="rete")


def test_a_wrong_value_from_rete_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rete decides, the reference evaluator checks: a ruleset that came out wrong gives no answer."""
    policy = LOADED["beita_2021.yaml"]
    runner = rete.runner(policy.engine("rete").program)
    decide = runner.decide

    def flipped(fired: list[str]) -> Any:
        found = decide(fired)
        value, deciders = found["pay_later"]
        found["pay_later"] = (not value, {"pay_later.low_income_in_county"})
        return found

    monkeypatch.setattr(runner, "decide", flipped)
    with pytest.raises(policyrules.ReteError, match="pay_later"):
        policy.evaluate(EXAMPLE, engine="rete")
