"""Meeting changes: convene, keep minutes, record a decided matter and supervise it.

The convening unit's evaluation office (MANAGE_EVALUATION over the unit) runs
meetings; everyone with VIEW_DATA over the convening or a participating unit reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from duban.audit.services import record
from duban.errors import ConflictError, DubanError, Problem, clean_problems
from duban.indicators.models import PERIOD_TYPE_LABELS
from duban.meetings.models import (
    Cadence,
    CadenceRecord,
    DecidedMatter,
    Mechanism,
    Meeting,
    MeetingQuerySet,
    MeetingUnit,
)
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import PeriodType, parse_period
from duban.tasks import services as task_services
from duban.tasks.models import Task, TaskKind

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

MEETING_FIELDS = ("kind", "title", "held_on", "main_venue", "branch_venues", "agenda", "minutes")


class MeetingError(DubanError):
    """A meeting change that cannot be made; nothing was changed."""


def refuse_nulls(fields: Mapping[str, object]) -> None:
    """Refuse every field given as None, by name: nothing changes.

    Null is not a way to clear a field: an empty text or list already clears one, and the
    required fields (kind, title, date) have nothing to clear to. Left to the database, a
    null text became a NOT NULL violation: a 500.
    """
    nulls = sorted(name for name, value in fields.items() if value is None)
    if nulls:
        message = _(
            "null is not accepted: leave the field out to keep it, or send an empty text or "
            "list to clear it"
        )
        raise MeetingError([Problem(name, message) for name in nulls])


def visible_meetings(user: Any) -> MeetingQuerySet:
    return Meeting.objects.involving_units(policy.visible_units(user, Action.VIEW_DATA))


def can_view(user: Any, meeting: Meeting) -> bool:
    units = [meeting.unit, *(p.unit for p in meeting.participants.select_related("unit"))]
    return any(policy.can(user, Action.VIEW_DATA, u) for u in units)


def can_manage(user: Actor, meeting: Meeting) -> bool:
    return policy.can(user, Action.MANAGE_EVALUATION, meeting.unit)


def meeting_or_403(user: Any, pk: int) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.select_related("unit"), pk=pk)
    if not can_view(user, meeting):
        raise PermissionDenied(f"meeting {pk} is outside your units")
    return meeting


def _validate(obj: Any, exclude: list[str]) -> None:
    problems = clean_problems(obj, exclude=exclude, validate_constraints=False)
    if problems:
        raise MeetingError(problems)


def _set_participants(meeting: Meeting, units: Sequence[OrgUnit]) -> None:
    outside = [u.code for u in units if not u.is_within(meeting.unit)]
    if outside:
        raise MeetingError(
            _("not within the convening unit: %(codes)s") % {"codes": ", ".join(outside)},
            "participants",
        )
    wanted = {u.pk: u for u in units}
    for row in list(meeting.participants.all()):
        if row.unit_id not in wanted:
            row.delete()
    have = set(meeting.participants.values_list("unit_id", flat=True))
    for pk, unit in wanted.items():
        if pk not in have:
            MeetingUnit.objects.create(meeting=meeting, unit=unit)


@transaction.atomic
def create_meeting(
    unit: OrgUnit, *, user: Actor, participants: Sequence[OrgUnit] = (), **fields: Any
) -> Meeting:
    policy.require(user, Action.MANAGE_EVALUATION, unit)
    unknown = sorted(set(fields) - set(MEETING_FIELDS))
    if unknown:
        raise MeetingError([Problem(f, _("unknown field")) for f in unknown])
    meeting = Meeting(unit=unit, created_by=policy.person(user), **fields)
    _validate(meeting, exclude=["unit", "created_by"])
    meeting.save()
    _set_participants(meeting, participants)
    return meeting


@transaction.atomic
def update_meeting(
    meeting: Meeting,
    *,
    user: Actor,
    participants: Sequence[OrgUnit] | None = None,
    **fields: Any,
) -> Meeting:
    """Edit the meeting or keep its minutes."""
    if not can_manage(user, meeting):
        raise PermissionDenied("only the convening unit's office edits a meeting")
    unknown = sorted(set(fields) - set(MEETING_FIELDS))
    if unknown:
        raise MeetingError([Problem(f, _("unknown field")) for f in unknown])
    refuse_nulls(fields)
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate(locked, exclude=["unit", "created_by"])
    locked.save()
    if participants is not None:
        _set_participants(locked, participants)
    return locked


@transaction.atomic
def decide(
    meeting: Meeting,
    *,
    user: Actor,
    text: str,
    lead_unit: OrgUnit,
    due_date: date,
    supervise: bool = True,
    partners: Sequence[OrgUnit] = (),
    responsible: str = "",
    today: date | None = None,
) -> DecidedMatter:
    """Record a decided matter (议定事项) and, in the same step, make it a supervised task."""
    if not can_manage(user, meeting):
        raise PermissionDenied("only the convening unit's office records decisions")
    text = (text or "").strip()
    if not text:
        raise MeetingError(_("write the decision"), "text")
    if due_date < meeting.held_on:
        raise MeetingError(_("the due date is before the meeting"), "due_date")
    if not lead_unit.is_within(meeting.unit):
        raise MeetingError(_("the lead unit is not within the convening unit"), "lead_unit")
    last = meeting.decisions.order_by("-seq").values_list("seq", flat=True).first()
    matter = DecidedMatter.objects.create(
        meeting=meeting, seq=(last or 0) + 1, text=text, lead_unit=lead_unit, due_date=due_date
    )
    if supervise:
        supervise_matter(matter, user=user, partners=partners, responsible=responsible)
    return matter


@transaction.atomic
def supervise_matter(
    matter: DecidedMatter,
    *,
    user: Actor,
    partners: Sequence[OrgUnit] = (),
    responsible: str = "",
) -> Task:
    """Turn a decided matter into a supervised task issued by the convening unit."""
    meeting = matter.meeting
    if not can_manage(user, meeting):
        raise PermissionDenied("only the convening unit's office supervises decisions")
    locked = DecidedMatter.objects.select_for_update().get(pk=matter.pk)
    if locked.task_id is not None:
        raise ConflictError(
            _("this matter is already supervised as task %(id)s") % {"id": locked.task_id}, "task"
        )
    first_line = locked.text.splitlines()[0]
    task = task_services.create_task(
        user=user,
        issuing_unit=meeting.unit,
        lead_unit=locked.lead_unit,
        partners=partners,
        kind=TaskKind.DECIDED,
        title=first_line[:200],
        description=_("Decided at %(meeting)s (item %(seq)s):\n%(text)s")
        % {"meeting": meeting, "seq": locked.seq, "text": locked.text},
        responsible=responsible,
        start_date=meeting.held_on,
        due_date=locked.due_date,
        tags=_("decided matter"),
    )
    locked.task = task
    locked.save()
    record("meetings.decidedmatter.supervised", obj=locked, after={"task": task.pk})
    matter.task = task
    return task


@transaction.atomic
def set_cadence(
    unit: OrgUnit, mechanism: str, *, user: Actor, since: date, active: bool = True
) -> Cadence:
    policy.require(user, Action.MANAGE_EVALUATION, unit)
    if mechanism not in Mechanism.values:
        raise MeetingError(_("unknown mechanism"), "mechanism")
    cadence = Cadence.objects.filter(unit=unit, mechanism=mechanism).first()
    if cadence is None:
        return Cadence.objects.create(unit=unit, mechanism=mechanism, since=since, active=active)
    cadence.since, cadence.active = since, active
    cadence.save()
    return cadence


PERIOD_TYPE = {
    Mechanism.MONTHLY_STUDY: PeriodType.MONTHLY,
    Mechanism.MONTHLY_BULLETIN: PeriodType.MONTHLY,
    Mechanism.QUARTERLY_REVIEW: PeriodType.QUARTERLY,
}


@transaction.atomic
def record_held(
    unit: OrgUnit,
    mechanism: str,
    period: str,
    *,
    user: Actor,
    held_on: date,
    reference: str = "",
) -> CadenceRecord:
    """Note that a mechanism was held for a period outside a meeting here (a bulletin's number)."""
    policy.require(user, Action.MANAGE_EVALUATION, unit)
    if mechanism not in Mechanism.values:
        raise MeetingError(_("unknown mechanism"), "mechanism")
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise MeetingError(str(exc), "period") from None
    if p.type != PERIOD_TYPE[Mechanism(mechanism)]:
        raise MeetingError(
            _("this mechanism is recorded per period of type %(t)s")
            % {"t": PERIOD_TYPE_LABELS[PeriodType(PERIOD_TYPE[Mechanism(mechanism)])]},
            "period",
        )
    if CadenceRecord.objects.filter(unit=unit, mechanism=mechanism, period=p.id).exists():
        raise ConflictError(_("already recorded for %(p)s") % {"p": p.id}, "period")
    return CadenceRecord.objects.create(
        unit=unit,
        mechanism=mechanism,
        period=p.id,
        held_on=held_on,
        reference=reference.strip()[:100],
    )
