"""The table of the policy file format: every mapping, its required and its optional keys.

The loader checks files against it and `policyrules.schema` generates the JSON Schema from it,
so the two cannot drift apart. docs/policy-format.md describes the same keys for policy staff.
"""

from __future__ import annotations

__all__ = ["FINDING_KINDS", "SECTIONS", "SOURCE_KINDS"]

SOURCE_KINDS = ("notice", "government_document", "newspaper_report")

#: The kinds of finding of `policyrules analyze` (docs/policy-format.md §8.1): those about a rule
#: name it (``rule``), the others an outcome.
FINDING_KINDS = ("never_fires", "redundant", "list_gap", "silent_group")
RULE_FINDING_KINDS = ("never_fires", "redundant")


#: Every mapping of the format: section -> (required keys, optional keys). The loader checks
#: files against it and `policyrules.schema` generates the JSON Schema from it.
SECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "file": (("policy", "rules"), ("status_groups", "catalogs", "institution_lists", "not_encoded",
                                    "accepted_findings")),
    "policy": (
        ("id", "document", "title", "issuer", "regions", "effective_from", "seed"),
        ("issued", "effective_to", "source_kind", "inferred", "note"),
    ),
    "status_group": (("label", "statuses"), ("note",)),
    "catalog": (("label",), ("include", "entries", "more_not_given", "children", "note", "source")),
    "catalog_file": (
        ("catalog", "label", "entries"),
        ("source", "mapping_note", "children", "more_not_given", "note"),
    ),
    "source": (("document",), ("title", "date", "url", "note")),
    "children": (
        ("not_given", "certainly_child_below", "certainly_adult_from"),
        ("label", "note"),
    ),
    "entry": (
        ("id", "name", "icd10"),
        ("aliases", "together_with", "children_only", "added", "source", "note"),
    ),
    "institution_list": (("label", "members"), ("cite", "note")),
    "member": (("name",), ("aliases", "note")),
    "rule": (("id", "outcome", "when", "cite"), ("effect", "label", "value", "target_ratio", "note")),
    "cite": (("clause", "quote"), ("note", "document")),
    "not_encoded": (("clause", "reason"), ("quote",)),
    "accepted_finding": (("kind", "reason", "cite"), ("rule", "outcome")),
    "statuses_condition": (("any_of",), ()),
    "age_condition": ((), ("at_least", "at_most", "between", "above", "below")),
    "diagnoses_condition": (("any_in",), ()),
    "institution_condition": (("in",), ()),
}

