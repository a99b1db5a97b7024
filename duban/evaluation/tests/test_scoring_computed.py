"""Computed indicators of a database scheme: the builder carries Indicator.formula into the
engine, scoring feeds the inputs, and totals add up the raw figures. Hand-worked figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from duban.evaluation import services
from duban.evaluation.builder import data_to_engine, scheme_to_engine
from duban.evaluation.models import Scheme
from duban.evaluation.scoring import score
from duban.evaluation.tests.conftest import put, scheme_data
from duban.indicators.models import Indicator
from duban.orgs.policy import SYSTEM

D = Decimal


@pytest.fixture
def rated(tree: Any) -> Scheme:
    """r.rate = r.done / r.task × 100, scored as it stands and year to date.

    COUNTY-A: done 20 / task 40 (January), 60 / 60 (February), 10 / 100 (April);
    COUNTY-B: 30 / 50 (January), 30 / 50 (February).
    """
    for code, aggregation in (("r.done", "sum"), ("r.task", "sum"), ("r.poll", "none")):
        Indicator.objects.create(
            code=code, name_zh=code, value_type="decimal", issuer=tree.province,
            unit_aggregation=aggregation,
        )  # fmt: skip
    Indicator.objects.create(
        code="r.rate", name_zh="完成率", value_type="decimal", issuer=tree.province,
        formula="r.done / r.task * 100", decimals=1,
    )  # fmt: skip
    data = scheme_data(members=("COUNTY-A", "COUNTY-B"))
    data["items"] = [
        {"code": "rate", "category": "work", "indicator": "r.rate", "name": "完成率",
         "points": D(10), "rule": {"kind": "shortfall", "per_point": D("0.5"), "basis": "value"},
         "target": D(70)},
        {"code": "rate_ytd", "category": "work", "indicator": "r.rate", "name": "累计完成率",
         "points": D(20), "rule": {"kind": "attainment", "cap": "none"}, "cumulative": True,
         "target": D(50)},
    ]  # fmt: skip
    scheme = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(scheme, user=SYSTEM)
    for unit, month, done, task in (
        ("COUNTY-A", "201701", 20, 40),
        ("COUNTY-A", "201702", 60, 60),
        ("COUNTY-A", "201704", 10, 100),
        ("COUNTY-B", "201701", 30, 50),
        ("COUNTY-B", "201702", 30, 50),
    ):
        put(unit, "r.done", month, done)
        put(unit, "r.task", month, task)
    return scheme


def test_the_builder_carries_the_formula_and_the_inputs_totals(rated: Scheme) -> None:
    built = scheme_to_engine(rated)
    entries = {i.code: i for i in built.indicators}
    assert entries["r.rate"].formula is not None
    assert entries["r.rate"].formula.text == "r.done / r.task * 100"
    assert (entries["r.rate"].decimals, entries["r.done"].total, entries["r.task"].total) == (
        1,
        "sum",
        "sum",
    )


def test_a_month_scores_the_rate_of_that_month(rated: Scheme) -> None:
    result = score(rated, "201702").result
    # February alone: A 60/60 = 100 ≥ 70 → 10; B 30/50 = 60, 10 short × 0.5 = 5 off → 5
    assert [result.units[u].items["rate"].score for u in ("COUNTY-A", "COUNTY-B")] == [10, 5]


def test_a_cumulative_rate_is_the_rate_of_the_year_to_date_sums(rated: Scheme) -> None:
    result = score(rated, "2017Q2").result
    a = result.units["COUNTY-A"].items["rate_ytd"]
    # January to June: (20 + 60 + 10) / (40 + 60 + 100) × 100 = 45 (not 50 + 100 + 10 = 160,
    # the sum of the monthly rates, nor the quarter's own 10 / 100); 45 / 50 = 90% × 20 = 18
    assert (a.value, a.score) == (D(45), D(18))
    b = result.units["COUNTY-B"].items["rate_ytd"]
    # (30 + 30) / (50 + 50) = 60; 60 / 50 = 120%, uncapped: 20 × 1.2 = 24, nothing lost
    assert (b.value, b.score, b.points_lost) == (D(60), D(24), D(0))
    # the quarter's own rate, not cumulative: A April 10 / 100 = 10, 60 short × 0.5 = 30 off → 0
    assert result.units["COUNTY-A"].items["rate"].value == D(10)


def test_the_issuers_total_of_a_database_scheme(rated: Scheme) -> None:
    result = score(rated, "2017Q1").result
    total = result.totals()["rate_ytd"]
    # done 20 + 60 + 30 + 30 = 140, task 40 + 60 + 50 + 50 = 200: 70, against the shared 50
    assert total.inputs == {"r.done": D(140), "r.task": D(200)}
    assert (total.value, total.target, total.completion) == (D(70), D(50), D("1.4"))
    # the quarter, as it stands: the same months, the same sums
    assert result.totals()["rate"].value == D(70)
