"""Pages of the organisation tree. Thin: authorise, fetch, call one service, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from duban import errors
from duban.accounts.current import user_of
from duban.errors import DubanError, Problem
from duban.orgs import policy, services, treefile
from duban.orgs.forms import MoveForm, NewUnitForm, TreeImportForm, UnitForm
from duban.orgs.models import Membership, OrgUnit, UnitMove
from duban.orgs.policy import Action


def read_upload(file: UploadedFile) -> bytes:
    """Read an uploaded file, refusing one larger than the import limit before reading it."""
    limit = settings.DUBAN_IMPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise DubanError(
            _("the file has %(size)s bytes; the limit is %(limit)s")
            % {"size": file.size, "limit": limit},
            "file",
        )
    return file.read()


def unit_or_403(request: HttpRequest, code: str, action: Action) -> OrgUnit:
    unit = get_object_or_404(OrgUnit.objects.select_related("parent"), code=code)
    policy.require(user_of(request), action, unit)
    return unit


def with_child_counts(units: Any) -> Any:
    return units.annotate(n_children=Count("children")).order_by("sort_order", "code")


def add_problems(form: Any, exc: DubanError) -> list[Problem]:
    """Problems beside their fields; the rest above the form (these pages show no list)."""
    return errors.add_problems(form, exc, rest_to_form=True)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's units, his roles there and what lies directly below."""
    memberships = (
        Membership.objects.active()
        .filter(user=user_of(request))
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
def tree(request: HttpRequest) -> HttpResponse:
    """The tree from the top of what the user may see; branches open on demand (htmx)."""
    q = request.GET.get("q", "").strip()
    visible = policy.visible_units(user_of(request))
    if q:
        found = visible.filter(
            Q(code__icontains=q) | Q(name_zh__icontains=q) | Q(name_en__icontains=q)
        ).order_by("path")[:200]
        return render(request, "orgs/tree.html", {"q": q, "found": found})
    tops = with_child_counts(visible.filter(path__in=policy.roots(user_of(request))))
    return render(request, "orgs/tree.html", {"q": q, "nodes": tops})


@login_required
def children(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.VIEW_UNIT)
    return render(request, "orgs/_nodes.html", {"nodes": with_child_counts(unit.children.all())})


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
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
def unit_edit(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.EDIT_TREE)
    form = UnitForm(request.POST or None, instance=OrgUnit.objects.get(pk=unit.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_unit(unit, user=user_of(request), **form.cleaned_data)
        except DubanError as exc:
            add_problems(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orgs:unit", code=unit.code)
    return render(
        request, "orgs/unit_form.html", {"unit": unit, "form": form, "title": _("Edit unit")}
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_add_child(request: HttpRequest, code: str) -> HttpResponse:
    parent = unit_or_403(request, code, Action.EDIT_TREE)
    form = NewUnitForm(request.POST or None, initial={"level": parent.level, "kind": parent.kind})
    if request.method == "POST" and form.is_valid():
        try:
            child = services.create_unit(user=user_of(request), parent=parent, **form.cleaned_data)
        except DubanError as exc:
            add_problems(form, exc)
        else:
            messages.success(request, _("Unit added."))
            return redirect("orgs:unit", code=child.code)
    return render(
        request,
        "orgs/unit_form.html",
        {"unit": parent, "form": form, "title": _("Add a unit below")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.EDIT_TREE)
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = OrgUnit.objects.filter(code=form.cleaned_data["parent"]).first()
        try:
            if target is None:
                raise DubanError(_("no unit has this code"), "parent")
            policy.require(user_of(request), Action.EDIT_TREE, target)
            services.move_unit(
                unit, target, user=user_of(request), reason=form.cleaned_data["reason"]
            )
        except DubanError as exc:
            add_problems(form, exc)
        else:
            messages.success(request, _("Unit moved; its history moves with it."))
            return redirect("orgs:unit", code=unit.code)
    return render(
        request, "orgs/unit_form.html", {"unit": unit, "form": form, "title": _("Move unit")}
    )


@login_required
@require_http_methods(["GET", "POST"])
def tree_import(request: HttpRequest) -> HttpResponse:
    if not policy.can_any(user_of(request), Action.EDIT_TREE):
        raise policy.PermissionDenied(_("tree import needs a system administrator"))
    form = TreeImportForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        try:
            data = read_upload(form.cleaned_data["file"])
            summary = treefile.import_tree(data, form.cleaned_data["format"], user=user_of(request))
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
