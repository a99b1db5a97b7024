"""Scheme files that are not what they claim are a 400 naming the file (issue 10, items
10-12); names that look like formulas survive the xlsx round trip as text."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from duban.evaluation import services, sheets
from duban.evaluation.models import Scheme, SchemeItem
from duban.evaluation.tests.test_builder import _block, yz_units  # noqa: F401
from duban.orgs.policy import SYSTEM
from duban.spreadsheets import WorkbookError
from duban.testing import PASSWORD, make_user

DTD = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'


def with_doctype(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = DTD + body.split(b"?>", 1)[-1]
            target.writestr(info.filename, body)
    return out.getvalue()


def test_formula_names_come_out_as_text_and_read_back_as_typed(yz_units: None) -> None:  # noqa: F811
    """Category and item names starting with = were live formulas in scheme.xlsx."""
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    category = scheme.categories.order_by("sort_order").first()
    assert category is not None
    category.name_zh = '=HYPERLINK("http://x","y")'
    category.save()
    item = SchemeItem.objects.filter(scheme=scheme).order_by("sort_order").first()
    assert item is not None
    item.name_zh = "@SUM(A1)"
    item.save()
    data = sheets.export_scheme_xlsx(scheme)
    book = load_workbook(io.BytesIO(data))
    assert book["categories"]["B2"].value == '\'=HYPERLINK("http://x","y")'
    assert book["categories"]["B2"].data_type == "s"
    assert book["items"]["D2"].value == "'@SUM(A1)"
    back = sheets.read_workbook(data)
    assert back["categories"][0]["name"]["zh"] == '=HYPERLINK("http://x","y")'
    assert back["items"][0]["name"]["zh"] == "@SUM(A1)"


def test_a_scheme_workbook_with_a_doctype_is_refused(yz_units: None) -> None:  # noqa: F811
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    data = with_doctype(sheets.export_scheme_xlsx(scheme))
    with pytest.raises(WorkbookError) as caught:
        sheets.read_workbook(data)
    assert caught.value.problems[0].where == "file"
    assert "DOCTYPE" in caught.value.problems[0].message


def _office(tree) -> Client:
    make_user("office", tree.province, "office")
    client = Client()
    assert client.login(username="office", password=PASSWORD)
    return client


def test_the_import_page_answers_400_naming_the_file(tree) -> None:
    client = _office(tree)
    r = client.post(
        "/evaluation/import/", {"file": SimpleUploadedFile("s.xlsx", b"PK\x03\x04 not really")}
    )
    assert r.status_code == 400
    assert [p.where for p in r.context["problems"]] == ["file"]
    assert Scheme.objects.count() == 0


@pytest.mark.parametrize("depth", [50, 5000])
def test_a_scheme_yaml_nested_too_deeply_is_a_400(tree, depth: int) -> None:
    """A YAML (so JSON too) scheme of [[[[… was a RecursionError: a 500."""
    client = _office(tree)
    text = "code: " + "[" * depth + "]" * depth
    r = client.post(
        "/api/evaluation/schemes", json.dumps({"yaml": text}), content_type="application/json"
    )
    assert r.status_code == 400
    r = client.post("/evaluation/import/", {"file": SimpleUploadedFile("s.yaml", text.encode())})
    assert r.status_code == 400
    assert Scheme.objects.count() == 0
