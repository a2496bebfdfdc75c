"""Quotes against their documents: where a policy's source text is, and whether a quote stands in it.

A policy names its document's text by ``seed``: ``sources/<seed>`` beside the policy file.
A quote stands in the text when, whitespace aside, it is found there; '……' (or '...') marks
words left out, and the parts must then stand in that order. YAML test cases quote their
documents the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from ..errors import Problem, SourceSpan
from ..model import PolicyMeta
from ..suggest import did_you_mean
from .reader import ReadResult

__all__ = ["check_quotes", "first_missing_part", "quote_parts", "source_file", "source_text", "squeeze"]

#: What marks words left out of a quote.
OMISSION = re.compile(r"…+|\.\.\.")


def squeeze(text: str) -> str:
    """``text`` without any whitespace (OCR line breaks and spaces are not part of a quote)."""
    return "".join(text.split())


def quote_parts(quote: str) -> list[str]:
    """The parts of a quote that must each stand in the text, whitespace removed, in order."""
    return [part for part in (squeeze(p) for p in OMISSION.split(quote)) if part]


def first_missing_part(quote: str, text: str) -> str:
    """The first part of ``quote`` (see `quote_parts`) not found in the squeezed ``text`` after
    the previous part; '' when the whole quote stands in the text."""
    position = 0
    for part in quote_parts(quote):
        found = text.find(part, position)
        if found < 0:
            return part
        position = found + len(part)
    return ""


def sources_folder(policy_path: str) -> Path:
    """The folder of source texts beside a policy file."""
    return Path(policy_path).parent / "sources"


def source_file(policy_path: str, seed: str) -> Path | None:
    """The source text a policy file names by ``seed``, if it is there."""
    path = sources_folder(policy_path) / seed
    return path if path.is_file() else None


@lru_cache(maxsize=32)
def _squeezed(path: str, mtime: float) -> str:
    return squeeze(Path(path).read_text("utf-8"))


def source_text(policy_path: str, seed: str) -> str | None:
    """The squeezed source text of a policy (read once per file version), or None."""
    path = source_file(policy_path, seed)
    return None if path is None else _squeezed(str(path), path.stat().st_mtime)


def check_quotes(read: ReadResult, meta: PolicyMeta, quotes: Iterable[tuple[str, SourceSpan | None]]) -> list[Problem]:
    """The quotes of ``meta``'s document that do not stand in its source text.

    A policy kept without a ``sources/`` folder beside it is not checked; one whose folder
    lacks the file named by ``seed`` is a problem."""
    folder = sources_folder(read.path)
    if not folder.is_dir():
        return []  # a policy kept without its sources: nothing to check against
    text = source_text(read.path, meta.seed)
    if text is None:
        assert meta.span is not None
        return [read.problem(
            meta.span.line, meta.span.column,
            f"找不到原文文件 sources/{meta.seed}。\n"
            f"The source text sources/{meta.seed} named by 'seed' does not exist.",
            did_you_mean(meta.seed, [p.name for p in folder.glob("*.txt")]),
        )]
    problems = []
    for quote, span in quotes:
        missing = first_missing_part(quote, text)
        if missing and span is not None:
            problems.append(read.problem(
                span.line, span.column,
                f"引文在原文 {meta.seed} 中找不到：“{missing[:40]}”。\n"
                f"This quote is not in the source text {meta.seed}: '{missing[:40]}'.",
                "Copy the words exactly as the source prints them (OCR slips "
                "included; explain them in 'note'); mark left-out words with '……'.",
            ))
    return problems
