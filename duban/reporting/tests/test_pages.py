"""The entry form and the overview as a Chinese reader meets them: names, not codes; a period
never opened and an approved form say what they are and offer no upload."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.models import State, Submission
from duban.testing import logged_in
from duban.testing_scan import ascii_identifiers

SH = ZoneInfo("Asia/Shanghai")
# The header names the signed-in person by his full name (the test users': their login);
# JPEG and PNG are file formats, as PDF is.
SEEN_ELSEWHERE = {"county_reporter", "city_approver", "JPEG", "PNG"}


def identifiers(html: str) -> list[str]:
    return [w for w in ascii_identifiers(html) if w not in SEEN_ELSEWHERE]


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_form_names_indicators_without_codes(open_form, tree) -> None:
    html = page(logged_in("county_reporter"), "/reporting/forms/CITY-M/COUNTY-A/201712/")
    assert "<code>case.filed</code>" not in html
    assert 'title="case.filed"><span class="indicator-name">立案数</span>' in html
    assert identifiers(html) == []


def test_a_period_never_opened_is_not_a_draft_and_has_no_upload(open_form, tree) -> None:
    html = page(logged_in("county_reporter"), "/reporting/forms/CITY-M/COUNTY-A/201801/")
    assert 'class="state state-not_opened">未开放填报</span>' in html
    assert "草稿" not in html
    assert "/upload/" not in html
    opened = page(logged_in("county_reporter"), "/reporting/forms/CITY-M/COUNTY-A/201712/")
    assert 'class="state state-empty">未填报</span>' in opened and "/upload/" in opened


def test_an_approved_form_offers_no_upload(open_form, tree, personas) -> None:
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "3"}, user=SYSTEM
    )
    Submission.objects.filter(unit=tree.county_a).update(state=State.APPROVED)
    html = page(logged_in("county_reporter"), "/reporting/forms/CITY-M/COUNTY-A/201712/")
    assert "/upload/" not in html and "已审核" in html


def test_the_overview_says_missing_units_below_by_name(form, tree, personas) -> None:
    with time_machine.travel(datetime(2017, 12, 20, 10, tzinfo=SH), tick=False):
        html = page(logged_in("city_approver"), "/reporting/overview/CITY-M/CITY/201711/")
    assert "下级： 甲一派出所 (" in html and "未报" in html
    assert "STATION-A1 (missing)" not in html
    assert 'class="responsive overview"' in html
    assert identifiers(html) == []


def test_autosave_goes_through_the_save_service(open_form, tree, personas) -> None:
    client = logged_in("county_reporter")
    url = "/reporting/forms/CITY-M/COUNTY-A/201712/autosave/"
    with time_machine.travel(datetime(2017, 12, 20, 9, 41, tzinfo=SH), tick=False):
        r = client.post(url, {"version": "0", "v:case.filed": "12", "iv:case.filed": ""})
    assert r.status_code == 200
    assert r.json() == {"version": 1, "saved": "已自动保存 09:41"}
    sub = Submission.objects.get(unit=tree.county_a)
    assert (sub.state, sub.version) == (State.DRAFT, 1)
    r = client.post(url, {"version": "1", "v:case.solved": "-1", "iv:case.solved": ""})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"where": "case.solved", "message": "case.solved：不得小于 0"}]
    r = client.post(url, {"version": "0", "v:case.filed": "13", "iv:case.filed": ""})
    assert r.status_code == 409  # saved from an older version: refused, nothing lost
    assert logged_in("sibling_reporter").post(url, {"v:case.filed": "1"}).status_code == 403


def test_the_grid_carries_the_servers_checks_in_words(open_form, tree) -> None:
    html = page(logged_in("county_reporter"), "/reporting/forms/CITY-M/COUNTY-A/201712/")
    assert 'data-min="0" data-min-msg="立案数：不得小于 0"' in html
    assert 'data-whole="立案数：必须是整数"' in html
    assert 'data-max="100" data-max-msg="民调得分：不得大于 100"' in html
    assert 'data-autosave="/reporting/forms/CITY-M/COUNTY-A/201712/autosave/"' in html
    assert 'class="toolbar action-bar"' in html and "reporting/reporting.js" in html
