"""Spreadsheets in and out: the one guard every csv and xlsx cell is written through, and
the one opener every uploaded xlsx is read through.

Out: text loses its control characters (XML cannot hold them: one stored ``\\x05`` would
break the export for everyone) and, when a spreadsheet would run it as a formula
(=, +, -, @, tab, carriage return — OWASP's list), gets a leading apostrophe. Numbers,
dates and empty cells pass unchanged, so a negative figure written as a number is not
touched; a writer passes numbers as numbers.

In: `open_workbook` refuses, before any XML is parsed, what is not a workbook, what
unpacks to more than a real upload does (a zip bomb) and any DOCTYPE (entity expansion,
external entities) in a part openpyxl parses; `read_rows` turns what openpyxl raises
while it reads lazily into the same refusal. The DTD scan takes 0.02 s on the
benchmark's 100,000 figures; defusedxml would do the same inside the parser but makes
openpyxl read 2.2 times slower (it swaps in the pure-Python XML parser), so it is not
used (docs/decisions.md).

Plain module at import time (stdlib only): the scoring engine, which has no Django,
writes its CSV through `safe_text`; Django and openpyxl are imported where a workbook
is opened.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from duban.errors import InputError
from duban.text import without_control_characters

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Limits of an uploaded workbook, from the largest real one: the import benchmark's
# 100,000 figures are a 1.7 MB file whose sheet unpacks to 21.9 MB, 13 times its
# compressed size, and openpyxl reads it in 4.9 s (0.22 s per unpacked MB). 64 MiB is
# three such files in one (about 290,000 figures, some 15 s of reading at worst); no
# spreadsheet of figures compresses 100 times, a zip bomb does (hundreds of times).
MB = 1024 * 1024
XLSX_MAX_UNPACKED = 64 * MB
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = MB  # small parts (styles, a theme) may compress as they like
XLSX_MAX_PARTS = 10_000
# Parts openpyxl parses as XML; media (an SVG may carry a DOCTYPE) are never parsed.
XML_PARTS = (".xml", ".rels", ".vml")
# Expat reads UTF-8 (and ASCII, Latin-1) and UTF-16: look for a DTD in each.
_DTD_MARKS = tuple(
    mark.encode(codec)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be")
)
_SCAN_CHUNK = MB
_PLAIN = (int, float, Decimal, date, datetime, time, timedelta)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (makemessages reads this name) without importing
    Django here; `_refuse` translates it when the refusal is raised."""
    return message


class WorkbookError(InputError):
    """An uploaded workbook refused before (or while) it was read; nothing was written."""


def safe_text(text: str) -> str:
    """Text as a spreadsheet cell: control characters removed, a formula neutralised."""
    text = without_control_characters(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_cell(value: object) -> object:
    """What every csv and xlsx cell goes through: numbers, dates, booleans and empty cells
    pass unchanged; anything else is written as `safe_text` of its text."""
    if value is None or isinstance(value, (bool, *_PLAIN)):
        return value
    return safe_text(value if isinstance(value, str) else str(value))


def safe_row(values: Iterable[object]) -> list[object]:
    """`safe_cell` of every value of a row."""
    return [safe_cell(v) for v in values]


def unguard_text(text: str) -> str:
    """A text cell read back from one of our files: the apostrophe `safe_text` put before
    a formula character is dropped, so a name survives an export and re-import."""
    if text[:1] == "'" and text[1:2] and text[1:2] in FORMULA_START:
        return text[1:]
    return text


CANNOT_READ = gettext_noop("the workbook cannot be read: %(reason)s")


def _refuse(where: str, message: str, **params: object) -> WorkbookError:
    from django.utils.translation import gettext

    return WorkbookError(gettext(message) % params, where)


def _check_archive(archive: zipfile.ZipFile, where: str, max_unpacked: int) -> None:
    parts = archive.infolist()
    if len(parts) > XLSX_MAX_PARTS:
        raise _refuse(
            where, gettext_noop("the workbook has %(n)d parts; the limit is %(limit)d"),
            n=len(parts), limit=XLSX_MAX_PARTS,
        )  # fmt: skip
    if "xl/workbook.xml" not in {p.filename for p in parts}:
        raise _refuse(
            where, gettext_noop("the file is a zip archive but not an Excel workbook (.xlsx)")
        )
    unpacked = sum(p.file_size for p in parts)
    if unpacked > max_unpacked:
        raise _refuse(
            where,
            gettext_noop(
                "the workbook unpacks to %(mb)s MB; the limit is %(limit)s MB: "
                "split it into smaller files"
            ),
            mb=f"{unpacked / MB:,.1f}", limit=f"{max_unpacked / MB:,.1f}",
        )  # fmt: skip
    for p in parts:
        if p.file_size > XLSX_RATIO_FROM and p.file_size > XLSX_MAX_RATIO * max(p.compress_size, 1):
            raise _refuse(
                where,
                gettext_noop(
                    "the workbook's part %(part)s unpacks to %(ratio)d times its size; "
                    "no spreadsheet does (at most %(limit)d): the file is refused"
                ),
                part=p.filename, ratio=p.file_size // max(p.compress_size, 1),
                limit=XLSX_MAX_RATIO,
            )  # fmt: skip
    overlap = max(len(m) for m in _DTD_MARKS)
    for p in parts:
        if not p.filename.lower().endswith(XML_PARTS):
            continue
        tail = b""
        with archive.open(p) as stream:
            while chunk := stream.read(_SCAN_CHUNK):
                window = tail + chunk
                if any(mark in window for mark in _DTD_MARKS):
                    raise _refuse(
                        where,
                        gettext_noop(
                            "the workbook's part %(part)s declares a DOCTYPE or entities, "
                            "which no spreadsheet needs: the file is refused"
                        ),
                        part=p.filename,
                    )
                tail = window[-overlap:]


def check_workbook(
    data: bytes, *, where: str = "file", max_unpacked: int = XLSX_MAX_UNPACKED
) -> None:
    """Refuse, naming `where`, an upload that is not an xlsx, unpacks past the limits (from
    the zip's directory: zipfile never unpacks more than a part declares) or declares a
    DTD in a part openpyxl would parse. Reads no XML."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _refuse(where, gettext_noop("the file is not an Excel workbook (.xlsx)")) from None
    try:
        with archive:
            _check_archive(archive, where, max_unpacked)
    except WorkbookError:
        raise
    except Exception as exc:  # a damaged part: bad CRC, unknown compression, truncated data
        raise _refuse(where, CANNOT_READ, reason=exc) from None


def open_workbook(
    data: bytes,
    *,
    where: str = "file",
    data_only: bool = False,
    max_unpacked: int = XLSX_MAX_UNPACKED,
) -> Any:
    """The uploaded workbook, read-only, after `check_workbook`; `WorkbookError` naming
    `where` for anything refused. The caller closes it (read-only workbooks keep the
    archive open) and reads rows through `read_rows`."""
    check_workbook(data, where=where, max_unpacked=max_unpacked)
    from openpyxl import load_workbook

    try:
        return load_workbook(
            io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _refuse(where, CANNOT_READ, reason=exc) from None


def read_rows(sheet: Any, *, where: str = "file", **options: Any) -> Iterator[tuple[Any, ...]]:
    """`sheet.iter_rows(values_only=True, **options)`, with what a read-only sheet raises
    as it parses (damaged XML, an entity) turned into `WorkbookError` naming `where`.
    Only the reading is guarded: an exception of the caller's loop is its own."""
    rows = sheet.iter_rows(values_only=True, **options)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:
            raise _refuse(where, CANNOT_READ, reason=exc) from None
        yield row
