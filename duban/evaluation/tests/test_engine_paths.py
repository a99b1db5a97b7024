"""The whole-cohort path gives exactly what the plain path gives, on random schemes.

The plain path (``compute_scores(..., plain=True)``, monthly values summed unit
by unit) is the reference. The whole-cohort path takes the year-to-date sums a
database hands in and scores whole cohorts at once where it can. On random
schemes — every registered rule kind with random parameters, random peer groups
and sequences, units shown but not ranked, per-unit targets, values with gaps
and negatives, written reasons, values given directly for a quarter or the year
— both give the same scores, values, flags, expected progress, standings,
problems, explanations, totals, ranks and grades.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from duban.evaluation.engine import (
    QUOTA_GRADES,
    RULES,
    PeerGroup,
    Rule,
    Scheme,
    SchemeResult,
    Sequence,
    Text,
    Veto,
    YearToDate,
    compute_scores,
    year_to_date_months,
)
from duban.evaluation.engine.compute import Values
from duban.evaluation.tests import make_item, make_scheme, make_units
from duban.evaluation.tests.test_engine_properties import amounts, rules

PERIODS = ("2017", "2017S1", "2017Q3", "201706", "201701")


@st.composite
def monthly(draw: st.DrawFn, gappy: bool) -> Decimal | None:
    if not gappy:
        return Decimal(draw(st.integers(0, 40)))
    return draw(st.none() | amounts(-5, 60, 1))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Scheme, dict[Any, Decimal | None], dict[Any, str], str]:
    codes = [f"u{n}" for n in range(draw(st.integers(1, 10)))]
    stations = set(draw(st.lists(st.sampled_from(codes), max_size=2)))
    units = tuple(
        unit
        for code in codes
        for unit in make_units([code], "station" if code in stations else "county")
    )
    cut = draw(st.integers(1, len(codes)))
    groups = [codes[:cut], codes[cut:]] if cut < len(codes) else [codes]
    peer_groups = []
    for index, members in enumerate(groups):
        sequences: tuple[Sequence, ...] = ()
        if len(members) >= 2 and draw(st.booleans()):
            half = draw(st.integers(1, len(members) - 1))
            sequences = (
                Sequence(f"s{index}a", Text("甲组"), tuple(members[:half])),
                Sequence(f"s{index}b", Text("乙组"), tuple(members[half:])),
            )
        peer_groups.append(PeerGroup(f"g{index}", Text(f"组{index}"), tuple(members), sequences))
    items = []
    for index in range(draw(st.integers(1, 5))):
        veto = draw(st.integers(0, 9)) == 0
        higher = draw(st.booleans())
        points = Decimal(0) if veto else draw(amounts(1, 40, 1))
        target = draw(st.none() | amounts(0, 300).filter(lambda t: t != 0) | st.just(Decimal(0)))
        unit_targets = draw(
            st.just({}) | st.dictionaries(st.sampled_from(codes), amounts(0, 300), max_size=2)
        )
        items.append(
            make_item(
                f"i{index}",
                Veto() if veto else draw(rules(points, higher)),
                points=str(points),
                direction="higher" if higher else "lower",
                cumulative=draw(st.integers(0, 3)) > 0,
                target=None if target is None else str(target),
                unit_targets={code: str(value) for code, value in unit_targets.items()},
                not_ranked_levels=draw(st.sampled_from([(), (), (), ("station",)])),
            )
        )
    scheme = make_scheme(items, units=units, groups=tuple(peer_groups), grades=QUOTA_GRADES)
    period = draw(st.sampled_from(PERIODS))
    months = year_to_date_months(scheme, period)
    values: dict[Any, Decimal | None] = {}
    for item in items:
        gappy = draw(st.integers(0, 2)) == 0
        for key in item.rule.keys(item.indicator):
            for code in codes:
                if not item.cumulative:
                    values[(key, code, period)] = draw(monthly(gappy))
                    continue
                for month in months:
                    figure = draw(monthly(gappy))
                    if figure is not None or draw(st.booleans()):  # absent, or None: missing
                        values[(key, code, month)] = figure
                if len(period) < 6 and draw(st.integers(0, 7)) == 0:  # given for the period
                    values[(key, code, period)] = draw(monthly(gappy))
    reasons = {key: "理由" for key in values if draw(st.integers(0, 2)) == 0}
    return scheme, values, reasons, period


def sums_of(scheme: Scheme, values: Values, period: str, keyed: bool) -> YearToDate:
    """What the database's SUM(value), COUNT(value) … GROUP BY indicator, unit returns."""
    months = year_to_date_months(scheme, period)
    codes = frozenset(
        key for item in scheme.items if item.cumulative for key in item.rule.keys(item.indicator)
    )
    unit_keys = {unit.code: index for index, unit in enumerate(scheme.units)} if keyed else None
    sums: dict[str, dict[Any, tuple[Decimal | None, int]]] = {code: {} for code in codes}
    for (code, unit, month), value in values.items():
        if code in codes and month in months and value is not None:
            key = unit if unit_keys is None else unit_keys[unit]
            total, count = sums[code].get(key, (None, 0))
            sums[code][key] = (value if total is None else total + value, count + 1)
    return YearToDate.of_pairs(months, codes, sums, unit_keys)


