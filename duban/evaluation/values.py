"""Figures for scoring: approved and locked data values, read in one query.

Only values in state approved or locked score: a draft, returned or submitted
figure has not been checked by the unit above, so it must not move a rank.
Values are stored per month (or per the indicator's own period); a coarser
period asked of a non-cumulative item is aggregated over its months as the
indicator says (sum, average or last), and a computed indicator (a rate) is
evaluated from its aggregated inputs, never averaged.

Year-to-date sums come from the stored running totals
(``reporting.year_to_date``, kept current whenever an approved or locked
monthly figure changes): the monthly values of a cumulative item's indicator
(one that nothing else reads month by month) are never read into Python for
scoring. ``ValueSource.engine_input`` reads one stored row per (unit,
indicator) for a year starting in January, two or three for another window
(with the number of months that have a value, so the engine still flags
``incomplete``), and hands the sums to the engine as ``engine.YearToDate``.
``for_period`` still returns every figure, monthly values included, for a
publication's record of the figures used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from duban.evaluation import engine
from duban.indicators.formula import Formula, evaluate_all
from duban.indicators.models import Indicator
from duban.orgs.models import OrgUnit
from duban.periods import Period, PeriodType, parse_period
from duban.reporting import year_to_date
from duban.reporting.figures import aggregate_over_time
from duban.reporting.models import DONE_STATES, DataValue

Key = tuple[str, str, str]
# (indicator → unit id → sum, indicator → unit id → months with a value)
Sums = tuple[dict[str, dict[int, Decimal]], dict[str, dict[int, int]]]

# A scheme item on this code scores a unit by the share (in %) of the milestones of the key
# tasks it leads that were met on time, over the statistical year up to the period's end.
MILESTONE_SHARE = "tasks.milestones_on_time"


@dataclass
class ValueSource:
    """Every scoring figure of one scheme's statistical year, as read from the database."""

    scheme: engine.Scheme
    raw: dict[Key, Decimal | None]
    comments: dict[Key, str]
    aggregation: dict[str, str]
    formulas: dict[str, Formula]
    unknown: list[str] = field(default_factory=list)  # item indicators with no Indicator row
    # Cumulative codes summed by the database: their monthly values are not in ``raw``.
    summed: frozenset[str] = frozenset()
    sum_months: Callable[[tuple[str, ...]], Sums] | None = None  # (months) -> sums
    unit_keys: dict[str, int] = field(default_factory=dict)  # unit code -> id, as sums are keyed
    # their monthly values and reasons
    load_months: Callable[[], tuple[dict[Key, Decimal | None], dict[Key, str]]] | None = None
    reload: Callable[[], ValueSource] | None = None  # the whole year, when only periods were read

    def months(self) -> list[Period]:
        """The statistical year's twelve months, in order."""
        calendar = self.scheme.calendar
        first = calendar.period_containing(
            PeriodType.MONTHLY, calendar.date_range(parse_period(str(self.scheme.year)))[0]
        )
        found = [first]
        while len(found) < 12:
            found.append(found[-1].next())
        return found

    def months_in(self, period: Period) -> list[str]:
        calendar = self.scheme.calendar
        start, end = calendar.date_range(period)
        return [
            m.id
            for m in self.months()
            if start <= calendar.date_range(m)[0] and calendar.date_range(m)[1] <= end
        ]

    def for_period(self, period: Period) -> tuple[dict[Key, Decimal | None], dict[Key, str]]:
        """(values, discretionary reasons) for ``engine.compute_scores`` at one period.

        Every figure, the summed codes' monthly values included (read here, once).
        """
        if self.reload is not None:
            full = self.reload()
            self.raw, self.comments, self.reload = full.raw, full.comments, None
            self.load_months = full.load_months
        if self.load_months is not None:
            found, notes = self.load_months()
            self.raw.update(found)
            self.comments.update(notes)
            self.load_months = None
            self.summed, self.sum_months = frozenset(), None
        return self._values(period)

    def engine_input(
        self, period: Period
    ) -> tuple[dict[Key, Decimal | None], dict[Key, str], engine.YearToDate | None]:
        """(values, reasons, year-to-date sums) for ``engine.compute_scores``: the same
        scores as ``for_period``'s values, with the summed codes' months added up by
        the database."""
        values, reasons = self._values(period)
        if not self.summed or self.sum_months is None:
            return values, reasons, None
        months = engine.year_to_date_months(self.scheme, period)
        totals, given = self.sum_months(months)
        ytd = engine.YearToDate(months, self.summed, totals, given, self.unit_keys)
        return values, reasons, ytd

    def _values(self, period: Period) -> tuple[dict[Key, Decimal | None], dict[Key, str]]:
        values = dict(self.raw)
        plain_codes: set[str] = set()
        monthly_codes: set[str] = set()
        for item in self.scheme.items:
            keys = item.rule.keys(item.indicator)
            (monthly_codes if item.cumulative else plain_codes).update(keys)
        units = [unit.code for unit in self.scheme.units]
        months = self.months_in(period) if period.type is not PeriodType.MONTHLY else []
        inputs = {ref for code in self.formulas for ref in self.formulas[code].references}
        if months:
            for code in (plain_codes | inputs) - set(self.formulas):
                how = self.aggregation.get(code, "sum")
                for unit in units:
                    if (code, unit, period.id) not in values:
                        found = [values.get((code, unit, m)) for m in months]
                        values[(code, unit, period.id)] = aggregate_over_time(how, found)
        if self.formulas:
            wanted = [period.id]
            if monthly_codes & set(self.formulas):
                wanted += [m.id for m in self.months()]
            for pid in wanted:
                for unit in units:
                    scope = {ref: values.get((ref, unit, pid)) for ref in inputs}
                    for code, value in evaluate_all(self.formulas, scope).items():
                        values[(code, unit, pid)] = value
        if any(item.indicator == MILESTONE_SHARE for item in self.scheme.items):
            values.update(milestone_shares(self.scheme, period))
        return values, {k: v for k, v in self.comments.items() if v}


