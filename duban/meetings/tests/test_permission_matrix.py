"""Every meeting route × role × where the meeting sits, through real HTTP (hand-written cells).

The actor holds one role at COUNTY-A. The meeting is convened by his unit, a
child, a sibling or the parent, or by the parent with his unit participating
(`joined_here`). Unit routes (the cadence) take the convening unit.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.test import Client

from duban.meetings import services
from duban.meetings.models import Cadence, CadenceRecord, DecidedMatter, Meeting
from duban.orgs.policy import SYSTEM
from duban.testing import (
    MATRIX_RELATIONS,
    MATRIX_ROLES,
    RELATIVES,
    Expected,
    log_in_actor,
    only,
    role_faults,
)

RELATIONS = [*MATRIX_RELATIONS, "joined_here"]
BUSINESS = ["office", "reporter", "approver", "leader"]

VIEW = only({r: {"own", "child", "joined_here"} for r in BUSINESS})
VIEW_UNIT = only({r: {"own", "child"} for r in BUSINESS})
MANAGE = only({"office": {"own", "child"}})

EXPECTED: Expected = {
    "read_page": VIEW,
    "read_api": VIEW,
    "agenda_api": VIEW,
    "edit_page": MANAGE,
    "edit_api": MANAGE,
    "minutes_page": MANAGE,
    "decide_page": MANAGE,
    "decide_api": MANAGE,
    "supervise_page": MANAGE,
    "supervise_api": MANAGE,
    "cadence_page": VIEW_UNIT,
    "cadence_api": VIEW_UNIT,
    "cadence_set_page": MANAGE,
    "cadence_set_api": MANAGE,
    "held_api": MANAGE,
}
PLACES = RELATIVES | {"joined_here": "city"}


def place(tree, relation: str) -> Meeting:
    unit = getattr(tree, PLACES[relation])
    participants = [tree.county_a] if relation == "joined_here" else []
    meeting = services.create_meeting(
        unit,
        user=SYSTEM,
        kind="dispatch",
        title="调度会",
        held_on=date(2017, 12, 8),
        participants=participants,
    )
    services.decide(
        meeting,
        user=SYSTEM,
        text="待督办事项",
        lead_unit=unit,
        due_date=date(2017, 12, 31),
        supervise=False,
    )
    return meeting


def do(client: Client, op: str, m: Meeting) -> int:
    j = "application/json"
    code = m.unit.code
    matter = m.decisions.get()
    ok = {302: 200, 201: 200}
    if op == "read_page":
        s = client.get(f"/meetings/{m.pk}/").status_code
    elif op == "read_api":
        s = client.get(f"/api/meetings/meetings/{m.pk}").status_code
    elif op == "agenda_api":
        s = client.get(f"/api/meetings/meetings/{m.pk}/agenda").status_code
    elif op == "edit_page":
        s = client.get(f"/meetings/{m.pk}/edit/").status_code
    elif op == "edit_api":
        s = client.patch(
            f"/api/meetings/meetings/{m.pk}", json.dumps({"minutes": "纪要"}), content_type=j
        ).status_code
    elif op == "minutes_page":
        s = client.post(f"/meetings/{m.pk}/minutes/", {"minutes": "纪要"}).status_code
    elif op == "decide_page":
        s = client.post(
            f"/meetings/{m.pk}/decide/",
            {"text": "议定", "lead_unit": m.unit_id, "due_date": "2017-12-30", "supervise": "on"},
        ).status_code
    elif op == "decide_api":
        s = client.post(
            f"/api/meetings/meetings/{m.pk}/decisions",
            json.dumps({"text": "议定", "lead_unit": code, "due_date": "2017-12-30"}),
            content_type=j,
        ).status_code
    elif op == "supervise_page":
        s = client.post(f"/meetings/decisions/{matter.pk}/supervise/").status_code
    elif op == "supervise_api":
        s = client.post(f"/api/meetings/decisions/{matter.pk}/supervise").status_code
    elif op == "cadence_page":
        s = client.get(f"/meetings/cadence/{code}/?year=2017").status_code
    elif op == "cadence_api":
        s = client.get(f"/api/meetings/units/{code}/cadence?year=2017").status_code
    elif op == "cadence_set_page":
        s = client.post(
            f"/meetings/cadence/{code}/",
            {"c-mechanism": "monthly_study", "c-since": "2017-01-01", "c-active": "on"},
        ).status_code
    elif op == "cadence_set_api":
        s = client.put(
            f"/api/meetings/units/{code}/cadence",
            json.dumps({"mechanism": "monthly_study", "since": "2017-01-01"}),
            content_type=j,
        ).status_code
    elif op == "held_api":
        s = client.post(
            f"/api/meetings/units/{code}/cadence/held",
            json.dumps(
                {"mechanism": "monthly_bulletin", "period": "201711", "held_on": "2017-11-05"}
            ),
            content_type=j,
        ).status_code
    else:
        raise AssertionError(op)
    return ok.get(s, s)


def changed(op: str, m: Meeting) -> bool | None:
    fresh = Meeting.objects.get(pk=m.pk)
    if op in ("edit_api", "minutes_page"):
        return fresh.minutes == "纪要"
    if op.startswith("decide"):
        return DecidedMatter.objects.filter(meeting=m).count() == 2
    if op.startswith("supervise"):
        return DecidedMatter.objects.get(meeting=m, seq=1).task_id is not None
    if op.startswith("cadence_set"):
        return Cadence.objects.filter(unit=m.unit).exists()
    if op == "held_api":
        return CadenceRecord.objects.filter(unit=m.unit).exists()
    return None


@pytest.mark.parametrize("role", MATRIX_ROLES)
@time_machine.travel("2017-12-08 10:00 +0800", tick=False)
def test_cells(tree, role: str) -> None:
    """Every op × relation for one role: the meetings are placed once, each cell runs in a
    savepoint rolled back afterwards."""
    meetings = {relation: place(tree, relation) for relation in RELATIONS}
    client = log_in_actor(tree.county_a, role)

    def act(op: str, relation: str) -> int:
        return do(client, op, meetings[relation])

    def effect(op: str, relation: str) -> bool | None:
        return changed(op, meetings[relation])

    assert role_faults(EXPECTED, role, RELATIONS, act, effect) == []
