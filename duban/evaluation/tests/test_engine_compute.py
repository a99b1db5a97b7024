"""compute_scores on small schemes: totals, ranks, missing data, periods, progress, reports."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from duban.evaluation.engine import (
    Attainment,
    Deduction,
    Discretionary,
    PeerGroup,
    Rank,
    RelativeToBest,
    Sequence,
    Shortfall,
    Text,
    Threshold,
    Veto,
    WeightedCount,
    compute_scores,
    rank_change,
)
from duban.evaluation.engine.compute import month_ids
from duban.evaluation.engine.decimals import round2
from duban.evaluation.tests import D, make_item, make_scheme, make_units, values_for
from duban.periods import StatisticalCalendar

CAL_1221 = StatisticalCalendar(12, 21)


# ---------------------------------------------------------------- totals and ranks


def test_total_ranks_share_the_better_place() -> None:
    # attainment of 100 points against target 100: the value is the score.
    item = make_item(rule=Attainment(), points=100, target=100)
    figures = {"a": "95", "b": "90", "c": "90", "d": "80"}
    result = compute_scores(make_scheme([item]), values_for("i", "2017", figures), "2017")
    assert [result.units[u].rank for u in "abcd"] == [1, 2, 2, 4]
    assert list(result.units) == ["a", "b", "c", "d"]  # display order: by rank


def test_totals_are_ranked_on_the_half_up_rounded_figure() -> None:
    # 100 × value / 100000: a 90.004, b 90.001, c 89.995, d 89.994
    # rounded half-up: 90.00, 90.00, 90.00 (89.995 → 90.00), 89.99 → ranks 1, 1, 1, 4
    item = make_item(rule=Attainment(), points=100, target=100000)
    figures = {"a": "90004", "b": "90001", "c": "89995", "d": "89994"}
    result = compute_scores(make_scheme([item]), values_for("i", "2017", figures), "2017")
    assert [result.units[u].display for u in "abcd"] == [D("90.00")] * 3 + [D("89.99")]
    assert [result.units[u].rank for u in "abcd"] == [1, 1, 1, 4]
    assert result.units["a"].total == D("90.004")  # exact behind the display


def test_rounding_is_half_up_not_bankers() -> None:
    assert round2(D("0.125")) == D("0.13")
    assert round2(D("2.345")) == D("2.35")
    assert round2(D("-0.125")) == D("-0.13")


def test_category_totals_and_ranks() -> None:
    items = [
        make_item("x", Attainment(), points=50, target=50, category="k1"),
        make_item("y", Attainment(), points=50, target=50, category="k2"),
    ]
    values = values_for("x", "2017", {"a": "50", "b": "40", "c": "45", "d": "45"})
    values |= values_for("y", "2017", {"a": "10", "b": "50", "c": "20", "d": "20"})
    result = compute_scores(make_scheme(items), values, "2017")
    k1 = {
        u: (result.units[u].categories["k1"].score, result.units[u].categories["k1"].rank)
        for u in "abcd"
    }
    assert k1 == {"a": (50, 1), "b": (40, 4), "c": (45, 2), "d": (45, 2)}
    # totals: a 60, b 90, c 65, d 65 → b 1, c/d 2, a 4
    assert [result.units[u].rank for u in "abcd"] == [4, 1, 2, 2]


# ---------------------------------------------------------------- missing data


def test_missing_value_scores_zero_is_flagged_and_takes_no_place() -> None:
    rank = make_item("r", Rank(D(2)), points=10)
    best = make_item("b", RelativeToBest(), points=20)
    values = values_for("r", "2017", {"a": "95", "b": None, "c": "90", "d": "99"})
    values |= values_for("b", "2017", {"a": "80", "b": None, "c": "40", "d": None})
    result = compute_scores(make_scheme([rank, best]), values, "2017")
    b = result.units["b"].items
    assert (b["r"].score, b["r"].flags, b["r"].value) == (0, ("missing",), None)
    # the others rank without b: d 1st (10), a 2nd (8), c 3rd (6)
    assert [result.units[u].items["r"].score for u in "dac"] == [10, 8, 6]
    assert result.item_place("b", "r") is None
    assert result.item_place("c", "r") == (3, 3)
    # relative to best: best 80 among a and c; d is missing (absent key works like None)
    assert [result.units[u].items["b"].score for u in "ac"] == [20, 10]
    assert result.problems == ()  # missing is a flag, not an error


def test_absent_key_is_missing_too() -> None:
    item = make_item(target=10)
    result = compute_scores(make_scheme([item]), {}, "2017")
    assert all(result.units[u].items["i"].flags == ("missing",) for u in "abcd")
    assert all(result.units[u].total == 0 for u in "abcd")


def test_missing_target_is_flagged_listed_and_scores_zero() -> None:
    item = make_item(rule=Shortfall(D("0.5")), unit_targets={"a": 100})
    values = values_for("i", "2017", {"a": "100", "b": "100"})
    scheme = make_scheme([item], units=make_units("ab"))
    result = compute_scores(scheme, values, "2017")
    assert result.units["a"].items["i"].score == 10
    found = result.units["b"].items["i"]
    assert (found.score, found.flags) == (0, ("no_target",))
    (problem,) = result.problems
    assert (problem.item, problem.unit, problem.code) == ("i", "b", "no_target")
    assert problem.text("zh") == "指标 i（指标i），单位 b（b单位）：未设目标"
    assert "items[0].target" in [w.where for w in result.warnings]
    assert found.explanation.text("en") == "no target set: 0 points"


def test_unit_target_beats_the_default() -> None:
    item = make_item(target=100, unit_targets={"b": 200})
    result = compute_scores(
        make_scheme([item]), values_for("i", "2017", {"a": "50", "b": "50"}), "2017"
    )
    assert result.units["a"].items["i"].score == 5  # 10 × 50/100
    assert result.units["b"].items["i"].score == D("2.5")  # 10 × 50/200


# ---------------------------------------------------------------- shown, not ranked


def test_shown_not_ranked_level_is_scored_but_not_counted() -> None:
    item = make_item(rule=Rank(D(2)), points=10, not_ranked_levels=("station",))
    other = make_item("o", Attainment(), points=10, target=10)
    units = make_units("ab") + make_units(["s"], level="station")
    values = values_for("i", "2017", {"a": "80", "b": "70", "s": "99"})
    values |= values_for("o", "2017", {"a": "10", "b": "10", "s": "10"})
    result = compute_scores(make_scheme([item, other], units=units), values, "2017")
    # a and b rank as if s were absent
    assert [result.units[u].items["i"].score for u in "ab"] == [10, 8]
    s = result.units["s"].items["i"]
    assert s.counted is False and s.flags == ("not_ranked",)
    assert s.score == 10  # shown: would be first, takes no place
    assert result.units["s"].total == 10  # only the counted item
    assert result.item_place("s", "i") is None
    assert result.item_place("b", "i") == (2, 2)


# ---------------------------------------------------------------- sequences


def test_sequences_compare_inside_and_group_rank_spans_the_group() -> None:
    group = PeerGroup(
        "g",
        Text("组"),
        ("a", "b", "c", "d"),
        (Sequence("A", Text("A类"), ("a", "b")), Sequence("B", Text("B类"), ("c", "d"))),
    )
    item = make_item(rule=Rank(D(5)), points=10)
    figures = {"a": "9", "b": "8", "c": "7", "d": "6"}
    result = compute_scores(
        make_scheme([item], groups=(group,)), values_for("i", "2017", figures), "2017"
    )
    # rank items compare within a sequence: a and c are first in theirs
    assert [result.units[u].items["i"].score for u in "abcd"] == [10, 5, 10, 5]
    assert [result.units[u].rank for u in "abcd"] == [1, 2, 1, 2]
    assert [result.units[u].group_rank for u in "abcd"] == [1, 3, 1, 3]
    assert [result.units[u].sequence for u in "abcd"] == ["A", "A", "B", "B"]
    assert [u.unit.code for u in result.ranking("g", "B")] == ["c", "d"]


# ---------------------------------------------------------------- cumulative items and periods


def monthly(indicator: str, unit: str, figures: dict[str, str | None]) -> dict:
    return {(indicator, unit, month): None if v is None else D(v) for month, v in figures.items()}


def test_year_to_date_sums_the_months() -> None:
    item = make_item(cumulative=True, target=100, points=100)
    values = monthly("i", "a", {"201701": "10", "201702": "20", "201703": "5", "201704": "40"})
    scheme = make_scheme([item], units=make_units("a"))
    q1 = compute_scores(scheme, values, "2017Q1").units["a"].items["i"]
    assert q1.value == 35  # 10 + 20 + 5; April is after the quarter
    # expected by 03-31: 100 × 90/365 = 24.66… → ahead of it
    assert q1.flags == ()
    assert q1.expected is not None and round2(q1.expected) == D("24.66")
    march = compute_scores(scheme, values, "201703").units["a"].items["i"]
    assert march.value == 35  # a month period also sums from January
    february = compute_scores(scheme, values, "201702").units["a"].items["i"]
    assert february.value == 30


def test_a_value_given_for_the_period_beats_the_monthly_sum() -> None:
    item = make_item(cumulative=True, target=100, points=100)
    values = monthly("i", "a", {"201701": "10", "201702": "20", "201703": "5"})
    values[("i", "a", "2017Q1")] = D(50)
    scheme = make_scheme([item], units=make_units("a"))
    assert compute_scores(scheme, values, "2017Q1").units["a"].items["i"].value == 50
    # but for a month, the month's own figure is not the year to date
    values[("i", "a", "201703")] = D(5)
    assert compute_scores(scheme, values, "201703").units["a"].items["i"].value == 35


def test_missing_months_are_skipped_and_flagged() -> None:
    item = make_item(cumulative=True, target=100, points=100)
    values = monthly("i", "a", {"201701": "10", "201702": None, "201703": "5"})
    scheme = make_scheme([item], units=make_units("ab"))
    result = compute_scores(scheme, values, "2017Q1")
    assert result.units["a"].items["i"].value == 15
    assert "incomplete" in result.units["a"].items["i"].flags
    assert result.units["b"].items["i"].flags == ("missing",)  # no month at all


def test_cumulative_discretionary_joins_the_monthly_reasons() -> None:
    item = make_item("m", Discretionary(D(1), D(10)), cumulative=True)
    values = monthly("m", "a", {"201701": "2", "201702": "0", "201703": "3"})
    reasons = {("m", "a", "201701"): "记录不全", ("m", "a", "201703"): "露头未抓"}
    scheme = make_scheme([item], units=make_units("a"))
    found = compute_scores(scheme, values, "2017Q1", reasons=reasons).units["a"].items["m"]
    assert (found.score, found.note) == (5, "记录不全；露头未抓")  # 10 − (2 + 0 + 3)
    assert found.explanation.text("zh") == "酌情扣 5.00 分（理由：记录不全；露头未抓），得 5.00 分"


def test_missing_cumulative_value_still_shows_expected_progress() -> None:
    item = make_item(cumulative=True, target=365)
    result = compute_scores(make_scheme([item], units=make_units("a")), {}, "2017Q2")
    assert result.units["a"].items["i"].expected == 181


def test_non_cumulative_items_read_only_their_period() -> None:
    item = make_item(target=100, points=100)
    values = monthly("i", "a", {"201701": "10", "201702": "20"})
    scheme = make_scheme([item], units=make_units("a"))
    assert compute_scores(scheme, values, "2017Q1").units["a"].items["i"].flags == ("missing",)
    assert compute_scores(scheme, values, "201702").units["a"].items["i"].value == 20


def test_weighted_count_sums_each_class_over_the_year() -> None:
    rule = WeightedCount((("A", D(10)), ("local", D(1))))
    item = make_item("f", rule, points=30, indicator="fugitive", cumulative=True)
    values = monthly("fugitive.A", "a", {"201701": "1", "201702": "1"})
    values |= monthly("fugitive.local", "a", {"201701": "3"})
    scheme = make_scheme([item], units=make_units("a"))
    found = compute_scores(scheme, values, "2017Q1").units["a"].items["f"]
    # A: 1 + 1 = 2 → 20; local: 3 (February, March missing) → 3; 23 ≤ 30
    assert (found.score, found.parts, found.value) == (23, (2, 3), 5)
    assert "incomplete" in found.flags


def test_statistical_year_from_21_december() -> None:
    # 2017 in a 12/21 calendar runs 2016-12-21..2017-12-20; month 201701 is 2016-12-21..2017-01-20.
    assert month_ids(CAL_1221, date(2016, 12, 21), date(2017, 3, 20)) == (
        "201701",
        "201702",
        "201703",
    )
    item = make_item(cumulative=True, target=365, points=100)
    values = monthly("i", "a", {"201612": "99", "201701": "30", "201702": "30", "201703": "30"})
    scheme = make_scheme([item], units=make_units("a"), calendar=CAL_1221)
    result = compute_scores(scheme, values, "2017Q1")
    found = result.units["a"].items["i"]
    assert found.value == 90  # 201612 belongs to statistical year 2016
    # Q1 ends 2017-03-20: 11 + 31 + 28 + 20 = 90 of 365 days elapsed → expected 90
    assert result.as_of == date(2017, 3, 20)
    assert result.elapsed == Fraction(90, 365)
    assert found.expected == 90
    assert "behind" not in found.flags
    assert result.final is False
    assert compute_scores(scheme, values, "2017Q4").final is True


def test_period_outside_the_schemes_year_is_refused() -> None:
    scheme = make_scheme([make_item()], calendar=CAL_1221)
    with pytest.raises(ValueError, match="statistical year 2018"):
        compute_scores(scheme, {}, "20171225")  # after 12-20: already statistical 2018
    with pytest.raises(ValueError, match=r"报告期标识 .* 无效"):
        compute_scores(scheme, {}, "2017Q5")


# ---------------------------------------------------------------- expected progress


@pytest.mark.parametrize(
    ("period", "today", "value", "expected", "behind"),
    [
        ("2017Q2", None, "180", "181", True),  # 181 of 365 days by 06-30 → 365 × 181/365 = 181
        ("2017Q2", None, "181", "181", False),
        ("2017Q2", date(2017, 3, 31), "90", "90", False),  # measured at today: 90 days
        ("2017Q2", date(2017, 3, 31), "89", "90", True),
        ("2017Q2", date(2018, 1, 5), "181", "181", False),  # never later than the period's end
        ("2017", None, "364", "365", True),  # year end: expected progress is the target
    ],
)
def test_expected_progress(
    period: str, today: date | None, value: str, expected: str, behind: bool
) -> None:
    item = make_item(cumulative=True, target=365, points=100)
    scheme = make_scheme([item], units=make_units("a"))
    result = compute_scores(scheme, values_for("i", period, {"a": value}), period, today=today)
    found = result.units["a"].items["i"]
    assert found.expected == D(expected)
    assert ("behind" in found.flags) is behind
    assert ([r.unit for r in result.behind_progress()] == ["a"]) is behind


def test_lower_is_better_progress_is_a_ceiling() -> None:
    # at most 365 accidents a year: by 06-30 at most 181 so far
    item = make_item(rule=Threshold(), cumulative=True, target=365, direction="lower")
    scheme = make_scheme([item], units=make_units("ab"))
    result = compute_scores(scheme, values_for("i", "2017Q2", {"a": "182", "b": "181"}), "2017Q2")
    assert "behind" in result.units["a"].items["i"].flags
    assert result.units["b"].items["i"].flags == ()


# ---------------------------------------------------------------- reports


def shortfall_scheme() -> tuple:
    items = [
        make_item("att", Attainment(), points=20, target=100),  # a: 50 → 10, loses 10
        make_item("ded", Deduction(D(5)), points=10, direction="lower"),  # a: 1 → 5, loses 5
        make_item("rnk", Rank(D(1)), points=5),  # a: last of 4 → 2, loses 3
        make_item("veto", Veto(), points=0),  # a: vetoed, loses nothing
        make_item("ok", Attainment(), points=10, target=10),  # a: met
        make_item("gap", Attainment(), points=10),  # no target anywhere: no_target
    ]
    values = values_for("att", "2017Q3", {"a": "50", "b": "100", "c": "100", "d": "100"})
    values |= values_for("ded", "2017Q3", {"a": "1", "b": "0", "c": "0", "d": "0"})
    values |= values_for("rnk", "2017Q3", {"a": "1", "b": "2", "c": "3", "d": "4"})
    values |= values_for("veto", "2017Q3", {"a": "1", "b": "0", "c": "0", "d": "0"})
    values |= values_for("ok", "2017Q3", {"a": "10", "b": "10", "c": "10", "d": "10"})
    values |= values_for("gap", "2017Q3", {"a": "1", "b": "1", "c": "1", "d": "1"})
    return make_scheme(items), values


def test_shortfalls_are_ordered_by_points_lost_with_vetoes_first() -> None:
    scheme, values = shortfall_scheme()
    result = compute_scores(scheme, values, "2017Q3")
    rows = result.shortfalls("a")
    assert [row.item.code for row in rows] == ["veto", "att", "gap", "ded", "rnk"]
    found = {row.item.code: row for row in rows}
    assert found["veto"].reasons == ("vetoed",)
    assert found["att"].reasons == ("below_target", "bottom_third")  # 4 placed: place 4 > 4 − 1
    assert found["att"].points_lost == 10
    assert found["att"].room == 10  # Q3: attainment can still move
    assert found["ded"].room == 0  # a disciplinary case cannot be undone
    assert found["gap"].reasons == ("no_target",)
    assert found["rnk"].reasons == ("bottom_third",)
    assert (found["rnk"].place, found["rnk"].count) == (4, 4)
    # at the year's last period nothing can move any more
    final = compute_scores(scheme, {(i, u, "2017"): v for (i, u, _), v in values.items()}, "2017")
    assert all(row.room == 0 for row in final.shortfalls("a"))
    assert final.shortfalls("b") == [
        row for row in final.shortfalls("b") if row.reasons == ("no_target",)
    ]


def test_bottom_third_is_the_worst_floor_n_over_3_places() -> None:
    item = make_item(rule=Rank(D(1)), points=10)
    units = make_units("abcdefg")  # 7 units: bottom third = places 6 and 7
    figures = {u: str(10 - i) for i, u in enumerate("abcdefg")}
    result = compute_scores(
        make_scheme([item], units=units), values_for("i", "2017", figures), "2017"
    )
    flagged = [u for u in "abcdefg" if result.shortfalls(u)]
    assert flagged == ["f", "g"]


def test_reconciliation_rows() -> None:
    items = [
        make_item("up", Attainment(), points=20, target=120),
        make_item("down", Attainment(), points=10, target=5, direction="lower"),
        make_item("none", Deduction(D(2)), points=10),
    ]
    values = values_for("up", "2017", {"a": "96"}) | values_for("down", "2017", {"a": "8"})
    values |= values_for("none", "2017", {"a": "1"})
    result = compute_scores(make_scheme(items, units=make_units("a")), values, "2017")
    rows = {row.item.code: row for row in result.reconciliation("a")}
    # up: target 120, actual 96 → 24 short; 20 × 0.8 = 16, 4 lost
    assert (rows["up"].gap, rows["up"].score, rows["up"].points_lost) == (24, 16, 4)
    # down (lower is better): actual 8 against 5 → 3 over; 10 × 5/8 = 6.25, 3.75 lost
    assert (rows["down"].gap, rows["down"].score, rows["down"].points_lost) == (
        3,
        D("6.25"),
        D("3.75"),
    )
    assert (rows["none"].gap, rows["none"].target, rows["none"].score) == (None, None, 8)


def test_rank_change() -> None:
    item = make_item(rule=Attainment(), points=100, target=100)
    scheme = make_scheme([item])
    before = compute_scores(
        scheme, values_for("i", "2017Q1", {"a": "90", "b": "80", "c": "70", "d": "60"}), "2017Q1"
    )
    after = compute_scores(
        scheme, values_for("i", "2017Q2", {"a": "70", "b": "80", "c": "90", "d": "60"}), "2017Q2"
    )
    changes = rank_change(before, after)
    assert {u: (c.previous, c.current, c.delta) for u, c in changes.items()} == {
        "a": (1, 3, -2),
        "b": (2, 2, 0),
        "c": (3, 1, 2),
        "d": (4, 4, 0),
    }


def test_values_may_be_given_for_unknown_codes_without_effect() -> None:
    item = make_item(target=10)
    values = values_for("i", "2017", {"a": "10"}) | values_for("other", "2017", {"zz": "1"})
    result = compute_scores(make_scheme([item]), values, "2017")
    assert result.units["a"].items["i"].score == 10


def test_items_apply_by_level_and_group() -> None:
    divisions = PeerGroup("div", Text("警种"), ("x",))
    bureaus = PeerGroup("bur", Text("地区"), ("a", "b"))
    only_bureaus = make_item("crack", Attainment(), target=10, groups=("bur",))
    only_city = make_item("task", Attainment(), target=10, levels=("city",))
    units = make_units("ab") + make_units("x", level="city")
    scheme = make_scheme([only_bureaus, only_city], units=units, groups=(bureaus, divisions))
    result = compute_scores(scheme, {}, "2017")
    assert list(result.units["a"].items) == ["crack"]
    assert list(result.units["x"].items) == ["task"]
    assert [r.group for r in result.units.values()] == ["bur", "bur", "div"]
