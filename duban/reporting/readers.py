"""Reading figures from CSV, DHIS2 dataValueSet JSON and Excel into RawValue rows.

Readers only read: they report what is wrong with the file's shape (not a
workbook, another template, an unknown column, a changed code) and leave every
check of the figures themselves to `values.write_values`, so a file and the
form are judged by the same rules. Each row carries where it came from (line,
JSON path, cell) so every problem names its place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from duban import text
from duban.core.json_input import load_json
from duban.errors import Problem
from duban.reporting.errors import Problems, ReportingError
from duban.reporting.values import UNCHANGED, RawValue
from duban.spreadsheets import Book, Sheet, cell_value, open_workbook, read_rows, unguard_text

TEMPLATE_KIND = "duban-reporting-template"
TEMPLATE_VERSION = 1
META_SHEET = "_duban"
DATA_SHEET = "Data"
FIRST_DATA_ROW = 6
TEMPLATE_COLUMNS = (
    "unit",
    "unit_name",
    "indicator",
    "indicator_name",
    "unit_of_measure",
    "previous",
    "last_year",
    "value",
    "comment",
)
VALUE_COL = get_column_letter(TEMPLATE_COLUMNS.index("value") + 1)
COMMENT_COL = get_column_letter(TEMPLATE_COLUMNS.index("comment") + 1)

XLSX_MAX_ROWS = 1_000_000

REQUIRED = ("indicator", "period", "unit", "value")
ALIASES = {
    "dataelement": "indicator",
    "data_element": "indicator",
    "de": "indicator",
    "orgunit": "unit",
    "org_unit": "unit",
    "ou": "unit",
    "pe": "period",
    # the Chinese headings of our own exports (`exports.CSV_HEADINGS`)
    "指标代码": "indicator",
    "统计期": "period",
    "单位代码": "unit",
    "数值": "value",
    "说明": "comment",
    "状态": "state",
    "指标名称": "indicator_name",
    "单位名称": "unit_name",
    "更新时间": "updated_at",
}
# Columns our own exports add for people; read back, they are not data.
INFORMATIVE = frozenset(
    {
        "indicator_name",
        "unit_name",
        "state",
        "updated_at",
        "storedby",
        "lastupdated",
        "created",
        "followup",
    }
)
DEFAULT_COMBOS = frozenset({"", "default", "HllvX50cXC0"})
# The state our exports give a computed figure (the CSV's code, the workbook's word in either
# language): such a row is there for people, its value worked out from the others; read back,
# it is skipped as the informative columns are, so an export imports as it was exported.
COMPUTED_STATE = "computed"
COMBO_COLUMNS = ("categoryoptioncombo", "attributeoptioncombo")


@dataclass(frozen=True)
class TemplateMeta:
    data_set: str
    period: str
    units: tuple[str, ...]
    rows: dict[int, tuple[str, str]]


def decode_text(data: bytes | str, name: str = "") -> str:
    """UTF-8 (with or without BOM), else GB18030, which Excel in China writes
    (`duban.text.decode_text`); neither is refused naming the file and line."""
    try:
        return text.decode_text(data, name)
    except text.UndecodableText as exc:
        raise ReportingError(str(exc), "file") from None


def computed_words() -> frozenset[str]:
    """The words a computed row's state cell holds in an export of any language."""
    from django.conf import settings
    from django.utils import translation

    words = {COMPUTED_STATE}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.add(str(_("computed")))
    return frozenset(words)


def _header_map(header: list[str], where: str) -> tuple[dict[str, int], list[Problem]]:
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    for pos, raw in enumerate(header):
        name = str(raw if raw is not None else "").strip().lower().replace(" ", "_")
        name = ALIASES.get(name, name)
        if not name:
            continue
        if name in columns:
            problems.append(
                Problem(where, _("column %(name)s appears twice") % {"name": repr(name)})
            )
        elif name in (*REQUIRED, "comment", *COMBO_COLUMNS) or name in INFORMATIVE:
            columns[name] = pos
        else:
            problems.append(
                Problem(
                    where,
                    _("unknown column %(raw)s (expected %(required)s, comment)")
                    % {"raw": repr(raw), "required": ", ".join(REQUIRED)},
                )
            )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(
            Problem(where, _("missing column(s): %(missing)s") % {"missing": ", ".join(missing)})
        )
    return columns, problems


