"""The cockpit pages for each persona, the landing, the wall, and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from duban.testing import logged_in

pytestmark = pytest.mark.django_db


def test_the_city_leader_sees_his_standing_and_his_counties(city_scheme: Any, people: Any) -> None:
    response = logged_in("city_leader").get("/cockpit/CITY/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "驾驶舱" in page and "市局" in page and "名次" in page
    assert "2017年3月" in page, "the latest month with approved figures is the default"
    assert "/cockpit/COUNTY-A/?period=201703" in page, "each county links to its cockpit"
    assert "甲县局" in page and "乙县局" in page
    assert "/evaluation/schemes/t-2017/units/CITY/?period=201703#item-" in page


def test_the_county_leader_sees_his_rank_gap_and_items(city_scheme: Any, people: Any) -> None:
    response = logged_in("county_leader").get("/cockpit/COUNTY-A/?period=201703")
    assert response.status_code == 200
    page = response.content.decode()
    assert "甲县局" in page and "名次" in page
    assert "/evaluation/schemes/c-2017/units/COUNTY-A/?period=201703#item-" in page
    assert "/cockpit/COUNTY-B/" not in page, "a county does not open its sibling"


def test_the_office_account_gets_the_cockpit(city_scheme: Any, people: Any) -> None:
    response = logged_in("city_office").get("/cockpit/CITY/")
    assert response.status_code == 200 and "驾驶舱" in response.content.decode()


def test_a_unit_of_another_city_is_refused(city_scheme: Any, people: Any) -> None:
    assert logged_in("city_leader").get("/cockpit/OTHER/").status_code == 403
    assert logged_in("county_leader").get("/cockpit/CITY/").status_code == 403


def test_a_reporter_is_sent_home(city_scheme: Any, people: Any) -> None:
    client = logged_in("county_reporter")
    for url in ("/cockpit/", "/cockpit/COUNTY-A/", "/cockpit/COUNTY-A/wall/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize(
    ("username", "lands"),
    [
        ("city_leader", "/cockpit/CITY/"),
        ("county_leader", "/cockpit/COUNTY-A/"),
        ("city_office", "/cockpit/CITY/"),
    ],
)
def test_leaders_and_offices_land_on_their_cockpit(
    city_scheme: Any, people: Any, username: str, lands: str
) -> None:
    client = logged_in(username)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == lands
    assert response.status_code == 200


@pytest.mark.parametrize("username", ["county_reporter", "city_sysadmin"])
def test_others_keep_the_unit_cards(city_scheme: Any, people: Any, username: str) -> None:
    response = logged_in(username).get("/")
    assert response.status_code == 200
    assert 'href="/cockpit/"' not in response.content.decode(), "no cockpit link in the nav"


def test_the_nav_links_the_cockpit_for_a_leader(city_scheme: Any, people: Any) -> None:
    page = logged_in("city_leader").get("/cockpit/CITY/").content.decode()
    assert '<a href="/cockpit/">驾驶舱</a>' in page


def test_a_period_without_data_is_refused_naming_the_field(city_scheme: Any, people: Any) -> None:
    response = logged_in("city_leader").get("/cockpit/CITY/?period=201711")
    assert response.status_code == 400
    assert "请选择有已审核数据的统计期" in response.content.decode()
    for bad in ("x", "2017Q9", "<b>"):
        assert logged_in("city_leader").get(f"/cockpit/CITY/?period={bad}").status_code == 400


def test_the_wall_is_full_screen_and_refreshes_its_body(city_scheme: Any, people: Any) -> None:
    client = logged_in("city_leader")
    page = client.get("/cockpit/CITY/wall/").content.decode()
    assert 'hx-trigger="every 60s"' in page and 'class="mainnav"' not in page
    assert "市局" in page and "名次" in page
    fragment = client.get("/cockpit/CITY/wall/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "市局" in fragment


def test_the_page_reads_in_english(city_scheme: Any, people: Any, english: Any) -> None:
    client = logged_in("city_leader")
    client.cookies["django_language"] = "en"
    page = client.get("/cockpit/CITY/").content.decode()
    assert "Cockpit" in page and "Place in group" in page and "2017 month 3" in page
    assert "Rank 3, " in page and "points behind rank 2" in page
