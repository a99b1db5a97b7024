"""Checking a file of business records and writing its good rows: the heavy lifting, in DuckDB.

The file is read into DuckDB (`readers.load_raw`), checked there by joins against the units
and record types it names and against the records already held with the same numbers, and
its new rows are written to the database in bulk: COPY on PostgreSQL, one `executemany`
per 50,000 rows on SQLite. No row passes through the ORM, and no Python loop looks at a
row, except the SQLite writer handing DuckDB's batches on and the problems being listed.

Each bad row is listed with its line and the field at fault (`Problem`); the words are
chosen when the list is shown, in the reader's language (`describe`).
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.db import connection
from django.utils.translation import gettext as _

from duban.orgs.models import OrgUnit
from duban.records.models import BusinessRecord, RecordType
from duban.records.readers import LABELS, Source, load_raw

# How a date may be written (the first that reads wins): 2024-01-05, 2024/1/5, 20240105,
# 2024年1月5日, and a time after the date (a case system's timestamp) is ignored.
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
]
# The class of a fugitive (逃犯等级) and its spellings; a blank class is no class.
GRADES = {
    "a": "A",
    "a级": "A",
    "甲": "A",
    "甲级": "A",
    "b": "B",
    "b级": "B",
    "乙": "B",
    "乙级": "B",
    "local": "local",
    "本地": "local",
    "本级": "local",
}
MAX_RECORD_ID = BusinessRecord._meta.get_field("record_id").max_length or 64
BATCH = 50_000  # rows per executemany on SQLite, per DuckDB fetch
SQLITE_CACHE_KIB = -512 * 1024  # SQLite's page cache while writing (negative: KiB), 512 MB
LOOKUP = 5_000  # record numbers or unit codes per lookup query on SQLite


@dataclass(frozen=True)
class Problem:
    """One bad row: its line (a Parquet file's row number), the field at fault, what is wrong
    (`kind`), the value as the file has it, and for a repeated record number its first line."""

    line: int
    field: str
    kind: str
    value: str = ""
    other: int | None = None

    @property
    def field_label(self) -> str:
        return str(LABELS.get(self.field, self.field))

    def as_json(self) -> list[Any]:
        return [self.line, self.field, self.kind, self.value, self.other]

    @classmethod
    def from_json(cls, data: list[Any]) -> Problem:
        line, field, kind, value, other = data
        return cls(int(line), str(field), str(kind), str(value or ""), other)


KINDS = (
    "missing",
    "too_long",
    "repeated",
    "unknown_unit",
    "out_of_scope",
    "bad_date",
    "unknown_type",
    "bad_class",
    "bad_quantity",
    "held_other",
)


def describe(p: Problem) -> str:
    """The problem in words, in the active language."""
    value = {"value": p.value}
    if p.kind == "missing":
        return _("the %(what)s is missing") % {"what": LABELS.get(p.field, p.field)}
    if p.kind == "too_long":
        return _("the record number %(value)s is longer than %(n)d characters") % {
            **value,
            "n": MAX_RECORD_ID,
        }
    if p.kind == "repeated":
        return _("duplicate record number %(value)s: it is also on line %(line)d") % {
            **value,
            "line": p.other or 0,
        }
    if p.kind == "unknown_unit":
        return _("no unit has the code %(value)s") % value
    if p.kind == "out_of_scope":
        return _("the unit %(value)s is outside the units you may import for") % value
    if p.kind == "bad_date":
        return _("%(value)s is not a date (write 2024-01-31)") % value
    if p.kind == "unknown_type":
        return _("no record type has the code %(value)s") % value
    if p.kind == "bad_class":
        return _("%(value)s is not a class (A, B or local; 甲, 乙 or 本地)") % value
    if p.kind == "bad_quantity":
        return _("%(value)s is not a quantity (a number of at least 0)") % value
    if p.kind == "held_other":
        return (
            _("duplicate record number %(value)s: a record already held has it with other content")
            % value
        )
    return p.kind


@dataclass
class Checked:
    """What a file holds once checked: its counts, its bad rows, and the DuckDB connection
    whose table `good_new` holds the rows to write."""

    rows_read: int
    rows_new: int
    rows_known: int
    rows_bad: int
    problems: list[Problem]
    con: duckdb.DuckDBPyConnection

    def close(self) -> None:
        self.con.close()


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # A web worker shares its machine: DuckDB takes two threads and spills past 1 GB.
    con.execute("SET threads TO 2")
    con.execute("SET memory_limit = '1GB'")
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/duban-duckdb'")
    return con


def check(source: Source, *, scope: str) -> Checked:
    """Read and check the file; `scope` is the path of the unit whose subtree it may hold.

    Reads the database (units, types, the records held with the file's numbers) and writes
    nothing: the caller decides, and `write` writes `good_new`."""
    con = connect()
    try:
        load_raw(con, source)
        _load_units(con)
        _load_types(con)
        _load_held(con)
        return _check(con, scope)
    except BaseException:
        con.close()
        raise


def _load_units(con: duckdb.DuckDBPyConnection) -> None:
    """The units the file names (only those: a national tree holds 44,000)."""
    codes = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unit_code FROM raw WHERE unit_code IS NOT NULL"
        ).fetchall()
    ]
    ids: list[int] = []
    found: list[str] = []
    paths: list[str] = []
    for start in range(0, len(codes), LOOKUP):
        for pk, code, path in OrgUnit.objects.filter(
            code__in=codes[start : start + LOOKUP]
        ).values_list("pk", "code", "path"):
            ids.append(pk)
            found.append(code)
            paths.append(path)
    con.execute(
        "CREATE TEMP TABLE units AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS code, "
        "unnest(?::VARCHAR[]) AS path",
        [ids, found, paths],
    )


def _load_types(con: duckdb.DuckDBPyConnection) -> None:
    rows = list(RecordType.objects.filter(is_active=True).values_list("pk", "code"))
    con.execute(
        "CREATE TEMP TABLE types AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS code",
        [[r[0] for r in rows], [r[1] for r in rows]],
    )
    con.execute(
        "CREATE TEMP TABLE grades AS SELECT unnest(?::VARCHAR[]) AS alias, unnest(?::VARCHAR[]) AS grade",
        [list(GRADES), list(GRADES.values())],
    )


HELD_COLUMNS = (
    "record_id VARCHAR, type_id BIGINT, unit_id BIGINT, occurred_on DATE, grade VARCHAR, "
    "quantity DECIMAL(18,4), attributes VARCHAR"
)


def _load_held(con: duckdb.DuckDBPyConnection) -> None:
    """The records already held under the file's record numbers, into DuckDB's `held`."""
    con.execute(f"CREATE TEMP TABLE held ({HELD_COLUMNS})")
    if not BusinessRecord.objects.exists():
        return
    table = connection.ops.quote_name(BusinessRecord._meta.db_table)
    select = (
        "b.record_id, b.record_type_id, b.unit_id, b.occurred_on, b.grade, b.quantity, "
        f"b.attributes FROM {table} b"
    )
    if connection.vendor == "postgresql":
        _held_postgresql(con, select)
        return
    ids = con.execute(
        "SELECT DISTINCT record_id FROM raw WHERE record_id IS NOT NULL AND length(record_id) <= ?",
        [MAX_RECORD_ID],
    )
    # The held rows go through a file: a DuckDB statement run while `ids` is being fetched
    # would end that result.
    with _temp_csv() as held:
        with open(held, "w", encoding="utf-8", newline="") as out, connection.cursor() as cursor:
            writer = csv.writer(out)
            while batch := ids.fetchmany(LOOKUP):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"SELECT {select} WHERE b.record_id IN ({marks})", [r[0] for r in batch]
                )
                writer.writerows(
                    (*row[:6], row[6] if isinstance(row[6], str) else _json(row[6]))
                    for row in cursor.fetchall()
                )
        _read_held(con, held)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _held_postgresql(con: duckdb.DuckDBPyConnection, select: str) -> None:
    """COPY the file's numbers into a temporary table, join, COPY the held rows out."""
    with _temp_csv() as numbers, _temp_csv() as held:
        con.execute(
            f"COPY (SELECT DISTINCT record_id FROM raw WHERE record_id IS NOT NULL AND length(record_id) <= {MAX_RECORD_ID}) "
            f"TO '{numbers}' (FORMAT csv, HEADER false)"
        )
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute(
                "CREATE TEMP TABLE IF NOT EXISTS duban_record_numbers (record_id varchar(64))"
            )
            raw.execute("TRUNCATE duban_record_numbers")
            _copy_in(raw, "COPY duban_record_numbers (record_id) FROM STDIN (FORMAT csv)", numbers)
            # Counted, the planner joins by hash: unanalysed, it guessed few rows and looked each
            # number up in the index (measured: 33 s for a million, against seconds).
            raw.execute("ANALYZE duban_record_numbers")
            with (
                open(held, "wb") as out,
                raw.copy(
                    f"COPY (SELECT {select} JOIN duban_record_numbers n ON n.record_id = b.record_id) "
                    "TO STDOUT (FORMAT csv)"
                ) as copy,
            ):
                for data in copy:
                    out.write(data)
            raw.execute("DROP TABLE duban_record_numbers")
        _read_held(con, held)


def _read_held(con: duckdb.DuckDBPyConnection, held: Path) -> None:
    if held.stat().st_size == 0:
        return
    con.execute(
        f"INSERT INTO held SELECT * FROM read_csv('{held}', header = false, "
        "columns = {'record_id': 'VARCHAR', 'type_id': 'BIGINT', 'unit_id': 'BIGINT', "
        "'occurred_on': 'DATE', 'grade': 'VARCHAR', 'quantity': 'DECIMAL(18,4)', "
        "'attributes': 'VARCHAR'}, delim = ',', quote = '\"', escape = '\"', comment = '')"
    )


def _copy_in(raw: Any, sql: str, path: Path) -> None:
    with open(path, "rb") as fh, raw.copy(sql) as copy:
        while data := fh.read(1 << 20):
            copy.write(data)


@contextlib.contextmanager
def _temp_csv() -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="duban-records-", suffix=".csv")
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _check(con: duckdb.DuckDBPyConnection, scope: str) -> Checked:
    formats = "[" + ", ".join(f"'{f}'" for f in DATE_FORMATS) + "]"
    con.execute(
        f"""CREATE TEMP TABLE checked AS
        SELECT r.line, r.record_id, r.unit_code, r.date_text, r.type_code, r.class_text,
            r.quantity_text, r.attributes, u.id AS unit_id, u.path AS unit_path, t.id AS type_id,
            CAST(try_strptime(r.date_text, {formats}) AS DATE) AS occurred_on,
            CASE WHEN r.quantity_text IS NULL THEN CAST(1 AS DECIMAL(18,4))
                 ELSE try_cast(r.quantity_text AS DECIMAL(18,4)) END AS quantity,
            CASE WHEN r.class_text IS NULL THEN '' ELSE g.grade END AS grade,
            row_number() OVER (PARTITION BY r.record_id ORDER BY r.line) AS copy_no,
            min(r.line) OVER (PARTITION BY r.record_id) AS first_line
        FROM raw r
        LEFT JOIN units u ON u.code = r.unit_code
        LEFT JOIN types t ON t.code = r.type_code
        LEFT JOIN grades g ON g.alias = lower(r.class_text)"""
    )
    con.execute(
        f"""CREATE TEMP TABLE problems AS
        SELECT line, 'record_id' AS field, 'missing' AS kind, '' AS value, NULL::BIGINT AS other
            FROM checked WHERE record_id IS NULL
        UNION ALL SELECT line, 'record_id', 'too_long', record_id, NULL FROM checked
            WHERE length(record_id) > {MAX_RECORD_ID}
        UNION ALL SELECT line, 'record_id', 'repeated', record_id, first_line FROM checked
            WHERE record_id IS NOT NULL AND copy_no > 1
        UNION ALL SELECT line, 'unit', 'missing', '', NULL FROM checked WHERE unit_code IS NULL
        UNION ALL SELECT line, 'unit', 'unknown_unit', unit_code, NULL FROM checked
            WHERE unit_code IS NOT NULL AND unit_id IS NULL
        UNION ALL SELECT line, 'unit', 'out_of_scope', unit_code, NULL FROM checked
            WHERE unit_id IS NOT NULL AND NOT starts_with(unit_path, ?)
        UNION ALL SELECT line, 'date', 'missing', '', NULL FROM checked WHERE date_text IS NULL
        UNION ALL SELECT line, 'date', 'bad_date', date_text, NULL FROM checked
            WHERE date_text IS NOT NULL AND occurred_on IS NULL
        UNION ALL SELECT line, 'type', 'missing', '', NULL FROM checked WHERE type_code IS NULL
        UNION ALL SELECT line, 'type', 'unknown_type', type_code, NULL FROM checked
            WHERE type_code IS NOT NULL AND type_id IS NULL
        UNION ALL SELECT line, 'class', 'bad_class', class_text, NULL FROM checked
            WHERE grade IS NULL
        UNION ALL SELECT line, 'quantity', 'bad_quantity', quantity_text, NULL FROM checked
            WHERE quantity IS NULL OR quantity < 0""",
        [scope],
    )
    # A number already held: the same content is a record already held (nothing to do),
    # other content a bad row. Only rows with nothing else wrong are compared.
    con.execute(
        """CREATE TEMP TABLE compared AS
        SELECT c.line, c.record_id, h.record_id IS NOT NULL AS held,
            CASE WHEN h.record_id IS NULL THEN false ELSE
                h.type_id = c.type_id AND h.unit_id = c.unit_id
                AND h.occurred_on = c.occurred_on AND coalesce(h.grade, '') = c.grade
                AND h.quantity = c.quantity
                AND list_sort(map_entries(CAST(json(coalesce(h.attributes, '{}')) AS MAP(VARCHAR, VARCHAR))))
                    = list_sort(map_entries(CAST(json(c.attributes) AS MAP(VARCHAR, VARCHAR))))
            END AS same
        FROM checked c
        LEFT JOIN held h ON h.record_id = c.record_id
        WHERE NOT EXISTS (SELECT 1 FROM problems p WHERE p.line = c.line)"""
    )
    con.execute(
        "INSERT INTO problems SELECT line, 'record_id', 'held_other', record_id, NULL "
        "FROM compared WHERE held AND NOT same"
    )
    con.execute(
        """CREATE TEMP TABLE good_new AS
        SELECT c.line, c.record_id, c.type_id, c.unit_id, c.occurred_on, c.grade, c.quantity,
            c.attributes
        FROM checked c JOIN compared k ON k.line = c.line WHERE NOT k.held"""
    )
    read, new, known = con.execute(
        "SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM good_new), "
        "(SELECT count(*) FROM compared WHERE held AND same)"
    ).fetchone() or (0, 0, 0)
    order = ", ".join(f"'{f}'" for f in ("record_id", "unit", "date", "type", "class", "quantity"))
    problems = [
        Problem(line, field, kind, value or "", other)
        for line, field, kind, value, other in con.execute(
            f"SELECT line, field, kind, value, other FROM problems "
            f"ORDER BY line, list_position([{order}], field)"
        ).fetchall()
    ]
    bad = len({p.line for p in problems})
    return Checked(int(read), int(new), int(known), bad, problems, con)


def write(checked: Checked, import_id: int) -> int:
    """Write the checked file's new rows as records of import `import_id`, in bulk, inside
    the caller's transaction. Returns how many were written."""
    table = connection.ops.quote_name(BusinessRecord._meta.db_table)
    names = [
        "record_id",
        "record_type",
        "unit",
        "occurred_on",
        "grade",
        "quantity",
        "attributes",
        "source",
    ]
    fields = {f.name: f for f in BusinessRecord._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(str(fields[n].column)) for n in names)
    select = (
        "SELECT record_id, type_id, unit_id, CAST(occurred_on AS VARCHAR), grade, "
        f"CAST(quantity AS VARCHAR), attributes, {int(import_id)} FROM good_new ORDER BY line"
    )
    if connection.vendor == "postgresql":
        with _temp_csv() as path:
            checked.con.execute(f"COPY ({select}) TO '{path}' (FORMAT csv, HEADER false)")
            with connection.cursor() as cursor:
                _copy_in(cursor.cursor, f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)", path)
        return checked.rows_new
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    result = checked.con.execute(select)
    with connection.cursor() as cursor:
        # The record-type index takes rows in no order: with SQLite's default 2 MB page cache
        # a million rows thrash it (measured: 85 s for 1 M against 2.3 s for 100 k). A larger
        # cache for the write, then back.
        cursor.execute("PRAGMA cache_size")
        row = cursor.fetchone()
        cache = int(row[0]) if row else -2000
        cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
        try:
            while batch := result.fetchmany(BATCH):
                cursor.executemany(sql, batch)
        finally:
            cursor.execute(f"PRAGMA cache_size = {cache}")
    return checked.rows_new
