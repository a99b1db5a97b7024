"""Scores from the database: only approved figures, aggregation, refresh on approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.errors import DubanError
from duban.evaluation import engine
from duban.evaluation.scoring import score
from duban.evaluation.tests.conftest import put
from duban.evaluation.values import ValueSource


def test_year_to_date_from_approved_months(scheme) -> None:
    result = score(scheme, "2017Q1").result
    a = result.units["COUNTY-A"].items["solved"]
    assert a.value == 60 and a.score == Decimal(12)  # 60 of 100 → 60% × 20
    assert result.units["COUNTY-B"].items["poll"].score == 10  # 95 is first
    assert result.units["CITY"].items["poll"].score == 6  # 80 is third
    assert next((r.item.code, r.reasons) for r in result.shortfalls("CITY")) == (
        "solved",
        ("missing",),
    )
    assert result.shortfalls("CITY")[0].room == 20  # the year is not over: all 20 still obtainable


def test_submitted_values_do_not_score_until_approved(scheme) -> None:
    put("COUNTY-A", "t.solved", "201703", 40, state="submitted")
    assert score(scheme, "2017Q1").result.units["COUNTY-A"].items["solved"].value == 60
    put("COUNTY-A", "t.solved", "201703", 40, state="approved")
    after = score(scheme, "2017Q1").result.units["COUNTY-A"].items["solved"]
    assert after.value == 100 and after.score == 20


def test_quarter_of_a_last_value_indicator_takes_the_last_month(scheme) -> None:
    put("COUNTY-A", "t.poll", "201701", 50)
    assert score(scheme, "2017Q1").result.units["COUNTY-A"].items["poll"].value == 90


def test_rank_change_since_the_previous_month(scheme) -> None:
    put("COUNTY-A", "t.poll", "201702", 99)
    put("COUNTY-B", "t.poll", "201702", 90)
    put("COUNTY-B", "t.solved", "201703", 40)
    scored = score(scheme, "201703")
    assert (scored.changes["COUNTY-B"].previous, scored.changes["COUNTY-B"].current) == (2, 1)


@pytest.mark.parametrize("period", ["2016", "2017W3", "nonsense", "2018Q1"])
def test_bad_periods_name_the_field(scheme, period: str) -> None:
    with pytest.raises(DubanError) as caught:
        score(scheme, period)
    assert caught.value.problems[0].where == "period"


def _source(values: dict) -> ValueSource:
    built = engine.Scheme(
        code="p", name=engine.Text("p"), year=2017, issuer="x",
        units=(engine.Unit("u", engine.Text("u"), "county"),),
        groups=(engine.PeerGroup("g", engine.Text("g"), ("u",)),),
        categories=(engine.Category("c", engine.Text("c"), Decimal(10)),),
        items=(engine.Item("i", "c", "ind", engine.Text("i"), Decimal(10), engine.rule_from_dict({"kind": "bonus", "per_occurrence": Decimal(1)})),),
    )  # fmt: skip
    return ValueSource(built, values, {}, {"ind": "sum"}, {})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 10_000)), min_size=12, max_size=12))
def test_a_quarter_sums_its_months_skipping_missing_ones(months: list[int | None]) -> None:
    raw = {
        ("ind", "u", f"2017{m:02d}"): (None if v is None else Decimal(v))
        for m, v in enumerate(months, 1)
    }
    source = _source(raw)
    for q in range(4):
        values, _ = source.for_period(engine.compute.parse_period(f"2017Q{q + 1}"))
        given_ = [v for v in months[q * 3 : q * 3 + 3] if v is not None]
        assert values[("ind", "u", f"2017Q{q + 1}")] == (
            sum(map(Decimal, given_)) if given_ else None
        )
