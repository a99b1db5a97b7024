"""The document as PDF: the standalone print HTML through WeasyPrint.

WeasyPrint embeds the role fonts of ``fonts.ROLES`` subset to the characters used (by
HarfBuzz when Debian's libharfbuzz-subset is there, fontTools otherwise): a 150-unit bulletin
embeds a few hundred glyphs of each, not the 20 MB collections.
"""

from __future__ import annotations

from collections.abc import Sequence

from duban.documents.html import to_print_html
from duban.documents.model import OfficialDocument


def to_pdf(doc: OfficialDocument, *, images: Sequence[Sequence[bytes]] | None = None) -> bytes:
    """The PDF of the document (charts drawn here unless ``images`` gives them)."""
    from weasyprint import HTML

    html = to_print_html(doc, images=images)
    pdf = HTML(string=html).write_pdf(
        pdf_identifier=False, uncompressed_pdf=False, optimize_images=False
    )
    assert pdf is not None
    return bytes(pdf)
