"""What other apps call: the evaluation engine and the indicators app.

Neither side imports the other's models: the scoring engine asks for a share,
and the indicators app hands in a callable that returns actual values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import transaction

from duban.audit.context import acting_as
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.periods import Period, PeriodType, StatisticalCalendar
from duban.tasks import services
from duban.tasks.models import Milestone, Task

ValuesLookup = Callable[[str, OrgUnit, date], Decimal | None]
# Which statistical year counts an indicator's figures for a unit on a day. The schemes that
# state it belong to evaluation, which sits above tasks: it registers its answer here when
# the apps are ready (`use_calendars`); until then, and without it, the calendar year.
CalendarFor = Callable[[str, OrgUnit, date], StatisticalCalendar]


def _calendar_year(indicator_code: str, unit: OrgUnit, today: date) -> StatisticalCalendar:
    return StatisticalCalendar()


_calendars: list[CalendarFor] = [_calendar_year]


def use_calendars(calendar_for: CalendarFor) -> None:
    """Say which statistical year counts an indicator for a unit (evaluation's schemes)."""
    _calendars[:] = [calendar_for]


def milestones_on_time_share(
    unit: OrgUnit, start: date, end: date, *, today: date | None = None, subtree: bool = False
) -> Decimal | None:
    """Share of the milestones of tasks led by `unit`, due in [start, end], met on time.

    A milestone is judged once it is met or its date has passed (as of `today`); one
    still open and not yet due is left out. None when nothing is judged: a missing
    value, not zero. The Decimal is the exact ratio to 28 digits; round when shown.
    """
    today = today or services.today_local()
    qs = Milestone.objects.filter(due_date__range=(start, end))
    qs = (
        qs.filter(task__lead_unit__path__startswith=unit.path)
        if subtree
        else qs.filter(task__lead_unit=unit)
    )
    judged = good = 0
    for due, met_on in qs.values_list("due_date", "met_on"):
        if met_on is not None and met_on <= today:
            judged += 1
            good += 1 if met_on <= due else 0
        elif due < today:
            judged += 1
    return Decimal(good) / Decimal(judged) if judged else None


def target_reached(actual: Decimal, target: Decimal, higher_is_better: bool) -> bool:
    return actual >= target if higher_is_better else actual <= target


def approved_year_figure(indicator_code: str, unit: OrgUnit, today: date) -> Decimal | None:
    """The unit's figure of the indicator over the statistical year holding `today` (the
    year of the scheme scoring that indicator, 21 December to 20 December say), from its
    start to today, summed (or aggregated as the indicator says) from APPROVED or locked
    figures only: a draft, however large, never declares a task done."""
    from duban.indicators.models import Indicator
    from duban.reporting.figures import approved_figure

    indicator = Indicator.objects.filter(code=indicator_code, is_active=True).first()
    if indicator is None:
        return None
    calendar = _calendars[0](indicator_code, unit, today)
    year = calendar.period_containing(PeriodType.YEARLY, today)
    start, _end = calendar.date_range(year)
    types = {PeriodType(indicator.period_type)}
    if indicator.parsed_formula is not None:
        inputs = Indicator.objects.filter(code__in=indicator.parsed_formula.references)
        types |= {PeriodType(i.period_type) for i in inputs}
    periods: list[Period] = []
    for ptype in sorted(types - {PeriodType.WEEKLY, PeriodType.DAILY}, key=lambda t: t.rank):
        period = calendar.period_containing(ptype, start)
        last = calendar.period_containing(ptype, today)
        while True:
            periods.append(period)
            if period.id == last.id:
                break
            period = period.next()
    return approved_figure(indicator_code, unit, year, periods)


def check_indicator_targets(
    values_lookup: ValuesLookup = approved_year_figure, *, today: date | None = None
) -> list[Task]:
    """Declare done every running task whose linked indicator has reached its target.

    `values_lookup(indicator_code, lead_unit, today)` returns the lead unit's actual
    value (None when missing); by default `approved_year_figure`, approved figures over
    the scheme's statistical year. The task is then DONE, awaiting the issuing unit's
    check before it is closed off the ledger, exactly as when the lead unit declares it.
    """
    today = today or services.today_local()
    done: list[Task] = []
    candidates = (
        Task.objects.select_related("lead_unit")
        .filter(
            completed_on__isnull=True,
            closed_on__isnull=True,
            start_date__lte=today,
            indicator_target__isnull=False,
        )
        .exclude(indicator_code="")
    )
    with acting_as(source="indicator check"):
        for task in candidates:
            actual = values_lookup(task.indicator_code, task.lead_unit, today)
            if actual is None or task.indicator_target is None:
                continue
            if target_reached(
                Decimal(actual), task.indicator_target, task.indicator_higher_is_better
            ):
                with transaction.atomic():
                    done.append(
                        services.declare_done(task, user=SYSTEM, today=today, via="indicator")
                    )
    return done
