"""Every csv and xlsx the site serves goes through the spreadsheet guard (issue 10, items 9-10).

Names, titles and comments hold formula payloads and a control character stored behind the
application's back; every export route is fetched and its file opened: no cell may start
with a formula character unescaped, no xlsx cell may be a formula, and none may hold a
control character. The routes are found from the URL conf (pages and the API alike): a view
whose source speaks of csv or xlsx is an export and must be covered here, or listed as not
one, so a new export cannot slip past the guard.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from duban.evaluation import services as evaluation
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Category, Publication, Scheme, SchemeItem
from duban.indicators.models import Indicator
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting.models import State
from duban.reporting.tests.conftest import make_form, put_figure
from duban.spreadsheets import FORMULA_START
from duban.tasks.models import Task
from duban.tasks.tests.factories import make_task
from duban.testing import PASSWORD
from duban.text import CONTROL_CHARACTERS

HYPERLINK = '=HYPERLINK("http://x","y")'
PAYLOADS = (HYPERLINK, "+1", "-1", "@SUM(A1)")
CONTROL = "\x05"
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")

# The export routes, each with the URLs that fetch its files for the world built below.
COVERED: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "reporting/export/": lambda w: [
        f"/reporting/export/?unit=CITY&start=201712&end=201712&children=on&format={f}"
        for f in ("csv", "xlsx")
    ],
    "reporting/forms/<str:ds>/<str:unit>/<str:period>/template.xlsx": lambda w: [
        "/reporting/forms/CITY-M/COUNTY-A/201712/template.xlsx",
        "/reporting/forms/CITY-M/CITY/201712/template.xlsx?children=1",
    ],
    "api/reporting/forms/<ds>/<unit>/<period>/template.xlsx": lambda w: [
        "/api/reporting/forms/CITY-M/COUNTY-A/201712/template.xlsx",
        "/api/reporting/forms/CITY-M/CITY/201712/template.xlsx?children=true",
    ],
    "api/reporting/values": lambda w: [
        f"/api/reporting/values?unit=CITY&period=201712&format={f}" for f in ("csv", "xlsx")
    ],
    "evaluation/schemes/<str:code>/scheme.xlsx": lambda w: [
        "/evaluation/schemes/t-2017/scheme.xlsx"
    ],
    "evaluation/schemes/<str:code>/scores/": lambda w: [
        f"/evaluation/schemes/t-2017/scores/?period=2017Q1&format={f}" for f in ("csv", "xlsx")
    ],
    "evaluation/schemes/<str:code>/reconciliation/": lambda w: [
        f"/evaluation/schemes/t-2017/reconciliation/?period=2017Q1&format={f}"
        for f in ("csv", "xlsx")
    ],
    "evaluation/publications/<int:pk>/results.<str:fmt>": lambda w: [
        f"/evaluation/publications/{w['publication']}/results.{f}" for f in ("csv", "xlsx")
    ],
    "tasks/ledger.xlsx": lambda w: ["/tasks/ledger.xlsx"],
    "api/tasks/ledger.xlsx": lambda w: ["/api/tasks/ledger.xlsx"],
    "api/orgs/tree.<fmt>": lambda w: ["/api/orgs/tree.csv"],
}
# Views whose source speaks of csv or xlsx without serving one.
NOT_EXPORTS = {
    "evaluation/import/": "the scheme upload page (reads an xlsx)",
    "records/": "the business records' upload page (reads a CSV or Parquet file)",
}
FILE_WORDS = re.compile(r"csv|xlsx|spreadsheetml", re.IGNORECASE)


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _routes(p, route)
        elif isinstance(p, URLPattern):
            yield route, p.callback


def _get_views(callback: Any) -> list[Any]:
    """The functions behind a route: a page's view, or an API path's GET operations (ninja
    keeps them on the PathView its URL callback closes over)."""
    cells = getattr(callback, "__closure__", None) or ()
    path_view = next(
        (c.cell_contents for c in cells if hasattr(c.cell_contents, "operations")), None
    )
    if path_view is None:
        return [callback]
    return [op.view_func for op in path_view.operations if "GET" in op.methods]


def export_routes() -> set[str]:
    """Every route (page or API) whose view's source mentions csv or xlsx."""
    found = set()
    for route, callback in _routes(get_resolver()):
        if route.startswith("admin/"):
            continue
        for view in _get_views(callback):
            try:
                source = inspect.getsource(inspect.unwrap(view))
            except (OSError, TypeError):
                continue
            if FILE_WORDS.search(source):
                found.add(route)
    return found


def test_every_export_route_is_walked() -> None:
    found = export_routes()
    assert found - set(COVERED) - set(NOT_EXPORTS) == set(), "a new export: cover it below"
    assert set(COVERED) - found == set(), "a covered route is gone or no longer an export"


def _rename(model: type[Any], text: str, **where: Any) -> None:
    """Store text behind the application's back, as data written before the input check."""
    assert model.objects.filter(**where).update(**{"name_zh": text}) == 1


