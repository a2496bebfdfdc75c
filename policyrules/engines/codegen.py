"""The source generator of the compiled engine: one policy model -> one Python function.

`generate(prepared)` writes the source of ``evaluate(v)``, a function of a context's flat values
(`policyrules.context.Facts.values`) to every outcome's answer, and the table of constants it
reads. The function is straight-line code:

1. each context field a rule reads is fetched once into a local (``person_age = get('person.age')``);
2. each *distinct* condition node is computed once, into a local ``c<i>`` holding a truth value
   (`Truth`: 0 false, 1 true, 2 unknown); equal nodes (attrs equality, which ignores where a node
   was written) share one local, children before parents. Kleene's logic is written out on the
   locals: ``a and b and (1 if a == b == 1 else 2)`` for *all of*, ``1 if a == 1 or b == 1 else
   (2 if a or b else 0)`` for *any of*, ``(1, 0, 2)[a]`` for *not*;
3. each outcome's answer is picked from a table ``D<j>`` of the prebuilt `Outcome` objects of its
   `OutcomePlan`, indexed by the truths of its rules (``c3 + 3 * c5``): a decided answer is one
   index away. Where the table holds None the answer is unknown, and ``explain(j, key, v)`` gives
   it, memoised by ``key``: the truths the outcome's rules compute that no other part of the key
   decides, plus what their explanation reads besides (which regions are absent, the catalog
   match), so each distinct explanation is worked out once.

Nothing of the policy file becomes code. Field names are CONTRACT names (checked against
`CONTEXT_FIELDS` and a strict pattern before they are written with ``repr``); every other value
of the model (accepted values, statuses, catalogs, names of lists and outcomes, the answers) is a
constant the source names ``K<i>`` / ``D<j>`` and the namespace holds; a comment shows the
``repr`` of each (a repr is one line, so it cannot end the comment). Integers are written after a
type check. A reviewer reads the whole of it with ``policyrules compile POLICY``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from ..determination import Determination
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
    Rule,
    StatusAny,
)
from ..fields import BAD, Choice, Flag
from ..context import HOUSEHOLD_GIVEN
from ..context_fast import dates_in_force, diagnoses_or_bad, statuses_or_bad
from ..vocabulary import CONTEXT_FIELDS, HISTORY_FIELDS, PASSING_STATUSES
from .base import PreparedPolicy
from .matching import FALSE, TRUE, UNKNOWN, Truth, normalise_name
from .outcomes import OutcomePlan
from .reader_gen import local_of, reader_lines

__all__ = ["Generated", "MAX_TABLE_RULES", "decide", "generate"]

#: An outcome with more rules than this has no prebuilt table (3**n entries): every answer of
#: it goes through the memo of ``explain``.
MAX_TABLE_RULES = 7

_SAFE_FIELD = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
_AGE, _DIAGNOSES, _NAME = "person.age", "encounter.diagnoses", "encounter.institution.name"
_REGION, _INSURED, _STATUSES = "encounter.institution.region", "person.insured_region", "person.statuses"
_HOUSEHOLD = "household.statuses"
_MATCHES = "<matches>"  # where the block of catalog matches goes (its first use)


Explain = Callable[[int, tuple[Any, ...], Any], Any]
#: The truths a condition may be known to have at load (written as literals, not locals).
_LITERALS = frozenset({"0", "1", "2"})


class _Memo(dict[Any, Any]):
    """A dict that computes what it lacks (``compute(key)``, kept), emptied past 50,000 keys but
    for the ``kept`` ones: ``memo[key]`` is one lookup where it is known."""

    __slots__ = ("compute", "kept")

    def __init__(self, compute: Callable[[Any], Any], kept: dict[Any, Any]) -> None:
        super().__init__(kept)
        self.compute = compute
        self.kept = kept

    def __missing__(self, key: Any) -> Any:
        if key in self.kept:  # another thread emptied it this moment
            return self.kept[key]
        if len(self) >= 50_000:
            self.clear()
            self.update(self.kept)
        found = self[key] = self.compute(key)
        return found


def _or_truth(truths: tuple[int, ...]) -> int:
    """Kleene's "any of" on truths (0 false, 1 true, 2 unknown)."""
    return 1 if 1 in truths else (2 if 2 in truths else 0)


