"""The workbook read back with openpyxl: numbers are numbers, formats, headers, panes."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from duban.documents.model import Column, OfficialDocument, Table
from duban.documents.xlsx import number_format, sheet_names, to_xlsx


@pytest.fixture(scope="module")
def workbook(bulletin: OfficialDocument):  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(to_xlsx(bulletin)))


def test_an_info_sheet_then_one_sheet_per_table(workbook) -> None:  # type: ignore[no-untyped-def]
    assert workbook.sheetnames == ["文件信息", "全省公安机关重点工作绩效考评情况"]
    info = {r[0]: r[1] for r in workbook["文件信息"].iter_rows(values_only=True)}
    assert info["发文字号"] == "陕公改办通〔2017〕7号"
    assert info["索引号"] == "431100051/2017-04796"
    assert info["成文日期"] == "2017年12月8日"


def test_headers_frozen_and_numbers_as_numbers(workbook) -> None:  # type: ignore[no-untyped-def]
    ws = workbook.worksheets[1]
    assert [c.value for c in ws[1]] == [
        "排名",
        "单位",
        "总得分",
        "立案数",
        "破案数",
        "破案率",
        "抓获逃犯",
        "名次变化",
    ]
    assert ws.freeze_panes == "A2"
    total = [c.value for c in ws[2]]
    assert total == [None, "全省合计", None, 124254, 56260, 45.28, 242, "—"]
    first = ws[3]
    assert [c.value for c in first][:7] == [1, "西安市公安局", 95, 1800, 540, 30, 3]
    assert [c.number_format for c in first][:7] == [
        "0",
        "General",
        "0.00",
        "#,##0",
        "#,##0",
        '0.00"%"',
        "0",
    ]
    assert all(isinstance(c.value, (int, float)) for c in first[2:7])


def test_total_rows_bold_and_widths_fit_names(workbook) -> None:  # type: ignore[no-untyped-def]
    ws = workbook.worksheets[1]
    assert ws["B2"].font.b and not ws["B3"].font.b
    # 杨凌示范区公安局: 8 wide characters, two widths each, and a margin of 2
    assert ws.column_dimensions["B"].width == 18


def test_the_stored_percent_is_the_printed_figure() -> None:
    """45.2813… shows as 45.28%: the cell stores 45.28 (percentage points), format 0.00"%"."""
    from openpyxl import load_workbook

    from duban.documents.samples import sample_bulletin

    doc = sample_bulletin()
    table = Table("t", [Column("率", decimals=2, percent=True)], [[Decimal("45.28125")], [None]])
    data = to_xlsx(
        OfficialDocument(doc.authority, doc.title, [table], doc.signature, doc.date_written)
    )
    ws = load_workbook(io.BytesIO(data)).worksheets[1]
    assert ws["A2"].value == 45.28 and ws["A2"].number_format == '0.00"%"'
    assert ws["A3"].value is None


def test_formats_by_column() -> None:
    assert number_format(Column("a", decimals=2, thousands=True)) == "#,##0.00"
    assert number_format(Column("a", decimals=1, percent=True)) == '0.0"%"'
    assert number_format(Column("a", decimals=0)) == "0"


def test_sheet_names_are_cut_cleaned_and_unique() -> None:
    long = "全省公安机关重点工作绩效考评情况一览表（按得分排名）附各市县明细"
    names = sheet_names([long, long, "a/b:c", "文件信息"])
    assert names[0] == long[:31] and len(names[0]) == 31
    assert names[1] == long[:28] + "(2)"
    assert names[2] == "abc"
    assert names[3] == "文件信息(2)"


def test_a_formula_in_a_cell_is_neutralised() -> None:
    from openpyxl import load_workbook

    from duban.documents.samples import sample_bulletin

    doc = sample_bulletin()
    table = Table("t", [Column("单位")], [["=HYPERLINK(1)"]])
    data = to_xlsx(
        OfficialDocument(doc.authority, doc.title, [table], doc.signature, doc.date_written)
    )
    assert load_workbook(io.BytesIO(data)).worksheets[1]["A2"].value == "'=HYPERLINK(1)"
