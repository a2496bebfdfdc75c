"""The Rete compiler: the policy model compiled to a durable_rules ruleset definition.

Each condition of the model is compiled to when it holds (T) and when it fails (F), both over
the prepared fact's fields, so Kleene's three-valued logic is matched by the network: for
``A and B``, T = T_A & T_B and F = F_A | F_B; for ``not A`` they swap; a ``not_given``
condition neither holds nor fails. An outcome is true when some grant holds and every exception
fails, false when every grant fails or some exception holds; both are put in disjunctive normal
form and each term becomes one durable rule whose action records the value. An outcome none of
whose rules fires is unknown. Pure Python: it imports nothing of durable_rules, so a policy it
cannot express is found at load, wherever durable_rules can or cannot run.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from ..context import Facts
from ..errors import UnsupportedConstructError
from ..model import (
    AgeRange,
    AllOf,
    AnyOf,
    Condition,
    DiagnosisIn,
    FieldIs,
    InCounty,
    InstitutionIn,
    Not,
    NotGiven,
    PolicyModel,
    Rule,
    StatusAny,
)
from ..vocabulary import CONTEXT_FIELDS, HISTORY_FIELDS, LIST_OUTCOMES
from .crosscheck import NONE_APPLIES
from .matching import FALSE, TRUE, UNKNOWN, Matcher, normalise_name

__all__ = ["ReteProgram", "compile_model"]

Expr = dict[str, Any]
ALWAYS: Expr = {"pr": 1}
#: The item every statuses list carries, so that $iall never meets an empty list.
_SENTINEL = "·"
_DIAGNOSES = "encounter.diagnoses"


# ---------------------------------------------------------------- expressions
# A condition's "holds" (T) and "fails" (F) are kept in disjunctive normal form: a list of
# terms, each a tuple of atoms that must all match; the alternatives of one field (a list of
# names, of statuses) stay inside one atom. The terms of one case are packed into as few durable
# rules as durable's limit allows (`_pack`).

Atom = tuple[Any, ...]  # (operator, slot, value)
DNF = list[tuple[Atom, ...]]
NO: DNF = []  # no term: never

#: Guards checked at load time: more than this is reported by name.
MAX_TERMS_PER_OUTCOME = 200
#: durable_rules' MAX_SEQUENCE_EXPRESSIONS is 32 slots; each $and/$or node takes two, so a
#: condition holds 15 of them (measured on 2.0.28: 16 fail with error 113).
MAX_GROUPS = 15


def _contradicts(term: tuple[Atom, ...]) -> bool:
    """A term no fact can match (a field equal to two values, or to one it must differ from)."""
    allowed: dict[str, set[Any]] = {}
    for op, slot, value in term:
        if op in ("eq", "in"):
            values = set(value) if op == "in" else {value}
            allowed[slot] = allowed[slot] & values if slot in allowed else values
    for op, slot, value in term:
        if op in ("neq", "not_in") and slot in allowed:
            allowed[slot] -= set(value) if op == "not_in" else {value}
    return any(not values for values in allowed.values())


def _merged(term: tuple[Atom, ...]) -> tuple[Atom, ...]:
    """``term`` with the exclusions of one slot joined into one atom: "not a" and "not b" is
    "none of a, b" (for a list slot, "no item is a" and "no item is b" is "no item is a or b"),
    so a term holds as few durable expressions as its meaning needs."""
    excluded: dict[tuple[str, str], set[Any]] = {}
    kept: list[Atom] = []
    for atom in term:
        op, slot, value = atom
        if op in ("not_in", "iall_not"):
            if (op, slot) not in excluded:
                excluded[(op, slot)] = set()
                kept.append((op, slot, None))
            excluded[(op, slot)].update(value)
        else:
            kept.append(atom)
    return tuple((op, slot, tuple(sorted(excluded[(op, slot)], key=str))) if value is None and (op, slot) in excluded
                 else (op, slot, value) for op, slot, value in kept)


def _and(*parts: DNF) -> DNF:
    terms: DNF = [()]
    for part in parts:
        terms = [_merged(tuple(dict.fromkeys(a + b))) for a in terms for b in part]
        terms = [t for t in dict.fromkeys(terms) if not _contradicts(t)]
    return terms


def _or(*parts: DNF) -> DNF:
    return list(dict.fromkeys(term for part in parts for term in part))


def _slot(field: str) -> str:
    return "f_" + field.replace(".", "_")


def _known(field: str, known: bool = True) -> Atom:
    return ("eq", "k_" + field.replace(".", "_"), known)


def _term(*atoms: Atom) -> DNF:
    """A condition of one term: all of ``atoms``."""
    return [tuple(atoms)]


def _leaf(field: str, holds: DNF, fails: DNF) -> tuple[DNF, DNF]:
    known = _term(_known(field))
    return _and(known, holds), _and(known, fails)


@singledispatch
def _compile(node: Condition, model: PolicyModel) -> tuple[DNF, DNF]:
    raise UnsupportedConstructError(
        f"the Rete compiler cannot express {type(node).__name__} "
        f"({getattr(node, 'span', None) or 'no position'}): add it to policyrules/engines/rete_compiler.py"
    )


@_compile.register
def _(node: FieldIs, model: PolicyModel) -> tuple[DNF, DNF]:
    slot = _slot(node.field)
    values = tuple(sorted(node.values, key=str))
    holds, fails = _term(("in", slot, values)), _term(("not_in", slot, values))
    if node.field in HISTORY_FIELDS:  # what is on file: always known (absent = nothing on file)
        return holds, fails
    return _leaf(node.field, holds, fails)


@_compile.register
def _(node: StatusAny, model: PolicyModel) -> tuple[DNF, DNF]:
    wanted = tuple(sorted(node.statuses))
    slot = _slot("person.statuses")
    return _leaf("person.statuses", _term(("iany", slot, wanted)), _term(("iall_not", slot, wanted)))


@_compile.register
def _(node: AgeRange, model: PolicyModel) -> tuple[DNF, DNF]:
    slot = _slot("person.age")
    holds = [tuple(a for a in (("gte", slot, node.at_least) if node.at_least is not None else None,
                                ("lte", slot, node.at_most) if node.at_most is not None else None) if a)]
    fails: DNF = []
    if node.at_least is not None:
        fails.append((("lt", slot, node.at_least),))
    if node.at_most is not None:
        fails.append((("gt", slot, node.at_most),))
    return _leaf("person.age", holds, fails)


@_compile.register
def _(node: InstitutionIn, model: PolicyModel) -> tuple[DNF, DNF]:
    names = tuple(sorted({normalise_name(n) for m in model.institution_lists[node.list_name].members
                          for n in (m.name, *m.aliases)}))
    slot = _slot("encounter.institution.name")
    return _leaf("encounter.institution.name", _term(("in", slot, names)), _term(("not_in", slot, names)))


@_compile.register
def _(node: InCounty, model: PolicyModel) -> tuple[DNF, DNF]:
    region, insured = _slot("encounter.institution.region"), _slot("person.insured_region")
    same, differ = _term(("same", region, insured)), _term(("differ", region, insured))
    holds, fails = (same, differ) if node.expected else (differ, same)
    known = _term(_known("encounter.institution.region"), _known("person.insured_region"))
    return _and(known, holds), _and(known, fails)


@_compile.register
def _(node: DiagnosisIn, model: PolicyModel) -> tuple[DNF, DNF]:
    slot = "dx_" + node.catalog
    return _term(("eq", slot, int(TRUE))), _term(("eq", slot, int(FALSE)))


@_compile.register
def _(node: NotGiven, model: PolicyModel) -> tuple[DNF, DNF]:
    return NO, NO  # the document leaves it open: it neither holds nor fails


@_compile.register
def _(node: AllOf, model: PolicyModel) -> tuple[DNF, DNF]:
    parts = [_compile(item, model) for item in node.items]
    return _and(*(t for t, _ in parts)), _or(*(f for _, f in parts))


@_compile.register
def _(node: AnyOf, model: PolicyModel) -> tuple[DNF, DNF]:
    parts = [_compile(item, model) for item in node.items]
    return _or(*(t for t, _ in parts)), _and(*(f for _, f in parts))


@_compile.register
def _(node: Not, model: PolicyModel) -> tuple[DNF, DNF]:
    holds, fails = _compile(node.item, model)
    return fails, holds


def _groups(term: tuple[Atom, ...]) -> int:
    """The $and/$or nodes a term adds to a condition (durable counts them: 15 at most): one per
    atom of several values (an $or of names, an $and of exclusions, also inside $iany/$iall), and
    the term's own $and."""
    nested = sum(1 for op, _, value in term if op in ("in", "not_in", "iany", "iall_not") and len(value) > 1)
    return nested + (1 if len(term) > 1 else 0)


