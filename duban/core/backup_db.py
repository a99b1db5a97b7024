"""The database half of `duban backup` and `duban restore`, for the configured connection.

SQLite is copied with its online backup API (page by page, consistent, while the server
runs); PostgreSQL with `pg_dump --format=custom` inside an exported snapshot, so the chain
head and migrations written to the manifest are read from exactly the state that was dumped.
A PostgreSQL restore runs the dump and the removal of the old tables in one transaction:
it succeeds whole or leaves the database as it was.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from duban.audit.models import AuditHead

SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"


class DatabaseToolError(Exception):
    """pg_dump, pg_restore or psql failed; the message holds the tool's own words."""


@dataclass(frozen=True)
class Dumped:
    vendor: str
    filename: str  # the file's name in the archive
    head: dict[str, Any]  # the audit chain head: count, last_entry_id, last_hash, mac
    migrations: list[str]  # every applied migration, "app.name"
    tools: str  # pg_dump's and the server's versions (PostgreSQL), else ""


def vendor() -> str:
    return connection.vendor


def dump(folder: Path) -> Dumped:
    """Write the configured database into `folder`."""
    if connection.vendor == "sqlite":
        return _dump_sqlite(folder / SQLITE_FILE)
    if connection.vendor == "postgresql":
        return _dump_postgres(folder / POSTGRES_FILE)
    raise DatabaseToolError(f"no backup for the {connection.vendor} database")


def _read_state(
    query: Callable[[str], Iterable[tuple[Any, ...]]],
) -> tuple[dict[str, Any], list[str]]:
    head_table = AuditHead._meta.db_table
    migration_table = MigrationRecorder.Migration._meta.db_table
    rows = list(query(f"SELECT count, last_entry_id, last_hash, mac FROM {head_table}"))
    count, last_id, last_hash, mac = rows[0] if rows else (0, 0, "0" * 64, "")
    head = {"count": count, "last_entry_id": last_id, "last_hash": last_hash, "mac": mac}
    migrations = [f"{a}.{n}" for a, n in query(f"SELECT app, name FROM {migration_table}")]
    return head, sorted(migrations)


def _dump_sqlite(path: Path) -> Dumped:
    connection.ensure_connection()
    source = connection.connection
    target = sqlite3.connect(path)
    try:
        source.backup(target)
        # One self-contained file: the copy inherits WAL mode from the live database.
        target.execute("PRAGMA journal_mode=DELETE")
        head, migrations = _read_state(lambda sql: target.execute(sql).fetchall())
    finally:
        target.close()
    return Dumped("sqlite", SQLITE_FILE, head, migrations, "")


def pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for the client tools: no password on a command line."""
    env = dict(os.environ)
    for var, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def _run(args: list[str], env: dict[str, str], **kwargs: Any) -> str:
    pipes: dict[str, Any] = {"stderr": subprocess.PIPE}
    if "stdout" not in kwargs:
        pipes["stdout"] = subprocess.PIPE
    try:
        done = subprocess.run(args, env=env, text=True, check=False, **pipes, **kwargs)
    except FileNotFoundError:
        raise DatabaseToolError(f"{args[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise DatabaseToolError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout or ""


def _dump_postgres(path: Path) -> Dumped:
    import psycopg

    settings_dict = connection.settings_dict
    env = pg_environment(settings_dict)
    with psycopg.connect("", **_libpq(settings_dict)) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
        server = conn.execute("SHOW server_version").fetchone()
        assert snapshot is not None and server is not None
        head, migrations = _read_state(lambda sql: conn.execute(sql).fetchall())
        # The transaction stays open while pg_dump reads its snapshot.
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot[0]}", "--file", str(path)],
            env,
        )
        conn.rollback()
    client = _run(["pg_dump", "--version"], env).strip()
    return Dumped("postgresql", POSTGRES_FILE, head, migrations, f"{client}; server {server[0]}")


def _libpq(settings_dict: dict[str, Any]) -> dict[str, Any]:
    params = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    return {k: v for k, v in params.items() if v}


def is_empty() -> bool:
    """Whether the configured database holds no tables yet."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if not name.startswith("file:") and not Path(name).exists():
            return True
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def sqlite_target() -> Path:
    return Path(str(connection.settings_dict["NAME"]))


def check_sqlite(path: Path) -> str:
    """SQLite's own integrity check of a file before it replaces the database: 'ok' or why."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        db.close()
    return "; ".join(str(r[0]) for r in rows)


def restore_postgres(dump_file: Path, work: Path, *, replace: bool) -> str:
    """Load a custom-format dump into the configured database in one transaction; with
    `replace` the old tables are dropped in that same transaction. Returns the client's and
    server's versions (a pg_restore older than the dump's pg_dump cannot read it)."""
    settings_dict = connection.settings_dict
    env = pg_environment(settings_dict)
    script = work / "restore.sql"
    with script.open("w", encoding="utf-8") as f:
        if replace:
            f.write("DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
        f.flush()
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", "--file", "-", str(dump_file)],
            env,
            stdout=f,
        )
    connection.close()
    _run(
        ["psql", "-X", "-q", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--single-transaction",
         "--file", str(script)],
        env,
    )  # fmt: skip
    script.unlink()
    client = _run(["pg_restore", "--version"], env).strip()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    return f"{client}; server {row[0] if row else '?'}"
