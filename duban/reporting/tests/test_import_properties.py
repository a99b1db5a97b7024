"""Properties of the figure importers (CSV, DHIS2 JSON, Excel): whatever the file, an import
either succeeds or is refused with the product's own error (`DubanError`, or the policy's
`PermissionDenied` when every row is out of reach), never another exception; a refusal leaves
the database as it was; and what an export writes, an import reads back as the same figures.

Examples are bounded and derandomised (the same examples on every run, so CI is reproducible)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from duban.errors import DubanError
from duban.orgs.policy import SYSTEM
from duban.periods import parse_period
from duban.reporting import exports, importing, readers
from duban.reporting.tests.conftest import TODAY, db_dump, values_of
from duban.testing import make_user

# Pure readers are fast: more examples; an import through the database, fewer.
READER = settings(max_examples=80, deadline=None, derandomize=True, database=None)
IMPORT = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CODES = ["case.filed", "case.solved", "case.clearance", "poll.score", "crime.gangs", "nope"]
PERIODS = ["201712", "201711", "2017-12", "2017W50", "2017Q4", "2017", "201713", "", "20171"]
UNITS = ["COUNTY-A", "COUNTY-B", "CITY", "STATION-A1", "OTHER", "DIV", ""]
VALUES = ["10", "3", "-1", "0.5", "1e999999999", "NaN", "Infinity", "=1+1", "1,000", "50%"]
VALUES += ["", " ", "是", "true", "\x05", "'=HYPERLINK(1)", "9" * 40]
HEADINGS = ["indicator", "period", "unit", "value", "comment", "dataelement", "orgunit", "pe"]
HEADINGS += [
    "指标代码",
    "统计期",
    "单位代码",
    "数值",
    "说明",
    "状态",
    "指标名称",
    "categoryoptioncombo",
]
HEADINGS += ["attributeoptioncombo", "storedby", "", "bogus", " Value "]

texts = st.text(max_size=12)
cells = st.one_of(
    st.sampled_from(CODES + PERIODS + UNITS + VALUES + ["default", "HllvX50cXC0", "Xyz"]), texts
)


CHINESE = re.compile("[\u4e00-\u9fff]")


def refused_or_fine(read: Callable[[], object]) -> object:
    """The property every importer keeps: a result, or the product's refusal naming where."""
    try:
        return read()
    except DubanError as exc:
        assert exc.problems, "a refusal lists its problems"
        for problem in exc.problems:  # in the user's language (Chinese), naming its place
            assert isinstance(problem.where, str)
            assert CHINESE.search(problem.message), problem
        return exc
    except PermissionDenied:
        return None