@pytest.fixture
def world(tree: Any, personas: Any) -> dict[str, Any]:
    names = {"county_a": HYPERLINK, "county_b": "+1", "station_a1": "-1", "city": "@SUM(A1)"}
    for attr, name in names.items():
        unit = getattr(tree, attr)
        unit.name_zh = name
        unit.save()
    make_form(tree, expiry_days=0)
    _rename(Indicator, "-1", code="case.filed")
    _rename(Indicator, f"@SUM(A1){CONTROL}", code="case.solved")
    # Placed as given (the writer's fixture path checks no text): a comment with a control
    # character stands for one stored behind the application's back.
    for unit, comment in ((tree.county_a, HYPERLINK), (tree.county_b, f"备注{CONTROL}x")):
        filed = Indicator.objects.get(code="case.filed")
        put_figure(unit, filed, "201712", 5, State.DRAFT, comment)
    for code, agg in (("t.solved", "sum"), ("t.poll", "last")):
        Indicator.objects.create(
            code=code, name_zh=code, value_type="decimal", issuer=tree.province,
            time_aggregation=agg,
        )  # fmt: skip
    from duban.evaluation.tests.conftest import put, scheme_data

    data = scheme_data()
    data["name"] = "=SUM(1)"
    data["groups"][0]["name"] = "-1"
    data["categories"][0]["name"] = "+1"
    data["items"][0]["name"] = HYPERLINK
    data["items"][1]["rule_text"] = "@SUM(A1)"
    data["grades"] = [
        {"code": "good", "name": "=优秀", "min": Decimal(60)},
        {"code": "rest", "name": "-其他", "min": Decimal(0)},
    ]
    scheme = evaluation.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    evaluation.publish_scheme(scheme, user=SYSTEM)
    for unit, value in (("COUNTY-A", 30), ("COUNTY-B", 20), ("STATION-A1", 10)):
        put(unit, "t.solved", "201701", value)
        put(unit, "t.poll", "201703", value + 60)
    publication = evaluation.publish_results(
        scheme, "2017Q1", user=SYSTEM, objection_deadline=date(2030, 1, 1)
    )
    _rename(Category, f"业务{CONTROL}", scheme=scheme)
    _rename(SchemeItem, f"民调{CONTROL}", scheme=scheme, code="poll")
    _rename(Scheme, f"=SUM(1){CONTROL}", pk=scheme.pk)
    make_task(tree.city, tree.county_a, title=HYPERLINK, responsible="@SUM(A1)")
    task = make_task(tree.city, tree.county_b, title="推进", responsible="-1")
    Task.objects.filter(pk=task.pk).update(title=f"推进{CONTROL}工作")
    _rename(OrgUnit, f"省{CONTROL}厅", pk=tree.province.pk)
    return {"publication": Publication.objects.get(pk=publication.pk).pk}


def _csv_cells(body: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]


def _xlsx_cells(body: bytes) -> list[tuple[str, Any]]:
    """(where, value) of every cell of every sheet, hidden ones too; formulas marked."""
    book = load_workbook(io.BytesIO(body))
    out = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                where = f"{sheet.title}!{cell.coordinate}"
                if cell.data_type == "f":
                    out.append((where, ("formula", cell.value)))
                else:
                    out.append((where, cell.value))
    return out


def _faults(cells: list[tuple[str, Any]], *, text_numbers: bool) -> list[str]:
    faults = []
    for where, value in cells:
        if isinstance(value, tuple):
            faults.append(f"{where} is a formula: {value[1]!r}")
            continue
        if not isinstance(value, str):
            continue
        if CONTROL_CHARACTERS.search(value):
            faults.append(f"{where} holds a control character: {value!r}")
        if value.startswith(FORMULA_START) and not (text_numbers and PLAIN_NUMBER.match(value)):
            faults.append(f"{where} starts with a formula character: {value!r}")
        if value in PAYLOADS:
            faults.append(f"{where} is a payload as it was typed: {value!r}")
    return faults


def test_every_export_escapes_formulas_and_drops_control_characters(world: Any) -> None:
    client = Client()
    assert client.login(username="prov_office", password=PASSWORD)
    faults: list[str] = []
    for route, urls in sorted(COVERED.items()):
        for url in urls(world):
            response = client.get(url)
            kind = response.headers.get("Content-Type", "")
            assert response.status_code == 200, f"{url}: {response.status_code}"
            body = b"".join(response) if response.streaming else response.content
            if "csv" in kind:
                # CSV has no types: a plain number is a number, not a formula.
                cells = [(f"{url} cell {i}", c) for i, c in enumerate(_csv_cells(body))]
                faults += _faults(cells, text_numbers=True)
            else:
                assert "spreadsheetml" in kind, f"{url}: {kind}"
                cells = _xlsx_cells(body)
                faults += [f"{url} {f}" for f in _faults(cells, text_numbers=False)]
            texts = [v for _, v in cells if isinstance(v, str)]
            assert any(v.startswith(("'=", "'+", "'-", "'@")) for v in texts), (
                f"{route}: no payload reached {url}, so the walk proves nothing there"
            )
    assert faults == []
