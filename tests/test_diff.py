"""The semantic diff of two versions of a policy: exact (every generated context whose answer
changes falls in a reported class of that transition, and no other does), every witness
differs as stated, the witnesses run as cases against NEW, and the CLI's exit codes."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import policyrules
from policyrules.cli import main
from policyrules.context import read_context
from policyrules.diff import ABSENT, PolicyDiff, diff_policies
from policyrules.errors import PolicyLoadError
from policyrules.space import ContextSpace
from policyrules.testing import contexts

from .conftest import POLICIES

POLICY_FILES = sorted(p.name for p in POLICIES.glob("*.yaml"))
LOADED = {name: policyrules.load_policy(POLICIES / name) for name in POLICY_FILES}
BEITA = POLICIES / "beita_2021.yaml"
WIDENED = "statuses: [rural_dibao, destitute, monitored, lifted_out_of_poverty]"


def _write(folder: Path, name: str, text: str) -> Path:
    """A policy file in ``folder``, next to the shipped catalogs and sources."""
    folder.mkdir(parents=True, exist_ok=True)
    for shared in ("catalogs", "sources"):
        if not (folder / shared).exists():
            (folder / shared).symlink_to(POLICIES / shared)
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def _widened(folder: Path) -> Path:
    text = BEITA.read_text("utf-8").replace("statuses: [rural_dibao, destitute, monitored]", WIDENED, 1)
    return _write(folder, "beita_2021.yaml", text)


def _answer(policy: policyrules.Policy, context: dict[str, Any], outcome: str) -> Any:
    if outcome not in policy.model.outcomes():
        return ABSENT
    value = policy.evaluate(context, engine="reference").value(outcome)
    return tuple(value) if isinstance(value, list) else value


def _check_witnesses(result: PolicyDiff) -> None:
    for outcome, changes in result.outcomes.items():
        assert changes
        for change in changes:
            assert change.before != change.after
            assert _answer(result.old, change.witness, outcome) == change.before, change.description
            assert _answer(result.new, change.witness, outcome) == change.after, change.description


def test_space_over_two_models_refines_both(tmp_path: Path) -> None:
    old, new = LOADED["beita_2021.yaml"], policyrules.load_policy(_widened(tmp_path))
    rules = old.model.grants("pay_later") + old.model.exceptions("pay_later")
    new_rules = new.model.grants("pay_later") + new.model.exceptions("pay_later")
    alone = ContextSpace(old.model, old.prepared.matcher, rules, "430511")
    both = ContextSpace(old.model, old.prepared.matcher, rules, "430511",
                        also=[(new.model, new.prepared.matcher, new_rules)])
    # the widened group parts 脱贫人口 from the statuses no rule names
    assert len(alone["person.statuses"].classes) == 3
    assert len(both["person.statuses"].classes) == 4
    assert both["person.statuses"].classify(frozenset({"lifted_out_of_poverty"})) != \
        both["person.statuses"].classify(frozenset())


def test_a_dropped_list_member_is_its_own_class(tmp_path: Path) -> None:
    text = BEITA.read_text("utf-8").replace("      - name: 田江街道社区卫生服务中心\n", "", 1)
    new = policyrules.load_policy(_write(tmp_path, "beita_2021.yaml", text))
    result = diff_policies(LOADED["beita_2021.yaml"], new)
    names = {c.witness["encounter"]["institution"]["name"] for c in result.outcomes["pay_later"]
             if c.before is True and c.after is False}
    assert names == {"田江街道社区卫生服务中心"}
    _check_witnesses(result)


def test_widening_beita_pay_later_back_to_all_lifted_out(tmp_path: Path) -> None:
    old, new = LOADED["beita_2021.yaml"], policyrules.load_policy(_widened(tmp_path))
    result = diff_policies(old, new)
    assert set(result.outcomes) == {"pay_later", "deposit_exempt"}
    transitions = {(c.before, c.after) for c in result.outcomes["pay_later"]}
    assert transitions == {(False, True), (False, None)}  # a no -> unknown is a new demand for data
    gain = next(c for c in result.outcomes["pay_later"] if c.after is True)
    assert "脱贫人口" in gain.description_zh and "住院" in gain.description_zh
    assert gain.witness["person"]["statuses"] == ["lifted_out_of_poverty"]
    assert [c.clause for c in gain.clauses] == ["三(一)2"]
    _check_witnesses(result)


def test_the_same_policy_has_no_diff() -> None:
    for policy in LOADED.values():
        assert diff_policies(policy, policy).equal


def test_cli_json_cases_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = _widened(tmp_path / "new")
    assert main(["diff", str(BEITA), str(BEITA)]) == 0
    capsys.readouterr()
    assert main(["diff", str(BEITA), str(new), "--json", "--cases", str(tmp_path / "cases")]) == 1
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"old", "new", "outcomes"}
    assert set(out["old"]) == {"id", "sha256"} and out["old"]["sha256"] != out["new"]["sha256"]
    for changes in out["outcomes"].values():
        for change in changes:
            assert set(change) == {"from", "to", "description", "clauses", "witness"}
            assert change["from"] in (True, False, None, ABSENT) or isinstance(change["from"], list)
    # the witnesses run as cases against NEW
    assert main(["test", str(tmp_path / "cases"), "--policies", str(tmp_path / "new")]) == 0
    assert "8 passed, 0 failed" in capsys.readouterr().out
    assert main(["diff", str(BEITA), str(tmp_path / "nowhere.yaml")]) == 2
    assert "nowhere.yaml" in capsys.readouterr().err


# ---------------------------------------------------------------- random edits of the YAML text


def _edits(text: str) -> list[tuple[str, str]]:
    """(description, edited text) for the edits this test makes of a policy's text."""
    out = []
    for match in re.finditer(r"^(    statuses: \[)([^\]]*)\]", text, re.M):
        items = [s.strip() for s in match.group(2).split(",")]
        if len(items) > 1:
            for drop in items:
                kept = ", ".join(s for s in items if s != drop)
                out.append((f"drop {drop}", text[:match.start(2)] + kept + text[match.end(2):]))
        for add in ("monitored", "lifted_out_of_poverty", "destitute"):
            if add not in items:
                out.append((f"add {add}", text[:match.end(2)] + f", {add}" + text[match.end(2):]))
    for match in re.finditer(r"^      - name: .*\n(        aliases: .*\n)?", text, re.M):
        out.append((f"remove {match.group(0).strip()}", text[:match.start()] + text[match.end():]))
    for match in re.finditer(r"(at_least|at_most): (\d+)|between: \[(\d+), (\d+)\]", text):
        for delta in (-3, 2):
            if match.group(1):
                value = max(0, int(match.group(2)) + delta)
                new = f"{match.group(1)}: {value}"
            else:
                low, high = int(match.group(3)), int(match.group(4)) + delta
                new = f"between: [{low}, {max(low, high)}]"
            out.append((f"age {new}", text[:match.start()] + new + text[match.end():]))
    return out