# CSV ---------------------------------------------------------------------------------------------


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A header mostly of known columns, rows of plausible or random cells, in one of the
    encodings Excel writes (or a broken one), sometimes with quoting the csv module refuses."""
    required = draw(st.permutations(["indicator", "period", "unit", "value"]))
    extra = draw(st.lists(st.sampled_from(HEADINGS), max_size=3))
    header = (
        list(required) + extra
        if draw(st.booleans())
        else draw(st.lists(st.sampled_from(HEADINGS), max_size=6))
    )
    width = len(header)
    rows = draw(
        st.lists(
            st.lists(cells, min_size=max(width - 1, 0), max_size=width + 1),
            max_size=6,
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):
        text += draw(st.sampled_from(['"unclosed,quote\n', 'a"b,c\n', "\r\n\r\n", "x" * 10]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@given(st.binary(max_size=200))
@READER
@example(b"\xff\xfe\x00")  # neither UTF-8 nor GB18030
@example(b'a,"b\n')  # an unclosed quote
def test_any_bytes_read_as_csv_are_rows_or_a_refusal(data: bytes) -> None:
    refused_or_fine(lambda: readers.read_csv(data))


@given(csv_files())
@READER
def test_a_plausible_csv_is_rows_or_a_refusal(data: bytes) -> None:
    result = refused_or_fine(lambda: readers.read_csv(data))
    if isinstance(result, list):
        assert all(r.where.startswith("line ") for r in result)


# DHIS2 JSON ----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    cells,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
DV_KEYS = [*sorted(readers.DHIS2_KNOWN), "valu", "value"]


@st.composite
def dhis2_documents(draw: st.DrawFn) -> bytes:
    """A dataValueSet with known and unknown keys, values of every JSON type."""
    values = draw(
        st.lists(
            st.one_of(
                st.dictionaries(st.sampled_from(DV_KEYS), json_values, max_size=6),
                st.fixed_dictionaries(
                    {
                        "dataElement": st.sampled_from(CODES),
                        "period": st.sampled_from(PERIODS),
                        "orgUnit": st.sampled_from(UNITS),
                        "value": json_scalars,
                    },
                    optional={"comment": json_scalars, "deleted": st.booleans()},
                ),
                json_values,
            ),
            max_size=5,
        )
    )
    doc: dict[str, Any] = {"dataValues": values}
    for key in ("dataSet", "period", "orgUnit", "attributeOptionCombo"):
        if draw(st.booleans()):
            doc[key] = draw(json_values)
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 4)) == 0:  # truncated
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])))


@given(st.one_of(st.binary(max_size=120), dhis2_documents()))
@READER
@example(b'{"dataValues": [' + b"[" * 5000 + b"]" * 5000 + b"]}")  # nested past any document
@example(b'{"dataValues": [{"value": NaN}]}')
def test_any_json_read_as_dhis2_is_rows_or_a_refusal(data: bytes) -> None:
    refused_or_fine(lambda: readers.read_dhis2_json(data))


# Excel -----------------------------------------------------------------------------------------

xlsx_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.sampled_from(CODES + PERIODS + UNITS + VALUES[:10] + ["=A1", "=1/0"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=8),
)


def save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def meta_workbook(meta_rows: list[list[object]], first: list[object] | None = None) -> bytes:
    """A workbook whose hidden `_duban` sheet holds `first` (the template's kind and version
    by default) and then `meta_rows`."""
    wb = Workbook()
    wb.active.title = readers.DATA_SHEET
    meta = wb.create_sheet(readers.META_SHEET)
    meta.append(first if first is not None else [readers.TEMPLATE_KIND, readers.TEMPLATE_VERSION])
    for row in meta_rows:
        meta.append(row)
    return save(wb)


META_FIRST = [readers.TEMPLATE_KIND, readers.TEMPLATE_VERSION]
meta_rows = st.one_of(
    st.tuples(st.sampled_from(["data_set", "period", "units"]), xlsx_cells),
    st.tuples(st.just("row"), st.one_of(st.integers(-2, 12), xlsx_cells), xlsx_cells, xlsx_cells),
    st.tuples(st.just("row"), st.integers(6, 9)),
    st.lists(xlsx_cells, max_size=4),
)


@st.composite
def workbooks(draw: st.DrawFn) -> bytes:
    """Random sheets: a plain sheet with a (mostly) known header, often a `_duban` meta sheet
    of random rows (mostly behind a right first row), cells of every type openpyxl writes."""
    wb = Workbook()
    ws = wb.active
    ws.title = draw(st.sampled_from(["Data", "Sheet1", "数据"]))
    if draw(st.booleans()):
        ws.append(draw(st.permutations(["indicator", "period", "unit", "value", "comment"])))
    for row in draw(st.lists(st.lists(xlsx_cells, max_size=10), max_size=6)):
        ws.append(row)
    if draw(st.booleans()):
        meta = wb.create_sheet(readers.META_SHEET)
        first = draw(
            st.one_of(st.just(META_FIRST), st.lists(xlsx_cells, max_size=3), st.just(META_FIRST))
        )
        meta.append(first)
        for row in draw(st.lists(meta_rows, max_size=6)):
            meta.append(list(row))
    for name in draw(
        st.lists(st.sampled_from(["Other", "_duban2", "Data2"]), max_size=2, unique=True)
    ):
        wb.create_sheet(name)
    data = save(wb)
    if draw(st.integers(0, 5)) == 0:  # damage a byte
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    return data


@given(st.one_of(workbooks(), st.binary(max_size=80).map(lambda b: b"PK\x03\x04" + b)))
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
# A damaged hidden sheet raised ValueError, IndexError and TypeError (a 500), not a refusal.
@example(meta_workbook([["row", "x", "a", "b"]]))
@example(meta_workbook([["row", 6]]))
@example(meta_workbook([], first=[readers.TEMPLATE_KIND]))
@example(meta_workbook([["row", None, 1, 2]]))
def test_any_workbook_is_rows_or_a_refusal(data: bytes) -> None:
    refused_or_fine(lambda: readers.read_xlsx(data))


def test_a_zip_with_a_broken_workbook_part_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<not xml")
    refused_or_fine(lambda: readers.read_xlsx(out.getvalue()))


# Through the database: a refusal changes nothing --------------------------------------------


@pytest.fixture
def reporter(tree: Any) -> Any:
    from duban.orgs.models import Membership

    user = make_user("feed", tree.county_a, "reporter")
    Membership.objects.create(user=user, unit=tree.county_b, role="reporter")
    return user


def full_state() -> tuple[object, ...]:
    """The figures, forms and audit chain (`db_dump`) and the row count of every table."""
    from django.apps import apps

    counts = tuple((m._meta.label, m._default_manager.count()) for m in apps.get_models())
    return (db_dump(), counts)


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone after it: each example starts from the same database."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def import_keeps_its_promise(data: bytes, fmt: str, user: Any, **kw: Any) -> object:
    with rolled_back():
        before = full_state()
        result = refused_or_fine(
            lambda: importing.import_file(data, fmt, user=user, today=TODAY, **kw)
        )
        if not isinstance(result, importing.WriteResult):
            assert full_state() == before, "a refused import changed the database"
    return result


@st.composite
def mostly_good_csv(draw: st.DrawFn) -> bytes:
    """Figures of the form's two entered indicators, now and then one bad cell: some files
    import, some are refused by the writer's checks (a rule, a range, a closed period)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["indicator", "period", "unit", "value", "comment"])
    for _ in range(draw(st.integers(1, 4))):
        writer.writerow(
            [
                draw(st.sampled_from(["case.filed", "case.solved"])),
                draw(st.sampled_from(["201712", "201712", "201711"])),
                draw(st.sampled_from(["COUNTY-A", "COUNTY-B"])),
                draw(st.one_of(st.integers(0, 50).map(str), st.sampled_from(VALUES))),
                draw(st.sampled_from(["", "说明", "=1"])),
            ]
        )
    return out.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])))


