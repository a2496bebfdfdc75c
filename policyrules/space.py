"""The context space of a policy: the finitely many classes each context field's values fall
into, as far as the rules can tell.

Two values of a field are in one class when no rule can tell them apart: every condition
node gives both the same truth whatever the other fields are. So an outcome is a function
of one class per field, and a question about every context ("what would make this yes?",
"do two versions ever differ?") is answered exactly by enumerating the classes' product::

    space = ContextSpace(policy.model, policy.prepared.matcher, policy.model.grants("pay_later"),
                         insured_region="430511")
    for assignment in space.assignments():        # one class index per field
        values = space.values_of(assignment)      # Facts.values for those classes
        ...

The classes of each kind of field:

- ``person.statuses``: the statuses grouped by which of the rules' status sets they fall in
  (`STATUS_IMPLIES` applied: a lifted-out person is on the register too); one class per
  combination of groups that the sets can tell apart, with its smallest status list.
- ``person.age``: the intervals between every age bound of the rules and every 儿童 bound of
  the catalogs they use.
- a choice or yes/no field: its values, grouped by the value sets the rules test.
- ``encounter.institution.name``: one class per vector of list memberships (a listed name
  and its aliases are one class), and one for a name on none of the lists.
- ``encounter.institution.region``: in or out of the county of ``person.insured_region``
  (only when that is known: it is never varied, it picks the policy).
- ``encounter.diagnoses``: one code list per distinct vector of catalog matches (the shared
  `Matcher`, ``together_with`` pairs included, at every age class).
- every field but ``history`` ones also has the class "absent" (unknown).

``encounter.date`` and ``person.insured_region`` are never varied.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from .engines.matching import TRUE, UNKNOWN, Matcher, Truth, normalise_name
from .errors import PolicyRulesError
from .fields import Choice, Flag
from .model import AgeRange, Condition, DiagnosisIn, FieldIs, InstitutionIn, PolicyModel, Rule, StatusAny
from .words import FIELD_WORDS, describe_value_of
from .vocabulary import CONTEXT_FIELDS, HISTORY_FIELDS, STATUS_IMPLIES, STATUSES

__all__ = ["FIXED_FIELDS", "ContextSpace", "FieldSpace", "SpaceTooLarge", "ValueClass", "cover", "outcome_value"]

#: Fields a space never varies: they pick the policy.
FIXED_FIELDS: tuple[str, ...] = ("encounter.date", "person.insured_region")

_AGE, _STATUSES, _NAME = "person.age", "person.statuses", "encounter.institution.name"
_HOUSEHOLD = "household.statuses"
_REGION, _DIAGNOSES = "encounter.institution.region", "encounter.diagnoses"
_MAX_AGE = 150
_UNLISTED = "名单外医疗机构"
_UNRELATED_CODE = "Z00.0"
#: The most assignments `ContextSpace.assignments` enumerates before giving up.
MAX_ASSIGNMENTS = 500_000


class SpaceTooLarge(PolicyRulesError, RuntimeError):
    """The product of the classes is larger than enumeration copes with."""


@attrs.frozen
class ValueClass:
    """One class of a field's values.

    ``value`` is a representative CONTRACT (JSON) value, None for "absent"; ``fact`` the same
    value as `policyrules.context.Facts.values` holds it; ``members`` a few CONTRACT values of
    the class (``value`` first); ``zh``/``en`` the class in words."""

    field: str
    value: Any
    fact: Any
    zh: str
    en: str
    members: tuple[Any, ...] = ()

    @property
    def absent(self) -> bool:
        return self.fact is None


@attrs.frozen
class FieldSpace:
    """One field's classes, and how a fact value is classified."""

    field: str
    classes: tuple[ValueClass, ...]
    classify_fact: Callable[[Any], int] = attrs.field(eq=False, repr=False)

    def classify(self, fact: Any) -> int:
        """The index of the class holding ``fact`` (a `Facts.values` value; None: absent)."""
        return self.classify_fact(fact)


