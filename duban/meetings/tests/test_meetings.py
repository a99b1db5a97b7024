"""Meetings: a decided matter becomes a supervised task in one step; the agenda pack; the cadence."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from duban.audit.models import AuditEntry
from duban.errors import ConflictError, DubanError
from duban.meetings import services
from duban.meetings.agenda import build_pack
from duban.meetings.cadence import cadence_table
from duban.meetings.models import DecidedMatter, Mechanism, MeetingKind
from duban.orgs.policy import SYSTEM
from duban.tasks import services as task_services
from duban.tasks.models import Task, TaskKind
from duban.tasks.status import Status
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db
FROZEN = "2017-12-08 10:00 +0800"


def dispatch(tree, day: date, **kw):  # type: ignore[no-untyped-def]
    return services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind=MeetingKind.DISPATCH,
        title=f"全市公安工作视频调度会 {day}",
        held_on=day,
        main_venue="市局指挥中心",
        branch_venues="甲县局分会场\n乙县局分会场",
        participants=[tree.county_a, tree.county_b],
        **kw,
    )


@time_machine.travel(FROZEN, tick=False)
def test_a_decided_matter_becomes_a_supervised_task_in_one_step(tree) -> None:
    office = make_user("city_office", tree.city, "office")
    meeting = dispatch(tree, date(2017, 12, 8))
    matter = services.decide(
        meeting,
        user=office,
        text="年底前完成黄标车清零\n逐车核查、逐户督办",
        lead_unit=tree.county_a,
        due_date=date(2017, 12, 31),
        partners=[tree.county_b],
        responsible="张三",
    )
    task = Task.objects.get(pk=matter.task_id)
    assert (task.kind, task.title, task.issuing_unit, task.lead_unit) == (
        TaskKind.DECIDED,
        "年底前完成黄标车清零",
        tree.city,
        tree.county_a,
    )
    assert (task.start_date, task.due_date, task.responsible) == (
        date(2017, 12, 8),
        date(2017, 12, 31),
        "张三",
    )
    assert [u.code for u in task.partner_units()] == ["COUNTY-B"]
    assert task.status(date(2017, 12, 8)) is Status.ON_TRACK
    assert AuditEntry.objects.filter(action="meetings.decidedmatter.supervised").count() == 1
    with pytest.raises(ConflictError):
        services.supervise_matter(matter, user=office)


@time_machine.travel(FROZEN, tick=False)
def test_decision_rules_and_rights(tree) -> None:
    meeting = dispatch(tree, date(2017, 12, 8))
    county_office = make_user("county_office", tree.county_a, "office")
    with pytest.raises(PermissionDenied):
        services.decide(
            meeting,
            user=county_office,
            text="x",
            lead_unit=tree.county_a,
            due_date=date(2017, 12, 31),
        )
    with pytest.raises(DubanError) as exc:
        services.decide(
            meeting, user=SYSTEM, text="x", lead_unit=tree.other_city, due_date=date(2017, 12, 31)
        )
    assert exc.value.problems[0].where == "lead_unit"
    with pytest.raises(DubanError) as exc:
        services.decide(
            meeting, user=SYSTEM, text="x", lead_unit=tree.county_a, due_date=date(2017, 12, 1)
        )
    assert exc.value.problems[0].where == "due_date"
    later = services.decide(
        meeting,
        user=SYSTEM,
        text="研究部署",
        lead_unit=tree.county_a,
        due_date=date(2018, 1, 31),
        supervise=False,
    )
    assert later.task_id is None and DecidedMatter.objects.count() == 1
    task = services.supervise_matter(later, user=SYSTEM)
    assert DecidedMatter.objects.get(pk=later.pk).task_id == task.pk
    with pytest.raises(DubanError) as exc:
        services.create_meeting(
            tree.city,
            user=SYSTEM,
            kind="dispatch",
            title="t",
            held_on=date(2017, 1, 1),
            participants=[tree.other_city],
        )
    assert exc.value.problems[0].where == "participants"


@time_machine.travel(FROZEN, tick=False)
def test_one_step_through_the_page(tree) -> None:
    make_user("city_office", tree.city, "office")
    meeting = dispatch(tree, date(2017, 12, 8))
    client = Client()
    client.login(username="city_office", password=PASSWORD)
    response = client.post(
        f"/meetings/{meeting.pk}/decide/",
        {
            "text": "开展夜查行动",
            "lead_unit": tree.county_b.pk,
            "due_date": "2017-12-20",
            "supervise": "on",
        },
    )
    task = Task.objects.get(kind=TaskKind.DECIDED)
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    page = client.get(f"/tasks/{task.pk}/")
    assert meeting.title in page.content.decode()
    bad = client.post(
        f"/meetings/{meeting.pk}/decide/",
        {"text": "x", "lead_unit": tree.county_b.pk, "due_date": "2017-11-01", "supervise": "on"},
    )
    assert bad.status_code == 200 and "完成时限早于会议日期" in bad.content.decode()


@time_machine.travel(FROZEN, tick=False)
def test_agenda_pack_from_the_data(tree) -> None:
    first = dispatch(tree, date(2017, 11, 8))
    services.decide(
        first,
        user=SYSTEM,
        text="十一月议定事项",
        lead_unit=tree.county_b,
        due_date=date(2017, 11, 30),
    )
    red = make_task(
        tree.city,
        tree.county_a,
        title="追逃攻坚",
        start_date=date(2017, 9, 1),
        due_date=date(2017, 12, 31),
    )
    missed = make_milestone(red, date(2017, 11, 20), title="抓获目标逃犯")
    late = make_task(
        tree.city,
        tree.county_b,
        title="黄标车治理",
        start_date=date(2017, 9, 1),
        due_date=date(2017, 12, 31),
    )
    late_m = make_milestone(late, date(2017, 11, 15))
    task_services.submit_report(late, user=SYSTEM, text="进度", percent=90, today=date(2017, 12, 1))
    task_services.mark_milestone_met(
        late_m, user=SYSTEM, on=date(2017, 11, 18), today=date(2017, 11, 18)
    )
    elsewhere = make_task(
        tree.other_city, tree.other_city, title="外市任务", due_date=date(2017, 10, 1)
    )
    meeting = dispatch(tree, date(2017, 12, 8))

    pack = build_pack(meeting, date(2017, 12, 8), viewer=make_user("office", tree.city, "office"))

    assert (pack.since, pack.as_of, pack.has_previous) == (
        date(2017, 11, 8),
        date(2017, 12, 8),
        True,
    )
    assert pack.figures is None  # no figures were reported in this test: none are invented
    red_titles = {r.task.title for r in pack.red}
    assert "追逃攻坚" in red_titles and "外市任务" not in red_titles
    assert "十一月议定事项" in red_titles  # the November decision is overdue
    assert [r.task.title for r in pack.yellow] == ["黄标车治理"]  # caught up late
    shortfalls = {(s.milestone.pk, s.missed, s.days_late) for s in pack.shortfalls}
    assert shortfalls == {(missed.pk, True, 18), (late_m.pk, False, 3)}
    # county B: one red (the November decision) and one yellow; county A: one red
    assert [s.unit.code for s in pack.units_behind] == ["COUNTY-B", "COUNTY-A"]
    assert [m.text for m, _ in pack.open_matters] == ["十一月议定事项"]
    assert pack.reports_since == 1
    assert elsewhere.pk not in {r.task.pk for r in pack.red}


@time_machine.travel(FROZEN, tick=False)
def test_cadence_held_due_and_missed(tree) -> None:
    services.set_cadence(tree.city, Mechanism.MONTHLY_STUDY, user=SYSTEM, since=date(2017, 9, 1))
    services.set_cadence(tree.city, Mechanism.MONTHLY_BULLETIN, user=SYSTEM, since=date(2017, 1, 1))
    services.set_cadence(tree.city, Mechanism.QUARTERLY_REVIEW, user=SYSTEM, since=date(2017, 1, 1))
    services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind=MeetingKind.MONTHLY_STUDY,
        title="九月研究",
        held_on=date(2017, 9, 26),
    )
    services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind=MeetingKind.MONTHLY_STUDY,
        title="十一月研究",
        held_on=date(2017, 11, 28),
    )
    services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind=MeetingKind.QUARTERLY_REVIEW,
        title="三季度点评",
        held_on=date(2017, 10, 12),
    )  # reviews Q3 in October: counts for Q4
    services.record_held(
        tree.city,
        Mechanism.MONTHLY_BULLETIN,
        "201711",
        user=SYSTEM,
        held_on=date(2017, 11, 5),
        reference="市公改通〔2017〕11号",
    )
    with pytest.raises(DubanError) as exc:
        services.record_held(
            tree.city, Mechanism.QUARTERLY_REVIEW, "201711", user=SYSTEM, held_on=date(2017, 11, 5)
        )
    assert exc.value.problems[0].where == "period"
    with pytest.raises(ConflictError):
        services.record_held(
            tree.city, Mechanism.MONTHLY_BULLETIN, "201711", user=SYSTEM, held_on=date(2017, 11, 6)
        )

    lines = {
        line.cadence.mechanism: line for line in cadence_table(tree.city, 2017, date(2017, 12, 8))
    }
    study = {c.period.id: c.state for c in lines["monthly_study"].cells}
    assert study["201708"] == "before" and study["201709"] == "held" and study["201710"] == "missed"
    assert study["201711"] == "held" and study["201712"] == "due"
    bulletin = {c.period.id: c.state for c in lines["monthly_bulletin"].cells}
    assert bulletin["201711"] == "held" and bulletin["201710"] == "missed"
    review = {c.period.id: c.state for c in lines["quarterly_review"].cells}
    assert review == {"2017Q1": "missed", "2017Q2": "missed", "2017Q3": "missed", "2017Q4": "held"}


@time_machine.travel(FROZEN, tick=False)
def test_a_task_supervised_from_an_earlier_meeting_is_green_the_day_it_exists(tree) -> None:
    """Held 1 November, supervised 8 December, due 20 December: 序时进度 38 of 50 days = 76 %
    with nothing reported, yet the task is a day old, so it is green until 15 December."""
    office = make_user("city_office", tree.city, "office")
    meeting = dispatch(tree, date(2017, 11, 1))
    matter = services.decide(
        meeting, user=office, text="清理积案", lead_unit=tree.county_a, due_date=date(2017, 12, 20)
    )
    task = Task.objects.get(pk=matter.task_id)
    assert task.start_date == date(2017, 11, 1)
    assert round(task.assess(date(2017, 12, 8)).expected_percent) == 76
    assert task.status(date(2017, 12, 8)) is Status.ON_TRACK
    assert task.status(date(2017, 12, 14)) is Status.ON_TRACK
    assert task.status(date(2017, 12, 15)) is Status.AT_RISK


def test_the_pack_read_later_shows_the_meeting_day(tree) -> None:
    """Held 8 December; read on 15 January after the order was answered (20 December), the
    milestone met late (20 December) and a report sent (22 December): the pack is unchanged."""
    office = make_user("office", tree.city, "office")
    red = make_task(
        tree.city, tree.county_a, title="追逃攻坚", start_date=date(2017, 9, 1),
        due_date=date(2017, 12, 31),
    )  # fmt: skip
    missed = make_milestone(red, date(2017, 11, 20), title="抓获目标逃犯")
    order = task_services.issue_supervision(
        red, user=SYSTEM, message="请报告措施", today=date(2017, 12, 1)
    )
    meeting = dispatch(tree, date(2017, 12, 8))
    on_the_day = build_pack(meeting, date(2017, 12, 8), viewer=office)
    task_services.reply_reminder(order, user=SYSTEM, text="已落实", today=date(2017, 12, 20))
    task_services.mark_milestone_met(
        missed, user=SYSTEM, on=date(2017, 12, 20), today=date(2017, 12, 20)
    )
    task_services.submit_report(
        red, user=SYSTEM, text="进度", percent=100, today=date(2017, 12, 22)
    )
    later = build_pack(meeting, date(2018, 1, 15), viewer=office)
    for pack in (on_the_day, later):
        assert pack.as_of == date(2017, 12, 8)
        assert [r.task.title for r in pack.red] == ["追逃攻坚"]
        assert [o.pk for o in pack.open_orders] == [order.pk]
        assert {(s.milestone.pk, s.missed, s.days_late) for s in pack.shortfalls} == {
            (missed.pk, True, 18)
        }
        assert pack.reports_since == 0
