"""The shape of the house (docs/architecture.md): small modules, no circle among the package's
imports, engines as siblings, and a CLI that runs without the test tools."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "policyrules"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {_name(path): path for path in MODULES}


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports at its top level (imports inside functions are lazy
    on purpose and left out); ``from . import x`` counts as an import of the module ``x``."""
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in NAMES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in NAMES else base)
    return {name for name in found if name in NAMES and name != module}


GRAPH = {name: _imports(path) for name, path in NAMES.items()}


def test_no_module_is_longer_than_about_600_lines() -> None:
    long = {name: n for name, path in NAMES.items() if (n := len(path.read_text("utf-8").splitlines())) > 620}
    assert not long, long


def test_no_circle_among_the_package_imports() -> None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        for target in sorted(GRAPH[name]):
            visit(target, path + [name])
        done.add(name)

    for name in sorted(GRAPH):
        visit(name, [])


def _reaches(start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for target in GRAPH[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def test_the_engines_are_siblings() -> None:
    """The Rete engine imports nothing of the reference engine; the loader imports no engine."""
    for rete in ("policyrules.engines.rete", "policyrules.engines.rete_compiler", "policyrules.engines.rete_runner"):
        assert "policyrules.engines.reference" not in _reaches(rete), rete
    for module in (name for name in NAMES if name.startswith("policyrules.loading")):
        assert not any(target.startswith("policyrules.engines") for target in _reaches(module)), module


def test_the_cli_needs_neither_pytest_nor_hypothesis() -> None:
    """`policyrules test` runs where pytest is not installed (a user's machine): the CLI never
    imports the pytest plugin or the hypothesis strategies."""
    code = (
        "import sys; sys.modules['pytest'] = None; sys.modules['hypothesis'] = None\n"
        "from policyrules.cli import main\n"
        "sys.exit(main(['test', 'policies/cases/beita_2021/pay_later.yaml']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    assert "0 failed" in result.stdout
