"""Pages of evaluation schemes, scores and publication. Thin: authorise, fetch, call, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from duban.errors import DubanError, Problem
from duban.evaluation import access, exports, lines, rank_changes, services, sheets
from duban.evaluation.builder import members_with_units, scheme_to_engine, targets_with_units
from duban.evaluation.class_names import with_class_names
from duban.evaluation.engine.decimals import figure, fixed
from duban.evaluation.engine.results import label
from duban.evaluation.figure_links import figure_links
from duban.evaluation.models import Objection, Publication, Scheme
from duban.evaluation.period_choices import scheme_periods
from duban.evaluation.scoring import Scored, score
from duban.orgs.models import Line, OrgUnit
from duban.text import UndecodableText, decode_text
from duban.web import CSV, XLSX, AuthenticatedHttpRequest, actor, download, read_upload


def lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _scheme(code: str) -> Scheme:
    return get_object_or_404(Scheme.objects.select_related("issuer", "based_on"), code=code)


def _field_words() -> dict[str, str]:
    return {
        "objection_deadline": _("Objections accepted until"),
        "period": _("Period"),
        "item": _("Item"),
        "text": _("Objection"),
        "evidence": _("Evidence"),
        "reason": _("Reason"),
    }


def _problems_page(request: AuthenticatedHttpRequest, exc: DubanError, back: str) -> HttpResponse:
    """The refusal, each field by its label (never `objection_deadline`)."""
    words = _field_words()
    shown = [Problem(words.get(p.where, p.where), p.message) for p in exc.shown()]
    return render(
        request, "evaluation/problems.html", {"problems": shown, "back": back}, status=400
    )


@login_required
def scheme_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The landing page: schemes the user may open."""
    schemes = access.visible_schemes(request.user)
    along = [(s, Line(line)) for s, line in lines.line_schemes(actor(request))]
    return render(
        request, "evaluation/scheme_list.html", {"schemes": schemes, "line_schemes": along}
    )