def read_csv(data: bytes | str) -> list[RawValue]:
    """indicator, period, unit, value[, comment] with a header; DHIS2's column names work too."""
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ReportingError(_("the file is empty"), "line 1") from None
    except csv.Error as exc:
        raise ReportingError(_("not CSV: %(exc)s") % {"exc": exc}, "line 1") from None
    cols, problems = _header_map(header, "line 1")
    if problems:
        raise ReportingError(problems)
    found = Problems()
    i_ind, i_per, i_unit, i_val = (cols[c] for c in REQUIRED)
    i_com = cols.get("comment")
    i_state = cols.get("state")
    computed = computed_words()
    combos = [cols[c] for c in COMBO_COLUMNS if c in cols]
    width = len(header)
    rows: list[RawValue] = []
    try:
        for line, rec in enumerate(reader, start=2):
            if len(rec) != width:
                if not any(f.strip() for f in rec):
                    continue
                found.add(
                    f"line {line}",
                    _("has %(n)s fields, the header %(width)s") % {"n": len(rec), "width": width},
                )
                continue
            for c in combos:
                if rec[c].strip() not in DEFAULT_COMBOS:
                    found.add(
                        f"line {line}",
                        _("disaggregations (category option combos) are not supported"),
                    )
            if found.count:  # the file is refused: only count what else is wrong
                continue
            if i_state is not None and rec[i_state].strip() in computed:
                continue
            value = rec[i_val]
            rows.append(
                RawValue(
                    f"line {line}",
                    rec[i_ind].strip(),
                    rec[i_per].strip(),
                    rec[i_unit].strip(),
                    value if value.strip() else None,
                    unguard_text(rec[i_com]) if i_com is not None else None,
                )
            )
    except csv.Error as exc:
        found.add(f"line {reader.line_num}", _("not CSV: %(exc)s") % {"exc": exc})
    found.raise_if_any()
    return rows


DHIS2_KNOWN = frozenset(
    {
        "dataElement",
        "period",
        "orgUnit",
        "value",
        "comment",
        "storedBy",
        "created",
        "lastUpdated",
        "followup",
        "deleted",
        "categoryOptionCombo",
        "attributeOptionCombo",
    }
)


def read_dhis2_json(data: bytes | str) -> list[RawValue]:
    """A DHIS2 dataValueSet (idScheme CODE): top-level dataSet, period and orgUnit apply to
    every value that does not name its own. Decimals are read exactly, never through float."""
    doc = load_json(decode_text(data), where="file", parse_float=Decimal)
    if not isinstance(doc, dict) or not isinstance(doc.get("dataValues"), list):
        raise ReportingError(
            _("expected a dataValueSet: an object with a 'dataValues' list"), "file"
        )
    found = Problems()
    for key in ("attributeOptionCombo",):
        if str(doc.get(key, "") or "") not in DEFAULT_COMBOS:
            found.add(key, _("attribute option combos are not supported"))
    d_period, d_unit = doc.get("period"), doc.get("orgUnit")
    rows: list[RawValue] = []
    for pos, dv in enumerate(doc["dataValues"]):
        where = f"dataValues[{pos}]"
        if not isinstance(dv, dict):
            found.add(where, _("must be an object"))
            continue
        unknown = sorted(set(dv) - DHIS2_KNOWN)
        if unknown:
            found.add(where, _("unknown field(s): %(unknown)s") % {"unknown": ", ".join(unknown)})
            continue
        if any(
            str(dv.get(k, "") or "") not in DEFAULT_COMBOS
            for k in ("categoryOptionCombo", "attributeOptionCombo")
        ):
            found.add(where, _("disaggregations (category option combos) are not supported"))
            continue
        # No "value" key: the figure stays as it is (a comment alone); null or deleted: cleared.
        value: Any = dv.get("value", UNCHANGED)
        if dv.get("deleted") is True:
            value = None
        if isinstance(value, (dict, list)):
            found.add(where, _("value must be a number or a string"))
            continue
        comment = dv.get("comment")
        rows.append(
            RawValue(
                where,
                _text(dv.get("dataElement")),
                _text(dv.get("period", d_period)),
                _text(dv.get("orgUnit", d_unit)),
                value,
                None if comment is None else str(comment),
            )
        )
    found.raise_if_any()
    return rows


