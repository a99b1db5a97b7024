"""Every scoring rule against hand-worked figures, one table per rule.

Each row carries its arithmetic in a comment; expected scores are exact
decimals unless the row says it compares the half-up display value.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest

from duban.evaluation.engine import (
    Attainment,
    Band,
    Bonus,
    Deduction,
    Discretionary,
    Rank,
    RelativeToBest,
    Shortfall,
    Steps,
    Threshold,
    Veto,
    WeightedCount,
    compute_scores,
)
from duban.evaluation.engine.decimals import ENGINE_CONTEXT, figure, round2
from duban.evaluation.engine.rules import Extra, Rule, rule_from_dict, rule_to_dict
from duban.evaluation.tests import D, make_item, make_scheme, make_units, values_for

# The engine's tests check the wording of its English messages (the msgids); the Chinese is
# checked in duban/core/tests/test_refusals_translated.py.
pytestmark = pytest.mark.usefixtures("english")


def score(
    rule: Rule,
    value: str | int | Decimal,
    target: str | int | None = None,
    *,
    points: str | int = 10,
    direction: str = "higher",
    parts: tuple[str | None, ...] | None = None,
    note: str | None = None,
) -> Decimal:
    """One unit's score under a rule that needs no peers."""
    item = make_item(rule=rule, points=points, direction=direction)
    extra = Extra(
        None, None if parts is None else tuple(None if p is None else D(p) for p in parts), note
    )
    with localcontext(ENGINE_CONTEXT):
        return rule.evaluate(item, D(value), None if target is None else D(target), extra, None)


# ---------------------------------------------------------------- attainment


@pytest.mark.parametrize(
    ("direction", "value", "target", "cap", "expected"),
    [
        ("higher", 96, 120, "1", "16"),  # 96/120 = 0.8; 20 × 0.8 = 16
        ("higher", 120, 120, "1", "20"),  # exactly met: 20 × 1
        ("higher", 130, 120, "1", "20"),  # 130/120 = 1.083 > cap 1 → 20 × 1
        ("higher", 150, 120, "1.2", "24"),  # 1.25 > cap 1.2 → 20 × 1.2 = 24
        ("higher", 0, 120, "1", "0"),  # 0/120 = 0
        ("higher", -5, 100, "1", "0"),  # negative completion is clamped to 0
        ("higher", 5, 0, "1", "20"),  # zero target, actual > 0: unbounded, capped at 1 → 20
        ("higher", 5, 0, "1.5", "30"),  # zero target, actual > 0, cap 1.5 → 20 × 1.5
        ("higher", 0, 0, "1.5", "20"),  # zero target met exactly: 100% → 20 (not the cap)
        ("higher", -1, 0, "1", "0"),  # zero target, negative actual: 0%
        ("lower", 125, 100, "1", "16"),  # lower is better: 100/125 = 0.8 → 16
        ("lower", 80, 100, "1", "20"),  # 100/80 = 1.25 > cap → 20
        ("lower", 0, 100, "1", "20"),  # actual 0 is the best possible → capped → 20
        ("lower", 0, 100, "1.5", "30"),  # best possible, cap 1.5 → 30
        ("lower", 0, 0, "1.5", "20"),  # both 0: exactly met, 100% → 20
        ("lower", 5, 0, "1", "0"),  # target 0, actual 5: 0/5 = 0
    ],
)
def test_attainment(direction: str, value: int, target: int, cap: str, expected: str) -> None:
    assert score(Attainment(D(cap)), value, target, points=20, direction=direction) == D(expected)


def test_attainment_keeps_exact_thirds_until_display() -> None:
    # 20 × 130/120 = 21.666… below the cap 1.2: never rounded inside, 21.67 when shown.
    exact = score(Attainment(D("1.2")), 130, 120, points=20)
    assert exact != D("21.67")
    assert round2(exact) == D("21.67")


# ---------------------------------------------------------------- shortfall


