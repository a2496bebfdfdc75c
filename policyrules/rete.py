"""The Rete target: the policy model compiled to a durable_rules ruleset, behind a wrapper
that no caller can push into one of durable_rules' hazards.

What Rete does and what Python does (docs/engines.md says the same for users):

- **Python prepares the fact** from the validated context: every field a condition reads,
  with a ``k_<field>`` flag saying whether it is known; institution names normalised;
  statuses as a list (with a sentinel item, so that "none of these" can be matched on an
  empty list); and, for each disease catalog, whether the diagnoses fall in it
  (``"T"``/``"F"``/``"U"``), because matching 医保版 codes to WHO categories and the 儿童
  age bands is code matching, not rule logic.
- **Rete decides every outcome's value.** Each condition of the model is compiled to when it
  holds (T) and when it fails (F), both over the prepared fields, so Kleene's three-valued
  logic is matched by the network: for ``A and B``, T = T_A & T_B and F = F_A | F_B; for
  ``not A`` they swap; a ``not_given`` condition neither holds nor fails. An outcome is true
  when some grant holds and every exception fails, false when every grant fails or some
  exception holds; both are put in disjunctive normal form and each term becomes one durable
  rule whose action records the value. An outcome none of whose rules fires is unknown.
- **Python writes the explanation** of the value Rete decided: which rules, their citations,
  ``missing`` and ``not_given``, from the same model, as the reference evaluator does; and it
  checks every value against the reference evaluator's (`policyrules.policy`).

Hazards of durable_rules 2.0.28 and how this module keeps callers away from them:

- ``post`` hands an event to the first matching rule only, and raises when none matches:
  only facts are asserted, and a fact no rule matches (every outcome unknown) is read as
  exactly that, not as an error and not as "no".
- asserting the same fact twice raises: every fact carries a fresh ``id`` and is retracted
  after its evaluation.
- 1024 live sessions per ruleset, identities by 32-bit hash: a fixed pool of session ids with
  distinct hashes; each session's state is deleted every ``SESSION_RESET`` evaluations.
- a rule whose only condition is a negation spins forever; joins between facts can segfault;
  conditions on the fact's ``id`` hang: none are ever generated (the compiler only produces
  single-fact conditions over prepared fields, each with the constant ``pr`` in it, never
  ``-m``, ``c.first`` or ``id``); durable's limit of 32 expressions per condition is kept
  by the normal form and checked at load, where a policy that would exceed it is named.
- errors inside actions are swallowed into the session state: no Python action runs inside
  durable at all. The runner takes the actions of each fact from durable's agenda itself and
  reads which rule fired; a failure of durable's own raises `ReteError` (and resets the
  session), as do two values for one outcome and an outcome Rete left unknown that the
  reference evaluator decides.
- the background dispatcher can run actions after ``assert_fact`` returns: this module's host
  never starts it, and the runner reads the answer only once the fact's agenda is empty.
- ruleset names are global and can never be removed: compiled rulesets are cached by the
  policy's content hash, so loading a policy again reuses its ruleset; an edited policy gets
  a new one.
- durable_rules is not thread-safe: one lock per ruleset.
- creating a ruleset now and then fails (error 102) for a definition accepted on the next try:
  up to `CREATE_ATTEMPTS` tries, each refusal recorded in `CREATE_FAILURES`.
- durable_rules does not import on Python >= 3.13: `AVAILABLE` is False with the reason, and
  asking for the Rete engine raises `EngineUnavailableError` with it.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from functools import singledispatch
from typing import Any

from .context import Facts, normalise_name
from .model import (
    AgeRange,
    AllOf,
    AnyOf,
    Condition,
    DiagnosisIn,
    Effect,
    FieldIs,
    InCounty,
    InstitutionIn,
    Not,
    NotGiven,
    PolicyModel,
    Rule,
    StatusAny,
)
from .reference import FALSE, TRUE, UNKNOWN, ReferenceEvaluator
from .vocabulary import CONTEXT_FIELDS, HISTORY_FIELDS, LIST_OUTCOMES

__all__ = ["AVAILABLE", "UNAVAILABLE_REASON", "EngineUnavailableError", "ReteError", "ReteProgram",
           "ReteUnsupportedError", "compile_model"]

try:  # durable_rules 2.0.28 fails to import on Python >= 3.13 (PyEval_CallObject)
    import durable_rules_engine as _ENGINE
    from durable import engine as _durable_engine

    AVAILABLE = True
    UNAVAILABLE_REASON = ""
except Exception as _error:  # noqa: BLE001 - any import failure means "not here"
    _durable_engine = None
    _ENGINE = None
    AVAILABLE = False
    UNAVAILABLE_REASON = f"durable_rules cannot be imported here: {type(_error).__name__}: {_error}"

#: Evaluations per session before its state is deleted (well below durable's limits).
SESSION_RESET = 10_000
#: Session ids per ruleset: fixed, with distinct 32-bit hashes (checked at start).
SESSION_POOL = 4
#: durable_rules 2.0.28 now and then refuses to create a ruleset it creates on the next try
#: (error 102, ERR_UNEXPECTED_TYPE, for the very same definition; seen in about one test run in
#: ten): the runner tries this many times, and `CREATE_FAILURES` records each refusal.
CREATE_ATTEMPTS = 8
CREATE_FAILURES: list[str] = []

Expr = dict[str, Any]
ALWAYS: Expr = {"pr": 1}
#: The item every statuses list carries, so that $iall never meets an empty list.
_SENTINEL = "·"
#: The value a list outcome's rules give when no rule applies (the answer is then unknown, with
#: the document's silence as its not_given).
NONE_APPLIES = "none"


class EngineUnavailableError(RuntimeError):
    """The Rete engine was asked for where durable_rules cannot run."""


class ReteError(RuntimeError):
    """durable_rules did not do what it must, or decided what the reference evaluator would
    not: the evaluation gives no answer."""


class ReteUnsupportedError(ValueError):
    """A model construct the compiler cannot express in durable_rules (named, at load time)."""


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


def _and(*parts: DNF) -> DNF:
    terms: DNF = [()]
    for part in parts:
        terms = [tuple(dict.fromkeys(a + b)) for a in terms for b in part]
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
    raise ReteUnsupportedError(
        f"the Rete compiler cannot express {type(node).__name__} "
        f"({getattr(node, 'span', None) or 'no position'}): add it to policyrules/rete.py"
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
    return _term(("eq", slot, "T")), _term(("eq", slot, "F"))


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
    """The $and/$or nodes a term adds to a condition (durable counts them: 15 at most)."""
    nested = sum(1 for op, _, value in term if op in ("in", "not_in") and len(value) > 1)
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
            raise ReteUnsupportedError(
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
        self.catalogs = sorted({n.catalog for r in model.rules for n in _walk(r.when) if isinstance(n, DiagnosisIn)})
        self.fields = sorted({f for r in model.rules for n in _walk(r.when) for f in _fields(n)})
        self.outcomes = model.outcomes()
        for index, outcome in enumerate(self.outcomes):
            grants = [r for r in model.rules if r.outcome == outcome and r.effect is Effect.GRANT]
            exceptions = [r for r in model.rules if r.outcome == outcome and r.effect is Effect.EXCEPTION]
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
            raise ReteUnsupportedError(
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

    def prepare(self, facts: Facts, reference: ReferenceEvaluator) -> dict[str, Any]:
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
            elif value is None:
                value = ""
            fact[slot] = value
        diagnoses, age = values.get("encounter.diagnoses"), values.get("person.age")
        for catalog in self.catalogs:
            if diagnoses is None:
                fact["dx_" + catalog] = "U"
            else:
                truth = reference._catalogs[catalog].match(diagnoses, age)[0]
                fact["dx_" + catalog] = {TRUE: "T", FALSE: "F", UNKNOWN: "U"}[truth]
        return fact


def _walk(node: Condition) -> list[Condition]:
    out: list[Condition] = [node]
    for child in getattr(node, "items", ()):
        out += _walk(child)
    if isinstance(node, Not):
        out += _walk(node.item)
    return out


def _fields(node: Condition) -> list[str]:
    if isinstance(node, FieldIs):
        return [node.field]
    if isinstance(node, StatusAny):
        return ["person.statuses"]
    if isinstance(node, AgeRange):
        return ["person.age"]
    if isinstance(node, InstitutionIn):
        return ["encounter.institution.name"]
    if isinstance(node, InCounty):
        return ["encounter.institution.region", "person.insured_region"]
    return []


def compile_model(model: PolicyModel) -> ReteProgram:
    """Compile ``model`` for durable_rules; raises `ReteUnsupportedError` naming what cannot be."""
    program = ReteProgram(model)
    unknown_fields = [f for f in program.fields if f not in CONTEXT_FIELDS]
    if unknown_fields:  # pragma: no cover - the loader only lets CONTRACT fields through
        raise ReteUnsupportedError(f"fields outside the CONTRACT: {unknown_fields}")
    return program


# ---------------------------------------------------------------- running it


class _Host(_durable_engine.Host if _durable_engine else object):  # type: ignore[misc]
    """durable's host without its background dispatcher threads: actions run only inside
    assert_fact, on the caller's thread, so no action can run after the answer is read."""

    def _run(self) -> None:
        pass