def milestone_shares(scheme: engine.Scheme, period: Period) -> dict[Key, Decimal | None]:
    """Each unit's share of milestones met on time (%), year to date: the key-task link."""
    from duban.tasks.links import milestones_on_time_share
    from duban.tasks.services import today_local

    start, end = scheme.calendar.year_to_date(period)
    as_of = min(end, today_local())
    units = OrgUnit.objects.filter(code__in=[u.code for u in scheme.units])
    shares: dict[Key, Decimal | None] = {}
    for unit in units:
        share = milestones_on_time_share(unit, start, end, today=as_of)
        shares[(MILESTONE_SHARE, unit.code, period.id)] = None if share is None else share * 100
    return shares


def year_period_ids(scheme: engine.Scheme) -> list[str]:
    year = scheme.year
    ids = [str(year), f"{year}S1", f"{year}S2"] + [f"{year}Q{q}" for q in range(1, 5)]
    source = ValueSource(scheme, {}, {}, {}, {})
    return ids + [m.id for m in source.months()]


def load_source(scheme: engine.Scheme, periods: Sequence[Period] | None = None) -> ValueSource:
    """Read the figures of the scheme's units and indicators for its year (one value query).

    With ``periods``, only the figures scoring them need: each period's own and
    its year's months up to its end. ``for_period`` then reads the whole year
    first, so that it returns what it returns without ``periods``.
    """
    codes: set[str] = set()
    for item in scheme.items:
        codes.update(item.rule.keys(item.indicator))
    indicators = {i.code: i for i in Indicator.objects.filter(code__in=codes)}
    formulas: dict[str, Formula] = {}
    pending = [i for i in indicators.values() if i.is_computed]
    while pending:  # computed indicators read their inputs, which may be computed too
        ind = pending.pop()
        parsed = ind.parsed_formula
        if parsed is None or ind.code in formulas:
            continue
        formulas[ind.code] = parsed
        new = set(parsed.references) - set(indicators)
        for extra in Indicator.objects.filter(code__in=new):
            indicators[extra.code] = extra
            if extra.is_computed:
                pending.append(extra)
    unknown = sorted(codes - set(indicators) - {MILESTONE_SHARE})
    raw: dict[Key, Decimal | None] = {}
    comments: dict[Key, str] = {}
    unit_ids = dict(
        OrgUnit.objects.filter(code__in=[u.code for u in scheme.units]).values_list("pk", "code")
    )
    stored = {ind.pk: code for code, ind in indicators.items() if code not in formulas}
    summed = _summable(scheme, formulas) & set(stored.values())
    done = [str(s) for s in DONE_STATES]
    period_ids = year_period_ids(scheme)
    months = set(period_ids[7:])  # year_period_ids lists the year, halves, quarters, months
    if periods is not None:
        needed = {p.id for p in periods}
        for p in periods:
            needed.update(engine.year_to_date_months(scheme, p))
        period_ids = [pid for pid in period_ids if pid in needed]
    in_scope = Q(unit_id__in=list(unit_ids), state__in=done)
    other = [pk for pk, code in stored.items() if code not in summed]
    summed_ids = [pk for pk, code in stored.items() if code in summed]
    # Only a discretionary deduction reads the reasons written month by month.
    noted = {
        code
        for item in scheme.items
        if item.rule.needs_reason
        for code in item.rule.keys(item.indicator)
    }
    noted_ids = [pk for pk, code in stored.items() if code in summed and code in noted]
    # Ids, not joined codes: the queries stay on the (indicator, period) index.
    # Summed codes: only figures given for a quarter, half-year or the year, and the
    # written reasons of their months; their monthly values are summed in the database.
    # Such direct figures are rare, so units are not asked in SQL for them: a long unit
    # list made SQLite probe its (unit, indicator, period) index once per unit ×
    # indicator × period (0.13 s nationally for no row at all); they are dropped below.
    queries = []
    if other or noted_ids:
        queries.append(
            DataValue.objects.filter(in_scope, period__in=period_ids).filter(
                Q(indicator_id__in=other)
                | Q(indicator_id__in=noted_ids, period__in=sorted(months), comment__gt="")
            )
        )
    direct_ids = sorted(set(period_ids) - months)
    if summed_ids and direct_ids:
        queries.append(
            DataValue.objects.filter(
                state__in=done, indicator_id__in=summed_ids, period__in=direct_ids
            )
        )
    for query in queries:
        rows = query.values_list("indicator_id", "unit_id", "period", "value", "comment")
        for ind_id, unit_id, period, value, comment in rows.iterator(chunk_size=20000):
            unit = unit_ids.get(unit_id)
            if unit is None:  # a unit outside the scheme
                continue
            code = stored[ind_id]
            key = (code, unit, period)
            if comment:
                comments[key] = comment
            if code not in summed or period not in months:
                raw[key] = value
    aggregation = {code: ind.time_aggregation for code, ind in indicators.items()}

    def sum_months(wanted: tuple[str, ...]) -> Sums:
        """The sums and months given over ``wanted`` per indicator and unit id, from the
        stored year-to-date totals (approved and locked figures only, as above). Keyed by
        unit ids, which the engine is told of (``unit_keys``): no id is turned into a code."""
        summed_codes = {pk: stored[pk] for pk in summed_ids}
        return year_to_date.sum_columns(unit_ids.keys(), summed_codes, wanted)

    def load_months() -> tuple[dict[Key, Decimal | None], dict[Key, str]]:
        monthly = DataValue.objects.filter(
            in_scope, indicator_id__in=summed_ids, period__in=sorted(months)
        ).values_list("indicator_id", "unit_id", "period", "value", "comment")
        found: dict[Key, Decimal | None] = {}
        notes: dict[Key, str] = {}
        for ind_id, unit_id, period, value, comment in monthly.iterator(chunk_size=20000):
            key = (stored[ind_id], unit_ids[unit_id], period)
            found[key] = value
            if comment:
                notes[key] = comment
        return found, notes

    return ValueSource(
        scheme,
        raw,
        comments,
        aggregation,
        formulas,
        unknown,
        summed=frozenset(summed),
        sum_months=sum_months if summed else None,
        unit_keys={code: pk for pk, code in unit_ids.items()},
        load_months=load_months if summed else None,
        reload=None if periods is None else (lambda: load_source(scheme)),
    )


def _summable(scheme: engine.Scheme, formulas: dict[str, Formula]) -> set[str]:
    """Codes read only as cumulative items' year to date: no non-cumulative item, no
    formula reads them month by month, and they are not computed."""
    cumulative: set[str] = set()
    other: set[str] = set()
    for item in scheme.items:
        (cumulative if item.cumulative else other).update(item.rule.keys(item.indicator))
    inputs = {ref for formula in formulas.values() for ref in formula.references}
    return cumulative - other - inputs - set(formulas)
