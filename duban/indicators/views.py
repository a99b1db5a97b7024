"""Indicator and data set pages: the catalogue for everyone in reach, definitions for the office."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from duban.errors import DubanError
from duban.indicators import services
from duban.indicators.forms import IndicatorForm
from duban.indicators.models import DataSet, Indicator
from duban.indicators.words import condition_in_words, kinds_in_words, levels_in_words
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor, form_page


def _visible_indicator(request: AuthenticatedHttpRequest, code: str) -> Indicator:
    ind = get_object_or_404(Indicator.objects.select_related("issuer", "division"), code=code)
    if not Indicator.objects.visible_to(request.user).filter(pk=ind.pk).exists():
        raise policy.PermissionDenied(
            _("indicator %(code)s is outside your units") % {"code": code}
        )
    return ind


@login_required
@require_GET
def indicator_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    indicators = Indicator.objects.visible_to(request.user).select_related("issuer", "division")
    data_sets = DataSet.objects.visible_to(request.user).select_related("owner")
    issuers = OrgUnit.objects.filter(path__in=policy.roots(request.user, Action.MANAGE_EVALUATION))
    return render(
        request,
        "indicators/list.html",
        {
            "indicators": indicators,
            "data_sets": data_sets,
            "issuers": issuers,
        },
    )


@login_required
@require_GET
def indicator_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    ind = _visible_indicator(request, code)
    member = ind.memberships.select_related("data_set").first()
    return render(
        request,
        "indicators/detail.html",
        {
            "ind": ind,
            "levels": levels_in_words(ind.levels or []),
            "kinds": kinds_in_words(ind.kinds or []),
            "data_set": member.data_set if member else None,
            "can_edit": policy.can(request.user, Action.MANAGE_EVALUATION, ind.issuer),
        },
    )


def _division(form: IndicatorForm) -> Any:
    code = form.cleaned_data.get("division_code") or ""
    if not code:
        return None
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise DubanError(_("no unit has this code"), "division_code")
    return unit


@login_required
@require_http_methods(["GET", "POST"])
def indicator_new(request: AuthenticatedHttpRequest, unit: str) -> HttpResponse:
    issuer = get_object_or_404(OrgUnit, code=unit)
    policy.require(request.user, Action.MANAGE_EVALUATION, issuer)
    form = IndicatorForm(request.POST or None)
    return _indicator_form(
        request,
        form,
        lambda d: services.create_indicator(
            user=request.user, issuer=issuer, division=_division(form), **d
        ),
        title=_("New indicator"),
        done=_("Indicator defined."),
        issuer=issuer,
        fixed=(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    ind = _visible_indicator(request, code)
    policy.require(request.user, Action.MANAGE_EVALUATION, ind.issuer)
    form = IndicatorForm(
        request.POST or None,
        instance=Indicator.objects.get(pk=ind.pk),
        initial={"division_code": ind.division.code if ind.division else ""},
    )
    form.fields["code"].disabled = True
    form.fields["period_type"].disabled = True
    return _indicator_form(
        request,
        form,
        lambda d: services.update_indicator(ind, user=request.user, division=_division(form), **d),
        title=_("Edit indicator"),
        done=_("Saved."),
        issuer=ind.issuer,
        fixed=("code", "period_type"),
    )


def _indicator_form(
    request: AuthenticatedHttpRequest,
    form: IndicatorForm,
    save: Callable[..., Indicator],
    *,
    title: str,
    done: str,
    issuer: OrgUnit,
    fixed: tuple[str, ...],
) -> HttpResponse:
    """The indicator form; `save` gets its fields less the division code and the `fixed` ones."""
    skip = ("division_code", *fixed)
    return form_page(
        request,
        form,
        lambda d: save({k: v for k, v in d.items() if k not in skip}),
        title=title,
        back=reverse("indicators:list"),
        done=done,
        then=lambda ind: reverse("indicators:detail", kwargs={"code": ind.code}),
        template="indicators/form.html",
        context={"issuer": issuer},
        invalid_status=400,
    )


def _rules_in_words(ds: DataSet) -> list[tuple[Any, str]]:
    """Each active rule with its condition in words (indicator names, not codes)."""
    rules = ds.rules()
    codes = {word for rule in rules for word in re.findall(r"[\w.\-]+", rule.expression)}
    names = {i.code: i.name for i in Indicator.objects.filter(code__in=codes)}
    return [(rule, condition_in_words(rule.expression, names)) for rule in rules]


@login_required
@require_http_methods(["GET", "POST"])
def data_set_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The form's indicators and its validation rules; the office adds and removes rules."""
    ds = get_object_or_404(DataSet.objects.select_related("owner"), code=code)
    if not DataSet.objects.visible_to(request.user).filter(pk=ds.pk).exists():
        raise policy.PermissionDenied(_("data set %(code)s is outside your units") % {"code": code})
    can_edit = policy.can(request.user, Action.MANAGE_EVALUATION, ds.owner)
    problems = []
    if request.method == "POST":
        policy.require(request.user, Action.MANAGE_EVALUATION, ds.owner)
        try:
            if request.POST.get("do") == "delete_rule":
                rule = get_object_or_404(ds.validation_rules, pk=request.POST.get("rule"))
                services.delete_rule(rule, user=actor(request))
            else:
                services.add_rule(
                    ds,
                    user=actor(request),
                    name=request.POST.get("name", ""),
                    expression=request.POST.get("expression", ""),
                    message=request.POST.get("message", ""),
                )
        except DubanError as exc:
            problems = exc.shown()
        else:
            messages.success(request, _("Saved."))
            return redirect("indicators:data_set", code=ds.code)
    return render(
        request,
        "indicators/data_set.html",
        {
            "ds": ds,
            "members": ds.members(),
            "rules": _rules_in_words(ds),
            "can_edit": can_edit,
            "problems": problems,
            "post": request.POST if problems else {},
        },
        status=400 if problems else 200,
    )
