"""The built wheel carries the policies: load_policies() works after a plain install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import POLICIES, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True, timeout=600, capture_output=True,
    )
    (built,) = out.glob("policyrules-*.whl")
    return built


def test_wheel_ships_policies_catalogs_sources_and_types(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for policy in POLICIES.glob("*.yaml"):
        assert f"policyrules/policies/{policy.name}" in names
    assert "policyrules/policies/catalogs/national_major_diseases_2020.yaml" in names
    assert any(n.startswith("policyrules/policies/sources/") for n in names)
    assert "policyrules/data/regions.yaml" in names
    assert "policyrules/py.typed" in names
    for template in ("policy.html", "index.html", "review.css"):  # policyrules render
        assert f"policyrules/review/templates/{template}" in names


def test_installed_wheel_loads_the_shipped_policies(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import policyrules, pathlib, sys;"
        f"assert pathlib.Path(policyrules.__file__).is_relative_to({str(site)!r}), policyrules.__file__;"
        "s = policyrules.load_policies();"
        "print(sorted(p.id for p in s))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    expected = sorted(p.stem for p in POLICIES.glob("*.yaml"))
    assert result.stdout.strip() == str(expected)
