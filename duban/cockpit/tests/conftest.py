"""Two published schemes over the shared test tree: the province's (scoring the city, both
counties and a station) and the city's own (scoring its two counties), with approved
figures for January to March 2017; the clock stands in January 2018 (the year is over). For the meeting screen's tests: a daily
dispatch data set, a published scheme and a meeting on the shared test tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from duban.evaluation import services
from duban.evaluation import services as eval_services  # the screen's fixtures' name
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Scheme
from duban.evaluation.tests.conftest import indicators, scheme, scheme_data  # noqa: F401
from duban.indicators import services as ind_services
from duban.indicators.models import Indicator
from duban.meetings import services as meetings
from duban.meetings.models import Meeting, MeetingKind
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting.models import State
from duban.reporting.tests.conftest import put_figure
from duban.testing import make_user

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def after_the_year() -> Any:
    with time_machine.travel("2018-01-10 09:00 +0800", tick=False):
        yield


@pytest.fixture
def city_scheme(scheme: Scheme) -> Scheme:  # noqa: F811
    data = scheme_data(issuer="CITY", members=("COUNTY-A", "COUNTY-B"), code="c-2017")
    s = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(s, user=SYSTEM)
    return s


@pytest.fixture
def people(tree: Any) -> dict[str, Any]:
    return {
        "city_leader": make_user("city_leader", tree.city, "leader"),
        "county_leader": make_user("county_leader", tree.county_a, "leader"),
        "city_office": make_user("city_office", tree.city, "office"),
        "reporter": make_user("county_reporter", tree.county_a, "reporter"),
        "admin": make_user("city_sysadmin", tree.city, "system_admin"),
    }


HELD = date(2017, 12, 8)  # seed 000's meeting


@dataclass
class Setting:
    meeting: Meeting
    filed: Indicator


def daily_filed(tree: Any) -> Indicator:
    filed = ind_services.create_indicator(
        user=SYSTEM, issuer=tree.city, code="daily.filed", name_zh="立案数",
        name_en="Cases filed", value_type="integer", decimals=0, direction="lower",
        period_type="daily", levels=["county"], kinds=["territorial"], unit_of_measure="起",
    )  # fmt: skip
    ind_services.create_data_set(
        user=SYSTEM, owner=tree.city, code="CITY-D", name_zh="调度日报",
        name_en="Daily dispatch", period_type="daily", indicators=["daily.filed"],
    )  # fmt: skip
    return filed


def put_days(
    unit: OrgUnit, ind: Indicator, days: dict[str, int], state: str = State.APPROVED
) -> None:
    for day, value in days.items():
        put_figure(unit, ind, day, value, state)


def ranked_scheme(tree: Any) -> None:
    """CITY's published scheme: COUNTY-A 12 + 8 = 20 points (2nd), COUNTY-B 16 + 10 = 26 (1st)."""
    for code, agg in (("t.solved", "sum"), ("t.poll", "last")):
        Indicator.objects.create(code=code, name_zh=code, value_type="decimal",
                                 issuer=tree.province, time_aggregation=agg)  # fmt: skip
    data = scheme_data(issuer="CITY", members=("COUNTY-A", "COUNTY-B"), code="c-2017")
    published = eval_services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    eval_services.publish_scheme(published, user=SYSTEM)
    solved = Indicator.objects.get(code="t.solved")
    poll = Indicator.objects.get(code="t.poll")
    for month in ("201701", "201702"):
        put_figure(tree.county_a, solved, month, 30, State.APPROVED)
        put_figure(tree.county_b, solved, month, 20, State.APPROVED)
    put_figure(tree.county_a, poll, "201703", Decimal(90), State.APPROVED)
    put_figure(tree.county_b, poll, "201703", Decimal(95), State.APPROVED)


@pytest.fixture
def setting(tree: Any) -> Setting:
    """CITY's dispatch meeting of 8 December 2017 with COUNTY-B, COUNTY-A (B first in the
    tree's order) and the division, and COUNTY-A's and COUNTY-B's daily cases filed:

    COUNTY-A: 12-08 3, 12-02 2 (week 5) | 12-01 1 (week before) | 11-11 4 (first of the 28
    days) | 11-10 6 (28 days before) | 01-01 10 | 12-09 100 (after the day) | 12-07 50 only
    submitted; last year 2016-12-08 7, 2016-01-01 1, 2016-12-09 50 (after the same date).
    COUNTY-B: 12-05 2 (week) | 11-30 4 (week before).
    """
    OrgUnit.objects.filter(pk=tree.county_b.pk).update(sort_order=1)
    OrgUnit.objects.filter(pk=tree.county_a.pk).update(sort_order=2)
    tree.county_a.refresh_from_db()
    tree.county_b.refresh_from_db()
    filed = daily_filed(tree)
    put_days(tree.county_a, filed, {
        "20171208": 3, "20171202": 2, "20171201": 1, "20171111": 4, "20171110": 6,
        "20170101": 10, "20171209": 100, "20161208": 7, "20160101": 1, "20161209": 50,
    })  # fmt: skip
    put_days(tree.county_a, filed, {"20171207": 50}, State.SUBMITTED)
    put_days(tree.county_b, filed, {"20171205": 2, "20171130": 4})
    meeting = meetings.create_meeting(
        tree.city, user=SYSTEM, kind=MeetingKind.DISPATCH, held_on=HELD,
        title="全市公安机关视频调度会", participants=[tree.county_a, tree.division, tree.county_b],
    )  # fmt: skip
    return Setting(meeting, filed)
