"""Pages of the approver's comforts: batch approval from the queue and 催报 from the overview;
the form's autosave (the same save service as the form's button, answered in JSON) and a
figure's history, loaded beside its row when asked (htmx), never with the form itself."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from duban.errors import DubanError, Problem
from duban.indicators.models import DataSet, Indicator, ValueType, fmt
from duban.orgs.policy import Action
from duban.reporting import approval, history, period_picker, services
from duban.reporting.access import FormTarget, actor, form_target, require_reports
from duban.reporting.models import ReportingPeriod, Submission
from duban.text import period_in_words
from duban.web import AuthenticatedHttpRequest


def touched(post: Any, prefix: str, codes: list[str]) -> dict[str, str]:
    """The fields a person changed: what he typed where it differs from what the page showed
    him (`i:` / `ic:` hidden fields). Fields he did not touch are never written, so a save
    cannot put back a value someone else changed meanwhile."""
    out = {}
    for code in codes:
        name = f"{prefix}:{code}"
        if name not in post:
            continue
        typed = post.get(name, "")
        initial = post.get(f"i{prefix}:{code}")
        if initial is None or typed.strip() != initial.strip():
            out[code] = typed
    return out


def seen_version(post: Any) -> int | None:
    text = post.get("version", "")
    return int(text) if text.isdigit() else None


def same_period_opened(target: FormTarget) -> bool:
    return (
        target.period.type == target.data_set.period_type
        and ReportingPeriod.objects.filter(
            data_set=target.data_set, period=target.period.id
        ).exists()
    )


@login_required
@require_POST
def remind(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> HttpResponse:
    """催报: remind every unit below that has not reported this period."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    try:
        done = approval.remind(target.data_set, target.unit, target.period.id, user=actor(request))
    except DubanError as exc:
        for p in exc.shown():
            messages.error(request, p.message)
    else:
        messages.success(
            request,
            _("Reminded %(count)d units to report: %(units)s")
            % {"count": len(done.units), "units": "、".join(u.name for u in done.units)},
        )
    return redirect("reporting:overview", *target.url_args())


@login_required
@require_GET
def figure_history(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, indicator: str
) -> HttpResponse:
    """A figure's history (htmx fragment): read by whoever may read the form, as the form is."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    require_reports(target)
    ind = next((i for i in target.data_set.members() if i.code == indicator), None)
    if ind is None or ind.is_computed or not target.shows(ind) or not ind.reported_by(target.unit):
        raise Http404("no such figure on this form")
    return render(
        request,
        "reporting/_history.html",
        {
            "ind": ind,
            "history": history.figure_history(target.unit, ind, target.period),
        },
    )


@login_required
@require_POST
def approve_many(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Approve the forms chosen on the queue with one remark: all of them, or none."""
    ids = [int(x) for x in request.POST.getlist("form") if x.isdigit()]
    subs = list(
        Submission.objects.filter(pk__in=ids)
        .select_related("data_set", "unit")
        .order_by("-unit__path", "period")
    )
    try:
        count = approval.approve_many(
            subs, user=actor(request), reason=request.POST.get("reason", "")
        )
    except DubanError as exc:
        for p in exc.shown():
            messages.error(request, p.message)
    else:
        messages.success(request, _("%(count)d forms approved.") % {"count": count})
    return redirect("reporting:index")


