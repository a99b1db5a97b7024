"""Record indicators against hand-counted records: count and sum, the class filter, the
statistical calendar's boundary, the roll-up to county, city and province, no records (0),
a second recompute (nothing changes) and queries that do not grow with the units."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duban import testing
from duban.audit.models import AuditEntry
from duban.indicators import services as ind_services
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.periods import PeriodType, StatisticalCalendar
from duban.records.aggregation import bucket_of, bucket_of_day
from duban.records.models import ProposalPeriod, RecordType
from duban.records.proposals import (
    held_proposals,
    proposals_for,
    recompute_record_indicators,
    record_indicators,
)
from duban.testing import make_unit

_ids = itertools.count(1)


def make_records(tree, rows) -> None:
    """rows: (type code, unit, ISO date, class, quantity)."""
    testing.make_records([(f"R{next(_ids)}", *row) for row in rows])


def cut_proposals_of(ind, unit) -> None:
    """Rewrite the indicator's proposals file without the unit's rows."""
    import duckdb

    from duban.records import store

    name = ProposalPeriod.objects.filter(indicator=ind).values_list("stored_as", flat=True)[0]
    path = store.root() / name
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{path}') WHERE unit_id <> {unit.pk}) "
        f"TO '{path}.new' (FORMAT parquet)"
    )
    con.close()
    (store.root() / f"{name}.new").replace(path)


def make_indicator(tree, code, type_code, **fields):
    defaults = {
        "name_zh": code,
        "value_type": "integer",
        "levels": ["county", "station"],
        "kinds": ["territorial"],
        "record_type": RecordType.objects.get(code=type_code),
    }
    defaults.update(fields)
    return ind_services.create_indicator(user=SYSTEM, issuer=tree.province, code=code, **defaults)


@pytest.fixture
def records(tree):
    for n, (code, name) in enumerate(
        [("case_filed", "立案"), ("fugitive_caught", "抓获逃犯"), ("vehicle_removed", "清理车辆")]
    ):
        RecordType.objects.create(code=code, name_zh=name, sort_order=n)
    s, a, b, d, o = tree.station_a1, tree.county_a, tree.county_b, tree.division, tree.other_city
    make_records(
        tree,
        [
            ("case_filed", s, "2017-01-05", "", "1"),
            ("case_filed", s, "2017-01-20", "", "1"),
            ("case_filed", s, "2017-01-21", "", "1"),
            ("case_filed", a, "2017-01-31", "", "1"),
            ("case_filed", b, "2017-02-01", "", "1"),
            ("case_filed", b, "2016-12-20", "", "1"),
            ("case_filed", b, "2016-12-21", "", "1"),
            ("case_filed", d, "2017-03-25", "", "1"),
            ("case_filed", o, "2017-01-10", "", "1"),
            ("fugitive_caught", s, "2017-01-03", "A", "1"),
            ("fugitive_caught", s, "2017-01-04", "B", "1"),
            ("fugitive_caught", b, "2017-01-09", "A", "1"),
            ("fugitive_caught", b, "2017-01-09", "local", "1"),
            ("vehicle_removed", s, "2017-01-02", "", "3"),
            ("vehicle_removed", a, "2017-01-15", "", "2.5"),
            ("vehicle_removed", b, "2017-01-30", "", "4"),
        ],
    )
    return tree


def figures(ind) -> dict[tuple[str, str], tuple[Decimal, int]]:
    codes = dict(OrgUnit.objects.values_list("pk", "code"))
    return {(codes[u], period): (value, n) for u, period, value, n in held_proposals(ind)}


def test_count_by_calendar_month_rolled_up_the_tree(records) -> None:
    ind = make_indicator(records, "case.filed", "case_filed")
    result = recompute_record_indicators(user=SYSTEM, indicators=[ind])
    one, two, three, four = Decimal(1), Decimal(2), Decimal(3), Decimal(4)
    assert figures(ind) == {
        ("COUNTY-B", "201612"): (two, 2),
        ("CITY", "201612"): (two, 2),
        ("PROV", "201612"): (two, 2),
        ("STATION-A1", "201701"): (three, 3),
        ("COUNTY-A", "201701"): (four, 4),
        ("CITY", "201701"): (four, 4),
        ("PROV", "201701"): (four, 4),
        ("OTHER", "201701"): (one, 1),
        ("COUNTY-B", "201702"): (one, 1),
        ("CITY", "201702"): (one, 1),
        ("PROV", "201702"): (one, 1),
        ("DIV", "201703"): (one, 1),
        ("CITY", "201703"): (one, 1),
        ("PROV", "201703"): (one, 1),
    }
    # The window is the records' first to last day, in whole months.
    assert sorted(
        ProposalPeriod.objects.filter(indicator=ind).values_list("period", flat=True)
    ) == ["201612", "201701", "201702", "201703"]
    assert (result.created, result.updated, result.deleted, result.periods) == (14, 0, 0, 4)


def test_the_statistical_year_from_12_21_moves_the_20th_and_the_21st(records) -> None:
    monthly = make_indicator(
        records, "case.filed.stat", "case_filed", record_start_month=12, record_start_day=21
    )
    quarterly = make_indicator(
        records,
        "case.filed.q",
        "case_filed",
        period_type="quarterly",
        record_start_month=12,
        record_start_day=21,
    )
    yearly = make_indicator(
        records,
        "case.filed.y",
        "case_filed",
        period_type="yearly",
        record_start_month=12,
        record_start_day=21,
    )
    recompute_record_indicators(user=SYSTEM, indicators=[monthly, quarterly, yearly])
    got = {k: v[0] for k, v in figures(monthly).items()}
    # 201701 is 2016-12-21..2017-01-20: 12-20 is still 201612, 12-21 and 01-20 are 201701,
    # 01-21 is 201702; 03-25 is 201704.
    assert got == {
        ("COUNTY-B", "201612"): 1,
        ("COUNTY-B", "201701"): 1,
        ("COUNTY-B", "201702"): 1,
        ("STATION-A1", "201701"): 2,
        ("STATION-A1", "201702"): 1,
        ("COUNTY-A", "201701"): 2,
        ("COUNTY-A", "201702"): 2,
        ("CITY", "201612"): 1,
        ("CITY", "201701"): 3,
        ("CITY", "201702"): 3,
        ("CITY", "201704"): 1,
        ("PROV", "201612"): 1,
        ("PROV", "201701"): 3,
        ("PROV", "201702"): 3,
        ("PROV", "201704"): 1,
        ("DIV", "201704"): 1,
        ("OTHER", "201701"): 1,
    }
    prov_q = {k[1]: v[0] for k, v in figures(quarterly).items() if k[0] == "PROV"}
    assert prov_q == {"2016Q4": 1, "2017Q1": 6, "2017Q2": 1}
    prov_y = {k[1]: v[0] for k, v in figures(yearly).items() if k[0] == "PROV"}
    assert prov_y == {"2016": 1, "2017": 7}
    assert {k[1]: v[0] for k, v in figures(yearly).items() if k[0] == "COUNTY-B"} == {
        "2016": 1,
        "2017": 2,
    }


def test_the_class_filter_counts_one_class(records) -> None:
    class_a = make_indicator(records, "fugitive.caught.A", "fugitive_caught", record_class="A")
    every = make_indicator(records, "fugitive.caught", "fugitive_caught")
    recompute_record_indicators(user=SYSTEM, indicators=[class_a, every])
    assert {k[0]: v[0] for k, v in figures(class_a).items()} == {
        "STATION-A1": 1,
        "COUNTY-A": 1,
        "COUNTY-B": 1,
        "CITY": 2,
        "PROV": 2,
    }
    assert {k[0]: v[0] for k, v in figures(every).items()} == {
        "STATION-A1": 2,
        "COUNTY-A": 2,
        "COUNTY-B": 2,
        "CITY": 4,
        "PROV": 4,
    }


def test_sum_adds_the_quantities_and_counts_the_records(records) -> None:
    ind = make_indicator(
        records, "vehicle.removed", "vehicle_removed", record_measure="sum", value_type="decimal"
    )
    recompute_record_indicators(user=SYSTEM, indicators=[ind])
    assert figures(ind) == {
        ("STATION-A1", "201701"): (Decimal(3), 1),
        ("COUNTY-A", "201701"): (Decimal("5.5"), 2),
        ("COUNTY-B", "201701"): (Decimal(4), 1),
        ("CITY", "201701"): (Decimal("9.5"), 3),
        ("PROV", "201701"): (Decimal("9.5"), 3),
    }


def test_a_unit_without_records_is_proposed_zero_in_a_computed_period(records) -> None:
    ind = make_indicator(records, "case.filed", "case_filed")
    recompute_record_indicators(user=SYSTEM, indicators=[ind])
    got = proposals_for(records.county_b, [ind], "201703")
    assert (got["case.filed"].value, got["case.filed"].record_count) == (0, 0)
    assert proposals_for(records.county_b, [ind], "201702")["case.filed"].value == 1
    # A period never computed proposes nothing.
    assert proposals_for(records.county_b, [ind], "201801") == {}


def test_recompute_twice_changes_nothing_and_follows_the_records(records) -> None:
    ind = make_indicator(records, "case.filed", "case_filed")
    recompute_record_indicators(user=SYSTEM, indicators=[ind])
    before = figures(ind)
    computed = list(ProposalPeriod.objects.order_by("pk").values())
    entries = AuditEntry.objects.count()
    again = recompute_record_indicators(user=SYSTEM, indicators=[ind])
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
    assert figures(ind) == before
    # The same file, the same time: nothing was written.
    assert list(ProposalPeriod.objects.order_by("pk").values()) == computed
    assert AuditEntry.objects.count() == entries  # nothing changed, nothing to record
    # One record of COUNTY-B in 201702 goes, one more of STATION-A1 in 201701 comes.
    testing.remove_records(f"unit_id = {records.county_b.pk} AND occurred_on = DATE '2017-02-01'")
    make_records(records, [("case_filed", records.station_a1, "2017-01-06", "", "1")])
    third = recompute_record_indicators(user=SYSTEM, indicators=[ind])
    got = figures(ind)
    assert ("COUNTY-B", "201702") not in got and ("CITY", "201702") not in got
    assert got[("STATION-A1", "201701")] == (4, 4) and got[("PROV", "201701")] == (5, 5)
    # deleted: COUNTY-B, CITY, PROV in 201702; updated: STATION-A1, COUNTY-A, CITY, PROV 201701
    assert (third.created, third.updated, third.deleted) == (0, 4, 3)
    assert AuditEntry.objects.filter(action="records.proposals.recomputed").count() == 2


def test_a_window_widens_to_whole_periods(records) -> None:
    ind = make_indicator(records, "case.filed", "case_filed")
    recompute_record_indicators(
        user=SYSTEM, indicators=[ind], start=date(2017, 1, 15), end=date(2017, 1, 16)
    )
    got = figures(ind)
    assert set(p for _u, p in got) == {"201701"}
    assert got[("COUNTY-A", "201701")] == (4, 4)  # the whole month, not the two days


def test_the_queries_do_not_grow_with_the_units(records) -> None:
    ind = make_indicator(records, "case.filed", "case_filed")
    with CaptureQueriesContext(connection) as small:
        recompute_record_indicators(user=SYSTEM, indicators=[ind])
    stations = [make_unit(f"ST-{n}", records.county_b, level="station") for n in range(40)]
    make_records(
        records,
        [
            ("case_filed", s, f"2017-0{1 + n % 3}-1{n % 10}", "", "1")
            for n, s in enumerate(stations)
        ],
    )
    ProposalPeriod.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        recompute_record_indicators(user=SYSTEM, indicators=[ind])
    assert len(large) == len(small)
    ids = {s.pk for s in stations}
    assert sum(1 for u, *_rest in held_proposals(ind) if u in ids) == 40


def test_record_indicators_are_named_and_refused_by_code(records) -> None:
    make_indicator(records, "case.filed", "case_filed")
    assert [i.code for i in record_indicators()] == ["case.filed"]
    with pytest.raises(Exception) as refused:
        record_indicators(["case.filed", "no.such"])
    assert "no.such" in str(refused.value)


CALENDARS = [(1, 1), (12, 21), (12, 16), (12, 15), (3, 1), (7, 10)]


@pytest.mark.parametrize(("month", "day"), CALENDARS)
@pytest.mark.parametrize(
    "ptype",
    [PeriodType.MONTHLY, PeriodType.QUARTERLY, PeriodType.SIXMONTHLY, PeriodType.YEARLY],
)
def test_the_sql_arithmetic_matches_the_calendar(month: int, day: int, ptype) -> None:
    calendar = StatisticalCalendar(month, day)
    first = date(2016, 1, 1)
    for n in range(0, 3 * 366):
        d = first + timedelta(days=n)
        period = calendar.period_containing(ptype, d)
        assert bucket_of_day(calendar, ptype, d) == bucket_of(calendar, ptype, period), (d, period)


def test_the_command_and_the_background_work_call_the_same_service(
    records, personas, settings
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from duban.jobs.models import Job, State
    from duban.jobs.work import start

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ind = make_indicator(records, "case.filed", "case_filed")
    out = StringIO()
    call_command("records", "recompute", "--indicator", "case.filed", stdout=out)
    assert "新增 14 项" in out.getvalue() or "14 added" in out.getvalue()
    assert len(held_proposals(ind)) == 14
    # The city's proposals lost (as though the file had been cut): the worker brings them back.
    cut_proposals_of(ind, records.city)
    assert len(held_proposals(ind)) == 10
    job = start("records.recompute", user=personas.province_office, indicators=["case.filed"])
    assert job.state == State.DONE, (job.error, job.problems)
    assert len(held_proposals(ind)) == 14
    assert Job.objects.filter(kind="records.recompute").count() == 1
    # A reporter may not recompute the province's indicators.
    refused = start("records.recompute", user=personas.county_reporter)
    assert refused.state == State.FAILED


def test_the_command_names_an_unknown_indicator(records) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as refused:
        call_command("records", "recompute", "--indicator", "no.such")
    assert "no.such" in str(refused.value)


def test_a_lost_proposals_file_leaves_the_form_without_proposals(records, caplog) -> None:
    """A file removed under a form (a recompute replaced it) is read again from its successor;
    one lost for good gives no proposals and an error in the log, never a broken form."""
    from duban.records import store

    ind = make_indicator(records, "case.filed", "case_filed")
    recompute_record_indicators(user=SYSTEM, indicators=[ind])
    assert proposals_for(records.county_b, [ind], "201702")["case.filed"].value == 1
    name = ProposalPeriod.objects.filter(indicator=ind).values_list("stored_as", flat=True)[0]
    (store.root() / name).unlink()
    assert proposals_for(records.county_b, [ind], "201702") == {}
    assert "duban records recompute" in caplog.text
    again = recompute_record_indicators(user=SYSTEM, indicators=[ind])
    assert again.created == 14  # the lost file's figures, written again
    assert proposals_for(records.county_b, [ind], "201702")["case.filed"].value == 1
