"""Meeting pages. Thin: authorise with the policy, fetch, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from duban.errors import DubanError, Problem
from duban.meetings import services
from duban.meetings.agenda import build_pack
from duban.meetings.cadence import cadence_table
from duban.meetings.forms import CadenceForm, DecisionForm, HeldForm, MeetingForm, MinutesForm
from duban.meetings.models import DecidedMatter, Meeting, MeetingKind
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.tasks import access as task_access
from duban.tasks.services import today_local
from duban.web import AuthenticatedHttpRequest, actor, form_page, post_action


def _managed_units(request: AuthenticatedHttpRequest):
    return policy.visible_units(request.user, Action.MANAGE_EVALUATION)


def _meeting_page(meeting: Meeting) -> str:
    return reverse("meetings:meeting", args=[meeting.pk])


def _managed_meeting(request: AuthenticatedHttpRequest, pk: int, why: str) -> Meeting:
    """Fetch a meeting the user may see (404, 403) and manage (403, saying `why` not)."""
    meeting = services.meeting_or_403(request.user, pk)
    if not services.can_manage(actor(request), meeting):
        raise PermissionDenied(why)
    return meeting


def _form_page(*args: Any, **kw: Any) -> HttpResponse:
    """The shared form page, with this app's stylesheet (checkboxes beside their labels)."""
    return form_page(*args, template="tasks/form.html", **kw)


