"""The screen pack: spans, the chance marks, the meeting's order, ranks, red tasks, names."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from duban.cockpit.screen import build_screen
from duban.cockpit.screen_spans import change_mark, poisson_z, spans
from duban.cockpit.tests.conftest import HELD, put_days, ranked_scheme
from duban.orgs.policy import SYSTEM
from duban.reporting.tests.conftest import make_form, put_figure
from duban.tasks.tests.factories import make_task
from duban.testing import make_user


def test_spans_end_on_the_meeting_day() -> None:
    week, days28, year = spans(date(2017, 12, 8))
    assert (week.start, week.end) == (date(2017, 12, 2), date(2017, 12, 8))  # 7 days
    assert (week.before_start, week.before_end) == (date(2017, 11, 25), date(2017, 12, 1))
    assert (days28.start, days28.before_start, days28.before_end) == (
        date(2017, 11, 11),
        date(2017, 10, 14),
        date(2017, 11, 10),
    )
    assert (year.start, year.before_start, year.before_end) == (
        date(2017, 1, 1),
        date(2016, 1, 1),
        date(2016, 12, 8),
    )
    # 29 February: the same dates last year end on the 28th
    assert spans(date(2024, 2, 29))[2].before_end == date(2023, 2, 28)


@pytest.mark.parametrize(
    ("now", "before", "z", "mark"),
    [
        (4, 2, 1.17, ""),  # 2 → 4 is no alarm: 2·(2 − 1.414)
        (2, 4, -1.17, ""),
        (4, 0, 4.0, "up"),
        (0, 4, -4.0, "down"),
        (9, 4, 2.0, ""),  # exactly 2 is not beyond 2
        (16, 4, 4.0, "up"),
        (100, 144, -4.0, "down"),  # 2·(10 − 12)
        (110, 100, 0.98, ""),  # +10 % of a hundred is chance
    ],
)
def test_a_change_is_marked_only_beyond_chance(now: int, before: int, z: float, mark: str) -> None:
    assert round(poisson_z(Decimal(now), Decimal(before)), 2) == z
    assert change_mark(Decimal(now), Decimal(before)) == mark


def test_no_mark_without_both_figures() -> None:
    assert change_mark(None, Decimal(4)) == "" and change_mark(Decimal(4), None) == ""


def _slide(pack: dict, name: str) -> dict:
    return next(s for s in pack["slides"] if s["name"]["zh"] == name)


def test_pack_sums_the_spans_from_approved_figures(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    pack = build_screen(setting.meeting, date(2018, 1, 5), viewer=office)
    assert pack["as_of"] == "2017-12-08"  # the meeting day, not the day it is opened
    a = _slide(pack, "甲县局")["rows"][0]
    assert a["name"] == {"zh": "立案数", "en": "Cases filed"} and a["measure"] == "起"
    week, days28, year = a["cells"]
    # week 3 + 2 = 5 against 1: +4, z = 2·(√5 − 1) = 2.47, marked; the submitted 50 of
    # 12-07 and the 100 of 12-09 (after the meeting) are not counted
    assert (week["now"], week["before"], week["change"], week["mark"]) == ("5", "1", "+4", "up")
    # 28 days 3 + 2 + 1 + 4 = 10 against 6: z = 1.43, not marked
    assert (days28["now"], days28["before"], days28["change"], days28["mark"]) == (
        "10",
        "6",
        "+4",
        "",
    )
    # year 10 + 6 + 4 + 1 + 2 + 3 = 26 against 2016-01-01 1 + 2016-12-08 7 = 8 (not 12-09)
    assert (year["now"], year["before"], year["change"], year["mark"]) == ("26", "8", "+18", "up")
    b = _slide(pack, "乙县局")["rows"][0]["cells"][0]
    assert (b["now"], b["before"], b["change"], b["mark"]) == ("2", "4", "−2", "")
    city = _slide(pack, "市局")["rows"][0]["cells"][0]
    assert (city["now"], city["before"]) == ("7", "5")  # the counties summed


def test_slides_in_the_meetings_order_with_the_convening_unit_last(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    pack = build_screen(setting.meeting, HELD, viewer=office)
    assert [s["name"]["zh"] for s in pack["slides"]] == ["乙县局", "甲县局", "刑侦支队", "市局"]
    assert [s["chair"] for s in pack["slides"]] == [False, False, False, True]
    assert _slide(pack, "刑侦支队")["rows"] == []  # no figures of its own, heads no line


def test_a_division_heading_a_line_shows_its_line_for_the_whole_city(tree, setting) -> None:
    from duban.indicators.models import Indicator
    from duban.orgs.models import OrgUnit

    OrgUnit.objects.filter(pk=tree.division.pk).update(line="criminal")
    Indicator.objects.filter(pk=setting.filed.pk).update(line="criminal")
    office = make_user("office", tree.city, "office")
    slide = _slide(build_screen(setting.meeting, HELD, viewer=office), "刑侦支队")
    assert slide["line_picture"] == {"zh": "市局", "en": "City"}
    week = slide["rows"][0]["cells"][0]
    assert (week["now"], week["before"]) == ("7", "5")  # the city's, as on the city's slide


def test_pack_holds_names_not_codes(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    text = json.dumps(build_screen(setting.meeting, HELD, viewer=office), ensure_ascii=False)
    for code in ("COUNTY-A", "COUNTY-B", "CITY", "daily.filed", "CITY-D"):
        assert code not in text


def test_rank_and_total_in_the_published_scheme(tree, setting) -> None:
    ranked_scheme(tree)
    office = make_user("office", tree.city, "office")
    pack = build_screen(setting.meeting, HELD, viewer=office)
    assert pack["scheme"]["period"] == "201703"  # the latest month with approved figures
    assert pack["scheme"]["scheme"]["zh"] == "测试方案"
    # B: 40 of its target 50 → 16 + first in the poll 10 = 26; A: 60 of 100 → 12 + 8 = 20
    assert _slide(pack, "乙县局")["rank"] == {"rank": 1, "of": 2, "total": "26", "vetoed": False}
    assert _slide(pack, "甲县局")["rank"] == {"rank": 2, "of": 2, "total": "20", "vetoed": False}
    assert _slide(pack, "市局")["rank"] is None  # not a member


def test_red_tasks_by_name_with_days_overdue(tree, setting) -> None:
    make_task(tree.city, tree.county_a, title="追逃攻坚", due_date=date(2017, 11, 30))
    make_task(tree.city, tree.county_a, title="黄标车清零", due_date=date(2017, 12, 6))
    make_task(tree.city, tree.county_b, title="还没到期", due_date=date(2017, 12, 31))
    make_task(tree.other_city, tree.other_city, title="外市任务", due_date=date(2017, 1, 31))
    office = make_user("office", tree.city, "office")
    pack = build_screen(setting.meeting, HELD, viewer=office)
    assert _slide(pack, "甲县局")["red"] == [
        {"title": "追逃攻坚", "days": 8},  # longest overdue first, as of the meeting day
        {"title": "黄标车清零", "days": 2},
    ]
    assert _slide(pack, "乙县局")["red"] == []
    assert [t["title"] for t in _slide(pack, "市局")["red"]] == ["追逃攻坚", "黄标车清零"]


def test_a_monthly_indicator_shows_the_whole_months_inside_each_span(tree, setting) -> None:
    form = make_form(tree)  # monthly 立案数 (same name: the daily one is kept) and 破案数
    put_figure(tree.county_a, form.filed, "201711", 99)
    put_figure(tree.county_a, form.solved, "201710", 5)
    put_figure(tree.county_a, form.solved, "201711", 7)
    put_figure(tree.county_a, form.solved, "201611", 4)
    office = make_user("office", tree.city, "office")
    rows = _slide(build_screen(setting.meeting, HELD, viewer=office), "甲县局")["rows"]
    assert [r["name"]["zh"] for r in rows] == ["立案数", "破案数", "破案率"]
    assert rows[0]["period_type"] == "daily" and rows[0]["cells"][0]["now"] == "5"
    week, days28, year = rows[1]["cells"]
    assert week["periods"] == [] and week["now"] == ""  # no whole month in a week
    assert days28["periods"] == [] and days28["now"] == ""
    assert year["periods"] == [f"2017{m:02d}" for m in range(1, 12)]
    assert year["periods_before"] == [f"2016{m:02d}" for m in range(1, 12)]
    assert (year["now"], year["before"], year["change"]) == ("12", "4", "+8")


def test_a_reader_gets_only_what_the_policy_lets_him_read(tree, setting) -> None:
    reporter = make_user("reporter_a", tree.county_a, "reporter")
    pack = build_screen(setting.meeting, HELD, viewer=reporter)
    assert [s["name"]["zh"] for s in pack["slides"]] == ["甲县局"]
    put_days(tree.county_a, setting.filed, {"20171203": 1})  # his own, approved: counted
    pack = build_screen(setting.meeting, HELD, viewer=reporter)
    assert pack["slides"][0]["rows"][0]["cells"][0]["now"] == "6"


def test_a_slide_names_at_most_four_red_tasks_and_counts_the_rest(tree, setting) -> None:
    for n in range(6):
        make_task(tree.city, tree.county_b, title=f"任务{n}", due_date=date(2017, 11, 20 + n))
    office = make_user("office", tree.city, "office")
    slide = _slide(build_screen(setting.meeting, HELD, viewer=office), "乙县局")
    assert [t["title"] for t in slide["red"]] == ["任务0", "任务1", "任务2", "任务3"]
    assert slide["more_red"] == 2


def test_the_queries_do_not_grow_with_the_units(
    tree, setting, django_assert_max_num_queries
) -> None:
    from duban.meetings import services as meetings
    from duban.testing import make_unit

    office = make_user("office", tree.city, "office")
    with django_assert_max_num_queries(40) as before:
        build_screen(setting.meeting, HELD, viewer=office)
    more = [make_unit(f"COUNTY-{n}", tree.city, name_zh=f"{n}县局") for n in "CDEFG"]
    for unit in more:
        put_days(unit, setting.filed, {"20171208": 1})
    participants = [p.unit for p in setting.meeting.participants.all()] + more
    meetings.update_meeting(setting.meeting, user=SYSTEM, participants=participants)
    with django_assert_max_num_queries(len(before.captured_queries)):
        pack = build_screen(setting.meeting, HELD, viewer=office)
    assert len(pack["slides"]) == 9


def test_at_most_six_indicators_a_slide_and_the_rest_counted(tree, setting) -> None:
    from duban.indicators import services as ind_services
    from duban.indicators.models import DataSet

    codes = []
    for n in range(6):
        ind = ind_services.create_indicator(
            user=SYSTEM, issuer=tree.city, code=f"daily.x{n}", name_zh=f"指标{n}",
            value_type="integer", period_type="daily", levels=["county"], kinds=["territorial"],
        )  # fmt: skip
        put_days(tree.county_a, ind, {"20171208": n})
        codes.append(ind.code)
    ds = DataSet.objects.get(code="CITY-D")
    ind_services.set_members(ds, ["daily.filed", *codes], user=SYSTEM)
    office = make_user("office", tree.city, "office")
    slide = _slide(build_screen(setting.meeting, HELD, viewer=office), "甲县局")
    assert [r["name"]["zh"] for r in slide["rows"]] == ["立案数", *[f"指标{n}" for n in range(5)]]
    assert slide["more_rows"] == 1
