"""Withdraw, batch approval, 催报, the units below that must report first, and the pointer to a
lock exception for a returned form whose period closed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied

from duban.audit.models import AuditEntry
from duban.audit.types import render
from duban.orgs.policy import SYSTEM
from duban.reporting import approval, services
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import State, Submission
from duban.reporting.tests.conftest import TODAY
from duban.testing import logged_in, make_user

SH = ZoneInfo("Asia/Shanghai")


def enter(form, unit, period="201712", filed="4"):
    services.save_form(form.data_set, unit, period, {"case.filed": filed}, user=SYSTEM, today=TODAY)
    return Submission.objects.get(data_set=form.data_set, unit=unit, period=period)


def submitted(form, unit, period="201712"):
    return services.submit(enter(form, unit, period), user=SYSTEM, today=TODAY)


def test_a_reporter_withdraws_a_submission_before_approval(form, tree, personas) -> None:
    sub = submitted(form, tree.county_b)
    sub = services.withdraw(sub, user=personas.sibling_reporter)
    assert (sub.state, sub.submitted_at, sub.first_submitted_at is not None) == (
        State.DRAFT,
        None,
        True,
    )
    entry = AuditEntry.objects.filter(action="reporting.submission.withdrawn").get()
    assert entry.after["state"] == State.DRAFT
    services.submit(sub, user=personas.sibling_reporter, today=TODAY)
    Submission.objects.filter(pk=sub.pk).update(state=State.APPROVED)
    with pytest.raises(ReportingConflict, match="只有已提交、尚未审核的报表才能撤回"):
        services.withdraw(sub, user=personas.sibling_reporter)


def test_the_form_page_withdraws(open_form, tree, personas) -> None:
    submitted(open_form, tree.county_b)
    client = logged_in("sibling_reporter")
    page = client.get("/reporting/forms/CITY-M/COUNTY-B/201712/").content.decode()
    assert "/reporting/forms/CITY-M/COUNTY-B/201712/withdraw/" in page and "撤回提交" in page
    r = client.post("/reporting/forms/CITY-M/COUNTY-B/201712/withdraw/")
    assert r.status_code == 302
    assert Submission.objects.get(unit=tree.county_b).state == State.DRAFT


def test_batch_approval_is_all_or_nothing_and_names_the_form(form, tree, personas) -> None:
    station = submitted(form, tree.station_a1)
    county_b = submitted(form, tree.county_b)
    county_a = submitted(form, tree.county_a)  # the station has reported, not been approved
    with pytest.raises(ReportingConflict) as exc:
        # the county first: its station is not approved yet when its turn comes
        approval.approve_many(
            [county_b, county_a, station], user=personas.city_approver, reason="核对无误"
        )
    assert "甲县局 · 201712 不能审核通过：下级单位尚未审核通过：甲一派出所" in str(exc.value)
    assert "本批报表均未审核" in str(exc.value)
    assert set(Submission.objects.values_list("state", flat=True)) == {State.SUBMITTED}
    assert not AuditEntry.objects.filter(action="reporting.submission.approved").exists()
    assert (
        approval.approve_many(
            [station, county_b, county_a], user=personas.city_approver, reason="核对无误"
        )
        == 3
    )
    assert set(Submission.objects.values_list("state", flat=True)) == {State.APPROVED}
    reasons = AuditEntry.objects.filter(action="reporting.submission.approved")
    assert [e.reason for e in reasons] == ["核对无误"] * 3
    with pytest.raises(ReportingError, match="请至少选择一张要审核的报表"):
        approval.approve_many([], user=personas.city_approver)


def test_the_queue_approves_the_checked_forms(open_form, tree, personas) -> None:
    subs = [submitted(open_form, u) for u in (tree.station_a1, tree.county_b)]
    client = logged_in("city_approver")
    page = client.get("/reporting/").content.decode()
    assert f'name="form" value="{subs[0].pk}"' in page and "批量审核通过" in page
    r = client.post("/reporting/approve/", {"form": [s.pk for s in subs], "reason": "同意"})
    assert r.status_code == 302
    assert set(Submission.objects.values_list("state", flat=True)) == {State.APPROVED}
    assert "已审核通过 2 张报表" in client.get("/reporting/").content.decode()


def test_a_county_is_told_before_the_click_that_its_station_must_report(open_form, tree) -> None:
    enter(open_form, tree.county_a)
    page = logged_in("county_reporter").get("/reporting/forms/CITY-M/COUNTY-A/201712/")
    html = page.content.decode()
    assert "下级 1 个单位上报后，本单位才能提交" in html and "甲一派出所" in html
    assert 'value="submit" disabled' in html
    submitted(open_form, tree.station_a1)
    html = logged_in("county_reporter").get("/reporting/forms/CITY-M/COUNTY-A/201712/")
    assert 'value="submit" disabled' not in html.content.decode()


def test_remind_every_unit_that_has_not_reported(
    form, tree, personas, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    station_rep = make_user("station_rep", tree.station_a1, "reporter", email="st@example.cn")
    station_rep.language = "en"
    station_rep.save()
    personas.county_reporter.email = "ca@example.cn"
    personas.county_reporter.save()
    submitted(form, tree.county_b)
    with django_capture_on_commit_callbacks(execute=True):
        done = approval.remind(form.data_set, tree.city, "201712", user=personas.city_approver)
    assert sorted(u.code for u in done.units) == ["COUNTY-A", "DIV", "STATION-A1"]
    assert done.emailed == 2
    mails = {m.to[0]: m for m in mail.outbox}
    assert sorted(mails) == ["ca@example.cn", "st@example.cn"]
    # Each reporter in his own language, the period in words, a link to his form.
    assert mails["ca@example.cn"].subject.startswith("请") and "2017年12月" in (
        mails["ca@example.cn"].subject
    )
    assert mails["st@example.cn"].subject.startswith("Please report")
    assert "/reporting/forms/CITY-M/STATION-A1/201712/" in mails["st@example.cn"].body
    entry = AuditEntry.objects.get(action="reporting.reminders.sent")
    assert entry.after["units"] == [u.code for u in done.units]
    assert sorted(entry.after["units"]) == ["COUNTY-A", "DIV", "STATION-A1"]
    assert render([entry])[0].text.startswith("市局向 3 个单位催报 201712 期：")
    assert "甲一派出所" in render([entry])[0].text
    with pytest.raises(ReportingConflict, match="该统计期尚未开启"):
        approval.remind(form.data_set, tree.city, "201801", user=personas.city_approver)
    with pytest.raises(PermissionDenied):  # a reporter reminds nobody
        approval.remind(form.data_set, tree.city, "201712", user=personas.county_reporter)


def test_the_overview_reminds(open_form, tree, personas) -> None:
    client = logged_in("city_approver")
    page = client.get("/reporting/overview/CITY-M/CITY/201712/").content.decode()
    assert "催报：提醒 4 个未报单位" in page
    r = client.post("/reporting/overview/CITY-M/CITY/201712/remind/", follow=True)
    assert "已向 4 个单位催报" in r.content.decode()
    assert AuditEntry.objects.filter(action="reporting.reminders.sent").count() == 1


def test_a_returned_form_of_a_closed_period_points_to_a_lock_exception(form, tree, personas):
    station = submitted(form, tree.station_a1)
    services.return_form(station, user=personas.city_approver, reason="核对")
    with time_machine.travel(datetime(2018, 1, 20, 10, tzinfo=SH), tick=False):
        html = logged_in("city_approver").get("/reporting/forms/CITY-M/STATION-A1/201712/")
        text = html.content.decode()
        assert "本期填报已截止：要更正这张退回的报表" in text
        assert "授予 201712 期的补报例外" in text
        office = logged_in("prov_office").get("/reporting/forms/CITY-M/STATION-A1/201712/")
        assert "/reporting/datasets/CITY-M/#exception" in office.content.decode()
        services.grant_lock_exception(
            form.data_set, tree.station_a1, "201712", user=personas.province_office, reason="补报"
        )
        again = logged_in("city_approver").get("/reporting/forms/CITY-M/STATION-A1/201712/")
        assert "本期填报已截止" not in again.content.decode()
