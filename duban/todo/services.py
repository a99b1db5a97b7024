"""The user's to-do (待办): what waits for him across the apps, each item one click from where
it is done.

Every list is asked of the policy the way the app's own pages ask it (the units where he
enters, approves, manages or reads); one query per kind, never one per unit or per item.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.bulletins.access import visible_bulletins
from duban.bulletins.models import BulletinState, Reading
from duban.evaluation.models import Objection, ObjectionState
from duban.indicators.models import DataSet, DataSetMember
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.reporting.models import ReportingPeriod, State, Submission
from duban.tasks.models import Milestone, Reminder, ReminderKind
from duban.text import period_in_words

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.orgs.policy import Actor

MILESTONE_WINDOW = timedelta(days=7)  # milestones due within a week, or overdue, are listed


class Kind(StrEnum):
    FILL = "fill"
    RETURNED = "returned"
    APPROVE = "approve"
    RULE = "rule"
    ANSWER = "answer"
    MILESTONE = "milestone"
    READ = "read"


KIND_NAMES = {
    Kind.FILL: gettext_lazy("Forms to fill in"),
    Kind.RETURNED: gettext_lazy("Forms returned to you"),
    Kind.APPROVE: gettext_lazy("Forms waiting for your approval"),
    Kind.RULE: gettext_lazy("Objections waiting for your ruling"),
    Kind.ANSWER: gettext_lazy("Supervision orders and reminders to answer"),
    Kind.MILESTONE: gettext_lazy("Milestones due"),
    Kind.READ: gettext_lazy("Bulletins to read"),
}


@dataclass(frozen=True)
class Item:
    """One thing to do: its kind, what it is in words, the unit it is for, when it is due
    (None when it has no date), whether that day has passed, and where it is done."""

    kind: Kind
    title: str
    unit_name: str
    due: date | None
    overdue: bool
    url: str

    @property
    def kind_name(self) -> str:
        return str(KIND_NAMES[self.kind])


@dataclass(frozen=True)
class Group:
    kind: Kind
    name: str
    items: list[Item]


def items(user: Actor | AnonymousUser, today: date) -> list[Item]:
    """Everything waiting for the user on `today`, kind by kind (the order of `Kind`)."""
    if not getattr(user, "is_authenticated", False) or policy.is_system(user):
        return []
    found: list[Item] = []
    enter_units = list(policy.visible_units(user, Action.ENTER_DATA).filter(is_active=True))
    found += forms_to_fill(user, enter_units, today)
    found += returned_forms(enter_units, today)
    found += forms_to_approve(user, today)
    found += objections_to_rule(user, today)
    found += orders_to_answer(enter_units, today)
    found += milestones_due(user, today)
    found += bulletins_to_read(user)
    return found


def grouped(found: list[Item]) -> list[Group]:
    by_kind: dict[Kind, list[Item]] = defaultdict(list)
    for item in found:
        by_kind[item.kind].append(item)
    return [Group(k, str(KIND_NAMES[k]), by_kind[k]) for k in Kind if by_kind[k]]


def _form_url(ds_code: str, unit_code: str, period: str) -> str:
    return reverse("reporting:form", args=[ds_code, unit_code, period])


def _form_title(ds: DataSet, period: str) -> str:
    return _("%(form)s, %(period)s") % {"form": ds.name, "period": period_in_words(period)}


def forms_to_fill(user: Any, units: list[OrgUnit], today: date) -> list[Item]:
    """Open periods of the data sets the user's units report, whose form is not yet sent
    (draft or never started; a returned form is listed as returned)."""
    if not units:
        return []
    open_periods = list(
        ReportingPeriod.objects.visible_to(user)
        .filter(is_closed=False, opens_on__lte=today, data_set__is_active=True)
        .filter(Q(closes_on__isnull=True) | Q(closes_on__gte=today))
        .select_related("data_set", "data_set__owner")
        .order_by("deadline", "data_set__code")
    )
    if not open_periods:
        return []
    ds_ids = {rp.data_set_id for rp in open_periods}
    members: dict[int, list[Any]] = defaultdict(list)
    for m in DataSetMember.objects.filter(data_set_id__in=ds_ids).select_related(
        "indicator", "indicator__issuer"
    ):
        members[m.data_set_id].append(m.indicator)
    sent = set(
        Submission.objects.filter(data_set_id__in=ds_ids, unit__in=units)
        .exclude(state=State.DRAFT)
        .values_list("data_set_id", "unit_id", "period")
    )
    found = []
    for rp in open_periods:
        for unit in units:
            if (rp.data_set_id, unit.pk, rp.period) in sent:
                continue
            if not any(i.reported_by(unit) for i in members[rp.data_set_id]):
                continue
            found.append(
                Item(
                    Kind.FILL,
                    _form_title(rp.data_set, rp.period),
                    unit.name,
                    rp.deadline,
                    rp.deadline < today,
                    _form_url(rp.data_set.code, unit.code, rp.period),
                )
            )
    return found


def returned_forms(units: list[OrgUnit], today: date) -> list[Item]:
    """Forms returned for correction to the units where the user reports, with their
    period's deadline (read in the same query)."""
    if not units:
        return []
    deadline = ReportingPeriod.objects.filter(
        data_set=OuterRef("data_set"), period=OuterRef("period")
    ).values("deadline")[:1]
    subs = (
        Submission.objects.filter(unit__in=units, state=State.RETURNED)
        .annotate(deadline=Subquery(deadline))
        .select_related("data_set", "unit")
        .order_by("period", "unit__path")
    )
    return [
        Item(
            Kind.RETURNED,
            _form_title(s.data_set, s.period),
            s.unit.name,
            s.deadline,
            False,
            _form_url(s.data_set.code, s.unit.code, s.period),
        )
        for s in subs
    ]


