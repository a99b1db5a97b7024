"""The bulletin's rule options: attainment without a cap, threshold in points, shortfall in
the indicator's own percentage points. Hand-worked figures in the comments."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from duban.evaluation.engine import (
    Attainment,
    Shortfall,
    Threshold,
    compute_scores,
    dump_scheme,
    parse_scheme,
)
from duban.evaluation.engine.decimals import ENGINE_CONTEXT
from duban.evaluation.engine.files import SchemeFileError
from duban.evaluation.engine.rules import NO_EXTRA, Rule, RuleError, rule_from_dict, rule_to_dict
from duban.evaluation.tests import D, make_item, make_scheme, values_for

pytestmark = pytest.mark.usefixtures("english")


def score(rule: Rule, value: str, target: str, *, points: str = "10", direction: str = "higher"):  # type: ignore[no-untyped-def]
    item = make_item(rule=rule, points=points, direction=direction)
    with localcontext(ENGINE_CONTEXT):
        return rule.evaluate(item, D(value), D(target), NO_EXTRA, None)


# ---------------------------------------------------------------- attainment, cap: none


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        ("125.49", "100", "higher", "12.549"),  # 125.49% kept: 10 × 1.2549
        ("80", "100", "higher", "8"),  # 10 × 0.8, as with a cap
        ("300", "100", "higher", "30"),  # 300%: 10 × 3, no ceiling
        ("50", "100", "lower", "20"),  # lower is better: 100 ÷ 50 = 200% → 20
        ("5", "0", "higher", "10"),  # target 0: unbounded, counted as 100% → 10
        ("0", "10", "lower", "10"),  # lower, actual 0: unbounded, 100% → 10
        ("-5", "100", "higher", "0"),  # below 0%: 0
    ],
)
def test_attainment_without_a_cap_keeps_over_completion(
    value: str, target: str, direction: str, expected: str
) -> None:
    assert score(Attainment(cap=None), value, target, direction=direction) == D(expected)


def test_an_uncapped_item_measures_points_lost_from_its_points_and_never_below_zero() -> None:
    item = make_item("r", Attainment(cap=None), points=10, target=100)
    scheme = make_scheme([item], units=make_scheme([item]).units[:2])
    values = values_for("r", "2017", {"a": "125.49", "b": "60"})
    result = compute_scores(scheme, values, "2017")
    a, b = result.units["a"].items["r"], result.units["b"].items["r"]
    # a: 12.549, more than the points: nothing lost (not −2.549); b: 6 → 4 lost of 10.
    assert (a.score, a.max_score, a.points_lost) == (D("12.549"), D(10), D(0))
    assert (b.score, b.max_score, b.points_lost) == (D(6), D(10), D(4))
    assert [row.points_lost for row in result.reconciliation("a")] == [D(0)]
    assert [(row.item.code, row.points_lost) for row in result.shortfalls("b")] == [("r", D(4))]
    assert (
        a.explanation.text("en")
        == "actual 125.49, target 100, completion 125.5%, 10 × 125.5%, score 12.55"
    )


def test_cap_none_reads_writes_and_stores_as_none() -> None:
    rule = rule_from_dict({"kind": "attainment", "cap": "none"})
    assert rule == Attainment(cap=None)
    assert rule_to_dict(rule) == {"kind": "attainment", "cap": "none"}
    assert rule_to_dict(Attainment()) == {"kind": "attainment", "cap": D(1)}  # as before
    with pytest.raises(RuleError, match="cap: must be a number"):
        rule_from_dict({"kind": "attainment", "cap": "unlimited"})


# ---------------------------------------------------------------- threshold, else_points


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (Threshold(else_points=D(4)), "95", "10"),  # 95 ≥ 90: met, full 10
        (Threshold(else_points=D(4)), "85", "4"),  # missed: the 4 points stated
        (Threshold(else_points=D(0)), "85", "0"),  # else_points 0: nothing
        (Threshold(else_share=D("0.6")), "85", "6"),  # the share, as before: 10 × 0.6
        (Threshold(), "85", "0"),  # neither: 0
    ],
)
def test_threshold_gives_else_points_when_the_target_is_missed(
    rule: Threshold, value: str, expected: str
) -> None:
    assert score(rule, value, "90") == D(expected)


def test_threshold_else_points_round_trip_and_explanation() -> None:
    rule = rule_from_dict({"kind": "threshold", "else_points": D(4)})
    assert rule == Threshold(else_points=D(4))
    assert rule_to_dict(rule) == {"kind": "threshold", "else_points": D(4)}
    assert rule_to_dict(Threshold(D("0.6"))) == {"kind": "threshold", "else_share": D("0.6")}
    item = make_item("t", rule, points=10, target=90)
    result = compute_scores(make_scheme([item]), values_for("t", "2017", {"a": 85}), "2017")
    text = result.units["a"].items["t"].explanation.text
    assert text("en") == "actual 85, target 90, target not met, 4 points given, score 4.00"
    assert text("zh") == "实际 85，目标 90，未达到目标，计 4 分，得 4.00 分"


SCHEME = """
code: t
name: 测试
year: 2017
issuer: city
units: [{code: a, name: 甲, level: county}]
groups: [{code: g, name: 组, members: [a]}]
categories: [{code: c, name: 类, points: 10}]
items:
  - {code: ontime, category: c, name: 按时, points: 10, target: 90, rule: RULE}