@given(
    st.one_of(mostly_good_csv(), csv_files(), dhis2_documents(), st.binary(max_size=60)),
    st.one_of(st.none(), st.sampled_from(importing.FORMATS), st.text(max_size=4)),
)
@IMPORT
def test_an_import_succeeds_or_changes_nothing(
    form: Any, reporter: Any, data: bytes, fmt: str | None
) -> None:
    """The format as the page sniffs it (None), as chosen, or any text a client sends."""
    import_keeps_its_promise(
        data, importing.sniff_format("", data) if fmt is None else fmt, reporter
    )


@pytest.fixture
def template(form: Any, tree: Any) -> bytes:
    return exports.build_template(
        form.data_set, [tree.county_a], tree.county_a, parse_period("201712")
    )


@given(
    st.dictionaries(
        st.tuples(st.sampled_from("ABCDEFGHIJ"), st.integers(1, 14)), xlsx_cells, max_size=6
    )
)
@IMPORT
def test_a_filled_template_imports_or_changes_nothing(
    form: Any, tree: Any, reporter: Any, template: bytes, cells: dict[tuple[str, int], object]
) -> None:
    """The real template with random cells typed in (values, comments, codes, other rows)."""
    wb = load_workbook(io.BytesIO(template))
    for (col, row), value in cells.items():
        wb["Data"][f"{col}{row}"] = value
    target = (form.data_set, tree.county_a, "201712", [tree.county_a])
    import_keeps_its_promise(save(wb), "xlsx", reporter, form=target)


