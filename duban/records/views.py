"""The record import's pages: upload and the list of imports, one import with its bad rows
(paged) and the decision. Thin: fetch, ask the policy, call one service."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from duban.errors import DubanError, Problem
from duban.jobs.work import start
from duban.orgs import policy
from duban.orgs.policy import Action
from duban.records import jobs, services
from duban.records.forms import UploadForm
from duban.records.importing import describe
from duban.records.models import ImportState, RecordImport
from duban.records.readers import COLUMNS, RecordsError
from duban.web import AuthenticatedHttpRequest, actor, post_action

IMPORTS_PER_PAGE = 20
PROBLEMS_PER_PAGE = 100


def _may_import(request: AuthenticatedHttpRequest) -> None:
    if not policy.can_any(actor(request), Action.IMPORT_RECORDS):
        raise policy.PermissionDenied(_("importing business records needs the unit's office"))


@login_required
@require_http_methods(["GET", "POST"])
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _may_import(request)
    user = actor(request)
    form = UploadForm(
        request.POST or None, request.FILES or None, units=services.import_units(user)
    )
    problems: list[Problem] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        file: UploadedFile = form.cleaned_data["file"]
        try:
            if jobs.goes_to_background(file.size or 0):
                _check_size(file)
                name = Path(file.name or "records.csv").name
                job = start(
                    jobs.KIND,
                    user=user,
                    unit=form.units[form.cleaned_data["unit"]],
                    upload=(name, file.read()),
                    return_to=reverse("records:index"),
                    unit_code=form.cleaned_data["unit"],
                    name=name,
                )
                return redirect(job)
            imp = _upload(form, user)
        except DubanError as exc:
            problems, status = exc.shown(), exc.status
        else:
            if imp.state == ImportState.APPLIED:
                messages.success(request, _applied(imp))
            else:
                messages.warning(
                    request,
                    _("%(bad)d bad rows: nothing is written until you decide below.")
                    % {"bad": imp.rows_bad},
                )
            return redirect("records:detail", pk=imp.pk)
    imports = Paginator(services.visible_imports(user), IMPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "records/index.html",
        {"form": form, "problems": problems, "imports": imports, "columns": COLUMNS},
        status=status,
    )


def _check_size(file: UploadedFile) -> None:
    if file.size is not None and file.size > services.max_bytes():
        raise RecordsError(
            _("the file has %(size)d bytes; the limit is %(limit)d")
            % {"size": file.size, "limit": services.max_bytes()},
            "file",
        )


def _upload(form: UploadForm, user: object) -> RecordImport:
    file: UploadedFile = form.cleaned_data["file"]
    _check_size(file)
    unit = form.units[form.cleaned_data["unit"]]
    name = Path(file.name or "records.csv").name
    local = getattr(file, "temporary_file_path", None)
    if local is not None:
        return services.import_file(Path(local()), name=name, user=user, unit=unit)  # type: ignore[arg-type]
    with tempfile.NamedTemporaryFile(prefix="duban-upload-") as tmp:
        for chunk in file.chunks():
            tmp.write(chunk)
        tmp.flush()
        return services.import_file(Path(tmp.name), name=name, user=user, unit=unit)  # type: ignore[arg-type]


def _applied(imp: RecordImport) -> str:
    return _("Applied: %(new)d new records, %(known)d already held, %(bad)d bad rows left out.") % {
        "new": imp.rows_new,
        "known": imp.rows_known,
        "bad": imp.rows_bad,
    }


def _import_or_403(request: AuthenticatedHttpRequest, pk: int) -> RecordImport:
    imp = get_object_or_404(
        RecordImport.objects.select_related("unit", "imported_by", "decided_by"), pk=pk
    )
    if imp.unit is None:
        raise policy.PermissionDenied(_("this import names no unit"))
    policy.require(actor(request), Action.IMPORT_RECORDS, imp.unit)
    return imp


@login_required
def detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    imp = _import_or_403(request, pk)
    page = Paginator(services.problems_of(imp), PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(p, describe(p)) for p in page]
    return render(
        request,
        "records/detail.html",
        {"imp": imp, "page": page, "rows": rows, "waiting": imp.state == ImportState.WAITING},
    )


@login_required
@require_POST
def apply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    imp = _import_or_403(request, pk)
    back = reverse("records:detail", args=[imp.pk])
    return post_action(
        request,
        lambda: services.apply_import(imp, user=actor(request)),
        back=back,
        done=_("The good rows are written; the bad rows listed are left out."),
    )


@login_required
@require_POST
def refuse(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    imp = _import_or_403(request, pk)
    back = reverse("records:detail", args=[imp.pk])
    return post_action(
        request,
        lambda: services.refuse_import(imp, user=actor(request)),
        back=back,
        done=_("The file is refused: nothing of it was written."),
    )