"""


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            "{kind: threshold, else_share: 0.5, else_points: 4}",
            "items[0].rule: item ontime: give else_share or else_points, not both",
        ),
        (
            "{kind: threshold, else_points: 12}",
            "items[0].rule.else_points: item ontime: else_points must not exceed the item's "
            "points (10)",
        ),
        ("{kind: threshold, else_points: -1}", "items[0].rule.else_points: must be at least 0"),
        ("{kind: shortfall, per_point: 1, basis: rate}", "items[0].rule.basis: must be one of"),
    ],
)
def test_bad_rule_options_are_refused_naming_the_item(rule: str, problem: str) -> None:
    with pytest.raises(SchemeFileError) as caught:
        parse_scheme(SCHEME.replace("RULE", rule))
    assert any(str(p).startswith(problem) for p in caught.value.problems), caught.value.problems


# ---------------------------------------------------------------- shortfall, basis: value


@pytest.mark.parametrize(
    ("value", "target", "direction", "basis", "expected"),
    [
        ("69", "70", "higher", "value", "9.5"),  # 1 point short × 0.5 = 0.5 off 10
        ("70", "70", "higher", "value", "10"),  # met
        ("85.5", "70", "higher", "value", "10"),  # above: full points, never more
        ("50", "70", "higher", "value", "0"),  # 20 short × 0.5 = 10 off: 0
        ("63.4", "70", "higher", "value", "6.7"),  # 6.6 short × 0.5 = 3.3 off → 6.7
        ("12", "10", "lower", "value", "9"),  # lower: 2 points above × 0.5 = 1 off → 9
        ("8", "10", "lower", "value", "10"),  # lower, below target: met
        ("69", "70", "higher", "completion", "9.285714285714285714285714285714285"),
        # completion basis, as before: 69/70 = 98.57142857…% (34 digits), 100 − that =
        # 1.42857142857142857142857142857143 short × 0.5 = 0.714285714285714285714285714285715
        # off 10
    ],
)
def test_shortfall_on_the_value_counts_the_indicators_own_points(
    value: str, target: str, direction: str, basis: str, expected: str
) -> None:
    rule = Shortfall(per_point=D("0.5"), basis=basis)
    assert score(rule, value, target, direction=direction) == D(expected)


@pytest.mark.parametrize(
    ("basis", "direction", "value", "en", "zh"),
    [
        (
            "value",
            "higher",
            "69",
            "actual 69, target 70, the value is 1.0 percentage points below the target value, "
            "0.5 per point, minus 0.50, score 9.50",
            "实际 69，目标 70，实际值低于目标值 1.0 个百分点，每个百分点扣 0.5 分，扣 0.50 分，"
            "得 9.50 分",
        ),
        (
            "value",
            "lower",
            "72",
            "actual 72, target 70, the value is 2.0 percentage points above the target value, "
            "0.5 per point, minus 1.00, score 9.00",
            "实际 72，目标 70，实际值高于目标值 2.0 个百分点，每个百分点扣 0.5 分，扣 1.00 分，"
            "得 9.00 分",
        ),
        (
            "completion",
            "higher",
            "63",
            "actual 63, target 70, completion 90.0%, 10.0 points below target, 0.5 per point, "
            "minus 5.00, score 5.00",
            "实际 63，目标 70，完成率 90.0%，低于目标 10.0 个百分点，每个百分点扣 0.5 分，"
            "扣 5.00 分，得 5.00 分",
        ),
    ],
)
def test_the_shortfall_explanation_says_which_points(
    basis: str, direction: str, value: str, en: str, zh: str
) -> None:
    rule = Shortfall(per_point=D("0.5"), basis=basis)
    item = make_item("s", rule, points=10, target=70, direction=direction)
    result = compute_scores(make_scheme([item]), values_for("s", "2017", {"a": value}), "2017")
    explanation = result.units["a"].items["s"].explanation
    assert (explanation.text("en"), explanation.text("zh")) == (en, zh)


def test_shortfall_basis_is_written_only_when_it_is_value() -> None:
    assert rule_to_dict(Shortfall(D("0.5"))) == {"kind": "shortfall", "per_point": D("0.5")}
    rule = rule_from_dict({"kind": "shortfall", "per_point": D("0.5"), "basis": "value"})
    assert rule == Shortfall(D("0.5"), basis="value")
    assert rule_to_dict(rule)["basis"] == "value"


def test_the_new_options_survive_a_yaml_round_trip() -> None:
    rules = "{kind: attainment, cap: none}"
    scheme = parse_scheme(SCHEME.replace("RULE", rules))
    again = parse_scheme(dump_scheme(scheme))
    assert again == scheme and again.items[0].rule == Attainment(cap=None)
    for text in (
        "{kind: threshold, else_points: 4}",
        "{kind: shortfall, per_point: 1, basis: value}",
    ):
        scheme = parse_scheme(SCHEME.replace("RULE", text))
        assert parse_scheme(dump_scheme(scheme)) == scheme


def test_an_uncapped_items_maximum_is_its_points() -> None:
    assert make_item(rule=Attainment(cap=None), points=10).max_score == Decimal(10)
    assert make_item(rule=Attainment(cap=D("1.2")), points=10).max_score == Decimal(12)
