"""What the review page shows, as plain data (no template engine here).

`policy_view` gathers, for one policy, everything the page template lays out: the metadata
and how firm its source is, each rule with its quotes, its condition in words and the cases
that exercise it, the catalogs, institution lists and status groups with their notes, and the
notice's text cut into segments, each knowing which quotes and `not_encoded` passages cover it.

Every text here is the YAML's (or the source's) as it is: escaping is the template's job
(autoescape), and anchors are made by `anchor`, never from raw text.

A case *exercises* a rule when the rule's condition holds for the case's context on the
reference evaluator (or, for a rule whose document leaves it open, is unknown): the
definition of `policyrules test --coverage` (`policyrules.cases.exercised_by`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..cases import Case, exercised_by, find_case_files, read_case_file
from ..errors import ContextError, NoPolicyError
from ..loading.quotes import source_file
from ..model import Citation, Effect, PolicyModel
from ..policy import Policy
from ..regions import region_table
from ..vocabulary import LIST_OUTCOMES, OUTCOME_LABELS, STATUSES
from ..words import describe, describe_items, describe_rule, describe_value
from .spans import Span, accounted_share, locate, merge, non_space, segments

__all__ = ["FIRMNESS", "anchor", "cases_for", "page_file_name", "policy_view", "site_view", "source_text"]

#: source_kind -> (中文, English): how firm the text the policy was encoded from is.
FIRMNESS: dict[str, tuple[str, str]] = {
    "notice": ("通知原文", "the notice itself"),
    "government_document": ("政府文件原文", "the government document itself"),
    "newspaper_report": ("新闻报道（非文件原文）", "a newspaper report on the document, not the document"),
}


def anchor(prefix: str, name: str) -> str:
    """An HTML id for ``name``: its ASCII letters, digits, '_' and '-' (others become '-'),
    then 8 hex digits of its SHA-1, so that distinct names never share an id and no
    character of ``name`` can reach the markup."""
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:48]
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{clean}-{digest}" if clean else f"{prefix}-{digest}"


def page_file_name(policy_id: str) -> str:
    """The file name of a policy's page in a site (ids are ``[a-z][a-z0-9_]*``; anything else
    is replaced, with a hash, so the name is always a plain file name)."""
    if re.fullmatch(r"[a-z][a-z0-9_]*", policy_id):
        return f"{policy_id}.html"
    return anchor("policy", policy_id) + ".html"


def source_text(model: PolicyModel) -> str | None:
    """The notice's text as printed (found where the loader finds it), or None when it is not there."""
    file = source_file(model.path, model.meta.seed) if model.path else None
    try:
        return file.read_text("utf-8") if file is not None else None
    except (OSError, UnicodeDecodeError):
        return None


def cases_for(policies: Iterable[Policy], folder: str | Path) -> dict[str, list[Case]]:
    """The YAML cases of each policy: ``<folder>/cases/<policy id>/**/*.yaml`` when that folder
    exists (a file there naming another policy is left out). Raises `PolicyLoadError` for a
    case file that cannot be read."""
    found: dict[str, list[Case]] = {}
    for policy in policies:
        where = Path(folder) / "cases" / policy.id
        if not where.is_dir():
            continue
        for file in find_case_files([where]):
            case_file = read_case_file(file)
            if (case_file.policy_id or file.parent.name) == policy.id:
                found.setdefault(policy.id, []).extend(case_file.cases)
    return found


def _percent(share: float) -> str:
    return f"{share:.1%}"


def _shown(value: Any) -> str:
    if value is None:
        return "unknown 未知"
    if value is True:
        return "yes 是"
    if value is False:
        return "no 否"
    return " → ".join(str(v) for v in value)


def _period(model: PolicyModel) -> tuple[str, str]:
    meta = model.meta
    if meta.effective_to is None:
        return f"{meta.effective_from} 起，未规定终止日期", f"from {meta.effective_from}, no end date"
    return (f"{meta.effective_from} 至 {meta.effective_to}",
            f"from {meta.effective_from} to {meta.effective_to} (both included)")


