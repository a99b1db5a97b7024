"""Record indicators in DuckDB: count or sum business records by unit and statistical period,
rolled up the tree, for a whole set of indicators in one query.

DuckDB does the work over the record store's files (STYLE.md: no Python loop over records or
units), on every core, reading only the five columns it needs. One statement
joins the records to a small table of rules (one row per indicator: its record type, class,
measure, statistical calendar and the dates it covers), puts each record into its period on
the indicator's calendar by arithmetic on the date's year, month and day, groups by unit, and
adds each unit's group to the unit and every unit above it through a recursive walk up the
parents. Python only names the periods (a few dozen per indicator) and binds the parameters.

A period is numbered `bucket` = (statistical month − the year's first month) // months per
period, where the statistical month of a day is `year * 12 + month − 1`, plus one when the
calendar's months are named after the following month (a start day of 16 or later: 201702 is
01-21..02-20 under 12/21), less one before the start day. Months are numbered from January
whatever the calendar (the standard ids keep their names), longer periods from the year's
first month (2017Q1 is 2016-12-21..2017-03-20).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from duban.indicators.models import Indicator, RecordMeasure
from duban.periods import Period, PeriodType, StatisticalCalendar

if TYPE_CHECKING:
    import duckdb

MONTHS_IN = {
    PeriodType.MONTHLY: 1,
    PeriodType.QUARTERLY: 3,
    PeriodType.SIXMONTHLY: 6,
    PeriodType.YEARLY: 12,
}


def _shift(calendar: StatisticalCalendar) -> int:
    """1 when the calendar's months carry the name of the month after their start day."""
    return 1 if calendar.start_day >= 16 else 0


def _first_month(calendar: StatisticalCalendar, ptype: PeriodType) -> int:
    """Zero-based month the numbering of `ptype`'s periods starts from: January for months,
    the statistical year's first named month for longer periods."""
    if ptype is PeriodType.MONTHLY:
        return 0
    return (calendar.start_month - 1 + _shift(calendar)) % 12


def bucket_of(calendar: StatisticalCalendar, ptype: PeriodType, period: Period) -> int:
    """The number the SQL gives to `period` (see the module's docstring)."""
    span = MONTHS_IN[ptype]
    if ptype is PeriodType.MONTHLY:
        return period.year * 12 + period.index - 1
    return period.year * (12 // span) + period.index - 1


def bucket_of_day(calendar: StatisticalCalendar, ptype: PeriodType, day: date) -> int:
    """The SQL's arithmetic in Python, for the tests that hold it against the calendar."""
    month = day.year * 12 + day.month - 1 + _shift(calendar) - (day.day < calendar.start_day)
    return (month - _first_month(calendar, ptype)) // MONTHS_IN[ptype]


@dataclass(frozen=True)
class Rule:
    """One record indicator as the query reads it, over whole periods from `periods[0]` to
    `periods[-1]` on its calendar."""

    indicator: Indicator
    periods: list[Period]

    @property
    def ptype(self) -> PeriodType:
        return PeriodType(self.indicator.period_type)

    @property
    def calendar(self) -> StatisticalCalendar:
        return self.indicator.record_calendar

    @property
    def first_day(self) -> date:
        return self.calendar.date_range(self.periods[0])[0]

    @property
    def last_day(self) -> date:
        return self.calendar.date_range(self.periods[-1])[1]

    def buckets(self) -> dict[int, str]:
        """Each period's number in the SQL → its id."""
        return {bucket_of(self.calendar, self.ptype, p): p.id for p in self.periods}


def rule_for(indicator: Indicator, start: date, end: date) -> Rule:
    """The indicator's whole periods holding the days from `start` to `end`: a period cut by
    the window would be counted short, so the window widens to whole periods."""
    ptype = PeriodType(indicator.period_type)
    calendar = indicator.record_calendar
    first = calendar.period_containing(ptype, start)
    last = calendar.period_containing(ptype, end)
    periods = [first]
    while periods[-1] != last:
        periods.append(periods[-1].next())
    return Rule(indicator, periods)


def rules_values(rules: Sequence[Rule]) -> str:
    """The rules as a DuckDB VALUES list; every value is ours (keys, days, months, an ISO date,
    a class from the indicator's choices), written in as literals."""
    rows: list[str] = []
    for rule in rules:
        ind = rule.indicator
        calendar = rule.calendar
        is_sum = 1 if ind.record_measure == RecordMeasure.SUM else 0
        first, span = _first_month(calendar, rule.ptype), MONTHS_IN[rule.ptype]
        grade = str(ind.record_class or "").replace("'", "''")
        rows.append(
            f"({int(ind.pk)}, {int(ind.record_type_id or 0)}, '{grade}', {is_sum}, "
            f"{int(calendar.start_day)}, {_shift(calendar)}, {first}, {span}, "
            f"DATE '{rule.first_day.isoformat()}', DATE '{rule.last_day.isoformat()}')"
        )
    return ", ".join(rows)


def periods_values(rules: Sequence[Rule]) -> str:
    """(indicator, bucket, period id) of every period the rules cover."""
    rows: list[str] = []
    for rule in rules:
        for bucket, pid in sorted(rule.buckets().items()):
            rows.append(f"({int(rule.indicator.pk)}, {int(bucket)}, '{pid}')")
    return ", ".join(rows)


def load_units(con: duckdb.DuckDBPyConnection) -> None:
    """The tree's parent links into DuckDB's `units` (two integers a unit: 44,000 units
    are 0.7 MB)."""
    from duban.orgs.models import OrgUnit

    ids, parents = [], []
    for pk, parent in OrgUnit.objects.values_list("pk", "parent_id").iterator(chunk_size=20_000):
        ids.append(pk)
        parents.append(parent)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE units AS "
        "SELECT unnest(?::BIGINT[]) AS id, unnest(?::BIGINT[]) AS parent_id",
        [ids, parents],
    )


