"""The people of a participant unit see the meetings it attends, read-only (issue 14)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from duban.demo.loader import DEMO_PASSWORD, load_demo
from duban.meetings.models import Meeting

pytestmark = pytest.mark.django_db


@pytest.mark.once
@time_machine.travel("2026-12-09 10:00 +0800", tick=False)
def test_a_city_leader_sees_the_provincial_meetings_his_city_attends_and_opens_each_link() -> None:
    load_demo()
    provincial = Meeting.objects.filter(unit__code="SX", participants__unit__code="SX-XA")
    assert provincial.exists()
    leader = Client()
    assert leader.login(username="xa_leader", password=DEMO_PASSWORD)
    page = leader.get("/meetings/").content.decode()
    assert "暂无会议" not in page
    links = set(re.findall(r'href="(/meetings/\d+/)"', page))
    assert {f"/meetings/{m.pk}/" for m in provincial} <= links
    for link in links:
        r = leader.get(link)
        assert r.status_code == 200, link
        body = r.content.decode()
        assert "/edit/" not in body and "/decide/" not in body
    own = leader.get("/meetings/?unit=SX-XA").content.decode()
    assert "暂无会议" not in own
    assert {f"/meetings/{m.pk}/" for m in provincial} <= set(
        re.findall(r'href="(/meetings/\d+/)"', own)
    )
    home = leader.get("/").content.decode()
    for link in set(re.findall(r'href="(/meetings/\d+/)"', home)):
        assert leader.get(link).status_code == 200, link


@time_machine.travel("2017-12-08 10:00 +0800", tick=False)
def test_a_task_links_its_meeting_only_for_those_who_may_open_it(tree) -> None:
    from datetime import date

    from duban.meetings import services
    from duban.meetings.models import MeetingKind
    from duban.orgs.policy import SYSTEM
    from duban.testing import logged_in, make_user

    meeting = services.create_meeting(
        tree.city, user=SYSTEM, kind=MeetingKind.DISPATCH, title="全市调度会",
        held_on=date(2017, 12, 8), main_venue="市局", participants=[tree.county_a],
    )  # fmt: skip
    matter = services.decide(
        meeting, user=SYSTEM, text="清理积案", lead_unit=tree.county_b, due_date=date(2017, 12, 31)
    )
    make_user("b_reporter", tree.county_b, "reporter")
    make_user("a_reporter", tree.county_a, "reporter")
    make_user("city_leader", tree.city, "leader")
    link = f'href="/meetings/{meeting.pk}/"'
    lead = logged_in("b_reporter").get(f"/tasks/{matter.task_id}/").content.decode()
    assert "全市调度会" in lead and link not in lead
    assert logged_in("b_reporter").get(f"/meetings/{meeting.pk}/").status_code == 403
    city = logged_in("city_leader").get(f"/tasks/{matter.task_id}/").content.decode()
    assert link in city
    attending = logged_in("a_reporter")
    assert attending.get(f"/meetings/{meeting.pk}/").status_code == 200
    listed = attending.get(f"/meetings/?unit={tree.county_a.code}").content.decode()
    assert f"/meetings/{meeting.pk}/" in listed
