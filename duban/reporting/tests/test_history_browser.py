"""Issue 14's history beside a figure, the stored 催报 and the period picker, in Debian's
Chromium over the demo: a click on 历史 shows the figure's earlier periods and its change by
the reporter; the overview names who reminded a unit not reported; and at 390 px (a phone)
the entry form, the overview and the data set page need no sideways scrolling. No console
error (the harness watches), no ASCII identifier on the pages (duban.testing_scan)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from duban.accounts.models import User
from duban.orgs.models import OrgUnit
from duban.reporting import approval
from duban.reporting.tests.test_entry_browser import PERIOD, identifiers, open_month
from duban.testing_browser import PHONE, OpenPage, login, shoot, sideways_scroll

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("reporting-history"),
]

FORM = f"/reporting/forms/YZ-MONTHLY/YZ-LST/{PERIOD}/"


def test_a_click_shows_a_figures_history_beside_it(open_page: OpenPage) -> None:
    open_month()
    page = open_page()
    login(page, "lst_reporter")
    page.goto(FORM)
    first = page.locator('form.entry input[name^="v:"]').first
    first.fill("123")
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    button = page.locator("button.history-toggle").first
    row = page.locator(f"#{button.get_attribute('aria-controls')}")
    expect(row).to_be_hidden()  # nothing of it comes with the form
    assert page.locator(".history-edits").count() == 0
    button.click()
    expect(row).to_be_visible()
    expect(row.locator(".history-earlier li")).to_have_count(7)  # six months and last year's
    expect(row.locator(".history-edits")).to_contain_text("— → 123")
    expect(button).to_have_attribute("aria-expanded", "true")
    assert identifiers(page) == []
    shoot(page, "history")
    button.click()
    expect(row).to_be_hidden()


def test_at_phone_width_nothing_scrolls_sideways(open_page: OpenPage) -> None:
    ds, _others = open_month()
    lst = OrgUnit.objects.get(code="YZ-LST")
    approver = User.objects.get(username="yz_approver")
    approval.remind(ds, lst.parent, PERIOD, user=approver)  # 临山 has not reported
    page = open_page(PHONE, mobile=True)
    login(page, "lst_reporter")
    page.goto(FORM)
    page.locator("button.history-toggle").first.click()
    expect(page.locator(".history-body").first).to_be_visible()
    page.locator(".history-body").first.scroll_into_view_if_needed()
    shoot(page, "form-phone")
    assert sideways_scroll(page) <= 0
    page = open_page(PHONE, mobile=True)
    login(page, "yz_approver")
    page.goto(f"/reporting/overview/YZ-MONTHLY/{lst.parent.code}/{PERIOD}/")
    expect(page.locator(".reminded").first).to_contain_text("催报")
    page.locator(".reminded").first.scroll_into_view_if_needed()
    shoot(page, "overview-phone")
    assert sideways_scroll(page) <= 0
    assert identifiers(page) == []
    page = open_page(PHONE, mobile=True)
    login(page, "yz_office")
    page.goto("/reporting/datasets/YZ-MONTHLY/?year=2018#open")
    boxes = page.locator('form.open-periods input[name="periods"]')
    expect(boxes).to_have_count(12)
    page.get_by_label("2018年第1季度 全部").check()  # a quarter's months, ticked together
    assert [boxes.nth(i).is_checked() for i in range(4)] == [True, True, True, False]
    shoot(page, "periods-phone")
    assert sideways_scroll(page) <= 0
