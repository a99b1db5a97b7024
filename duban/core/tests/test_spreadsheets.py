"""The spreadsheet guard and the safe opener (issue 10, items 10-12)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from duban.spreadsheets import (
    XLSX_MAX_UNPACKED,
    WorkbookError,
    check_workbook,
    open_workbook,
    read_rows,
    safe_cell,
    safe_row,
    unguard_text,
)
from duban.testing import opened_parts


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(data: bytes, part: str, change: object) -> bytes:
    """The same archive with one part replaced (bytes) or transformed (a function)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == part:
                body = change(body) if callable(change) else change  # type: ignore[assignment]
            target.writestr(info.filename, body)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """The issue's file: well under a megabyte, its sheet unpacking to 390 MB of rows."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    head = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    data = workbook([["x"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, source.read(info))
                continue
            with target.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                chunk = row * 20_000
                for _ in range(390_000_000 // len(chunk)):
                    sheet.write(chunk)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


# Out ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("note\x05x", "notex"),
        ("\x05=1", "'=1"),
        ("甲县局", "甲县局"),
        ("", ""),
        (Decimal("-3.5"), Decimal("-3.5")),
        (-1, -1),
        (date(2017, 12, 8), date(2017, 12, 8)),
        (None, None),
        (True, True),
    ],
)
def test_every_cell_goes_through_one_guard(value: object, cell: object) -> None:
    assert safe_cell(value) == cell
    assert safe_row([value]) == [cell]


def test_our_apostrophe_is_dropped_on_reading_back() -> None:
    assert unguard_text(str(safe_cell("=SUM(1)"))) == "=SUM(1)"
    assert unguard_text("'plain") == "'plain"
    assert unguard_text("-1") == "-1"


# In -------------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_from_the_zips_directory(bomb: bytes, monkeypatch) -> None:
    """800 KB unpacking to 390 MB kept a worker 127 s before it was refused: now it is
    refused from the declared sizes, before a single part is unpacked."""
    assert len(bomb) < 2_000_000
    opened = opened_parts(monkeypatch)
    with pytest.raises(WorkbookError) as caught:
        open_workbook(bomb, where="file")
    assert opened == []
    assert caught.value.problems[0].where == "file"
    assert "MB，上限为 64.0 MB" in caught.value.problems[0].message


def test_a_part_that_unpacks_a_hundredfold_is_refused_below_the_size_limit() -> None:
    data = rewritten(
        workbook([["x"]]),
        "docProps/core.xml",
        b'<?xml version="1.0"?><x>' + b" " * 20_000_000 + b"</x>",
    )
    with pytest.raises(WorkbookError, match=r"docProps/core\.xml"):
        open_workbook(data)


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_a_doctype_is_refused_before_parsing(codec: str) -> None:
    """Entity expansion (billion laughs) and external entities: no spreadsheet has a DTD."""
    laughs = (
        f'<?xml version="1.0" encoding="{codec.upper()}"?><!DOCTYPE x [<!ENTITY a "ha">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )

    def inject(body: bytes) -> bytes:
        return (laughs + body.decode("utf-8").split("?>", 1)[-1]).encode(codec)

    data = rewritten(workbook([["x"]]), "xl/worksheets/sheet1.xml", inject)
    with pytest.raises(WorkbookError) as caught:
        open_workbook(data, where="scheme.xlsx")
    assert caught.value.problems[0].where == "scheme.xlsx"
    assert "DOCTYPE" in caught.value.problems[0].message


@pytest.mark.parametrize(
    "data",
    [b"not a workbook", b"PK\x03\x04broken", b""],
)
def test_what_is_not_a_workbook_is_named(data: bytes) -> None:
    with pytest.raises(WorkbookError) as caught:
        open_workbook(data, where="file")
    assert caught.value.problems[0].where == "file"


def test_a_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(WorkbookError, match="不是 Excel 工作簿"):
        open_workbook(out.getvalue())


def test_damaged_xml_found_while_reading_is_the_same_refusal() -> None:
    data = rewritten(
        workbook([["a"], ["b"]]),
        "xl/worksheets/sheet1.xml",
        lambda body: body.replace(b"</sheetData>", b"<row><c></sheetData>"),
    )
    book = open_workbook(data)
    try:
        with pytest.raises(WorkbookError) as caught:
            list(read_rows(book.active, where="Data"))
    finally:
        book.close()
    assert caught.value.problems[0].where == "Data"


def test_the_import_benchmarks_100000_figures_still_open() -> None:
    """The largest real upload: the benchmark's long sheet, 21.9 MB unpacked."""
    from benchmarks.bench_import import xlsx_bytes

    rows = [(f"bench.i{n % 20:02d}", "201712", f"C{n // 20:04d}", str(100 + n % 37))
            for n in range(100_000)]  # fmt: skip
    data = xlsx_bytes(rows)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert unpacked * 2.5 < XLSX_MAX_UNPACKED
    check_workbook(data)  # passes every limit with room (its time is bench_import's business)
