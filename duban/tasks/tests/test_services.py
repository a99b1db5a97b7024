"""Closing and reopening rights, progress reports, milestones and the evaluation links."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from duban.audit.models import AuditEntry
from duban.errors import ConflictError, DubanError
from duban.orgs.policy import SYSTEM
from duban.tasks import links, services
from duban.tasks.models import Task
from duban.tasks.status import Status
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import make_user

pytestmark = pytest.mark.django_db
FROZEN = "2017-07-10 10:00 +0800"


@pytest.fixture
def task(tree):
    """Issued by the city, led by county A, county B co-operates."""
    return make_task(tree.city, tree.county_a, partners=[tree.county_b])


@pytest.fixture
def people(tree):
    return {
        "city_office": make_user("city_office", tree.city, "office"),
        "prov_office": make_user("prov_office", tree.province, "office"),
        "county_office": make_user("county_office", tree.county_a, "office"),
        "lead_reporter": make_user("lead_reporter", tree.county_a, "reporter"),
        "partner_reporter": make_user("partner_reporter", tree.county_b, "reporter"),
        "city_reporter": make_user("city_reporter", tree.city, "reporter"),
        "leader": make_user("leader", tree.city, "leader"),
    }


@time_machine.travel(FROZEN, tick=False)
def test_only_the_issuing_office_closes_and_reopens(task, people) -> None:
    services.declare_done(task, user=people["lead_reporter"])
    for who in ("lead_reporter", "county_office", "partner_reporter", "leader", "city_reporter"):
        with pytest.raises(PermissionDenied):
            services.close_task(task, user=people[who])
    services.close_task(task, user=people["city_office"])
    task = Task.objects.get(pk=task.pk)
    assert task.status(date(2017, 7, 10)) is Status.CLOSED
    for who in ("lead_reporter", "county_office", "leader"):
        with pytest.raises(PermissionDenied):
            services.reopen_task(task, user=people[who], reason="材料不全")
    # an office above the issuing unit may act for it
    services.reopen_task(task, user=people["prov_office"], reason="佐证材料不全，退回补充")
    task = Task.objects.get(pk=task.pk)
    assert task.status(date(2017, 7, 10)) is not Status.CLOSED
    assert task.reopen_reason == "佐证材料不全，退回补充"
    actions = list(
        AuditEntry.objects.filter(object_type="tasks.task", object_id=str(task.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"tasks.task.done", "tasks.task.closed", "tasks.task.reopened"} <= set(actions)
    reopened = AuditEntry.objects.get(action="tasks.task.reopened")
    assert reopened.reason == "佐证材料不全，退回补充"
    assert reopened.actor_id is None or reopened.before["closed_on"] == "2017-07-10"


@time_machine.travel(FROZEN, tick=False)
def test_close_needs_done_and_reopen_needs_a_reason(task, people) -> None:
    with pytest.raises(ConflictError) as exc:
        services.close_task(task, user=people["city_office"])
    assert exc.value.problems[0].where == "status"
    services.declare_done(task, user=people["lead_reporter"])
    with pytest.raises(DubanError) as exc:
        services.reopen_task(task, user=people["city_office"], reason="  ")
    assert exc.value.problems[0].where == "reason"
    services.close_task(task, user=people["city_office"])
    with pytest.raises(ConflictError):
        services.close_task(task, user=people["city_office"])
    with pytest.raises(ConflictError):
        services.submit_report(task, user=people["lead_reporter"], text="补充", percent=100)


@time_machine.travel(FROZEN, tick=False)
def test_reports_by_lead_and_partner(task, people, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(DubanError) as exc:
        services.submit_report(task, user=people["lead_reporter"], text="进展", percent=None)
    assert exc.value.problems[0].where == "percent"
    pdf = SimpleUploadedFile("佐证.pdf", b"%PDF-1.4", content_type="application/pdf")
    lead = services.submit_report(
        task, user=people["lead_reporter"], text="完成调研", percent=45, files=[pdf]
    )
    assert lead.report_date == date(2017, 7, 10) and lead.evidence.count() == 1
    part = services.submit_report(
        task,
        user=people["partner_reporter"],
        unit=task.partners.get().unit,
        text="配合完成数据比对",
    )
    assert part.percent is None
    with pytest.raises(PermissionDenied):  # the partner cannot write as the lead unit
        services.submit_report(task, user=people["partner_reporter"], text="x", percent=90)
    with pytest.raises(PermissionDenied):  # a reporter at the issuing city is not the lead unit
        services.submit_report(task, user=people["city_reporter"], text="x", percent=90)
    exe = SimpleUploadedFile("run.exe", b"MZ")
    with pytest.raises(DubanError) as exc:
        services.submit_report(
            task, user=people["lead_reporter"], text="x", percent=50, files=[exe]
        )
    assert exc.value.problems[0].where == "files"
    # the partner's report does not move the task's percent
    assert Task.objects.with_facts().get(pk=task.pk).assess(date(2017, 7, 10)).percent == 45


@time_machine.travel(FROZEN, tick=False)
def test_units_and_dates_are_checked(tree, people) -> None:
    with pytest.raises(DubanError) as exc:
        make_task(tree.county_a, tree.county_b)
    assert exc.value.problems[0].where == "lead_unit"
    with pytest.raises(PermissionDenied):
        services.create_task(
            user=people["county_office"],
            issuing_unit=tree.city,
            lead_unit=tree.county_a,
            title="x",
            start_date=date(2017, 1, 1),
            due_date=date(2017, 2, 1),
        )
    with pytest.raises(DubanError) as exc:
        make_task(tree.city, tree.county_a, start_date=date(2017, 5, 1), due_date=date(2017, 4, 1))
    assert exc.value.problems[0].where == "due_date"
    task = make_task(tree.city, tree.county_a)
    with pytest.raises(DubanError) as exc:
        make_milestone(task, date(2018, 1, 5))
    assert exc.value.problems[0].where == "due_date"
    m1 = make_milestone(task, date(2017, 3, 31))
    m2 = make_milestone(task, date(2017, 6, 30))
    assert (m1.seq, m2.seq) == (1, 2)
    with pytest.raises(DubanError) as exc:
        make_milestone(task, date(2017, 8, 1), seq=2)
    assert exc.value.problems[0].where == "seq"


@time_machine.travel(FROZEN, tick=False)
def test_milestone_met_by_lead_or_office_only(tree, people) -> None:
    task = make_task(tree.city, tree.county_a, partners=[tree.county_b])
    m = make_milestone(task, date(2017, 6, 30))
    with pytest.raises(PermissionDenied):
        services.mark_milestone_met(m, user=people["partner_reporter"])
    with pytest.raises(DubanError):
        services.mark_milestone_met(m, user=people["lead_reporter"], on=date(2017, 7, 11))
    services.mark_milestone_met(m, user=people["lead_reporter"], on=date(2017, 7, 2))
    m.refresh_from_db()
    assert m.met_on_time is False
    with pytest.raises(ConflictError):
        services.mark_milestone_met(m, user=people["city_office"])


def test_milestones_on_time_share(tree) -> None:
    task = make_task(tree.city, tree.county_a)
    ms = [make_milestone(task, date(2017, m, 28)) for m in (3, 4, 5, 6, 8)]
    services.mark_milestone_met(
        ms[0], user=SYSTEM, on=date(2017, 3, 28), today=date(2017, 7, 10)
    )  # on time
    services.mark_milestone_met(
        ms[1], user=SYSTEM, on=date(2017, 5, 2), today=date(2017, 7, 10)
    )  # late
    # ms[2] missed; ms[3] met early; ms[4] not yet due
    services.mark_milestone_met(ms[3], user=SYSTEM, on=date(2017, 6, 1), today=date(2017, 7, 10))
    share = links.milestones_on_time_share(
        tree.county_a, date(2017, 1, 1), date(2017, 12, 31), today=date(2017, 7, 10)
    )
    assert share == Decimal(2) / Decimal(4)
    assert (
        links.milestones_on_time_share(
            tree.county_b, date(2017, 1, 1), date(2017, 12, 31), today=date(2017, 7, 10)
        )
        is None
    )
    assert links.milestones_on_time_share(
        tree.city, date(2017, 1, 1), date(2017, 12, 31), today=date(2017, 7, 10), subtree=True
    ) == Decimal("0.5")


def test_indicator_target_marks_done_awaiting_check(tree) -> None:
    hit = make_task(
        tree.city,
        tree.county_a,
        indicator_code="yellow_label_removed",
        indicator_target=Decimal("1200"),
    )
    lower = make_task(
        tree.city,
        tree.county_b,
        indicator_code="accidents",
        indicator_target=Decimal("30"),
        indicator_higher_is_better=False,
    )
    missing = make_task(
        tree.city, tree.county_b, indicator_code="fugitives", indicator_target=Decimal("5")
    )
    values = {
        ("yellow_label_removed", "COUNTY-A"): Decimal("1200"),
        ("accidents", "COUNTY-B"): Decimal("31"),
    }
    calls = []

    def lookup(code: str, unit, today: date):  # type: ignore[no-untyped-def]
        calls.append((code, unit.code, today))
        return values.get((code, unit.code))

    done = links.check_indicator_targets(lookup, today=date(2017, 10, 1))
    assert [t.pk for t in done] == [hit.pk]
    hit.refresh_from_db()
    assert hit.completed_via == "indicator"
    assert hit.status(date(2017, 10, 1)) is Status.DONE  # still awaiting the issuing unit's check
    assert Task.objects.get(pk=lower.pk).completed_on is None
    assert Task.objects.get(pk=missing.pk).completed_on is None
    values[("accidents", "COUNTY-B")] = Decimal("29.5")
    assert [t.pk for t in links.check_indicator_targets(lookup, today=date(2017, 10, 2))] == [
        lower.pk
    ]
    assert len(calls) == 5  # the done one is not asked again