@pytest.mark.parametrize(
    ("direction", "value", "target", "per_point", "expected"),
    [
        ("higher", "86", 100, "0.5", "3"),  # 86.0% → 14.0 short × 0.5 = 7; 10 − 7 = 3
        ("higher", "73.1", 85, "0.5", "3"),  # 73.1/85 = 86.0% → same as above
        ("higher", "100", 100, "0.5", "10"),  # at target: full points
        ("higher", "120", 100, "0.5", "10"),  # above target: full points
        ("higher", "99.5", 100, "2", "9"),  # 0.5 short × 2 = 1 → 9
        ("higher", "50", 100, "0.5", "0"),  # 50 short × 0.5 = 25 > 10: stops at 0
        ("higher", "0", 100, "0.1", "0"),  # 100 short × 0.1 = 10 → exactly 0
        ("higher", "3", 0, "0.5", "10"),  # zero target met
        ("lower", "0", 100, "0.5", "10"),  # lower is better, actual 0: best possible
        ("lower", "80", 100, "0.5", "10"),  # 100/80 = 125% ≥ 100%
        ("lower", "125", 100, "0.5", "0"),  # 100/125 = 80% → 20 short × 0.5 = 10; 10 − 10 = 0
        ("lower", "110", 100, "0.5", "5.454545454545454545454545454545455"),  # see next test
    ],
)
def test_shortfall(direction: str, value: str, target: int, per_point: str, expected: str) -> None:
    # 100/110 = 90.90…% → 9.09… short × 0.5 = 4.54…; 10 − 4.54… = 5.45… (34 digits kept)
    rule = Shortfall(D(per_point))
    assert score(rule, value, target, direction=direction) == D(expected)


def test_shortfall_lower_is_better_keeps_exact_rate() -> None:
    # 100/110 = 90.909…% → 9.0909… short × 1 = 9.0909…; 10 − 9.0909… = 0.9090… → shown 0.91
    exact = score(Shortfall(D(1)), 110, 100, direction="lower")
    assert round2(exact) == D("0.91")
    assert exact > D("0.909") and exact < D("0.9091")


# ---------------------------------------------------------------- rank and relative to best


def rank_scores(
    figures: dict[str, str | None], rule: Rule, *, points: int = 10, direction: str = "higher"
) -> dict[str, Decimal]:
    item = make_item(rule=rule, points=points, direction=direction)
    scheme = make_scheme([item], units=make_units(figures))
    result = compute_scores(scheme, values_for("i", "2017", figures), "2017")
    return {code: result.units[code].items["i"].score for code in figures}


@pytest.mark.parametrize(
    ("figures", "per_place", "direction", "expected"),
    [
        # 95, 90, 90, 80 → places 1, 2, 2, 4 → 10, 10−2, 10−2, 10−3×2
        (
            {"a": "95", "b": "90", "c": "90", "d": "80"},
            "2",
            "higher",
            {"a": 10, "b": 8, "c": 8, "d": 4},
        ),
        # lower is better: 1, 3, 3, 7 → places 1, 2, 2, 4
        ({"a": "1", "b": "3", "c": "3", "d": "7"}, "2", "lower", {"a": 10, "b": 8, "c": 8, "d": 4}),
        # b missing takes no place: a 1st, c 2nd (not 3rd) → 10, 0, 8; b scores 0
        ({"a": "95", "b": None, "c": "90"}, "2", "higher", {"a": 10, "b": 0, "c": 8}),
        # 4 per place: 5th place would be 10 − 16 → stops at 0
        (
            {"a": "5", "b": "4", "c": "3", "d": "2", "e": "1"},
            "4",
            "higher",
            {"a": 10, "b": 6, "c": 2, "d": 0, "e": 0},
        ),
        # all tied: everyone first
        ({"a": "7", "b": "7", "c": "7"}, "2", "higher", {"a": 10, "b": 10, "c": 10}),
    ],
)
def test_rank(
    figures: dict[str, str | None], per_place: str, direction: str, expected: dict[str, int]
) -> None:
    found = rank_scores(figures, Rank(D(per_place)), direction=direction)
    assert found == {code: D(value) for code, value in expected.items()}


