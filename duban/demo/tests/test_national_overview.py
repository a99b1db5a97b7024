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


def test_the_named_missing_units_are_capped_and_counted(tree: DataSet) -> None:
    """In the last month, with the deadline past (the 6th), the stations that have not
    submitted are missing: with `named=1` one is named per child and the rest counted."""
    unit = OrgUnit.objects.get(code="CN")
    p = parse_period("202611")
    after = date(2026, 12, 6)
    full = overview_sql.overview(tree, unit, p, after, named=None)
    capped = overview_sql.overview(tree, unit, p, after, named=1)
    assert full is not None and capped is not None
    assert plain(full.data) == plain(figures.overview(tree, unit, p, after))
    for f, c in zip(full.data["rows"], capped.data["rows"], strict=True):
        assert [(u.code, s) for u, s in c.missing_units] == [
            (u.code, s) for u, s in f.missing_units[:1]
        ]
        assert c.more_missing == len(f.missing_units) - len(c.missing_units)
    # Missing: never submitted — the 8 stations holding a draft and the 4 without a form.
    assert sum(len(r.missing_units) for r in full.data["rows"]) == 12


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
