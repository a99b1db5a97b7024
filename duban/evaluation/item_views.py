"""The scheme item editor: a form per rule kind, a live preview of the rule sentence, and
the units' own targets as a table of the scheme's units by name (no JSON, no codes typed)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from duban.errors import DubanError, Problem
from duban.evaluation import access
from duban.evaluation.engine.decimals import plain
from duban.evaluation.item_edits import save_item
from duban.evaluation.models import GroupMember, Scheme, SchemeItem
from duban.evaluation.rule_forms import FORMS, RuleForm, kind_choices, rule_form
from duban.evaluation.rule_words import rule_sentence
from duban.web import AuthenticatedHttpRequest, actor


def _item(request: AuthenticatedHttpRequest, code: str, item: str) -> SchemeItem:
    scheme = get_object_or_404(Scheme, code=code)
    access.require_manage(request.user, scheme)
    return get_object_or_404(SchemeItem.objects.select_related("scheme"), scheme=scheme, code=item)


def _units(row: SchemeItem, data: QueryDict | None) -> list[dict[str, Any]]:
    """The scheme's units in group order, each with its own target (typed or stored)."""
    own = {t.unit_id: t.value for t in row.targets.all()}
    units: list[dict[str, Any]] = []
    seen: set[int] = set()
    members = GroupMember.objects.filter(group__scheme=row.scheme).select_related("unit", "group")
    for m in members.order_by("group__id", "id"):
        if m.unit_id in seen:
            continue
        seen.add(m.unit_id)
        stored = own.get(m.unit_id)
        value = data.get(f"target-{m.unit.code}", "") if data is not None else ""
        if data is None and stored is not None:
            value = plain(stored)
        units.append({"unit": m.unit, "field": f"target-{m.unit.code}", "value": value})
    return units


def _chosen(row: SchemeItem, data: QueryDict | None) -> str:
    kind = data.get("kind", "") if data is not None else str(row.rule.get("kind", ""))
    return kind if kind in FORMS else next(iter(FORMS))


def _form_rule(form: RuleForm) -> dict[str, object] | None:
    return form.to_rule() if form.is_valid() else None


def _form_problems(form: RuleForm) -> list[Problem]:
    return [
        Problem(str(form.fields[name].label) if name in form.fields else "", str(message))
        for name, errors in form.errors.items()
        for message in errors
    ]


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: AuthenticatedHttpRequest, code: str, item: str) -> HttpResponse:
    row = _item(request, code, item)
    data = request.POST if request.method == "POST" else None
    kind = _chosen(row, data)
    forms = [rule_form(k, data if k == kind else None, row.rule) for k in FORMS]
    units = _units(row, data)
    problems: list[Any] = []
    shown: dict[str, object] | None = row.rule
    if data is not None:
        chosen = forms[list(FORMS).index(kind)]
        rule = shown = _form_rule(chosen)
        try:
            if rule is None:
                raise DubanError(_form_problems(chosen))
            save_item(
                row,
                user=actor(request),
                points=data.get("points", ""),
                target=data.get("target", ""),
                rule=rule,
                rule_text=data.get("rule_text", ""),
                targets={u["unit"].code: u["value"].strip() for u in units},
            )
        except DubanError as exc:
            problems = exc.shown()
        else:
            messages.success(request, _("Saved."))
            return redirect("evaluation:scheme", code=row.scheme.code)
    context = {
        "scheme": row.scheme,
        "item": row,
        "kind": kind,
        "kinds": kind_choices(),
        "forms": forms,
        "units": units,
        "sentence": rule_sentence(shown, row.points) if shown is not None else "",
        "problems": problems,
        "post": data,
    }
    return render(request, "evaluation/item_edit.html", context, status=400 if problems else 200)


@login_required
def rule_preview(request: AuthenticatedHttpRequest, code: str, item: str) -> HttpResponse:
    """The rule sentence of the form as typed so far (the editor asks for it as one types)."""
    row = _item(request, code, item)
    kind = _chosen(row, request.GET)
    rule = _form_rule(rule_form(kind, request.GET, {}))
    try:
        points = Decimal(request.GET.get("points", "") or row.points)
    except InvalidOperation:
        points = row.points
    text = rule_sentence(rule, points) if rule is not None else _("(complete the fields above)")
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
