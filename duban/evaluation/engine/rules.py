"""The scoring rules of DOMAIN.md, one class each, all of the same shape.

A rule is a small frozen dataclass holding its published parameters. It knows
how to read them from a scheme file (``parse``), write them back (``params``),
check them against its item (``check``) and score one value (``evaluate``).
``evaluate`` appends explanation steps only when given a trace list, so the
scoring hot path builds no explanation and the text, produced later, follows
the very same arithmetic. To add a rule, copy one class, give it a new
``kind``, add it to ``RULES`` and its step texts to ``explain.TEMPLATES``;
a rule that compares units may narrow ``standing_key`` to what its score reads.

The engine settles missing values, missing targets and rejected values before
a rule runs, so ``evaluate`` always receives a number (and a target when
``needs_target()``).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from duban.errors import Problem
from duban.evaluation.engine.decimals import HUNDRED, INFINITY, ONE, ZERO
from duban.evaluation.engine.explain import Step, Text
from duban.evaluation.engine.params import Reader, join
from duban.text import gettext as _

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
    parts: tuple[Decimal | None, ...] | None = None  # weighted count: one value per class
    note: str | None = None  # discretionary: the written reason


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


def _floor_zero(score: Decimal, trace: Trace) -> Decimal:
    if score < 0:
        if trace is not None:
            trace.append(Step("floor_zero"))
        return ZERO
    return score


def _done(score: Decimal, trace: Trace) -> Decimal:
    if trace is not None:
        trace.append(Step("score", {"score": score}))
    return score


NEGATIVE = Text("次数不能为负数", "a count must not be negative")


class Rule:
    """The shape every rule shares; subclasses are frozen dataclasses of their parameters."""

    kind: ClassVar[str] = ""
    compares: ClassVar[bool] = False  # needs the peer group (rank, relative to best)
    occurrences: ClassVar[bool] = False  # the value counts events: negative is invalid
    checks_values: ClassVar[bool] = False  # has its own ``reject``
    can_improve: ClassVar[bool] = True  # more work before year end can still raise the score
    vetoes: ClassVar[bool] = False  # a value above 0 vetoes the unit
    per_class: ClassVar[bool] = False  # reads one value per class (``keys``), passed as parts

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        """Read the parameters (``kind`` already read); problems go to ``r``."""
        return cls()

    def params(self) -> dict[str, object]:
        """The parameters as written in a scheme file (without ``kind``)."""
        return {}

    def needs_target(self) -> bool:
        return False

    def check(self, item: Item) -> list[tuple[str, str]]:
        """Problems with these parameters for this item, as (path below the item, message)."""
        return []

    def max_score(self, points: Decimal) -> Decimal:
        """The most this rule can award: the item's points unless a cap above 1 is stated."""
        return points

    def keys(self, indicator: str) -> tuple[str, ...]:
        """Indicator codes whose values this rule reads."""
        return (indicator,)

    def reject(self, item: Item, value: Decimal, extra: Extra) -> Text | None:
        """Why a value cannot be scored (the engine then scores 0 and lists the problem)."""
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


@dataclass(frozen=True)
class Attainment(Rule):
    """按完成率计分: points × min(completion, cap)."""

    kind: ClassVar[str] = "attainment"
    cap: Decimal = ONE

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        return cls(cap=r.number("cap", default=ONE, positive=True))

    def params(self) -> dict[str, object]:
        return {"cap": self.cap}

    def needs_target(self) -> bool:
        return True

    def max_score(self, points: Decimal) -> Decimal:
        return points * self.cap

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        assert target is not None
        higher = item.higher
        ratio = completion(value, target, higher)
        share = self.cap if ratio > self.cap else ratio
        if share < 0:
            share = ZERO
        score = item.points * share
        if trace is not None:
            completion_steps(trace, value, target, higher)
            if ratio > self.cap:
                trace.append(Step("capped", {"cap_share": self.cap}))
            trace.append(Step("product", {"points": item.points, "share": share}))
        return _done(score, trace)


