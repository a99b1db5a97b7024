"""Bad definitions are a 400 naming the field, never a 500 (issue 10, item 11)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from duban.indicators import services
from duban.indicators.models import DataSet, Indicator
from duban.orgs.policy import SYSTEM
from duban.reporting import services as reporting
from duban.testing import PASSWORD

NULL_REFUSED = (
    "name_zh", "name_en", "description", "unit_of_measure", "decimals", "direction",
    "time_aggregation", "unit_aggregation", "levels", "kinds", "division_reports", "formula",
    "sort_order", "is_active", "line", "record_measure", "record_class", "record_start_month",
    "record_start_day",
)  # fmt: skip
NULL_MEANS_NONE = ("min_value", "max_value", "division", "record_type")


def office() -> Client:
    client = Client()
    assert client.login(username="prov_office", password=PASSWORD)
    return client


def patch(client: Client, url: str, body: dict[str, object]):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def defined(tree, personas) -> DataSet:
    services.create_indicator(
        user=SYSTEM, issuer=tree.city, code="case.filed", name_zh="立案", value_type="integer",
        levels=["county"], kinds=["territorial"], min_value=Decimal(0),
    )  # fmt: skip
    return services.create_data_set(
        user=SYSTEM, owner=tree.city, code="DS", name_zh="表", indicators=["case.filed"]
    )


def test_every_patch_field_is_covered() -> None:
    from duban.indicators.api import IndicatorPatch

    assert set(IndicatorPatch.model_fields) == set(NULL_REFUSED) | set(NULL_MEANS_NONE)


@pytest.mark.parametrize("field", NULL_REFUSED)
def test_null_for_a_field_that_needs_a_value_is_a_400_naming_it(defined, field: str) -> None:
    """{"formula": null} was an AttributeError (500); {"description": null} an IntegrityError."""
    before = Indicator.objects.values().get(code="case.filed")
    r = patch(office(), "/api/indicators/indicators/case.filed", {field: None})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"where": field, "message": "不能为 null：如要保留原值，请不要提交此字段"}
    ]
    assert Indicator.objects.values().get(code="case.filed") == before


@pytest.mark.parametrize("field", NULL_MEANS_NONE)
def test_null_clears_what_may_be_empty(defined, field: str) -> None:
    r = patch(office(), "/api/indicators/indicators/case.filed", {field: None})
    assert r.status_code == 200
    assert getattr(Indicator.objects.get(code="case.filed"), field) is None


@pytest.mark.parametrize("field", ["expiry_days", "timely_days"])
@pytest.mark.parametrize("value", [10**16, 367, -1])
def test_days_after_the_period_are_bounded_at_input(defined, field: str, value: int) -> None:
    """expiry_days of 10**16 was stored on SQLite, and opening a period then overflowed."""
    r = patch(office(), "/api/indicators/datasets/DS", {field: value})
    assert r.status_code == 400
    assert r.json()["errors"][0]["where"] == field
    assert getattr(DataSet.objects.get(code="DS"), field) in (5, 15)
    r = office().post(
        "/api/indicators/datasets",
        json.dumps({"code": "DS2", "owner": "CITY", "name_zh": "表2", field: value}),
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == field
    reporting.open_period(DataSet.objects.get(code="DS"), "201801", user=SYSTEM)


def test_a_year_after_the_period_is_the_longest(defined) -> None:
    r = patch(office(), "/api/indicators/datasets/DS", {"expiry_days": 366})
    assert r.status_code == 200
    reporting.open_period(DataSet.objects.get(code="DS"), "201801", user=SYSTEM)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1e999999999", "the number is too large"),
        ("-1e999999999", "the number is too large"),
        (Decimal("1e999999999"), "the number is too large"),
        ("1e-999999999", "must be a whole number"),
    ],
)
def test_absurd_exponents_are_refused_not_overflowed(
    defined, english, raw: object, message: str
) -> None:
    """A DHIS2 value 1e999999999 raised decimal.Overflow inside clean_value (a 500)."""
    ind = Indicator.objects.get(code="case.filed")
    with pytest.raises(ValueError, match=message):
        ind.clean_value(raw)


def test_zero_with_any_exponent_is_zero(defined) -> None:
    ind = Indicator.objects.get(code="case.filed")
    assert ind.clean_value("0E+999999999") == 0
    assert ind.clean_value("0e-999999999") == 0
