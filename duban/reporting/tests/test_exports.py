"""Exports: one row iterator, csv and xlsx writers, safe against formula injection."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from duban.indicators import services as ind_services
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting import exports, services
from duban.reporting.tests.conftest import TODAY

NASTY = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "plain"]


@pytest.fixture
def filled(form, tree):
    OrgUnit.objects.filter(pk=tree.county_a.pk).update(name_zh="=cmd|' /C calc'!A0")
    services.save_form(
        form.data_set,
        tree.county_a,
        "201712",
        {"case.filed": "10", "case.solved": "4"},
        comments={"case.filed": NASTY[0], "case.solved": NASTY[1]},
        user=SYSTEM,
        today=TODAY,
    )
    services.save_form(
        form.data_set,
        tree.county_b,
        "201712",
        {"case.filed": "0", "case.solved": "0"},
        comments={"case.filed": NASTY[2], "case.solved": NASTY[3]},
        user=SYSTEM,
        today=TODAY,
    )
    return exports.Selection(tree.city, ("201712",), form.data_set)


@pytest.mark.parametrize("text", NASTY)
def test_safe_text(text: str) -> None:
    safe = exports.safe_text(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe.endswith(text)


def test_rows_hold_stored_and_computed_figures(filled) -> None:
    rows = list(exports.export_rows(filled, SYSTEM))
    got = {(r.unit, r.indicator): r.value for r in rows}
    assert got[("COUNTY-A", "case.clearance")] == 40
    assert got[("COUNTY-B", "case.clearance")] is None, "0 / 0 is no value, not 0"
    assert [r.state for r in rows if r.indicator == "case.clearance"] == ["computed", "computed"]


def test_csv_cells_never_start_a_formula(filled) -> None:
    text = "".join(exports.csv_lines(exports.export_rows(filled, SYSTEM)))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows[1:]:
        for cell in row[4:]:
            assert not cell.startswith(("=", "+", "-", "@", "\t")), cell
    assert any(cell == "'" + NASTY[0] for row in rows for cell in row)


def test_xlsx_cells_are_text_and_neutralised(filled) -> None:
    wb = load_workbook(
        io.BytesIO(exports.xlsx_bytes(exports.export_rows(filled, SYSTEM), title="t", demo=True))
    )
    ws = wb["数据"]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t")), cell.coordinate
    values = [c.value for c in ws["D"][1:]]
    assert 10 in values and None in values
    assert "invented" in wb["说明"]["A2"].value


def test_an_export_reads_back_as_an_import(filled, form, tree) -> None:
    """Round trip: what is exported as csv can be imported again unchanged."""
    from duban.reporting import importing

    rows = [r for r in exports.export_rows(filled, SYSTEM) if r.state != "computed"]
    data = "".join(exports.csv_lines(rows)).encode()
    result = importing.import_file(data, "csv", user=SYSTEM, today=TODAY)
    # Values and comments come back as they went out: the guard's apostrophe is dropped.
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)


def test_negative_figures_stay_numbers(tree) -> None:
    ind_services.create_indicator(
        user=SYSTEM,
        issuer=tree.city,
        code="trend.change",
        name_zh="增幅",
        value_type="decimal",
        min_value=-100,
        levels=["county"],
        kinds=["territorial"],
    )
    ds = ind_services.create_data_set(
        user=SYSTEM, owner=tree.city, code="T", name_zh="t", indicators=["trend.change"]
    )
    services.open_period(ds, "201712", user=SYSTEM)
    services.save_form(
        ds, tree.county_a, "201712", {"trend.change": "-12.5"}, user=SYSTEM, today=TODAY
    )
    sel = exports.Selection(tree.county_a, ("201712",), ds)
    lines = list(exports.csv_lines(exports.export_rows(sel, SYSTEM)))
    assert lines[1].split(",")[3] == "-12.5"