class ContextSpace:
    """The classes of the fields that ``rules`` read (all the model's rules by default).

    ``insured_region`` is the person's insured county, which "in county" is relative to (None:
    unknown, and the institution's region then cannot change anything and is not varied)."""

    def __init__(self, model: PolicyModel, matcher: Matcher, rules: Iterable[Rule] | None = None,
                 insured_region: str | None = None,
                 also: Sequence[tuple[PolicyModel, Matcher, Iterable[Rule]]] = ()) -> None:
        self.model = model
        self.matcher = matcher
        self.rules = tuple(model.rules if rules is None else rules)
        self.insured_region = insured_region
        # ``also``: the rules of other models (two versions of a policy, for a diff), each with
        # its own lists and catalogs; the classes are then the common refinement of all sides
        sides = [_Side(model, matcher, self.rules), *(_Side(m, mt, tuple(r)) for m, mt, r in also)]
        nodes = [node for side in sides for node in side.nodes]
        read: dict[str, None] = {}
        for side in sides:
            for node in side.nodes:
                # a person's statuses are varied through their own list (what a household passes
                # is part of the base facts); a household's, for the outcomes granted to a household
                reads = (_STATUSES,) if isinstance(node, StatusAny) and node.holder == "person" else node.reads
                read.update(dict.fromkeys(reads))
                if isinstance(node, DiagnosisIn) and side.model.catalogs[node.catalog].reads_age:
                    read[_AGE] = None
        builders: dict[str, Callable[[], FieldSpace]] = {
            _STATUSES: lambda: _statuses(nodes, "person"),
            _HOUSEHOLD: lambda: _statuses(nodes, "household"),
            _AGE: lambda: _ages(sides),
            _NAME: lambda: _names(sides),
            _REGION: lambda: _regions(insured_region),
        }
        spaces: dict[str, FieldSpace] = {}
        for field in read:
            if field in FIXED_FIELDS or (field == _REGION and insured_region is None):
                continue
            if field == _DIAGNOSES:
                continue  # built last: its classes depend on the age classes
            build = builders.get(field)
            spaces[field] = build() if build else _choices(field, nodes)
        if _DIAGNOSES in read:
            ages = spaces.get(_AGE)
            spaces[_DIAGNOSES] = _diagnoses(sides, ages)
        order = [f for f in CONTEXT_FIELDS if f in spaces]
        self.spaces: dict[str, FieldSpace] = {f: spaces[f] for f in order}
        #: The fields varied, in the CONTRACT's order.
        self.fields: tuple[str, ...] = tuple(order)

    def __getitem__(self, field: str) -> FieldSpace:
        return self.spaces[field]

    @property
    def size(self) -> int:
        """The number of assignments (the product of the class counts)."""
        size = 1
        for space in self.spaces.values():
            size *= len(space.classes)
        return size

    def classify(self, values: dict[str, Any]) -> tuple[int, ...]:
        """The class of each field (in ``fields`` order) that flat fact ``values`` fall in."""
        return tuple(self.spaces[f].classify(values.get(f)) for f in self.fields)

    def assignments(self) -> Iterator[tuple[int, ...]]:
        """Every assignment of one class per field; `SpaceTooLarge` beyond ``MAX_ASSIGNMENTS``."""
        if self.size > MAX_ASSIGNMENTS:
            raise SpaceTooLarge(
                f"{self.size} combinations of classes of {', '.join(self.fields)} "
                f"(at most {MAX_ASSIGNMENTS} are enumerated)")
        return itertools.product(*(range(len(self.spaces[f].classes)) for f in self.fields))

    def values_of(self, assignment: Sequence[int], base: dict[str, Any] | None = None) -> dict[str, Any]:
        """Flat fact values: ``base`` (default: just the insured region) with each field set to
        its class's representative (an absent class removes the field)."""
        values = dict(base) if base is not None else (
            {"person.insured_region": self.insured_region} if self.insured_region else {})
        for field, index in zip(self.fields, assignment, strict=True):
            fact = self.spaces[field].classes[index].fact
            if fact is None:
                values.pop(field, None)
            else:
                values[field] = fact
        return values


def outcome_value(tests: Callable[[Condition], Callable[[dict[str, Any]], Truth]], grants: Sequence[Rule],
                  exceptions: Sequence[Rule], values: dict[str, Any], is_list: bool = False) -> Any:
    """An outcome's value for flat fact ``values`` under the model's semantics (the reference
    engine's): True/False/None, or for a list outcome the list (tuple) or None. ``tests`` gives a
    condition's compiled test (`ReferenceEngine.compile`)."""
    if is_list:
        for rule in grants:
            truth = tests(rule.when)(values)
            if truth == TRUE:
                return rule.value
            if truth == UNKNOWN:
                return None
        return None
    taken = [tests(r.when)(values) for r in exceptions]
    if TRUE in taken:
        return False
    granted = [tests(r.when)(values) for r in grants]
    if TRUE not in granted and UNKNOWN not in granted:
        return False
    if TRUE in granted and UNKNOWN not in taken:
        return True
    return None


