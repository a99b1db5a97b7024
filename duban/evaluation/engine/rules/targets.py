"""Rules that measure a unit against its target: attainment, shortfall, threshold, steps."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from duban.evaluation.engine.decimals import HUNDRED, ONE, ZERO
from duban.evaluation.engine.explain import Step
from duban.evaluation.engine.params import Reader, join
from duban.evaluation.engine.rules.base import (
    Extra,
    Rule,
    Trace,
    completion,
    completion_steps,
    done,
    floor_zero,
)
from duban.evaluation.engine.rules.registry import register
from duban.text import gettext as _

if TYPE_CHECKING:
    from duban.evaluation.engine.model import Item


@register
@dataclass(frozen=True)
class Attainment(Rule):
    """按完成率计分: points × min(completion, cap); with ``cap: none`` points × completion."""

    kind: ClassVar[str] = "attainment"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "capped": ("按上限 {cap_share} 计", "capped at {cap_share}"),
        "uncapped_unbounded": (
            "不封顶，但完成率无上限（目标为 0 或实际已最优），按 100% 计",
            "no cap, but completion is unbounded (target 0 or best possible): counted as 100%",
        ),
    }
    cap: Decimal | None = ONE  # None: no cap (over-completion kept)

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        if isinstance(r.data.get("cap"), str) and r.data["cap"].strip().lower() == "none":
            r.seen.add("cap")
            return cls(cap=None)
        return cls(cap=r.number("cap", default=ONE, positive=True))

    def params(self) -> dict[str, object]:
        return {"cap": "none" if self.cap is None else self.cap}

    def needs_target(self) -> bool:
        return True

    def max_score(self, points: Decimal) -> Decimal:
        # Uncapped: no maximum exists; points lost are measured from the item's points.
        return points if self.cap is None else points * self.cap

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        assert target is not None
        higher = item.higher
        ratio = completion(value, target, higher)
        cap = self.cap
        unbounded = cap is None and not ratio.is_finite()
        if unbounded:
            share = ONE
        elif cap is not None and ratio > cap:
            share = cap
        else:
            share = ratio
        if share < 0:
            share = ZERO
        score = item.points * share
        if trace is not None:
            completion_steps(trace, value, target, higher)
            if unbounded:
                trace.append(Step("uncapped_unbounded"))
            elif cap is not None and ratio > cap:
                trace.append(Step("capped", {"cap_share": cap}))
            trace.append(Step("product", {"points": item.points, "share": share}))
        return done(score, trace)


@register
@dataclass(frozen=True)
class Shortfall(Rule):
    """每低1个百分点扣d分，扣完为止: full points at target, minus d per point short.

    ``basis: completion`` (default): points of the completion rate (86.0% is 14.0 short).
    ``basis: value``: the indicator is itself a rate, and points are its own percentage
    points (破案率 69 against a target of 70 is 1 short; lower is better: actual above).
    """

    kind: ClassVar[str] = "shortfall"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "below_target": ("低于目标 {short} 个百分点", "{short} points below target"),
        "below_target_value": (
            "实际值低于目标值 {short} 个百分点",
            "the value is {short} percentage points below the target value",
        ),
        "above_target_value": (
            "实际值高于目标值 {short} 个百分点",
            "the value is {short} percentage points above the target value",
        ),
        "per_point": ("每个百分点扣 {per_point} 分", "{per_point} per point"),
    }
    per_point: Decimal = ZERO
    basis: str = "completion"  # completion: points of the completion rate; value: of the value

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        basis = r.choice("basis", ("completion", "value"), default="completion")
        return cls(per_point=r.number("per_point", minimum=ZERO), basis=basis)

    def params(self) -> dict[str, object]:
        if self.basis == "completion":  # stored and written as before the basis existed
            return {"per_point": self.per_point}
        return {"per_point": self.per_point, "basis": self.basis}

    def needs_target(self) -> bool:
        return True

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        assert target is not None
        if self.basis == "value":
            return self._on_value(item, value, target, trace)
        ratio = completion(value, target, item.higher)
        if trace is not None:
            completion_steps(trace, value, target, item.higher)
        if ratio >= ONE:
            if trace is not None:
                trace.append(Step("met"))
            return done(item.points, trace)
        short = HUNDRED - ratio * HUNDRED
        return self._deduct(item, short, "below_target", trace)

    def _on_value(self, item: Item, value: Decimal, target: Decimal, trace: Trace) -> Decimal:
        short = target - value if item.higher else value - target
        if trace is not None:
            trace.append(Step("actual_target", {"value": value, "target": target}))
        if short <= 0:
            if trace is not None:
                trace.append(Step("met"))
            return done(item.points, trace)
        code = "below_target_value" if item.higher else "above_target_value"
        return self._deduct(item, short, code, trace)

    def _deduct(self, item: Item, short: Decimal, code: str, trace: Trace) -> Decimal:
        amount = short * self.per_point
        if trace is not None:
            trace.append(Step(code, {"short": short}))
            trace.append(Step("per_point", {"per_point": self.per_point}))
            trace.append(Step("deduct", {"amount": amount}))
        return done(floor_zero(item.points - amount, trace), trace)


@dataclass(frozen=True)
class Band:
    """One step: from ``bound`` on (``at_least``) or up to it (``at_most``), inclusive."""

    bound: Decimal
    points: Decimal


@register
@dataclass(frozen=True)
class Steps(Rule):
    """超过95%(含)得3分: points by bands of the value (or of the completion rate)."""

    kind: ClassVar[str] = "steps"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "band": (
            "达到 {bound}{unit}（含）档，计 {points} 分",
            "band from {bound}{unit} (incl.): {points} points",
        ),
        "band_lower": (
            "不高于 {bound}{unit}（含）档，计 {points} 分",
            "band up to {bound}{unit} (incl.): {points} points",
        ),
        "no_band": ("未达到最低档 {bound}{unit}", "below the lowest band {bound}{unit}"),
        "no_band_lower": ("高于最宽档 {bound}{unit}", "above the widest band {bound}{unit}"),
    }
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
            return done(ZERO, trace)
        if trace is not None:
            code = "band" if self.bound == "at_least" else "band_lower"
            trace.append(Step(code, {"bound": chosen.bound, "unit": unit, "points": chosen.points}))
        return done(chosen.points, trace)

    def _band(self, measured: Decimal) -> Band | None:
        bounds = [band.bound for band in self.bands]
        if self.bound == "at_least":
            index = bisect_right(bounds, measured)  # bands with bound <= measured
            return self.bands[index - 1] if index > 0 else None
        index = bisect_left(bounds, measured)  # first band with bound >= measured
        return self.bands[index] if index < len(bounds) else None


@register
@dataclass(frozen=True)
class Threshold(Rule):
    """达标计分: full points if the target is met, else a stated share or points (default 0)."""

    kind: ClassVar[str] = "threshold"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "not_met": ("未达到目标", "target not met"),
        "else_share": ("按满分的 {else_share} 计", "{else_share} of the points"),
        "else_points": ("计 {else_points} 分", "{else_points} points given"),
    }
    else_share: Decimal = ZERO
    else_points: Decimal | None = None  # the points given when the target is missed

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        if r.has("else_share") and r.has("else_points"):
            message = _("give else_share or else_points, not both")
            if r.item:
                message = _("item %(item)s: give else_share or else_points, not both") % {
                    "item": r.item
                }
            r.problem("", message)
        share = r.number("else_share", default=ZERO, minimum=ZERO, maximum=ONE)
        points = r.optional_number("else_points", minimum=ZERO)
        return cls(else_share=share, else_points=points)

    def params(self) -> dict[str, object]:
        if self.else_points is not None:
            return {"else_points": self.else_points}
        return {"else_share": self.else_share}

    def needs_target(self) -> bool:
        return True

    def check(self, item: Item) -> list[tuple[str, str]]:
        found = []
        if self.else_points is not None and self.else_points > item.points:
            found.append(
                (
                    "rule.else_points",
                    _("item %(item)s: else_points must not exceed the item's points (%(points)s)")
                    % {"item": item.code, "points": item.points},
                )
            )
        return found

    def missed(self, points: Decimal) -> Decimal:
        """The points given when the target is missed."""
        if self.else_points is not None:
            return self.else_points
        return points * self.else_share

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        assert target is not None
        met = value >= target if item.higher else value <= target
        if trace is not None:
            trace.append(Step("actual_target", {"value": value, "target": target}))
            trace.append(Step("met" if met else "not_met"))
            if not met and self.else_points is not None:
                trace.append(Step("else_points", {"else_points": self.else_points}))
            elif not met and self.else_share:
                trace.append(Step("else_share", {"else_share": self.else_share}))
        return done(item.points if met else self.missed(item.points), trace)