EDITS = {name: _edits((POLICIES / name).read_text("utf-8")) for name in POLICY_FILES}
_FOLDER = Path(tempfile.mkdtemp(prefix="policyrules-diff-"))
_EDITED: dict[tuple[str, int], tuple[policyrules.Policy, PolicyDiff] | None] = {}


def _edited(name: str, index: int) -> tuple[policyrules.Policy, PolicyDiff] | None:
    key = (name, index)
    if key not in _EDITED:
        _, text = EDITS[name][index]
        try:
            new = policyrules.load_policy(_write(_FOLDER / f"{Path(name).stem}_{index}", name, text))
        except PolicyLoadError:
            _EDITED[key] = None
        else:
            _EDITED[key] = (new, diff_policies(LOADED[name], new))
    return _EDITED[key]


def draw_edit(data: st.DataObject) -> tuple[str, str, policyrules.Policy, PolicyDiff]:
    """A shipped policy's file name, what a random edit of it does, the edited policy (one that
    still loads) and their diff: the draw every property over random edits starts with."""
    name = data.draw(st.sampled_from(POLICY_FILES), label="policy")
    index = data.draw(st.integers(0, len(EDITS[name]) - 1), label="edit")
    edited = _edited(name, index)
    assume(edited is not None)
    assert edited is not None
    return (name, EDITS[name][index][0], *edited)


def test_every_policy_has_edits() -> None:
    assert all(EDITS[name] for name in POLICY_FILES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_diff_is_exact_on_random_edits(data: st.DataObject) -> None:
    name, what, new, result = draw_edit(data)
    _check_witnesses(result)
    old = LOADED[name]
    region = result.spaces[next(iter(result.spaces))].insured_region
    outcomes = list(dict.fromkeys([*old.model.outcomes(), *new.model.outcomes()]))
    for _ in range(10):
        context = data.draw(contexts(old), label="context")
        person, encounter = context.setdefault("person", {}), context.get("encounter", {})
        institution = encounter.get("institution", {})
        if "region" in institution and institution["region"] == person.get("insured_region"):
            institution["region"] = region
        person["insured_region"] = region  # the diff's spaces are of OLD's witness county
        values = read_context(context).values
        for outcome in outcomes:
            before, after = _answer(old, context, outcome), _answer(new, context, outcome)
            change = result.change_of(outcome, values)
            if before == after:
                assert change is None, (what, outcome, context)
            else:
                assert change is not None, (what, outcome, context, before, after)
                assert (change.before, change.after) == (before, after), (what, outcome)


def test_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    path = _write(tmp_path, "beita_2021.yaml", BEITA.read_text("utf-8"))
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "beita_2021.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "as it was"], check=True)
    assert main(["diff", str(path), "--against", "HEAD"]) == 0
    capsys.readouterr()
    _widened(tmp_path)
    assert main(["diff", str(path), "--against", "HEAD", "--json"]) == 1
    assert set(json.loads(capsys.readouterr().out)["outcomes"]) == {"pay_later", "deposit_exempt"}
    assert main(["diff", str(path), "--against", "no-such-revision"]) == 2
    assert "no-such-revision" in capsys.readouterr().err
    assert main(["diff", str(path)]) == 2
