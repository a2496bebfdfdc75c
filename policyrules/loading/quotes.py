"""Quotes against their documents: where a policy's source text is, and whether a quote stands in it.

A policy names its document's text by ``seed``: ``sources/<seed>`` beside the policy file, else
the shipped ``sources/<seed>`` (a policy copied alone is checked against the shipped text).
A quote stands in the text when, whitespace aside, it is found there; '……' (or '...') marks
words left out, and the parts must then stand in that order. YAML test cases quote their
documents the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import attrs

from ..errors import Problem, SourceSpan
from ..model import PolicyMeta
from ..shipped import shipped_policies_dir
from ..suggest import did_you_mean
from .reader import ReadResult

__all__ = ["Difference", "check_quotes", "first_difference", "first_missing_part", "quote_parts", "quote_problem",
           "source_file", "source_text", "squeeze"]

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
    """The source text a policy file names by ``seed``: ``sources/<seed>`` beside the file
    first, else the shipped sources (a lone copied policy is still checked); None if neither."""
    for folder in (sources_folder(policy_path), shipped_policies_dir() / "sources"):
        path = folder / seed
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=32)
def _squeezed(path: str, mtime: float) -> str:
    return squeeze(Path(path).read_text("utf-8"))


def source_text(policy_path: str, seed: str) -> str | None:
    """The squeezed source text of a policy (read once per file version), or None."""
    path = source_file(policy_path, seed)
    return None if path is None else _squeezed(str(path), path.stat().st_mtime)


@attrs.frozen
class Difference:
    """Where a quote part first differs from the document's nearest passage: the 0-based
    ``index`` in the part, the two characters there ('' past an end) and both passages around it."""

    index: int
    quote_char: str
    document_char: str
    quote_passage: str
    document_passage: str


def first_difference(part: str, text: str, around: int = 12) -> Difference:
    """The first difference between ``part`` (squeezed, not in ``text``) and the nearest passage
    of the squeezed ``text``: the passage that shares the longest prefix with ``part``, or, where
    the part differs at once, the one aligned on their longest common run."""
    low, high = 0, len(part)
    while low < high:  # the longest prefix of part found in text
        middle = (low + high + 1) // 2
        if text.find(part[:middle]) >= 0:
            low = middle
        else:
            high = middle - 1
    start = text.find(part[:low]) if low >= min(4, len(part)) else -1
    if start < 0:
        import difflib  # only for a quote that is not in the text: not at import

        match = difflib.SequenceMatcher(None, text, part, autojunk=False).find_longest_match(
            0, len(text), 0, len(part))
        start = max(match.a - match.b, 0)
    index = next((i for i in range(len(part)) if start + i >= len(text) or text[start + i] != part[i]),
                 len(part))
    begin = max(index - around, 0)
    return Difference(
        index,
        part[index] if index < len(part) else "",
        text[start + index] if start + index < len(text) else "",
        part[begin:index + around],
        text[start + begin:start + index + around],
    )


def _char(ch: str) -> str:
    return f"'{ch}' (U+{ord(ch):04X})" if ch else "nothing"


def quote_problem(read: ReadResult, span: SourceSpan, seed: str, part: str, text: str) -> Problem:
    """The problem of a quote part that is not in the source text, shown beside the nearest passage."""
    diff = first_difference(part, text)
    return read.problem(
        span.line, span.column,
        f"引文在原文 {seed} 中找不到：第 {diff.index + 1} 个字起不同，引文“{diff.quote_passage}”，"
        f"原文最接近处“{diff.document_passage}”。\n"
        f"This quote is not in the source text {seed}: from character {diff.index + 1} on it reads "
        f"'{diff.quote_passage}' where the nearest passage of the document reads '{diff.document_passage}'.",
        f"First difference: the quote has {_char(diff.quote_char)}, the document {_char(diff.document_char)}. "
        "Copy the words exactly as the source prints them (OCR slips included; explain them in "
        "'note'); mark left-out words with '……'.",
    )


def check_quotes(read: ReadResult, meta: PolicyMeta, quotes: Iterable[tuple[str, SourceSpan | None]]) -> list[Problem]:
    """The quotes of ``meta``'s document that do not stand in its source text (errors), and, when
    no source text is found (neither beside the file nor shipped), one warning that the quotes
    were not checked. A ``sources/`` folder beside the file that lacks the seed is an error."""
    text = source_text(read.path, meta.seed)
    at = meta.seed_span or meta.span
    assert at is not None
    if text is None:
        folder = sources_folder(read.path)
        if folder.is_dir():
            return [read.problem(
                at.line, at.column,
                f"找不到原文文件 sources/{meta.seed}。\n"
                f"The source text sources/{meta.seed} named by 'seed' does not exist.",
                did_you_mean(meta.seed, [p.name for p in folder.glob("*.txt")]),
            )]
        return [read.problem(
            at.line, at.column,
            f"没有找到原文 {meta.seed}，引文没有核对。\n"
            f"The quotes were not checked: no source text {meta.seed}, neither in sources/ beside "
            "the file nor among the shipped sources.",
            f"Put the notice's text in sources/{meta.seed} beside the policy file.",
        ).as_warning()]
    problems = []
    for quote, span in quotes:
        missing = first_missing_part(quote, text)
        if missing and span is not None:
            problems.append(quote_problem(read, span, meta.seed, missing, text))
    return problems
