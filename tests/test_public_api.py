"""The public surface: what __init__ exports, that it is typed, and that the package type-checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

import policyrules

from .conftest import ROOT


def test_public_names() -> None:
    public = {name for name in dir(policyrules) if name.isidentifier() and not name.startswith("_")} - {
        # submodules, importable by name but not re-exported API
        "cases", "cli", "context", "coverage", "determination", "engines", "errors", "fields", "icd10", "jsonlines", "loading", "model",
        "policy", "regions", "schema", "shipped", "sql", "suggest", "testing", "vocabulary", "pytest_plugin",
        "review", "words", "households", "service",
        "space", "explain", "explain_text", "diff", "analyze", "impact", "impact_sql", "changes_cli", "roster_cli",
        "context_fast", "serialise", "evaluate_cli",
    }
    assert public == set(policyrules.__all__)
    for name in ("load_policy", "load_policies", "Policy", "PolicySet", "Determination", "Outcome",
                 "PolicyLoadError", "ContextError", "NoPolicyError", "EngineUnavailableError"):
        assert name in policyrules.__all__
    assert issubclass(policyrules.PolicyLoadError, ValueError)
    assert issubclass(policyrules.ContextError, ValueError)
    assert issubclass(policyrules.NoPolicyError, LookupError)


def test_the_package_type_checks() -> None:
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_code_passes_the_linter() -> None:
    pytest.importorskip("ruff")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "policyrules", "tests", "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
