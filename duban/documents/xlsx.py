"""The document's tables as an Excel workbook: one sheet per table, numbers as numbers.

Conventions (docs/documents.md):
- a first sheet 文件信息 names the document (title, authority, number, date, 索引号);
- each table's sheet is named after its title (Excel's 31 characters, no []:*?/\\, unique),
  row 1 holds the Chinese headers and is frozen, total rows are bold, the note follows the
  last row;
- a number cell stores the figure the document prints — rounded half-up to the column's
  decimals — so the workbook and the PDF agree to the last digit; a percent column stores
  the percentage points (38.99, format ``0.00"%"``), not the fraction 0.3899 with ``0.00%``,
  because that is the number the document shows and a reader types;
- a missing number is an empty cell (the column stays numeric), a missing text a dash;
- every text goes through ``duban.spreadsheets.safe_cell`` (no formula injection).
"""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal

from duban.documents import layout as L
from duban.documents.model import Cell, Column, OfficialDocument, Table
from duban.spreadsheets import safe_cell

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31
INFO_SHEET = "文件信息"


def number_format(column: Column) -> str:
    """The Excel format showing a number as the document does (decimals, grouping, %)."""
    decimals = column.decimals or 0
    digits = "#,##0" if column.thousands else "0"
    if decimals:
        digits += "." + "0" * decimals
    return digits + ('"%"' if column.percent else "")


def cell_value(column: Column, value: Cell) -> object:
    """What a cell stores: the shown number (a Decimal, rounded half-up), or safe text."""
    if value is None:
        return None if column.decimals is not None else L.EMPTY
    if isinstance(value, str) or column.decimals is None:
        return safe_cell(L.cell_text(column, value))
    shown = Decimal(value).quantize(Decimal(1).scaleb(-column.decimals), rounding=ROUND_HALF_UP)
    return int(shown) if column.decimals == 0 else shown


def sheet_names(titles: list[str]) -> list[str]:
    """Sheet names from titles: cut to 31 characters, Excel's forbidden characters removed,
    a number appended to repeats (and to a title that would clash with the info sheet)."""
    taken = {INFO_SHEET}
    names = []
    for n, title in enumerate(titles, start=1):
        base = _BAD_SHEET_CHARS.sub("", title).strip("'").strip() or f"表{n}"
        name, k = base[:SHEET_MAX], 1
        while name in taken:
            k += 1
            suffix = f"({k})"
            name = base[: SHEET_MAX - len(suffix)] + suffix
        taken.add(name)
        names.append(name)
    return names


def _width(texts: list[str]) -> float:
    """Excel column width (in widths of "0"): a CJK character counts two."""
    return min(60.0, max((L.ems(t) * 2 for t in texts), default=4.0) + 2)


def _sheet(wb: object, name: str, table: Table) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)  # type: ignore[attr-defined]
    bold = Font(bold=True)
    ws.append([safe_cell(c.header) for c in table.columns])
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    formats = [number_format(c) if c.decimals is not None else None for c in table.columns]
    for i, row in enumerate(table.rows):
        ws.append([cell_value(c, v) for c, v in zip(table.columns, row, strict=True)])
        written = ws[ws.max_row]
        for cell, fmt in zip(written, formats, strict=True):
            if fmt is not None:
                cell.number_format = fmt
            if i < table.total_rows:
                cell.font = bold
    if table.note:
        ws.append([])
        ws.append([safe_cell(table.note)])
    ws.freeze_panes = "A2"
    for k, column in enumerate(table.columns, start=1):
        texts = [column.header] + [L.cell_text(column, r[k - 1]) for r in table.rows]
        ws.column_dimensions[get_column_letter(k)].width = _width(texts)


def _info(wb: object, doc: OfficialDocument) -> None:
    from openpyxl.styles import Font

    ws = wb.active  # type: ignore[attr-defined]
    ws.title = INFO_SHEET
    rows = [
        ("标题", doc.title),
        ("发文机关", doc.authority),
        ("发文字号", L.DRAFT if doc.draft or not doc.number else doc.number),
        ("成文日期", L.date_text(doc.date_written)),
        ("索引号", doc.index_number),
        ("分类", doc.category),
    ]
    rows += [("附注", n) for n in doc.notes]
    for key, value in rows:
        ws.append([key, safe_cell(value)])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = _width([v for _k, v in rows])


def to_xlsx(doc: OfficialDocument) -> bytes:
    """The workbook of the document's tables (and its info sheet)."""
    from openpyxl import Workbook

    wb = Workbook()
    _info(wb, doc)
    tables = doc.tables()
    for name, table in zip(sheet_names([t.title for t in tables]), tables, strict=True):
        _sheet(wb, name, table)
    wb.properties.title = doc.title
    wb.properties.creator = doc.authority
    wb.properties.subject = doc.number or L.DRAFT
    wb.properties.keywords = doc.index_number
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
