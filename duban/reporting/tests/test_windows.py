"""Entry windows (DHIS2 expiry, closing, lock exceptions) and timeliness, on frozen clocks."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.errors import ReportingConflict
from duban.reporting.figures import statuses
from duban.reporting.models import ReportingPeriod, Submission
from duban.reporting.tests.conftest import reported_below

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 10):
    y, m, d = (int(x) for x in day.split("-"))
    return time_machine.travel(datetime(y, m, d, hour, tzinfo=SH), tick=False)


def save(form, unit, user=SYSTEM, period="201712"):
    return services.save_form(form.data_set, unit, period, {"case.filed": "3"}, user=user)


def test_dates_default_from_the_data_set(form) -> None:
    rp = ReportingPeriod.objects.get(data_set=form.data_set, period="201712")
    assert (rp.opens_on, rp.deadline, rp.closes_on) == (
        date(2017, 12, 1),
        date(2018, 1, 5),
        date(2018, 1, 15),
    )


@pytest.mark.parametrize(
    ("day", "ok"),
    [("2017-11-30", False), ("2017-12-01", True), ("2018-01-15", True), ("2018-01-16", False)],
)
def test_entry_is_open_from_the_opening_to_the_expiry_inclusive(
    form, tree, day: str, ok: bool
) -> None:
    with at(day):
        if ok:
            save(form, tree.county_a)
        else:
            with pytest.raises(ReportingConflict):
                save(form, tree.county_a)


def test_expired_entry_names_the_date_and_a_lock_exception_reopens_it(form, tree, personas) -> None:
    with at("2018-02-01"):
        with pytest.raises(ReportingConflict, match=r"已于 2018-01-15 后截止.*例外填报"):
            save(form, tree.county_a, personas.county_reporter)
        with pytest.raises(Exception, match="不允许在"):
            services.grant_lock_exception(
                form.data_set, tree.county_a, "201712", user=personas.city_approver, reason="x"
            )
        services.grant_lock_exception(
            form.data_set,
            tree.county_a,
            "201712",
            user=personas.province_office,
            reason="系统故障，补录",
        )
        save(form, tree.county_a, personas.county_reporter)
        sub = Submission.objects.get(unit=tree.county_a, period="201712")
        reported_below(form, tree)
        services.submit(sub, user=personas.county_reporter)
        with pytest.raises(ReportingConflict, match="后截止"):
            save(form, tree.county_b)


def test_the_office_closes_entry_early(form, tree, personas) -> None:
    rp = ReportingPeriod.objects.get(data_set=form.data_set, period="201712")
    services.change_period(rp, user=personas.province_office, is_closed=True, reason="年终提前关账")
    with at("2017-12-20"), pytest.raises(ReportingConflict, match="考评办已关闭"):
        save(form, tree.county_a)


def test_a_submission_after_expiry_is_refused(form, tree, personas) -> None:
    with at("2018-01-10"):
        save(form, tree.county_a)
    sub = Submission.objects.get(unit=tree.county_a, period="201712")
    with at("2018-01-20"), pytest.raises(ReportingConflict, match="后截止"):
        services.submit(sub, user=personas.county_reporter)


def test_timeliness_on_time_late_missing_and_pending(form, tree, personas) -> None:
    units = [tree.county_a, tree.county_b, tree.station_a1]
    with at("2018-01-05", 23):
        save(form, tree.station_a1)
        services.submit(Submission.objects.get(unit=tree.station_a1), user=SYSTEM)
    with at("2018-01-06", 0):
        save(form, tree.county_a)
        services.submit(Submission.objects.get(unit=tree.county_a), user=SYSTEM)
    with at("2018-01-05"):
        got = {s.unit.code: s.status for s in statuses(form.data_set, "201712", units).values()}
    assert got == {"COUNTY-A": "late", "COUNTY-B": "pending", "STATION-A1": "on_time"}
    with at("2018-01-06"):
        got = {s.unit.code: s.status for s in statuses(form.data_set, "201712", units).values()}
    assert got["COUNTY-B"] == "missing"


def test_a_return_does_not_make_a_form_late(form, tree, personas) -> None:
    reported_below(form, tree)
    with at("2018-01-02"):
        save(form, tree.county_a)
        sub = services.submit(Submission.objects.get(unit=tree.county_a), user=SYSTEM)
        services.return_form(sub, user=personas.city_approver, reason="fix")
    with at("2018-01-10"):
        save(form, tree.county_a)
        services.submit(sub, user=SYSTEM)
        assert (
            statuses(form.data_set, "201712", [tree.county_a])[tree.county_a.pk].status == "on_time"
        )
