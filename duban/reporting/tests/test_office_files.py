"""Exports an office can file: Chinese headings, figures stored as numbers with their number
formats, the heading row frozen; and what is exported reads back in unchanged."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from duban.orgs.policy import SYSTEM
from duban.reporting import exports, importing, services
from duban.reporting.tests.conftest import TODAY

HEADINGS = [
    "指标代码",
    "统计期",
    "单位代码",
    "数值",
    "说明",
    "状态",
    "指标名称",
    "单位名称",
    "更新时间",
]


def figures(form, tree) -> exports.Selection:
    services.save_form(
        form.data_set,
        tree.county_a,
        "201712",
        {"case.filed": "1234", "case.solved": "7", "poll.score": "91.5"},
        user=SYSTEM,
        today=TODAY,
    )
    return exports.Selection(tree.county_a, ("201712",), form.data_set)


def test_the_workbook_has_chinese_headings_numbers_and_a_frozen_header(form, tree) -> None:
    selection = figures(form, tree)
    data = exports.xlsx_bytes(exports.export_rows(selection, SYSTEM))
    ws = load_workbook(io.BytesIO(data))["数据"]
    assert [c.value for c in ws[1]] == HEADINGS
    assert ws.freeze_panes == "A2"
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    filed, poll, rate = rows["case.filed"], rows["poll.score"], rows["case.clearance"]
    assert (filed[3].value, filed[3].data_type, filed[3].number_format) == (1234, "n", "#,##0")
    assert poll[3].value == 91.5 and poll[3].data_type == "n"
    assert poll[3].number_format == "#,##0." + "0" * form.poll.decimals
    assert isinstance(rate[3].value, float) and abs(rate[3].value - 7 / 1234 * 100) < 1e-9
    assert (filed[5].value, rate[5].value) == ("草稿", "自动计算")
    assert (filed[6].value, filed[7].value) == ("立案数", "甲县局")


def test_the_csv_has_chinese_headings_and_reads_back(form, tree) -> None:
    selection = figures(form, tree)
    rows = [r for r in exports.export_rows(selection, SYSTEM) if r.state != "computed"]
    text = "".join(exports.csv_lines(rows))
    assert text.lstrip("\ufeff").splitlines()[0] == ",".join(HEADINGS)
    assert "case.filed,201712,COUNTY-A,1234," in text
    result = importing.import_file(text.encode(), "csv", user=SYSTEM, today=TODAY)
    assert (result.created, result.updated) == (0, 0)


def test_the_workbook_reads_back_unchanged(form, tree) -> None:
    selection = figures(form, tree)
    rows = [r for r in exports.export_rows(selection, SYSTEM) if r.state != "computed"]
    data = exports.xlsx_bytes(rows)
    result = importing.import_file(data, "xlsx", user=SYSTEM, today=TODAY)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert Decimal("91.5") in {r.value for r in rows}
