"""Two years of invented monthly figures (2016-01..2017-12) for the demo organisations.

Every figure is made up from a fixed seed, so two runs load the same numbers.
Some forms are late, some returned with a reason, some missing; 2016 is locked,
2017 approved up to October, November and December still moving. Yongzhou uses
the indicator codes of the seed meeting (case.filed …); Shaanxi the same set
under `sx.` so that each province's office owns its own definitions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from duban.accounts.models import User
from duban.audit.context import acting_as
from duban.audit.services import record
from duban.indicators import services as ind_services
from duban.indicators.models import DataSet, Indicator
from duban.orgs.models import SEP, Kind, Membership, OrgUnit, Role
from duban.orgs.policy import SYSTEM
from duban.periods import Period, PeriodType, periods_between
from duban.reporting import services
from duban.reporting.models import ReportingPeriod, State, Submission, default_dates
from duban.reporting.values import RawValue, set_forms_state, write_values

SEED = 20171208
INVENTED = "演示数据均为虚构。"
REASON = "演示数据（虚构）"
RETURN_REASONS = (
    "破案数与刑侦综合系统不一致，请核对后重报。",
    "抓获逃犯数含外地协查，请剔除后重报。",
    "黄标车淘汰数缺少车管所台账佐证，请补充附件。",
)


@dataclass(frozen=True)
class Spec:
    code: str
    name_zh: str
    name_en: str
    unit: str
    value_type: str = "integer"
    direction: str = "higher"
    levels: tuple[str, ...] = ("county",)
    division: str = ""  # suffix of the owning division's code
    division_reports: bool = False
    time_aggregation: str = "sum"
    unit_aggregation: str = "sum"
    formula: str = ""
    max_value: Decimal | None = None


def specs(prefix: str, levels: tuple[str, ...]) -> list[Spec]:
    p = prefix
    crime = (*levels, "station")
    return [
        Spec(
            f"{p}case.filed",
            "刑事案件立案数",
            "Criminal cases filed",
            "起",
            levels=crime,
            division="XZZD",
            direction="lower",
        ),
        Spec(
            f"{p}case.solved",
            "刑事案件破案数",
            "Criminal cases solved",
            "起",
            levels=crime,
            division="XZZD",
        ),
        Spec(
            f"{p}case.clearance",
            "破案率",
            "Clearance rate",
            "%",
            value_type="percentage",
            division="XZZD",
            formula=f"{p}case.solved / {p}case.filed * 100",
            time_aggregation="average",
            unit_aggregation="average",
        ),
        Spec(
            f"{p}crackdown.suspects",
            "抓获犯罪嫌疑人",
            "Suspects caught",
            "人",
            levels=crime,
            division="XZZD",
        ),
        Spec(
            f"{p}crackdown.gangs",
            "打掉犯罪团伙",
            "Gangs dismantled",
            "个",
            levels=levels,
            division="XZZD",
            division_reports=True,
        ),
        Spec(
            f"{p}fugitive.caught",
            "抓获逃犯",
            "Fugitives caught",
            "人",
            levels=levels,
            division="XZZD",
            division_reports=True,
        ),
        Spec(
            f"{p}fugitive.target",
            "抓获目标逃犯",
            "Target fugitives caught",
            "人",
            levels=levels,
            division="XZZD",
            division_reports=True,
        ),
        Spec(
            f"{p}traffic.yellow_removed",
            "淘汰黄标车",
            "Yellow-label vehicles removed",
            "辆",
            levels=levels,
            division="JJZD",
            division_reports=True,
        ),
        Spec(
            f"{p}poll.satisfaction",
            "群众安全感满意度",
            "Public satisfaction poll score",
            "%",
            value_type="percentage",
            levels=levels,
            time_aggregation="last",
            unit_aggregation="average",
        ),
        Spec(
            f"{p}discipline.cases",
            "违纪违法案件",
            "Disciplinary cases",
            "起",
            levels=levels,
            direction="lower",
        ),
    ]


def _define(root: OrgUnit, prefix: str, levels: tuple[str, ...], ds_code: str) -> DataSet:
    divisions = {
        u.code.rsplit("-", 1)[-1]: u
        for u in OrgUnit.objects.subtree_of(root).filter(kind=Kind.DIVISION)
    }
    codes = []
    for order, spec in enumerate(specs(prefix, levels)):
        division = divisions.get(spec.division) if spec.division else None
        ind_services.create_indicator(
            user=SYSTEM,
            issuer=root,
            code=spec.code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            description=INVENTED if order == 0 else "",
            unit_of_measure=spec.unit,
            value_type=spec.value_type,
            decimals=2 if spec.value_type == "percentage" else 0,
            direction=spec.direction,
            period_type=PeriodType.MONTHLY,
            time_aggregation=spec.time_aggregation,
            unit_aggregation=spec.unit_aggregation,
            levels=list(spec.levels) if not spec.formula else [],
            kinds=["territorial"] if not spec.formula else [],
            division=division,
            division_reports=spec.division_reports and division is not None,
            formula=spec.formula,
            sort_order=order,
            max_value=spec.max_value,
        )
        codes.append(spec.code)
    ds = ind_services.create_data_set(
        user=SYSTEM,
        owner=root,
        code=ds_code,
        name_zh=f"{root.name_zh}重点工作月报",
        name_en=f"{root.name_en or root.code} monthly key-work report",
        period_type=PeriodType.MONTHLY,
        timely_days=5,
        expiry_days=15,
        indicators=codes,
    )
    p = prefix
    ind_services.add_rule(
        ds,
        user=SYSTEM,
        name="破案数不超过立案数",
        expression=f"{p}case.solved <= {p}case.filed",
        message="破案数不能大于立案数",
    )
    ind_services.add_rule(
        ds,
        user=SYSTEM,
        name="目标逃犯不超过逃犯总数",
        expression=f"{p}fugitive.target <= {p}fugitive.caught",
        message="目标逃犯数不能大于抓获逃犯总数",
    )
    return ds


def _figures(
    rng: random.Random, ind: Indicator, size: float, month: int, prefix: str, done: dict[str, int]
) -> object:
    """One invented figure, consistent with the rules (solved ≤ filed, target ≤ all)."""
    code = ind.code[len(prefix) :]
    season = 1.0 + 0.15 * (month in (1, 2, 12)) - 0.1 * (month in (6, 7))
    if code == "case.filed":
        done[code] = max(0, int(rng.gauss(60 * size * season, 8 * size)))
        return done[code]
    if code == "case.solved":
        return min(
            done.get("case.filed", 0),
            max(0, int(done.get("case.filed", 0) * rng.uniform(0.45, 0.9))),
        )
    if code == "crackdown.suspects":
        return max(0, int(rng.gauss(40 * size, 6 * size)))
    if code == "crackdown.gangs":
        return rng.choice((0, 0, 1, 1, 2, 3))
    if code == "fugitive.caught":
        done[code] = max(0, int(rng.gauss(5 * size, 2)))
        return done[code]
    if code == "fugitive.target":
        return min(done.get("fugitive.caught", 0), rng.choice((0, 0, 1, 1, 2)))
    if code == "traffic.yellow_removed":
        return max(0, int(rng.gauss(35 * size * (1.6 if month >= 10 else 1), 10)))
    if code == "poll.satisfaction":
        return f"{min(99.5, max(78.0, rng.gauss(90, 3))):.2f}"
    if code == "discipline.cases":
        return rng.choice((0,) * 9 + (1,))
    raise ValueError(code)


def _reporter(unit: OrgUnit) -> User | None:
    m = Membership.objects.filter(unit=unit, role=Role.REPORTER).select_related("user").first()
    return m.user if m else None


@transaction.atomic
def load_reporting_demo() -> dict[str, int]:
    """Define the demo indicators and data sets and load 2016-01..2017-12; a second run does nothing.

    Needs the demo organisations (`duban.demo.loader.load_demo`) loaded first;
    returns counts of what was created.
    """
    roots = [u for u in OrgUnit.objects.filter(code__in=["YZ", "SX"], is_demo=True)]
    counts = {"data_sets": 0, "values": 0, "forms": 0}
    with acting_as(source="duban demo", reason=REASON):
        for root in roots:
            prefix, levels, ds_code = (
                ("", ("county",), "YZ-MONTHLY")
                if root.code == "YZ"
                else ("sx.", ("city", "county"), "SX-MONTHLY")
            )
            if DataSet.objects.filter(code=ds_code).exists():
                continue
            ds = _define(root, prefix, levels, ds_code)
            counts["data_sets"] += 1
            v, f = _load_figures(ds, root, prefix)
            counts["values"] += v
            counts["forms"] += f
    return counts


def _load_figures(ds: DataSet, root: OrgUnit, prefix: str) -> tuple[int, int]:
    rng = random.Random(f"{SEED}-{root.code}")
    members = [i for i in ds.members() if not i.is_computed]
    units = ds.reporting_units()
    size = {
        u.pk: (
            0.3
            if u.level == "station"
            else 0.6
            if u.kind == Kind.DIVISION
            else rng.uniform(0.6, 1.6)
        )
        for u in units
    }
    start, end = datetime(2016, 1, 1).date(), datetime(2017, 12, 31).date()
    periods = periods_between(PeriodType.MONTHLY, start, end)
    written = 0
    plan: dict[tuple[int, str], str] = {}
    for period in periods:
        services.open_period(ds, period.id, user=SYSTEM)
        rows: list[RawValue] = []
        for pos, unit in enumerate(units):
            fate = _fate(rng, period.id, pos)
            if fate == "missing":
                continue
            plan[(unit.pk, period.id)] = fate
            done: dict[str, int] = {}
            for ind in members:
                if ind.reported_by(unit):
                    value = _figures(rng, ind, size[unit.pk], period.start.month, prefix, done)
                    rows.append(
                        RawValue(f"{unit.code} {ind.code}", ind.code, period.id, unit.code, value)
                    )
        if rows:
            written += write_values(rows, user=SYSTEM, today=period.end + timedelta(days=2)).created
    _set_states(ds, units, periods, plan, rng)
    return written, len(plan)


def _fate(rng: random.Random, period: str, pos: int) -> str:
    """What happened to one unit's form: locked, approved, late, returned, submitted, draft, missing."""
    r = rng.random()
    if period == "201712":
        return "missing" if r < 0.3 else "draft" if r < 0.6 else "submitted"
    if period == "201711":
        return (
            "missing"
            if pos % 6 == 4
            else "returned"
            if r < 0.2
            else "late"
            if r < 0.3
            else "submitted"
        )
    if period == "201710" and r < 0.1:
        return "returned"
    if r < 0.02:
        return "missing"
    late = r < 0.14
    if period < "201701":
        return "locked-late" if late else "locked"
    return "late" if late else "approved"


