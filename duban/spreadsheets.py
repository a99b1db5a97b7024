"""Spreadsheets in and out: the one guard every csv and xlsx cell is written through, and
the one opener every uploaded xlsx is read through.

Out: text loses its control characters (XML cannot hold them: one stored ``\\x05`` would
break the export for everyone) and, when a spreadsheet would run it as a formula
(=, +, -, @, tab, carriage return — OWASP's list), gets a leading apostrophe. Numbers,
dates and empty cells pass unchanged, so a negative figure written as a number is not
touched; a writer passes numbers as numbers.

In: `open_workbook` refuses, before any XML is parsed, what is not a workbook, what
unpacks to more than a real upload does (a zip bomb) and any DOCTYPE (entity expansion,
external entities) in a part a reader parses; then python-calamine (Rust) reads it, 15
times faster than openpyxl, and `read_rows` gives each row as openpyxl's read-only mode
did (None for empty, ints for whole numbers) and turns what the reader raises into the
same refusal. The same scan notes whether a sheet holds a formula: calamine sees only
the value Excel cached, so such a workbook is read by openpyxl, which gives the formula
for the import to refuse. The scan takes 0.02 s on the benchmark's 100,000 figures;
defusedxml would make openpyxl read 2.2 times slower (it swaps in the pure-Python XML
parser), so it is not used (docs/decisions.md).

Plain module at import time (stdlib only): the scoring engine, which has no Django,
writes its CSV through `safe_text`; Django, calamine and openpyxl are imported where a
workbook is opened.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

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
# Parts a reader parses as XML; media (an SVG may carry a DOCTYPE) are never parsed.
XML_PARTS = (".xml", ".rels", ".vml")
# Expat reads UTF-8 (and ASCII, Latin-1) and UTF-16: look for a DTD in each.
_DTD_MARKS = tuple(
    mark.encode(codec)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be")
)
# A cell's formula (<f>...</f>, <f t="shared" .../>, or with a namespace prefix): calamine
# reads only the value Excel cached, so a sheet with one is read by openpyxl, which gives
# the formula's text for the import to refuse naming its cell. Cell text cannot hold a raw
# "<", so "<f" is never text; ":f " in an inline string merely takes the slower reader.
_FORMULA_MARKS = (b"<f>", b"<f ", b"<f/>", b":f>", b":f ", b":f/>")
# An error value (#N/A, #DIV/0!): calamine gives it as an empty cell, which would clear a
# figure without a word; openpyxl gives its text, which the import refuses naming the cell.
_ERROR_MARKS = (b't="e"', b"t='e'")
# Every mark above starts with "<!" in its codec: one pass for these, the marks only on a hit.
_DTD_HINTS = tuple("<!".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
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


class Scan(NamedTuple):
    """What the archive scan saw in the worksheets, besides what it refuses."""

    formulas: bool  # a cell's formula
    errors: bool  # a cell holding an error value


def _check_archive(archive: zipfile.ZipFile, where: str, max_unpacked: int) -> Scan:
    """Refuse what breaks a limit; say whether a worksheet holds a formula or an error."""
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
    overlap = max(len(m) for m in (*_DTD_MARKS, *_FORMULA_MARKS, *_ERROR_MARKS))
    formulas = errors = False
    for p in parts:
        name = p.filename.lower()
        if not name.endswith(XML_PARTS):
            continue
        sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        tail = b""
        with archive.open(p) as stream:
            while chunk := stream.read(_SCAN_CHUNK):
                window = tail + chunk
                if sheet and not formulas and (b"<f" in window or b":f" in window):
                    formulas = any(mark in window for mark in _FORMULA_MARKS)
                if sheet and not errors:
                    errors = any(mark in window for mark in _ERROR_MARKS)
                if any(m in window for m in _DTD_HINTS) and any(m in window for m in _DTD_MARKS):
                    raise _refuse(
                        where,
                        gettext_noop(
                            "the workbook's part %(part)s declares a DOCTYPE or entities, "
                            "which no spreadsheet needs: the file is refused"
                        ),
                        part=p.filename,
                    )
                tail = window[-overlap:]
    return Scan(formulas, errors)


def check_workbook(
    data: bytes, *, where: str = "file", max_unpacked: int = XLSX_MAX_UNPACKED
) -> Scan:
    """Refuse, naming `where`, an upload that is not an xlsx, unpacks past the limits (from
    the zip's directory: zipfile never unpacks more than a part declares) or declares a
    DTD in a part a reader would parse. Reads no XML; says whether a sheet holds a
    formula or an error value."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _refuse(where, gettext_noop("the file is not an Excel workbook (.xlsx)")) from None
    try:
        with archive:
            return _check_archive(archive, where, max_unpacked)
    except WorkbookError:
        raise
    except Exception as exc:  # a damaged part: bad CRC, unknown compression, truncated data
        raise _refuse(where, CANNOT_READ, reason=exc) from None


def _is_panic(exc: BaseException) -> bool:
    """A Rust panic inside calamine reaches Python as pyo3's PanicException, a BaseException
    (not an Exception): on a damaged file it is the reader's failure, not the process's."""
    return type(exc).__name__ == "PanicException"


# Floats that are whole numbers below 2**53 are ints, as openpyxl read "201712" (calamine
# reads every number as a float): a code typed as a number and a whole figure come back
# exactly as before; beyond 2**53 a float cannot tell its digits and stays a float.
_WHOLE = float(2**53)


def cell_value(value: Any) -> Any:
    """One calamine cell as openpyxl gave it: empty is None, 201712.0 is 201712, a date is
    a datetime at midnight. Floats are left as read, so 0.1 is the float of "0.1"."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is float:
        return int(value) if value.is_integer() and -_WHOLE < value < _WHOLE else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


class Sheet:
    """One sheet of an opened upload, by name; read through `read_rows`, which loads it."""

    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self.title = name

    def __repr__(self) -> str:
        return f"<Sheet {self.title!r}>"


class Book:
    """An uploaded workbook opened for reading: every sheet's name (hidden ones too, in the
    workbook's order) and its sheets by name. calamine reads it, or openpyxl (read-only)
    when a sheet holds a formula and the caller wants formulas, not cached values."""

    def __init__(self, reader: Any, names: list[str], engine: str) -> None:
        self._reader = reader
        self.sheetnames = names
        self.engine = engine
        self._closed = False

    def __getitem__(self, name: str) -> Sheet:
        if name not in self.sheetnames:
            raise KeyError(name)
        return Sheet(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self.sheetnames

    @property
    def worksheets(self) -> list[Sheet]:
        return [Sheet(self, name) for name in self.sheetnames]

    @property
    def active(self) -> Sheet:
        """The first sheet (what a reader of one sheet takes)."""
        return Sheet(self, self.sheetnames[0])

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._reader.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workbook(
    data: bytes,
    *,
    where: str = "file",
    data_only: bool = False,
    max_unpacked: int = XLSX_MAX_UNPACKED,
    engine: str | None = None,
) -> Book:
    """The uploaded workbook, after `check_workbook`; `WorkbookError` naming `where` for
    anything refused. The caller closes it and reads rows through `read_rows`.

    Read by python-calamine (Rust; 15 times openpyxl on the import benchmark's sheet). A
    formula's cell is read as Excel cached its value; unless `data_only`, a workbook whose
    sheets hold a formula is read by openpyxl instead, which gives the formula's text (the
    import refuses it naming the cell); so is one holding an error value (#N/A), which
    calamine would give as an empty cell. `engine` ("calamine", "openpyxl") forces one, for
    the benchmark's before and after."""
    scan = check_workbook(data, where=where, max_unpacked=max_unpacked)
    if engine is None:
        slow = scan.errors or (scan.formulas and not data_only)
        engine = "openpyxl" if slow else "calamine"
    if engine == "openpyxl":
        from openpyxl import load_workbook

        try:
            book = load_workbook(
                io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False
            )
        except Exception as exc:  # openpyxl raises many types for damaged files
            raise _refuse(where, CANNOT_READ, reason=exc) from None
        return Book(book, list(book.sheetnames), engine)
    from python_calamine import CalamineWorkbook

    try:
        reader = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(reader.sheet_names)
    except BaseException as exc:
        if isinstance(exc, Exception) or _is_panic(exc):
            raise _refuse(where, CANNOT_READ, reason=exc) from None
        raise
    if not names:  # Excel never saves one: a workbook has at least one sheet
        reader.close()
        raise _refuse(where, gettext_noop("the file is not an Excel workbook (.xlsx)"))
    return Book(reader, names, "calamine")


def read_rows(
    sheet: Sheet, *, where: str = "file", min_row: int = 1, raw: bool = False
) -> Iterator[Sequence[Any]]:
    """The sheet's rows from `min_row` (1 is the first), each a tuple of its cells' values
    from column A, as openpyxl's read-only `iter_rows(values_only=True)` gave them: None for
    an empty cell, int for a whole number, float, str, bool, datetime (a date too), time.
    `raw` leaves them as the reader gives them (calamine: "" for empty, every number a
    float), for a reader that passes the few cells it uses through `cell_value` itself.
    What the reader raises on a damaged sheet becomes `WorkbookError` naming `where`; only
    the reading is guarded: an exception of the caller's loop is its own."""
    book = sheet.book
    if book.engine == "openpyxl":
        rows: Iterator[tuple[Any, ...]] = book._reader[sheet.title].iter_rows(
            values_only=True, min_row=min_row
        )
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise _refuse(where, CANNOT_READ, reason=exc) from None
            yield row
    try:
        # From A1 (skip_empty_area=False), so row and column numbers are the sheet's own.
        grid = book._reader.get_sheet_by_name(sheet.title).to_python(skip_empty_area=False)
    except BaseException as exc:
        if isinstance(exc, Exception) or _is_panic(exc):
            raise _refuse(where, CANNOT_READ, reason=exc) from None
        raise
    first = max(min_row, 1) - 1
    if raw:
        yield from grid[first:] if first else grid
        return
    convert = cell_value
    for number in range(first, len(grid)):
        yield tuple(map(convert, grid[number]))
