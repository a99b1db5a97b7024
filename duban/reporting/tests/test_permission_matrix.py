"""Every role × own / child / sibling / parent unit × the reporting pages and routes, over HTTP.

The actor holds one role at COUNTY-A. Expected cells are written out by hand,
not derived from the policy module, so a wrong rule there fails here.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import make_form
from duban.testing import (
    MATRIX_RELATIONS,
    MATRIX_ROLES,
    PASSWORD,
    Expected,
    log_in_actor,
    only,
    relative_unit,
    role_faults,
)

DOWN = {"own", "child"}
BUSINESS = {"office", "reporter", "approver", "leader"}
READ = only({r: DOWN for r in BUSINESS})

EXPECTED: Expected = {
    "read_form_page": READ,
    "read_form_api": READ,
    "read_overview_page": READ,
    "read_overview_api": READ,
    "read_export_api": READ,
    "read_template": READ,
    "write_form_page": only({"reporter": {"own"}}),
    "write_form_api": only({"reporter": {"own"}}),
    "import_csv_api": only({"reporter": {"own"}}),
    "submit_api": only({"reporter": {"own"}}),
    "approve_api": only({"approver": {"child"}}),
    "return_page": only({"approver": {"child"}}),
    "lock_api": only({"office": DOWN}),
    "unlock_page": only({"office": DOWN}),
}

# the state every target form is put in before the operation
GIVEN = {
    "submit_api": State.DRAFT,
    "approve_api": State.SUBMITTED,
    "return_page": State.SUBMITTED,
    "lock_api": State.APPROVED,
    "unlock_page": State.APPROVED,
}
AFTER = {
    "submit_api": State.SUBMITTED,
    "approve_api": State.APPROVED,
    "return_page": State.RETURNED,
    "lock_api": State.LOCKED,
    "unlock_page": State.RETURNED,
}


def base(unit) -> str:
    return f"CITY-M/{unit.code}/201712"


def ok(status: int) -> int:
    return 200 if status in (201, 302) else status


def do(client: Client, op: str, unit) -> int:
    b = base(unit)
    if op == "read_form_page":
        return client.get(f"/reporting/forms/{b}/").status_code
    if op == "read_form_api":
        return client.get(f"/api/reporting/forms/{b}").status_code
    if op == "read_overview_page":
        return client.get(f"/reporting/overview/{b}/").status_code
    if op == "read_overview_api":
        return client.get(f"/api/reporting/overview/{b}").status_code
    if op == "read_export_api":
        return client.get(
            f"/api/reporting/values?unit={unit.code}&period=201712&format=csv"
        ).status_code
    if op == "read_template":
        return client.get(f"/reporting/forms/{b}/template.xlsx").status_code
    if op == "write_form_page":
        return ok(
            client.post(f"/reporting/forms/{b}/", {"v:case.filed": "5", "do": "save"}).status_code
        )
    if op == "write_form_api":
        version = (
            Submission.objects.filter(unit=unit, period="201712")
            .values_list("version", flat=True)
            .first()
        )
        return client.put(
            f"/api/reporting/forms/{b}",
            json.dumps({"values": {"case.filed": "5"}, "version": version or 0}),
            content_type="application/json",
        ).status_code
    if op == "import_csv_api":
        from django.core.files.uploadedfile import SimpleUploadedFile

        csv = f"indicator,period,unit,value\ncase.filed,201712,{unit.code},5\n".encode()
        return client.post(
            "/api/reporting/values/import", {"file": SimpleUploadedFile("v.csv", csv)}
        ).status_code
    if op == "submit_api":
        return client.post(f"/api/reporting/forms/{b}/submit").status_code
    if op == "approve_api":
        return client.post(f"/api/reporting/forms/{b}/approve").status_code
    if op == "return_page":
        return ok(client.post(f"/reporting/forms/{b}/return/", {"reason": "recheck"}).status_code)
    if op == "lock_api":
        return client.post(f"/api/reporting/forms/{b}/lock").status_code
    if op == "unlock_page":
        return ok(
            client.post(f"/reporting/forms/{b}/unlock/", {"reason": "correction"}).status_code
        )
    raise AssertionError(op)


def effect(op: str, unit) -> bool | None:
    if op.startswith(("write_", "import_")):
        return DataValue.objects.filter(unit=unit, indicator__code="case.filed", value=5).exists()
    if op in AFTER:
        return Submission.objects.get(unit=unit, period="201712").state == AFTER[op]
    return None


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_cells(tree, role: str) -> None:
    """Every op × relation for one role: the form is built once, each cell runs in a
    savepoint rolled back afterwards."""
    form = make_form(tree, expiry_days=0, levels=["city", "county", "station"])
    for unit in (tree.county_a, tree.station_a1, tree.county_b, tree.city):
        services.save_form(form.data_set, unit, "201712", {"case.filed": "3"}, user=SYSTEM)
    client = log_in_actor(tree.county_a, role)

    def act(op: str, relation: str) -> int:
        if op in GIVEN:
            Submission.objects.update(state=GIVEN[op])
        if op == "submit_api" and relation != "child":  # once the station below has reported
            Submission.objects.filter(unit=tree.station_a1).update(state=State.SUBMITTED)
        return do(client, op, relative_unit(tree, relation))

    def changed(op: str, relation: str) -> bool | None:
        return effect(op, relative_unit(tree, relation))

    assert role_faults(EXPECTED, role, MATRIX_RELATIONS, act, changed) == []


def test_outsider_sees_no_form_no_values_and_no_data_set(tree, personas) -> None:
    form = make_form(tree, expiry_days=0)
    services.save_form(form.data_set, tree.county_a, "201712", {"case.filed": "3"}, user=SYSTEM)
    client = Client()
    client.login(username="outsider", password=PASSWORD)
    assert client.get("/api/reporting/forms/CITY-M/COUNTY-A/201712").status_code == 403
    assert client.get("/reporting/datasets/CITY-M/").status_code == 403
    assert client.get("/api/reporting/periods").json() == []
    assert client.get("/api/reporting/values?unit=OTHER&period=201712&format=json").json() == {
        "dataValues": []
    }
    assert client.get("/api/reporting/values?unit=CITY&period=201712").status_code == 403


def test_anonymous_is_sent_to_login_and_api_says_401(tree) -> None:
    make_form(tree)
    client = Client()
    assert client.get("/reporting/").status_code == 302
    assert client.get("/reporting/forms/CITY-M/COUNTY-A/201712/").status_code == 302
    assert client.get("/api/reporting/forms/CITY-M/COUNTY-A/201712").status_code == 401
    assert client.post("/api/reporting/values/import").status_code == 401


def test_unknown_codes_are_404_not_403(tree, personas) -> None:
    make_form(tree)
    client = Client()
    client.login(username="county_reporter", password=PASSWORD)
    assert client.get("/api/reporting/forms/NOPE/COUNTY-A/201712").status_code == 404
    assert client.get("/api/reporting/forms/CITY-M/NOPE/201712").status_code == 404
    assert client.get("/api/reporting/forms/CITY-M/COUNTY-A/2017-12").status_code == 404
    assert client.get("/reporting/forms/CITY-M/COUNTY-A/2017Q4/").status_code == 404
