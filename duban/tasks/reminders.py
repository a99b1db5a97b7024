"""The daily pass: reminders (催办) and supervision orders (督办) at configured points.

For every open task, for the task's own due date and each unmet milestone, the
pass looks at the configured points (days before and after the due date) and
issues the most recent point reached, once: a point missed on an earlier day
is not back-filled, and a point already issued is refused by the unique
constraint, so running the pass twice, or late, sends nothing twice. Lead units
that have not reported by the configured day of the month are reminded once a
month. E-mail is a second phase: every reminder still waiting for its e-mail is
sent and stamped, one at a time, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from duban.orgs import policy
from duban.orgs.models import Membership, OrgUnit, Role
from duban.tasks import access, conf
from duban.tasks.models import Milestone, Reminder, ReminderKind, Task, Trigger
from duban.tasks.services import TaskConflict, _require_open, create_unique

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    created: list[Reminder] = field(default_factory=list)
    emailed: int = 0
    email_failed: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for r in self.created if r.kind == kind)


def latest_point(due: date, today: date, offsets: list[int]) -> int | None:
    """The largest offset (days from `due`, negative before) whose day has come."""
    reached = [o for o in offsets if due + timedelta(days=o) <= today]
    return max(reached) if reached else None


def _message(task: Task, milestone: Milestone | None, due: date, today: date, kind: str) -> str:
    what = (
        _("Milestone %(seq)s “%(title)s” of task “%(task)s”")
        % {"seq": milestone.seq, "title": milestone.title, "task": task.title}
        if milestone
        else _("Task “%(task)s”") % {"task": task.title}
    )
    days = (due - today).days
    facts = {"what": what, "due": due, "n": abs(days)}
    if days > 0:
        text = _("%(what)s is due on %(due)s, in %(n)d days.") % facts
    elif days == 0:
        text = _("%(what)s is due today (%(due)s).") % facts
    else:
        text = _("%(what)s was due on %(due)s and is %(n)d days overdue.") % facts
    if kind == ReminderKind.SUPERVISION:
        text += " " + _(
            "Supervision order: reply with the measures taken and the date of completion."
        )
    return text


def _monthly_message(task: Task) -> str:
    return _(
        "No progress report on task “%(task)s” this month yet: the lead unit reports every month."
    ) % {"task": task.title}


def wording(reminder: Reminder) -> str:
    """The reminder's message in the active language: the pass's and 催办's own words are
    written again (they are made from the reminder's facts); an office's order as written."""
    if reminder.trigger == Trigger.MONTHLY_REPORT:
        return _monthly_message(reminder.task)
    if reminder.trigger in (Trigger.MILESTONE_DUE, Trigger.TASK_DUE) or (
        reminder.trigger == Trigger.MANUAL and reminder.kind == ReminderKind.REMINDER
    ):
        return _message(
            reminder.task, reminder.milestone, reminder.due_point, reminder.issued_on, reminder.kind
        )
    return reminder.message


def _points(task: Task, today: date) -> list[tuple[Milestone | None, date, str, int]]:
    """(milestone or None, due date, kind, offset) for every point due today."""
    before = [-d for d in conf.remind_days_before()]
    after = list(conf.remind_days_after())
    supervise = list(conf.supervision_after())
    targets: list[tuple[Milestone | None, date]] = [
        (m, m.due_date) for m in task.milestones.all() if m.met_on is None
    ]
    targets.append((None, task.due_date))
    found = []
    for milestone, due in targets:
        offset = latest_point(due, today, before + after)
        if offset is not None:
            found.append((milestone, due, ReminderKind.REMINDER.value, offset))
        offset = latest_point(due, today, supervise)
        if offset is not None:
            found.append((milestone, due, ReminderKind.SUPERVISION.value, offset))
    return found


def _issue(
    task: Task,
    milestone: Milestone | None,
    due: date,
    kind: str,
    trigger: str,
    offset: int,
    today: date,
    message: str,
) -> Reminder | None:
    lookup = {
        "task": task,
        "milestone": milestone,
        "kind": kind,
        "trigger": trigger,
        "due_point": due,
        "offset_days": offset,
    }
    if Reminder.objects.filter(**lookup).exists():
        return None
    reply_by = (
        today + timedelta(days=conf.supervision_reply_days())
        if kind == ReminderKind.SUPERVISION
        else None
    )
    return create_unique(
        Reminder,
        **lookup,
        issued_on=today,
        to_unit=task.lead_unit,
        message=message,
        reply_by=reply_by,
        email_wanted=conf.email_enabled(),
    )


def _task_pass(task: Task, today: date) -> list[Reminder]:
    created = []
    for milestone, due, kind, offset in _points(task, today):
        trigger = Trigger.MILESTONE_DUE if milestone else Trigger.TASK_DUE
        r = _issue(
            task,
            milestone,
            due,
            kind,
            trigger,
            offset,
            today,
            _message(task, milestone, due, today, kind),
        )
        if r:
            created.append(r)
    report_day = conf.monthly_report_day()
    if report_day and today.day >= report_day:
        month_start = today.replace(day=1)
        reported = any(
            r.unit_id == task.lead_unit_id and r.report_date >= month_start
            for r in task.reports.all()
        )
        if not reported and task.start_date < month_start:
            msg = _monthly_message(task)
            r = _issue(
                task,
                None,
                month_start,
                ReminderKind.REMINDER,
                Trigger.MONTHLY_REPORT,
                0,
                today,
                msg,
            )
            if r:
                created.append(r)
    return created


def open_tasks(today: date) -> list[Task]:
    """Tasks that are running: started, not declared done, not closed."""
    return list(
        Task.objects.with_facts().filter(
            completed_on__isnull=True, closed_on__isnull=True, start_date__lte=today
        )
    )


def recipients(unit: OrgUnit, kind: str) -> dict[str, list[str]]:
    """The lead unit's reporters (and for a supervision order its leaders) with an address,
    by the language each reads (his own, else the site's)."""
    roles = [Role.REPORTER] + ([Role.LEADER] if kind == ReminderKind.SUPERVISION else [])
    people = (
        Membership.objects.active()
        .filter(unit=unit, role__in=roles)
        .exclude(user__email="")
        .values_list("user__email", "user__language")
    )
    found: dict[str, set[str]] = {}
    for email, language in people:
        found.setdefault(language or settings.LANGUAGE_CODE, set()).add(email)
    return {language: sorted(emails) for language, emails in sorted(found.items())}


def _mail(reminder: Reminder, to: dict[str, list[str]]) -> None:
    """One message per language, its subject and words in that language."""
    for language, emails in to.items():
        with translation.override(language):
            kind = ReminderKind(reminder.kind).label
            subject = f"[{kind}] {reminder.task.title}"[:200]
            send_mail(subject, wording(reminder), None, emails, fail_silently=False)


def send_pending(limit: int = 500) -> tuple[int, int]:
    """Send each reminder whose e-mail is still due, stamping it before the next (sent, failed)."""
    sent = failed = 0
    pending = Reminder.objects.filter(email_wanted=True, emailed_at__isnull=True).select_related(
        "task", "to_unit", "milestone"
    )
    for reminder in pending[:limit]:
        to = recipients(reminder.to_unit, reminder.kind)
        with transaction.atomic():
            locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
            if locked.emailed_at is not None:
                continue
            if to:
                try:
                    _mail(reminder, to)
                except OSError as exc:  # SMTP down: keep it pending for the next pass
                    log.warning("reminder %s: e-mail failed: %s", reminder.pk, exc)
                    failed += 1
                    continue
                sent += 1
            locked.emailed_at = timezone.now()
            locked.email_to = ", ".join(sorted(e for emails in to.values() for e in emails))
            locked.save()
    return sent, failed


def daily_pass(today: date) -> PassResult:
    """Issue what is due today for every open task, then send the e-mails still owed."""
    result = PassResult()
    with translation.override("zh-hans"):
        for task in open_tasks(today):
            with transaction.atomic():
                result.created.extend(_task_pass(task, today))
        if conf.email_enabled():
            result.emailed, result.email_failed = send_pending()
    return result


@transaction.atomic
def remind_now(task: Task, *, user: Actor, today: date | None = None) -> Reminder:
    """催办 by hand: the supervising office reminds the lead unit now, once a day at most.

    The message is the one the daily pass writes for the task's nearest unmet date; the
    reminder goes out by e-mail with the pass's second phase, like any other.
    """
    today = today or timezone.localdate()
    access.require_manage(user, task)
    _require_open(task, today)
    if Reminder.objects.filter(
        task=task, kind=ReminderKind.REMINDER, trigger=Trigger.MANUAL, issued_on=today
    ).exists():
        raise TaskConflict(_("the lead unit was already reminded today"), "task")
    milestone = task.milestones.filter(met_on__isnull=True).order_by("due_date", "seq").first()
    due = milestone.due_date if milestone else task.due_date
    return Reminder.objects.create(  # audited as the reminder's creation (AuditedModel)
        task=task,
        milestone=milestone,
        kind=ReminderKind.REMINDER,
        trigger=Trigger.MANUAL,
        due_point=due,
        offset_days=(today - due).days,
        issued_on=today,
        to_unit=task.lead_unit,
        message=_message(task, milestone, due, today, ReminderKind.REMINDER),
        issued_by=policy.person(user),
        email_wanted=conf.email_enabled(),
    )