def _pack(dnf: DNF) -> list[DNF]:
    """The terms of one case packed into as few durable rules as durable's limit allows (its
    expression sequence holds 32 slots; each $and/$or node takes two), since one rule fires
    once per fact, so fewer actions run. A term too large even on its own is refused."""
    groups: list[DNF] = []
    used = MAX_GROUPS
    for term in dnf:
        cost = _groups(term)
        if 2 + cost > MAX_GROUPS:
            raise UnsupportedConstructError(
                f"a condition nests {cost} and/or groups, more than one durable_rules rule can "
                f"hold ({MAX_GROUPS}): split the rule"
            )
        if not groups or used + cost > MAX_GROUPS:
            groups.append([])
            used = 2  # the rule's own $and, and the $or of its terms
        groups[-1].append(term)
        used += cost
    return groups


def _expression(atom: Atom) -> Expr:
    op, slot, value = atom
    if op == "eq":
        return {slot: value}
    if op == "neq":
        return {"$neq": {slot: value}}
    if op in ("gte", "lte", "gt", "lt"):
        return {"$" + op: {slot: value}}
    if op == "in":
        return {slot: value[0]} if len(value) == 1 else {"$or": [{slot: v} for v in value]}
    if op == "not_in":
        items = [{"$neq": {slot: v}} for v in value]
        return items[0] if len(items) == 1 else {"$and": items}
    if op == "iany":
        items = [{"$i": v} for v in value]
        return {"$iany": {slot: items[0] if len(items) == 1 else {"$or": items}}}
    if op == "iall_not":
        items = [{"$neq": {"$i": v}} for v in value]
        return {"$iall": {slot: items[0] if len(items) == 1 else {"$and": items}}}
    if op == "same":
        return {slot: {"$m": value}}
    if op == "differ":
        return {"$neq": {slot: {"$m": value}}}
    raise AssertionError(op)  # pragma: no cover


