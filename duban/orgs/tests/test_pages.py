from __future__ import annotations

from django.test import Client

from duban.orgs.models import OrgUnit, UnitMove
from duban.testing import PASSWORD, make_user


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_system_admin_adds_and_moves_units_in_the_pages(tree) -> None:
    make_user("sys", tree.city, "system_admin")
    client = client_for("sys")
    r = client.post(
        "/orgs/units/COUNTY-B/add/",
        {
            "code": "STATION-B1",
            "name_zh": "乙一派出所",
            "name_en": "",
            "level": "station",
            "kind": "territorial",
            "sort_order": 1,
        },
    )
    assert r.status_code == 302
    assert OrgUnit.objects.get(code="STATION-B1").path == "/PROV/CITY/COUNTY-B/STATION-B1/"
    r = client.post("/orgs/units/STATION-B1/move/", {"parent": "COUNTY-A", "reason": "辖区调整"})
    assert r.status_code == 302
    assert OrgUnit.objects.get(code="STATION-B1").path == "/PROV/CITY/COUNTY-A/STATION-B1/"
    assert UnitMove.objects.get().reason == "辖区调整"
    page = client.get("/orgs/units/STATION-B1/").content.decode()
    assert "辖区调整" in page


def test_form_errors_name_the_field_and_change_nothing(tree) -> None:
    make_user("sys", tree.city, "system_admin")
    client = client_for("sys")
    r = client.post("/orgs/units/COUNTY-A/move/", {"parent": "NOPE", "reason": "x"})
    assert r.status_code == 200 and 'id="id_parent-error"' in r.content.decode()
    r = client.post(
        "/orgs/units/COUNTY-A/add/",
        {
            "code": "COUNTY-B",
            "name_zh": "重复",
            "level": "county",
            "kind": "territorial",
            "sort_order": 0,
        },
    )
    assert r.status_code == 200 and 'id="id_code-error"' in r.content.decode()
    r = client.post("/orgs/units/STATION-A1/move/", {"parent": "OTHER", "reason": "x"})
    assert r.status_code == 403
    assert OrgUnit.objects.get(code="STATION-A1").parent_id == tree.county_a.pk


def test_tree_search_finds_only_visible_units(tree) -> None:
    make_user("rep", tree.county_a, "reporter")
    html = client_for("rep").get("/orgs/?q=县局").content.decode()
    assert "甲县局" in html and "乙县局" not in html


def test_admin_site_is_for_system_administrators_only(tree) -> None:
    make_user("sys", tree.city, "system_admin")
    make_user("sec", tree.city, "security_admin")
    assert client_for("sys").get("/admin/orgs/orgunit/").status_code == 200
    r = client_for("sec").get("/admin/orgs/orgunit/", follow=True)
    assert r.status_code == 403
    r = Client().get("/admin/", follow=True)
    assert r.redirect_chain[-1][0].startswith("/accounts/login/")
    listed = client_for("sys").get("/admin/orgs/orgunit/").content.decode()
    assert "COUNTY-A" in listed and "OTHER" not in listed


def test_security_admin_creates_an_account_in_the_pages(tree) -> None:
    make_user("sec", tree.city, "security_admin")
    client = client_for("sec")
    r = client.post(
        "/accounts/members/COUNTY-A/",
        {
            "form": "create",
            "new-username": "newrep",
            "new-full_name": "新填报员",
            "new-password": "short",
            "new-role": "reporter",
        },
    )
    assert r.status_code == 200 and 'id="id_new-password-error"' in r.content.decode()
    r = client.post(
        "/accounts/members/COUNTY-A/",
        {
            "form": "create",
            "new-username": "newrep",
            "new-full_name": "新填报员",
            "new-password": "A-good-password-9",
            "new-role": "reporter",
        },
    )
    assert r.status_code == 302
    assert (
        client_for("sec").get("/accounts/members/COUNTY-A/").content.decode().count("newrep") == 1
    )
