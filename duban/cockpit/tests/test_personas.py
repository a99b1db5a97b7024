"""Issue 12 in a real browser: each persona logs in, lands where he should and clicks down.

Debian's headless Chromium over a live server with the whole demo (duban.testing_browser:
one demo load and one browser for this module). Every page is watched: a
console error, a failed request, an answer of 400 or more or a request that leaves the
server fails the test. Screenshots go to test-results/screens/ (the CI artefacts).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from duban.jobs.tests.test_browser import worker_thread
from duban.testing_browser import (
    PHONE,
    WALL,
    OpenPage,
    Watch,
    login,
    off_server,
    shoot,
    sideways_scroll,
    wait_for_chart,
)

# `django_db`: each test runs in a transaction rolled back at its end (the live server shares
# the connection), so what one test writes never reaches the next; the demo under them is
# loaded once for the module (`demo_site`). `once`: the pages are checked, not SQL (not run
# again on PostgreSQL). `xdist_group`: under `--dist loadgroup` one worker, so one demo load.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("personas"),
]


@pytest.fixture(autouse=True)
def after_the_year() -> None:
    """Not here: the cockpit's other tests stop the clock in January 2018 (conftest), but these
    pages run on the demo as loaded today, with the browser's clock."""


RANK_SENTENCE = re.compile(r"第\s*\d+\s*名")


def cockpit_of(code: str) -> re.Pattern[str]:
    return re.compile(rf"/cockpit/{re.escape(code)}/(\?.*)?$")


def lands_on_cockpit(page: Page, username: str, code: str) -> None:
    """Log in and be where a leader or an office account lands: his unit's cockpit."""
    login(page, username)
    expect(page).to_have_url(cockpit_of(code))
    expect(page.locator("h1")).to_be_visible()
    wait_for_chart(page)


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("yz_leader", "YZ"),  # 局长
        ("yz_office", "YZ"),  # 考评办 of the city
        ("lst_leader", "YZ-LST"),  # 县局局长
        ("sx_leader", "SX"),  # 厅领导
        ("sx_office", "SX"),  # 厅改革办
    ],
)
def test_leaders_and_offices_land_on_their_cockpit(
    open_page: OpenPage, username: str, code: str
) -> None:
    page = open_page()
    lands_on_cockpit(page, username, code)
    assert sideways_scroll(page) <= 0, "an office PC at 1366×768 scrolls sideways"
    shoot(page, "cockpit")


def test_a_reporter_keeps_his_home_page(open_page: OpenPage) -> None:
    page = open_page()
    login(page, "lst_reporter")
    assert "/cockpit/" not in page.url, "a reporter has no cockpit: he lands on his home page"
    shoot(page, "home")


def test_city_leader_clicks_from_the_city_to_a_county_to_an_item_to_its_figures(
    open_page: OpenPage,
) -> None:
    page = open_page()
    lands_on_cockpit(page, "yz_leader", "YZ")
    shoot(page, "city")
    expect(page.locator(".top-sentence").first).to_be_visible()  # who leads, who trails
    # the children's ranking: its table (one click away under the chart) links each county
    ranking = page.locator("figure.chart", has=page.locator("a[href*='/cockpit/YZ-LST/']")).first
    ranking.locator("details.chart-table summary").click()
    ranking.locator("details.chart-table a[href*='/cockpit/YZ-LST/']").first.click()
    expect(page).to_have_url(cockpit_of("YZ-LST"))
    expect(page.locator(".top-sentence").first).to_contain_text(RANK_SENTENCE)
    wait_for_chart(page)
    shoot(page, "county")
    # an item among the shortfalls (短板) leads to its derivation, at its row
    page.locator(".cockpit-list a[href*='/units/YZ-LST/'][href*='#item-']").first.click()
    expect(page).to_have_url(re.compile(r"/evaluation/schemes/[^/]+/units/YZ-LST/.*#item-"))
    expect(page.locator("tr:target")).to_be_visible()
    shoot(page, "derivation")
    # and the item's row to the figures it was computed from
    page.locator("tr:target a[href*='/reporting/']").first.click()
    expect(page).to_have_url(re.compile(r"/reporting/(forms|overview)/[^/]+/YZ-LST/"))
    shoot(page, "figures")