def _text(value: object) -> str:
    """A code or period cell: numbers typed into Excel come back as 201712 or 201712.0."""
    if type(value) is str:  # nearly every cell: first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


def read_xlsx(data: bytes) -> tuple[list[RawValue], TemplateMeta | None]:
    """A Duban template (with its hidden sheet) or a sheet with indicator, period, unit, value.

    Read by calamine through `duban.spreadsheets.open_workbook` (openpyxl when a sheet holds
    a formula, so the formula is refused naming its cell); cells come as openpyxl gave them:
    None for empty, 201712 for a code typed as a number, floats as read (0.1 stays 0.1:
    `Indicator.clean_value` reads a float through its repr)."""
    wb = open_workbook(data, where="file")
    try:
        if META_SHEET in wb.sheetnames:
            meta = _read_meta(wb[META_SHEET])
            if DATA_SHEET not in wb.sheetnames:
                raise ReportingError(
                    _("the template has lost its sheet %(data_sheet)s")
                    % {"data_sheet": repr(DATA_SHEET)},
                    "file",
                )
            return _read_template(wb[DATA_SHEET], meta), meta
        return _read_long(wb), None
    finally:
        wb.close()


def _cell(row: Sequence[Any], i: int) -> Any:
    return row[i] if len(row) > i else None


def _blank(value: Any) -> bool:
    """An empty cell as either reader gives it (openpyxl None, calamine "")."""
    return value is None or value == ""


def _damaged(cell: str) -> ReportingError:
    return ReportingError(
        _("the template's hidden sheet is damaged at %(cell)s: download a new template")
        % {"cell": cell},
        "file",
    )


def _read_meta(ws: Sheet) -> TemplateMeta:
    """The hidden sheet's fields and rows; a damaged one (a cell typed over, a row cut short)
    is refused naming its cell, as the template's own cells are."""
    rows = read_rows(ws)
    first = next(rows, None) or ()
    if _cell(first, 0) != TEMPLATE_KIND:
        raise ReportingError(_("this workbook is not a Duban reporting template"), "file")
    if _cell(first, 1) != TEMPLATE_VERSION:
        raise ReportingError(
            _("template version %(first)s is not supported; download a new one")
            % {"first": repr(_cell(first, 1))},
            "file",
        )
    fields: dict[str, Any] = {}
    expected: dict[int, tuple[str, str]] = {}
    for r, row in enumerate(rows, start=2):
        if not row or row[0] is None:
            continue
        if row[0] == "row":
            number, unit, ind = _cell(row, 1), _cell(row, 2), _cell(row, 3)
            if type(number) is not int or number < FIRST_DATA_ROW or number > XLSX_MAX_ROWS:
                raise _damaged(f"{META_SHEET}!B{r}")
            if unit is None or ind is None:
                raise _damaged(f"{META_SHEET}!{'C' if unit is None else 'D'}{r}")
            expected[number] = (_text(unit), _text(ind))
        else:
            fields[str(row[0])] = _cell(row, 1)
    try:
        return TemplateMeta(
            _text(fields["data_set"]),
            _text(fields["period"]),
            tuple(_text(fields["units"]).split(",")),
            expected,
        )
    except KeyError as exc:
        raise ReportingError(
            _("the template's hidden sheet lacks %(exc)s") % {"exc": exc}, "file"
        ) from None


