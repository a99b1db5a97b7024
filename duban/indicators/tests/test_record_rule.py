"""A record indicator's rule: accepted by the service, the API and the page; every bad rule is
refused naming its field, never half-saved."""

from __future__ import annotations

import json

import pytest

from duban.indicators import services
from duban.indicators.models import Indicator
from duban.orgs.policy import SYSTEM
from duban.records.models import RecordType
from duban.testing import logged_in


@pytest.fixture
def kinds(db) -> dict[str, RecordType]:
    return {
        "case_filed": RecordType.objects.create(code="case_filed", name_zh="立案"),
        "retired": RecordType.objects.create(code="retired", name_zh="旧类型", is_active=False),
    }


def define(tree, **fields) -> Indicator:
    base = {
        "code": "case.filed",
        "name_zh": "立案数",
        "value_type": "integer",
        "levels": ["county"],
        "kinds": ["territorial"],
    }
    return services.create_indicator(user=SYSTEM, issuer=tree.city, **{**base, **fields})


def test_a_record_indicator_is_defined(tree, kinds) -> None:
    ind = define(tree, record_type=kinds["case_filed"], record_start_month=12, record_start_day=21)
    assert ind.is_record and not ind.is_computed
    assert str(ind.record_calendar) == "12/21"
    assert ind.reported_by(tree.county_a)  # still entered: the reporter confirms it


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"formula": "a.b + 1"}, "record_type"),
        ({"period_type": "weekly"}, "period_type"),
        ({"value_type": "percentage"}, "value_type"),
        ({"value_type": "decimal"}, "value_type"),  # a count is whole
        ({"record_start_day": 29}, "record_start_day"),
        ({"record_start_month": 13}, "record_start_month"),
        ({"record_measure": "median"}, "record_measure"),
        ({"record_class": "C"}, "record_class"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_field(tree, kinds, fields, where) -> None:
    with pytest.raises(services.IndicatorError) as refused:
        define(tree, record_type=kinds["case_filed"], **fields)
    assert where in {p.where for p in refused.value.problems}
    assert not Indicator.objects.filter(code="case.filed").exists()


def test_a_class_without_a_type_and_a_retired_type_are_refused(tree, kinds) -> None:
    with pytest.raises(services.IndicatorError) as refused:
        define(tree, record_class="A")
    assert [p.where for p in refused.value.problems] == ["record_class"]
    with pytest.raises(services.IndicatorError) as refused:
        define(tree, record_type=kinds["retired"])
    assert [p.where for p in refused.value.problems] == ["record_type"]


def test_the_sum_of_quantities_may_be_decimal(tree, kinds) -> None:
    ind = define(tree, record_type=kinds["case_filed"], record_measure="sum", value_type="decimal")
    assert ind.record_measure == "sum"


def test_the_api_takes_the_rule_by_record_type_code(tree, personas, kinds) -> None:
    office = logged_in("prov_office")
    body = {
        "code": "case.filed",
        "issuer": "CITY",
        "name_zh": "立案数",
        "value_type": "integer",
        "levels": ["county"],
        "kinds": ["territorial"],
        "record_type": "case_filed",
        "record_start_month": 12,
        "record_start_day": 21,
    }
    r = office.post("/api/indicators/indicators", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert (out["record_type"], out["record_measure"], out["record_start_day"]) == (
        "case_filed",
        "count",
        21,
    )
    r = office.post(
        "/api/indicators/indicators",
        json.dumps({**body, "code": "case.other", "record_type": "nope"}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert [e["where"] for e in r.json()["errors"]] == ["record_type"]
    r = office.patch(
        "/api/indicators/indicators/case.filed",
        json.dumps({"record_type": None}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["record_type"] is None


def test_the_page_defines_a_record_indicator(tree, personas, kinds) -> None:
    office = logged_in("prov_office")
    page = office.get("/indicators/new/CITY/").content.decode()
    assert 'name="record_type"' in page and "立案" in page
    r = office.post(
        "/indicators/new/CITY/",
        {
            "code": "case.filed",
            "name_zh": "立案数",
            "value_type": "integer",
            "decimals": 0,
            "direction": "higher",
            "period_type": "monthly",
            "time_aggregation": "sum",
            "unit_aggregation": "sum",
            "levels": ["county"],
            "kinds": ["territorial"],
            "sort_order": 0,
            "is_active": "on",
            "record_type": kinds["case_filed"].pk,
            "record_measure": "count",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    ind = Indicator.objects.get(code="case.filed")
    assert ind.record_type == kinds["case_filed"] and ind.record_start_day == 1
    detail = office.get("/indicators/case.filed/").content.decode()
    assert "按业务记录统计" in detail and "记录条数" in detail
    # Both a formula and a record type: the page names the field, nothing is saved.
    r = office.post(
        "/indicators/new/CITY/",
        {
            "code": "case.rate",
            "name_zh": "率",
            "value_type": "integer",
            "decimals": 0,
            "direction": "higher",
            "period_type": "monthly",
            "time_aggregation": "sum",
            "unit_aggregation": "sum",
            "formula": "case.filed * 2",
            "record_type": kinds["case_filed"].pk,
            "sort_order": 0,
        },
    )
    assert r.status_code == 400
    assert "没有计算公式" in r.content.decode()
    assert not Indicator.objects.filter(code="case.rate").exists()
