"""Reporting routes: periods, forms and their states, overviews, imports and exports.

Thin: authorise with the policy (duban.reporting.access), call one service, answer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from duban.indicators.models import fmt
from duban.orgs import policy
from duban.orgs.policy import Action
from duban.reporting import exports, figures, files, importing, services
from duban.reporting import overview as overview_sql
from duban.reporting.access import (
    FormTarget,
    actor,
    data_set_or_404,
    form_target,
    parse_period_or_404,
    readable_unit,
    require_reports,
    selection_periods,
    template_units,
    unit_for,
)
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.files import evidence_response, export_response
from duban.reporting.models import Evidence, LockException, ReportingPeriod, Submission
from duban.reporting.values import WriteResult
from duban.web import AuthenticatedHttpRequest, read_upload, xlsx_response

router = Router(tags=["reporting"])


class PeriodOut(Schema):
    data_set: str
    period: str
    opens_on: date
    deadline: date
    closes_on: date | None
    is_closed: bool

    @staticmethod
    def of(rp: ReportingPeriod) -> PeriodOut:
        return PeriodOut(
            data_set=rp.data_set.code,
            period=rp.period,
            opens_on=rp.opens_on,
            deadline=rp.deadline,
            closes_on=rp.closes_on,
            is_closed=rp.is_closed,
        )


class PeriodIn(Schema):
    data_set: str
    period: str
    opens_on: date | None = None
    deadline: date | None = None
    closes_on: date | None = None


class PeriodPatch(Schema):
    is_closed: bool | None = None
    deadline: date | None = None
    closes_on: date | None = None
    reason: str = ""


class ExceptionIn(Schema):
    data_set: str
    unit: str
    period: str
    reason: str


class ExceptionOut(Schema):
    id: int
    data_set: str
    unit: str
    period: str
    reason: str


class RowOut(Schema):
    indicator: str
    name: str
    unit_of_measure: str
    value_type: str
    computed: bool
    reports: bool
    value: str | None
    comment: str
    previous: str | None
    last_year: str | None
    # A record indicator: the figure its business records propose, from how many records,
    # and whether the stored figure differs from it (a correction, or records changed since).
    proposed: str | None = None
    proposed_records: int | None = None
    differs: bool = False


class EvidenceOut(Schema):
    id: int
    name: str
    size: int
    indicator: str | None
    url: str


class FormOut(Schema):
    data_set: str
    unit: str
    period: str
    state: str
    version: int
    entry: str
    return_reason: str
    rows: list[RowOut]
    evidence: list[EvidenceOut]


class FormIn(Schema):
    """Only the figures and comments given are written: a code left out keeps its figure, a
    null clears it. `version` is the form's version as read (GET): a save after someone else
    changed the form answers 409 with each figure changed since."""

    version: int | None = None
    values: dict[str, str | int | Decimal | bool | None] = {}
    comments: dict[str, str] = {}


class ReasonIn(Schema):
    reason: str = ""


class StateOut(Schema):
    data_set: str
    unit: str
    period: str
    state: str
    return_reason: str


class WriteOut(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int


class FormWriteOut(WriteOut):
    version: int


class ChildOut(Schema):
    unit: str
    name: str
    reports: bool
    state: str | None
    status: str | None
    below: dict[str, int]
    missing_below: list[str]
    figures: dict[str, str | None]


class OverviewOut(Schema):
    data_set: str
    unit: str
    period: str
    figures: dict[str, str | None]
    totals: dict[str, int]
    children: list[ChildOut]


def _s(value: Decimal | None) -> str | None:
    return None if value is None else fmt(value)


def _state_out(sub: Submission) -> StateOut:
    return StateOut(
        data_set=sub.data_set.code,
        unit=sub.unit.code,
        period=sub.period,
        state=sub.state,
        return_reason=sub.return_reason,
    )


def _write_out(result: WriteResult) -> WriteOut:
    return WriteOut(**result.as_dict())


# Periods and lock exceptions ------------------------------------------------------------------


@router.get("/periods", response=list[PeriodOut])
def list_periods(request: AuthenticatedHttpRequest, data_set: str | None = None) -> list[PeriodOut]:
    qs = ReportingPeriod.objects.visible_to(request.user).select_related("data_set")
    if data_set:
        qs = qs.filter(data_set__code=data_set)
    return [PeriodOut.of(rp) for rp in qs[:1000]]


@router.post("/periods", response={201: PeriodOut})
def open_period(request: AuthenticatedHttpRequest, payload: PeriodIn) -> Status[PeriodOut]:
    ds = data_set_or_404(payload.data_set)
    rp = services.open_period(
        ds,
        payload.period,
        user=actor(request),
        opens_on=payload.opens_on,
        deadline=payload.deadline,
        closes_on=payload.closes_on,
    )
    return Status(201, PeriodOut.of(rp))


@router.patch("/periods/{ds}/{period}", response=PeriodOut)
def change_period(
    request: AuthenticatedHttpRequest, ds: str, period: str, payload: PeriodPatch
) -> PeriodOut:
    rp = get_object_or_404(
        ReportingPeriod.objects.select_related("data_set__owner"), data_set__code=ds, period=period
    )
    rp = services.change_period(
        rp,
        user=actor(request),
        is_closed=payload.is_closed,
        deadline=payload.deadline,
        closes_on=payload.closes_on,
        reason=payload.reason,
    )
    return PeriodOut.of(rp)


@router.post("/lock-exceptions", response={201: ExceptionOut})
def grant_exception(
    request: AuthenticatedHttpRequest, payload: ExceptionIn
) -> Status[ExceptionOut]:
    ds = data_set_or_404(payload.data_set)
    unit = unit_for(request, payload.unit, Action.MANAGE_EVALUATION)
    exc = services.grant_lock_exception(
        ds, unit, payload.period, user=actor(request), reason=payload.reason
    )
    return Status(
        201,
        ExceptionOut(
            id=exc.pk, data_set=ds.code, unit=unit.code, period=exc.period, reason=exc.reason
        ),
    )


@router.get("/lock-exceptions", response=list[ExceptionOut])
def list_exceptions(
    request: AuthenticatedHttpRequest, data_set: str | None = None
) -> list[ExceptionOut]:
    qs = LockException.objects.filter(
        unit__in=policy.visible_units(request.user, Action.VIEW_DATA)
    ).select_related("data_set", "unit")
    if data_set:
        qs = qs.filter(data_set__code=data_set)
    return [
        ExceptionOut(
            id=e.pk, data_set=e.data_set.code, unit=e.unit.code, period=e.period, reason=e.reason
        )
        for e in qs[:1000]
    ]


@router.delete("/lock-exceptions/{pk}", response={204: None})
def revoke_exception(request: AuthenticatedHttpRequest, pk: int) -> Status[None]:
    exc = get_object_or_404(LockException.objects.select_related("unit"), pk=pk)
    services.revoke_lock_exception(exc, user=actor(request))
    return Status(204, None)


# One form -------------------------------------------------------------------------------------


def form_out(target: FormTarget) -> FormOut:
    from django.urls import reverse
    from django.utils import timezone

    sub = target.submission()
    rows = [
        r
        for r in figures.form_rows(target.data_set, target.unit, target.period)
        if target.shows(r["indicator"])
    ]
    rp = ReportingPeriod.objects.filter(data_set=target.data_set, period=target.period.id).first()
    entry = rp.entry_state(timezone.localdate()) if rp else "not_opened"
    evidence = (
        list(Evidence.objects.filter(submission=sub).select_related("indicator")) if sub else []
    )
    return FormOut(
        data_set=target.data_set.code,
        unit=target.unit.code,
        period=target.period.id,
        state=sub.state if sub else "empty",
        version=sub.version if sub else 0,
        entry=entry,
        return_reason=sub.return_reason if sub else "",
        rows=[
            RowOut(
                indicator=r["indicator"].code,
                name=r["indicator"].name,
                unit_of_measure=r["indicator"].unit_of_measure,
                value_type=r["indicator"].value_type,
                computed=r["indicator"].is_computed,
                reports=bool(r["reports"]),
                value=_s(r["value"]),
                comment=str(r["comment"]),
                previous=_s(r["previous"]),
                last_year=_s(r["last_year"]),
                proposed=_s(r["proposal"].value) if r["proposal"] else None,
                proposed_records=r["proposal"].record_count if r["proposal"] else None,
                differs=bool(r["differs"]),
            )
            for r in rows
        ],
        evidence=[
            EvidenceOut(
                id=e.pk,
                name=e.original_name,
                size=e.size,
                indicator=e.indicator.code if e.indicator else None,
                url=reverse("api:reporting_evidence", args=[e.pk]),
            )
            for e in evidence
        ],
    )


@router.get("/forms/{ds}/{unit}/{period}", response=FormOut)
def get_form(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> FormOut:
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    require_reports(target)
    return form_out(target)


@router.put("/forms/{ds}/{unit}/{period}", response=FormWriteOut)
def save_form(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, payload: FormIn
) -> FormWriteOut:
    """Save figures as a draft; problems are named by indicator code. 409 when the form is
    submitted, approved, locked or closed for entry, or changed since `version`."""
    target = form_target(request, ds, unit, period, Action.ENTER_DATA)
    require_reports(target)
    if payload.version is None:
        raise ReportingError(
            _("give the form's version as you read it (GET the form first)"), "version"
        )
    result = services.save_form(
        target.data_set,
        target.unit,
        target.period.id,
        payload.values,
        user=actor(request),
        comments=payload.comments,
        version=payload.version,
    )
    key = (target.data_set.code, target.unit.code, target.period.id)
    current = result.versions.get(key, payload.version)
    return FormWriteOut(**result.as_dict(), version=current)


def _transition(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, action: Action
) -> Submission:
    target = form_target(request, ds, unit, period, action)
    require_reports(target)
    sub = target.submission()
    if sub is None:
        raise ReportingConflict(
            _("%(code)s has entered nothing for %(id)s yet")
            % {"code": target.unit.code, "id": target.period.id},
            "state",
        )
    return sub


@router.post("/forms/{ds}/{unit}/{period}/submit", response=StateOut)
def submit(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> StateOut:
    sub = _transition(request, ds, unit, period, Action.ENTER_DATA)
    return _state_out(services.submit(sub, user=actor(request)))


@router.post("/forms/{ds}/{unit}/{period}/return", response=StateOut)
def return_form(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, payload: ReasonIn
) -> StateOut:
    sub = _transition(request, ds, unit, period, Action.APPROVE_DATA)
    return _state_out(services.return_form(sub, user=actor(request), reason=payload.reason))


@router.post("/forms/{ds}/{unit}/{period}/approve", response=StateOut)
def approve(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> StateOut:
    sub = _transition(request, ds, unit, period, Action.APPROVE_DATA)
    return _state_out(services.approve(sub, user=actor(request)))


@router.post("/forms/{ds}/{unit}/{period}/unapprove", response=StateOut)
def unapprove(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, payload: ReasonIn
) -> StateOut:
    sub = _transition(request, ds, unit, period, Action.APPROVE_DATA)
    return _state_out(services.unapprove(sub, user=actor(request), reason=payload.reason))


@router.post("/forms/{ds}/{unit}/{period}/lock", response=StateOut)
def lock(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> StateOut:
    sub = _transition(request, ds, unit, period, Action.MANAGE_EVALUATION)
    return _state_out(services.lock(sub, user=actor(request)))


@router.post("/forms/{ds}/{unit}/{period}/unlock", response=StateOut)
def unlock(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, payload: ReasonIn
) -> StateOut:
    sub = _transition(request, ds, unit, period, Action.MANAGE_EVALUATION)
    return _state_out(services.unlock(sub, user=actor(request), reason=payload.reason))


@router.get("/forms/{ds}/{unit}/{period}/template.xlsx")
def template(
    request: AuthenticatedHttpRequest, ds: str, unit: str, period: str, children: bool = False
) -> HttpResponse:
    """The Excel entry template of this unit, or of all units directly below it."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    if target.lines is not None:  # a template is the whole form: for its reporters
        raise policy.PermissionDenied(
            _("view_data not allowed at %(code)s") % {"code": target.unit.code}
        )
    if not children:
        require_reports(target)
    units = template_units(target, children)
    data = exports.build_template(
        target.data_set, units, target.unit, target.period, demo=target.unit.is_demo
    )
    return xlsx_response(
        data, exports.filename(ds, unit, period, "children" if children else "", ext="xlsx")
    )


