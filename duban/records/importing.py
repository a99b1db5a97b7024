"""Checking a file of business records and writing its good rows: the heavy lifting, in DuckDB.

The file is read into DuckDB (`readers.load_raw`), checked there by joins against the units
and record types it names and against the records already held with the same numbers, and
its new rows are written as one Parquet file of the record store (duban.records.store). No
row passes through the ORM or the database, and no Python loop looks at a row, except the
problems being listed.

Each bad row is listed with its line and the field at fault (`Problem`); the words are
chosen when the list is shown, in the reader's language (`describe`).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any

import duckdb
from django.conf import settings
from django.utils.translation import gettext as _

from duban.orgs.models import OrgUnit
from duban.records import store
from duban.records.models import RecordType
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
MAX_RECORD_ID = 64  # characters of a record number (a case system's longest is 23)
LOOKUP = 5_000  # unit codes per lookup query


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


def memory_limit() -> str:
    """DuckDB's memory for an import or a recompute: DUBAN_DUCKDB_MEMORY, or a quarter of
    the machine's memory, at least 1 GB."""
    configured = getattr(settings, "DUBAN_DUCKDB_MEMORY", "")
    if configured:
        return str(configured)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        total = 4 * 1024**3
    return f"{max(1024, total // 4 // 1024**2)}MB"


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # An app server shares its machine: DuckDB takes two threads and spills to disk past
    # its memory limit (DUBAN_DUCKDB_MEMORY, default a quarter of the machine's memory; at
    # 1 GB, ten million records spilled and took 3× as long, measured).
    con.execute("SET threads TO 2")
    con.execute(f"SET memory_limit = '{memory_limit()}'")
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


def _load_held(con: duckdb.DuckDBPyConnection) -> None:
    """The records already held under the file's record numbers, into DuckDB's `held`: a
    semi-join of the record store's files on the file's numbers (only the numbers' column of
    the store is read in full)."""
    con.execute(
        f"""CREATE TEMP TABLE held AS
        SELECT {store.NAMES} FROM {store.relation(store.held_files())}
        WHERE record_id IN (SELECT record_id FROM raw WHERE record_id IS NOT NULL)"""
    )


def _check(con: duckdb.DuckDBPyConnection, scope: str) -> Checked:
    # An ISO date by DuckDB's own cast (a third of the time of trying the formats), the other
    # spellings by the formats.
    formats = "[" + ", ".join(f"'{f}'" for f in DATE_FORMATS) + "]"
    # Record numbers given twice: found by grouping (a hash, cheaper than a window over every
    # row), then numbered among their few rows only.
    con.execute(
        """CREATE TEMP TABLE repeated AS
        SELECT r.line, row_number() OVER (PARTITION BY r.record_id ORDER BY r.line) AS copy_no,
            min(r.line) OVER (PARTITION BY r.record_id) AS first_line
        FROM raw r SEMI JOIN (
            SELECT record_id FROM raw WHERE record_id IS NOT NULL
            GROUP BY record_id HAVING count(*) > 1) twice USING (record_id)"""
    )
    con.execute(
        f"""CREATE TEMP TABLE checked AS
        SELECT r.line, r.record_id, r.unit_code, r.date_text, r.type_code, r.class_text,
            r.quantity_text, r.attributes, u.id AS unit_id, u.path AS unit_path, t.id AS type_id,
            coalesce(try_cast(r.date_text AS DATE),
                CAST(try_strptime(r.date_text, {formats}) AS DATE)) AS occurred_on,
            CASE WHEN r.quantity_text IS NULL THEN CAST(1 AS DECIMAL(18,4))
                 ELSE try_cast(r.quantity_text AS DECIMAL(18,4)) END AS quantity,
            CASE WHEN r.class_text IS NULL THEN '' ELSE g.grade END AS grade,
            coalesce(d.copy_no, 1) AS copy_no, d.first_line
        FROM raw r
        LEFT JOIN units u ON u.code = r.unit_code
        LEFT JOIN types t ON t.code = r.type_code
        LEFT JOIN grades g ON g.alias = lower(r.class_text)
        LEFT JOIN repeated d ON d.line = r.line"""
    )
    # A date outside 1900–2999 is a mistyped one (99999-01-01 casts), never a record's.
    con.execute(
        "UPDATE checked SET occurred_on = NULL "
        "WHERE occurred_on < DATE '1900-01-01' OR occurred_on > DATE '2999-12-31'"
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
    # other content a bad row. Only rows with nothing else wrong are compared, and only the
    # rows whose number is held are looked at (none, for a first import).
    con.execute(
        """CREATE TEMP TABLE compared AS
        SELECT c.line, c.record_id,
            h.type_id = c.type_id AND h.unit_id = c.unit_id
            AND h.occurred_on = c.occurred_on AND coalesce(h.grade, '') = c.grade
            AND h.quantity = c.quantity
            -- The same spelling is the same content; another spelling (keys in another
            -- order, a file of another format) is compared as maps.
            AND CASE WHEN coalesce(h.attributes, '{}') = c.attributes THEN true ELSE
                list_sort(map_entries(CAST(json(coalesce(h.attributes, '{}')) AS MAP(VARCHAR, VARCHAR))))
                = list_sort(map_entries(CAST(json(c.attributes) AS MAP(VARCHAR, VARCHAR))))
            END AS same
        FROM checked c
        JOIN held h ON h.record_id = c.record_id
        ANTI JOIN problems p ON p.line = c.line"""
    )
    con.execute(
        "INSERT INTO problems SELECT line, 'record_id', 'held_other', record_id, NULL "
        "FROM compared WHERE NOT same"
    )
    # The rows to write, as a view: read once, by the write itself (a table of ten million
    # rows more would be written to memory and read back for nothing).
    con.execute(
        """CREATE TEMP VIEW good_new AS
        SELECT c.line, c.record_id, c.type_id, c.unit_id, c.occurred_on, c.grade, c.quantity,
            c.attributes
        FROM checked c
        ANTI JOIN problems p ON p.line = c.line
        ANTI JOIN held h ON h.record_id = c.record_id"""
    )
    read, known, bad = con.execute(
        "SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM compared WHERE same), "
        "(SELECT count(DISTINCT line) FROM problems)"
    ).fetchone() or (0, 0, 0)
    # Every row is bad, already held, or new.
    new = int(read) - int(known) - int(bad)
    order = ", ".join(f"'{f}'" for f in ("record_id", "unit", "date", "type", "class", "quantity"))
    problems = [
        Problem(line, field, kind, value or "", other)
        for line, field, kind, value, other in con.execute(
            f"SELECT line, field, kind, value, other FROM problems "
            f"ORDER BY line, list_position([{order}], field)"
        ).fetchall()
    ]
    return Checked(int(read), new, int(known), int(bad), problems, con)


def write(checked: Checked, import_id: int) -> str:
    """Write the checked file's new rows as the record-store file of import `import_id`;
    returns the file's name, for the import to keep in the caller's transaction."""
    return store.write(
        checked.con,
        "SELECT record_id, type_id, unit_id, occurred_on, grade, quantity, attributes "
        "FROM good_new",
        import_id,
    )