@login_required
def meeting_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    meetings = services.visible_meetings(request.user).select_related("unit")
    code = request.GET.get("unit", "").strip()
    unit = None
    if code:
        unit = get_object_or_404(OrgUnit, code=code)
        policy.require(request.user, Action.VIEW_DATA, unit)
        # convened by the unit or attended by it (a city's provincial meetings)
        attended = Meeting.objects.involving_units(OrgUnit.objects.filter(pk=unit.pk))
        meetings = meetings.filter(pk__in=attended.values("pk"))
    kind = request.GET.get("kind", "")
    if kind in MeetingKind.values:
        meetings = meetings.filter(kind=kind)
    return render(
        request,
        "meetings/list.html",
        {
            "meetings": meetings[:200],
            "unit": unit,
            "kinds": MeetingKind.choices,
            "kind": kind,
            "can_create": policy.can_any(request.user, Action.MANAGE_EVALUATION),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    units = _managed_units(request)
    if not units.exists():
        raise PermissionDenied(_("convening meetings needs the evaluation office"))

    def save(data: dict[str, Any]) -> Meeting:
        d = dict(data)
        unit, participants = d.pop("unit"), list(d.pop("participants"))
        return services.create_meeting(unit, user=actor(request), participants=participants, **d)

    return _form_page(
        request,
        MeetingForm(request.POST or None, units=units),
        save,
        title=_("New meeting"),
        back=reverse("meetings:list"),
        done=_("Meeting created; its agenda pack is built from the data."),
        then=_meeting_page,
    )


@login_required
def meeting_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting = services.meeting_or_403(request.user, pk)
    today = today_local()
    can_manage = services.can_manage(actor(request), meeting)
    pack = build_pack(meeting, today, viewer=request.user)
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "pack": pack,
            "open_tasks": set(task_access.visible_tasks(request.user).values_list("pk", flat=True)),
            "can_view_unit": policy.can(request.user, Action.VIEW_DATA, meeting.unit),
            "today": today,
            "can_manage": can_manage,
            "decisions": meeting.decisions.select_related("lead_unit", "task"),
            "participants": meeting.participants.select_related("unit"),
            "minutes_form": MinutesForm(initial={"minutes": meeting.minutes})
            if can_manage
            else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting = _managed_meeting(request, pk, "only the convening unit's office edits a meeting")
    form = MeetingForm(
        request.POST or None,
        instance=meeting,
        units=OrgUnit.objects.subtree_of(meeting.unit),
        editing=True,
        initial={"participants": [p.unit_id for p in meeting.participants.all()]},
    )

    def save(data: dict[str, Any]) -> Meeting:
        d = dict(data)
        participants = list(d.pop("participants"))
        return services.update_meeting(meeting, user=actor(request), participants=participants, **d)

    return _form_page(
        request, form, save, title=_("Edit meeting"), back=_meeting_page(meeting), done=_("Saved.")
    )


@login_required
@require_POST
def minutes(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting = _managed_meeting(request, pk, "only the convening unit's office keeps the minutes")
    form = MinutesForm(request.POST)
    if form.is_valid():
        services.update_meeting(meeting, user=actor(request), minutes=form.cleaned_data["minutes"])
        messages.success(request, _("Minutes saved."))
    return redirect("meetings:meeting", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting = _managed_meeting(request, pk, "only the convening unit's office records decisions")
    back = _meeting_page(meeting)
    return _form_page(
        request,
        DecisionForm(request.POST or None, units=OrgUnit.objects.subtree_of(meeting.unit)),
        lambda d: services.decide(
            meeting,
            user=actor(request),
            text=d["text"],
            lead_unit=d["lead_unit"],
            due_date=d["due_date"],
            supervise=d["supervise"],
            partners=list(d["partners"]),
            responsible=d["responsible"],
        ),
        title=_("Record a decided matter"),
        back=back,
        done=lambda matter: (
            _("Decision recorded and supervised as a task: now set its milestones.")
            if matter.task_id
            else _("Decision recorded.")
        ),
        then=lambda matter: (
            reverse("tasks:task", args=[matter.task_id]) if matter.task_id else back
        ),
        intro=str(meeting),
    )


@login_required
@require_POST
def supervise_matter(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    matter = get_object_or_404(DecidedMatter.objects.select_related("meeting"), pk=pk)
    meeting = _managed_meeting(
        request, matter.meeting_id, "only the convening unit's office supervises decisions"
    )
    return post_action(
        request,
        lambda: services.supervise_matter(matter, user=actor(request)),
        back=_meeting_page(meeting),
        done=_("Supervised as a task."),
        then=lambda task: reverse("tasks:task", args=[task.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def cadence(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The unit's monthly and quarterly mechanisms for a year: held, due or missed."""
    unit = get_object_or_404(OrgUnit, code=code)
    policy.require(request.user, Action.VIEW_DATA, unit)
    can_manage = policy.can(request.user, Action.MANAGE_EVALUATION, unit)
    today = today_local()
    try:
        year = int(request.GET.get("year") or today.year)
        if not 2000 <= year <= 2100:
            raise ValueError(year)
    except ValueError:
        year = today.year
    cad_form, held_form = CadenceForm(prefix="c"), HeldForm(prefix="h", today=today)
    problems: list[Problem] = []
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("only the unit's office sets its mechanisms"))
        try:
            if "c-mechanism" in request.POST:
                cad_form = CadenceForm(request.POST, prefix="c")
                if cad_form.is_valid():
                    d = cad_form.cleaned_data
                    services.set_cadence(
                        unit,
                        d["mechanism"],
                        user=actor(request),
                        since=d["since"],
                        active=d["active"],
                    )
                    return redirect(f"{reverse('meetings:cadence', args=[code])}?year={year}")
            else:
                held_form = HeldForm(request.POST, prefix="h", today=today)
                if held_form.is_valid():
                    d = held_form.cleaned_data
                    services.record_held(
                        unit,
                        d["mechanism"],
                        d["period"],
                        user=actor(request),
                        held_on=d["held_on"],
                        reference=d["reference"],
                    )
                    return redirect(f"{reverse('meetings:cadence', args=[code])}?year={year}")
        except DubanError as exc:
            problems = exc.problems
    return render(
        request,
        "meetings/cadence.html",
        {
            "unit": unit,
            "year": year,
            "lines": cadence_table(unit, year, today),
            "can_manage": can_manage,
            "cad_form": cad_form,
            "held_form": held_form,
            "problems": problems,
        },
    )
