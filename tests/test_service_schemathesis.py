"""schemathesis against the service's own OpenAPI, on a server started on 127.0.0.1 by the test:
property-based requests, every response valid against the document, never a server error.

One check is left out, `positive_data_acceptance`: the context schema cannot say which regions
and dates a policy covers, so a schema-valid context that no policy covers is answered 422 by
the CONTRACT (docs/http.md), not accepted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("uvicorn")

from policyrules.shipped import shipped_policies_dir  # noqa: E402

from .test_service_server import Server  # noqa: E402


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("schemathesis") / "policies"
    shutil.copytree(shipped_policies_dir(), folder, ignore=shutil.ignore_patterns("cases"))
    server = Server(folder, "--max-body", "200000")
    yield server
    server.stop()


def test_the_api_holds_to_its_openapi(running: Server, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", running.address + "/openapi.json",
         "--max-examples", "15", "--seed", "19", "--checks", "all",
         "--exclude-checks", "positive_data_acceptance", "--no-color"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path)  # its .schemathesis/ there
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
