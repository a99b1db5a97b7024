"""The cockpit's queries do not grow with the number of units: a province scoring 50 and
then 150 units costs the same number of queries, warm (every period kept) and cold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duban.evaluation import cache, services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Scheme, StoredResult
from duban.indicators.models import Indicator
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting.values import Figure, put_figures
from duban.tasks.tests.factories import make_task
from duban.testing import logged_in, make_unit, make_user

pytestmark = pytest.mark.django_db


def add_counties(province: OrgUnit, count: int) -> list[OrgUnit]:
    """Units <province>-<n> under it, created in bulk (paths set as save() sets them)."""
    units = [
        OrgUnit(
            code=f"{province.code}-{n:03d}",
            parent=province,
            name_zh=f"第{n}县局",
            name_en=f"County {n}",
            level="county",
            kind="territorial",
            path=f"{province.path}{province.code}-{n:03d}/",
            depth=1,
        )
        for n in range(1, count + 1)
    ]
    OrgUnit.objects.bulk_create(units)
    return list(OrgUnit.objects.filter(code__in=[u.code for u in units]))


def province_scheme(province: OrgUnit, units: list[OrgUnit]) -> Scheme:
    data = {
        "code": f"{province.code}-2017",
        "name": "全省考评",
        "year": 2017,
        "issuer": province.code,
        "units": [
            {"code": u.code, "name": u.name_zh, "level": u.level, "kind": u.kind} for u in units
        ],
        "groups": [{"code": "all", "name": "全部", "members": [u.code for u in units]}],
        "categories": [
            {"code": "basic", "name": "基础", "points": Decimal(40)},
            {"code": "work", "name": "业务", "points": Decimal(60)},
        ],
        "items": [
            {
                "code": "solved",
                "category": "work",
                "indicator": "q.solved",
                "name": "破案数",
                "points": Decimal(60),
                "rule": {"kind": "attainment"},
                "cumulative": True,
                "target": {"default": Decimal(100)},
            },
            {
                "code": "poll",
                "category": "basic",
                "indicator": "q.poll",
                "name": "民调",
                "points": Decimal(40),
                "rule": {"kind": "relative_to_best"},
            },
        ],
    }
    scheme = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(scheme, user=SYSTEM)
    return scheme


def put_year(units: list[OrgUnit]) -> None:
    solved, poll = Indicator.objects.get(code="q.solved"), Indicator.objects.get(code="q.poll")
    figures = [
        Figure(u, ind, month, Decimal(10 + (n * 7 + i) % 23))
        for n, u in enumerate(units)
        for month in ("201701", "201702", "201703")
        for i, ind in enumerate((solved, poll))
    ]
    put_figures(figures, user=SYSTEM, action="reporting.datavalue.put")


def page_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert "第1县局" in response.content.decode()
    return len(queries)


def province(code: str, count: int) -> tuple[str, Scheme]:
    """A province scoring ``count`` counties on two items, with a leader; its cockpit URL."""
    top = make_unit(code, None, level="province", name_zh=f"{code}省厅", name_en="Province")
    make_user(f"{code}_leader", top, "leader")
    units = add_counties(top, count)
    put_year(units)
    for unit in units[::5]:  # a task for every fifth county, overdue at today's date
        make_task(top, unit, title=f"{unit.name_zh}攻坚", due_date=date(2017, 6, 30))
    return f"/cockpit/{code}/?period=201703", province_scheme(top, units)


def test_the_province_cockpit_costs_the_same_queries_for_150_units_as_for_50(
    tree: Any, django_assert_max_num_queries: Any
) -> None:
    for code, agg in (("q.solved", "sum"), ("q.poll", "last")):
        Indicator.objects.create(
            code=code,
            name_zh=code,
            value_type="decimal",
            issuer=tree.province,
            time_aggregation=agg,
        )
    small_url, small = province("QA", 50)
    large_url, large = province("QB", 150)
    small_client, large_client = logged_in("QA_leader"), logged_in("QB_leader")

    cold = page_queries(small_client, small_url)  # the current period scored inline
    with django_assert_max_num_queries(cold):
        page_queries(large_client, large_url)
    for scheme in (small, large):
        cache.recompute(scheme)
    warm = page_queries(small_client, small_url)  # every month kept
    with django_assert_max_num_queries(warm):
        page_queries(large_client, large_url)
    assert StoredResult.objects.filter(scheme=large).count() == 19
