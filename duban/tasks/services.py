"""State changes on tasks. Views, API routes, commands and the demo all call these.

Each function asks the access policy about its actor (a person, or `policy.SYSTEM` for the
daily pass and the demo, which the policy allows and no request can be), runs in one
transaction, raises TaskError
naming the field, and leaves an audit entry (rows are audited models; the
semantic events — done, closed, reopened, supervision issued — are recorded too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from duban.audit.context import with_reason
from duban.audit.services import record
from duban.errors import ConflictError, DubanError, Problem, clean_problems
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.tasks import access, conf
from duban.tasks.models import (
    Evidence,
    Goal,
    GoalStep,
    Milestone,
    ProgressReport,
    Reminder,
    ReminderKind,
    Task,
    TaskKind,
    TaskPartner,
    Trigger,
)
from duban.tasks.status import Status

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

TASK_FIELDS = (
    "kind",
    "title",
    "description",
    "expected_result",
    "responsible",
    "start_date",
    "due_date",
    "tags",
    "goal_step",
    "indicator_code",
    "indicator_target",
    "indicator_higher_is_better",
    "line",
)
MILESTONE_FIELDS = ("title", "due_date", "deliverable", "owner", "seq")


class TaskError(DubanError):
    """A task change that cannot be made; nothing was changed."""


class TaskConflict(ConflictError):
    """The task's state forbids the change (closed, not done, …)."""


def today_local() -> date:
    return timezone.localdate()


def _validate(obj: Any, exclude: list[str] | None = None) -> None:
    problems = clean_problems(obj, exclude=exclude, validate_constraints=False)
    if problems:
        raise TaskError(problems)


def _check_units(issuing: OrgUnit, lead: OrgUnit, partners: Sequence[OrgUnit]) -> None:
    """Work is assigned downwards: lead and co-operating units lie within the issuer's subtree."""
    problems = []
    if not lead.is_within(issuing):
        problems.append(
            Problem("lead_unit", _("%(unit)s is not within the issuing unit") % {"unit": lead.code})
        )
    for p in partners:
        if not p.is_within(issuing):
            problems.append(
                Problem("partners", _("%(unit)s is not within the issuing unit") % {"unit": p.code})
            )
        if p.pk == lead.pk:
            problems.append(
                Problem("partners", _("the lead unit cannot also be a co-operating unit"))
            )
    if problems:
        raise TaskError(problems)


def _check_goal_step(issuing: OrgUnit, step: GoalStep | None) -> None:
    if step is not None and not issuing.is_within(step.goal.unit):
        raise TaskError(_("the goal belongs to another unit"), "goal_step")


def _set_partners(task: Task, partners: Iterable[OrgUnit]) -> None:
    wanted = {p.pk: p for p in partners}
    for row in list(task.partners.all()):
        if row.unit_id not in wanted:
            row.delete()
    have = set(task.partners.values_list("unit_id", flat=True))
    for pk, unit in wanted.items():
        if pk not in have:
            TaskPartner.objects.create(task=task, unit=unit)


def _require_open(task: Task, today: date) -> None:
    """Read from the database: the caller's copy of the task may be older than a close."""
    if Task.objects.filter(pk=task.pk, closed_on__isnull=False).exists():
        raise TaskConflict(_("the task is closed off the ledger; reopen it first"), "status")


@transaction.atomic
def create_task(
    *,
    user: Actor,
    issuing_unit: OrgUnit,
    lead_unit: OrgUnit,
    partners: Sequence[OrgUnit] = (),
    **fields: Any,
) -> Task:
    """A new task issued by `issuing_unit`; only its office (or one above) may issue it."""
    policy.require(user, Action.MANAGE_EVALUATION, issuing_unit)
    unknown = sorted(set(fields) - set(TASK_FIELDS))
    if unknown:
        raise TaskError([Problem(f, _("unknown field")) for f in unknown])
    task = Task(issuing_unit=issuing_unit, lead_unit=lead_unit, **fields)
    _line_from_indicator(task)
    _validate(task)
    _check_dates(task.start_date, task.due_date)
    _check_units(issuing_unit, lead_unit, partners)
    _check_goal_step(issuing_unit, task.goal_step)
    task.save()
    _set_partners(task, partners)
    return task


def _line_from_indicator(task: Task) -> None:
    """A task tied to an indicator belongs to the indicator's line unless it names one."""
    if not task.line and task.indicator_code:
        from duban.indicators.models import Indicator

        task.line = (
            Indicator.objects.filter(code=task.indicator_code)
            .values_list("line", flat=True)
            .first()
            or ""
        )


def _check_dates(start: date, due: date) -> None:
    if due < start:
        raise TaskError(_("the due date is before the start date"), "due_date")


