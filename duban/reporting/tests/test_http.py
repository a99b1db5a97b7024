"""Routes and pages end to end: JSON errors name fields, 409 carries the reason, files go both ways."""

from __future__ import annotations

import io
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from duban.reporting.models import State, Submission
from duban.reporting.tests.conftest import db_dump, reported_below, values_of
from duban.testing import logged_in


def put(client: Client, values: dict[str, object], unit: str = "COUNTY-A"):
    """A PUT made from the form as it is now (its version read first, as a client does)."""
    url = f"/api/reporting/forms/CITY-M/{unit}/201712"
    version = client.get(url).json()["version"]
    return client.put(
        url, json.dumps({"values": values, "version": version}), content_type="application/json"
    )


def test_api_entry_submit_approve_lock_and_the_409(open_form, tree) -> None:
    reported_below(open_form, tree)
    rep = logged_in("county_reporter")
    r = put(rep, {"case.filed": "ten", "case.solved": 3})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"where": "case.filed", "message": "case.filed：'ten' 不是数字"}]
    assert put(rep, {"case.filed": 10, "case.solved": "3"}).json() == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "version": 1,
    }
    form = rep.get("/api/reporting/forms/CITY-M/COUNTY-A/201712").json()
    rows = {r["indicator"]: r for r in form["rows"]}
    assert rows["case.clearance"]["value"] == "30" and rows["case.clearance"]["computed"] is True
    assert form["state"] == "draft" and form["entry"] == "open"
    assert (
        rep.post("/api/reporting/forms/CITY-M/COUNTY-A/201712/submit").json()["state"]
        == "submitted"
    )
    Submission.objects.filter(unit=tree.county_a).update(state=State.LOCKED)
    r = put(rep, {"case.filed": 11})
    assert r.status_code == 409
    assert "被考评办锁定" in r.json()["errors"][0]["message"]
    r = logged_in("prov_office").post(
        "/api/reporting/forms/CITY-M/COUNTY-A/201712/unlock",
        json.dumps({"reason": ""}),
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"] == [
        {"where": "reason", "message": "解锁须写明原因"}  # Chinese first
    ]


def test_api_approve_waits_for_children(open_form, tree) -> None:
    rep = logged_in("county_reporter")
    put(rep, {"case.filed": 1})
    r = rep.post("/api/reporting/forms/CITY-M/COUNTY-A/201712/submit")
    assert r.status_code == 409 and "下级单位须先上报：甲一派出所" in r.json()["detail"]
    reported_below(open_form, tree)
    Submission.objects.filter(unit=tree.station_a1).update(state=State.SUBMITTED)
    assert rep.post("/api/reporting/forms/CITY-M/COUNTY-A/201712/submit").status_code == 200
    r = logged_in("city_approver").post("/api/reporting/forms/CITY-M/COUNTY-A/201712/approve")
    assert r.status_code == 409 and "甲一派出所" in r.json()["detail"]


def test_overview_api_shows_aggregate_and_statuses(open_form, tree) -> None:
    put(logged_in("county_reporter"), {"case.filed": 8, "case.solved": 2})
    put(logged_in("sibling_reporter"), {"case.filed": 2, "case.solved": 2}, unit="COUNTY-B")
    data = logged_in("city_leader").get("/api/reporting/overview/CITY-M/CITY/201712").json()
    assert data["figures"]["case.filed"] == "10" and data["figures"]["case.clearance"] == "40"
    children = {c["unit"]: c for c in data["children"]}
    assert children["COUNTY-A"]["state"] == "draft"
    quarter = logged_in("city_leader").get("/api/reporting/overview/CITY-M/CITY/2017Q4").json()
    assert quarter["figures"]["case.filed"] == "10"


def test_data_value_sets_both_ways_and_unknown_codes_reported(open_form, tree) -> None:
    rep = logged_in("county_reporter")
    body: dict = {
        "dataValues": [
            {"dataElement": "case.filed", "period": "201712", "orgUnit": "COUNTY-A", "value": "6"}
        ]
    }
    r = rep.post("/api/reporting/dataValueSets", json.dumps(body), content_type="application/json")
    assert r.json() == {
        "status": "SUCCESS",
        "importCount": {"imported": 1, "updated": 0, "ignored": 0, "deleted": 0},
    }
    got = rep.get("/api/reporting/dataValueSets?orgUnit=COUNTY-A&period=201712").json()
    assert got["dataValues"][0]["value"] == "6"
    before = db_dump()
    body["dataValues"][0]["dataElement"] = "CASE_FILED"
    r = rep.post("/api/reporting/dataValueSets", json.dumps(body), content_type="application/json")
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"where": "dataValues[0]", "message": "未知的指标代码 'CASE_FILED'"}
    ]
    assert db_dump() == before


