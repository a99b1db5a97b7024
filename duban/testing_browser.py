"""The browser tests' harness: Debian's Chromium, a live server with the demo, strict pages.

A test module loads it as a plugin (`pytest_plugins = ["duban.testing_browser"]`, so its
fixtures need no import) and marks itself `pytest.mark.browser`. It gets:

- `browser`: one headless Chromium per test module, launched from Debian's binary with
  `executable_path` (Playwright downloads nothing). Without that binary the tests skip,
  except in CI (`CI=true`), where they fail: CI must run them.
- `demo_site`: a live server with the whole demo (`duban.demo.loader.load_demo`) loaded once
  per test module and flushed after it; cookies not secure, a fast password hasher. The
  first module in a process loads it; the next ones get a copy (`duban.testing_demo`).
- `open_page`: a factory of pages, each in its own browser context (its own cookies) whose
  relative URLs go to `demo_site`. Every console error, page error, failed request, answer
  of 400 or more and request that leaves the server is recorded; the test fails at teardown
  when any was seen, and prints them.
- `login(page, username)` and `shoot(page, name)` (a viewport screenshot saved as
  `test-results/screens/<test>-<name>-<w>x<h>.png`, the CI artefact folder).

Every test guards the Content-Security-Policy: each page of `browser` (and of any Chromium a
test starts itself and passes through `csp_guarded`) reports its `securitypolicyviolation`
events and its console errors that name the policy, and the test fails at teardown when any
was seen — an inline style or handler added later breaks the test that shows its page.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.conf import settings

from duban.demo.loader import DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Playwright
    from pytest_django.live_server_helper import LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]  # fmt: skip
SCREENS = Path(settings.BASE_DIR).parent / "test-results" / "screens"
OFFICE_PC = (1366, 768)
WALL = (1920, 1080)
PHONE = (390, 844)
# Never leave the machine (an intranet has no internet): data: and blob: URLs are the page's own.
LOCAL_SCHEMES = ("data:", "blob:")


# Run in every document before its own scripts: each violation goes to Python at once (a
# binding), so one on a page the test has since left is not lost. The CSP header makes them.
CSP_BINDING = "__dubanCspViolation"
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__dubanCspViolation([e.effectiveDirective, e.blockedURI || "",
    (e.sourceFile || "") + ":" + e.lineNumber, e.sample || "", document.location.href].join(" | "));
});
"""
_CSP_SEEN: list[str] = []  # this test's violations, on any guarded page


def watch_csp(target: Page | BrowserContext, seen: list[str] | None = None) -> None:
    """Record every CSP violation of this page or context into `seen` (this test's list)."""
    record = _CSP_SEEN if seen is None else seen

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            record.append(f"console: {message.text} ({message.location['url']})")

    target.expose_function(CSP_BINDING, lambda text: record.append(f"violation: {text}"))
    target.add_init_script(CSP_LISTENER)
    target.on("console", console)


class CspGuardedBrowser:
    """A Chromium whose every new context and page watches the CSP (see `watch_csp`)."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._contexts: list[BrowserContext] = []

    def new_context(self, **kwargs: Any) -> BrowserContext:
        context = self._browser.new_context(**kwargs)
        watch_csp(context)
        self._contexts.append(context)
        return context

    def new_page(self, **kwargs: Any) -> Page:
        page = self._browser.new_page(**kwargs)
        watch_csp(page)
        self._contexts.append(page.context)
        return page

    def flush(self) -> None:
        """Let each open page deliver the violations still queued (the events are tasks)."""
        if not self._browser.is_connected():
            self._contexts = []
            return
        for context in self._contexts:
            for page in context.pages:
                try:
                    page.evaluate("() => new Promise((done) => setTimeout(done, 0))")
                except Exception:  # a page closing or navigating away has nothing queued
                    continue
        self._contexts = [c for c in self._contexts if c.pages]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


_GUARDED: list[CspGuardedBrowser] = []


def csp_guarded(browser: Browser) -> Browser:
    """`browser`, its pages watched for CSP violations; the test fails at teardown on any."""
    guarded = CspGuardedBrowser(browser)
    _GUARDED.append(guarded)
    return cast("Browser", guarded)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, CSP-guarded: for a test that starts its own."""
    b = playwright.chromium.launch(
        executable_path=chromium_or_skip(), headless=True, args=CHROMIUM_ARGS
    )
    return csp_guarded(b)