def _set_states(
    ds: DataSet,
    units: list[OrgUnit],
    periods: list[Any],
    plan: dict[tuple[int, str], str],
    rng: random.Random,
) -> None:
    by_pk = {u.pk: u for u in units}
    deadlines = {rp.period: rp.deadline for rp in ReportingPeriod.objects.filter(data_set=ds)}
    tz = timezone.get_current_timezone()
    subs = {(s.unit_id, s.period): s for s in Submission.objects.filter(data_set=ds)}
    approver = {u.pk: _approver_of(u) for u in units}
    changed: list[Submission] = []
    for (unit_id, period), fate in plan.items():
        sub = subs[(unit_id, period)]
        deadline = deadlines[period]
        late = fate.endswith("late")
        day = (
            deadline + timedelta(days=rng.randint(1, 6))
            if late
            else deadline - timedelta(days=rng.randint(0, 4))
        )
        at = datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59)), tz)
        state = {
            "locked": State.LOCKED,
            "locked-late": State.LOCKED,
            "approved": State.APPROVED,
            "late": State.APPROVED if period < "201711" else State.SUBMITTED,
            "submitted": State.SUBMITTED,
            "returned": State.RETURNED,
            "draft": State.DRAFT,
        }[fate]
        if fate == "late" and period == "201711":
            state = State.SUBMITTED
        sub.state = state
        if state != State.DRAFT:
            sub.first_submitted_at = sub.submitted_at = at
            sub.submitted_by = _reporter(by_pk[unit_id])
        if state in (State.APPROVED, State.LOCKED):
            sub.approved_at = at + timedelta(days=2)
            sub.approved_by = approver[unit_id]
        if state == State.LOCKED:
            sub.locked_at = at + timedelta(days=20)
        if state == State.RETURNED:
            sub.return_reason = rng.choice(RETURN_REASONS)
        changed.append(sub)
    _children_first(changed, by_pk)
    Submission.objects.bulk_update(
        changed,
        [
            "state",
            "first_submitted_at",
            "submitted_at",
            "submitted_by",
            "approved_at",
            "approved_by",
            "locked_at",
            "return_reason",
        ],
        batch_size=500,
    )
    set_forms_state(ds, ((s.unit_id, s.period, s.state) for s in changed))
    record(
        "reporting.demo.states",
        object_type="reporting.submission",
        object_repr=f"{ds.code}: {len(changed)} demo forms",
        after={"forms": [[by_pk[s.unit_id].code, s.period, s.state] for s in changed]},
    )


