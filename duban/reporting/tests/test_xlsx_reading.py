"""A plain sheet read by python-calamine imports as it did through openpyxl: a code typed as a
number, a decimal figure exactly, an empty cell as no value, a date refused naming its cell."""

from __future__ import annotations

import gc
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from duban import spreadsheets
from duban.reporting import importing, readers
from duban.reporting.errors import ReportingError
from duban.reporting.importing import cyclic_gc_paused
from duban.reporting.tests.conftest import TODAY, db_dump, values_of
from duban.testing import make_user


@pytest.fixture(params=["calamine", "openpyxl"])
def engine(request, monkeypatch) -> str:
    """Each test runs through both readers: calamine must do what openpyxl did."""

    def opened(data: bytes, **kw: object) -> spreadsheets.Book:
        book = spreadsheets.open_workbook(data, engine=request.param, **kw)  # type: ignore[arg-type]
        assert book.engine == request.param
        return book

    monkeypatch.setattr(readers, "open_workbook", opened)
    return request.param


def sheet(*rows: list[object]) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["indicator", "period", "unit", "value", "comment"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_numbers_codes_and_empty_cells(form, tree, engine) -> None:
    user = make_user("feed", tree.county_a, "reporter")
    data = sheet(
        ["case.filed", 201712, "COUNTY-A", 12, None],  # the period typed as a number
        ["poll.score", "201712", "COUNTY-A", 0.1, "  说明 "],  # a float read through its repr
        ["case.solved", "201712", "COUNTY-A", 7.0, 3],  # a whole float is the whole number
        [None, None, None, None, None],  # an empty row is skipped
    )
    result = importing.import_file(data, "xlsx", user=user, today=TODAY)
    assert (result.rows, result.created) == (3, 3)
    assert values_of(tree.county_a, "201712") == {
        "case.filed": Decimal(12),
        "poll.score": Decimal("0.1"),
        "case.solved": Decimal(7),
    }
    from duban.reporting.models import DataValue

    comments = dict(
        DataValue.objects.filter(unit=tree.county_a).values_list("indicator__code", "comment")
    )
    assert comments == {"case.filed": "", "poll.score": "说明", "case.solved": "3"}


def test_a_date_where_a_figure_belongs_is_named(form, tree, engine) -> None:
    user = make_user("feed", tree.county_a, "reporter")
    before = db_dump()
    with pytest.raises(ReportingError) as caught:
        importing.import_file(
            sheet(["case.filed", "201712", "COUNTY-A", date(2017, 12, 8)]),
            "xlsx",
            user=user,
            today=TODAY,
        )
    assert {p.where: p.message for p in caught.value.problems} == {
        "D2": "case.filed：datetime 类型的内容不是数值"
    }
    assert db_dump() == before


def test_the_collector_pauses_for_an_import_and_resumes_after() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer import still runs
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()  # someone else's pause is theirs to end
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_value_is_refused_naming_its_cell(form, tree) -> None:
    """#N/A pasted as a value is not an empty cell: the figure is not cleared unseen."""
    import zipfile

    data = sheet(["case.filed", "201712", "COUNTY-A", 5])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(
                    b'<c r="D2" t="n"><v>5</v></c>', b'<c r="D2" t="e"><v>#N/A</v></c>'
                )
            target.writestr(info.filename, body)
    user = make_user("feed", tree.county_a, "reporter")
    with pytest.raises(ReportingError) as caught:
        importing.import_file(out.getvalue(), "xlsx", user=user, today=TODAY)
    assert {p.where: p.message for p in caught.value.problems} == {
        "D2": "case.filed：'#N/A' 不是数字"
    }