@pytest.mark.parametrize(
    ("figures", "direction", "expected"),
    [
        # best 80: a 20 × 80/80, b 20 × 60/80 = 15, c 0, d missing (0, not the best)
        (
            {"a": "80", "b": "60", "c": "0", "d": None},
            "higher",
            {"a": "20", "b": "15", "c": "0", "d": "0"},
        ),
        # lower is better, best 2: 20 × 2/2, 20 × 2/4 = 10, 20 × 2/8 = 5
        ({"a": "2", "b": "4", "c": "8"}, "lower", {"a": "20", "b": "10", "c": "5"}),
        # lower, a unit with 0: full points; best is 0, so 20 × 0/4 = 0
        ({"a": "0", "b": "4"}, "lower", {"a": "20", "b": "0"}),
        # higher, nobody above 0: nothing to be proportional to → 0
        ({"a": "0", "b": "0"}, "higher", {"a": "0", "b": "0"}),
        # a missing best is ignored: best is 50 → 20 × 25/50 = 10
        ({"a": None, "b": "50", "c": "25"}, "higher", {"a": "0", "b": "20", "c": "10"}),
    ],
)
def test_relative_to_best(
    figures: dict[str, str | None], direction: str, expected: dict[str, str]
) -> None:
    found = rank_scores(figures, RelativeToBest(), points=20, direction=direction)
    assert found == {code: D(value) for code, value in expected.items()}


# ---------------------------------------------------------------- steps and threshold

UP = Steps((Band(D(95), D(3)), Band(D(98), D(5))), "at_least")  # 超过95%(含)得3分；超过98%(含)得5分
DOWN = Steps((Band(D(2), D(5)), Band(D(5), D(3))), "at_most")  # ≤2 起 5 分, ≤5 起 3 分
RATE = Steps((Band(D(90), D(6)), Band(D(100), D(10))), "at_least", "rate")


@pytest.mark.parametrize(
    ("rule", "direction", "value", "target", "expected"),
    [
        (UP, "higher", "94.99", None, "0"),  # below the lowest band
        (UP, "higher", "95", None, "3"),  # lower bound inclusive
        (UP, "higher", "97.99", None, "3"),
        (UP, "higher", "98", None, "5"),  # next bound inclusive
        (UP, "higher", "100", None, "5"),
        (DOWN, "lower", "0", None, "5"),
        (DOWN, "lower", "2", None, "5"),  # upper bound inclusive
        (DOWN, "lower", "2.01", None, "3"),
        (DOWN, "lower", "5", None, "3"),
        (DOWN, "lower", "6", None, "0"),  # above the widest band
        (RATE, "higher", "190", "200", "6"),  # 190/200 = 95% → band 90
        (RATE, "higher", "200", "200", "10"),  # 100% → band 100
        (RATE, "higher", "170", "200", "0"),  # 85% → no band
        (RATE, "higher", "1", "0", "10"),  # zero target exceeded: unbounded → top band
        (RATE, "lower", "200", "190", "6"),  # lower is better: 190/200 = 95% completion → band 90
    ],
)
def test_steps(rule: Steps, direction: str, value: str, target: str | None, expected: str) -> None:
    assert score(rule, value, target, direction=direction) == D(expected)


@pytest.mark.parametrize(
    ("else_share", "direction", "value", "target", "expected"),
    [
        ("0", "higher", "90", "90", "10"),  # met exactly
        ("0", "higher", "89.99", "90", "0"),  # missed
        ("0.6", "higher", "88", "90", "6"),  # missed, 60% of 10
        ("0", "lower", "3", "5", "10"),  # lower is better: 3 ≤ 5 met
        ("0", "lower", "6", "5", "0"),
        ("0", "higher", "0", "0", "10"),  # zero target met by 0
    ],
)
def test_threshold(else_share: str, direction: str, value: str, target: str, expected: str) -> None:
    assert score(Threshold(D(else_share)), value, target, direction=direction) == D(expected)


# ---------------------------------------------------------------- counts

FUGITIVES = WeightedCount((("A", D(10)), ("B", D(3)), ("local", D(1))))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("0", "1", "2"), "5"),  # 0×10 + 1×3 + 2×1 = 5
        (("1", "0", "3"), "10"),  # 10 + 0 + 3 = 13 → at most 10
        (("0", "0", "0"), "0"),
        (("0", "3", None), "9"),  # a class without a value counts 0: 3×3 = 9
        (("0.5", "0", "0"), "5"),  # a half-weighted case is still exact: 0.5×10
    ],
)
def test_weighted_count(parts: tuple[str | None, ...], expected: str) -> None:
    total = sum((D(p) for p in parts if p is not None), D(0))
    assert score(FUGITIVES, total, parts=parts) == D(expected)