def forms_to_approve(user: Any, today: date) -> list[Item]:
    subs = list(
        Submission.objects.filter(
            state=State.SUBMITTED, unit__in=policy.visible_units(user, Action.APPROVE_DATA)
        )
        .select_related("data_set", "unit")
        .order_by("period", "unit__path")[:200]
    )
    return [
        Item(
            Kind.APPROVE,
            _form_title(s.data_set, s.period),
            s.unit.name,
            None,
            False,
            _form_url(s.data_set.code, s.unit.code, s.period),
        )
        for s in subs
    ]


def objections_to_rule(user: Any, today: date) -> list[Item]:
    """Open objections to the results of schemes the user's office issued."""
    found = (
        Objection.objects.filter(
            state=ObjectionState.OPEN,
            publication__scheme__issuer__in=policy.visible_units(user, Action.MANAGE_EVALUATION),
        )
        .select_related("unit", "publication", "publication__scheme")
        .order_by("lodged_at", "id")
    )
    return [
        Item(
            Kind.RULE,
            _("Objection to %(scheme)s, %(period)s")
            % {
                "scheme": o.publication.scheme.name,
                "period": period_in_words(o.publication.period),
            },
            o.unit.name,
            None,
            False,
            reverse("evaluation:publication", args=[o.publication_id]),
        )
        for o in found
    ]


def orders_to_answer(units: list[OrgUnit], today: date) -> list[Item]:
    """Supervision orders not yet answered, sent to the units where the user reports (he
    answers them); reminders only while they ask for a reply by a day."""
    if not units:
        return []
    found = (
        Reminder.objects.filter(to_unit__in=units, replied_on__isnull=True)
        .filter(Q(kind=ReminderKind.SUPERVISION) | Q(reply_by__isnull=False))
        .select_related("task", "to_unit")
        .order_by("reply_by", "id")
    )
    return [
        Item(
            Kind.ANSWER,
            _("%(kind)s: %(task)s") % {"kind": r.get_kind_display(), "task": r.task.title},
            r.to_unit.name,
            r.reply_by,
            r.reply_by is not None and r.reply_by < today,
            reverse("tasks:reply", args=[r.pk]),
        )
        for r in found
    ]


def milestones_due(user: Any, today: date) -> list[Item]:
    """Milestones not met, due within a week or overdue, of open tasks led by a unit where the
    user holds a business role."""
    paths = {p for role, p in policy.grants(user) if role in policy.BUSINESS_ROLES}
    if not paths:
        return []
    found = (
        Milestone.objects.filter(
            met_on__isnull=True,
            due_date__lte=today + MILESTONE_WINDOW,
            task__closed_on__isnull=True,
            task__lead_unit__path__in=paths,
        )
        .select_related("task", "task__lead_unit")
        .order_by("due_date", "id")
    )
    return [
        Item(
            Kind.MILESTONE,
            _("%(task)s: %(milestone)s") % {"task": m.task.title, "milestone": m.title},
            m.task.lead_unit.name,
            m.due_date,
            m.due_date < today,
            reverse("tasks:task", args=[m.task_id]),
        )
        for m in found
    ]


def bulletins_to_read(user: Any) -> list[Item]:
    """Issued documents addressed to the user (not his own office's) he has not opened."""
    read = Reading.objects.filter(user=user, bulletin=OuterRef("pk"))
    found = (
        visible_bulletins(user)
        .filter(state=BulletinState.ISSUED)
        .exclude(issuer__in=policy.visible_units(user, Action.MANAGE_EVALUATION))
        .exclude(Exists(read))
        .select_related("issuer")
        .order_by("-issued_at", "-id")[:50]
    )
    return [
        Item(
            Kind.READ,
            f"{b.number} {b.title}".strip() if b.number else b.title,
            b.issuer.name,
            None,
            False,
            reverse("bulletins:document", args=[b.pk]),
        )
        for b in found
    ]


def count(user: Actor | AnonymousUser, today: date) -> int:
    return len(items(user, today))
