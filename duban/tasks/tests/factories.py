"""Small task factories: defaults for everything, overrides by keyword."""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.tasks import services
from duban.tasks.models import Milestone, Task


def make_task(
    issuer: OrgUnit,
    lead: OrgUnit | None = None,
    partners: list[OrgUnit] | None = None,
    **fields: Any,
) -> Task:
    defaults: dict[str, Any] = {
        "title": "推进执法规范化建设",
        "start_date": date(2017, 1, 1),
        "due_date": date(2017, 12, 31),
    }
    defaults.update(fields)
    return services.create_task(
        user=SYSTEM,
        issuing_unit=issuer,
        lead_unit=lead or issuer,
        partners=partners or [],
        **defaults,
    )


def make_milestone(task: Task, due: date, **fields: Any) -> Milestone:
    fields.setdefault("title", f"节点 {due}")
    return services.add_milestone(task, user=SYSTEM, due_date=due, **fields)