# ---------------------------------------------------------------- the kinds of field


@attrs.frozen
class _Side:
    """One model's rules in a space: its lists and catalogs are its own."""

    model: PolicyModel
    matcher: Matcher
    rules: tuple[Rule, ...]

    @property
    def nodes(self) -> list[Condition]:
        return [node for rule in self.rules for node in rule.when.walk()]


def _absent(field: str) -> ValueClass:
    return ValueClass(field, None, None, "未知（未提供）", "unknown (not given)")


def _with_absent(field: str, classes: list[ValueClass], classify: Callable[[Any], int]) -> FieldSpace:
    if field in HISTORY_FIELDS:  # absent is "nothing on file", the same as false
        return FieldSpace(field, tuple(classes), lambda fact: classify(False if fact is None else fact))
    count = len(classes)
    return FieldSpace(field, (*classes, _absent(field)), lambda fact: count if fact is None else classify(fact))


_STATUS_ORDER = list(STATUSES)


def _statuses(nodes: Sequence[Condition], holder: str) -> FieldSpace:
    """The classes of a status list: the person's (``holder`` "person") or the household's."""
    field = _STATUSES if holder == "person" else _HOUSEHOLD
    sets = list(dict.fromkeys(n.statuses for n in nodes if isinstance(n, StatusAny) and n.holder == holder))

    def vector(statuses: frozenset[str]) -> tuple[bool, ...]:
        closed = statuses.union(*(STATUS_IMPLIES.get(s, frozenset()) for s in statuses))
        return tuple(bool(closed & wanted) for wanted in sets)

    atoms: dict[tuple[bool, ...], list[str]] = {}
    for status in _STATUS_ORDER:
        vec = vector(frozenset({status}))
        if any(vec):
            atoms.setdefault(vec, []).append(status)
    groups = list(atoms.items())
    if len(groups) > 16:
        raise SpaceTooLarge(f"{len(groups)} groups of statuses")
    found: dict[tuple[bool, ...], tuple[int, ...]] = {tuple(False for _ in sets): ()}
    for size in range(1, len(groups) + 1):
        for chosen in itertools.combinations(range(len(groups)), size):
            vec = tuple(any(groups[i][0][j] for i in chosen) for j in range(len(sets)))
            found.setdefault(vec, chosen)
    classes: list[ValueClass] = []
    index_of: dict[tuple[bool, ...], int] = {}
    for vec, chosen in found.items():
        rep = [groups[i][1][0] for i in chosen]
        members = [list(pick) for pick in itertools.islice(
            itertools.product(*(groups[i][1] for i in chosen)), 8)]
        if rep:
            zh = "、".join(STATUSES[s] for s in rep)
            en = ", ".join(rep)
        else:
            zh, en = "无规则所列身份", "none of the statuses the rules name"
        index_of[vec] = len(classes)
        classes.append(ValueClass(field, rep, frozenset(vector_closure(rep)), zh, en, tuple(members)))
    return _with_absent(field, classes, lambda fact: index_of[vector(frozenset(fact))])


def vector_closure(statuses: Iterable[str]) -> set[str]:
    """A status list with the statuses it implies (`STATUS_IMPLIES`)."""
    out = set(statuses)
    for status in list(out):
        out |= STATUS_IMPLIES.get(status, frozenset())
    return out


def _age_cuts(nodes: Sequence[Condition], model: PolicyModel) -> list[int]:
    cuts = {0}
    for node in nodes:
        if isinstance(node, AgeRange):
            if node.at_least is not None:
                cuts.add(node.at_least)
            if node.at_most is not None:
                cuts.add(node.at_most + 1)
        elif isinstance(node, DiagnosisIn):
            for entry in model.catalogs[node.catalog].entries:
                if entry.children:
                    cuts |= {entry.children.certainly_child_below, entry.children.certainly_adult_from}
    return sorted(c for c in cuts if 0 <= c <= _MAX_AGE)


