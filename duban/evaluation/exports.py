"""Row iterators for results and reconciliation, and the csv / xlsx renderers that consume them.

Every cell goes through ``duban.spreadsheets.safe_cell``: a text that starts with
= + - @ (a formula to a spreadsheet) gets a leading apostrophe and control characters
are removed, so an exported unit name or explanation can never run in the reader's
Excel nor break the file. The row iterators hand numbers over as Decimals, never as
text, so a negative gap stays a number and a unit named "-1" is still escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from duban.evaluation import engine
from duban.evaluation.engine.decimals import figure, fixed, plain
from duban.spreadsheets import safe_cell

Row = Sequence[Any]


def _number(text: str) -> Decimal | str:
    """A figure the engine formatted (``-3.50``) as the number it is, digits kept; anything
    else (``∞``, an empty cell) as the text it is."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return value if value.is_finite() else text


def results_rows(snapshot: dict[str, Any], units: set[str] | None = None) -> Iterator[Row]:
    """Final results for 三项机制: one row per unit (header first)."""
    yield ("period", "group", "unit", "unit_name", "rank", "total", "grade", "band", "vetoed")
    for u in snapshot.get("units", []):
        if units is not None and u["code"] not in units:
            continue
        yield (
            snapshot.get("period", ""),
            u["group"],
            u["code"],
            u["name"],
            u["rank"],
            _number(str(u["total"])),
            u["grade"]["name"],
            u["band"]["name"],
            "1" if u["vetoed"] else "0",
        )


def reconciliation_rows(
    result: engine.SchemeResult, units: Iterable[str], lang: str = "zh"
) -> Iterator[Row]:
    """收官对账: item by item target, actual, gap, score and points lost (header first)."""
    yield ("unit", "unit_name", "item", "item_name", "target", "actual", "gap", "points", "score",
           "points_lost", "counted")  # fmt: skip
    for code in units:
        u = result.units[code]
        for row in result.reconciliation(code):
            yield (
                code,
                u.unit.name.get(lang),
                row.item.code,
                row.item.name.get(lang),
                "" if row.target is None else _number(figure(row.target)),
                "" if row.actual is None else _number(figure(row.actual)),
                "" if row.gap is None else _number(figure(row.gap)),
                _number(plain(row.points)),
                _number(fixed(row.score, 2)),
                _number(fixed(row.points_lost, 2)),
                "1" if row.counted else "0",
            )


def csv_text(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return "\ufeff" + out.getvalue()  # a BOM so that Excel reads the Chinese as UTF-8


def _columns() -> dict[str, tuple[str, str | None]]:
    """Each column's header in the reader's language and its number format (None: text)."""
    return {
        "period": (_("Period"), None),
        "group": (_("Peer group"), None),
        "unit": (_("Unit code"), None),
        "unit_name": (_("Unit"), None),
        "rank": (_("Rank"), "0"),
        "total": (_("Total"), "0.00"),
        "grade": (_("Grade"), None),
        "band": (_("Band"), None),
        "vetoed": (_("Vetoed"), None),
        "item": (_("Item code"), None),
        "item_name": (_("Item"), None),
        "target": (_("Target"), "#,##0.######"),
        "actual": (_("Actual"), "#,##0.######"),
        "gap": (_("Gap"), "#,##0.######"),
        "points": (_("Points"), "0.####"),
        "score": (_("Score"), "0.00"),
        "points_lost": (_("Points lost"), "0.00"),
        "counted": (_("Counted"), None),
    }


SHEET_TITLES = {
    "results": gettext_lazy("Results"),
    "reconciliation": gettext_lazy("Reconciliation"),
}
YES_NO = ("vetoed", "counted")


def xlsx_bytes(rows: Iterable[Row], *, title: str = "results", note: str = "") -> bytes:
    """The rows as a workbook an office files: Chinese headers, a frozen header row, figures
    as numbers with their formats, yes/no in words."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(SHEET_TITLES.get(title, title))[:31]
    if note:
        sheet.append([safe_cell(note)])
    columns = _columns()
    keys: list[str] = []
    for row in rows:
        if not keys:
            keys = [str(k) for k in row]
            sheet.append([columns.get(k, (k, None))[0] for k in keys])
            sheet.freeze_panes = f"A{sheet.max_row + 1}"
            continue
        cells = [
            (_("yes") if v == "1" else _("no")) if k in YES_NO else v
            for k, v in zip(keys, row, strict=True)
        ]
        sheet.append([safe_cell(v) for v in cells])
        for index, (k, value) in enumerate(zip(keys, cells, strict=True), start=1):
            fmt = columns.get(k, ("", None))[1]
            if fmt and isinstance(value, Decimal | int):
                sheet.cell(row=sheet.max_row, column=index).number_format = fmt
    for index, k in enumerate(keys, start=1):
        wide = k in ("unit_name", "item_name", "group")
        sheet.column_dimensions[get_column_letter(index)].width = 28 if wide else 12
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
