"""Reads from a PostgreSQL streaming replica, writes to the primary, and read-your-writes.

`DubanRouter` (settings.DATABASE_ROUTERS) sends every write and every migration to
``default``, the primary. A read goes to the replica (settings.DUBAN_READ_REPLICA, the alias
of DATABASE_REPLICA_URL) only when all of these hold; otherwise it goes to the primary:

- it happens inside a web request that `ReadReplicaMiddleware` cleared for the replica: a
  GET, HEAD or OPTIONS from a browser that has not written in the last
  DUBAN_READ_YOUR_WRITES_SECONDS (a signed cookie says when it did), and the request itself
  has not written yet. Commands, the background worker and anything outside a request run
  with the primary: the context variable below starts at "primary" and only the middleware
  sets it otherwise, for the length of the request (and of a streamed answer's chunks);
- the primary has no transaction open (`transaction.atomic` on default): a read inside a
  write path sees that write path's own rows and takes its locks, never a replica's older rows;
- the model is not one of DUBAN_PRIMARY_APPS: sessions, sign-in lockouts, second factors and
  the job queue are small per-request reads whose staleness would sign someone out, let a
  locked account in, or show a finished job as waiting;
- the replica is another database than the primary, and not a test mirror (TEST {"MIRROR":
  "default"}) while tests run: a mirror would not see the test's uncommitted rows.
- the replica has not failed in this process in the last REPLICA_PAUSE_SECONDS (a page whose
  replica read fails is run once more on the primary: `ReadReplicaMiddleware.process_exception`).

The cookie (stateless, signed with the secret key and timestamped by Django's signer) is what
makes read-your-writes work across several application servers: whichever server answers the
next page reads it and sends that reader to the primary until the window has passed.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.models import Model
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

log = logging.getLogger(__name__)

COOKIE = "duban_primary"
COOKIE_SALT = "duban.core.dbrouting.read-your-writes"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CTE_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b")
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE")

# After the replica failed, this process reads the primary for this long before trying it again.
REPLICA_PAUSE_SECONDS = 30.0
_replica_paused_until = 0.0
_now = time.monotonic  # a test replaces it

# True only while a request that may read from the replica runs; False (the primary) in every
# other context: commands, the worker, tests that call services directly, a request that wrote.
_replica_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "duban_replica_allowed", default=False
)


def same_database(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two connection settings reach one database (a test mirror reaches its
    primary's: same engine, host, port and name)."""
    keys = ("ENGINE", "HOST", "PORT", "NAME")
    return all(str(a.get(k) or "") == str(b.get(k) or "") for k in keys)


def _test_environment() -> bool:
    """Whether Django's test environment is set up (its runner's, or pytest-django's)."""
    utils = sys.modules.get("django.test.utils")  # never imported outside tests
    return utils is not None and hasattr(utils._TestState, "saved_data")


_UNKNOWN = ("", False)
_configured: tuple[str, bool] | None = _UNKNOWN  # (alias, is a test mirror); None: no replica


def _configured_replica() -> tuple[str, bool] | None:
    """The replica's alias as settings configure it (computed once; settings rarely move)."""
    global _configured
    if _configured is _UNKNOWN:
        alias: str = getattr(settings, "DUBAN_READ_REPLICA", "")
        configured = connections.settings
        if (
            not alias
            or alias not in configured
            or same_database(configured[alias], configured[DEFAULT_DB_ALIAS])
        ):
            _configured = None
        else:
            _configured = (alias, bool((configured[alias].get("TEST") or {}).get("MIRROR")))
    return _configured


@receiver(setting_changed)
def _settings_moved(*, setting: str, **kwargs: Any) -> None:
    global _configured
    if setting in ("DUBAN_READ_REPLICA", "DATABASES"):
        _configured = _UNKNOWN


def replica_alias() -> str | None:
    """The replica's alias when one is configured and is not the primary itself.

    Under tests the replica is a mirror of the primary (settings give it TEST {"MIRROR":
    "default"}), and Django points a mirror at the primary's test database by name only — on
    the replica's server, where the test's uncommitted rows are not: it is not used then.
    """
    found = _configured_replica()
    if found is None:
        return None
    alias, mirror = found
    if mirror and _test_environment():
        return None
    return alias


def in_write_transaction() -> bool:
    """Whether the primary has a transaction open (not counting a test case's own wrapping
    atomic blocks, which stand for no write path). Never opens a connection."""
    conn = connections[DEFAULT_DB_ALIAS]
    if not conn.in_atomic_block:
        return False
    return any(not getattr(block, "_from_testcase", False) for block in conn.atomic_blocks)


def _replica_now() -> bool:
    """Whether this moment's reads may go to a configured replica."""
    return _replica_allowed.get() and _now() >= _replica_paused_until and not in_write_transaction()


