"""Figures of units above (aggregates), over coarser periods (time aggregation), computed ones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duban.indicators import services as ind_services
from duban.orgs.policy import SYSTEM
from duban.periods import parse_period
from duban.reporting import services
from duban.reporting.figures import (
    aggregate_over_time,
    aggregate_over_units,
    form_rows,
    overview,
    same_period_last_year,
    unit_figures,
)
from duban.reporting.tests.conftest import TODAY, make_form

P = parse_period


def put(form, unit, period, **values: str) -> None:
    services.save_form(
        form.data_set,
        unit,
        period,
        {k.replace("_", "."): v for k, v in values.items()},
        user=SYSTEM,
        today=TODAY,
    )


@pytest.mark.parametrize(
    ("how", "values", "expected"),
    [
        ("sum", [Decimal(1), None, Decimal(2)], Decimal(3)),
        ("average", [Decimal(1), None, Decimal(2)], Decimal("1.5")),
        ("last", [Decimal(1), Decimal(5), None], Decimal(5)),
        ("sum", [None, None], None),
    ],
)
def test_aggregation_over_time(
    how: str, values: list[Decimal | None], expected: Decimal | None
) -> None:
    assert aggregate_over_time(how, values) == expected


def test_aggregation_over_units_skips_missing_and_none_gives_nothing() -> None:
    assert aggregate_over_units("sum", [Decimal(2), None, Decimal(3)]) == 5
    assert aggregate_over_units("average", [Decimal(2), None, Decimal(3)]) == Decimal("2.5")
    assert aggregate_over_units("none", [Decimal(2)]) is None
    assert aggregate_over_units("sum", [None]) is None


def test_city_sees_the_aggregate_and_the_rate_from_raw_totals(form, tree) -> None:
    put(form, tree.county_a, "201712", case_filed="10", case_solved="9", poll_score="90")
    put(form, tree.county_b, "201712", case_filed="30", case_solved="3", poll_score="80")
    put(form, tree.station_a1, "201712", case_filed="4", case_solved="4")
    put(form, tree.division, "201712", crime_gangs="2")
    figs = unit_figures(form.data_set, tree.city, P("201712"))
    assert figs["case.filed"] == 40, "the county's own figure stands for it; stations are detail"
    assert figs["case.solved"] == 12
    assert figs["case.clearance"] == Decimal(30), "12 / 40, not the mean of 90% and 10%"
    assert figs["poll.score"] == 85
    assert figs["crime.gangs"] == 2


def test_division_by_zero_or_a_missing_input_is_no_value(form, tree) -> None:
    put(form, tree.county_a, "201712", case_filed="0", case_solved="0")
    put(form, tree.county_b, "201712", case_solved="0")
    assert unit_figures(form.data_set, tree.county_a, P("201712"))["case.clearance"] is None
    assert unit_figures(form.data_set, tree.county_b, P("201712"))["case.clearance"] is None


def test_quarter_and_year_aggregate_over_time(tree) -> None:
    form = make_form(tree)
    for p in ("201710",):
        services.open_period(form.data_set, p, user=SYSTEM)
    from datetime import date

    put_on = date(2017, 11, 10)
    services.save_form(
        form.data_set,
        tree.county_a,
        "201710",
        {"case.filed": "1", "poll.score": "80"},
        user=SYSTEM,
        today=put_on,
    )
    services.save_form(
        form.data_set,
        tree.county_a,
        "201711",
        {"case.filed": "2", "poll.score": "90"},
        user=SYSTEM,
        today=put_on,
    )
    put(form, tree.county_a, "201712", case_filed="4")
    q4 = unit_figures(form.data_set, tree.county_a, P("2017Q4"))
    assert q4["case.filed"] == 7 and q4["poll.score"] == 85
    assert unit_figures(form.data_set, tree.county_a, P("2017"))["case.filed"] == 7


def test_overview_lists_children_status_and_missing_below(form, tree) -> None:
    put(form, tree.county_a, "201712", case_filed="10")
    data = overview(form.data_set, tree.city, P("201712"), today=TODAY)
    rows = {r.unit.code: r for r in data["rows"]}
    assert set(rows) == {"COUNTY-A", "COUNTY-B", "DIV"}
    assert rows["COUNTY-A"].status.state == "draft" and rows["COUNTY-A"].status.status == "pending"
    assert rows["COUNTY-A"].below == {"on_time": 0, "late": 0, "missing": 0, "pending": 2}
    late = overview(form.data_set, tree.city, P("201711"), today=TODAY)
    assert late["totals"]["missing"] == 4
    assert {r.unit.code: r.missing_below for r in late["rows"]}["COUNTY-A"] == [
        "STATION-A1 (missing)"
    ]


def test_form_shows_last_period_and_last_year(tree) -> None:
    form = make_form(tree, expiry_days=0)
    for p in ("201612",):
        services.open_period(form.data_set, p, user=SYSTEM)
    put(form, tree.county_a, "201612", case_filed="6")
    put(form, tree.county_a, "201711", case_filed="8")
    put(form, tree.county_a, "201712", case_filed="9")
    rows = {r["indicator"].code: r for r in form_rows(form.data_set, tree.county_a, P("201712"))}
    assert (
        rows["case.filed"]["value"],
        rows["case.filed"]["previous"],
        rows["case.filed"]["last_year"],
    ) == (9, 8, 6)
    assert (
        same_period_last_year(P("2015W53")) is None
        and same_period_last_year(P("2017Q4")).id == "2016Q4"
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.none(), st.integers(0, 10**6)), min_size=2, max_size=2))
def test_a_sum_indicator_of_the_city_is_the_sum_of_what_its_counties_entered(tree, figs) -> None:
    from duban.indicators.models import Indicator

    if not Indicator.objects.filter(code="case.filed").exists():
        make_form(tree)
    ds = Indicator.objects.get(code="case.filed").data_sets.get()
    for unit, value in zip((tree.county_a, tree.county_b), figs, strict=True):
        services.save_form(
            ds,
            unit,
            "201712",
            {"case.filed": "" if value is None else str(value)},
            user=SYSTEM,
            today=TODAY,
        )
    present = [v for v in figs if v is not None]
    expected = sum(present) if present else None
    assert unit_figures(ds, tree.city, P("201712"))["case.filed"] == expected
    assert ind_services  # imported for readers: definitions come from the services
