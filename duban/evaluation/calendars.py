"""Which statistical year a figure is counted over, for callers outside the scoring.

A scheme states its statistical year (`Scheme.start_month/start_day`: 21 December, say); a
key task linked to an indicator is judged over the year of the scheme that scores that
indicator for the task's unit, not over the calendar year.
"""

from __future__ import annotations

from datetime import date

from duban.evaluation.models import Scheme, SchemeStatus
from duban.orgs.models import OrgUnit
from duban.periods import PeriodType, StatisticalCalendar


def calendar_for(indicator_code: str, unit: OrgUnit, today: date) -> StatisticalCalendar:
    """The statistical calendar of the published scheme that scores `indicator_code` and
    whose year holds `today`, issued at the unit or above it (the nearest issuer first);
    the plain calendar year when no scheme scores it."""
    schemes = (
        Scheme.objects.filter(status=SchemeStatus.PUBLISHED, items__indicator=indicator_code)
        .select_related("issuer")
        .distinct()
    )
    nearest: list[tuple[int, StatisticalCalendar]] = []
    for scheme in schemes:
        if not unit.path.startswith(scheme.issuer.path):
            continue
        calendar = StatisticalCalendar(scheme.start_month, scheme.start_day)
        if calendar.period_containing(PeriodType.YEARLY, today).year == scheme.year:
            nearest.append((-len(scheme.issuer.path), calendar))
    if not nearest:
        return StatisticalCalendar()
    return min(nearest, key=lambda pair: pair[0])[1]
