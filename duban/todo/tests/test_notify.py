"""Mail on a returned form, a submitted form and a supervision order (Django's locmem
backend), sent only once the transaction commits; the SMS hook logs."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from duban.orgs.policy import SYSTEM
from duban.reporting import services as reporting
from duban.reporting.models import State, Submission
from duban.reporting.tests.conftest import make_form, reported_below
from duban.tasks import services as tasks
from duban.tasks.tests.factories import make_task
from duban.testing import make_user


@pytest.fixture(autouse=True)
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def addressed(personas):
    for user, email in (
        (personas.county_reporter, "a@example.org"),
        (personas.sibling_reporter, "b@example.org"),
        (personas.city_approver, "approver@example.org"),
        (personas.leader, "leader@example.org"),
    ):
        user.email = email
        user.save()
    return personas


def test_a_submitted_form_mails_the_approvers_above_and_a_return_its_reporters(
    tree, addressed, django_capture_on_commit_callbacks
):
    form = make_form(tree, expiry_days=0)
    reported_below(form, tree)  # the station below has reported: the county may submit
    sub = reporting.get_or_create_submission(form.data_set, tree.county_a, "201712")
    with time_machine.travel("2018-01-02 09:00 +0800", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            reporting.submit(sub, user=SYSTEM)
        assert [(m.to, m.subject) for m in mail.outbox] == [
            (["approver@example.org"], "待您审核：甲县局的月报，2017年12月")
        ]
        assert "/reporting/forms/CITY-M/COUNTY-A/201712/" in mail.outbox[0].body
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            reporting.return_form(Submission.objects.get(pk=sub.pk), user=SYSTEM, reason="数字有误")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["a@example.org"], "退回修改：甲县局的月报，2017年12月")
    ]
    assert "数字有误" in mail.outbox[0].body
    assert Submission.objects.get(pk=sub.pk).state == State.RETURNED


def test_nothing_is_sent_when_the_work_is_rolled_back(tree, addressed):
    form = make_form(tree, expiry_days=0)
    reported_below(form, tree)  # the station below has reported: the county may submit
    sub = reporting.get_or_create_submission(form.data_set, tree.county_a, "201712")
    with time_machine.travel("2018-01-02 09:00 +0800", tick=False):
        reporting.submit(sub, user=SYSTEM)  # the test's transaction never commits
    assert mail.outbox == []


def test_the_leaders_are_left_to_the_daily_pass_when_it_mails_the_order(
    tree, addressed, django_capture_on_commit_callbacks
):
    make_user("a_office", tree.county_a, "office", email="office@example.org")
    make_user("a_leader", tree.county_a, "leader", email="boss@example.org")
    make_user("b_office", tree.county_b, "office", email="other@example.org")  # a sibling's
    task = make_task(tree.city, tree.county_a, title="整治积案")
    with django_capture_on_commit_callbacks(execute=True):
        order = tasks.issue_supervision(
            task, user=SYSTEM, message="限期整改", today=date(2017, 6, 1)
        )
    assert order.email_wanted  # tasks' daily pass mails its reporters and leaders
    assert [(m.to, m.subject) for m in mail.outbox] == [(["office@example.org"], "督办：整治积案")]
    assert "限期整改" in mail.outbox[0].body and "/tasks/inbox/" in mail.outbox[0].body


def test_the_sms_channel_is_a_hook_that_logs(
    tree, addressed, django_capture_on_commit_callbacks, caplog
):
    make_user("a_office", tree.county_a, "office", email="")
    task = make_task(tree.city, tree.county_a, title="整治积案")
    with (
        override_settings(DUBAN_NOTIFY_CHANNELS=["sms"]),
        caplog.at_level(logging.INFO, logger="duban.todo.notify"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.issue_supervision(task, user=SYSTEM, message="限期整改", today=date(2017, 6, 1))
    assert mail.outbox == []
    assert any("would tell a_office" in r.getMessage() for r in caplog.records)


def test_each_reporter_is_told_in_his_own_language(
    tree, addressed, django_capture_on_commit_callbacks
):
    """One mail per language: the Chinese reporter's in Chinese, the English one's in English,
    a reporter with no language set in the site's (Chinese)."""
    make_user("a_rep_en", tree.county_a, "reporter", email="en@example.org", language="en")
    make_user("a_rep_zh", tree.county_a, "reporter", email="zh@example.org", language="zh-hans")
    form = make_form(tree, expiry_days=0)
    reported_below(form, tree)
    sub = reporting.get_or_create_submission(form.data_set, tree.county_a, "201712")
    with time_machine.travel("2018-01-02 09:00 +0800", tick=False):
        reporting.submit(sub, user=SYSTEM)
        with django_capture_on_commit_callbacks(execute=True):
            reporting.return_form(Submission.objects.get(pk=sub.pk), user=SYSTEM, reason="数字有误")
    sent = {tuple(m.to): m for m in mail.outbox}
    assert set(sent) == {("en@example.org",), ("a@example.org", "zh@example.org")}
    english, chinese = sent[("en@example.org",)], sent[("a@example.org", "zh@example.org")]
    assert english.subject.startswith("Returned: ") and "County A" in english.subject
    assert "The form was returned for correction. Reason: 数字有误" in english.body
    assert chinese.subject == "退回修改：甲县局的月报，2017年12月"
    assert "退回" in chinese.body and "returned" not in chinese.body
