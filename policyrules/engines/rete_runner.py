"""The Rete runner: durable_rules driven through its agenda, behind a wrapper no caller can push
into one of its hazards (docs/engines.md and `policyrules.engines.rete` list them).

durable's own host runs each action through a Python callback, serialising the session state
to JSON around every one, and swallows an exception raised inside it into that state. The
runner drives durable's agenda itself instead: it asserts the fact, takes every action durable
scheduled for that session (``start_action_for_state``, then ``complete_and_start_action``
until none is left) and reads from each the rule that fired.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from typing import Any

from ..errors import EngineUnavailableError, ReteError
from .crosscheck import Decided
from .rete_compiler import ReteProgram

__all__ = ["AVAILABLE", "CREATE_ATTEMPTS", "CREATE_FAILURES", "SESSION_POOL", "SESSION_RESET",
           "UNAVAILABLE_REASON", "runner"]

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

    def run(self, fact: dict[str, Any]) -> Decided:
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

    def decide(self, fired: list[str]) -> Decided:
        """The values the fired rules decide, with the model rules behind them."""
        results: Decided = {}
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
