"""Where a unit stands in a scheme: plain arithmetic over the stored result dicts.

Everything here reads ``evaluation.cache.compact`` dicts (exact decimals as strings) and
returns typed rows; nothing touches the database, so it is tested with numbers written
out by hand. Gaps, averages and attainment are worked from the exact figures and rounded
only when shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Result = Mapping[str, Any]  # one ``cache.compact`` dict


def _name(names: Mapping[str, str], lang: str) -> str:
    return names.get(lang) or names.get("zh") or ""


@dataclass(frozen=True)
class CategoryStanding:
    """A unit's score in one category against its group's best and average."""

    code: str
    name: str
    score: Decimal
    best: Decimal
    average: Decimal
    maximum: Decimal  # what the unit's counted items in the category can give


@dataclass(frozen=True)
class ItemLoss:
    """An item where the unit is weak: points lost, and room still to win (上升空间)."""

    code: str
    name: str
    lost: Decimal
    room: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RankPoint:
    period: str
    rank: int | None  # None: no result kept for that month


@dataclass
class Standing:
    """One unit in one scheme and period: the cockpit's top line and its panels."""

    unit: str
    name: str
    period: str
    total: Decimal
    rank: int
    of: int  # units in its comparison group
    change: int | None  # > 0: moved up since the period before
    first_total: Decimal
    gap_first: Decimal | None  # points behind first place; None when first
    next_rank: int | None  # the place just above; None when first
    gap_next: Decimal | None
    lead: Decimal | None  # when first: points ahead of the next place down
    categories: list[CategoryStanding] = field(default_factory=list)
    shortfalls: list[ItemLoss] = field(default_factory=list)  # most points lost first
    room: list[ItemLoss] = field(default_factory=list)  # most room first
    trend: list[RankPoint] = field(default_factory=list)


def cohort_of(result: Result, unit: str) -> list[str]:
    """The members ranked with ``unit``, best first."""
    for cohort in result["cohorts"]:
        if unit in cohort["units"]:
            return list(cohort["units"])
    return [unit]


def _total(result: Result, unit: str) -> Decimal:
    return Decimal(result["units"][unit]["total"])


def gaps(
    result: Result, unit: str
) -> tuple[Decimal, Decimal | None, int | None, Decimal | None, Decimal | None]:
    """(first's total, gap to first, the rank just above, gap to it, lead when first).

    Ties share the better rank (1,2,2,4): the place just above a unit is the worst rank
    better than its own, and the gap is to the lowest total holding it."""
    members = cohort_of(result, unit)
    units = result["units"]
    mine = units[unit]
    total = _total(result, unit)
    first_total = max(_total(result, c) for c in members)
    above = [c for c in members if units[c]["rank"] < mine["rank"]]
    if not above:
        below = [_total(result, c) for c in members if units[c]["rank"] > mine["rank"]]
        lead = total - max(below) if below else None
        return first_total, None, None, None, lead
    next_rank = max(units[c]["rank"] for c in above)
    next_total = min(_total(result, c) for c in above if units[c]["rank"] == next_rank)
    return first_total, first_total - total, next_rank, next_total - total, None


def categories(result: Result, unit: str, lang: str) -> list[CategoryStanding]:
    """Each category the unit is scored in, against the best and the mean of its group."""
    members = cohort_of(result, unit)
    units = result["units"]
    mine = units[unit]
    rows = []
    for cat in result["categories"]:
        code = cat["code"]
        if code not in mine["categories"]:
            continue
        scores = [
            Decimal(units[c]["categories"][code]) for c in members if code in units[c]["categories"]
        ]
        rows.append(
            CategoryStanding(
                code,
                _name(cat["name"], lang),
                Decimal(mine["categories"][code]),
                max(scores),
                sum(scores, Decimal(0)) / len(scores),
                Decimal(mine["category_max"].get(code, cat["points"])),
            )
        )
    return rows