def test_weighted_count_with_a_single_class_reads_its_class_code() -> None:
    # found by Hypothesis: one class is still read as <indicator>.<class>, never as <indicator>
    item = make_item("f", WeightedCount((("A", D(4)),)), indicator="fugitive")
    scheme = make_scheme([item], units=make_units("a"))
    result = compute_scores(scheme, {("fugitive.A", "a", "2017"): D(2)}, "2017")
    assert result.units["a"].items["f"].score == 8  # 2 × 4


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        ("0", "20"),  # no case: full 20
        ("2", "10"),  # 20 − 2×5
        ("4", "0"),  # 20 − 20
        ("5", "0"),  # 20 − 25: stops at 0 (扣完为止)
        ("1.5", "12.5"),  # exact arithmetic on a fractional count
    ],
)
def test_deduction(count: str, expected: str) -> None:
    assert score(Deduction(D(5)), count, points=20, direction="lower") == D(expected)


@pytest.mark.parametrize(
    ("count", "cap", "expected"),
    [
        ("0", None, "0"),  # starts at 0
        ("1", None, "2"),  # 1 × 2
        ("2", None, "4"),
        ("3", None, "5"),  # 6 → at most the item's 5 points
        ("2", "3", "3"),  # 4 → at most the stated cap 3
    ],
)
def test_bonus(count: str, cap: str | None, expected: str) -> None:
    rule = Bonus(D(2), None if cap is None else D(cap))
    assert score(rule, count, points=5) == D(expected)


@pytest.mark.parametrize(("count", "vetoed"), [("0", False), ("1", True), ("3", True)])
def test_veto_scores_nothing_and_marks_the_unit(count: str, vetoed: bool) -> None:
    item = make_item(rule=Veto(), points=0)
    scheme = make_scheme([item], units=make_units(["a"]))
    result = compute_scores(scheme, values_for("i", "2017", {"a": count}), "2017")
    unit = result.units["a"]
    assert unit.items["i"].score == 0
    assert unit.vetoed is vetoed
    assert ("vetoed" in unit.items["i"].flags) is vetoed


# ---------------------------------------------------------------- discretionary


@pytest.mark.parametrize(
    ("amount", "reason", "expected", "problem"),
    [
        ("0", None, "10", None),  # no deduction needs no reason
        ("3", "接处警记录不全", "7", None),  # 10 − 3
        ("10", "严重失职", "0", None),  # the whole bound
        ("1", "露头未抓", "9", None),  # the lower bound is allowed
        ("0.5", "太少", "0", "outside 1 to 10"),  # below the lower bound
        ("11", "太多", "0", "outside 1 to 10"),  # above the upper bound
        ("3", None, "0", "needs a written reason"),
        ("3", "   ", "0", "needs a written reason"),  # blank is no reason
        ("-1", "负数", "0", "must not be negative"),
    ],
)
def test_discretionary(amount: str, reason: str | None, expected: str, problem: str | None) -> None:
    item = make_item("m", Discretionary(D(1), D(10)), points=10)
    scheme = make_scheme([item], units=make_units(["a"]))
    reasons = {} if reason is None else {("m", "a", "2017"): reason}
    result = compute_scores(scheme, values_for("m", "2017", {"a": amount}), "2017", reasons=reasons)
    found = result.units["a"].items["m"]
    assert found.score == D(expected)
    if problem is None:
        assert result.problems == ()
        assert "invalid" not in found.flags
    else:
        (listed,) = result.problems
        assert "invalid" in found.flags
        assert problem in listed.text("en")
        # the error names the item and the unit, in both languages
        assert "item m" in listed.text("en") and "unit a" in listed.text("en")
        assert "指标 m" in listed.text("zh") and "单位 a" in listed.text("zh")