def test_exports_over_http(open_form, tree) -> None:
    put(logged_in("county_reporter"), {"case.filed": 4})
    leader = logged_in("city_leader")
    r = leader.get(
        "/api/reporting/values?unit=CITY&start=201711&end=201712&format=csv&data_set=CITY-M"
    )
    body = b"".join(r.streaming_content).decode()
    assert body.splitlines()[0].lstrip("\ufeff").startswith("指标代码,统计期,单位代码,数值")
    assert "case.filed,201712,COUNTY-A,4" in body
    r = leader.get("/reporting/export/?unit=CITY&children=on&start=201712&end=201712&format=xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb["数据"]["A2"].value == "case.filed"
    r = leader.get("/api/reporting/values?unit=CITY&start=201712&end=2017Q4&format=csv")
    assert r.status_code == 400


def test_template_download_and_upload_over_http(open_form, tree) -> None:
    rep = logged_in("county_reporter")
    r = rep.get("/reporting/forms/CITY-M/COUNTY-A/201712/template.xlsx")
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["Data"]
    for row in range(6, ws.max_row + 1):
        if ws[f"C{row}"].value == "case.filed":
            ws[f"H{row}"] = 12
    buf = io.BytesIO()
    wb.save(buf)
    r = rep.post(
        "/reporting/forms/CITY-M/COUNTY-A/201712/upload/",
        {"file": SimpleUploadedFile("t.xlsx", buf.getvalue())},
    )
    assert r.status_code == 302
    assert values_of(tree.county_a, "201712") == {"case.filed": 12}
    r = rep.post(
        "/api/reporting/forms/CITY-M/COUNTY-A/201712/upload",
        {"file": SimpleUploadedFile("t.xlsx", b"not a workbook")},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "file"


def test_a_huge_upload_is_refused_before_reading(open_form, settings) -> None:
    settings.DUBAN_IMPORT_MAX_BYTES = 1000
    client = logged_in("county_reporter")
    before = db_dump()
    r = client.post(
        "/api/reporting/values/import", {"file": SimpleUploadedFile("big.csv", b"x" * 5000)}
    )
    assert r.status_code == 400
    [problem] = r.json()["errors"]
    assert problem["where"] == "file" and "1000" in problem["message"]
    assert db_dump() == before


def test_pages_render(open_form, tree) -> None:
    rep = logged_in("county_reporter")
    put(rep, {"case.filed": 4})
    for url in (
        "/reporting/",
        "/reporting/datasets/CITY-M/",
        "/reporting/forms/CITY-M/COUNTY-A/201712/",
        "/reporting/overview/CITY-M/CITY/201712/".replace("CITY/", "COUNTY-A/"),
        "/reporting/import/",
        "/reporting/export/",
    ):
        r = rep.get(url)
        assert r.status_code == 200, url
    assert (
        "CITY-M"
        in logged_in("city_leader").get("/reporting/overview/CITY-M/CITY/201712/").content.decode()
    )
    r = rep.post("/reporting/forms/CITY-M/COUNTY-A/201712/", {"v:case.filed": "abc", "do": "save"})
    assert r.status_code == 400 and "不是数字" in r.content.decode()
    reported_below(open_form, tree)
    r = rep.post("/reporting/forms/CITY-M/COUNTY-A/201712/", {"v:case.filed": "5", "do": "submit"})
    assert r.status_code == 302
    assert Submission.objects.get(unit=tree.county_a).state == State.SUBMITTED
    office = logged_in("prov_office")
    r = office.post(
        "/reporting/datasets/CITY-M/",
        {"do": "open", "year": "2018", "periods": ["201801"], "data_sets": ["CITY-M"]},
    )
    assert r.status_code == 302
    r = office.post(
        "/reporting/datasets/CITY-M/",
        {"do": "exception", "unit": "COUNTY-B", "period": "201712", "reason": "系统故障"},
    )
    assert r.status_code == 302
    assert (
        rep.post("/reporting/datasets/CITY-M/", {"do": "open", "periods": ["201802"]}).status_code
        == 403
    )
    r = rep.post(
        "/reporting/import/",
        {"file": SimpleUploadedFile("v.csv", b"indicator,period,unit,value\nx,1,2,3\n")},
    )
    assert r.status_code == 400 and "第 2 行" in r.content.decode()
