"""The web layer every app's pages and API routes share (docs/architecture.md).

Views and API modules import from here, never from each other: the typed signed-in request
and its actor, unit-or-403, reading an upload, problems onto a form or page, file responses
and the one-form page. The web layer sits above every app's services and models and below
every app's views and routes; the import contract (pyproject.toml) holds it there.
"""

from duban.web.files import (
    CSV,
    DOCX,
    PDF,
    XLSX,
    attachment,
    csv_stream,
    download,
    stored_file,
    xlsx_response,
)
from duban.web.pages import add_problems, form_page, post_action
from duban.web.requests import AuthenticatedHttpRequest, actor, read_upload, unit_or_403

__all__ = [
    "CSV",
    "DOCX",
    "PDF",
    "XLSX",
    "AuthenticatedHttpRequest",
    "actor",
    "add_problems",
    "attachment",
    "csv_stream",
    "download",
    "form_page",
    "post_action",
    "read_upload",
    "stored_file",
    "unit_or_403",
    "xlsx_response",
]