class Generated:
    """The generated source of one policy (``source``: the constants, shown by repr in comments,
    then ``evaluate`` and ``answer``), the constants it reads, and the plans of its outcomes."""

    def __init__(self, source: str, functions: dict[str, str], constants: dict[str, Any],
                 plans: list[OutcomePlan]) -> None:
        self.source = source
        self.functions = functions
        self.constants = constants
        self.plans = plans

    def namespace(self, explain: Explain, explain_context: Explain) -> dict[str, Any]:
        """The globals the functions run in: the constants, the two memoised unknown paths (given
        the flat values or the context) and only the builtins they use."""
        return {"__builtins__": dict(_BUILTINS), **self.constants, "explain": explain,
                "explain_context": explain_context}

    def build(self, name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
        """The function ``name`` ("evaluate" or "answer"), compiled into ``namespace``."""
        exec(compile(self.functions[name], f"<policyrules compiled {name}>", "exec"), namespace)
        function: Callable[..., Any] = namespace[name]
        return function


_BUILTINS = {f.__name__: f for f in (type, len, dict, int, str, list, bool, tuple, TypeError)}


def decide(plan: OutcomePlan, truths: tuple[Truth, ...]) -> Any:
    """The answer of ``plan`` when its rules (exceptions, then grants) have ``truths``, or None
    when it is unknown (then it needs an explanation). Mirrors the reference engine."""
    if plan.is_list:
        undecided = False
        for rule, truth in zip(plan.grants, truths, strict=True):
            if truth == TRUE and not undecided:
                return plan.decided(rule.value, [rule], rule.target_ratio)
            if truth != FALSE:
                undecided = True
        return None if undecided else plan.none_applies()
    n = len(plan.exceptions)
    exceptions, grants = truths[:n], truths[n:]
    taken = [r for r, t in zip(plan.exceptions, exceptions, strict=True) if t == TRUE]
    if taken:
        return plan.decided(False, taken)
    granted = [r for r, t in zip(plan.grants, grants, strict=True) if t == TRUE]
    grant_open = any(t == UNKNOWN for t in grants)
    if not granted and not grant_open:
        return plan.decided(False, plan.grants)
    if granted and UNKNOWN not in exceptions:
        return plan.decided(True, granted)
    return None


class _Writer:
    def __init__(self, prepared: PreparedPolicy) -> None:
        self.prepared = prepared
        self.constants: dict[str, Any] = {}
        self.notes: list[str] = []
        self._by_key: dict[tuple[type, Any], str] = {}
        self.fields: dict[str, str] = {}  # field -> local
        self.nodes: dict[Condition, str] = {}  # node -> local
        self.body: list[str] = []
        self.matches: dict[str, str] = {}  # catalog -> local of its match
        #: body lines written otherwise in ``answer``, whose reader takes only ages 0..150
        #: (a line of ``evaluate`` -> its line in ``answer``; None: no line there)
        self.answer_only: dict[str, str | None] = {}
        #: field -> how ``answer``'s reader reads it: a memo's lookup and the call filling it (`reader_lines`)
        self.reads: dict[str, tuple[str, str]] = {}
        #: field -> a table of truths keyed by every word of its vocabulary (`reader_lines`)
        self.word_tables: dict[str, str] = {}

    def const(self, value: Any, note: str | None = None) -> str:
        # plain values are shared; objects (tables of answers, indexes) never are
        shared = type(value) in (str, int, bool, frozenset)
        key: tuple[type, Any] = (type(value), value) if shared else (object, object())
        found = self._by_key.get(key)
        if found is not None:
            return found
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        self._by_key[key] = name
        if note is not None:
            shown = note
        elif isinstance(value, frozenset):  # sorted, so the source reads the same in every process
            shown = "frozenset({" + ", ".join(sorted(map(repr, value))) + "})"
        else:
            shown = repr(value)
        if len(shown) > 100:
            shown = shown[:97] + "..."
        self.notes.append(f"# {name} = {shown}")
        return name

    def field(self, path: str) -> str:
        local = self.fields.get(path)
        if local is None:
            if path not in CONTEXT_FIELDS or not _SAFE_FIELD.match(path):
                raise ValueError(f"not a CONTRACT field: {path!r}")
            local = self.fields[path] = local_of(path)
        return local

    def integer(self, value: int) -> str:
        if type(value) is not int:
            raise ValueError(f"not an integer: {value!r}")
        return repr(value)

    def node(self, node: Condition) -> str:
        found = self.nodes.get(node)
        if found is not None:
            return found
        if isinstance(node, StatusAny):
            return self.statuses_block(node)
        children = [self.node(child) for child in node.children]
        expression = self.expression(node, children)
        local = f"c{len(self.nodes)}"
        if expression in _LITERALS:  # a truth known at load (a not_given condition, and what it decides):
            self.nodes[node] = expression  # the conditions above it read the literal
            self.body.append(f"    # {local} = {expression} (known at load: no code)")
            return expression
        self.nodes[node] = local
        if isinstance(node, AgeRange) and "] if " in expression:  # the fast reader's ages are 0..150
            self.answer_only[f"    {local} = {expression}"] = f"    {local} = {expression.split(' if ')[0]}"
        self.body.append(f"    {local} = {expression}")
        return local

    def statuses_block(self, first: StatusAny) -> str:
        """Every status condition of the policy at once (at the first one's place): their truths,
        from a memo keyed by the person's and the household's statuses (frozensets, or None when
        unknown), as `engines.reference` decides them (a member's household statuses are known
        from the household's list)."""
        person, household = self.field(_STATUSES), self.field(_HOUSEHOLD)
        nodes = list(dict.fromkeys(n for rule in self.prepared.model.rules for n in rule.when.find_all(StatusAny)))
        wanted = [(n.statuses, n.holder == "household", n.statuses & PASSING_STATUSES,
                   0 if n.statuses <= PASSING_STATUSES else 2) for n in nodes]
        unknown = (2,) * len(nodes)
        memo: dict[tuple[frozenset[str] | None, frozenset[str] | None], tuple[int, ...]] = {(None, None): unknown}

        def truth(statuses: frozenset[str], of_household: bool, passing: frozenset[str], settled: int,
                  own: frozenset[str] | None, house: frozenset[str] | None) -> int:
            if of_household:
                return 2 if house is None else (0 if statuses.isdisjoint(house) else 1)
            if own is not None:
                return 0 if statuses.isdisjoint(own) else 1
            if house is None:
                return 2
            return settled if passing.isdisjoint(house) else 1

        def status_truths(own: frozenset[str] | None, house: frozenset[str] | None) -> tuple[int, ...]:
            if len(memo) >= 50_000:
                memo.clear()
                memo[(None, None)] = unknown
            found = memo[(own, house)] = tuple(truth(*w, own, house) for w in wanted)
            return found

        #: the same by a person's statuses as written, for a person without household statuses:
        #: every context ``answer`` reads itself (its reader looks them up here, once)
        as_written: dict[tuple[Any, ...], tuple[int, ...]] = {}

        def truths_or_bad(raw: list[Any]) -> Any:
            own = statuses_or_bad(raw)
            if own is BAD:
                return BAD
            found = memo.get((own, None))
            if found is None:
                found = status_truths(own, None)
            if len(as_written) >= 50_000:
                as_written.clear()
            as_written[tuple(raw)] = found
            return found

        for number, node in enumerate(nodes):
            self.nodes[node] = f"s{number}"
        shown = "; ".join(f"s{i}: any of {sorted(w[0])}{' (household)' if w[1] else ''}" for i, w in enumerate(wanted))
        table = self.const(memo, f"the memo of the status conditions' truths ({shown})")
        function = self.const(status_truths, "status_truths(person's statuses, household's statuses)")
        own_table = self.const(as_written, "the truths of the status conditions by a person's statuses as written "
                                           "(memo, no household)")
        own_function = self.const(truths_or_bad, "the truths by a person's statuses as written, or BAD")
        # ``answer`` reads no household (a household context goes to the careful reader): its
        # reader reads the person's statuses into their truths
        self.reads[_STATUSES] = (f"{own_table}.get(tuple({person}))", f"{own_function}({person})")
        lookup = f"    truths = {table}.get(({person}, {household}))"
        fill = f"        truths = {function}({person}, {household})"
        all_unknown = self.const(unknown, "the truths of them all unknown")
        self.answer_only[lookup] = f"    truths = {all_unknown} if {person} is None else {person}"
        self.answer_only["    if truths is None:"] = None
        self.answer_only[fill] = None
        self.body += [lookup, "    if truths is None:", fill,
                      f"    {', '.join(self.nodes[n] for n in nodes)}, = truths"]
        return self.nodes[first]

    def expression(self, node: Condition, children: list[str]) -> str:
        if isinstance(node, FieldIs) and isinstance(CONTEXT_FIELDS[node.field].kind, Choice | Flag):
            # a word of a vocabulary, or true/false: its truth is looked up (None: not given)
            x = self.field(node.field)
            words: tuple[Any, ...] = (True, False) if isinstance(CONTEXT_FIELDS[node.field].kind, Flag) else (
                CONTEXT_FIELDS[node.field].vocabulary)
            absent = (1 if False in node.values else 0) if node.field in HISTORY_FIELDS else 2
            by_value: dict[Any, int] = {None: absent, **{w: 1 if w in node.values else 0 for w in words}}
            by_word = self.const(by_value, f'truths by value: {by_value!r}')
            if isinstance(CONTEXT_FIELDS[node.field].kind, Choice):  # the reader checks words by it too
                self.word_tables.setdefault(node.field, by_word)
            return f"{by_word}[{x}]"
        if isinstance(node, FieldIs):
            x = self.field(node.field)
            if len(node.values) == 1:
                test = f"{x} == {self.const(next(iter(node.values)))}"
            else:
                test = f"{x} in {self.const(node.values)}"
            if node.field in HISTORY_FIELDS:  # absent: nothing on file
                absent = 1 if False in node.values else 0
                return f"{absent} if {x} is None else (1 if {test} else 0)"
            return f"2 if {x} is None else (1 if {test} else 0)"
        if isinstance(node, AgeRange):
            x = self.field(_AGE)
            low = "" if node.at_least is None else f"{self.integer(node.at_least)} <= "
            high = "" if node.at_most is None else f" <= {self.integer(node.at_most)}"
            if not low and not high:
                return f"2 if {x} is None else 1"
            # the usual ages are looked up (an age from a birth date may lie beyond them)
            least = -1 if node.at_least is None else node.at_least
            most = 10_000 if node.at_most is None else node.at_most
            ages: dict[int | None, int] = {None: 2, **{age: int(least <= age <= most) for age in range(151)}}
            by_age = self.const(ages, f"truths by age: {low}age{high}; None: 2")
            return f"{by_age}[{x}] if {x} is None or {x} <= 150 else (1 if {low}{x}{high} else 0)"
        if isinstance(node, DiagnosisIn):
            match = self.match(node.catalog)
            return f"2 if {match} is None else {match}[0]"
        if isinstance(node, InstitutionIn):
            names = self.prepared.matcher.lists[node.list_name]
            memo = _Memo(lambda name: 1 if normalise_name(name) in names else 0, {None: 2})
            shown = f"the truth of each name as written: on list {node.list_name!r} once normalised; None: 2"
            return f"{self.const(memo, shown)}[{self.field(_NAME)}]"
        if isinstance(node, InCounty):
            a, b = self.field(_REGION), self.field(_INSURED)
            same, other = (1, 0) if node.expected else (0, 1)
            return f"2 if {a} is None or {b} is None else ({same} if {a} == {b} else {other})"
        if isinstance(node, NotGiven):
            return "2"
        if isinstance(node, AllOf):
            if "0" in children:
                return "0"
            unknown = "2" in children
            children = [c for c in dict.fromkeys(children) if c not in _LITERALS]
            if not children:
                return "2" if unknown else "1"
            if unknown:  # false if one is false, else unknown
                return f"{' and '.join(children)} and 2"
            if len(children) == 1:
                return children[0]
            return f"{' and '.join(children)} and (1 if {' == '.join(children)} == 1 else 2)"
        if isinstance(node, AnyOf):
            if "1" in children:
                return "1"
            unknown = "2" in children
            children = [c for c in dict.fromkeys(children) if c not in _LITERALS]
            if not children:
                return "2" if unknown else "0"
            if unknown:  # true if one is true, else unknown
                return f"1 if {' or '.join(f'{c} == 1' for c in children)} else 2"
            if len(children) == 1:
                return children[0]
            if len(children) <= 3:  # a table by the children's truths
                table = tuple(_or_truth(combo[::-1]) for combo in itertools.product((0, 1, 2), repeat=len(children)))
                index = " + ".join(c if i == 0 else f"{3 ** i} * {c}" for i, c in enumerate(children))
                return f"{self.const(table, f'any of {len(children)}, by their truths')}[{index}]"
            return (f"1 if {' or '.join(f'{c} == 1' for c in children)} else "
                    f"(2 if {' or '.join(children)} else 0)")
        if isinstance(node, Not):
            if children[0] in _LITERALS:
                return "102"[int(children[0])]
            return f"(1, 0, 2)[{children[0]}]"
        raise TypeError(f"the compiled engine has no rule for {type(node).__name__}")

    def match(self, catalog: str) -> str:
        """The local holding the match of ``catalog`` (written later, by `matches_block`)."""
        local = self.matches.get(catalog)
        if local is None:
            self.field(_DIAGNOSES)
            self.field(_AGE)
            local = self.matches[catalog] = f"m{len(self.matches)}"
            self.body.append(_MATCHES)
        return local

    def matches_block(self) -> list[str]:
        """Every catalog's match at once, from one memo keyed by the diagnoses (and the age,
        where a catalog reads it): one lookup for all of them."""
        catalogs = list(self.matches)
        indexes = [self.prepared.matcher.catalogs[name] for name in catalogs]
        reads_age = any(index.reads_age for index in indexes)
        memo: dict[Any, tuple[Any, ...]] = {}

        def match_all(diagnoses: tuple[str, ...], age: int | None) -> tuple[Any, ...]:
            if len(memo) >= 50_000:
                memo.clear()
            found = memo[(diagnoses, age) if reads_age else diagnoses] = tuple(
                index.match(diagnoses, age) for index in indexes)
            return found

        dx, age = self.fields[_DIAGNOSES], self.fields[_AGE]
        names = ", ".join(self.matches[name] for name in catalogs) + ","
        memo_name = self.const(memo, "the memo of the catalog matches: "
                               + ", ".join(repr(name) for name in catalogs))
        function = self.const(match_all, "match_all: each catalog's CatalogIndex.match, memoised")
        #: the same by the diagnoses as written (and the age): ``answer``'s reader reads them into
        #: their matches, with one lookup
        as_written: dict[Any, tuple[Any, ...]] = {}

        def matches_or_bad(raw: list[Any], age: int | None) -> Any:
            diagnoses = diagnoses_or_bad(raw)
            if diagnoses is BAD:
                return BAD
            found = memo.get((diagnoses, age) if reads_age else diagnoses)
            if found is None:
                found = match_all(diagnoses, age)
            if len(as_written) >= 50_000:
                as_written.clear()
            as_written[(tuple(raw), age) if reads_age else tuple(raw)] = found
            return found

        own_table = self.const(as_written, "the catalog matches by the diagnoses as written (memo)")
        own_function = self.const(matches_or_bad, "the catalog matches of the diagnoses as written, or BAD")
        written_key = f"(tuple({dx}), {age})" if reads_age else f"tuple({dx})"
        self.reads[_DIAGNOSES] = (f"{own_table}.get({written_key})", f"{own_function}({dx}, {age})")
        key = f"({dx}, {age})" if reads_age else dx
        lookup = f"        matched = {memo_name}.get({key})"
        fill = f"            matched = {function}({dx}, {age})"
        self.answer_only[lookup] = f"        matched = {dx}"
        self.answer_only["        if matched is None:"] = None
        self.answer_only[fill] = None
        return [
            f"    if {dx} is None:",
            f"        {' = '.join(self.matches[name] for name in catalogs)} = None",
            "    else:",
            lookup,
            "        if matched is None:",
            fill,
            f"        {names} = matched",
        ]

    def explain_key(self, rules: tuple[Rule, ...]) -> list[str]:
        """What an unknown answer of ``rules`` depends on: the truth of every condition under
        them but those its other parts decide (an all-of, any-of or not: by the truths under it;
        a catalog's: by its match), and what their explainers read besides the truths (absent
        regions, catalog matches, the age). The fewer the parts, the cheaper the key."""
        parts: dict[str, None] = {}
        for rule in rules:
            for node in rule.when.walk():
                decided = isinstance(node, AllOf | AnyOf | Not | DiagnosisIn)
                if not decided and self.nodes[node] not in _LITERALS:  # a literal is the same in every key
                    parts[self.nodes[node]] = None
                if isinstance(node, InCounty):
                    parts[f"{self.fields[_REGION]} is None"] = None
                    parts[f"{self.fields[_INSURED]} is None"] = None
                elif isinstance(node, DiagnosisIn):
                    parts[self.matches[node.catalog]] = None
                    parts[f"{self.fields[_AGE]} is None"] = None
                elif isinstance(node, StatusAny) and node.holder == "person":
                    # the explanation names household.statuses where a household was sent without it
                    self.fields.setdefault(HOUSEHOLD_GIVEN, local_of(HOUSEHOLD_GIVEN))
                    parts[f"{self.fields[HOUSEHOLD_GIVEN]} is None"] = None
        return list(parts)


def generate(prepared: PreparedPolicy, memo_list: list[dict[tuple[Any, ...], Any]]) -> Generated:
    """The source of ``evaluate(v)`` and ``answer(context)`` for ``prepared``, and the constants
    they read; ``memo_list`` holds a memo of unknown answers per outcome (filled by ``explain``)."""
    writer = _Writer(prepared)
    plans = list(prepared.plans.values())
    for plan in plans:
        for rule in (*plan.exceptions, *plan.grants):
            writer.node(rule.when)
    if writer.matches:
        block = writer.matches_block()
        first = writer.body.index(_MATCHES)
        writer.body[first:first + 1] = block
        writer.body = [line for line in writer.body if line != _MATCHES]
    picks: list[tuple[str, str, str, str | None]] = []  # local, table index, key, table
    answers: list[str] = []
    for number, plan in enumerate(plans):
        rules = (*plan.exceptions, *plan.grants)
        truths = [writer.nodes[rule.when] for rule in rules]
        parts = writer.explain_key(rules)
        key = ", ".join(parts) + "," if parts else ""
        table_name = None
        index = ""
        if len(rules) <= MAX_TABLE_RULES:
            table = tuple(
                decide(plan, tuple(Truth(t) for t in reversed(combo)))
                for combo in itertools.product((0, 1, 2), repeat=len(rules))
            )
            index = " + ".join(t if i == 0 else f"{3 ** i} * {t}" for i, t in enumerate(truths)) or "0"
            table_name = writer.const(table, f"the answers of {plan.name!r}, by the truths of its rules")
        picks.append((f"o{number}", index, key, table_name))
        answers.append(f"{writer.const(plan.name)}: o{number}")

    memos = [writer.const(memo, f"the memo of the unknown answers of {plan.name!r}")
             for memo, plan in zip(memo_list, plans, strict=True)]

    def pick(explain: str, source: str) -> list[str]:
        lines = []
        for number, (local, index, key, table) in enumerate(picks):
            lookup = [f"key = ({key})", f"{local} = {memos[number]}.get(key)", f"if {local} is None:",
                      f"    {local} = {explain}({number}, key, {source})"]
            if table is None:
                lines += [f"    {line}" for line in lookup]
            else:
                lines += [f"    {local} = {table}[{index}]", f"    if {local} is None:",
                          *(f"        {line}" for line in lookup)]
        return lines

    meta = writer.const(prepared.model.meta, "the policy's meta (PolicyMeta)")
    sha = writer.const(prepared.model.sha256)
    # a Determination is built as attrs' __init__ builds it, slot by slot, without the call
    determination = writer.const(Determination, "Determination")
    new = writer.const(object.__new__, "object.__new__")
    slots = {name: writer.const(getattr(Determination, name).__set__, f"the setter of Determination.{name}")
             for name in ("policy", "sha256", "outcomes", "date_used", "date_given", "engine", "id")}
    engine = writer.const("compiled")
    start, end = prepared.model.meta.effective_from, prepared.model.meta.effective_to
    in_force, in_force_or_bad = dates_in_force(start, end)
    period = f"{start}..{end or 'open'}"
    dates = writer.const(in_force, f"the dates this policy is in force on ({period}) as written (memo)")
    date_or_bad = writer.const(in_force_or_bad,
                               f"the date of a text if this policy is in force on it ({period}), else BAD")
    writer.reads["encounter.date"] = (f"{dates}.get(encounter_date)", f"{date_or_bad}(encounter_date)")
    # an insured region this policy does not cover goes to the usual path too, which says so (or,
    # from a PolicySet, picks another policy): so a set calls the answer of the one policy that
    # covers a county without looking at the date or the region first
    tables = {**writer.word_tables, _INSURED: writer.const(prepared.counties, None)}
    reader = reader_lines(lambda value, note: writer.const(value, note), tables, writer.reads)
    outcomes = f"{{{', '.join(answers)}}}"
    evaluate = [
        "def evaluate(v):",
        '    """Every outcome\'s answer for the flat values of validated facts."""',
        "    get = v.get",
        *(f"    {local} = get({path!r})" for path, local in writer.fields.items()),
        *writer.body,
        *pick("explain", "v"),
        f"    return {outcomes}",
    ]
    answer = [
        "def answer(context):",
        '    """The Determination for a CONTRACT context, or None for the careful reader to read it."""',
        *reader,
        *(line for line in (writer.answer_only.get(line, line) for line in writer.body) if line is not None),
        *pick("explain_context", "context"),
        f"    answer = {new}({determination})",
        *(f"    {setter}(answer, {value})" for setter, value in zip(
            slots.values(), (meta, sha, outcomes, "encounter_date", "True", engine, "record_id"), strict=True)),
        "    return answer",
    ]
    lines = [
        f"# compiled from {prepared.model.meta.id!r} (sha256 {prepared.model.sha256!r})",
        "# constants (the namespace holds them; shown by repr):",
        *writer.notes,
        "",
        "",
        *evaluate,
        "",
        "",
        *answer,
        "",
    ]
    functions = {"evaluate": "\n".join(evaluate) + "\n", "answer": "\n".join(answer) + "\n"}
    return Generated("\n".join(lines), functions, writer.constants, plans)
