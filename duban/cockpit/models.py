"""The dispatch-meeting screen as it was shown: frozen once, shown again from the store."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.meetings.models import Meeting


class ScreenPack(AuditedModel):
    """A meeting's screen (`cockpit.screen.build_screen`), kept as JSON of names and shown
    figures when the meeting is held, so what was shown can be shown again: later changes
    of figures, ranks or tasks do not reach it."""

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="screen_pack", verbose_name=_("meeting")
    )
    pack = models.JSONField(_("screen content"))
    as_of = models.DateField(_("figures as of"))
    frozen_at = models.DateTimeField(_("frozen at"), auto_now_add=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("frozen by"),
    )

    class Meta:
        verbose_name = _("meeting screen")
        verbose_name_plural = _("meeting screens")

    def __str__(self) -> str:
        return f"{self.meeting_id} @ {self.as_of}"

    def audit_unit_id(self) -> int | None:
        return self.meeting.unit_id
