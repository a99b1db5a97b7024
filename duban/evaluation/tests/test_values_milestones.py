"""A scheme item scores a unit by its share of key-task milestones met on time (issue 5, item 8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import time_machine

from duban.evaluation import services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.scoring import score
from duban.evaluation.tests.conftest import scheme_data
from duban.evaluation.values import MILESTONE_SHARE
from duban.orgs.policy import SYSTEM
from duban.tasks import services as task_services
from duban.tasks.tests.factories import make_task


@time_machine.travel("2018-01-15 10:00 +0800", tick=False)
def test_milestone_share_scores_through_an_attainment_item(tree, indicators) -> None:
    data = scheme_data(members=("COUNTY-A", "COUNTY-B"))
    data["items"].append(
        {"code": "roadmap", "category": "work", "indicator": MILESTONE_SHARE, "name": "时间节点按期完成率",
         "points": Decimal(10), "rule": {"kind": "attainment"}, "target": {"default": Decimal(100)},
         "rule_text": "按期完成率×10分"}
    )  # fmt: skip
    scheme = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(scheme, user=SYSTEM)
    task = make_task(
        tree.city, tree.county_a, start_date=date(2017, 1, 1), due_date=date(2017, 12, 31)
    )
    on_time = task_services.add_milestone(
        task, user=SYSTEM, title="调研", due_date=date(2017, 3, 31)
    )
    late = task_services.add_milestone(task, user=SYSTEM, title="推开", due_date=date(2017, 6, 30))
    task_services.mark_milestone_met(on_time, user=SYSTEM, on=date(2017, 3, 20))
    task_services.mark_milestone_met(late, user=SYSTEM, on=date(2017, 7, 10))
    result = score(scheme, "2017").result
    item = result.units["COUNTY-A"].items["roadmap"]
    # 1 of 2 milestones on time: 50 %, against a 100 % target: 10 × 0.5 = 5.00 points
    assert item.value == Decimal(50) and item.score == Decimal(5)
    assert "missing" in result.units["COUNTY-B"].items["roadmap"].flags  # leads no task: no value