@dataclass(frozen=True)
class Shortfall(Rule):
    """每低1个百分点扣d分，扣完为止: full points at target, minus d per completion point short."""

    kind: ClassVar[str] = "shortfall"
    per_point: Decimal = ZERO

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        return cls(per_point=r.number("per_point", minimum=ZERO))

    def params(self) -> dict[str, object]:
        return {"per_point": self.per_point}

    def needs_target(self) -> bool:
        return True

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        assert target is not None
        ratio = completion(value, target, item.higher)
        if trace is not None:
            completion_steps(trace, value, target, item.higher)
        if ratio >= ONE:
            if trace is not None:
                trace.append(Step("met"))
            return _done(item.points, trace)
        short = HUNDRED - ratio * HUNDRED
        amount = short * self.per_point
        if trace is not None:
            trace.append(Step("below_target", {"short": short}))
            trace.append(Step("per_point", {"per_point": self.per_point}))
            trace.append(Step("deduct", {"amount": amount}))
        return _done(_floor_zero(item.points - amount, trace), trace)


@dataclass(frozen=True)
class Rank(Rule):
    """第一名满分，按名次依次递减s分: the best unit gets the points, each place lower s less."""

    kind: ClassVar[str] = "rank"
    compares: ClassVar[bool] = True
    per_place: Decimal = ZERO

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        return cls(per_place=r.number("per_place", minimum=ZERO))

    def params(self) -> dict[str, object]:
        return {"per_place": self.per_place}

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        peers = extra.peers
        assert peers is not None
        amount = (peers.place - 1) * self.per_place
        if trace is not None:
            trace.append(Step("value", {"value": value}))
            code = "rank_place_tied" if peers.tied else "rank_place"
            args: dict[str, object] = {"place": peers.place, "count": peers.size}
            trace.append(Step(code, args))
            trace.append(Step("rank_rule", {"points": item.points, "per_place": self.per_place}))
            if amount:
                trace.append(Step("deduct", {"amount": amount}))
        return _done(_floor_zero(item.points - amount, trace), trace)

    def standing_key(self, value: Decimal, peers: Peers) -> Hashable:
        return peers.place  # the score is the points less a step per place


@dataclass(frozen=True)
class RelativeToBest(Rule):
    """以最高为满分，其余按比例: points × value / best (best / value when lower is better)."""

    kind: ClassVar[str] = "relative_to_best"
    compares: ClassVar[bool] = True

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        peers = extra.peers
        assert peers is not None
        best = peers.best
        if trace is not None:
            trace.append(Step("value", {"value": value}))
        if best is None:
            if trace is not None:
                trace.append(Step("no_peers"))
            return _done(ZERO, trace)
        if trace is not None:
            trace.append(Step("best_higher" if item.higher else "best_lower", {"best": best}))
        if item.higher:
            if best <= 0:
                if trace is not None:
                    trace.append(Step("no_best"))
                return _done(ZERO, trace)
            share = value / best
        elif value <= 0:
            # Lower is better and nothing happened: nobody can do better.
            share = ONE
        else:
            share = best / value if best > 0 else ZERO
        # A unit that is shown but not ranked may beat the ranked best: clamp to [0, 1].
        share = min(max(share, ZERO), ONE)
        if trace is not None:
            trace.append(Step("product", {"points": item.points, "share": share}))
        return _done(item.points * share, trace)

    def standing_key(self, value: Decimal, peers: Peers) -> Hashable:
        return (value, peers.best)


@dataclass(frozen=True)
class Band:
    """One step: from ``bound`` on (``at_least``) or up to it (``at_most``), inclusive."""

    bound: Decimal
    points: Decimal