def test_the_rank_sentence_and_a_chart_at_first_sight(open_page: OpenPage) -> None:
    """A county chief sees where he stands in words and a drawn chart, without scrolling."""
    page = open_page()
    lands_on_cockpit(page, "lst_leader", "YZ-LST")
    sentence = page.locator(".top-sentence").first
    expect(sentence).to_contain_text(RANK_SENTENCE)  # 第12名，距第11名差1.07分
    expect(sentence).to_be_in_viewport()
    expect(page.locator("[data-chart] canvas").first).to_be_visible()


def test_cockpit_on_a_phone_has_no_sideways_scroll(open_page: OpenPage) -> None:
    page = open_page(PHONE, mobile=True)
    lands_on_cockpit(page, "yz_leader", "YZ")
    assert sideways_scroll(page) <= 0, "the cockpit scrolls sideways on a 390 px phone"
    shoot(page, "cockpit")
    page.goto("/cockpit/YZ-LST/")
    wait_for_chart(page)
    assert sideways_scroll(page) <= 0, "a county's cockpit scrolls sideways on a phone"
    shoot(page, "county")


def test_cockpit_wall_mode_fills_a_wall_screen(open_page: OpenPage) -> None:
    page = open_page(WALL)
    login(page, "yz_leader")
    page.goto("/cockpit/YZ/wall/")
    wait_for_chart(page)
    assert page.locator("nav.mainnav").count() == 0, "the wall has no navigation"
    assert sideways_scroll(page) <= 0
    shoot(page, "wall")


def test_division_head_sees_his_line_ranked(open_page: OpenPage) -> None:
    """交警支队长: yellow-label vehicles across Yongzhou's bureaus, laggards first."""
    page = open_page()
    login(page, "jj_leader")
    page.goto("/cockpit/lines/")
    expect(page).to_have_url(re.compile(r"/cockpit/lines/traffic/"))
    expect(page.locator("body")).to_contain_text("黄标车")
    wait_for_chart(page)
    shoot(page, "line")
    yellow = page.locator("figure.chart", has_text="黄标车").first
    table = yellow.locator("details.chart-table tbody").text_content() or ""
    assert "冷水滩区" in table, "the county bureaus are ranked by name"
    places = [int(n) for n in re.findall(r"第(\d+)名", table)]
    assert len(places) >= 10, "every bureau of the city has its place"
    assert places == sorted(places, reverse=True), f"laggards first: {places}"


SLIDE_UNIT = "section.slide:not([hidden]) .slide-unit"


def current_slide_unit(page: Page) -> str:
    """The unit name of the slide on screen (the screen shows one slide at a time)."""
    return page.locator(SLIDE_UNIT).inner_text().strip()


def test_meeting_screen_steps_through_three_units_by_keyboard(open_page: OpenPage) -> None:
    from duban.meetings.models import Meeting

    meeting = (
        Meeting.objects.filter(unit__code="YZ", held_on__lte=date.today())
        .order_by("-held_on")
        .first()
    )
    assert meeting is not None, "the demo holds Yongzhou's monthly dispatch meetings"
    page = open_page(WALL)
    login(page, "yz_office")
    page.goto(f"/cockpit/meetings/{meeting.pk}/screen/")
    first = current_slide_unit(page)
    shoot(page, "slide1")
    page.keyboard.press("ArrowRight")
    expect(page.locator(SLIDE_UNIT)).not_to_have_text(first)
    second = current_slide_unit(page)
    page.keyboard.press("PageDown")  # what a presenter's clicker sends
    expect(page.locator(SLIDE_UNIT)).not_to_have_text(second)
    third = current_slide_unit(page)
    shoot(page, "slide3")
    assert len({first, second, third}) == 3, f"three units in turn: {first}, {second}, {third}"
    page.keyboard.press("ArrowLeft")
    expect(page.locator(SLIDE_UNIT)).to_have_text(second)
    assert sideways_scroll(page) <= 0
    below = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
    assert below <= 0, f"a slide on the wall cannot be scrolled: {below}px below the screen"


