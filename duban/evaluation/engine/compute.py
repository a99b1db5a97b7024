"""``compute_scores``: a scheme and a mapping of values in, every unit's result out.

Input is plain on purpose: the YAML/CSV command and the Django app build the
same ``Scheme`` and the same ``{(indicator, unit, period): Decimal | None}``
mapping. The per-scheme work (who is compared with whom, which items apply to
which unit, targets) is compiled once and kept on the scheme object
(``plan.py``). Each item is then scored on its own (``items.py``, the plain
path; ``cohorts.py``, whole cohorts at once), and the totals, ranks and grades
follow here. See README.md beside this file.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction
from operator import add

from duban.evaluation.engine.cohorts import score_item_fast
from duban.evaluation.engine.decimals import ENGINE_CONTEXT, ZERO, round2
from duban.evaluation.engine.grades import Standing, assign_grades
from duban.evaluation.engine.items import score_item
from duban.evaluation.engine.model import Scheme
from duban.evaluation.engine.plan import Layout, Plan, compile_plan
from duban.evaluation.engine.ranking import competition_ranks
from duban.evaluation.engine.reading import Reading, Reasons, ValueKey, Values, YearToDate
from duban.evaluation.engine.results import (
    CategoryResult,
    ItemColumn,
    SchemeResult,
    ScoreProblem,
    UnitItems,
    UnitResult,
)
from duban.periods import Period, PeriodType, StatisticalCalendar, parse_period

__all__ = [
    "Reasons",
    "ValueKey",
    "Values",
    "YearToDate",
    "collector_paused",
    "compile_plan",
    "compute_scores",
    "month_ids",
    "year_to_date_months",
]


def month_ids(calendar: StatisticalCalendar, year_start: date, end: date) -> tuple[str, ...]:
    """The statistical months from the start of the year that end on or before ``end``."""
    ids: list[str] = []
    month = calendar.period_containing(PeriodType.MONTHLY, year_start)
    while calendar.date_range(month)[1] <= end:
        ids.append(month.id)
        month = month.next()
    return tuple(ids)


def year_to_date_months(scheme: Scheme, period_id: str | Period) -> tuple[str, ...]:
    """The months a cumulative item sums for ``period_id``: the year's start to the period's end."""
    period = parse_period(period_id) if isinstance(period_id, str) else period_id
    calendar = scheme.calendar
    start, end = calendar.date_range(period)
    year = calendar.period_containing(PeriodType.YEARLY, start)
    return month_ids(calendar, calendar.date_range(year)[0], end)


def compute_scores(
    scheme: Scheme,
    values: Values,
    period_id: str | Period,
    *,
    today: date | None = None,
    reasons: Reasons | None = None,
    year_to_date: YearToDate | None = None,
    plain: bool = False,
    added_up: Collection[ValueKey] = (),
) -> SchemeResult:
    """Score every unit of the scheme for one period.

    ``values`` maps (indicator code, unit code, period id) to a Decimal, or None
    for a value known to be missing (an absent key is missing too). Weighted
    counts read one indicator code per class, ``<indicator>.<class>``.
    Cumulative items score the year to date: a value given directly for the
    asked period (not a month) is taken as the year-to-date figure; otherwise
    the monthly values from the start of the statistical year to the period's
    end are summed. ``reasons`` carries the written reasons of discretionary
    deductions under the same keys. ``today`` (default: the period's last day)
    sets the day expected progress is measured at, never later than the
    period's end. ``year_to_date`` hands over year-to-date sums already
    worked out (see :class:`YearToDate`); the result is the same as giving the
    monthly values. ``added_up`` names figures under the asked quarter, half-year or
    year that the caller added up from its months (for items read as they stand) rather
    than was given: a cumulative read sums the months instead of taking them as the year
    to date. ``plain`` scores every item unit by unit on the plain path,
    the reference the whole-cohort path is tested against (same results, slower).
    """
    plan = compile_plan(scheme)
    reading, period, as_of, elapsed, final = open_reading(
        scheme,
        values,
        period_id,
        today=today,
        reasons=reasons,
        year_to_date=year_to_date,
        added_up=added_up,
    )
    with localcontext(ENGINE_CONTEXT), collector_paused():
        return _score(scheme, plan, reading, period, as_of, elapsed, final, plain)


def open_reading(
    scheme: Scheme,
    values: Values,
    period_id: str | Period,
    *,
    today: date | None = None,
    reasons: Reasons | None = None,
    year_to_date: YearToDate | None = None,
    added_up: Collection[ValueKey] = (),
) -> tuple[Reading, Period, date, Fraction, bool]:
    """Where one period's figures come from: (reading, period, as_of, elapsed, final).
    Shared by ``compute_scores`` and ``totals.totals``, so both read the same figures."""
    period = parse_period(period_id) if isinstance(period_id, str) else period_id
    calendar = scheme.calendar
    start, end = calendar.date_range(period)
    year = calendar.period_containing(PeriodType.YEARLY, start)
    if year.year != scheme.year:
        raise ValueError(
            f"period {period.id} falls in statistical year {year.year}, "
            f"not in the scheme's year {scheme.year}"
        )
    year_start, year_end = calendar.date_range(year)
    as_of = end if today is None or today > end else today
    elapsed = calendar.elapsed_share(year, as_of)
    months = month_ids(calendar, year_start, end)
    if year_to_date is not None and year_to_date.months != months:
        raise ValueError(
            f"year-to-date sums cover {', '.join(year_to_date.months) or 'no month'}; "
            f"period {period.id} needs {', '.join(months)}"
        )
    reading = Reading(
        scheme,
        values,
        reasons or {},
        period.id,
        period.type is not PeriodType.MONTHLY,
        months,
        Decimal(elapsed.numerator),
        Decimal(elapsed.denominator),
        year_to_date,
        added_up,
    )
    return reading, period, as_of, elapsed, end >= year_end


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while results are built (and, in the app, while
    the figures are read: ``scoring.score``).

    Scoring allocates one small object per unit and item and creates no
    reference cycles; left running, the collector would rescan the caller's
    (large) values mapping many times over. At national scale (3,000 units ×
    150 items) this halves the time, and reading the 450,000 year-to-date sums
    takes 0.22 s instead of 0.37 s. Reference counting still frees
    everything; the collector resumes at once, and only if it was running.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _score(
    scheme: Scheme,
    plan: Plan,
    reading: Reading,
    period: Period,
    as_of: date,
    elapsed: Fraction,
    final: bool,
    plain: bool,
) -> SchemeResult:
    """Every item's column (plain path, or whole cohorts where possible), then the totals."""
    score = score_item if plain else score_item_fast
    columns = {ip.item.code: score(reading, ip) for ip in plan.items}
    category_totals = _category_totals(scheme, plan, columns)
    totals = {unit.code: ZERO for unit in scheme.units}
    for acc in category_totals.values():
        for unit, total in acc.items():
            totals[unit] += total
    result = _rank(
        scheme,
        plan,
        period,
        columns,
        totals,
        category_totals,
        reading.vetoed,
        reading.problems,
        as_of,
        elapsed,
        final,
    )
    result.reading = reading  # for result.totals(): the same figures, summed over units
    return result


def _category_totals(
    scheme: Scheme, plan: Plan, columns: dict[str, ItemColumn]
) -> dict[str, dict[str, Decimal]]:
    """category -> unit -> the sum of its counted item scores, items added in scheme order.

    Scores are added column by column in C (``map(add, …)``) into one row-aligned list
    per category and layout, then folded into the units scored in that category.
    """
    category_totals: dict[str, dict[str, Decimal]] = {c.code: {} for c in scheme.categories}
    for unit, categories in plan.categories_of.items():
        for category in categories:
            category_totals[category][unit] = ZERO
    sums: dict[tuple[str, int], tuple[Layout, list[Decimal]]] = {}
    for ip in plan.items:
        layout = ip.layout
        scores = columns[ip.item.code].scores
        if not all(layout.counted):  # shown, not ranked: not in the total
            scores = [s if c else ZERO for s, c in zip(scores, layout.counted, strict=True)]
        key = (ip.item.category, id(layout))
        found = sums.get(key)
        sums[key] = (layout, scores if found is None else list(map(add, found[1], scores)))
    for (category, _), (layout, row_sums) in sums.items():
        acc = category_totals[category]
        for unit, counted, score in zip(layout.units, layout.counted, row_sums, strict=True):
            if counted:
                acc[unit] += score
    return category_totals


def _rank(
    scheme: Scheme,
    plan: Plan,
    period: Period,
    columns: dict[str, ItemColumn],
    totals: dict[str, Decimal],
    category_totals: dict[str, dict[str, Decimal]],
    vetoed: set[str],
    problems: list[ScoreProblem],
    as_of: date,
    elapsed: Fraction,
    final: bool,
) -> SchemeResult:
    """Ranks on rounded totals, category ranks and grades, per comparison group."""
    units = scheme.unit_map
    order = {unit.code: index for index, unit in enumerate(scheme.units)}
    rounded = {code: round2(total) for code, total in totals.items()}
    group_ranks: dict[str, int] = {}
    for group in scheme.groups:
        group_ranks.update(competition_ranks({code: rounded[code] for code in group.members}))
    grades = scheme.grades
    unit_results: dict[str, UnitResult] = {}
    for cohort in plan.cohorts:
        members = cohort.members
        ranks = competition_ranks({code: rounded[code] for code in members})
        category_results: dict[str, dict[str, CategoryResult]] = {code: {} for code in members}
        for category in scheme.categories:
            acc = category_totals[category.code]
            scored = {code: round2(acc[code]) for code in members if code in acc}
            for code, rank in competition_ranks(scored).items():
                category_results[code][category.code] = CategoryResult(
                    category.code, acc[code], rank
                )
        standings = [Standing(code, rounded[code], ranks[code], code in vetoed) for code in members]
        assigned = assign_grades(standings, grades)
        for code in sorted(members, key=lambda c: (ranks[c], order[c])):
            grade, band = assigned[code]
            unit_results[code] = UnitResult(
                unit=units[code],
                group=cohort.group.code,
                sequence=cohort.sequence.code if cohort.sequence is not None else None,
                items=UnitItems(code, columns),
                categories=category_results[code],
                total=totals[code],
                display=rounded[code],
                rank=ranks[code],
                group_rank=group_ranks[code],
                grade=grades[grade],
                band=grades[band],
                vetoed=code in vetoed,
            )
    return SchemeResult(
        scheme=scheme,
        period=period,
        as_of=as_of,
        elapsed=elapsed,
        final=final,
        units=unit_results,
        problems=tuple(problems),
        cohorts=tuple(
            (c.group.code, c.sequence.code if c.sequence is not None else None, c.members)
            for c in plan.cohorts
        ),
        columns=columns,
    )
