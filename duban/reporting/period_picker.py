"""The office's picker for opening reporting periods: a year's periods of the data set's type
in words, grouped by quarter where finer (a quarter's months on one line), each marked when
already open; and the data sets of the same period type the office may open with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from duban.indicators.models import DataSet
from duban.orgs import policy
from duban.orgs.policy import Action
from duban.periods import MAX_YEAR, MIN_YEAR, PeriodType, parse_period
from duban.text import period_in_words

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


@dataclass(frozen=True)
class Choice:
    id: str
    words: str
    is_open: bool


@dataclass(frozen=True)
class Group:
    key: str  # names the group's "all of it" box for reporting.js
    heading: str
    choices: list[Choice]


def years(ds: DataSet, today: date) -> list[int]:
    """Last year to next year, and back to the first year the data set was opened."""
    first = ds.reporting_periods.order_by("period").values_list("period", flat=True).first()
    start = min(int(first[:4]) if first and first[:4].isdigit() else today.year, today.year - 1)
    return list(range(max(start, MIN_YEAR), min(today.year + 1, MAX_YEAR) + 1))


def groups(ds: DataSet, year: int) -> list[Group]:
    """The year's periods of the data set's type: by quarter for months, weeks and days;
    one group for quarters, halves and the year itself."""
    ptype = PeriodType(ds.period_type)
    whole = parse_period(str(year))
    opened = set(
        ds.reporting_periods.filter(period__startswith=str(year)).values_list("period", flat=True)
    )

    def choices(periods: list[str]) -> list[Choice]:
        return [Choice(p, period_in_words(p), p in opened) for p in periods]

    if ptype.rank < PeriodType.QUARTERLY.rank:
        return [
            Group(q.id, period_in_words(q.id), choices([p.id for p in q.sub_periods(ptype)]))
            for q in whole.sub_periods(PeriodType.QUARTERLY)
        ]
    try:
        periods = [p.id for p in whole.sub_periods(ptype)]
    except ValueError:  # a type that does not nest in a calendar year
        return []
    return [Group(str(year), period_in_words(str(year)), choices(periods))]


def openable_data_sets(user: Actor, ds: DataSet) -> list[DataSet]:
    """The active data sets of `ds`'s period type whose periods `user` may open (the office
    at their issuing unit), `ds` first."""
    same = DataSet.objects.filter(is_active=True, period_type=ds.period_type).select_related(
        "owner"
    )
    found = [
        d for d in same.order_by("code") if policy.can(user, Action.MANAGE_EVALUATION, d.owner)
    ]
    return sorted(found, key=lambda d: d.pk != ds.pk)


def period_ids(groups_: list[Group]) -> set[str]:
    return {c.id for g in groups_ for c in g.choices}


__all__ = ["Choice", "Group", "groups", "openable_data_sets", "period_ids", "years"]
