"""Reporting pages. Thin: authorise (duban.reporting.access), fetch, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from duban.errors import DubanError, Problem
from duban.indicators.models import DataSet, Indicator, fmt
from duban.jobs.work import start
from duban.orgs import policy
from duban.orgs.models import Line, OrgUnit
from duban.orgs.policy import Action
from duban.reporting import approval, exports, figures, files, history, importing, services
from duban.reporting import jobs as background_import
from duban.reporting import overview as overview_sql
from duban.reporting.access import (
    FormTarget,
    actor,
    data_set_or_404,
    form_target,
    readable_unit,
    require_reports,
    selection_periods,
    template_units,
    unit_for,
)
from duban.reporting.errors import VersionConflict
from duban.reporting.files import evidence_response, export_response
from duban.reporting.models import Evidence, LockException, ReportingPeriod, State, Submission
from duban.reporting.views_entry import (
    entry_checks,
    open_many,
    picker_context,
    same_period_opened,
    seen_version,
    touched,
)
from duban.web import AuthenticatedHttpRequest, read_upload, xlsx_response


@login_required
@require_GET
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's work: forms to fill, forms waiting for his approval, the data sets he can see."""
    user = request.user
    today = timezone.localdate()
    data_sets = list(
        DataSet.objects.visible_to(user).filter(is_active=True).select_related("owner")
    )
    periods = {
        ds.pk: [rp for rp in ReportingPeriod.objects.filter(data_set=ds).order_by("-period")[:24]]
        for ds in data_sets
    }
    to_enter: list[dict[str, Any]] = []
    for unit in policy.visible_units(user, Action.ENTER_DATA).order_by("path"):
        for ds in data_sets:
            if not unit.path.startswith(ds.owner.path) or not ds.reported_by(unit):
                continue
            subs = {s.period: s for s in Submission.objects.filter(data_set=ds, unit=unit)}
            for rp in periods[ds.pk]:
                state = rp.entry_state(today)
                sub = subs.get(rp.period)
                if state == "open" or (sub and sub.state == State.RETURNED):
                    to_enter.append(
                        {"unit": unit, "data_set": ds, "rp": rp, "sub": sub, "entry": state}
                    )
    to_approve = (
        Submission.objects.filter(
            state=State.SUBMITTED, unit__in=policy.visible_units(user, Action.APPROVE_DATA)
        )
        .select_related("data_set", "unit")
        .order_by("period", "unit__path")[:200]
    )
    roots = OrgUnit.objects.filter(path__in=policy.roots(user, Action.VIEW_DATA))
    return render(
        request,
        "reporting/index.html",
        {
            "data_sets": data_sets,
            "periods": periods,
            "to_enter": to_enter,
            "to_approve": to_approve,
            "roots": roots,
            "can_import": policy.can_any(user, Action.ENTER_DATA),
        },
    )


class ExceptionForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("unit (code)"), max_length=32)
    period = forms.CharField(label=gettext_lazy("period"), max_length=16)
    reason = forms.CharField(label=gettext_lazy("reason"), widget=forms.Textarea(attrs={"rows": 2}))


