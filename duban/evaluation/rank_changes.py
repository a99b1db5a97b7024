"""The change of rank on the scores page, for whichever period is picked.

Against the period before of the same kind, inside the scheme's year: a month against the
month before, a quarter the quarter before, a half-year the half before, and the year to date
against the year to date as it stood at the end of the month before the one it is measured in
(the year of 2017, measured at 31 December, against 1–11 as of 30 November). The first of its
kind in the year has nothing to compare with: the page says "—" and why.

The ranks compared with come from the kept result (`StoredResult`) when it is current, and are
computed as the page computes otherwise. The year to date at an earlier month-end is never
kept: it is scored from the figures the page has already read, without the later months.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from duban.evaluation import cache
from duban.evaluation.engine import SchemeResult
from duban.evaluation.models import StoredResult
from duban.evaluation.scoring import Scored, compute, previous_period, score
from duban.evaluation.values import Sums, ValueSource
from duban.periods import Period, PeriodType
from duban.text import period_in_words


@dataclass(frozen=True)
class Against:
    """What the ranks were compared with: ``words`` (the period, or the year to date at a
    day), or ``why_none`` when nothing is; ``previous`` maps unit code to its rank then."""

    words: str = ""
    why_none: str = ""
    previous: dict[str, int] = field(default_factory=dict)
    source: str = ""  # "stored" or "computed": which path gave the ranks (tests, logs)

    def delta(self, unit: str, rank: int) -> int | None:
        """Places moved up (negative: down); None when the unit was not ranked then."""
        before = self.previous.get(unit)
        return None if before is None else before - rank


def first_of_year(kind: PeriodType) -> str:
    if kind is PeriodType.MONTHLY:
        return _("The first month of the scheme's year: there is no earlier month to compare with.")
    if kind is PeriodType.QUARTERLY:
        return _(
            "The first quarter of the scheme's year: there is no earlier quarter to compare with."
        )
    if kind is PeriodType.SIXMONTHLY:
        return _("The first half of the scheme's year: there is no earlier half to compare with.")
    return _(
        "The year to date is still in its first month: there is no earlier month-end to "
        "compare it with."
    )


def against(scored: Scored, today: date) -> Against:
    """The ranks to compare ``scored`` with (scored for its period alone)."""
    period, built = scored.result.period, scored.engine
    if period.type is PeriodType.YEARLY:
        return _year_to_date_before(scored, today)
    before = previous_period(period, built)
    if before is None:
        return Against(why_none=first_of_year(period.type))
    words = _("Change of rank against %(period)s.") % {"period": period_in_words(before.id)}
    kept = stored_ranks(scored, before.id, today)
    if kept is not None:
        return Against(words, previous=kept, source="stored")
    result = score(scored.scheme, before.id, today=today, with_previous=False, built=built).result
    return Against(words, previous=ranks(result), source="computed")


def ranks(result: SchemeResult) -> dict[str, int]:
    return {code: u.rank for code, u in result.units.items()}


def stored_ranks(scored: Scored, period_id: str, today: date) -> dict[str, int] | None:
    """The ranks kept for ``period_id`` if that result is current, else None."""
    entry = StoredResult.objects.filter(scheme=scored.scheme, period=period_id).first()
    if entry is None or entry.data.get("format") != cache.FORMAT:
        return None
    entry.scheme = scored.scheme
    if not cache.is_current(entry, cache.input_stamp(scored.scheme), today):
        return None
    return {code: u["rank"] for code, u in entry.data["units"].items()}


def _year_to_date_before(scored: Scored, today: date) -> Against:
    """The year to date as it stood at the end of the month before the one it is measured in."""
    built, result = scored.engine, scored.result
    calendar = built.calendar
    month = calendar.period_containing(PeriodType.MONTHLY, result.as_of)
    year_start = calendar.date_range(result.period)[0]
    if calendar.date_range(month)[0] <= year_start:
        return Against(why_none=first_of_year(PeriodType.YEARLY))
    last = month.previous()
    day = calendar.date_range(last)[1]
    earlier = compute(built, without_months_after(scored.source, last), result.period, day)
    words = _("Change of rank against the year to date at %(day)s.") % {"day": day.isoformat()}
    return Against(words, previous=ranks(earlier), source="computed")


def without_months_after(source: ValueSource, last: Period) -> ValueSource:
    """The same figures without those of the months after ``last``, and year-to-date sums
    that stop at it: the year as it could be scored then (figures given for the whole year,
    rare, are kept)."""
    months = [m.id for m in source.months()]
    later = set(months[months.index(last.id) + 1 :])
    raw = {key: value for key, value in source.raw.items() if key[2] not in later}
    comments = {key: text for key, text in source.comments.items() if key[2] not in later}
    inner = source.sum_months

    def sums_until(wanted: tuple[str, ...]) -> Sums:
        assert inner is not None
        return inner(tuple(m for m in wanted if m not in later))

    return dataclasses.replace(
        source,
        raw=raw,
        comments=comments,
        sum_months=None if inner is None else sums_until,
        load_months=None,
        reload=None,
    )
