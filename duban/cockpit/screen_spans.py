"""The spans a dispatch meeting compares, and when a change in a count exceeds chance.

Plain arithmetic, no database: this week, the last 28 days and the year to date, each against
the same span before; a change of a small count is marked only when the Poisson test says it
is more than chance (2 → 4 is not an alarm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from duban.indicators.models import fmt

Z_LIMIT = 2.0  # a change is marked beyond ±2 (about 5 % by chance alone)


@dataclass(frozen=True)
class Span:
    """A span ending on the meeting day, and the same span before it."""

    key: str  # week, days28, year
    start: date
    end: date
    before_start: date
    before_end: date


def same_day_last_year(day: date) -> date:
    """29 February falls back to the 28th: last year had no such day."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def spans(day: date) -> list[Span]:
    """This week and last 28 days against the span just before (环比, as bulletins compare
    short spans); the year to date against the same dates last year (同比)."""
    week = Span("week", day - timedelta(days=6), day, day - timedelta(days=13), day - timedelta(7))
    days28 = Span(
        "days28", day - timedelta(27), day, day - timedelta(days=55), day - timedelta(days=28)
    )
    jan1 = day.replace(month=1, day=1)
    year = Span("year", jan1, day, jan1.replace(year=day.year - 1), same_day_last_year(day))
    return [week, days28, year]


def poisson_z(now: Decimal, before: Decimal) -> float:
    """How far a count moved beyond chance: counts are roughly Poisson, and the square root
    steadies their variance, so 2·(√now − √before) is about a standard normal under no change."""
    return 2 * (math.sqrt(max(float(now), 0.0)) - math.sqrt(max(float(before), 0.0)))


def change_mark(now: Decimal | None, before: Decimal | None) -> str:
    """'up' or 'down' when a count changed beyond chance (|z| > 2), else ''."""
    if now is None or before is None:
        return ""
    z = poisson_z(now, before)
    return "up" if z > Z_LIMIT else "down" if z < -Z_LIMIT else ""


def signed(value: Decimal) -> str:
    """+3, −2, 0: the change as a reader says it (a true minus sign reads better on a wall)."""
    text = fmt(abs(value))
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else "0"
