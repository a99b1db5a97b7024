"""The demo is alive on the day it is installed: today's quarter is open and moving."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from duban.audit.models import AuditEntry
from duban.demo.loader import load_demo
from duban.indicators.models import DataSet
from duban.reporting.demo import current_months, load_reporting_demo, load_reporting_today
from duban.reporting.figures import statuses
from duban.reporting.models import ReportingPeriod, State, Submission


def test_current_months_cover_the_quarter_and_the_month_before() -> None:
    assert [p.id for p in current_months(date(2026, 12, 3))] == ["202610", "202611", "202612"]
    assert [p.id for p in current_months(date(2026, 10, 9))] == ["202609", "202610"]
    assert [p.id for p in current_months(date(2026, 2, 20))] == ["202601", "202602"]


@pytest.mark.once
@pytest.mark.django_db
@time_machine.travel("2026-12-09 09:00 +0800", tick=False)
def test_todays_months_are_open_with_every_kind_of_form_and_twice_changes_nothing() -> None:
    load_demo(activity=False)
    load_reporting_demo()
    counts = load_reporting_today(date(2026, 12, 9))
    assert counts["periods"] == 6
    ds = DataSet.objects.get(code="YZ-MONTHLY")
    assert set(
        ReportingPeriod.objects.filter(data_set=ds, period__gte="202601").values_list(
            "period", flat=True
        )
    ) == {"202610", "202611", "202612"}
    live = {s.unit.code: s for s in Submission.objects.filter(data_set=ds, period="202611")}
    assert "YZ-LST" not in live  # lst_reporter has November to fill
    assert live["YZ-LL"].state == State.RETURNED and live["YZ-LL"].return_reason
    assert live["YZ-LST-MW"].state == State.SUBMITTED
    assert live["YZ-JJZD"].state == State.SUBMITTED
    assert any(s.state == State.APPROVED for s in live.values())
    kinds = {s.status for s in statuses(ds, "202611", ds.reporting_units()).values()}
    assert "missing" in kinds  # the deadline (5 December) has passed
    october = statuses(ds, "202610", ds.reporting_units()).values()
    assert {s.status for s in october} == {"late", "on_time"}
    assert not Submission.objects.filter(data_set=ds, period="202612").exists()
    sx = {
        s.unit.code: s.state
        for s in Submission.objects.filter(period="202611", data_set__code="SX-MONTHLY")
    }
    assert "SX-XA" not in sx and sx["SX-XA-YT"] == State.SUBMITTED
    assert State.RETURNED in sx.values()
    submitted = AuditEntry.objects.filter(action__contains="submit", at__date="2026-12-09")
    assert submitted.count() >= 4
    assert {(e.source, e.reason) for e in submitted} == {("duban demo", "演示数据（虚构）")}
    before = (Submission.objects.count(), AuditEntry.objects.count())
    assert load_reporting_today(date(2026, 12, 9)) == {"periods": 0, "forms": 0}
    assert (Submission.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.once
@pytest.mark.django_db
@time_machine.travel("2027-01-28 09:00 +0800", tick=False)
def test_installed_late_in_the_month_the_month_just_ended_is_still_open() -> None:
    load_demo(activity=False)
    load_reporting_demo()
    assert load_reporting_today(date(2027, 1, 28))["periods"] == 4  # 202612, 202701 × 2
    rp = ReportingPeriod.objects.get(data_set__code="YZ-MONTHLY", period="202612")
    assert rp.deadline == date(2027, 1, 5) and rp.closes_on == date(2027, 2, 7)
    assert rp.entry_state(date(2027, 1, 28)) == "open"
    assert Submission.objects.filter(period="202612", state=State.RETURNED).count() == 2
