"""Disease catalogs: reading them (a policy's own, or shared ``catalogs/*.yaml`` files) and the
library that finds shared catalogs by name.

Where shared catalogs come from is behind a small interface, `CatalogSource`: `CatalogFolders`
reads folders (a policy folder's own ``catalogs/`` first, then the shipped ones), and
`CatalogsInMemory` serves texts a test or a server holds; `CatalogLibrary` reads each catalog
once, through either, and keeps the problems found with the catalog file's own path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from yaml.nodes import MappingNode, Node, ScalarNode

from .. import icd10
from ..errors import Problem
from ..model import Catalog, CatalogEntry, ChildAge
from ..shipped import shipped_policies_dir
from .nodes import Keys, NodeReader
from .reader import read_yaml
from .sections import SECTIONS

__all__ = ["CatalogFolders", "CatalogLibrary", "CatalogSource", "CatalogsInMemory", "catalog_entries",
           "catalog_notes", "child_age", "shipped_catalogs"]


def shipped_catalogs() -> Path:
    """The folder of the shared catalogs shipped with the package."""
    return shipped_policies_dir() / "catalogs"


class CatalogSource(Protocol):
    """Where shared catalogs come from: their names, and each one's path and bytes."""

    def names(self) -> list[str]: ...

    def read(self, name: str) -> tuple[str, bytes] | None: ...


class CatalogFolders:
    """Shared catalogs as ``<name>.yaml`` files of ``folders``, searched in order."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = [folder for folder in dict.fromkeys(folders) if folder.is_dir()]

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for folder in self.folders:
            for path in sorted(folder.glob("*.yaml")):
                seen.setdefault(path.stem, None)
        return list(seen)

    def read(self, name: str) -> tuple[str, bytes] | None:
        for folder in self.folders:
            path = folder / f"{name}.yaml"
            if path.is_file():
                return str(path), path.read_bytes()
        return None


class CatalogsInMemory:
    """Shared catalogs held in memory: name -> the file's text (its path is shown as ``<name>.yaml``)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)

    def names(self) -> list[str]:
        return list(self.texts)

    def read(self, name: str) -> tuple[str, bytes] | None:
        text = self.texts.get(name)
        return None if text is None else (f"{name}.yaml", text.encode("utf-8"))


class CatalogLibrary:
    """Shared catalogs, by name, each read once from ``source`` (folders, or a `CatalogSource`).

    Problems found in a catalog file are kept in ``problems``, with that file's path.
    """

    def __init__(self, source: CatalogSource | Sequence[Path]) -> None:
        self.source: CatalogSource = (
            CatalogFolders(source) if isinstance(source, (list, tuple)) else source  # type: ignore[assignment]
        )
        self._loaded: dict[str, Catalog | None] = {}
        self.problems: list[Problem] = []

    @classmethod
    def beside(cls, folders: Sequence[Path]) -> CatalogLibrary:
        """The catalogs of ``folders`` (each a policy folder's ``catalogs/``), then the shipped ones."""
        return cls([*folders, shipped_catalogs()])

    def names(self) -> list[str]:
        return self.source.names()

    def get(self, name: str) -> Catalog | None:
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def _load(self, name: str) -> Catalog | None:
        found = self.source.read(name)
        if found is None:
            return None
        read = read_yaml(*found)
        if read.problems or read.root is None:
            self.problems.extend(read.problems)
            return None
        reader = NodeReader(read)
        catalog = _shared_catalog(reader, read.root, name)
        self.problems.extend(reader.problems)
        return None if reader.problems else catalog


def _shared_catalog(b: NodeReader, root: Node, name: str) -> Catalog | None:
    keys = b.mapping(root, "the catalog file", *SECTIONS["catalog_file"])
    if keys is None:
        return None
    catalog_id = b.required(keys, "catalog", b.identifier)
    if catalog_id is not None and catalog_id != name:
        b.error(
            keys["catalog"][1],
            f"catalog 名 '{catalog_id}' 与文件名 '{name}.yaml' 不一致。",
            f"The catalog is named '{catalog_id}' but its file is '{name}.yaml'; "
            "policies refer to it by file name.",
            f"Rename one of them so that both say '{name}'.",
        )
    label = b.required(keys, "label", b.text) or ""
    children = child_age(b, keys["children"][1]) if "children" in keys else None
    source = source_text(b, keys["source"][1]) if "source" in keys else ""
    entries = catalog_entries(b, keys["entries"][1], children) if "entries" in keys else []
    more = b.optional(keys, "more_not_given", b.text, "")
    return Catalog(name, label, tuple(entries), more, source, notes=catalog_notes(b, keys, source),
                   span=b.span(root))


