"""The audit trail pages: a unit's history, for audit administrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from duban.audit.models import AuditEntry
from duban.audit.types import areas, render
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor, unit_or_403


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    units = OrgUnit.objects.filter(path__in=policy.roots(actor(request), Action.VIEW_AUDIT))
    if not units:
        raise policy.PermissionDenied("the audit trail is for audit administrators")
    return redirect("audit:unit", code=units[0].code)


@login_required
def unit_history(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.VIEW_AUDIT)
    subtree = request.GET.get("subtree") == "1"
    entries = AuditEntry.objects.select_related("unit")
    entries = entries.for_unit_subtree(unit.path) if subtree else entries.filter(unit=unit)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    page = Paginator(entries.order_by("-pk"), 50).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "audit/unit_history.html",
        {
            "unit": unit,
            "page": page,
            "rows": render(page),
            "areas": areas(),
            "subtree": subtree,
            "action": action,
        },
    )
