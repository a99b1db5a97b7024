"""The database router and read-your-writes (duban/core/dbrouting.py).

The suite has no second server, so a test that needs a replica names one by replacing
`replica_alias`; the router's answers are what is checked (no query is sent to it). The real
standby is exercised by `scripts/replica check`, which .ci/run runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, connections, router, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from duban.accounts.models import User
from duban.core import dbrouting
from duban.core.dbrouting import COOKIE, DubanRouter, ReadReplicaMiddleware

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def replica(monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[str]:
    """A replica configured as `replica` (the alias settings give DATABASE_REPLICA_URL)."""
    monkeypatch.setattr(dbrouting, "replica_alias", lambda: "replica")
    settings.DUBAN_READ_REPLICA = "replica"
    yield "replica"
    dbrouting.resume_replica()


def serve(
    request: HttpRequest, view: Callable[[HttpRequest], HttpResponse]
) -> tuple[HttpResponse, list[str]]:
    """The answer of `view` through the middleware, and where its reads of a Group went."""
    seen: list[str] = []

    def recording(req: HttpRequest) -> HttpResponse:
        seen.append(str(router.db_for_read(Group)))
        response = view(req)
        seen.append(str(router.db_for_read(Group)))
        return response

    return ReadReplicaMiddleware(recording)(request), seen


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def with_cookie(response: HttpResponse, path: str = "/") -> HttpRequest:
    request = RequestFactory().get(path)
    request.COOKIES[COOKIE] = response.cookies[COOKIE].value
    return request


PG = {"ENGINE": "postgresql", "HOST": "10.0.0.1", "PORT": 5432, "NAME": "duban"}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (PG, {**PG, "PORT": "5432"}, True),  # the port as text from a URL
        (PG, {**PG, "PORT": 5433}, False),
        (PG, {**PG, "HOST": "10.0.0.2"}, False),
        (
            {"ENGINE": "sqlite3", "NAME": "a.db"},
            {"ENGINE": "sqlite3", "NAME": "a.db", "HOST": ""},
            True,
        ),
    ],
)
def test_a_mirror_is_the_same_database_another_server_is_not(
    a: dict[str, object], b: dict[str, object], same: bool
) -> None:
    assert dbrouting.same_database(a, b) is same


def test_without_a_replica_the_router_leaves_every_choice_to_django() -> None:
    assert settings.DUBAN_READ_REPLICA == "" or dbrouting.replica_alias() is None
    r = DubanRouter()
    assert r.db_for_read(Group) is None
    assert r.db_for_write(Group) is None
    assert router.db_for_read(Group) == "default"


def test_without_a_replica_the_middleware_sets_no_cookie() -> None:
    response, seen = serve(RequestFactory().post("/"), ok)
    assert COOKIE not in response.cookies
    assert seen == ["default", "default"]


def test_a_replica_alias_that_is_the_primary_itself_is_not_used(settings) -> None:
    settings.DUBAN_READ_REPLICA = "default"  # as a test mirror: the same database
    assert dbrouting.replica_alias() is None
    settings.DUBAN_READ_REPLICA = "elsewhere"  # named but not configured
    assert dbrouting.replica_alias() is None


@pytest.mark.parametrize(("test", "used"), [({}, True), ({"MIRROR": "default"}, False)])
def test_a_replica_on_another_server_is_used_unless_it_is_a_mirror_under_tests(
    settings, monkeypatch: pytest.MonkeyPatch, test: dict[str, str], used: bool
) -> None:
    primary = connections.settings["default"]
    replica = {**primary, "HOST": "10.0.0.2", "PORT": "5432", "TEST": test}
    monkeypatch.setitem(connections.settings, "replica", replica)
    settings.DUBAN_READ_REPLICA = "replica"
    assert dbrouting.replica_alias() == ("replica" if used else None)


def test_the_middleware_sits_after_the_session(settings) -> None:
    order = settings.MIDDLEWARE
    middleware = "duban.core.dbrouting.ReadReplicaMiddleware"
    assert (
        order.index(middleware)
        == order.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    )
    assert settings.DATABASE_ROUTERS == ["duban.core.dbrouting.DubanRouter"]


def test_outside_a_request_reads_go_to_the_primary(replica: str) -> None:
    # Commands, the background worker, services called directly: never cleared for the replica.
    assert router.db_for_read(Group) == "default"
    assert router.db_for_write(Group) == "default"


def test_a_get_reads_the_replica_and_sets_no_cookie(replica: str) -> None:
    response, seen = serve(RequestFactory().get("/cockpit/SX/"), ok)
    assert seen == ["replica", "replica"]
    assert COOKIE not in response.cookies
    assert router.db_for_read(Group) == "default"  # the request is over


def test_writes_go_to_the_primary_inside_a_get(replica: str) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        assert router.db_for_write(Group) == "default"
        return HttpResponse()

    serve(RequestFactory().get("/"), view)


@pytest.mark.parametrize("model", [Session, User])
def test_sessions_stay_on_the_primary_and_accounts_follow_the_request(
    replica: str, model: type
) -> None:
    found: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        found.append(str(router.db_for_read(model)))
        return HttpResponse()

    serve(RequestFactory().get("/"), view)
    assert found == ["default" if model is Session else "replica"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_writing_method_reads_the_primary_and_sets_the_cookie(replica: str, method: str) -> None:
    response, seen = serve(getattr(RequestFactory(), method)("/"), ok)
    assert seen == ["default", "default"]
    cookie = response.cookies[COOKIE]
    assert cookie["max-age"] == settings.DUBAN_READ_YOUR_WRITES_SECONDS
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_after_a_write_the_same_browser_reads_the_primary_for_the_window(
    replica: str, settings
) -> None:
    settings.DUBAN_READ_YOUR_WRITES_SECONDS = 10
    with time_machine.travel(NOW, tick=False) as clock:
        posted, _ = serve(RequestFactory().post("/reporting/"), ok)
        clock.shift(timedelta(seconds=9))
        _, seen = serve(with_cookie(posted), ok)
        assert seen == ["default", "default"]
        clock.shift(timedelta(seconds=2))  # 11 s after the write: past the window
        _, seen = serve(with_cookie(posted), ok)
        assert seen == ["replica", "replica"]


def test_another_browser_is_not_held_on_the_primary(replica: str) -> None:
    serve(RequestFactory().post("/"), ok)
    _, seen = serve(RequestFactory().get("/"), ok)
    assert seen == ["replica", "replica"]


def test_a_forged_cookie_is_ignored(replica: str) -> None:
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE] = "1:forged:signature"
    _, seen = serve(request, ok)
    assert seen == ["replica", "replica"]


@pytest.mark.django_db
def test_a_get_that_writes_reads_the_primary_from_then_on_and_sets_the_cookie(
    replica: str,
) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        Group.objects.create(name="written in a GET")
        return HttpResponse()

    response, seen = serve(RequestFactory().get("/"), view)
    assert seen == ["replica", "default"]
    assert COOKIE in response.cookies


@pytest.mark.django_db
def test_a_read_inside_a_transaction_goes_to_the_primary(replica: str) -> None:
    # The test's own wrapping transaction (pytest-django's) does not count.
    def view(request: HttpRequest) -> HttpResponse:
        before = router.db_for_read(Group)
        with transaction.atomic():
            inside = router.db_for_read(Group)
            with transaction.atomic():
                nested = router.db_for_read(Group)
        after = router.db_for_read(Group)
        return HttpResponse(f"{before} {inside} {nested} {after}")

    response, _ = serve(RequestFactory().get("/"), view)
    assert response.content.decode() == "replica default default replica"
    assert connection.in_atomic_block  # pytest-django's, still open


def test_a_streamed_answer_reads_the_replica_while_it_streams(replica: str) -> None:
    def rows() -> Iterator[str]:
        yield router.db_for_read(Group) + ","
        yield router.db_for_read(Group)

    def view(request: HttpRequest) -> HttpResponse:
        return StreamingHttpResponse(rows())  # type: ignore[return-value]

    response, _ = serve(RequestFactory().get("/export.csv"), view)
    assert isinstance(response, StreamingHttpResponse)
    assert b"".join(response.streaming_content) == b"replica,replica"  # type: ignore[arg-type]
    assert router.db_for_read(Group) == "default"


def test_migrations_never_run_on_the_replica(replica: str) -> None:
    r = DubanRouter()
    assert r.allow_migrate("replica", "reporting") is False
    assert r.allow_migrate("default", "reporting") is None


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ("SELECT 1", False),
        ('  insert into "x" values (1)', True),
        ('UPDATE "x" SET a = 1', True),
        ('DELETE FROM "x"', True),
        ('SELECT * FROM "x" WHERE id = 1 FOR UPDATE', True),
        ("WITH a AS (SELECT 1) SELECT * FROM a", False),
        ("WITH a AS (DELETE FROM x RETURNING *) SELECT * FROM a", True),
        ("SAVEPOINT s1", False),
    ],
)
def test_writing_statements_are_told_from_reads(sql: str, writes: bool) -> None:
    assert dbrouting._is_write(sql) is writes


def test_a_replica_url_adds_a_replica_that_tests_mirror_to_the_primary() -> None:
    # Settings are read once per process: a fresh interpreter with the variable set.
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "r = s.DATABASES['replica']; "
        "print(json.dumps([s.DUBAN_READ_REPLICA, r['HOST'], r['PORT'], r['NAME'], r['TEST']['MIRROR']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "duban.settings",
        "DATABASE_URL": "postgres://duban@10.0.0.1:5432/duban",
        "DATABASE_REPLICA_URL": "postgres://duban@10.0.0.2:5432/duban",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["replica", "10.0.0.2", 5432, "duban", "default"]


def flaky_replica_page(request: HttpRequest) -> HttpResponse:
    where = router.db_for_read(Group)
    if where == "replica":
        raise OperationalError("connection to server at 127.0.0.1, port 5433 failed")
    return HttpResponse(where)


CALLS: list[str] = []


def failing_page(request: HttpRequest) -> HttpResponse:
    CALLS.append(str(router.db_for_read(Group)))
    raise OperationalError("server closed the connection unexpectedly")


urlpatterns = [path("flaky/", flaky_replica_page), path("failing/", failing_page)]


@pytest.mark.django_db
def test_a_page_whose_replica_fails_is_read_on_the_primary_and_the_replica_rests(
    replica: str, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ROOT_URLCONF = __name__
    clock = [1000.0]
    monkeypatch.setattr(dbrouting, "_now", lambda: clock[0])
    answer = Client().get("/flaky/")
    assert (answer.status_code, answer.content) == (200, b"default")
    assert COOKIE not in answer.cookies  # the reader wrote nothing
    # This process now reads the primary without trying the replica first ...
    clock[0] += dbrouting.REPLICA_PAUSE_SECONDS - 1
    _, seen = serve(RequestFactory().get("/"), ok)
    assert seen == ["default", "default"]
    # ... for REPLICA_PAUSE_SECONDS, then tries it again.
    clock[0] += 2
    _, seen = serve(RequestFactory().get("/"), ok)
    assert seen == ["replica", "replica"]


@pytest.mark.django_db
def test_a_page_failing_on_the_primary_is_run_once_and_on_the_replica_retried_once(
    replica: str, settings
) -> None:
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    CALLS.clear()
    assert client.post("/failing/").status_code == 500
    assert CALLS == ["default"]  # its error is its own: not run again
    CALLS.clear()
    assert client.get("/failing/").status_code == 500  # this browser has just written
    assert CALLS == ["default"]
    CALLS.clear()
    assert Client(raise_request_exception=False).get("/failing/").status_code == 500
    assert CALLS == ["replica", "default"]
