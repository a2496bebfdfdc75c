"""The free-text notes of a policy file, which the model does not keep.

The model carries what evaluation needs; the ``note:`` texts a policy file writes beside a
rule, a status group, a catalog entry (its ICD-10 mapping), an institution list or member
are for readers, and a reviewer needs them. They are read here from the YAML files the model
was loaded from (the policy file, and the shared catalogs it includes), with PyYAML's safe
loader: the loader has already checked these files, so nothing is validated again. A file
that cannot be read gives no notes, never an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import yaml

from ..model import PolicyModel
from ..policy import shipped_policies_dir

__all__ = ["Notes", "read_notes"]


@attrs.frozen
class Notes:
    rules: dict[str, str] = attrs.Factory(dict)
    groups: dict[str, str] = attrs.Factory(dict)
    #: catalog id -> its notes: its own, then those of the catalogs it includes
    #: (each as ``(where, text)``: the shared catalog's name, or '' for the catalog itself).
    catalogs: dict[str, list[tuple[str, str]]] = attrs.Factory(dict)
    #: (catalog id, entry id) -> the entry's note (from the file that writes the entry).
    entries: dict[tuple[str, str], str] = attrs.Factory(dict)
    lists: dict[str, str] = attrs.Factory(dict)
    members: dict[tuple[str, str], str] = attrs.Factory(dict)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _source(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    source = _mapping(value)
    return " · ".join(str(source[k]).strip() for k in ("document", "title", "date", "url", "note") if source.get(k))


def read_notes(model: PolicyModel) -> Notes:
    """The notes of ``model``'s policy file and of the shared catalogs it includes."""
    notes = Notes()
    if not model.path:
        return notes
    path = Path(model.path)
    raw = _load(path)
    folders = [path.parent / "catalogs", shipped_policies_dir() / "catalogs"]
    for rule in raw.get("rules") or []:
        if isinstance(rule, dict) and isinstance(rule.get("id"), str) and _text(rule.get("note")):
            notes.rules[rule["id"]] = _text(rule["note"])
    for name, group in _mapping(raw.get("status_groups")).items():
        if _text(_mapping(group).get("note")):
            notes.groups[str(name)] = _text(group["note"])
    local = {str(k): _mapping(v) for k, v in _mapping(raw.get("catalogs")).items()}
    for name in local:
        _catalog_notes(notes, name, local[name], local, folders, "", set())
    for name, lst in _mapping(raw.get("institution_lists")).items():
        lst = _mapping(lst)
        if _text(lst.get("note")):
            notes.lists[str(name)] = _text(lst["note"])
        for member in lst.get("members") or []:
            if isinstance(member, dict) and _text(member.get("note")):
                notes.members[(str(name), str(member.get("name", "")).strip())] = _text(member["note"])
    return notes


def _catalog_notes(notes: Notes, target: str, data: dict[str, Any], local: dict[str, dict[str, Any]],
                   folders: list[Path], where: str, seen: set[str]) -> None:
    """Add the notes of catalog ``data`` (written at ``where``) to catalog ``target``."""
    said = notes.catalogs.setdefault(target, [])
    for key in ("note", "mapping_note"):
        if _text(data.get(key)):
            said.append((where, _text(data[key])))
    if data.get("source"):
        said.append((where, "source: " + _source(data["source"])))
    if _mapping(data.get("children")).get("note"):
        said.append((where, "儿童 / children: " + _text(data["children"]["note"])))
    for entry in data.get("entries") or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and _text(entry.get("note")):
            notes.entries.setdefault((target, entry["id"]), _text(entry["note"]))
    for name in data.get("include") or []:
        name = str(name)
        if name in seen:
            continue
        seen.add(name)
        if name in local and not where:
            _catalog_notes(notes, target, local[name], local, folders, name, seen)
            continue
        for folder in folders:
            file = folder / f"{name}.yaml"
            if file.is_file():
                _catalog_notes(notes, target, _load(file), local, folders, name, seen)
                break