@dataclass(frozen=True)
class Steps(Rule):
    """超过95%(含)得3分: points by bands of the value (or of the completion rate)."""

    kind: ClassVar[str] = "steps"
    bands: tuple[Band, ...] = ()
    bound: str = "at_least"  # at_least: higher is better; at_most: lower is better
    basis: str = "value"  # value, or rate (completion in %, needs a target)

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        basis = r.choice("basis", ("value", "rate"), default="value")
        bands: list[Band] = []
        kinds: set[str] = set()
        for element, where in r.items("bands"):
            band = Reader(element, where, r.problems)
            kind = "at_most" if band.has("at_most") else "at_least"
            if band.has("at_most") and band.has("at_least"):
                band.problem("", _("give either at_least or at_most, not both"))
            kinds.add(kind)
            bands.append(Band(band.number(kind), band.number("points", minimum=ZERO)))
            band.done()
        if not bands and r.has("bands"):
            r.problem("bands", _("must list at least one band"))
        if len(kinds) > 1:
            r.problem("bands", _("all bands must use the same key (at_least or at_most)"))
        for index in range(1, len(bands)):
            if bands[index].bound <= bands[index - 1].bound:
                r.problem(join("bands", index), _("bands must be in strictly ascending order"))
        return cls(
            bands=tuple(bands), bound=kinds.pop() if len(kinds) == 1 else "at_least", basis=basis
        )

    def params(self) -> dict[str, object]:
        bands = [{self.bound: band.bound, "points": band.points} for band in self.bands]
        return {"basis": self.basis, "bands": bands}

    def needs_target(self) -> bool:
        return self.basis == "rate"

    def check(self, item: Item) -> list[tuple[str, str]]:
        found = []
        # A completion rate is better when higher whatever the item's direction.
        rising = item.higher or self.basis == "rate"
        if (self.bound == "at_least") != rising:
            wanted = "at_least" if rising else "at_most"
            reason = "basis rate" if self.basis == "rate" else f"direction {item.direction}"
            found.append(("rule.bands", f"{reason} needs {wanted} bands"))
        for index, band in enumerate(self.bands):
            if band.points > item.points:
                found.append((f"rule.bands[{index}].points", "must not exceed the item's points"))
        return found

    def max_score(self, points: Decimal) -> Decimal:
        return max((band.points for band in self.bands), default=ZERO)

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        unit = ""
        if self.basis == "rate":
            assert target is not None
            measured = completion(value, target, item.higher)
            measured = measured * HUNDRED if measured.is_finite() else measured
            unit = "%"
            if trace is not None:
                completion_steps(trace, value, target, item.higher)
        else:
            measured = value
            if trace is not None:
                trace.append(Step("value", {"value": value}))
        chosen = self._band(measured)
        if chosen is None:
            if trace is not None and self.bands:
                edge = self.bands[0] if self.bound == "at_least" else self.bands[-1]
                code = "no_band" if self.bound == "at_least" else "no_band_lower"
                trace.append(Step(code, {"bound": edge.bound, "unit": unit}))
            return _done(ZERO, trace)
        if trace is not None:
            code = "band" if self.bound == "at_least" else "band_lower"
            trace.append(Step(code, {"bound": chosen.bound, "unit": unit, "points": chosen.points}))
        return _done(chosen.points, trace)

    def _band(self, measured: Decimal) -> Band | None:
        bounds = [band.bound for band in self.bands]
        if self.bound == "at_least":
            index = bisect_right(bounds, measured)  # bands with bound <= measured
            return self.bands[index - 1] if index > 0 else None
        index = bisect_left(bounds, measured)  # first band with bound >= measured
        return self.bands[index] if index < len(bounds) else None


@dataclass(frozen=True)
class Threshold(Rule):
    """达标计分: full points if the target is met, else a stated share (default 0)."""

    kind: ClassVar[str] = "threshold"
    else_share: Decimal = ZERO

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        return cls(else_share=r.number("else_share", default=ZERO, minimum=ZERO, maximum=ONE))

    def params(self) -> dict[str, object]:
        return {"else_share": self.else_share}

    def needs_target(self) -> bool:
        return True

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        assert target is not None
        met = value >= target if item.higher else value <= target
        if trace is not None:
            trace.append(Step("actual_target", {"value": value, "target": target}))
            trace.append(Step("met" if met else "not_met"))
            if not met and self.else_share:
                trace.append(Step("else_share", {"else_share": self.else_share}))
        return _done(item.points if met else item.points * self.else_share, trace)


