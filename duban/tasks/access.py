"""Who may do what to a task, phrased with the one access policy (duban.orgs.policy).

- see: VIEW_DATA over the issuing, lead or a co-operating unit, or — for a division's roles —
  a task of its line led by a territorial unit under the division's parent;
- manage (edit, milestones, close, reopen, supervision orders): MANAGE_EVALUATION
  over the issuing unit, i.e. its evaluation office or one above it;
- report: ENTER_DATA at the lead unit, or at a co-operating unit for its own part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.tasks.models import Task, TaskQuerySet

if TYPE_CHECKING:
    from duban.accounts.models import User


def visible_tasks(user: Any) -> TaskQuerySet:
    involved = Task.objects.involving_units(policy.visible_units(user, Action.VIEW_DATA))
    if not policy.line_reaches(user, Action.VIEW_DATA):
        return involved
    of_line = Task.objects.filter(
        policy.data_filter(user, Action.VIEW_DATA, unit="lead_unit", line="line")
    )
    return Task.objects.filter(Q(pk__in=involved.values("pk")) | Q(pk__in=of_line.values("pk")))


def involved_units(task: Task) -> list[OrgUnit]:
    return [task.issuing_unit, task.lead_unit, *task.partner_units()]


def can_view(user: Any, task: Task) -> bool:
    if any(policy.can(user, Action.VIEW_DATA, u) for u in involved_units(task)):
        return True
    return bool(task.line) and policy.can(user, Action.VIEW_DATA, task.lead_unit, line=task.line)


def can_manage(user: Any, task: Task) -> bool:
    return policy.can(user, Action.MANAGE_EVALUATION, task.issuing_unit)


def reporting_units(user: Any, task: Task) -> list[OrgUnit]:
    """The units (lead first, then partners) for which this user may write progress."""
    return [
        u for u in [task.lead_unit, *task.partner_units()] if policy.can(user, Action.ENTER_DATA, u)
    ]


def can_report_as_lead(user: Any, task: Task) -> bool:
    return policy.can(user, Action.ENTER_DATA, task.lead_unit)


def require_view(user: User | Any, task: Task) -> None:
    if not can_view(user, task):
        raise PermissionDenied(_("task %(pk)s is outside your units") % {"pk": task.pk})


def require_manage(user: User | Any, task: Task) -> None:
    if not can_manage(user, task):
        raise PermissionDenied(
            _("only the issuing unit's office manages task %(pk)s") % {"pk": task.pk}
        )


def require_lead(user: User | Any, task: Task) -> None:
    if not can_report_as_lead(user, task):
        raise PermissionDenied(
            _("only the lead unit's reporter writes this for task %(pk)s") % {"pk": task.pk}
        )


def task_or_403(user: Any, pk: int) -> Task:
    """Fetch a task (404 if none) the user may see (403 otherwise)."""
    task = get_object_or_404(Task.objects.with_facts(), pk=pk)
    require_view(user, task)
    return task
