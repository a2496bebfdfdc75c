"""The shipped JSON Schemas: up to date, and they accept what the loader and validator accept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given

import policyrules
from policyrules import schema
from policyrules.testing import contexts

from .conftest import FIXTURES, POLICIES, ROOT


class _TextDates(yaml.SafeLoader):
    """What an editor's YAML extension sees: dates stay text."""


_TextDates.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(path: Path) -> Any:
    return yaml.load(path.read_text("utf-8"), Loader=_TextDates)  # noqa: S506 - a SafeLoader subclass


def test_shipped_schemas_are_up_to_date(tmp_path: Path) -> None:
    for fresh in schema.write_schemas(tmp_path):
        shipped = Path(schema.__file__).parent / "schemas" / fresh.name
        assert shipped.read_text("utf-8") == fresh.read_text("utf-8"), (
            f"{shipped} is stale: run `python -m policyrules.schema`"
        )


@pytest.mark.parametrize("name", sorted(p.name for p in POLICIES.glob("*.yaml")) + ["minimal.yaml"])
def test_policies_validate(name: str) -> None:
    path = POLICIES / name if (POLICIES / name).exists() else FIXTURES / "valid" / name
    jsonschema.Draft202012Validator(schema.policy_schema()).validate(_load(path))


@pytest.mark.parametrize("name", sorted(p.name for p in (POLICIES / "catalogs").glob("*.yaml")))
def test_catalogs_validate(name: str) -> None:
    jsonschema.Draft202012Validator(schema.catalog_schema()).validate(_load(POLICIES / "catalogs" / name))


@pytest.mark.parametrize(
    "name",
    ["unknown_key", "unknown_status", "unknown_outcome", "wrong_type", "bad_enum_value",
     "unknown_condition_field", "rule_without_citation", "fullwidth_key"],
)
def test_the_schema_flags_mistakes_an_editor_can_see(name: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema.policy_schema()).validate(_load(FIXTURES / "broken" / f"{name}.yaml"))


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").glob("*.json")))
def test_examples_validate(name: str) -> None:
    jsonschema.Draft202012Validator(schema.context_schema()).validate(
        json.loads((ROOT / "examples" / name).read_text("utf-8"))
    )


BEITA = policyrules.load_policy(POLICIES / "beita_2021.yaml")


@given(contexts(BEITA))
def test_generated_contexts_validate_against_the_context_schema(context: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema.context_schema()).validate(context)


@pytest.mark.parametrize(
    "context",
    [{"person": {"agee": 3}}, {"person": {"statuses": ["rich"]}}, {"encounter": {"kind": "ward"}},
     {"person": {"insured_region": 430511}}],
)
def test_context_schema_and_validator_agree_on_bad_contexts(context: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema.context_schema()).validate(context)
    with pytest.raises(policyrules.ContextError):
        BEITA.evaluate(context)
