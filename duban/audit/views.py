"""The audit trail pages: a unit's history, for audit administrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from duban.accounts.current import user_of
from duban.audit.models import AuditEntry
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.orgs.views import unit_or_403


@login_required
def home(request: HttpRequest) -> HttpResponse:
    units = OrgUnit.objects.filter(path__in=policy.roots(user_of(request), Action.VIEW_AUDIT))
    if not units:
        raise policy.PermissionDenied(_("the audit trail is for audit administrators"))
    return redirect("audit:unit", code=units[0].code)


@login_required
def unit_history(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.VIEW_AUDIT)
    subtree = request.GET.get("subtree") == "1"
    entries = AuditEntry.objects.select_related("unit")
    entries = entries.for_unit_subtree(unit.path) if subtree else entries.filter(unit=unit)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    page = Paginator(entries.order_by("-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/unit_history.html",
        {"unit": unit, "page": page, "subtree": subtree, "action": action},
    )
