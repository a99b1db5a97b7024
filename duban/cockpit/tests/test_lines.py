"""The division head's line view (issue 12, part 2): a 交警支队 head sees his line's
indicators in every county bureau of his city, ranked by attainment, the laggards first."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from duban.cockpit import lines
from duban.evaluation import services as evaluation
from duban.evaluation.builder import data_to_engine
from duban.evaluation.tests.conftest import put
from duban.indicators import services as indicators
from duban.orgs.models import Line, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.testing import logged_in, make_unit, make_user

NOW = "2017-03-10 10:00 +0800"
COUNTIES = ("COUNTY-A", "COUNTY-B", "COUNTY-C")


def make_line(tree: Any, counties: tuple[str, ...] = COUNTIES, targets: dict[str, int] | None = None) -> None:  # fmt: skip
    """交警支队 (JJ) under CITY heads traffic; 淘汰黄标车 (t.yellow, monthly, summed) is
    reported by county bureaus, on the form CITY-M, and scored by the city's published scheme
    against a yearly target (year to date): 100 by default, COUNTY-A 300, COUNTY-C 90."""
    make_unit("JJ", tree.city, level="city", kind="division", name_zh="交警支队", line=Line.TRAFFIC)
    for code in counties:
        if not OrgUnit.objects.filter(code=code).exists():
            make_unit(code, tree.city, name_zh=f"{code[-1]}县局")
    indicators.create_indicator(
        user=SYSTEM, issuer=tree.city, code="t.yellow", name_zh="淘汰黄标车",
        name_en="Yellow-label vehicles removed", value_type="integer", levels=["county"],
        kinds=["territorial"], unit_of_measure="辆", line=Line.TRAFFIC,
    )  # fmt: skip
    indicators.create_data_set(
        user=SYSTEM, owner=tree.city, code="CITY-M", name_zh="月报", name_en="Monthly",
        period_type="monthly", indicators=["t.yellow"],
    )  # fmt: skip
    targets = {"COUNTY-A": 300, "COUNTY-C": 90} if targets is None else targets
    units = [
        {"code": u.code, "name": u.name_zh, "level": u.level, "kind": u.kind}
        for u in OrgUnit.objects.filter(code__in=counties).order_by("path")
    ]
    data = {
        "code": "yz-2017", "name": "市局方案", "year": 2017, "issuer": "CITY", "units": units,
        "groups": [{"code": "all", "name": "全部", "members": [u["code"] for u in units]}],
        "categories": [{"code": "traffic", "name": "交通", "points": Decimal(15)}],
        "items": [
            {"code": "yellow", "category": "traffic", "indicator": "t.yellow", "name": "黄标车淘汰",
             "points": Decimal(15), "rule": {"kind": "attainment"}, "cumulative": True,
             "target": {"default": Decimal(100), "units": {k: Decimal(v) for k, v in targets.items()}},
             "rule_text": "按完成率计分"},
        ],
    }  # fmt: skip
    scheme = evaluation.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    evaluation.publish_scheme(scheme, user=SYSTEM)


@pytest.fixture
def traffic(tree: Any) -> Any:
    """January and February approved: A 60+80, B 50+45, C 10+20; C's March is a draft."""
    make_line(tree)
    for unit, jan, feb in (("COUNTY-A", 60, 80), ("COUNTY-B", 50, 45), ("COUNTY-C", 10, 20)):
        put(unit, "t.yellow", "201701", jan)
        put(unit, "t.yellow", "201702", feb)
    put("COUNTY-C", "t.yellow", "201703", 500, state="draft")
    make_user("jj_head", OrgUnit.objects.get(code="JJ"), "leader")
    return tree


