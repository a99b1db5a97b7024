"""The PDF read back with poppler, and every character checked against its role's font."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from duban.documents import layout as L
from duban.documents.fonts import Role, font_file
from duban.documents.model import Chart, Heading, OfficialDocument, Paragraph

#: What pdffonts lists (after the subset tag) for the sample: the four stand-ins, no other.
EXPECTED_FONTS = {"Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold", "Noto-Sans-CJK-SC", "LXGW-WenKai"}


@pytest.fixture(scope="module")
def pdf_file(pdf_bytes: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "bulletin.pdf"
    path.write_bytes(pdf_bytes)
    return path


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_pages_are_a4(pdf_file: Path) -> None:
    info = run("pdfinfo", str(pdf_file))
    assert re.search(r"Pages:\s+4\n", info), info
    assert "595.276 x 841.89 pts (A4)" in info


def test_pages_render_to_png(pdf_file: Path, tmp_path: Path) -> None:
    run("pdftoppm", "-r", "20", "-png", str(pdf_file), str(tmp_path / "page"))
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 4
    assert pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_has_title_number_cells_and_page_numbers(pdf_file: Path) -> None:
    text = run("pdftotext", "-layout", str(pdf_file), "-")
    flat = re.sub(r"\s+", "", text)
    assert "关于2017年11月全省公安机关重点工作推进情况的通报" in flat
    assert "陕公改办通〔2017〕7号" in flat
    assert "西安市公安局95.001,80054030.00%" in flat  # a table row as the writers format it
    assert "124,254" in flat  # 全省合计's cases filed
    pages = text.split("\f")
    # pdftotext reads the spaces beside the dashes as glyph positions, not characters
    assert re.search(r"—\s*1\s*—", pages[0]) and re.search(r"—\s*2\s*—", pages[1])


def test_page_numbers_right_on_odd_pages_and_left_on_even(pdf_file: Path) -> None:
    pages = run("pdftotext", "-layout", str(pdf_file), "-").split("\f")
    odd = next(line for line in pages[0].splitlines() if re.search(r"—\s*1\s*—", line))
    even = next(line for line in pages[1].splitlines() if re.search(r"—\s*2\s*—", line))
    assert len(odd) - len(odd.lstrip()) > 20  # right
    assert len(even) - len(even.lstrip()) < 5  # left


def test_only_the_role_fonts_are_embedded(pdf_file: Path) -> None:
    listing = run("pdffonts", str(pdf_file)).splitlines()[2:]
    names = {line.split()[0].split("+", 1)[1] for line in listing}
    assert names == EXPECTED_FONTS
    assert all(" yes yes yes " in line for line in listing)  # embedded, subset, unicode


def role_texts(doc: OfficialDocument) -> dict[Role, str]:
    """The document's text by the role that sets it (html.print_css's rules)."""
    texts: dict[Role, list[str]] = {
        r: [] for r in ("mark", "title", "body", "bold", "heading1", "heading2", "page_number")
    }  # type: ignore[misc]
    texts["mark"].append(doc.authority)
    texts["title"].append(doc.title)
    written = L.date_text(doc.date_written)
    texts["body"] += [doc.number or "", doc.addressees + "：", doc.signature, written]
    texts["body"] += [f"（{n}）" for n in doc.notes]
    texts["body"] += [L.COPY_TO + doc.copy_to, doc.printed_by]
    if doc.printed_on:
        texts["body"].append(L.date_text(doc.printed_on) + L.PRINTED)
    texts["page_number"].append("— 0123456789")
    for block in doc.body:
        if isinstance(block, Heading):
            texts[
                "heading1" if block.level == 1 else "heading2" if block.level == 2 else "body"
            ].append(block.text)
        elif isinstance(block, Paragraph):
            texts["body"] += [block.lead, block.text]
        elif isinstance(block, Chart):
            texts["body"].append(block.caption)
    for table in doc.tables():
        texts["heading1"] += [table.title, *(c.header for c in table.columns)]
        texts["body"].append(table.note)
        for i, row in enumerate(table.rows):
            role: Role = "bold" if i < table.total_rows else "body"
            texts[role] += [L.cell_text(c, v) for c, v in zip(table.columns, row, strict=True)]
    return {role: "".join(parts) for role, parts in texts.items()}


def test_every_character_is_in_its_role_font(bulletin: OfficialDocument) -> None:
    from fontTools.ttLib import TTFont

    missing = {}
    for role, text in role_texts(bulletin).items():
        path, index = font_file(role)
        font = TTFont(path, fontNumber=index, lazy=True)
        cmap = font.getBestCmap()
        gaps = {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
        if gaps:
            missing[role] = gaps
        font.close()
    assert missing == {}


def test_a_character_outside_the_font_would_be_found() -> None:
    """The coverage check can fail: 𠀀 (U+20000, CJK Ext. B) is in none of the stand-ins."""
    from fontTools.ttLib import TTFont

    path, index = font_file("heading2")
    cmap = TTFont(path, fontNumber=index, lazy=True).getBestCmap()
    assert 0x20000 not in cmap and ord("楷") in cmap


def _record_bottom_mm(pdf: Path, page: int) -> float:
    """The lowest edge, in mm from the top, of the words of the 印发 line on the page."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(
        run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-")
    )
    words = [w for w in root.iter("{http://www.w3.org/1999/xhtml}word") if "印发" in (w.text or "")]
    assert words, "no 印发 on the page"
    return max(float(w.get("yMax", 0)) for w in words) * 25.4 / 72


def test_the_record_sits_alone_at_the_foot_of_the_page_after_a_full_one(pdf_file: Path) -> None:
    """§7.4: the 版记's last rule lies on the text block's lower edge (297 − 35 = 262 mm). The
    sample's third page has no room for it, so it stands at the foot of the fourth."""
    assert "印发" not in run("pdftotext", "-f", "3", "-l", "3", str(pdf_file), "-")
    edge = 297 - L.BOTTOM
    assert edge - L.LINE_MM < _record_bottom_mm(pdf_file, 4) < edge


def test_the_record_sits_at_the_foot_of_the_body_when_there_is_room(
    bulletin: OfficialDocument, tmp_path: Path
) -> None:
    from dataclasses import replace

    from duban.documents.pdf import to_pdf

    path = tmp_path / "short.pdf"
    path.write_bytes(to_pdf(replace(bulletin, body=[Paragraph("短文。")], notes=()), images=[]))
    assert re.search(r"Pages:\s+1\n", run("pdfinfo", str(path)))
    edge = 297 - L.BOTTOM
    assert edge - L.LINE_MM < _record_bottom_mm(path, 1) < edge
