"""The to-do list, kind by kind, on hand-made data: who sees what, never a sibling's, and in a
fixed number of queries."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.utils import timezone, translation

from duban.bulletins.models import Bulletin, BulletinState, DocumentKind, Reading, Series
from duban.bulletins.services import mark_read
from duban.evaluation import services as evaluation
from duban.evaluation.tests.conftest import indicators, scheme  # noqa: F401
from duban.orgs.policy import SYSTEM
from duban.reporting import services as reporting
from duban.reporting.models import State, Submission
from duban.reporting.tests.conftest import make_form
from duban.tasks import services as tasks
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import make_user
from duban.todo.services import Kind, items

TODAY = date(2017, 12, 20)  # the form's 201712 is open (deadline 2018-01-05), 201711 expired


@pytest.fixture
def clock():
    with time_machine.travel("2017-12-20 09:00 +0800", tick=False):
        yield


def of(user, kind: Kind, today: date = TODAY) -> list[tuple[str, str]]:
    with translation.override("zh-hans"):
        return [(i.title, i.unit_name) for i in items(user, today) if i.kind == kind]


def test_a_reporter_sees_the_open_form_of_his_unit_not_his_siblings(tree, personas, clock):
    make_form(tree)
    assert of(personas.county_reporter, Kind.FILL) == [("月报，2017年12月", tree.county_a.name_zh)]
    assert of(personas.sibling_reporter, Kind.FILL) == [("月报，2017年12月", tree.county_b.name_zh)]
    assert of(personas.leader, Kind.FILL) == []  # a leader fills no form
    item = next(i for i in items(personas.county_reporter, TODAY) if i.kind == Kind.FILL)
    assert item.url == "/reporting/forms/CITY-M/COUNTY-A/201712/"
    assert item.due == date(2018, 1, 5) and not item.overdue


def test_a_submitted_form_leaves_the_reporter_and_waits_for_the_approver(tree, personas, clock):
    form = make_form(tree)
    sub = reporting.get_or_create_submission(form.data_set, tree.county_a, "201712")
    Submission.objects.filter(pk=sub.pk).update(state=State.SUBMITTED)
    assert of(personas.county_reporter, Kind.FILL) == []
    assert of(personas.city_approver, Kind.APPROVE) == [("月报，2017年12月", tree.county_a.name_zh)]
    assert of(personas.county_reporter, Kind.APPROVE) == []
    Submission.objects.filter(pk=sub.pk).update(state=State.RETURNED)
    assert of(personas.county_reporter, Kind.RETURNED) == [
        ("月报，2017年12月", tree.county_a.name_zh)
    ]
    assert of(personas.sibling_reporter, Kind.RETURNED) == []
    assert of(personas.city_approver, Kind.APPROVE) == []


def test_an_open_objection_waits_for_the_issuing_office(tree, personas, scheme):  # noqa: F811
    with time_machine.travel(date(2018, 1, 10), tick=False):
        pub = evaluation.publish_results(
            scheme, "2017Q1", user=SYSTEM, objection_deadline=date(2018, 1, 20)
        )
        office = make_user("a_office", tree.county_a, "office")
        objection = evaluation.lodge_objection(pub, user=office, unit=tree.county_a, text="漏报")
    today = date(2018, 1, 11)
    assert of(personas.province_office, Kind.RULE, today) == [
        ("对测试方案（2017年第1季度）的异议", tree.county_a.name_zh)
    ]
    assert of(office, Kind.RULE, today) == [] and of(personas.leader, Kind.RULE, today) == []
    with time_machine.travel(date(2018, 1, 11), tick=False):
        evaluation.rule_objection(objection, user=SYSTEM, upheld=False, reason="数据无误")
    assert of(personas.province_office, Kind.RULE, today) == []


def test_a_supervision_order_waits_for_the_lead_units_reporter(tree, personas):
    task = make_task(tree.city, tree.county_a, title="整治积案")
    order = tasks.issue_supervision(
        task, user=SYSTEM, message="限期整改", reply_days=5, today=date(2017, 6, 1)
    )
    assert of(personas.county_reporter, Kind.ANSWER, date(2017, 6, 7)) == [
        ("督办：整治积案", tree.county_a.name_zh)
    ]
    found = [i for i in items(personas.county_reporter, date(2017, 6, 7)) if i.kind == Kind.ANSWER]
    assert found[0].overdue and found[0].due == date(2017, 6, 6)
    assert found[0].url == f"/tasks/reminders/{order.pk}/reply/"
    assert of(personas.sibling_reporter, Kind.ANSWER, date(2017, 6, 7)) == []
    tasks.reply_reminder(
        order, user=personas.county_reporter, text="已整改", today=date(2017, 6, 7)
    )
    assert of(personas.county_reporter, Kind.ANSWER, date(2017, 6, 7)) == []


def test_milestones_due_within_a_week_or_overdue_for_the_lead_unit(tree, personas):
    task = make_task(tree.city, tree.county_a, title="整治积案")
    make_milestone(task, date(2017, 6, 10), title="排查")
    make_milestone(task, date(2017, 6, 30), title="总结")
    assert of(personas.county_reporter, Kind.MILESTONE, date(2017, 6, 5)) == [
        ("整治积案：排查", tree.county_a.name_zh)
    ]
    late = [i for i in items(personas.county_reporter, date(2017, 6, 12)) if i.kind == "milestone"]
    assert [i.overdue for i in late] == [True]
    assert of(personas.sibling_reporter, Kind.MILESTONE, date(2017, 6, 5)) == []


def _issued(tree, issuer, title: str) -> Bulletin:
    series, _ = Series.objects.get_or_create(
        issuer=issuer,
        kind=DocumentKind.MONTHLY,
        defaults={"authority": "改革办", "prefix": "改办通"},
    )
    return Bulletin.objects.create(
        series=series,
        issuer=issuer,
        kind=DocumentKind.MONTHLY,
        period="201711",
        state=BulletinState.ISSUED,
        title=title,
        date_written=date(2017, 12, 5),
        generated_at=timezone.now(),
        issued_at=timezone.now(),
        number="改办通〔2017〕7号",
    )


def test_an_issued_bulletin_is_to_read_until_opened(tree, personas):
    bulletin = _issued(tree, tree.province, "11月工作通报")
    _issued(tree, tree.other_city, "外市通报")
    assert of(personas.county_reporter, Kind.READ) == [
        ("改办通〔2017〕7号 11月工作通报", tree.province.name_zh)
    ]
    assert of(personas.province_office, Kind.READ) == []  # his own office's document
    assert of(personas.leader, Kind.READ) == [
        ("改办通〔2017〕7号 11月工作通报", tree.province.name_zh)
    ]
    mark_read(bulletin, user=personas.county_reporter)
    mark_read(bulletin, user=personas.county_reporter)  # the first reading counts, once
    assert Reading.objects.filter(user=personas.county_reporter, bulletin=bulletin).count() == 1
    assert of(personas.county_reporter, Kind.READ) == []
    assert len(of(personas.leader, Kind.READ)) == 1


def test_nothing_for_an_administrator_or_a_stranger(tree, personas, clock):
    make_form(tree)
    _issued(tree, tree.province, "11月工作通报")
    assert items(personas.system_admin, TODAY) == []
    assert [i for i in items(personas.outsider, TODAY) if i.kind != Kind.READ] == []


def test_the_list_costs_the_same_few_queries_however_many_units(
    tree, personas, clock, django_assert_max_num_queries
):
    form = make_form(tree)
    many = make_user("many", tree.county_a, "reporter", "approver", "leader", "office")
    for unit in (tree.county_b, tree.station_a1, tree.city):
        for role in ("reporter", "approver", "leader", "office"):
            from duban.orgs.models import Membership

            Membership.objects.get_or_create(user=many, unit=unit, role=role)
    for unit in (tree.county_a, tree.county_b, tree.station_a1):
        sub = reporting.get_or_create_submission(form.data_set, unit, "201711")
        Submission.objects.filter(pk=sub.pk).update(state=State.RETURNED)
        task = make_task(tree.city, unit, title=f"任务{unit.code}")
        make_milestone(task, date(2017, 12, 22))
        tasks.issue_supervision(task, user=SYSTEM, message="办", today=date(2017, 12, 18))
    _issued(tree, tree.province, "通报")
    many = type(many).objects.get(pk=many.pk)
    with django_assert_max_num_queries(11):
        found = items(many, TODAY)
    kinds = {i.kind for i in found}
    assert {Kind.FILL, Kind.RETURNED, Kind.MILESTONE, Kind.ANSWER, Kind.READ} <= kinds
    assert len([i for i in found if i.kind == Kind.RETURNED]) == 3


def test_the_badge_counts_lazily_in_a_handful_of_queries(
    tree, personas, clock, django_assert_max_num_queries, django_assert_num_queries
):
    from duban.todo.context import Badge

    make_form(tree)
    _issued(tree, tree.province, "通报")
    badge = Badge(type(personas.leader).objects.get(pk=personas.leader.pk))
    with django_assert_num_queries(0):
        Badge(personas.leader)  # nothing until a page shows the count
    with django_assert_max_num_queries(3):  # his roles, milestones, bulletins
        assert badge.count == 1
    with django_assert_num_queries(0):
        assert badge.count == 1 and [g.name for g in badge.groups] == ["待阅的通报"]
    reporter = Badge(type(personas.leader).objects.get(pk=personas.county_reporter.pk))
    with django_assert_max_num_queries(9):
        assert reporter.count == 2  # the open form and the bulletin


def test_a_first_reading_moves_the_data_version_the_kept_cockpit_pages_are_keyed_on(tree, personas):
    """A cockpit page is kept until the audit head moves: the first reading must move it, or
    the leader's to-do panel and badge would still list the document he has just read."""
    from duban.audit.models import AuditEntry
    from duban.web.cache import data_version

    bulletin = _issued(tree, tree.province, "11月工作通报")
    before = data_version()
    mark_read(bulletin, user=personas.leader)
    assert data_version() > before
    mark_read(bulletin, user=personas.leader)  # a second reading writes nothing
    assert AuditEntry.objects.filter(action="bulletins.bulletin.read").count() == 1