@login_required
@require_http_methods(["GET", "POST"])
def scheme_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create or replace a draft from a YAML file or an xlsx sheet (all or nothing)."""
    problems: list[Any] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DubanError(_("choose a file"), "file")
            data = read_upload(upload)
            name = (upload.name or "").lower()
            if name.endswith(".xlsx"):
                scheme = sheets.import_scheme_xlsx(data, user=actor(request))
            else:
                try:
                    text = decode_text(data, upload.name or "")
                except UndecodableText as exc:
                    raise DubanError(str(exc), "file") from None
                scheme = services.import_scheme_yaml(text, user=actor(request), source=name)
        except DubanError as exc:
            problems = exc.shown()
        else:
            messages.success(request, _("Scheme imported."))
            return redirect("evaluation:scheme", code=scheme.code)
    return render(
        request, "evaluation/import.html", {"problems": problems}, status=400 if problems else 200
    )


@login_required
def scheme_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_view(request.user, scheme)
    built = None
    problems: list[Any] = []
    try:
        built = scheme_to_engine(scheme)
    except DubanError as exc:
        problems = exc.shown()
    items = scheme.items.select_related("category").prefetch_related(targets_with_units())
    groups = scheme.groups.prefetch_related(members_with_units())
    warnings = []
    if built is not None:
        from duban.evaluation.engine import scheme_warnings

        warnings = scheme_warnings(built)
    context = {
        "scheme": scheme,
        "items": items,
        "groups": groups,
        "categories": scheme.categories.all(),
        "warnings": warnings,
        "problems": problems,
        "can_manage": access.can_manage(request.user, scheme),
        "publications": scheme.publications.all(),
        "what_ifs": scheme.what_ifs.all(),
        "default_period": str(scheme.year),
        "today": timezone.localdate(),
    }
    return render(request, "evaluation/scheme_detail.html", context)


@login_required
def scheme_yaml(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_view(request.user, scheme)
    try:
        text = services.export_scheme_yaml(scheme)
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    return download(text, f"{scheme.code}.yaml", "application/yaml; charset=utf-8")


@login_required
def scheme_xlsx(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_view(request.user, scheme)
    return download(sheets.export_scheme_xlsx(scheme), f"{scheme.code}.xlsx", XLSX)


@login_required
@require_POST
def scheme_publish(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_manage(request.user, scheme)
    try:
        services.publish_scheme(scheme, user=actor(request))
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    messages.success(request, _("Scheme issued."))
    return redirect("evaluation:scheme", code=scheme.code)


@login_required
@require_POST
def scheme_copy(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_manage(request.user, scheme)
    try:
        copy = services.copy_scheme_as_draft(scheme, user=actor(request))
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    messages.success(request, _("What-if copy made: edit its weights and targets, then compare."))
    return redirect("evaluation:scheme", code=copy.code)


@login_required
def compare(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_manage(request.user, scheme)
    period = request.GET.get("period") or str(scheme.year)
    try:
        rows = services.compare_what_if(scheme, period, lang())
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    return render(
        request,
        "evaluation/compare.html",
        {"scheme": scheme, "rows": rows, "period": period, "periods": scheme_periods(scheme)},
    )


def _scored(request: AuthenticatedHttpRequest, scheme: Scheme) -> Scored:
    return score(scheme, request.GET.get("period") or None)


@login_required
def scores(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The ranking table of one period (year to date by default), rows the user may see."""
    scheme = _scheme(code)
    seen = access.require_view(request.user, scheme)
    today = timezone.localdate()
    try:
        scored = score(scheme, request.GET.get("period") or None, today=today, with_previous=False)
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    result = scored.result
    lg = lang()
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        snapshot = _result_dict(scored, lg)
        rows = exports.results_rows(snapshot, seen)
        name = f"{scheme.code}-{result.period.id}"
        if fmt == "csv":
            return download(exports.csv_text(rows), f"{name}.csv", CSV)
        return download(exports.xlsx_bytes(rows, note=_note(scheme)), f"{name}.xlsx", XLSX)
    compared = rank_changes.against(scored, today)
    groups = {g.code: g for g in scored.engine.groups}
    cohorts = []
    for group_code, sequence, members in result.cohorts:
        shown = [result.units[c] for c in result.units if c in members and c in seen]
        if not shown:
            continue
        title = groups[group_code].name.get(lg)
        if sequence:
            seq = next(s for s in groups[group_code].sequences if s.code == sequence)
            title += " · " + seq.name.get(lg)
        cats = [c for c in scored.engine.categories if any(c.code in u.categories for u in shown)]
        table = []
        for u in shown:
            table.append(
                {
                    "u": u,
                    "name": u.unit.name.get(lg),
                    "total": fixed(u.total, 2),
                    "grade": u.grade.name.get(lg),
                    "band": u.band.name.get(lg) if u.band.code != u.grade.code else "",
                    "delta": compared.delta(u.unit.code, u.rank),
                    "cats": [  # (heading, score): phones show each cell under its heading
                        (
                            c.name.get(lg),
                            fixed(u.categories[c.code].score, 2) if c.code in u.categories else "",
                        )
                        for c in cats
                    ],
                    "behind": sum(1 for r in u.items.values() if "behind" in r.flags),
                }
            )
        cohorts.append({"title": title, "cats": [c.name.get(lg) for c in cats], "rows": table})
    context = {
        "scheme": scheme,
        "scored": scored,
        "result": result,
        "period": result.period.id,
        "periods": scheme_periods(scheme),
        "cohorts": cohorts,
        "problems": [p for p in result.problems if p.unit in seen],
        "lang": lg,
        "compared": compared,
    }
    return render(request, "evaluation/scores.html", context)


def _note(scheme: Scheme) -> str:
    return "演示数据均为虚构 / All demo figures are invented." if scheme.issuer.is_demo else ""


def _result_dict(scored: Scored, lg: str) -> dict[str, Any]:
    from duban.evaluation.engine import result_to_dict

    return result_to_dict(scored.result, lg)


