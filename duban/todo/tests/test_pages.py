"""The to-do page, the home page's list, the cockpit's panel and the header's badge."""

from __future__ import annotations

import re

import pytest
import time_machine

from duban.reporting.tests.conftest import make_form
from duban.testing import logged_in
from duban.testing_scan import ALLOWED, ascii_identifiers


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel("2017-12-20 09:00 +0800", tick=False):
        yield


def badge(html: str) -> str | None:
    found = re.search(r'class="todo-link">[^<]*<span class="todo-badge"[^>]*>(\d+)</span>', html)
    return found.group(1) if found else None


def test_the_to_do_page_groups_by_kind_in_words(tree, personas):
    make_form(tree)
    html = logged_in("county_reporter").get("/todo/").content.decode()
    assert "待填报的报表" in html and "月报，2017年12月" in html and "甲县局" in html
    assert 'href="/reporting/forms/CITY-M/COUNTY-A/201712/"' in html
    assert "期限 2018-01-05" in html
    assert badge(html) == "1"
    assert ascii_identifiers(html, ALLOWED | {"county_reporter"}) == []  # his login name


def test_nothing_to_do_is_said_in_words(tree, personas):
    html = logged_in("city_leader").get("/todo/").content.decode()
    assert "暂无待办" in html and badge(html) is None
    assert ascii_identifiers(html, ALLOWED | {"city_leader"}) == []


def test_the_home_page_of_a_reporter_opens_on_his_to_do(tree, personas):
    make_form(tree)
    html = logged_in("county_reporter").get("/").content.decode()
    assert "待办" in html and "月报，2017年12月" in html


def test_the_cockpit_shows_a_to_do_panel(tree, personas):
    make_form(tree)
    client = logged_in("city_leader")
    html = client.get("/", follow=True).content.decode()
    assert 'class="cockpit-panel todo-panel"' in html and "暂无待办" in html


def test_the_api_link_only_for_offices_and_administrators(tree, personas):
    for name, shown in (
        ("county_reporter", False),
        ("city_approver", False),
        ("city_leader", False),
        ("prov_office", True),
        ("city_sysadmin", True),
        ("city_auditor", True),
    ):
        html = logged_in(name).get("/orgs/tree/").content.decode()
        assert ('href="/api/docs"' in html) is shown, name
