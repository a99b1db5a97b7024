"""Task pages. Thin: authorise with the policy, fetch, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from duban.errors import DubanError, Problem
from duban.jobs.work import start
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.tasks import access, reminders, services
from duban.tasks import jobs as ledger_jobs
from duban.tasks.forms import (
    GoalForm,
    LedgerFilterForm,
    MilestoneForm,
    ReasonForm,
    ReplyForm,
    ReportForm,
    SupervisionForm,
    TaskForm,
)
from duban.tasks.ledger import (
    Filters,
    by_lead_unit,
    filters_from,
    ledger_rows,
    ledger_xlsx,
    reason_text,
    status_counts,
    status_label,
)
from duban.tasks.models import Evidence, Goal, Milestone, Reminder, Task, TaskKind
from duban.tasks.status import Status
from duban.web import AuthenticatedHttpRequest, form_page, post_action, stored_file, xlsx_response


def _status_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(s.value, status_label(s)) for s in Status]


def _may_open_meeting(user: Any, meeting: Any) -> bool:
    """The meeting page opens to the convening unit's and each participant's people (the same
    rule as duban.meetings.services.can_view, which this app sits below)."""
    units = [meeting.unit, *(p.unit for p in meeting.participants.select_related("unit"))]
    return any(policy.can(user, Action.VIEW_DATA, u) for u in units)


def _form_page(*args: Any, **kw: Any) -> HttpResponse:
    """The shared form page, with this app's stylesheet (checkboxes beside their labels)."""
    return form_page(*args, template="tasks/form.html", **kw)


@login_required
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    """At a glance for one unit: which tasks are red, which lead units are behind, what to press for."""
    roots = policy.roots(request.user, Action.VIEW_DATA)
    code = request.GET.get("unit", "").strip()
    if code:
        unit = get_object_or_404(OrgUnit, code=code)
        policy.require(request.user, Action.VIEW_DATA, unit)
    else:
        first = OrgUnit.objects.filter(path__in=roots).order_by("depth", "path").first()
        if first is None:
            raise PermissionDenied(_("no unit whose tasks you may see"))
        unit = first
    today = services.today_local()
    rows = ledger_rows(access.visible_tasks(request.user), today, Filters(scope=unit))
    pressing = (
        Reminder.objects.filter(
            task__in=[r.task.pk for r in rows], kind="supervision", replied_on__isnull=True
        )
        .select_related("task", "to_unit")
        .order_by("reply_by")
    )
    units = OrgUnit.objects.filter(path__in=roots)
    return render(
        request,
        "tasks/board.html",
        {
            "unit": unit,
            "today": today,
            "counts": status_counts(rows),
            "red": [r for r in rows if r.status == Status.OVERDUE][:30],
            "yellow": [r for r in rows if r.status == Status.AT_RISK][:30],
            "to_verify": [r for r in rows if r.status == Status.DONE],
            "behind": [s for s in by_lead_unit(rows) if s.red or s.yellow][:20],
            "pressing": pressing[:20],
            "roots": units,
            "children": unit.children.order_by("sort_order", "code"),
            "can_manage": policy.can(request.user, Action.MANAGE_EVALUATION, unit),
        },
    )