def _children_first(subs: list[Submission], units: dict[int, OrgUnit]) -> None:
    """A parent is approved only when its children are: demote a parent whose child is not."""
    order: list[str] = [State.DRAFT, State.RETURNED, State.SUBMITTED, State.APPROVED, State.LOCKED]
    by_key = {(s.unit_id, s.period): s for s in subs}
    for s in subs:
        if s.state not in (State.APPROVED, State.LOCKED):
            continue
        for child in (u for u in units.values() if u.parent_id == s.unit_id):
            c = by_key.get((child.pk, s.period))
            if c is None or order.index(c.state) < order.index(State.APPROVED):
                s.state = State.SUBMITTED
                s.approved_at = s.approved_by = s.locked_at = None
                break


def _approver_of(unit: OrgUnit) -> User | None:
    parent = unit.parent
    while parent is not None:
        m = (
            Membership.objects.filter(unit=parent, role=Role.APPROVER)
            .select_related("user")
            .first()
        )
        if m:
            return m.user
        parent = parent.parent
    return None


# The months of today ---------------------------------------------------------------------------

# Persona units whose form of the month just ended is left to do, returned, or submitted, so that
# each demo account finds work on the day the demo is installed.
TODAY_FATES = {
    "YZ-LST": "missing",  # lst_reporter fills it
    "YZ-LL": "returned",  # ll_reporter corrects it
    "YZ-LST-MW": "submitted",  # lst_approver approves it
    "YZ-JJZD": "submitted",  # yz_approver approves it
    "SX-XA": "missing",  # xa_reporter fills it
    "SX-XA-YT": "submitted",  # xa_approver approves it
}
RANK = {"missing": 0, "returned": 0, "submitted": 1, "approved": 2}


