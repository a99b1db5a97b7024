"""Uploads read by python-calamine (issue 16, part 4): cells come as openpyxl's read-only mode
gave them, hidden sheets are there, a formula still reaches the import as a formula."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook, load_workbook

from duban.spreadsheets import WorkbookError, check_workbook, open_workbook, read_rows


def saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(data: bytes, part: str, old: bytes, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == part:
                assert old in body
                body = body.replace(old, new)
            target.writestr(info.filename, body)
    return out.getvalue()


@pytest.fixture(scope="module")
def cells() -> bytes:
    """Values in C3:K3 and D5, nothing in rows 1-2 nor columns A-B."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet["C3"] = 201712  # a code typed as a number
    sheet["D3"] = 0.1
    sheet["E3"] = 100.0
    sheet["F3"] = date(2017, 12, 8)
    sheet["G3"] = datetime(2017, 12, 8, 10, 30)
    sheet["H3"] = True
    sheet["I3"] = "  text "
    sheet["J3"] = -2.5
    sheet["K3"] = 12345678901
    sheet["D5"] = time(10, 30)
    hidden = book.create_sheet("_duban")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "kind"
    book.create_sheet("very").sheet_state = "veryHidden"
    return saved(book)


EXPECTED = [
    (None,) * 11,
    (None,) * 11,
    (None, None, 201712, 0.1, 100, datetime(2017, 12, 8), datetime(2017, 12, 8, 10, 30),
     True, "  text ", -2.5, 12345678901),
    (None,) * 11,
    (None, None, None, time(10, 30), *(None,) * 7),
]  # fmt: skip


def test_cells_come_as_openpyxl_gave_them(cells: bytes) -> None:
    book = open_workbook(cells)
    try:
        assert book.engine == "calamine"
        rows = list(read_rows(book["Data"]))
    finally:
        book.close()
    assert rows == EXPECTED
    assert [type(v) for v in rows[2][2:5]] == [int, float, int]
    assert repr(rows[2][3]) == "0.1"  # read through its repr: Decimal("0.1"), not 0.1000…055
    reference = load_workbook(io.BytesIO(cells), read_only=True)
    assert list(reference["Data"].iter_rows(values_only=True)) == rows
    reference.close()


def test_rows_from_a_row_number_and_raw_cells(cells: bytes) -> None:
    with open_workbook(cells) as book:
        assert list(read_rows(book["Data"], min_row=3)) == EXPECTED[2:]
        raw = list(read_rows(book["Data"], min_row=5, raw=True))
    assert raw == [["", "", "", time(10, 30), *[""] * 7]]


def test_hidden_sheets_are_listed_in_workbook_order(cells: bytes) -> None:
    with open_workbook(cells) as book:
        assert book.sheetnames == ["Data", "_duban", "very"]
        assert "_duban" in book
        assert list(read_rows(book["_duban"])) == [("kind",)]
        assert list(read_rows(book["very"])) == []
        assert book.active.title == "Data"
        with pytest.raises(KeyError):
            book["nope"]


def formula_book() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["indicator", "value"])
    sheet.append(["case.filed", "=1+2"])
    # As Excel saves it: the formula and the value it last computed.
    return rewritten(
        saved(book), "xl/worksheets/sheet1.xml", b"<f>1+2</f><v></v>", b"<f>1+2</f><v>3</v>"
    )


def test_a_formula_reaches_the_import_as_a_formula() -> None:
    data = formula_book()
    assert check_workbook(data) == (True, False)
    with open_workbook(data) as book:
        assert book.engine == "openpyxl"
        assert list(read_rows(book.active)) == [("indicator", "value"), ("case.filed", "=1+2")]


def test_with_data_only_a_formula_is_its_cached_value() -> None:
    with open_workbook(formula_book(), data_only=True) as book:
        assert book.engine == "calamine"
        assert list(read_rows(book.active)) == [("indicator", "value"), ("case.filed", 3)]


def test_data_validations_are_not_formulas() -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["x", 1])
    rule = DataValidation(type="list", formula1='"1,0"')
    sheet.add_data_validation(rule)
    rule.add("B1")
    assert check_workbook(saved(book)) == (False, False)


def test_what_calamine_cannot_read_is_refused_naming_the_file(cells: bytes) -> None:
    """calamine's own errors (here: the workbook part cut short; a sheet's part gone) become
    the one refusal, naming where."""
    broken = rewritten(cells, "xl/workbook.xml", b"</workbook>", b"")
    with pytest.raises(WorkbookError) as caught:
        open_workbook(broken, where="upload.xlsx")
    assert caught.value.problems[0].where == "upload.xlsx"
    assert caught.value.problems[0].message.startswith("无法读取该工作簿：")
    source = zipfile.ZipFile(io.BytesIO(cells))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, source.read(info))
    with open_workbook(out.getvalue()) as book, pytest.raises(WorkbookError) as caught:
        list(read_rows(book["Data"], where="Data"))
    assert caught.value.problems[0].where == "Data"


def test_an_error_value_is_not_an_empty_cell() -> None:
    """#N/A pasted as a value: calamine reads it as empty (a figure cleared without a word);
    openpyxl reads its text, which the import refuses naming the cell."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["case.filed", 1])
    data = rewritten(
        saved(book),
        "xl/worksheets/sheet1.xml",
        b'<c r="B1" t="n"><v>1</v></c>',
        b'<c r="B1" t="e"><v>#N/A</v></c>',
    )
    assert check_workbook(data) == (False, True)
    for data_only in (False, True):
        with open_workbook(data, data_only=data_only) as opened:
            assert opened.engine == "openpyxl"
            assert list(read_rows(opened.active)) == [("case.filed", "#N/A")]
