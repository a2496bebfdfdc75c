"""GET /openapi.json: a valid OpenAPI 3.1 document built from the shipped JSON Schemas, and the
service's real answers valid against it."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient  # noqa: E402

from policyrules.service import create_app  # noqa: E402
from policyrules.service.openapi import SCHEMAS, component_schemas  # noqa: E402

from .conftest import ROOT  # noqa: E402

GUYANG = json.loads((ROOT / "examples" / "guyang_poor_inpatient.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    response = TestClient(create_app(enable_reload_endpoint=True)).get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    assert document["openapi"].startswith("3.1")
    validator.validate(document)
    assert "/admin/reload" in document["paths"]


def test_every_ref_resolves_and_no_defs_remain(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "#/$defs/" not in text and '"$id"' not in text
    schemas = document["components"]["schemas"]

    def refs(node: Any) -> Any:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_the_components_are_the_shipped_schemas(document: dict[str, Any]) -> None:
    shipped = json.loads((SCHEMAS / "context.schema.json").read_text(encoding="utf-8"))
    assert document["components"]["schemas"]["context"]["properties"].keys() == shipped["properties"].keys()
    answer = json.loads((SCHEMAS / "answer.schema.json").read_text(encoding="utf-8"))
    for name in answer["$defs"]:
        assert f"answer.{name}" in component_schemas()


def _validator(document: dict[str, Any], name: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource

    registry = Registry().with_resource("urn:api", Resource.from_contents(
        document | {"$schema": "https://json-schema.org/draft/2020-12/schema"}))
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$ref": f"urn:api#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_real_answers_are_valid_against_the_document(document: dict[str, Any]) -> None:
    client = TestClient(create_app())
    _validator(document, "answer").validate(client.post("/evaluate", json=GUYANG | {"id": "x"}).json())
    _validator(document, "explanation").validate(client.post("/explain", json=GUYANG).json())
    _validator(document, "answer.values_line").validate(client.post("/evaluate?values=1", json=GUYANG).json())
    batch = client.post("/evaluate", json=[GUYANG, {"person": 1}]).json()
    _validator(document, "answer.unanswered").validate(batch[1])
    problem = client.post("/evaluate", content=b"{").json()
    _validator(document, "problem").validate(problem)
    _validator(document, "policy").validate(client.get("/policies/guyang_2020").json())


def test_the_api_page_ships_in_the_package_and_loads_nothing_from_outside() -> None:
    import re

    response = TestClient(create_app()).get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'fetch("openapi.json")' in response.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", response.text)