_HOST: Any = None
_HOST_LOCK = threading.RLock()
_RUNNERS: dict[str, _Runner] = {}


def _distinct_sids(count: int) -> list[str]:
    """Session ids whose 32-bit FNV-1a hashes differ (durable identifies sessions by them)."""
    def fnv1a32(text: str) -> int:
        value = 0x811C9DC5
        for byte in text.encode():
            value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
        return value
    sids: list[str] = []
    seen: set[int] = set()
    for n in itertools.count():
        sid = f"s{n}"
        if fnv1a32(sid) not in seen:
            seen.add(fnv1a32(sid))
            sids.append(sid)
        if len(sids) == count:
            return sids
    raise AssertionError  # pragma: no cover


class _Runner:
    """One registered ruleset: its lock, its sessions, and the loop that takes its actions.

    durable's own host runs each action through a Python callback, serialising the session
    state to JSON around every one, and swallows an exception raised inside it into that
    state. This runner drives durable's agenda itself instead: it asserts the fact, takes every
    action durable scheduled for that session (``start_action_for_state``, then
    ``complete_and_start_action`` until none is left) and reads from each the rule that fired.
    No Python code runs inside durable, so no error can be swallowed there and no background
    thread can run an action after the answer is read; and the answer is read only once the
    agenda of the fact is empty.
    """

    def __init__(self, program: ReteProgram) -> None:
        self.program = program
        self.lock = threading.Lock()
        self.sids = _distinct_sids(SESSION_POOL)
        self.uses = dict.fromkeys(self.sids, 0)
        self.next_sid = itertools.cycle(self.sids)
        self.fact_ids = itertools.count(1)
        host = _host()
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            # durable mutates what it is given: every attempt gets its own copy
            definition = {name: dict(copy.deepcopy(rule), run=_never_called)
                          for name, rule in program.definition.items()}
            try:
                host.set_rulesets({program.name: definition})
                break
            except Exception as error:  # noqa: BLE001 - durable raises its own bare error type
                CREATE_FAILURES.append(f"{program.name}, attempt {attempt}: {error}")
                if attempt == CREATE_ATTEMPTS:
                    raise ReteError(
                        f"durable_rules could not create the ruleset of {program.name} in "
                        f"{CREATE_ATTEMPTS} attempts: {error}"
                    ) from error
        self.handle = host.get_ruleset(program.name)._handle

    def run(self, fact: dict[str, Any]) -> dict[str, tuple[Any, set[str]]]:
        """Assert ``fact`` in a session, take its actions, retract it: the value durable decided
        for each outcome with the model rules that decided it (absent: unknown)."""
        engine, handle, name = _ENGINE, self.handle, self.program.name
        fired: list[str] = []
        with self.lock:
            sid = next(self.next_sid)
            fact["sid"] = sid
            fact["id"] = next(self.fact_ids)
            text = json.dumps(fact, ensure_ascii=False)
            try:
                code, state = engine.assert_fact(handle, text)
                if code == 0:  # handled: take the agenda of this session
                    started = engine.start_action_for_state(handle, state)
                    message = started[1] if started else None
                    while message:
                        fired.append(_RULE_NAME.match(message).group(1))  # type: ignore[union-attr]
                        message = engine.complete_and_start_action(handle, state)
                    engine.retract_fact(handle, text)
                elif code != 1:  # 1: no rule matched, nothing stored; 2: "observed"; 3: deferred
                    raise ReteError(f"durable_rules answered code {code} for the fact of {name}")
            except ReteError:
                self._reset(sid)
                raise
            except Exception as error:
                self._reset(sid)
                raise ReteError(f"durable_rules failed on the fact of {name}: {error!r}") from error
            self.uses[sid] += 1
            if self.uses[sid] >= SESSION_RESET:
                self._reset(sid)
        return self.decide(fired)

    def _reset(self, sid: str) -> None:
        """Delete a session's state (facts, pending actions): it starts afresh."""
        try:
            _host().delete_state(self.program.name, sid)
        finally:
            self.uses[sid] = 0

    def decide(self, fired: list[str]) -> dict[str, tuple[Any, set[str]]]:
        """The values the fired rules decide, with the model rules behind them."""
        results: dict[str, tuple[Any, set[str]]] = {}
        rules = self.program.rules
        for rule_name in fired:
            outcome, value, deciders = rules[rule_name]
            found = results.get(outcome)
            if found is None:
                results[outcome] = (value, set(deciders))
            elif found[0] != value:
                raise ReteError(
                    f"rules of one outcome decided two values in {self.program.name}: "
                    f"{outcome} = {found[0]!r} and {value!r} (a compiler fault: no answer)"
                )
            else:
                found[1].update(deciders)
        return results


def _never_called(c: Any) -> None:
    """durable requires an action per rule; the runner takes the actions itself, so this never
    runs (if it ever did, the session's state would say so and the next reset clears it)."""
    raise ReteError("a durable_rules action ran on durable's own loop")


_RULE_NAME = re.compile(r'^\{"([^"]+)"')


def _host() -> Any:
    global _HOST
    if _HOST is None:
        with _HOST_LOCK:
            if _HOST is None:
                _HOST = _Host()
    return _HOST


def runner(program: ReteProgram) -> _Runner:
    """The registered ruleset of ``program`` (registered once per content hash)."""
    if not AVAILABLE:
        raise EngineUnavailableError(UNAVAILABLE_REASON)
    found = _RUNNERS.get(program.name)
    if found is None:
        with _HOST_LOCK:
            found = _RUNNERS.get(program.name)
            if found is None:
                found = _RUNNERS[program.name] = _Runner(program)
    return found
