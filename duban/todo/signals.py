"""The events people are told of, read off the audit trail: every return, submission and
supervision order writes one entry there, in the transaction that made it, so listening to
the entries' creation reaches them without touching the apps that make them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from duban.audit.models import AuditEntry
from duban.orgs import policy
from duban.orgs.models import Membership, Role
from duban.reporting.models import Submission
from duban.tasks.models import Reminder, ReminderKind
from duban.text import period_in_words
from duban.todo import notify

log = logging.getLogger(__name__)


def _people(units: Any, roles: list[Role]) -> list[Any]:
    found = (
        Membership.objects.active().filter(unit__in=units, role__in=roles).select_related("user")
    )
    return list({m.user_id: m.user for m in found}.values())


def _form_path(sub: Submission) -> str:
    return reverse("reporting:form", args=[sub.data_set.code, sub.unit.code, sub.period])


def _form_words(sub: Submission) -> dict[str, str]:
    return {"unit": sub.unit.name, "form": sub.data_set.name, "period": period_in_words(sub.period)}


def form_returned(entry: AuditEntry) -> None:
    sub = Submission.objects.select_related("data_set", "unit").get(pk=entry.object_id)
    reason = sub.return_reason or entry.reason

    def compose() -> tuple[str, str]:
        return (
            _("Returned: %(form)s of %(unit)s, %(period)s") % _form_words(sub),
            _("The form was returned for correction. Reason: %(reason)s") % {"reason": reason},
        )

    event = notify.Event("form_returned", compose, _form_path(sub))
    notify.send(event, _people([sub.unit], [Role.REPORTER]))


def form_submitted(entry: AuditEntry) -> None:
    """To the approvers of the nearest unit above that has any (they check it first)."""
    sub = Submission.objects.select_related("data_set", "unit").get(pk=entry.object_id)
    above = policy.ancestor_paths(sub.unit.path)
    approvers = (
        Membership.objects.active()
        .filter(role=Role.APPROVER, unit__path__in=above)
        .select_related("user", "unit")
    )
    deepest = max((m.unit.depth for m in approvers), default=None)
    people = {m.user_id: m.user for m in approvers if m.unit.depth == deepest}

    def compose() -> tuple[str, str]:
        return (
            _("Waiting for your approval: %(form)s of %(unit)s, %(period)s") % _form_words(sub),
            _("The form was submitted and waits for your approval."),
        )

    event = notify.Event("form_submitted", compose, _form_path(sub))
    notify.send(event, list(people.values()))


def supervision_issued(entry: AuditEntry) -> None:
    """To the lead unit's office and leaders. Its reporters and leaders are mailed by the
    tasks' daily pass when the order wants e-mail (`email_wanted`): not the leaders twice.
    The order's message is a person's words, sent as written."""
    order = Reminder.objects.select_related("task", "to_unit").get(pk=entry.object_id)
    if order.kind != ReminderKind.SUPERVISION:
        return
    roles = [Role.OFFICE] if order.email_wanted else [Role.OFFICE, Role.LEADER]

    def compose() -> tuple[str, str]:
        return (
            _("Supervision order: %(task)s") % {"task": order.task.title},
            _("%(message)s\n\nReply by %(day)s.")
            % {"message": order.message, "day": order.reply_by or ""},
        )

    event = notify.Event("supervision_issued", compose, reverse("tasks:inbox"))
    notify.send(event, _people([order.to_unit], roles))


def reminders_sent(entry: AuditEntry) -> None:
    """催报: each unit reminded tells its reporters, each in his language, on the form."""
    from duban.indicators.models import DataSet
    from duban.orgs.models import OrgUnit

    data_set = DataSet.objects.get(pk=entry.object_id)
    after = entry.after or {}
    period = after["period"]
    under = OrgUnit.objects.get(code=after["under"])
    for unit in OrgUnit.objects.filter(code__in=after["units"]).order_by("path"):

        def compose(unit: OrgUnit = unit) -> tuple[str, str]:
            return (
                _("Please report %(data_set)s for %(period)s")
                % {"data_set": data_set.name, "period": period_in_words(period)},
                _("%(from)s reminds %(unit)s to fill in and submit the form.")
                % {"from": under.name, "unit": unit.name},
            )

        path = reverse("reporting:form", args=[data_set.code, unit.code, period])
        notify.send(
            notify.Event("reporting_reminder", compose, path), _people([unit], [Role.REPORTER])
        )


EVENTS: dict[str, Callable[[AuditEntry], None]] = {
    "reporting.reminders.sent": reminders_sent,
    "reporting.submission.returned": form_returned,
    "reporting.submission.submitted": form_submitted,
    "tasks.reminder.supervision_issued": supervision_issued,
}


@receiver(post_save, sender=AuditEntry, dispatch_uid="duban.todo.notify")
def on_entry(sender: type[AuditEntry], instance: AuditEntry, created: bool, **kwargs: Any) -> None:
    handler = EVENTS.get(instance.action)
    if not created or handler is None:
        return
    try:
        with translation.override(settings.LANGUAGE_CODE):
            handler(instance)
    except Exception:  # telling people never breaks the work that was done
        log.exception("notify: %s %s", instance.action, instance.object_id)
