"""In Debian's Chromium: the ledger's Excel export, started from its page, runs in a real
worker; the progress bar moves, then the page ends with the download and stops polling.

The test database is SQLite in memory, which only the connection that made it can see. The
live server's thread already shares the test's connection (pytest-django does that); the
worker's thread is given the same one, as Django gives it to the live server. On PostgreSQL
each thread opens its own connection to the test database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

from duban.core.tests.test_browser import login
from duban.tasks import jobs as ledger_jobs
from duban.tasks.tests.factories import make_task
from duban.testing import make_user
from duban.testing_browser import launch_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Started once per module, before any test's database fixtures: started inside a test,
    Playwright's loop leaves the test's first PostgreSQL connection open behind it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)  # CSP-guarded (duban.testing_browser)
        yield b
        b.close()


def worker_thread() -> threading.Thread:
    """One worker that runs what is queued, then stops (`duban worker --batch`)."""
    shared = connections["default"]
    in_memory = shared.vendor == "sqlite" and shared.is_in_memory_db()
    if in_memory:
        shared.inc_thread_sharing()

    def run() -> None:
        if in_memory:
            connections["default"] = shared
        try:
            Worker(
                queue_names=["*"], interval=0.1, batch=True, backend_name="default",
                startup_delay=False, max_tasks=1, worker_id="browser-test",
                excluded_queue_names=[],
            ).run()  # fmt: skip
        finally:
            if in_memory:
                shared.dec_thread_sharing()
            else:
                connections.close_all()

    return threading.Thread(target=run, daemon=True)


def test_the_ledger_export_shows_its_progress_and_ends_with_the_file(
    live_server, transactional_db, tree, settings, monkeypatch, tmp_path, browser
) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path
    make_user("leader", tree.city, "leader")
    make_task(tree.city, tree.county_a, title="社区警务")
    gate = threading.Event()
    real = ledger_jobs.ledger_xlsx

    def held(*args: Any, **kwargs: Any) -> bytes:
        assert gate.wait(30), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger_jobs, "ledger_xlsx", held)  # step 1 of 2 shows, then waits
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, live_server, "leader")
    page.goto(f"{live_server.url}/tasks/ledger/")
    page.click("form[action='/tasks/ledger.xlsx/background/'] button")
    page.wait_for_url(f"{live_server.url}/jobs/*/")
    assert page.locator("#job-progress[hx-trigger='every 1s']").count() == 1
    worker = worker_thread()
    worker.start()
    page.wait_for_selector(".job-count:text('1 / 2')")
    bar = page.locator("#job-progress progress")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("2", "1")
    assert "已读取 1 项任务" in page.locator(".job-status").inner_text()
    gate.set()
    link = page.wait_for_selector("a:text('下载 ledger-')")
    assert page.locator("#job-progress").get_attribute("hx-trigger") is None, "polling stopped"
    assert page.locator("#job-progress progress").get_attribute("value") == "100"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    worker.join(10)
    assert not worker.is_alive(), "the worker stops when nothing is queued"
    page.close()
