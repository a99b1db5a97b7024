"""The cockpit is kept as rendered per reader until any data change (duban.web.cache)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duban.evaluation import cache
from duban.evaluation.models import Scheme
from duban.orgs.models import OrgUnit
from duban.testing import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stored(city_scheme: Any, people: Any) -> None:
    """Every period stored: a page that says "being recomputed" is never kept."""
    cache.fill(Scheme.objects.all())


def queries_for(client: Any, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as seen:
        response = client.get(url)
    assert response.status_code == 200
    return len(seen), response.content.decode()


def test_a_second_look_is_the_kept_page_until_the_data_change(
    city_scheme: Any, people: Any
) -> None:
    client = logged_in("city_leader")
    first, page = queries_for(client, "/cockpit/CITY/")
    again, kept = queries_for(client, "/cockpit/CITY/")
    assert kept == page
    assert again < first / 2, f"the kept page still ran {again} of {first} queries"
    county = OrgUnit.objects.get(code="COUNTY-A")
    county.name_en = "County C"
    county.save()  # audited: the chain head moves
    after, _ = queries_for(client, "/cockpit/CITY/")
    assert after > again, "a change of data renders the page afresh"


def test_a_page_being_recomputed_is_not_kept(city_scheme: Any, people: Any) -> None:
    from duban.evaluation.models import StoredResult

    StoredResult.objects.all().delete()
    client = logged_in("city_leader")
    queries_for(client, "/cockpit/CITY/")  # says "being recomputed"
    again, _ = queries_for(client, "/cockpit/CITY/")
    cache.fill(Scheme.objects.all())  # what the worker does
    queries_for(client, "/cockpit/CITY/")
    hit, _ = queries_for(client, "/cockpit/CITY/")
    assert again > hit, "a page that says its scores are being recomputed is rendered again"


def test_a_kept_page_is_only_for_its_own_session(city_scheme: Any, people: Any) -> None:
    mine = logged_in("city_leader")
    _, page = queries_for(mine, "/cockpit/CITY/")
    other = logged_in("city_office")
    first, theirs = queries_for(other, "/cockpit/CITY/")
    again, _ = queries_for(other, "/cockpit/CITY/")
    assert again < first, "the office's first look is rendered for the office, then kept"
    assert "city_office" not in page and "city_leader" not in theirs


def test_the_refusal_comes_before_the_kept_page(city_scheme: Any, people: Any) -> None:
    logged_in("city_leader").get("/cockpit/CITY/")
    assert logged_in("county_leader").get("/cockpit/CITY/").status_code == 403
