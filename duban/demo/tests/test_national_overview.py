"""The overview read in aggregated SQL (`reporting.overview`) gives `figures.overview`'s answer,
on a synthetic national tree: every child's figures, state, timeliness and counts, the
missing units named, the totals, and the count of units still to report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine

from duban.demo import national
from duban.indicators.models import DataSet
from duban.orgs.models import OrgUnit
from duban.periods import parse_period
from duban.reporting import approval, figures
from duban.reporting import overview as overview_sql

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)
SHAPE = national.Shape(provinces=2, cities=4, counties=8, stations=40, years=1)


@pytest.fixture
def tree() -> Iterator[DataSet]:
    with time_machine.travel("2026-12-04 09:00 +0800", tick=False):
        national.build_national(SHAPE, end="202611", today=TODAY)
        yield DataSet.objects.get(code=national.DATA_SET)


def plain(data: dict) -> dict:
    """The answer as comparable values (units by code)."""
    rows = [
        (r.unit.code, r.reports, r.status and (r.status.state, r.status.status), r.below,
         sorted(r.missing_below), r.figures)
        for r in data["rows"]
    ]  # fmt: skip
    own = data["own_status"]
    return {
        "rows": rows,
        "figures": data["figures"],
        "own": own and (own.state, own.status),
        "totals": data["totals"],
        "expected": data["expected"],
    }


@pytest.mark.parametrize("code", ["CN", "P01", "P01-C01", "P02-C01-X01", "P01-C01-X01-S01"])
@pytest.mark.parametrize("period", ["202611", "202606"])
def test_the_sql_overview_is_the_python_one(tree: DataSet, code: str, period: str) -> None:
    unit = OrgUnit.objects.get(code=code)
    p = parse_period(period)
    fast = overview_sql.overview(tree, unit, p, TODAY)
    assert fast is not None
    assert plain(fast.data) == plain(figures.overview(tree, unit, p, TODAY))
    assert fast.not_reported == len(approval.not_reported(tree, unit, period))
    assert all(n == 0 for n in fast.more_missing.values())  # ≤ 20 missing per child here


def test_a_hand_counted_month(tree: DataSet) -> None:
    """The last month: of every ten stations (by their place in the tree) 7 submitted, 2 hold a
    draft and 1 gave nothing; its deadline (the 5th of December) is not past on the 4th."""
    unit = OrgUnit.objects.get(code="CN")
    fast = overview_sql.overview(tree, unit, parse_period("202611"), TODAY)
    assert fast is not None
    assert fast.data["expected"] == 40
    assert fast.data["totals"] == {"on_time": 28, "late": 0, "missing": 0, "pending": 12}
    assert fast.not_reported == 12  # the 8 drafts and the 4 without a form


def test_other_readings_are_left_to_python(tree: DataSet) -> None:
    unit = OrgUnit.objects.get(code="P01")
    assert overview_sql.overview(tree, unit, parse_period("2026Q3"), TODAY) is None
    ind = tree.members()[0]
    ind.unit_aggregation = "average"
    ind.save()
    assert overview_sql.overview(tree, unit, parse_period("202611"), TODAY) is None
