"""Loading: policy files and shared catalogs from YAML to the model, every mistake positioned.

The stages, each a module:

- `reader`: bytes -> positioned YAML nodes, safely (UTF-8 only, no tags, anchors or aliases,
  full-width punctuation and tabs named);
- `nodes`: `NodeReader`, the toolkit that checks a node's shape and type and collects bilingual
  problems (used for policies, catalogs and YAML test cases alike);
- `sections`: the table of the format's mappings and their keys (the JSON Schema is generated
  from it);
- `conditions`: ``when:`` -> condition nodes;
- `catalogs`: disease catalogs, and the library of shared ones behind a small loader interface;
- `quotes`: where a policy's source text is (beside the file, else shipped), whether a quote
  stands in it, and where it first differs from the nearest passage;
- `lint`: the warnings of a policy that loads (names its document does not print, repeated rules);
- `policy_file`: a policy file -> `PolicyModel` (`parse_policy`).
"""

from __future__ import annotations

from .catalogs import CatalogFolders, CatalogLibrary, CatalogSource, CatalogsInMemory, shipped_catalogs
from .nodes import NodeReader, to_python
from .policy_file import parse_policy
from .quotes import first_difference, first_missing_part, source_text, squeeze
from .reader import ReadResult, read_yaml
from .sections import SECTIONS, SOURCE_KINDS

__all__ = [
    "SECTIONS",
    "SOURCE_KINDS",
    "CatalogFolders",
    "CatalogLibrary",
    "CatalogSource",
    "CatalogsInMemory",
    "NodeReader",
    "ReadResult",
    "first_difference",
    "first_missing_part",
    "parse_policy",
    "read_yaml",
    "shipped_catalogs",
    "source_text",
    "squeeze",
    "to_python",
]
