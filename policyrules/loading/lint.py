"""Warnings: what the loader says of a policy that loads, for its author to look at.

A warning is a `Problem` with ``severity="warning"``: positioned and bilingual like an error,
but the file loads (`Policy.warnings` keeps them; ``policyrules check`` prints them and, with
``--strict``, fails on them). Warned of:

- an institution-list member's name (its aliases aside) that does not stand in the source text
  of the document its list cites (a slip, or a name the notice does not print);
- a rule that repeats another rule's outcome, effect, value and condition under a new id (a copy
  left behind; two outcomes sharing one condition are not repeats);
- (`policyrules.loading.quotes`) quotes that could not be checked because no source text was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import Problem, SourceSpan
from ..model import InstitutionList, PolicyMeta, Rule
from .quotes import source_text, squeeze
from .reader import ReadResult

__all__ = ["lint"]


def lint(read: ReadResult, meta: PolicyMeta, lists: Iterable[InstitutionList], rules: Sequence[Rule]) -> list[Problem]:
    """The warnings of one policy file's model parts."""
    return _unprinted_members(read, meta, lists) + _repeated_rules(read, rules)


def _warning(read: ReadResult, span: SourceSpan | None, message: str, suggestion: str) -> Problem:
    line, column = (span.line, span.column) if span else (1, 1)
    return read.problem(line, column, message, suggestion).as_warning()


def _unprinted_members(read: ReadResult, meta: PolicyMeta, lists: Iterable[InstitutionList]) -> list[Problem]:
    text = source_text(read.path, meta.seed)
    if text is None:
        return []  # said once, by the quote check: the quotes were not checked
    out = []
    for lst in lists:
        # The list's document: the one its citations name (the policy's own when it has none).
        documents = {c.document for c in lst.citations} or {meta.document}
        if documents != {meta.document}:
            continue  # another document's text is not kept
        for member in lst.members:
            if squeeze(member.name) not in text:
                out.append(_warning(
                    read, member.span,
                    f"名单 {lst.id} 的成员“{member.name}”在原文 {meta.seed} 中找不到。\n"
                    f"The member '{member.name}' of the list '{lst.id}' does not occur in the source text "
                    f"{meta.seed} the list cites.",
                    "Write the name as the notice prints it; put other spellings in 'aliases'.",
                ))
    return out


def _repeated_rules(read: ReadResult, rules: Sequence[Rule]) -> list[Problem]:
    out = []
    first: dict[tuple[object, ...], Rule] = {}
    for rule in rules:
        # Conditions compare by their attributes: spans are not part of a node's equality.
        key = (rule.outcome, rule.effect, rule.value, rule.target_ratio, rule.when)
        if key in first:
            earlier = first[key]
            where = f"line {earlier.span.line}" if earlier.span else "above"
            out.append(_warning(
                read, rule.span,
                f"规则 '{rule.id}' 与规则 '{earlier.id}' 的结果、效力和条件完全相同。\n"
                f"The rule '{rule.id}' repeats the outcome, effect and condition of the rule "
                f"'{earlier.id}' ({where}).",
                "Delete the copy, or cite its clause on the first rule (a rule may cite several clauses).",
            ))
        else:
            first[key] = rule
    return out
