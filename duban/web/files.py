"""File responses: every download names its file the same way, Chinese names included.

`Content-Disposition` carries an ASCII `filename` and, for any other name, the RFC 5987
`filename*=utf-8''…` that browsers read (Django's `content_disposition_header`); uploaded
files are always downloads, never rendered inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"


def attachment(name: str) -> str:
    """The Content-Disposition value that saves the body as `name`."""
    return content_disposition_header(True, name) or "attachment"


def download(body: bytes | str, name: str, content_type: str) -> HttpResponse:
    """A document built in memory (xlsx, docx, pdf, yaml, csv …), saved as `name`."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = attachment(name)
    return response


def xlsx_response(data: bytes, name: str) -> HttpResponse:
    return download(data, name, XLSX)


def csv_stream(lines: Iterable[str], name: str) -> StreamingHttpResponse:
    """A CSV written row by row as it is sent (exports of many figures)."""
    response = StreamingHttpResponse(lines, content_type=CSV)
    response["Content-Disposition"] = attachment(name)
    return response


def stored_file(fh: IO[bytes], name: str) -> FileResponse:
    """An uploaded file (evidence), handed back as a download of untrusted bytes."""
    response = FileResponse(
        fh, as_attachment=True, filename=name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
