"""An `Explanation` as text, bilingual, in the documents' words (``policyrules explain``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .vocabulary import OUTCOME_LABELS

if TYPE_CHECKING:
    from .explain import ConditionTrace, Explanation, OutcomeExplanation

__all__ = ["render", "show_value"]

_MARK = {True: "✓", False: "✗", None: "?"}


def show_value(value: Any) -> str:
    """An outcome's value as the CLI says it: yes/是, no/否, unknown/未知, or the list."""
    if value is None:
        return "unknown / 未知"
    if value is True:
        return "yes / 是"
    if value is False:
        return "no / 否"
    return " → ".join(value)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(explanation: Explanation) -> str:
    answer = explanation.determination
    meta = answer.policy
    lines = [f"{meta.id}  {meta.document}  {meta.title}"]
    context_id = getattr(answer, "id", None)
    if context_id is not None:
        lines.append(f"id: {context_id}")
    source = "encounter.date" if answer.date_given else "the evaluation day"
    lines.append(f"date used: {answer.date_used} ({source}); engine: {answer.engine}")
    for name, outcome in explanation.outcomes.items():
        lines.append("")
        lines.extend(_outcome(name, outcome))
    return "\n".join(lines) + "\n"


def _outcome(name: str, explained: OutcomeExplanation) -> list[str]:
    value = show_value(explained.value)
    if explained.outcome.target_ratio is not None:
        value += f" (target ratio {explained.outcome.target_ratio:.0%})"
    lines = [f"{name} ({OUTCOME_LABELS.get(name, name)}): {value}"]
    for rule in explained.rules:
        role = "exception / 例外" if rule.effect == "exception" else "grant / 给予"
        decides = "  ← decides / 决定结果" if rule.decides else ""
        lines.append(f"  {_MARK[rule.truth]} {rule.id} [{role}] {rule.label}{decides}")
        for citation in rule.citations:
            lines.append(f"      {citation.document} {citation.clause}: “{citation.quote}”")
        if rule.note:
            lines.append(f"      note / 注: {' '.join(rule.note.split())}")
        lines.extend(_condition(rule.condition, 6))
    if explained.exception:
        lines.append(f"  exception applied / 适用例外: {explained.exception}")
    for gap in explained.outcome.not_given:
        lines.append(f"  not given by the document / 通知未说明: {gap}")
    if explained.why_not:
        lines.append("  why not / 怎样才能是“是”（最少的改变，由少到多）:")
        for number, entry in enumerate(explained.why_not, start=1):
            joined = " + ".join(f"{c.field} = {_shown(c.value)}" for c in entry.changes)
            lines.append(f"    {number}. {joined} → yes / 是")
            for change in entry.changes:
                others = [_shown(v) for v in change.any_of if v != change.value]
                lines.append(f"         {change.zh} / {change.en}")
                if others:
                    lines.append(f"         or / 或: {'; '.join(others)}")
                if change.clause:
                    lines.append(f"         {change.clause}: “{change.quote}”")
    if explained.ask_next:
        lines.append("  ask next / 还需询问（最能决定结果的在前）:")
    for ask in explained.ask_next:
        replies = "; ".join(f"{reply.zh} → {show_value(reply.gives)}" for reply in ask.answers)
        lines.append(f"    {ask.field}: {replies}")
    return lines


def _condition(node: ConditionTrace, indent: int) -> list[str]:
    pad = " " * indent
    mark = _MARK[node.truth]
    decided = "  ← decided it / 决定了这条规则" if node.decides and not node.items else ""
    if node.items:
        head = {"all": "all of / 全部满足", "any": "any of / 满足其一", "not": "not / 并非"}[node.kind]
        lines = [f"{pad}{mark} {head}:"]
        for item in node.items:
            lines.extend(_condition(item, indent + 2))
        return lines
    return [f"{pad}{mark} {node.zh}{decided}", f"{pad}  {node.en}"]
