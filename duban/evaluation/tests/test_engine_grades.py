"""Grades: score bands, quotas that beat bands, vetoes, ties at a quota boundary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from duban.evaluation.engine import (
    DEFAULT_GRADES,
    QUOTA_GRADES,
    Attainment,
    Quota,
    Standing,
    Veto,
    assign_grades,
    compute_scores,
)
from duban.evaluation.tests import D, make_item, make_scheme, make_units, values_for

NAMES = [grade.name.zh for grade in QUOTA_GRADES]  # 优秀 良好 达标 诫勉


def grades(
    totals: dict[str, str], *, vetoed: tuple[str, ...] = (), table: tuple = QUOTA_GRADES
) -> dict[str, str]:
    """Rank the totals (1, 2, 2, 4) and grade them; returns unit -> grade name."""
    values = {code: Decimal(total) for code, total in totals.items()}
    standings = [
        Standing(code, total, 1 + sum(other > total for other in values.values()), code in vetoed)
        for code, total in values.items()
    ]
    return {
        code: table[index].name.zh for code, (index, _) in assign_grades(standings, table).items()
    }


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "优秀"),
        ("90.00", "优秀"),  # lower bounds inclusive
        ("89.99", "良好"),
        ("80", "良好"),
        ("79.99", "达标"),
        ("60", "达标"),
        ("59.99", "诫勉"),
        ("0", "诫勉"),
    ],
)
def test_bands_without_quotas(total: str, grade: str) -> None:
    assert grades({"a": total}, table=DEFAULT_GRADES) == {"a": grade}


@pytest.mark.parametrize(
    ("quota", "units", "places"),
    [
        (Quota("at_most", D(25)), 10, 2),  # 2.5 → floor 2
        (Quota("at_most", D(25)), 4, 1),  # 1.0
        (Quota("at_most", D(25)), 3, 0),  # 0.75 → 0
        (Quota("at_most", D(50)), 10, 5),
        (Quota("at_most", D(20)), 6, 1),  # 1.2 → 1
        (Quota("at_least", D(5)), 10, 1),  # 0.5 → ceil 1
        (Quota("at_least", D(5)), 20, 1),  # 1.0
        (Quota("at_least", D(5)), 21, 2),  # 1.05 → 2
        (Quota("at_least", D(5)), 0, 0),
    ],
)
def test_quota_rounding(quota: Quota, units: int, places: int) -> None:
    assert quota.places(units) == places


def test_ten_units_quotas_beat_bands() -> None:
    # n = 10: 优秀 at most floor(2.5) = 2, 良好 at most 5, 达标 at most 2, 诫勉 at least ceil(0.5) = 1.
    totals = {
        "A": "98",  # band 优秀 → 优秀 (1 of 2)
        "B": "95",  # band 优秀 → 优秀 (2 of 2)
        "C": "93",  # band 优秀, 优秀 full → 良好 (1 of 5)
        "D": "91",  # band 优秀; 优秀 closed → 良好 (2 of 5)
        "E": "88",  # 良好 (3)
        "F": "85",  # 良好 (4)
        "G": "84",  # 良好 (5 of 5)
        "H": "81",  # band 良好, full → 达标 (1 of 2)
        "I": "79",  # 达标 (2 of 2)
        "J": "75",  # band 达标, but the bottom 1 unit must be 诫勉
    }
    assert grades(totals) == {
        "A": "优秀",
        "B": "优秀",
        "C": "良好",
        "D": "良好",
        "E": "良好",
        "F": "良好",
        "G": "良好",
        "H": "达标",
        "I": "达标",
        "J": "诫勉",
    }


def test_vetoed_unit_is_barred_from_the_top_grade_only() -> None:
    totals = {"A": "98", "B": "95", "C": "93", "D": "70"}  # 优秀 at most 1, 良好 at most 2
    # B is vetoed: at most 良好. Its demotion does not close 优秀 to others, but 优秀 is full (A).
    assert grades(totals, vetoed=("B",)) == {"A": "优秀", "B": "良好", "C": "良好", "D": "诫勉"}
    # A vetoed: the one 优秀 place goes to B, the next best
    assert grades(totals, vetoed=("A",)) == {"A": "良好", "B": "优秀", "C": "良好", "D": "诫勉"}


def test_vetoed_unit_without_quotas() -> None:
    assert grades({"A": "99"}, vetoed=("A",), table=DEFAULT_GRADES) == {"A": "良好"}


def test_a_tie_that_does_not_fit_an_at_most_quota_drops_whole() -> None:
    # 8 units: 优秀 at most 2. A takes one place; B and C tie and would need two: both drop.
    totals = {
        "A": "98",
        "B": "93",
        "C": "93",
        "D": "91",
        "E": "85",
        "F": "84",
        "G": "83",
        "H": "70",
    }
    found = grades(totals)
    assert (found["A"], found["B"], found["C"]) == ("优秀", "良好", "良好")
    # D ranks below the dropped tie, so the free 优秀 place stays empty
    assert found["D"] == "良好"


def test_a_tie_at_the_at_least_boundary_is_taken_whole() -> None:
    # 10 units, 诫勉 at least 1; the bottom two tie, so both are 诫勉.
    totals = {c: str(99 - i) for i, c in enumerate("ABCDEFGH")} | {"I": "65", "J": "65"}
    found = grades(totals, table=(*DEFAULT_GRADES[:3], QUOTA_GRADES[3]))
    assert (found["I"], found["J"]) == ("诫勉", "诫勉")
    # only the lowest grade has a quota here: everyone else keeps the band (H: 92 → 优秀)
    assert [found[c] for c in "ABCDEFGH"] == ["优秀"] * 8


def test_grades_follow_rank_after_a_quota_drop() -> None:
    # Nobody ranked below a unit that a quota pushed down gets a better grade than it.
    totals = {
        "A": "99",
        "B": "98",
        "C": "97",
        "D": "96",
        "E": "95",
        "F": "94",
        "G": "93",
        "H": "92",
    }
    found = grades(totals)
    order = [NAMES.index(found[c]) for c in "ABCDEFGH"]
    assert order == sorted(order)
    # 8 units: 优秀 2, 良好 4, 达标 1, 诫勉 at least 1
    assert [found[c] for c in "ABCDEFGH"] == ["优秀"] * 2 + ["良好"] * 4 + ["达标", "诫勉"]


def test_grades_come_from_rounded_totals_through_compute() -> None:
    # 100 × 89995/100000 = 89.995 → shown and graded as 90.00: 优秀
    item = make_item(rule=Attainment(), points=100, target=100000)
    scheme = make_scheme([item], units=make_units("a"))
    result = compute_scores(scheme, values_for("i", "2017", {"a": "89995"}), "2017")
    assert result.units["a"].grade.code == "excellent"


def test_veto_through_compute_keeps_the_total_and_shows_the_band() -> None:
    items = [make_item("x", Attainment(), points=100, target=100), make_item("v", Veto(), points=0)]
    scheme = make_scheme(items, units=make_units("ab"))
    values = values_for("x", "2017", {"a": "95", "b": "85"}) | values_for(
        "v", "2017", {"a": "1", "b": "0"}
    )
    result = compute_scores(scheme, values, "2017")
    a = result.units["a"]
    assert (a.total, a.rank, a.vetoed) == (95, 1, True)
    assert (a.band.code, a.grade.code) == ("excellent", "good")
    assert result.units["b"].vetoed is False
