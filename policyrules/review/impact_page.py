"""The impact page (`policyrules impact --report impact.html`): per outcome, the transitions of a
change over a roster drawn as SVG (a from → to matrix for a yes/no/unknown outcome, bars of the
changed counts for every outcome), each class of the diff with its description, clauses and
rows. One self-contained page: inline CSS and SVG, no script, nothing fetched, the system's
fonts with CJK fallbacks.

The geometry is computed here (`impact_view`, no template engine needed); the markup is
jinja2 templates with autoescape (`render_impact`). Ids match the changed rows' file: the class
``n`` of outcome ``o`` is ``#class-o-n`` (outcome names are CONTRACT identifiers).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..diff import ABSENT
from ..vocabulary import LIST_OUTCOMES, OUTCOME_LABELS

if TYPE_CHECKING:
    from ..impact import Impact

__all__ = ["impact_view", "render_impact"]

_WORDS = {False: ("否", "no"), True: ("是", "yes"), None: ("未知", "unknown"), ABSENT: ("不回答", "absent")}
_SLUG = {False: "no", True: "yes", None: "unknown", ABSENT: "absent"}
_CELL_W, _CELL_H, _LEFT, _TOP = 104, 58, 132, 52
_BAR_LEFT, _BAR_MAX, _BAR_H, _BAR_GAP, _LABEL_H = 12, 420, 22, 22, 26
_CHAR_W = 8.5  # px per character of a label at the page's 13px (CJK characters count two)


def _said(value: Any) -> tuple[str, str]:
    if isinstance(value, tuple | list):
        text = "[" + ", ".join(str(v) for v in value) + "]"
        return text, text
    return _WORDS[value]


def _width(text: str) -> float:
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text) * _CHAR_W


def _fill(before: Any, after: Any, share: float) -> str:
    """A cell's colour: green for a gain (to yes), red for a loss (from yes), amber for a new
    demand for data (to unknown), blue otherwise; paler for fewer rows."""
    if before == after:
        return "#eceef2"
    hue = (31, 122, 77) if after is True else (163, 58, 43) if before is True else (
        (200, 130, 10) if after is None else (42, 93, 176))
    light = 0.82 - 0.6 * share
    r, g, b = (round(c + (255 - c) * light) for c in hue)
    return f"#{r:02x}{g:02x}{b:02x}"


def _matrix(counts: Counter[tuple[Any, Any]], outcome: str) -> dict[str, Any]:
    values: list[Any] = [False, True, None]
    if any(ABSENT in pair for pair in counts):
        values.append(ABSENT)
    changed = [n for (a, b), n in counts.items() if a != b]
    most = max(changed, default=1) or 1
    cells = []
    for i, before in enumerate(values):
        for j, after in enumerate(values):
            n = counts.get((before, after), 0)
            share = math.sqrt(n / most) if before != after else 0.0
            cells.append({
                "x": _LEFT + j * _CELL_W, "y": _TOP + i * _CELL_H, "w": _CELL_W - 4, "h": _CELL_H - 4,
                "count": n, "fill": _fill(before, after, share) if n or before == after else "#f7f8fa",
                "moved": before != after,
                "ink": "#ffffff" if share > 0.55 else "#1d2330",
                "from": _SLUG[before], "to": _SLUG[after],
                "href": f"#tr-{outcome}-{_SLUG[before]}-{_SLUG[after]}" if before != after and n else "",
                "title": f"{_said(before)[1]} → {_said(after)[1]}: {n}"})
    words = [_WORDS[v] for v in values]
    return {"cells": cells,
            "rows": [{"zh": zh, "en": en, "x": _LEFT - 10, "y": _TOP + i * _CELL_H + _CELL_H / 2}
                     for i, (zh, en) in enumerate(words)],
            "cols": [{"zh": zh, "en": en, "x": _LEFT + i * _CELL_W + (_CELL_W - 4) / 2, "y": _TOP - 12}
                     for i, (zh, en) in enumerate(words)],
            "width": _LEFT + len(values) * _CELL_W + 8, "height": _TOP + len(values) * _CELL_H + 8,
            "left": _LEFT, "top": _TOP}


def _label(before: Any, after: Any) -> str:
    """A transition in both languages (a list outcome's lists once: they are codes)."""
    zh = f"{_said(before)[0]} → {_said(after)[0]}"
    en = f"{_said(before)[1]} → {_said(after)[1]}"
    return zh if zh == en else f"{zh}  {en}"


def _transition_id(outcome: str, before: Any, after: Any, k: int) -> str:
    if outcome in LIST_OUTCOMES:
        return f"tr-{outcome}-{k}"
    return f"tr-{outcome}-{_SLUG[before]}-{_SLUG[after]}"


def impact_view(impact: Impact) -> dict[str, Any]:
    """The page's data: the summary, and per outcome its matrix, bars and classes."""
    by_class = impact.class_counts()
    outcomes = []
    unchanged = []
    for outcome, counts in impact.counts.items():
        moved = sorted(((pair, n) for pair, n in counts.items() if pair[0] != pair[1]),
                       key=lambda item: (-item[1], str(item[0])))
        if not moved:
            unchanged.append(outcome)
            continue
        changes = impact.diff.outcomes.get(outcome, ()) if impact.diff is not None else ()
        class_rows = by_class.get(outcome, Counter())
        most = max(n for _, n in moved)
        labels = [_label(a, b) for (a, b), _ in moved]
        label_width = max(_width(text) for text in labels)
        bars, transitions = [], []
        for k, (((before, after), n), label) in enumerate(zip(moved, labels, strict=True)):
            anchor = _transition_id(outcome, before, after, k)
            y = 8 + k * (_BAR_H + _BAR_GAP + _LABEL_H)
            bars.append({"label": label, "count": n, "x": _BAR_LEFT, "y": y, "label_y": y + 14,
                         "bar_y": y + _LABEL_H, "h": _BAR_H, "w": max(2.0, _BAR_MAX * n / most),
                         "fill": _fill(before, after, 1.0), "href": "#" + anchor})
            classes = [{"index": i, "id": f"class-{outcome}-{i}", "count": class_rows[i],
                        "zh": change.description_zh, "en": change.description_en,
                        "clauses": [c.to_dict() for c in change.clauses]}
                       for i, change in enumerate(changes) if (change.before, change.after) == (before, after)]
            transitions.append({"id": anchor, "from_zh": _said(before)[0], "from_en": _said(before)[1],
                                "to_zh": _said(after)[0], "to_en": _said(after)[1], "count": n,
                                "classes": classes})
        chart_width = max(_BAR_LEFT + label_width, _BAR_LEFT + _BAR_MAX + 90) + 16
        outcomes.append({
            "name": outcome, "label": OUTCOME_LABELS.get(outcome, outcome), "id": f"outcome-{outcome}",
            "changed": sum(n for _, n in moved), "total": sum(counts.values()),
            "matrix": None if outcome in LIST_OUTCOMES else _matrix(counts, outcome),
            "bars": bars, "bars_width": math.ceil(chart_width),
            "bars_height": 16 + len(bars) * (_BAR_H + _BAR_GAP + _LABEL_H), "transitions": transitions,
            "unclassed": class_rows[None] if impact.diff is not None else 0})
    return {
        "old": {"id": impact.old.id, "sha256": impact.old.model.sha256, "document": impact.old.model.meta.document},
        "new": {"id": impact.new.id, "sha256": impact.new.model.sha256, "document": impact.new.model.meta.document},
        "rows": impact.rows, "errors": len(impact.errors), "changed": impact.changed.num_rows,
        "classed": impact.diff is not None, "outcomes": outcomes, "unchanged": unchanged, "version": __version__,
    }


def render_impact(impact: Impact) -> str:
    """The impact page as one self-contained HTML document (needs jinja2)."""
    from .render import environment

    return environment().get_template("impact.html").render(**impact_view(impact))
