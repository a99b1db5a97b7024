"""Meetings (调度会, 一月一研究, 一季一点评), their decided matters, and the recurring cadence.

A decided matter (议定事项) becomes a supervised task in one step; the cadence
records which of a unit's recurring mechanisms were held in each period.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.orgs.models import OrgUnit


class MeetingKind(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch meeting (调度会)")
    MONTHLY_STUDY = "monthly_study", _("Monthly study (一月一研究)")
    QUARTERLY_REVIEW = "quarterly_review", _("Quarterly review (一季一点评)")
    CONFERENCE = "conference", _("Progress conference (推进会)")


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def involving_units(self, units: models.QuerySet[OrgUnit]) -> MeetingQuerySet:
        """Meetings convened by, or joined by, any of `units`."""
        joined = MeetingUnit.objects.filter(meeting=OuterRef("pk"), unit__in=units)
        return self.filter(Q(unit__in=units) | Exists(joined))


class Meeting(AuditedModel):
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("convening unit")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    main_venue = models.CharField(_("main venue"), max_length=200, blank=True)
    branch_venues = models.TextField(_("branch venues"), blank=True, help_text=_("One per line."))
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [models.Index(fields=["unit", "held_on"], name="meetings_meeting_unit_date_idx")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id

    @property
    def branch_venue_list(self) -> list[str]:
        return [v.strip() for v in self.branch_venues.splitlines() if v.strip()]

    def previous(self) -> Meeting | None:
        """The convening unit's meeting before this one: the agenda pack counts from it."""
        return (
            Meeting.objects.filter(unit=self.unit)
            .filter(Q(held_on__lt=self.held_on) | Q(held_on=self.held_on, pk__lt=self.pk))
            .order_by("-held_on", "-pk")
            .first()
        )


class MeetingUnit(AuditedModel):
    """A participating unit (at the main or a branch venue)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "unit"], name="meetings_meetingunit_meeting_unit_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.unit.code}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class DecidedMatter(AuditedModel):
    """A matter decided at a meeting (议定事项); `task` is set once it is supervised."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    seq = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("decision"))
    lead_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead unit")
    )
    due_date = models.DateField(_("due date"))
    task = models.OneToOneField(
        "tasks.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="decided_at"
    )

    class Meta:
        ordering = ["meeting", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "seq"], name="meetings_decidedmatter_meeting_seq_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}.{self.seq} {self.text[:60]}"

    def audit_unit_id(self) -> int | None:
        return self.meeting.unit_id


class Mechanism(models.TextChoices):
    MONTHLY_STUDY = "monthly_study", _("Monthly study (一月一研究)")
    MONTHLY_BULLETIN = "monthly_bulletin", _("Monthly bulletin (一月一通报)")
    QUARTERLY_REVIEW = "quarterly_review", _("Quarterly review (一季一点评)")


class Cadence(AuditedModel):
    """A recurring mechanism a unit has committed to, from a given month."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="cadences")
    mechanism = models.CharField(_("mechanism"), max_length=20, choices=Mechanism.choices)
    since = models.DateField(_("since"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["unit__path", "mechanism"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "mechanism"], name="meetings_cadence_unit_mechanism_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.code} {self.mechanism}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class CadenceRecord(AuditedModel):
    """A mechanism held in a period outside a meeting here (e.g. the bulletin's document number)."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    mechanism = models.CharField(_("mechanism"), max_length=20, choices=Mechanism.choices)
    period = models.CharField(_("period"), max_length=8)  # DHIS2 id: 201707 or 2017Q3
    held_on = models.DateField(_("held on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        ordering = ["unit__path", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "mechanism", "period"],
                name="meetings_cadencerecord_unit_mech_period_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.code} {self.mechanism} {self.period}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class PackFigures(AuditedModel):
    """The agenda pack's figures as they stood when the meeting's day came: every figure of
    the convening unit's subtree for the pack's months, with its state, kept once (the first
    reading of the pack on or after the meeting's day) so a figure corrected after the
    meeting does not change the pack. Each reader still sees only what he may read: the
    rows are filtered by the policy when shown, as the live figures are."""

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"rows"})  # the figures are audited

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="pack_figures", verbose_name=_("meeting")
    )
    months = models.JSONField(_("months"), default=list)
    # [unit id, indicator id, period, value as text, state], one per figure with a value.
    rows = models.JSONField(_("figures"), default=list)
    taken_at = models.DateTimeField(_("figures as of"))

    class Meta:
        verbose_name = _("meeting pack figures")
        verbose_name_plural = _("meeting pack figures")

    def __str__(self) -> str:
        return f"{self.meeting_id} @ {self.taken_at:%Y-%m-%d %H:%M}"

    def audit_unit_id(self) -> int | None:
        return self.meeting.unit_id
