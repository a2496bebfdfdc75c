"""The engines: each answers a policy for validated facts, and all answer alike.

- `compiled`: each policy compiled at load into one generated Python function (`codegen`); the
  default, and the engine that checks Rete's every value.
- `reference`: pure Python, Kleene logic over the model; the readable oracle.
- `rete`: durable_rules' Rete network, every value checked by the checking engine.

Shared below them: `matching` (truth encoding, institution names, catalog matching) and
`outcomes` (each outcome's answers, built once); beside them: `crosscheck` (one engine's values
checked against another's). A new engine is one module with an `Engine` subclass and one line
in `_REGISTRY`. A batch-only target (such as SQL for rosters) is registered in `BATCH_TARGETS`
instead, so that per-call paths (and the YAML case plugin) never run it.
"""

from __future__ import annotations

import importlib

from ..errors import UnknownEngineError, UnsupportedConstructError
from .base import Answers, Engine, PreparedPolicy

__all__ = ["BATCH_TARGETS", "DEFAULT_ENGINE", "ENGINES", "Answers", "Engine", "PreparedPolicy",
           "UnsupportedConstructError", "engine_class"]

#: name -> "module:class" of every per-call engine (imported on first use).
_REGISTRY: dict[str, str] = {
    "compiled": "policyrules.engines.compiled:CompiledEngine",
    "reference": "policyrules.engines.reference:ReferenceEngine",
    "rete": "policyrules.engines.rete:ReteEngine",
}
#: The engines `evaluate` accepts, by name.
ENGINES: tuple[str, ...] = tuple(_REGISTRY)
#: The engine used when none is named.
DEFAULT_ENGINE = "compiled"
#: Batch-only targets (they answer whole rosters, never one call): name -> "module:object".
BATCH_TARGETS: dict[str, str] = {
    "sql": "policyrules.sql.run:answer_roster",
}


def engine_class(name: str) -> type[Engine]:
    """The engine registered as ``name``; `UnknownEngineError` naming the engines for any other."""
    path = _REGISTRY.get(name)
    if path is None:
        raise UnknownEngineError(f"unknown engine {name!r}; one of: {', '.join(ENGINES)}")
    module, _, attribute = path.partition(":")
    cls: type[Engine] = getattr(importlib.import_module(module), attribute)
    return cls
