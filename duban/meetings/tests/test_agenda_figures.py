"""The agenda pack's figures: the months since the last meeting, from the reporting app."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from duban.meetings.agenda import months_since, unit_figures_since
from duban.reporting.models import State
from duban.reporting.tests.conftest import make_form, put_figure
from duban.testing import make_user


def test_months_that_ended_between_the_meetings() -> None:
    assert [p.id for p in months_since(date(2017, 9, 8), date(2017, 12, 8))] == [
        "201709",
        "201710",
        "201711",
    ]
    # Meetings closer than a month: the last full month before this one.
    assert [p.id for p in months_since(date(2017, 12, 1), date(2017, 12, 8))] == ["201711"]


def test_figures_sum_the_months_and_compute_rates_from_the_sums(tree) -> None:
    form = make_form(tree)
    rows = {
        # unit, indicator, period: value  (hand-worked totals below)
        (tree.county_a, form.filed, "201710"): 10,
        (tree.county_a, form.filed, "201711"): 30,
        (tree.county_a, form.solved, "201710"): 5,
        (tree.county_a, form.solved, "201711"): 25,
        (tree.county_b, form.filed, "201711"): 20,
        (tree.county_b, form.solved, "201711"): 5,
        (tree.county_b, form.filed, "201708"): 99,  # before the last meeting: left out
    }
    for (unit, ind, period), value in rows.items():
        put_figure(unit, ind, period, value, State.APPROVED)
    office = make_user("office", tree.province, "office")
    figures = unit_figures_since(tree.city, date(2017, 9, 8), date(2017, 12, 8), viewer=office)
    assert figures is not None and figures.periods == ["201709", "201710", "201711"]
    table = {row.unit.code: {i.code: v for i, v in row.cells} for row in figures.rows}
    # COUNTY-A: filed 10+30 = 40, solved 5+25 = 30, clearance 30/40 = 75 %
    assert table["COUNTY-A"]["case.filed"] == 40 and table["COUNTY-A"]["case.clearance"] == 75
    # COUNTY-B: 20 filed, 5 solved: 25 % (the August figure is not counted)
    assert table["COUNTY-B"]["case.filed"] == 20 and table["COUNTY-B"]["case.clearance"] == 25
    # CITY sums its children: 60 filed, 35 solved: 35/60 = 58.33… %, not the mean of 75 and 25
    assert table["CITY"]["case.filed"] == 60
    assert round(table["CITY"]["case.clearance"], 2) == Decimal("58.33")
    outside = make_user("outside", tree.other_city, "office")
    assert (
        unit_figures_since(tree.other_city, date(2017, 9, 8), date(2017, 12, 8), viewer=outside)
        is None
    )
