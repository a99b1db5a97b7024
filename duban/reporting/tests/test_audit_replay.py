"""`duban audit verify --data`: the trail's last record of every figure and form against the
tables. Data written through the services replays clean; a change made with raw SQL behind
the application's back is named row by row."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from duban.audit.services import record
from duban.audit.verify import verify_chain
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.audit_replay import ReportingReplay
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import TODAY, Form, put_figure
from duban.reporting.values import remove_figures
from duban.testing import make_user

VALUES = connection.ops.quote_name(DataValue._meta.db_table)
FORMS = connection.ops.quote_name(Submission._meta.db_table)


@pytest.fixture(autouse=True)
def _anchor_elsewhere(settings, tmp_path: Path) -> None:
    settings.DUBAN_AUDIT_ANCHOR = tmp_path / "audit-anchor.jsonl"


def sql(query: str, params: list[Any]) -> None:
    with connection.cursor() as cur:
        cur.execute(query.replace("{values}", VALUES).replace("{forms}", FORMS), params)


def replay() -> tuple[list[str], list[str]]:
    """(data problems, warnings) of a verify with the reporting replay."""
    result = verify_chain(replay=[ReportingReplay()])
    assert not result.problems, result.problems
    return [str(d) for d in result.data], result.warnings


@dataclass
class Written:
    form: Form
    tree: Any
    county: Submission


@pytest.fixture
def written(form: Form, tree, personas) -> Written:
    """Every way reporting writes figures and form states, through the services."""
    ds = form.data_set

    def save(unit: OrgUnit, values: dict[str, object], period: str = "201712", **kw: Any) -> None:
        services.save_form(ds, unit, period, values, user=SYSTEM, today=TODAY, **kw)

    def sub(unit: OrgUnit, period: str = "201712") -> Submission:
        return Submission.objects.get(data_set=ds, unit=unit, period=period)

    save(tree.county_a, {"case.filed": "10", "case.solved": "7", "poll.score": "91.5"})
    save(tree.county_a, {"case.filed": "12"}, comments={"case.filed": "含两起移送"})
    save(tree.county_a, {"poll.score": None})  # cleared: the row stays, without a value
    save(tree.station_a1, {"case.filed": "3", "case.solved": "1"})
    county_approver = make_user("county_approver", tree.county_a, "approver")
    services.submit(sub(tree.station_a1), user=SYSTEM, today=TODAY)
    services.approve(sub(tree.station_a1), user=county_approver)
    services.submit(sub(tree.county_a), user=SYSTEM, today=TODAY)
    services.approve(sub(tree.county_a), user=personas.city_approver)
    services.lock(sub(tree.county_a), user=personas.province_office)
    services.unlock(sub(tree.county_a), user=personas.province_office, reason="口径调整")
    save(tree.county_a, {"case.solved": "8"})
    services.submit(sub(tree.county_a), user=SYSTEM, today=TODAY)
    # 201711 expired on 2017-12-15: entered before, returned after.
    services.save_form(
        ds, tree.county_b, "201711", {"case.filed": "5"}, user=SYSTEM, today=TODAY.replace(day=10)
    )
    services.submit(sub(tree.county_b, "201711"), user=SYSTEM, today=TODAY.replace(day=10))
    services.return_form(sub(tree.county_b, "201711"), user=personas.city_approver, reason="请核对")
    # Figures put and removed outside the forms, through the writer (fixtures, the eval demo).
    services.get_or_create_submission(ds, tree.county_b, "201712")
    put_figure(tree.station_a1, form.solved, "201712", 2, State.DRAFT, "管理员更正")
    put_figure(tree.county_b, form.gangs, "201712", 4, State.DRAFT)
    remove_figures([(tree.county_b, form.gangs, "201712")], user=SYSTEM)
    return Written(form, tree, sub(tree.county_a))


def test_data_written_through_the_services_replays_clean(written: Written) -> None:
    problems, warnings = replay()
    assert problems == [] and all("anchor" in w for w in warnings), warnings
    out = StringIO()
    call_command("audit", "verify", "--data", stdout=out, stderr=StringIO())
    assert "figures and forms match the trail" in out.getvalue()


def test_a_figure_changed_behind_the_applications_back_is_named(written: Written) -> None:
    sql(
        "UPDATE {values} SET value = %s WHERE unit_id = %s AND indicator_id = %s",
        [Decimal(999), written.tree.county_a.pk, written.form.filed.pk],
    )
    problems, _ = replay()
    assert problems == [
        "figure COUNTY-A case.filed 201712: trail says value '12', table says value '999' "
        f"(last entry #{last_entry_of(written.county)})"
    ]
    err = StringIO()
    with pytest.raises(CommandError, match="1 data problem"):
        call_command("audit", "verify", "--data", stdout=StringIO(), stderr=err)
    assert "data: figure COUNTY-A case.filed 201712: trail says value '12'" in err.getvalue()


def last_entry_of(sub: Submission) -> int:
    from duban.audit.models import AuditEntry

    return (
        AuditEntry.objects.filter(action="reporting.submission.submitted", object_id=str(sub.pk))
        .latest("pk")
        .pk
    )


def test_a_comment_and_a_cleared_value_changed_behind_its_back_are_named(written: Written) -> None:
    t, f = written.tree, written.form
    sql(
        "UPDATE {values} SET comment = %s WHERE unit_id = %s AND indicator_id = %s",
        ["", t.county_a.pk, f.filed.pk],
    )
    sql(
        "UPDATE {values} SET value = %s WHERE unit_id = %s AND indicator_id = %s",
        [Decimal("88"), t.county_a.pk, f.poll.pk],
    )
    problems, _ = replay()
    assert [p.split(" (last")[0] for p in problems] == [
        "figure COUNTY-A case.filed 201712: trail says comment '含两起移送', table says no comment",
        "figure COUNTY-A poll.score 201712: trail says no value, table says value '88'",
    ]  # fmt: skip


def test_a_figures_state_changed_behind_its_back_is_named(written: Written) -> None:
    sql("UPDATE {values} SET state = %s WHERE unit_id = %s", ["approved", written.tree.county_b.pk])
    problems, _ = replay()
    assert [p.split(" (last")[0] for p in problems] == [
        "figure COUNTY-B case.filed 201711: trail says state 'returned', table says state 'approved'"
    ]


def test_a_forms_state_changed_behind_its_back_is_named(written: Written) -> None:
    sql("UPDATE {forms} SET state = %s WHERE id = %s", ["approved", written.county.pk])
    problems, _ = replay()
    assert problems == [
        "form CITY-M COUNTY-A 201712: trail says state 'submitted' "
        f"(entry #{last_entry_of(written.county)}), table says 'approved'"
    ]


def test_a_figure_inserted_without_a_trail_is_named(written: Written) -> None:
    t, f = written.tree, written.form
    sql(
        "INSERT INTO {values} (unit_id, indicator_id, period, value, comment, state, version, "
        "updated_at) VALUES (%s, %s, %s, %s, '', 'approved', 0, %s)",
        [t.county_b.pk, f.solved.pk, "201711", Decimal(40), timezone.now()],
    )
    problems, _ = replay()
    assert problems == [
        "figure COUNTY-B case.solved 201711: has no trail: the table holds value '40' (approved), "
        "and no entry ever wrote it"
    ]


def test_a_form_inserted_without_a_trail_is_named(written: Written) -> None:
    t, f = written.tree, written.form
    sql(
        "INSERT INTO {forms} (data_set_id, unit_id, period, state, return_reason, version) "
        "VALUES (%s, %s, %s, 'locked', '', 0)",
        [f.data_set.pk, t.county_b.pk, "201711x"],
    )
    problems, _ = replay()
    assert problems == [
        "form CITY-M COUNTY-B 201711x: has no trail: the table says 'locked', and no entry ever "
        "wrote it"
    ]


def test_a_figure_deleted_behind_its_back_is_named(written: Written) -> None:
    sql(
        "DELETE FROM {values} WHERE unit_id = %s AND indicator_id = %s",
        [written.tree.station_a1.pk, written.form.filed.pk],
    )
    problems, _ = replay()
    assert [p.split(": trail says")[0] for p in problems] == ["figure STATION-A1 case.filed 201712"]
    assert problems[0].endswith(
        "the table has no row: it was deleted behind the application's back"
    )


def test_a_change_later_overwritten_through_the_application_still_shows(written: Written) -> None:
    t, f = written.tree, written.form
    sql(
        "UPDATE {values} SET value = %s WHERE unit_id = %s AND indicator_id = %s",
        [Decimal(30), t.county_b.pk, f.filed.pk],
    )
    services.grant_lock_exception(f.data_set, t.county_b, "201711", user=SYSTEM, reason="补报")
    services.save_form(
        f.data_set, t.county_b, "201711", {"case.filed": "6"}, user=SYSTEM, today=TODAY
    )
    problems, _ = replay()
    assert len(problems) == 1
    assert "found value '30', but the trail had left value '5'" in problems[0]
    assert problems[0].startswith("figure COUNTY-B case.filed 201711: entry #")


def test_figures_written_without_naming_them_are_untraced_and_the_entry_is_named(
    written: Written,
) -> None:
    t, f = written.tree, written.form
    sql(  # behind the writer's back: the model refuses it, SQL does not
        "INSERT INTO {values} (unit_id, indicator_id, period, value, comment, state, version,"
        " updated_at) VALUES (%s, %s, '201711', 90, '', 'approved', 0, %s)",
        [t.county_b.pk, f.poll.pk, timezone.now()],
    )
    entry = record("evaluation.demo.values", object_type="reporting.datavalue", after={"count": 1})
    problems, warnings = replay()
    assert problems == [
        "figure COUNTY-B poll.score 201711: has no trail: the table holds value '90' (approved), and "
        "no entry ever wrote it"
    ]
    assert f"#{entry.pk} evaluation.demo.values (1 figures)" in " ".join(warnings)


@pytest.mark.once
@pytest.mark.django_db
def test_the_reporting_demo_replays_clean() -> None:
    from duban.demo.loader import load_demo
    from duban.reporting.demo import load_reporting_demo

    load_demo(activity=False)
    load_reporting_demo()
    problems, warnings = replay()
    assert problems == [] and not [w for w in warnings if "replayed" in w]
    assert DataValue.objects.filter(state=State.LOCKED).exists()