def current_months(today: date) -> list[Period]:
    """The months of today's quarter up to today's, and the month before if it is earlier."""
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    before = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return periods_between(PeriodType.MONTHLY, min(quarter, before), month_end)


@transaction.atomic
def load_reporting_today(today: date) -> dict[str, int]:
    """Open the current quarter's months of the demo data sets; a second run does nothing.

    The months before last are reported and approved (a few late); the month just ended is
    moving through the services: some units approved, some submitted, one returned with a
    reason, some not reported; the current month is open and empty.
    """
    counts = {"periods": 0, "forms": 0}
    months = current_months(today)
    with acting_as(source="duban demo", reason=REASON):
        for ds in DataSet.objects.filter(code__in=["YZ-MONTHLY", "SX-MONTHLY"]).order_by("code"):
            prefix = "sx." if ds.code.startswith("SX") else ""
            done = set(ReportingPeriod.objects.filter(data_set=ds).values_list("period", flat=True))
            for pos, period in enumerate(months):
                if period.id in done:
                    continue
                live = pos == len(months) - 2
                # the month just ended stays open ten days more than today, whatever the day
                # the demo is installed, so its missing forms can still be filled
                closes = default_dates(ds, period)[2]
                if live and closes is not None:
                    closes = max(closes, today + timedelta(days=10))
                services.open_period(ds, period.id, user=SYSTEM, closes_on=closes)
                counts["periods"] += 1
                if period.end >= today:
                    continue
                rng = random.Random(f"{SEED}-{ds.code}-{period.id}")
                if live:
                    counts["forms"] += _live_month(ds, period, prefix, rng, today)
                else:
                    counts["forms"] += _closed_month(ds, period, prefix, rng)
    return counts


