"""API shapes of tasks that other apps' routes answer with too (a meeting's pack lists ledger rows)."""

from __future__ import annotations

from datetime import date

from ninja import Schema

from duban.tasks.ledger import LedgerRow


class LedgerOut(Schema):
    task: int
    title: str
    kind: str
    issuing_unit: str
    lead_unit: str
    status: str
    due_date: date
    milestones: int
    milestones_met: int
    milestones_on_time: int
    milestones_judged: int
    last_report: date | None
    percent: int | None
    expected_percent: int
    days_overdue: int
    open_supervision_orders: int

    @staticmethod
    def of(r: LedgerRow) -> LedgerOut:
        t = r.task
        return LedgerOut(
            task=t.pk,
            title=t.title,
            kind=t.kind,
            issuing_unit=t.issuing_unit.code,
            lead_unit=t.lead_unit.code,
            status=r.status.value,
            due_date=t.due_date,
            milestones=r.milestones_total,
            milestones_met=r.milestones_met,
            milestones_on_time=r.on_time,
            milestones_judged=r.judged,
            last_report=r.last_report.report_date if r.last_report else None,
            percent=r.last_report.percent if r.last_report else None,
            expected_percent=r.expected_percent,
            days_overdue=r.days_overdue,
            open_supervision_orders=r.open_orders,
        )
