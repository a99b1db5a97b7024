"""Issue 14 in a real browser: the office edits a rule through the form and sees the what-if.

The city's evaluation office (yz_office) copies the demo scheme as a what-if, opens an item,
changes its rule in the form (the sentence follows as he types), saves and compares. No
console error, no failed request (the harness), no ASCII identifier outside code columns.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from duban.testing_browser import OpenPage, login, shoot
from duban.testing_scan import ALLOWED, ascii_identifiers

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("evaluation-rules"),
]

#: the header shows the signed-in account (base.html)
SEEN = ALLOWED | {"yz_office"}


def test_the_office_edits_a_rule_through_the_form_and_sees_the_what_if(
    open_page: OpenPage,
) -> None:
    page = open_page()
    login(page, "yz_office")
    page.goto("/evaluation/schemes/yz-2017/")
    expect(page.locator("h1")).to_contain_text("永州市公安局2017年度绩效考评方案")
    assert ascii_identifiers(page.content(), SEEN) == []
    page.get_by_role("button", name="模拟测算副本").click()
    page.wait_for_url("**/evaluation/schemes/yz-2017-whatif/")
    row = page.locator("tr", has_text="违纪违法案件")
    row.get_by_role("link", name="编辑").click()
    page.wait_for_url("**/items/team.discipline/edit/")
    preview = page.locator("#rule-preview")
    expect(preview).to_contain_text("每发生1起扣5分")
    assert ascii_identifiers(page.content(), SEEN) == []
    field = page.get_by_label("每发生1起扣（分）")
    field.fill("1")
    expect(preview).to_contain_text("每发生1起扣1分，15分扣完为止")
    shoot(page, "item-form")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/evaluation/schemes/yz-2017-whatif/")
    expect(page.locator("tr", has_text="违纪违法案件")).to_contain_text("每发生1起扣1分")
    page.get_by_role("link", name="与原方案对比").click()
    page.wait_for_url("**/compare/**")
    expect(page.locator("table tbody tr").first).to_be_visible()
    expect(page.locator("#id_period")).to_be_visible()
    assert ascii_identifiers(page.content(), SEEN) == []
    shoot(page, "what-if")
