"""The dispatch-meeting screen's pages. Thin: authorise, fetch, call one service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from duban.cockpit import screen
from duban.meetings import services as meetings
from duban.tasks.services import today_local
from duban.web import AuthenticatedHttpRequest, actor, post_action


@login_required
@require_GET
def meeting_screen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Whoever may view the meeting opens it; he sees the slides of the units he may read."""
    meeting = meetings.meeting_or_403(request.user, pk)
    shown = screen.screen_for(meeting, user=actor(request), today=today_local())
    return render(
        request,
        "cockpit/screen.html",
        {"meeting": meeting, "screen": shown, "spans": screen.span_headers(shown.pack)},
    )


@login_required
@require_POST
def freeze(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Whoever manages the meeting freezes its screen ahead of the day (the pack prepared)."""
    meeting = meetings.meeting_or_403(request.user, pk)
    if not meetings.can_manage(actor(request), meeting):
        raise PermissionDenied(_("only the convening unit's office freezes the meeting screen"))
    back = reverse("cockpit:screen", args=[meeting.pk])
    return post_action(
        request,
        lambda: screen.freeze_screen(meeting, user=actor(request), today=today_local()),
        back=back,
        done=_("The screen is frozen: it is shown from now on exactly as it is."),
    )
