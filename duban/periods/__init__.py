"""DHIS2-compatible reporting periods and statistical calendars (no Django)."""

from duban.periods.core import (
    MAX_YEAR,
    MIN_YEAR,
    Period,
    PeriodType,
    StatisticalCalendar,
    parse_period,
    period_containing,
    periods_between,
    year_to_date,
)

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
