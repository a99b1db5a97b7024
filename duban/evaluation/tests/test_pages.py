"""Pages and API answer with content, never a 500 on bad input; the demo loads and scores."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from django.test import Client

from duban.evaluation import services
from duban.orgs.policy import SYSTEM
from duban.testing import PASSWORD


@pytest.fixture
def office(scheme, personas) -> Client:
    client = Client()
    client.login(username="prov_office", password=PASSWORD)
    return client


def test_pages_show_scores_explanations_and_reconciliation(office) -> None:
    html = office.get("/evaluation/schemes/t-2017/scores/?period=2017Q1").content.decode()
    assert "甲县局" in html and "20.00" in html
    # on a phone each cell shows under its heading: the category's name, not the score again
    assert 'data-label="业务"' in html and 'data-label="20.00"' not in html
    assert "截至 2017-03-31。仅对已审核通过和已锁定的数据计分。" in html
    html = office.get("/evaluation/schemes/t-2017/units/COUNTY-A/?period=2017Q1").content.decode()
    assert "完成率 60.0%" in html and "按完成率计分" in html
    # flags by name, not by code (one month of the quarter has no figure)
    assert '<span class="badge">数据不全</span>' in html and ">incomplete<" not in html
    assert office.get("/evaluation/").status_code == 200
    assert office.get("/evaluation/schemes/t-2017/").status_code == 200
    xlsx = office.get("/evaluation/schemes/t-2017/reconciliation/?period=2017Q1&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    csv = office.get("/evaluation/schemes/t-2017/scores/?period=2017Q1&format=csv").content.decode(
        "utf-8-sig"
    )
    assert csv.splitlines()[0].startswith("period,group,unit")


def test_api_carries_explanations(office) -> None:
    data = office.get("/api/evaluation/schemes/t-2017/units/COUNTY-A?period=2017Q1&lang=en").json()
    assert "actual 60, target 100, completion 60.0%" in data["items"][0]["explanation"]
    assert data["reconciliation"][0]["gap"] == "40"


@pytest.mark.parametrize("period", ["x", "2016", "2017W2", "<script>"])
def test_bad_period_is_a_400_not_a_500(office, period: str) -> None:
    assert office.get(f"/evaluation/schemes/t-2017/scores/?period={period}").status_code == 400
    response = office.get(f"/api/evaluation/schemes/t-2017/scores?period={period}")
    assert response.status_code == 400 and response.json()["errors"][0]["where"] == "period"


def test_bad_uploads_and_forms(office) -> None:
    bad = io.BytesIO(b"code: [unclosed")
    bad.name = "s.yaml"
    assert office.post("/evaluation/import/", {"file": bad}).status_code == 400
    junk = io.BytesIO(b"\xff\xfe junk")
    junk.name = "s.xlsx"
    assert office.post("/evaluation/import/", {"file": junk}).status_code == 400
    assert (
        office.post(
            "/evaluation/schemes/t-2017/publications/",
            {"period": "2017", "objection_deadline": "x"},
        ).status_code
        == 400
    )
    assert office.post(
        "/api/evaluation/schemes", "{}", content_type="application/json"
    ).status_code in (400, 422)
    assert office.get("/evaluation/schemes/nosuch/").status_code == 404


@pytest.mark.once
def test_demo_loads_and_scores(db) -> None:
    from duban.demo.loader import load_demo
    from duban.evaluation.demo import load_evaluation_demo
    from duban.evaluation.models import Publication, Scheme
    from duban.evaluation.scoring import score
    from duban.reporting.demo import load_reporting_demo

    load_demo(activity=False)
    load_reporting_demo()
    assert load_evaluation_demo() == {"schemes": 2, "values": 708, "publications": 1}
    assert load_evaluation_demo()["schemes"] == 0  # a second run does nothing
    yz = score(Scheme.objects.get(code="yz-2017"), "2017Q3").result
    assert len(yz.units) == 18 and all(u.total >= 0 for u in yz.units.values())
    sx = score(Scheme.objects.get(code="sx-2017"), "2017S1").result
    assert {u.sequence for u in sx.units.values()} == {"A", "B"}
    assert Publication.objects.get().period == "2017Q3"


def test_a_publication_shows_each_comparison_group_under_its_name(office, scheme) -> None:
    with time_machine.travel(date(2018, 1, 10), tick=False):
        pub = services.publish_results(
            scheme, "2017Q1", user=SYSTEM, objection_deadline=date(2018, 1, 20)
        )
        html = office.get(f"/evaluation/publications/{pub.pk}/").content.decode()
    assert "<h2>全部</h2>" in html  # the scheme's one peer group
    assert "，异议受理截止 2018-01-20。" in html
    assert html.count("<table") == 1