@login_required
@require_http_methods(["GET", "POST"])
def data_set(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """A data set's periods (open, deadline, expiry), and for the office: open, close, exceptions."""
    ds = data_set_or_404(code)
    if not DataSet.objects.visible_to(request.user).filter(pk=ds.pk).exists():
        raise policy.PermissionDenied(_("data set %(code)s is outside your units") % {"code": code})
    can_manage = policy.can(request.user, Action.MANAGE_EVALUATION, ds.owner)
    exc_form = ExceptionForm(request.POST if request.POST.get("do") == "exception" else None)
    problems: list[Problem] = []
    if request.method == "POST":
        do = request.POST.get("do")
        try:
            if do == "open":
                policy.require(request.user, Action.MANAGE_EVALUATION, ds.owner)
                return open_many(request, ds)
            if do in ("close", "reopen"):
                rp = get_object_or_404(
                    ReportingPeriod, data_set=ds, period=request.POST.get("period", "")
                )
                services.change_period(
                    rp,
                    user=actor(request),
                    is_closed=(do == "close"),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(
                    request, _("Entry closed.") if do == "close" else _("Entry reopened.")
                )
                return redirect("reporting:data_set", code=ds.code)
            if do == "exception" and exc_form.is_valid():
                unit = unit_for(request, exc_form.cleaned_data["unit"], Action.MANAGE_EVALUATION)
                services.grant_lock_exception(
                    ds,
                    unit,
                    exc_form.cleaned_data["period"],
                    user=actor(request),
                    reason=exc_form.cleaned_data["reason"],
                )
                messages.success(request, _("Lock exception granted."))
                return redirect("reporting:data_set", code=ds.code)
            if do == "revoke":
                exc = get_object_or_404(LockException, pk=request.POST.get("id"), data_set=ds)
                services.revoke_lock_exception(exc, user=actor(request))
                messages.success(request, _("Lock exception revoked."))
                return redirect("reporting:data_set", code=ds.code)
            if do != "exception":
                raise Http404("unknown action")
        except DubanError as exc:
            problems = exc.shown()
        except Http404:
            raise
    today = timezone.localdate()
    rps = [
        {"rp": rp, "entry": rp.entry_state(today)}
        for rp in ds.reporting_periods.order_by("-period")
    ]
    roots = [
        u
        for u in OrgUnit.objects.filter(path__in=policy.roots(request.user, Action.VIEW_DATA))
        if u.path.startswith(ds.owner.path) or ds.owner.path.startswith(u.path)
    ]
    return render(
        request,
        "reporting/data_set.html",
        {
            "ds": ds,
            "rps": rps,
            "can_manage": can_manage,
            **(
                picker_context(
                    request,
                    ds,
                    {k: request.POST.getlist(k) for k in ("periods", "data_sets")}
                    if request.POST.get("do") == "open"
                    else None,
                )
                if can_manage
                else {}
            ),
            "exc_form": exc_form,
            # Only the units within the reader's reach, as the API's list (a county's
            # reporter saw the sibling county's exceptions and their reasons).
            "exceptions": ds.lock_exceptions.filter(
                unit__in=policy.visible_units(request.user, Action.VIEW_DATA)
            )
            .select_related("unit")
            .order_by("-granted_at")[:100],
            "problems": problems,
            "roots": [r if r.path.startswith(ds.owner.path) else ds.owner for r in roots],
        },
        status=400 if problems else 200,
    )


def shown(value: Decimal | None, ind: Indicator) -> str:
    """A figure for the page: computed ones rounded half-up to the indicator's places."""
    if value is None:
        return ""
    if ind.is_computed:
        value = value.quantize(Decimal(1).scaleb(-ind.decimals), rounding=ROUND_HALF_UP)
    return fmt(value)


def _form_context(
    request: AuthenticatedHttpRequest,
    target: FormTarget,
    entered: dict[str, str] | None = None,
    comments: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    conflict: VersionConflict | None = None,
    seen: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the form page shows. `entered`/`comments`: what the person typed (kept after a
    refusal); `conflict` and `seen`: figures changed by someone else since he opened the form,
    and what he saw then, so he can merge his changes with theirs."""
    user = request.user
    sub = target.submission()
    rows = [
        r
        for r in figures.form_rows(target.data_set, target.unit, target.period)
        if target.shows(r["indicator"])
    ]
    by_field: dict[str, list[str]] = {}
    for p in problems or []:
        by_field.setdefault(p.where, []).append(p.message)
    changed = {c.indicator: c for c in conflict.changed} if conflict else {}
    for row in rows:
        ind: Indicator = row["indicator"]
        code = ind.code
        row["entered"] = (entered or {}).get(code)
        row["stored_comment"] = row["comment"]
        if comments is not None and code in comments:
            row["comment"] = comments[code]
        row["problem"] = "; ".join(by_field.get(code, []))
        for key in ("value", "previous", "last_year"):
            row[f"{key}_text"] = shown(row[key], ind)
        proposal = row["proposal"]
        row["proposal_text"] = fmt(proposal.value) if proposal is not None else ""
        # A record indicator without a figure yet: its box holds the records' proposal, which
        # a save writes (the hidden initial stays empty), so confirming is saving.
        row["prefilled"] = proposal is not None and row["value"] is None
        row["checks"] = entry_checks(ind)
        row["changed"] = code in changed
        row["seen"] = (seen or {}).get(code, "") if code in changed else None
    rp = ReportingPeriod.objects.filter(data_set=target.data_set, period=target.period.id).first()
    today = timezone.localdate()
    excepted = LockException.objects.filter(
        data_set=target.data_set, unit=target.unit, period=target.period.id
    ).exists()
    entry = rp.entry_state(today) if rp else "not_opened"
    state = sub.state if sub else State.DRAFT
    can_enter = policy.can(user, Action.ENTER_DATA, target.unit)
    editable = (
        can_enter
        and state in (State.DRAFT, State.RETURNED)
        and (entry == "open" or (entry in ("expired", "closed") and excepted))
    )
    status = figures.statuses(target.data_set, target.period.id, [target.unit]).get(target.unit.pk)
    return {
        "t": target,
        "ds": target.data_set,
        "unit": target.unit,
        "period": target.period,
        "sub": sub,
        "version": sub.version if sub else 0,
        "conflict": conflict,
        "state": state,
        # What the badge says: a form never created is not a draft (nothing was entered),
        # and a period never opened says so.
        "shown_state": sub.state if sub else ("not_opened" if rp is None else "empty"),
        "rows": rows,
        "rp": rp,
        "entry": entry,
        "excepted": excepted,
        "editable": editable,
        "status": status,
        "can_approve": policy.can(user, Action.APPROVE_DATA, target.unit),
        "can_manage": policy.can(user, Action.MANAGE_EVALUATION, target.unit),
        "can_enter": can_enter,
        "evidence": list(Evidence.objects.filter(submission=sub).select_related("indicator"))
        if sub
        else [],
        "previous": target.period.previous(),
        "last_year": figures.same_period_last_year(target.period),
        "children": [
            c for c in target.unit.children.filter(is_active=True) if target.data_set.reported_by(c)
        ],
        "demo": target.unit.is_demo,
        "line_names": line_names(target.lines),
        "waiting": approval.waiting_below(target.data_set, target.unit, target.period.id)
        if editable
        else [],
        "reopen_hint": approval.reopen_hint(sub, entry, excepted),
    }


def line_names(lines: frozenset[str] | None) -> str:
    """The lines a division head reads, by name, as the page's language lists them."""
    sep = "、" if (get_language() or "zh").startswith("zh") else ", "
    return sep.join(str(Line(x).label) for x in sorted(lines or ()))


@login_required
@require_http_methods(["GET", "POST"])
def form(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> HttpResponse:
    """One unit's form for one period: enter, save a draft, submit; approvers and the office act."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    require_reports(target)
    if request.method == "GET":
        return render(request, "reporting/form.html", _form_context(request, target))
    policy.require(request.user, Action.ENTER_DATA, target.unit)
    codes = [i.code for i in target.data_set.members() if i.reported_by(target.unit)]
    values = touched(request.POST, "v", codes)
    comments = touched(request.POST, "c", codes)
    try:
        services.save_form(
            target.data_set,
            target.unit,
            target.period.id,
            values,
            user=actor(request),
            comments=comments,
            version=seen_version(request.POST),
        )
        if request.POST.get("do") == "submit":
            sub = target.submission()
            if sub is None:
                raise DubanError(_("enter at least one figure before submitting"), "state")
            services.submit(sub, user=actor(request))
            messages.success(request, _("Submitted to the unit above."))
        else:
            messages.success(request, _("Draft saved."))
    except VersionConflict as exc:
        seen = {c: request.POST.get(f"iv:{c}", "") for c in codes}
        context = _form_context(request, target, values, comments, exc.problems, exc, seen)
        return render(request, "reporting/form.html", context, status=exc.status)
    except DubanError as exc:
        context = _form_context(request, target, values, comments, exc.problems)
        context["problems"] = exc.shown()
        return render(request, "reporting/form.html", context, status=exc.status)
    return redirect("reporting:form", *target.url_args())


TRANSITIONS: dict[str, tuple[Action, Callable[..., Submission], bool]] = {
    "submit": (Action.ENTER_DATA, services.submit, False),
    "withdraw": (Action.ENTER_DATA, services.withdraw, False),
    "approve": (Action.APPROVE_DATA, services.approve, False),
    "return": (Action.APPROVE_DATA, services.return_form, True),
    "unapprove": (Action.APPROVE_DATA, services.unapprove, True),
    "lock": (Action.MANAGE_EVALUATION, services.lock, False),
    "unlock": (Action.MANAGE_EVALUATION, services.unlock, True),
}
DONE_MESSAGES = {
    "submit": gettext_lazy("Submitted to the unit above."),
    "withdraw": gettext_lazy("Submission withdrawn: the form is a draft again."),
    "approve": gettext_lazy("Approved."),
    "return": gettext_lazy("Returned to the reporter."),
    "unapprove": gettext_lazy("Approval taken back."),
    "lock": gettext_lazy("Locked."),
    "unlock": gettext_lazy("Unlocked and returned to the reporter."),
}


@login_required
@require_POST
def transition(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, action: str
) -> HttpResponse:
    if action not in TRANSITIONS:
        raise Http404(action)
    needed, fn, with_reason = TRANSITIONS[action]
    target = form_target(request, ds, unit, period, needed)
    require_reports(target)
    sub = target.submission()
    try:
        if sub is None:
            raise DubanError(_("nothing has been entered for this period yet"), "state")
        kwargs: dict[str, Any] = {"user": request.user}
        if with_reason:
            kwargs["reason"] = request.POST.get("reason", "")
        fn(sub, **kwargs)
    except DubanError as exc:
        context = _form_context(request, target)
        context["problems"] = exc.shown()
        return render(request, "reporting/form.html", context, status=exc.status)
    messages.success(request, str(DONE_MESSAGES[action]))
    nxt = request.POST.get("next", "")
    if nxt.startswith("/reporting/"):
        return redirect(nxt)
    return redirect("reporting:form", *target.url_args())


@login_required
@require_GET
def template(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> HttpResponse:
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    if target.lines is not None:  # a template is the whole form: for its reporters
        raise policy.PermissionDenied(
            _("view_data not allowed at %(code)s") % {"code": target.unit.code}
        )
    children = request.GET.get("children") in ("1", "true", "on")
    if not children:
        require_reports(target)
    try:
        units = template_units(target, children)
    except DubanError:
        raise Http404("no unit below reports this data set") from None
    data = exports.build_template(
        target.data_set, units, target.unit, target.period, demo=target.unit.is_demo
    )
    return xlsx_response(
        data, exports.filename(ds, unit, period, "children" if children else "", ext="xlsx")
    )


@login_required
@require_POST
def upload(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> HttpResponse:
    """Fill the form (or the children's forms) from the Excel template."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    if not policy.can_any(request.user, Action.ENTER_DATA):
        raise policy.PermissionDenied(_("uploading figures needs a reporter"))
    file = request.FILES.get("file")
    try:
        if file is None:
            raise DubanError(_("choose the filled-in template"), "file")
        result = files.import_template(target, file, user=actor(request))
    except DubanError as exc:
        context = _form_context(request, target)
        context["problems"] = exc.shown()
        return render(request, "reporting/form.html", context, status=exc.status)
    messages.success(
        request,
        _("Template read: %(created)d figures added, %(updated)d changed, %(unchanged)d unchanged.")
        % result.as_dict(),
    )
    return redirect("reporting:form", *target.url_args())


@login_required
@require_POST
def evidence_upload(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str
) -> HttpResponse:
    target = form_target(request, ds, unit, period, Action.ENTER_DATA)
    require_reports(target)
    file = request.FILES.get("file")
    code = request.POST.get("indicator", "")
    try:
        data = read_upload(file, limit=services.evidence_max_bytes())
        ind = Indicator.objects.filter(code=code).first() if code else None
        sub = services.get_or_create_submission(target.data_set, target.unit, target.period.id)
        services.attach_evidence(
            sub, (file.name if file else None) or "file", data, user=actor(request), indicator=ind
        )
    except DubanError as exc:
        context = _form_context(request, target)
        context["problems"] = exc.shown()
        return render(request, "reporting/form.html", context, status=exc.status)
    messages.success(request, _("Evidence attached."))
    return redirect("reporting:form", *target.url_args())


@login_required
@require_GET
def evidence(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    ev = get_object_or_404(Evidence.objects.select_related("submission__unit"), pk=pk)
    policy.require(request.user, Action.VIEW_DATA, ev.submission.unit)
    return evidence_response(ev)


@login_required
@require_GET
def overview(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> HttpResponse:
    """What the unit above sees: each child's status and figures, the aggregate, who is missing."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA, coarser=True)
    ptype_same = target.period.type == target.data_set.period_type
    # Aggregated SQL where it gives the same answer (most data sets); else the Python roll-up.
    fast = (
        overview_sql.overview(target.data_set, target.unit, target.period)
        if target.lines is None
        else None
    )
    if fast is not None:
        data, more_missing = fast.data, fast.more_missing
        to_remind = fast.not_reported if ptype_same else 0
    else:
        data = figures.overview(
            target.data_set, target.unit, target.period, lines=target.lines, reader=actor(request)
        )
        more_missing = {}
        to_remind = (
            len(approval.not_reported(target.data_set, target.unit, target.period.id))
            if ptype_same
            else 0
        )
    return render(
        request,
        "reporting/overview.html",
        {
            "t": target,
            "ds": target.data_set,
            "unit": target.unit,
            "period": target.period,
            **data,
            "same_type": ptype_same,
            "previous": target.period.previous(),
            "next": target.period.next(),
            "reports": target.data_set.reported_by(target.unit),
            "can_approve_below": any(
                policy.can(request.user, Action.APPROVE_DATA, r.unit) for r in data["rows"]
            ),
            "demo": target.unit.is_demo,
            "line_names": line_names(target.lines),
            "can_remind": same_period_opened(target)
            and any(policy.can(request.user, Action.APPROVE_DATA, r.unit) for r in data["rows"]),
            "to_remind": to_remind,
            "more_missing": more_missing,
            "reminders": history.last_reminders(target.data_set, target.period.id)
            if ptype_same
            else {},
        },
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("file"))
    format = forms.ChoiceField(
        label=gettext_lazy("format"),
        choices=[
            ("", gettext_lazy("by its content")),
            ("csv", "CSV"),
            ("xlsx", "Excel (xlsx)"),
            ("json", "DHIS2 dataValueSet JSON"),
        ],
        required=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_values(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not policy.can_any(request.user, Action.ENTER_DATA):
        raise policy.PermissionDenied(_("importing figures needs a reporter"))
    form_ = ImportForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if request.method == "POST" and form_.is_valid():
        file = form_.cleaned_data["file"]
        try:
            data = read_upload(file)
            fmt_ = form_.cleaned_data["format"] or importing.sniff_format(file.name or "", data)
            if background_import.goes_to_background(len(data)):
                name = file.name or "upload"
                job = start(
                    background_import.KIND,
                    user=actor(request),
                    upload=(name, data),
                    return_to=reverse("reporting:import"),
                    fmt=fmt_,
                    name=name,
                )
                return redirect(job)
            result = importing.import_file(data, fmt_, user=actor(request))
        except DubanError as exc:
            problems = exc.shown()
            return render(
                request,
                "reporting/import.html",
                {"form": form_, "problems": problems},
                status=exc.status,
            )
        messages.success(
            request,
            _(
                "Imported %(rows)d rows: %(created)d figures added, %(updated)d changed, "
                "%(unchanged)d unchanged."
            )
            % result.as_dict(),
        )
        return redirect("reporting:import")
    return render(request, "reporting/import.html", {"form": form_, "problems": problems})


class ExportForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("unit (code)"), max_length=32)
    children = forms.BooleanField(
        label=gettext_lazy("with the units below"), required=False, initial=True
    )
    data_set = forms.CharField(
        label=gettext_lazy("data set (code, optional)"), max_length=32, required=False
    )
    indicator = forms.CharField(
        label=gettext_lazy("indicators (codes, comma-separated, optional)"), required=False
    )
    start = forms.CharField(label=gettext_lazy("from period"), max_length=16)
    end = forms.CharField(label=gettext_lazy("to period"), max_length=16)
    format = forms.ChoiceField(
        label=gettext_lazy("format"),
        choices=[("xlsx", "Excel (xlsx)"), ("csv", "CSV"), ("json", "DHIS2 JSON")],
    )


@login_required
@require_GET
def export_values(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Choose a selection; with one given, the file is the answer."""
    form_ = ExportForm(request.GET or None)
    problems: list[Problem] = []
    if request.GET and form_.is_valid():
        c = form_.cleaned_data
        root, _lines = readable_unit(request, c["unit"])  # export_rows filters by line
        try:
            periods = selection_periods("", c["start"], c["end"])
            if len(periods) > 120:
                raise DubanError(_("at most 120 periods at once"), "end")
            ds = DataSet.objects.filter(code=c["data_set"]).first() if c["data_set"] else None
            if c["data_set"] and ds is None:
                raise DubanError(_("unknown data set"), "data_set")
            codes = tuple(x.strip() for x in c["indicator"].split(",") if x.strip())
            selection = exports.Selection(root, periods, ds, codes, c["children"])
            return export_response(selection, c["format"], actor(request))
        except DubanError as exc:
            problems = exc.shown()
    if not request.GET:
        roots = policy.roots(request.user, Action.VIEW_DATA)
        first = OrgUnit.objects.filter(path__in=roots).first()
        this = period_month(timezone.localdate())
        form_ = ExportForm(
            initial={
                "unit": first.code if first else "",
                "children": True,
                "start": f"{this[:4]}01",
                "end": this,
                "format": "xlsx",
            }
        )
    return render(
        request,
        "reporting/export.html",
        {"form": form_, "problems": problems},
        status=400 if problems else 200,
    )


def period_month(day: date) -> str:
    return f"{day.year}{day.month:02d}"


def form_url(ds: str, unit: str, period: str) -> str:
    return reverse("reporting:form", args=[ds, unit, period])
