"""The kinds of work the pages start: a large values import, and the ledger as Excel."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from duban.jobs.models import Job, State
from duban.reporting.tests.conftest import db_dump, make_form, values_of
from duban.tasks.tests.factories import make_task
from duban.testing import logged_in

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
GOOD = (
    b"indicator,period,unit,value\ncase.filed,201712,COUNTY-A,10\ncase.solved,201712,COUNTY-A,7\n"
)
BAD = b"indicator,period,unit,value\ncase.filed,201712,COUNTY-A,11\ncase.solved,201712,COUNTY-A,lots\n"


@pytest.fixture
def background(settings, tmp_path):
    """Every upload goes to the worker, which runs at once (the immediate backend)."""
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path
    settings.DUBAN_IMPORT_BACKGROUND_BYTES = 0


@pytest.fixture
def open_form(tree, personas):
    return make_form(tree, expiry_days=0)


def post_import(content: bytes, client=None):
    client = client or logged_in("county_reporter")
    return client.post("/reporting/import/", {"file": SimpleUploadedFile("v.csv", content)})


def test_a_large_import_goes_to_the_worker_and_ends_with_its_counts(background, open_form, tree):
    r = post_import(GOOD)
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.state, job.owner.username) == (
        "reporting.import",
        State.DONE,
        "county_reporter",
    )
    assert values_of(tree.county_a, "201712") == {"case.filed": 10, "case.solved": 7}
    page = logged_in("county_reporter").get(r["Location"]).content.decode()
    assert "已导入 2 行" in page and 'href="/reporting/import/"' in page


def test_a_bad_large_file_names_its_cells_and_changes_nothing(background, open_form, tree):
    client = logged_in("county_reporter")
    post_import(GOOD, client)
    before = db_dump()
    r = post_import(BAD, client)
    job = Job.objects.order_by("-created").first()
    assert r.status_code == 302 and job.state == State.FAILED
    assert [p["where"] for p in job.problems] == ["line 3"]
    assert db_dump() == before, "all or nothing, as on the page"
    page = client.get(r["Location"]).content.decode()
    assert "第 3 行" in page and "未作任何更改" in page


def test_a_small_file_is_imported_at_once_as_before(settings, open_form, tree):
    settings.TASKS = IMMEDIATE
    r = post_import(BAD)
    assert r.status_code == 400 and "第 3 行" in r.content.decode()
    assert not Job.objects.exists()


def test_the_ledger_export_ends_with_the_sheet_of_the_owners_tasks(background, tree, personas):
    make_task(tree.city, tree.county_a, title="社区警务")
    make_task(tree.other_city, tree.other_city, title="外市任务")
    r = logged_in("city_leader").post("/tasks/ledger.xlsx/background/", {"query": "scope=CITY"})
    job = Job.objects.get()
    assert r.status_code == 302 and job.state == State.DONE, job.error
    assert (job.done, job.total) == (2, 2) and job.file_name.endswith(".xlsx")
    download = logged_in("city_leader").get(f"/jobs/{job.pk}/file/")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    titles = {c.value for row in sheet.iter_rows() for c in row}
    assert "社区警务" in titles and "外市任务" not in titles


def test_bad_ledger_filters_are_refused_before_any_work(background, tree, personas):
    r = logged_in("city_leader").post("/tasks/ledger.xlsx/background/", {"query": "status=purple"})
    assert r.status_code == 400 and not Job.objects.exists()


def test_the_ledger_page_offers_the_background_export(tree, personas):
    page = logged_in("city_leader").get("/tasks/ledger/?status=red").content.decode()
    assert 'action="/tasks/ledger.xlsx/background/"' in page
    assert 'name="query" value="status=red"' in page