# Round trips: export → import gives the same figures ----------------------------------------

figures = st.fixed_dictionaries(
    {
        (unit, "case.filed"): st.one_of(st.none(), st.integers(0, 10**6))
        for unit in ("COUNTY-A", "COUNTY-B")
    }
)


def export_bytes(fmt: str, tree: Any, form: Any) -> bytes:
    selection = exports.Selection(tree.city, ("201712",), form.data_set)
    rows = exports.export_rows(selection, SYSTEM)
    if fmt == "csv":
        return "".join(exports.csv_lines(rows)).encode()
    if fmt == "json":
        return json.dumps(exports.dhis2_json(rows)).encode()
    return exports.xlsx_bytes(rows)


@given(figures, st.sampled_from(importing.FORMATS), st.text(max_size=20))
@IMPORT
# The export's computed rows (the clearance rate) were refused on the way back in.
@example({("COUNTY-A", "case.filed"): 10, ("COUNTY-B", "case.filed"): 4}, "csv", "")
@example({("COUNTY-A", "case.filed"): 10, ("COUNTY-B", "case.filed"): None}, "xlsx", "")
def test_an_export_imports_back_as_the_same_figures(
    form: Any,
    tree: Any,
    reporter: Any,
    given_: dict[tuple[str, str], int | None],
    fmt: str,
    note: str,
) -> None:
    """Figures imported, exported, the database put back, the export imported: the same figures."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["indicator", "period", "unit", "value", "comment"])
    for (unit, code), value in given_.items():
        writer.writerow([code, "201712", unit, "" if value is None else value, note])
    units = (tree.county_a, tree.county_b)
    with rolled_back():
        first = refused_or_fine(
            lambda: importing.import_file(
                out.getvalue().encode(), "csv", user=reporter, today=TODAY
            )
        )
        if not isinstance(first, importing.WriteResult):
            return  # a comment the checks refuse (a control character): nothing to round-trip
        stored = {u.code: values_of(u, "201712") for u in units}
        if not any(stored.values()):
            return  # nothing stored, nothing exported
        data = export_bytes(fmt, tree, form)
    with rolled_back():
        importing.import_file(data, fmt, user=reporter, today=TODAY)
        assert {u.code: values_of(u, "201712") for u in units} == stored


@given(
    st.one_of(
        st.text(max_size=30),
        st.integers(480, 520).map(lambda n: "备" * n),
        st.builds(lambda a, n: a * n, st.sampled_from(["x ", "注", "'="]), st.integers(0, 300)),
    )
)
@IMPORT
# A comment past its column's 500 characters was cut to fit, without a word.
@example("备" * 501)
def test_a_comment_is_kept_as_given_or_refused_by_name(
    form: Any, tree: Any, reporter: Any, comment: str
) -> None:
    out = io.StringIO()
    csv.writer(out).writerow(["indicator", "period", "unit", "value", "comment"])
    csv.writer(out).writerow(["case.filed", "201712", "COUNTY-A", "5", comment])
    with rolled_back():
        result = import_keeps_its_promise(out.getvalue().encode(), "csv", reporter)
        if isinstance(result, DubanError):
            # the comment's place (a CSV names the line, a template the cell)
            assert [p.where for p in result.problems] == ["line 2"], result.problems
            assert len(comment.strip()) > 500 or "U+" in result.problems[0].message
            return
        from duban.reporting.models import DataValue
        from duban.spreadsheets import unguard_text

        importing.import_file(out.getvalue().encode(), "csv", user=reporter, today=TODAY)
        stored = DataValue.objects.get(unit=tree.county_a, indicator=form.filed, period="201712")
        assert stored.comment == unguard_text(comment).strip()
