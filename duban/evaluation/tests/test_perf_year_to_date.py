"""Year-to-date sums handed to the engine (``YearToDate``) score exactly as the months do."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.evaluation.engine import (
    Attainment,
    Bonus,
    Deduction,
    Discretionary,
    PeerGroup,
    Rank,
    RelativeToBest,
    SchemeResult,
    Text,
    WeightedCount,
    YearToDate,
    compute_scores,
    year_to_date_months,
)
from duban.evaluation.engine.compute import Values
from duban.evaluation.engine.decimals import ENGINE_CONTEXT, round2
from duban.evaluation.tests import D, make_item, make_scheme, make_units

MONTHS = [f"2017{m:02d}" for m in range(1, 13)]
PERIODS = ("201701", "201705", "2017Q1", "2017Q3", "2017S1", "2017")

ITEMS = [
    make_item("att", Attainment(), points=20, cumulative=True, target=300),
    make_item("rank", Rank(D(1)), points=10, cumulative=True),
    make_item("ded", Deduction(D("0.5")), points=10, cumulative=True),
    make_item("bon", Bonus(D(2), D(6)), points=10, cumulative=True, target=5),
    make_item("fug", WeightedCount((("A", D(3)), ("B", D(1)))), points=10, cumulative=True),
    make_item("plain", Attainment(), points=10, target=50),  # read for the period only
]
CODES = frozenset({"att", "rank", "ded", "bon", "fug.A", "fug.B"})


def sums_of(values: Values, codes: frozenset[str], months: tuple[str, ...]) -> YearToDate:
    """What the database's SUM(value), COUNT(value) … GROUP BY indicator, unit returns."""
    sums: dict[str, dict[str, tuple[Decimal | None, int]]] = {}
    for (code, unit, month), value in values.items():
        if code in codes and month in months:
            of_code = sums.setdefault(code, {})
            total, given_ = of_code.get(unit, (None, 0))
            if value is not None:
                total, given_ = (value if total is None else total + value), given_ + 1
            of_code[unit] = (total, given_)
    return YearToDate.of_pairs(months, codes, sums)


def same(a: SchemeResult, b: SchemeResult) -> None:
    assert list(a.units) == list(b.units)
    for code, unit in a.units.items():
        other = b.units[code]
        assert (unit.total, unit.rank, unit.grade, unit.vetoed) == (
            other.total,
            other.rank,
            other.grade,
            other.vetoed,
        )
        for item, r in unit.items.items():
            o = other.items[item]
            assert (r.score, r.value, r.flags, r.expected, r.parts, r.peers) == (
                o.score,
                o.value,
                o.flags,
                o.expected,
                o.parts,
                o.peers,
            ), (code, item)
            assert r.explanation == o.explanation
    assert [p.message for p in a.problems] == [p.message for p in b.problems]