def catalog_notes(b: NodeReader, keys: Keys, source: str) -> tuple[tuple[str, str], ...]:
    """A catalog's own notes, as (where, text) with ``where`` '' (see `Catalog.notes`)."""
    said = [b.optional(keys, key, b.text, "") for key in ("note", "mapping_note")]
    if source:
        said.append("source: " + source)
    if "children" in keys and isinstance(keys["children"][1], MappingNode):
        child_keys: Keys = {str(k.value): (k, v) for k, v in keys["children"][1].value if isinstance(k, ScalarNode)}
        child_note = b.optional(child_keys, "note", b.text, "")
        if child_note:
            said.append("儿童 / children: " + child_note)
    return tuple(("", text.strip()) for text in said if text.strip())


def source_text(b: NodeReader, node: Node) -> str:
    if isinstance(node, ScalarNode):
        return b.text(node, "source") or ""
    keys = b.mapping(node, "source", *SECTIONS["source"])
    if not keys:
        return ""
    parts = [str(value.value) for _, value in keys.values() if isinstance(value, ScalarNode)]
    return " · ".join(parts)


def child_age(b: NodeReader, node: Node) -> ChildAge | None:
    keys = b.mapping(node, "children", *SECTIONS["children"])
    if keys is None:
        return None
    text = b.required(keys, "not_given", b.text)
    below = b.required(keys, "certainly_child_below", b.integer, 0, 30)
    adult = b.required(keys, "certainly_adult_from", b.integer, 0, 30)
    if below is not None and adult is not None and adult < below:
        b.error(
            keys["certainly_adult_from"][1],
            "certainly_adult_from 不能小于 certainly_child_below。",
            "certainly_adult_from must not be less than certainly_child_below.",
        )
        return None
    if text is None or below is None or adult is None:
        return None
    return ChildAge(text, below, adult, span=b.span(node))


def catalog_entries(b: NodeReader, node: Node, children: ChildAge | None) -> list[CatalogEntry]:
    entries: list[CatalogEntry] = []
    seen: set[str] = set()
    for item in b.sequence(node, "entries") or []:
        keys = b.mapping(item, "a catalog entry", *SECTIONS["entry"])
        if keys is None:
            continue
        entry_id = b.required(keys, "id", b.identifier, where="entry id")
        if entry_id in seen:
            b.error(keys["id"][1], f"条目 id '{entry_id}' 重复。", f"Duplicate entry id '{entry_id}'.")
        if entry_id:
            seen.add(entry_id)
        name = b.required(keys, "name", b.text)
        codes, written = _codes(b, keys["icd10"][1], "icd10") if "icd10" in keys else (frozenset(), ())
        together: frozenset[str] = frozenset()
        if "together_with" in keys:
            together, _ = _codes(b, keys["together_with"][1], "together_with")
        aliases = tuple(v for _, v in b.optional(keys, "aliases", b.texts, []))
        only_children = b.optional(keys, "children_only", b.boolean, False)
        if "children_only" in keys:
            if only_children and children is None:
                b.error(
                    keys["children_only"][1],
                    "children_only 需要目录里有 children 一节（儿童年龄）。",
                    "children_only needs a 'children' section in the catalog (what 儿童 means).",
                )
        if entry_id and name and codes:
            entries.append(
                CatalogEntry(
                    entry_id,
                    name,
                    codes,
                    together,
                    aliases,
                    children if only_children else None,
                    written,
                    note=b.optional(keys, "note", b.text, "").strip(),
                    span=b.span(item),
                )
            )
    return entries


def _codes(b: NodeReader, node: Node, where: str) -> tuple[frozenset[str], tuple[str, ...]]:
    found: set[str] = set()
    written: list[str] = []
    for item, value in b.texts(node, where, allow_empty=False):
        code = value.strip()
        if icd10.who_kind(code) is None:
            b.error(
                item,
                f"'{code}' 不是 WHO ICD-10（2019 版）的类目、亚目或区段。",
                f"'{code}' is not a WHO ICD-10 (2019) category, subcategory or block.",
                "Write a category such as C16, a subcategory such as C91.0, or a WHO block such "
                "as A15-A19 (extensions of the '医保版' codes, like C16.900, go in contexts, not catalogs).",
            )
            continue
        written.append(code)
        found |= icd10.expand_catalog_code(code)
    return frozenset(found), tuple(written)

