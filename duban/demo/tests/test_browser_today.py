"""The demo as installed today, in a real browser (issue 14, item 6).

A reporter logs in on the day the demo is loaded and finds an open form to fill; the pages
fixed in this issue carry no ASCII identifier; the meeting pack prints on A4 with every
column on the paper and task names whole. Debian's Chromium over the live demo
(duban.testing_browser).
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from duban.testing_browser import OpenPage, login, shoot
from duban.testing_scan import ALLOWED, ascii_identifiers

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("demo-today"),
]
A4_TEXT_WIDTH = 703  # 210 mm less 2 × 12 mm of margin, in CSS pixels (96 per inch)


def _last_month() -> str:
    today = timezone.localdate()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}{month:02d}"


def test_a_reporter_finds_last_months_form_open_and_fills_it(open_page: OpenPage) -> None:
    page = open_page()
    login(page, "lst_reporter")
    page.goto("/reporting/")
    assert "当前没有向您开放的报表" not in page.content()
    form = f"/reporting/forms/YZ-MONTHLY/YZ-LST/{_last_month()}/"
    link = page.locator(f"a[href='{form}']").first
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(re.escape(form)))
    field = page.locator("input[name='v:case.filed']")
    expect(field).to_be_editable()
    field.fill("12")
    shoot(page, "form")
    # the reporting form is another helper's page: only file-format names may show on it
    assert ascii_identifiers(page.content(), ALLOWED | {"JPEG", "PNG"}) == []


def test_task_and_meeting_pages_show_no_identifiers(open_page: OpenPage) -> None:
    page = open_page()
    login(page, "sx_office")
    for url in ("/tasks/inbox/", "/tasks/ledger/", "/meetings/", "/meetings/cadence/SX/"):
        page.goto(url)
        assert ascii_identifiers(page.content()) == [], url
    page.goto("/meetings/")
    page.locator("a[href^='/meetings/'][href$='/']").filter(has_text=re.compile(".")).nth(1).click()
    assert ascii_identifiers(page.content()) == [], page.url


def test_the_meeting_pack_prints_on_a4_with_every_column_and_whole_task_names(
    open_page: OpenPage,
) -> None:
    page = open_page((A4_TEXT_WIDTH, 1000))
    login(page, "sx_office")
    page.goto("/meetings/")
    links = page.locator("a[href^='/meetings/']")
    hrefs = [h for h in links.evaluate_all("ls => ls.map(l => l.getAttribute('href'))")]
    meetings = [h for h in hrefs if re.fullmatch(r"/meetings/\d+/", h or "")]
    assert meetings
    page.emulate_media(media="print")
    tables = 0
    for meeting in meetings:
        page.goto(meeting)
        widths = page.evaluate(
            """() => [...document.querySelectorAll('table')].map(t => [t.scrollWidth,
                t.closest('.table-wrap, .card, main').clientWidth])"""
        )
        assert all(w <= room + 1 for w, room in widths), (meeting, widths)
        tables += len(widths)
        # a task name's cell is never a sliver (no name one character a line)
        narrow = page.evaluate(
            """() => [...document.querySelectorAll('td[data-label] a[href^="/tasks/"]')]
                .map(a => a.closest('td')).filter(td => td.clientWidth < 60).length"""
        )
        assert narrow == 0, meeting
    assert tables > 0
    assert page.pdf(format="A4", print_background=True)[:4] == b"%PDF"