def test_a_recomputation_shows_its_progress_and_ends_with_a_link(open_page: OpenPage) -> None:
    page = open_page()
    login(page, "yz_office")
    page.goto("/evaluation/schemes/yz-2017/")
    page.locator("form[action*='/recompute/'] button").first.click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}/"))
    expect(page.locator("#job-progress progress")).to_be_visible()
    shoot(page, "progress")
    worker = worker_thread()  # the jobs' tests' worker: runs what is queued, then stops
    worker.start()
    done = page.locator("#job-progress[data-state=done] a[href*='/evaluation/schemes/yz-2017/']")
    expect(done).to_be_visible(timeout=30_000)  # the page polls every second
    shoot(page, "done")
    assert page.locator("#job-progress").get_attribute("hx-trigger") is None, "polling stopped"
    done.click()
    expect(page).to_have_url(re.compile(r"/evaluation/schemes/yz-2017/scores/"))
    worker.join(10)


PAGES = ["/cockpit/YZ/", "/cockpit/YZ-LST/", "/cockpit/YZ/wall/", "/evaluation/", "/meetings/"]


def test_no_request_leaves_the_server(open_page: OpenPage) -> None:
    """The intranet has no internet: every script, style, font and image is the server's."""
    page = open_page()
    login(page, "yz_leader")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert off_server(page) == [], "every asset must come from the server"


def test_the_watch_sees_a_request_that_would_leave(browser: object) -> None:
    """The check above could pass by seeing nothing: show that it sees an outside request."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    watch = Watch(server="http://localhost:1", test="self-check")
    watch.attach(page)
    page.route("http://example.invalid/**", lambda route: route.abort())  # nothing goes out
    page.set_content('<img src="http://example.invalid/logo.png">')
    page.wait_for_timeout(100)
    context.close()
    assert watch.off_server == ["http://example.invalid/logo.png"]
    assert any("request failed" in p for p in watch.problems)


def test_the_reform_office_issues_the_monthly_bulletin_and_a_county_reads_it(
    open_page: OpenPage,
) -> None:
    """Issue 13: draft from the figures, edit a text part, issue; a county downloads it."""
    office = open_page()
    login(office, "sx_office")
    office.goto("/bulletins/new/")
    office.get_by_label("文种").select_option(label="陕西省公安厅改革办公室 · 月度通报")
    office.get_by_label("月份或季度").select_option(label="2017年11月")
    office.get_by_role("button", name="保存").click()
    expect(office.locator("h1").first).to_have_text("修改草稿")
    office.get_by_label("成文日期").fill("2017-12-08")
    office.get_by_label("下步工作要求（每行一段）").fill("（一）全力冲刺黄标车淘汰任务。")
    office.get_by_role("button", name="保存").click()
    expect(office.locator(".doc")).to_contain_text("（一）全力冲刺黄标车淘汰任务。")
    expect(office.locator(".doc")).to_contain_text("全省合计")
    shoot(office, "bulletin-draft")
    office.get_by_role("button", name="签发并发布").click()
    expect(office.locator(".doc-meta")).to_contain_text("陕公改办通〔2017〕2号")
    shoot(office, "bulletin-issued")

    county = open_page()
    login(county, "yt_reporter")
    county.goto("/bulletins/")
    row = county.locator("tr", has_text="陕公改办通〔2017〕2号")
    expect(row).to_contain_text("610000018/2017-00002")
    row.get_by_role("link").click()
    expect(county.locator(".doc")).to_contain_text("（一）全力冲刺黄标车淘汰任务。")
    href = county.get_by_role("link", name="下载 PDF").get_attribute("href")
    assert href is not None
    got = county.request.get(href)  # the county's session; a download aborts no navigation
    assert got.status == 200 and got.headers["content-type"] == "application/pdf"
    assert got.body()[:5] == b"%PDF-"
    shoot(county, "bulletin-county")
