"""Issue 14's day of a reporter and an approver, in Debian's Chromium over the demo
(duban.testing_browser): the reporter pastes a month from Excel into the grid, fixes the
figure the live check marks, sees the draft autosaved and submits; the approver approves two
forms at once from his queue and returns one. No console error (the harness watches), and no
ASCII identifier on those Chinese pages (duban.testing_scan).

The demo has no open period today: the test opens its own (201801, after the demo's history,
with dates around today), inside the test's transaction, rolled back at its end.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from duban.indicators.models import DataSet
from duban.orgs.models import OrgUnit
from duban.reporting import approval
from duban.reporting.models import ReportingPeriod, State, Submission
from duban.testing_browser import PHONE, OpenPage, login, shoot
from duban.testing_scan import ascii_identifiers

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("reporting-entry"),
]

PERIOD = "201801"
# File formats named in the evidence hint (as PDF is, which the scan allows).
FORMATS = {"JPEG", "PNG"}


def identifiers(page: Page) -> list[str]:
    return [w for w in ascii_identifiers(page.content()) if w not in FORMATS]


def open_month() -> tuple[DataSet, list[OrgUnit]]:
    """YZ-MONTHLY open for PERIOD today; two counties besides 临山 have submitted."""
    ds = DataSet.objects.get(code="YZ-MONTHLY")
    today = timezone.localdate()
    ReportingPeriod.objects.update_or_create(
        data_set=ds,
        period=PERIOD,
        defaults={
            "opens_on": today - timedelta(days=20),
            "deadline": today + timedelta(days=5),
            "closes_on": today + timedelta(days=15),
            "is_closed": False,
        },
    )
    lst = OrgUnit.objects.get(code="YZ-LST")
    for unit in approval.waiting_below(ds, lst, PERIOD):  # none in the demo: counties report
        Submission.objects.update_or_create(
            data_set=ds, unit=unit, period=PERIOD, defaults={"state": State.APPROVED}
        )
    others = [
        u
        for u in ds.reporting_units(lst.parent)
        if u.level == "county" and u.pk != lst.pk and u.parent_id == lst.parent_id
    ][:2]
    for unit in others:
        Submission.objects.update_or_create(
            data_set=ds,
            unit=unit,
            period=PERIOD,
            defaults={"state": State.SUBMITTED, "submitted_at": timezone.now()},
        )
    return ds, others


PASTE = """(el, text) => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  el.focus();
  el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""

PREVIOUS = """() => Array.from(document.querySelectorAll('form.entry tbody tr'))
  .filter(tr => tr.querySelector('input[name^="v:"]'))
  .map(tr => tr.children[2].textContent.trim().replace(/,/g, ''))"""


def reporter_pastes_fixes_and_submits(page: Page) -> None:
    login(page, "lst_reporter")
    page.goto(f"/reporting/forms/YZ-MONTHLY/YZ-LST/{PERIOD}/")
    inputs = page.locator('form.entry input[name^="v:"]')
    count = inputs.count()
    assert count >= 2
    # Last month's figures, as a reporter copies a column from his Excel sheet, one typo in it.
    month = [v if v not in ("", "—") else "0" for v in page.evaluate(PREVIOUS)]
    good = month[0]
    month[0] = good + "x"
    inputs.nth(0).evaluate(PASTE, "\r\n".join(month) + "\r\n")
    for i in range(1, count):
        expect(inputs.nth(i)).to_have_value(month[i])
    live = page.locator("form.entry .error.live").first
    expect(live).to_be_visible()
    expect(live).to_contain_text("不是数字")
    expect(page.locator(".autosave")).to_contain_text("未能自动保存")
    assert identifiers(page) == []
    inputs.nth(0).fill(good)
    expect(live).to_be_hidden()
    expect(page.locator(".autosave")).to_contain_text("已自动保存", timeout=10_000)
    # Enter moves down, Shift+Enter up; neither sends the form.
    inputs.nth(0).focus()
    page.keyboard.press("Enter")
    expect(inputs.nth(1)).to_be_focused()
    page.keyboard.press("Shift+Enter")
    expect(inputs.nth(0)).to_be_focused()
    assert f"/{PERIOD}/" in page.url
    shoot(page, "pasted")
    page.get_by_role("button", name="保存并上报").click()
    expect(page.locator("h1 .state")).to_have_text("已上报")
    assert identifiers(page) == []


def approver_batch_approves_and_returns_one(page: Page, others: list[OrgUnit]) -> None:
    login(page, "yz_approver")
    page.goto("/reporting/")
    for unit in others:
        page.get_by_role("checkbox", name=f"审核 {unit.name} · {PERIOD}", exact=True).check()
    page.fill('form.batch input[name="reason"]', "数据核对无误")
    assert identifiers(page) == []
    page.get_by_role("button", name="批量审核通过").click()
    expect(page.locator("body")).to_contain_text("已审核通过 2 张报表")
    page.goto(f"/reporting/forms/YZ-MONTHLY/YZ-LST/{PERIOD}/")
    page.fill('input[name="reason"][required]', "立案数与系统台账不符，请核对")
    page.get_by_role("button", name="退回填报员").click()
    expect(page.locator("h1 .state")).to_have_text("已退回")
    assert identifiers(page) == []


def test_the_reporter_pastes_a_month_and_the_approver_batch_approves(
    open_page: OpenPage,
) -> None:
    ds, others = open_month()
    reporter_pastes_fixes_and_submits(open_page())
    assert Submission.objects.get(data_set=ds, unit__code="YZ-LST", period=PERIOD).state == (
        State.SUBMITTED
    )
    approver_batch_approves_and_returns_one(open_page(), others)
    states = dict(
        Submission.objects.filter(data_set=ds, period=PERIOD).values_list("unit__code", "state")
    )
    assert states["YZ-LST"] == State.RETURNED
    assert [states[u.code] for u in others] == [State.APPROVED, State.APPROVED]


def test_the_submit_button_is_on_a_phone_screen_without_scrolling(open_page: OpenPage) -> None:
    open_month()
    page = open_page(PHONE, mobile=True)
    login(page, "lst_reporter")
    page.goto(f"/reporting/forms/YZ-MONTHLY/YZ-LST/{PERIOD}/")
    button = page.get_by_role("button", name="保存并上报")
    box = button.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE[1]
    shoot(page, "phone")


WRAP = """() => {
  const wrap = document.querySelector('.table-wrap');
  const names = Array.from(document.querySelectorAll('table.overview tbody td:first-child a'));
  const line = parseFloat(getComputedStyle(names[0]).lineHeight) || 24;
  return {over: wrap.scrollWidth - wrap.clientWidth,
          lines: Math.max(...names.map(a => Math.round(a.getBoundingClientRect().height / line)))};
}"""


def test_the_overview_fits_an_office_screen(open_page: OpenPage) -> None:
    page = open_page()
    login(page, "yz_approver")
    page.goto("/reporting/overview/YZ-MONTHLY/YZ/201712/")
    fit = page.evaluate(WRAP)
    shoot(page, "overview")
    assert fit["over"] <= 0 and fit["lines"] <= 2, fit
    assert identifiers(page) == []
