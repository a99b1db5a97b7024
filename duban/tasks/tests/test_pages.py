"""The pages and lists: scoping, the ledger and its xlsx export, bad input named, never a 500."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
import time_machine
from openpyxl import load_workbook

from duban.orgs.policy import SYSTEM
from duban.spreadsheets import safe_cell
from duban.tasks import services
from duban.tasks.models import Task
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import logged_in, make_user

pytestmark = pytest.mark.django_db
FROZEN = "2017-07-10 10:00 +0800"


@pytest.fixture
def data(tree, personas):
    red = make_task(tree.city, tree.county_a, title='=HYPERLINK("http://x")', responsible="@张三")
    make_milestone(red, date(2017, 6, 30), title="调研")
    green = make_task(tree.city, tree.county_b, title="社区警务", start_date=date(2017, 7, 1))
    other = make_task(tree.other_city, tree.other_city, title="外市任务")
    make_user("city_office", tree.city, "office")
    return {"red": red, "green": green, "other": other}


@time_machine.travel(FROZEN, tick=False)
def test_lists_are_scoped(data) -> None:
    county = {t["title"] for t in logged_in("county_reporter").get("/api/tasks/tasks").json()}
    assert county == {data["red"].title}
    city = {t["title"] for t in logged_in("city_leader").get("/api/tasks/tasks").json()}
    assert city == {data["red"].title, "社区警务"}
    assert logged_in("outsider").get("/api/tasks/ledger").json()[0]["title"] == "外市任务"
    assert logged_in("city_sysadmin").get("/api/tasks/tasks").json() == []


@time_machine.travel(FROZEN, tick=False)
def test_ledger_filters_and_bad_input(data) -> None:
    c = logged_in("city_leader")
    rows = c.get("/api/tasks/ledger?status=overdue").json()
    assert [(r["title"], r["days_overdue"], r["milestones_judged"]) for r in rows] == [
        (data["red"].title, 10, 1)
    ]
    assert [r["title"] for r in c.get("/api/tasks/ledger?month=201706").json()] == [
        data["red"].title
    ]
    assert [r["status"] for r in c.get("/api/tasks/ledger?lead=COUNTY-B&on=2017-06-30").json()] == [
        "not_started"
    ]
    bad = c.get("/api/tasks/ledger?month=2017-6&status=purple&lead=OTHER&on=yesterday")
    assert bad.status_code == 400
    assert {e["where"] for e in bad.json()["errors"]} == {"month", "status", "lead", "on"}
    page = c.get("/tasks/ledger/?month=13")
    assert page.status_code == 200 and "month" in page.content.decode()
    assert c.get("/tasks/ledger.xlsx?status=purple").status_code == 400


@time_machine.travel(FROZEN, tick=False)
def test_ledger_xlsx_reads_back_and_is_formula_safe(data) -> None:
    response = logged_in("city_leader").get("/api/tasks/ledger.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = rows.index(next(r for r in rows if r[0] == "下发单位"))
    body = rows[header + 1 :]
    assert len(body) == 2
    first = body[0]  # columns by position: the header words follow the language
    assert first[3] == '\'=HYPERLINK("http://x")' and first[16] == "'@张三"
    assert (first[4], first[14], first[0], first[1]) == ("已逾期（红灯）", 10, "市局", "甲县局")
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    page = logged_in("city_leader").get("/tasks/ledger.xlsx?scope=CITY")
    assert page["Content-Disposition"].startswith("attachment")
    assert [safe_cell(v) for v in ("-1", "+1", "\tx", "ok", 5)] == ["'-1", "'+1", "'\tx", "ok", 5]


@time_machine.travel(FROZEN, tick=False)
def test_pages_render_for_the_office(data, tree) -> None:
    c = logged_in("city_office")
    for url in (
        "/tasks/",
        "/tasks/?unit=COUNTY-A",
        "/tasks/ledger/",
        "/tasks/new/",
        "/tasks/inbox/",
        "/tasks/goals/",
        "/tasks/goals/new/",
        f"/tasks/{data['red'].pk}/",
        "/meetings/",
        "/meetings/new/",
        "/meetings/cadence/CITY/",
    ):
        r = c.get(url)
        assert r.status_code == 200, url
    board = c.get("/tasks/").content.decode()
    assert data["red"].title.replace('"', "&quot;") in board
    assert c.get("/tasks/?unit=OTHER").status_code == 403
    assert c.get("/tasks/999999/").status_code == 404


@time_machine.travel(FROZEN, tick=False)
def test_issue_a_task_through_the_form(tree, data) -> None:
    c = logged_in("city_office")
    form = {
        "kind": "highlight",
        "title": "智慧安防小区",
        "issuing_unit": tree.city.pk,
        "lead_unit": tree.county_a.pk,
        "partners": [tree.county_b.pk],
        "start_date": "2017-07-01",
        "due_date": "2017-12-31",
    }
    r = c.post("/tasks/new/", form)
    task = Task.objects.get(title="智慧安防小区")
    assert r.status_code == 302 and [u.code for u in task.partner_units()] == ["COUNTY-B"]
    bad = c.post("/tasks/new/", form | {"lead_unit": tree.city.pk, "partners": [tree.city.pk]})
    assert bad.status_code == 200 and "牵头单位不能同时作为配合单位" in bad.content.decode()
    late = c.post("/tasks/new/", form | {"due_date": "2017-01-01"})
    assert late.status_code == 200 and "完成时限早于开始日期" in late.content.decode()
    # an office below cannot issue in the city's name
    make_user("county_office", tree.county_a, "office")
    r = logged_in("county_office").post("/tasks/new/", form | {"title": "越权"})
    assert r.status_code == 200 and not Task.objects.filter(title="越权").exists()


@time_machine.travel(FROZEN, tick=False)
def test_api_bad_input_names_the_field(tree, data) -> None:
    c = logged_in("city_office")
    j = "application/json"
    r = c.post(
        "/api/tasks/tasks",
        json.dumps(
            {
                "title": "x",
                "issuing_unit": "CITY",
                "lead_unit": "NOPE",
                "start_date": "2017-01-01",
                "due_date": "2017-02-01",
            }
        ),
        content_type=j,
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "lead_unit"
    r = c.post(
        "/api/tasks/tasks",
        json.dumps(
            {
                "title": "x",
                "issuing_unit": "CITY",
                "lead_unit": "CITY",
                "kind": "nonsense",
                "start_date": "2017-01-01",
                "due_date": "2017-02-01",
            }
        ),
        content_type=j,
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "kind"
    r = c.post("/api/tasks/tasks", json.dumps({"title": "x"}), content_type=j)
    assert r.status_code == 422
    r = c.post(f"/api/tasks/tasks/{data['red'].pk}/close", json.dumps({}), content_type=j)
    assert r.status_code == 409 and r.json()["errors"][0]["where"] == "status"
    r = c.get("/api/tasks/units/COUNTY-A/on-time-share?start=2017-01-01&end=2017-12-31")
    assert r.json()["share"] == "0"
    r = c.get("/api/tasks/units/COUNTY-A/on-time-share?start=2017-12-01&end=2017-01-01")
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "end"
    assert (
        c.get("/api/tasks/units/OTHER/on-time-share?start=2017-01-01&end=2017-12-31").status_code
        == 403
    )


@time_machine.travel(FROZEN, tick=False)
def test_report_with_evidence_through_the_page(tree, data, settings, tmp_path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    c = logged_in("county_reporter")
    m = data["red"].milestones.get()
    r = c.post(
        f"/tasks/{data['red'].pk}/report/",
        {
            "unit": tree.county_a.pk,
            "text": "调研报告已完成",
            "percent": 40,
            "milestone": m.pk,
            "milestone_met": "on",
            "files": [
                SimpleUploadedFile("报告.pdf", b"%PDF-1.4 x"),
                SimpleUploadedFile("照片.jpg", b"\xff\xd8"),
            ],
        },
    )
    assert r.status_code == 302
    report = data["red"].reports.get()
    assert report.evidence.count() == 2
    m.refresh_from_db()
    assert m.met_on == date(2017, 7, 10)  # met late: red turns back to yellow
    assert (
        Task.objects.with_facts().get(pk=data["red"].pk).status(date(2017, 7, 10)).value
        == "at_risk"
    )
    e = report.evidence.order_by("name").first()
    download = c.get(f"/tasks/evidence/{e.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    bad = c.post(
        f"/tasks/{data['red'].pk}/report/", {"unit": tree.county_a.pk, "text": "x", "percent": 150}
    )
    assert bad.status_code == 200
    services.declare_done(data["red"], user=SYSTEM)
    assert data["red"].reports.count() == 1
