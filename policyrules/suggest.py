""""Did you mean …": the one way policyrules finds the closest valid name for a mistyped one."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]

#: How close a word must be to a valid name to be offered (difflib's ratio).
CUTOFF = 0.6


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The valid name closest to ``word``, or None when none is close enough."""
    import difflib  # only when a name is mistyped: not at import

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=CUTOFF)
    return match[0] if match else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A bilingual suggestion line for a policy file ('' when nothing is close)."""
    match = closest(word, choices)
    return f"是不是 '{match}'？\nDid you mean '{match}'?" if match else ""
