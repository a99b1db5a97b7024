"""Task routes under /api/tasks/. Thin: authorise with the policy, call a service, answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from duban.core.patch import patch_changes
from duban.errors import DubanError, Problem
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.tasks import access, links, services
from duban.tasks.ledger import filters_from, ledger_rows, ledger_xlsx, reason_text
from duban.tasks.models import GoalStep, Milestone, ProgressReport, Reminder, Task
from duban.tasks.schemas import LedgerOut
from duban.web import AuthenticatedHttpRequest, xlsx_response

router = Router(tags=["tasks"])


def unit_code(code: str | None, where: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code or "").first()
    if unit is None:
        raise DubanError(_("no unit has this code"), where)
    return unit


class TaskIn(Schema):
    kind: str = "key_task"
    title: str
    description: str = ""
    expected_result: str = ""
    issuing_unit: str
    lead_unit: str
    partners: list[str] = []
    responsible: str = ""
    start_date: date
    due_date: date
    tags: str = ""
    goal_step: int | None = None
    indicator_code: str = ""
    indicator_target: Decimal | None = None
    indicator_higher_is_better: bool = True


class TaskPatch(Schema):
    kind: str | None = None
    title: str | None = None
    description: str | None = None
    expected_result: str | None = None
    lead_unit: str | None = None
    partners: list[str] | None = None
    responsible: str | None = None
    start_date: date | None = None
    due_date: date | None = None
    tags: str | None = None
    indicator_code: str | None = None
    indicator_target: Decimal | None = None


class MilestoneOut(Schema):
    id: int
    seq: int
    title: str
    due_date: date
    deliverable: str
    owner: str
    met_on: date | None
    met_on_time: bool | None

    @staticmethod
    def of(m: Milestone) -> MilestoneOut:
        return MilestoneOut(
            id=m.pk,
            seq=m.seq,
            title=m.title,
            due_date=m.due_date,
            deliverable=m.deliverable,
            owner=m.owner,
            met_on=m.met_on,
            met_on_time=m.met_on_time,
        )


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    expected_result: str
    issuing_unit: str
    lead_unit: str
    partners: list[str]
    responsible: str
    start_date: date
    due_date: date
    tags: list[str]
    status: str
    colour: str
    reasons: list[str]
    percent: int | None
    expected_percent: int
    days_overdue: int
    milestones_on_time: int
    milestones_judged: int
    completed_on: date | None
    closed_on: date | None
    reopened_on: date | None
    reopen_reason: str
    indicator_code: str
    indicator_target: Decimal | None
    milestones: list[MilestoneOut]

    @staticmethod
    def of(task: Task, today: date) -> TaskOut:
        a = task.assess(today)
        good, judged = task.on_time(today)
        return TaskOut(
            id=task.pk,
            kind=task.kind,
            title=task.title,
            description=task.description,
            expected_result=task.expected_result,
            issuing_unit=task.issuing_unit.code,
            lead_unit=task.lead_unit.code,
            partners=[u.code for u in task.partner_units()],
            responsible=task.responsible,
            start_date=task.start_date,
            due_date=task.due_date,
            tags=task.tag_list,
            status=a.status.value,
            colour=a.status.colour,
            reasons=[reason_text(r) for r in a.reasons],
            percent=a.percent,
            expected_percent=round(a.expected_percent),
            days_overdue=a.days_overdue,
            milestones_on_time=good,
            milestones_judged=judged,
            completed_on=task.completed_on,
            closed_on=task.closed_on,
            reopened_on=task.reopened_on,
            reopen_reason=task.reopen_reason,
            indicator_code=task.indicator_code,
            indicator_target=task.indicator_target,
            milestones=[MilestoneOut.of(m) for m in task.milestones.all()],
        )


class MilestoneIn(Schema):
    title: str
    due_date: date
    deliverable: str = ""
    owner: str = ""
    seq: int | None = None


class MilestonePatch(Schema):
    title: str | None = None
    due_date: date | None = None
    deliverable: str | None = None
    owner: str | None = None
    seq: int | None = None


class MetIn(Schema):
    on: date | None = None


class ReportIn(Schema):
    unit: str | None = None
    text: str
    percent: int | None = None
    problems: str = ""
    next_steps: str = ""
    milestone: int | None = None
    milestone_met: bool = False


class ReportOut(Schema):
    id: int
    unit: str
    report_date: date
    text: str
    percent: int | None
    problems: str
    next_steps: str
    milestone: int | None
    evidence: list[str]

    @staticmethod
    def of(r: ProgressReport) -> ReportOut:
        return ReportOut(
            id=r.pk,
            unit=r.unit.code,
            report_date=r.report_date,
            text=r.text,
            percent=r.percent,
            problems=r.problems,
            next_steps=r.next_steps,
            milestone=r.milestone_id,
            evidence=[e.name for e in r.evidence.all()],
        )


class ReasonIn(Schema):
    reason: str


class CloseIn(Schema):
    note: str = ""


class SupervisionIn(Schema):
    message: str
    reply_days: int | None = None
    milestone: int | None = None


class ReminderOut(Schema):
    id: int
    task: int
    kind: str
    trigger: str
    milestone: int | None
    issued_on: date
    due_point: date
    offset_days: int
    to_unit: str
    message: str
    reply_by: date | None
    reply: str
    replied_on: date | None
    emailed: bool

    @staticmethod
    def of(r: Reminder) -> ReminderOut:
        return ReminderOut(
            id=r.pk,
            task=r.task_id,
            kind=r.kind,
            trigger=r.trigger,
            milestone=r.milestone_id,
            issued_on=r.issued_on,
            due_point=r.due_point,
            offset_days=r.offset_days,
            to_unit=r.to_unit.code,
            message=r.message,
            reply_by=r.reply_by,
            reply=r.reply,
            replied_on=r.replied_on,
            emailed=r.emailed_at is not None,
        )


class ReplyIn(Schema):
    text: str


class LedgerQuery(Schema):
    issuer: str = ""
    lead: str = ""
    scope: str = ""
    status: str = ""
    kind: str = ""
    month: str = ""
    tag: str = ""
    q: str = ""
    on: str = ""


class ShareOut(Schema):
    unit: str
    start: date
    end: date
    share: Decimal | None


class GoalIn(Schema):
    unit: str
    title: str
    first_year: int
    aims: list[str]
    description: str = ""


class GoalOut(Schema):
    id: int
    unit: str
    title: str
    steps: list[dict[str, Any]]


def _today() -> date:
    return services.today_local()


def _task(request: AuthenticatedHttpRequest, pk: int) -> Task:
    return access.task_or_403(request.user, pk)


def _fresh(pk: int) -> Task:
    return Task.objects.with_facts().get(pk=pk)


def _units(codes: list[str], where: str) -> list[OrgUnit]:
    units = list(OrgUnit.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        raise DubanError(
            [Problem(where, _("no unit has the code %(c)s") % {"c": c}) for c in missing]
        )
    return units


def _goal_step(pk: int | None) -> GoalStep | None:
    if pk is None:
        return None
    step = GoalStep.objects.select_related("goal").filter(pk=pk).first()
    if step is None:
        raise DubanError(_("no goal step has this id"), "goal_step")
    return step


@router.get("/tasks", response=list[TaskOut])
def list_tasks(request: AuthenticatedHttpRequest, q: Query[LedgerQuery]) -> list[TaskOut]:
    """Tasks the caller may see (issuer, lead or co-operating unit within reach), filtered like the ledger."""
    filters, today = filters_from(request.user, q.dict())
    return [
        TaskOut.of(r.task, today)
        for r in ledger_rows(access.visible_tasks(request.user), today, filters)
    ]


@router.post("/tasks", response={201: TaskOut})
def create_task(request: AuthenticatedHttpRequest, payload: TaskIn) -> Status[TaskOut]:
    data = payload.dict()
    issuer = unit_code(data.pop("issuing_unit"), "issuing_unit")
    policy.require(request.user, Action.MANAGE_EVALUATION, issuer)
    lead = unit_code(data.pop("lead_unit"), "lead_unit")
    partners = _units(data.pop("partners"), "partners")
    data["goal_step"] = _goal_step(data.get("goal_step"))
    task = services.create_task(
        user=request.user,
        issuing_unit=issuer,
        lead_unit=lead,
        partners=partners,
        **data,
    )
    return Status(201, TaskOut.of(_fresh(task.pk), _today()))


@router.get("/tasks/{pk}", response=TaskOut)
def task_detail(request: AuthenticatedHttpRequest, pk: int) -> TaskOut:
    return TaskOut.of(_task(request, pk), _today())


@router.patch("/tasks/{pk}", response=TaskOut)
def update_task(request: AuthenticatedHttpRequest, pk: int, payload: TaskPatch) -> TaskOut:
    task = _task(request, pk)
    access.require_manage(request.user, task)
    data = patch_changes(payload, model=Task)
    lead = unit_code(data.pop("lead_unit"), "lead_unit") if "lead_unit" in data else None
    partners = _units(data.pop("partners"), "partners") if "partners" in data else None
    services.update_task(task, user=request.user, lead_unit=lead, partners=partners, **data)
    return TaskOut.of(_fresh(pk), _today())


@router.post("/tasks/{pk}/milestones", response={201: MilestoneOut})
def add_milestone(
    request: AuthenticatedHttpRequest, pk: int, payload: MilestoneIn
) -> Status[MilestoneOut]:
    task = _task(request, pk)
    access.require_manage(request.user, task)
    m = services.add_milestone(task, user=request.user, **payload.dict())
    return Status(201, MilestoneOut.of(m))


def _milestone(request: AuthenticatedHttpRequest, pk: int) -> Milestone:
    m = get_object_or_404(Milestone, pk=pk)
    m.task = _task(request, m.task_id)
    return m


@router.patch("/milestones/{pk}", response=MilestoneOut)
def update_milestone(
    request: AuthenticatedHttpRequest, pk: int, payload: MilestonePatch
) -> MilestoneOut:
    m = _milestone(request, pk)
    access.require_manage(request.user, m.task)
    return MilestoneOut.of(
        services.update_milestone(m, user=request.user, **patch_changes(payload, model=Milestone))
    )


@router.post("/milestones/{pk}/met", response=MilestoneOut)
def milestone_met(request: AuthenticatedHttpRequest, pk: int, payload: MetIn) -> MilestoneOut:
    m = _milestone(request, pk)
    return MilestoneOut.of(services.mark_milestone_met(m, user=request.user, on=payload.on))


@router.get("/tasks/{pk}/reports", response=list[ReportOut])
def list_reports(request: AuthenticatedHttpRequest, pk: int) -> list[ReportOut]:
    task = _task(request, pk)
    return [
        ReportOut.of(r) for r in task.reports.select_related("unit").prefetch_related("evidence")
    ]


@router.post("/tasks/{pk}/reports", response={201: ReportOut})
def submit_report(
    request: AuthenticatedHttpRequest, pk: int, payload: ReportIn
) -> Status[ReportOut]:
    """The lead unit (default) or a co-operating unit (`unit`) reports; evidence files go to /evidence."""
    task = _task(request, pk)
    data = payload.dict()
    code = data.pop("unit")
    unit = unit_code(code, "unit") if code else task.lead_unit
    milestone = None
    if data.get("milestone") is not None:
        milestone = task.milestones.filter(pk=data["milestone"]).first()
        if milestone is None:
            raise DubanError(_("no milestone of this task has this id"), "milestone")
    data.pop("milestone")
    r = services.submit_report(task, user=request.user, unit=unit, milestone=milestone, **data)
    return Status(201, ReportOut.of(r))


@router.post("/reports/{pk}/evidence", response={201: ReportOut})
def add_evidence(
    request: AuthenticatedHttpRequest, pk: int, files: list[UploadedFile] = File(...)
) -> Status[ReportOut]:
    report = get_object_or_404(ProgressReport.objects.select_related("unit"), pk=pk)
    report.task = _task(request, report.task_id)
    services.add_evidence(report, user=request.user, files=files)
    return Status(201, ReportOut.of(report))


@router.post("/tasks/{pk}/done", response=TaskOut)
def declare_done(request: AuthenticatedHttpRequest, pk: int) -> TaskOut:
    services.declare_done(_task(request, pk), user=request.user)
    return TaskOut.of(_fresh(pk), _today())


@router.post("/tasks/{pk}/close", response=TaskOut)
def close_task(request: AuthenticatedHttpRequest, pk: int, payload: CloseIn) -> TaskOut:
    services.close_task(_task(request, pk), user=request.user, note=payload.note)
    return TaskOut.of(_fresh(pk), _today())


@router.post("/tasks/{pk}/reopen", response=TaskOut)
def reopen_task(request: AuthenticatedHttpRequest, pk: int, payload: ReasonIn) -> TaskOut:
    services.reopen_task(_task(request, pk), user=request.user, reason=payload.reason)
    return TaskOut.of(_fresh(pk), _today())


@router.get("/tasks/{pk}/reminders", response=list[ReminderOut])
def list_reminders(request: AuthenticatedHttpRequest, pk: int) -> list[ReminderOut]:
    task = _task(request, pk)
    return [ReminderOut.of(r) for r in task.reminders.select_related("to_unit")]


@router.post("/tasks/{pk}/supervision", response={201: ReminderOut})
def issue_supervision(
    request: AuthenticatedHttpRequest, pk: int, payload: SupervisionIn
) -> Status[ReminderOut]:
    task = _task(request, pk)
    access.require_manage(request.user, task)
    milestone = None
    if payload.milestone is not None:
        milestone = task.milestones.filter(pk=payload.milestone).first()
        if milestone is None:
            raise DubanError(_("no milestone of this task has this id"), "milestone")
    r = services.issue_supervision(
        task,
        user=request.user,
        message=payload.message,
        reply_days=payload.reply_days,
        milestone=milestone,
    )
    return Status(201, ReminderOut.of(r))


@router.post("/reminders/{pk}/reply", response=ReminderOut)
def reply(request: AuthenticatedHttpRequest, pk: int, payload: ReplyIn) -> ReminderOut:
    reminder = get_object_or_404(Reminder.objects.select_related("to_unit"), pk=pk)
    _task(request, reminder.task_id)
    return ReminderOut.of(services.reply_reminder(reminder, user=request.user, text=payload.text))


@router.get("/ledger", response=list[LedgerOut])
def ledger(request: AuthenticatedHttpRequest, q: Query[LedgerQuery]) -> list[LedgerOut]:
    filters, today = filters_from(request.user, q.dict())
    return [
        LedgerOut.of(r) for r in ledger_rows(access.visible_tasks(request.user), today, filters)
    ]


@router.get("/ledger.xlsx")
def ledger_export(request: AuthenticatedHttpRequest, q: Query[LedgerQuery]) -> HttpResponse:
    filters, today = filters_from(request.user, q.dict())
    rows = ledger_rows(access.visible_tasks(request.user), today, filters)
    data = ledger_xlsx(
        rows,
        today,
        _("Task ledger as of %(d)s") % {"d": today},
        invented=any(r.task.issuing_unit.is_demo for r in rows),
    )
    return xlsx_response(data, f"ledger-{today.isoformat()}.xlsx")


@router.get("/units/{code}/on-time-share", response=ShareOut)
def on_time_share(request: AuthenticatedHttpRequest, code: str, start: date, end: date) -> ShareOut:
    """Share of the unit's milestones (as lead unit) due in [start, end] met on time; null if none judged."""
    unit = get_object_or_404(OrgUnit, code=code)
    policy.require(request.user, Action.VIEW_DATA, unit)
    if end < start:
        raise DubanError(_("the end is before the start"), "end")
    return ShareOut(
        unit=code, start=start, end=end, share=links.milestones_on_time_share(unit, start, end)
    )


@router.get("/goals", response=list[GoalOut])
def list_goals(request: AuthenticatedHttpRequest) -> list[GoalOut]:
    from duban.tasks.models import Goal

    units = policy.visible_units(request.user, Action.VIEW_DATA)
    return [
        GoalOut(
            id=g.pk,
            unit=g.unit.code,
            title=g.title,
            steps=[{"id": s.pk, "year": s.year, "aim": s.aim} for s in g.steps.all()],
        )
        for g in Goal.objects.filter(unit__in=units)
        .select_related("unit")
        .prefetch_related("steps")
    ]


@router.post("/goals", response={201: GoalOut})
def create_goal(request: AuthenticatedHttpRequest, payload: GoalIn) -> Status[GoalOut]:
    unit = unit_code(payload.unit, "unit")
    g = services.create_goal(
        unit,
        user=request.user,
        title=payload.title,
        first_year=payload.first_year,
        aims=payload.aims,
        description=payload.description,
    )
    return Status(
        201,
        GoalOut(
            id=g.pk,
            unit=unit.code,
            title=g.title,
            steps=[{"id": s.pk, "year": s.year, "aim": s.aim} for s in g.steps.all()],
        ),
    )
