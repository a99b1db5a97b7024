"""The document as DOCX for Word and WPS, to GB/T 9704-2012 (GBT9704.md item numbers below).

The file names the standard's fonts (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312, 宋体; see
``fonts.ROLES``): an office PC has them, and whoever edits the bulletin edits it in them.
Paragraphs and tables are written as WordprocessingML directly (one ``parse_xml`` per
block): python-docx's cell-by-cell table API takes seconds for a 150-row table.

Vertical positions use paragraph spacing on the 22-line grid (one 行 = 579 twips):
- the mark (§3): space before 35 mm on an exact line as tall as its type, so its top edge
  sits 35 mm below the text block's top (Word puts an exact line's glyphs at its top);
- the number two 行 below it; the red line is the number paragraph's bottom border, drawn
  4 mm under the number's glyphs (border space = 4 mm less the line's half leading);
- the title two 行 under the red line, the addressees one 行 under the title.
- The 版记 (§5) is a frame anchored to the bottom of the text block, so its last line
  sits on the text block's lower edge of the last page, as the standard asks.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from duban.documents import layout as L
from duban.documents.fonts import ROLES, Role
from duban.documents.model import (
    Chart,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
)

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
LINE = int(L.LINE_MM * 1440 / 25.4)  # 579 twips = 28.95 pt (22 of them fit in 225 mm)
CHAR = round(L.SIZE_3 * 20)  # one 3号 字: 320 twips
CHAR4 = round(L.SIZE_4 * 20)  # one 4号 字: 280 twips
BLOCK_TW = round(L.BLOCK_W * 1440 / 25.4)  # 8844 twips
#: w:charSpace: 4096ths of a point added to the 16 pt default so that 28 fit in 156 mm.
CHAR_SPACE = round((L.CHAR_MM / 25.4 * 72 - L.SIZE_3) * 4096)
RED_LINE_SZ = 8  # eighths of a point: 1 pt (the standard gives no thickness)
THICK_SZ, THIN_SZ = 8, 6  # 版记 lines: 1 pt ≈ 0.35 mm, 0.75 pt ≈ 0.26 mm (§5)
HEADING_ROLE: dict[int, Role] = {1: "heading1", 2: "heading2", 3: "body", 4: "body"}


def tw(mm: float) -> int:
    """Millimetres in twips (1/20 pt)."""
    return round(mm * 1440 / 25.4)


def _x(text: str) -> str:
    return escape(text)


def rpr(role: Role, size_pt: float, *, colour: str = "", bold: bool = False) -> str:
    """Run properties naming the role's font for East Asian text and for digits/Latin."""
    spec = ROLES[role]
    east, latin = _x(spec.docx_font), _x(spec.docx_latin)
    half = round(size_pt * 2)
    parts = [f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east}" w:cs="{latin}"/>']
    if bold or role == "bold":
        parts.append("<w:b/><w:bCs/>")
    if colour:
        parts.append(f'<w:color w:val="{colour}"/>')
    parts.append(f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>')
    return f"<w:rPr>{''.join(parts)}</w:rPr>"


def run(text: str, role: Role, size_pt: float = L.SIZE_3, **kw: object) -> str:
    return f'<w:r>{rpr(role, size_pt, **kw)}<w:t xml:space="preserve">{_x(text)}</w:t></w:r>'  # type: ignore[arg-type]


def ppr(
    *,
    jc: str = "both",
    before: int = 0,
    line: int | None = LINE,
    first_chars: int = 0,
    left_chars: float = 0,
    right_chars: float = 0,
    char: int = CHAR,
    grid: bool = True,
    extra: str = "",
) -> str:
    """Paragraph properties: alignment, space before, an exact line (None: single, for
    images and tables), indents in 字 (w:*Chars and twips for readers that ignore them)."""
    spacing = f'<w:spacing w:before="{before}" w:after="0"'
    spacing += (
        f' w:line="{line}" w:lineRule="exact"/>' if line else ' w:line="240" w:lineRule="auto"/>'
    )
    ind = ""
    if first_chars or left_chars or right_chars:
        ind = (
            f'<w:ind w:left="{round(left_chars * char)}" w:leftChars="{round(left_chars * 100)}"'
            f' w:right="{round(right_chars * char)}" w:rightChars="{round(right_chars * 100)}"'
        )
        if first_chars:
            ind += f' w:firstLine="{first_chars * char}" w:firstLineChars="{first_chars * 100}"'
        ind += "/>"
    snap = "" if grid else '<w:snapToGrid w:val="0"/>'
    return f'<w:pPr>{extra}{snap}{spacing}{ind}<w:jc w:val="{jc}"/></w:pPr>'


def para(runs: str, **kw: object) -> str:
    return f"<w:p {W_NS}>{ppr(**kw)}{runs}</w:p>"  # type: ignore[arg-type]


def _head(doc: OfficialDocument) -> list[str]:
    mark = L.mark_size_pt(doc.authority)
    mark_line = round(mark * 20)
    out = [
        para(run(doc.authority, "mark", mark, colour=L.RED), jc="center",
             before=tw(L.MARK_TOP_MM), line=mark_line, grid=False),
    ]  # fmt: skip
    # The red line: 4 mm under the number's glyphs, which end half the leading above the
    # line's bottom ((579 - 320) / 2 twips); w:space is in points.
    leading_pt = (LINE - CHAR) / 2 / 20
    space = max(0, round(L.RED_LINE_GAP_MM / 25.4 * 72 - leading_pt))
    border = (
        f'<w:pBdr><w:bottom w:val="single" w:sz="{RED_LINE_SZ}" w:space="{space}"'
        f' w:color="{L.RED}"/></w:pBdr>'
    )
    number = "" if doc.draft or not doc.number else doc.number
    out.append(para(run(number, "body"), jc="center", before=2 * LINE, extra=border))
    out.append(para(run(doc.title, "title", L.SIZE_2), jc="center", before=2 * LINE))
    if doc.addressees:
        out.append(para(run(doc.addressees + "：", "body"), jc="left", before=LINE))
    return out


def _table(table: Table) -> list[str]:
    widths = [tw(w) for w in L.column_shares(list(table.columns))]
    widths[-1] += BLOCK_TW - sum(widths)  # the shares sum to 156 mm exactly
    out = []
    if table.title:
        out.append(para(run(table.title, "heading1"), jc="center"))
    border = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    rows = [
        f'<w:tbl {W_NS}><w:tblPr><w:tblW w:w="{BLOCK_TW}" w:type="dxa"/>'
        f'<w:jc w:val="center"/><w:tblBorders>{border}</w:tblBorders>'
        '<w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0"'
        ' w:noHBand="0" w:noVBand="1"/></w:tblPr>',
        "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>",
    ]

    def cell(text: str, width: int, role: Role, jc: str) -> str:
        return (
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
            f"<w:p>{ppr(jc=jc, line=None, grid=False)}{run(text, role, L.TABLE_PT)}</w:p></w:tc>"
        )

    head = "".join(
        cell(c.header, w, "heading1", "center") for c, w in zip(table.columns, widths, strict=True)
    )
    rows.append(f"<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>{head}</w:tr>")
    for i, row in enumerate(table.rows):
        role: Role = "bold" if i < table.total_rows else "body"
        cells = "".join(
            cell(L.cell_text(c, v), w, role, "center" if c.decimals is None else "right")
            for c, v, w in zip(table.columns, row, widths, strict=True)
        )
        rows.append(f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{cells}</w:tr>")
    rows.append("</w:tbl>")
    out.append("".join(rows))
    if table.note:
        out.append(para(run(table.note, "body", L.TABLE_PT), jc="left", line=None, grid=False))
    return out


def _signature(doc: OfficialDocument) -> list[str]:
    written = L.date_text(doc.date_written)
    sig_right, date_right = L.signature_indents(doc.signature, written)
    out = [
        para(run(doc.signature, "body"), jc="right", before=LINE, right_chars=sig_right),
        para(run(written, "body"), jc="right", right_chars=date_right),
    ]
    out += [para(run(f"（{n}）", "body"), jc="left", left_chars=2) for n in doc.notes]
    return out


def _record(doc: OfficialDocument) -> list[str]:
    """版记 in a frame on the text block's bottom edge: thick line first and last, thin
    between (§5); 4号仿宋, 抄送 indented one 字 each side, 印发 date flush right less one."""
    if not (doc.copy_to or doc.printed_by or doc.printed_on):
        return []
    frame = (
        f'<w:framePr w:w="{BLOCK_TW}" w:wrap="around" w:vAnchor="margin" w:hAnchor="margin"'
        ' w:xAlign="center" w:yAlign="bottom"/>'
    )

    def bdr(top: int, bottom: int) -> str:
        sides = []
        if top:
            sides.append(f'<w:top w:val="single" w:sz="{top}" w:space="1" w:color="000000"/>')
        if bottom:
            sides.append(f'<w:bottom w:val="single" w:sz="{bottom}" w:space="1" w:color="000000"/>')
        return f"<w:pBdr>{''.join(sides)}</w:pBdr>"

    printed_on = f"{L.date_text(doc.printed_on)}{L.PRINTED}" if doc.printed_on else ""
    tab = f'<w:tabs><w:tab w:val="right" w:pos="{BLOCK_TW - 2 * CHAR4}"/></w:tabs>'
    lines = []
    if doc.copy_to:
        lines.append((run(L.COPY_TO + doc.copy_to, "body", L.SIZE_4), ""))
    lines.append((
        run(doc.printed_by, "body", L.SIZE_4) + "<w:r><w:tab/></w:r>" + run(printed_on, "body", L.SIZE_4),
        tab,
    ))  # fmt: skip
    out = []
    for k, (runs, extra) in enumerate(lines):
        first, last = k == 0, k == len(lines) - 1
        border = bdr(THICK_SZ if first else 0, THICK_SZ if last else THIN_SZ)
        out.append(para(runs, jc="left", left_chars=1, right_chars=1, char=CHAR4,
                        extra=frame + border + extra))  # fmt: skip
    return out


def _footer_xml(odd: bool) -> str:
    """ "— n —" in 4号宋体, 7 mm under the text block: odd pages right, even left, 空一字."""
    number = rpr("page_number", L.SIZE_4)
    field = (
        f'<w:r>{number}<w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r>{number}<w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        f'<w:r>{number}<w:fldChar w:fldCharType="separate"/></w:r>'
        f"<w:r>{number}<w:t>1</w:t></w:r>"
        f'<w:r>{number}<w:fldChar w:fldCharType="end"/></w:r>'
    )
    runs = (
        run(f"{L.DASH} ", "page_number", L.SIZE_4)
        + field
        + run(f" {L.DASH}", "page_number", L.SIZE_4)
    )
    side = {"right_chars": 1} if odd else {"left_chars": 1}
    return ppr(jc="right" if odd else "left", line=None, grid=False, char=CHAR4, **side) + runs  # type: ignore[arg-type]


def _set_part(part_element: object, inner: str) -> None:
    from docx.oxml import parse_xml

    for child in list(part_element):  # type: ignore[call-overload]
        part_element.remove(child)  # type: ignore[attr-defined]
    part_element.append(parse_xml(f"<w:p {W_NS}>{inner}</w:p>"))  # type: ignore[attr-defined]


def _section(document: object, doc: OfficialDocument) -> None:
    from docx.oxml import parse_xml
    from docx.shared import Mm, Twips

    section = document.sections[0]  # type: ignore[attr-defined]
    section.page_width, section.page_height = Twips(11906), Twips(16838)
    section.top_margin, section.bottom_margin = Twips(2098), Twips(1984)
    section.left_margin, section.right_margin = Twips(1587), Twips(1474)
    section.header_distance = Mm(15)
    # The footer's line (4号 on a single line ≈ 6.4 mm) ends this far above the paper's
    # edge, so its dash sits 7 mm under the text block (35 - 7 - 6.4 mm).
    section.footer_distance = Mm(L.BOTTOM - L.PAGE_NUMBER_GAP_MM - 6.4)
    document.settings.odd_and_even_pages_header_footer = True  # type: ignore[attr-defined]
    _set_part(section.footer._element, _footer_xml(odd=True))
    _set_part(section.even_page_footer._element, _footer_xml(odd=False))
    if doc.draft:
        mark = para(run(L.DRAFT, "heading1", L.SIZE_2, colour=L.RED), jc="right", line=None,
                    grid=False, extra=f'<w:pBdr><w:top w:val="single" w:sz="8" w:space="1" w:color="{L.RED}"/></w:pBdr>')  # fmt: skip
        for header in (section.header, section.even_page_header):
            _set_part(header._element, mark[len(f"<w:p {W_NS}>") : -len("</w:p>")])
    sect = section._sectPr
    for old in sect.findall(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}docGrid"
    ):
        sect.remove(old)
    sect.append(parse_xml(
        f'<w:docGrid {W_NS} w:type="linesAndChars" w:linePitch="{LINE}" w:charSpace="{CHAR_SPACE}"/>'
    ))  # fmt: skip


def _defaults(document: object) -> None:
    """docDefaults in 3号仿宋 (the template's theme fonts would win over named ones)."""
    from docx.oxml import parse_xml

    styles = document.styles.element  # type: ignore[attr-defined]
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    defaults = styles.find(f"{ns}docDefaults")
    rpr_default = defaults.find(f"{ns}rPrDefault")
    for child in list(rpr_default):
        rpr_default.remove(child)
    body = rpr("body", L.SIZE_3).replace("<w:rPr>", f"<w:rPr {W_NS}>")
    rpr_default.append(
        parse_xml(body.replace("</w:rPr>", '<w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr>'))
    )
    for rfonts in styles.iter(f"{ns}rFonts"):  # the template's styles name theme fonts
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            rfonts.attrib.pop(f"{ns}{attr}", None)


def _core(document: object, doc: OfficialDocument) -> None:
    props = document.core_properties  # type: ignore[attr-defined]
    props.title = doc.title
    props.author = doc.authority
    props.last_modified_by = doc.authority
    props.subject = doc.number or L.DRAFT
    keywords = [doc.number or L.DRAFT]
    if doc.index_number:
        keywords.append(f"索引号 {doc.index_number}")
    props.keywords = "; ".join(keywords)
    props.category = doc.category
    props.comments = ""


def to_docx(doc: OfficialDocument, *, images: Sequence[Sequence[bytes]] | None = None) -> bytes:
    """The DOCX of the document (charts drawn here unless ``images`` gives them)."""
    from docx import Document
    from docx.oxml import parse_xml
    from docx.shared import Mm

    if images is None:
        from duban.documents.charts import document_images

        images = document_images(doc)
    document = Document()
    _defaults(document)
    _section(document, doc)
    body = document.element.body
    sect = body[-1]
    for child in list(body)[:-1]:
        body.remove(child)

    def add(xml: str) -> None:
        sect.addprevious(parse_xml(xml))

    for xml in _head(doc):
        add(xml)
    charts = 0
    for block in doc.body:
        if isinstance(block, Heading):
            add(para(run(block.text, HEADING_ROLE[block.level]), first_chars=2))
        elif isinstance(block, Paragraph):
            lead = run(block.lead, "body") if block.lead else ""
            add(para(lead + run(block.text, "body"), first_chars=2))
        elif isinstance(block, Table):
            for xml in _table(block):
                add(xml)
        elif isinstance(block, Chart):
            _chart(document, block, images[charts], add)
            charts += 1
        elif isinstance(block, PageBreak):
            add(f'<w:p {W_NS}><w:r><w:br w:type="page"/></w:r></w:p>')
    for xml in _signature(doc) + _record(doc):
        add(xml)
    _core(document, doc)
    out = io.BytesIO()
    document.save(out)
    del Mm
    return out.getvalue()


def _chart(document: object, block: Chart, pngs: Sequence[bytes], add: object) -> None:
    """Each image of a chart centred, 156 mm wide (the text block), on a single line so the
    exact grid line does not clip it; the cut note and the caption under it."""
    from docx.shared import Mm

    from duban.documents.charts import cut_note

    body = document.element.body  # type: ignore[attr-defined]
    for png in pngs:
        add(para("", jc="center", line=None, grid=False))  # type: ignore[operator]
        paragraph = body[-2]  # the paragraph just added, before sectPr
        from docx.text.paragraph import Paragraph as DocxParagraph

        DocxParagraph(paragraph, document.part).add_run().add_picture(  # type: ignore[attr-defined]
            io.BytesIO(png), width=Mm(L.BLOCK_W)
        )
    if note := cut_note(block.chart):
        add(para(run(note, "body", L.TABLE_PT), jc="left", line=None, grid=False))  # type: ignore[operator]
    if block.caption:
        add(para(run(block.caption, "body", L.SIZE_4), jc="center"))  # type: ignore[operator]
