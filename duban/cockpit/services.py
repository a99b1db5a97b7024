"""The cockpit of one unit: its standing in each scheme, and the panels around it.

Reads only: stored results (``evaluation.cache``), the task ledger, reporting statuses,
supervision orders and publications, each through its app's access module. Every panel
costs a fixed number of queries whatever the number of units (a test counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from duban.bulletins import access as bulletin_access
from duban.bulletins.models import Bulletin, BulletinState
from duban.cockpit import standing as st
from duban.errors import DubanError
from duban.evaluation import access as evaluation_access
from duban.evaluation import cache
from duban.evaluation.jobs import ensure_recompute
from duban.evaluation.models import Publication, Scheme
from duban.indicators.models import DataSet
from duban.orgs import policy
from duban.orgs.models import Kind, OrgUnit, Role
from duban.periods import parse_period
from duban.reporting import figures
from duban.reporting.models import ReportingPeriod
from duban.tasks import access as task_access
from duban.tasks.ledger import Filters, LedgerRow, ledger_rows
from duban.tasks.models import Reminder, ReminderKind
from duban.tasks.status import Status

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

COCKPIT_ROLES = frozenset({Role.LEADER, Role.OFFICE})


def cockpit_unit(user: Actor) -> OrgUnit | None:
    """The unit whose cockpit a leader or office account lands on (his highest one);
    None for everyone else, administrators included."""
    paths = [path for role, path in policy.grants(user) if role in COCKPIT_ROLES]
    if not paths:
        return None
    return OrgUnit.objects.filter(path__in=paths, is_active=True).order_by("depth", "path").first()


def gets_cockpit(user: Actor) -> bool:
    return any(role in COCKPIT_ROLES for role, _path in policy.grants(user))


# Schemes ------------------------------------------------------------------------------------


@dataclass
class SchemePanel:
    """One published scheme: the unit's standing in it, and (if it issues it) its units."""

    scheme: Scheme
    year: cache.Year
    standing: st.Standing | None
    children: list[st.Children]
    months: list[str]


def schemes_of(unit: OrgUnit, year: int | None) -> list[Scheme]:
    """Published schemes that score the unit or that it issues, of one year (default: the
    latest such year)."""
    found = list(
        Scheme.objects.published()
        .filter(Q(issuer=unit) | Q(groups__members__unit=unit), based_on__isnull=True)
        .select_related("issuer")
        .distinct()
        .order_by("-year", "code")
    )
    if not found:
        return []
    wanted = year if year is not None else found[0].year
    return [s for s in found if s.year == wanted]


def period_choices(schemes: list[Scheme], months: set[str]) -> list[str]:
    """The months with approved figures, then the quarters, halves and year that hold them."""
    if not schemes or not months:
        return []
    scheme = schemes[0]
    ordered = [m for m in cache.year_months(scheme) if m in months]
    calendar = cache.calendar_of(scheme)
    coarser: list[str] = []
    for period_id in cache.year_periods(scheme)[12:]:
        start, end = calendar.date_range(parse_period(period_id))
        if any(start <= cache.period_end(scheme, m) <= end for m in ordered):
            coarser.append(period_id)
    return [*ordered, *coarser]


def scheme_panels(
    user: Actor, unit: OrgUnit, period: str | None, lang: str, today: date
) -> tuple[list[SchemePanel], list[str], str | None]:
    """(a panel per scheme the viewer may see the unit in, the periods offered, the period)."""
    year = int(period[:4]) if period and period[:4].isdigit() else None
    schemes = schemes_of(unit, year)
    inputs = {s.pk: cache.inputs(s) for s in schemes}
    with_data = {m for i in inputs.values() for m in i.months}
    choices = period_choices(schemes, with_data)
    if period is None:
        months = [c for c in choices if c in with_data]
        period = months[-1] if months else None
    elif period not in choices:
        raise DubanError(_("choose a period that has approved figures"), "period")
    panels: list[SchemePanel] = []
    if period is None:
        return panels, choices, None
    for scheme in schemes:
        year_result = cache.year_results(scheme, period, today=today, now=inputs[scheme.pk])
        if year_result is None:
            continue
        result = year_result.current
        seen = evaluation_access.visible_members(user, scheme, result["units"])
        mine = None
        if unit.code in seen:
            mine = st.standing(
                result, unit.code, lang, months=year_result.months, periods=year_result.with_data
            )
        below = {c for c in seen if c != unit.code}
        kids = st.children(result, below, lang) if scheme.issuer_id == unit.pk else []
        if mine is None and not kids:
            continue
        panels.append(SchemePanel(scheme, year_result, mine, kids, list(year_result.with_data)))
    panels.sort(key=lambda p: p.standing is None)  # the unit's own standing first
    return panels, choices, period


# Tasks, reporting, orders, publications -----------------------------------------------------


@dataclass
class TaskBoard:
    """红黄绿灯: open tasks issued by or led within the unit, counted by colour."""

    counts: dict[str, int]
    overdue: list[LedgerRow]
    total: int


def task_board(user: Actor, unit: OrgUnit, today: date, limit: int = 8) -> TaskBoard:
    rows = ledger_rows(task_access.visible_tasks(user), today, Filters(scope=unit))
    counts = {"red": 0, "yellow": 0, "green": 0}
    for row in rows:
        colour = row.status.colour
        if colour in counts:
            counts[colour] += 1
    overdue = [r for r in rows if r.status == Status.OVERDUE]
    return TaskBoard(counts, overdue[:limit], len(overdue))


