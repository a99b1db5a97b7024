"""Rules that compare a unit with its peer group: rank, relative to best."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from duban.evaluation.engine.decimals import ONE, ZERO
from duban.evaluation.engine.explain import Step
from duban.evaluation.engine.params import Reader
from duban.evaluation.engine.rules.base import Extra, Peers, Rule, Trace, done, floor_zero
from duban.evaluation.engine.rules.registry import register

if TYPE_CHECKING:
    from duban.evaluation.engine.model import Item


@register
@dataclass(frozen=True)
class Rank(Rule):
    """第一名满分，按名次依次递减s分: the best unit gets the points, each place lower s less."""

    kind: ClassVar[str] = "rank"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "rank_place": ("在 {count} 个单位中列第 {place} 名", "place {place} of {count}"),
        "rank_place_tied": (
            "在 {count} 个单位中并列第 {place} 名",
            "tied place {place} of {count}",
        ),
        "rank_rule": (
            "第一名 {points} 分，每降一名扣 {per_place} 分",
            "first place {points}, minus {per_place} per place",
        ),
    }
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
        return done(floor_zero(item.points - amount, trace), trace)

    def standing_key(self, value: Decimal, peers: Peers) -> Hashable:
        return peers.place  # the score is the points less a step per place


@register
@dataclass(frozen=True)
class RelativeToBest(Rule):
    """以最高为满分，其余按比例: points × value / best (best / value when lower is better)."""

    kind: ClassVar[str] = "relative_to_best"
    texts: ClassVar[Mapping[str, tuple[str, str]]] = {
        "best_higher": ("组内最高 {best}", "best in group {best}"),
        "best_lower": ("组内最低 {best}", "best (lowest) in group {best}"),
        "no_best": ("组内最高值不大于 0，计 0 分", "best in group is not above 0: 0 points"),
        "no_peers": ("组内无可比较的数据，计 0 分", "no comparable values in the group: 0 points"),
    }
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
            return done(ZERO, trace)
        if trace is not None:
            trace.append(Step("best_higher" if item.higher else "best_lower", {"best": best}))
        if item.higher:
            if best <= 0:
                if trace is not None:
                    trace.append(Step("no_best"))
                return done(ZERO, trace)
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
        return done(item.points * share, trace)

    def standing_key(self, value: Decimal, peers: Peers) -> Hashable:
        return (value, peers.best)