@login_required
@require_POST
def autosave(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> HttpResponse:
    """The form's draft, saved as one types (reporting.js): the fields changed since the page's
    version, through `services.save_form`; answers the new version, or the problems by field."""
    target = form_target(request, ds, unit, period, Action.ENTER_DATA)
    require_reports(target)
    codes = [i.code for i in target.data_set.members() if i.reported_by(target.unit)]
    try:
        services.save_form(
            target.data_set,
            target.unit,
            target.period.id,
            touched(request.POST, "v", codes),
            user=actor(request),
            comments=touched(request.POST, "c", codes),
            version=seen_version(request.POST),
        )
    except DubanError as exc:
        return JsonResponse(
            {"errors": [{"where": p.where, "message": p.message} for p in exc.shown()]},
            status=exc.status,
        )
    sub = target.submission()
    saved = timezone.localtime()
    return JsonResponse(
        {
            "version": sub.version if sub else 0,
            "saved": _("Saved automatically at %(time)s") % {"time": saved.strftime("%H:%M")},
        }
    )


FIELDS = {
    "periods": gettext_lazy("periods"),
    "data_sets": gettext_lazy("data sets"),
    "deadline": gettext_lazy("deadline"),
    "closes_on": gettext_lazy("entry closes after"),
}


def picked_year(request: AuthenticatedHttpRequest, ds: DataSet) -> tuple[int, list[int]]:
    """The year whose periods the picker shows (`?year=`, or the posted one), and the years
    it offers; this year when none or another is asked."""
    offered = period_picker.years(ds, timezone.localdate())
    asked = request.POST.get("year") or request.GET.get("year") or ""
    year = int(asked) if asked.isdigit() and int(asked) in offered else timezone.localdate().year
    return year, offered


def picker_context(
    request: AuthenticatedHttpRequest, ds: DataSet, chosen: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """What the data set page's "open periods" form shows: the year's periods in words (open
    ones marked), the data sets of the same type the office may open with this one."""
    year, offered = picked_year(request, ds)
    return {
        "pick_year": year,
        "pick_years": offered,
        "pick_groups": period_picker.groups(ds, year),
        "pick_data_sets": period_picker.openable_data_sets(request.user, ds),
        "pick_chosen": chosen or {"periods": [], "data_sets": [ds.code]},
    }


def _date(post: Any, name: str) -> date | None:
    text = post.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DubanError(
            _("%(text)s is not a date (year-month-day)") % {"text": text[:20]}, str(FIELDS[name])
        ) from None


def open_many(request: AuthenticatedHttpRequest, ds: DataSet) -> HttpResponse:
    """The office opens the periods chosen in the picker for the data sets chosen, through
    `services.open_periods` (all or nothing); refusals are raised named by field."""
    year, _offered = picked_year(request, ds)
    allowed = period_picker.period_ids(period_picker.groups(ds, year))
    periods = request.POST.getlist("periods")
    sets = {d.code: d for d in period_picker.openable_data_sets(request.user, ds)}
    codes = request.POST.getlist("data_sets")
    problems = [
        Problem(str(FIELDS["periods"]), _("not a period of this picker: %(p)s") % {"p": p[:20]})
        for p in periods
        if p not in allowed
    ] + [
        Problem(str(FIELDS["data_sets"]), _("you cannot open periods of %(ds)s") % {"ds": c[:32]})
        for c in codes
        if c not in sets
    ]
    if problems:
        raise DubanError(problems)
    try:
        done = services.open_periods(
            [sets[c] for c in codes],
            periods,
            user=actor(request),
            deadline=_date(request.POST, "deadline"),
            closes_on=_date(request.POST, "closes_on"),
        )
    except DubanError as exc:
        raise type(exc)(
            [Problem(str(FIELDS.get(p.where, p.where)), p.message) for p in exc.problems]
        ) from exc
    if done.opened:
        messages.success(
            request,
            _("Periods opened (%(count)d): %(periods)s")
            % {"count": len(done.opened), "periods": said(done.opened_pairs())},
        )
    if done.skipped:
        messages.info(
            request,
            _("Already open, left as they were: %(periods)s") % {"periods": said(done.skipped)},
        )
    return redirect(f"{reverse('reporting:data_set', args=[ds.code])}?year={year}")


def said(pairs: list[tuple[DataSet, str]]) -> str:
    """Data sets and periods in words: 月报 2026年1月、2026年2月；季报 2026年第1季度."""
    by_set: dict[str, list[str]] = {}
    for ds, period in pairs:
        by_set.setdefault(ds.name, []).append(period_in_words(period))
    return "；".join(f"{name} {'、'.join(ps)}" for name, ps in by_set.items())


def entry_checks(ind: Indicator) -> dict[str, str]:
    """What reporting.js checks as one types, mirroring `Indicator.clean_value` (type, whole
    numbers, decimal places, range) with the server's own messages in the page's language;
    the server checks again on save, and the data set's rules only there."""
    low, high = ind.effective_range()
    whole = ind.value_type in (ValueType.INTEGER, ValueType.BOOLEAN)
    out = {
        "nan": gettext("%(text)s is not a number") % {"text": "{value}"},
        "formula": gettext("a formula is not accepted: type the figure itself"),
        "percent": "1" if ind.value_type == ValueType.PERCENTAGE else "",
    }
    if whole:
        out["whole"] = gettext("must be a whole number")
    elif ind.value_type in (ValueType.DECIMAL, ValueType.PERCENTAGE):
        out["places"] = str(ind.decimals)
        out["places-msg"] = gettext("at most %(n)s decimal places") % {"n": ind.decimals}
    if low is not None:
        out["min"] = fmt(low)
        out["min-msg"] = gettext("must be at least %(minimum)s") % {"minimum": fmt(low)}
    if high is not None:
        out["max"] = fmt(high)
        out["max-msg"] = gettext("must be at most %(maximum)s") % {"maximum": fmt(high)}
    # The server names the field before its message (`立案数：不得小于 0`); so does the page.
    named = {
        k: _("%(code)s: %(problem)s") % {"code": ind.name, "problem": v}
        for k, v in out.items()
        if k in MESSAGES
    }
    return {**out, **named}


MESSAGES = frozenset({"nan", "formula", "whole", "places-msg", "min-msg", "max-msg"})
