"""draft → submitted → approved → locked; returns with a reason; 409 on writes to settled data."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from duban.audit.models import AuditEntry
from duban.indicators import services as ind_services
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import TODAY, reported_below
from duban.testing import make_user


def enter(form, unit, values, period="201712"):
    services.save_form(form.data_set, unit, period, values, user=SYSTEM, today=TODAY)
    return Submission.objects.get(data_set=form.data_set, unit=unit, period=period)


@pytest.fixture
def county_sub(form, tree):
    return enter(form, tree.county_a, {"case.filed": "10", "case.solved": "7"})


@pytest.fixture
def station_sub(form, tree):
    return enter(form, tree.station_a1, {"case.filed": "3", "case.solved": "1"})


def states(unit) -> set[str]:
    return set(DataValue.objects.filter(unit=unit).values_list("state", flat=True))


def test_full_path_to_locked(form, tree, personas, county_sub, station_sub) -> None:
    county_approver = make_user("county_approver", tree.county_a, "approver")
    services.submit(station_sub, user=make_user("st_rep", tree.station_a1, "reporter"), today=TODAY)
    services.approve(station_sub, user=county_approver)
    services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    assert states(tree.county_a) == {State.SUBMITTED}
    sub = services.approve(county_sub, user=personas.city_approver)
    assert sub.state == State.APPROVED and sub.approved_by == personas.city_approver
    assert states(tree.county_a) == {State.APPROVED}
    sub = services.lock(sub, user=personas.province_office)
    assert sub.state == State.LOCKED and states(tree.county_a) == {State.LOCKED}
    actions = list(
        AuditEntry.objects.filter(action__startswith="reporting.submission.")
        .exclude(action__in=["reporting.submission.created", "reporting.submission.updated"])
        .values_list("action", flat=True)
    )
    assert actions[-3:] == [
        "reporting.submission.submitted",
        "reporting.submission.approved",
        "reporting.submission.locked",
    ]


def test_the_unit_above_approves_only_when_every_child_is_approved(
    form, tree, personas, county_sub, station_sub
) -> None:
    services.submit(station_sub, user=SYSTEM, today=TODAY)
    services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    with pytest.raises(ReportingConflict, match="下级单位尚未审核通过：甲一派出所"):
        services.approve(county_sub, user=personas.city_approver)
    services.approve(station_sub, user=personas.city_approver)
    services.approve(county_sub, user=personas.city_approver)


def test_a_county_submits_only_after_the_units_below_reported(
    form, tree, personas, county_sub, station_sub
) -> None:
    with pytest.raises(ReportingConflict, match="下级单位须先上报：甲一派出所"):
        services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    assert Submission.objects.get(pk=county_sub.pk).state == State.DRAFT
    services.submit(station_sub, user=SYSTEM, today=TODAY)
    assert services.submit(county_sub, user=personas.county_reporter, today=TODAY).state == (
        State.SUBMITTED
    )


def test_a_child_that_entered_nothing_also_blocks(form, tree, personas, county_sub) -> None:
    with pytest.raises(ReportingConflict, match="甲一派出所"):
        services.submit(county_sub, user=personas.county_reporter, today=TODAY)


def test_writes_to_submitted_approved_or_locked_figures_are_409_with_the_reason(
    form, tree, personas, county_sub
) -> None:
    reported_below(form, tree)
    services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    for expected in ("正在等待审核", "审核通过", "锁定"):
        with pytest.raises(ReportingConflict) as exc:
            services.save_form(
                form.data_set,
                tree.county_a,
                "201712",
                {"case.filed": "11"},
                user=personas.county_reporter,
                today=TODAY,
            )
        assert exc.value.status == 409 and expected in str(exc.value)
        sub = Submission.objects.get(pk=county_sub.pk)
        if sub.state == State.SUBMITTED:
            sub.state = State.APPROVED  # approval itself is tested above; here only the refusal
            sub.save()
        elif sub.state == State.APPROVED:
            sub.state = State.LOCKED
            sub.save()
    assert DataValue.objects.get(unit=tree.county_a, indicator=form.filed).value == 10


def test_a_return_carries_the_reason_and_reopens_entry(form, tree, personas, county_sub) -> None:
    reported_below(form, tree)
    services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    with pytest.raises(ReportingError, match="请写明填报人需要更正的内容"):
        services.return_form(county_sub, user=personas.city_approver, reason=" ")
    with translation.override("en"), pytest.raises(ReportingError, match="say what the reporter"):
        services.return_form(county_sub, user=personas.city_approver, reason=" ")
    sub = services.return_form(county_sub, user=personas.city_approver, reason="立案数与系统不符")
    assert sub.state == State.RETURNED and sub.return_reason == "立案数与系统不符"
    assert AuditEntry.objects.filter(
        action="reporting.submission.returned", reason="立案数与系统不符"
    ).exists()
    services.save_form(
        form.data_set,
        tree.county_a,
        "201712",
        {"case.filed": "12"},
        user=personas.county_reporter,
        today=TODAY,
    )
    sub = services.submit(sub, user=personas.county_reporter, today=TODAY)
    assert sub.state == State.SUBMITTED and sub.return_reason == ""


def test_submit_checks_the_rules_again(form, tree, personas) -> None:
    sub = enter(form, tree.county_a, {"case.filed": "5"})
    ind_services.add_rule(
        form.data_set, user=SYSTEM, name="at most 4", expression="case.filed <= 4"
    )
    with pytest.raises(ReportingError, match="at most 4"):
        services.submit(sub, user=personas.county_reporter, today=TODAY)
    assert Submission.objects.get(pk=sub.pk).state == State.DRAFT


def test_unapprove_needs_approval_rights_and_goes_top_down(
    form, tree, personas, county_sub, station_sub
) -> None:
    services.submit(station_sub, user=SYSTEM, today=TODAY)
    services.approve(station_sub, user=personas.city_approver)
    services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    services.approve(county_sub, user=personas.city_approver)
    with pytest.raises(PermissionDenied):
        services.unapprove(county_sub, user=personas.county_reporter)
    with pytest.raises(PermissionDenied):
        services.unapprove(county_sub, user=personas.province_office)
    with pytest.raises(
        ReportingConflict, match="COUNTY-A 的报表状态为“已审核通过”；请先在那里撤销审核"
    ):
        services.unapprove(station_sub, user=personas.city_approver)
    province_approver = make_user("prov_approver", tree.province, "approver")
    sub = services.unapprove(county_sub, user=province_approver, reason="recheck")
    assert sub.state == State.SUBMITTED
    services.unapprove(station_sub, user=personas.city_approver)


def test_only_the_office_locks_and_unlocks_with_a_reason(form, tree, personas, county_sub) -> None:
    Submission.objects.filter(pk=county_sub.pk).update(state=State.APPROVED)
    with pytest.raises(PermissionDenied):
        services.lock(county_sub, user=personas.city_approver)
    services.lock(county_sub, user=personas.province_office)
    with pytest.raises(PermissionDenied):
        services.unlock(county_sub, user=personas.city_approver, reason="x")
    with pytest.raises(ReportingError, match="解锁须写明原因"):
        services.unlock(county_sub, user=personas.province_office, reason="")
    sub = services.unlock(county_sub, user=personas.province_office, reason="年终对账更正")
    assert sub.state == State.RETURNED and states(tree.county_a) == {State.RETURNED}
    entry = AuditEntry.objects.get(action="reporting.submission.unlocked")
    assert entry.reason == "年终对账更正" and entry.before["state"] == "locked"
    assert entry.after["state"] == "returned" and entry.after["return_reason"] == "年终对账更正"
    assert entry.after["locked_at"] is None and entry.before["locked_at"] is not None
    services.save_form(
        form.data_set,
        tree.county_a,
        "201712",
        {"case.filed": "12"},
        user=personas.county_reporter,
        today=TODAY,
    )


def test_lock_period_locks_what_is_approved_and_names_the_rest(
    form, tree, personas, county_sub, station_sub
) -> None:
    Submission.objects.filter(pk=county_sub.pk).update(state=State.APPROVED)
    done, not_ready = services.lock_period(
        form.data_set, "201712", tree.city, user=personas.province_office
    )
    assert done == 1
    assert not_ready == ["COUNTY-B", "DIV", "STATION-A1"]


def test_transitions_from_the_wrong_state_are_conflicts(form, tree, personas, county_sub) -> None:
    reported_below(form, tree)
    with pytest.raises(ReportingConflict):
        services.approve(county_sub, user=personas.city_approver)
    with pytest.raises(ReportingConflict):
        services.lock(county_sub, user=personas.province_office)
    with pytest.raises(ReportingConflict):
        services.unlock(county_sub, user=personas.province_office, reason="x")
    services.submit(county_sub, user=personas.county_reporter, today=TODAY)
    with pytest.raises(ReportingConflict):
        services.submit(county_sub, user=personas.county_reporter, today=TODAY)
