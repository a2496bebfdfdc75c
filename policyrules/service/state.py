"""The loaded policy set the service answers with, and how it is replaced (a reload).

A reload reads the folder anew into a new `Loaded`; only when the whole folder loads is it
swapped in (one assignment, so a request in flight keeps the set it began with). A bad edit
keeps the old set serving and every problem is logged with its file:line.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import attrs

from ..errors import PolicyLoadError, PolicyRulesError
from ..policy import Policy, PolicySet, load_policies
from ..shipped import shipped_policies_dir

__all__ = ["Loaded", "PolicyStore", "ReloadResult"]

log = logging.getLogger("policyrules.service")


@attrs.frozen
class Loaded:
    """One loaded set: ``generation`` counts the successful loads (1 for the first)."""

    policies: PolicySet
    generation: int
    loaded_at: dt.datetime

    def audit(self, policy: Policy) -> str:
        """``id@sha256`` of ``policy``, the ``Policyrules-Policy`` header's item."""
        return f"{policy.id}@{policy.model.sha256}"


@attrs.frozen
class ReloadResult:
    ok: bool
    generation: int
    problems: tuple[str, ...] = ()


class PolicyStore:
    """The folder the service reads and the set loaded from it (``current``)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else shipped_policies_dir()
        self._lock = threading.Lock()
        self.current = Loaded(load_policies(self.folder), 1, dt.datetime.now(dt.timezone.utc))

    def reload(self) -> ReloadResult:
        """Load the folder anew; on any problem keep the current set and log each problem."""
        with self._lock:
            try:
                policies = load_policies(self.folder)
            except PolicyLoadError as error:
                rendered = tuple(problem.render() for problem in error.problems)
                log.error("reload of %s failed, still serving generation %d: %d problem(s)",
                          self.folder, self.current.generation, len(rendered))
                for line in rendered:
                    log.error("%s", line)
                return ReloadResult(False, self.current.generation, rendered)
            except (PolicyRulesError, OSError) as error:
                log.error("reload of %s failed, still serving generation %d: %s",
                          self.folder, self.current.generation, error)
                return ReloadResult(False, self.current.generation, (str(error),))
            self.current = Loaded(policies, self.current.generation + 1, dt.datetime.now(dt.timezone.utc))
            log.info("reloaded %s: generation %d, %d policies", self.folder, self.current.generation,
                     len(policies))
            return ReloadResult(True, self.current.generation)
