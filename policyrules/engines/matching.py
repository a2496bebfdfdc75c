"""What every engine shares below the rule logic: the one truth encoding, institution-name
normalisation, and catalog matching (ICD-10 codes to catalog entries, 儿童 age bands, gaps).

`Matcher` holds one policy's prepared lists and catalogs; engines ask it, and so answer alike.
"""

from __future__ import annotations

import enum
import unicodedata
from functools import lru_cache

from ..icd10 import diagnosis_keys
from ..model import Catalog, PolicyModel

__all__ = ["FALSE", "NEGATION", "TRUE", "UNKNOWN", "CatalogIndex", "Match", "Matcher", "Truth",
           "normalise_name"]


class Truth(enum.IntEnum):
    """Kleene's three truth values; the one encoding every engine and target uses."""

    FALSE = 0
    TRUE = 1
    UNKNOWN = 2

    @classmethod
    def of(cls, value: bool | None) -> Truth:
        """True/False/None as a truth value."""
        return UNKNOWN if value is None else (TRUE if value else FALSE)

    def as_value(self) -> bool | None:
        """The truth value as an answer's value: True, False or None (unknown)."""
        return None if self is UNKNOWN else self is TRUE


FALSE, TRUE, UNKNOWN = Truth.FALSE, Truth.TRUE, Truth.UNKNOWN
#: ``NEGATION[t]`` is "not t": true and false swap, unknown stays unknown.
NEGATION: tuple[Truth, Truth, Truth] = (TRUE, FALSE, UNKNOWN)

#: A catalog match: its truth, the fields whose absence left it unknown, the document's gaps.
Match = tuple[Truth, frozenset[str], frozenset[str]]

_AGE = "person.age"


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """How institution names are compared: NFKC (full-width -> half-width), no spaces, casefold."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


class CatalogIndex:
    """A catalog ready for matching: code -> entries that take it; answers memoised."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.reads_age = catalog.reads_age
        self._memo: dict[tuple[tuple[str, ...], int | None], Match] = {}
        self.by_code: dict[str, list[int]] = {}
        for index, entry in enumerate(catalog.entries):
            for code in entry.codes:
                self.by_code.setdefault(code, []).append(index)

    def match(self, diagnoses: tuple[str, ...], age: int | None) -> Match:
        """Truth of "some diagnosis is in the catalog", with missing fields and gaps."""
        key = (diagnoses, age if self.reads_age else None)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 50_000:
                self._memo.clear()
            found = self._memo[key] = self._match(diagnoses, age)
        return found

    def _match(self, diagnoses: tuple[str, ...], age: int | None) -> Match:
        keys: set[str] = set()
        for code in diagnoses:
            keys.update(diagnosis_keys(code))
        result, missing, gaps = FALSE, set(), set()
        for index in sorted({i for key in keys for i in self.by_code.get(key, ())}):
            entry = self.catalog.entries[index]
            if entry.together_with and not keys & entry.together_with:
                continue
            child = entry.children
            if child is None:
                return TRUE, frozenset(), frozenset()
            if age is None:
                result = UNKNOWN
                missing.add(_AGE)
            elif age < child.certainly_child_below:
                return TRUE, frozenset(), frozenset()
            elif age < child.certainly_adult_from:
                result = UNKNOWN
                gaps.add(child.not_given)
        if self.catalog.more_not_given and diagnoses:
            result = UNKNOWN
            gaps.add(self.catalog.more_not_given)
        return result, frozenset(missing), frozenset(gaps)


class Matcher:
    """One policy's lists and catalogs, prepared for matching (thread-safe to read)."""

    def __init__(self, model: PolicyModel) -> None:
        self.catalogs: dict[str, CatalogIndex] = {name: CatalogIndex(c) for name, c in model.catalogs.items()}
        #: list name -> the normalised names (and aliases) of its members
        self.lists: dict[str, frozenset[str]] = {
            name: frozenset(normalise_name(n) for m in lst.members for n in (m.name, *m.aliases))
            for name, lst in model.institution_lists.items()
        }
