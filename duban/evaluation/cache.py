"""Stored results: each (scheme, period) scored once and kept until its inputs change.

A cockpit reads twelve months of ranks per page view; scoring twelve periods per request
would cost a second. Results are kept in ``StoredResult`` as a compact, language-neutral
dict (``compact``), with a stamp of the inputs they were computed from (``input_stamp``):
the count, id sum and latest change of the approved and locked figures of the scheme's
units in its year, and the scheme's own last change. ``reporting.values`` is the only
writer of figures and every write there moves one of these (a new figure or a state change
moves the count and id sum, a changed value its ``updated_at``), so an entry whose stamp
differs from the current one is stale and is never shown as current. The day matters too:
a period not yet over is measured at today (expected progress), so an entry of a running
period computed yesterday is stale today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Sum
from django.utils import timezone

from duban.audit.models import AuditEntry
from duban.evaluation.engine import SchemeResult
from duban.evaluation.engine.decimals import fixed, plain
from duban.evaluation.engine.explain import Text
from duban.evaluation.models import GroupMember, Scheme, StoredResult
from duban.evaluation.scoring import Scored, score
from duban.evaluation.values import MILESTONE_SHARE
from duban.periods import Period, PeriodType, StatisticalCalendar, parse_period
from duban.reporting.models import DONE_STATES, DataValue

FORMAT = 2  # bump when ``compact`` changes shape: older entries are then stale
KEY_TASK_TYPES = ("tasks.task", "tasks.milestone")  # audit object types a milestone share reads


def _names(text: Text) -> dict[str, str]:
    return {"zh": text.get("zh"), "en": text.get("en")}


def calendar_of(scheme: Scheme) -> StatisticalCalendar:
    return StatisticalCalendar(scheme.start_month, scheme.start_day)


def year_months(scheme: Scheme) -> list[str]:
    """The statistical year's twelve month ids, in order (no query)."""
    calendar = calendar_of(scheme)
    first = calendar.period_containing(
        PeriodType.MONTHLY, calendar.date_range(parse_period(str(scheme.year)))[0]
    )
    months: list[Period] = [first]
    while len(months) < 12:
        months.append(months[-1].next())
    return [m.id for m in months]


def year_periods(scheme: Scheme) -> list[str]:
    """Every period a scheme scores: the months, quarters, halves and the year."""
    year = scheme.year
    return [
        *year_months(scheme),
        *(f"{year}Q{q}" for q in range(1, 5)),
        f"{year}S1",
        f"{year}S2",
        str(year),
    ]


def period_end(scheme: Scheme, period_id: str) -> date:
    return calendar_of(scheme).date_range(parse_period(period_id))[1]


@dataclass(frozen=True)
class Inputs:
    """What the scheme's results are computed from, as of now: the stamp, and the months
    that have approved figures (the periods a page offers)."""

    stamp: str
    months: tuple[str, ...]


def inputs(scheme: Scheme) -> Inputs:
    """One aggregate query over the approved figures of the scheme's units in its year."""
    periods = year_periods(scheme)
    rows = (
        DataValue.objects.filter(
            unit_id__in=GroupMember.objects.filter(group__scheme=scheme).values("unit_id"),
            state__in=[str(s) for s in DONE_STATES],
            period__in=periods,
        )
        .values("period")
        .annotate(n=Count("id"), ids=Sum("id"), last=Max("updated_at"))
        .order_by()
    )
    count = ids = 0
    last = ""
    seen: set[str] = set()
    for row in rows:
        count += row["n"]
        ids += row["ids"] or 0
        stamp_time = row["last"].isoformat() if row["last"] is not None else ""
        last = max(last, stamp_time)
        seen.add(row["period"])
    changed = scheme.updated_at.isoformat() if scheme.updated_at else ""
    stamp = f"v{FORMAT}|{count}|{ids}|{last}|{changed}{_key_tasks_stamp(scheme)}"
    return Inputs(stamp, tuple(p for p in year_months(scheme) if p in seen))


def _key_tasks_stamp(scheme: Scheme) -> str:
    """For a scheme that scores milestones met on time (`values.MILESTONE_SHARE`): the newest
    audit entry of a task or milestone, since every change of one writes an entry; "" for the
    others, which read figures alone."""
    if not scheme.items.filter(indicator=MILESTONE_SHARE).exists():
        return ""
    newest = AuditEntry.objects.filter(object_type__in=KEY_TASK_TYPES).aggregate(n=Max("id"))
    return f"|tasks{newest['n'] or 0}"


def input_stamp(scheme: Scheme) -> str:
    return inputs(scheme).stamp


def _losses(result: SchemeResult, unit: str) -> list[list[Any]]:
    """[item, points lost, room, shortfall reasons] of every counted item that lost points:
    the shortfalls (短板, with their reasons) and the items with room (上升空间) alike."""
    reasons = {row.item.code: list(row.reasons) for row in result.shortfalls(unit)}
    rows = []
    for code, r in result.units[unit].items.items():
        lost = r.points_lost
        if not r.counted or (lost <= 0 and code not in reasons):
            continue
        room = lost if not result.final and r.item.rule.can_improve else Decimal(0)
        rows.append([code, plain(lost), plain(room), reasons.get(code, [])])
    return rows


