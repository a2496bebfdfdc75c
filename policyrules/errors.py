"""Every error policyrules raises, in one module, all derived from `PolicyRulesError`.

Each keeps the builtin base the CONTRACT names, so callers written against it still catch it:
a policy file that is wrong (`PolicyLoadError`) and a context that is wrong (`ContextError`) are
`ValueError`s; a context no loaded policy covers (`NoPolicyError`) is a `LookupError`; an engine
that cannot run here (`EngineUnavailableError`), durable_rules misbehaving (`ReteError`) and two
engines deciding differently (`EngineDisagreement`) are `RuntimeError`s.

Every problem names its place (``path:line:column`` for a policy file, the field for a
context) and, where one can be given, a suggestion. ``str()`` of an error renders every
problem, so a policy editor sees all of them in one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = [
    "ContextError",
    "ContextProblem",
    "EngineDisagreement",
    "EngineUnavailableError",
    "JsonInputError",
    "NoPolicyError",
    "PolicyLoadError",
    "PolicyRulesError",
    "Problem",
    "ReteError",
    "RosterError",
    "RosterRowsError",
    "SourceSpan",
    "UnknownEngineError",
    "UnsupportedConstructError",
]


ERROR, WARNING = "error", "warning"


class PolicyRulesError(Exception):
    """The base of every error policyrules raises."""


@attrs.frozen
class SourceSpan:
    """Where a model node was written: file, 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@attrs.frozen
class Problem:
    """One mistake in a policy file, or (``severity="warning"``) something to look at that does
    not stop it loading.

    ``message`` says what is wrong in Chinese and in English (two lines);
    ``suggestion`` says how to fix it (may be empty); ``source_line`` is the
    offending line of the file, shown with a caret under ``column``.
    """

    path: str
    line: int
    column: int
    message: str
    suggestion: str = ""
    source_line: str = ""
    #: "error" (the file is not loaded) or "warning" (it is: see `Policy.warnings`).
    severity: str = attrs.field(default=ERROR, kw_only=True)

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    def as_warning(self) -> Problem:
        """This problem as a warning: said, but the file loads."""
        return attrs.evolve(self, severity=WARNING)

    def render(self) -> str:
        marker = "warning: " if self.is_warning else ""
        out = [f"{self.path}:{self.line}:{self.column}: {marker}{self.message}"]
        if self.source_line:
            shown = self.source_line.rstrip("\n").replace("\t", " ")
            out.append(f"    {shown}")
            out.append("    " + " " * _display_width(shown[: max(self.column - 1, 0)]) + "^")
        if self.suggestion:  # one language a line: a two-language fix takes two lines
            out.extend(f"    {line}" for line in self.suggestion.split("\n"))
        return "\n".join(out)


def _display_width(text: str) -> int:
    """Columns a terminal gives ``text``: CJK and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class PolicyLoadError(PolicyRulesError, ValueError):
    """A policy file or directory is wrong. ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(
            problems, key=lambda p: (p.path, p.line, p.column, p.message)
        )
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        head = f"政策文件中有 {count} 处错误\n{count} problem{'s' if count != 1 else ''} in the policy files"
        return head + "\n" + "\n".join(p.render() for p in self.problems)


@attrs.frozen
class ContextProblem:
    """One mistake in an evaluation context: the field (dotted path), what is wrong, the fix."""

    field: str
    message: str
    suggestion: str = ""

    def render(self) -> str:
        text = f"{self.field}: {self.message}"
        return f"{text} ({self.suggestion})" if self.suggestion else text


class ContextError(PolicyRulesError, ValueError):
    """A context is wrong. ``problems`` lists every field that is."""

    def __init__(self, problems: Sequence[ContextProblem]) -> None:
        self.problems: list[ContextProblem] = list(problems)
        super().__init__("; ".join(p.render() for p in self.problems))


class JsonInputError(PolicyRulesError, ValueError):
    """JSON input that cannot be read: not UTF-8, not JSON, or a key given twice in one object.
    ``line`` and ``column`` are 1-based within the text read (a column counts characters, or
    bytes for an encoding error); ``message`` says what is wrong, ``suggestion`` how to fix it."""

    def __init__(self, message: str, line: int, column: int, suggestion: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.suggestion = suggestion
        super().__init__(f"{line}:{column}: {message}" + (f" ({suggestion})" if suggestion else ""))


class NoPolicyError(PolicyRulesError, LookupError):
    """No loaded policy is in force for the context's region and date."""


class EngineUnavailableError(PolicyRulesError, RuntimeError):
    """An engine was asked for where it cannot run (durable_rules on Python >= 3.13)."""


class UnknownEngineError(PolicyRulesError, ValueError):
    """An engine name that is not registered (the message lists the registered ones)."""


class ReteError(PolicyRulesError, RuntimeError):
    """durable_rules did not do what it must, or decided what the checking engine would not:
    the evaluation gives no answer."""


class EngineDisagreement(PolicyRulesError, RuntimeError):
    """Two engines decided one outcome differently: neither answer is given."""

    def __init__(self, outcome: str, elsewhere: object, here: object) -> None:
        super().__init__(f"{outcome}: the other engine decided {elsewhere!r}, the checking engine {here!r}")
        self.outcome, self.elsewhere, self.here = outcome, elsewhere, here

    def __reduce__(self) -> tuple[Any, ...]:  # it pickles (a worker of `evaluate --workers` raises it)
        return type(self), (self.outcome, self.elsewhere, self.here)


class UnsupportedConstructError(PolicyRulesError, ValueError):
    """A model construct a target cannot express (named, at load time); the loader turns it into
    a positioned `PolicyLoadError`."""


class RosterError(PolicyRulesError, ValueError):
    """A roster cannot be read at all (not a file, an unknown column, an unknown format): nothing is
    answered. A bad row is not this: it is skipped and named (`RosterRowsError`, OUT.errors.jsonl)."""


class RosterRowsError(PolicyRulesError, ValueError):
    """Rows of a roster given to `PolicySet.evaluate_roster` were not answered; ``rows`` lists each
    as the CONTRACT's unanswered input ``{"row": N, "id": ID, "errors": [...]}``."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows
        first = rows[0] if rows else {}
        super().__init__(f"{len(rows)} rows not answered; the first: {first}")