def losses(
    result: Result, unit: str, lang: str, limit: int = 5
) -> tuple[list[ItemLoss], list[ItemLoss]]:
    """(短板: the shortfalls, vetoes first then most points lost; 上升空间: any item with
    points still to win, most first)."""
    items = result["items"]
    rows = [
        ItemLoss(
            code, _name(items[code]["name"], lang), Decimal(lost), Decimal(room), tuple(reasons)
        )
        for code, lost, room, reasons in result["units"][unit]["losses"]
    ]
    order = {code: i for i, code in enumerate(items)}
    lost = sorted(
        (r for r in rows if r.reasons),
        key=lambda r: ("vetoed" not in r.reasons, -r.lost, order[r.code]),
    )
    room = sorted((r for r in rows if r.room > 0), key=lambda r: (-r.room, order[r.code]))
    return lost[:limit], room[:limit]


def trend(months: Mapping[str, Result], periods: Sequence[str], unit: str) -> list[RankPoint]:
    """The unit's rank in each month (a line, rank 1 on top); None where nothing is kept."""
    points = []
    for period in periods:
        found = months.get(period)
        entry = found["units"].get(unit) if found is not None else None
        points.append(RankPoint(period, entry["rank"] if entry is not None else None))
    return points


def standing(
    result: Result,
    unit: str,
    lang: str = "zh",
    *,
    months: Mapping[str, Result] | None = None,
    periods: Sequence[str] = (),
) -> Standing | None:
    """The unit's standing in one stored result; None when the scheme does not score it."""
    entry = result["units"].get(unit)
    if entry is None:
        return None
    first_total, gap_first, next_rank, gap_next, lead = gaps(result, unit)
    shortfalls, room = losses(result, unit, lang)
    return Standing(
        unit=unit,
        name=_name(entry["name"], lang),
        period=result["period"],
        total=Decimal(entry["total"]),
        rank=entry["rank"],
        of=len(cohort_of(result, unit)),
        change=entry.get("change"),
        first_total=first_total,
        gap_first=gap_first,
        next_rank=next_rank,
        gap_next=gap_next,
        lead=lead,
        categories=categories(result, unit, lang),
        shortfalls=shortfalls,
        room=room,
        trend=trend(months or {}, periods, unit),
    )


@dataclass(frozen=True)
class ChildRow:
    """A unit scored by a scheme its parent issues, with its change of rank and attainment
    per category (score ÷ what its items there can give, in %; None: not scored there)."""

    code: str
    name: str
    total: Decimal
    rank: int
    of: int
    change: int | None
    attainment: tuple[Decimal | None, ...]


@dataclass
class Children:
    """The issuer's view: its units ranked, and units × categories."""

    cohort: str
    categories: list[str]
    category_codes: list[str]
    rows: list[ChildRow]


def attainment(entry: Mapping[str, Any], category: str) -> Decimal | None:
    score = entry["categories"].get(category)
    maximum = entry["category_max"].get(category)
    if score is None or maximum is None or Decimal(maximum) == 0:
        return None
    return Decimal(score) * 100 / Decimal(maximum)


def children(result: Result, seen: set[str], lang: str) -> list[Children]:
    """Per comparison group, the members the viewer may see, best first."""
    out = []
    units = result["units"]
    for cohort in result["cohorts"]:
        shown = [c for c in cohort["units"] if c in seen]
        if not shown:
            continue
        cats = [
            c
            for c in result["categories"]
            if any(c["code"] in units[u]["categories"] for u in shown)
        ]
        codes = [c["code"] for c in cats]
        rows = [
            ChildRow(
                code,
                _name(units[code]["name"], lang),
                Decimal(units[code]["total"]),
                units[code]["rank"],
                len(cohort["units"]),
                units[code].get("change"),
                tuple(attainment(units[code], c) for c in codes),
            )
            for code in shown
        ]
        out.append(
            Children(
                _name(cohort["name"], lang), [_name(c["name"], lang) for c in cats], codes, rows
            )
        )
    return out
