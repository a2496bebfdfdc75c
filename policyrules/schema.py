"""JSON Schemas generated from the format and the CONTRACT's vocabulary.

``policy_schema()`` describes a policy file (an editor such as VS Code with the YAML
extension flags mistakes while typing: see docs/policy-format.md); ``context_schema()``
describes a context, for hospital integrators. Both are generated from the same tables the
loader and the context validator use (`policyrules.loading.sections.SECTIONS`, the field
objects of `policyrules.vocabulary.CONTEXT_FIELDS`), and shipped as ``policyrules/schemas/*.schema.json``; a test
checks that the shipped files are up to date. The loader checks more than a schema can
(references, ICD-10 codes, quotes, dates that exist): the schema is the editor's first line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .fields import Choice, Diagnoses, FieldKind, Flag, InstitutionName, RecordId, Statuses, WholeYears, nest
from .determination import SCHEMA_VERSION
from .loading.sections import FINDING_KINDS, SECTIONS, SOURCE_KINDS
from .vocabulary import CONTEXT_FIELDS, LIST_OUTCOMES, OUTCOMES, STATUSES

__all__ = ["answer_schema", "catalog_schema", "context_schema", "explanation_schema", "policy_schema",
           "write_schemas"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_TEXT = {"type": "string", "minLength": 1}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}
_CODE = {"type": "string", "pattern": r"^[A-Z][0-9]{2}(\.[0-9])?(-[A-Z][0-9]{2})?$"}
_REGION = {"type": ["string", "integer"], "pattern": r"^[1-9][0-9]{5}$"}


def _object(section: str, properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    required, optional = SECTIONS[section]
    keys = (*required, *optional)
    missing = set(keys) - set(properties)
    assert not missing, f"schema for {section} lacks {missing}"
    out: dict[str, Any] = {
        "type": "object",
        "properties": {key: properties[key] for key in keys},
        "required": list(required),
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


def _list(item: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": min_items}


def _single(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: value, "note": _TEXT},
        "required": [key],
        "additionalProperties": False,
    }


def _condition_schema() -> dict[str, Any]:
    forms: list[dict[str, Any]] = [
        _single("all", _list({"$ref": "#/$defs/condition"}, 1)),
        _single("any", _list({"$ref": "#/$defs/condition"}, 1)),
        _single("not", {"$ref": "#/$defs/condition"}),
        _single("in_county", {"type": "boolean"}),
        _single("not_given", _TEXT),
    ]
    for field in CONTEXT_FIELDS.values():
        value = _condition_value(field.kind, field.path)
        if value is not None:  # None: not testable by a rule (dates, regions, free text)
            forms.append(_single(field.path, value))
    return {"oneOf": forms}


def _condition_value(kind: FieldKind, field: str) -> dict[str, Any] | None:
    """The schema of a condition's value on a field of ``kind`` (as the loader reads it)."""
    age = {"type": "integer", "minimum": 0, "maximum": 150}
    if isinstance(kind, Statuses):
        return _object("statuses_condition", {"any_of": {"oneOf": [_ID, _list({"enum": list(STATUSES)}, 1)]}})
    if isinstance(kind, WholeYears):
        return _object("age_condition", {
            "at_least": age, "at_most": age, "above": age, "below": age,
            "between": {"type": "array", "items": age, "minItems": 2, "maxItems": 2},
        }) | {"minProperties": 1}
    if isinstance(kind, Diagnoses):
        return _object("diagnoses_condition", {"any_in": _ID})
    if isinstance(kind, InstitutionName):
        return _object("institution_condition", {"in": _ID})
    if isinstance(kind, Choice):
        return {"oneOf": [{"enum": list(kind.vocabulary)}, _list({"enum": list(kind.vocabulary)}, 1)]}
    if isinstance(kind, Flag):
        return {"type": "boolean"}
    return None


def _citation() -> dict[str, Any]:
    return _object("cite", {"clause": _TEXT, "quote": _TEXT, "note": _TEXT, "document": _TEXT})


def _entries() -> dict[str, Any]:
    return _list(
        _object("entry", {
            "id": _ID, "name": _TEXT, "aliases": _list(_TEXT), "icd10": _list(_CODE, 1),
            "together_with": _list(_CODE, 1), "children_only": {"type": "boolean"},
            "added": {"type": ["integer", "string"]}, "source": _TEXT, "note": _TEXT,
        }),
        1,
    )


