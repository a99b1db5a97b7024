"""Writing many rows at once: PostgreSQL's COPY where the database is PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection


def copy_rows(table: str, columns: str, rows: Iterable[Sequence[Any]]) -> bool:
    """COPY `rows` into `table` (`columns`: its quoted column list) on PostgreSQL, several
    times faster than INSERTs; False on another database (the caller inserts them itself)."""
    with connection.cursor() as cursor:
        raw: Any = getattr(cursor, "cursor", None)
        if connection.vendor != "postgresql" or not hasattr(raw, "copy"):  # psycopg 3 only
            return False
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return True