@login_required
def unit_scores(request: AuthenticatedHttpRequest, code: str, unit: str) -> HttpResponse:
    """One unit: every item with its derivation, shortfalls (短板) with room (上升空间), 对账."""
    scheme = _scheme(code)
    target = get_object_or_404(OrgUnit, code=unit)
    access.require_unit(request.user, scheme, target)
    today = timezone.localdate()
    try:
        scored = score(scheme, request.GET.get("period") or None, today=today, with_previous=False)
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    result = scored.result
    if unit not in result.units:
        raise Http404("not scored by this scheme")
    lg = lang()
    u = result.units[unit]
    links = figure_links(
        target,
        result.period.id,
        [r.item.indicator for r in u.items.values()],
        [r.item.indicator for r in u.items.values() if r.item.cumulative],
    )
    items = []
    explained = with_class_names((r.item.indicator, r.explanation) for r in u.items.values())
    for r, explanation in zip(u.items.values(), explained, strict=True):
        placed = result.item_place(unit, r.item.code)
        items.append(
            {
                "r": r,
                "name": r.item.name.get(lg),
                "score": fixed(r.score, 2),
                "value": "" if r.value is None else figure(r.value),
                "target": "" if r.target is None else figure(r.target),
                "flags": [label(flag, lg) for flag in r.flags],
                "expected": "" if r.expected is None else fixed(r.expected, 2),
                "place": f"{placed[0]}/{placed[1]}" if placed else "",
                "explanation": explanation.text(lg),
                "figures_url": links.get(r.item.indicator, ""),
            }
        )
    shortfalls = [
        {
            "name": row.item.name.get(lg),
            "code": row.item.code,
            "reasons": ("、" if lg == "zh" else ", ").join(label(r, lg) for r in row.reasons),
            "lost": fixed(row.points_lost, 2),
            "room": fixed(row.room, 2),
        }
        for row in result.shortfalls(unit)
    ]
    compared = rank_changes.against(scored, today)
    context = {
        "scheme": scheme,
        "unit": target,
        "u": u,
        "name": u.unit.name.get(lg),
        "total": fixed(u.total, 2),
        "grade": u.grade.name.get(lg),
        "band": u.band.name.get(lg),
        "delta": compared.delta(unit, u.rank),
        "compared": compared,
        "period": result.period.id,
        "items": items,
        "shortfalls": shortfalls,
        "reconciliation": list(exports.reconciliation_rows(result, [unit], lg))[1:],
        "can_object": access.OBJECT is not None,
    }
    return render(request, "evaluation/unit_scores.html", context)


