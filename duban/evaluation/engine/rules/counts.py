"""Rules that count events: weighted count, deduction, bonus, veto."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from duban.evaluation.engine.decimals import ZERO
from duban.evaluation.engine.explain import Step
from duban.evaluation.engine.params import Reader, join
from duban.evaluation.engine.rules.base import CLASS_CODE, Extra, Rule, Trace, done, floor_zero
from duban.evaluation.engine.rules.registry import register

if TYPE_CHECKING:
    from duban.evaluation.engine.model import Item


@register
@dataclass(frozen=True)
class WeightedCount(Rule):
    """抓获A级逃犯每名计10分…最高10分: weight per class × count, at most the item's points.

    Each class is its own indicator code ``<indicator>.<class>`` (``fugitive.caught.A``).
    """

    kind: ClassVar[str] = "weighted_count"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "class_count": (
            "{cls}：{count} × {weight} 分 = {subtotal} 分",
            "{cls}: {count} × {weight} = {subtotal}",
        ),
        "class_missing": ("{cls}：无数据，按 0 计", "{cls}: no value, counted as 0"),
        "sum": ("合计 {total} 分", "total {total}"),
    }
    occurrences: ClassVar[bool] = True
    per_class: ClassVar[bool] = True
    weights: tuple[tuple[str, Decimal], ...] = ()

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        weights = r.number_map("weights", minimum=ZERO)
        for code, _ in weights:
            if not CLASS_CODE.match(code):
                r.problem(join("weights", code), "class codes use letters, digits, '_' or '-'")
        return cls(weights=weights)

    def params(self) -> dict[str, object]:
        return {"weights": dict(self.weights)}

    def classes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.weights)

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
        return done(total, trace)


@register
@dataclass(frozen=True)
class Deduction(Rule):
    """扣分项: starts at the points, minus d per occurrence, never below 0."""

    kind: ClassVar[str] = "deduction"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "per_occurrence_minus": ("每次扣 {per} 分", "minus {per} each"),
    }
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
        return done(floor_zero(item.points - amount, trace), trace)


@register
@dataclass(frozen=True)
class Bonus(Rule):
    """加分项: starts at 0, plus b per occurrence, at most the cap (default: the item's points)."""

    kind: ClassVar[str] = "bonus"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "per_occurrence_plus": ("每次加 {per} 分", "plus {per} each"),
        "add": ("加 {amount} 分", "plus {amount}"),
    }
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
        return done(amount, trace)


@register
@dataclass(frozen=True)
class Veto(Rule):
    """一票否决: any occurrence vetoes the unit (shown, barred from the top grade); no points."""

    kind: ClassVar[str] = "veto"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "veto": ("一票否决", "vetoed"),
        "no_veto": ("未触发一票否决", "no veto"),
    }
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
        return done(ZERO, trace)
