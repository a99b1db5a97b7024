"""The agenda pack (会议材料), built from the data rather than typed.

For a meeting of a unit: what happened since its previous meeting — tasks red
or yellow, lead units behind, milestones missed or met late, supervision
orders unanswered, decided matters still open, done tasks awaiting the check —
everything the chair needs to know what to press for.

A pack is built for one reader: a county invited to the city's meeting reads its
own part of it, not its siblings' figures and tasks. Figures follow
`reporting.figures.readable_values` (units he may see; another unit's only once
approved), tasks `tasks.access.visible_tasks`; nothing here adds a rule of its own.

Frozen at the meeting: task states are computed as of its day; the figures are kept on the
first reading on or after its day (`PackFigures`), so a later correction leaves the pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from duban.meetings.models import DecidedMatter, Meeting, PackFigures
from duban.meetings.services import visible_meetings
from duban.orgs.models import OrgUnit
from duban.periods import Period, PeriodType, parse_period, period_containing, periods_between
from duban.tasks import access as task_access
from duban.tasks.ledger import LedgerRow, UnitSummary, by_lead_unit, ledger_rows
from duban.tasks.models import Milestone, Reminder, ReminderKind, TaskQuerySet
from duban.tasks.status import Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User

DEFAULT_LOOKBACK_DAYS = 30


MAX_PACK_INDICATORS = 8


@dataclass
class UnitFigures:
    unit: OrgUnit
    cells: list[tuple[Any, Decimal | None]]  # (indicator, figure): None means no figure


@dataclass
class FiguresSince:
    """Figures of the months that ended between two meetings, for the unit and each unit below."""

    periods: list[str]
    indicators: list[Any]
    rows: list[UnitFigures]


def months_since(since: date, until: date) -> list[Period]:
    """The months that ended after the last meeting and by this one; at least the last full one."""
    months = [
        p
        for p in periods_between(PeriodType.MONTHLY, since, until, partial=True)
        if since < p.end <= until
    ]
    if not months:
        months = [period_containing(PeriodType.MONTHLY, until).previous()]
    return months


# (unit id, indicator id, period, value, state): one figure, live or as kept in `PackFigures`
FigureRow = tuple[int, int, str, Decimal | None, str]


def live_rows(unit: OrgUnit, months: list[str]) -> list[FigureRow]:
    """Every figure with a value of the unit's subtree for these months, with its state: what
    `PackFigures` keeps (the policy's filter is applied when shown, so they serve every
    reader, each of whom may have other columns)."""
    from duban.reporting.models import DataValue

    return list(
        DataValue.objects.filter(
            unit__in=OrgUnit.objects.subtree_of(unit),
            period__in=months,
            value__isnull=False,
            indicator__is_active=True,
            indicator__period_type=PeriodType.MONTHLY,
        ).values_list("unit_id", "indicator_id", "period", "value", "state")
    )


def readable(rows: list[FigureRow], viewer: User | AnonymousUser) -> list[FigureRow]:
    """The rows `viewer` may read, as `reporting.figures.readable_values` says: figures of the
    units he may see, and of a unit where he holds no role himself only approved or locked."""
    from duban.orgs import policy
    from duban.reporting.models import DONE_STATES

    scope = policy.figure_scope(viewer)
    seen = set(scope.units.values_list("pk", flat=True))
    entering = set(scope.entering.values_list("pk", flat=True))
    done = {str(s) for s in DONE_STATES}
    return [r for r in rows if r[0] in seen and (r[4] in done or r[0] in entering)]


def unit_figures_since(
    unit: OrgUnit, since: date, until: date, *, viewer: User | AnonymousUser
) -> FiguresSince | None:
    """The figures `viewer` may read, of the unit and each unit below, since the last meeting:
    only the pack's columns are read (`readable_values` in SQL first)."""
    from duban.reporting.figures import readable_values

    ids = [m.id for m in months_since(since, until)]
    used = readable_values(viewer).filter(
        unit__in=OrgUnit.objects.subtree_of(unit), period__in=ids, value__isnull=False
    )
    columns = pack_indicators(set(used.values_list("indicator_id", flat=True).distinct()))
    rows = list(
        used.filter(indicator__in=[i for i in columns if not i.is_computed]).values_list(
            "unit_id", "indicator_id", "period", "value", "state"
        )
    )
    return figures_of(unit, ids, rows, viewer=viewer)


