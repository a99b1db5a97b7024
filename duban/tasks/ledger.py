"""The ledger (对账): one row per task, the table a conference reviews.

`ledger_rows()` is the one row iterator; the page, the JSON API and the xlsx
export all render its rows.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from duban.orgs.models import OrgUnit
from duban.spreadsheets import safe_row
from duban.tasks import conf
from duban.tasks.models import ProgressReport, Task, TaskQuerySet
from duban.tasks.status import Assessment, Status, assess, on_time

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


@dataclass
class LedgerRow:
    task: Task
    assessment: Assessment
    milestones_total: int
    milestones_met: int
    on_time: int
    judged: int
    last_report: ProgressReport | None
    open_orders: int

    @property
    def status(self) -> Status:
        return self.assessment.status

    @property
    def days_overdue(self) -> int:
        return self.assessment.days_overdue

    @property
    def label(self) -> str:
        return status_label(self.status)

    @property
    def reasons(self) -> list[str]:
        return [reason_text(r) for r in self.assessment.reasons]

    @property
    def expected_percent(self) -> int:
        return round(self.assessment.expected_percent)

    @property
    def on_time_share(self) -> Fraction | None:
        return Fraction(self.on_time, self.judged) if self.judged else None


@dataclass
class Filters:
    issuer: OrgUnit | None = None
    lead: OrgUnit | None = None
    status: str = ""
    kind: str = ""
    month: tuple[date, date] | None = None  # tasks due, or with a milestone due, in this month
    tag: str = ""
    q: str = ""
    scope: OrgUnit | None = None  # issued by this unit or led within it (the board's view)

    def apply(self, tasks: TaskQuerySet) -> TaskQuerySet:
        if self.scope is not None:
            tasks = tasks.filter(
                Q(issuing_unit=self.scope) | Q(lead_unit__path__startswith=self.scope.path)
            )
        if self.issuer is not None:
            tasks = tasks.filter(issuing_unit=self.issuer)
        if self.lead is not None:
            tasks = tasks.filter(lead_unit__path__startswith=self.lead.path)
        if self.kind:
            tasks = tasks.filter(kind=self.kind)
        if self.tag:
            tasks = tasks.filter(tags__icontains=self.tag)
        if self.q:
            tasks = tasks.filter(Q(title__icontains=self.q) | Q(description__icontains=self.q))
        if self.month is not None:
            first, last = self.month
            tasks = tasks.filter(
                Q(due_date__range=(first, last)) | Q(milestones__due_date__range=(first, last))
            ).distinct()
        return tasks


def ledger_rows(
    tasks: TaskQuerySet, today: date, filters: Filters | None = None
) -> list[LedgerRow]:
    """Rows for the tasks, worst first: red, yellow, then by days overdue and due date."""
    filters = filters or Filters()
    thresholds = conf.thresholds()
    rows = []
    for task in filters.apply(tasks).with_facts().prefetch_related("reminders"):
        facts = task.facts()
        a = assess(facts, today, thresholds)
        if filters.status and a.status != filters.status:
            continue
        good, judged = on_time(facts.milestones, today)
        rows.append(
            LedgerRow(
                task=task,
                assessment=a,
                milestones_total=len(facts.milestones),
                milestones_met=sum(1 for m in facts.milestones if m.met_on and m.met_on <= today),
                on_time=good,
                judged=judged,
                last_report=task.last_report(),
                open_orders=sum(
                    1
                    for r in task.reminders.all()
                    if r.kind == "supervision" and r.replied_on is None and r.issued_on <= today
                ),
            )
        )
    order = {
        Status.OVERDUE: 0,
        Status.AT_RISK: 1,
        Status.ON_TRACK: 2,
        Status.NOT_STARTED: 3,
        Status.DONE: 4,
        Status.CLOSED: 5,
    }
    rows.sort(key=lambda r: (order[r.status], -r.days_overdue, r.task.due_date, r.task.pk))
    return rows


@dataclass
class UnitSummary:
    unit: OrgUnit
    counts: dict[str, int] = field(default_factory=dict)
    on_time: int = 0
    judged: int = 0
    worst_overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def red(self) -> int:
        return self.counts.get(Status.OVERDUE, 0)

    @property
    def yellow(self) -> int:
        return self.counts.get(Status.AT_RISK, 0)

    @property
    def on_time_percent(self) -> int | None:
        return round(100 * self.on_time / self.judged) if self.judged else None


def by_lead_unit(rows: Iterable[LedgerRow]) -> list[UnitSummary]:
    """Lead units, those most behind first: most red, most yellow, lowest on-time share."""
    summaries: dict[int, UnitSummary] = {}
    for row in rows:
        s = summaries.setdefault(row.task.lead_unit_id, UnitSummary(row.task.lead_unit))
        s.counts[row.status] = s.counts.get(row.status, 0) + 1
        s.on_time += row.on_time
        s.judged += row.judged
        s.worst_overdue = max(s.worst_overdue, row.days_overdue)
    return sorted(
        summaries.values(),
        key=lambda s: (-s.red, -s.yellow, s.on_time / s.judged if s.judged else 1, s.unit.path),
    )


def status_counts(rows: Iterable[LedgerRow]) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for row in rows:
        counts[row.status] += 1
    return counts


def status_label(status: Status) -> str:
    return {
        Status.NOT_STARTED: _("Not started"),
        Status.ON_TRACK: _("On track"),
        Status.AT_RISK: _("At risk"),
        Status.OVERDUE: _("Overdue"),
        Status.DONE: _("Done, awaiting verification"),
        Status.CLOSED: _("Closed off the ledger"),
    }[status]


FILLS = {"red": "F8D7DA", "yellow": "FFF3CD", "green": "D4EDDA"}


def ledger_xlsx(rows: list[LedgerRow], today: date, title: str, invented: bool = False) -> bytes:
    """The ledger as one xlsx sheet. Every cell goes through the spreadsheet guard: a title
    starting with = is text, and a control character stored before the input check (XML
    cannot hold it) is dropped instead of breaking the file for everyone."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("Ledger")[:31]
    ws.append(safe_row([title]))
    ws.append(safe_row([_("As of"), today]))
    ws.cell(ws.max_row, 2).number_format = "yyyy-mm-dd"
    if invented:
        ws.append(safe_row([_("Demo data: every figure is invented.")]))
    headers = [
        _("Issuing unit"),
        _("Lead unit"),
        _("Kind"),
        _("Task"),
        _("Status"),
        _("Start"),
        _("Due"),
        _("Milestones"),
        _("Met"),
        _("Met on time"),
        _("Judged"),
        _("Last report"),
        _("Percent done"),
        _("Expected percent"),
        _("Days overdue"),
        _("Open supervision orders"),
        _("Responsible"),
    ]
    ws.append(safe_row(headers))
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    for r in rows:
        t = r.task
        ws.append(
            safe_row(
                [
                    t.issuing_unit.name,
                    t.lead_unit.name,
                    t.get_kind_display(),
                    t.title,
                    status_label(r.status),
                    t.start_date,
                    t.due_date,
                    r.milestones_total,
                    r.milestones_met,
                    r.on_time,
                    r.judged,
                    r.last_report.report_date if r.last_report else None,
                    r.last_report.percent if r.last_report else None,
                    r.expected_percent,
                    r.days_overdue,
                    r.open_orders,
                    t.responsible,
                ]
            )
        )
        colour = r.status.colour
        if colour in FILLS:
            ws.cell(ws.max_row, 5).fill = PatternFill("solid", fgColor=FILLS[colour])
        for col in (6, 7, 12):
            ws.cell(ws.max_row, col).number_format = "yyyy-mm-dd"
    for letter, width in zip(
        "ABCDEFGHIJKLMNOPQ",
        (18, 18, 12, 40, 14, 11, 11, 8, 8, 8, 8, 11, 8, 8, 8, 8, 12),
        strict=True,
    ):
        ws.column_dimensions[letter].width = width
    # the header row stays in view while scrolling, and filters sit on it
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.auto_filter.ref = f"A{header_row}:Q{max(ws.max_row, header_row)}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filters_from(user: Actor, data: dict[str, str]) -> tuple[Filters, date]:
    """Read ledger filters from a query string; every bad value is named, nothing guessed."""
    from duban.errors import DubanError, Problem
    from duban.orgs import policy
    from duban.orgs.policy import Action
    from duban.periods import PeriodType, parse_period
    from duban.tasks.models import TaskKind
    from duban.tasks.services import today_local

    problems: list[Problem] = []
    f = Filters(
        status=data.get("status") or "",
        kind=data.get("kind") or "",
        tag=(data.get("tag") or "").strip(),
        q=(data.get("q") or "").strip(),
    )
    visible = policy.visible_units(user, Action.VIEW_DATA)
    for name in ("issuer", "lead", "scope"):
        code = (data.get(name) or "").strip()
        if code:
            unit = visible.filter(code=code).first()
            if unit is None:
                problems.append(Problem(name, _("no unit with this code within your reach")))
            setattr(f, name, unit)
    if f.status and f.status not in Status.__members__.values():
        problems.append(Problem("status", _("unknown status")))
    if f.kind and f.kind not in TaskKind.values:
        problems.append(Problem("kind", _("unknown kind")))
    month = (data.get("month") or "").strip().replace("-", "")  # the picker sends 2017-07
    if month:
        try:
            p = parse_period(month)
            if p.type is not PeriodType.MONTHLY:
                raise ValueError(month)
            f.month = (p.start, p.end)
        except ValueError:
            problems.append(Problem("month", _("pick a month, e.g. July 2017")))
    today = today_local()
    on = (data.get("on") or "").strip()
    if on:
        try:
            today = date.fromisoformat(on)
        except ValueError:
            problems.append(Problem("on", _("a date as YYYY-MM-DD")))
    if problems:
        raise DubanError(problems)
    return f, today


def reason_text(reason: object) -> str:
    """One sentence per status reason, for the task page and the agenda pack."""
    code = getattr(reason, "code", "")
    seq, days = getattr(reason, "seq", None), getattr(reason, "days", None)
    if code == "task_overdue":
        return _("The task is %(days)d days past its due date.") % {"days": days}
    if code == "milestone_overdue":
        return _("Milestone %(seq)s is %(days)d days past its date and not met.") % {
            "seq": seq,
            "days": days,
        }
    if code == "milestone_due_unreported":
        return _(
            "Milestone %(seq)s is due in %(days)d days and nothing has been reported on it."
        ) % {"seq": seq, "days": days}
    if code == "behind_schedule":
        return _(
            "Progress %(actual)d%% is more than the allowed margin behind the time elapsed (%(expected)d%%)."
        ) % {
            "actual": getattr(reason, "actual", 0),
            "expected": round(getattr(reason, "expected", 0) or 0),
        }
    if code == "caught_up_late":
        return _(
            "Caught up: milestone %(seq)s was met %(days)d days late; green again once a milestone is met on time."
        ) % {"seq": seq, "days": days}
    return code
