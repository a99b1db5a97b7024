"""A figure's history beside it on the entry form (earlier periods, this period's changes by
name, loaded only when asked and read as the form is), and the last 催报 beside each unit of
the overview that has not reported (one read of the trail for the page)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duban.audit.services import record
from duban.orgs.policy import SYSTEM
from duban.reporting import approval, services
from duban.reporting.history import figure_edits
from duban.reporting.models import Submission
from duban.reporting.tests.conftest import put_figure
from duban.testing import logged_in

SH = ZoneInfo("Asia/Shanghai")
HISTORY = "/reporting/forms/CITY-M/COUNTY-A/201712/history/case.filed/"


def named(user, name: str):
    user.full_name = name
    user.save()
    return user


def test_a_figures_history_shows_earlier_periods_and_its_changes_by_name(
    open_form, tree, personas
) -> None:
    for period, value in [("201711", 9), ("201710", 8), ("201706", 3), ("201612", 21)]:
        put_figure(tree.county_a, open_form.filed, period, value)
    put_figure(tree.county_a, open_form.filed, "201705", 99)  # the 7th period back: not shown
    reporter = named(personas.county_reporter, "张明")
    ds = open_form.data_set
    with time_machine.travel(datetime(2017, 12, 20, 9, 5, tzinfo=SH), tick=False):
        services.save_form(ds, tree.county_a, "201712", {"case.filed": "12"}, user=reporter)
    with time_machine.travel(datetime(2017, 12, 21, 16, 40, tzinfo=SH), tick=False):
        services.save_form(
            ds, tree.county_a, "201712", {"case.filed": "15"}, user=reporter, comments={}
        )
        # Another figure and another unit change too: neither is this figure's history.
        services.save_form(ds, tree.county_a, "201712", {"case.solved": "2"}, user=reporter)
        services.save_form(ds, tree.county_b, "201712", {"case.filed": "77"}, user=SYSTEM)
    html = logged_in("county_reporter").get(HISTORY).content.decode()
    earlier = html[html.index("往期数据") : html.index("本期修改记录")]
    for words, value in [("2017年11月", "9"), ("2017年10月", "8"), ("2017年6月", "3")]:
        assert f'{words}</span> <strong class="num">{value}</strong>' in earlier, words
    assert '2017年7月</span> <strong class="num">—</strong>' in earlier  # nothing entered
    assert '同期 · 2016年12月</span> <strong class="num">21</strong>' in earlier
    assert "2017年5月" not in earlier and "99" not in earlier
    edits = html[html.index("本期修改记录") :]
    assert edits.index("2017-12-20 09:05") < edits.index("2017-12-21 16:40")
    assert '张明 · <span class="num">— → 12</span>' in edits
    assert '张明 · <span class="num">12 → 15</span>' in edits
    assert "77" not in edits and "→ 2<" not in edits
    assert edits.count("<li>") == 2


def test_a_large_imports_entry_is_read_when_its_span_holds_the_unit(open_form, tree) -> None:
    """An import of more than 50 units names no unit; its span of codes says whether to open it."""
    columns = ["unit", "indicator", "period", "before", "after"]
    for span, value in [("CITY…COUNTY-B (60 units)", "7"), ("DIV…STATION-Z (60 units)", "8")]:
        record(
            "reporting.values.imported",
            object_type="reporting.datavalue",
            object_repr=f"{span}: 2 figures",
            after={
                "columns": columns,
                "changes": [
                    ["COUNTY-A", "case.filed", "201712", "", value],
                    ["COUNTY-A", "case.filed", "201711", "", "1"],
                ],
            },
        )
    edits = figure_edits(tree.county_a, open_form.filed, "201712")
    assert [(e.before, e.after) for e in edits] == [("", "7")]


def test_the_history_is_read_by_whoever_reads_the_form(open_form, tree, personas) -> None:
    assert logged_in("county_reporter").get(HISTORY).status_code == 200
    assert logged_in("city_approver").get(HISTORY).status_code == 200  # the unit above
    assert logged_in("sibling_reporter").get(HISTORY).status_code == 403
    assert logged_in("outsider").get(HISTORY).status_code == 403
    computed = "/reporting/forms/CITY-M/COUNTY-A/201712/history/case.clearance/"
    assert logged_in("county_reporter").get(computed).status_code == 404
    unknown = "/reporting/forms/CITY-M/COUNTY-A/201712/history/no.such/"
    assert logged_in("county_reporter").get(unknown).status_code == 404


# The form page's queries before the history was added (measured on the parent commit with the
# same figures), and the one every signed-in request now asks whether the person has a second
# factor (django-otp): the history adds a button per row and loads nothing.
FORM_QUERIES = 36


def test_the_form_page_offers_the_history_and_loads_none_of_it(
    open_form, tree, personas, django_assert_max_num_queries
) -> None:
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "12"}, user=SYSTEM
    )
    client = logged_in("county_reporter")
    client.get("/reporting/forms/CITY-M/COUNTY-A/201712/")  # the session's first queries
    with django_assert_max_num_queries(FORM_QUERIES):
        html = client.get("/reporting/forms/CITY-M/COUNTY-A/201712/").content.decode()
    assert f'hx-get="{HISTORY}" hx-trigger="click once"' in html
    assert 'aria-label="立案数的历史数据"' in html
    assert "本期修改记录" not in html and "往期数据" not in html


def test_the_overview_says_who_reminded_a_unit_not_reported_and_when(
    open_form, tree, personas
) -> None:
    ds = open_form.data_set
    approver = named(personas.city_approver, "李审核")
    with time_machine.travel(datetime(2017, 12, 18, 9, 0, tzinfo=SH), tick=False):
        approval.remind(ds, tree.city, "201712", user=approver)
    with time_machine.travel(datetime(2017, 12, 20, 14, 30, tzinfo=SH), tick=False):
        approval.remind(ds, tree.county_a, "201712", user=approver)  # the station again
    # COUNTY-B has reported since: no reminder beside it.
    Submission.objects.create(data_set=ds, unit=tree.county_b, period="201712", state="submitted")
    client = logged_in("city_approver")
    html = client.get("/reporting/overview/CITY-M/CITY/201712/").content.decode()
    row_a = html[html.index(">甲县局</a>") : html.index(">乙县局</a>")]
    assert "李审核 于 2017-12-18 09:00 催报" in row_a
    assert "李审核 2017-12-20 14:30 已催报" in row_a  # the station below, reminded last
    row_b = html[html.index(">乙县局</a>") :]
    assert "乙县局" in row_b and "催报</small>" not in row_b.split("</tr>")[0]
    other = client.get("/reporting/overview/CITY-M/CITY/201711/").content.decode()
    assert "已催报" not in other and "于 2017-12-18" not in other  # another period


def test_the_overview_reads_the_reminders_once_for_the_page(open_form, tree, personas) -> None:
    ds = open_form.data_set
    client = logged_in("city_approver")
    url = "/reporting/overview/CITY-M/CITY/201712/"
    client.get(url)
    with CaptureQueriesContext(connection) as none:
        client.get(url)
    for unit in (tree.city, tree.county_a, tree.city):
        approval.remind(ds, unit, "201712", user=personas.city_approver)
    with CaptureQueriesContext(connection) as three:
        html = client.get(url).content.decode()
    assert html.count('class="reminded"') == 3  # 甲县局, 乙县局, the division
    reads = [q["sql"] for q in three.captured_queries if "audit_auditentry" in q["sql"]]
    assert len(reads) == 1
    # The page costs the same with no reminder and with three, each naming every unit.
    assert len(three.captured_queries) <= len(none.captured_queries) + 1
