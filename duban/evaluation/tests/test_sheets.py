"""The xlsx scheme sheet: one row per item, round trip, bad cells named, all or nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from duban.errors import DubanError
from duban.evaluation import engine, services, sheets
from duban.evaluation.builder import scheme_to_engine
from duban.evaluation.models import Scheme
from duban.evaluation.tests.test_builder import _block, yz_units  # noqa: F401
from duban.orgs.policy import SYSTEM


def _rewrite(data: bytes, sheet: str, cell: str, value: object) -> bytes:
    book = load_workbook(io.BytesIO(data))
    book[sheet][cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_round_trip(yz_units: None) -> None:  # noqa: F811
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    data = sheets.export_scheme_xlsx(scheme)
    items = load_workbook(io.BytesIO(data))["items"]
    assert items.max_row == 1 + 12  # one row per item
    copy = sheets.import_scheme_xlsx(_rewrite(data, "scheme", "B1", "yz-copy"), user=SYSTEM)
    a, b = scheme_to_engine(scheme), scheme_to_engine(copy)
    assert b.items == a.items and b.groups == a.groups and b.grades == a.grades
    assert b.calendar == a.calendar and b.categories == a.categories


def test_bad_cells_are_named_and_nothing_is_written(yz_units: None) -> None:  # noqa: F811
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    data = _rewrite(sheets.export_scheme_xlsx(scheme), "scheme", "B1", "yz-copy")
    data = _rewrite(data, "items", "F3", "lots")  # points of the second item
    data = _rewrite(data, "items", "H4", "per_point=abc")  # not a parameter of weighted_count
    with pytest.raises(DubanError) as caught:
        sheets.import_scheme_xlsx(data, user=SYSTEM)
    wheres = [p.where for p in caught.value.problems]
    assert "items!F3" in wheres
    assert Scheme.objects.count() == 1


def test_engine_problem_is_named_by_cell(yz_units: None) -> None:  # noqa: F811
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    data = _rewrite(sheets.export_scheme_xlsx(scheme), "scheme", "B1", "yz-copy")
    data = _rewrite(data, "items", "B2", "nosuch")  # category of the first item
    with pytest.raises(DubanError) as caught:
        sheets.import_scheme_xlsx(data, user=SYSTEM)
    assert [p.where for p in caught.value.problems] == ["items!B2"]


def test_not_a_workbook(db: None) -> None:
    with pytest.raises(DubanError) as caught:
        sheets.import_scheme_xlsx(b"hello", user=SYSTEM)
    assert caught.value.problems[0].where == "file"


def test_text_cells_are_formula_safe(yz_units: None) -> None:  # noqa: F811
    text = _block("example-scheme").replace(
        "rule_text: 按完成率计分，完成任务数得满分", "rule_text: =HYPERLINK(1)"
    )
    scheme = services.import_scheme_yaml(text, user=SYSTEM)
    items = load_workbook(io.BytesIO(sheets.export_scheme_xlsx(scheme)))["items"]
    assert items["P2"].value == "'=HYPERLINK(1)"
    assert engine.parse_scheme(text).items[0].rule_text == "=HYPERLINK(1)"