@transaction.atomic
def update_task(
    task: Task,
    *,
    user: Actor,
    lead_unit: OrgUnit | None = None,
    partners: Sequence[OrgUnit] | None = None,
    **fields: Any,
) -> Task:
    """Change what a task says; the issuing unit never changes (issue a new task instead)."""
    access.require_manage(user, task)
    unknown = sorted(set(fields) - set(TASK_FIELDS))
    if unknown:
        raise TaskError([Problem(f, _("unknown field")) for f in unknown])
    locked = Task.objects.select_for_update().get(pk=task.pk)
    _require_open(locked, today_local())
    for name, value in fields.items():
        setattr(locked, name, value)
    if lead_unit is not None:
        locked.lead_unit = lead_unit
    _line_from_indicator(locked)
    _validate(locked)
    _check_dates(locked.start_date, locked.due_date)
    current = (
        partners
        if partners is not None
        else [p.unit for p in locked.partners.select_related("unit")]
    )
    _check_units(locked.issuing_unit, locked.lead_unit, current)
    _check_goal_step(locked.issuing_unit, locked.goal_step)
    bad = locked.milestones.exclude(due_date__range=(locked.start_date, locked.due_date)).first()
    if bad is not None:
        raise TaskError(
            _("milestone %(seq)s falls outside the new dates") % {"seq": bad.seq}, "due_date"
        )
    locked.save()
    if partners is not None:
        _set_partners(locked, partners)
    return locked


def _check_milestone_dates(task: Task, due: date) -> None:
    if not task.start_date <= due <= task.due_date:
        raise TaskError(
            _("the milestone must fall between the task's start (%(start)s) and due date (%(due)s)")
            % {"start": task.start_date, "due": task.due_date},
            "due_date",
        )


@transaction.atomic
def add_milestone(task: Task, *, user: Actor, **fields: Any) -> Milestone:
    """Add a point to the roadmap; without `seq` it goes last."""
    access.require_manage(user, task)
    _require_open(task, today_local())
    unknown = sorted(set(fields) - set(MILESTONE_FIELDS))
    if unknown:
        raise TaskError([Problem(f, _("unknown field")) for f in unknown])
    if not fields.get("seq"):
        last = task.milestones.order_by("-seq").values_list("seq", flat=True).first()
        fields["seq"] = (last or 0) + 1
    elif task.milestones.filter(seq=fields["seq"]).exists():
        raise TaskError(_("another milestone has this number"), "seq")
    milestone = Milestone(task=task, **fields)
    _validate(milestone, exclude=["task"])
    _check_milestone_dates(task, milestone.due_date)
    milestone.save()
    return milestone


@transaction.atomic
def update_milestone(milestone: Milestone, *, user: Actor, **fields: Any) -> Milestone:
    task = milestone.task
    access.require_manage(user, task)
    _require_open(task, today_local())
    unknown = sorted(set(fields) - set(MILESTONE_FIELDS))
    if unknown:
        raise TaskError([Problem(f, _("unknown field")) for f in unknown])
    locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
    if "seq" in fields and task.milestones.filter(seq=fields["seq"]).exclude(pk=locked.pk).exists():
        raise TaskError(_("another milestone has this number"), "seq")
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate(locked, exclude=["task"])
    _check_milestone_dates(task, locked.due_date)
    locked.save()
    return locked


@transaction.atomic
def mark_milestone_met(
    milestone: Milestone, *, user: Actor, on: date | None = None, today: date | None = None
) -> Milestone:
    """Record the day the deliverable came in: the lead unit's reporter or the issuing office."""
    today = today or today_local()
    task = milestone.task
    if not (access.can_report_as_lead(user, task) or access.can_manage(user, task)):
        raise PermissionDenied("only the lead unit or the issuing office marks a milestone met")
    _require_open(task, today)
    on = on or today
    if on > today:
        raise TaskError(_("a milestone cannot be met in the future"), "met_on")
    if on < task.start_date:
        raise TaskError(_("the date is before the task started"), "met_on")
    locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
    if locked.met_on is not None:
        raise TaskConflict(
            _("the milestone was already met on %(d)s") % {"d": locked.met_on}, "met_on"
        )
    locked.met_on = on
    locked.save()
    record(
        "tasks.milestone.met", obj=locked, after={"met_on": on, "on_time": on <= locked.due_date}
    )
    return locked


def _check_evidence(files: Sequence[UploadedFile]) -> None:
    limit = conf.evidence_max_bytes()
    problems = []
    for f in files:
        ext = PurePath(f.name or "").suffix.lower().lstrip(".")
        if ext not in conf.EVIDENCE_EXTENSIONS:
            problems.append(
                Problem(
                    "files", _("%(name)s: files of this type are not accepted") % {"name": f.name}
                )
            )
        elif f.size is not None and f.size > limit:
            problems.append(
                Problem(
                    "files",
                    _("%(name)s has %(size)d bytes; the limit is %(limit)d")
                    % {"name": f.name, "size": f.size, "limit": limit},
                )
            )
    if problems:
        raise TaskError(problems)


