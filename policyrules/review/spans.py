"""Where a quote stands in its notice: pure functions over the original (unsqueezed) text.

The loader checks a quote (`policyrules.loading.quotes`) this way: whitespace is ignored on
both sides, and '……' (or '...') splits a quote into parts that must stand in the text in
that order. `locate` finds the same places, but as character offsets into the text as it
is printed (line breaks, OCR spaces and all), so that the page can highlight them.

    >>> text = "一、总体要求\\n(一) 先诊疗\\n后付费。其他。"
    >>> [text[a:b] for a, b in locate("先诊疗后付费", text)]
    ['先诊疗\\n后付费']
    >>> [text[a:b] for a, b in locate("总体……后付费", text)]
    ['总体', '后付费']
    >>> locate("不在原文里", text) is None
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from functools import lru_cache

from ..loading.quotes import quote_parts

__all__ = ["Span", "accounted_share", "locate", "merge", "non_space", "parts", "segments"]

#: (start, end) offsets into the original text, end excluded.
Span = tuple[int, int]

#: The parts of a quote that must each stand in the text, in order: the loader's own split.
parts = quote_parts


@lru_cache(maxsize=16)
def _index(text: str) -> tuple[str, tuple[int, ...]]:
    """The text without whitespace, and for each of its characters the offset in ``text``."""
    offsets = tuple(i for i, ch in enumerate(text) if not ch.isspace())
    return "".join(text[i] for i in offsets), offsets


def locate(quote: str, text: str) -> list[Span] | None:
    """The spans of ``text`` that ``quote`` quotes, one per part (see `parts`), each the first
    place the part stands after the previous one, as the loader's check finds them; ``None``
    when some part is not in the text (or the quote is empty). A span starts at the part's
    first character and ends after its last, whatever whitespace lies between."""
    squeezed, offsets = _index(text)
    found: list[Span] = []
    position = 0
    for part in parts(quote):
        at = squeezed.find(part, position)
        if at < 0:
            return None
        end = at + len(part)
        found.append((offsets[at], offsets[end - 1] + 1))
        position = end
    return found or None


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` as sorted, disjoint spans (touching spans are joined)."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def non_space(text: str) -> int:
    """The number of characters of ``text`` that are not whitespace."""
    return sum(1 for ch in text if not ch.isspace())


def accounted_share(text: str, spans: Iterable[Span]) -> float:
    """Non-space characters inside the union of ``spans`` over all non-space characters of
    ``text`` (0.0 for a text with none)."""
    total = non_space(text)
    if not total:
        return 0.0
    inside = sum(non_space(text[a:b]) for a, b in merge(spans))
    return inside / total


def segments(text: str, marks: Sequence[tuple[Span, Hashable]]) -> list[tuple[Span, frozenset[Hashable]]]:
    """``text`` cut into consecutive spans, each with the keys of the marks covering it; the
    spans cover the whole text in order (a span no mark covers has the empty set)."""
    cuts = {0, len(text)}
    for (start, end), _ in marks:
        cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    points = sorted(cuts)
    out: list[tuple[Span, frozenset[Hashable]]] = []
    for start, end in itertools.pairwise(points):
        if end <= start:
            continue
        keys = frozenset(key for (a, b), key in marks if a <= start and end <= b)
        out.append(((start, end), keys))
    return out
