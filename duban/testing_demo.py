"""The demo for tests, loaded once per test process and copied for each later test that asks.

`load_demo_copy(...)` gives the database the same rows `duban.demo.loader.load_demo(...)` would
write: the first call in a process (an xdist worker) runs the loader and keeps what it wrote,
table by table; a later call with the same arguments, the same settings and the same day
(or, under `time_machine`, the same frozen instant) from the same starting database writes
those rows back instead of loading again (a fraction of a second against the loader's 40 s
on SQLite and longer on PostgreSQL). From any other starting database — a test that made
rows of its own first — it runs the loader. It works inside a test's transaction (`db`) and
outside one (a module's fixture), on SQLite and PostgreSQL.

What differs from a fresh load: timestamps written by the loader come from the first load
(the same day), and primary keys are the first load's (sequences are moved past them); the
random salt of the shared password hash is the first load's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import LazyObject

from duban.demo.loader import DemoAccount, load_demo

Rows = list[tuple[Any, ...]]

# The settings under which the demo behind a page-walking test is loaded (`demo_site`, the
# crawl): cookies over plain HTTP and a fast password hasher. One set, so that the browser
# modules and the crawl share one load per process.
SITE_SETTINGS: dict[str, Any] = {
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


@dataclass(frozen=True)
class _Snapshot:
    counts_before: dict[str, int]
    rows_before: dict[str, Rows]  # the tables the loader wrote to, before it
    columns: dict[str, list[str]]
    rows_after: dict[str, Rows | bytes]  # bytes: PostgreSQL's COPY text
    accounts: list[DemoAccount]


_SNAPSHOTS: dict[tuple[Any, ...], _Snapshot] = {}


def load_demo_copy(*, activity: bool = True, today: date | None = None) -> list[DemoAccount]:
    """`load_demo(activity=..., today=...)`, copied from this process's first such load."""
    key = _key(activity, today)
    snapshot = _SNAPSHOTS.get(key)
    tables = _tables()
    if snapshot is not None:
        with transaction.atomic():
            if _matches(snapshot, tables):
                _restore(snapshot)
                return list(snapshot.accounts)
    counts = _counts(tables)
    before = {t: _select(t) for t in tables if counts[t]}
    accounts = load_demo(activity=activity, today=today)
    counts_after = _counts(tables)
    written = [
        t for t in tables if counts_after[t] != counts[t] or (counts[t] and _select(t) != before[t])
    ]
    _SNAPSHOTS[key] = _Snapshot(
        counts_before=counts,
        rows_before={t: before.get(t, []) for t in written},
        columns={t: _columns(t) for t in written},
        rows_after={t: _copy_out(t) if _postgres() else _select(t, ordered=False) for t in written},
        accounts=list(accounts),
    )
    return accounts


def _key(activity: bool, today: date | None) -> tuple[Any, ...]:
    import time_machine

    # Every setting, so that a test that changes one (a hasher, a flag) gets its own load.
    every_setting = repr(
        sorted((k, _plain(getattr(settings, k))) for k in dir(settings) if k.isupper())
    )
    clock = timezone.now() if time_machine.escape_hatch.is_travelling() else timezone.localdate()
    return (
        activity,
        today,
        clock,
        connection.vendor,
        connection.settings_dict["NAME"],
        hashlib.sha256(every_setting.encode()).hexdigest(),
    )


def _plain(value: Any) -> str:
    # A lazy setting's repr names the function that has not run yet; its value does not.
    return repr(str(value)) if isinstance(value, LazyObject) else repr(value)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _tables() -> list[str]:
    return sorted(connection.introspection.table_names(include_views=False))


def _quoted(table: str) -> str:
    return connection.ops.quote_name(table)


def _counts(tables: Sequence[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        select = ", ".join(f"(SELECT COUNT(*) FROM {_quoted(t)})" for t in tables)
        cursor.execute(f"SELECT {select}")
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def _select(table: str, *, ordered: bool = True) -> Rows:
    """The table's rows, in a stable order (by every column, NULLs and all) when `ordered`."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {_quoted(table)}")
        rows = cursor.fetchall()
    if not ordered:
        return [tuple(r) for r in rows]
    return sorted((tuple(r) for r in rows), key=lambda r: tuple((v is None, repr(v)) for v in r))


def _copy_out(table: str) -> bytes:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY is PostgreSQL's bulk path
        chunks = []
        with raw.copy(f"COPY {_quoted(table)} TO STDOUT") as copy:
            for chunk in copy:
                chunks.append(bytes(chunk))
    return b"".join(chunks)


def _matches(snapshot: _Snapshot, tables: Sequence[str]) -> bool:
    """Whether the database is where the first load started from: the same tables, as many
    rows in each, and the same rows in each table the loader writes to."""
    if sorted(snapshot.counts_before) != list(tables):
        return False
    if _counts(tables) != snapshot.counts_before:
        return False
    return all(_select(t) == rows for t, rows in snapshot.rows_before.items() if rows)


def _restore(snapshot: _Snapshot) -> None:
    """Replace the rows of each table the loader wrote to with what it left there (inside the
    caller's transaction: the foreign keys are deferred, so the order does not matter)."""
    with connection.cursor() as cursor:
        for table, rows in snapshot.rows_after.items():
            cursor.execute(f"DELETE FROM {_quoted(table)}")
            columns = ", ".join(_quoted(c) for c in snapshot.columns[table])
            if isinstance(rows, bytes):
                with cursor.cursor.copy(f"COPY {_quoted(table)} ({columns}) FROM STDIN") as copy:
                    copy.write(rows)
            elif rows:
                marks = ", ".join(["%s"] * len(rows[0]))
                cursor.executemany(
                    f"INSERT INTO {_quoted(table)} ({columns}) VALUES ({marks})", rows
                )
        if _postgres():
            written = set(snapshot.rows_after)
            models = [
                m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in written
            ]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
