"""Walk the demo as its people do: no page answers 5xx, no page links to one its reader
may not open (a link to a 403 leaks what lies outside the reader's units), and no Chinese page
shows an ASCII identifier outside a code column (`duban.testing_scan`)."""

from __future__ import annotations

import re
from collections import deque

import pytest
from django.test import Client, override_settings

from duban.testing_demo import SITE_SETTINGS, load_demo_copy
from duban.testing_scan import ascii_identifiers

PEOPLE = ["yz_office", "lst_reporter", "sx_office", "yz_auditor"]
PAGES_EACH = 160
SKIP = ("/static/", "/admin/", "/accounts/logout", "/accounts/language")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # Under the browser modules' settings (a fast hasher: the crawl signs in with
    # force_login), so that it shares their load of the demo in this process.
    with django_db_blocker.unblock(), override_settings(**SITE_SETTINGS):
        load_demo_copy()
    yield
    with django_db_blocker.unblock():
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.xdist_group("crawl")  # one demo load for the four people
@pytest.mark.django_db
@pytest.mark.parametrize("username", PEOPLE)
def test_every_linked_page_opens(demo, username: str) -> None:
    from duban.accounts.models import User

    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    seen: set[str] = set()
    queue: deque[tuple[str, str]] = deque([("/", "")])
    wrong: list[str] = []
    english: dict[str, set[str]] = {}
    while queue and len(seen) < PAGES_EACH:
        url, linked_from = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)  # "/" sends leaders and offices to their cockpit
        if response.status_code >= 500 or response.status_code in (403, 404):
            wrong.append(f"{url} → {response.status_code} (linked from {linked_from})")
            continue
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        # The API's documentation is OpenAPI's own page, for programmers: not scanned.
        scanned = not url.startswith("/api/")
        if scanned and (found := ascii_identifiers(response.content.decode())):
            english.setdefault(response.request["PATH_INFO"], set()).update(found)
        for href in re.findall(r'href="(/[^"#]*)"', response.content.decode()):
            href = href.replace("&amp;", "&")
            if not href.startswith(SKIP) and href not in seen:
                queue.append((href, url))
    assert len(seen) > 10
    assert wrong == []
    assert english == {}
