"""Row iterators for results and reconciliation, and the csv / xlsx renderers that consume them.

Every text cell goes through ``reporting.exports.safe_text``: a cell that starts
with = + - @ (a formula to a spreadsheet) is written as text, so an exported
unit name or explanation can never run in the reader's Excel.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook

from duban.evaluation import engine
from duban.evaluation.engine.decimals import figure, fixed, plain
from duban.reporting.exports import safe_text

Row = Sequence[Any]


NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _cell(value: Any) -> Any:
    """Text neutralised against formulas; a plain number (-3.5) is a number, not a formula."""
    if isinstance(value, str) and not NUMBER.match(value):
        return safe_text(value)
    return value


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
            u["total"],
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
                "" if row.target is None else figure(row.target),
                "" if row.actual is None else figure(row.actual),
                "" if row.gap is None else figure(row.gap),
                plain(row.points),
                fixed(row.score, 2),
                fixed(row.points_lost, 2),
                "1" if row.counted else "0",
            )


def csv_text(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return "\ufeff" + out.getvalue()  # a BOM so that Excel reads the Chinese as UTF-8


def xlsx_bytes(rows: Iterable[Row], *, title: str = "results", note: str = "") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    if note:
        sheet.append([_cell(note)])
    for row in rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
