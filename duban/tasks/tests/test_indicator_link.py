"""A task linked to an indicator is declared done by the daily pass when the target is reached."""

from __future__ import annotations

from decimal import Decimal

import time_machine
from django.core.management import call_command
from django.utils import timezone

from duban.reporting.models import DataValue
from duban.reporting.tests.conftest import make_form
from duban.tasks.tests.factories import make_task


@time_machine.travel("2017-11-20 09:00 +0800", tick=False)
def test_daily_pass_marks_the_task_done_when_the_ytd_figure_reaches_the_target(tree) -> None:
    form = make_form(tree)
    task = make_task(
        tree.city, tree.county_a, title="破案攻坚", indicator_code="case.solved",
        indicator_target=Decimal(30),
    )  # fmt: skip
    now = timezone.now()
    for period, value in (("201709", 12), ("201710", 10)):  # 22 < 30
        DataValue.objects.create(
            unit=tree.county_a, indicator=form.solved, period=period, value=value, updated_at=now
        )
    call_command("tasks_daily")
    task.refresh_from_db()
    assert task.completed_on is None
    DataValue.objects.create(
        unit=tree.county_a, indicator=form.solved, period="201711", value=8, updated_at=now
    )
    call_command("tasks_daily")  # 12 + 10 + 8 = 30: reached
    task.refresh_from_db()
    assert task.completed_on is not None and task.closed_on is None  # awaiting the issuer's check
    call_command("tasks_daily")  # twice: nothing more happens
    task.refresh_from_db()
    assert task.closed_on is None
