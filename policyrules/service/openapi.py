"""The service's OpenAPI 3.1 document, built from the JSON Schemas shipped in
``policyrules/schemas/`` (one source of truth): each schema goes under ``components/schemas``
by its file's name (``context``, ``answer``, ``explanation``), each of its ``$defs`` beside it as
``<file>.<def>`` (``answer.error``, ``answer.unanswered``, …), and every internal ``$ref`` is
rewritten to point there. The problem schema (RFC 9457) is the service's own.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__

__all__ = ["PROBLEM_SCHEMA", "component_schemas", "openapi_document"]

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
#: The shipped schemas the API speaks, by component name.
SHIPPED = ("context", "answer", "explanation")
_REF = "#/components/schemas/"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "A problem (RFC 9457)",
    "description": "Every error answer: application/problem+json, with the error objects of the CONTRACT.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": _REF + "answer.error"}},
    },
    "required": ["type", "title", "status", "detail", "errors"],
}


def _rewrite(node: Any, name: str) -> Any:
    """``node`` with each ``#/$defs/x`` reference turned into ``#/components/schemas/name.x``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if value.startswith("#/$defs/"):
                    value = _REF + f"{name}.{value[len('#/$defs/'):]}"
                elif value == "#":
                    value = _REF + name
                else:
                    raise ValueError(f"{name}.schema.json: a $ref the service cannot place: {value}")
            out[key] = _rewrite(value, name)
        return out
    if isinstance(node, list):
        return [_rewrite(item, name) for item in node]
    return node


@lru_cache(maxsize=1)
def component_schemas() -> dict[str, Any]:
    """The shipped schemas and their ``$defs`` as OpenAPI components, plus ``problem``."""
    out: dict[str, Any] = {}
    for name in SHIPPED:
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
        defs = schema.pop("$defs", {})
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        out[name] = _rewrite(schema, name)
        for key, value in defs.items():
            out[f"{name}.{key}"] = _rewrite(value, name)
    out["problem"] = PROBLEM_SCHEMA
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _problems(*statuses: int) -> dict[str, Any]:
    said = {400: "the body is not JSON (or not UTF-8, or a key is given twice)",
            404: "no such policy id", 409: "the folder did not load; the old set still serves",
            413: "the body is over the server's --max-body",
            422: "a context error, or no policy covers the context (saying what is covered)",
            500: "an unexpected error (logged on the server; no traceback is sent)"}
    return {str(s): {"description": said[s], "content": {"application/problem+json": {"schema": _ref("problem")}}}
            for s in statuses}


_AUDIT = {
    "Policyrules-Version": {"description": "the policyrules package version", "schema": {"type": "string"}},
    "Policyrules-Generation": {"description": "which load of the policy folder answered (1, then one more per reload)",
                               "schema": {"type": "string"}},
    "Policyrules-Policy": {"description": "id@sha256 of the answering policy; for a batch each distinct one, "
                           "comma-separated", "schema": {"type": "string"}},
}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": description, "headers": _AUDIT, "content": {"application/json": {"schema": schema}}}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_POLICY_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "document": {"type": "string"}, "title": {"type": "string"},
        "issuer": {"type": "string"}, "regions": {"type": "array", "items": {"type": "string"}},
        "period": {"type": "object", "properties": {
            "effective_from": {"type": "string", "format": "date"},
            "effective_to": {"type": ["string", "null"], "format": "date"}},
            "required": ["effective_from", "effective_to"]},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "source_kind": {"type": "string"},
        "outcomes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["id", "document", "regions", "period", "sha256", "source_kind"],
}
_RULE: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "outcome": {"type": "string"},
                   "effect": {"enum": ["grant", "exception"]}, "label": {"type": "string"},
                   "citations": {"type": "array", "items": _ref("answer.citation")}},
    "required": ["id", "outcome", "effect", "citations"],
}


def openapi_document(enable_reload_endpoint: bool = False) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service (``GET /openapi.json``)."""
    components = copy.deepcopy(component_schemas())
    components["policy_summary"] = _POLICY_SUMMARY
    components["policy_rule"] = _RULE
    components["policy"] = {"allOf": [_ref("policy_summary"), {
        "type": "object", "properties": {"rules": {"type": "array", "items": _ref("policy_rule")}},
        "required": ["rules"]}]}
    batch_item = {"anyOf": [_ref("answer"), _ref("answer.unanswered")]}
    values_item = {"anyOf": [_ref("answer.values_line"), _ref("answer.unanswered")]}
    paths: dict[str, Any] = {
        "/health": {"get": {"operationId": "health", "summary": "the service is up",
                            "responses": _ok("up, with the generation loaded", {"type": "object"})}},
        "/policies": {"get": {"operationId": "listPolicies", "summary": "the loaded policies",
                              "responses": _ok("the loaded policies",
                                               {"type": "array", "items": _ref("policy_summary")})}},
        "/policies/{policy_id}": {"get": {
            "operationId": "getPolicy", "summary": "one policy's rules with their citations",
            "parameters": [{"name": "policy_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": _ok("the policy", _ref("policy")) | _problems(404)}},
        "/evaluate": {"post": {
            "operationId": "evaluate",
            "summary": "one context's answer, or a JSON array of contexts answered in order",
            "description": "A bad element of an array is answered in place with an unanswered object "
                           "(`line` is its 1-based position in the array). `values=1`: values lines; "
                           "another spelling of `values` is a 400.",
            "parameters": [{"name": "values", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}}],
            "requestBody": _json_body({"anyOf": [_ref("context"), {
                "type": "array", "items": {"description": "a context; any other element is answered in place "
                                                          "with an unanswered object, not refused"}}]}),
            "responses": _ok("the answer (or values line), or an array of them",
                             {"anyOf": [_ref("answer"), _ref("answer.values_line"),
                                        {"type": "array", "items": batch_item},
                                        {"type": "array", "items": values_item}]})
            | _problems(400, 413, 422, 500)}},
        "/explain": {"post": {
            "operationId": "explain", "summary": "the answer explained: each rule, why not, what to ask next",
            "requestBody": _json_body(_ref("context")),
            "responses": _ok("the explanation", _ref("explanation")) | _problems(400, 413, 422, 500)}},
        "/docs": {"get": {"operationId": "apiPage", "summary": "the API page (this document, readable; no external assets)",
                          "responses": {"200": {"description": "an HTML page",
                                                "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "this document",
                                  "responses": _ok("OpenAPI 3.1", {"type": "object"})}},
    }
    if enable_reload_endpoint:
        paths["/admin/reload"] = {"post": {
            "operationId": "reload", "summary": "load the policy folder anew (a bad edit keeps the old set)",
            "responses": _ok("reloaded", {"type": "object"}) | _problems(409)}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "policyrules", "version": __version__,
                 "description": "Chinese regional health-policy notices as cited, three-valued rule sets "
                                "(docs/http.md, docs/contract.md)."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": components},
    }
