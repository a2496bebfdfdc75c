"""pytest plugin: collects YAML case files, so that a project's test command runs every
region's cases, on every available engine.

Registered through the ``pytest11`` entry point of the package, and so active in every
project where policyrules is installed: it collects nothing unless the project opts in by
naming its case folders in its pytest configuration (paths relative to that file)::

    [tool.pytest.ini_options]
    policyrules_cases = ["policies/cases"]

Only ``*.yaml`` files under one of those folders are collected; a hospital's own
``tests/cases/*.yaml`` stay its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from .cases import Case, check_case, policies_dir_for, policy_for, read_case_file
from .policy import ENGINES, Policy, PolicySet, load_policies


INI_OPTION = "policyrules_cases"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_OPTION, type="paths", default=[],
                  help="folders of policyrules YAML case files to collect (none unless given)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".yaml":
        return None
    folders: list[Path] = parent.config.getini(INI_OPTION)
    if any(file_path.is_relative_to(folder) for folder in folders):
        return CaseFileCollector.from_parent(parent, path=file_path)
    return None


@lru_cache(maxsize=8)
def _policies(folder: Path) -> PolicySet:
    return load_policies(folder)


class CaseFileCollector(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        case_file = read_case_file(self.path)
        policy = policy_for(case_file, _policies(policies_dir_for(self.path)))
        for case in case_file.cases:
            for engine in ENGINES:
                yield CaseItem.from_parent(
                    self, name=f"{case.name}[{engine}]", case=case, policy=policy, engine=engine
                )


class CaseFailed(Exception):
    pass


class CaseItem(pytest.Item):
    def __init__(self, *, case: Case, policy: Policy, engine: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.policy = policy
        self.engine = engine

    def runtest(self) -> None:
        lines = check_case(self.case, self.policy, self.engine)
        if lines:
            raise CaseFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return (f"{self.case.path}:{self.case.line}: case '{self.case.name}' [{self.engine}]:\n"
                    + "\n".join(f"    {line}" for line in str(excinfo.value).splitlines()))
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"case: {self.case.name} [{self.engine}]"
