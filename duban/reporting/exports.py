"""Figures out: one row iterator per selection, consumed by the CSV, xlsx and DHIS2 writers;
and the Excel entry template.

Every cell goes through `duban.spreadsheets.safe_cell`: text loses control characters
(one stored ``\x05`` made openpyxl refuse the whole file) and a value starting with
= + - @ (or a tab or carriage return) gets a leading apostrophe in CSV and xlsx alike;
xlsx text cells are always written as strings. Numbers stay numbers, so a negative
figure is not touched.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from duban.indicators.formula import evaluate_all
from duban.indicators.models import DataSet, Indicator, ValueType, fmt
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period
from duban.reporting.figures import figure_table, same_period_last_year
from duban.reporting.models import DataValue, State
from duban.reporting.readers import (
    DATA_SHEET,
    FIRST_DATA_ROW,
    META_SHEET,
    TEMPLATE_COLUMNS,
    TEMPLATE_KIND,
    TEMPLATE_VERSION,
)
from duban.spreadsheets import safe_cell, safe_row, safe_text

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.orgs.policy import Actor

WHOLE = frozenset({ValueType.INTEGER, ValueType.BOOLEAN})
CSV_COLUMNS = (
    "indicator",
    "period",
    "unit",
    "value",
    "comment",
    "state",
    "indicator_name",
    "unit_name",
    "updated_at",
)
# The column headings of the files a person files: in Chinese, read back by the importer
# (`readers.ALIASES`) as the names above.
CSV_HEADINGS = {
    "indicator": "指标代码",
    "period": "统计期",
    "unit": "单位代码",
    "value": "数值",
    "comment": "说明",
    "state": "状态",
    "indicator_name": "指标名称",
    "unit_name": "单位名称",
    "updated_at": "更新时间",
}
COLUMN_WIDTHS = {
    "indicator": 16,
    "indicator_name": 24,
    "unit_name": 20,
    "comment": 24,
    "updated_at": 20,
}
INVENTED = "演示数据均为虚构 / All demo figures are invented."


@dataclass(frozen=True)
class Selection:
    """Which figures to export; `root` was authorised by the caller for VIEW_DATA."""

    root: OrgUnit
    periods: tuple[str, ...]
    data_set: DataSet | None = None
    indicators: tuple[str, ...] = ()
    subtree: bool = True


@dataclass(frozen=True, slots=True)
class ExportRow:
    indicator: str
    period: str
    unit: str
    value: Decimal | None
    comment: str
    state: str
    indicator_name: str
    unit_name: str
    updated_at: str


def selected_indicators(selection: Selection, user: Actor | AnonymousUser) -> list[Indicator]:
    if selection.data_set is not None:
        inds = selection.data_set.members()
    else:
        inds = list(Indicator.objects.select_related("issuer").visible_to(user))
    if selection.indicators:
        wanted = set(selection.indicators)
        inds = [i for i in inds if i.code in wanted]
    return inds


def export_rows(selection: Selection, user: Actor | AnonymousUser) -> Iterator[ExportRow]:
    """Stored figures of the selection, then computed indicators evaluated per unit and period.

    Streams in (period, unit path) order; computed figures need each group's inputs,
    so rows are collected one (period, unit) group at a time.
    """
    inds = selected_indicators(selection, user)
    computed = [i for i in inds if i.is_computed]
    formulas = {i.code: i.parsed_formula for i in computed if i.parsed_formula is not None}
    inputs = {code for f in formulas.values() for code in f.references}
    shown = {i.code for i in inds if not i.is_computed}
    read = Indicator.objects.filter(code__in=shown | inputs, formula="")
    units = (
        OrgUnit.objects.subtree_of(selection.root)
        if selection.subtree
        else OrgUnit.objects.filter(pk=selection.root.pk)
    )
    qs = (
        DataValue.objects.filter(
            policy.data_filter(user, Action.VIEW_DATA),
            unit__in=units,
            indicator__in=read,
            period__in=list(selection.periods),
        )
        .order_by("period", "unit__path", "indicator__sort_order", "indicator__code")
        .values_list(
            "indicator__code",
            "period",
            "unit__code",
            "value",
            "comment",
            "state",
            "indicator__name_zh",
            "unit__name_zh",
            "updated_at",
        )
    )
    names = {i.code: i.name_zh for i in computed}
    group: list[tuple[Any, ...]] = []
    key: tuple[str, str] | None = None
    for rec in qs.iterator(chunk_size=5000):
        if (rec[1], rec[2]) != key:
            yield from _group_rows(group, shown, formulas, names)
            group, key = [], (rec[1], rec[2])
        group.append(rec)
    yield from _group_rows(group, shown, formulas, names)


def _group_rows(
    group: list[tuple[Any, ...]], shown: set[str], formulas: dict[str, Any], names: dict[str, str]
) -> Iterator[ExportRow]:
    if not group:
        return
    for code, period, unit, value, comment, state, ind_name, unit_name, updated in group:
        if code in shown:
            yield ExportRow(
                code,
                period,
                unit,
                value,
                comment,
                state,
                ind_name,
                unit_name,
                updated.isoformat() if updated else "",
            )
    if formulas:
        values = {rec[0]: rec[3] for rec in group}
        first = group[0]
        for code, value in evaluate_all(formulas, values).items():
            yield ExportRow(
                code, first[1], first[2], value, "", "computed", names[code], first[7], ""
            )


def _cells(row: ExportRow) -> list[object]:
    return [
        row.indicator,
        row.period,
        row.unit,
        row.value,
        row.comment,
        row.state,
        row.indicator_name,
        row.unit_name,
        row.updated_at,
    ]


def csv_lines(rows: Iterable[ExportRow]) -> Iterator[str]:
    """UTF-8 with a BOM so Excel shows Chinese names; the importer reads it back as is."""
    import csv

    class _Line:
        def write(self, text: str) -> str:
            return text

    writer = csv.writer(_Line(), lineterminator="\r\n")
    headings = [CSV_HEADINGS[c] for c in CSV_COLUMNS]
    yield "\ufeff" + writer.writerow(safe_row(headings))  # type: ignore[func-returns-value]
    for row in rows:
        cells = _cells(row)
        yield writer.writerow(  # type: ignore[func-returns-value]
            [
                fmt(c) if isinstance(c, Decimal) else ("" if c is None else safe_text(str(c)))
                for c in cells
            ]
        )


def state_said(state: str) -> str:
    """A figure's state in words (the importer reads the column as information only)."""
    if state == "computed":
        return str(_("computed"))
    return str(State(state).label) if state in State.values else state