def meta_view(policy: Policy) -> dict[str, Any]:
    model = policy.model
    meta = model.meta
    table = region_table()
    firm_zh, firm_en = FIRMNESS.get(meta.source_kind, (meta.source_kind, meta.source_kind))
    period_zh, period_en = _period(model)
    return {
        "id": meta.id,
        "document": meta.document,
        "title": meta.title,
        "issuer": meta.issuer,
        "issued": str(meta.issued) if meta.issued else "",
        "regions": [(code, table.name(code)) for code in meta.regions],
        "period_zh": period_zh,
        "period_en": period_en,
        "effective_from": str(meta.effective_from),
        "effective_to": str(meta.effective_to) if meta.effective_to else "",
        "source_kind": meta.source_kind,
        "firm": meta.source_kind == "notice" and not meta.inferred,
        "firmness_zh": firm_zh,
        "firmness_en": firm_en,
        "inferred": list(meta.inferred),
        "note": meta.note,
        "seed": meta.seed,
        "sha256": model.sha256,
        "file": Path(model.path).name if model.path else "",
    }


def _case_id(case: Case) -> str:
    return anchor("case", f"{case.path}:{case.line}:{case.name}")


def policy_view(policy: Policy, cases: Sequence[Case] = ()) -> dict[str, Any]:
    """Everything the page of ``policy`` shows, with ``cases`` (the YAML cases written for it)."""
    model = policy.model
    meta = model.meta
    text = source_text(model)
    exercised = exercised_by(policy, cases)
    rule_ids = {rule.id: anchor("rule", rule.id) for rule in model.rules}

    # ---- quotes located in the notice: each mark is (span, key)
    marks: list[tuple[Span, tuple[str, ...]]] = []
    located: dict[tuple[str, ...], list[Span] | None] = {}

    def place(key: tuple[str, ...], citation_document: str, quote: str) -> None:
        if text is None or citation_document != meta.document or not quote:
            return
        found = locate(quote, text)
        located[key] = found
        for span in found or ():
            marks.append((span, key))

    for rule in model.rules:
        for n, citation in enumerate(rule.citations):
            place(("rule", rule.id, str(n)), citation.document, citation.quote)
    for list_id, lst in model.institution_lists.items():
        for n, citation in enumerate(lst.citations):
            place(("list", list_id, str(n)), citation.document, citation.quote)
    for n, passage in enumerate(model.not_encoded):
        place(("not_encoded", str(n)), meta.document, passage.quote)

    # one anchor per distinct span in the text, numbered in text order
    distinct = sorted({span for span, _ in marks})
    span_ids = {span: f"src-{n + 1}" for n, span in enumerate(distinct)}

    def first_span_id(key: tuple[str, ...]) -> str:
        spans = located.get(key)
        return span_ids[spans[0]] if spans else ""

    # ---- cases
    case_views = []
    exercising: dict[str, list[str]] = {}
    for rule_id, found_cases in exercised.items():
        for case in found_cases:
            exercising.setdefault(_case_id(case), []).append(rule_id)
    for case in cases:
        case_id = _case_id(case)
        try:
            answer = policy.evaluate(case.context)
            got: dict[str, Any] | None = {name: o.value for name, o in answer.outcomes.items()}
        except (ContextError, NoPolicyError):
            got = None
        expect = []
        for outcome, value in case.expect.items():
            actual = got.get(outcome, "absent") if got is not None else "not evaluated"
            expect.append({
                "outcome": outcome,
                "label": OUTCOME_LABELS.get(outcome, ""),
                "value": _shown(value),
                "agrees": got is not None and actual == value,
                "got": _shown(actual) if actual not in ("absent", "not evaluated") else str(actual),
            })
        case_views.append({
            "id": case_id,
            "name": case.name,
            "file": f"{Path(case.path).parent.name}/{Path(case.path).name}",
            "line": case.line,
            "clause": case.clause,
            "quote": case.quote,
            "expect": expect,
            "rules": [(r, rule_ids[r]) for r in exercising.get(case_id, [])],
        })

    # ---- rules, grouped by outcome
    outcomes = []
    for outcome in model.outcomes():
        rules = []
        for rule in (r for r in model.rules if r.outcome == outcome):
            sentence_zh, sentence_en = describe_rule(rule, model)
            value = describe_value(rule)
            rule_cases = []
            for case in exercised[rule.id]:
                rule_cases.append({
                    "id": _case_id(case),
                    "name": case.name,
                    "expect": _shown(case.expect[outcome]) if outcome in case.expect else "",
                })
            rules.append({
                "id": rule.id,
                "anchor": rule_ids[rule.id],
                "cases_anchor": rule_ids[rule.id] + "-cases",
                "outcome": outcome,
                "effect": rule.effect.value,
                "exception": rule.effect is Effect.EXCEPTION,
                "label": rule.label,
                "note": rule.note,
                "sentence_zh": sentence_zh,
                "sentence_en": sentence_en,
                "when": describe_items(rule.when, model),
                "value_zh": value[0] if value else "",
                "value_en": value[1] if value else "",
                "citations": [
                    _citation_view(c, meta.document, text is not None, located.get(("rule", rule.id, str(n))),
                                   first_span_id(("rule", rule.id, str(n))))
                    for n, c in enumerate(rule.citations)
                ],
                "cases": rule_cases,
            })
        outcomes.append({
            "name": outcome,
            "label": OUTCOME_LABELS.get(outcome, ""),
            "anchor": anchor("outcome", outcome),
            "list_codes": list(LIST_OUTCOMES.get(outcome, {}).items()),
            "rules": rules,
        })

    # ---- the notice, cut into segments
    source = None
    if text is not None:
        refs_at_end: dict[int, list[Span]] = {}
        for span in distinct:
            refs_at_end.setdefault(span[1], []).append(span)
        starts: dict[int, list[str]] = {}
        for span in distinct:
            starts.setdefault(span[0], []).append(span_ids[span])
        keys_of_span: dict[Span, list[tuple[str, ...]]] = {}
        for span, key in marks:
            keys_of_span.setdefault(span, []).append(key)
        pieces = []
        for (start, end), keys in segments(text, marks):
            kinds = {k[0] for k in keys}  # type: ignore[index]
            rules_here = list(dict.fromkeys(k[1] for k in keys if k[0] == "rule"))  # type: ignore[index]
            lists_here = list(dict.fromkeys(k[1] for k in keys if k[0] == "list"))  # type: ignore[index]
            passages = [model.not_encoded[int(k[1])] for k in keys if k[0] == "not_encoded"]  # type: ignore[index]
            href = ""
            if rules_here:
                href = rule_ids[sorted(rules_here, key=list(rule_ids).index)[0]]
            elif lists_here:
                href = anchor("list", lists_here[0])
            elif passages:
                href = anchor("not-encoded", str(model.not_encoded.index(passages[0])))
            title = "; ".join([*rules_here, *(f"list {x}" for x in lists_here),
                               *(f"not encoded {p.clause}: {p.reason}" for p in passages)])
            refs = []
            for span in refs_at_end.get(end, []):
                refs.append(_refs(span, keys_of_span[span], model, rule_ids, exercised))
            pieces.append({
                "text": text[start:end],
                "quoted": bool(kinds & {"rule", "list"}),
                "not_encoded": "not_encoded" in kinds,
                "href": href,
                "title": title,
                "anchors": starts.get(start, []),
                "refs": refs,
            })
        total = non_space(text)
        inside = sum(non_space(text[a:b]) for a, b in merge(span for span, _ in marks))
        share = inside / total if total else 0.0
        source = {
            "seed": meta.seed,
            "pieces": pieces,
            "share": share,
            "percent": _percent(share),
            "inside": inside,
            "total": total,
            "quoted_spans": len(distinct),
            "spans": merge(span for span, _ in marks),
        }

    # ---- not encoded
    not_encoded = []
    for n, passage in enumerate(model.not_encoded):
        key = ("not_encoded", str(n))
        not_encoded.append({
            "anchor": anchor("not-encoded", str(n)),
            "clause": passage.clause,
            "reason": passage.reason,
            "quote": passage.quote,
            "found": bool(located.get(key)) if passage.quote and text is not None else None,
            "src": first_span_id(key),
        })

    # ---- catalogs, institution lists, status groups
    catalogs = []
    for catalog_id, catalog in model.catalogs.items():
        entries = []
        for entry in catalog.entries:
            entries.append({
                "id": entry.id,
                "name": entry.name,
                "codes": list(entry.written_codes) or sorted(entry.codes),
                "expanded": sorted(entry.codes) if sorted(entry.codes) != list(entry.written_codes) else [],
                "together_with": sorted(entry.together_with),
                "aliases": list(entry.aliases),
                "children": (
                    f"儿童 only: under {entry.children.certainly_child_below} yes, "
                    f"{entry.children.certainly_adult_from} or over no, in between unknown"
                    if entry.children else ""
                ),
                "note": entry.note,
            })
        children = next((e.children for e in catalog.entries if e.children), None)
        catalogs.append({
            "id": catalog_id,
            "anchor": anchor("catalog", catalog_id),
            "label": catalog.label,
            "source": catalog.source,
            "more_not_given": catalog.more_not_given,
            "children_not_given": children.not_given if children else "",
            "notes": list(catalog.notes),
            "entries": entries,
        })
    lists = []
    for list_id, lst in model.institution_lists.items():
        lists.append({
            "id": list_id,
            "anchor": anchor("list", list_id),
            "label": lst.label,
            "note": lst.note,
            "citations": [
                _citation_view(c, meta.document, text is not None, located.get(("list", list_id, str(n))),
                               first_span_id(("list", list_id, str(n))))
                for n, c in enumerate(lst.citations)
            ],
            "members": [
                {"name": m.name, "aliases": list(m.aliases), "note": m.note}
                for m in lst.members
            ],
        })
    groups = [
        {
            "id": group.id,
            "label": group.label,
            "note": group.note,
            "statuses": [(code, STATUSES.get(code, "")) for code in sorted(group.statuses, key=_status_order)],
            "words": describe_statuses(group.statuses, model),
        }
        for group in model.status_groups.values()
    ]
    uncovered = [(r.id, rule_ids[r.id]) for r in model.rules if not exercised[r.id]]
    return {
        "meta": meta_view(policy),
        "outcomes": outcomes,
        "rule_count": len(model.rules),
        "source": source,
        "not_encoded": not_encoded,
        "catalogs": catalogs,
        "lists": lists,
        "groups": groups,
        "cases": case_views,
        "uncovered": uncovered,
    }


