"""The progress a bulletin reports (done ÷ task): per unit, and for the parent and each group
from the engine's totals — the summed raw figures, never the units' rates — with the
parent's rate month by month for the trend line."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from duban.bulletins import gather
from duban.evaluation import engine
from duban.evaluation.engine.decimals import plain
from duban.evaluation.engine.totals import ItemTotal, totals
from duban.evaluation.scoring import Scored
from duban.evaluation.values import load_source
from duban.periods import Period, PeriodType

Json = dict[str, Any]
CENT = Decimal("0.01")


@dataclass
class Progress:
    item: str
    name: str
    decimals: int
    units: dict[str, Json] = field(default_factory=dict)
    total: Json = field(default_factory=dict)
    groups: dict[str, Json] = field(default_factory=dict)
    trend: list[list[Any]] = field(default_factory=list)

    def summary(self) -> Json:
        return {
            "item": self.item,
            "name": self.name,
            "decimals": self.decimals,
            "total": self.total,
            "groups": self.groups,
            "trend": self.trend,
        }


def _s(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _percent(ratio: Decimal | None) -> Decimal | None:
    return None if ratio is None else (ratio * 100).quantize(CENT)


def _total(t: ItemTotal) -> Json:
    return {
        "done": _s(t.value),
        "target": _s(t.target),
        "rate": _s(_percent(t.completion)),
        "incomplete": t.incomplete,
    }


def _months_to(built: engine.Scheme, period: Period) -> list[Period]:
    """The statistical year's months up to the period's end."""
    calendar = built.calendar
    months = []
    month = calendar.period_containing(PeriodType.MONTHLY, calendar.date_range(period)[1])
    while True:
        year = calendar.period_containing(PeriodType.YEARLY, calendar.date_range(month)[0])
        if year.year != built.year:
            break
        months.append(month)
        month = month.previous()
    return list(reversed(months))


def trend(built: engine.Scheme, item: engine.Item, period: Period) -> list[list[Any]]:
    """[month id, the parent's rate] for each month of the year up to the period: one read
    of the figures, then the totals alone (no scoring) month by month."""
    months = _months_to(built, period)
    source = load_source(built, months)
    out = []
    for month in months:
        values, _reasons, ytd = source.engine_input(month)
        t = totals(built, values, month, year_to_date=ytd)[item.code]
        out.append([month.id, _s(_percent(t.completion))])
    return out


def progress(scored: Scored, wanted: str) -> Progress | None:
    item = gather.progress_item(scored.engine, wanted)
    if item is None:
        return None
    declared = scored.engine.indicator_map.get(item.indicator)
    decimals = declared.decimals if declared is not None and declared.decimals is not None else 0
    found = Progress(item.code, gather.name(item.name), decimals)
    for code, u in scored.result.units.items():
        r = u.items.get(item.code)
        if r is None:
            continue
        rate = _percent(r.rate)
        found.units[code] = {
            "target": _s(r.target),
            "done": _s(r.value),
            "rate": _s(rate),
            "band": gather.band_of(rate),
        }
    found.total = _total(scored.result.totals()[item.code])
    for group_code, sequence, _members in scored.result.cohorts:
        key = f"{group_code}:{sequence or ''}"
        found.groups[key] = _total(scored.result.totals(group_code, sequence)[item.code])
    if scored.previous is not None:
        found.total["previous_rate"] = _total(scored.previous.totals()[item.code])["rate"]
    found.trend = trend(scored.engine, item, scored.result.period)
    return found
