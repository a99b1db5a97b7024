"""Reads of the past beside the present: a figure's history on the entry form (its values in
earlier periods, its changes in this period from the audit trail) and the last 催报 that
named each unit of an overview. Reads only, each a fixed number of queries for the page.

Both come from the audit trail, which is where the changes and the reminders are stored:
- a figure's changes are the `changes` rows of the compact `reporting.datavalue` entries
  (`values._audit_changes`): every write touching up to 50 units carries its unit, so the
  entries of one unit are read by its index; a larger import's chunk names its span of unit
  codes in `object_repr` (`A…B (n units)`, codes in sorted order), read first without its
  `after` and opened only when the unit falls inside the span;
- a reminder is one `reporting.reminders.sent` entry on the data set (`approval.remind`),
  its `after` holding the period and the codes of the units reminded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q

from duban.audit.models import AuditEntry
from duban.audit.types import Names, who
from duban.indicators.models import DataSet, Indicator, fmt
from duban.orgs.models import OrgUnit
from duban.periods import Period
from duban.reporting.figures import same_period_last_year
from duban.reporting.models import DataValue, State
from duban.text import period_in_words

USER = settings.AUTH_USER_MODEL.lower()
EARLIER = 6  # periods of the data set shown before this one
REPORTED = frozenset({State.SUBMITTED, State.APPROVED, State.LOCKED})
SPAN = re.compile(r"^(?P<first>[^…]+)…(?P<last>.+?) \(\d+ units\)")


@dataclass(frozen=True)
class Earlier:
    period: Period
    value: Decimal | None
    state: str | None
    last_year: bool = False  # the same period last year (beyond the last EARLIER)

    @property
    def text(self) -> str:
        return "" if self.value is None else fmt(self.value)

    @property
    def words(self) -> str:
        return period_in_words(self.period.id)


@dataclass(frozen=True)
class Edit:
    at: datetime
    by: str
    before: str
    after: str
    comment_before: str | None = None  # None: the comment did not change
    comment_after: str | None = None


@dataclass(frozen=True)
class History:
    earlier: list[Earlier]
    edits: list[Edit]


def earlier_periods(period: Period, count: int = EARLIER) -> list[tuple[Period, bool]]:
    """The `count` periods before `period`, newest first, then the same period last year
    when it is not already among them (flagged True)."""
    out: list[tuple[Period, bool]] = []
    p = period
    for _ in range(count):
        p = p.previous()
        out.append((p, False))
    last = same_period_last_year(period)
    if last is not None and last.id not in {q.id for q, _ in out}:
        out.append((last, True))
    return out


def figure_history(unit: OrgUnit, indicator: Indicator, period: Period) -> History:
    """A figure's values in earlier periods and its changes in `period`: three queries (the
    earlier figures, the trail's entries, the names of who acted)."""
    wanted = earlier_periods(period)
    stored = {
        v.period: v
        for v in DataValue.objects.filter(
            unit=unit, indicator=indicator, period__in=[p.id for p, _ in wanted]
        ).only("period", "value", "state")
    }
    earlier = [
        Earlier(
            p,
            stored[p.id].value if p.id in stored else None,
            stored[p.id].state if p.id in stored else None,
            last_year,
        )
        for p, last_year in wanted
    ]
    return History(earlier, figure_edits(unit, indicator, period.id))


def _in_span(entry: AuditEntry, code: str) -> bool:
    match = SPAN.match(entry.object_repr)
    return match is not None and match["first"] <= code <= match["last"]


def figure_edits(unit: OrgUnit, indicator: Indicator, period: str) -> list[Edit]:
    """Every change of one figure recorded in the trail, oldest first, by who acted."""
    entries = AuditEntry.objects.filter(object_type="reporting.datavalue").filter(
        Q(unit_id=unit.pk) | Q(unit_id__isnull=True, object_repr__contains="…")
    )
    heads = list(entries.only("id", "unit_id", "object_repr").order_by("seq"))
    ids = [e.pk for e in heads if e.unit_id == unit.pk or _in_span(e, unit.code)]
    found: list[tuple[AuditEntry, list[Any]]] = []
    names = Names()
    for entry in AuditEntry.objects.filter(pk__in=ids).order_by("seq"):
        after = entry.after if isinstance(entry.after, dict) else {}
        columns = after.get("columns") or []
        for change in after.get("changes") or []:
            row = dict(zip(columns, change, strict=False))
            if (row.get("unit"), row.get("indicator"), row.get("period")) == (
                unit.code,
                indicator.code,
                period,
            ):
                found.append((entry, change))
                names.want(USER, entry.actor_id)
    names.load()
    edits = []
    for entry, change in found:
        row = dict(zip(columns_of(entry), change, strict=False))
        commented = "comment_after" in row and row.get("comment_before") != row.get("comment_after")
        edits.append(
            Edit(
                at=entry.at,
                by=who(entry, names),
                before=str(row.get("before") or ""),
                after=str(row.get("after") or ""),
                comment_before=str(row.get("comment_before") or "") if commented else None,
                comment_after=str(row.get("comment_after") or "") if commented else None,
            )
        )
    return edits


def columns_of(entry: AuditEntry) -> list[str]:
    after = entry.after if isinstance(entry.after, dict) else {}
    return list(after.get("columns") or [])


@dataclass(frozen=True)
class Reminder:
    at: datetime
    by: str


def last_reminders(data_set: DataSet, period: str) -> dict[str, Reminder]:
    """Unit code → the last 催报 of `period` that named it: two queries for the whole page
    (the data set's reminder entries of that period, the names of who sent them)."""
    entries = list(
        AuditEntry.objects.filter(
            action="reporting.reminders.sent",
            object_type=data_set._meta.label_lower,
            object_id=str(data_set.pk),
            after__period=period,
        ).order_by("seq")
    )
    names = Names()
    for entry in entries:
        names.want(USER, entry.actor_id)
    names.load()
    out: dict[str, Reminder] = {}
    for entry in entries:  # oldest first: a later reminder replaces an earlier one
        after = entry.after if isinstance(entry.after, dict) else {}
        for code in after.get("units") or []:
            out[str(code)] = Reminder(entry.at, who(entry, names))
    return out


def reminder_for(
    reminders: dict[str, Reminder], unit: OrgUnit, state: str | None
) -> Reminder | None:
    """The reminder shown beside a unit: only while it has not reported."""
    if state in REPORTED:
        return None
    return reminders.get(unit.code)


__all__ = [
    "Earlier",
    "Edit",
    "History",
    "Reminder",
    "earlier_periods",
    "figure_edits",
    "figure_history",
    "last_reminders",
    "reminder_for",
]