def _read_template(ws: Sheet, meta: TemplateMeta) -> list[RawValue]:
    """Codes are fixed: each row must still name the unit and indicator the template put there."""
    found = Problems()
    out: list[RawValue] = []
    seen: set[int] = set()
    cols = {name: get_column_letter(i + 1) for i, name in enumerate(TEMPLATE_COLUMNS)}
    code_cols = {k: cols[k] for k in ("unit", "indicator", "value")}
    idx = {name: i for i, name in enumerate(TEMPLATE_COLUMNS)}
    rows = read_rows(ws, min_row=FIRST_DATA_ROW, raw=True)  # "" or None for empty: both
    for r, row in enumerate(rows, start=FIRST_DATA_ROW):
        if r > XLSX_MAX_ROWS:
            found.add(
                f"row {r}", _("more than %(xlsx_max_rows)s rows") % {"xlsx_max_rows": XLSX_MAX_ROWS}
            )
            break
        cells = list(row) + [None] * (len(TEMPLATE_COLUMNS) - len(row))
        unit, ind = _text(cells[idx["unit"]]), _text(cells[idx["indicator"]])
        expected = meta.rows.get(r)
        if expected is None:
            if any(c not in (None, "") for c in cells):
                found.add(f"{cols['unit']}{r}", _("this row is not part of the template"))
            continue
        seen.add(r)
        if all(c in (None, "") for c in cells):
            found.add(f"{cols['unit']}{r}", _("a row of the template was deleted"))
            continue
        if (unit, ind) != expected:
            if unit != expected[0]:
                found.add(
                    f"{cols['unit']}{r}",
                    _("code changed: the template has %(expected)s, the file %(value)s")
                    % {"expected": expected[0], "value": unit or "(empty)"},
                )
            if ind != expected[1]:
                found.add(
                    f"{cols['indicator']}{r}",
                    _("code changed: the template has %(expected)s, the file %(value)s")
                    % {"expected": expected[1], "value": ind or "(empty)"},
                )
            continue
        value = cell_value(cells[idx["value"]])
        comment = cell_value(cells[idx["comment"]])
        out.append(
            RawValue(
                f"{VALUE_COL}{r}",
                ind,
                meta.period,
                unit,
                value,
                "" if comment is None else unguard_text(str(comment)),
                code_cols,
                r,
            )
        )
    for r in sorted(set(meta.rows) - seen):
        found.add(f"{cols['unit']}{r}", _("a row of the template was deleted"))
    found.raise_if_any()
    return out


def _read_long(wb: Book) -> list[RawValue]:
    ws = wb[wb.sheetnames[0]]
    rows = read_rows(ws, raw=True)  # cells as read ("" or None for empty): see `_blank`
    header = next(rows, None)
    if header is None:
        raise ReportingError(_("the workbook's first sheet is empty"), "file")
    cols, problems = _header_map(["" if _blank(h) else str(cell_value(h)) for h in header], "row 1")
    if problems:
        raise ReportingError(
            [
                Problem(
                    "file",
                    _(
                        "this workbook is neither a Duban template nor a sheet with the "
                        "columns indicator, period, unit, value"
                    ),
                ),
                *problems,
            ]
        )
    found = Problems()
    letters = {name: get_column_letter(i + 1) for name, i in cols.items()}
    i_ind, i_per, i_unit, i_val = (cols[c] for c in REQUIRED)
    i_com = cols.get("comment")
    i_state = cols.get("state")
    computed = computed_words()
    need = max(cols.values()) + 1
    value_col = letters["value"]
    out: list[RawValue] = []
    append = out.append
    # The loop runs once per figure: the common cells (text codes, a number) are read inline,
    # anything else through `_text` and `cell_value`, which these shortcuts agree with.
    for r, row in enumerate(rows, start=2):
        if r > XLSX_MAX_ROWS:
            found.add(
                f"row {r}", _("more than %(xlsx_max_rows)s rows") % {"xlsx_max_rows": XLSX_MAX_ROWS}
            )
            break
        if len(row) < need:
            row = (*row, *(None,) * (need - len(row)))
        value = cell_value(row[i_val])
        ind, per, unit = row[i_ind], row[i_per], row[i_unit]
        if value is None and _blank(ind) and _blank(unit) and _blank(per):
            continue
        if i_state is not None and _text(row[i_state]) in computed:
            continue
        comment = cell_value(row[i_com]) if i_com is not None else None
        append(
            RawValue(
                f"{value_col}{r}",
                ind.strip() if type(ind) is str else _text(ind),
                per.strip() if type(per) is str else _text(per),
                unit.strip() if type(unit) is str else _text(unit),
                value,
                None if comment is None else unguard_text(str(comment)),
                letters,
                r,
            )
        )
    found.raise_if_any()
    return out


def iter_csv_bare(data: bytes) -> Iterator[list[str]]:
    """The csv module alone over the same bytes, for the benchmark's baseline."""
    yield from csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
