"""The daily pass: the right points on the right days, idempotent, each e-mail sent once."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from duban.orgs.policy import SYSTEM
from duban.tasks import services
from duban.tasks.models import Reminder
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, settings):
    settings.DUBAN_TASK_REMIND_DAYS_BEFORE = [7, 1]
    settings.DUBAN_TASK_REMIND_DAYS_AFTER = [1, 7]
    settings.DUBAN_TASK_SUPERVISE_DAYS_AFTER = [14]
    settings.DUBAN_TASK_SUPERVISION_REPLY_DAYS = 5
    settings.DUBAN_TASK_MONTHLY_REPORT_DAY = 0  # off, except in the test about it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_user("lead_rep", tree.county_a, "reporter", email="rep@county-a.example")
    make_user("lead_boss", tree.county_a, "leader", email="boss@county-a.example")
    make_user("no_mail", tree.county_a, "reporter")
    task = make_task(
        tree.city, tree.county_a, start_date=date(2017, 1, 1), due_date=date(2017, 12, 31)
    )
    milestone = make_milestone(task, date(2017, 6, 30), title="完成调研")
    return task, milestone


def run(day: str) -> str:
    out = StringIO()
    call_command("tasks_daily", "--today", day, stdout=out)
    return out.getvalue()


def points(task) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return sorted((r.kind, r.trigger, r.offset_days) for r in Reminder.objects.filter(task=task))


def test_points_before_and_after_the_milestone(setup) -> None:
    task, _m = setup
    assert "0 reminders" in run("2017-06-22")  # 8 days before
    run("2017-06-23")  # 7 days before
    assert points(task) == [("reminder", "milestone_due", -7)]
    run("2017-06-29")
    run("2017-07-01")
    run("2017-07-07")
    assert points(task) == [
        ("reminder", "milestone_due", -7),
        ("reminder", "milestone_due", -1),
        ("reminder", "milestone_due", 1),
        ("reminder", "milestone_due", 7),
    ]
    run("2017-07-14")  # 14 days after: a supervision order with a reply deadline
    order = Reminder.objects.get(task=task, kind="supervision")
    assert (order.offset_days, order.reply_by, order.to_unit_id) == (
        14,
        date(2017, 7, 19),
        task.lead_unit_id,
    )
    assert "已逾期 14 天" in order.message


def test_running_twice_issues_and_sends_nothing_twice(setup) -> None:
    task, _m = setup
    run("2017-06-23")
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["rep@county-a.example"]
    run("2017-06-23")
    run("2017-06-24")  # the same point is still the latest reached
    assert Reminder.objects.filter(task=task).count() == 1
    assert len(mail.outbox) == 1
    run("2017-07-14")
    order_mail = [
        e for e in mail.outbox if "rep@county-a.example" in e.to and "boss@county-a.example" in e.to
    ]
    assert len(order_mail) == 1  # the supervision order also goes to the lead unit's leader
    before = (Reminder.objects.count(), len(mail.outbox))
    run("2017-07-14")
    assert (Reminder.objects.count(), len(mail.outbox)) == before


def test_a_late_first_run_issues_only_the_latest_point(setup) -> None:
    task, _m = setup
    run("2017-07-20")  # the pass did not run for weeks: no back-filling of -7, -1, +1
    assert points(task) == [("reminder", "milestone_due", 7), ("supervision", "milestone_due", 14)]


def test_met_milestones_and_done_tasks_are_left_alone(setup) -> None:
    task, m = setup
    services.mark_milestone_met(m, user=SYSTEM, on=date(2017, 6, 20), today=date(2017, 6, 20))
    run("2017-06-29")
    assert points(task) == []
    services.declare_done(task, user=SYSTEM, today=date(2017, 12, 20))
    run("2018-01-30")
    assert points(task) == []


def test_monthly_report_reminder_once_a_month(setup, settings) -> None:
    settings.DUBAN_TASK_MONTHLY_REPORT_DAY = 25
    task, _m = setup
    run("2017-05-24")
    assert points(task) == []
    run("2017-05-25")
    run("2017-05-31")
    assert points(task) == [("reminder", "monthly_report", 0)]
    services.submit_report(task, user=SYSTEM, text="六月进展", percent=50, today=date(2017, 6, 3))
    run("2017-06-25")
    monthly = Reminder.objects.filter(task=task, trigger="monthly_report").order_by("due_point")
    assert [r.due_point for r in monthly.all()] == [date(2017, 5, 1)]  # June was reported
    run("2017-07-25")
    assert [r.due_point for r in monthly.all()] == [date(2017, 5, 1), date(2017, 7, 1)]


def test_no_email_when_not_configured(setup, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "localhost"
    run("2017-06-23")
    assert Reminder.objects.count() == 1 and not Reminder.objects.get().email_wanted
    assert mail.outbox == []


def test_frozen_clock_default_today(setup) -> None:
    task, _m = setup
    with time_machine.travel("2017-06-29 08:00 +0800", tick=False):
        call_command("tasks_daily", stdout=StringIO())
    assert points(task) == [("reminder", "milestone_due", -1)]


def test_bad_date_is_refused() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("tasks_daily", "--today", "2017-13-01", stdout=StringIO())


def test_unique_constraint_backs_the_pass(setup) -> None:
    task, m = setup
    run("2017-06-23")
    r = Reminder.objects.get()
    dup = services.create_unique(
        Reminder,
        task=task,
        milestone=m,
        kind=r.kind,
        trigger=r.trigger,
        due_point=r.due_point,
        offset_days=r.offset_days,
        issued_on=r.issued_on + timedelta(days=1),
        to_unit=task.lead_unit,
        message="x",
    )
    assert dup is None and Reminder.objects.count() == 1


@time_machine.travel("2017-06-26 10:00 +0800", tick=False)
def test_the_office_reminds_by_hand_from_the_task_page_once_a_day(setup) -> None:
    from django.test import Client

    from duban.audit.models import AuditEntry
    from duban.testing import PASSWORD

    task, _milestone = setup
    make_user("city_office", task.issuing_unit, "office")
    office = Client()
    office.login(username="city_office", password=PASSWORD)
    office.cookies["django_language"] = "zh-hans"
    page = office.get(f"/tasks/{task.pk}/").content.decode()
    assert "催办" in page and f"/tasks/{task.pk}/remind/" in page
    r = office.post(f"/tasks/{task.pk}/remind/")
    assert r.status_code == 302
    sent = Reminder.objects.get(task=task, trigger="manual")
    assert (sent.kind, sent.to_unit, sent.issued_on, sent.due_point) == (
        "reminder",
        task.lead_unit,
        date(2017, 6, 26),
        date(2017, 6, 30),
    )
    assert "完成调研" in sent.message and sent.issued_by.username == "city_office"
    assert AuditEntry.objects.filter(
        action="tasks.reminder.created", actor__username="city_office"
    ).exists()
    again = office.post(f"/tasks/{task.pk}/remind/", follow=True).content.decode()
    assert "今天已催办过牵头单位" in again
    assert Reminder.objects.filter(task=task, trigger="manual").count() == 1
    lead = Client()
    lead.login(username="lead_rep", password=PASSWORD)
    assert f"/tasks/{task.pk}/remind/" not in lead.get(f"/tasks/{task.pk}/").content.decode()
    assert lead.post(f"/tasks/{task.pk}/remind/").status_code == 403


def test_the_reminder_mail_is_worded_in_each_recipients_language(setup) -> None:
    """The pass's reminder to an English-speaking reporter comes in English, subject and words;
    the Chinese reporter's in Chinese; each language its own mail."""
    task, _m = setup
    make_user("lead_en", task.lead_unit, "reporter", email="en@county-a.example", language="en")
    run("2017-06-23")  # 7 days before the milestone
    by_to = {tuple(m.to): m for m in mail.outbox}
    assert set(by_to) == {("rep@county-a.example",), ("en@county-a.example",)}
    english, chinese = by_to[("en@county-a.example",)], by_to[("rep@county-a.example",)]
    assert english.subject.startswith("[Reminder (催办)] ")
    assert "is due on 2017-06-30, in 7 days." in english.body and "完成调研" in english.body
    assert chinese.subject == "[催办] 推进执法规范化建设"
    assert (
        chinese.body
        == "任务“推进执法规范化建设”的时间节点 1“完成调研”应于 2017-06-30 完成，还剩 7 天。"
    )
    reminder = Reminder.objects.get(task=task)
    assert reminder.email_to == "en@county-a.example, rep@county-a.example"
