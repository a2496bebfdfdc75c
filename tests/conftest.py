"""Shared fixtures, and the hypothesis profile for CI (no deadline: a slow machine cannot fail a test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import policyrules

settings.register_profile(
    "ci", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def policy_set() -> policyrules.PolicySet:
    return policyrules.load_policies(POLICIES)


@pytest.fixture(scope="session")
def beita() -> policyrules.Policy:
    return policyrules.load_policy(POLICIES / "beita_2021.yaml")


@pytest.fixture(scope="session")
def spark() -> object:
    """The one SparkSession of the test run (local, two cores, no UI, Arrow on), stopped at the end."""
    pytest.importorskip("pyspark")
    import tempfile

    from pyspark.sql import SparkSession

    warehouse = tempfile.mkdtemp(prefix="policyrules-warehouse-")  # tables the tests save, not in the checkout
    session = (SparkSession.builder.master("local[2]").appName("policyrules tests")
               .config("spark.sql.warehouse.dir", warehouse)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
