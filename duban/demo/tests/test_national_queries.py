"""A province office's and a city leader's pages cost the same number of queries on a national
tree and on one three times bigger: no page does a query per unit.

Two synthetic national trees side by side (`duban.demo.national`, prefixes A and B), the
second with three times the cities, counties and stations of the first; the same pages of the
same accounts in each must issue exactly as many queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from duban.accounts.models import User
from duban.demo import national
from duban.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)
END = "202611"
SMALL = national.Shape(provinces=2, cities=4, counties=8, stations=24, years=1)
BIG = national.Shape(provinces=2, cities=12, counties=24, stations=72, years=1)


def pages(prefix: str) -> dict[str, list[str]]:
    """The main pages of the province office and of the city leader (paths by account)."""
    p, c = f"{prefix}P01", f"{prefix}P01-C01"
    ds = f"{prefix}{national.DATA_SET}"
    return {
        f"{prefix.lower()}{national.OFFICE_USER}": [
            f"/cockpit/{p}/",
            f"/reporting/overview/{ds}/{p}/{END}/",
            f"/reporting/datasets/{ds}/",
            "/orgs/",
            f"/orgs/units/{p}/",
            f"/orgs/units/{p}/children/",
            "/tasks/",
            "/todo/",
            f"/api/orgs/units?under={p}",
            f"/api/orgs/tree.csv?under={p}",
        ],
        f"{prefix.lower()}{national.LEADER_USER}": [
            f"/cockpit/{c}/",
            f"/reporting/overview/{ds}/{c}/{END}/",
            "/orgs/",
            "/tasks/",
            "/todo/",
            "/api/orgs/tree.csv",
        ],
    }


@pytest.fixture
def trees() -> Iterator[None]:
    with time_machine.travel("2026-12-04 09:00 +0800", tick=False):
        national.build_national(SMALL, end=END, today=TODAY, prefix="A")
        national.build_national(BIG, end=END, today=TODAY, prefix="B")
        yield


def queries(prefix: str) -> dict[str, int]:
    """Each page's query count, the second time it is fetched (caches warm, as in a server)."""
    counts = {}
    for username, paths in pages(prefix).items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        for path in paths:
            client.get(path)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
                if response.streaming:
                    b"".join(
                        response.streaming_content
                    )  # the queries of a stream run as it is read
            assert response.status_code == 200, (username, path, response.status_code)
            counts[f"{username.removeprefix(prefix.lower())} {path.replace(prefix, '')}"] = len(
                captured
            )
    return counts


def test_the_trees_differ_threefold(trees: None) -> None:
    small = OrgUnit.objects.filter(path__startswith="/ACN/AP01/").count()
    big = OrgUnit.objects.filter(path__startswith="/BCN/BP01/").count()
    assert big >= 2.5 * small


def test_province_and_city_pages_do_not_query_per_unit(trees: None) -> None:
    assert queries("B") == queries("A")