_STATUS_ORDER = {code: n for n, code in enumerate(STATUSES)}


def _status_order(code: str) -> tuple[int, str]:
    return _STATUS_ORDER.get(code, len(_STATUS_ORDER)), code


def describe_statuses(statuses: Iterable[str], model: PolicyModel) -> tuple[str, str]:
    from ..model import StatusAny

    return describe(StatusAny(frozenset(statuses)), model)


def _citation_view(citation: Citation, document: str, have_text: bool, spans: list[Span] | None,
                   src: str) -> dict[str, Any]:
    own = citation.document == document
    return {
        "clause": citation.clause,
        "quote": citation.quote,
        "note": citation.note,
        "document": citation.document,
        "own_document": own,
        # None: not looked for (another document's words, or no source text beside the policy)
        "found": (spans is not None) if own and have_text else None,
        "src": src,
    }


def _refs(span: Span, keys: list[tuple[str, ...]], model: PolicyModel, rule_ids: dict[str, str],
          exercised: dict[str, list[Case]]) -> list[dict[str, str]]:
    """The links set after a quoted span: each rule quoting it (and how many cases exercise
    that rule), each institution list, each not_encoded passage."""
    out: list[dict[str, str]] = []
    for key in dict.fromkeys(keys):
        if key[0] == "rule":
            rule_id = key[1]
            out.append({"href": rule_ids[rule_id], "text": rule_id, "kind": "rule"})
            count = len(exercised.get(rule_id, []))
            out.append({"href": rule_ids[rule_id] + "-cases",
                        "text": f"{count} case{'s' if count != 1 else ''}", "kind": "cases"})
        elif key[0] == "list":
            out.append({"href": anchor("list", key[1]), "text": f"list {key[1]}", "kind": "list"})
        else:
            passage = model.not_encoded[int(key[1])]
            out.append({"href": anchor("not-encoded", key[1]), "text": f"not encoded {passage.clause}",
                        "kind": "not-encoded"})
    # one link per target
    seen: set[str] = set()
    return [r for r in out if not (r["href"] in seen or seen.add(r["href"]))]  # type: ignore[func-returns-value]


def site_view(views: Sequence[dict[str, Any]], texts: dict[str, str | None]) -> dict[str, Any]:
    """The index of a site: one row per policy page (``views``, from `policy_view`), and one per
    source document with the share that all the policies encoded from it account for together
    (``texts``: seed -> the document's text)."""
    rows = []
    for view in views:
        meta = view["meta"]
        rows.append({
            "meta": meta,
            "href": page_file_name(meta["id"]),
            "percent": view["source"]["percent"] if view["source"] else "",
            "rules": view["rule_count"],
            "cases": len(view["cases"]),
            "uncovered": len(view["uncovered"]),
            "not_encoded": len(view["not_encoded"]),
        })
    documents = []
    for seed in dict.fromkeys(v["meta"]["seed"] for v in views):
        text = texts.get(seed)
        using = [v for v in views if v["meta"]["seed"] == seed]
        spans = [s for v in using if v["source"] for s in v["source"]["spans"]]
        documents.append({
            "seed": seed,
            "policies": [(v["meta"]["id"], page_file_name(v["meta"]["id"])) for v in using],
            "percent": _percent(accounted_share(text, spans)) if text is not None else "",
            "total": non_space(text) if text is not None else 0,
        })
    return {"rows": rows, "documents": documents}
