from __future__ import annotations

import json

import pytest
from django.test import Client

from duban.accounts import services
from duban.accounts.models import User
from duban.errors import DubanError
from duban.orgs import services as org_services
from duban.orgs.models import Membership, Role
from duban.orgs.policy import SYSTEM
from duban.testing import PASSWORD, make_user


@pytest.mark.parametrize(
    ("held", "new", "refused"),
    [
        ("system_admin", "security_admin", True),
        ("system_admin", "audit_admin", True),
        ("security_admin", "audit_admin", True),
        ("audit_admin", "leader", True),
        ("reporter", "system_admin", True),
        ("reporter", "approver", False),
        ("office", "leader", False),
    ],
)
def test_separation_of_duties(tree, held: str, new: str, refused: bool) -> None:
    person = make_user("person", tree.city, held)
    if refused:
        with pytest.raises(DubanError, match="职责分离"):
            org_services.grant_role(person, tree.county_a, Role(new), user=SYSTEM)
        assert Membership.objects.filter(user=person).count() == 1
    else:
        org_services.grant_role(person, tree.county_a, Role(new), user=SYSTEM)
        assert Membership.objects.filter(user=person).count() == 2


def test_security_admin_cannot_grant_himself(tree) -> None:
    admin = make_user("sec", tree.city, "security_admin")
    with pytest.raises(DubanError, match="不能给自己授予角色"):
        org_services.grant_role(admin, tree.county_a, Role.LEADER, user=admin)


def test_create_account_names_each_bad_field(tree) -> None:
    admin = make_user("sec", tree.city, "security_admin")
    make_user("taken")
    with pytest.raises(DubanError) as exc:
        services.create_account(
            user=admin,
            unit=tree.county_a,
            username="taken",
            full_name="",
            password="123",
            role="reporter",
        )
    assert {p.where for p in exc.value.problems} == {"username", "password"}
    assert User.objects.count() == 2


def test_api_create_account_gives_json_errors(tree) -> None:
    make_user("sec", tree.city, "security_admin")
    client = Client()
    client.login(username="sec", password=PASSWORD)
    r = client.post(
        "/api/accounts/units/COUNTY-A/members",
        json.dumps({"username": "newbie", "password": "short", "role": "reporter"}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["where"] == "password"
    r = client.post(
        "/api/accounts/units/COUNTY-A/members",
        json.dumps(
            {
                "username": "newbie",
                "full_name": "新人",
                "password": "Long-enough-pass-1",
                "role": "reporter",
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201
    assert r.json()["roles"] == [
        {
            "id": r.json()["roles"][0]["id"],
            "unit": "COUNTY-A",
            "unit_name": "甲县局",
            "role": "reporter",
        }
    ]


def test_api_validation_errors_are_4xx_json(tree) -> None:
    make_user("sys", tree.city, "system_admin")
    client = Client()
    client.login(username="sys", password=PASSWORD)
    r = client.post("/api/orgs/units", json.dumps({"code": "X"}), content_type="application/json")
    assert r.status_code == 422
    assert {tuple(e["loc"])[-1] for e in r.json()["detail"]} >= {
        "parent",
        "name_zh",
        "level",
        "kind",
    }
    r = client.post(
        "/api/orgs/units",
        json.dumps(
            {
                "code": "X",
                "parent": "CITY",
                "name_zh": "新",
                "level": "galaxy",
                "kind": "territorial",
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "level"
    r = client.patch("/api/orgs/units/NOPE", "{}", content_type="application/json")
    assert r.status_code == 404
    r = client.post("/api/orgs/units", "not json", content_type="application/json")
    assert 400 <= r.status_code < 500


def test_language_is_kept_per_user_and_pages_follow_it(tree) -> None:
    make_user("leader", tree.city, "leader")
    client = Client()
    client.login(username="leader", password=PASSWORD)
    page = client.get("/orgs/units/CITY/")
    assert page.headers["Content-Language"] == "zh-hans"
    client.post("/accounts/language/", {"language": "en", "next": "/orgs/units/CITY/"})
    assert User.objects.get(username="leader").language == "en"
    fresh = Client()  # another browser: the choice follows the account, not the cookie
    fresh.login(username="leader", password=PASSWORD)
    page = fresh.get("/orgs/units/CITY/")
    assert page.headers["Content-Language"] == "en"
    assert "<h1>City" in page.content.decode()


def test_language_switch_refuses_unknown_language_and_offsite_next(tree) -> None:
    make_user("leader", tree.city, "leader")
    client = Client()
    client.login(username="leader", password=PASSWORD)
    client.post("/accounts/language/", {"language": "fr"})
    assert User.objects.get(username="leader").language == ""
    r = client.post("/accounts/language/", {"language": "en", "next": "https://evil.example/"})
    assert r.headers["Location"] == "/"


def test_home_page_lists_the_users_units(personas, tree) -> None:
    client = Client()
    client.login(username="city_approver", password=PASSWORD)
    html = client.get("/").content.decode()
    assert "市局" in html and "甲县局" in html and "外市局" not in html
