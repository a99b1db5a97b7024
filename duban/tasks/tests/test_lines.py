"""A division head follows his line's tasks in the territorial units under his parent
(issue 11, item 2), and only those."""

from __future__ import annotations

from datetime import date

import pytest

from duban.orgs.models import Line
from duban.orgs.policy import SYSTEM
from duban.tasks import access, services
from duban.testing import logged_in, make_unit, make_user

pytestmark = pytest.mark.django_db


def _task(tree, title: str, **fields):
    return services.create_task(
        user=SYSTEM,
        issuing_unit=tree.city,
        lead_unit=tree.county_a,
        title=title,
        start_date=date(2026, 1, 1),
        due_date=date(2026, 12, 31),
        **fields,
    )


def test_the_traffic_head_sees_traffic_tasks_of_the_counties_only(tree) -> None:
    traffic = make_unit("TRAFFIC", tree.city, level="city", kind="division", line=Line.TRAFFIC)
    head = make_user("traffic_head", traffic, "leader")
    yellow = _task(tree, "淘汰黄标车百日攻坚", line=Line.TRAFFIC)
    discipline = _task(tree, "队伍作风整顿")
    elsewhere = services.create_task(
        user=SYSTEM,
        issuing_unit=tree.other_city,
        lead_unit=tree.other_city,
        title="外市黄标车",
        start_date=date(2026, 1, 1),
        due_date=date(2026, 12, 31),
        line=Line.TRAFFIC,
    )
    assert set(access.visible_tasks(head)) == {yellow}
    assert access.can_view(head, yellow)
    assert not access.can_view(head, discipline) and not access.can_view(head, elsewhere)
    assert not access.can_manage(head, yellow)
    client = logged_in("traffic_head")
    assert [t["title"] for t in client.get("/api/tasks/tasks").json()] == ["淘汰黄标车百日攻坚"]
    assert client.get(f"/api/tasks/tasks/{discipline.pk}").status_code == 403


def test_a_task_tied_to_an_indicator_takes_its_line(tree) -> None:
    from duban.indicators import services as ind_services

    traffic = make_unit("TRAFFIC", tree.city, level="city", kind="division", line=Line.TRAFFIC)
    ind_services.create_indicator(
        user=SYSTEM,
        issuer=tree.city,
        code="traffic.yellow",
        name_zh="淘汰黄标车",
        value_type="integer",
        levels=["county"],
        kinds=["territorial"],
        division=traffic,
    )
    task = _task(tree, "黄标车", indicator_code="traffic.yellow", indicator_target=100)
    assert task.line == Line.TRAFFIC
