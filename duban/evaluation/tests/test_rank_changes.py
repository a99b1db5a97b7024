"""The scores page shows the change of rank for any period picked: a month against the month
before, a quarter the quarter before, the year to date against the year to date at the end of
the month before; the first of its kind says "—" and why. Expected values worked by hand."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from duban.evaluation import cache, services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Scheme, StoredResult
from duban.evaluation.rank_changes import against
from duban.evaluation.scoring import score
from duban.evaluation.tests.conftest import put, scheme_data
from duban.orgs.policy import SYSTEM
from duban.testing import PASSWORD

UNITS = ("CITY", "COUNTY-A", "COUNTY-B")
# t.poll is aggregated as the last month given; one attainment item against 100, 10 points:
# each unit's total is its poll / 10, so the ranks follow the figures.
POLLS = {
    "201702": {"COUNTY-A": 90, "COUNTY-B": 80, "CITY": 70},  # A 1, B 2, CITY 3
    "201703": {"COUNTY-A": 70, "COUNTY-B": 90, "CITY": 80},  # B 1, CITY 2, A 3 (Q1: last)
    "201706": {"COUNTY-A": 95, "COUNTY-B": 60, "CITY": 85},  # A 1, CITY 2, B 3 (Q2; Jan–Nov)
    "201712": {"COUNTY-A": 50, "COUNTY-B": 100, "CITY": 75},  # B 1, CITY 2, A 3 (the year)
}


@pytest.fixture
def ranked(tree: Any, indicators: None, personas: Any) -> Scheme:
    data = scheme_data(members=UNITS, code="r-2017")
    data["items"] = [
        {"code": "poll", "category": "work", "indicator": "t.poll", "name": "民调",
         "points": Decimal(10), "rule": {"kind": "attainment"},
         "target": {"default": Decimal(100)}, "rule_text": "按完成率计分"},
    ]  # fmt: skip
    s = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(s, user=SYSTEM)
    for month, figures in POLLS.items():
        for unit, value in figures.items():
            put(unit, "t.poll", month, value)
    return s


@pytest.fixture
def office(ranked: Scheme) -> Client:
    client = Client()
    client.login(username="prov_office", password=PASSWORD)
    return client


def changes(html: str) -> dict[str, str]:
    """unit name → what the change column says (↑n, ↓n, 持平, —)."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        name = re.search(r'data-label="单位"><a [^>]*>([^<]+)</a>', row)
        cell = re.search(r'class="rank-change">(.*?)</td>', row, re.S)
        if name and cell:
            found[name.group(1)] = re.sub(r"<[^>]+>", "", cell.group(1)).strip()
    return found


@time_machine.travel("2018-03-01 10:00 +0800", tick=False)
def test_a_month_against_the_month_before(office: Client) -> None:
    html = office.get("/evaluation/schemes/r-2017/scores/?period=201703").content.decode()
    assert changes(html) == {"乙县局": "↑1", "市局": "↑1", "甲县局": "↓2"}
    assert "名次变化与2017年2月相比。" in html


@time_machine.travel("2018-03-01 10:00 +0800", tick=False)
def test_a_quarter_against_the_quarter_before(office: Client) -> None:
    html = office.get("/evaluation/schemes/r-2017/scores/?period=2017Q2").content.decode()
    assert changes(html) == {"甲县局": "↑2", "市局": "持平", "乙县局": "↓2"}
    assert "名次变化与2017年第1季度相比。" in html


@time_machine.travel("2018-03-01 10:00 +0800", tick=False)
def test_the_year_to_date_against_the_year_to_date_a_month_before(office: Client) -> None:
    """2017 measured at 31 December (B, CITY, A) against 2017 as of 30 November, when June's
    polls were the last (A, CITY, B)."""
    html = office.get("/evaluation/schemes/r-2017/scores/?period=2017").content.decode()
    assert changes(html) == {"乙县局": "↑2", "市局": "持平", "甲县局": "↓2"}
    assert "名次变化与截至2017-11-30的年初至今累计相比。" in html


@time_machine.travel("2018-03-01 10:00 +0800", tick=False)
def test_the_first_month_and_quarter_say_why_there_is_no_change(office: Client) -> None:
    put("COUNTY-A", "t.poll", "201701", 10)
    html = office.get("/evaluation/schemes/r-2017/scores/?period=201701").content.decode()
    assert set(changes(html).values()) == {"—"}
    why = "本月是考评年度的第一个月，没有上月可比。"
    assert f'<span title="{why}">—</span>' in html and f"名次变化：— ({why})" in html
    html = office.get("/evaluation/schemes/r-2017/scores/?period=2017Q1").content.decode()
    assert "本季度是考评年度的第一季度，没有上季度可比。" in html


def test_the_year_to_date_in_its_first_month_has_nothing_to_compare(ranked: Scheme) -> None:
    scored = score(ranked, "2017", today=date(2017, 1, 20), with_previous=False)
    found = against(scored, date(2017, 1, 20))
    assert found.previous == {} and "第一个月" in found.why_none


@time_machine.travel("2018-03-01 10:00 +0800", tick=False)
def test_the_kept_result_is_read_when_current_and_recomputed_when_not(
    office: Client, ranked: Scheme
) -> None:
    today = date(2018, 3, 1)
    cache.store(ranked, "201702", cache.input_stamp(ranked), today=today)
    entry = StoredResult.objects.get(scheme=ranked, period="201702")
    entry.data["units"]["COUNTY-A"]["rank"] = 3  # marked, to see that the kept ranks are read
    entry.data["units"]["CITY"]["rank"] = 1
    entry.save()
    found = against(score(ranked, "201703", today=today, with_previous=False), today)
    assert found.source == "stored" and found.previous["CITY"] == 1
    html = office.get("/evaluation/schemes/r-2017/scores/?period=201703").content.decode()
    assert changes(html) == {"乙县局": "↑1", "市局": "↓1", "甲县局": "持平"}
    put("CITY", "t.poll", "201704", 99)  # a new approved figure: the kept result is stale
    found = against(score(ranked, "201703", today=today, with_previous=False), today)
    assert found.source == "computed"  # February's own ranks again, not the marked ones
    assert found.previous == {"COUNTY-A": 1, "COUNTY-B": 2, "CITY": 3}


@time_machine.travel("2018-03-01 10:00 +0800", tick=False)
def test_a_units_page_shows_the_same_change(office: Client) -> None:
    html = office.get("/evaluation/schemes/r-2017/units/COUNTY-B/?period=2017").content.decode()
    assert '名次变化与截至2017-11-30的年初至今累计相比。">(↑2)</span>' in html
    html = office.get("/evaluation/schemes/r-2017/units/COUNTY-B/?period=201701").content.decode()
    assert 'title="本月是考评年度的第一个月，没有上月可比。">—</span>' in html
