"""The pages benchmark's data and figures: the year before added where missing, and wrk's line
read. Not in the default test paths (benchmarks are not the product): run
`pytest -n 0 benchmarks/test_pages_data.py`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from benchmarks import _pages_data
from benchmarks.bench_pages import Load, median_load, parse_wrk
from duban.indicators import services as ind_services
from duban.orgs.policy import SYSTEM
from duban.reporting.models import DataValue, State
from duban.reporting.values import Figure, put_figures


@pytest.mark.django_db
def test_the_year_before_is_added_where_missing_and_only_there(tree: Any) -> None:
    solved = ind_services.create_indicator(
        user=SYSTEM, issuer=tree.province, code="case.solved", name_zh="破案数",
        value_type="integer", levels=["county"], kinds=["territorial"],
    )  # fmt: skip
    rate = ind_services.create_indicator(
        user=SYSTEM, issuer=tree.province, code="poll.rate", name_zh="满意度",
        value_type="percentage", decimals=1, levels=["county"], kinds=["territorial"],
    )  # fmt: skip
    put_figures(
        [
            Figure(tree.county_a, solved, "201703", Decimal(100)),
            Figure(tree.county_a, solved, "201603", Decimal(7)),  # kept as it is
            Figure(tree.county_a, rate, "201703", Decimal("90.0")),
            Figure(tree.other_city, solved, "201703", Decimal(50)),  # outside the province
        ],
        user=SYSTEM,
        action="reporting.values.put",
    )
    added = _pages_data.add_year_before(tree.province.code, 2017)

    assert added == 1
    new = DataValue.objects.get(unit=tree.county_a, indicator=rate, period="201603")
    assert new.state == State.APPROVED
    assert new.value is not None and Decimal("76.5") <= new.value <= Decimal("90.0")
    assert new.value == new.value.quantize(Decimal("0.1"))
    kept = DataValue.objects.get(unit=tree.county_a, indicator=solved, period="201603")
    assert kept.value == 7
    assert not DataValue.objects.filter(unit=tree.other_city, period="201603").exists()
    assert _pages_data.add_year_before(tree.province.code, 2017) == 0


def test_wrk_line_read_with_every_answer_not_2xx_an_error() -> None:
    out = (
        "Running 10s test @ http://127.0.0.1:1/\n"
        "DUBAN requests=500 duration_us=10000000 p50_us=20000 p95_us=90000 p99_us=120000 "
        "max_us=200000 connect=0 read=2 write=0 timeout=0\n"
        "DUBAN_STATUS 302 3\n"
    )
    load = parse_wrk(out)
    assert (load.requests, load.rate, load.p95) == (500, 50.0, 0.09)
    assert load.errors == {"HTTP 302": 3, "socket read": 2}
    assert load.failed == 5


def test_median_of_rounds() -> None:
    rounds = [
        Load(100, 10.0, 0.01, 0.05, 0.08, 0.1),
        Load(300, 10.0, 0.03, 0.15, 0.20, 0.4, {"HTTP 500": 1}),
        Load(200, 10.0, 0.02, 0.10, 0.10, 0.2),
    ]
    med = median_load(rounds)
    assert (med.rate, med.p50, med.p95, med.p99, med.max) == (20.0, 0.02, 0.10, 0.10, 0.4)
    assert med.errors == {"HTTP 500": 1}
