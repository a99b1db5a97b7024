"""The meeting screen in Debian's headless Chromium at 1920×1080: step through by keyboard."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from duban.cockpit.tests.conftest import daily_filed, put_days
from duban.meetings import services as meetings
from duban.meetings.models import MeetingKind
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.tasks.tests.factories import make_task
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.browser  # `browser`: one Chromium per module (duban.testing_browser)

ARTEFACTS = Path(os.environ.get("DUBAN_ARTEFACTS", "var/test-artefacts"))


@pytest.fixture
def meeting(transactional_db, tree):
    """Yesterday's meeting of CITY with both counties and the division, figures this week."""
    today = date.today()
    filed = daily_filed(tree)
    put_days(tree.county_a, filed, {f"{today:%Y%m%d}": 3})
    put_days(tree.county_b, filed, {f"{today:%Y%m%d}": 5})
    make_task(tree.city, tree.county_a, title="追逃攻坚", start_date=date(today.year - 1, 1, 1),
              due_date=date(today.year - 1, 6, 30))  # fmt: skip
    make_user("leader", tree.city, "leader")
    OrgUnit.objects.filter(pk=tree.city.pk).update(is_demo=True)  # the banner must stay visible
    return meetings.create_meeting(
        tree.city, user=SYSTEM, kind=MeetingKind.DISPATCH, held_on=today,
        title="全市公安机关视频调度会", participants=[tree.county_a, tree.county_b, tree.division],
    )  # fmt: skip


def test_the_screen_steps_through_the_units_by_keyboard(browser, live_server, meeting, settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(live_server.url) or r.url.startswith("data:")
            else outside.append(r.url)
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # home, or a cockpit
    errors.clear()  # the login page's own favicon request is not the screen's
    page.goto(f"{live_server.url}/cockpit/meetings/{meeting.pk}/screen/")
    shown = page.locator(".slide:not([hidden]) .slide-unit")
    names = [shown.inner_text()]
    for key in ("ArrowRight", "PageDown", " "):
        page.keyboard.press(key)
        names.append(shown.inner_text())
    assert names == ["甲县局", "乙县局", "刑侦支队", "市局"], "each key shows the next unit"
    assert page.url.endswith("#4")
    page.keyboard.press("PageUp")
    assert shown.inner_text() == "刑侦支队"
    page.keyboard.press("Home")
    assert shown.inner_text() == "甲县局"
    assert page.locator(".slide:not([hidden]) .slide-count").inner_text() == "1 / 4"
    # readable from five metres: 32 px body, 72 px name, nothing scrolls inside a slide
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.spans td')).fontSize)"
    )
    name = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.slide-unit')).fontSize)"
    )
    assert size >= 32 and name >= 72
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    assert page.locator(".screen-demo").is_visible()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "meeting-screen-1920x1080.png"))
    page.goto(f"{live_server.url}/cockpit/meetings/{meeting.pk}/screen/#2")
    assert shown.inner_text() == "乙县局", "a reload keeps the slide"
    assert errors == [] and outside == []
    page.close()