def identical(fast: SchemeResult, plain: SchemeResult) -> None:
    assert list(fast.units) == list(plain.units)  # display order: group, sequence, rank
    for code, unit in fast.units.items():
        other = plain.units[code]
        assert (unit.total, unit.rank, unit.group_rank, unit.grade, unit.band, unit.vetoed) == (
            other.total,
            other.rank,
            other.group_rank,
            other.grade,
            other.band,
            other.vetoed,
        ), code
        assert {c: (r.score, r.rank) for c, r in unit.categories.items()} == {
            c: (r.score, r.rank) for c, r in other.categories.items()
        }
        assert list(unit.items) == list(other.items)
        for item, r in unit.items.items():
            o = other.items[item]
            assert (
                r.score,
                r.value,
                r.target,
                r.flags,
                r.counted,
                r.expected,
                r.parts,
                r.peers,
                r.note,
            ) == (
                o.score,
                o.value,
                o.target,
                o.flags,
                o.counted,
                o.expected,
                o.parts,
                o.peers,
                o.note,
            ), (code, item)
            assert r.explanation.as_data() == o.explanation.as_data(), (code, item)
            assert fast.item_place(code, item) == plain.item_place(code, item)
    assert [p.message for p in fast.problems] == [p.message for p in plain.problems]


@settings(max_examples=300, deadline=None)
@given(cases(), st.booleans())
def test_the_whole_cohort_path_scores_as_the_plain_path(case: tuple, keyed: bool) -> None:
    scheme, values, reasons, period = case
    plain = compute_scores(scheme, values, period, reasons=reasons, plain=True)
    sums = sums_of(scheme, values, period, keyed)
    fast = compute_scores(scheme, values, period, reasons=reasons, year_to_date=sums)
    identical(fast, plain)
    # the plain path reads the sums as it reads the months
    identical(
        compute_scores(scheme, values, period, reasons=reasons, year_to_date=sums, plain=True),
        plain,
    )


def test_every_registered_kind_is_drawn() -> None:
    """``rules`` (test_engine_properties) draws every registered kind but the veto, drawn
    here: a new kind must be added there, and is then held to the property above."""
    assert {"veto", *(rule.kind for rule in _one_of_each())} == set(RULES)


def _one_of_each() -> list[Rule]:
    found: dict[str, Rule] = {}

    @settings(max_examples=400, database=None)
    @given(rules(Decimal(10), True))
    def collect(rule: Rule) -> None:
        found.setdefault(rule.kind, rule)

    collect()
    return list(found.values())