@pytest.fixture(autouse=True)
def _no_csp_violation() -> Iterator[None]:
    """Fail the test (at teardown) when a page of a guarded browser broke the policy."""
    _CSP_SEEN.clear()
    yield
    for guarded in list(_GUARDED):
        guarded.flush()
        if not guarded.is_connected():
            _GUARDED.remove(guarded)  # a test's own Chromium, closed by now
    seen, _CSP_SEEN[:] = list(_CSP_SEEN), []
    if seen:
        pytest.fail(
            "the Content-Security-Policy was broken:\n  " + "\n  ".join(seen), pytrace=False
        )


def chromium_or_skip() -> str:
    """Debian's Chromium, or skip the test when absent (a developer's box), never in CI."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module (a second to start), stopped before the next module's.

    Not one per session: Playwright's sync API runs one instance per thread, and the browser
    tests that start their own (`sync_playwright()` in their module) would fail while this one
    lived on. Once they all take this fixture it can be session-wide.
    """
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield csp_guarded(b)
        b.close()


@pytest.fixture(scope="module")
def demo_site(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A live server in front of the whole demo, loaded once for the module's tests.

    The module's tests must not ask for `db`/`transactional_db`/`live_server` (pytest-django
    would flush the database after each test); they share this one, read-mostly, and it is
    flushed at the end of the module so the next module starts empty.
    """
    from django.core.management import call_command
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    from duban.testing_demo import SITE_SETTINGS, load_demo_copy

    with django_db_blocker.unblock(), override_settings(**SITE_SETTINGS):
        load_demo_copy()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield server
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


@dataclass
class Watch:
    """What went wrong on one test's pages, written by Playwright's event handlers."""

    server: str
    test: str
    problems: list[str] = field(default_factory=list)
    off_server: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Listen for every kind of failure the issue names on this page."""
        page.on("console", self._console)
        page.on("pageerror", self._page_error)
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"request failed: {r.method} {r.url} ({r.failure})"),
        )
        page.on("response", lambda r: self._response(r.status, r.request.method, r.url))
        page.on("request", lambda r: self._request(r.url))

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" not in message.text:
            # (a CSP violation is reported by the guard of every test: see watch_csp)
            self.problems.append(f"console error: {message.text} ({message.location['url']})")

    def _response(self, status: int, method: str, url: str) -> None:
        if status >= 400:
            self.problems.append(f"answer {status}: {method} {url}")

    def _request(self, url: str) -> None:
        if not url.startswith(self.server) and not url.startswith(LOCAL_SCHEMES):
            self.off_server.append(url)
            self.problems.append(f"request leaves the server: {url}")


_WATCHES: dict[int, Watch] = {}  # id(page) -> its test's watch, for shoot() and off_server()


def _test_name(node: pytest.Item) -> str:
    """A file-name-safe form of the test's name (parametrised ids included)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name).strip("_")


OpenPage = Callable[..., "Page"]


@pytest.fixture
def open_page(
    browser: Browser, demo_site: LiveServer, request: pytest.FixtureRequest
) -> Iterator[OpenPage]:
    """`open_page(size=OFFICE_PC, mobile=False)`: a fresh, watched page on the demo site."""
    watch = Watch(server=demo_site.url, test=_test_name(request.node))
    contexts: list[BrowserContext] = []

    def factory(size: tuple[int, int] = OFFICE_PC, *, mobile: bool = False) -> Page:
        context = browser.new_context(
            base_url=demo_site.url,
            viewport={"width": size[0], "height": size[1]},
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=1,  # small PNGs; CSS pixels are what the layout sees
            locale="zh-CN",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        _WATCHES[id(page)] = watch
        return page

    yield factory
    for context in contexts:
        for page in context.pages:
            _WATCHES.pop(id(page), None)
        context.close()
    if watch.problems:
        pytest.fail(
            "the pages of this test went wrong:\n  " + "\n  ".join(watch.problems), pytrace=False
        )


def off_server(page: Page) -> list[str]:
    """Every URL this test's pages asked for that was not the live server's, so far."""
    return list(_WATCHES[id(page)].off_server)


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in with the form as a person does: both fields, then Enter in the password field."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not log in"


def shoot(page: Page, name: str) -> Path:
    """Save the viewport (not the full page: small files) as a test artefact."""
    size = page.viewport_size or {"width": 0, "height": 0}
    test = _WATCHES[id(page)].test if id(page) in _WATCHES else "page"
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{test}-{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), type="png")
    return path


def sideways_scroll(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def wait_for_chart(page: Page, scope: str = "") -> None:
    """Wait until ECharts has drawn a canvas inside a `[data-chart]` element."""
    page.locator(f"{scope} [data-chart] canvas".strip()).first.wait_for(state="visible")
