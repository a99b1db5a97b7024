"""Entering figures on the form: by type, by range, by the data set's rules; drafts; NULL ≠ 0."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from duban.audit.models import AuditEntry
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import TODAY, db_dump, values_of


def save(form, unit, values, user, period="201712", **kw):
    return services.save_form(form.data_set, unit, period, values, user=user, today=TODAY, **kw)


def test_draft_is_saved_and_a_submission_opens(form, tree, personas) -> None:
    result = save(
        form,
        tree.county_a,
        {"case.filed": "10", "case.solved": "7", "poll.score": "91.5"},
        personas.county_reporter,
        comments={"case.filed": "incl. 2 transferred"},
    )
    assert (result.created, result.updated) == (3, 0)
    assert values_of(tree.county_a, "201712") == {
        "case.filed": 10,
        "case.solved": 7,
        "poll.score": Decimal("91.5"),
    }
    sub = Submission.objects.get(unit=tree.county_a, period="201712")
    assert sub.state == State.DRAFT
    assert (
        DataValue.objects.get(indicator=form.filed, unit=tree.county_a).comment
        == "incl. 2 transferred"
    )


def test_every_bad_field_is_named_and_nothing_is_written(form, tree, personas) -> None:
    before = db_dump()
    with pytest.raises(ReportingError) as exc:
        save(
            form,
            tree.county_a,
            {"case.filed": "ten", "case.solved": "-1", "poll.score": "101"},
            personas.county_reporter,
        )
    assert {(p.where, p.message) for p in exc.value.problems} == {
        ("case.filed", "case.filed：'ten' 不是数字"),
        ("case.solved", "case.solved：不得小于 0"),
        ("poll.score", "poll.score：不得大于 100"),
    }
    assert exc.value.status == 400
    assert db_dump() == before


def test_a_broken_rule_blocks_the_save_and_names_both_fields(form, tree, personas) -> None:
    with pytest.raises(ReportingError) as exc:
        save(form, tree.county_a, {"case.filed": "5", "case.solved": "6"}, personas.county_reporter)
    (problem,) = exc.value.problems
    assert problem.where == "case.filed, case.solved"
    assert (
        "cases solved cannot exceed cases filed" in problem.message
        and "case.solved = 6" in problem.message
    )
    assert not DataValue.objects.exists()


def test_rules_see_stored_figures_too(form, tree, personas) -> None:
    save(form, tree.county_a, {"case.filed": "5"}, personas.county_reporter)
    with pytest.raises(ReportingError, match="cannot exceed"):
        save(form, tree.county_a, {"case.solved": "9"}, personas.county_reporter)
    save(form, tree.county_a, {"case.solved": "5"}, personas.county_reporter)


def test_a_rule_with_a_missing_input_passes(form, tree, personas) -> None:
    save(form, tree.county_a, {"case.solved": "9"}, personas.county_reporter)
    assert values_of(tree.county_a, "201712") == {"case.solved": 9}


def test_empty_is_no_value_not_zero_and_clearing_is_recorded(form, tree, personas) -> None:
    save(form, tree.county_a, {"case.filed": "0", "case.solved": ""}, personas.county_reporter)
    assert values_of(tree.county_a, "201712") == {"case.filed": Decimal(0)}
    save(form, tree.county_a, {"case.filed": ""}, personas.county_reporter)
    assert values_of(tree.county_a, "201712") == {"case.filed": None}
    entry = AuditEntry.objects.filter(action="reporting.values.saved").last()
    assert entry.after["changes"] == [["COUNTY-A", "case.filed", "201712", "0", ""]]
    assert entry.unit_id == tree.county_a.pk and entry.actor_id == personas.county_reporter.pk


def test_unchanged_figures_write_nothing(form, tree, personas) -> None:
    save(form, tree.county_a, {"case.filed": "10"}, personas.county_reporter)
    before = db_dump()
    result = save(form, tree.county_a, {"case.filed": "10.0"}, personas.county_reporter)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert db_dump() == before


def test_computed_and_foreign_fields_are_refused(form, tree, personas) -> None:
    with pytest.raises(ReportingError) as exc:
        save(
            form,
            tree.county_a,
            {"case.clearance": "50", "crime.gangs": "1"},
            personas.county_reporter,
        )
    found = {p.where: p.message for p in exc.value.problems}
    assert "无需填报" in found["case.clearance"]
    with pytest.raises(ReportingError) as exc:
        save(form, tree.county_a, {"nothing.here": "1"}, personas.county_reporter)
    assert exc.value.problems[0].message == "nothing.here 不在报表 CITY-M 中"


def test_a_station_does_not_report_the_poll(form, tree) -> None:
    with pytest.raises(ReportingError, match=r"STATION-A1 不填报 poll\.score"):
        services.save_form(
            form.data_set, tree.station_a1, "201712", {"poll.score": "90"}, user=SYSTEM, today=TODAY
        )


def test_the_owning_division_reports_its_line(form, tree) -> None:
    services.save_form(
        form.data_set, tree.division, "201712", {"crime.gangs": "2"}, user=SYSTEM, today=TODAY
    )
    assert values_of(tree.division, "201712") == {"crime.gangs": 2}


@pytest.mark.parametrize(
    "persona", ["sibling_reporter", "city_approver", "province_office", "leader"]
)
def test_only_the_units_own_reporter_enters(form, tree, personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        save(form, tree.county_a, {"case.filed": "1"}, getattr(personas, persona))


def test_wrong_period_type_is_refused(form, tree, personas) -> None:
    with pytest.raises(ReportingError, match="CITY-M 是月报：请填写该类型的期间"):
        save(form, tree.county_a, {"case.filed": "1"}, personas.county_reporter, period="2017Q4")


def test_an_unopened_period_is_a_conflict(form, tree, personas) -> None:
    with pytest.raises(ReportingConflict) as exc:
        save(form, tree.county_a, {"case.filed": "1"}, personas.county_reporter, period="201801")
    assert exc.value.status == 409 and "尚未开放填报" in str(exc.value)
