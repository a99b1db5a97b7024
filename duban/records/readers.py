"""Reading a file of business records into DuckDB: its format and encoding, its hash, and the
columns it names, in English or in Chinese.

Nothing here touches the database. A CSV is UTF-8 (with or without a byte-order mark) when
every byte of it decodes as UTF-8, else GB18030; DuckDB has no GB18030 decoder offline, so
such a file is transcoded, in chunks, to a temporary UTF-8 copy that DuckDB reads. A Parquet
file is known by its magic bytes (`PAR1`), whatever its name.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.errors import DubanError, Problem

if TYPE_CHECKING:
    import duckdb
    from django.utils.functional import Promise

CHUNK = 1 << 20  # bytes read at a time: hashing, sniffing and transcoding stream the file

# The columns Duban reads, each by its English names and its Chinese one (header cells are
# compared trimmed and case-folded). Every other column goes into the record's attributes.
COLUMNS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "record id", "id", "记录编号", "编号"),
    "unit": ("unit", "unit_code", "unit code", "单位代码", "单位编码"),
    "date": ("date", "occurred_on", "日期", "发生日期"),
    "type": ("type", "type_code", "record_type", "类型", "类型代码"),
    "class": ("class", "grade", "类别", "等级"),
    "quantity": ("quantity", "qty", "数量"),
}
REQUIRED = ("record_id", "unit", "date", "type")
LABELS: dict[str, Promise] = {
    "record_id": gettext_lazy("record number"),
    "unit": gettext_lazy("unit code"),
    "date": gettext_lazy("date"),
    "type": gettext_lazy("record type"),
    "class": gettext_lazy("class"),
    "quantity": gettext_lazy("quantity"),
}
_ALIASES = {alias.casefold(): name for name, aliases in COLUMNS.items() for alias in aliases}


class RecordsError(DubanError):
    """A file of records, or a decision on one, that cannot be carried out; nothing changed."""


@dataclass
class Source:
    """A file as it will be read: where DuckDB finds it (maybe a UTF-8 copy), what it is."""

    path: Path
    name: str
    file_format: str  # csv | parquet
    encoding: str  # utf-8 | utf-8-sig | gb18030 | "" (parquet)
    sha256: str
    size: int
    temporary: list[Path] = field(default_factory=list)

    def close(self) -> None:
        for path in self.temporary:
            path.unlink(missing_ok=True)
        self.temporary.clear()


def open_source(path: Path, name: str) -> Source:
    """Hash the file and tell its format and encoding in one pass; transcode GB18030 to a
    temporary UTF-8 copy (removed by `Source.close`)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    size = 0
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if size == 0:
        raise RecordsError(_("the file is empty"), "file")
    source = Source(path, name, "csv", "", digest.hexdigest(), size)
    if head == b"PAR1":
        source.file_format = "parquet"
        return source
    if utf8:
        with open(path, "rb") as fh:
            source.encoding = "utf-8-sig" if fh.read(3) == codecs.BOM_UTF8 else "utf-8"
        return source
    source.encoding = "gb18030"
    source.path = _transcode(path, source)
    return source


def _transcode(path: Path, source: Source) -> Path:
    fd, name = tempfile.mkstemp(prefix="duban-records-", suffix=".csv")
    target = Path(name)
    source.temporary.append(target)
    decoder = codecs.getincrementaldecoder("gb18030")()
    done = 0
    try:
        with open(path, "rb") as fh, os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            while chunk := fh.read(CHUNK):
                out.write(decoder.decode(chunk))
                done += len(chunk)
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        source.close()
        raise RecordsError(
            _(
                "%(name)s is neither UTF-8 nor GB18030 text (byte %(at)d): save it as UTF-8 CSV, GB18030 CSV or Parquet"
            )
            % {"name": source.name, "at": done + exc.start + 1},
            "file",
        ) from exc
    return target