figure = st.one_of(st.none(), st.integers(-2, 60).map(Decimal))
monthly = st.dictionaries(
    st.tuples(st.sampled_from(sorted(CODES | {"plain"})), st.sampled_from("abcd"),
              st.sampled_from(MONTHS)),
    figure,
    max_size=80,
)  # fmt: skip
direct = st.dictionaries(
    st.tuples(st.sampled_from(sorted(CODES | {"plain"})), st.sampled_from("abcd"),
              st.sampled_from(PERIODS)),
    figure,
    max_size=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(monthly, direct, st.sampled_from(PERIODS))
def test_sums_score_as_the_summed_months(
    months_given: dict, direct_given: dict, period: str
) -> None:
    scheme = make_scheme(ITEMS)
    values = {**months_given, **direct_given}
    by_months = compute_scores(scheme, values, period)
    ytd = sums_of(values, CODES, year_to_date_months(scheme, period))
    # the caller leaves the summed codes' monthly values out
    rest = {k: v for k, v in values.items() if not (k[0] in CODES and k[2] in MONTHS)}
    same(compute_scores(scheme, rest, period, year_to_date=ytd), by_months)


def test_fewer_months_than_the_period_flags_incomplete() -> None:
    scheme = make_scheme([ITEMS[0]], units=make_units("abc"))
    months = year_to_date_months(scheme, "2017Q1")
    assert months == ("201701", "201702", "201703")
    sums = {"att": {"a": (D(30), 3), "b": (D(20), 2), "c": (None, 0)}}
    result = compute_scores(
        scheme, {}, "2017Q1", year_to_date=YearToDate.of_pairs(months, CODES, sums)
    )
    assert "incomplete" not in result.units["a"].items["att"].flags
    assert result.units["b"].items["att"].value == 20
    assert "incomplete" in result.units["b"].items["att"].flags
    assert result.units["c"].items["att"].flags == ("missing",)


def test_a_value_given_for_the_period_still_comes_first() -> None:
    scheme = make_scheme([ITEMS[0]], units=make_units("a"))
    months = year_to_date_months(scheme, "2017Q1")
    ytd = YearToDate.of_pairs(months, CODES, {"att": {"a": (D(30), 2)}})
    found = compute_scores(scheme, {("att", "a", "2017Q1"): D(90)}, "2017Q1", year_to_date=ytd)
    assert found.units["a"].items["att"].value == 90
    # for a month the month's own figure is not the year to date
    ytd = YearToDate.of_pairs(("201701",), CODES, {"att": {"a": (D(30), 1)}})
    found = compute_scores(scheme, {("att", "a", "201701"): D(90)}, "201701", year_to_date=ytd)
    assert found.units["a"].items["att"].value == 30


def test_sums_over_other_months_are_refused() -> None:
    scheme = make_scheme([ITEMS[0]], units=make_units("a"))
    ytd = YearToDate.of_pairs(("201701",), CODES, {})
    with pytest.raises(ValueError, match="2017Q1 needs 201701, 201702, 201703"):
        compute_scores(scheme, {}, "2017Q1", year_to_date=ytd)


def test_discretionary_reasons_still_come_from_the_months() -> None:
    item = make_item("m", Discretionary(D(1), D(10)), cumulative=True)
    scheme = make_scheme([item], units=make_units("a"))
    reasons = {("m", "a", "201701"): "记录不全", ("m", "a", "201703"): "露头未抓"}
    months = year_to_date_months(scheme, "2017Q1")
    ytd = YearToDate.of_pairs(months, frozenset({"m"}), {"m": {"a": (D(5), 3)}})
    found = compute_scores(scheme, {}, "2017Q1", reasons=reasons, year_to_date=ytd)
    assert (found.units["a"].items["m"].score, found.units["a"].items["m"].note) == (
        5,
        "记录不全；露头未抓",
    )


# Units at two levels in two peer groups; the division level is shown, not ranked, on two
# items; some units have their own targets. Every month of a pair given takes the engine's
# quick pass; anything else (a gap, a negative count, a unit not ranked) the general loop.
MIXED_UNITS = (*make_units("abc"), *make_units("de", level="division"))
MIXED_GROUPS = (
    PeerGroup("g1", Text("一组", "Group 1"), ("a", "b", "d")),
    PeerGroup("g2", Text("二组", "Group 2"), ("c", "e")),
)
MIXED_ITEMS = [
    make_item(
        "att",
        Attainment(),
        points=20,
        cumulative=True,
        target=30,
        unit_targets={"b": 12, "e": 0},
        not_ranked_levels=("division",),
    ),
    make_item("rank", Rank(D(1)), points=10, cumulative=True, not_ranked_levels=("division",)),
    make_item("ded", Deduction(D("0.5")), points=10, cumulative=True, unit_targets={"c": 4}),
    make_item("bon", Bonus(D(2), D(6)), points=10, cumulative=True, levels=("county",)),
    # county units only, one shared target: a cohort with every month is scored whole
    make_item("place", Rank(D("1.5")), points=10, cumulative=True, levels=("county",)),
    make_item("best", RelativeToBest(), points=10, cumulative=True, levels=("county",)),
    make_item("hit", Attainment(), points=10, cumulative=True, target=25, levels=("county",)),
]
MIXED_CODES = frozenset({"att", "rank", "ded", "bon", "place", "best", "hit"})
mixed_monthly = st.dictionaries(
    st.tuples(st.sampled_from(sorted(MIXED_CODES)), st.sampled_from("abcde"),
              st.sampled_from(MONTHS[:3])),
    st.one_of(st.none(), st.integers(-1, 20).map(Decimal)),
    max_size=90,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(mixed_monthly, st.sampled_from(("201701", "201702", "2017Q1")))
def test_the_quick_pass_scores_as_the_general_loop(given_: dict, period: str) -> None:
    scheme = make_scheme(MIXED_ITEMS, units=MIXED_UNITS, groups=MIXED_GROUPS)
    by_months = compute_scores(scheme, given_, period)
    ytd = sums_of(given_, MIXED_CODES, year_to_date_months(scheme, period))
    same(compute_scores(scheme, {}, period, year_to_date=ytd), by_months)


def test_a_cohort_with_every_month_is_scored_whole_as_the_months_score_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hand-worked: four ranked units, one shared target, every month given. Ties share the
    better place (1, 1, 3, 4) and one evaluation; the whole-cohort path is the one taken."""
    from duban.evaluation.engine import cohorts

    taken: list[int] = []
    whole = cohorts._compare_cohort

    def spy(column, start, stop, *args):  # type: ignore[no-untyped-def]
        taken.append(stop - start)
        whole(column, start, stop, *args)

    monkeypatch.setattr(cohorts, "_compare_cohort", spy)
    items = [
        make_item("place", Rank(D(2)), points=10, cumulative=True),
        make_item("best", RelativeToBest(), points=10, cumulative=True),
        make_item("hit", Attainment(), points=10, cumulative=True, target=20),
        make_item("ded", Deduction(D("0.5")), points=10, cumulative=True),
    ]
    scheme = make_scheme(items)
    january = {"a": 12, "b": 12, "c": 8, "d": 0}
    february = {"a": 3, "b": 3, "c": 2, "d": 4}  # year to date: 15, 15, 10, 4
    values: dict = {}
    for code in ("place", "best", "hit", "ded"):
        for unit in "abcd":
            values[(code, unit, "201701")] = D(january[unit])
            values[(code, unit, "201702")] = D(february[unit])
    by_months = compute_scores(scheme, values, "201702")
    ytd = sums_of(values, frozenset({"place", "best", "hit", "ded"}), ("201701", "201702"))
    whole_result = compute_scores(scheme, {}, "201702", year_to_date=ytd)
    assert taken == [4, 4]  # place and best, each cohort once
    same(whole_result, by_months)
    scores = {
        unit: [whole_result.units[unit].items[c].score for c in ("place", "best", "hit", "ded")]
        for unit in "abcd"
    }
    # place: 10 − 2 × (place − 1); best: 10 × value / 15; hit: 10 × min(value / 20, 1)
    # (by February, expected progress is 20 × 59/365); ded: 10 − 0.5 × value, floor 0
    assert scores["a"] == [10, 10, D("7.5"), D("2.5")]
    assert scores["b"] == [10, 10, D("7.5"), D("2.5")]
    with localcontext(ENGINE_CONTEXT):  # 34 significant digits, as the engine divides
        share_c, share_d = D(10) / D(15), D(4) / D(15)
        assert scores["c"] == [6, 10 * share_c, 5, 5]
        assert scores["d"] == [4, 10 * share_d, 2, 8]
    assert [round2(s) for s in scores["c"]] == [6, D("6.67"), 5, 5]
    assert whole_result.units["a"].items["place"].peers == (1, 4, 15, True)
    assert whole_result.units["c"].items["place"].peers == (3, 4, 15, False)
    assert [whole_result.units[u].rank for u in "abcd"] == [1, 1, 3, 4]


def test_sums_filed_under_unit_keys_and_a_unit_without_a_key_is_missing() -> None:
    scheme = make_scheme([ITEMS[0]], units=make_units("ab"))
    ytd = YearToDate(
        ("201701",), frozenset({"att"}), {"att": {7: D(30)}}, {"att": {7: 1}}, unit_keys={"a": 7}
    )
    result = compute_scores(scheme, {}, "201701", year_to_date=ytd)
    assert result.units["a"].items["att"].value == 30
    assert result.units["a"].items["att"].score == D(2)  # 20 × 30 / 300
    assert result.units["b"].items["att"].flags == ("missing",)
    assert result.units["b"].items["att"].score == 0