def reads_from_replica() -> bool:
    """Whether a read made now, of a model not kept on the primary, goes to the replica."""
    return replica_alias() is not None and _replica_now()


def pause_replica(seconds: float = REPLICA_PAUSE_SECONDS) -> None:
    """Read the primary in this process for a while (the replica has just failed)."""
    global _replica_paused_until
    _replica_paused_until = _now() + seconds


def resume_replica() -> None:
    global _replica_paused_until
    _replica_paused_until = 0.0


class DubanRouter:
    """Writes and migrations on the primary; reads on the replica when `reads_from_replica`.

    With no replica configured it answers None everywhere: Django's own choice, unchanged.
    """

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        replica = replica_alias()
        if replica is None:
            return None
        if model._meta.app_label in settings.DUBAN_PRIMARY_APPS or not _replica_now():
            return DEFAULT_DB_ALIAS
        return replica

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS if replica_alias() is not None else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read from one may point at one
        # read from the other.
        both = {DEFAULT_DB_ALIAS, getattr(settings, "DUBAN_READ_REPLICA", "") or DEFAULT_DB_ALIAS}
        if obj1._state.db in both and obj2._state.db in both:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == getattr(settings, "DUBAN_READ_REPLICA", "") and db != DEFAULT_DB_ALIAS:
            return False  # a hot standby is read-only; it gets the tables by replication
        return None


def _is_write(sql: str) -> bool:
    head = sql.lstrip().upper()
    if head.startswith("WITH"):  # a data-modifying CTE; a false alarm only costs the replica
        return _CTE_WRITE.search(head) is not None
    return head.startswith(_WRITE_VERBS) or (head.startswith("SELECT") and "FOR UPDATE" in head)


class _WriteWatch:
    """An execute wrapper on the primary: notes a writing statement and from then on sends
    the rest of the request's reads to the primary too."""

    def __init__(self) -> None:
        self.wrote = False

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not self.wrote and _is_write(sql):
            self.wrote = True
            _replica_allowed.set(False)
        return execute(sql, params, many, context)


def window_seconds() -> int:
    return int(settings.DUBAN_READ_YOUR_WRITES_SECONDS)


def wrote_recently(request: HttpRequest) -> bool:
    """Whether this browser wrote within the window (its signed cookie is valid and young)."""
    found = request.get_signed_cookie(
        COOKIE, default=None, salt=COOKIE_SALT, max_age=window_seconds()
    )
    return found is not None


def _replica_chunks(chunks: Iterable[Any]) -> Iterator[Any]:
    """A streamed answer's chunks, each produced with the replica allowed, as the request
    that began it was (the middleware has returned before the first chunk is made)."""
    it = iter(chunks)
    while True:
        token = _replica_allowed.set(True)
        try:
            chunk = next(it)
        except StopIteration:
            return
        finally:
            _replica_allowed.reset(token)
        yield chunk


class ReadReplicaMiddleware:
    """Clears a safe request of a reader who has not just written for the replica, watches
    the request for writes, and marks a browser that wrote with the signed cookie.

    Placed after SessionMiddleware, so the session's own save on the way out (an idle
    timestamp) is not taken for the reader's write. Does nothing without a replica.

    A view that fails with a database error while it may read the replica (the replica is
    down, or cancelled a query in conflict with its replay) is run once more on the primary,
    and when the replica's own connection failed this process leaves it alone for
    REPLICA_PAUSE_SECONDS: a replica that goes away costs one retried page, not an outage.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if replica_alias() is None:
            return self.get_response(request)
        unsafe = request.method not in SAFE_METHODS
        allowed = not unsafe and not wrote_recently(request)
        watch = _WriteWatch()
        token = _replica_allowed.set(allowed)
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(watch):
                response = self.get_response(request)
        finally:
            _replica_allowed.reset(token)
        if unsafe or watch.wrote:
            response.set_signed_cookie(
                COOKIE,
                "1",
                salt=COOKIE_SALT,
                max_age=window_seconds(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        elif allowed and isinstance(response, StreamingHttpResponse) and not response.is_async:
            response.streaming_content = _replica_chunks(response.streaming_content)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError) or not reads_from_replica():
            return None
        alias = replica_alias()
        replica_failed = alias is not None and (
            alias not in connections.settings or connections[alias].errors_occurred
        )
        if replica_failed:
            pause_replica()
            if alias in connections.settings:
                connections[alias].close()
        log.warning(
            "replica read failed, page read on the primary",
            extra={"path": request.path, "error": str(exception).splitlines()[0][:200]},
        )
        _replica_allowed.set(False)  # the middleware's own reset restores it after the request
        match = request.resolver_match
        if match is None:
            return None
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response
