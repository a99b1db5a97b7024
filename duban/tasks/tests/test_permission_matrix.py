"""Every task route × role × where the task sits, through real HTTP.

The actor holds one role at COUNTY-A. The task is issued and led by his own
unit, a child, a sibling or the parent; or issued by the parent and led by his
unit (`led_here`); or issued by the parent, led by the sibling, with his unit
co-operating (`partner_here`). The expected cells are written by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from duban.orgs.policy import SYSTEM
from duban.tasks import services
from duban.tasks.models import Milestone, Reminder, Task
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import (
    MATRIX_RELATIONS,
    MATRIX_ROLES,
    Expected,
    log_in_actor,
    only,
    role_faults,
)

RELATIONS = [*MATRIX_RELATIONS, "led_here", "partner_here"]
BUSINESS = ["office", "reporter", "approver", "leader"]
SEE = {"own", "child", "led_here", "partner_here"}

VIEW = only({r: SEE for r in BUSINESS})
MANAGE = only({"office": {"own", "child"}})
LEAD = only({"reporter": {"own", "led_here"}})
REPORT = only({"reporter": {"own", "led_here", "partner_here"}})
MET = only({"reporter": {"own", "led_here"}, "office": {"own", "child"}})

EXPECTED: Expected = {
    "read_task_page": VIEW,
    "read_task_api": VIEW,
    "read_reports_api": VIEW,
    "read_reminders_api": VIEW,
    "evidence_page": VIEW,
    "edit_task_page": MANAGE,
    "edit_task_api": MANAGE,
    "milestone_edit_page": MANAGE,
    "add_milestone_page": MANAGE,
    "add_milestone_api": MANAGE,
    "edit_milestone_api": MANAGE,
    "close_page": MANAGE,
    "close_api": MANAGE,
    "reopen_page": MANAGE,
    "reopen_api": MANAGE,
    "supervise_page": MANAGE,
    "supervise_api": MANAGE,
    "milestone_met_page": MET,
    "milestone_met_api": MET,
    "report_page": REPORT,
    "report_api": REPORT,
    "done_page": LEAD,
    "done_api": LEAD,
    "reply_page": LEAD,
    "reply_api": LEAD,
}

PLACES = {
    "own": ("county_a", "county_a", []),
    "child": ("station_a1", "station_a1", []),
    "sibling": ("county_b", "county_b", []),
    "parent": ("city", "city", []),
    "led_here": ("city", "county_a", []),
    "partner_here": ("city", "county_b", ["county_a"]),
}


def place(tree, relation: str) -> Task:
    issuer, lead, partners = PLACES[relation]
    return make_task(
        getattr(tree, issuer), getattr(tree, lead), partners=[getattr(tree, p) for p in partners]
    )


def prepare(op: str, task: Task, tmp_path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The state each operation needs, made by the system (no user)."""
    m = make_milestone(task, date(2017, 6, 30))
    ids = {"milestone": m.pk}
    if op.startswith("close"):
        services.declare_done(task, user=SYSTEM)
    if op.startswith("reopen"):
        services.declare_done(task, user=SYSTEM)
        services.close_task(task, user=SYSTEM)
    if op.startswith("reply"):
        ids["reminder"] = services.issue_supervision(task, user=SYSTEM, message="限期整改").pk
    if op == "evidence_page":
        f = SimpleUploadedFile("佐证.pdf", b"%PDF-1.4")
        r = services.submit_report(task, user=SYSTEM, text="进展", percent=10, files=[f])
        ids["evidence"] = r.evidence.get().pk
    return ids


