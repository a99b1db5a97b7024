"""One level down from every figure: the cockpit's reporting panel names who has not
reported, and the derivation page links each item's figures to the form or overview."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from duban.evaluation import services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.tests.conftest import put
from duban.orgs.policy import SYSTEM
from duban.reporting.tests.conftest import make_form
from duban.testing import logged_in, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(tree: Any) -> None:
    """The city's monthly form (November and December open, nothing submitted) and the
    city's scheme over its counties on two of its indicators, November approved."""
    make_form(tree, expiry_days=0)
    units = [
        {"code": c, "name": c, "level": "county", "kind": "territorial"}
        for c in ("COUNTY-A", "COUNTY-B")
    ]
    data = {
        "code": "d-2017",
        "name": "市局考评",
        "year": 2017,
        "issuer": "CITY",
        "units": units,
        "groups": [{"code": "all", "name": "县局", "members": ["COUNTY-A", "COUNTY-B"]}],
        "categories": [{"code": "work", "name": "业务", "points": Decimal(30)}],
        "items": [
            {
                "code": "solved",
                "category": "work",
                "indicator": "case.solved",
                "name": "破案数",
                "points": Decimal(20),
                "rule": {"kind": "attainment"},
                "cumulative": True,
                "target": {"default": Decimal(100)},
            },
            {
                "code": "poll",
                "category": "work",
                "indicator": "poll.score",
                "name": "民调",
                "points": Decimal(10),
                "rule": {"kind": "rank", "per_place": Decimal(2)},
            },
        ],
    }
    scheme = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(scheme, user=SYSTEM)
    for unit, solved, poll in (("COUNTY-A", 30, 90), ("COUNTY-B", 20, 95)):
        put(unit, "case.solved", "201711", solved)
        put(unit, "poll.score", "201711", poll)
    make_user("city_leader", tree.city, "leader")


def test_the_reporting_panel_names_the_counties_that_have_not_reported(reported: None) -> None:
    page = logged_in("city_leader").get("/cockpit/CITY/").content.decode()
    assert "/reporting/overview/CITY-M/CITY/201712/" in page
    assert "未报" in page and "甲县局" in page and "乙县局" in page
    assert "应报3个单位，已报0.0%，按时0.0%" in page, "both counties and the division report"


def test_the_derivation_links_each_items_figures(reported: None) -> None:
    client = logged_in("city_leader")
    page = client.get("/evaluation/schemes/d-2017/units/COUNTY-A/?period=201711").content.decode()
    assert 'id="item-solved"' in page and 'id="item-poll"' in page
    assert "/reporting/overview/CITY-M/COUNTY-A/2017/" in page, "year to date: the year's overview"
    assert "/reporting/forms/CITY-M/COUNTY-A/201711/" in page, "a month: the county's own form"
