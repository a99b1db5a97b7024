"""A security administrator manages only the accounts of his own tree (issue 10, item 7).

An account is his when every unit where it holds a role lies within his reach. Granting,
withdrawing, listing and creating refuse the others, and a refusal reads the same whether
the name is unknown, another organisation's, or an administrator's elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.demo.loader import DEMO_PASSWORD, load_demo
from duban.orgs import services as org_services
from duban.orgs.models import Membership, OrgUnit, Role
from duban.orgs.policy import SYSTEM
from duban.testing import make_user

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def demo() -> None:
    load_demo(activity=False)


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def _grant(client: Client, unit: str, username: str, role: str = "approver") -> Any:
    return client.post(
        f"/api/accounts/units/{unit}/roles",
        json.dumps({"username": username, "role": role}),
        content_type=JSON,
    )


def test_the_yongzhou_security_administrator_cannot_grant_a_shaanxi_account(demo) -> None:
    """The reproduction: yz_secadmin gave sx_office a Yongzhou role and then saw his roles."""
    client = _client("yz_secadmin")
    r = _grant(client, "YZ-LST", "sx_office")
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "username"
    assert not Membership.objects.filter(user__username="sx_office", unit__code="YZ-LST").exists()
    members = client.get("/api/accounts/units/YZ-LST/members").json()
    assert "sx_office" not in {m["username"] for m in members}
    assert {role["unit"] for m in members for role in m["roles"]} <= {"YZ-LST"}


def _answer(r: Any) -> tuple[int, str]:
    return r.status_code, r.content.decode()


def test_outside_unknown_and_administrator_names_all_get_the_same_answer(demo) -> None:
    make_user("loner")  # an account with no role anywhere belongs to no tree
    names = ["sx_office", "sx_sysadmin", "xa_reporter", "no_such_account", "loner"]
    client = _client("yz_secadmin")
    before = AuditEntry.objects.filter(action="access.denied").count()

    api = {name: _answer(_grant(client, "YZ-LST", name)) for name in names}
    assert len(set(api.values())) == 1, api
    assert api["no_such_account"][0] == 400
    assert not Membership.objects.filter(unit__code="YZ-LST", user__username__in=names).exists()

    page = {}
    for name in names:
        r = client.post(
            "/accounts/members/YZ-LST/",
            {"form": "grant", "grant-username": name, "grant-role": "approver"},
        )
        page[name] = (r.status_code, r.context["grant_form"].errors.get("username"))
    assert len(set(map(str, page.values()))) == 1, page
    assert page["no_such_account"][0] == 200
    assert page["no_such_account"][1] == ["您管理的账号中没有这个用户名"]
    assert not Membership.objects.filter(unit__code="YZ-LST", user__username__in=names).exists()
    # Each attempt is recorded, where only the audit administrator reads it.
    assert AuditEntry.objects.filter(action="access.denied").count() == before + 2 * len(names)

    # Creating: a name taken here or elsewhere reads alike.
    created = {}
    for name in ("sx_sysadmin", "ll_reporter"):
        r = client.post(
            "/api/accounts/units/YZ-LST/members",
            json.dumps({"username": name, "password": "Long-enough-pass-1", "role": "reporter"}),
            content_type=JSON,
        )
        created[name] = _answer(r)
    assert len(set(created.values())) == 1 and created["ll_reporter"][0] == 400, created

    # Withdrawing: a Shaanxi role answers as a role that does not exist.
    shaanxi = Membership.objects.get(user__username="sx_office").pk
    gone = max(Membership.objects.values_list("pk", flat=True)) + 100
    revoked = {
        pk: _answer(client.delete(f"/api/accounts/memberships/{pk}")) for pk in (shaanxi, gone)
    }
    assert len(set(revoked.values())) == 1 and revoked[gone][0] == 404, revoked
    assert Membership.objects.filter(pk=shaanxi).exists()


def test_an_account_with_roles_in_both_trees_is_managed_by_neither_and_listed_in_part(
    demo,
) -> None:
    # As the bug let it happen (or the shell does): sx_office also holds a Yongzhou role.
    sx_office = User.objects.get(username="sx_office")
    org_services.grant_role(
        sx_office, OrgUnit.objects.get(code="YZ-LST"), Role.APPROVER, user=SYSTEM
    )
    yz, sx = _client("yz_secadmin"), _client("sx_secadmin")

    listed = {m["username"]: m for m in yz.get("/api/accounts/units/YZ-LST/members").json()}
    assert [(r["unit"], r["role"]) for r in listed["sx_office"]["roles"]] == [
        ("YZ-LST", "approver")
    ]
    listed = {m["username"]: m for m in sx.get("/api/accounts/units/SX/members").json()}
    assert [(r["unit"], r["role"]) for r in listed["sx_office"]["roles"]] == [("SX", "office")]

    assert _grant(yz, "YZ-LL", "sx_office", "leader").status_code == 400
    assert _grant(sx, "SX-XA", "sx_office", "leader").status_code == 400
    # The role at his own unit is his to withdraw, whoever holds it.
    own = Membership.objects.get(user=sx_office, unit__code="YZ-LST")
    assert yz.delete(f"/api/accounts/memberships/{own.pk}").status_code == 204
    assert list(Membership.objects.filter(user=sx_office).values_list("unit__code", "role")) == [
        ("SX", "office")
    ]


def test_the_security_administrator_manages_his_own_trees_accounts(demo) -> None:
    client = _client("yz_secadmin")
    r = _grant(client, "YZ-LST", "lst_reporter")
    assert r.status_code == 201 and r.json()["role"] == "approver"
    r = client.post(
        "/accounts/members/YZ-LL/",
        {"form": "grant", "grant-username": "mw_reporter", "grant-role": "leader"},
    )
    assert r.status_code == 302
    listed = {m["username"]: m for m in client.get("/api/accounts/units/YZ-LST/members").json()}
    assert {(x["unit"], x["role"]) for x in listed["lst_reporter"]["roles"]} == {
        ("YZ-LST", "reporter"),
        ("YZ-LST", "approver"),
    }
    # mw_reporter's roles at Meiwan and Lingling are both within Yongzhou
    listed = {m["username"]: m for m in client.get("/api/accounts/units/YZ-LL/members").json()}
    assert {x["unit"] for x in listed["mw_reporter"]["roles"]} == {"YZ-LST-MW", "YZ-LL"}
    granted = Membership.objects.get(user__username="lst_reporter", role="approver")
    assert client.delete(f"/api/accounts/memberships/{granted.pk}").status_code == 204
    assert _grant(client, "YZ-LST", "sx_office").status_code == 400
