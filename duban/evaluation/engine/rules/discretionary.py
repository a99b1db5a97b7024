"""The office's judgement: a discretionary deduction with a written reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from duban.evaluation.engine.decimals import ZERO
from duban.evaluation.engine.explain import Step, Text
from duban.evaluation.engine.params import Reader
from duban.evaluation.engine.rules.base import Extra, Rule, Trace, done, floor_zero
from duban.evaluation.engine.rules.registry import register

if TYPE_CHECKING:
    from duban.evaluation.engine.model import Item


@register
@dataclass(frozen=True)
class Discretionary(Rule):
    """酌情扣a至b分: the office deducts between a and b points and must write why.

    The value is the amount deducted; 0 means no deduction and needs no reason.
    """

    kind: ClassVar[str] = "discretionary"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "discretionary": (
            "酌情扣 {amount} 分（理由：{reason}）",
            "discretionary deduction {amount} (reason: {reason})",
        ),
        "no_deduction": ("未扣分", "no deduction"),
    }
    checks_values: ClassVar[bool] = True
    needs_reason: ClassVar[bool] = True
    can_improve: ClassVar[bool] = False
    minimum: Decimal = ZERO
    maximum: Decimal = ZERO

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        minimum = r.number("min", minimum=ZERO)
        maximum = r.number("max", minimum=ZERO)
        if maximum < minimum:
            r.problem("max", "must not be below min")
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
        return done(floor_zero(item.points - value, trace), trace)
