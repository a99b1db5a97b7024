"""The document as HTML: a fragment for the web page and a standalone page for the PDF.

The fragment is semantic HTML with ``doc-`` classes and no style attribute or script (the
app's Content-Security-Policy forbids inline ones); ``duban/static/duban/documents.css``
lays it out on screen and in the browser's print. Charts are ``<img>`` of the server-drawn
PNG, as data: URLs unless the caller gives ``chart_src`` (the page then needs
``img-src data:`` in its policy, or serves the images itself).

The standalone page adds paged-media CSS (``print_css``) with the GB/T 9704 numbers of
``layout`` and one font family per role from ``fonts.ROLES`` — the only families named, so
WeasyPrint never falls back to another font.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from html import escape

from duban.documents import layout as L
from duban.documents.fonts import ROLES, Role
from duban.documents.model import Chart, Heading, OfficialDocument, PageBreak, Paragraph, Table

ChartSrc = Callable[[int, int, bytes], str]  # (chart index, part index, png) -> URL


def _data_url(_chart: int, _part: int, png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _e(text: str) -> str:
    return escape(text, quote=True)


def _head(doc: OfficialDocument) -> list[str]:
    out = ['<header class="doc-head">']
    if doc.draft:
        out.append(f'<p class="doc-draft-mark">{L.DRAFT}</p>')
    size = int(L.mark_size_pt(doc.authority) * 10)
    out.append(f'<p class="doc-authority doc-mark-{size}">{_e(doc.authority)}</p>')
    number = "" if doc.draft or not doc.number else _e(doc.number)
    out.append(f'<p class="doc-number">{number}</p>')
    out.append("</header>")
    out.append(f'<h1 class="doc-title">{_e(doc.title)}</h1>')
    if doc.addressees:
        out.append(f'<p class="doc-addressees">{_e(doc.addressees)}：</p>')
    return out


def _table(table: Table, n: int) -> list[str]:
    shares = L.column_shares(list(table.columns))
    out = [f'<figure class="doc-table doc-table-{n}">']
    if table.title:
        out.append(f'<figcaption class="doc-table-title">{_e(table.title)}</figcaption>')
    out.append("<table>")
    out.append("<colgroup>")
    # widths as classes would need one rule per share; a <col width> is an attribute, not a
    # style, so the CSP allows it (percent of the text block).
    out += [f'<col width="{w / L.BLOCK_W * 100:.2f}%">' for w in shares]
    out.append("</colgroup>")
    out.append("<thead><tr>")
    out += [f'<th scope="col">{_e(c.header)}</th>' for c in table.columns]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(table.rows):
        cls = ' class="doc-total"' if i < table.total_rows else ""
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            num = "" if column.decimals is None else ' class="doc-num"'
            cells.append(f"<td{num}>{_e(L.cell_text(column, value))}</td>")
        out.append(f"<tr{cls}>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="doc-table-note">{_e(table.note)}</p>')
    out.append("</figure>")
    return out


def _chart(block: Chart, n: int, images: Sequence[bytes], chart_src: ChartSrc) -> list[str]:
    from duban.documents.charts import cut_note

    alt = _e(block.caption or getattr(block.chart, "title", ""))
    out = ['<figure class="doc-chart">']
    out += [
        f'<img class="doc-chart-image" src="{_e(chart_src(n, k, png))}" alt="{alt}">'
        for k, png in enumerate(images)
    ]
    if note := cut_note(block.chart):
        out.append(f'<p class="doc-chart-note">{_e(note)}</p>')
    if block.caption:
        out.append(f'<figcaption class="doc-chart-caption">{_e(block.caption)}</figcaption>')
    out.append("</figure>")
    return out


def _body(
    doc: OfficialDocument, images: Sequence[Sequence[bytes]], chart_src: ChartSrc
) -> list[str]:
    out: list[str] = ['<div class="doc-body">']
    charts = tables = 0
    for block in doc.body:
        if isinstance(block, Heading):
            tag = f"h{block.level + 1}"
            out.append(f'<{tag} class="doc-h{block.level}">{_e(block.text)}</{tag}>')
        elif isinstance(block, Paragraph):
            lead = f'<span class="doc-lead">{_e(block.lead)}</span>' if block.lead else ""
            out.append(f'<p class="doc-p">{lead}{_e(block.text)}</p>')
        elif isinstance(block, Table):
            out += _table(block, tables)
            tables += 1
        elif isinstance(block, Chart):
            out += _chart(block, charts, images[charts], chart_src)
            charts += 1
        elif isinstance(block, PageBreak):
            out.append('<hr class="doc-page-break">')
    out.append("</div>")
    return out


def _signature(doc: OfficialDocument) -> list[str]:
    written = L.date_text(doc.date_written)
    sig_right, date_right = L.signature_indents(doc.signature, written)
    # The indents in 字 are classes of half a 字 (doc-right-9 = 4.5 字): no inline style.
    out = [
        '<div class="doc-signature">',
        f'<p class="doc-signer doc-right-{round(sig_right * 2)}">{_e(doc.signature)}</p>',
        f'<p class="doc-date doc-right-{round(date_right * 2)}">{_e(written)}</p>',
        "</div>",
    ]
    out += [f'<p class="doc-notes">（{_e(n)}）</p>' for n in doc.notes]
    return out


def _record(doc: OfficialDocument, *, pinned: bool = False) -> list[str]:
    """The 版记. On paper (``pinned``) it is a footnote of the last line: WeasyPrint sets it at
    the foot of the text block, so its last rule lies on the block's lower edge (§7.4), and
    moves it whole to a new page when the last one has no room. A footnote must hang from a
    line, so the record there is spans in an empty paragraph."""
    if not (doc.copy_to or doc.printed_by or doc.printed_on):
        return []
    tag = "span" if pinned else "p"
    out = ['<p class="doc-record-anchor"><span class="doc-record">' if pinned
           else '<footer class="doc-record">']  # fmt: skip
    if doc.copy_to:
        out.append(f'<{tag} class="doc-copy-to">{L.COPY_TO}{_e(doc.copy_to)}</{tag}>')
    printed_on = f"{L.date_text(doc.printed_on)}{L.PRINTED}" if doc.printed_on else ""
    out.append(
        f'<{tag} class="doc-printed"><span class="doc-printed-by">{_e(doc.printed_by)}</span>'
        f'<span class="doc-printed-on">{_e(printed_on)}</span></{tag}>'
    )
    out.append("</span></p>" if pinned else "</footer>")
    return out


def right_classes() -> range:
    """The half-字 steps the signature classes use (the stylesheet defines each)."""
    return range(0, 57)


def to_html(
    doc: OfficialDocument,
    *,
    images: Sequence[Sequence[bytes]] | None = None,
    chart_src: ChartSrc | None = None,
    paper: bool = False,
) -> str:
    """The document as an HTML fragment (``<article class="doc">``) for a web page (or, with
    ``paper``, for the PDF)."""
    if images is None:
        from duban.documents.charts import document_images

        images = document_images(doc)
    cls = "doc doc-draft" if doc.draft else "doc"
    parts = [f'<article class="{cls}" lang="zh-Hans">']
    parts += _head(doc)
    parts += _body(doc, images, chart_src or _data_url)
    parts += _signature(doc)
    parts += _record(doc, pinned=paper)
    parts.append("</article>")
    return "\n".join(parts)


def _font(role: Role) -> str:
    spec = ROLES[role]
    return f'font-family: "{spec.family}"; font-weight: {spec.weight}; font-style: normal;'


def _column_css(doc: OfficialDocument) -> str:
    """Column widths for WeasyPrint, which reads CSS widths, not <col width>."""
    rules = []
    for n, table in enumerate(doc.tables()):
        for k, w in enumerate(L.column_shares(list(table.columns)), start=1):
            rules.append(f".doc-table-{n} col:nth-child({k}) {{ width: {w:.2f}mm; }}")
    return "\n".join(rules)


def print_css(doc: OfficialDocument) -> str:
    """The paged-media CSS of the PDF: A4, the GB/T 9704 margins and line pitch, page
    numbers "— 1 —" right on odd (right) pages and left on even ones, fonts by role."""
    line = f"{L.LINE_MM:.3f}mm"
    # 28 characters of 16 pt in 156 mm: each character 5.571 mm, 0.073 mm narrower.
    tracking = f"{L.CHAR_MM - L.SIZE_3 * 25.4 / 72:.3f}mm"
    mark = L.mark_size_pt(doc.authority)
    page_number = (
        f'content: "{L.DASH} " counter(page) " {L.DASH}"; {_font("page_number")} '
        f"font-size: {L.SIZE_4}pt; line-height: 1; vertical-align: top; "
        f"padding-top: {L.PAGE_NUMBER_GAP_MM}mm;"
    )
    # Only the two indents this document uses: every rule costs WeasyPrint's cascade time.
    indents = L.signature_indents(doc.signature, L.date_text(doc.date_written))
    rights = "\n".join(
        f".doc-right-{n} {{ padding-right: {n / 2}em; }}"
        for n in sorted({round(x * 2) for x in indents})
    )
    return f"""
