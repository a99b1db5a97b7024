"""The record store: business records as Parquet files, one per applied import, on the shared
file storage; DuckDB reads them.

Records arrive by the ten million and are never changed one by one: a file is checked, and
its new rows are written once, as one immutable Parquet file named on its `RecordImport`
(`stored_as`). Written in DuckDB's own columnar format, a million records take about a
second and 30 MB where PostgreSQL took 40 s and 240 MB with its indexes and foreign keys, and
every reader (the duplicate check of the next import, the record indicators' aggregation)
scans only the columns it needs, on every core, without a round trip per row.

The database stays the one source of truth about *which* records are held: only files named
by applied imports are read, so a file written by a transaction that then failed is never
seen, whatever is on disk. Writes are serialised (`lock`), so two imports cannot both take the
same record number. The store lies under the media folder by default, so the backup and the
several application servers of docs/deployment.md share it with the uploads
(`DUBAN_RECORD_STORE` to put it elsewhere).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from duban.records.readers import RecordsError

if TYPE_CHECKING:
    import duckdb

    from duban.records.models import RecordImport

# The columns of a stored record, as DuckDB types.
COLUMNS = (
    ("record_id", "VARCHAR"),
    ("type_id", "BIGINT"),
    ("unit_id", "BIGINT"),
    ("occurred_on", "DATE"),
    ("grade", "VARCHAR"),
    ("quantity", "DECIMAL(18,4)"),
    ("attributes", "VARCHAR"),
)
NAMES = ", ".join(name for name, _type in COLUMNS)
# The advisory lock key of the writers on PostgreSQL (SQLite's IMMEDIATE transactions are
# already one writer at a time): "duban-records" in ASCII, folded to 63 bits.
LOCK_KEY = 0x647562616E2D7265


_reader: tuple[int, duckdb.DuckDBPyConnection] | None = None
_reader_lock = threading.Lock()


def reader() -> duckdb.DuckDBPyConnection:
    """A cursor of this process's DuckDB, for small reads (a form's proposals, the tests):
    opening a DuckDB costs 20–30 ms, a cursor of an open one well under 1 ms (measured). Made
    again in a forked process: a DuckDB is not to be shared across a fork."""
    global _reader
    import duckdb

    with _reader_lock:
        if _reader is None or _reader[0] != os.getpid():
            con = duckdb.connect(":memory:")
            con.execute("SET threads TO 2")
            con.execute("SET memory_limit = '512MB'")
            _reader = (os.getpid(), con)
        return _reader[1].cursor()


def root() -> Path:
    """Where the files lie: DUBAN_RECORD_STORE, by default `<media>/record-store`."""
    configured = getattr(settings, "DUBAN_RECORD_STORE", None)
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "record-store"


def lock() -> None:
    """Serialise the writers of records until the transaction ends (call inside it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def new_name(import_id: int) -> str:
    """A file name no earlier or failed write has used (a rolled-back id comes back)."""
    return f"import-{int(import_id):09d}-{uuid.uuid4().hex[:12]}.parquet"


def path_of(name: str) -> Path:
    return root() / name


def held_files(imports: Iterable[RecordImport] | None = None) -> list[str]:
    """The files of the applied imports (or of `imports`), oldest first. An applied import
    whose file is missing is an error, never an empty store: its records would vanish
    silently from every figure."""
    from duban.records.models import ImportState, RecordImport

    if imports is None:
        rows = list(
            RecordImport.objects.filter(state=ImportState.APPLIED)
            .exclude(stored_as="")
            .order_by("pk")
            .values_list("pk", "stored_as")
        )
    else:
        rows = [(i.pk, i.stored_as) for i in imports if i.stored_as]
    files = []
    for pk, name in rows:
        path = path_of(name)
        if not path.exists():
            raise RecordsError(
                _("the records of import %(id)s are missing from the record store (%(path)s)")
                % {"id": pk, "path": path},
                "store",
            )
        files.append(str(path))
    return files


def literal(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def relation(files: Sequence[str]) -> str:
    """A FROM clause reading `files` (every held record when they are all the applied
    imports' files), or an empty relation of the same columns when there are none."""
    if not files:
        empty = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in COLUMNS)
        return f"(SELECT {empty} WHERE false)"
    listed = ", ".join(literal(f) for f in files)
    return f"read_parquet([{listed}])"


def create_view(con: duckdb.DuckDBPyConnection, name: str = "records") -> None:
    """The view `name` over every held record, in the connection `con`."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {NAMES} FROM {relation(held_files())}"
    )


def write(con: duckdb.DuckDBPyConnection, select: str, import_id: int) -> str:
    """Write the rows of `select` (the columns of COLUMNS, in that order) as the file of
    import `import_id`; returns its name, to be kept on the import in the same transaction.
    The file is whole or absent: written under a temporary name, then renamed."""
    directory = root()
    directory.mkdir(parents=True, exist_ok=True)
    name = new_name(import_id)
    final = directory / name
    partial = directory / f".{name}.part"
    casts = ", ".join(f"CAST({n} AS {kind}) AS {n}" for n, kind in COLUMNS)
    con.execute(
        f"COPY (SELECT {casts} FROM ({select}) AS given ({NAMES})) TO {literal(str(partial))} "
        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
    )
    os.replace(partial, final)
    return name


def discard(name: str) -> None:
    """Remove a file written by a transaction that did not commit."""
    if name:
        path_of(name).unlink(missing_ok=True)


def write_rows(rows: Sequence[tuple[Any, ...]], import_id: int) -> str:
    """Write a few records given as tuples (COLUMNS' order): the tests and small callers."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(
            "CREATE TABLE given ("
            + ", ".join(f"{n} {'VARCHAR' if k == 'DATE' else k}" for n, k in COLUMNS)
            + ")"
        )
        if rows:
            con.executemany(
                f"INSERT INTO given VALUES ({', '.join(['?'] * len(COLUMNS))})",
                [tuple(None if v is None else str(v) for v in r) for r in rows],
            )
        return write(con, "SELECT * FROM given", import_id)
    finally:
        con.close()


def read(where: str = "true", params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Held records matching a DuckDB condition, by record number: for the tests and the
    commands, never for a page."""
    con = reader()
    try:
        return con.execute(
            f"SELECT {NAMES} FROM {relation(held_files())} WHERE {where} ORDER BY record_id",
            list(params),
        ).fetchall()
    finally:
        con.close()


def read_file(name: str, where: str = "true") -> list[tuple[Any, ...]]:
    """The records of one file matching a DuckDB condition (the tests' helpers)."""
    con = reader()
    try:
        return con.execute(
            f"SELECT {NAMES} FROM {relation([str(path_of(name))])} WHERE {where} ORDER BY record_id"
        ).fetchall()
    finally:
        con.close()


def count() -> int:
    """How many records are held (a Parquet file's footer says it: no row is read)."""
    files = held_files()
    if not files:
        return 0
    con = reader()
    try:
        row = con.execute(f"SELECT count(*) FROM {relation(files)}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()