@transaction.atomic
def submit_report(
    task: Task,
    *,
    user: Actor,
    unit: OrgUnit | None = None,
    text: str,
    percent: int | None = None,
    problems: str = "",
    next_steps: str = "",
    milestone: Milestone | None = None,
    milestone_met: bool = False,
    files: Sequence[UploadedFile] = (),
    today: date | None = None,
) -> ProgressReport:
    """A progress report: by the lead unit (with percent done) or a co-operating unit's part."""
    today = today or today_local()
    unit = unit or task.lead_unit
    policy.require(user, Action.ENTER_DATA, unit)
    is_lead = unit.pk == task.lead_unit_id
    if not is_lead and not task.partners.filter(unit=unit).exists():
        raise TaskError(
            _("%(unit)s is neither the lead nor a co-operating unit") % {"unit": unit.code}, "unit"
        )
    _require_open(task, today)
    errors = []
    if not (text or "").strip():
        errors.append(Problem("text", _("describe the progress")))
    if is_lead and percent is None:
        errors.append(Problem("percent", _("the lead unit states the percent done")))
    if percent is not None and not 0 <= percent <= 100:
        errors.append(Problem("percent", _("between 0 and 100")))
    if milestone is not None and milestone.task_id != task.pk:
        errors.append(Problem("milestone", _("the milestone belongs to another task")))
    if milestone_met and (milestone is None or not is_lead):
        errors.append(
            Problem("milestone_met", _("only the lead unit reports a milestone met, naming it"))
        )
    if errors:
        raise TaskError(errors)
    _check_evidence(files)
    report = ProgressReport.objects.create(
        task=task,
        unit=unit,
        milestone=milestone,
        report_date=today,
        text=text.strip(),
        percent=percent,
        problems=problems.strip(),
        next_steps=next_steps.strip(),
        author=policy.person(user),
    )
    for f in files:
        _store(report, f)
    if milestone_met and milestone is not None and milestone.met_on is None:
        mark_milestone_met(milestone, user=user, on=today, today=today)
    return report


@transaction.atomic
def add_evidence(
    report: ProgressReport,
    *,
    user: Actor,
    files: Sequence[UploadedFile],
    today: date | None = None,
) -> list[Evidence]:
    """Attach files to a report, by the reporting unit's reporter while the task is open."""
    policy.require(user, Action.ENTER_DATA, report.unit)
    _require_open(report.task, today or today_local())
    if not files:
        raise TaskError(_("choose at least one file"), "files")
    _check_evidence(files)
    return [_store(report, f) for f in files]


def _store(report: ProgressReport, f: UploadedFile) -> Evidence:
    """Save the file under tasks/evidence/<task>/ and keep its name, size and SHA-256."""
    digest = hashlib.sha256()
    for chunk in f.chunks():
        digest.update(chunk)
    f.seek(0)
    original = PurePath(f.name or "file").name
    safe = get_valid_filename(original)[-120:] or "file"
    path = default_storage.save(f"tasks/evidence/{report.task_id}/{safe}", f)
    return Evidence.objects.create(
        report=report, path=path, name=original[:200], size=f.size or 0, sha256=digest.hexdigest()
    )


@transaction.atomic
def declare_done(
    task: Task, *, user: Actor, today: date | None = None, via: str = "report"
) -> Task:
    """The lead unit says the task is done; it waits for the issuing unit's check."""
    today = today or today_local()
    access.require_lead(user, task)
    locked = Task.objects.select_for_update().get(pk=task.pk)
    _require_open(locked, today)
    if locked.completed_on is not None:
        raise TaskConflict(
            _("already declared done on %(d)s") % {"d": locked.completed_on}, "status"
        )
    if today < locked.start_date:
        raise TaskConflict(_("the task has not started"), "status")
    locked.completed_on = today
    locked.completed_via = via
    locked.save()
    record("tasks.task.done", obj=locked, after={"completed_on": today, "via": via})
    return locked


@transaction.atomic
def close_task(task: Task, *, user: Actor, today: date | None = None, note: str = "") -> Task:
    """对账销号: the issuing unit checks a done task and closes it off the ledger."""
    today = today or today_local()
    access.require_manage(user, task)
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.closed_on is not None:
        raise TaskConflict(_("already closed on %(d)s") % {"d": locked.closed_on}, "status")
    if locked.completed_on is None:
        raise TaskConflict(_("the lead unit has not declared the task done"), "status")
    locked.closed_on = today
    locked.save()
    record("tasks.task.closed", obj=locked, after={"closed_on": today}, reason=note)
    return locked


