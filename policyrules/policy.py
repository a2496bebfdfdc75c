"""Loading policies and evaluating contexts: `load_policy`, `load_policies`, `Policy`, `PolicySet`."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .context import Facts, read_context
from .context_fast import read_context_fast
from .determination import Determination
from .engines import DEFAULT_ENGINE, ENGINES, Engine, PreparedPolicy, engine_class
from .errors import NoPolicyError, PolicyLoadError, Problem, UnsupportedConstructError
from .households import HouseholdDetermination, evaluate_household
from .loading import CatalogLibrary, parse_policy
from .model import PolicyModel
from .regions import region_table
from .shipped import shipped_policies_dir
from .suggest import closest

if TYPE_CHECKING:
    from .explain import Explainer, Explanation

__all__ = ["DEFAULT_ENGINE", "ENGINES", "Policy", "PolicySet", "load_policies", "load_policy", "shipped_policies_dir"]

#: The engine whose answers check the others' (Rete's every value).
CHECKING_ENGINE = "compiled"
#: The policy-choice memo of a `PolicySet` is emptied when it holds this many (region, date) keys.
SELECT_MEMO_LIMIT = 50_000


class Policy:
    """One loaded policy: its model (``.model``) and its engines, each built once.

    Engines are built on first use (the default one at load); every registered engine
    validates the model at load, so a policy one of them cannot express is a load problem.
    A policy pickles as its model: unpickling builds its engines again (the compiled engine's
    generated code included), so a `multiprocessing` pool can be handed loaded policies."""

    def __init__(self, model: PolicyModel) -> None:
        self.model = model
        for name in ENGINES:
            engine_class(name).validate(model)
        self.prepared = PreparedPolicy(model)
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self._explainer: Explainer | None = None
        self.prepared.checker = self.engine(CHECKING_ENGINE).evaluate
        self.engine(DEFAULT_ENGINE)
        #: the compiled engine's answer straight from a context (None: the usual path, which
        #: reads it carefully, or says why this policy does not apply to it)
        self._answer = self.engine("compiled").answer_context  # type: ignore[attr-defined]
        self.counties: frozenset[str] = self.prepared.counties

    def __getstate__(self) -> dict[str, Any]:
        return {"model": self.model}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["model"])  # type: ignore[misc]

    @property
    def id(self) -> str:
        return self.model.meta.id

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """What the loader warns of in this policy's file: positioned, bilingual problems with
        ``severity="warning"``; loading never fails on them."""
        return self.model.warnings

    def __repr__(self) -> str:
        meta = self.model.meta
        end = meta.effective_to or "open"
        return f"<Policy {meta.id} {meta.document} {','.join(meta.regions)} {meta.effective_from}..{end}>"

    def in_force(self, date: dt.date) -> bool:
        meta = self.model.meta
        return meta.effective_from <= date and (meta.effective_to is None or date <= meta.effective_to)

    def covers(self, region: str) -> bool:
        return region in self.counties

    def evaluate(self, context: Mapping[str, Any], engine: str = DEFAULT_ENGINE) -> Determination:
        """Evaluate ``context`` (a CONTRACT context) with this policy.

        Raises `ContextError` for a bad context, and `NoPolicyError` when the context's
        date or insured region lies outside what this policy covers.
        """
        if engine == "compiled":  # None: not a dict, not read fast, or not in force
            answer: Determination | None = self._answer(context)
            if answer is not None:
                return answer
        facts = read_context_fast(context)
        self._check_applies(facts)
        return self._evaluate(facts, engine)

    def evaluate_household(self, context: Mapping[str, Any], engine: str = DEFAULT_ENGINE) -> HouseholdDetermination:
        """Each member of a household context answered by this policy, with the household's own
        outcomes (`policyrules.households`)."""
        return evaluate_household(self.evaluate, context, engine)

    def _check_applies(self, facts: Facts) -> None:
        if not self.in_force(facts.date):
            raise NoPolicyError(
                f"{self.id} ({self.model.meta.document}) is in force "
                f"{_period(self.model)}, not on {facts.date}"
                + ("" if facts.date_given else " (the evaluation day: encounter.date is absent)")
            )
        region = facts.values.get("person.insured_region")
        if region is not None and not self.covers(region):
            raise NoPolicyError(
                f"{self.id} covers {_regions(self.model)}, not the insured region {region}"
            )

    def explain(self, context: Mapping[str, Any], engine: str = DEFAULT_ENGINE) -> Explanation:
        """Evaluate ``context`` on ``engine`` and explain the answer: per outcome its trace, what
        would make it yes (``why_not``) and what to ask next (`policyrules.explain`). Raises as
        `evaluate` does."""
        facts = read_context(context)
        self._check_applies(facts)
        return self._explain(facts, engine)

    def _explain(self, facts: Facts, engine: str) -> Explanation:
        from .explain import Explainer

        explainer = self._explainer
        if explainer is None:  # built outside the lock (it asks for an engine, which takes it)
            explainer = self._explainer = Explainer(self)
        return explainer.explain(self._evaluate(facts, engine), facts)

    def engine(self, name: str = DEFAULT_ENGINE) -> Engine:
        """This policy's engine ``name``, built on first use (`UnknownEngineError` for a name that
        is not registered, `EngineUnavailableError` for one that cannot run here)."""
        found = self._engines.get(name)
        if found is None:
            cls = engine_class(name)
            with self._lock:
                found = self._engines.get(name)
                if found is None:
                    found = self._engines[name] = cls(self.prepared)
        return found

    def _evaluate(self, facts: Facts, engine: str) -> Determination:
        outcomes = (self._engines.get(engine) or self.engine(engine)).evaluate(facts)
        return Determination(
            self.model.meta, self.model.sha256, outcomes, facts.date, facts.date_given, engine, facts.id
        )


class PolicySet:
    """Several policies; `evaluate` picks the one in force for the context's region and date."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies: tuple[Policy, ...] = tuple(policies)
        #: (region, date) -> the policy in force there and then (only found ones are kept)
        self._chosen: dict[tuple[str, dt.date], Policy] = {}
        #: the same, by the region and date as written in the context (text): the compiled answer
        #: function of the policy (`CompiledEngine.answer_context`), for a county several
        #: policies cover
        self._chosen_raw: dict[tuple[Any, Any], Any] = {}
        covering: dict[str, list[Policy]] = {}
        for policy in self.policies:
            for county in policy.counties:
                covering.setdefault(county, []).append(policy)
        #: a county one policy alone covers -> its compiled answer, which needs no date first:
        #: it hands a context back (None) on a date that policy is not in force
        self._only: dict[str, Any] = {
            county: found[0]._answer for county, found in covering.items() if len(found) == 1
        }

    def __getstate__(self) -> dict[str, Any]:
        return {"policies": self.policies}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["policies"])  # type: ignore[misc]

    def __iter__(self) -> Iterator[Policy]:
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def __getitem__(self, policy_id: str) -> Policy:
        for policy in self.policies:
            if policy.id == policy_id:
                return policy
        close = closest(policy_id, (p.id for p in self.policies))
        hint = f"did you mean '{close}'? " if close else ""
        raise KeyError(f"no loaded policy has the id '{policy_id}': {hint}"
                       f"loaded: {', '.join(p.id for p in self.policies) or 'none'}")

    def select(self, facts: Facts) -> Policy:
        """The policy in force for the facts' insured region (else institution region) and date."""
        region = facts.values.get("person.insured_region") or facts.values.get(
            "encounter.institution.region"
        )
        found = self._chosen.get((region, facts.date)) if region is not None else None
        if found is not None:
            return found
        if region is None:
            raise NoPolicyError(
                "the context names no region (person.insured_region or "
                f"encounter.institution.region); policies loaded: {self.describe()}"
            )
        for policy in self.policies:
            if policy.covers(region) and policy.in_force(facts.date):
                if len(self._chosen) >= SELECT_MEMO_LIMIT:
                    self._chosen.clear()
                self._chosen[(region, facts.date)] = policy
                return policy
        when = f"on {facts.date}" + ("" if facts.date_given else " (the evaluation day)")
        raise NoPolicyError(
            f"no policy covers region {region} ({region_table().name(region)}) {when}; "
            f"covered: {self.describe()}"
        )

    def evaluate(self, context: Mapping[str, Any], engine: str = DEFAULT_ENGINE) -> Determination:
        if engine == "compiled":  # the policy by the region (and date) as written
            try:
                person = context.get("person")
                region = person.get("insured_region") if person else None
                if region is None:
                    region = context["encounter"]["institution"]["region"]
                chosen = self._only.get(region)
                if chosen is None:  # a county several policies cover, if seen on this date before
                    chosen = self._chosen_raw.get((region, context["encounter"]["date"]))
            except (KeyError, TypeError, AttributeError):  # the usual path says what is wrong
                chosen = None
            if chosen is not None:
                answer: Determination | None = chosen(context)
                if answer is not None:
                    return answer
        raw = _raw_key(context) if type(context) is dict else None
        facts = read_context_fast(context)
        values = facts.values
        region = values.get("person.insured_region") or values.get("encounter.institution.region")
        policy = self._chosen.get((region, facts.date)) if region is not None else None
        if policy is None:
            policy = self.select(facts)
        if raw is not None and raw[0] == region and facts.date_given and region not in self._only:
            if len(self._chosen_raw) >= SELECT_MEMO_LIMIT:
                self._chosen_raw.clear()
            self._chosen_raw[raw] = policy._answer
        return policy._evaluate(facts, engine)

    def evaluate_household(self, context: Mapping[str, Any], engine: str = DEFAULT_ENGINE) -> HouseholdDetermination:
        """Each member of a household context answered, with the household's own outcomes
        (`policyrules.households`); a member no policy covers is a `ContextError` naming it."""
        return evaluate_household(self.evaluate, context, engine)

    def explain(self, context: Mapping[str, Any], engine: str = DEFAULT_ENGINE) -> Explanation:
        """The answer of the policy in force for ``context``, explained (`Policy.explain`)."""
        facts = read_context(context)
        return self.select(facts)._explain(facts, engine)

    def evaluate_roster(self, data: Any, values: bool = False, errors: list[dict[str, Any]] | None = None,
                        today: dt.date | None = None, households: Any = None) -> Any:
        """Answer a whole roster on embedded DuckDB (the ``roster`` extra): ``data`` is a pyarrow
        Table, a pandas or polars DataFrame, a path (.parquet, .csv, .jsonl) or an iterable of
        context dicts. Returns a pyarrow Table shaped as ``policyrules roster``'s Parquet output
        (``id``, ``policy``, a struct per outcome; ``values=True`` keeps only the values).

        Rows that are not answered (a bad context, no policy in force) are appended to ``errors``
        as ``{"row", "id", "errors"}``; without that list they raise `RosterRowsError`.
        ``households`` (a table or path of ``household.id`` and ``household.statuses``) is joined
        to the roster's members by their ``household.id`` (docs/contract.md, "Households")."""
        from .sql.run import answer_roster  # the roster extra, imported only here

        return answer_roster(self, data, values=values, errors=errors, today=today, households=households)

    def describe(self) -> str:
        return "; ".join(
            f"{p.id}: {_regions(p.model)} {_period(p.model)}" for p in self.policies
        ) or "none"


