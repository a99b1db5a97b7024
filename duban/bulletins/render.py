"""A bulletin as a document and as files: its kind composes it, the writers lay it out.

An issued document's files are the ones kept at issue (``IssuedFile``); a draft's are
rendered on each download and marked as a draft by every writer.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import translation

from duban.bulletins import kinds
from duban.bulletins.models import Bulletin
from duban.documents.model import OfficialDocument

FORMATS = ("docx", "pdf", "xlsx")
#: Charts at 150 dpi: sharp on paper at their printed size, and a quarter of 200 dpi's pixels.
CHART_DPI = 150
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def text_parts(bulletin: Bulletin) -> list[kinds.TextPart]:
    return kinds.kind(bulletin.kind).texts(bulletin.content)


def texts(bulletin: Bulletin) -> dict[str, str]:
    """The text parts as the office left them, the generated default where it wrote none."""
    edited = bulletin.texts or {}
    return {p.key: edited.get(p.key, p.default) for p in text_parts(bulletin)}


def compose(bulletin: Bulletin) -> OfficialDocument:
    """The document, in Chinese whatever the reader's language: it is the official text."""
    with translation.override("zh-hans"):
        return kinds.kind(bulletin.kind).compose(bulletin, texts(bulletin))


def render(bulletin: Bulletin, fmt: str) -> bytes:
    """The document in one format, rendered now."""
    return render_all(bulletin, (fmt,))[fmt]


def render_all(bulletin: Bulletin, formats: Sequence[str] = FORMATS) -> dict[str, bytes]:
    """The document in each format, its charts drawn once for all of them."""
    from duban.documents.charts import document_images
    from duban.documents.docx import to_docx
    from duban.documents.pdf import to_pdf
    from duban.documents.xlsx import to_xlsx

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format {sorted(unknown)!r}")
    doc = compose(bulletin)
    images = document_images(doc, dpi=CHART_DPI) if {"docx", "pdf"} & set(formats) else []
    out: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "docx":
            out[fmt] = to_docx(doc, images=images)
        elif fmt == "pdf":
            out[fmt] = to_pdf(doc, images=images)
        else:
            out[fmt] = to_xlsx(doc)
    return out


def stored_or_rendered(bulletin: Bulletin, fmt: str) -> bytes:
    """The file as issued (kept), or a draft's rendered now."""
    if bulletin.is_issued:
        kept = bulletin.files.filter(format=fmt).first()
        if kept is not None:
            return bytes(kept.content)
    return render(bulletin, fmt)


def filename(bulletin: Bulletin, fmt: str) -> str:
    stem = bulletin.number or f"{bulletin.title}（草稿）"
    return f"{stem}.{fmt}"


def html(doc: OfficialDocument) -> str:
    """The document as an HTML fragment for its page (escaped by the writer)."""
    from duban.documents.html import to_html

    return to_html(doc)
