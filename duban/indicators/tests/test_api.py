"""Indicator and data set routes over HTTP: scoped reads, office-only writes."""

from __future__ import annotations

import json

import pytest

from duban.indicators import services
from duban.orgs.policy import SYSTEM
from duban.testing import logged_in


@pytest.fixture
def defined(tree):
    services.create_indicator(
        user=SYSTEM,
        issuer=tree.city,
        code="case.filed",
        name_zh="立案",
        value_type="integer",
        levels=["county"],
        kinds=["territorial"],
    )
    return services.create_data_set(
        user=SYSTEM, owner=tree.city, code="DS", name_zh="表", indicators=["case.filed"]
    )


def test_readers_below_and_above_see_the_catalogue_outsiders_do_not(personas, defined) -> None:
    assert [
        i["code"] for i in logged_in("county_reporter").get("/api/indicators/indicators").json()
    ] == ["case.filed"]
    assert [
        i["code"] for i in logged_in("prov_office").get("/api/indicators/indicators").json()
    ] == ["case.filed"]
    assert logged_in("outsider").get("/api/indicators/indicators").json() == []
    assert logged_in("outsider").get("/api/indicators/indicators/case.filed").status_code == 403
    assert logged_in("outsider").get("/api/indicators/datasets/DS").status_code == 403
    assert logged_in("county_reporter").get("/api/indicators/datasets/DS").json()["indicators"] == [
        "case.filed"
    ]


def test_office_creates_reporter_may_not(personas, defined) -> None:
    body = {
        "code": "case.solved",
        "issuer": "CITY",
        "name_zh": "破案",
        "value_type": "integer",
        "levels": ["county"],
        "kinds": ["territorial"],
    }
    r = logged_in("county_reporter").post(
        "/api/indicators/indicators", json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 403
    r = logged_in("prov_office").post(
        "/api/indicators/indicators", json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 201, r.content
    bad = body | {"code": "case.rate", "formula": "case.solved / nothing"}
    r = logged_in("prov_office").post(
        "/api/indicators/indicators", json.dumps(bad), content_type="application/json"
    )
    assert r.status_code == 400
    assert r.json()["errors"] == [{"where": "formula", "message": "指标 'nothing' 不存在"}]


def test_rules_over_http(personas, defined) -> None:
    client = logged_in("prov_office")
    r = client.post(
        "/api/indicators/datasets/DS/rules",
        json.dumps({"name": "n", "expression": "case.filed >= 0"}),
        content_type="application/json",
    )
    assert r.status_code == 201
    rule_id = r.json()["id"]
    assert (
        logged_in("county_reporter")
        .delete(f"/api/indicators/datasets/DS/rules/{rule_id}")
        .status_code
        == 403
    )
    assert client.delete(f"/api/indicators/datasets/DS/rules/{rule_id}").status_code == 204


def test_formula_check_names_the_position(personas) -> None:
    r = logged_in("county_reporter").post(
        "/api/indicators/formula/check",
        json.dumps({"formula": "a.b / (c"}),
        content_type="application/json",
    )
    assert r.json()["ok"] is False and r.json()["position"] == 6
    r = logged_in("county_reporter").post(
        "/api/indicators/formula/check",
        json.dumps({"formula": "case.solved ÷ case.filed × 100"}),
        content_type="application/json",
    )
    assert r.json()["canonical"] == "case.solved / case.filed * 100"


def test_pages_render_for_readers_and_edit_is_office_only(personas, defined) -> None:
    assert logged_in("county_reporter").get("/indicators/").status_code == 200
    assert logged_in("county_reporter").get("/indicators/case.filed/").status_code == 200
    assert logged_in("county_reporter").get("/indicators/datasets/DS/").status_code == 200
    assert logged_in("county_reporter").get("/indicators/case.filed/edit/").status_code == 403
    assert logged_in("prov_office").get("/indicators/case.filed/edit/").status_code == 200
    assert logged_in("outsider").get("/indicators/case.filed/").status_code == 403
    r = logged_in("prov_office").post(
        "/indicators/new/CITY/",
        {
            "code": "poll.score",
            "name_zh": "民调",
            "value_type": "percentage",
            "decimals": 2,
            "direction": "higher",
            "period_type": "monthly",
            "time_aggregation": "average",
            "unit_aggregation": "average",
            "levels": ["county"],
            "kinds": ["territorial"],
            "sort_order": 0,
            "is_active": "on",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