@pytest.mark.parametrize("rule", [Deduction(D(5)), Bonus(D(2)), Veto(), FUGITIVES])
def test_negative_counts_are_rejected(rule: Rule) -> None:
    points = 0 if isinstance(rule, Veto) else 10
    item = make_item("k", rule, points=points)
    scheme = make_scheme([item], units=make_units(["a"]))
    keys = rule.keys("k")
    values = {(key, "a", "2017"): D(-1) for key in keys}
    result = compute_scores(scheme, values, "2017")
    assert result.units["a"].items["k"].flags == ("invalid",)
    assert result.units["a"].items["k"].score == 0
    assert result.units["a"].vetoed is False
    assert [p.code for p in result.problems] == ["invalid"]


# ---------------------------------------------------------------- explanations


def explain(
    rule: Rule, value: str, target: str | None = None, points: int = 10, direction: str = "higher"
) -> tuple[str, str]:
    item = make_item(rule=rule, points=points, direction=direction)
    scheme = make_scheme([item], units=make_units(["a"]))
    values = values_for("i", "2017", {"a": value})
    if target is not None:
        scheme = make_scheme(
            [make_item(rule=rule, points=item.points, direction=item.direction, target=target)],
            units=make_units(["a"]),
        )
    found = compute_scores(scheme, values, "2017").units["a"].items["i"]
    return found.explanation.text("zh"), found.explanation.text("en")


def test_shortfall_explanation_reads_like_the_published_rule() -> None:
    zh, en = explain(Shortfall(D("0.5")), "86", "100")
    assert (
        zh
        == "实际 86，目标 100，完成率 86.0%，低于目标 14.0 个百分点，每个百分点扣 0.5 分，扣 7.00 分，得 3.00 分"
    )
    assert (
        en
        == "actual 86, target 100, completion 86.0%, 14.0 points below target, 0.5 per point, minus 7.00, score 3.00"
    )


def test_a_computed_rate_reads_with_two_decimals_and_keeps_every_digit_as_data() -> None:
    """A clearance rate from its formula carries 34 digits; people read 2, files keep all."""
    with localcontext(ENGINE_CONTEXT):
        rate = D(389) * 100 / D(539)  # 72.170686456400742115027829313544 %
    zh, en = explain(Shortfall(D("0.5")), str(rate), "70")
    assert zh.startswith("实际 72.17，目标 70，完成率 103.1%")
    assert en.startswith("actual 72.17, target 70, completion 103.1%")
    scheme = make_scheme([make_item(rule=Shortfall(D("0.5")), target=70)], units=make_units("a"))
    found = compute_scores(scheme, values_for("i", "2017", {"a": str(rate)}), "2017")
    steps = found.units["a"].items["i"].explanation.as_data()
    assert D(steps[0]["value"]) == rate  # every digit


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (389, "389"),
        (D("88.250000"), "88.25"),  # as stored: six places
        (D("0.000001"), "0.000001"),  # entered with six places: as entered
        (D("-3"), "-3"),
        (D("72.500000000000000000000000000000"), "72.5"),  # computed, but exact
        (D("72.17068645640074211502782931354"), "72.17"),
        (D("-2.170686456400742115027829314"), "-2.17"),
        (D("2.3450000001"), "2.35"),  # half-up, as everything shown
        (D("Infinity"), "∞"),
    ],
)
def test_figures_read_as_entered_or_computed_with_two_decimals(value: Any, shown: str) -> None:
    assert figure(value) == shown


