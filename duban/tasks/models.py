"""Key tasks and highlight work, their milestones, progress reports and reminders.

The status is never stored: `Task.assess(today)` computes it from the facts
(see duban.tasks.status). What is stored are facts with dates: when a
milestone was met, when the lead unit declared the task done, when the issuing
unit closed it off the ledger.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.orgs.models import Line, OrgUnit
from duban.tasks import conf
from duban.tasks.status import Assessment, MilestoneFacts, TaskFacts, assess, on_time


class TaskKind(models.TextChoices):
    KEY_TASK = "key_task", _("Key task from above")
    HIGHLIGHT = "highlight", _("Highlight work of a unit")
    DECIDED = "decided", _("Matter decided at a meeting")
    CAMPAIGN = "campaign", _("Campaign")


class Goal(AuditedModel):
    """A multi-year goal (三年三步走): goal → year step → task."""

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="goals", verbose_name=_("issuing unit")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    first_year = models.PositiveSmallIntegerField(_("first year"))
    years = models.PositiveSmallIntegerField(_("years"), default=3)

    class Meta:
        ordering = ["-first_year", "title"]
        verbose_name = _("multi-year goal")
        verbose_name_plural = _("multi-year goals")

    def __str__(self) -> str:
        return self.title

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class GoalStep(AuditedModel):
    """One year's step towards a goal; tasks hang under it."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="steps")
    year = models.PositiveSmallIntegerField(_("year"))
    aim = models.CharField(_("aim for the year"), max_length=300)

    class Meta:
        ordering = ["goal", "year"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "year"], name="tasks_goalstep_goal_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.goal.title} · {self.year}: {self.aim}"

    def audit_unit_id(self) -> int | None:
        return self.goal.unit_id


class TaskQuerySet(models.QuerySet["Task"]):
    def involving_units(self, units: models.QuerySet[OrgUnit]) -> TaskQuerySet:
        """Tasks where any of `units` is the issuer, the lead or a co-operating unit."""
        partner = TaskPartner.objects.filter(task=OuterRef("pk"), unit__in=units)
        return self.filter(Q(issuing_unit__in=units) | Q(lead_unit__in=units) | Exists(partner))

    def with_facts(self) -> TaskQuerySet:
        """Everything `assess()` reads, in a fixed number of queries."""
        return self.select_related("issuing_unit", "lead_unit", "goal_step__goal").prefetch_related(
            "milestones__reports", "reports", "partners__unit"
        )


def completed_via_choices() -> list[tuple[str, Any]]:
    """The values of `Task.completed_via` in words (kept off the field: no migration)."""
    return [
        ("report", _("declared by the lead unit")),
        ("indicator", _("the indicator reached its target")),
    ]


class Task(AuditedModel):
    kind = models.CharField(
        _("kind"), max_length=16, choices=TaskKind.choices, default=TaskKind.KEY_TASK
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    expected_result = models.TextField(_("expected result"), blank=True)
    issuing_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="issued_tasks",
        verbose_name=_("issuing unit"),
    )
    lead_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="led_tasks", verbose_name=_("lead unit")
    )
    responsible = models.CharField(_("responsible person"), max_length=100, blank=True)
    # The line of work (条线): its division follows the task in every territorial unit under
    # the division's parent. Taken from the linked indicator when unset.
    line = models.CharField(_("line"), max_length=20, choices=Line.choices, blank=True)
    start_date = models.DateField(_("start date"))
    due_date = models.DateField(_("due date"))
    tags = models.CharField(
        _("tags"), max_length=200, blank=True, help_text=_("Separated by commas.")
    )
    goal_step = models.ForeignKey(
        GoalStep,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("goal (year step)"),
    )
    # Link to an indicator by code only: the indicators app owns the values.
    indicator_code = models.CharField(_("indicator code"), max_length=64, blank=True)
    indicator_target = models.DecimalField(
        _("indicator target"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    indicator_higher_is_better = models.BooleanField(_("higher is better"), default=True)
    completed_on = models.DateField(_("declared done on"), null=True, blank=True)
    completed_via = models.CharField(_("done by"), max_length=16, blank=True)  # COMPLETED_VIA
    closed_on = models.DateField(_("closed off the ledger on"), null=True, blank=True)
    reopened_on = models.DateField(_("last reopened on"), null=True, blank=True)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("start_date")), name="tasks_task_due_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["issuing_unit", "due_date"], name="tasks_task_issuer_due_idx")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def completed_via_label(self) -> str:
        """How the task was declared done, in words ("" when it is not)."""
        return str(dict(completed_via_choices()).get(self.completed_via, ""))

    def audit_unit_id(self) -> int | None:
        return self.issuing_unit_id

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()]

    def partner_units(self) -> list[OrgUnit]:
        return [p.unit for p in self.partners.all()]

    def facts(self) -> TaskFacts:
        """The dated facts the status rules read (prefetch with `with_facts()` for lists)."""
        milestones = tuple(
            MilestoneFacts(
                seq=m.seq,
                due=m.due_date,
                met_on=m.met_on,
                report_dates=tuple(r.report_date for r in m.reports.all()),
            )
            for m in self.milestones.all()
        )
        reports = tuple(
            (r.report_date, r.percent) for r in self.reports.all() if r.unit_id == self.lead_unit_id
        )
        return TaskFacts(
            start=self.start_date,
            due=self.due_date,
            milestones=milestones,
            reports=reports,
            completed_on=self.completed_on,
            closed_on=self.closed_on,
            issued_on=timezone.localdate(self.created_at) if self.created_at else None,
        )

    def assess(self, today: date) -> Assessment:
        return assess(self.facts(), today, conf.thresholds())

    def status(self, today: date) -> Any:
        """The computed status (duban.tasks.status.Status) on `today`."""
        return self.assess(today).status

    def on_time(self, today: date) -> tuple[int, int]:
        """(milestones met on time, milestones judged so far)."""
        return on_time(self.facts().milestones, today)

    def last_report(self) -> ProgressReport | None:
        reports = [r for r in self.reports.all() if r.unit_id == self.lead_unit_id]
        return max(reports, key=lambda r: (r.report_date, r.pk)) if reports else None


