"""Real pages in Debian's headless Chromium: log in, open the tree, switch language, phone size."""

from __future__ import annotations

import pytest

from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.browser  # `browser`: one Chromium per module (duban.testing_browser)


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit] >> nth=-1")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # home, or a leader's cockpit


@pytest.fixture
def leader(transactional_db, tree):
    return make_user("leader", tree.city, "leader")


def test_login_tree_expand_and_language(browser, live_server, leader, settings) -> None:
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, live_server, "leader")
    assert page.locator("html").get_attribute("lang") == "zh-hans", (
        "Chinese first, whatever the browser says"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"
    page.goto(f"{live_server.url}/orgs/")
    tree_el = page.locator("#tree")
    assert tree_el.locator("li[data-code=CITY]").count() == 1
    assert tree_el.locator("li[data-code=COUNTY-A]").count() == 0
    tree_el.locator("li[data-code=CITY] button.expand").click()  # htmx loads the branch
    page.wait_for_selector("li[data-code=COUNTY-A]")
    assert tree_el.locator("li[data-code=COUNTY-B]").count() == 1
    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Organisation tree"
    off_box = [u for u in requests if not u.startswith(live_server.url)]
    assert off_box == [], "the intranet has no internet: every asset must come from the server"
    page.close()


def test_phone_screen_has_no_sideways_scroll(browser, live_server, leader, settings) -> None:
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    page = browser.new_page(viewport={"width": 375, "height": 740}, is_mobile=True)
    login(page, live_server, "leader")
    for path in ("/", "/orgs/", "/orgs/units/CITY/"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    page.locator("label.nav-toggle-label").click()
    assert page.locator("nav.mainnav").is_visible()
    page.close()