@pytest.mark.parametrize(
    ("rule", "value", "target", "kw", "zh", "en"),
    [
        (
            Attainment(),
            "96",
            "120",
            {"points": 20},
            "实际 96，目标 120，完成率 80.0%，20 分 × 80.0%，得 16.00 分",
            "actual 96, target 120, completion 80.0%, 20 × 80.0%, score 16.00",
        ),
        (
            Attainment(),
            "130",
            "120",
            {"points": 20},
            "实际 130，目标 120，完成率 108.3%，按上限 100.0% 计，20 分 × 100.0%，得 20.00 分",
            "actual 130, target 120, completion 108.3%, capped at 100.0%, 20 × 100.0%, score 20.00",
        ),
        (
            Attainment(),
            "0",
            "5",
            {"direction": "lower"},
            "实际 0，目标 5，越低越好，已为最优，按上限 100.0% 计，10 分 × 100.0%，得 10.00 分",
            "actual 0, target 5, lower is better: best possible, capped at 100.0%, 10 × 100.0%, "
            "score 10.00",
        ),
        (
            Deduction(D(5)),
            "5",
            None,
            {"points": 20},
            "发生 5 次，每次扣 5 分，扣 25.00 分，扣完为止，得 0.00 分",
            "5 occurrence(s), minus 5 each, minus 25.00, stops at 0, score 0.00",
        ),
        (
            Bonus(D(2)),
            "3",
            None,
            {"points": 5},
            "发生 3 次，每次加 2 分，加 6.00 分，最高 5 分，得 5.00 分",
            "3 occurrence(s), plus 2 each, plus 6.00, at most 5, score 5.00",
        ),
        (
            UP,
            "96",
            None,
            {"points": 5},
            "数值 96，达到 95（含）档，计 3 分，得 3.00 分",
            "value 96, band from 95 (incl.): 3 points, score 3.00",
        ),
        (
            Threshold(D("0.6")),
            "88",
            "90",
            {},
            "实际 88，目标 90，未达到目标，按满分的 60.0% 计，得 6.00 分",
            "actual 88, target 90, target not met, 60.0% of the points, score 6.00",
        ),
        (
            Veto(),
            "1",
            None,
            {"points": 0},
            "发生 1 次，一票否决，得 0.00 分",
            "1 occurrence(s), vetoed, score 0.00",
        ),
    ],
)
def test_explanations(
    rule: Rule, value: str, target: str | None, kw: dict[str, Any], zh: str, en: str
) -> None:
    assert explain(rule, value, target, **kw) == (zh, en)


def test_explanations_of_missing_and_not_ranked() -> None:
    item = make_item(rule=Rank(D(2)), not_ranked_levels=("station",))
    units = make_units(["a"]) + make_units(["s"], level="station")
    scheme = make_scheme([item], units=units)
    result = compute_scores(scheme, values_for("i", "2017", {"a": None, "s": "5"}), "2017")
    assert result.units["a"].items["i"].explanation.text("zh") == "无数据，计 0 分"
    shown = result.units["s"].items["i"].explanation.text("en")
    assert shown.startswith("shown, not ranked at this level: not counted in the total, value 5")


def test_explanation_steps_are_data() -> None:
    item = make_item(rule=Shortfall(D("0.5")), target="100")
    scheme = make_scheme([item], units=make_units(["a"]))
    found = (
        compute_scores(scheme, values_for("i", "2017", {"a": "86"}), "2017").units["a"].items["i"]
    )
    steps = found.explanation.as_data()
    assert [s["code"] for s in steps] == [
        "actual_target",
        "rate",
        "below_target",
        "per_point",
        "deduct",
        "score",
    ]
    assert steps[-1] == {"code": "score", "score": "3"}


# ---------------------------------------------------------------- parameters as stored data


@pytest.mark.parametrize(
    "rule",
    [
        Attainment(D("1.2")),
        Shortfall(D("0.5")),
        Rank(D(2)),
        RelativeToBest(),
        UP,
        DOWN,
        RATE,
        Threshold(D("0.6")),
        FUGITIVES,
        Deduction(D(5)),
        Discretionary(D(1), D(10)),
        Bonus(D(2), D(3)),
        Bonus(D(2)),
        Veto(),
    ],
)
def test_rule_parameters_round_trip(rule: Rule) -> None:
    assert rule_from_dict(rule_to_dict(rule)) == rule


def test_rule_from_dict_names_every_problem() -> None:
    with pytest.raises(ValueError) as caught:
        rule_from_dict({"kind": "shortfall", "per_point": "x", "typo": 1})
    message = str(caught.value)
    assert "rule.per_point: must be a number" in message
    assert "rule.typo: unknown key" in message


def test_flags_and_shortfall_reasons_have_names_for_people() -> None:
    from duban.evaluation.engine.results import LABELS, label

    flags = ("missing", "no_target", "invalid", "incomplete", "vetoed", "not_ranked")
    for code in (*flags, "shortfall", "behind", "below_target", "bottom_third"):
        assert code in LABELS  # every code the engine writes has a name in both languages
    assert label("behind") == "落后序时进度"
    assert label("bottom_third", "en") == "in the bottom third of its group"
    assert label("some_new_code") == "some_new_code"  # never an error on a page