@dataclass(frozen=True)
class WeightedCount(Rule):
    """抓获A级逃犯每名计10分…最高10分: weight per class × count, at most the item's points.

    Each class is its own indicator code ``<indicator>.<class>`` (``fugitive.caught.A``).
    """

    kind: ClassVar[str] = "weighted_count"
    occurrences: ClassVar[bool] = True
    per_class: ClassVar[bool] = True
    weights: tuple[tuple[str, Decimal], ...] = ()

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        weights = r.number_map("weights", minimum=ZERO)
        for code, _weight in weights:
            if not CLASS_CODE.match(code):
                r.problem(join("weights", code), _("class codes use letters, digits, '_' or '-'"))
        return cls(weights=weights)

    def params(self) -> dict[str, object]:
        return {"weights": dict(self.weights)}

    def keys(self, indicator: str) -> tuple[str, ...]:
        return tuple(f"{indicator}.{code}" for code, _ in self.weights)

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        parts = extra.parts
        assert parts is not None
        total = ZERO
        for (code, weight), count in zip(self.weights, parts, strict=True):
            if count is None:
                if trace is not None:
                    trace.append(Step("class_missing", {"cls": code}))
                continue
            subtotal = weight * count
            total += subtotal
            if trace is not None:
                args = {"cls": code, "count": count, "weight": weight, "subtotal": subtotal}
                trace.append(Step("class_count", args))
        if trace is not None:
            trace.append(Step("sum", {"total": total}))
        if total > item.points:
            if trace is not None:
                trace.append(Step("cap_points", {"cap": item.points}))
            total = item.points
        return _done(total, trace)


@dataclass(frozen=True)
class Deduction(Rule):
    """扣分项: starts at the points, minus d per occurrence, never below 0."""

    kind: ClassVar[str] = "deduction"
    occurrences: ClassVar[bool] = True
    can_improve: ClassVar[bool] = False
    per_occurrence: Decimal = ZERO

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        return cls(per_occurrence=r.number("per_occurrence", minimum=ZERO))

    def params(self) -> dict[str, object]:
        return {"per_occurrence": self.per_occurrence}

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        amount = value * self.per_occurrence
        if trace is not None:
            trace.append(Step("occurrences", {"count": value}))
            if value:
                trace.append(Step("per_occurrence_minus", {"per": self.per_occurrence}))
                trace.append(Step("deduct", {"amount": amount}))
        return _done(_floor_zero(item.points - amount, trace), trace)


@dataclass(frozen=True)
class Discretionary(Rule):
    """酌情扣a至b分: the office deducts between a and b points and must write why.

    The value is the amount deducted; 0 means no deduction and needs no reason.
    """

    kind: ClassVar[str] = "discretionary"
    checks_values: ClassVar[bool] = True
    can_improve: ClassVar[bool] = False
    minimum: Decimal = ZERO
    maximum: Decimal = ZERO

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        minimum = r.number("min", minimum=ZERO)
        maximum = r.number("max", minimum=ZERO)
        if maximum < minimum:
            r.problem("max", _("must not be below min"))
        return cls(minimum=minimum, maximum=maximum)

    def params(self) -> dict[str, object]:
        return {"min": self.minimum, "max": self.maximum}

    def check(self, item: Item) -> list[tuple[str, str]]:
        if self.maximum > item.points:
            return [("rule.max", "must not exceed the item's points")]
        return []

    def reject(self, item: Item, value: Decimal, extra: Extra) -> Text | None:
        if value < 0:
            return Text("扣分不能为负数", "a deduction must not be negative")
        if value == 0:
            return None
        if not self.minimum <= value <= self.maximum:
            lo, hi = self.minimum, self.maximum
            return Text(
                f"扣分 {value} 超出 {lo} 至 {hi} 分的范围",
                f"deduction {value} is outside {lo} to {hi} points",
            )
        if not (extra.note or "").strip():
            return Text("酌情扣分必须写明理由", "a discretionary deduction needs a written reason")
        return None

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        if trace is not None:
            if value:
                args = {"amount": value, "reason": (extra.note or "").strip()}
                trace.append(Step("discretionary", args))
            else:
                trace.append(Step("no_deduction"))
        return _done(_floor_zero(item.points - value, trace), trace)