def aggregate(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], records: str) -> None:
    """Into DuckDB's table `fresh` (indicator_id, unit_id, period, value, record_count): every
    unit with records in its subtree, for every indicator and period of `rules`, in one
    statement over the relation `records` (the record store's view) and the table `units`."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE fresh AS
WITH RECURSIVE
rules (ind_id, type_id, grade, is_sum, start_day, shift, first_month, span, lo, hi) AS (
    VALUES {rules_values(rules)}
),
named (ind_id, bucket, period) AS (
    VALUES {periods_values(rules)}
),
own AS (
    SELECT ru.ind_id AS ind_id, ru.is_sum AS is_sum, b.unit_id AS unit_id,
        ((year(b.occurred_on) * 12 + month(b.occurred_on) - 1 + ru.shift
          - CASE WHEN day(b.occurred_on) < ru.start_day THEN 1 ELSE 0 END)
          - ru.first_month) // ru.span AS bucket,
        COUNT(*) AS n, SUM(b.quantity) AS q
    FROM {records} b
    JOIN rules ru ON b.type_id = ru.type_id
        AND (ru.grade = '' OR b.grade = ru.grade)
        AND b.occurred_on >= ru.lo AND b.occurred_on <= ru.hi
    GROUP BY ALL
),
up (unit_id, ancestor_id) AS (
    SELECT DISTINCT unit_id, unit_id FROM own
    UNION ALL
    SELECT up.unit_id, o.parent_id FROM up JOIN units o ON o.id = up.ancestor_id
    WHERE o.parent_id IS NOT NULL
)
SELECT own.ind_id AS indicator_id, up.ancestor_id AS unit_id, named.period AS period,
    CAST(ROUND(SUM(CASE WHEN own.is_sum = 1 THEN own.q ELSE own.n END), 4) AS DECIMAL(22,4))
        AS value,
    CAST(SUM(own.n) AS BIGINT) AS record_count
FROM own
JOIN up ON up.unit_id = own.unit_id
JOIN named ON named.ind_id = own.ind_id AND named.bucket = own.bucket
GROUP BY ALL"""
    )
