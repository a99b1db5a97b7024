"""Bad task input is a 400 naming the field; a stored control character breaks no ledger
(issue 10, items 9 and 11)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.test import Client
from openpyxl import load_workbook

from duban.tasks.api import MilestonePatch, TaskPatch
from duban.tasks.models import Milestone, Task
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import PASSWORD

TASK_NULL_REFUSED = (
    "kind", "title", "description", "expected_result", "lead_unit", "partners", "responsible",
    "start_date", "due_date", "tags", "indicator_code",
)  # fmt: skip
TASK_NULL_MEANS_NONE = ("indicator_target",)
MILESTONE_NULL_REFUSED = ("title", "due_date", "deliverable", "owner", "seq")


def office() -> Client:
    client = Client()
    assert client.login(username="prov_office", password=PASSWORD)
    return client


def patch(url: str, body: dict[str, object]):
    return office().patch(url, json.dumps(body), content_type="application/json")


def test_every_patch_field_is_covered() -> None:
    assert set(TaskPatch.model_fields) == set(TASK_NULL_REFUSED) | set(TASK_NULL_MEANS_NONE)
    assert set(MilestonePatch.model_fields) == set(MILESTONE_NULL_REFUSED)


@pytest.mark.parametrize("field", TASK_NULL_REFUSED)
def test_task_patch_null_is_a_400_naming_the_field(tree, personas, field: str) -> None:
    """{"description": null} reached the database as NULL: an IntegrityError, a 500."""
    task = make_task(tree.city, tree.county_a)
    before = Task.objects.values().get(pk=task.pk)
    r = patch(f"/api/tasks/tasks/{task.pk}", {field: None})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"where": field, "message": "不能为 null：如要保留原值，请不要提交此字段"}
    ]
    assert Task.objects.values().get(pk=task.pk) == before


def test_task_patch_null_target_clears_it(tree, personas) -> None:
    task = make_task(tree.city, tree.county_a, indicator_code="case.filed", indicator_target=5)
    r = patch(f"/api/tasks/tasks/{task.pk}", {"indicator_target": None})
    assert r.status_code == 200
    assert Task.objects.get(pk=task.pk).indicator_target is None


@pytest.mark.parametrize("field", MILESTONE_NULL_REFUSED)
def test_milestone_patch_null_is_a_400_naming_the_field(tree, personas, field: str) -> None:
    task = make_task(tree.city, tree.county_a)
    m = make_milestone(task, date(2017, 6, 30))
    r = patch(f"/api/tasks/milestones/{m.pk}", {field: None})
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == field
    assert Milestone.objects.get(pk=m.pk).title == m.title


def test_a_stored_control_character_does_not_break_the_ledger(tree, personas) -> None:
    """A title with U+0005 stored before the input check broke /api/tasks/ledger.xlsx."""
    task = make_task(tree.city, tree.county_a)
    Task.objects.filter(pk=task.pk).update(title="推进\x05工作")
    for url in ("/api/tasks/ledger.xlsx", "/tasks/ledger.xlsx"):
        r = office().get(url)
        assert r.status_code == 200
        titles = [
            row[3]
            for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
        ]
        assert "推进工作" in titles
