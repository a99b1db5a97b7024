"""Scores on demand: rows → engine scheme, approved figures → values, one compute.

Nothing is stored: a score is recomputed whenever it is read, so "scores
refresh when data are approved" holds by construction. Published results are
the exception, frozen in ``Publication.snapshot``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from duban.errors import DubanError
from duban.evaluation import engine
from duban.evaluation.builder import scheme_to_engine
from duban.evaluation.engine import RankChange, SchemeResult
from duban.evaluation.engine import Scheme as EngineScheme
from duban.evaluation.models import Scheme
from duban.evaluation.values import Key, ValueSource, load_source
from duban.periods import Period, PeriodType, parse_period

log = logging.getLogger(__name__)
PERIOD_TYPES = (PeriodType.MONTHLY, PeriodType.QUARTERLY, PeriodType.SIXMONTHLY, PeriodType.YEARLY)


@dataclass
class Scored:
    scheme: Scheme
    engine: EngineScheme
    result: SchemeResult
    previous: SchemeResult | None
    changes: dict[str, RankChange]
    source: ValueSource

    @property
    def period(self) -> str:
        return self.result.period.id


def default_period(scheme: Scheme) -> str:
    """Year to date: the statistical year itself (expected progress measured at today)."""
    return str(scheme.year)


def check_period(built: engine.Scheme, period_id: str | None) -> Period:
    """A month, quarter, half-year or the year of the scheme; DubanError naming ``period``."""
    text = (period_id or str(built.year)).strip()
    try:
        period = parse_period(text)
    except ValueError as error:
        raise DubanError(str(error), "period") from None
    if period.type not in PERIOD_TYPES:
        raise DubanError(
            _("give a month, quarter, half-year or year (201703, 2017Q1, 2017S1, 2017)"),
            "period",
        )
    calendar = built.calendar
    year = calendar.period_containing(PeriodType.YEARLY, calendar.date_range(period)[0])
    if year.year != built.year:
        raise DubanError(
            _("%(period)s is not in the scheme's year %(year)s")
            % {"period": period.id, "year": built.year},
            "period",
        )
    return period


def previous_period(period: Period, built: engine.Scheme) -> Period | None:
    """The period before, inside the same statistical year (none before the first)."""
    if period.type is PeriodType.YEARLY:
        return None
    before = period.previous()
    calendar = built.calendar
    year = calendar.period_containing(PeriodType.YEARLY, calendar.date_range(before)[0])
    return before if year.year == built.year else None


def compute(
    built: engine.Scheme, source: ValueSource, period: Period, today: date | None
) -> engine.SchemeResult:
    values, reasons, year_to_date = source.engine_input(period)
    return engine.compute_scores(
        built,
        values,
        period,
        today=today,
        reasons=reasons,
        year_to_date=year_to_date,
        added_up=added_up(built, source, values, period),
    )


def added_up(
    built: engine.Scheme, source: ValueSource, values: dict[Key, Decimal | None], period: Period
) -> set[Key]:
    """The inputs of cumulative computed items that the value source added up over a
    quarter, half-year or year (for items read as they stand) rather than found stored
    for it: the engine must sum their months from the year's start instead, so that a
    cumulative rate is the formula over the year-to-date sums."""
    if period.type is PeriodType.MONTHLY or not built.formulas:
        return set()
    inputs: set[str] = set()
    for item in built.items:
        if item.cumulative and item.indicator in built.formulas:
            inputs |= built.base_inputs(item.indicator)
    pid, raw = period.id, source.raw
    return {
        key
        for code in inputs
        for unit in built.units
        if (key := (code, unit.code, pid)) in values and key not in raw
    }


def score(
    scheme: Scheme,
    period_id: str | None = None,
    *,
    today: date | None = None,
    with_previous: bool = True,
    built: engine.Scheme | None = None,
) -> Scored:
    """Every unit's result for one period, and the rank change since the period before."""
    start = time.perf_counter()
    with engine.collector_paused():  # hundreds of thousands of figures, no cycles
        scored = _score(scheme, period_id, today, with_previous, built)
    log.info(
        "scheme scored",
        extra={
            "scheme": scheme.code,
            "period": scored.period,
            "units": len(scored.result.units),
            "problems": len(scored.result.problems),
            "seconds": round(time.perf_counter() - start, 3),
        },
    )
    return scored


def _score(
    scheme: Scheme,
    period_id: str | None,
    today: date | None,
    with_previous: bool,
    built: engine.Scheme | None,
) -> Scored:
    built = built or scheme_to_engine(scheme)
    period = check_period(built, period_id)
    before = previous_period(period, built) if with_previous else None
    source = load_source(built, [period] if before is None else [period, before])
    today = today or date.today()
    result = compute(built, source, period, today)
    previous = compute(built, source, before, today) if before is not None else None
    changes = engine.rank_change(previous, result) if previous is not None else {}
    return Scored(scheme, built, result, previous, changes, source)
