"""Competition ranking (ties share the better place: 1, 2, 2, 4) and rank changes."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from duban.evaluation.engine.results import SchemeResult

K = TypeVar("K", bound=Hashable)


def competition_ranks(scores: Mapping[K, Decimal], *, higher: bool = True) -> dict[K, int]:
    """Rank = 1 + the number of entries strictly better; equal scores share a rank."""
    ordered = sorted(scores.values(), reverse=higher)
    first: dict[Decimal, int] = {}
    for position, score in enumerate(ordered, start=1):
        first.setdefault(score, position)
    return {key: first[score] for key, score in scores.items()}


def place_among(ascending: Sequence[Decimal], value: Decimal, *, higher: bool) -> tuple[int, int]:
    """(1 + number strictly better, number equal) of ``value`` within a sorted list.

    The value need not be in the list: a unit shown but not ranked is placed
    against the ranked ones without taking a place itself.
    """
    left = bisect_left(ascending, value)
    right = bisect_right(ascending, value)
    better = len(ascending) - right if higher else left
    return better + 1, right - left


def in_bottom_third(place: int, count: int) -> bool:
    """The worst floor(n/3) places; a tie block counts by its shared (better) place."""
    return place > count - count // 3


@dataclass(frozen=True)
class RankChange:
    """A unit's rank in two results; ``delta`` > 0 means it moved up."""

    unit: str
    previous: int | None
    current: int | None

    @property
    def delta(self) -> int | None:
        if self.previous is None or self.current is None:
            return None
        return self.previous - self.current


def rank_change(prev: SchemeResult, curr: SchemeResult) -> dict[str, RankChange]:
    """Rank movement of every unit present in either result (the ranks shown: within cohort)."""
    codes = list(curr.units) + [code for code in prev.units if code not in curr.units]
    changes: dict[str, RankChange] = {}
    for code in codes:
        before = prev.units.get(code)
        after = curr.units.get(code)
        changes[code] = RankChange(
            code,
            before.rank if before is not None else None,
            after.rank if after is not None else None,
        )
    return changes