@login_required
def ledger(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    form.fields["status"].choices = _status_choices()  # type: ignore[attr-defined]
    form.fields["kind"].choices = [("", "—"), *TaskKind.choices]  # type: ignore[attr-defined]
    problems: list[Problem] = []
    try:
        filters, today = filters_from(request.user, request.GET.dict())
    except DubanError as exc:
        problems = exc.shown()
        filters, today = Filters(), services.today_local()
    rows = ledger_rows(access.visible_tasks(request.user), today, filters) if not problems else []
    return render(
        request,
        "tasks/ledger.html",
        {
            "form": form,
            "rows": rows,
            "today": today,
            "problems": problems,
            "counts": status_counts(rows),
            "query": request.GET.urlencode(),
        },
    )


@login_required
def ledger_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        filters, today = filters_from(request.user, request.GET.dict())
    except DubanError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    rows = ledger_rows(access.visible_tasks(request.user), today, filters)
    invented = any(r.task.issuing_unit.is_demo for r in rows)
    data = ledger_xlsx(rows, today, _("Task ledger as of %(d)s") % {"d": today}, invented=invented)
    return xlsx_response(data, f"ledger-{today.isoformat()}.xlsx")


@login_required
@require_POST
def ledger_export_job(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The ledger as Excel, made by the worker; the page shows its progress, then the file."""
    query = QueryDict(request.POST.get("query", "")).dict()
    try:
        filters_from(request.user, query)  # bad filters named now, not in the worker
    except DubanError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    job = start(ledger_jobs.KIND, user=request.user, return_to=reverse("tasks:ledger"), query=query)
    return redirect(job)


def _unit_querysets(request: AuthenticatedHttpRequest) -> tuple[Any, Any]:
    issuers = policy.visible_units(request.user, Action.MANAGE_EVALUATION)
    return issuers, policy.visible_units(request.user, Action.MANAGE_EVALUATION)


def _task_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in services.TASK_FIELDS}


def _task_page(pk: int) -> str:
    return reverse("tasks:task", args=[pk])


def _managed_task(request: AuthenticatedHttpRequest, pk: int) -> Task:
    """Fetch a task the user may see (404, 403) and manage (403)."""
    task = access.task_or_403(request.user, pk)
    access.require_manage(request.user, task)
    return task


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    issuers, units = _unit_querysets(request)
    if not issuers.exists():
        raise PermissionDenied(_("issuing tasks needs the evaluation office"))
    return _form_page(
        request,
        TaskForm(request.POST or None, issuers=issuers, units=units),
        lambda d: services.create_task(
            user=request.user,
            issuing_unit=d["issuing_unit"],
            lead_unit=d["lead_unit"],
            partners=list(d["partners"]),
            **_task_fields(d),
        ),
        title=_("Issue a task"),
        back=reverse("tasks:board"),
        done=_("Task issued. Now set its milestones."),
        then=lambda task: _task_page(task.pk),
    )


@login_required
def task_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = access.task_or_403(request.user, pk)
    today = services.today_local()
    a = task.assess(today)
    good, judged = task.on_time(today)
    user = request.user
    decided = getattr(task, "decided_at", None)
    return render(
        request,
        "tasks/task_detail.html",
        {
            "task": task,
            "a": a,
            "today": today,
            "status_label": status_label(a.status),
            "reasons": [reason_text(r) for r in a.reasons],
            "on_time": good,
            "judged": judged,
            "milestones": task.milestones.all(),
            "reports": task.reports.all(),
            "evidence": Evidence.objects.filter(report__task=task).select_related("report"),
            "reminders": task.reminders.select_related("to_unit", "milestone").all(),
            "can_manage": access.can_manage(user, task),
            "can_lead": access.can_report_as_lead(user, task),
            "report_units": access.reporting_units(user, task),
            "decided_at": decided,
            "meeting_open": decided is not None and _may_open_meeting(user, decided.meeting),
            "expected": round(a.expected_percent),
            "can_view_issuer": policy.can(user, Action.VIEW_DATA, task.issuing_unit),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _managed_task(request, pk)
    issuers, units = _unit_querysets(request)
    units = OrgUnit.objects.subtree_of(task.issuing_unit)
    form = TaskForm(
        request.POST or None,
        instance=task,
        issuers=issuers,
        units=units,
        editing=True,
        initial={"partners": [p.unit_id for p in task.partners.all()]},
    )
    return _form_page(
        request,
        form,
        lambda d: services.update_task(
            task,
            user=request.user,
            lead_unit=d["lead_unit"],
            partners=list(d["partners"]),
            **_task_fields(d),
        ),
        title=_("Edit task"),
        back=_task_page(task.pk),
        done=_("Saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def milestone_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _managed_task(request, pk)
    return _form_page(
        request,
        MilestoneForm(request.POST or None),
        lambda d: services.add_milestone(task, user=request.user, **d),
        title=_("Add a milestone"),
        back=_task_page(task.pk),
        done=_("Milestone added."),
    )


def _milestone_or_403(request: AuthenticatedHttpRequest, pk: int) -> Milestone:
    milestone = get_object_or_404(Milestone.objects.select_related("task"), pk=pk)
    milestone.task = access.task_or_403(request.user, milestone.task_id)
    return milestone


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone_or_403(request, pk)
    access.require_manage(request.user, milestone.task)
    return _form_page(
        request,
        MilestoneForm(request.POST or None, instance=Milestone.objects.get(pk=pk)),
        lambda d: services.update_milestone(
            milestone,
            user=request.user,
            **{k: v for k, v in d.items() if v is not None or k != "seq"},
        ),
        title=_("Edit milestone"),
        back=_task_page(milestone.task_id),
        done=_("Saved."),
    )


@login_required
@require_POST
def milestone_met(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone_or_403(request, pk)
    return post_action(
        request,
        lambda: services.mark_milestone_met(milestone, user=request.user),
        back=_task_page(milestone.task_id),
        done=_("Milestone marked met."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = access.task_or_403(request.user, pk)
    units = access.reporting_units(request.user, task)
    if not units:
        raise PermissionDenied(_("only the lead or a co-operating unit's reporter writes progress"))
    return _form_page(
        request,
        ReportForm(request.POST or None, request.FILES or None, units=units, task=task),
        lambda d: services.submit_report(task, user=request.user, **d),
        title=_("Report progress"),
        back=_task_page(task.pk),
        done=_("Progress reported."),
        intro=task.title,
    )


@login_required
@require_POST
def done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = access.task_or_403(request.user, pk)
    access.require_lead(request.user, task)
    return post_action(
        request,
        lambda: services.declare_done(task, user=request.user),
        back=_task_page(task.pk),
        done=_("Declared done; the issuing unit will check it."),
    )


@login_required
@require_POST
def close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _managed_task(request, pk)
    return post_action(
        request,
        lambda: services.close_task(task, user=request.user),
        back=_task_page(task.pk),
        done=_("Closed off the ledger."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reopen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _managed_task(request, pk)
    return _form_page(
        request,
        ReasonForm(request.POST or None),
        lambda d: services.reopen_task(task, user=request.user, reason=d["reason"]),
        title=_("Reopen task"),
        back=_task_page(task.pk),
        done=_("Reopened; the lead unit carries on."),
        intro=task.title,
    )


@login_required
@require_POST
def remind(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """催办: one click by the supervising office reminds the lead unit now."""
    task = _managed_task(request, pk)
    return post_action(
        request,
        lambda: reminders.remind_now(task, user=request.user),
        back=_task_page(task.pk),
        done=_("Reminder sent to the lead unit."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def supervise(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _managed_task(request, pk)
    return _form_page(
        request,
        SupervisionForm(request.POST or None, task=task),
        lambda d: services.issue_supervision(task, user=request.user, **d),
        title=_("Issue a supervision order (督办)"),
        back=_task_page(task.pk),
        done=_("Supervision order issued."),
        intro=task.title,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    reminder = get_object_or_404(Reminder.objects.select_related("to_unit"), pk=pk)
    access.task_or_403(request.user, reminder.task_id)
    policy.require(request.user, Action.ENTER_DATA, reminder.to_unit)
    return _form_page(
        request,
        ReplyForm(request.POST or None),
        lambda d: services.reply_reminder(reminder, user=request.user, text=d["text"]),
        title=_("Reply"),
        back=_task_page(reminder.task_id),
        done=_("Reply recorded."),
        intro=reminder.message,
    )


@login_required
def evidence(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    item = get_object_or_404(Evidence.objects.select_related("report"), pk=pk)
    access.task_or_403(request.user, item.report.task_id)
    try:
        fh = default_storage.open(item.path, "rb")
    except FileNotFoundError:
        raise Http404("the file is missing from storage") from None
    return stored_file(fh, item.name)


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Reminders and supervision orders sent to the units where the user reports or leads."""
    units = policy.visible_units(request.user, Action.VIEW_DATA)
    items = (
        Reminder.objects.filter(to_unit__in=units)
        .select_related("task", "to_unit", "milestone")
        .order_by("replied_on", "-issued_on", "-id")[:200]
    )
    reply_units = set(
        policy.visible_units(request.user, Action.ENTER_DATA).values_list("pk", flat=True)
    )
    return render(
        request,
        "tasks/inbox.html",
        {"items": items, "today": services.today_local(), "reply_units": reply_units},
    )


@login_required
def goals(request: AuthenticatedHttpRequest) -> HttpResponse:
    units = policy.visible_units(request.user, Action.VIEW_DATA)
    items = (
        Goal.objects.filter(unit__in=units).select_related("unit").prefetch_related("steps__tasks")
    )
    return render(
        request,
        "tasks/goals.html",
        {
            "goals": items,
            "can_create": policy.can_any(request.user, Action.MANAGE_EVALUATION),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def goal_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    units = policy.visible_units(request.user, Action.MANAGE_EVALUATION)
    if not units.exists():
        raise PermissionDenied(_("setting goals needs the evaluation office"))
    return _form_page(
        request,
        GoalForm(request.POST or None, units=units),
        lambda d: services.create_goal(
            d["unit"],
            user=request.user,
            title=d["title"],
            first_year=d["first_year"],
            aims=d["aims"].splitlines(),
            description=d["description"],
        ),
        title=_("New multi-year goal"),
        back=reverse("tasks:goals"),
        done=_("Goal saved."),
    )