class TaskPartner(AuditedModel):
    """A co-operating unit (配合单位): it writes its own part of the progress."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="partners")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="partner_tasks")

    class Meta:
        ordering = ["unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "unit"], name="tasks_taskpartner_task_unit_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.unit.code}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class Milestone(AuditedModel):
    """A point on the timetable and roadmap (时间表、路线图)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    seq = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("milestone"), max_length=200)
    due_date = models.DateField(_("due date"))
    deliverable = models.CharField(_("deliverable"), max_length=300, blank=True)
    owner = models.CharField(_("owner"), max_length=100, blank=True)
    met_on = models.DateField(_("met on"), null=True, blank=True)

    class Meta:
        ordering = ["task", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["task", "seq"], name="tasks_milestone_task_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.title}"

    def audit_unit_id(self) -> int | None:
        return self.task.issuing_unit_id

    @property
    def met_on_time(self) -> bool | None:
        return None if self.met_on is None else self.met_on <= self.due_date


class ProgressReport(AuditedModel):
    """What a unit reports on a task: monthly, and when a milestone falls due."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    milestone = models.ForeignKey(
        Milestone,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("for milestone"),
    )
    report_date = models.DateField(_("report date"))
    text = models.TextField(_("progress"))
    percent = models.PositiveSmallIntegerField(
        _("percent done"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    problems = models.TextField(_("problems"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-report_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__lte=100),
                name="tasks_progressreport_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.unit_id} {self.report_date}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id

    @property
    def is_lead(self) -> bool:
        return self.unit_id == self.task.lead_unit_id


class Evidence(AuditedModel):
    """A file attached to a report. The storage path is a plain string (not a FileField)
    so the audit snapshot can hold it; the SHA-256 lets anyone check the file later."""

    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="evidence")
    path = models.CharField(max_length=300)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name

    def audit_unit_id(self) -> int | None:
        return self.report.unit_id


class ReminderKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder (催办)")
    SUPERVISION = "supervision", _("Supervision order (督办)")


class Trigger(models.TextChoices):
    MILESTONE_DUE = "milestone_due", _("Milestone due")
    TASK_DUE = "task_due", _("Task due")
    MONTHLY_REPORT = "monthly_report", _("Monthly report missing")
    MANUAL = "manual", _("Issued by the office")


class Reminder(AuditedModel):
    """A reminder or a supervision order, issued by the daily pass or by the office.

    Automatic ones are unique per (task or milestone, kind, trigger, due date,
    days from it):
    the database refuses a second one, which makes the daily pass idempotent.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ReminderKind.choices)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    due_point = models.DateField(_("due point"))
    offset_days = models.SmallIntegerField(_("days from due date"), default=0)
    issued_on = models.DateField(_("issued on"))
    to_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("to unit")
    )
    message = models.TextField(_("message"))
    reply_by = models.DateField(_("reply by"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_on = models.DateField(_("replied on"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email_wanted = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_to = models.TextField(blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "trigger", "due_point", "offset_days"],
                condition=Q(milestone__isnull=True) & ~Q(trigger="manual"),
                name="tasks_reminder_task_point_unique",
            ),
            models.UniqueConstraint(
                fields=["milestone", "kind", "trigger", "due_point", "offset_days"],
                condition=Q(milestone__isnull=False) & ~Q(trigger="manual"),
                name="tasks_reminder_milestone_point_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.task_id} {self.issued_on}"

    def audit_unit_id(self) -> int | None:
        return self.to_unit_id

    def reply_overdue(self, today: date) -> bool:
        return self.reply_by is not None and self.replied_on is None and self.reply_by < today