def table_rows(html: str) -> list[list[str]]:
    body = html.split('<table class="responsive">', 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_the_ranking_worked_by_hand(traffic) -> None:
    """Year to date against the yearly target: A 140/300 = 46.666…%, B 95/100 = 95%,
    C 30/90 = 33.333…%; the draft March (500) counts for nothing. Laggards first: C, A, B."""
    page = lines.line_page(_user("jj_head"), "traffic")
    (board,) = page.boards
    assert board.head.division.code == "JJ" and board.head.territory.code == "CITY"
    (yellow,) = board.boards
    assert yellow.period is not None and yellow.period.id == "201702"
    assert yellow.sums and yellow.versus_year
    got = [(r.unit.code, r.figure, r.year_to_date, r.target, r.place) for r in yellow.rows]
    assert got == [
        ("COUNTY-C", Decimal(20), Decimal(30), Decimal(90), 3),
        ("COUNTY-A", Decimal(80), Decimal(140), Decimal(300), 2),
        ("COUNTY-B", Decimal(45), Decimal(95), Decimal(100), 1),
    ]
    attain = [r.attainment for r in yellow.rows]
    assert attain[0] == Decimal(30) / Decimal(90) * 100  # from the raw figures, unrounded
    assert attain[1] == Decimal(140) / Decimal(300) * 100
    assert attain[2] == Decimal(95)
    assert [r.link for r in yellow.rows] == [
        "/reporting/forms/CITY-M/COUNTY-C/201702/",
        "/reporting/forms/CITY-M/COUNTY-A/201702/",
        "/reporting/forms/CITY-M/COUNTY-B/201702/",
    ]


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_the_chart_and_the_table(traffic) -> None:
    client = logged_in("jj_head")
    assert client.get("/cockpit/lines/").url == "/cockpit/lines/traffic/"  # his one line
    response = client.get("/cockpit/lines/traffic/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>交警 · 市局</h1>" in html
    assert 'data-chart="chart-line-jj-0-data"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert table_rows(html) == [
        ["3", "C县局", "20", "30", "90", "33.3%"],
        ["2", "甲县局", "80", "140", "300", "46.7%"],
        ["1", "乙县局", "45", "95", "100", "95.0%"],
    ]
    options = re.search(r'id="chart-line-jj-0-data" type="application/json">(.*?)</script>', html, re.S)  # fmt: skip
    assert options is not None
    assert json.loads(options.group(1))["yAxis"]["data"] == ["C县局", "甲县局", "乙县局"]
    assert '"value": 33.33' in options.group(1) and '"link": "/reporting/forms/CITY-M/COUNTY-C/201702/"' in options.group(1)  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_a_county_leader_and_another_lines_reporter_are_refused(traffic) -> None:
    make_user("a_leader", traffic.county_a, "leader")
    OrgUnit.objects.filter(pk=traffic.division.pk).update(line=Line.CRIMINAL)
    make_user("crime_reporter", traffic.division, "reporter")
    for username in ("a_leader", "crime_reporter"):
        client = logged_in(username)
        assert client.get("/cockpit/lines/traffic/").status_code == 403, username
    assert logged_in("a_leader").get("/cockpit/lines/").status_code == 403
    assert logged_in("crime_reporter").get("/cockpit/lines/").url == "/cockpit/lines/criminal/"
    assert logged_in("jj_head").get("/cockpit/lines/nope/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_another_citys_division_head_sees_nothing_of_this_city(traffic) -> None:
    other_jj = make_unit("OTHER-JJ", traffic.other_city, level="city", kind="division",
                         name_zh="外市交警支队", line=Line.TRAFFIC)  # fmt: skip
    make_unit("OTHER-X", traffic.other_city, name_zh="外县局")
    make_user("other_head", other_jj, "leader")
    page = lines.line_page(_user("other_head"), "traffic")
    assert [b.head.territory.code for b in page.boards] == ["OTHER"]
    shown = {r.unit.code for b in page.boards for ib in b.boards for r in ib.rows}
    assert shown <= {"OTHER-X"}
    html = logged_in("other_head").get("/cockpit/lines/traffic/").content.decode()
    for name in ("甲县局", "乙县局", "C县局"):
        assert name not in html


@time_machine.travel(NOW, tick=False)
def test_queries_do_not_grow_with_the_counties(tree, django_assert_max_num_queries) -> None:
    make_line(tree)
    make_user("jj_head", OrgUnit.objects.get(code="JJ"), "leader")
    for code in COUNTIES:
        put(code, "t.yellow", "201701", 10)
    client = logged_in("jj_head")
    with CaptureQueriesContext(connection) as three:
        assert client.get("/cockpit/lines/traffic/").status_code == 200
    for n in range(8):
        code = f"COUNTY-{n}"
        make_unit(code, tree.city, name_zh=f"{n}号县局")
        put(code, "t.yellow", "201701", n)
    with django_assert_max_num_queries(len(three.captured_queries)):
        html = client.get("/cockpit/lines/traffic/").content.decode()
    assert "7号县局" in html


def _user(username: str) -> Any:
    from duban.accounts.models import User

    return User.objects.get(username=username)


@pytest.mark.once
@pytest.mark.django_db
def test_the_demo_traffic_head_sees_yellow_label_vehicles() -> None:
    """The demo's 交警支队长 (jj_leader) lands on traffic: 淘汰黄标车 in all 13 bureaus of 永州,
    against the city scheme's targets (冷水滩 650, 零陵 600, the others 480)."""
    from duban.demo.loader import DEMO_PASSWORD, load_demo
    from duban.evaluation.demo import load_evaluation_demo
    from duban.reporting.demo import load_reporting_demo

    load_demo(activity=False)
    load_reporting_demo()
    load_evaluation_demo()
    client = Client()
    assert client.login(username="jj_leader", password=DEMO_PASSWORD)
    assert client.get("/cockpit/lines/").url == "/cockpit/lines/traffic/"
    response = client.get("/cockpit/lines/traffic/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "淘汰黄标车" in html and "演示系统" in html  # the demo banner: figures are invented
    rows = table_rows(html)
    assert len(rows) == 13
    assert {r[4] for r in rows} == {"650", "600", "480"}
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)


@pytest.mark.browser
def test_in_the_browser_a_bar_opens_the_laggards_form(live_server, transactional_db, tree, settings) -> None:  # fmt: skip
    """The division head logs in, lands on his line, and a click on the top bar (the laggard,
    C县局) opens its form; no console error, nothing loaded from outside the server."""
    from duban.testing_browser import CHROMIUM, launch_chromium

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    from duban.testing import PASSWORD

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    make_line(tree)
    for unit, jan in (("COUNTY-A", 60), ("COUNTY-B", 50), ("COUNTY-C", 10)):
        put(unit, "t.yellow", "201701", jan)
    make_user("jj_head", OrgUnit.objects.get(code="JJ"), "leader")
    with sync_playwright() as p:
        browser = launch_chromium(p)  # CSP-guarded (duban.testing_browser)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", "jj_head")
            page.fill("#id_password", PASSWORD)
            page.press("#id_password", "Enter")
            page.wait_for_url(lambda url: "/accounts/login/" not in url)  # home, or a cockpit
            page.goto(f"{live_server.url}/cockpit/lines/")
            page.wait_for_url(f"{live_server.url}/cockpit/lines/traffic/")
            chart = "chart-line-jj-0"
            page.wait_for_selector(f"#{chart} canvas")
            x, y = page.evaluate(
                f"""() => echarts.getInstanceByDom(document.getElementById('{chart}'))
                .convertToPixel({{seriesIndex: 0}}, [5, 0])"""
            )  # the middle of C's bar: 10 of 100, 10 %
            box = page.locator(f"#{chart}").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.wait_for_url(f"{live_server.url}/reporting/forms/CITY-M/COUNTY-C/201701/")
            assert "C县局" in page.locator("h1").inner_text()
            assert errors == []
            assert [u for u in requests if not u.startswith(live_server.url)] == []
        finally:
            browser.close()


def test_a_province_corps_covers_the_city_detachment_under_it(tree) -> None:
    """A province leader reaches 交警总队 (territory: the province) and the city's 交警支队:
    the line is shown once, from the top, its bureaus the cities."""
    make_unit("ZD", tree.province, level="province", kind="division", name_zh="交警总队",
              line=Line.TRAFFIC)  # fmt: skip
    make_unit("AA-JJ", tree.city, level="city", kind="division", name_zh="甲交警", line=Line.TRAFFIC)  # fmt: skip
    make_user("prov_leader", tree.province, "leader")
    heads = lines.viewer_lines(_user("prov_leader"))
    assert [(h.line, h.division.code, h.territory.code) for h in heads] == [("traffic", "ZD", "PROV")]  # fmt: skip
