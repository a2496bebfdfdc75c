"""Issue 10 item 6: random edits of the shipped files never crash the loader.

Each edit is what a slip of an editor does to a line: dropped, doubled, swapped with the next,
re-indented, cut short, its value replaced. Seeded, so a failure names the edit that made it;
bounded (a few hundred edits of small files), so it runs in seconds. Every edit must load or raise
`PolicyLoadError` (positioned problems); any other exception is a crash.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml

import policyrules
from policyrules import PolicyLoadError

from .conftest import POLICIES

EDITS_PER_FILE = 50
FILES = sorted(POLICIES.glob("*.yaml")) + sorted((POLICIES / "catalogs").glob("*.yaml"))
VALUES = ["", "x", "null", "[]", "{}", "- a", "1", "-3", "2021-02-30", "true", "'430511'", "[rural_dibao, x]",
          "{in: nothing}", "C16.900", "\"a: b\"", "{any_of: []}"]


def _edit(lines: list[str], rng: random.Random) -> tuple[str, list[str]]:
    lines = list(lines)
    at = rng.randrange(len(lines))
    kind = rng.choice(["drop", "double", "swap", "indent", "dedent", "cut", "value", "drop_key"])
    if kind == "drop":
        del lines[at]
    elif kind == "double":
        lines.insert(at, lines[at])
    elif kind == "swap" and at + 1 < len(lines):
        lines[at], lines[at + 1] = lines[at + 1], lines[at]
    elif kind == "indent":
        lines[at] = "  " + lines[at]
    elif kind == "dedent":
        lines[at] = lines[at][2:] if lines[at].startswith("  ") else lines[at]
    elif kind == "cut":
        lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
    elif kind in ("value", "drop_key"):
        keyed = [i for i, line in enumerate(lines) if ": " in line or line.rstrip().endswith(":")]
        at = rng.choice(keyed)
        if kind == "drop_key":  # a required key left out, whatever block it is in
            del lines[at]
        else:
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {rng.choice(VALUES)}"
    return f"{kind} at line {at + 1}", lines


@pytest.mark.parametrize("original", FILES, ids=[p.stem for p in FILES])
def test_random_edits_never_crash_the_loader(tmp_path: Path, original: Path) -> None:
    rng = random.Random(f"issue10-{original.name}")
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / "catalogs", root / "catalogs")
    shutil.copytree(POLICIES / "sources", root / "sources")
    is_catalog = original.parent.name == "catalogs"
    target = root / "catalogs" / original.name if is_catalog else root / original.name
    policy = root / ("beita_2021.yaml" if is_catalog else original.name)
    if is_catalog:
        shutil.copy(POLICIES / "beita_2021.yaml", policy)
    lines = original.read_text("utf-8").splitlines(keepends=False)
    for number in range(EDITS_PER_FILE):
        what, edited = _edit(lines, rng)
        target.write_text("\n".join(edited) + "\n", "utf-8")
        try:
            policyrules.load_policy(policy)
        except PolicyLoadError as error:
            assert error.problems, what
            for problem in error.problems:
                assert problem.line >= 1 and problem.column >= 1, (what, problem)
        except Exception as error:  # noqa: BLE001 - a crash is what this test looks for
            pytest.fail(f"{original.name}, edit {number} ({what}): {type(error).__name__}: {error}")


def _key_spans(text: str) -> list[tuple[str, int, int]]:
    """(block path, first line, line after the end) of every key of ``text``, once per block path
    and key (list positions aside), so each key of each kind of block is left out once."""
    seen: dict[str, tuple[str, int, int]] = {}
    stack: list[tuple[yaml.Node, str]] = [(yaml.compose(text), "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                where = f"{path}.{key.value}"
                end = value.end_mark.line + (1 if value.end_mark.column else 0)
                seen.setdefault(where, (where, key.start_mark.line, max(end, key.start_mark.line + 1)))
                stack.append((value, where))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, path + "[]") for item in node.value)
    return sorted(seen.values(), key=lambda s: s[1])


@pytest.mark.parametrize("original", FILES, ids=[p.stem for p in FILES])
def test_every_key_left_out_is_a_positioned_problem_or_fine(tmp_path: Path, original: Path) -> None:
    """Each key (of the policy block, status groups, catalogs and their entries, lists and their
    members, rules, citations …) left out once: never a crash (the KeyError 'id', 'label', 'name',
    'icd10' of issue 10), and a missing required key is named at its block."""
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / "catalogs", root / "catalogs")
    shutil.copytree(POLICIES / "sources", root / "sources")
    is_catalog = original.parent.name == "catalogs"
    target = root / "catalogs" / original.name if is_catalog else root / original.name
    policy = root / ("beita_2021.yaml" if is_catalog else original.name)
    if is_catalog:
        shutil.copy(POLICIES / "beita_2021.yaml", policy)
    text = original.read_text("utf-8")
    lines = text.splitlines(keepends=True)
    named = 0
    for where, start, end in _key_spans(text):
        target.write_text("".join(lines[:start] + lines[end:]), "utf-8")
        try:
            policyrules.load_policy(policy)
        except PolicyLoadError as error:
            named += any("missing the required key" in p.message for p in error.problems)
        except Exception as error:  # noqa: BLE001 - a crash is what this test looks for
            pytest.fail(f"{original.name} without {where} (lines {start + 1}-{end}): {type(error).__name__}: {error}")
    assert named, "some key of every file is required"


CASE_FILES = sorted((POLICIES / "cases").glob("*/*.yaml"))[::4]


@pytest.mark.parametrize("original", CASE_FILES, ids=[f"{p.parent.name}-{p.stem}" for p in CASE_FILES])
def test_random_edits_of_a_case_file_never_crash_its_reader(tmp_path: Path, original: Path) -> None:
    from policyrules.cases import read_case_file, run_cases

    policy = policyrules.load_policy(POLICIES / f"{original.parent.name}.yaml")
    rng = random.Random(f"issue10-{original.parent.name}-{original.name}")
    lines = original.read_text("utf-8").splitlines()
    target = tmp_path / original.name
    for number in range(EDITS_PER_FILE):
        what, edited = _edit(lines, rng)
        target.write_text("\n".join(edited) + "\n", "utf-8")
        try:
            run_cases(read_case_file(target), policy)
        except PolicyLoadError as error:
            assert error.problems, what
        except Exception as error:  # noqa: BLE001 - a crash is what this test looks for
            pytest.fail(f"{original.name}, edit {number} ({what}): {type(error).__name__}: {error}")