def pack_indicators(with_figures: set[int]) -> list[Any]:
    """The pack's columns: the active monthly indicators with a figure, then the computed
    ones whose inputs are among them, at most `MAX_PACK_INDICATORS`."""
    from duban.indicators.models import Indicator

    monthly = Indicator.objects.filter(is_active=True, period_type=PeriodType.MONTHLY)
    indicators = list(monthly.filter(pk__in=with_figures).order_by("sort_order", "code"))
    indicators += [
        i
        for i in monthly.exclude(formula="").order_by("sort_order", "code")
        if i.parsed_formula is not None
        and i.parsed_formula.references <= {x.code for x in indicators}
    ]
    return indicators[:MAX_PACK_INDICATORS]


def figures_of(
    unit: OrgUnit, months: list[str], rows: list[FigureRow], *, viewer: User | AnonymousUser
) -> FiguresSince | None:
    """The pack's table from figure rows (live or kept), as `viewer` may read them.

    As duban.reporting builds figures: a parent's figure is its children's aggregate where the
    indicator says so, months are aggregated as each indicator says, and rates are computed from
    the summed inputs, never averaged — all from the readable figures only. A unit he may not
    see has no row, and an indicator only he may not read has no column.
    """
    from duban.indicators.formula import evaluate_all
    from duban.orgs import policy
    from duban.orgs.policy import Action
    from duban.reporting.figures import FigureTable, aggregate_over_time

    units = {
        u.pk: u
        for u in OrgUnit.objects.subtree_of(unit)
        .filter(is_active=True)
        .filter(pk__in=policy.visible_units(viewer, Action.VIEW_DATA))
    }
    used = [r for r in readable(rows, viewer) if r[0] in units]
    indicators = pack_indicators({r[1] for r in used})
    if not indicators:
        return None
    entered = [i for i in indicators if not i.is_computed]
    wanted = {i.pk for i in entered}
    children: dict[int | None, list[int]] = {}
    for u in sorted(units.values(), key=lambda u: (u.sort_order, u.code)):
        if u.parent_id in units:
            children.setdefault(u.parent_id, []).append(u.pk)
    tables = []
    for month in months:
        raw = {(r[0], r[1]): r[3] for r in used if r[2] == month and r[1] in wanted}
        tables.append(FigureTable(parse_period(month), indicators, units, children, raw))
    formulas = {i.code: i.parsed_formula for i in indicators if i.parsed_formula is not None}
    rows_out = []
    members = [unit, *unit.children.filter(is_active=True).order_by("sort_order", "code")]
    for member in (m for m in members if m.pk in units):
        totals = {
            i.code: aggregate_over_time(
                i.time_aggregation, [t.figure(member.pk, i) for t in tables]
            )
            for i in entered
        }
        computed = evaluate_all(formulas, totals) if formulas else {}
        rows_out.append(
            UnitFigures(
                member,
                [
                    (i, computed.get(i.code) if i.is_computed else totals.get(i.code))
                    for i in indicators
                ],
            )
        )
    return FiguresSince(months, indicators, rows_out)


@dataclass
class Shortfall:
    milestone: Milestone
    days_late: int  # for a missed one: days since its date (as of the pack date)
    missed: bool


@dataclass
class AgendaPack:
    meeting: Meeting
    since: date
    as_of: date
    has_previous: bool
    figures: FiguresSince | None = None
    figures_as_of: datetime | None = None  # kept at the meeting's day: the figures then
    red: list[LedgerRow] = field(default_factory=list)
    yellow: list[LedgerRow] = field(default_factory=list)
    to_verify: list[LedgerRow] = field(default_factory=list)
    units_behind: list[UnitSummary] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)
    open_orders: list[Reminder] = field(default_factory=list)
    open_matters: list[tuple[DecidedMatter, Status | None]] = field(default_factory=list)
    reports_since: int = 0


def tasks_in_scope(unit: OrgUnit, viewer: User | AnonymousUser) -> TaskQuerySet:
    """Tasks the unit issued, or that units within it lead, that `viewer` may see."""
    return task_access.visible_tasks(viewer).filter(
        Q(issuing_unit=unit) | Q(lead_unit__path__startswith=unit.path)
    )


