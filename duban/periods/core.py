"""DHIS2-compatible reporting periods and shifted statistical calendars.

Evaluation schemes collect figures per day, ISO week, month, quarter, half year
or year and exchange them under DHIS2 identifiers (``2017``, ``2017S2``,
``2017Q4``, ``201712``, ``2017W49``, ``20171208``). Some schemes close their books
on the 20th, so the same identifiers can also be mapped onto a statistical
calendar whose year starts on another day. Plain Python, no Django, so that
importers, scheme files and tests can use it anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from duban.text import gettext

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "Period",
    "PeriodType",
    "StatisticalCalendar",
    "parse_period",
    "period_containing",
    "periods_between",
    "year_to_date",
]

MIN_YEAR = 1900
MAX_YEAR = 2999

_ONE_DAY = timedelta(days=1)
_THURSDAY_OFFSET = timedelta(days=3)


class PeriodType(StrEnum):
    """The kinds of reporting period, declared (and iterated) finest first."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SIXMONTHLY = "sixmonthly"
    YEARLY = "yearly"

    @property
    def rank(self) -> int:
        """Granularity, 0 for daily up to 5 for yearly; string order would be alphabetical."""
        return _RANKS[self]


_RANKS: dict[PeriodType, int] = {ptype: rank for rank, ptype in enumerate(PeriodType)}

_MONTHS_SPANNED: dict[PeriodType, int] = {
    PeriodType.MONTHLY: 1,
    PeriodType.QUARTERLY: 3,
    PeriodType.SIXMONTHLY: 6,
    PeriodType.YEARLY: 12,
}