def load_raw(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    """Read the file into the DuckDB table `raw` (every column text, plus `line`: the row's
    line, the header being line 1; a Parquet row's number from 1) and map its columns.

    Returns Duban's column → the file's column. A missing required column, a column named
    twice or a file DuckDB cannot read is refused at once, naming the file."""
    import duckdb

    path = str(source.path)
    try:
        if source.file_format == "parquet":
            con.execute(
                "CREATE TEMP VIEW file_rows AS SELECT * EXCLUDE (file_row_number), "
                f"file_row_number + 1 AS __line FROM read_parquet({_literal(path)}, "
                "file_row_number = true)"
            )
        else:
            con.execute(
                "CREATE TEMP VIEW file_rows AS SELECT * EXCLUDE (ordinality), "
                f"ordinality + 1 AS __line FROM read_csv({_literal(path)}, header = true, "
                "all_varchar = true, delim = ',', quote = '\"', escape = '\"', comment = '') "
                "WITH ORDINALITY"
            )
        columns = [d[0] for d in con.execute("SELECT * FROM file_rows LIMIT 0").description]
    except duckdb.Error as exc:
        raise unreadable(source, exc) from exc
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for column in columns:
        if column == "__line":
            continue
        name = _ALIASES.get(column.strip().casefold())
        if name is None:
            continue
        if name in mapping:
            problems.append(
                Problem(
                    "file",
                    _("the columns %(a)s and %(b)s both give the %(what)s")
                    % {"a": mapping[name], "b": column, "what": LABELS[name]},
                )
            )
        mapping[name] = column
    for name in REQUIRED:
        if name not in mapping:
            problems.append(
                Problem(
                    "file",
                    _("%(file)s has no column for the %(what)s (headed %(names)s)")
                    % {
                        "file": source.name,
                        "what": LABELS[name],
                        "names": " / ".join(COLUMNS[name][:1] + COLUMNS[name][-2:-1]),
                    },
                )
            )
    if problems:
        raise RecordsError(problems)
    taken = set(mapping.values())
    extras = sorted(c for c in columns if c not in taken and c != "__line")

    def text(column: str | None) -> str:
        if column is None:
            return "NULL::VARCHAR"
        return f"nullif(trim(CAST({_ident(column)} AS VARCHAR)), '')"

    if extras:
        # A JSON object of the non-blank extra cells, spelt out as text: `concat_ws` leaves
        # out the blank ones (NULL), and is a third of the time of building a map (measured).
        pairs = ", ".join(
            f"CASE WHEN {text(c)} IS NULL THEN NULL ELSE "
            f"{_literal(json.dumps(c.strip(), ensure_ascii=False) + ':')} || "
            f"CAST(to_json({text(c)}) AS VARCHAR) END"
            for c in extras
            if c.strip()
        )
        attributes = f"'{{' || concat_ws(',', {pairs}) || '}}'" if pairs else "'{}'"
    else:
        attributes = "'{}'"
    sql = f"""CREATE TEMP TABLE raw AS SELECT __line AS line,
            {text(mapping["record_id"])} AS record_id,
            {text(mapping["unit"])} AS unit_code,
            {text(mapping["date"])} AS date_text,
            {text(mapping["type"])} AS type_code,
            {text(mapping.get("class"))} AS class_text,
            {text(mapping.get("quantity"))} AS quantity_text,
            CAST({attributes} AS VARCHAR) AS attributes
        FROM file_rows"""
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise unreadable(source, exc) from exc
    return mapping


def unreadable(source: Source, exc: Exception) -> RecordsError:
    """The file as a whole cannot be read (not CSV, rows of other lengths than the header):
    refused naming the file, with the first line of DuckDB's own account."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RecordsError(
        _(
            "%(name)s cannot be read as %(format)s (every row needs as many cells as the header): %(error)s"
        )
        % {"name": source.name, "format": source.file_format.upper(), "error": first[:300]},
        "file",
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
