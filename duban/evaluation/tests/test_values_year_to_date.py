"""The stored year-to-date totals sum cumulative items' months; the scores are those of the
months read one by one."""

from __future__ import annotations

from typing import Any

import pytest

from duban.evaluation import engine
from duban.evaluation.builder import scheme_to_engine
from duban.evaluation.models import Scheme
from duban.evaluation.scoring import score
from duban.evaluation.tests.conftest import put
from duban.evaluation.tests.test_perf_year_to_date import same
from duban.evaluation.values import load_source
from duban.orgs.policy import SYSTEM
from duban.periods import parse_period

pytestmark = pytest.mark.django_db

PERIODS = ("201701", "201702", "201703", "2017Q1", "2017S1", "2017")


def both(scheme: Scheme, period: str) -> tuple[engine.SchemeResult, engine.SchemeResult]:
    """(scored through the stored year-to-date totals, scored from every monthly value)."""
    built = scheme_to_engine(scheme)
    fast = score(scheme, period, with_previous=False, built=built).result
    values, reasons = load_source(built).for_period(parse_period(period))
    return fast, engine.compute_scores(built, values, period, today=None, reasons=reasons)


def test_the_monthly_values_of_cumulative_items_stay_in_the_database(scheme: Scheme) -> None:
    source = load_source(scheme_to_engine(scheme))
    assert source.summed == frozenset({"t.solved"})
    assert not [key for key in source.raw if key[0] == "t.solved"]
    assert {key[0] for key in source.raw} == {"t.poll"}  # non-cumulative: read as before
    _, _, ytd = source.engine_input(parse_period("2017Q1"))
    assert ytd is not None and ytd.months == ("201701", "201702", "201703")
    assert ytd.unit_keys is not None  # filed under unit ids, which the engine is told of
    county_a = ytd.unit_keys["COUNTY-A"]
    assert (ytd.totals["t.solved"][county_a], ytd.given["t.solved"][county_a]) == (60, 2)
    # the full figures (a publication's record) still hold every month
    full, _ = source.for_period(parse_period("2017Q1"))
    assert full[("t.solved", "COUNTY-A", "201702")] == 30


@pytest.mark.parametrize("period", PERIODS)
def test_scores_match_the_months_read_one_by_one(scheme: Scheme, period: str) -> None:
    fast, slow = both(scheme, period)
    same(fast, slow)


def test_drafts_empty_values_and_gaps(scheme: Scheme) -> None:
    put("COUNTY-A", "t.solved", "201703", 99, state="draft")  # not approved: not counted
    put("COUNTY-B", "t.solved", "201703", None)  # an approved empty value: a gap
    put("CITY", "t.solved", "201703", 7, state="locked")
    put("STATION-A1", "t.solved", "201701", None)  # only empty months: missing
    for period in PERIODS:
        fast, slow = both(scheme, period)
        same(fast, slow)
    fast, _ = both(scheme, "2017Q1")
    items = {code: unit.items["solved"] for code, unit in fast.units.items()}
    assert items["COUNTY-A"].value == 60 and "incomplete" in items["COUNTY-A"].flags
    assert items["CITY"].value == 7 and "incomplete" in items["CITY"].flags
    assert items["STATION-A1"].flags[0] == "missing"


def test_a_figure_given_for_the_quarter_still_comes_first(scheme: Scheme) -> None:
    put("COUNTY-A", "t.solved", "2017Q1", 75)
    fast, slow = both(scheme, "2017Q1")
    same(fast, slow)
    assert fast.units["COUNTY-A"].items["solved"].value == 75
    assert fast.units["COUNTY-B"].items["solved"].value == 40


def test_previous_period_and_rank_change(scheme: Scheme, tree: Any) -> None:
    put("COUNTY-B", "t.solved", "201703", 50)
    scored = score(scheme, "201703")
    assert scored.previous is not None and scored.previous.period.id == "201702"
    _, slow_previous = both(scheme, "201702")
    same(scored.previous, slow_previous)
    assert scored.result.units["COUNTY-B"].items["solved"].value == 90


def test_only_the_periods_scored_are_read_until_every_figure_is_asked(scheme: Scheme) -> None:
    put("COUNTY-A", "t.poll", "201706", 70)
    built = scheme_to_engine(scheme)
    q1 = parse_period("2017Q1")
    source = load_source(built, [q1])
    assert ("t.poll", "COUNTY-A", "201706") not in source.raw  # after the quarter
    assert ("t.poll", "COUNTY-A", "201703") in source.raw
    # for_period reads the whole year first: the same figures as without periods
    assert source.for_period(q1) == load_source(built).for_period(q1)


def test_a_july_to_june_year_reads_totals_across_two_named_years(
    tree: Any, indicators: None
) -> None:
    from duban.evaluation import services
    from duban.evaluation.builder import data_to_engine
    from duban.evaluation.tests.conftest import scheme_data

    data = scheme_data(code="t-2017-july")
    data["calendar"] = {"start_month": 7, "start_day": 1}
    july = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    for month, value in (
        ("201706", 9),
        ("201707", 10),
        ("201712", 20),
        ("201801", 5),
        ("201807", 9),
    ):
        put("COUNTY-A", "t.solved", month, value)
    put("COUNTY-B", "t.solved", "201802", 40)
    put("COUNTY-B", "t.solved", "201803", None)
    for period in ("201707", "201712", "201802", "201806", "2017"):
        fast, slow = both(july, period)
        same(fast, slow)
    fast, _ = both(july, "2017")
    assert fast.units["COUNTY-A"].items["solved"].value == 35
    assert fast.units["COUNTY-B"].items["solved"].value == 40
