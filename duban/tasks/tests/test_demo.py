"""The demo loads on top of `duban demo`, shows every colour, and adds nothing the second time."""

from __future__ import annotations

from datetime import date

import pytest

from duban.demo.loader import load_demo
from duban.meetings.demo import load_meetings_demo
from duban.meetings.models import DecidedMatter, Meeting
from duban.tasks.demo import load_tasks_demo
from duban.tasks.ledger import ledger_rows, status_counts
from duban.tasks.models import Reminder, Task

pytestmark = pytest.mark.django_db
TODAY = date(2017, 7, 10)


@pytest.mark.once
def test_demo_shows_the_half_year_picture_and_is_idempotent() -> None:
    load_demo(activity=False)
    assert load_tasks_demo(TODAY) == 16
    assert load_meetings_demo(TODAY) > 4
    counts = (Task.objects.count(), Meeting.objects.count(), Reminder.objects.count())
    assert load_tasks_demo(TODAY) == 0 and load_meetings_demo(TODAY) == 0
    assert (Task.objects.count(), Meeting.objects.count(), Reminder.objects.count()) == counts

    sx = status_counts(ledger_rows(Task.objects.filter(issuing_unit__code="SX"), TODAY))
    assert sx["overdue"] >= 2 and sx["at_risk"] >= 2 and sx["on_track"] >= 2 and sx["done"] == 1
    reopened = Task.objects.get(title="立体化社会治安防控体系建设")
    assert reopened.reopen_reason and reopened.closed_on is None
    assert Reminder.objects.filter(kind="supervision", trigger="manual").count() == 1
    assert Reminder.objects.filter(kind="supervision").exclude(trigger="manual").exists()
    assert DecidedMatter.objects.filter(meeting__unit__code="YZ", task__isnull=False).count() >= 6
    yz = status_counts(ledger_rows(Task.objects.filter(issuing_unit__code="YZ"), TODAY))
    assert yz["closed"] >= 1 and yz["overdue"] >= 1
