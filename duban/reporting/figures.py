"""Reading figures: a unit's own or aggregated figure, computed indicators, the figures of
earlier periods, and completeness and timeliness of the units below.

A unit that reports an indicator itself is represented by its own figure.
A unit that does not (a city for cases filed) shows the aggregate of its
children's figures — sum or average as the indicator says, or nothing for
"not aggregated" — and children without a figure are left out of it and
listed as missing. A period coarser than the indicator's (a quarter of a
monthly figure) is aggregated over time first: sum, average or last value.
Computed indicators are evaluated last, from the unit's raw or aggregated
inputs, so a rate is never an average of rates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from duban.indicators.formula import evaluate_all
from duban.indicators.models import DataSet, Indicator, TimeAggregation, UnitAggregation
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, PeriodType, parse_period
from duban.records.proposals import proposals_for
from duban.reporting.models import (
    DONE_STATES,
    DataValue,
    DataValueQuerySet,
    ReportingPeriod,
    State,
    Submission,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User

Figures = dict[str, Decimal | None]


def same_period_last_year(period: Period) -> Period | None:
    """201712 → 201612, 2017Q4 → 2016Q4; None where last year has no such period (2016W53)."""
    try:
        return parse_period(f"{period.year - 1}{period.id[4:]}")
    except ValueError:
        return None


def aggregate_over_time(how: str, values: list[Decimal | None]) -> Decimal | None:
    """Values in period order; missing ones are skipped, all missing gives no value."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if how == TimeAggregation.SUM:
        return sum(present, Decimal(0))
    if how == TimeAggregation.AVERAGE:
        return sum(present, Decimal(0)) / len(present)
    return present[-1]


