"""Issue 14 in a real browser, over the whole demo: the to-do list, its header badge, and a
bulletin read from it (duban.testing_browser: any console error or failed request fails)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from duban.testing_browser import OpenPage, login, shoot
from duban.testing_scan import ascii_identifiers

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("todo"),
]


def badge(page: Page) -> int:
    """The header's count (0 when the badge is not shown)."""
    found = page.locator(".mainnav .todo-link .todo-badge")
    return int(found.inner_text()) if found.count() else 0


def test_a_county_reader_opens_the_bulletin_from_his_to_do_and_the_badge_drops(
    open_page: OpenPage,
) -> None:
    page = open_page()
    login(page, "yt_reporter")
    expect(page.locator(".todo")).to_contain_text("待阅的通报")  # on his home page
    page.locator(".mainnav .todo-link").click()
    expect(page).to_have_url(re.compile(r"/todo/$"))
    before = badge(page)
    assert before >= 1
    assert ascii_identifiers(page.content()) == []
    shoot(page, "todo-reporter")
    expect(page.locator("#todo-read")).to_contain_text("待阅的通报")
    first = page.locator("#todo-read + ul.todo-items a").first
    title = first.inner_text()
    first.click()
    expect(page.locator(".doc")).to_be_visible()
    assert badge(page) == before - 1
    page.goto("/todo/")
    expect(page.locator(".todo")).not_to_contain_text(title)


def test_the_leader_clears_his_to_do(open_page: OpenPage) -> None:
    page = open_page()
    login(page, "sx_leader")
    page.goto("/todo/")
    expect(page.locator("h1")).to_have_text("待办")
    for _ in range(badge(page)):
        page.locator(".todo-item a").first.click()
        page.wait_for_load_state()
        page.goto("/todo/")
    expect(page.locator(".todo-none")).to_have_text("暂无待办：需要您办理的事项都已办完。")
    assert badge(page) == 0
    shoot(page, "todo-leader-clear")