def _raw_key(context: dict[str, Any]) -> tuple[Any, Any] | None:
    """The region a policy is chosen by (the insured region, else the institution's) and the
    encounter date, as the context writes them: text, or None where absent; None when either is
    of another type (the usual path judges those)."""
    person = context.get("person")
    encounter = context.get("encounter")
    if type(encounter) is not dict:
        return None
    date = encounter.get("date")
    region = person.get("insured_region") if type(person) is dict else None
    if region is None:
        institution = encounter.get("institution")
        region = institution.get("region") if type(institution) is dict else None
    if type(date) is not str or (region is not None and type(region) is not str):
        return None
    return region, date


def _regions(model: PolicyModel) -> str:
    table = region_table()
    return ", ".join(f"{code} {table.name(code)}" for code in model.meta.regions)


def _period(model: PolicyModel) -> str:
    meta = model.meta
    return f"from {meta.effective_from} to {meta.effective_to or 'further notice'}"


def _library_for(folder: Path) -> CatalogLibrary:
    return CatalogLibrary.beside([folder / "catalogs"])


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Load one policy file. Raises `PolicyLoadError` with every problem found."""
    file = Path(path)
    problems: list[Problem] = []
    data = _read_bytes(file, problems)
    if data is None:
        raise PolicyLoadError(problems)
    model, problems = parse_policy(str(path), data, _library_for(file.parent))
    if model is None:
        raise PolicyLoadError(problems)
    return _policy(model)


def load_policies(directory: str | os.PathLike[str] | None = None) -> PolicySet:
    """Load every ``*.yaml`` policy of ``directory`` (default: the shipped policies).

    All or nothing: if any file is wrong, `PolicyLoadError` lists every problem of every
    file, and nothing is returned half-loaded. Two versions of one region whose periods
    overlap are a problem too.
    """
    folder = Path(directory) if directory is not None else shipped_policies_dir()
    if not folder.is_dir():
        raise PolicyLoadError([Problem(str(folder), 1, 1, "这不是一个文件夹。\nNot a directory.")])
    files = sorted(p for p in folder.glob("*.yaml") if p.is_file())
    return load_files(files, _library_for(folder))


def load_files(files: Sequence[Path], library: CatalogLibrary | None = None) -> PolicySet:
    """Load the given policy files as one set (all or nothing, overlaps checked)."""
    problems: list[Problem] = []
    policies: list[Policy] = []
    for file in files:
        data = _read_bytes(file, problems)
        if data is None:
            continue
        model, found = parse_policy(str(file), data, library or _library_for(file.parent))
        problems.extend(found)
        if model is not None:
            try:
                policies.append(_policy(model))
            except PolicyLoadError as error:
                problems.extend(error.problems)
    problems.extend(_overlaps(policies))
    if problems:
        raise PolicyLoadError(problems)
    return PolicySet(policies)


def _policy(model: PolicyModel) -> Policy:
    """The policy of a model; a construct an engine cannot express is a load problem."""
    try:
        return Policy(model)
    except UnsupportedConstructError as error:
        span = model.meta.span
        raise PolicyLoadError([Problem(
            model.path, span.line if span else 1, span.column if span else 1,
            f"规则无法编译为 Rete（durable_rules）规则。\nThe Rete compiler cannot express this policy: {error}",
            "Split the rule named into simpler rules (see docs/engines.md).",
        )]) from error


def _read_bytes(file: Path, problems: list[Problem]) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError as error:
        problems.append(
            Problem(str(file), 1, 1, f"无法读取文件。\nCannot read the file: {error.strerror}.")
        )
        return None


def _overlaps(policies: Sequence[Policy]) -> list[Problem]:
    problems: list[Problem] = []
    ids: dict[str, Policy] = {}
    for index, a in enumerate(policies):
        meta = a.model.meta
        if meta.id in ids:
            other = ids[meta.id].model
            problems.append(_at(a, f"policy id '{meta.id}' 与 {other.path} 重复。\n"
                                   f"The policy id '{meta.id}' is also used by {other.path}."))
        ids[meta.id] = a
        for b in policies[:index]:
            shared = a.counties & b.counties
            if not shared:
                continue
            start = max(meta.effective_from, b.model.meta.effective_from)
            ends = [d for d in (meta.effective_to, b.model.meta.effective_to) if d is not None]
            end = min(ends) if ends else None
            if end is None or start <= end:
                codes = ", ".join(sorted(shared)[:3])
                problems.append(
                    _at(
                        a,
                        f"与 {b.model.path}（{b.id}）的有效期在同一地区（{codes}）重叠。\n"
                        f"Its period overlaps that of {b.id} ({b.model.path}) for region {codes} "
                        f"from {start}; one region has one policy in force at a time.",
                        "Set effective_to of the older version to the day before the newer "
                        "one's effective_from.",
                    )
                )
    return problems


def _at(policy: Policy, message: str, suggestion: str = "") -> Problem:
    span = policy.model.meta.span
    line, column = (span.line, span.column) if span else (1, 1)
    source = ""
    try:
        source = Path(policy.model.path).read_text("utf-8").splitlines()[line - 1]
    except (OSError, IndexError):
        pass
    return Problem(policy.model.path, line, column, message, suggestion, source)
