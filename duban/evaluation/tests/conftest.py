"""A small scheme over the shared test tree, with approved figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from duban.evaluation import services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Scheme
from duban.indicators.models import Indicator
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting.models import DataValue
from duban.reporting.tests.conftest import put_figure

MEMBERS = ("CITY", "COUNTY-A", "COUNTY-B", "STATION-A1")


def scheme_data(
    issuer: str = "PROV", members: tuple[str, ...] = MEMBERS, code: str = "t-2017"
) -> dict[str, Any]:
    units = [
        {"code": u.code, "name": u.name_zh, "level": u.level, "kind": u.kind}
        for u in OrgUnit.objects.filter(code__in=members).order_by("path")
    ]
    return {
        "code": code, "name": "测试方案", "year": 2017, "issuer": issuer, "units": units,
        "groups": [{"code": "all", "name": "全部", "members": [u["code"] for u in units]}],
        "categories": [{"code": "work", "name": "业务", "points": Decimal(30)}],
        "items": [
            {"code": "solved", "category": "work", "indicator": "t.solved", "name": "破案数",
             "points": Decimal(20), "rule": {"kind": "attainment"}, "cumulative": True,
             "target": {"default": Decimal(100), "units": {members[-1]: Decimal(50)}},
             "rule_text": "按完成率计分"},
            {"code": "poll", "category": "work", "indicator": "t.poll", "name": "民调",
             "points": Decimal(10), "rule": {"kind": "rank", "per_place": Decimal(2)},
             "rule_text": "第一名10分，依次递减2分"},
        ],
    }  # fmt: skip


def put(unit: str, indicator: str, period: str, value: Any, state: str = "approved") -> DataValue:
    """A figure as given, through the writer (`reporting.tests.conftest.put_figure`)."""
    return put_figure(
        OrgUnit.objects.get(code=unit), Indicator.objects.get(code=indicator), period, value, state
    )


@pytest.fixture
def indicators(tree: Any) -> None:
    for code, agg in (("t.solved", "sum"), ("t.poll", "last")):
        Indicator.objects.create(code=code, name_zh=code, value_type="decimal", issuer=tree.province,
                                 time_aggregation=agg)  # fmt: skip


@pytest.fixture
def scheme(tree: Any, indicators: None) -> Scheme:
    """Published; COUNTY-A solved 30+30, COUNTY-B 20+20, poll A 90 / B 95 / CITY 80 (March)."""
    s = services.save_engine_scheme(data_to_engine(scheme_data()), user=SYSTEM)
    services.publish_scheme(s, user=SYSTEM)
    for month in ("201701", "201702"):
        put("COUNTY-A", "t.solved", month, 30)
        put("COUNTY-B", "t.solved", month, 20)
    put("COUNTY-A", "t.poll", "201703", 90)
    put("COUNTY-B", "t.poll", "201703", 95)
    put("CITY", "t.poll", "201703", 80)
    return s