@page {{ size: A4; margin: {L.TOP}mm {L.RIGHT}mm {L.BOTTOM}mm {L.LEFT}mm; }}
@page :right {{ @bottom-right {{ {page_number} padding-right: 1em; text-align: right; }} }}
@page :left {{ @bottom-left {{ {page_number} padding-left: 1em; text-align: left; }} }}
html {{ {_font("body")} font-size: {L.SIZE_3}pt; line-height: {line}; color: #000; }}
body {{ margin: 0; }}
p, h1, h2, h3, h4, h5, figure, table {{ margin: 0; }}
.doc-p {{ text-indent: 2em; text-align: justify; letter-spacing: {tracking}; }}
.doc-lead {{ {_font("body")} }}
.doc-head {{ text-align: center; border-bottom: 1pt solid #{L.RED}; padding-bottom: {L.RED_LINE_GAP_MM}mm; }}
.doc-authority {{ {_font("mark")} color: #{L.RED}; font-size: {mark}pt; line-height: 1;
  margin-top: {L.MARK_TOP_MM}mm; }}
.doc-number {{ margin-top: {2 * L.LINE_MM:.3f}mm; min-height: {line}; line-height: 1; }}
.doc-title {{ {_font("title")} font-size: {L.SIZE_2}pt; text-align: center;
  margin-top: {2 * L.LINE_MM:.3f}mm; }}
.doc-addressees {{ margin-top: {line}; }}
.doc-h1 {{ {_font("heading1")} font-size: {L.SIZE_3}pt; text-indent: 2em; }}
.doc-h2 {{ {_font("heading2")} font-size: {L.SIZE_3}pt; text-indent: 2em; }}
.doc-h3, .doc-h4 {{ {_font("body")} font-size: {L.SIZE_3}pt; text-indent: 2em; }}
.doc-table {{ font-size: {L.TABLE_PT}pt; line-height: 1.3; margin: 0.5em 0; }}
.doc-table-title {{ break-after: avoid; {_font("heading1")} text-align: center; font-size: {L.SIZE_3}pt; line-height: {line}; }}
.doc-table table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
.doc-table thead {{ display: table-header-group; }}
.doc-table th {{ {_font("heading1")} border: 0.5pt solid #000; padding: 0.6mm 1mm; }}
.doc-table td {{ border: 0.5pt solid #000; padding: 0.6mm 1mm; text-align: center; }}
.doc-table td.doc-num {{ text-align: right; }}
.doc-table tr {{ page-break-inside: avoid; }}
.doc-total td {{ {_font("bold")} }}
.doc-table-note, .doc-chart-note {{ font-size: {L.TABLE_PT}pt; line-height: 1.5; }}
.doc-chart {{ margin: 0.5em 0; text-align: center; }}
.doc-chart-image {{ display: block; width: {L.BLOCK_W}mm; max-width: 100%; margin: 0 auto; }}
.doc-chart-caption {{ font-size: {L.SIZE_4}pt; }}
.doc-page-break {{ page-break-after: always; border: 0; margin: 0; }}
.doc-signature {{ margin-top: {line}; text-align: right; }}
{rights}
{_column_css(doc)}
.doc-notes {{ padding-left: 2em; }}
.doc-record-anchor {{ line-height: 0; margin: 0; }}
.doc-record {{ float: footnote; footnote-display: block; font-size: {L.SIZE_4}pt;
  border-top: 0.35mm solid #000; border-bottom: 0.35mm solid #000; }}
@page {{ @footnote {{ padding-top: {L.LINE_MM:.3f}mm; }} }}
.doc-record::footnote-call {{ content: ""; }}
.doc-record::footnote-marker {{ content: none; }}
.doc-record > span {{ display: block; padding: 0 1em; line-height: {L.LINE_MM:.3f}mm; }}
.doc-record > span + span {{ border-top: 0.25mm solid #000; }}
.doc-record > .doc-printed {{ display: flex; justify-content: space-between; }}
.doc-draft-mark {{ position: fixed; top: -25mm; right: 0; {_font("heading1")} color: #{L.RED};
  font-size: {L.SIZE_2}pt; line-height: 1; border: 1pt solid #{L.RED}; padding: 1mm 3mm; }}
"""


def to_print_html(doc: OfficialDocument, *, images: Sequence[Sequence[bytes]] | None = None) -> str:
    """The standalone page WeasyPrint turns into the PDF (the fragment and ``print_css``)."""
    return (
        '<!DOCTYPE html>\n<html lang="zh-Hans"><head><meta charset="utf-8">'
        f"<title>{_e(doc.title)}</title><style>{print_css(doc)}</style></head>"
        f"<body>{to_html(doc, images=images, paper=True)}</body></html>"
    )
