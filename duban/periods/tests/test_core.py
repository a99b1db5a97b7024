"""Tests for duban.periods: hand-checked tables first, then Hypothesis properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duban.periods import (
    Period,
    PeriodType,
    StatisticalCalendar,
    parse_period,
    period_containing,
    periods_between,
    year_to_date,
)

# These tests check the wording of the English msgids; the Chinese is checked in
# duban/reporting/tests/test_period_refusals_translated.py (periods import no Django).
pytestmark = pytest.mark.usefixtures("english")

D = PeriodType.DAILY
W = PeriodType.WEEKLY
M = PeriodType.MONTHLY
Q = PeriodType.QUARTERLY
S = PeriodType.SIXMONTHLY
Y = PeriodType.YEARLY

CAL_1221 = StatisticalCalendar(12, 21)


@pytest.mark.parametrize(
    ("ident", "ptype", "start", "end", "days", "year"),
    [
        ("2017", Y, date(2017, 1, 1), date(2017, 12, 31), 365, 2017),
        ("2020", Y, date(2020, 1, 1), date(2020, 12, 31), 366, 2020),
        ("2017S1", S, date(2017, 1, 1), date(2017, 6, 30), 181, 2017),
        ("2020S1", S, date(2020, 1, 1), date(2020, 6, 30), 182, 2020),
        ("2017S2", S, date(2017, 7, 1), date(2017, 12, 31), 184, 2017),
        ("2017Q1", Q, date(2017, 1, 1), date(2017, 3, 31), 90, 2017),
        ("2017Q3", Q, date(2017, 7, 1), date(2017, 9, 30), 92, 2017),
        ("2017Q4", Q, date(2017, 10, 1), date(2017, 12, 31), 92, 2017),
        ("201702", M, date(2017, 2, 1), date(2017, 2, 28), 28, 2017),
        ("202002", M, date(2020, 2, 1), date(2020, 2, 29), 29, 2020),
        ("201712", M, date(2017, 12, 1), date(2017, 12, 31), 31, 2017),
        ("2017W49", W, date(2017, 12, 4), date(2017, 12, 10), 7, 2017),
        ("2017W1", W, date(2017, 1, 2), date(2017, 1, 8), 7, 2017),
        ("2017W52", W, date(2017, 12, 25), date(2017, 12, 31), 7, 2017),
        ("2015W1", W, date(2014, 12, 29), date(2015, 1, 4), 7, 2015),
        ("2019W1", W, date(2018, 12, 31), date(2019, 1, 6), 7, 2019),
        ("2015W53", W, date(2015, 12, 28), date(2016, 1, 3), 7, 2015),
        ("2020W53", W, date(2020, 12, 28), date(2021, 1, 3), 7, 2020),
        ("2026W53", W, date(2026, 12, 28), date(2027, 1, 3), 7, 2026),
        ("20171208", D, date(2017, 12, 8), date(2017, 12, 8), 1, 2017),
        ("20200229", D, date(2020, 2, 29), date(2020, 2, 29), 1, 2020),
        ("20000229", D, date(2000, 2, 29), date(2000, 2, 29), 1, 2000),
    ],
)
def test_parse_known_periods(
    ident: str, ptype: PeriodType, start: date, end: date, days: int, year: int
) -> None:
    period = parse_period(ident)
    assert (period.type, period.id, period.start, period.end) == (ptype, ident, start, end)
    assert (period.days, period.year, str(period)) == (days, year, ident)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (" 2017Q4 ", "2017Q4"),
        ("\t201712\n", "201712"),
        ("2019W01", "2019W1"),
        ("2017W09", "2017W9"),
    ],
)
def test_parse_normalises(text: str, canonical: str) -> None:
    assert parse_period(text).id == canonical


@pytest.mark.parametrize(
    ("ident", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("2017Q5", "quarter"),
        ("2017Q0", "quarter"),
        ("201713", "month"),
        ("201700", "month"),
        ("2017W00", "numbered from 1"),
        ("2017W53", "2017 has 52 ISO weeks"),
        ("2019W53", "2019 has 52 ISO weeks"),
        ("2017W053", "unknown format"),
        ("2017S3", "half-year"),
        ("2017S0", "half-year"),
        ("20190229", "no day 29"),
        ("19000229", "no day 29"),
        ("20170431", "no day 31"),
        ("20171301", "month"),
        ("abcd", "unknown format"),
        ("17", "unknown format"),
        ("2017q4", "unknown format"),
        ("2017-12", "unknown format"),
        ("1899", "outside 1900..2999"),
        ("3000Q1", "outside 1900..2999"),
    ],
)
def test_parse_rejects_bad_identifiers(ident: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid period identifier") as info:
        parse_period(ident)
    assert f"'{ident.strip()}'" in str(info.value)
    assert reason in str(info.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        parse_period(2017)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ident", "following"),
    [
        ("201712", "201801"),
        ("2020W53", "2021W1"),
        ("2015W52", "2015W53"),
        ("2017W52", "2018W1"),
        ("2017Q4", "2018Q1"),
        ("2017S2", "2018S1"),
        ("2017S1", "2017S2"),
        ("2017", "2018"),
        ("20201231", "20210101"),
        ("20200228", "20200229"),
        ("20190228", "20190301"),
    ],
)
def test_next_and_previous(ident: str, following: str) -> None:
    assert parse_period(ident).next() == parse_period(following)
    assert parse_period(following).previous() == parse_period(ident)


def test_stepping_past_supported_years_fails() -> None:
    with pytest.raises(ValueError, match="3000"):
        parse_period("2999").next()
    with pytest.raises(ValueError, match="1899"):
        parse_period("19000101").previous()


@pytest.mark.parametrize(
    ("ptype", "day", "ident"),
    [
        (D, date(2017, 12, 8), "20171208"),
        (W, date(2017, 12, 8), "2017W49"),
        (W, date(2018, 12, 31), "2019W1"),
        (W, date(2021, 1, 3), "2020W53"),
        (W, date(2016, 1, 1), "2015W53"),
        (W, date(2027, 1, 1), "2026W53"),
        (W, date(2017, 1, 1), "2016W52"),
        (M, date(2020, 2, 29), "202002"),
        (Q, date(2017, 12, 31), "2017Q4"),
        (Q, date(2017, 4, 1), "2017Q2"),
        (S, date(2017, 6, 30), "2017S1"),
        (S, date(2017, 7, 1), "2017S2"),
        (Y, date(2017, 12, 8), "2017"),
    ],
)
def test_period_containing(ptype: PeriodType, day: date, ident: str) -> None:
    assert period_containing(ptype, day).id == ident


def test_period_containing_accepts_plain_strings_and_rejects_datetimes() -> None:
    assert period_containing("monthly", date(2017, 12, 8)).id == "201712"  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="date"):
        period_containing(M, datetime(2017, 12, 8, 23, 0))
    with pytest.raises(ValueError):
        period_containing("fortnightly", date(2017, 12, 8))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("2017", "2017Q4", True),
        ("2017", "201712", True),
        ("2017Q4", "201712", True),
        ("2017Q4", "201709", False),
        ("2017S2", "2017Q3", True),
        ("2017", "2017W52", True),
        ("2015", "2015W53", False),
        ("2019", "2019W1", False),
        ("201712", "2017W49", True),
        ("2017W49", "20171208", True),
        ("2017W49", "20171211", False),
        ("2017Q4", "2017Q4", True),
        ("201712", "2017Q4", False),
    ],
)
def test_contains_period(outer: str, inner: str, expected: bool) -> None:
    assert parse_period(outer).contains(parse_period(inner)) is expected
    assert (parse_period(inner) in parse_period(outer)) is expected


def test_contains_date() -> None:
    december = parse_period("201712")
    assert date(2017, 12, 1) in december
    assert date(2017, 12, 31) in december
    assert date(2018, 1, 1) not in december
    assert december.contains(date(2017, 11, 30)) is False
    with pytest.raises(TypeError):
        _ = "20171208" in december


def test_equality_hashing_and_ordering() -> None:
    assert parse_period("2019W01") == parse_period("2019W1")
    assert len({parse_period("201712"), parse_period(" 201712"), parse_period("2017Q4")}) == 2
    ordered = sorted(parse_period(i) for i in ["2018", "201712", "2017", "2017Q4", "20171201"])
    assert [p.id for p in ordered] == ["2017", "2017Q4", "20171201", "201712", "2018"]
    assert parse_period("2017W52") < parse_period("2018W1")


def test_constructor_rejects_inconsistent_fields() -> None:
    good = parse_period("201712")
    assert Period(M, "201712", date(2017, 12, 1), date(2017, 12, 31)) == good
    with pytest.raises(ValueError, match="inconsistent"):
        Period(M, "201712", date(2017, 12, 1), date(2017, 12, 30))
    with pytest.raises(ValueError, match="inconsistent"):
        Period(Q, "201712", date(2017, 12, 1), date(2017, 12, 31))
    with pytest.raises(ValueError, match="inconsistent"):
        Period(W, "2019W01", date(2018, 12, 31), date(2019, 1, 6))


def test_period_type_granularity() -> None:
    assert [t.rank for t in (D, W, M, Q, S, Y)] == [0, 1, 2, 3, 4, 5]
    assert sorted([Y, D, Q, M, S, W], key=lambda t: t.rank) == list(PeriodType)
    assert PeriodType("sixmonthly") is S
    assert str(S) == "sixmonthly"


@pytest.mark.parametrize(
    ("ptype", "start", "end", "partial", "ids"),
    [
        (M, date(2017, 10, 1), date(2017, 12, 31), False, ["201710", "201711", "201712"]),
        (M, date(2017, 10, 2), date(2017, 12, 31), False, ["201711", "201712"]),
        (M, date(2017, 10, 2), date(2017, 12, 30), True, ["201710", "201711", "201712"]),
        (M, date(2017, 10, 2), date(2017, 10, 30), False, []),
        (M, date(2017, 10, 2), date(2017, 10, 30), True, ["201710"]),
        (
            Q,
            date(2017, 1, 1),
            date(2018, 6, 30),
            False,
            ["2017Q1", "2017Q2", "2017Q3", "2017Q4", "2018Q1", "2018Q2"],
        ),
        (W, date(2020, 12, 20), date(2021, 1, 10), False, ["2020W52", "2020W53", "2021W1"]),
        (
            W,
            date(2020, 12, 20),
            date(2021, 1, 10),
            True,
            ["2020W51", "2020W52", "2020W53", "2021W1"],
        ),
        (D, date(2020, 2, 28), date(2020, 3, 1), False, ["20200228", "20200229", "20200301"]),
        (Y, date(2017, 12, 8), date(2017, 12, 8), True, ["2017"]),
        (S, date(2017, 1, 1), date(2017, 12, 31), False, ["2017S1", "2017S2"]),
    ],
)
def test_periods_between(
    ptype: PeriodType, start: date, end: date, partial: bool, ids: list[str]
) -> None:
    assert [p.id for p in periods_between(ptype, start, end, partial=partial)] == ids


def test_periods_between_rejects_reversed_range() -> None:
    with pytest.raises(ValueError, match="after"):
        periods_between(M, date(2018, 1, 1), date(2017, 1, 1))


@pytest.mark.parametrize(
    ("ident", "ptype", "ids"),
    [
        ("2017Q4", M, ["201710", "201711", "201712"]),
        ("2017", S, ["2017S1", "2017S2"]),
        ("2017S2", Q, ["2017Q3", "2017Q4"]),
        ("201712", W, ["2017W49", "2017W50", "2017W51", "2017W52"]),
        ("201801", W, ["2018W1", "2018W2", "2018W3", "2018W4"]),
        ("201811", W, ["2018W44", "2018W45", "2018W46", "2018W47", "2018W48"]),
        ("2017W49", D, [f"201712{d:02d}" for d in range(4, 11)]),
        ("2017W49", W, ["2017W49"]),
        ("20171208", D, ["20171208"]),
    ],
)
def test_sub_periods(ident: str, ptype: PeriodType, ids: list[str]) -> None:
    assert [p.id for p in parse_period(ident).sub_periods(ptype)] == ids


def test_sub_periods_counts_and_rejects_coarser() -> None:
    assert len(parse_period("2020").sub_periods(W)) == 53
    assert len(parse_period("2019").sub_periods(W)) == 52
    assert len(parse_period("2020").sub_periods(D)) == 366
    with pytest.raises(ValueError, match="cannot be split"):
        parse_period("201712").sub_periods(Q)
    with pytest.raises(ValueError, match="cannot be split"):
        parse_period("2017W49").sub_periods(M)


@pytest.mark.parametrize(
    ("ident", "today", "share"),
    [
        ("2017", date(2016, 12, 31), Fraction(0)),
        ("2017", date(2017, 1, 1), Fraction(1, 365)),
        ("2017", date(2017, 7, 2), Fraction(183, 365)),
        ("2017", date(2017, 12, 31), Fraction(1)),
        ("2017", date(2018, 3, 1), Fraction(1)),
        ("201712", date(2017, 12, 8), Fraction(8, 31)),
        ("2020Q1", date(2020, 2, 29), Fraction(60, 91)),
        ("20171208", date(2017, 12, 8), Fraction(1)),
    ],
)
def test_elapsed_share(ident: str, today: date, share: Fraction) -> None:
    assert parse_period(ident).elapsed_share(today) == share


@pytest.mark.parametrize(
    ("ident", "start", "end"),
    [
        ("201712", date(2017, 1, 1), date(2017, 12, 31)),
        ("2017Q2", date(2017, 1, 1), date(2017, 6, 30)),
        ("2017", date(2017, 1, 1), date(2017, 12, 31)),
        ("20171208", date(2017, 1, 1), date(2017, 12, 8)),
        ("2017W49", date(2017, 1, 2), date(2017, 12, 10)),
        ("2019W1", date(2018, 12, 31), date(2019, 1, 6)),
        ("2015W53", date(2014, 12, 29), date(2016, 1, 3)),
    ],
)
def test_year_to_date(ident: str, start: date, end: date) -> None:
    assert year_to_date(parse_period(ident)) == (start, end)


@pytest.mark.parametrize(
    ("ident", "start", "end"),
    [
        ("2017", date(2016, 12, 21), date(2017, 12, 20)),
        ("2017S1", date(2016, 12, 21), date(2017, 6, 20)),
        ("2017S2", date(2017, 6, 21), date(2017, 12, 20)),
        ("2017Q1", date(2016, 12, 21), date(2017, 3, 20)),
        ("2017Q4", date(2017, 9, 21), date(2017, 12, 20)),
        ("201701", date(2016, 12, 21), date(2017, 1, 20)),
        ("201702", date(2017, 1, 21), date(2017, 2, 20)),
        ("202003", date(2020, 2, 21), date(2020, 3, 20)),
        ("201712", date(2017, 11, 21), date(2017, 12, 20)),
        ("20171225", date(2017, 12, 25), date(2017, 12, 25)),
    ],
)
def test_statistical_calendar_ranges(ident: str, start: date, end: date) -> None:
    assert CAL_1221.date_range(parse_period(ident)) == (start, end)


@pytest.mark.parametrize(
    ("ptype", "day", "ident"),
    [
        (Y, date(2017, 12, 25), "2018"),
        (M, date(2017, 12, 25), "201801"),
        (Q, date(2017, 12, 25), "2018Q1"),
        (S, date(2017, 12, 25), "2018S1"),
        (Y, date(2017, 12, 20), "2017"),
        (M, date(2017, 12, 20), "201712"),
        (M, date(2017, 12, 21), "201801"),
        (Q, date(2017, 3, 21), "2017Q2"),
        (S, date(2017, 6, 21), "2017S2"),
        (D, date(2017, 12, 25), "20171225"),
    ],
)
def test_statistical_calendar_period_containing(ptype: PeriodType, day: date, ident: str) -> None:
    assert CAL_1221.period_containing(ptype, day).id == ident


@pytest.mark.parametrize(
    ("calendar", "ident", "start", "end"),
    [
        (StatisticalCalendar(4, 1), "2017", date(2017, 4, 1), date(2018, 3, 31)),
        (StatisticalCalendar(4, 1), "2017Q4", date(2018, 1, 1), date(2018, 3, 31)),
        (StatisticalCalendar(4, 1), "201702", date(2017, 2, 1), date(2017, 2, 28)),
        (StatisticalCalendar(1, 26), "2017", date(2017, 1, 26), date(2018, 1, 25)),
        (StatisticalCalendar(1, 26), "201701", date(2016, 12, 26), date(2017, 1, 25)),
        (StatisticalCalendar(1, 5), "2017", date(2017, 1, 5), date(2018, 1, 4)),
        (StatisticalCalendar(1, 5), "201701", date(2017, 1, 5), date(2017, 2, 4)),
    ],
)
def test_other_statistical_calendars(
    calendar: StatisticalCalendar, ident: str, start: date, end: date
) -> None:
    assert calendar.date_range(parse_period(ident)) == (start, end)


def test_statistical_calendar_weeks() -> None:
    week = parse_period("2017W49")
    assert StatisticalCalendar().date_range(week) == (week.start, week.end)
    assert StatisticalCalendar().period_containing(W, date(2017, 12, 8)) == week
    with pytest.raises(ValueError, match="weekly periods are not supported"):
        CAL_1221.date_range(week)
    with pytest.raises(ValueError, match="weekly periods are not supported"):
        CAL_1221.period_containing(W, date(2017, 12, 8))


@pytest.mark.parametrize(
    ("ident", "today", "share"),
    [
        ("2017", date(2016, 12, 20), Fraction(0)),
        ("2017", date(2016, 12, 21), Fraction(1, 365)),
        ("2017", date(2017, 12, 8), Fraction(353, 365)),
        ("2017", date(2017, 12, 20), Fraction(1)),
        ("201712", date(2017, 12, 8), Fraction(18, 30)),
        ("201712", date(2017, 12, 25), Fraction(1)),
    ],
)
def test_statistical_calendar_elapsed_share(ident: str, today: date, share: Fraction) -> None:
    assert CAL_1221.elapsed_share(parse_period(ident), today) == share


@pytest.mark.parametrize(
    ("ident", "start", "end"),
    [
        ("201712", date(2016, 12, 21), date(2017, 12, 20)),
        ("201701", date(2016, 12, 21), date(2017, 1, 20)),
        ("2017Q3", date(2016, 12, 21), date(2017, 9, 20)),
        ("20171225", date(2017, 12, 21), date(2017, 12, 25)),
        ("20171220", date(2016, 12, 21), date(2017, 12, 20)),
    ],
)
def test_statistical_calendar_year_to_date(ident: str, start: date, end: date) -> None:
    assert CAL_1221.year_to_date(parse_period(ident)) == (start, end)


def test_statistical_calendar_year_to_date_weeks() -> None:
    week = parse_period("2019W1")
    assert StatisticalCalendar().year_to_date(week) == year_to_date(week)
    with pytest.raises(ValueError, match="weekly"):
        CAL_1221.year_to_date(week)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start_month": 0}, "start_month"),
        ({"start_month": 13}, "start_month"),
        ({"start_month": True}, "start_month"),
        ({"start_day": 0}, "start_day"),
        ({"start_day": 29}, "start_day"),
        ({"start_day": "21"}, "start_day"),
    ],
)
def test_statistical_calendar_validation(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        StatisticalCalendar(**kwargs)  # type: ignore[arg-type]


def test_statistical_calendar_defaults() -> None:
    assert StatisticalCalendar().is_standard
    assert not CAL_1221.is_standard
    assert str(CAL_1221) == "12/21"


# Hypothesis properties. Dates stay a year inside 1900..2999 so neighbours exist.

days = st.dates(min_value=date(1901, 1, 1), max_value=date(2998, 12, 31))
period_types = st.sampled_from(list(PeriodType))
years = st.integers(min_value=1901, max_value=2998)
calendars = st.builds(
    StatisticalCalendar,
    start_month=st.integers(min_value=1, max_value=12),
    start_day=st.integers(min_value=1, max_value=28),
)
month_based = st.sampled_from([M, Q, S, Y])


@st.composite
def periods(draw: st.DrawFn) -> Period:
    return period_containing(draw(period_types), draw(days))


@given(period_types, days)
def test_prop_period_containing_contains_day(ptype: PeriodType, day: date) -> None:
    period = period_containing(ptype, day)
    assert day in period
    assert period.type is ptype


@given(periods())
def test_prop_id_round_trips(period: Period) -> None:
    again = parse_period(period.id)
    assert again == period
    assert (again.type, again.id) == (period.type, period.id)


@given(periods())
def test_prop_next_starts_the_day_after(period: Period) -> None:
    assert period.next().start == period.end + timedelta(days=1)
    assert period.previous().end == period.start - timedelta(days=1)


@given(periods())
def test_prop_previous_then_next_is_identity(period: Period) -> None:
    assert period.previous().next() == period
    assert period.next().previous() == period


@given(periods())
def test_prop_week_year_holds_its_thursday(period: Period) -> None:
    if period.type is W:
        assert (period.start + timedelta(days=3)).year == period.year
    else:
        assert period.start.year == period.year


def assert_tiles(parts: list[Period], start: date, end: date) -> None:
    assert parts[0].start == start
    assert parts[-1].end == end
    for before, after in pairwise(parts):
        assert after.start == before.end + timedelta(days=1)


@given(years, st.sampled_from([D, M, Q, S]))
def test_prop_sub_periods_tile_the_year(year: int, ptype: PeriodType) -> None:
    whole = parse_period(str(year))
    parts = whole.sub_periods(ptype)
    assert_tiles(parts, whole.start, whole.end)
    assert sum(p.days for p in parts) == whole.days


@given(years)
def test_prop_weeks_of_a_year_are_its_iso_weeks(year: int) -> None:
    weeks = parse_period(str(year)).sub_periods(W)
    assert [w.index for w in weeks] == list(range(1, len(weeks) + 1))
    assert {w.year for w in weeks} == {year}
    assert len(weeks) in (52, 53)


@given(period_types, days, st.integers(min_value=0, max_value=400), st.booleans())
def test_prop_periods_between_is_contiguous(
    ptype: PeriodType, start: date, length: int, partial: bool
) -> None:
    end = start + timedelta(days=length)
    found = periods_between(ptype, start, end, partial=partial)
    for before, after in pairwise(found):
        assert after == before.next()
    if partial:
        assert found[0].contains(start)
        assert found[-1].contains(end)
    else:
        assert all(start <= p.start and p.end <= end for p in found)


@given(periods(), days)
def test_prop_elapsed_share_is_a_bounded_fraction(period: Period, today: date) -> None:
    share = period.elapsed_share(today)
    assert 0 <= share <= 1
    assert (share == 1) == (today >= period.end)
    assert (share == 0) == (today < period.start)


@given(periods())
def test_prop_standard_calendar_is_the_plain_one(period: Period) -> None:
    calendar = StatisticalCalendar()
    assert calendar.date_range(period) == (period.start, period.end)
    assert calendar.period_containing(period.type, period.start) == period
    assert calendar.year_to_date(period) == year_to_date(period)


@given(calendars, month_based, days)
def test_prop_calendar_period_containing_covers_day(
    calendar: StatisticalCalendar, ptype: PeriodType, day: date
) -> None:
    period = calendar.period_containing(ptype, day)
    start, end = calendar.date_range(period)
    assert start <= day <= end
    assert calendar.date_range(period.next())[0] == end + timedelta(days=1)


@given(calendars, years, st.sampled_from([M, Q, S]))
def test_prop_calendar_sub_periods_tile_its_year(
    calendar: StatisticalCalendar, year: int, ptype: PeriodType
) -> None:
    start, end = calendar.date_range(parse_period(str(year)))
    parts = [calendar.period_containing(ptype, start)]
    while calendar.date_range(parts[-1])[1] < end:
        parts.append(parts[-1].next())
    assert len(parts) == 12 // {M: 1, Q: 3, S: 6}[ptype]
    assert calendar.date_range(parts[0])[0] == start
    assert calendar.date_range(parts[-1])[1] == end
    for before, after in pairwise(parts):
        assert calendar.date_range(after)[0] == calendar.date_range(before)[1] + timedelta(days=1)
