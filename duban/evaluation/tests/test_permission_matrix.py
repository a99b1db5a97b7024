"""Every evaluation route × role × own / child / sibling / parent, through real HTTP.

Cells are written by hand. Reading a unit's results needs VIEW_DATA over that
unit (office, reporter, approver, leader; subtree); managing a scheme needs
MANAGE_EVALUATION over its issuer (office; subtree). The actor sits at COUNTY-A.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.test import Client

from duban.evaluation import services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Objection, Publication, Scheme
from duban.evaluation.tests.conftest import scheme_data
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.testing import (
    MATRIX_RELATIONS,
    MATRIX_ROLES,
    PASSWORD,
    Expected,
    log_in_actor,
    make_user,
    relative_unit,
    role_faults,
)

DOWN = {"own", "child"}
READERS = {"office": DOWN, "reporter": DOWN, "approver": DOWN, "leader": DOWN}
OFFICE = {"office": DOWN}

EXPECTED: Expected = {
    "unit_page": READERS, "unit_api": READERS, "scores_page": READERS, "scores_api": READERS,
    "reconciliation_page": READERS, "publication_page": READERS, "publication_api": READERS,
    "copy_page": OFFICE, "copy_api": OFFICE, "item_patch_api": OFFICE, "item_edit_page": OFFICE,
    "publish_api": OFFICE, "ruling_api": OFFICE, "scheme_page": READERS, "yaml": READERS,
    "lodge_api": {"office": {"own"}, "leader": {"own"}}, "finalise_page": OFFICE,
}  # fmt: skip
# lodge: only the objecting unit's own office or leader (Action.LODGE_OBJECTION, Reach.SELF).


@pytest.fixture
def world(tree, indicators):
    """A published scheme of PROV scoring all four units, and one draft issued at each of them."""
    shared = services.save_engine_scheme(data_to_engine(scheme_data()), user=SYSTEM)
    services.publish_scheme(shared, user=SYSTEM)
    with time_machine.travel(date(2018, 1, 10), tick=False):
        pub = services.publish_results(
            shared, "2017Q1", user=SYSTEM, objection_deadline=date(2018, 1, 20)
        )
    for unit in (tree.county_a, tree.station_a1, tree.county_b, tree.city):
        members = tuple(
            u.code
            for u in OrgUnit.objects.subtree_of(unit)
            .exclude(level="city")
            .exclude(pk=tree.division.pk)
        ) or (unit.code,)
        if unit == tree.city:
            members = ("COUNTY-B",)  # a parent's scheme over a sibling only
        draft = services.save_engine_scheme(
            data_to_engine(scheme_data(unit.code, members, code=f"d-{unit.code}")), user=SYSTEM
        )
        services.publish_scheme(draft, user=SYSTEM)
        with time_machine.travel(date(2018, 1, 10), tick=False):
            p = services.publish_results(
                draft, "2017Q1", user=SYSTEM, objection_deadline=date(2018, 1, 20)
            )
        Objection.objects.create(publication=p, unit=OrgUnit.objects.get(code=members[-1]), text="x",
                                 lodged_at=p.published_at)  # fmt: skip
    return shared, pub


def do(client: Client, op: str, unit: OrgUnit, shared: Scheme, pub: Publication) -> int:
    own = Scheme.objects.get(code=f"d-{unit.code}")
    own_pub = own.publications.get()
    c = unit.code
    if op == "unit_page":
        return client.get(f"/evaluation/schemes/{shared.code}/units/{c}/?period=2017Q1").status_code
    if op == "unit_api":
        return client.get(
            f"/api/evaluation/schemes/{shared.code}/units/{c}?period=2017Q1"
        ).status_code
    # the scheme-wide reads of a scheme scoring only this unit's subtree, issued at it
    if op == "scores_page":
        return client.get(f"/evaluation/schemes/{own.code}/scores/?period=2017Q1").status_code
    if op == "scores_api":
        return client.get(f"/api/evaluation/schemes/{own.code}/scores?period=2017Q1").status_code
    if op == "reconciliation_page":
        return client.get(
            f"/evaluation/schemes/{own.code}/reconciliation/?period=2017Q1"
        ).status_code
    if op == "scheme_page":
        return client.get(f"/evaluation/schemes/{own.code}/").status_code
    if op == "yaml":
        return client.get(f"/evaluation/schemes/{own.code}/scheme.yaml").status_code
    if op == "publication_page":
        return client.get(f"/evaluation/publications/{own_pub.pk}/").status_code
    if op == "publication_api":
        return client.get(f"/api/evaluation/publications/{own_pub.pk}").status_code
    if op == "copy_page":
        s = client.post(f"/evaluation/schemes/{own.code}/copy/").status_code
        return 200 if s == 302 else s
    if op == "copy_api":
        s = client.post(f"/api/evaluation/schemes/{own.code}/copy").status_code
        return 200 if s == 201 else s
    if op in ("item_patch_api", "item_edit_page"):
        copy = services.copy_scheme_as_draft(own, user=SYSTEM, code=f"w-{c}")
        if op == "item_edit_page":
            return client.get(f"/evaluation/schemes/{copy.code}/items/poll/edit/").status_code
        return client.patch(f"/api/evaluation/schemes/{copy.code}/items/poll", json.dumps({"points": "12"}),
                            content_type="application/json").status_code  # fmt: skip
    if op == "publish_api":
        s = client.post(f"/api/evaluation/schemes/{own.code}/publications",
                        json.dumps({"period": "2017Q2", "objection_deadline": "2018-01-30"}),
                        content_type="application/json").status_code  # fmt: skip
        return 200 if s == 201 else s
    if op == "ruling_api":
        o = own_pub.objections.get()
        return client.post(f"/api/evaluation/objections/{o.pk}/ruling",
                           json.dumps({"upheld": False, "reason": "不成立"}),
                           content_type="application/json").status_code  # fmt: skip
    if op == "lodge_api":
        s = client.post(
            f"/api/evaluation/publications/{pub.pk}/objections",
            json.dumps({"unit": c, "text": "数据有误"}),
            content_type="application/json",
        ).status_code
        return 200 if s == 201 else s
    if op == "finalise_page":
        own_pub.objections.all().delete()
        with time_machine.travel(date(2018, 1, 21), tick=False):
            s = client.post(f"/evaluation/publications/{own_pub.pk}/finalise/").status_code
        return 200 if s == 302 else s
    raise AssertionError(op)


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_cells(tree, world, role: str) -> None:
    """Every op × relation for one role; the world is built once per role (it is costly)."""
    shared, pub = world
    client = log_in_actor(tree.county_a, role)

    def act(op: str, relation: str) -> int:
        if op == "finalise_page":  # sets its own clock
            return do(client, op, relative_unit(tree, relation), shared, pub)
        with time_machine.travel(date(2018, 1, 12), tick=False):
            return do(client, op, relative_unit(tree, relation), shared, pub)

    assert role_faults(EXPECTED, role, MATRIX_RELATIONS, act) == []


def test_a_county_sees_only_its_own_rows(tree, world) -> None:
    shared, _ = world
    make_user("rep", tree.county_a, "reporter")
    client = Client()
    client.login(username="rep", password=PASSWORD)
    data = client.get(f"/api/evaluation/schemes/{shared.code}/scores?period=2017Q1").json()
    assert {u["code"] for u in data["units"]} == {"COUNTY-A", "STATION-A1"}


def test_anonymous(tree, world) -> None:
    assert Client().get("/evaluation/").status_code == 302
    assert Client().get("/api/evaluation/schemes").status_code == 401
