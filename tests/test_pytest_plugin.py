"""The pytest plugin is installed with the package: it must leave other projects' pytest alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

HOSPITAL_FLOW = """\
# the hospital's own admission flow, not a policyrules case file
steps:
  - register
  - triage
"""


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=folder, capture_output=True, text=True, timeout=240)


def test_another_projects_yaml_under_cases_is_not_collected(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n", "utf-8")
    (tmp_path / "tests" / "cases").mkdir(parents=True)
    (tmp_path / "tests" / "cases" / "admission_flow.yaml").write_text(HOSPITAL_FLOW, "utf-8")
    (tmp_path / "tests" / "test_admission.py").write_text("def test_flow():\n    assert True\n", "utf-8")
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_this_repository_opts_in_and_its_cases_run() -> None:
    result = _pytest(ROOT, "--collect-only", "policies/cases/beita_2021/pay_later_worked_example.yaml")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "[reference]" in result.stdout