@login_required
def reconciliation(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """收官对账 for one unit (?unit=) or every unit the user may see; csv / xlsx export."""
    scheme = _scheme(code)
    seen = access.require_view(request.user, scheme)
    wanted = request.GET.get("unit", "")
    if wanted:
        target = get_object_or_404(OrgUnit, code=wanted)
        access.require_unit(request.user, scheme, target)
        seen = {wanted}
    try:
        scored = _scored(request, scheme)
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    result = scored.result
    codes = [c for c in result.units if c in seen]
    rows = list(exports.reconciliation_rows(result, codes, lang()))
    fmt = request.GET.get("format", "")
    name = f"{scheme.code}-{result.period.id}-reconciliation"
    if fmt == "csv":
        return download(exports.csv_text(rows), f"{name}.csv", CSV)
    if fmt == "xlsx":
        return download(exports.xlsx_bytes(rows, title="reconciliation", note=_note(scheme)),
                     f"{name}.xlsx", XLSX)  # fmt: skip
    context = {
        "scheme": scheme,
        "rows": rows[1:],
        "period": result.period.id,
        "periods": scheme_periods(scheme),
        "unit": wanted,
    }
    return render(request, "evaluation/reconciliation.html", context)


# Publication ---------------------------------------------------------------------------------


@login_required
@require_POST
def publish_results(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme = _scheme(code)
    access.require_manage(request.user, scheme)
    try:
        try:
            deadline = date.fromisoformat(request.POST.get("objection_deadline", ""))
        except ValueError:
            raise DubanError(_("give a date such as 2018-01-15"), "objection_deadline") from None
        pub = services.publish_results(
            scheme, request.POST.get("period", ""), user=actor(request), objection_deadline=deadline
        )
    except DubanError as exc:
        return _problems_page(request, exc, scheme.code)
    messages.success(request, _("Results published for review."))
    return redirect("evaluation:publication", pk=pub.pk)


def _publication(request: AuthenticatedHttpRequest, pk: int) -> tuple[Publication, set[str]]:
    pub = get_object_or_404(Publication.objects.select_related("scheme__issuer"), pk=pk)
    seen = access.require_view(request.user, pub.scheme)
    return pub, seen


@login_required
def publication(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The frozen results as published, the objections, and any difference with today's data."""
    pub, seen = _publication(request, pk)
    return render(request, "evaluation/publication.html", _publication_context(request, pub, seen))


def _publication_context(
    request: AuthenticatedHttpRequest, pub: Publication, seen: set[str]
) -> dict[str, Any]:
    lg = lang()
    snapshot = pub.snapshot_for(lg)
    units = [u for u in snapshot.get("units", []) if u["code"] in seen]
    manage = access.can_manage(request.user, pub.scheme)
    objections = pub.objections.select_related("unit", "lodged_by", "ruled_by")
    if not manage:
        objections = objections.filter(unit__code__in=seen)
    try:
        diffs = [d for d in services.differences(pub, lg) if d.unit in seen]
    except DubanError:
        diffs = []
    from duban.orgs import policy

    may_object = [
        u for u in units if policy.can(request.user, access.OBJECT, OrgUnit.objects.get(code=u["code"]))
    ] if pub.state == "review" else []  # fmt: skip
    # One table per comparison group, in the published order, as on the scores page.
    by_code = {u["code"]: u for u in units}
    cohorts = []
    for cohort in snapshot.get("cohorts", []):
        rows = [by_code[code] for code in cohort["units"] if code in by_code]
        if rows:
            title = cohort["group_name"]
            if cohort.get("sequence_name"):
                title += " · " + cohort["sequence_name"]
            cohorts.append({"title": title, "rows": rows})
    context = {
        "pub": pub,
        "scheme": pub.scheme,
        "cohorts": cohorts,
        "objections": objections,
        "diffs": diffs,
        "can_manage": manage,
        "may_object": may_object,
        "window_open": timezone.localdate() <= pub.objection_deadline,
        "scheme_items": pub.scheme.items.order_by("id"),
        "item_names": {i.code: i.name for i in pub.scheme.items.all()},
    }
    return context


@login_required
@require_POST
def lodge_objection(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pub, _seen = _publication(request, pk)
    unit = get_object_or_404(OrgUnit, code=request.POST.get("unit", ""))
    upload = request.FILES.get("evidence")
    try:
        evidence = (upload.name or "evidence", read_upload(upload)) if upload else None
        services.lodge_objection(
            pub,
            user=actor(request),
            unit=unit,
            item=request.POST.get("item", ""),
            text=request.POST.get("text", ""),
            evidence=evidence,
        )
    except DubanError as exc:
        # The form again, as typed: only a file cannot be kept (a browser never refills it).
        context = _publication_context(request, pub, _seen)
        words = _field_words()
        context["problems"] = [Problem(words.get(p.where, p.where), p.message) for p in exc.shown()]
        context["typed"] = request.POST
        context["typed_file"] = upload.name if upload else ""
        return render(request, "evaluation/publication.html", context, status=400)
    messages.success(request, _("Objection lodged."))
    return redirect("evaluation:publication", pk=pub.pk)


@login_required
@require_POST
def rule_objection(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(Objection.objects.select_related("publication__scheme"), pk=pk)
    access.require_manage(request.user, objection.publication.scheme)
    try:
        services.rule_objection(
            objection,
            user=actor(request),
            upheld=request.POST.get("decision") == "upheld",
            reason=request.POST.get("reason", ""),
        )
    except DubanError as exc:
        return _problems_page(request, exc, objection.publication.scheme.code)
    messages.success(request, _("Ruling recorded."))
    return redirect("evaluation:publication", pk=objection.publication_id)


@login_required
def objection_evidence(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(Objection.objects.select_related("publication__scheme"), pk=pk)
    scheme = objection.publication.scheme
    if not access.can_manage(request.user, scheme):
        access.require_unit(request.user, scheme, objection.unit)
    if not objection.evidence:
        raise Http404("no evidence")
    with objection.evidence.open("rb") as fh:
        data = fh.read()
    return download(data, objection.evidence_name or "evidence", "application/octet-stream")


@login_required
@require_POST
def refresh_publication(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pub, _seen = _publication(request, pk)
    access.require_manage(request.user, pub.scheme)
    try:
        services.refresh_publication(
            pub, user=actor(request), reason=request.POST.get("reason", "")
        )
    except DubanError as exc:
        return _problems_page(request, exc, pub.scheme.code)
    messages.success(request, _("Published results refreshed."))
    return redirect("evaluation:publication", pk=pub.pk)


@login_required
@require_POST
def finalise(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pub, _seen = _publication(request, pk)
    access.require_manage(request.user, pub.scheme)
    try:
        services.finalise_publication(pub, user=actor(request))
    except DubanError as exc:
        return _problems_page(request, exc, pub.scheme.code)
    messages.success(request, _("Results are final."))
    return redirect("evaluation:publication", pk=pub.pk)


@login_required
def publication_export(request: AuthenticatedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Final results for the incentive mechanisms (三项机制), as published."""
    pub, seen = _publication(request, pk)
    rows = exports.results_rows(pub.snapshot_for(lang()), seen)
    name = f"{pub.scheme.code}-{pub.period}-{pub.state}"
    if fmt == "csv":
        return download(exports.csv_text(rows), f"{name}.csv", CSV)
    if fmt == "xlsx":
        return download(exports.xlsx_bytes(rows, note=_note(pub.scheme)), f"{name}.xlsx", XLSX)
    raise Http404("csv or xlsx")
