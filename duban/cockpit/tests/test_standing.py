"""The standing arithmetic on a result written out by hand.

Four units in one group, two categories (基础工作 out of 40, 业务工作 out of 60):

| unit | 基础 | 业务  | total | rank |
|------|------|-------|-------|------|
| A    | 38   | 52.5  | 90.5  | 1    |
| B    | 35   | 54    | 89    | 2    |
| C    | 36   | 53    | 89    | 2    |  (tie: shares the better rank)
| D    | 30   | 50.25 | 80.25 | 4    |

D is 90.5 − 80.25 = 10.25 behind first; the place just above is 2nd (89): 8.75 behind.
基础 best 38, average (38+35+36+30)/4 = 34.75; 业务 best 54, average 209.75/4 = 52.4375.
D's attainment: 30/40 = 75 %, 50.25/60 = 83.75 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from duban.cockpit.standing import attainment, children, gaps, standing


def unit(
    name: str,
    basic: str,
    work: str,
    total: str,
    rank: int,
    change: int | None,
    losses: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": {"zh": name + "县", "en": "County " + name},
        "total": total,
        "rank": rank,
        "group_rank": rank,
        "change": change,
        "categories": {"basic": basic, "work": work},
        "category_max": {"basic": "40", "work": "60"},
        "losses": losses or [],
    }


RESULT: dict[str, Any] = {
    "period": "201703",
    "categories": [
        {"code": "basic", "name": {"zh": "基础工作", "en": "Basic work"}, "points": "40"},
        {"code": "work", "name": {"zh": "业务工作", "en": "Core work"}, "points": "60"},
    ],
    "items": {
        "i1": {"name": {"zh": "破案数", "en": "Cases solved"}, "category": "work", "max": "20"},
        "i2": {"name": {"zh": "民调", "en": "Poll"}, "category": "work", "max": "10"},
        "i3": {"name": {"zh": "队伍建设", "en": "Discipline"}, "category": "basic", "max": "5"},
        "i4": {"name": {"zh": "追逃", "en": "Fugitives"}, "category": "work", "max": "10"},
    },
    "cohorts": [
        {
            "group": "all",
            "sequence": None,
            "name": {"zh": "县区", "en": "Counties"},
            "units": ["A", "B", "C", "D"],
        }
    ],
    "units": {
        "A": unit("A", "38", "52.5", "90.5", 1, 0),
        "B": unit("B", "35", "54", "89", 2, 1),
        "C": unit("C", "36", "53", "89", 2, -1),
        "D": unit(
            "D",
            "30",
            "50.25",
            "80.25",
            4,
            None,
            [
                ["i1", "5", "5", ["below_target"]],
                ["i2", "9.75", "0", ["bottom_third"]],
                ["i3", "0.25", "0.25", ["below_target"]],
                ["i4", "1", "3", []],  # no shortfall, yet room to win
            ],
        ),
    },
}


def test_the_last_unit_sees_its_gaps_to_first_and_to_the_place_above() -> None:
    s = standing(RESULT, "D")
    assert s is not None
    assert (s.total, s.rank, s.of, s.change) == (Decimal("80.25"), 4, 4, None)
    assert s.gap_first == Decimal("10.25")
    assert (s.next_rank, s.gap_next) == (2, Decimal("8.75"))
    assert s.lead is None


def test_a_tied_second_is_behind_first_only() -> None:
    assert gaps(RESULT, "B") == (Decimal("90.5"), Decimal("1.5"), 1, Decimal("1.5"), None)
    assert gaps(RESULT, "C")[1:4] == (Decimal("1.5"), 1, Decimal("1.5"))


def test_first_place_leads_the_next_one_down() -> None:
    assert gaps(RESULT, "A") == (Decimal("90.5"), None, None, None, Decimal("1.5"))


def test_categories_against_the_groups_best_and_average() -> None:
    s = standing(RESULT, "D")
    assert s is not None
    basic, work = s.categories
    assert (basic.name, basic.score, basic.best, basic.average, basic.maximum) == (
        "基础工作",
        Decimal("30"),
        Decimal("38"),
        Decimal("34.75"),
        Decimal("40"),
    )
    assert (work.score, work.best, work.average) == (
        Decimal("50.25"),
        Decimal("54"),
        Decimal("52.4375"),
    )


def test_shortfalls_most_points_lost_first_room_most_room_first() -> None:
    s = standing(RESULT, "D", "en")
    assert s is not None
    assert [(r.code, r.lost) for r in s.shortfalls] == [
        ("i2", Decimal("9.75")),
        ("i1", Decimal("5")),
        ("i3", Decimal("0.25")),
    ]
    assert [(r.name, r.room) for r in s.room] == [
        ("Cases solved", Decimal("5")),
        ("Fugitives", Decimal("3")),
        ("Discipline", Decimal("0.25")),
    ]


def test_attainment_is_score_over_maximum_from_the_exact_numbers() -> None:
    d = RESULT["units"]["D"]
    assert attainment(d, "basic") == Decimal("75")
    assert attainment(d, "work") == Decimal("83.75")
    assert attainment(d, "missing") is None


def test_children_ranked_with_change_and_attainment_only_those_seen() -> None:
    [group] = children(RESULT, {"A", "B", "D"}, "zh")
    assert group.cohort == "县区" and group.categories == ["基础工作", "业务工作"]
    assert [(r.code, r.rank, r.change) for r in group.rows] == [
        ("A", 1, 0),
        ("B", 2, 1),
        ("D", 4, None),
    ]
    assert group.rows[0].attainment == (Decimal("95"), Decimal("87.5"))


def test_trend_ranks_by_month_none_where_nothing_is_kept() -> None:
    jan = {
        **RESULT,
        "period": "201701",
        "units": {**RESULT["units"], "D": {**RESULT["units"]["D"], "rank": 3}},
    }
    s = standing(
        RESULT,
        "D",
        months={"201701": jan, "201703": RESULT},
        periods=["201701", "201702", "201703"],
    )
    assert s is not None
    assert [(p.period, p.rank) for p in s.trend] == [("201701", 3), ("201702", None), ("201703", 4)]


def test_a_unit_the_scheme_does_not_score_has_no_standing() -> None:
    assert standing(RESULT, "Z") is None
