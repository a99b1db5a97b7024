"""Figures for scoring: approved and locked data values, read in one query.

Only values in state approved or locked score: a draft, returned or submitted
figure has not been checked by the unit above, so it must not move a rank.
Values are stored per month (or per the indicator's own period); a coarser
period asked of a non-cumulative item is aggregated over its months as the
indicator says (sum, average or last), and a computed indicator (a rate) is
evaluated from its aggregated inputs, never averaged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from duban.evaluation import engine
from duban.indicators.formula import Formula, evaluate_all
from duban.indicators.models import Indicator
from duban.orgs.models import OrgUnit
from duban.periods import Period, PeriodType, parse_period
from duban.reporting.figures import aggregate_over_time
from duban.reporting.models import DONE_STATES, DataValue

Key = tuple[str, str, str]


@dataclass
class ValueSource:
    """Every scoring figure of one scheme's statistical year, as read from the database."""

    scheme: engine.Scheme
    raw: dict[Key, Decimal | None]
    comments: dict[Key, str]
    aggregation: dict[str, str]
    formulas: dict[str, Formula]
    unknown: list[str] = field(default_factory=list)  # item indicators with no Indicator row

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
        """(values, discretionary reasons) for ``engine.compute_scores`` at one period."""
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
        return values, {k: v for k, v in self.comments.items() if v}


def year_period_ids(scheme: engine.Scheme) -> list[str]:
    year = scheme.year
    ids = [str(year), f"{year}S1", f"{year}S2"] + [f"{year}Q{q}" for q in range(1, 5)]
    source = ValueSource(scheme, {}, {}, {}, {})
    return ids + [m.id for m in source.months()]


def load_source(scheme: engine.Scheme) -> ValueSource:
    """Read the figures of the scheme's units and indicators for its year (one value query)."""
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
    unknown = sorted(codes - set(indicators))
    raw: dict[Key, Decimal | None] = {}
    comments: dict[Key, str] = {}
    unit_ids = dict(
        OrgUnit.objects.filter(code__in=[u.code for u in scheme.units]).values_list("pk", "code")
    )
    stored = {ind.pk: code for code, ind in indicators.items() if code not in formulas}
    rows = DataValue.objects.filter(
        unit_id__in=list(unit_ids),
        indicator_id__in=list(stored),
        period__in=year_period_ids(scheme),
        state__in=[str(s) for s in DONE_STATES],
    ).values_list("indicator_id", "unit_id", "period", "value", "comment")
    # Ids, not joined codes: the one query stays on the (indicator, period) index.
    for ind_id, unit_id, period, value, comment in rows.iterator(chunk_size=20000):
        key = (stored[ind_id], unit_ids[unit_id], period)
        raw[key] = value
        if comment:
            comments[key] = comment
    aggregation = {code: ind.time_aggregation for code, ind in indicators.items()}
    return ValueSource(scheme, raw, comments, aggregation, formulas, unknown)
