"""The DOCX read back: paper, grid, the header block, fonts by role, tables, footers."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from duban.documents import layout as L
from duban.documents.model import OfficialDocument

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def xml(data: bytes, part: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(part).decode("utf-8")


def open_docx(data: bytes):  # type: ignore[no-untyped-def]
    from docx import Document

    return Document(io.BytesIO(data))


def paragraphs(data: bytes):  # type: ignore[no-untyped-def]
    return open_docx(data).paragraphs


def find(data: bytes, text: str):  # type: ignore[no-untyped-def]
    return next(p for p in paragraphs(data) if p.text == text)


def fonts(p) -> set[tuple[str | None, str | None]]:  # type: ignore[no-untyped-def]
    out = set()
    for r in p._p.iter(f"{W}rFonts"):
        out.add((r.get(f"{W}eastAsia"), r.get(f"{W}ascii")))
    return out


def size(p) -> set[str | None]:  # type: ignore[no-untyped-def]
    return {s.get(f"{W}val") for s in p._p.iter(f"{W}sz")}


def test_paper_margins_and_grid_are_gbt9704(docx_bytes: bytes) -> None:
    doc = xml(docx_bytes, "word/document.xml")
    assert '<w:pgSz w:w="11906" w:h="16838"/>' in doc
    margins = re.search(r"<w:pgMar [^>]*/>", doc)
    assert margins is not None
    for side, value in (("top", 2098), ("bottom", 1984), ("left", 1587), ("right", 1474)):
        assert f'w:{side}="{value}"' in margins.group(0)
    grid = re.search(r"<w:docGrid [^>]*/>", doc)
    assert grid is not None
    assert 'w:type="linesAndChars"' in grid.group(0)
    assert 'w:linePitch="579"' in grid.group(0)
    # 28 characters in 156 mm = 442.205 pt: 15.793 pt each, (15.793 - 16) * 4096 = -848
    assert 'w:charSpace="-848"' in grid.group(0)


def test_text_block_is_156_by_225_mm(docx_bytes: bytes) -> None:
    from docx.shared import Length

    section = open_docx(docx_bytes).sections[0]
    width = Length(section.page_width - section.left_margin - section.right_margin)
    height = Length(section.page_height - section.top_margin - section.bottom_margin)
    assert abs(width.mm - 156) < 0.1
    assert abs(height.mm - 225) < 0.1


def test_mark_is_red_xiaobiaosong_centred_35mm_down(
    docx_bytes: bytes, bulletin: OfficialDocument
) -> None:
    mark = paragraphs(docx_bytes)[0]
    assert mark.text == "陕西省公安厅改革办公室"
    assert fonts(mark) == {("方正小标宋简体", "方正小标宋简体")}
    assert {c.get(f"{W}val") for c in mark._p.iter(f"{W}color")} == {"FF0000"}
    assert mark.alignment == 1  # centre
    assert abs(mark.paragraph_format.space_before.mm - 35) < 0.1
    # 11 characters of 36 pt (小初) fit the 156 mm block
    assert size(mark) == {"72"}


def test_number_two_lines_below_with_red_line_under_it(docx_bytes: bytes) -> None:
    number = paragraphs(docx_bytes)[1]
    assert number.text == "陕公改办通〔2017〕7号"
    assert number.alignment == 1
    assert number.paragraph_format.space_before.twips == 2 * 579
    bottom = number._p.find(f"{W}pPr/{W}pBdr/{W}bottom")
    assert bottom is not None and bottom.get(f"{W}color") == "FF0000"
    # 4 mm = 11.3 pt less the half leading (579 - 320) / 2 twips = 6.5 pt
    assert bottom.get(f"{W}space") == "5"


def test_title_addressees_and_body(docx_bytes: bytes) -> None:
    ps = paragraphs(docx_bytes)
    title = ps[2]
    assert title.text == "关于2017年11月全省公安机关重点工作推进情况的通报"
    assert fonts(title) == {("方正小标宋简体", "方正小标宋简体")} and size(title) == {"44"}
    assert title.alignment == 1 and title.paragraph_format.space_before.twips == 2 * 579
    to = ps[3]
    assert (
        to.text == "各市（区）公安局，省厅各部门："
        and to.paragraph_format.space_before.twips == 579
    )
    body = next(p for p in ps if p.text.startswith("11月，全省"))
    assert fonts(body) == {("仿宋_GB2312", "Times New Roman")} and size(body) == {"32"}
    ind = body._p.find(f"{W}pPr/{W}ind")
    assert ind.get(f"{W}firstLineChars") == "200" and ind.get(f"{W}firstLine") == "640"


@pytest.mark.parametrize(
    ("text", "font"),
    [("一、总体情况", "黑体"), ("（一）考评得分与排名", "楷体_GB2312"), ("二、存在的问题", "黑体")],
)
def test_headings_by_level(docx_bytes: bytes, text: str, font: str) -> None:
    heading = find(docx_bytes, text)
    assert {east for east, _latin in fonts(heading)} == {font}
    assert size(heading) == {"32"}


def test_table_cells_match_the_model(docx_bytes: bytes, bulletin: OfficialDocument) -> None:
    table = bulletin.tables()[0]
    (written,) = open_docx(docx_bytes).tables
    assert [c.text for c in written.rows[0].cells] == [c.header for c in table.columns]
    assert len(written.rows) == 1 + len(table.rows)
    for row, model_row in zip(written.rows[1:], table.rows, strict=True):
        expected = [L.cell_text(c, v) for c, v in zip(table.columns, model_row, strict=True)]
        assert [c.text for c in row.cells] == expected
    # hand-worked: 西安 is first with 95.00 points, 1,800 cases filed, 30.00% solved
    assert [c.text for c in written.rows[2].cells][:6] == [
        "1",
        "西安市公安局",
        "95.00",
        "1,800",
        "540",
        "30.00%",
    ]


def test_table_fits_block_repeats_header_and_bolds_totals(docx_bytes: bytes) -> None:
    tbl = open_docx(docx_bytes).tables[0]._tbl
    widths = [int(g.get(f"{W}w")) for g in tbl.iter(f"{W}gridCol")]
    assert sum(widths) == 8844  # 156 mm
    rows = tbl.findall(f"{W}tr")
    assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None
    assert rows[1].find(f"{W}trPr/{W}tblHeader") is None
    assert rows[1].find(f".//{W}b") is not None  # 全省合计
    assert rows[2].find(f".//{W}b") is None
    assert {s.get(f"{W}val") for s in rows[2].iter(f"{W}sz")} == {"24"}  # 小四


def test_charts_are_images_no_wider_than_the_block(docx_bytes: bytes) -> None:
    doc = xml(docx_bytes, "word/document.xml")
    extents = [int(cx) for cx in re.findall(r'<wp:extent cx="(\d+)"', doc)]
    assert len(extents) == 2
    assert all(cx <= 156 * 36000 for cx in extents)  # EMU


def test_signature_date_and_notes_without_seal(docx_bytes: bytes) -> None:
    ps = paragraphs(docx_bytes)
    i = [p.text for p in ps].index("2017年12月8日")
    day = ps[i]
    assert ps[i - 1].text == "陕西省公安厅改革办公室"
    # signature 11 字 右空二字; the 6.5-字 date starts 2 字 right of it: right 4.5 字
    assert ps[i - 1]._p.find(f"{W}pPr/{W}ind").get(f"{W}rightChars") == "200"
    assert day._p.find(f"{W}pPr/{W}ind").get(f"{W}rightChars") == "450"
    note = ps[i + 1]
    assert note.text == "（演示数据均为虚构。）"
    assert note._p.find(f"{W}pPr/{W}ind").get(f"{W}leftChars") == "200"


def test_record_lines_thick_thin_thick_in_4hao(docx_bytes: bytes) -> None:
    ps = paragraphs(docx_bytes)
    copy_to = next(p for p in ps if p.text.startswith("抄送："))
    printed = next(p for p in ps if p.text.endswith("印发"))
    assert printed.text == "陕西省公安厅改革办公室\t2017年12月8日印发"
    top = copy_to._p.find(f"{W}pPr/{W}pBdr/{W}top")
    between = copy_to._p.find(f"{W}pPr/{W}pBdr/{W}bottom")
    last = printed._p.find(f"{W}pPr/{W}pBdr/{W}bottom")
    assert (top.get(f"{W}sz"), between.get(f"{W}sz"), last.get(f"{W}sz")) == ("8", "6", "8")
    assert size(copy_to) == {"28"} and size(printed) == {"28"}
    frame = printed._p.find(f"{W}pPr/{W}framePr")
    assert frame.get(f"{W}yAlign") == "bottom" and frame.get(f"{W}vAnchor") == "margin"


def test_odd_and_even_footers_with_dashes(docx_bytes: bytes) -> None:
    settings = xml(docx_bytes, "word/settings.xml")
    assert "<w:evenAndOddHeaders/>" in settings
    doc = open_docx(docx_bytes)
    section = doc.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    for p in (odd, even):
        assert p.text == "— 1 —"
        assert "> PAGE </w:instrText>" in p._p.xml
        assert fonts(p) == {("宋体", "宋体")} and size(p) == {"28"}
    assert odd.alignment == 2 and odd._p.find(f"{W}pPr/{W}ind").get(f"{W}rightChars") == "100"
    assert even.alignment == 0 and even._p.find(f"{W}pPr/{W}ind").get(f"{W}leftChars") == "100"


def test_core_properties_carry_number_and_index(docx_bytes: bytes) -> None:
    props = open_docx(docx_bytes).core_properties
    assert props.title == "关于2017年11月全省公安机关重点工作推进情况的通报"
    assert props.author == "陕西省公安厅改革办公室"
    assert props.subject == "陕公改办通〔2017〕7号"
    assert props.keywords == "陕公改办通〔2017〕7号; 索引号 431100051/2017-04796"


def test_a_draft_has_a_mark_and_no_number() -> None:
    from duban.documents.docx import to_docx
    from duban.documents.samples import sample_bulletin

    data = to_docx(sample_bulletin(draft=True), images=[[], []])
    ps = paragraphs(data)
    assert ps[1].text == ""
    assert "陕公改办通" not in xml(data, "word/document.xml")
    header = open_docx(data).sections[0].header.paragraphs[0]
    assert header.text == "草稿"
    assert {c.get(f"{W}val") for c in header._p.iter(f"{W}color")} == {"FF0000"}
