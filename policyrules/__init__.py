"""policyrules: Chinese regional health-policy notices (健康扶贫) as cited, three-valued rule sets.

    >>> import policyrules
    >>> policies = policyrules.load_policies()          # the shipped policies
    >>> answer = policies.evaluate({"person": {"insured_region": "430511", "statuses": ["destitute"]},
    ...                             "encounter": {"kind": "inpatient", "date": "2022-03-01",
    ...                                           "institution": {"name": "陈家桥卫生院", "region": "430511"}}})
    >>> answer.value("pay_later")
    True

The names of contexts and outcomes are those of the CONTRACT (docs/contract.md); every error
derives from `PolicyRulesError`; docs/architecture.md shows where everything lives.
"""

from .determination import Determination, Outcome
from .errors import (
    ContextError,
    ContextProblem,
    EngineDisagreement,
    EngineUnavailableError,
    JsonInputError,
    NoPolicyError,
    PolicyLoadError,
    PolicyRulesError,
    Problem,
    ReteError,
    SourceSpan,
    UnknownEngineError,
)
from .policy import (
    DEFAULT_ENGINE,
    ENGINES,
    Policy,
    PolicySet,
    load_policies,
    load_policy,
)

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "EngineDisagreement",
    "EngineUnavailableError",
    "ReteError",
    "ContextError",
    "ContextProblem",
    "Determination",
    "JsonInputError",
    "NoPolicyError",
    "Outcome",
    "Policy",
    "PolicyLoadError",
    "PolicyRulesError",
    "PolicySet",
    "Problem",
    "SourceSpan",
    "UnknownEngineError",
    "load_policies",
    "load_policy",
]

__version__ = "0.1.0"
