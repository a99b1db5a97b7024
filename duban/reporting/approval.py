"""The approver's and the reporter's comforts around the state transitions: who below must
report before a form is submitted, batch approval, 催报 (a reminder to the units of an
overview that have not reported), and what would reopen a returned form whose period closed.

Plain functions that views, API routes and commands share; each change goes through
`reporting.transitions` or writes one named audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from duban.audit.services import record
from duban.core.acting import attributed
from duban.indicators.models import DataSet
from duban.orgs import policy
from duban.orgs.models import Membership, OrgUnit, Role
from duban.orgs.policy import Action
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import ReportingPeriod, State, Submission
from duban.reporting.transitions import transition

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

REPORTED = frozenset({State.SUBMITTED, State.APPROVED, State.LOCKED})


def waiting_below(data_set: DataSet, unit: OrgUnit, period: str) -> list[OrgUnit]:
    """The reporting units directly below `unit` that have not submitted this period's form:
    while one is left, `unit` cannot submit (the submit service and the form page ask this)."""
    children = [c for c in unit.children.filter(is_active=True) if data_set.reported_by(c)]
    done = set(
        Submission.objects.filter(
            data_set=data_set, period=period, unit__in=children, state__in=REPORTED
        ).values_list("unit_id", flat=True)
    )
    return [c for c in children if c.pk not in done]


def waiting_said(units: Sequence[OrgUnit]) -> str:
    return _("units below must report first: %(units)s") % {
        "units": "、".join(u.name for u in units)
    }


@attributed
@transaction.atomic
def approve_many(subs: Sequence[Submission], *, user: Actor, reason: str = "") -> int:
    """Approve every form, with one reason, in one transaction: all or nothing. A form that
    cannot be approved refuses the whole batch, named (unit and period) in the refusal."""
    if not subs:
        raise ReportingError(_("choose at least one form to approve"), "forms")
    for sub in subs:
        try:
            transition(sub, "approve", user=user, reason=reason)
        except ReportingError as exc:
            message = "; ".join(p.message for p in exc.problems) or str(exc)
            raise type(exc)(
                _("%(unit)s · %(period)s cannot be approved: %(why)s; nothing was approved")
                % {"unit": sub.unit.name, "period": sub.period, "why": message},
                "forms",
            ) from exc
    return len(subs)


@dataclass(frozen=True)
class Reminded:
    units: list[OrgUnit]
    emailed: int


def not_reported(data_set: DataSet, under: OrgUnit, period: str) -> list[OrgUnit]:
    """The reporting units below `under` (any depth) whose form is not submitted."""
    units = [u for u in data_set.reporting_units(under) if u.pk != under.pk]
    done = set(
        Submission.objects.filter(
            data_set=data_set, period=period, unit__in=units, state__in=REPORTED
        ).values_list("unit_id", flat=True)
    )
    return [u for u in units if u.pk not in done]


@attributed
def remind(data_set: DataSet, under: OrgUnit, period: str, *, user: Actor) -> Reminded:
    """催报: remind every unit below `under` that has not reported `period` and that `user`
    approves, recorded as ONE `reporting.reminders.sent` entry; its reporters with an address are
    told after commit, `emailed` of them."""
    if not ReportingPeriod.objects.filter(data_set=data_set, period=period).exists():
        raise ReportingConflict(_("this period has not been opened"), "period")
    waiting = not_reported(data_set, under, period)
    if not waiting:
        raise ReportingConflict(_("every unit below has reported"), "period")
    # The approver reminds the units he approves; an office or a leader without the right, none.
    units = [u for u in waiting if policy.can(user, Action.APPROVE_DATA, u)]
    if not units:
        policy.require(user, Action.APPROVE_DATA, waiting[0])
    # Each unit's reporters are told by the to-do hub's channels once this commits, each in
    # his own language (duban.todo.signals.reminders_sent reads the entry below).
    emailed = (
        Membership.objects.active()
        .filter(unit__in=units, role=Role.REPORTER, user__is_active=True)
        .exclude(user__email="")
        .values("user")
        .distinct()
        .count()
    )
    record(
        "reporting.reminders.sent",
        obj=data_set,
        unit_id=under.pk,
        after={"period": period, "under": under.code, "units": [u.code for u in units]},
    )
    return Reminded(units, emailed)


def reopen_hint(sub: Submission | None, entry: str, excepted: bool) -> str | None:
    """A returned form whose period closed: what would reopen it (a lock exception)."""
    if sub is None or sub.state != State.RETURNED or excepted or entry not in ("expired", "closed"):
        return None
    return _(
        "Entry for this period has closed: to correct this returned form, the evaluation "
        "office grants %(unit)s a lock exception for %(period)s on the data set's page."
    ) % {"unit": sub.unit.name, "period": sub.period}


__all__ = [
    "Reminded",
    "approve_many",
    "not_reported",
    "remind",
    "reopen_hint",
    "waiting_below",
    "waiting_said",
]