@transaction.atomic
def reopen_task(task: Task, *, user: Actor, reason: str, today: date | None = None) -> Task:
    """The issuing unit sends a done or closed task back to the lead unit, saying why."""
    today = today or today_local()
    access.require_manage(user, task)
    if not (reason or "").strip():
        raise TaskError(_("say why the task is reopened"), "reason")
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.closed_on is None and locked.completed_on is None:
        raise TaskConflict(_("the task is neither done nor closed"), "status")
    before = {"completed_on": locked.completed_on, "closed_on": locked.closed_on}
    locked.completed_on = None
    locked.completed_via = ""
    locked.closed_on = None
    locked.reopened_on = today
    locked.reopen_reason = reason.strip()
    with with_reason(reason.strip()):
        locked.save()
        record("tasks.task.reopened", obj=locked, before=before, after={"reopened_on": today})
    return locked


@transaction.atomic
def issue_supervision(
    task: Task,
    *,
    user: Actor,
    message: str,
    reply_days: int | None = None,
    milestone: Milestone | None = None,
    today: date | None = None,
) -> Reminder:
    """督办: a formal escalation to the lead unit, with a reply deadline."""
    today = today or today_local()
    access.require_manage(user, task)
    _require_open(task, today)
    if not (message or "").strip():
        raise TaskError(_("write what the lead unit must do"), "message")
    days = conf.supervision_reply_days() if reply_days is None else reply_days
    if not 1 <= days <= 90:
        raise TaskError(_("between 1 and 90 days"), "reply_days")
    if milestone is not None and milestone.task_id != task.pk:
        raise TaskError(_("the milestone belongs to another task"), "milestone")
    order = Reminder.objects.create(
        task=task,
        milestone=milestone,
        kind=ReminderKind.SUPERVISION,
        trigger=Trigger.MANUAL,
        due_point=milestone.due_date if milestone else task.due_date,
        offset_days=0,
        issued_on=today,
        to_unit=task.lead_unit,
        message=message.strip(),
        reply_by=today + timedelta(days=days),
        issued_by=policy.person(user),
        email_wanted=conf.email_enabled(),
    )
    record("tasks.reminder.supervision_issued", obj=order, after={"reply_by": order.reply_by})
    return order


@transaction.atomic
def reply_reminder(
    reminder: Reminder, *, user: Actor, text: str, today: date | None = None
) -> Reminder:
    """The lead unit answers a supervision order (or acknowledges a reminder)."""
    today = today or today_local()
    policy.require(user, Action.ENTER_DATA, reminder.to_unit)
    if not (text or "").strip():
        raise TaskError(_("write the reply"), "text")
    locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if locked.replied_on is not None:
        raise TaskConflict(_("already answered on %(d)s") % {"d": locked.replied_on}, "text")
    locked.reply = text.strip()
    locked.replied_on = today
    locked.replied_by = policy.person(user)
    locked.save()
    return locked


@transaction.atomic
def create_goal(
    unit: OrgUnit,
    *,
    user: Actor,
    title: str,
    first_year: int,
    aims: Sequence[str],
    description: str = "",
) -> Goal:
    """A multi-year goal with one step (aim) per year, e.g. 三年三步走."""
    policy.require(user, Action.MANAGE_EVALUATION, unit)
    aims = [a.strip() for a in aims if a and a.strip()]
    if not aims:
        raise TaskError(_("name the aim of at least one year"), "aims")
    if not 2000 <= first_year <= 2100:
        raise TaskError(_("a year between 2000 and 2100"), "first_year")
    goal = Goal(
        unit=unit,
        title=title.strip(),
        description=description,
        first_year=first_year,
        years=len(aims),
    )
    _validate(goal, exclude=["unit"])
    goal.save()
    for i, aim in enumerate(aims):
        GoalStep.objects.create(goal=goal, year=first_year + i, aim=aim[:300])
    return goal


def status_of(task: Task, today: date | None = None) -> Status:
    return task.status(today or today_local())


def create_unique(model: type[Any], **fields: Any) -> Any | None:
    """Insert a row unless a unique constraint already holds it; None when it existed.

    The savepoint keeps the surrounding transaction usable after the refused insert
    (PostgreSQL aborts a transaction on any error otherwise).
    """
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        return None


__all__ = [
    "TaskConflict",
    "TaskError",
    "TaskKind",
    "add_evidence",
    "add_milestone",
    "close_task",
    "create_goal",
    "create_task",
    "declare_done",
    "issue_supervision",
    "mark_milestone_met",
    "reopen_task",
    "reply_reminder",
    "submit_report",
    "update_milestone",
    "update_task",
]