def _ages(sides: Sequence[_Side]) -> FieldSpace:
    cuts = sorted(set().union(*(_age_cuts(side.nodes, side.model) for side in sides)))
    bounds = list(zip(cuts, [*(c - 1 for c in cuts[1:]), _MAX_AGE], strict=True))
    classes = []
    for low, high in bounds:
        zh = f"{low} 周岁" if low == high else f"{low}–{high} 周岁"
        en = f"aged {low}" if low == high else f"aged {low} to {high}"
        classes.append(ValueClass(_AGE, low, low, zh, en, (low,)))

    def classify(age: int) -> int:
        return max(i for i, (low, _) in enumerate(bounds) if low <= age)

    return _with_absent(_AGE, classes, classify)


def _names(sides: Sequence[_Side]) -> FieldSpace:
    lists = [(side, name_) for side in sides
             for name_ in dict.fromkeys(n.list_name for n in side.nodes if isinstance(n, InstitutionIn))]

    def vector(name: str) -> tuple[bool, ...]:
        key = normalise_name(name)
        return tuple(key in side.matcher.lists[name_] for side, name_ in lists)

    groups: dict[tuple[bool, ...], list[str]] = {}
    for side, list_name in lists:
        for member in side.model.institution_lists[list_name].members:
            groups.setdefault(vector(member.name), []).append(member.name)
    unlisted = tuple(False for _ in lists)
    classes: list[ValueClass] = []
    index_of: dict[tuple[bool, ...], int] = {}
    for vec, names in groups.items():
        if vec == unlisted:  # a member of an old list that the new one dropped (or the other way)
            continue
        on = list(dict.fromkeys(side.model.institution_lists[n].label or n
                                for (side, n), inside in zip(lists, vec, strict=True) if inside))
        on_en = list(dict.fromkeys(n for (_, n), inside in zip(lists, vec, strict=True) if inside))
        index_of[vec] = len(classes)
        classes.append(ValueClass(_NAME, names[0], names[0], f"{names[0]}（在{'、'.join(on)}上）",
                                  f"{names[0]} (on {', '.join(on_en)})",
                                  tuple(dict.fromkeys(names))[:8]))
    name = _UNLISTED
    while any(vector(name)):
        name += "之外"
    index_of[unlisted] = len(classes)
    classes.append(ValueClass(_NAME, name, name, "不在任何名单上的医疗机构", "an institution on none of the lists",
                              (name,)))
    return _with_absent(_NAME, classes, lambda fact: index_of[vector(fact)])


def _regions(insured: str | None) -> FieldSpace:
    assert insured is not None
    other = "110101" if insured != "110101" else "110102"
    classes = [
        ValueClass(_REGION, insured, insured, f"县域内（{insured}，即参保县）",
                   f"in county ({insured}, the insured county)", (insured,)),
        ValueClass(_REGION, other, other, "县域外（不是参保县）", "out of county (not the insured county)", (other,)),
    ]
    return _with_absent(_REGION, classes, lambda fact: 0 if fact == insured else 1)


def _choices(field: str, nodes: Sequence[Condition]) -> FieldSpace:
    kind = CONTEXT_FIELDS[field].kind
    if isinstance(kind, Flag):
        vocabulary: tuple[Any, ...] = (True, False)
    elif isinstance(kind, Choice):
        vocabulary = tuple(kind.vocabulary)
    else:  # pragma: no cover - the loader only lets rules test choices and flags
        raise SpaceTooLarge(f"{field} is not a field with finitely many values")
    sets = list(dict.fromkeys(n.values for n in nodes if isinstance(n, FieldIs) and n.field == field))
    groups: dict[tuple[bool, ...], list[Any]] = {}
    for value in vocabulary:
        groups.setdefault(tuple(value in s for s in sets), []).append(value)
    classes: list[ValueClass] = []
    index_of: dict[Any, int] = {}
    for values in groups.values():
        zh, en = describe_value_of(field, values[0])
        if isinstance(values[0], bool):
            name_zh, name_en = FIELD_WORDS.get(field, (field, field))
            zh, en = f"{name_zh}：{zh}", f"{name_en}: {en}"
        for value in values:
            index_of[value] = len(classes)
        classes.append(ValueClass(field, values[0], values[0], zh, en, tuple(values)))
    return _with_absent(field, classes, lambda fact: index_of[fact])


