"""Every role × own / child / sibling / parent unit × read / write, through real HTTP.

The expected cells are written out by hand below, not derived from the policy
module, so a wrong rule there fails here.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.orgs.models import Membership, OrgUnit
from duban.testing import MATRIX_ROLES, NO_CELLS, PASSWORD, make_user

ROLES = MATRIX_ROLES
RELATIONS = ["own", "child", "sibling", "parent"]
ALL = set(RELATIONS)
DOWN = {"own", "child"}
NONE: frozenset[str] = NO_CELLS

# operation -> role -> relations where it succeeds
EXPECTED: dict[str, dict[str, set[str]]] = {
    "read_unit_api": {r: DOWN for r in ROLES},
    "read_unit_page": {r: DOWN for r in ROLES},
    "write_unit_api": {"system_admin": DOWN} | {r: NONE for r in ROLES if r != "system_admin"},
    "write_unit_page": {"system_admin": DOWN} | {r: NONE for r in ROLES if r != "system_admin"},
    "read_members_api": {"security_admin": DOWN}
    | {r: NONE for r in ROLES if r != "security_admin"},
    "write_members_api": {"security_admin": DOWN}
    | {r: NONE for r in ROLES if r != "security_admin"},
    "read_audit_api": {"audit_admin": DOWN} | {r: NONE for r in ROLES if r != "audit_admin"},
    "read_audit_page": {"audit_admin": DOWN} | {r: NONE for r in ROLES if r != "audit_admin"},
}


def target(tree, relation: str) -> OrgUnit:
    return {
        "own": tree.county_a,
        "child": tree.station_a1,
        "sibling": tree.county_b,
        "parent": tree.city,
    }[relation]


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


CELLS = [(op, role, rel) for op in EXPECTED for role in ROLES for rel in RELATIONS]


@pytest.mark.parametrize(("op", "role", "relation"), CELLS, ids=["-".join(c) for c in CELLS])
def test_cell(tree, op: str, role: str, relation: str) -> None:
    make_user("actor", tree.county_a, role)
    grantee = make_user("grantee")
    client = Client()
    assert client.login(username="actor", password=PASSWORD)
    unit = target(tree, relation)
    denied_before = AuditEntry.objects.filter(action="access.denied").count()

    status = do(client, op, unit, grantee)

    allowed = relation in EXPECTED[op][role]
    assert status == (200 if allowed else 403), f"{role} {op} on {relation}: {status}"
    effect = changed(op, unit, grantee)
    if effect is not None:
        assert effect is allowed, "a refused write changed data, or an allowed one did not"
    denied_after = AuditEntry.objects.filter(action="access.denied").count()
    assert denied_after - denied_before == (0 if allowed else 1), "every refusal is recorded once"


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
