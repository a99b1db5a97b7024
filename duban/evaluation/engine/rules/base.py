"""The shape every scoring rule shares, and the arithmetic several rules use.

A rule is a small frozen dataclass holding its published parameters. It knows
how to read them from a scheme file (``parse``), write them back (``params``),
check them against its item (``check``) and score one value (``evaluate``).
``evaluate`` appends explanation steps only when given a trace list, so the
scoring hot path builds no explanation and the text, produced later, follows
the very same arithmetic.

What the engine must do around a rule (read one value per class, look up a
written reason, refuse negative counts, mark a veto, compare the peer group)
is declared on the class as a capability below; the engine reads those
declarations and never asks which class a rule is. The engine settles missing
values, missing targets and rejected values before a rule runs, so
``evaluate`` always receives a number (and a target when ``needs_target()``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from duban.evaluation.engine.decimals import INFINITY, ONE, ZERO
from duban.evaluation.engine.explain import Step, Text
from duban.evaluation.engine.params import Reader

if TYPE_CHECKING:
    from duban.evaluation.engine.model import Item

CLASS_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class Peers(NamedTuple):
    """Where a value stands among the ranked units of its comparison group."""

    place: int  # 1 + number of ranked units with a strictly better value
    size: int  # ranked units that have a value
    best: Decimal | None  # the best value among them (None when there are none)
    tied: bool  # another ranked unit has the same value


class Extra(NamedTuple):
    """Inputs only some rules use; one shared empty instance serves the others."""

    peers: Peers | None = None
    parts: tuple[Decimal | None, ...] | None = None  # per_class: one value per class
    note: str | None = None  # needs_reason: the written reason


NO_EXTRA = Extra()

Trace = list[Step] | None


def completion(value: Decimal, target: Decimal, higher: bool) -> Decimal:
    """Completion ratio from the raw figures: actual/target, or target/actual when lower is better.

    A zero target (higher is better) is met by any actual >= 0: exactly met at 0,
    unboundedly exceeded above it (so a cap applies), missed (0) below it. When
    lower is better, an actual of 0 or less is the best possible (unbounded,
    capped) unless the target is also 0, which is exactly met.
    """
    if higher:
        if target > 0:
            return value / target
        if value > 0:
            return INFINITY
        return ONE if value == 0 else ZERO
    if value > 0:
        return target / value
    if value == 0 and target == 0:
        return ONE
    return INFINITY


def completion_steps(trace: list[Step], value: Decimal, target: Decimal, higher: bool) -> None:
    trace.append(Step("actual_target", {"value": value, "target": target}))
    ratio = completion(value, target, higher)
    if higher:
        if target > 0:
            trace.append(Step("rate", {"rate": ratio}))
        elif ratio == 0:
            trace.append(Step("zero_target_missed"))
        else:
            trace.append(Step("zero_target_met"))
    elif value > 0:
        trace.append(Step("rate_lower", {"rate": ratio}))
    else:
        trace.append(Step("best_possible"))


def floor_zero(score: Decimal, trace: Trace) -> Decimal:
    if score < 0:
        if trace is not None:
            trace.append(Step("floor_zero"))
        return ZERO
    return score


def done(score: Decimal, trace: Trace) -> Decimal:
    if trace is not None:
        trace.append(Step("score", {"score": score}))
    return score


NEGATIVE = Text("次数不能为负数", "a count must not be negative")


class Rule:
    """The shape every rule shares; subclasses are frozen dataclasses of their parameters."""

    kind: ClassVar[str] = ""
    # Capabilities: what the engine does around ``evaluate``. Declare them; never let
    # code elsewhere find them out from the class.
    compares: ClassVar[bool] = False  # needs the peer group's standing (``extra.peers``)
    occurrences: ClassVar[bool] = False  # the value counts events: a negative one is invalid
    checks_values: ClassVar[bool] = False  # overrides ``reject`` with checks of its own
    needs_reason: ClassVar[bool] = False  # reads the written reason (``extra.note``)
    per_class: ClassVar[bool] = False  # reads one value per class (``classes``), as parts
    vetoes: ClassVar[bool] = False  # a value above 0 vetoes the unit
    can_improve: ClassVar[bool] = True  # more work before year end can still raise the score
    # Explanation step texts this rule adds: code -> (Chinese, English). Shared steps
    # (value, actual_target, rate, deduct, score …) are in ``explain.TEMPLATES``.
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {}

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        """Read the parameters (``kind`` already read); problems go to ``r``."""
        return cls()

    def params(self) -> dict[str, object]:
        """The parameters as written in a scheme file (without ``kind``)."""
        return {}

    def needs_target(self) -> bool:
        """Whether a unit without a target cannot be scored (flagged ``no_target``)."""
        return False

    def check(self, item: Item) -> list[tuple[str, str]]:
        """Problems with these parameters for this item, as (path below the item, message)."""
        return []

    def max_score(self, points: Decimal) -> Decimal:
        """The most this rule can award: the item's points unless a cap above 1 is stated."""
        return points

    def classes(self) -> tuple[str, ...]:
        """A per-class rule's class codes, in the order of ``extra.parts``."""
        return ()

    def keys(self, indicator: str) -> tuple[str, ...]:
        """Indicator codes whose values this rule reads: ``<indicator>.<class>`` per class."""
        if self.per_class:
            return tuple(f"{indicator}.{code}" for code in self.classes())
        return (indicator,)

    def reject(self, item: Item, value: Decimal, extra: Extra) -> Text | None:
        """Why a value cannot be scored (the engine then scores 0 and lists the problem).

        A rule that overrides this declares ``checks_values``: the engine checks counts
        for negatives itself and calls ``reject`` only for rules that declare it.
        """
        if self.occurrences:
            if value < 0:
                return NEGATIVE
            if extra.parts is not None and any(p is not None and p < 0 for p in extra.parts):
                return NEGATIVE
        return None

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        raise NotImplementedError

    def standing_key(self, value: Decimal, peers: Peers) -> Hashable:
        """For a rule that compares: all that its score depends on besides the item and the
        target. Units of one item whose keys are equal score the same, whatever their
        comparison group, so the engine evaluates each key once per item."""
        return (value, peers)