@dataclass
class FormsPanel:
    """One data set's current period for the unit's children: who reported on time, late,
    not yet; rates from the counts."""

    data_set: DataSet
    period: str
    deadline: date
    counts: dict[str, int]
    missing: list[OrgUnit]
    late: list[OrgUnit]
    expected: int

    @property
    def reported_percent(self) -> Decimal | None:
        done = self.counts["on_time"] + self.counts["late"]
        return Decimal(done * 100) / self.expected if self.expected else None

    @property
    def on_time_percent(self) -> Decimal | None:
        return Decimal(self.counts["on_time"] * 100) / self.expected if self.expected else None


def reporting_panels(user: Actor, unit: OrgUnit, today: date) -> list[FormsPanel]:
    """Per data set the children report, its latest open period (opened on or before today)."""
    kids = list(
        OrgUnit.objects.filter(parent=unit, is_active=True)
        .exclude(kind=Kind.OFFICE)
        .order_by("path")
    )
    if not kids:
        return []
    latest: dict[int, ReportingPeriod] = {}
    opened = (
        ReportingPeriod.objects.filter(
            data_set__in=DataSet.objects.visible_to(user), opens_on__lte=today
        )
        .select_related("data_set")
        .order_by("data_set_id", "-opens_on", "-period")
    )
    for rp in opened:
        latest.setdefault(rp.data_set_id, rp)
    panels = []
    for rp in latest.values():
        ds = rp.data_set
        members = [i for i in ds.members() if not i.is_computed]
        reporting = [k for k in kids if any(i.reported_by(k) for i in members)]
        if not reporting:
            continue
        found = figures.statuses(ds, rp.period, reporting, today)
        counts = {"on_time": 0, "late": 0, "missing": 0, "pending": 0}
        for s in found.values():
            counts[s.status] += 1
        panels.append(
            FormsPanel(
                ds,
                rp.period,
                rp.deadline,
                counts,
                [s.unit for s in found.values() if s.status in ("missing", "pending")],
                [s.unit for s in found.values() if s.status == "late"],
                len(reporting),
            )
        )
    return panels


def open_orders(
    user: Actor, unit: OrgUnit, today: date, limit: int = 8
) -> tuple[list[Reminder], int]:
    """Supervision orders (督办) sent to the unit or below, still waiting for a reply."""
    orders = (
        Reminder.objects.filter(
            kind=ReminderKind.SUPERVISION,
            replied_on__isnull=True,
            issued_on__lte=today,
            to_unit__path__startswith=unit.path,
            task__in=task_access.visible_tasks(user).values("pk"),
        )
        .select_related("task", "to_unit")
        .order_by("reply_by", "issued_on", "id")
    )
    shown = list(orders[: limit + 1])
    return shown[:limit], (len(shown) if len(shown) <= limit else orders.count())


def recent_publications(schemes: list[Scheme], limit: int = 5) -> list[Publication]:
    return list(
        Publication.objects.filter(scheme__in=schemes)
        .select_related("scheme")
        .order_by("-published_at", "-id")[:limit]
    )


def recent_documents(user: Actor, unit: OrgUnit, limit: int = 5) -> list[Bulletin]:
    """Issued bulletins and reviews the viewer may read that concern the unit: issued by it
    or by a unit above it (its lineage), newest first."""
    lineage = [unit.path, *policy.ancestor_paths(unit.path)]
    return list(
        bulletin_access.visible_bulletins(user)
        .filter(state=BulletinState.ISSUED)
        .filter(Q(issuer__path__in=lineage) | Q(issuer__path__startswith=unit.path))
        .select_related("series")
        .order_by("-date_written", "-id")[:limit]
    )


# The page -----------------------------------------------------------------------------------


@dataclass
class Cockpit:
    unit: OrgUnit
    period: str | None
    periods: list[str]
    panels: list[SchemePanel]
    tasks: TaskBoard
    forms: list[FormsPanel]
    orders: list[Reminder]
    orders_total: int
    publications: list[Publication]
    documents: list[Bulletin] = field(default_factory=list)
    stale: list[Scheme] = field(default_factory=list)  # schemes whose months are being redone

    @property
    def lead(self) -> SchemePanel | None:
        """The scheme the top line speaks of: the first that scores the unit."""
        return next((p for p in self.panels if p.standing is not None), None)


def cockpit(user: Actor, unit: OrgUnit, period: str | None, lang: str, today: date) -> Cockpit:
    """Everything the cockpit page shows for one unit (the viewer may read it: checked
    by the view through the policy)."""
    panels, periods, chosen = scheme_panels(user, unit, period, lang, today)
    stale = [p.scheme for p in panels if p.year.stale]
    person = policy.person(user)
    if person is not None:
        for scheme in stale:  # the page says so; the worker brings the months up to date
            ensure_recompute(scheme, user=person)
    orders, orders_total = open_orders(user, unit, today)
    return Cockpit(
        unit=unit,
        period=chosen,
        periods=periods,
        panels=panels,
        tasks=task_board(user, unit, today),
        forms=reporting_panels(user, unit, today),
        orders=orders,
        orders_total=orders_total,
        publications=recent_publications([p.scheme for p in panels]),
        documents=recent_documents(user, unit),
        stale=stale,
    )