def do(client: Client, op: str, task: Task, ids: dict[str, int], relation: str) -> int:
    pk = task.pk
    j = "application/json"
    report_unit = "COUNTY-A" if relation == "partner_here" else None
    ok = {302: 200, 201: 200}
    if op == "read_task_page":
        s = client.get(f"/tasks/{pk}/").status_code
    elif op == "read_task_api":
        s = client.get(f"/api/tasks/tasks/{pk}").status_code
    elif op == "read_reports_api":
        s = client.get(f"/api/tasks/tasks/{pk}/reports").status_code
    elif op == "read_reminders_api":
        s = client.get(f"/api/tasks/tasks/{pk}/reminders").status_code
    elif op == "evidence_page":
        s = client.get(f"/tasks/evidence/{ids['evidence']}/").status_code
    elif op == "edit_task_page":
        s = client.get(f"/tasks/{pk}/edit/").status_code
    elif op == "edit_task_api":
        s = client.patch(
            f"/api/tasks/tasks/{pk}", json.dumps({"title": "Renamed"}), content_type=j
        ).status_code
    elif op == "milestone_edit_page":
        s = client.get(f"/tasks/milestones/{ids['milestone']}/edit/").status_code
    elif op == "add_milestone_page":
        s = client.post(
            f"/tasks/{pk}/milestones/new/", {"title": "新节点", "due_date": "2017-09-30"}
        ).status_code
    elif op == "add_milestone_api":
        s = client.post(
            f"/api/tasks/tasks/{pk}/milestones",
            json.dumps({"title": "新节点", "due_date": "2017-09-30"}),
            content_type=j,
        ).status_code
    elif op == "edit_milestone_api":
        s = client.patch(
            f"/api/tasks/milestones/{ids['milestone']}",
            json.dumps({"title": "Renamed"}),
            content_type=j,
        ).status_code
    elif op == "close_page":
        s = client.post(f"/tasks/{pk}/close/").status_code
    elif op == "close_api":
        s = client.post(f"/api/tasks/tasks/{pk}/close", json.dumps({}), content_type=j).status_code
    elif op == "reopen_page":
        s = client.post(f"/tasks/{pk}/reopen/", {"reason": "材料不全"}).status_code
    elif op == "reopen_api":
        s = client.post(
            f"/api/tasks/tasks/{pk}/reopen", json.dumps({"reason": "材料不全"}), content_type=j
        ).status_code
    elif op == "supervise_page":
        s = client.post(
            f"/tasks/{pk}/supervise/", {"message": "限期整改", "reply_days": 5}
        ).status_code
    elif op == "supervise_api":
        s = client.post(
            f"/api/tasks/tasks/{pk}/supervision",
            json.dumps({"message": "限期整改"}),
            content_type=j,
        ).status_code
    elif op == "milestone_met_page":
        s = client.post(f"/tasks/milestones/{ids['milestone']}/met/").status_code
    elif op == "milestone_met_api":
        s = client.post(
            f"/api/tasks/milestones/{ids['milestone']}/met", json.dumps({}), content_type=j
        ).status_code
    elif op == "report_page":
        from duban.orgs.models import OrgUnit

        unit = OrgUnit.objects.get(code=report_unit) if report_unit else task.lead_unit
        s = client.post(
            f"/tasks/{pk}/report/", {"unit": unit.pk, "text": "进展", "percent": 30}
        ).status_code
    elif op == "report_api":
        body = {"text": "进展", "percent": 30} | ({"unit": report_unit} if report_unit else {})
        s = client.post(
            f"/api/tasks/tasks/{pk}/reports", json.dumps(body), content_type=j
        ).status_code
    elif op == "done_page":
        s = client.post(f"/tasks/{pk}/done/").status_code
    elif op == "done_api":
        s = client.post(f"/api/tasks/tasks/{pk}/done").status_code
    elif op == "reply_page":
        s = client.post(
            f"/tasks/reminders/{ids['reminder']}/reply/", {"text": "已整改"}
        ).status_code
    elif op == "reply_api":
        s = client.post(
            f"/api/tasks/reminders/{ids['reminder']}/reply",
            json.dumps({"text": "已整改"}),
            content_type=j,
        ).status_code
    else:
        raise AssertionError(op)
    return ok.get(s, s)


def changed(op: str, task: Task, ids: dict[str, int]) -> bool | None:
    t = Task.objects.get(pk=task.pk)
    if op == "edit_task_api":
        return t.title == "Renamed"
    if op.startswith("add_milestone"):
        return t.milestones.count() == 2
    if op.startswith("close"):
        return t.closed_on is not None
    if op.startswith("reopen"):
        return t.closed_on is None
    if op.startswith("supervise"):
        return Reminder.objects.filter(task=t, kind="supervision").exists()
    if op.startswith("milestone_met"):
        return Milestone.objects.get(pk=ids["milestone"]).met_on is not None
    if op.startswith("report"):
        return t.reports.exists()
    if op.startswith("done"):
        return t.completed_on is not None
    if op.startswith("reply"):
        return Reminder.objects.get(pk=ids["reminder"]).replied_on is not None
    return None


@pytest.mark.parametrize("role", MATRIX_ROLES)
@time_machine.travel("2017-07-10 10:00 +0800", tick=False)
def test_cells(tree, settings, tmp_path, role: str) -> None:
    """Every op × relation for one role: the six tasks are placed once, each cell runs in a
    savepoint rolled back afterwards."""
    settings.MEDIA_ROOT = tmp_path
    tasks = {relation: place(tree, relation) for relation in RELATIONS}
    act, effect = cell_runner(log_in_actor(tree.county_a, role), tasks, tmp_path)
    assert role_faults(EXPECTED, role, RELATIONS, act, effect) == []


def cell_runner(
    client: Client, tasks: dict[str, Task], tmp_path: Path
) -> tuple[Callable[[str, str], int], Callable[[str, str], bool | None]]:
    """`act` and `effect` for role_faults over tasks placed by relation."""
    ids: dict[str, int] = {}

    def act(op: str, relation: str) -> int:
        ids.clear()
        ids.update(prepare(op, tasks[relation], tmp_path))
        return do(client, op, tasks[relation], ids, relation)

    def effect(op: str, relation: str) -> bool | None:
        return changed(op, tasks[relation], ids)

    return act, effect
