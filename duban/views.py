"""Project-level pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect

from duban.cockpit.services import gets_cockpit
from duban.orgs.views import home as unit_cards
from duban.web import AuthenticatedHttpRequest, actor

__all__ = ["home"]


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where one lands after login: leaders and office accounts on their unit's cockpit,
    everyone else (reporters, approvers, administrators) on the unit cards."""
    if gets_cockpit(actor(request)):
        return redirect("cockpit:home")
    return unit_cards(request)
