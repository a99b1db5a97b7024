"""Pages of the organisation tree. Thin: authorise, fetch, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from duban.errors import DubanError, Problem
from duban.orgs import policy, services, treefile
from duban.orgs.forms import MoveForm, NewUnitForm, TreeImportForm, UnitForm
from duban.orgs.models import Membership, OrgUnit, UnitMove
from duban.orgs.policy import Action
from duban.web import (
    AuthenticatedHttpRequest,
    actor,
    form_page,
    read_upload,
    unit_or_403,
)


def with_child_counts(units: Any) -> Any:
    return units.annotate(n_children=Count("children")).order_by("sort_order", "code")


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's units, his roles there and what lies directly below."""
    memberships = (
        Membership.objects.active()
        .filter(user=actor(request))
        .select_related("unit")
        .order_by("unit__path")
    )
    units: dict[int, dict[str, Any]] = {}
    for m in memberships:
        entry = units.setdefault(m.unit_id, {"unit": m.unit, "roles": []})
        entry["roles"].append(m.get_role_display())
    for entry in units.values():
        unit = entry["unit"]
        entry["children"] = with_child_counts(unit.children.all())
        entry["subtree_size"] = OrgUnit.objects.subtree_of(unit).count()
    return render(request, "orgs/home.html", {"entries": list(units.values())})


@login_required
def tree(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The tree from the top of what the user may see; branches open on demand (htmx)."""
    q = request.GET.get("q", "").strip()
    visible = policy.visible_units(actor(request))
    if q:
        found = visible.filter(
            Q(code__icontains=q) | Q(name_zh__icontains=q) | Q(name_en__icontains=q)
        ).order_by("path")[:200]
        return render(request, "orgs/tree.html", {"q": q, "found": found})
    tops = with_child_counts(visible.filter(path__in=policy.roots(actor(request))))
    return render(request, "orgs/tree.html", {"q": q, "nodes": tops})


@login_required
def children(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.VIEW_UNIT)
    return render(request, "orgs/_nodes.html", {"nodes": with_child_counts(unit.children.all())})


@login_required
def unit_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.VIEW_UNIT)
    user = request.user
    ancestors = [
        a for a in OrgUnit.objects.ancestors_of(unit) if policy.can(user, Action.VIEW_UNIT, a)
    ]
    context = {
        "unit": unit,
        "ancestors": ancestors,
        "children": with_child_counts(unit.children.all()),
        "moves": UnitMove.objects.filter(unit=unit).select_related("from_parent", "to_parent")[:20],
        "can_edit": policy.can(user, Action.EDIT_TREE, unit),
        "can_accounts": policy.can(user, Action.MANAGE_ACCOUNTS, unit),
        "can_audit": policy.can(user, Action.VIEW_AUDIT, unit),
    }
    return render(request, "orgs/unit_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.EDIT_TREE)
    return _unit_form(
        request,
        unit,
        UnitForm(request.POST or None, instance=OrgUnit.objects.get(pk=unit.pk)),
        lambda d: services.update_unit(unit, user=request.user, **d),
        title=_("Edit unit"),
        done=_("Saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_add_child(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    parent = unit_or_403(request, code, Action.EDIT_TREE)
    return _unit_form(
        request,
        parent,
        NewUnitForm(request.POST or None, initial={"level": parent.level, "kind": parent.kind}),
        lambda d: services.create_unit(user=request.user, parent=parent, **d),
        title=_("Add a unit below"),
        done=_("Unit added."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.EDIT_TREE)

    def move(data: dict[str, Any]) -> OrgUnit:
        target = OrgUnit.objects.filter(code=data["parent"]).first()
        if target is None:
            raise DubanError(_("no unit has this code"), "parent")
        policy.require(request.user, Action.EDIT_TREE, target)
        services.move_unit(unit, target, user=request.user, reason=data["reason"])
        return unit

    return _unit_form(
        request,
        unit,
        MoveForm(request.POST or None),
        move,
        title=_("Move unit"),
        done=_("Unit moved; its history moves with it."),
    )


def _unit_form(
    request: AuthenticatedHttpRequest,
    unit: OrgUnit,
    form: forms.BaseForm,
    save: Callable[[dict[str, Any]], OrgUnit],
    *,
    title: str,
    done: str,
) -> HttpResponse:
    """A form about `unit` whose service returns the unit the browser goes to next."""
    return form_page(
        request,
        form,
        save,
        title=title,
        back=reverse("orgs:unit", args=[unit.code]),
        done=done,
        then=lambda u: reverse("orgs:unit", args=[u.code]),
        template="orgs/unit_form.html",
        context={"unit": unit},
    )


@login_required
@require_http_methods(["GET", "POST"])
def tree_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not policy.can_any(actor(request), Action.EDIT_TREE):
        raise policy.PermissionDenied("tree import needs a system administrator")
    form = TreeImportForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        try:
            data = read_upload(form.cleaned_data["file"])
            summary = treefile.import_tree(data, form.cleaned_data["format"], user=actor(request))
        except DubanError as exc:
            problems = exc.shown()
        else:
            messages.success(
                request,
                _(
                    "Imported: %(created)d created, %(updated)d updated, %(moved)d moved, %(unchanged)d unchanged."
                )
                % summary.__dict__,
            )
            return redirect("orgs:tree")
    return render(request, "orgs/import.html", {"form": form, "problems": problems})