# ---------------------------------------------------------------- the program


class ReteProgram:
    """A policy model compiled for durable_rules: the ruleset definition (JSON-ready), the
    outcome and value each durable rule decides, and what the prepared fact must carry.

    An outcome whose true and false rules all fail to match is unknown: Rete decides true and
    false, and unknown is what neither reaches (every answer is also checked against the
    reference evaluator, so an action that did not run cannot pass for "unknown")."""

    def __init__(self, model: PolicyModel) -> None:
        self.model = model
        self.name = f"policyrules_{model.meta.id}_{model.sha256[:16]}"
        #: durable rule name -> (outcome, value, ids of the model rules that decide it)
        self.rules: dict[str, tuple[str, Any, tuple[str, ...]]] = {}
        self.definition: dict[str, Expr] = {}
        self.catalogs = sorted({node.catalog for node in model.conditions() if isinstance(node, DiagnosisIn)})
        # catalog membership is prepared per catalog (``dx_<catalog>``), not matched by Rete
        self.fields = sorted({f for node in model.conditions() if not isinstance(node, DiagnosisIn)
                              for f in node.reads})
        self.outcomes = model.outcomes()
        for index, outcome in enumerate(self.outcomes):
            grants, exceptions = model.grants(outcome), model.exceptions(outcome)
            compiled = [_compile(r.when, model) for r in grants]
            # each case: (value, the model rules that decide it when it fires, its condition)
            cases: list[tuple[Any, tuple[Rule, ...], DNF]] = []
            if outcome in LIST_OUTCOMES:
                for position, (rule, (holds, _)) in enumerate(zip(grants, compiled, strict=True)):
                    earlier_fail = _and(*(f for _, f in compiled[:position]))
                    cases.append((rule.value, (rule,), _and(holds, earlier_fail)))
                cases.append((NONE_APPLIES, tuple(grants), _and(*(f for _, f in compiled))))
            else:
                taken = [_compile(r.when, model) for r in exceptions]
                all_fail = _and(*(f for _, f in taken))
                for rule, (holds, _) in zip(grants, compiled, strict=True):  # granted by this rule
                    cases.append((True, (rule,), _and(holds, all_fail)))
                cases.append((False, tuple(grants), _and(*(f for _, f in compiled))))
                for rule, (holds, _) in zip(exceptions, taken, strict=True):  # taken away by this exception
                    cases.append((False, (rule,), holds))
            self._add(index, outcome, cases)

    def _add(self, index: int, outcome: str, cases: list[tuple[Any, tuple[Rule, ...], DNF]]) -> None:
        count = sum(len(dnf) for _, _, dnf in cases)
        if count > MAX_TERMS_PER_OUTCOME:
            raise UnsupportedConstructError(
                f"{self.model.meta.id}: '{outcome}' needs {count} durable rules (more than "
                f"{MAX_TERMS_PER_OUTCOME}); split its conditions into several rules"
            )
        for case, (value, deciders, dnf) in enumerate(cases):
            for number, group in enumerate(_pack(dnf)):
                name = f"o{index}_{case}_{number}"
                terms = [{"$and": [_expression(a) for a in term]} if len(term) > 1 else _expression(term[0])
                         for term in group if term]
                if len(terms) < len(group):  # an empty term: the case always holds
                    condition: Expr = dict(ALWAYS)
                else:
                    # every condition also tests the constant 'pr': no rule is a bare negation
                    condition = {"$and": [dict(ALWAYS), terms[0] if len(terms) == 1 else {"$or": terms}]}
                self.definition[name] = {"all": [{"m": condition}]}
                self.rules[name] = (outcome, value, tuple(rule.id for rule in deciders))

    def prepare(self, facts: Facts, matcher: Matcher) -> dict[str, Any]:
        """The fact durable_rules matches: fields with known flags, catalog memberships."""
        values = facts.values
        fact: dict[str, Any] = {"pr": 1}
        for field in self.fields:
            slot = _slot(field)
            value = values.get(field)
            if field in HISTORY_FIELDS:
                fact[slot] = bool(value)
                continue
            fact["k_" + field.replace(".", "_")] = value is not None
            if field == "person.statuses":
                value = sorted(value or ()) + [_SENTINEL]
            elif field == "encounter.institution.name" and value is not None:
                value = normalise_name(value)
            elif value is None:
                value = ""
            fact[slot] = value
        diagnoses, age = values.get("encounter.diagnoses"), values.get("person.age")
        for catalog in self.catalogs:
            if diagnoses is None:
                fact["dx_" + catalog] = int(UNKNOWN)
            else:
                fact["dx_" + catalog] = int(matcher.catalogs[catalog].match(diagnoses, age)[0])
        return fact


def compile_model(model: PolicyModel) -> ReteProgram:
    """Compile ``model`` for durable_rules; raises `UnsupportedConstructError` naming what cannot be."""
    program = ReteProgram(model)
    unknown_fields = [f for f in program.fields if f not in CONTEXT_FIELDS]
    if unknown_fields:  # pragma: no cover - the loader only lets CONTRACT fields through
        raise UnsupportedConstructError(f"fields outside the CONTRACT: {unknown_fields}")
    return program


