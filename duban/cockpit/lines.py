"""A division head's line (条线) across the bureaus: his line's indicators in every territorial
unit under the division's parent, ranked, the laggards first (issue 12, part 2).

A 交警支队 head opens traffic and sees yellow-label vehicles removed in each county bureau of
his city: the figure of the latest period with approved figures, the year to date where the
indicator sums, the target the evaluation scheme sets (the unit's own, else the item's), the
attainment computed from the raw figures, and the place. Who sees what is the policy's:
the divisions whose data he reads (`policy.visible_units`), the units his line reaches
(`visible_units(..., line=)`), the figures through `reporting.figures` (`readable_values`
with the line), approved or locked only. The queries do not grow with the number of units:
a handful per indicator, none per unit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import pgettext

from duban.evaluation.models import SchemeItem, SchemeStatus, Target
from duban.indicators.models import DataSetMember, Direction, Indicator, TimeAggregation
from duban.orgs import policy
from duban.orgs.models import Kind, Line, OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, PeriodType, StatisticalCalendar, parse_period
from duban.reporting.figures import FigureTable, figure_table, readable_values
from duban.reporting.models import DONE_STATES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User

    Viewer = User | AnonymousUser

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineHead:
    """A division heading a line, and the territorial unit (its parent) whose bureaus it follows."""

    line: str
    division: OrgUnit
    territory: OrgUnit

    @property
    def label(self) -> str:
        return str(Line(self.line).label)


@dataclass(frozen=True)
class UnitRow:
    """One bureau on one indicator. `attainment` is a percentage from the raw figures
    (figure ÷ target, or target ÷ figure where lower is better); `place` None: no measure."""

    unit: OrgUnit
    figure: Decimal | None
    year_to_date: Decimal | None
    target: Decimal | None
    attainment: Decimal | None
    place: int | None
    link: str | None


@dataclass(frozen=True)
class IndicatorBoard:
    """One indicator of the line across the bureaus, laggards first."""

    indicator: Indicator
    period: Period | None  # the latest period with approved figures; None: none yet
    sums: bool  # the indicator sums over time: the year to date is shown
    versus_year: bool  # the target (or the ranking) is on the year to date
    item: SchemeItem | None  # the scheme item giving the targets, if any
    rows: list[UnitRow]

    @property
    def has_targets(self) -> bool:
        return any(r.target is not None for r in self.rows)


@dataclass(frozen=True)
class LineBoard:
    head: LineHead
    boards: list[IndicatorBoard]


def viewer_lines(viewer: Viewer) -> list[LineHead]:
    """The divisions heading a line whose data the viewer reads (a role there or above it),
    the top-most per line: a province's corps covers a city's detachment under it."""
    divisions = (
        policy.visible_units(viewer, Action.VIEW_DATA)
        .filter(kind=Kind.DIVISION, is_active=True, parent__isnull=False)
        .exclude(line="")
        .select_related("parent")
    )
    heads: list[LineHead] = []
    for d in sorted(divisions, key=lambda d: (d.path.count("/"), d.path)):  # the highest first
        if d.parent is None:
            continue
        covered = any(
            h.line == d.line and d.parent.path.startswith(h.territory.path) for h in heads
        )
        if not covered:
            heads.append(LineHead(d.line, d, d.parent))
    order = list(Line.values)
    return sorted(heads, key=lambda h: (order.index(h.line), h.territory.path))


def require_lines(viewer: Viewer) -> list[LineHead]:
    """The viewer's lines; 403 when he follows none (a county's people, an office clerk)."""
    heads = viewer_lines(viewer)
    if not heads:
        raise PermissionDenied(pgettext("line", "You follow no line of police work."))
    return heads


@dataclass(frozen=True)
class LinePage:
    """What the line page shows: the picker of the viewer's lines and the chosen line's boards."""

    line: str
    label: str
    lines: list[tuple[str, str]]  # (line, its name), each once, in the lines' order
    boards: list[LineBoard]


def line_page(viewer: Viewer, line: str) -> LinePage:
    """The chosen line across the bureaus of every division of it the viewer follows;
    403 when he follows none (another line's reporter, a county leader)."""
    heads = require_lines(viewer)
    mine = [h for h in heads if h.line == line]
    if not mine:
        raise PermissionDenied(pgettext("line", "You follow no division of this line."))
    picker = list(dict.fromkeys((h.line, h.label) for h in heads))
    return LinePage(line, mine[0].label, picker, [line_board(viewer, h) for h in mine])


def line_board(viewer: Viewer, head: LineHead) -> LineBoard:
    """The line's indicators across the bureaus under the division's parent, laggards first."""
    indicators = list(
        Indicator.objects.filter(line=head.line, is_active=True)
        .select_related("issuer")
        .order_by("sort_order", "code")
    )
    bureaus = list(
        policy.visible_units(viewer, Action.VIEW_DATA, line=head.line)
        .filter(parent=head.territory, kind=Kind.TERRITORIAL, is_active=True)
        .order_by("sort_order", "code")
    )
    # the line's indicators issued for this territory: by it, above it or inside it
    here = head.territory.path
    indicators = [
        i for i in indicators if here.startswith(i.issuer.path) or i.issuer.path.startswith(here)
    ]
    if not indicators or not bureaus:
        return LineBoard(head, [])
    latest = _latest_periods(viewer, head, indicators)
    items = _scheme_items(indicators, head.territory, latest)
    targets = _targets(list(items.values()), bureaus)
    forms = _data_sets(indicators)
    boards = [
        _board(viewer, head, ind, bureaus, latest.get(ind.pk), items.get(ind.pk), targets, forms)
        for ind in indicators
    ]
    return LineBoard(head, boards)


def _inputs(indicator: Indicator) -> list[str]:
    formula = indicator.parsed_formula
    return sorted(formula.references) if formula is not None else []


def _latest_periods(
    viewer: Viewer, head: LineHead, indicators: list[Indicator]
) -> dict[int, Period]:
    """Per indicator, the latest period with an approved figure the viewer reads in the
    territory (a computed indicator: the latest of its inputs). One query."""
    codes = {i.code for i in indicators} | {c for i in indicators for c in _inputs(i)}
    rows = (
        readable_values(viewer, line=head.line)
        .filter(
            indicator__code__in=codes,
            unit__path__startswith=head.territory.path,
            state__in=[str(s) for s in DONE_STATES],
            value__isnull=False,
        )
        .values_list("indicator__code", "period")
        .distinct()
    )
    by_code: dict[str, list[Period]] = defaultdict(list)
    for code, pid in rows:
        by_code[code].append(parse_period(pid))
    latest: dict[int, Period] = {}
    for ind in indicators:
        found = [p for c in (_inputs(ind) or [ind.code]) for p in by_code.get(c, [])]
        if found:
            latest[ind.pk] = max(found, key=lambda p: (p.end, -p.days))
    return latest


def _scheme_items(
    indicators: list[Indicator], territory: OrgUnit, latest: dict[int, Period]
) -> dict[int, SchemeItem]:
    """Per indicator, the published scheme item scoring it in the territory that year: the
    nearest issuer (the city's own scheme before the province's), an item with targets first."""
    codes = {i.code: i for i in indicators}
    years = {p.year for p in latest.values()}
    found = list(
        SchemeItem.objects.filter(
            indicator__in=list(codes),
            scheme__status=SchemeStatus.PUBLISHED,
            scheme__year__in=sorted(years),
        ).select_related("scheme__issuer")
    )
    with_targets = set(
        Target.objects.filter(item__in=found).values_list("item_id", flat=True).distinct()
    )
    best: dict[int, tuple[tuple[int, int, int], SchemeItem]] = {}
    for item in found:
        ind = codes[item.indicator]
        period = latest.get(ind.pk)
        if period is None or item.scheme.year != period.year:
            continue
        if not territory.path.startswith(item.scheme.issuer.path):
            continue
        targeted = item.target is not None or item.pk in with_targets
        rank = (-len(item.scheme.issuer.path), 0 if targeted else 1, item.sort_order)
        if ind.pk not in best or rank < best[ind.pk][0]:
            best[ind.pk] = (rank, item)
    return {pk: item for pk, (_rank, item) in best.items()}


def _targets(items: list[SchemeItem], units: list[OrgUnit]) -> dict[tuple[int, int], Decimal]:
    """(item, unit) → the unit's own target on the item. One query."""
    rows = Target.objects.filter(item__in=items, unit__in=units).values_list(
        "item_id", "unit_id", "value"
    )
    return {(item_id, unit_id): value for item_id, unit_id, value in rows}


def _data_sets(indicators: list[Indicator]) -> dict[int, tuple[str, str]]:
    """Indicator → (its data set's code, period type): where its form is. One query."""
    rows = DataSetMember.objects.filter(
        indicator__in=indicators, data_set__is_active=True
    ).values_list("indicator_id", "data_set__code", "data_set__period_type")
    return {ind_id: (code, ptype) for ind_id, code, ptype in rows}


def _year_periods(period: Period, calendar: StatisticalCalendar) -> tuple[Period, list[Period]]:
    """The statistical year holding `period`, and its periods of that type up to `period`."""
    start, _end = calendar.date_range(period)
    year = calendar.period_containing(PeriodType.YEARLY, start)
    year_start, _ = calendar.date_range(year)
    current = calendar.period_containing(period.type, year_start)
    periods = [current]
    while current.id != period.id and len(periods) < 400:
        current = current.next()
        periods.append(current)
    return year, periods


def _board(
    viewer: Viewer,
    head: LineHead,
    ind: Indicator,
    bureaus: list[OrgUnit],
    period: Period | None,
    item: SchemeItem | None,
    targets: dict[tuple[int, int], Decimal],
    forms: dict[int, tuple[str, str]],
) -> IndicatorBoard:
    """One indicator: each bureau's figures, target, attainment and place, laggards first."""
    sums = ind.time_aggregation == TimeAggregation.SUM and ind.period_type not in (
        PeriodType.WEEKLY,
        PeriodType.DAILY,
    )
    versus_year = sums and (item is None or item.cumulative)
    if period is None:
        rows = [UnitRow(u, None, None, None, None, None, None) for u in bureaus if ind.reported_by(u)]  # fmt: skip
        return IndicatorBoard(ind, None, sums, versus_year, item, rows)
    inputs = _inputs(ind)
    needed = [ind, *Indicator.objects.filter(code__in=inputs)] if inputs else [ind]
    table = figure_table(needed, head.territory, period, viewer=viewer, done_only=True, line=head.line)  # fmt: skip
    ytd_table = None
    if sums:
        scheme = item.scheme if item is not None else None
        calendar = StatisticalCalendar(scheme.start_month, scheme.start_day) if scheme else None
        year, periods = _year_periods(period, calendar or StatisticalCalendar())
        ytd_table = figure_table(needed, head.territory, year, periods=periods, viewer=viewer,
                                 done_only=True, line=head.line)  # fmt: skip
    higher = ind.direction != Direction.LOWER
    rows = []
    for unit in bureaus:
        if not _reports(ind, unit, table):
            continue
        figure = _figure(table, unit, ind)
        ytd = _figure(ytd_table, unit, ind) if ytd_table is not None else None
        target = targets.get((item.pk, unit.pk), item.target) if item is not None else None
        measure = ytd if versus_year else figure
        rows.append(UnitRow(unit, figure, ytd, target, attainment(measure, target, higher),
                            None, _link(ind, unit, period, forms)))  # fmt: skip
    return IndicatorBoard(ind, period, sums, versus_year, item, _ranked(rows, versus_year, higher))


def _figure(table: FigureTable, unit: OrgUnit, ind: Indicator) -> Decimal | None:
    return table.figures(unit.pk).get(ind.code) if unit.pk in table.units else None


def _ranked(rows: list[UnitRow], versus_year: bool, higher: bool) -> list[UnitRow]:
    """Places (ties share the better one: 1, 2, 2, 4) on attainment where any bureau has a
    target, else on the figure itself; laggards first, those without a measure before all."""
    on_target = any(r.target is not None for r in rows)

    def score(r: UnitRow) -> Decimal | None:
        if on_target:
            return r.attainment
        measure = r.year_to_date if versus_year else r.figure
        return None if measure is None else (measure if higher else -measure)

    scores = [score(r) for r in rows]
    present = [s for s in scores if s is not None]
    placed = [
        replace(r, place=None if s is None else 1 + sum(1 for o in present if o > s))
        for r, s in zip(rows, scores, strict=True)
    ]
    order = {id(r): n for n, r in enumerate(placed)}
    return sorted(placed, key=lambda r: (r.place is not None, -(r.place or 0), order[id(r)]))


def attainment(measure: Decimal | None, target: Decimal | None, higher: bool) -> Decimal | None:
    """Percent of target from the raw figures: measure ÷ target where higher is better,
    target ÷ measure where lower is; None without both (or dividing by zero)."""
    if measure is None or target is None:
        return None
    if higher:
        return measure / target * HUNDRED if target else None
    return target / measure * HUNDRED if measure else None


def _reports(ind: Indicator, unit: OrgUnit, table: FigureTable) -> bool:
    """Whether the bureau reports the indicator, itself or through a unit below it."""
    inputs = [i for i in table.indicators if not i.is_computed]
    return any(
        i.reported_by(u)
        for u in table.units.values()
        if u.path.startswith(unit.path)
        for i in inputs
    )


def _link(
    ind: Indicator, unit: OrgUnit, period: Period, forms: dict[int, tuple[str, str]]
) -> str | None:
    """The bureau's form for the period (its overview where it reports through units below)."""
    found = forms.get(ind.pk)
    if found is None or found[1] != period.type.value:
        return None
    code, _ptype = found
    name = "reporting:form" if ind.reported_by(unit) else "reporting:overview"
    return reverse(name, args=[code, unit.code, period.id])