def number_format(code: str, cache: dict[str, str]) -> str:
    """Excel's format for an indicator's figures: thousands grouped, its decimal places."""
    if code not in cache:
        ind = Indicator.objects.filter(code=code).only("value_type", "decimals").first()
        places = 0 if ind is None or ind.value_type in WHOLE else ind.decimals
        cache[code] = "#,##0" + ("." + "0" * places if places > 0 else "")
    return cache[code]


def xlsx_bytes(rows: Iterable[ExportRow], *, title: str = "", demo: bool = False) -> bytes:
    """A streaming (write-only) workbook: the Chinese header row, frozen, then one row per
    figure, its value a number with the indicator's number format."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.freeze_panes = "A2"
    for pos, name in enumerate(CSV_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(pos)].width = COLUMN_WIDTHS.get(name, 12)
    header_font = Font(bold=True)
    header = []
    for name in CSV_COLUMNS:
        cell = WriteOnlyCell(ws, value=safe_cell(CSV_HEADINGS[name]))
        cell.font = header_font
        header.append(cell)
    ws.append(header)
    formats: dict[str, str] = {}
    value_at = CSV_COLUMNS.index("value")
    state_at = CSV_COLUMNS.index("state")
    for row in rows:
        out: list[object] = []
        for pos, c in enumerate(_cells(row)):
            if pos == value_at and isinstance(c, Decimal):
                cell = WriteOnlyCell(ws, value=c)
                cell.number_format = number_format(row.indicator, formats)
                out.append(cell)
            elif isinstance(c, Decimal) or c is None:
                out.append(c)
            else:
                text = state_said(str(c)) if pos == state_at else str(c)
                cell = WriteOnlyCell(ws, value=safe_text(text))
                cell.data_type = "s"
                out.append(cell)
        ws.append(out)
    if title or demo:
        info = wb.create_sheet("说明")
        for line in (title, INVENTED if demo else "", f"导出于 {timezone.now().isoformat()}"):
            if line:
                cell = WriteOnlyCell(info, value=safe_text(line))
                cell.data_type = "s"
                info.append([cell])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def dhis2_json(rows: Iterable[ExportRow]) -> dict[str, object]:
    """A DHIS2 dataValueSet with codes as identifiers and values as strings, as DHIS2 writes them."""
    values = []
    for row in rows:
        if row.state == "computed":
            continue
        dv: dict[str, object] = {
            "dataElement": row.indicator,
            "period": row.period,
            "orgUnit": row.unit,
            "value": fmt(row.value),
        }
        if row.comment:
            dv["comment"] = row.comment
        if row.updated_at:
            dv["lastUpdated"] = row.updated_at
        values.append(dv)
    return {"dataValues": values}


# The entry template -----------------------------------------------------------------------------

INPUT_FILL = PatternFill("solid", fgColor="FFF5CC")
HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
WIDTHS = (14, 24, 20, 30, 8, 12, 12, 14, 30)


def _validation(ind: Indicator) -> DataValidation:
    low, high = ind.effective_range()
    name = f"{ind.code} ({ind.get_value_type_display()})"
    if ind.value_type == ValueType.BOOLEAN:
        dv = DataValidation(type="list", formula1='"1,0"', allow_blank=True)
        dv.prompt = "1 = yes / 是, 0 = no / 否"
    else:
        kind = "whole" if ind.value_type == ValueType.INTEGER else "decimal"
        lo = fmt(low) if low is not None else "-1000000000000"
        hi = fmt(high) if high is not None else "1000000000000"
        dv = DataValidation(
            type=kind, operator="between", formula1=lo, formula2=hi, allow_blank=True
        )
        dv.prompt = f"{lo} … {hi}"
    dv.error = f"{name}: {dv.prompt}"
    dv.errorTitle = ind.code
    dv.showErrorMessage = True
    dv.showInputMessage = True
    return dv


def build_template(
    data_set: DataSet, units: list[OrgUnit], root: OrgUnit, period: Period, *, demo: bool = False
) -> bytes:
    """The form of one unit, or of all children of `root`, for one period, as a protected sheet.

    Only the value and comment cells can be edited; codes sit in locked cells and
    are listed again on a very hidden sheet, so an upload can tell that a row was
    changed, moved or deleted. Last period's and last year's figures are shown.
    """
    members = [i for i in data_set.members() if not i.is_computed]
    now = figure_table(members, root, period)
    prev = figure_table(members, root, period.previous())
    last_p = same_period_last_year(period)
    last = figure_table(members, root, last_p) if last_p else None
    stored = {
        (u, i): c
        for u, i, c in DataValue.objects.filter(
            unit__in=units, indicator__in=members, period=period.id
        ).values_list("unit_id", "indicator_id", "comment")
    }
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    ws["A1"] = safe_text(f"{data_set.name_zh} {data_set.name_en} — {period.id}")
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = safe_text(
        "Fill in only the yellow cells (value, comment); keep codes and rows as they are. "
        "只填写黄色单元格，不要改动代码和行。"
    )
    ws["A3"] = safe_text(INVENTED if demo else "")
    ws["A4"] = safe_text(
        f"{data_set.code} · {period.id} · {period.start.isoformat()}..{period.end.isoformat()}"
    )
    head = FIRST_DATA_ROW - 1
    labels = (
        "unit",
        "unit name / 单位",
        "indicator",
        "indicator / 指标",
        "unit of measure",
        f"previous ({period.previous().id})",
        f"last year ({last_p.id if last_p else '—'})",
        f"value ({period.id})",
        "comment / 备注",
    )
    for col, label in enumerate(labels, start=1):
        cell = ws.cell(row=head, column=col, value=safe_cell(label))
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True)
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(64 + col)].width = width
    meta = wb.create_sheet(META_SHEET)
    # Codes and periods only (their validators admit no formula or control character);
    # through the guard all the same, which leaves them as they are for the reader.
    meta.append(safe_row([TEMPLATE_KIND, TEMPLATE_VERSION]))
    meta.append(safe_row(["data_set", data_set.code]))
    meta.append(safe_row(["period", period.id]))
    meta.append(safe_row(["units", ",".join(u.code for u in units)]))
    meta.append(safe_row(["generated_at", timezone.now().isoformat()]))
    validations: dict[int, DataValidation] = {}
    r = FIRST_DATA_ROW
    value_col = TEMPLATE_COLUMNS.index("value") + 1
    for unit in units:
        nf, pf = now.figures(unit.pk), prev.figures(unit.pk)
        lf = last.figures(unit.pk) if last else {}
        for ind in members:
            if not ind.reported_by(unit):
                continue
            cells = (
                unit.code,
                unit.name_zh,
                ind.code,
                ind.name_zh,
                ind.unit_of_measure,
                pf.get(ind.code),
                lf.get(ind.code),
                nf.get(ind.code),
                stored.get((unit.pk, ind.pk), ""),
            )
            for col, value in enumerate(cells, start=1):
                cell = ws.cell(row=r, column=col, value=safe_cell(value))
                if isinstance(value, str):
                    cell.data_type = "s"
                if col >= value_col:
                    cell.protection = Protection(locked=False)
                    cell.fill = INPUT_FILL
            if ind.pk not in validations:
                validations[ind.pk] = _validation(ind)
            validations[ind.pk].add(ws.cell(row=r, column=value_col).coordinate)
            meta.append(safe_row(["row", r, unit.code, ind.code]))
            r += 1
    for dv in validations.values():
        ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    meta.protection.sheet = True
    meta.sheet_state = "veryHidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filename(*parts: str, ext: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    safe = "-".join(p.replace("/", "_") for p in parts if p)
    return f"{safe}-{stamp}.{ext}"
