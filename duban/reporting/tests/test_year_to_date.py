"""Stored year-to-date totals follow every approved or locked monthly figure, through every path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from duban.audit.models import AuditEntry
from duban.orgs.policy import SYSTEM
from duban.reporting import services, year_to_date
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import (
    DONE_STATES,
    DataValue,
    FigureWriteRefused,
    State,
    Submission,
    YearToDateTotal,
)
from duban.reporting.tests.conftest import Form, make_form, put_figure
from duban.reporting.values import RawValue, remove_figures, write_values

LATER = date(2019, 3, 1)  # every period below is open (the data set never expires)
D = Decimal


@pytest.fixture
def form(tree: Any) -> Form:
    form = make_form(tree, expiry_days=0)
    for year in (2016, 2017, 2018):
        for month in range(1, 13):
            period = f"{year}{month:02d}"
            if period not in ("201711", "201712"):
                services.open_period(form.data_set, period, user=SYSTEM)
    return form


def enter(form: Form, unit: Any, period: str, **values: object) -> Submission:
    codes = {k.replace("_", "."): "" if v is None else str(v) for k, v in values.items()}
    services.save_form(form.data_set, unit, period, codes, user=SYSTEM, today=LATER)
    return Submission.objects.get(data_set=form.data_set, unit=unit, period=period)


def approved(form: Form, unit: Any, period: str, **values: object) -> Submission:
    """Enter, submit and approve one form (a unit with no reporting children)."""
    sub = enter(form, unit, period, **values)
    services.submit(sub, user=SYSTEM, today=LATER)
    return services.approve(sub, user=SYSTEM)


def months(first: str, last: str) -> tuple[str, ...]:
    found, m = [], first
    while m <= last:
        found.append(m)
        year, month = int(m[:4]), int(m[4:])
        m = f"{year + month // 12}{month % 12 + 1:02d}"
    return tuple(found)


def filed(form: Form, unit: Any, first: str, last: str) -> tuple[Decimal, int] | None:
    return (
        year_to_date.sums([unit.pk], [form.filed.pk], months(first, last))
        .get(form.filed.pk, {})
        .get(unit.pk)
    )


def plain(units: list[int], indicators: list[int], window: tuple[str, ...]) -> dict[Any, Any]:
    """The reference: SUM and COUNT over the approved and locked monthly values."""
    found: dict[int, dict[int, tuple[Decimal, int]]] = {}
    rows = DataValue.objects.filter(
        unit_id__in=units,
        indicator_id__in=indicators,
        period__in=window,
        state__in=DONE_STATES,
        value__isnull=False,
    ).values_list("indicator_id", "unit_id", "value")
    for ind, unit, value in rows:
        total, given = found.setdefault(ind, {}).get(unit, (D(0), 0))
        found[ind][unit] = (total + value, given + 1)
    return found


# Hand-worked examples -------------------------------------------------------------------------


def test_a_window_from_january_is_one_row_per_pair(form: Form, tree: Any) -> None:
    county = tree.county_b
    approved(form, county, "201701", case_filed=10, case_solved=4, poll_score="88.25")
    approved(form, county, "201702", case_filed=None, case_solved=1)  # no value: not a month
    approved(form, county, "201703", case_filed=5, case_solved=2, poll_score="91.5")
    enter(form, county, "201704", case_filed=100)  # a draft: not counted
    assert filed(form, county, "201701", "201712") == (D(15), 2)
    polls = year_to_date.sums([county.pk], [form.poll.pk], months("201701", "201706"))
    assert polls == {form.poll.pk: {county.pk: (D("179.75"), 2)}}
    assert filed(form, county, "201701", "201702") == (D(10), 1)
    assert filed(form, county, "201702", "201702") is None  # nothing given: missing
    stored = dict(
        YearToDateTotal.objects.filter(unit=county, indicator=form.filed).values_list(
            "month", "total"
        )
    )
    assert sorted(stored) == list(months("201701", "201712"))  # January to December
    assert stored["201712"] == D(15)
    with CaptureQueriesContext(connection) as queries:
        year_to_date.sums([county.pk], [form.filed.pk], months("201701", "201712"))
    assert len(queries) == 1


def test_sum_columns_leave_out_units_inside_the_id_range_that_were_not_asked(
    form: Form, tree: Any
) -> None:
    """Dense unit ids are read as one BETWEEN range; a unit inside it that was not asked,
    and a pair whose months hold no value, must not come back."""
    filed_by = {tree.station_a1: 1, tree.county_b: 2, tree.county_a: 3}
    for unit, number in filed_by.items():  # the station before the county above it
        approved(form, unit, "201701", case_filed=number * 10)
        approved(form, unit, "201702", case_filed=number)
        approved(form, unit, "201703", case_filed=None, case_solved=number)
    first, middle, last = sorted(filed_by, key=lambda unit: unit.pk)
    totals, given = year_to_date.sum_columns(
        [first.pk, last.pk], {form.filed.pk: "filed", form.solved.pk: "solved"},
        months("201701", "201703"),
    )  # fmt: skip
    assert middle.pk not in totals["filed"]
    assert totals == {
        "filed": {first.pk: filed_by[first] * 11, last.pk: filed_by[last] * 11},
        "solved": {first.pk: filed_by[first], last.pk: filed_by[last]},
    }
    assert given == {  # March had no filed value; only March had a solved one
        "filed": {first.pk: 2, last.pk: 2},
        "solved": {first.pk: 1, last.pk: 1},
    }


def test_a_july_to_june_window_spans_two_named_years(form: Form, tree: Any) -> None:
    county = tree.county_b
    for period, value in (
        ("201706", 1),  # before the window
        ("201707", 2),
        ("201712", 3),
        ("201801", 4),
        ("201806", 5),
        ("201807", 6),  # after it
    ):
        approved(form, county, period, case_filed=value)
    # R(201712) − R(201706) + R(201806) = (1+2+3) − 1 + (4+5)
    assert filed(form, county, "201707", "201806") == (D(14), 4)
    assert filed(form, county, "201708", "201711") is None  # rows exist, nothing inside
    assert filed(form, county, "201708", "201801") == (D(7), 2)
    # one segment's start (201708) needs R(201707), the other none: three months read
    assert filed(form, county, "201612", "201707") == (D(3), 2)


def test_a_returned_unapproved_or_unlocked_form_leaves_the_totals(form: Form, tree: Any) -> None:
    county = tree.county_b
    approved(form, county, "201701", case_filed=10)
    march = approved(form, county, "201703", case_filed=5)
    assert filed(form, county, "201701", "201703") == (D(15), 2)
    services.unapprove(march, user=SYSTEM)  # back to submitted
    assert filed(form, county, "201701", "201703") == (D(10), 1)
    services.return_form(march, user=SYSTEM, reason="check the count")
    assert filed(form, county, "201701", "201703") == (D(10), 1)
    services.submit(march, user=SYSTEM, today=LATER)
    services.approve(march, user=SYSTEM)
    services.lock(march, user=SYSTEM)
    assert filed(form, county, "201701", "201703") == (D(15), 2)
    services.unlock(march, user=SYSTEM, reason="a miscount")
    assert filed(form, county, "201701", "201703") == (D(10), 1)
    january = Submission.objects.get(unit=county, period="201701")
    services.unlock(january, user=SYSTEM, reason="a miscount")
    assert filed(form, county, "201701", "201712") is None
    assert not YearToDateTotal.objects.filter(unit=county).exists()  # no value: no rows
    assert year_to_date.verify() == []


def test_a_correction_after_approval_goes_through_unlock_and_a_lock_exception(
    form: Form, tree: Any, personas: Any
) -> None:
    county = tree.county_b
    approved(form, county, "201705", case_filed=8, case_solved=3)
    rp = form.data_set.reporting_periods.get(period="201705")
    services.change_period(rp, user=SYSTEM, is_closed=True, reason="books closed")
    sub = Submission.objects.get(unit=county, period="201705")
    services.unlock(sub, user=SYSTEM, reason="the county found two more cases")
    with pytest.raises(ReportingConflict, match="已关闭"):
        enter(form, county, "201705", case_filed=10)
    services.grant_lock_exception(
        form.data_set, county, "201705", user=SYSTEM, reason="correction after approval"
    )
    enter(form, county, "201705", case_filed=10)
    assert filed(form, county, "201701", "201712") is None  # returned: nothing counts yet
    services.submit(sub, user=SYSTEM, today=LATER)
    services.approve(sub, user=SYSTEM)
    assert filed(form, county, "201701", "201712") == (D(10), 1)
    assert filed(form, county, "201706", "201712") is None


def test_figures_put_and_removed_outside_the_forms_keep_the_totals(form: Form, tree: Any) -> None:
    def put(period: str, value: object, state: str) -> DataValue:
        return put_figure(tree.county_b, form.filed, period, value, state)

    put("201702", D(3), State.APPROVED)
    put("201706", D(4), State.LOCKED)
    put("2017Q1", D(99), State.APPROVED)  # not a month: not covered
    assert filed(form, tree.county_b, "201701", "201712") == (D(7), 2)
    put("201706", D(4), State.DRAFT)
    assert filed(form, tree.county_b, "201701", "201712") == (D(3), 1)
    put("201706", D(6), State.APPROVED)
    put("201804", D(6), State.APPROVED)  # another year: its own totals
    assert filed(form, tree.county_b, "201701", "201712") == (D(9), 2)
    assert filed(form, tree.county_b, "201801", "201812") == (D(6), 1)
    remove_figures([(tree.county_b, form.filed, "201804")], user=SYSTEM)
    assert filed(form, tree.county_b, "201801", "201812") is None
    assert year_to_date.verify() == []


def test_a_figure_written_outside_the_writer_is_refused(form: Form, tree: Any) -> None:
    """Only `reporting.values` writes figures: every other save, delete or queryset write of a
    DataValue is refused, so none can change a figure and leave the totals behind."""
    dv = put_figure(tree.county_b, form.filed, "201702", D(3), State.APPROVED)
    dv.value = D(30)
    attempts = {
        "save": dv.save,
        "delete": dv.delete,
        "create": lambda: DataValue.objects.create(
            unit=tree.county_b, indicator=form.filed, period="201703", value=1,
            state=State.APPROVED, updated_at=timezone.now(),
        ),
        "update": lambda: DataValue.objects.filter(pk=dv.pk).update(value=D(30)),
        "queryset delete": lambda: DataValue.objects.filter(pk=dv.pk).delete(),
        "bulk_create": lambda: DataValue.objects.bulk_create([DataValue(
            unit=tree.county_b, indicator=form.filed, period="201704", updated_at=timezone.now()
        )]),
        "bulk_update": lambda: DataValue.objects.bulk_update([dv], ["value"]),
        "update_or_create": lambda: DataValue.objects.update_or_create(
            unit=tree.county_b, indicator=form.filed, period="201702", defaults={"value": 9}
        ),
    }  # fmt: skip
    for name, attempt in attempts.items():
        with pytest.raises(FigureWriteRefused):
            attempt()
            pytest.fail(f"{name} was allowed")
    assert filed(form, tree.county_b, "201701", "201712") == (D(3), 1)
    assert DataValue.objects.get(pk=dv.pk).value == D(3)
    assert year_to_date.verify() == []


def test_drafts_cost_nothing_and_an_approval_a_few_statements(form: Form, tree: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        sub = enter(form, tree.county_b, "201703", case_filed=4, case_solved=1)
        services.submit(sub, user=SYSTEM, today=LATER)
    assert not [q for q in queries if "yeartodatetotal" in q["sql"].lower()]
    with CaptureQueriesContext(connection) as queries:
        services.approve(sub, user=SYSTEM)
    touching = [q["sql"] for q in queries if "yeartodatetotal" in q["sql"].lower()]
    kinds = [next(w for w in ("DELETE", "SELECT", "INSERT") if w in sql) for sql in touching]
    # March on: February's row is the base; PostgreSQL inserts by COPY, which is not captured
    assert kinds == ["DELETE", "SELECT"] + (["INSERT"] if connection.vendor == "sqlite" else [])
    with CaptureQueriesContext(connection) as queries:
        services.lock(sub, user=SYSTEM)  # approved → locked: the same figures count
    assert not [q for q in queries if "yeartodatetotal" in q["sql"].lower()]


def test_a_stored_approved_figure_written_again_is_refreshed(form: Form, tree: Any) -> None:
    """write_values never writes an approved form, but a stored row may be approved without
    one (figures written outside the forms): a write over it takes it out of the totals."""
    put_figure(tree.county_b, form.filed, "201703", D(5), State.APPROVED)
    assert filed(form, tree.county_b, "201701", "201712") == (D(5), 1)
    write_values(
        [RawValue("row 1", "case.filed", "201703", "COUNTY-B", "7")], user=SYSTEM, today=LATER
    )
    assert filed(form, tree.county_b, "201701", "201712") is None
    assert year_to_date.verify() == []


def test_submitting_a_draft_form_takes_out_a_figure_approved_outside_it(
    form: Form, tree: Any
) -> None:
    """Found by the sequence property below: the form is a draft, one of its figures was
    saved approved on its own; submitting moves that figure to submitted, so the totals
    must drop it although the form itself never was approved."""
    sub = enter(form, tree.county_b, "201611", case_filed=None)
    put_figure(tree.county_b, form.solved, "201611", D(0), State.APPROVED)
    assert year_to_date.sums([tree.county_b.pk], [form.solved.pk], ["201611"]) == {
        form.solved.pk: {tree.county_b.pk: (D(0), 1)}
    }
    services.submit(sub, user=SYSTEM, today=LATER)
    assert year_to_date.sums([tree.county_b.pk], [form.solved.pk], ["201611"]) == {}
    assert year_to_date.verify() == []


def test_the_totals_are_not_audited_and_rebuild_writes_them_anew(form: Form, tree: Any) -> None:
    approved(form, tree.county_b, "201711", case_filed=3)
    before = AuditEntry.objects.count()
    year_to_date.refresh([(tree.county_b.pk, form.filed.pk, "201701")])
    assert year_to_date.rebuild() == 2  # November, December
    assert AuditEntry.objects.count() == before


def test_sums_refuses_what_is_not_a_month() -> None:
    with pytest.raises(ValueError, match="not a monthly period"):
        year_to_date.sums([1], [1], ["2017Q1"])
    assert year_to_date.sums([1], [1], []) == {}


# The command ----------------------------------------------------------------------------------


def test_verify_finds_a_tampered_row_and_rebuild_fixes_it(form: Form, tree: Any) -> None:
    approved(form, tree.county_b, "201710", case_filed=3)
    approved(form, tree.station_a1, "201710", case_filed=2)
    out = StringIO()
    call_command("year_to_date", "verify", stdout=out)
    assert "6 " in out.getvalue()  # 3 months each: October to December
    YearToDateTotal.objects.filter(unit=tree.county_b, month="201711").update(total=D(4))
    YearToDateTotal.objects.filter(unit=tree.station_a1, month="201712").delete()
    err = StringIO()
    with pytest.raises(CommandError, match="2"):
        call_command("year_to_date", "verify", stdout=StringIO(), stderr=err)
    assert "COUNTY-B case.filed 201711" in err.getvalue()
    assert "STATION-A1 case.filed 201712" in err.getvalue()
    call_command("year_to_date", "rebuild", stdout=StringIO())
    call_command("year_to_date", "verify", stdout=StringIO())
    assert year_to_date.verify() == []


# Any sequence of writes and state changes ---------------------------------------------------

PERIODS = ("201611", "201612", "201701", "201702", "201706", "201707", "201712", "201801")
UNITS = ("county_b", "station_a1")
count = st.one_of(st.none(), st.integers(0, 50))
figure = st.one_of(count, st.decimals("-99.999", "99999.999", places=3))
# One step works on one form: a few operations in a row, so approvals and unlocks happen.
operation = st.one_of(
    st.tuples(st.just("write"), count, count),
    st.tuples(st.just("put"), figure, st.sampled_from(list(State))),
    st.tuples(st.sampled_from(["submit", "approve", "return", "unapprove", "lock", "unlock"])),
    st.just(("settle",)),  # submit and approve: weighted, so that most runs approve something
)
step = st.tuples(
    st.sampled_from(UNITS), st.sampled_from(PERIODS), st.lists(operation, min_size=1, max_size=5)
)


def _run(form: Form, tree: Any, unit_name: str, period: str, operation: tuple[Any, ...]) -> None:
    unit = getattr(tree, unit_name)
    kind = operation[0]
    if kind == "write":
        filed_value, solved_value = operation[1], operation[2]
        if filed_value is not None and solved_value is not None and solved_value > filed_value:
            solved_value = filed_value
        enter(form, unit, period, case_filed=filed_value, case_solved=solved_value)
        return
    if kind == "put":  # a single save outside the forms, in any state
        put_figure(unit, form.solved, period, operation[1], operation[2])
        return
    sub = Submission.objects.filter(data_set=form.data_set, unit=unit, period=period).first()
    if sub is None:
        return
    reason = "a reason"
    {
        "submit": lambda: services.submit(sub, user=SYSTEM, today=LATER),
        "approve": lambda: services.approve(sub, user=SYSTEM),
        "settle": lambda: services.approve(
            services.submit(sub, user=SYSTEM, today=LATER), user=SYSTEM
        ),
        "return": lambda: services.return_form(sub, user=SYSTEM, reason=reason),
        "unapprove": lambda: services.unapprove(sub, user=SYSTEM),
        "lock": lambda: services.lock(sub, user=SYSTEM),
        "unlock": lambda: services.unlock(sub, user=SYSTEM, reason=reason),
    }[kind]()


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(step, min_size=1, max_size=12),
    windows=st.lists(
        st.tuples(st.integers(0, len(PERIODS) - 1), st.integers(1, 14)), min_size=1, max_size=4
    ),
)
def test_any_sequence_keeps_the_totals_equal_to_a_plain_sum(
    form: Form, tree: Any, steps: list[tuple[Any, ...]], windows: list[tuple[int, int]]
) -> None:
    with transaction.atomic():
        for unit_name, period, operations in steps:
            for operation in operations:
                try:
                    with transaction.atomic():
                        _run(form, tree, unit_name, period, operation)
                except (ReportingConflict, ReportingError):
                    pass  # refused in this state: nothing changed
        assert year_to_date.verify() == []
        done = DataValue.objects.filter(state__in=DONE_STATES, value__isnull=False).count()
        event(f"approved or locked values: {min(done, 4)}{'+' if done >= 4 else ''}")
        units = [tree.county_b.pk, tree.station_a1.pk, tree.county_a.pk]
        indicators = [form.filed.pk, form.solved.pk, form.poll.pk]
        for start, length in windows:
            window = months(PERIODS[start], "209912")[:length]
            expected = plain(units, indicators, window)
            assert year_to_date.sums(units, indicators, window) == expected
            # the columns scoring reads: the same sums, split, keyed by unit id
            totals, given = year_to_date.sum_columns(units, {i: i for i in indicators}, window)
            assert totals == {i: {u: t for u, (t, _) in of.items()} for i, of in expected.items()}
            assert given == {i: {u: n for u, (_, n) in of.items()} for i, of in expected.items()}
        transaction.set_rollback(True)


def test_the_admin_shows_figures_read_only(form: Form, tree: Any, rf: Any) -> None:
    from django.contrib import admin

    from duban.testing import make_user

    model_admin = admin.site._registry[DataValue]
    request = rf.get("/admin/")
    request.user = make_user("sysadmin_ytd", tree.city, "system_admin")
    dv = put_figure(tree.county_b, form.filed, "201702", D(3), State.APPROVED)
    assert model_admin.has_view_permission(request, dv)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, dv)
    assert not model_admin.has_delete_permission(request, dv)
