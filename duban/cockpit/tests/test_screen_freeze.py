"""Freezing the screen, the preview before the day, who may open it, and the page itself."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from duban.cockpit.models import ScreenPack
from duban.cockpit.screen import freeze_screen, screen_for
from duban.cockpit.tests.conftest import put_days
from duban.orgs.policy import SYSTEM
from duban.testing import logged_in, make_user

BEFORE, ON_THE_DAY, AFTER = (
    "2017-12-06 09:00 +0800",
    "2017-12-08 09:00 +0800",
    "2018-01-05 09:00 +0800",
)


def _week_now(screen, name: str) -> str:
    slide = next(s for s in screen.slides if s["label"] == name)
    return slide["rows"][0]["cells"][0]["now"]


def test_figures_changed_after_the_meeting_do_not_change_the_frozen_screen(tree, setting) -> None:
    leader = make_user("leader", tree.city, "leader")
    shown = screen_for(setting.meeting, user=leader, today=date(2017, 12, 8))
    assert shown.frozen is not None and not shown.preview  # the first showing on the day
    assert shown.frozen.frozen_by == leader and shown.frozen.as_of == date(2017, 12, 8)
    assert _week_now(shown, "甲县局") == "5"
    put_days(tree.county_a, setting.filed, {"20171204": 40})  # approved late, inside the week
    again = screen_for(setting.meeting, user=leader, today=date(2018, 1, 5))
    assert _week_now(again, "甲县局") == "5"  # as shown at the meeting
    assert ScreenPack.objects.filter(meeting=setting.meeting).count() == 1


def test_a_preview_before_the_day_follows_the_data(tree, setting) -> None:
    leader = make_user("leader", tree.city, "leader")
    first = screen_for(setting.meeting, user=leader, today=date(2017, 12, 6))
    assert first.preview and first.frozen is None
    assert first.pack["as_of"] == "2017-12-06"  # figures up to today
    assert _week_now(first, "甲县局") == "3"  # 11-30..12-06: 1 of 12-01 + 2 of 12-02
    put_days(tree.county_a, setting.filed, {"20171204": 40})
    assert (
        _week_now(screen_for(setting.meeting, user=leader, today=date(2017, 12, 6)), "甲县局")
        == "43"
    )
    assert not ScreenPack.objects.exists()


def test_freezing_twice_keeps_the_first(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    first = freeze_screen(setting.meeting, user=office, today=date(2017, 12, 7))
    put_days(tree.county_a, setting.filed, {"20171207": 9})
    second = freeze_screen(setting.meeting, user=office, today=date(2017, 12, 9))
    assert second.pk == first.pk and second.pack == first.pack
    assert first.as_of == date(2017, 12, 7)  # frozen the day before, as prepared


def test_a_participant_sees_only_his_own_slide_of_the_frozen_screen(tree, setting) -> None:
    freeze_screen(setting.meeting, user=SYSTEM, today=date(2017, 12, 8))
    reporter = make_user("reporter_b", tree.county_b, "reporter")
    shown = screen_for(setting.meeting, user=reporter, today=date(2017, 12, 9))
    assert [s["label"] for s in shown.slides] == ["乙县局"]
    assert not shown.can_freeze


def test_a_participant_opening_first_does_not_freeze_it(tree, setting) -> None:
    reporter = make_user("reporter_b", tree.county_b, "reporter")
    shown = screen_for(setting.meeting, user=reporter, today=date(2017, 12, 8))
    assert shown.frozen is None and not shown.preview  # live, built for him
    assert [s["label"] for s in shown.slides] == ["乙县局"]
    assert not ScreenPack.objects.exists()


@time_machine.travel(AFTER, tick=False)
def test_the_page_renders_every_slide(tree, setting) -> None:
    make_user("leader", tree.city, "leader")
    response = logged_in("leader").get(reverse("cockpit:screen", args=[setting.meeting.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<section class="slide') == 4 and "1 / 4" in html and "4 / 4" in html
    for name in ("乙县局", "甲县局", "刑侦支队", "市局"):
        assert name in html
    assert "duban/screen.js" in html and "<script>" not in html and "onclick" not in html
    assert "COUNTY-A" not in html and "daily.filed" not in html


@time_machine.travel(BEFORE, tick=False)
def test_the_page_before_the_day_is_labelled_a_preview(tree, setting) -> None:
    make_user("leader", tree.city, "leader")
    html = logged_in("leader").get(reverse("cockpit:screen", args=[setting.meeting.pk]))
    assert "会前预览：数据截至 2017-12-06，仍会变化" in html.content.decode()
    assert not ScreenPack.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "sibling"])
@time_machine.travel(ON_THE_DAY, tick=False)
def test_a_unit_not_in_scope_is_refused(tree, setting, who) -> None:
    if who == "outsider":
        make_user(who, tree.other_city, "leader")
    else:  # a station below a participant: may see neither the city nor the meeting's units
        make_user(who, tree.station_a1, "reporter")
    client = logged_in(who)
    assert client.get(reverse("cockpit:screen", args=[setting.meeting.pk])).status_code == 403
    post = client.post(reverse("cockpit:screen_freeze", args=[setting.meeting.pk]))
    assert post.status_code == 403
    assert not ScreenPack.objects.exists()
    assert client.get(reverse("cockpit:screen", args=[99999])).status_code == 404


@time_machine.travel(BEFORE, tick=False)
def test_only_who_manages_the_meeting_freezes_it(tree, setting) -> None:
    make_user("leader", tree.city, "leader")
    make_user("office", tree.city, "office")
    url = reverse("cockpit:screen_freeze", args=[setting.meeting.pk])
    assert logged_in("leader").post(url).status_code == 403
    assert logged_in("office").get(url).status_code == 405
    response = logged_in("office").post(url)
    assert response.status_code == 302
    frozen = ScreenPack.objects.get(meeting=setting.meeting)
    assert frozen.frozen_by.username == "office" and frozen.as_of == date(2017, 12, 6)