def _children() -> dict[str, Any]:
    age = {"type": "integer", "minimum": 0, "maximum": 30}
    return _object("children", {
        "not_given": _TEXT, "certainly_child_below": age, "certainly_adult_from": age,
        "label": _TEXT, "note": _TEXT,
    })


def _source() -> dict[str, Any]:
    return {"oneOf": [_TEXT, _object("source", {
        "document": _TEXT, "title": _TEXT, "date": {"type": "string"}, "url": _TEXT, "note": _TEXT,
    })]}


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file."""
    rule = _object("rule", {
        "id": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"},
        "outcome": {"enum": list(OUTCOMES)},
        "effect": {"enum": ["grant", "exception"]},
        "label": _TEXT,
        "when": {"oneOf": [_list({"$ref": "#/$defs/condition"}, 1), {"$ref": "#/$defs/condition"}]},
        "cite": {"oneOf": [_citation(), _list(_citation(), 1)]},
        "value": _list({"enum": sorted({c for codes in LIST_OUTCOMES.values() for c in codes})}, 1),
        "target_ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "note": _TEXT,
    })
    policy = _object("policy", {
        "id": _ID, "document": _TEXT, "title": _TEXT, "issuer": _TEXT, "issued": _DATE,
        "regions": _list(_REGION, 1), "effective_from": _DATE,
        "effective_to": {"oneOf": [_DATE, {"type": "null"}]},
        "seed": _TEXT, "source_kind": {"enum": list(SOURCE_KINDS)}, "inferred": _list(_TEXT),
        "note": _TEXT,
    })
    def named(item: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "propertyNames": _ID, "additionalProperties": item}

    file = _object("file", {
        "policy": policy,
        "status_groups": named(_object("status_group", {
            "label": _TEXT, "statuses": _list({"enum": list(STATUSES)}, 1), "note": _TEXT,
        })),
        "catalogs": named(_object("catalog", {
            "label": _TEXT, "include": _list(_ID), "entries": _entries(), "more_not_given": _TEXT,
            "children": _children(), "note": _TEXT, "source": _source(),
        })),
        "institution_lists": named(_object("institution_list", {
            "label": _TEXT, "cite": {"oneOf": [_citation(), _list(_citation(), 1)]}, "note": _TEXT,
            "members": _list(_object("member", {"name": _TEXT, "aliases": _list(_TEXT), "note": _TEXT}), 1),
        })),
        "rules": _list(rule, 1),
        "not_encoded": _list(_object("not_encoded", {"clause": _TEXT, "reason": _TEXT, "quote": _TEXT})),
        "accepted_findings": _list(_object("accepted_finding", {
            "kind": {"enum": list(FINDING_KINDS)}, "rule": _TEXT, "outcome": {"enum": list(OUTCOMES)},
            "reason": _TEXT, "cite": _citation(),
        })),
    })
    return {
        "$schema": _DRAFT,
        "$id": "https://policyrules.invalid/schemas/policy.schema.json",
        "title": "policyrules policy file",
        "description": "One health-policy notice as a rule set (docs/policy-format.md).",
        "$defs": {"condition": _condition_schema()},
    } | file


def catalog_schema() -> dict[str, Any]:
    """The JSON Schema of a shared catalog file (policies/catalogs/*.yaml)."""
    return {
        "$schema": _DRAFT,
        "$id": "https://policyrules.invalid/schemas/catalog.schema.json",
        "title": "policyrules shared disease catalog",
    } | _object("catalog_file", {
        "catalog": _ID, "label": _TEXT, "entries": _entries(), "source": _source(),
        "mapping_note": _TEXT, "children": _children(), "more_not_given": _TEXT, "note": _TEXT,
    })


def context_schema() -> dict[str, Any]:
    """The JSON Schema of an evaluation context (docs/contract.md)."""
    tree = nest({path: {"oneOf": [field.kind.schema(), {"type": "null"}]} for path, field in CONTEXT_FIELDS.items()})

    def to_schema(node: dict[str, Any]) -> dict[str, Any]:
        properties = {
            key: value if "oneOf" in value else {"oneOf": [to_schema(value), {"type": "null"}]}
            for key, value in node.items()
        }
        return {"type": "object", "properties": properties, "additionalProperties": False}

    body = to_schema(tree)
    body["properties"] = {"id": {"oneOf": [*RecordId().schema()["oneOf"], {"type": "null"}],
                                 "description": "the record id, echoed first in the answer, never evaluated"}
                          } | body["properties"]
    return {
        "$schema": _DRAFT,
        "$id": "https://policyrules.invalid/schemas/context.schema.json",
        "title": "policyrules evaluation context",
        "description": "Every field is optional; absent or null is unknown (docs/contract.md).",
    } | body


def _value(outcome: str) -> dict[str, Any]:
    if outcome in LIST_OUTCOMES:
        return {"oneOf": [_list({"enum": list(LIST_OUTCOMES[outcome])}), {"type": "null"}]}
    return {"type": ["boolean", "null"]}


def _closed(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object of exactly ``properties``, each required but those named ``optional``."""
    return {"type": "object", "properties": properties,
            "required": [k for k in properties if k not in optional], "additionalProperties": False}


def answer_schema() -> dict[str, Any]:
    """The JSON Schema of an answer (``Determination.to_dict()``, CONTRACT "Entry points"), with
    the shapes every path shares under ``$defs`` (CONTRACT "Shapes"): ``answer_line`` (a JSON Lines
    answer), ``values_line`` (``--values``), ``error`` (the error object) and ``unanswered``."""
    record_id = RecordId().schema()
    day = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    citation = _closed({"document": _TEXT, "clause": _TEXT, "quote": _TEXT, "note": _TEXT}, ("note",))
    strings = _list({"type": "string"})

    def outcome(name: str) -> dict[str, Any]:
        return _closed({
            "value": _value(name), "rules": strings, "citations": _list({"$ref": "#/$defs/citation"}),
            "missing": strings, "not_given": strings, "target_ratio": {"type": "number", "minimum": 0, "maximum": 1},
        }, ("target_ratio",))

    policy = _closed({
        "id": _ID, "document": _TEXT, "regions": _list({"type": "string", "pattern": r"^[0-9]{6}$"}, 1),
        "effective_from": day, "effective_to": {"oneOf": [day, {"type": "null"}]},
        "sha256": {"type": "string", "pattern": r"^[0-9a-f]{64}$"}, "date_used": day,
        "date_source": {"enum": ["encounter.date", "evaluation day"]}, "engine": _TEXT,
        "source_kind": {"enum": list(SOURCE_KINDS)}, "inferred": strings,
    })
    # open here (no additionalProperties), closed by unevaluatedProperties where it is used, so
    # that a JSON Lines answer may add its "line"
    answer = {"type": "object", "properties": {
        "id": record_id, "schema_version": {"const": SCHEMA_VERSION}, "policy": policy,
        "outcomes": {"type": "object", "properties": {name: outcome(name) for name in OUTCOMES},
                     "additionalProperties": False},
    }, "required": ["schema_version", "policy", "outcomes"]}
    line = {"type": "integer", "minimum": 1}
    error = {
        "type": "object",
        "properties": {"field": {"type": ["string", "null"]}, "message": _TEXT,
                       "suggestion": {"type": "string"}, "column": line},
        "required": ["field", "message", "suggestion"],
        "additionalProperties": False,
        "if": {"properties": {"field": {"type": "null"}}},
        "then": {"required": ["column"]},
        "else": {"not": {"required": ["column"]}},
    }
    errors = _list({"$ref": "#/$defs/error"}, 1)
    unanswered = {"oneOf": [_closed({"line": line, "id": record_id, "errors": errors}, ("id",)),
                            _closed({"row": line, "id": record_id, "errors": errors}, ("id",))]}
    values = _closed({
        "line": line, "id": record_id, "policy": _ID, "date_used": day,
        "values": {"type": "object", "properties": {name: _value(name) for name in OUTCOMES},
                   "additionalProperties": False},
    }, ("line", "id"))
    answer_line = {"$ref": "#/$defs/answer", "properties": {"line": line}, "required": ["line"],
                   "unevaluatedProperties": False}
    body = {"$ref": "#/$defs/answer", "unevaluatedProperties": False, "$defs": {
        "answer": answer, "citation": citation, "error": error, "unanswered": unanswered,
        "values_line": values, "answer_line": answer_line,
    }}
    return {
        "$schema": _DRAFT,
        "$id": "https://policyrules.invalid/schemas/answer.schema.json",
        "title": "policyrules answer",
        "description": "Determination.to_dict() (docs/contract.md); $defs: the shapes every path shares.",
    } | body


def explanation_schema() -> dict[str, Any]:
    """The JSON Schema of an explanation (``policyrules explain --json``, `Explanation.to_dict`;
    docs/contract.md, "Explanations")."""
    text = {"type": "string"}
    truth = {"type": ["boolean", "null"]}
    fields = {"enum": list(CONTEXT_FIELDS)}
    list_value = _list({"enum": sorted({c for codes in LIST_OUTCOMES.values() for c in codes})})
    value = {"oneOf": [{"type": ["boolean", "null"]}, list_value]}
    any_value: dict[str, Any] = {}  # a CONTRACT value of the field named beside it
    citation = _closed({"document": text, "clause": text, "quote": text, "note": text}, ("note",))
    condition = _closed({
        "kind": {"enum": ["all", "any", "not", "field", "statuses", "age", "diagnoses", "institution",
                          "in_county", "not_given"]},
        "truth": truth, "zh": text, "en": text, "decides": {"type": "boolean"},
        "read": _list(_closed({"field": fields, "value": any_value})),
        "items": _list({"$ref": "#/$defs/condition"}, 1),
    }, ("read", "items"))
    rule = _closed({
        "id": text, "effect": {"enum": ["grant", "exception"]}, "label": text, "note": text, "truth": truth,
        "decides": {"type": "boolean"}, "citations": _list(citation),
        "decided_by": {"oneOf": [_closed({"zh": text, "en": text}), {"type": "null"}]},
        "condition": {"$ref": "#/$defs/condition"},
    })
    change = _closed({"field": fields, "value": any_value, "any_of": _list(any_value, 1), "clause": text,
                      "quote": text, "zh": text, "en": text})
    why_not = _closed({"changes": _list(change, 1), "gives": {"const": True}})
    answer = _closed({"value": any_value, "gives": value, "zh": text, "en": text})
    outcome = _closed({
        "value": value, "rules": _list(text), "citations": _list(citation), "missing": _list(fields),
        "not_given": _list(text), "target_ratio": {"type": "number"},
        "trace": _closed({"rules": _list(rule), "exception": {"type": ["string", "null"]},
                          "not_given": _list(text)}),
        "why_not": {"oneOf": [_list(why_not), {"type": "null"}]},
        "ask_next": _list(_closed({"field": fields, "answers": _list(answer, 1)})),
    }, ("target_ratio",))
    policy = _closed({
        "id": text, "document": text, "regions": _list(text, 1), "effective_from": _DATE,
        "effective_to": {"oneOf": [_DATE, {"type": "null"}]}, "sha256": text, "date_used": _DATE,
        "date_source": {"enum": ["encounter.date", "evaluation day"]}, "engine": text,
        "source_kind": text, "inferred": _list(text),
    })
    top = _closed({
        "id": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 128}, {"type": "integer"}]}, "schema_version": {"const": "1"}, "policy": policy,
        "outcomes": {"type": "object", "propertyNames": {"enum": list(OUTCOMES)}, "additionalProperties": outcome},
    }, ("id",))
    return {
        "$schema": _DRAFT,
        "$id": "https://policyrules.invalid/schemas/explanation.schema.json",
        "title": "policyrules explanation",
        "description": "An answer with, per outcome, its trace, why_not and ask_next (docs/contract.md, Explanations).",
        "$defs": {"condition": condition},
    } | top


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    """Write the schemas as JSON files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in (("policy", policy_schema()), ("catalog", catalog_schema()),
                         ("context", context_schema()), ("answer", answer_schema()),
                         ("explanation", explanation_schema())):
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", "utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m policyrules.schema: regenerate the shipped files
    for path in write_schemas():
        print(path)