def _diagnoses(sides: Sequence[_Side], ages: FieldSpace | None) -> FieldSpace:
    catalogs = [(side, c) for side in sides
                for c in dict.fromkeys(n.catalog for n in side.nodes if isinstance(n, DiagnosisIn))]
    indexes = [side.matcher.catalogs[c] for side, c in catalogs]
    age_facts = [c.fact for c in ages.classes] if ages is not None else [None]

    def signature(codes: tuple[str, ...]) -> tuple[Truth, ...]:
        return tuple(index.match(codes, age)[0] for index in indexes for age in age_facts)

    candidates: list[tuple[str, ...]] = [(), (_UNRELATED_CODE,)]
    for side, name in catalogs:
        for entry in side.model.catalogs[name].entries:
            candidates.extend((code,) for code in sorted(entry.codes | entry.together_with))
            candidates.extend((code, other) for code in sorted(entry.codes) for other in sorted(entry.together_with))
    found: dict[tuple[Truth, ...], tuple[str, ...]] = {}
    for codes in candidates:
        found.setdefault(signature(codes), codes)
    frontier = list(found.values())
    while frontier:  # close under putting two lists together (an OR, but for together_with pairs)
        fresh = []
        for a, b in itertools.product(frontier, list(found.values())):
            codes = tuple(dict.fromkeys(a + b))
            sig = signature(codes)
            if sig not in found:
                found[sig] = codes
                fresh.append(codes)
        frontier = fresh
        if len(found) > 2000:
            raise SpaceTooLarge(f"more than 2000 classes of diagnoses for {', '.join(c for _, c in catalogs)}")
    classes: list[ValueClass] = []
    index_of: dict[tuple[Truth, ...], int] = {}
    for sig, codes in found.items():
        zh, en = _diagnosis_words(codes, catalogs, sig, len(age_facts))
        index_of[sig] = len(classes)
        classes.append(ValueClass(_DIAGNOSES, list(codes), codes, zh, en, (list(codes),)))
    return _with_absent(_DIAGNOSES, classes, lambda fact: index_of[signature(tuple(fact))])


def _diagnosis_words(codes: tuple[str, ...], catalogs: list[tuple[_Side, str]],
                     signature: tuple[Truth, ...], ages: int) -> tuple[str, str]:
    """A class of diagnoses in words: its codes, and the catalogs they are in (at every age, at
    some ages, or perhaps: the document's gaps)."""
    if not codes:
        return "无诊断", "no diagnosis"
    zh_parts, en_parts = [], []
    said: set[str] = set()
    for n, (side, name) in enumerate(catalogs):
        truths = signature[n * ages:(n + 1) * ages]
        label = f"「{side.model.catalogs[name].label or name}」"
        if label in said:
            continue
        said.add(label)
        if all(t == TRUE for t in truths):
            zh_parts.append(f"在目录{label}中")
            en_parts.append(f"in {name}")
        elif TRUE in truths:
            zh_parts.append(f"某些年龄在目录{label}中")
            en_parts.append(f"in {name} at some ages")
        elif UNKNOWN in truths:
            zh_parts.append(f"是否在目录{label}中未知")
            en_parts.append(f"perhaps in {name}")
    said_zh, said_en = f"诊断 {'、'.join(codes)}", f"diagnoses {', '.join(codes)}"
    if zh_parts:
        return f"{said_zh}（{'；'.join(zh_parts)}）", f"{said_en} ({'; '.join(en_parts)})"
    return f"{said_zh}（不在规则所用目录中）", f"{said_en} (in none of the catalogs the rules use)"


def cover(group: set[tuple[int, ...]], width: int) -> list[list[list[int]]]:
    """Cover ``group`` (assignments of ``width`` fields) with products of class choices, each
    inside the group: one why-not entry per product (``any_of`` the choices of each field)."""
    remaining = set(group)
    boxes = []
    while remaining:
        seed = min(remaining)
        box: list[list[int]] = [[k] for k in seed]
        for dim in range(width):
            others = sorted({a[dim] for a in remaining} - {seed[dim]})
            for k in others:
                trial = [*box[:dim], [k], *box[dim + 1:]]
                if all(a in remaining for a in itertools.product(*trial)):
                    box[dim].append(k)
        for a in itertools.product(*box):
            remaining.discard(a)
        boxes.append(box)
    return boxes