def kept_figures(meeting: Meeting, since: date, as_of: date, today: date) -> PackFigures | None:
    """The figures kept for the pack; on or after the meeting's day the first reading keeps
    them (as the meeting screen freezes on its first showing then); None before the day."""
    if today < meeting.held_on:
        return None
    found = PackFigures.objects.filter(meeting=meeting).first()
    if found is not None:
        return found
    months = [m.id for m in months_since(since, as_of)]
    rows = [
        [u, i, p, None if v is None else str(v), st]
        for u, i, p, v, st in live_rows(meeting.unit, months)
    ]
    try:
        with transaction.atomic():
            return PackFigures.objects.create(
                meeting=meeting, months=months, rows=rows, taken_at=timezone.now()
            )
    except IntegrityError:  # another reader kept them first: his are the ones
        return PackFigures.objects.get(meeting=meeting)


def build_pack(meeting: Meeting, today: date, *, viewer: User | AnonymousUser) -> AgendaPack:
    """The pack as of the meeting day, or today for a meeting still to come, as `viewer` may
    read it: the page and the API both show exactly this."""
    previous = meeting.previous()
    as_of = min(meeting.held_on, today)
    since = (
        previous.held_on if previous else meeting.held_on - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    )
    rows = ledger_rows(tasks_in_scope(meeting.unit, viewer), as_of)
    pack = AgendaPack(meeting=meeting, since=since, as_of=as_of, has_previous=previous is not None)
    kept = kept_figures(meeting, since, as_of, today)
    if kept is None:
        pack.figures = unit_figures_since(meeting.unit, since, as_of, viewer=viewer)
    else:
        figures = [(u, i, p, None if v is None else Decimal(v), st) for u, i, p, v, st in kept.rows]
        pack.figures = figures_of(meeting.unit, kept.months, figures, viewer=viewer)
        pack.figures_as_of = kept.taken_at
    pack.red = [r for r in rows if r.status == Status.OVERDUE]
    pack.yellow = [r for r in rows if r.status == Status.AT_RISK]
    pack.to_verify = [r for r in rows if r.status == Status.DONE]
    pack.units_behind = [s for s in by_lead_unit(rows) if s.red or s.yellow]
    task_ids = [r.task.pk for r in rows]
    for m in (
        Milestone.objects.filter(task_id__in=task_ids, due_date__gt=since, due_date__lt=as_of)
        .select_related("task__lead_unit")
        .order_by("due_date", "task_id", "seq")
    ):
        if m.met_on is None or m.met_on > as_of:
            pack.shortfalls.append(Shortfall(m, (as_of - m.due_date).days, missed=True))
        elif m.met_on > m.due_date:
            pack.shortfalls.append(Shortfall(m, (m.met_on - m.due_date).days, missed=False))
    pack.open_orders = list(
        Reminder.objects.filter(
            Q(replied_on__isnull=True) | Q(replied_on__gt=as_of),  # open on the meeting day
            task_id__in=task_ids,
            kind=ReminderKind.SUPERVISION,
            issued_on__lte=as_of,
        )
        .select_related("task", "to_unit")
        .order_by("reply_by")
    )
    statuses = {r.task.pk: r.status for r in rows}
    # A matter supervised as a task shows when its task does; one never supervised is only
    # in the minutes of its meeting, so it shows to whoever may read that meeting.
    meetings_seen = set(visible_meetings(viewer).values_list("pk", flat=True))
    for matter in (
        DecidedMatter.objects.filter(
            meeting__unit=meeting.unit, meeting__held_on__lt=meeting.held_on
        )
        .select_related("meeting", "lead_unit", "task")
        .order_by("meeting__held_on", "seq")
    ):
        if matter.task_id is not None and matter.task_id not in statuses:
            continue
        if matter.task_id is None and matter.meeting_id not in meetings_seen:
            continue
        status = statuses.get(matter.task_id) if matter.task_id else None
        if status != Status.CLOSED:
            pack.open_matters.append((matter, status))
    pack.reports_since = sum(
        1 for r in rows for rep in r.task.reports.all() if since < rep.report_date <= as_of
    )
    return pack