def aggregate_over_units(how: str, values: list[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    if how == UnitAggregation.NONE or not present:
        return None
    total = sum(present, Decimal(0))
    return total if how == UnitAggregation.SUM else total / len(present)


def _sub_periods(period: Period, ptype: str) -> list[Period] | None:
    """The indicator's periods inside `period`, or None when it is finer than the indicator's."""
    target = PeriodType(ptype)
    if period.type == target:
        return [period]
    if period.type.rank < target.rank:
        return None
    return period.sub_periods(target)


@dataclass
class FigureTable:
    """Figures of every unit of a subtree for one period: own, aggregated and computed."""

    period: Period
    indicators: list[Indicator]
    units: dict[int, OrgUnit]
    children: dict[int | None, list[int]]
    raw: dict[tuple[int, int], Decimal | None]
    _memo: dict[tuple[int, int], Decimal | None] = field(default_factory=dict)

    def figure(self, unit_id: int, ind: Indicator) -> Decimal | None:
        key = (unit_id, ind.pk)
        if key not in self._memo:
            unit = self.units[unit_id]
            if ind.reported_by(unit):
                value = self.raw.get(key)
            else:
                value = aggregate_over_units(
                    ind.unit_aggregation,
                    [self.figure(c, ind) for c in self.children.get(unit_id, [])],
                )
            self._memo[key] = value
        return self._memo[key]

    def figures(self, unit_id: int) -> Figures:
        entered = {i.code: self.figure(unit_id, i) for i in self.indicators if not i.is_computed}
        formulas = {
            i.code: i.parsed_formula for i in self.indicators if i.parsed_formula is not None
        }
        computed = evaluate_all(formulas, entered) if formulas else {}
        return {
            i.code: computed.get(i.code) if i.is_computed else entered.get(i.code)
            for i in self.indicators
        }


def readable_values(viewer: User | AnonymousUser, *, line: str = "") -> DataValueQuerySet:
    """The figures `viewer` may read in a pack (`policy.figure_scope`): those of the units
    that he may see, and of a unit where he holds no role himself only approved or locked ones.

    With a `line` (条线), also that line's figures in the territorial units his division
    roles follow along it (`policy.data_filter`): a division head's view of the bureaus."""
    scope = policy.figure_scope(viewer)
    seen = Q(unit__in=scope.units)
    if line:
        seen |= policy.data_filter(viewer) & Q(indicator__line=line)
    return DataValue.objects.filter(seen).filter(
        Q(state__in=DONE_STATES) | Q(unit__in=scope.entering)
    )


def figure_table(
    indicators: list[Indicator],
    root: OrgUnit,
    period: Period,
    *,
    viewer: User | AnonymousUser | None = None,
    periods: Sequence[Period] | None = None,
    done_only: bool = False,
    line: str = "",
) -> FigureTable:
    """Load the subtree's stored figures for the period (or its sub-periods) in one query.

    With a `viewer`, the table holds only what he may read (`readable_values`) and only the
    units he may see, so a parent's aggregate is built from those figures alone and never
    shows a total that includes one he may not read. Without, every stored figure of the
    subtree, as the reporting pages (which authorise the unit first) have always read them.
    `periods` (the months of a statistical year, say) replace the sub-periods of `period`
    for indicators of their type; `done_only` keeps approved and locked figures alone; `line`
    adds, for a viewer, the units and figures of that line his division roles follow.
    """
    subtree = OrgUnit.objects.subtree_of(root).filter(is_active=True)
    values = DataValue.objects.all()
    if viewer is not None:
        subtree = subtree.filter(pk__in=policy.visible_units(viewer, Action.VIEW_DATA, line=line))
        values = readable_values(viewer, line=line)
    if done_only:
        values = values.filter(state__in=[str(s) for s in DONE_STATES])
    units = {u.pk: u for u in subtree}
    children: dict[int | None, list[int]] = defaultdict(list)
    for u in sorted(units.values(), key=lambda u: (u.sort_order, u.code)):
        if u.parent_id in units:
            children[u.parent_id].append(u.pk)
    entered = [i for i in indicators if not i.is_computed]
    subs = {i.pk: _sub_periods(period, i.period_type) for i in entered}
    if periods is not None:
        for i in entered:
            given = [p for p in periods if p.type == PeriodType(i.period_type)]
            subs[i.pk] = given or subs[i.pk]
    wanted = {p.id for ps in subs.values() if ps for p in ps}
    rows = values.filter(
        unit_id__in=list(units), indicator__in=entered, period__in=sorted(wanted)
    ).values_list("unit_id", "indicator_id", "period", "value")
    by_period: dict[tuple[int, int], dict[str, Decimal | None]] = defaultdict(dict)
    for unit_id, ind_id, pid, value in rows.iterator(chunk_size=5000):
        by_period[(unit_id, ind_id)][pid] = value
    how = {i.pk: i.time_aggregation for i in entered}
    raw: dict[tuple[int, int], Decimal | None] = {}
    for (unit_id, ind_id), per in by_period.items():
        ps = subs.get(ind_id)
        if ps:
            raw[(unit_id, ind_id)] = aggregate_over_time(how[ind_id], [per.get(p.id) for p in ps])
    return FigureTable(period, list(indicators), units, children, raw)


def unit_figures(data_set: DataSet, unit: OrgUnit, period: Period) -> Figures:
    return figure_table(data_set.members(), unit, period).figures(unit.pk)


def own_values(data_set: DataSet, unit: OrgUnit, period: str) -> dict[str, DataValue]:
    return {
        v.indicator.code: v
        for v in DataValue.objects.filter(
            unit=unit, period=period, indicator__memberships__data_set=data_set
        ).select_related("indicator")
    }


@dataclass(frozen=True)
class Status:
    """Where a reporting unit stands: on_time, late, missing (deadline passed), pending."""

    unit: OrgUnit
    state: str | None
    status: str
    submitted_at: object = None
    return_reason: str = ""


def statuses(
    data_set: DataSet, period: str, units: list[OrgUnit], today: date | None = None
) -> dict[int, Status]:
    today = today or timezone.localdate()
    rp = ReportingPeriod.objects.filter(data_set=data_set, period=period).first()
    subs = {
        s.unit_id: s
        for s in Submission.objects.filter(data_set=data_set, period=period, unit__in=units)
    }
    out: dict[int, Status] = {}
    for unit in units:
        sub = subs.get(unit.pk)
        first = sub.first_submitted_at if sub else None
        if first is not None:
            on = timezone.localtime(first).date()
            status = "late" if rp is not None and on > rp.deadline else "on_time"
        elif rp is not None and today > rp.deadline:
            status = "missing"
        else:
            status = "pending"
        out[unit.pk] = Status(
            unit,
            sub.state if sub else None,
            status,
            sub.submitted_at if sub else None,
            sub.return_reason if sub else "",
        )
    return out


@dataclass
class ChildRow:
    unit: OrgUnit
    reports: bool
    status: Status | None
    below: dict[str, int]
    missing_below: list[str]  # "CODE (status)": the API's form
    figures: Figures
    # The same units for the page: the unit and its status ("missing" / "late"), said in words.
    missing_units: list[tuple[OrgUnit, str]] = field(default_factory=list)


def overview(
    data_set: DataSet,
    unit: OrgUnit,
    period: Period,
    today: date | None = None,
    *,
    lines: frozenset[str] | None = None,
    reader: User | AnonymousUser | None = None,
) -> dict[str, Any]:
    """What the unit above sees for one period: each child's status and figures, the
    aggregate, and which reporting units below are missing or late.

    `lines`: a division head's view — only those lines' indicators, and only the children
    whose figures of those lines `reader` may read."""
    members = [i for i in data_set.members() if lines is None or i.line in lines]
    table = figure_table(members, unit, period)
    reporting = [
        u
        for u in table.units.values()
        if any(i.reported_by(u) for i in members if not i.is_computed)
    ]
    st = (
        statuses(data_set, period.id, reporting, today)
        if period.type == data_set.period_type
        else {}
    )
    rows: list[ChildRow] = []
    for child_id in table.children.get(unit.pk, []):
        child = table.units[child_id]
        if lines is not None and reader is not None:
            there = policy.lines_at(reader, child)
            if there is not None and not there & lines:
                continue
        subtree = [u for u in reporting if u.path.startswith(child.path)]
        if not subtree:
            continue
        counts = {"on_time": 0, "late": 0, "missing": 0, "pending": 0}
        missing: list[str] = []
        missing_units: list[tuple[OrgUnit, str]] = []
        for u in subtree:
            s = st.get(u.pk)
            if s is None:
                continue
            counts[s.status] += 1
            if s.status in ("missing", "late") and u.pk != child_id:
                missing.append(f"{u.code} ({s.status})")
                missing_units.append((u, s.status))
        rows.append(
            ChildRow(
                child,
                u_reports(child, reporting),
                st.get(child_id),
                counts,
                missing,
                table.figures(child_id),
                missing_units,
            )
        )
    totals = {"on_time": 0, "late": 0, "missing": 0, "pending": 0}
    for u in reporting:
        if u.pk != unit.pk and u.pk in st:
            totals[st[u.pk].status] += 1
    return {
        "indicators": members,
        "rows": rows,
        "figures": table.figures(unit.pk),
        "own_status": st.get(unit.pk),
        "totals": totals,
        "expected": sum(totals.values()),
    }


def u_reports(unit: OrgUnit, reporting: list[OrgUnit]) -> bool:
    return any(u.pk == unit.pk for u in reporting)


def form_rows(data_set: DataSet, unit: OrgUnit, period: Period) -> list[dict[str, Any]]:
    """One row per indicator of the form: the figure, last period's and last year's, and for
    a record indicator the figure its business records propose (`proposal`, or None) and
    whether a stored figure differs from it (`differs`)."""
    members = data_set.members()
    current = own_values(data_set, unit, period.id)
    proposed = proposals_for(unit, members, period.id)
    this = figure_table(members, unit, period).figures(unit.pk)
    prev_p = period.previous()
    last_p = same_period_last_year(period)
    prev = figure_table(members, unit, prev_p).figures(unit.pk)
    last = figure_table(members, unit, last_p).figures(unit.pk) if last_p else {}
    rows = []
    for ind in members:
        stored = current.get(ind.code)
        proposal = proposed.get(ind.code)
        rows.append(
            {
                "indicator": ind,
                "reports": ind.reported_by(unit),
                "value": this.get(ind.code),
                "proposal": proposal,
                "differs": proposal is not None
                and stored is not None
                and stored.value is not None
                and stored.value != proposal.value,
                "comment": stored.comment if stored else "",
                "previous": prev.get(ind.code),
                "last_year": last.get(ind.code),
            }
        )
    return rows


__all__ = [
    "ChildRow",
    "FigureTable",
    "State",
    "Status",
    "aggregate_over_time",
    "aggregate_over_units",
    "figure_table",
    "form_rows",
    "overview",
    "readable_values",
    "same_period_last_year",
    "statuses",
    "unit_figures",
]


def approved_figure(
    indicator_code: str, unit: OrgUnit, year: Period, periods: Sequence[Period]
) -> Decimal | None:
    """A unit's figure of one indicator over `periods` (the statistical year's months to
    date), from approved and locked figures only: a draft never counts.

    Months are aggregated as the indicator says, a parent's figure from its children where
    the indicator says so, and a rate from its summed inputs. Used by key tasks linked to an
    indicator: reaching the target marks the task done, still awaiting the issuing unit's check.
    """
    indicator = Indicator.objects.filter(code=indicator_code, is_active=True).first()
    if indicator is None:
        return None
    needed = [indicator]
    formula = indicator.parsed_formula
    if formula is not None:
        needed += list(Indicator.objects.filter(code__in=formula.references))
    table = figure_table(needed, unit, year, periods=periods, done_only=True)
    return table.figures(unit.pk).get(indicator_code)
