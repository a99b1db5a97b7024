"""Every role × own / child / sibling / parent unit × read / write, through real HTTP.

The expected cells are written out by hand below, not derived from the policy
module, so a wrong rule there fails here.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from duban.accounts.models import User
from duban.orgs.models import Membership, OrgUnit
from duban.testing import (
    MATRIX_RELATIONS,
    MATRIX_ROLES,
    PASSWORD,
    Expected,
    log_in_actor,
    make_user,
    only,
    relative_unit,
    role_faults,
)

DOWN = {"own", "child"}

EXPECTED: Expected = {
    "read_unit_api": {r: DOWN for r in MATRIX_ROLES},
    "read_unit_page": {r: DOWN for r in MATRIX_ROLES},
    "write_unit_api": only({"system_admin": DOWN}),
    "write_unit_page": only({"system_admin": DOWN}),
    "read_members_api": only({"security_admin": DOWN}),
    "write_members_api": only({"security_admin": DOWN}),
    "read_audit_api": only({"audit_admin": DOWN}),
    "read_audit_page": only({"audit_admin": DOWN}),
}


def do(client: Client, op: str, unit: OrgUnit, grantee: User) -> int:
    code = unit.code
    if op == "read_unit_api":
        return client.get(f"/api/orgs/units/{code}").status_code
    if op == "read_unit_page":
        return client.get(f"/orgs/units/{code}/").status_code
    if op == "write_unit_api":
        return client.patch(
            f"/api/orgs/units/{code}",
            json.dumps({"name_en": "Renamed"}),
            content_type="application/json",
        ).status_code
    if op == "write_unit_page":
        data = {
            "name_zh": unit.name_zh,
            "name_en": "Renamed",
            "level": unit.level,
            "kind": unit.kind,
            "sort_order": 0,
            "is_active": "on",
        }
        status = client.post(f"/orgs/units/{code}/edit/", data).status_code
        return 200 if status == 302 else status
    if op == "read_members_api":
        return client.get(f"/api/accounts/units/{code}/members").status_code
    if op == "write_members_api":
        status = client.post(
            f"/api/accounts/units/{code}/roles",
            json.dumps({"username": grantee.username, "role": "leader"}),
            content_type="application/json",
        ).status_code
        return 200 if status == 201 else status
    if op == "read_audit_api":
        return client.get(f"/api/audit/units/{code}/entries").status_code
    if op == "read_audit_page":
        return client.get(f"/audit/units/{code}/").status_code
    raise AssertionError(op)


def changed(op: str, unit: OrgUnit, grantee: User) -> bool | None:
    if op.startswith("write_unit"):
        return OrgUnit.objects.get(pk=unit.pk).name_en == "Renamed"
    if op == "write_members_api":
        return Membership.objects.filter(user=grantee, unit=unit, role="leader").exists()
    return None


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_cells(tree, role: str) -> None:
    """Every op × relation for one role, each cell in a savepoint rolled back afterwards."""
    client = log_in_actor(tree.county_a, role)
    # An account of the actor's tree: a security administrator manages no account beyond it.
    grantee = make_user("grantee", tree.station_a1, "reporter")

    def act(op: str, relation: str) -> int:
        return do(client, op, relative_unit(tree, relation), grantee)

    def effect(op: str, relation: str) -> bool | None:
        return changed(op, relative_unit(tree, relation), grantee)

    assert role_faults(EXPECTED, role, MATRIX_RELATIONS, act, effect) == []


def test_outsider_reads_nothing_of_another_tree(personas, tree) -> None:
    client = Client()
    client.login(username="outsider", password=PASSWORD)
    listed = {u["code"] for u in client.get("/api/orgs/units").json()}
    assert listed == {"OTHER"}
    assert client.get(f"/api/orgs/units/{tree.city.code}").status_code == 403


def test_anonymous_is_sent_to_login_and_api_says_401(tree) -> None:
    client = Client()
    assert client.get("/orgs/").status_code == 302
    assert client.get("/api/orgs/units").status_code == 401


def test_unit_list_is_scoped_to_the_subtree(personas, tree) -> None:
    client = Client()
    client.login(username="county_reporter", password=PASSWORD)
    listed = {u["code"] for u in client.get("/api/orgs/units").json()}
    assert listed == {"COUNTY-A", "STATION-A1"}