def compact(scored: Scored) -> dict[str, Any]:
    """The result as the cockpit reads it: totals, ranks, rank changes, category scores with
    their maxima, and shortfalls, exact decimals as strings, names in both languages."""
    result = scored.result
    built = scored.engine
    items = {
        item.code: {
            "name": _names(item.name),
            "category": item.category,
            "max": plain(item.max_score),
        }
        for item in built.items
    }
    units: dict[str, Any] = {}
    for code, u in result.units.items():
        maxima: dict[str, Decimal] = {}
        for r in u.items.values():
            if r.counted:
                maxima[r.item.category] = maxima.get(r.item.category, Decimal(0)) + r.max_score
        change = scored.changes.get(code)
        units[code] = {
            "name": _names(u.unit.name),
            "level": u.unit.level,
            "group": u.group,
            "sequence": u.sequence,
            "total": plain(u.total),
            "display": fixed(u.total, 2),
            "rank": u.rank,
            "group_rank": u.group_rank,
            "grade": _names(u.grade.name),
            "vetoed": u.vetoed,
            "change": change.delta if change is not None else None,
            "categories": {c: plain(cat.score) for c, cat in u.categories.items()},
            "category_max": {c: plain(m) for c, m in maxima.items()},
            "losses": _losses(result, code),
        }
    groups = {g.code: g for g in built.groups}
    cohorts = []
    for group_code, sequence, members in result.cohorts:
        group = groups[group_code]
        name = _names(group.name)
        seq = next((s for s in group.sequences if s.code == sequence), None)
        if seq is not None:
            name = {lg: f"{name[lg]} · {seq.name.get(lg)}" for lg in ("zh", "en")}
        wanted = set(members)
        ordered = [c for c in result.units if c in wanted]
        cohorts.append({"group": group_code, "sequence": sequence, "name": name, "units": ordered})
    return {
        "format": FORMAT,
        "scheme": built.code,
        "period": result.period.id,
        "as_of": result.as_of.isoformat(),
        "final": result.final,
        "categories": [
            {"code": c.code, "name": _names(c.name), "points": plain(c.points)}
            for c in built.categories
        ],
        "items": items,
        "cohorts": cohorts,
        "units": units,
    }


def expected_as_of(scheme: Scheme, period_id: str, today: date) -> date:
    end = period_end(scheme, period_id)
    return end if today > end else today


def is_current(entry: StoredResult, stamp: str, today: date) -> bool:
    """Computed from today's inputs, and measured at the day it would be measured today."""
    return entry.stamp == stamp and entry.as_of == expected_as_of(entry.scheme, entry.period, today)


def store(scheme: Scheme, period_id: str, stamp: str, *, today: date | None = None) -> StoredResult:
    """Score one period now and keep it (replacing what was kept)."""
    today = today or timezone.localdate()
    scored = score(scheme, period_id, today=today)
    data = compact(scored)
    entry, _created = StoredResult.objects.update_or_create(
        scheme=scheme,
        period=scored.period,
        defaults={
            "stamp": stamp,
            "as_of": scored.result.as_of,
            "data": data,
            "computed_at": timezone.now(),
        },
    )
    entry.scheme = scheme
    return entry


@dataclass
class Year:
    """A scheme's results for a page: the chosen period's (always current) and the kept
    results of the year's months (current or not); ``stale`` when any month kept is out of
    date or missing, so the page says a recompute is under way."""

    scheme: Scheme
    period: str
    current: dict[str, Any]
    months: dict[str, dict[str, Any]] = field(default_factory=dict)
    with_data: tuple[str, ...] = ()
    stale: bool = False


def year_results(
    scheme: Scheme, period_id: str | None, *, today: date | None = None, now: Inputs | None = None
) -> Year | None:
    """The chosen period's result (default: the latest month with approved figures),
    computed inline and stored on a miss; the months from the store. None: no data yet."""
    today = today or timezone.localdate()
    now = now or inputs(scheme)
    if period_id is None:
        if not now.months:
            return None
        period_id = now.months[-1]
    months = list(now.months)
    wanted = {period_id, *months}
    kept = {
        e.period: e for e in StoredResult.objects.filter(scheme=scheme, period__in=sorted(wanted))
    }
    for one in kept.values():
        one.scheme = scheme  # is_current reads its calendar: no query per entry
    entry = kept.get(period_id)
    if entry is None or not is_current(entry, now.stamp, today):
        entry = kept[period_id] = store(scheme, period_id, now.stamp, today=today)
    stale = False
    shown: dict[str, dict[str, Any]] = {}
    for month in months:
        found = kept.get(month)
        if found is None or not is_current(found, now.stamp, today):
            stale = True
        if found is not None and found.data.get("format") == FORMAT:
            shown[month] = found.data
    return Year(scheme, period_id, entry.data, shown, now.months, stale)


def recompute(scheme: Scheme, periods: Iterable[str] | None = None) -> list[str]:
    """Score and store every period of the scheme's year (or those given); the ids done."""
    stamp = input_stamp(scheme)
    done = []
    for period_id in periods if periods is not None else year_periods(scheme):
        store(scheme, period_id, stamp)
        done.append(period_id)
    return done


def fill(schemes: Iterable[Scheme], *, today: date | None = None) -> int:
    """Store every period of these schemes not kept current (the demo's last step, so the
    first cockpit is fast; a second run scores nothing): how many were scored."""
    today = today or timezone.localdate()
    count = 0
    for scheme in schemes:
        stamp = input_stamp(scheme)
        kept = {e.period: e for e in StoredResult.objects.filter(scheme=scheme)}
        for period_id in year_periods(scheme):
            entry = kept.get(period_id)
            if entry is not None:
                entry.scheme = scheme
            if entry is None or not is_current(entry, stamp, today):
                store(scheme, period_id, stamp, today=today)
                count += 1
    return count


__all__ = [
    "Inputs",
    "Year",
    "compact",
    "fill",
    "input_stamp",
    "inputs",
    "is_current",
    "recompute",
    "store",
    "year_results",
]
