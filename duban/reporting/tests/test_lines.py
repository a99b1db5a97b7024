"""A division head reads his line (条线) across the bureaus (issue 11, item 2).

The reproduction: a 交警支队 account got 403 on a county's yellow-label figures and on the
city overview. Now it reads them — the traffic line's indicators in every territorial unit
under the division's parent — and nothing else: not the discipline cases beside them, not
another city, and it enters nothing.
"""

from __future__ import annotations

import csv
import io

import pytest

from duban.indicators import services as ind_services
from duban.orgs.models import Line
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.models import DataValue
from duban.testing import logged_in, make_unit, make_user

FORM = "/reporting/forms/LINES/{unit}/201712/"
API = "/api/reporting/forms/LINES/{unit}/201712"


@pytest.fixture
def lines(tree, personas):
    """A traffic division at the city, a form with one traffic and one line-less indicator,
    figures entered for both counties, and the traffic division's head."""
    traffic = make_unit(
        "TRAFFIC", tree.city, level="city", kind="division", line=Line.TRAFFIC, name_zh="交警支队"
    )
    make = ind_services.create_indicator
    make(
        user=SYSTEM,
        issuer=tree.city,
        code="traffic.yellow",
        name_zh="淘汰黄标车",
        value_type="integer",
        levels=["county"],
        kinds=["territorial"],
        division=traffic,
    )
    make(
        user=SYSTEM,
        issuer=tree.city,
        code="discipline.cases",
        name_zh="违纪违法案件",
        value_type="integer",
        levels=["county"],
        kinds=["territorial"],
    )
    ds = ind_services.create_data_set(
        user=SYSTEM,
        owner=tree.city,
        code="LINES",
        name_zh="条线月报",
        period_type="monthly",
        expiry_days=0,
        indicators=["traffic.yellow", "discipline.cases"],
    )
    services.open_period(ds, "201712", user=SYSTEM)
    for unit, yellow, cases in ((tree.county_a, 7, 2), (tree.county_b, 3, 1)):
        services.save_form(
            ds, unit, "201712", {"traffic.yellow": yellow, "discipline.cases": cases}, user=SYSTEM
        )
    make_user("traffic_head", traffic, "leader")
    return ds


def test_the_indicator_takes_its_owning_divisions_line(lines) -> None:
    from duban.indicators.models import Indicator

    assert Indicator.objects.get(code="traffic.yellow").line == Line.TRAFFIC
    assert Indicator.objects.get(code="discipline.cases").line == ""


def test_the_traffic_head_reads_a_countys_yellow_label_figures_and_not_its_discipline(
    lines,
) -> None:
    client = logged_in("traffic_head")
    page = client.get(FORM.format(unit="COUNTY-A"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "淘汰黄标车" in html and "违纪违法案件" not in html
    assert "template.xlsx" not in html  # the template is the whole form: for its reporters
    rows = client.get(API.format(unit="COUNTY-A")).json()["rows"]
    assert [(r["indicator"], r["value"]) for r in rows] == [("traffic.yellow", "7")]


def test_the_traffic_head_reads_the_city_overview_of_his_line(lines) -> None:
    client = logged_in("traffic_head")
    page = client.get("/reporting/overview/LINES/CITY/201712/")
    assert page.status_code == 200
    assert "违纪违法案件" not in page.content.decode()
    data = client.get("/api/reporting/overview/LINES/CITY/201712").json()
    assert data["figures"] == {"traffic.yellow": "10"}  # the city's total of his line
    children = {c["unit"]: c["figures"] for c in data["children"]}
    assert children["COUNTY-A"] == {"traffic.yellow": "7"}
    assert children["COUNTY-B"] == {"traffic.yellow": "3"}
    assert "DIV" not in children  # 刑侦支队: another division, not of his line


def test_the_export_holds_only_his_lines_figures(lines) -> None:
    client = logged_in("traffic_head")
    r = client.get("/api/reporting/values?unit=CITY&period=201712&format=csv")
    assert r.status_code == 200
    body = b"".join(r.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {(row["单位代码"], row["指标代码"], row["数值"]) for row in rows} == {
        ("COUNTY-A", "traffic.yellow", "7"),
        ("COUNTY-B", "traffic.yellow", "3"),
    }
    assert DataValue.objects.visible_to(lines_head()).count() == 2


def lines_head():
    from duban.accounts.models import User

    return User.objects.get(username="traffic_head")


@pytest.mark.parametrize(
    "url",
    [
        "/reporting/forms/LINES/OTHER/201712/",  # another city: outside his division's parent
        "/api/reporting/forms/LINES/DIV/201712",  # another division: not territorial
        "/reporting/forms/LINES/COUNTY-A/201712/template.xlsx",
        "/api/reporting/values?unit=OTHER&period=201712&format=csv",
    ],
)
def test_what_lies_beyond_his_line_is_refused(lines, url: str) -> None:
    assert logged_in("traffic_head").get(url).status_code in (403, 404)


def test_a_form_without_his_line_is_refused(lines, tree) -> None:
    """A form of only line-less indicators is none of his business: 403, not an empty form."""
    ind_services.create_data_set(
        user=SYSTEM,
        owner=tree.city,
        code="DISCIPLINE",
        name_zh="队伍建设",
        period_type="monthly",
        indicators=[],
    )
    r = logged_in("traffic_head").get("/api/reporting/forms/LINES/COUNTY-A/201712")
    assert r.status_code == 200
    assert (
        logged_in("traffic_head").get("/reporting/forms/DISCIPLINE/COUNTY-A/201712/").status_code
        == 403
    )


def test_the_traffic_head_enters_nothing_for_the_county(lines) -> None:
    client = logged_in("traffic_head")
    r = client.put(
        API.format(unit="COUNTY-A"),
        '{"version": 1, "values": {"traffic.yellow": 99}}',
        content_type="application/json",
    )
    assert r.status_code == 403
    assert DataValue.objects.get(unit__code="COUNTY-A", indicator__code="traffic.yellow").value == 7