@router.post("/forms/{ds}/{unit}/{period}/upload", response=WriteOut)
def upload_template(
    request: AuthenticatedHttpRequest,
    ds: str,
    unit: str,
    period: str,
    file: UploadedFile = File(...),
) -> WriteOut:
    """Fill this form (or its children's) from its Excel template: all cells or none."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA)
    if not policy.can_any(request.user, Action.ENTER_DATA):
        raise policy.PermissionDenied(_("uploading figures needs a reporter"))
    return _write_out(files.import_template(target, file, user=actor(request)))


@router.post("/forms/{ds}/{unit}/{period}/evidence", response={201: EvidenceOut})
def attach_evidence(
    request: AuthenticatedHttpRequest,
    ds: str,
    unit: str,
    period: str,
    file: UploadedFile = File(...),
    indicator: str = Form(""),
) -> Status[EvidenceOut]:
    from django.urls import reverse

    from duban.indicators.models import Indicator

    target = form_target(request, ds, unit, period, Action.ENTER_DATA)
    require_reports(target)
    ind = None
    if indicator:
        ind = Indicator.objects.filter(code=indicator).first()
        if ind is None:
            raise ReportingError(
                _("unknown indicator %(indicator)s") % {"indicator": repr(indicator)}, "indicator"
            )
    sub = services.get_or_create_submission(target.data_set, target.unit, target.period.id)
    data = read_upload(file, limit=services.evidence_max_bytes())
    ev = services.attach_evidence(
        sub, file.name or "file", data, user=actor(request), indicator=ind
    )
    return Status(
        201,
        EvidenceOut(
            id=ev.pk,
            name=ev.original_name,
            size=ev.size,
            indicator=indicator or None,
            url=reverse("api:reporting_evidence", args=[ev.pk]),
        ),
    )


@router.get("/evidence/{pk}", url_name="reporting_evidence")
def evidence(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    ev = get_object_or_404(Evidence.objects.select_related("submission__unit"), pk=pk)
    policy.require(request.user, Action.VIEW_DATA, ev.submission.unit)
    return evidence_response(ev)


# Overview, export, import -----------------------------------------------------------------------


@router.get("/overview/{ds}/{unit}/{period}", response=OverviewOut)
def overview(request: AuthenticatedHttpRequest, ds: str, unit: str, period: str) -> OverviewOut:
    """Figures of the unit (own or aggregated) and of each unit below, with who is missing or late."""
    target = form_target(request, ds, unit, period, Action.VIEW_DATA, coarser=True)
    # Aggregated SQL where it gives the same answer (every unit below named); else in Python.
    fast = (
        overview_sql.overview(target.data_set, target.unit, target.period, named=None)
        if target.lines is None
        else None
    )
    data: dict[str, Any] = (
        fast.data
        if fast is not None
        else figures.overview(
            target.data_set, target.unit, target.period, lines=target.lines, reader=actor(request)
        )
    )
    return OverviewOut(
        data_set=ds,
        unit=unit,
        period=target.period.id,
        figures={k: _s(v) for k, v in data["figures"].items()},
        totals=data["totals"],
        children=[
            ChildOut(
                unit=r.unit.code,
                name=r.unit.name,
                reports=r.reports,
                state=r.status.state if r.status else None,
                status=r.status.status if r.status else None,
                below=r.below,
                missing_below=r.missing_below,
                figures={k: _s(v) for k, v in r.figures.items()},
            )
            for r in data["rows"]
        ],
    )


def selection_from(
    request: AuthenticatedHttpRequest,
    unit: str,
    period: str,
    start: str,
    end: str,
    data_set: str,
    indicator: str,
    children: bool,
) -> exports.Selection:
    root, _lines = readable_unit(request, unit)  # rows are filtered by line in export_rows
    periods = selection_periods(period, start, end)
    if len(periods) > 120:
        raise ReportingError(_("at most 120 periods at once"), "period")
    ds = data_set_or_404(data_set) if data_set else None
    codes = tuple(c.strip() for c in indicator.split(",") if c.strip())
    return exports.Selection(root, periods, ds, codes, children)


@router.get("/values")
def export_values(
    request: AuthenticatedHttpRequest,
    unit: str,
    period: str = "",
    start: str = "",
    end: str = "",
    data_set: str = "",
    indicator: str = "",
    children: bool = True,
    format: str = "json",
) -> HttpResponseBase:
    """Stored and computed figures of a unit (and its subtree) for periods, as csv, xlsx or
    DHIS2 JSON; only units the caller may see."""
    selection = selection_from(request, unit, period, start, end, data_set, indicator, children)
    return export_response(selection, format, actor(request))


@router.post("/values/import", response=WriteOut)
def import_values(
    request: AuthenticatedHttpRequest, file: UploadedFile = File(...), format: str = Form("")
) -> WriteOut:
    """CSV, DHIS2 JSON or xlsx (template or long sheet). Every figure is checked; one bad
    figure and nothing is written, with every problem named by line, path or cell."""
    if not policy.can_any(request.user, Action.ENTER_DATA):
        raise policy.PermissionDenied(_("importing figures needs a reporter"))
    data = read_upload(file)
    fmt_ = format or importing.sniff_format(file.name or "", data)
    return _write_out(importing.import_file(data, fmt_, user=actor(request)))


class ImportCount(Schema):
    imported: int
    updated: int
    ignored: int
    deleted: int


class ImportSummary(Schema):
    status: str
    importCount: ImportCount


@router.get("/dataValueSets")
def get_data_value_set(
    request: AuthenticatedHttpRequest,
    orgUnit: str,
    period: str = "",
    startDate: str = "",
    endDate: str = "",
    dataSet: str = "",
    children: bool = False,
) -> HttpResponseBase:
    """DHIS2's /api/dataValueSets read, with codes as identifiers."""
    selection = selection_from(request, orgUnit, period, startDate, endDate, dataSet, "", children)
    return export_response(selection, "json", actor(request))


@router.post("/dataValueSets", response=ImportSummary)
def post_data_value_set(request: AuthenticatedHttpRequest) -> ImportSummary:
    """DHIS2's /api/dataValueSets write (JSON body, idScheme CODE); all or nothing."""
    if not policy.can_any(request.user, Action.ENTER_DATA):
        raise policy.PermissionDenied(_("importing figures needs a reporter"))
    limit = settings.DUBAN_IMPORT_MAX_BYTES
    if len(request.body) > limit:
        raise ReportingError(
            _("the body has %(n)s bytes; the limit is %(limit)s")
            % {"n": len(request.body), "limit": limit},
            "file",
        )
    result = importing.import_file(request.body, "json", user=actor(request))
    return ImportSummary(
        status="SUCCESS",
        importCount=ImportCount(
            imported=result.created, updated=result.updated, ignored=result.unchanged, deleted=0
        ),
    )


__all__ = ["parse_period_or_404", "router"]
