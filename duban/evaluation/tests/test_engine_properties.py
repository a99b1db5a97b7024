"""Invariants for random rules, parameters and values (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from duban.evaluation.engine import (
    QUOTA_GRADES,
    Attainment,
    Band,
    Bonus,
    Deduction,
    Discretionary,
    Item,
    Rank,
    RelativeToBest,
    Rule,
    Scheme,
    Shortfall,
    Standing,
    Steps,
    Threshold,
    Veto,
    WeightedCount,
    assign_grades,
    competition_ranks,
    compute_scores,
    dump_scheme,
    parse_scheme,
    validate_scheme,
)
from duban.evaluation.engine.decimals import ENGINE_CONTEXT
from duban.evaluation.engine.rules import Extra, Peers
from duban.evaluation.tests import make_item, make_scheme, make_units

ZERO = Decimal(0)


def amounts(low: int, high: int, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def rules(draw: st.DrawFn, points: Decimal, higher: bool) -> Rule:
    kind = draw(
        st.sampled_from(
            [
                "attainment",
                "shortfall",
                "rank",
                "relative_to_best",
                "steps",
                "threshold",
                "weighted_count",
                "deduction",
                "discretionary",
                "bonus",
            ]
        )
    )
    if kind == "attainment":
        return Attainment(
            draw(st.sampled_from([Decimal("0.5"), Decimal(1), Decimal("1.2"), Decimal(2)]))
        )
    if kind == "shortfall":
        return Shortfall(draw(amounts(0, 5)))
    if kind == "rank":
        return Rank(draw(amounts(0, 5)))
    if kind == "relative_to_best":
        return RelativeToBest()
    if kind == "steps":
        bounds = sorted(draw(st.sets(amounts(0, 150, 1), min_size=1, max_size=4)))
        bands = tuple(Band(bound, draw(amounts(0, int(points), 1)).min(points)) for bound in bounds)
        basis = draw(st.sampled_from(["value", "rate"]))
        # a completion rate is higher-is-better whatever the item's direction
        return Steps(bands, "at_least" if higher or basis == "rate" else "at_most", basis)
    if kind == "threshold":
        return Threshold(draw(amounts(0, 1)))
    if kind == "weighted_count":
        classes = draw(
            st.lists(st.sampled_from(["A", "B", "local"]), min_size=1, max_size=3, unique=True)
        )
        return WeightedCount(tuple((code, draw(amounts(0, 10))) for code in classes))
    if kind == "deduction":
        return Deduction(draw(amounts(0, 10)))
    if kind == "discretionary":
        high = draw(amounts(0, int(points))).min(points)
        return Discretionary(draw(amounts(0, 10)).min(high), high)
    cap = draw(st.none() | amounts(0, int(points)).map(lambda c: c.min(points)))
    return Bonus(draw(amounts(0, 5)), cap)


@st.composite
def schemes(draw: st.DrawFn) -> tuple[Scheme, dict[tuple[str, str, str], Decimal | None], dict]:
    """A random scheme of 1–4 items over 1–9 units, with values (some missing) and targets."""
    codes = [f"u{n}" for n in range(draw(st.integers(1, 9)))]
    stations = set(draw(st.lists(st.sampled_from(codes), max_size=2)))
    items: list[Item] = []
    for index in range(draw(st.integers(1, 4))):
        higher = draw(st.booleans())
        veto = draw(st.integers(0, 9)) == 0
        points = ZERO if veto else draw(amounts(0, 40, 1))
        rule = Veto() if veto else draw(rules(points, higher))
        target = draw(st.none() | amounts(0, 150))
        unit_targets = draw(st.dictionaries(st.sampled_from(codes), amounts(0, 150), max_size=3))
        items.append(
            make_item(
                f"i{index}",
                rule,
                points=str(points),
                direction="higher" if higher else "lower",
                target=None if target is None else str(target),
                unit_targets={code: str(value) for code, value in unit_targets.items()},
                not_ranked_levels=draw(st.sampled_from([(), ("station",)])),
            )
        )
    units = tuple(
        unit
        for code in codes
        for unit in make_units([code], "station" if code in stations else "county")
    )
    scheme = make_scheme(items, units=units, grades=QUOTA_GRADES)
    values: dict[tuple[str, str, str], Decimal | None] = {}
    for item in items:
        for key in item.rule.keys(item.indicator):
            for code in codes:
                values[(key, code, "2017")] = draw(st.none() | amounts(-5, 200))
    reasons = {key: "理由" for key in values if draw(st.booleans())}
    return scheme, values, reasons


@settings(max_examples=150, deadline=None)
@given(schemes())
def test_no_item_scores_above_its_maximum_or_below_zero(case: tuple) -> None:
    scheme, values, reasons = case
    assert validate_scheme(scheme) == []
    result = compute_scores(scheme, values, "2017", reasons=reasons)
    for unit in result.units.values():
        for found in unit.items.values():
            assert ZERO <= found.score <= found.item.max_score
            if found.item.max_score <= found.item.points:
                assert found.score <= found.item.points
            steps = found.explanation.steps
            if set(found.flags) & {"missing", "invalid", "no_target"}:
                assert found.score == 0
            else:  # the explanation re-runs the same arithmetic and ends on the same score
                assert steps[-1].code == "score" and steps[-1].args["score"] == found.score
        with localcontext(ENGINE_CONTEXT):
            assert unit.total == sum((r.score for r in unit.items.values() if r.counted), ZERO)


@settings(max_examples=150, deadline=None)
@given(schemes())
def test_ranks_agree_with_rounded_totals(case: tuple) -> None:
    scheme, values, reasons = case
    result = compute_scores(scheme, values, "2017", reasons=reasons)
    units = list(result.units.values())
    for unit in units:
        better = sum(other.display > unit.display for other in units)
        assert unit.rank == 1 + better
        for other in units:
            if unit.display > other.display:
                assert unit.rank < other.rank
            elif unit.display == other.display:
                assert unit.rank == other.rank


@settings(max_examples=100, deadline=None)
@given(schemes())
def test_item_places_agree_with_rounded_item_scores(case: tuple) -> None:
    scheme, values, reasons = case
    result = compute_scores(scheme, values, "2017", reasons=reasons)
    for item in scheme.items:
        placed: dict[str, tuple[int, int, Decimal]] = {}
        for code, unit in result.units.items():
            found = result.item_place(code, item.code)
            if found is not None:
                placed[code] = (*found, unit.items[item.code].display)
        for place, count, display in placed.values():
            assert count == len(placed)
            assert place == 1 + sum(other > display for (_, _, other) in placed.values())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3), amounts(0, 10, 0), max_size=12))
def test_competition_ranks(scores: dict[str, Decimal]) -> None:
    ranks = competition_ranks(scores)
    for key, score in scores.items():
        assert ranks[key] == 1 + sum(other > score for other in scores.values())


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(amounts(40, 100, 0), st.booleans()), min_size=1, max_size=25))
def test_quotas_are_never_exceeded_and_never_lift_a_unit(units: list[tuple[Decimal, bool]]) -> None:
    totals = [total for total, _ in units]
    standings = [
        Standing(f"u{n}", total, 1 + sum(other > total for other in totals), vetoed)
        for n, (total, vetoed) in enumerate(units)
    ]
    assigned = assign_grades(standings, QUOTA_GRADES)
    n = len(standings)
    counts = [0] * len(QUOTA_GRADES)
    for index, _ in assigned.values():
        counts[index] += 1
    for index, table in enumerate(QUOTA_GRADES):
        assert table.quota is not None
        if table.quota.kind == "at_most":
            assert counts[index] <= table.quota.places(n)
        else:
            assert counts[index] >= table.quota.places(n)
    for standing in standings:
        grade, band = assigned[standing.key]
        assert grade >= band  # a quota or a veto only ever moves a unit down
        if standing.vetoed:
            assert grade >= 1
    # among units without a veto, grades follow ranks
    plain = sorted((s for s in standings if not s.vetoed), key=lambda s: s.rank)
    ordered = [assigned[s.key][0] for s in plain]
    assert ordered == sorted(ordered)


@settings(max_examples=60, deadline=None)
@given(schemes())
def test_random_schemes_round_trip_through_yaml(case: tuple) -> None:
    scheme = case[0]
    assert parse_scheme(dump_scheme(scheme)) == scheme


small = st.sampled_from([Decimal(n) for n in (-1, 0, 1, 2, 3)])
standing = st.tuples(small, st.integers(1, 3), st.integers(1, 3), st.one_of(st.none(), small),
                     st.booleans())  # fmt: skip


@settings(max_examples=500)
@given(
    st.sampled_from([Rank(Decimal("1.5")), Rank(Decimal(7)), RelativeToBest()]),
    st.sampled_from(["higher", "lower"]),
    standing,
    standing,
)
def test_standings_with_one_key_score_alike(
    rule: Rule, direction: str, first: tuple, second: tuple
) -> None:
    """The engine evaluates a comparing rule once per standing key and item: two standings
    with the same key must score the same, whatever else differs (size, ties, cohort).
    Small domains make equal keys common; unequal ones are skipped."""
    item = make_item("x", rule, points=20, direction=direction)
    (a_value, a_place, a_size, a_best, a_tied), (b_value, b_place, b_size, b_best, b_tied) = (
        first,
        second,
    )
    a = Peers(a_place, max(a_size, a_place), a_best, a_tied)
    b = Peers(b_place, max(b_size, b_place), b_best, b_tied)
    assume(rule.standing_key(a_value, a) == rule.standing_key(b_value, b))
    with localcontext(ENGINE_CONTEXT):
        assert rule.evaluate(item, a_value, None, Extra(a), None) == rule.evaluate(
            item, b_value, None, Extra(b), None
        )
