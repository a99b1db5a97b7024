"""The record import's pages: the office uploads, sees the bad rows by line and decides;
a reporter and an office elsewhere are refused."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from duban.records import store
from duban.records.demo import load_record_types
from duban.records.models import ImportState, RecordImport
from duban.testing import logged_in, make_user, refusals

BAD = (
    "记录编号,单位代码,日期,类型\n"
    "R1,COUNTY-A,2024-01-05,case_filed\n"
    "R2,NOWHERE,2024-01-05,case_filed\n"
)


def upload(client, text: str, unit: str = "CITY", name: str = "案件.csv"):
    return client.post(
        "/records/",
        {"unit": unit, "file": SimpleUploadedFile(name, text.encode("gb18030"))},
    )


def test_the_office_uploads_sees_the_bad_row_by_line_and_applies(tree, tmp_path) -> None:
    load_record_types()
    make_user("office", tree.city, "office")
    client = logged_in("office")
    page = client.get("/records/")
    assert page.status_code == 200
    assert "记录编号" in page.content.decode()
    with override_settings(MEDIA_ROOT=tmp_path):
        answer = upload(client, BAD)
        imp = RecordImport.objects.get()
        assert answer.status_code == 302 and answer["Location"] == f"/records/{imp.pk}/"
        detail = client.get(answer["Location"]).content.decode()
        assert "案件.csv" in detail and "没有代码为 NOWHERE 的单位" in detail
        assert "NOWHERE" in detail and ">3<" in detail  # line 3
        assert store.count() == 0
        client.post(f"/records/{imp.pk}/apply/")
    imp.refresh_from_db()
    assert imp.state == ImportState.APPLIED
    assert [r[0] for r in store.read()] == ["R1"]


def test_refusing_from_the_page_writes_nothing(tree, tmp_path) -> None:
    load_record_types()
    make_user("office", tree.city, "office")
    client = logged_in("office")
    with override_settings(MEDIA_ROOT=tmp_path):
        upload(client, BAD)
        imp = RecordImport.objects.get()
        client.post(f"/records/{imp.pk}/refuse/")
    imp.refresh_from_db()
    assert imp.state == ImportState.REFUSED
    assert store.count() == 0


def test_a_file_level_problem_is_shown_beside_the_form(tree) -> None:
    make_user("office", tree.city, "office")
    answer = upload(logged_in("office"), "记录编号,单位代码\nR1,COUNTY-A\n")
    assert answer.status_code == 400
    assert "日期" in answer.content.decode()
    assert RecordImport.objects.count() == 0


def test_a_reporter_is_refused_and_the_refusal_recorded(tree) -> None:
    make_user("rep", tree.county_a, "reporter")
    before = refusals()
    assert logged_in("rep").get("/records/").status_code == 403
    assert refusals() == before + 1


def test_an_office_elsewhere_cannot_see_or_decide_anothers_import(tree, tmp_path) -> None:
    load_record_types()
    make_user("office", tree.city, "office")
    make_user("other", tree.other_city, "office")
    with override_settings(MEDIA_ROOT=tmp_path):
        upload(logged_in("office"), BAD)
    imp = RecordImport.objects.get()
    other = logged_in("other")
    assert imp.file_name not in other.get("/records/").content.decode()
    assert other.get(f"/records/{imp.pk}/").status_code == 403
    assert other.post(f"/records/{imp.pk}/apply/").status_code == 403
    imp.refresh_from_db()
    assert imp.state == ImportState.WAITING
    # and it may not import for a unit outside its reach
    answer = upload(other, BAD, unit="CITY")
    assert answer.status_code == 200 and RecordImport.objects.count() == 1


def test_a_large_file_goes_to_the_worker_and_its_import_page_follows(
    tree, tmp_path, settings
) -> None:
    from duban.jobs.models import Job

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DUBAN_RECORDS_BACKGROUND_BYTES = 10
    settings.MEDIA_ROOT = tmp_path
    load_record_types()
    make_user("office", tree.city, "office")
    answer = upload(logged_in("office"), BAD)
    job = Job.objects.get()
    assert answer.status_code == 302 and str(job.pk) in answer["Location"]
    job.refresh_from_db()
    imp = RecordImport.objects.get()  # the immediate backend ran the work
    assert (job.state, job.outcome_url) == ("done", f"/records/{imp.pk}/")
    assert (imp.state, imp.rows_bad, imp.imported_by.username) == ("waiting", 1, "office")
