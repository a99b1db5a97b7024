"""The cockpit pages: a unit's standing and panels, in the office and on the wall.

Thin: authorise (the policy, through ``unit_or_403``), fetch (``services.cockpit``), render
(``display.context``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language

from duban.cockpit import display, lines, services
from duban.errors import DubanError
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor, unit_or_403
from duban.web.cache import kept_page


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The viewer's own unit's cockpit; those without one go to the home page."""
    unit = services.cockpit_unit(actor(request))
    if unit is None:
        return redirect("home")
    return redirect("cockpit:unit", code=unit.code)


def _page(request: AuthenticatedHttpRequest, code: str, template: str) -> HttpResponse:
    user = actor(request)
    # The unit first: a unit out of reach is refused, not answered with a redirect.
    unit = unit_or_403(request, code, Action.VIEW_DATA)
    if not services.gets_cockpit(user):
        return redirect("home")
    return kept_page(request, lambda: _render(request, unit, template))


def _render(
    request: AuthenticatedHttpRequest, unit: OrgUnit, template: str
) -> tuple[HttpResponse, bool]:
    """The page, and whether it may be kept: not while its scores are being recomputed."""
    user = actor(request)
    period = request.GET.get("period", "").strip() or None
    try:
        data = services.cockpit(user, unit, period, _lang(), timezone.localdate())
    except DubanError as exc:
        context = {"unit": unit, "problems": exc.shown()}
        return render(request, "cockpit/problems.html", context, status=400), False
    context = display.context(data, _lang())
    parent = unit.parent
    if parent is not None and policy.can(user, Action.VIEW_DATA, parent):
        context["parent_url"] = display.cockpit_url(parent.code, data.period)
    else:
        context["parent_url"] = ""
    context["lines"] = lines.viewer_lines(user)  # a division head's way to his line's view
    if template.endswith("wall.html") and request.headers.get("HX-Request"):
        template = "cockpit/_wall_body.html"
    return render(request, template, context), not data.stale


@login_required
def unit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    return _page(request, code, "cockpit/unit.html")


@login_required
def wall(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    return _page(request, code, "cockpit/wall.html")