@dataclass(frozen=True)
class Bonus(Rule):
    """加分项: starts at 0, plus b per occurrence, at most the cap (default: the item's points)."""

    kind: ClassVar[str] = "bonus"
    occurrences: ClassVar[bool] = True
    per_occurrence: Decimal = ZERO
    cap: Decimal | None = None

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        per = r.number("per_occurrence", minimum=ZERO)
        return cls(per_occurrence=per, cap=r.optional_number("cap", minimum=ZERO))

    def params(self) -> dict[str, object]:
        params: dict[str, object] = {"per_occurrence": self.per_occurrence}
        if self.cap is not None:
            params["cap"] = self.cap
        return params

    def check(self, item: Item) -> list[tuple[str, str]]:
        if self.cap is not None and self.cap > item.points:
            return [("rule.cap", "must not exceed the item's points")]
        return []

    def max_score(self, points: Decimal) -> Decimal:
        return points if self.cap is None else self.cap

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        cap = item.points if self.cap is None else self.cap
        amount = value * self.per_occurrence
        if trace is not None:
            trace.append(Step("occurrences", {"count": value}))
            if value:
                trace.append(Step("per_occurrence_plus", {"per": self.per_occurrence}))
                trace.append(Step("add", {"amount": amount}))
        if amount > cap:
            if trace is not None:
                trace.append(Step("cap_points", {"cap": cap}))
            amount = cap
        return _done(amount, trace)


@dataclass(frozen=True)
class Veto(Rule):
    """一票否决: any occurrence vetoes the unit (shown, barred from the top grade); no points."""

    kind: ClassVar[str] = "veto"
    occurrences: ClassVar[bool] = True
    can_improve: ClassVar[bool] = False
    vetoes: ClassVar[bool] = True

    def check(self, item: Item) -> list[tuple[str, str]]:
        if item.points != 0:
            return [("points", "a veto item carries no points (must be 0)")]
        return []

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        if trace is not None:
            trace.append(Step("occurrences", {"count": value}))
            trace.append(Step("veto" if value > 0 else "no_veto"))
        return _done(ZERO, trace)


RULES: dict[str, type[Rule]] = {
    rule.kind: rule
    for rule in (
        Attainment,
        Shortfall,
        Rank,
        RelativeToBest,
        Steps,
        Threshold,
        WeightedCount,
        Deduction,
        Discretionary,
        Bonus,
        Veto,
    )
}


class RuleError(ValueError):
    """Rule parameters that cannot be used; ``problems`` names each one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def read_rule(r: Reader) -> Rule:
    """A rule from its mapping (``kind`` plus parameters); problems are recorded on ``r``."""
    kind = r.string("kind")
    cls = RULES.get(kind)
    if cls is None:
        if kind:
            r.problem(
                "kind",
                _("unknown rule kind (expected one of: %(rules)s)") % {"rules": ", ".join(RULES)},
            )
        return Veto()
    rule = cls.parse(r)
    r.done()
    return rule


def rule_from_dict(data: Mapping[str, object], where: str = "rule") -> Rule:
    """Build a rule from stored parameters (as the Django app keeps them), or raise RuleError."""
    problems: list[Problem] = []
    rule = read_rule(Reader(data, where, problems))
    if problems:
        raise RuleError(problems)
    return rule


def rule_to_dict(rule: Rule) -> dict[str, object]:
    """``kind`` and the parameters, the inverse of ``rule_from_dict``."""
    return {"kind": rule.kind, **rule.params()}