def _unit_figures(
    ds: DataSet, unit: OrgUnit, period: Period, prefix: str, rng: random.Random
) -> dict[str, object]:
    size = 0.3 if unit.level == "station" else 0.6 if unit.kind == Kind.DIVISION else 1.0
    done: dict[str, int] = {}
    return {
        ind.code: _figures(rng, ind, size, period.start.month, prefix, done)
        for ind in ds.members()
        if not ind.is_computed and ind.reported_by(unit)
    }


def _closed_month(ds: DataSet, period: Period, prefix: str, rng: random.Random) -> int:
    """A month of the quarter already behind: every unit reported, a few late, all approved."""
    units = ds.reporting_units()
    rows: list[RawValue] = []
    plan: dict[tuple[int, str], str] = {}
    for unit in units:
        plan[(unit.pk, period.id)] = "late" if rng.random() < 0.12 else "approved"
        for code, value in _unit_figures(ds, unit, period, prefix, rng).items():
            rows.append(RawValue(f"{unit.code} {code}", code, period.id, unit.code, value))
    write_values(rows, user=SYSTEM, today=period.end + timedelta(days=2))
    _set_states(ds, units, [period], plan, rng)
    return len(plan)


def _live_fates(ds: DataSet, rng: random.Random) -> dict[int, str]:
    """Each unit's fate for the month just ended; a unit goes no further than its units below."""
    units = ds.reporting_units()
    fates = {
        u.pk: TODAY_FATES.get(u.code)
        or rng.choice(("approved", "approved", "submitted", "missing", "missing"))
        for u in units
    }
    if "returned" not in fates.values():  # a data set without the persona unit: return one
        leaf = next(u for u in units if not any(c.parent_id == u.pk for c in units))
        fates[leaf.pk] = "returned"
    children: dict[int, list[int]] = {}
    for u in units:
        if u.parent_id in fates:
            children.setdefault(u.parent_id, []).append(u.pk)
    for unit in sorted(units, key=lambda u: -u.path.count(SEP)):
        below = [fates[c] for c in children.get(unit.pk, [])]
        if below and min(RANK[f] for f in below) < RANK[fates[unit.pk]]:
            fates[unit.pk] = "missing" if min(RANK[f] for f in below) == 0 else "submitted"
    return fates


def _live_month(ds: DataSet, period: Period, prefix: str, rng: random.Random, today: date) -> int:
    """The month just ended, through the services: saved, submitted, approved or returned."""
    fates = _live_fates(ds, rng)
    units = sorted(ds.reporting_units(), key=lambda u: -u.path.count(SEP))
    forms = 0
    for unit in units:
        fate = fates[unit.pk]
        if fate == "missing":
            continue
        reporter = _reporter(unit) or SYSTEM
        values = _unit_figures(ds, unit, period, prefix, rng)
        services.save_form(ds, unit, period.id, values, user=reporter, today=today)
        sub = Submission.objects.select_related("data_set", "unit").get(
            data_set=ds, unit=unit, period=period.id
        )
        sub = services.submit(sub, user=reporter, today=today)
        approver = _approver_of(unit) or SYSTEM
        if fate == "approved":
            services.approve(sub, user=approver)
        elif fate == "returned":
            services.return_form(sub, user=approver, reason=RETURN_REASONS[0])
        forms += 1
    return forms
