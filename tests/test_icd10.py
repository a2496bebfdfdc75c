"""The shipped WHO ICD-10 table and how diagnoses match catalog entries."""

from __future__ import annotations

from importlib import resources

import pytest

from policyrules import icd10


def test_shipped_table_is_the_who_list() -> None:
    shipped = resources.files("policyrules").joinpath("data/who_icd10_2019.tsv").read_text("utf-8")
    assert shipped == icd10.generate_table(), "stale: run `python -m policyrules.icd10`"


@pytest.mark.parametrize(
    ("code", "kind"),
    [("C16", "category"), ("C91.0", "subcategory"), ("A15-A19", "block"), ("C18-C21", None),
     ("C16.900", None), ("I", None), ("X99.99", None), ("c16", None), ("U84.3", "subcategory")],
)
def test_who_kind(code: str, kind: str | None) -> None:
    assert icd10.who_kind(code) == kind


def test_blocks_expand_to_their_categories() -> None:
    assert icd10.expand_catalog_code("A15-A19") == {"A15", "A16", "A17", "A18", "A19"}
    assert icd10.expand_catalog_code("C91.0") == {"C91.0"}


@pytest.mark.parametrize(
    ("diagnosis", "keys"),
    [("C16.900", ("C16", "C16.9")), ("I10.x00", ("I10",)), ("C16", ("C16",)), ("C16.9", ("C16", "C16.9")),
     ("F06.800", ("F06", "F06.8"))],
)
def test_diagnosis_keys(diagnosis: str, keys: tuple[str, ...]) -> None:
    assert icd10.diagnosis_keys(diagnosis) == keys
