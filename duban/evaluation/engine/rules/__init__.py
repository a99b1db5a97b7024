"""The scoring rules of DOMAIN.md, one class each, all of the same shape.

``base`` holds the shape (``Rule`` and its declared capabilities) and the
arithmetic rules share; one module per family holds the rules themselves;
``registry`` maps each ``kind`` to its class. Importing this package registers
every rule. To add a rule kind, copy one class (and its tests), give it a new
``kind``, its capabilities and its step ``texts``, and decorate it with
``@register`` (see ../README.md); nothing else changes.
"""

from duban.evaluation.engine.rules.base import (
    CLASS_CODE,
    NEGATIVE,
    NO_EXTRA,
    Extra,
    Peers,
    Rule,
    Trace,
    completion,
    completion_steps,
)
from duban.evaluation.engine.rules.counts import Bonus, Deduction, Veto, WeightedCount
from duban.evaluation.engine.rules.discretionary import Discretionary
from duban.evaluation.engine.rules.peers import Rank, RelativeToBest
from duban.evaluation.engine.rules.registry import (
    RULES,
    RuleError,
    UnknownRule,
    read_rule,
    register,
    rule_from_dict,
    rule_to_dict,
    unknown_kind_message,
)
from duban.evaluation.engine.rules.targets import Attainment, Band, Shortfall, Steps, Threshold

__all__ = [
    "CLASS_CODE",
    "NEGATIVE",
    "NO_EXTRA",
    "RULES",
    "Attainment",
    "Band",
    "Bonus",
    "Deduction",
    "Discretionary",
    "Extra",
    "Peers",
    "Rank",
    "RelativeToBest",
    "Rule",
    "RuleError",
    "Shortfall",
    "Steps",
    "Threshold",
    "Trace",
    "UnknownRule",
    "Veto",
    "WeightedCount",
    "completion",
    "completion_steps",
    "read_rule",
    "register",
    "rule_from_dict",
    "rule_to_dict",
    "unknown_kind_message",
]
