"""Grades (等次) from score bands, capped by quotas.

The walk, per comparison group, in rank order:

1. A unit's band is the first grade whose ``min`` its rounded total reaches.
2. An "at least" quota on the lowest grade (诫勉 at least 5%) takes the bottom
   ceil(p × n) units whatever their band. If a tie straddles that boundary the
   whole tied block is taken: the quota says "at least" and tied units are
   treated alike.
3. Everyone else walks down from the top. A unit starts at its band (a vetoed
   unit no higher than the second grade). When a grade's "at most" quota,
   floor(p × n), has no room for the unit's whole tied block, the block drops
   to the next grade: a quota is a ceiling and tied units are treated alike, so
   the quota is never exceeded. Once a block has been pushed down by a quota,
   no lower-ranked unit may receive a better grade than that block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from duban.evaluation.engine.model import Grade


@dataclass(frozen=True)
class Standing:
    """What grading needs to know about one unit."""

    key: str
    total: Decimal  # rounded to 2 places, the figure that is ranked
    rank: int
    vetoed: bool = False


def band_index(grades: Sequence[Grade], total: Decimal) -> int:
    for index, grade in enumerate(grades):
        if total >= grade.min:
            return index
    return len(grades) - 1


def assign_grades(
    standings: Sequence[Standing], grades: Sequence[Grade]
) -> dict[str, tuple[int, int]]:
    """key -> (grade index, band index); the band is kept to show when a quota moved a unit."""
    n = len(standings)
    last = len(grades) - 1
    caps = [
        grade.quota.places(n) if grade.quota is not None and grade.quota.kind == "at_most" else None
        for grade in grades
    ]
    order = sorted(standings, key=lambda s: (s.rank, s.key))
    forced: set[str] = set()
    bottom = grades[last].quota
    if bottom is not None and bottom.kind == "at_least" and n:
        taken = min(bottom.places(n), n)
        if taken > 0:
            boundary = order[n - taken].rank
            forced = {s.key for s in order if s.rank >= boundary}

    counts = [0] * len(grades)
    floor = 0  # best grade still open to the units that follow
    result: dict[str, tuple[int, int]] = {}
    for _, block in groupby(order, key=lambda s: s.rank):
        wants: dict[int, list[Standing]] = {}
        bands: dict[str, int] = {}
        for standing in block:
            band = band_index(grades, standing.total)
            bands[standing.key] = band
            if standing.key in forced:
                result[standing.key] = (last, band)
                counts[last] += 1
                continue
            start = band
            if standing.vetoed and start == 0 and last > 0:
                start = 1
            wants.setdefault(start, []).append(standing)
        for start in sorted(wants):
            members = wants[start]
            grade = max(start, floor)
            wanted = grade
            while grade < last:
                cap = caps[grade]
                if cap is None or counts[grade] + len(members) <= cap:
                    break
                grade += 1
            if grade > wanted:
                floor = max(floor, grade)
            for standing in members:
                result[standing.key] = (grade, bands[standing.key])
            counts[grade] += len(members)
    return result