_FORMATS: tuple[tuple[re.Pattern[str], PeriodType], ...] = (
    (re.compile(r"([0-9]{4})"), PeriodType.YEARLY),
    (re.compile(r"([0-9]{4})S([0-9])"), PeriodType.SIXMONTHLY),
    (re.compile(r"([0-9]{4})Q([0-9])"), PeriodType.QUARTERLY),
    (re.compile(r"([0-9]{4})([0-9]{2})"), PeriodType.MONTHLY),
    (re.compile(r"([0-9]{4})W([0-9]{1,2})"), PeriodType.WEEKLY),
    (re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"), PeriodType.DAILY),
)

_Spec = tuple[PeriodType, str, date, date]


class _Reason(ValueError):
    """Why a period cannot exist; callers wrap it with the identifier or date at hand."""


def _type_words(ptype: PeriodType) -> str:
    """A period type in the reader's language, for refusals ("monthly", 月度)."""
    return {
        PeriodType.DAILY: gettext("daily"),
        PeriodType.WEEKLY: gettext("weekly"),
        PeriodType.MONTHLY: gettext("monthly"),
        PeriodType.QUARTERLY: gettext("quarterly"),
        PeriodType.SIXMONTHLY: gettext("sixmonthly"),
        PeriodType.YEARLY: gettext("yearly"),
    }[PeriodType(ptype)]


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _Reason(
            gettext("year %(year)s is outside %(min)s..%(max)s")
            % {"year": year, "min": MIN_YEAR, "max": MAX_YEAR}
        )


def _iso_weeks(year: int) -> int:
    """28 December always lies in the last ISO week of its year."""
    return date(year, 12, 28).isocalendar().week


def _first_of_month(months: int) -> date:
    """The first day of a month counted as ``year * 12 + month - 1``."""
    return date(months // 12, months % 12 + 1, 1)


def _day_spec(day: date) -> _Spec:
    _check_year(day.year)
    return PeriodType.DAILY, f"{day.year:04d}{day.month:02d}{day.day:02d}", day, day


def _week_spec(iso_year: int, week: int) -> _Spec:
    _check_year(iso_year)
    start = date.fromisocalendar(iso_year, week, 1)
    return PeriodType.WEEKLY, f"{iso_year}W{week}", start, start + timedelta(days=6)


def _span_id(ptype: PeriodType, year: int, index: int) -> str:
    if ptype is PeriodType.YEARLY:
        return f"{year}"
    if ptype is PeriodType.SIXMONTHLY:
        return f"{year}S{index}"
    if ptype is PeriodType.QUARTERLY:
        return f"{year}Q{index}"
    return f"{year}{index:02d}"


def _span_spec(ptype: PeriodType, year: int, index: int) -> _Spec:
    """A month-aligned period: ``index`` counts months, quarters or halves within the year."""
    _check_year(year)
    span = _MONTHS_SPANNED[ptype]
    first = year * 12 + (index - 1) * span
    start = _first_of_month(first)
    end = _first_of_month(first + span) - _ONE_DAY
    return ptype, _span_id(ptype, year, index), start, end


def _spec_from_match(ptype: PeriodType, groups: tuple[str, ...]) -> _Spec:
    year, *rest = (int(group) for group in groups)
    _check_year(year)
    if ptype is PeriodType.YEARLY:
        return _span_spec(ptype, year, 1)
    if ptype is PeriodType.SIXMONTHLY:
        if not 1 <= rest[0] <= 2:
            raise _Reason(gettext("half-year must be 1 or 2, got %(n)s") % {"n": rest[0]})
        return _span_spec(ptype, year, rest[0])
    if ptype is PeriodType.QUARTERLY:
        if not 1 <= rest[0] <= 4:
            raise _Reason(gettext("quarter must be 1..4, got %(n)s") % {"n": rest[0]})
        return _span_spec(ptype, year, rest[0])
    if ptype is PeriodType.WEEKLY:
        weeks = _iso_weeks(year)
        if rest[0] == 0:
            raise _Reason(gettext("ISO weeks are numbered from 1"))
        if rest[0] > weeks:
            raise _Reason(
                gettext("%(year)s has %(weeks)s ISO weeks") % {"year": year, "weeks": weeks}
            )
        return _week_spec(year, rest[0])
    if not 1 <= rest[0] <= 12:
        raise _Reason(gettext("month must be 01..12, got %(month)s") % {"month": f"{rest[0]:02d}"})
    if ptype is PeriodType.MONTHLY:
        return _span_spec(ptype, year, rest[0])
    try:
        day = date(year, rest[0], rest[1])
    except ValueError:
        raise _Reason(
            gettext("%(month)s has no day %(day)s")
            % {"month": f"{year}-{rest[0]:02d}", "day": f"{rest[1]:02d}"}
        ) from None
    return _day_spec(day)


def _parse(ident: str) -> _Spec:
    """Type, canonical id and bounds of an identifier, without building a ``Period``."""
    try:
        if not ident:
            raise _Reason(gettext("empty"))
        for pattern, ptype in _FORMATS:
            match = pattern.fullmatch(ident)
            if match:
                return _spec_from_match(ptype, match.groups())
        raise _Reason(
            gettext("unknown format (expected yyyy, yyyySn, yyyyQn, yyyyMM, yyyyWn or yyyyMMdd)")
        )
    except _Reason as reason:
        raise ValueError(
            gettext("invalid period identifier %(ident)s: %(reason)s")
            % {"ident": repr(ident), "reason": reason}
        ) from None


def _plain_date(value: object, name: str) -> date:
    """Reject datetimes: which local day they denote depends on a time zone we do not know."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, got {type(value).__name__}")
    return value


def _elapsed_share(start: date, end: date, today: date) -> Fraction:
    today = _plain_date(today, "today")
    if today < start:
        return Fraction(0)
    if today >= end:
        return Fraction(1)
    return Fraction((today - start).days + 1, (end - start).days + 1)


@dataclass(frozen=True, order=True, repr=False)
class Period:
    """One reporting period.

    Build it with :func:`parse_period` or :func:`period_containing`; the
    constructor only checks that its four fields agree. Equality, hashing and
    ordering go by ``(start, end)``, which identifies a period on its own.
    """

    type: PeriodType = field(compare=False)
    id: str = field(compare=False)
    start: date
    end: date

    def __post_init__(self) -> None:
        expected = _parse(self.id)
        if expected != (self.type, self.id, self.start, self.end):
            kind, ident, start, end = expected
            raise ValueError(
                gettext(
                    "inconsistent period %(id)s: expected %(type)s %(ident)s %(start)s..%(end)s"
                )
                % {
                    "id": repr(self.id),
                    "type": _type_words(kind),
                    "ident": repr(ident),
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                }
            )

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<Period {self.id} {self.start.isoformat()}..{self.end.isoformat()}>"

    @property
    def year(self) -> int:
        """The year named by the identifier; for a week its ISO year, not the start's year."""
        return int(self.id[:4])

    @property
    def index(self) -> int:
        """Position within the year: half, quarter, month, ISO week or day of year (1-based)."""
        if self.type is PeriodType.DAILY:
            return self.start.timetuple().tm_yday
        if self.type is PeriodType.WEEKLY:
            return self.start.isocalendar().week
        return (self.start.month - 1) // _MONTHS_SPANNED[self.type] + 1

    @property
    def days(self) -> int:
        """Length in days, both ends included."""
        return (self.end - self.start).days + 1

    def next(self) -> Period:
        """The period of the same type that starts the day after this one ends."""
        return period_containing(self.type, self.end + _ONE_DAY)

    def previous(self) -> Period:
        """The period of the same type that ends the day before this one starts."""
        return period_containing(self.type, self.start - _ONE_DAY)

    def contains(self, other: Period | date) -> bool:
        """Whether a day, or every day of another period, falls inside this period."""
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        day = _plain_date(other, "other")
        return self.start <= day <= self.end

    def __contains__(self, other: object) -> bool:
        if not isinstance(other, Period | date):
            raise TypeError(f"a period contains dates and periods, not {type(other).__name__}")
        return self.contains(other)

    def sub_periods(self, ptype: PeriodType) -> list[Period]:
        """The finer periods that make up this one.

        ISO weeks do not nest in months or years, so a week belongs to the period
        holding its Thursday, the same rule that assigns a week to its ISO year.
        """
        if ptype.rank > self.type.rank:
            raise ValueError(
                gettext("a %(type)s period cannot be split into %(finer)s periods")
                % {"type": _type_words(self.type), "finer": _type_words(ptype)}
            )
        if ptype is not PeriodType.WEEKLY:
            return periods_between(ptype, self.start, self.end)
        weeks = periods_between(ptype, self.start, self.end, partial=True)
        return [week for week in weeks if self.contains(week.start + _THURSDAY_OFFSET)]

    def elapsed_share(self, today: date) -> Fraction:
        """Share of the period's days elapsed by ``today`` inclusive: expected progress to date."""
        return _elapsed_share(self.start, self.end, today)


def parse_period(text: str) -> Period:
    """Read a DHIS2 identifier; ``2019W01`` is accepted and normalised to ``2019W1``."""
    if not isinstance(text, str):
        raise TypeError(f"period identifier must be a string, got {type(text).__name__}")
    return Period(*_parse(text.strip()))


def _containing_spec(ptype: PeriodType, day: date) -> _Spec:
    if ptype is PeriodType.DAILY:
        return _day_spec(day)
    if ptype is PeriodType.WEEKLY:
        iso_year, week, _ = day.isocalendar()
        return _week_spec(iso_year, week)
    return _span_spec(ptype, day.year, (day.month - 1) // _MONTHS_SPANNED[ptype] + 1)


def period_containing(ptype: PeriodType, day: date) -> Period:
    """The period of the given type that holds ``day`` (for weeks, its ISO week)."""
    day = _plain_date(day, "day")
    try:
        return Period(*_containing_spec(PeriodType(ptype), day))
    except _Reason as reason:
        raise ValueError(
            gettext("no %(type)s period for %(day)s: %(reason)s")
            % {"type": _type_words(ptype), "day": day.isoformat(), "reason": reason}
        ) from None


def periods_between(
    ptype: PeriodType, start: date, end: date, *, partial: bool = False
) -> list[Period]:
    """Periods of a type inside ``[start, end]``; with ``partial`` also those that only overlap."""
    start = _plain_date(start, "start")
    end = _plain_date(end, "end")
    if start > end:
        raise ValueError(
            gettext("start %(start)s is after end %(end)s")
            % {"start": start.isoformat(), "end": end.isoformat()}
        )
    found: list[Period] = []
    period = period_containing(ptype, start)
    while True:
        if partial or (start <= period.start and period.end <= end):
            found.append(period)
        if period.end >= end:
            return found
        period = period.next()


def year_to_date(period: Period) -> tuple[date, date]:
    """From the first day of the period's year to its last day, for cumulative figures.

    A week counts from the Monday of week 1 of its ISO year, so that week 1 of
    2019 (from 2018-12-31) does not reach back over all of 2018.
    """
    if period.type is PeriodType.WEEKLY:
        return date.fromisocalendar(period.year, 1, 1), period.end
    return date(period.start.year, 1, 1), period.end


@dataclass(frozen=True)
class StatisticalCalendar:
    """A reporting year that starts on ``start_month``/``start_day`` instead of 1 January.

    Schemes that close their books on the 20th count the year from 21 December
    and every month from the 21st of the month before. A statistical month that
    starts on the 16th or later carries the name of the following month, where
    most of its days fall; a statistical year carries the year of its first
    named month (as DHIS2 names financial years). With 12/21 the standard ids
    keep their names: year 2017 is 2016-12-21..2017-12-20 and 201702 is
    2017-01-21..2017-02-20. ``start_day`` stops at 28 so that every month has it.
    """

    start_month: int = 1
    start_day: int = 1

    def __post_init__(self) -> None:
        for name, value, high in (
            ("start_month", self.start_month, 12),
            ("start_day", self.start_day, 28),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                raise ValueError(
                    gettext("%(name)s must be an integer 1..%(high)s, got %(value)s")
                    % {"name": name, "high": high, "value": repr(value)}
                )

    def __str__(self) -> str:
        return f"{self.start_month:02d}/{self.start_day:02d}"

    @property
    def is_standard(self) -> bool:
        """Whether this is the plain calendar year, the only one ISO weeks fit."""
        return (self.start_month, self.start_day) == (1, 1)

    @property
    def _shift(self) -> int:
        return 1 if self.start_day >= 16 else 0

    @property
    def _first_month(self) -> int:
        """Zero-based name of the statistical year's first month."""
        return (self.start_month - 1 + self._shift) % 12

    def _named_month_start(self, months: int) -> date:
        """First day of the statistical month named ``year * 12 + month - 1``."""
        first = _first_of_month(months - self._shift)
        return first.replace(day=self.start_day)

    def _reject_weeks(self) -> None:
        if not self.is_standard:
            raise ValueError(
                gettext(
                    "weekly periods are not supported by the %(calendar)s statistical "
                    "calendar: ISO weeks do not follow its year"
                )
                % {"calendar": self}
            )

    def date_range(self, period: Period) -> tuple[date, date]:
        """First and last day of a standard period id read in this calendar."""
        if period.type is PeriodType.DAILY:
            return period.start, period.end
        if period.type is PeriodType.WEEKLY:
            self._reject_weeks()
            return period.start, period.end
        span = _MONTHS_SPANNED[period.type]
        if period.type is PeriodType.MONTHLY:
            first = period.year * 12 + period.index - 1
        else:
            first = period.year * 12 + self._first_month + (period.index - 1) * span
        return self._named_month_start(first), self._named_month_start(first + span) - _ONE_DAY

    def period_containing(self, ptype: PeriodType, day: date) -> Period:
        """The period of the given type whose range in this calendar holds ``day``."""
        ptype = PeriodType(ptype)
        day = _plain_date(day, "day")
        if ptype is PeriodType.WEEKLY:
            self._reject_weeks()
        if ptype in (PeriodType.DAILY, PeriodType.WEEKLY):
            return period_containing(ptype, day)
        month = day.year * 12 + day.month - 1 + self._shift
        if day.day < self.start_day:
            month -= 1
        if ptype is PeriodType.MONTHLY:
            year, index = month // 12, month % 12 + 1
        else:
            year, position = divmod(month - self._first_month, 12)
            index = position // _MONTHS_SPANNED[ptype] + 1
        try:
            return Period(*_span_spec(ptype, year, index))
        except _Reason as reason:
            raise ValueError(
                gettext("no %(type)s period for %(day)s in the %(calendar)s calendar: %(reason)s")
                % {
                    "type": _type_words(ptype),
                    "day": day.isoformat(),
                    "calendar": self,
                    "reason": reason,
                }
            ) from None

    def elapsed_share(self, period: Period, today: date) -> Fraction:
        """Share of the period's days in this calendar elapsed by ``today`` inclusive."""
        return _elapsed_share(*self.date_range(period), today)

    def year_to_date(self, period: Period) -> tuple[date, date]:
        """From the first day of this calendar's year holding the period's start to its end."""
        if period.type is PeriodType.WEEKLY:
            self._reject_weeks()
            return year_to_date(period)
        start, end = self.date_range(period)
        year_start, _ = self.date_range(self.period_containing(PeriodType.YEARLY, start))
        return year_start, end
