"""The files reporting's pages and API routes exchange: exports, evidence, filled-in templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.http import JsonResponse
from django.http.response import HttpResponseBase

from duban.reporting import exports, importing
from duban.reporting.access import FormTarget
from duban.reporting.errors import ReportingError
from duban.reporting.models import Evidence
from duban.web import read_upload
from duban.web.files import csv_stream, stored_file, xlsx_response

if TYPE_CHECKING:
    from duban.orgs.policy import Actor
    from duban.reporting.values import WriteResult


def evidence_response(ev: Evidence) -> HttpResponseBase:
    """Always a download, never rendered inline: an uploaded file is not trusted content."""
    return stored_file(ev.file.open("rb"), ev.original_name)


def export_response(selection: exports.Selection, fmt_: str, user: Actor) -> HttpResponseBase:
    """The selection's figures as csv (streamed), xlsx or DHIS2 JSON, named after it."""
    rows = exports.export_rows(selection, user)
    name_parts = (
        selection.data_set.code if selection.data_set else "values",
        selection.root.code,
        selection.periods[0]
        if len(selection.periods) == 1
        else f"{selection.periods[0]}-{selection.periods[-1]}",
    )
    if fmt_ == "csv":
        return csv_stream(exports.csv_lines(rows), exports.filename(*name_parts, ext="csv"))
    if fmt_ == "xlsx":
        data = exports.xlsx_bytes(rows, title=" ".join(name_parts), demo=selection.root.is_demo)
        return xlsx_response(data, exports.filename(*name_parts, ext="xlsx"))
    if fmt_ == "json":
        return JsonResponse(exports.dhis2_json(rows))
    raise ReportingError(f"unknown format {fmt_!r}: use csv, xlsx or json", "format")


def import_template(target: FormTarget, file: UploadedFile, *, user: Actor) -> WriteResult:
    """The filled-in template of the form, or of the forms of the units below it that report
    the data set: every cell written or none."""
    units = [target.unit] + [
        c for c in target.unit.children.filter(is_active=True) if target.data_set.reported_by(c)
    ]
    data = read_upload(file)
    return importing.import_file(
        data,
        importing.sniff_format(file.name or "", data),
        user=user,
        form=(target.data_set, target.unit, target.period.id, units),
    )
