"""The red-yellow-green board names overdue tasks with their lead unit and days overdue,
and the supervision orders waiting for a reply are listed; a sibling's are not."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from duban.orgs.policy import SYSTEM
from duban.tasks import services as task_services
from duban.tasks.tests.factories import make_task
from duban.testing import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(tree: Any, people: Any) -> None:
    """Clock: 2018-01-10. One task of COUNTY-A due 2017-12-31 (10 days overdue) under a
    supervision order; one of COUNTY-B, also overdue, the county leader must not see."""
    late = make_task(tree.city, tree.county_a, title="追逃攻坚", due_date=date(2017, 12, 31))
    make_task(tree.city, tree.county_b, title="黄标车清零", due_date=date(2017, 12, 25))
    task_services.issue_supervision(
        late, user=SYSTEM, message="限期办结", reply_days=10, today=date(2017, 12, 31)
    )


def test_the_city_sees_both_overdue_tasks_named_and_the_order(tasks: None) -> None:
    page = logged_in("city_leader").get("/cockpit/CITY/").content.decode()
    assert "<span>2</span> 已逾期" in page
    assert "追逃攻坚" in page and "黄标车清零" in page
    assert "逾期10天" in page and "逾期16天" in page
    assert '待回复的督办单 <small class="muted">1</small>' in page
    assert "回复期限 2018-01-10" in page
    assert page.count("/tasks/") >= 3


def test_the_county_sees_only_its_own(tasks: None) -> None:
    page = logged_in("county_leader").get("/cockpit/COUNTY-A/").content.decode()
    assert "追逃攻坚" in page and "黄标车清零" not in page
    assert "<span>1</span> 已逾期" in page
