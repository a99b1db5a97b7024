"""Shared test set-up: a small tree and the personas of STYLE.md, made once per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

from duban.testing import make_tree, make_user

# Property tests: no deadline (a loaded machine is slow, not wrong); in CI the same examples
# every run (a red CI names a reproducible case) and no example database to carry over.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

# The browser tests' harness (Chromium, the demo behind a live server, watched pages).
pytest_plugins = ["duban.testing_browser"]


@dataclass
class Tree:
    province: object
    city: object
    county_a: object
    county_b: object
    station_a1: object
    division: object
    other_city: object


@pytest.fixture
def tree(db: None) -> Tree:
    return Tree(**make_tree())


@dataclass
class Personas:
    province_office: object
    city_approver: object
    county_reporter: object
    sibling_reporter: object
    leader: object
    outsider: object
    system_admin: object
    security_admin: object
    audit_admin: object


@pytest.fixture
def personas(tree: Tree) -> Personas:
    return Personas(
        province_office=make_user("prov_office", tree.province, "office"),
        city_approver=make_user("city_approver", tree.city, "approver"),
        county_reporter=make_user("county_reporter", tree.county_a, "reporter"),
        sibling_reporter=make_user("sibling_reporter", tree.county_b, "reporter"),
        leader=make_user("city_leader", tree.city, "leader"),
        outsider=make_user("outsider", tree.other_city, "leader"),
        system_admin=make_user("city_sysadmin", tree.city, "system_admin"),
        security_admin=make_user("city_secadmin", tree.city, "security_admin"),
        audit_admin=make_user("city_auditor", tree.city, "audit_admin"),
    )


# The fixtures through which a test reaches the database (pytest-django's, and so every
# fixture built on them, such as `tree`).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "live_server"}
)


def touches_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With DUBAN_TEST_DATABASE_ONLY=1 (scripts/test's second run, on PostgreSQL) only the
    tests that reach the database run: the others (the engine's properties, the formula
    parser, translations) ran on the first run and would prove nothing new; so would the
    tests marked `once`, which check pages, words or routes, not SQL (the reporting demo's load
    and the crawl stay on both databases), and the browser tests, which check
    what Chromium draws and does (the pages' SQL runs on both through the client tests)."""
    if os.environ.get("DUBAN_TEST_POSTGRES_FOLLOWS") == "1":
        # scripts/test runs PostgreSQL next: the production set-up is tried there, once.
        production = [i for i in items if i.get_closest_marker("production")]
        if production:
            config.hook.pytest_deselected(items=production)
            items[:] = [i for i in items if i not in production]
    if os.environ.get("DUBAN_TEST_DATABASE_ONLY") != "1":
        return
    kept = [
        i
        for i in items
        if touches_database(i)
        and i.get_closest_marker("once") is None
        and i.get_closest_marker("browser") is None
    ]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def _record_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The record store's Parquet files in a folder of this test process, whatever a test does
    to MEDIA_ROOT: the files outlive a test's rolled-back transaction, and the import that
    names each file is what makes it read (duban.records.store)."""
    from django.conf import settings

    settings.DUBAN_RECORD_STORE = str(tmp_path_factory.mktemp("record-store"))


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    """PBKDF2's deliberate slowness is for attackers, not for a test suite of logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _second_factor_not_required(settings) -> None:
    """Most tests sign administrators in with `force_login`, which no second step follows;
    the tests of the second factor (duban/accounts/tests) turn the requirement back on."""
    settings.DUBAN_REQUIRE_SECOND_FACTOR = False


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English, for tests that check the wording of the English msgids."""
    with translation.override("en"):
        yield
