"""Where the figures of one scoring call come from, and expected progress to date.

A value is read for the asked period, or — for a cumulative item — summed over
the statistical year's months up to the period's end, or taken from the
year-to-date sums the caller worked out (:class:`YearToDate`). One
:class:`Reading` answers these questions for the plain path and the
whole-cohort path alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from duban.evaluation.engine.decimals import ZERO
from duban.evaluation.engine.explain import Text
from duban.evaluation.engine.model import Item, Scheme
from duban.evaluation.engine.plan import ItemPlan, Layout
from duban.evaluation.engine.results import NOT_RANKED, ScoreProblem

ValueKey = tuple[str, str, str]  # (indicator code, unit code, period id)
Values = Mapping[ValueKey, Decimal | None]
Reasons = Mapping[ValueKey, str]
NO_SUMS: Mapping[Any, Any] = {}


@dataclass(frozen=True)
class YearToDate:
    """Year-to-date sums worked out by the caller (e.g. the database's stored totals).

    Over exactly ``months`` — the months from the start of the statistical year
    up to the asked period's end, as :func:`year_to_date_months` lists them —
    ``totals`` maps indicator code to unit to the sum of the monthly values
    given, and ``given`` to the number of months with a value. For an
    indicator code in ``codes`` the engine reads these instead of summing
    monthly values: fewer months than ``months`` flags the item
    ``incomplete``; a unit absent from ``given`` or with 0 months is missing.
    A value given directly for a non-monthly asked period still comes first,
    as without sums. Two plain mappings rather than (sum, months) pairs: the
    engine reads a whole cohort of them in C, and no tuple is built per figure.
    """

    months: tuple[str, ...]
    codes: frozenset[str]
    totals: Mapping[str, Mapping[Any, Decimal]]
    given: Mapping[str, Mapping[Any, int]]
    # unit code -> the key its sums are filed under; None: the code itself. The database
    # files them under unit ids, which saves turning 450,000 ids into codes nationally.
    unit_keys: Mapping[str, Any] | None = None

    @classmethod
    def of_pairs(
        cls,
        months: tuple[str, ...],
        codes: frozenset[str],
        sums: Mapping[str, Mapping[Any, tuple[Decimal | None, int]]],
        unit_keys: Mapping[str, Any] | None = None,
    ) -> YearToDate:
        """From indicator → unit → (sum, months given), as a ``SUM … GROUP BY`` returns them."""
        totals: dict[str, dict[Any, Decimal]] = {}
        given: dict[str, dict[Any, int]] = {}
        for code, pairs in sums.items():
            of_totals, of_given = totals.setdefault(code, {}), given.setdefault(code, {})
            for unit, (total, count) in pairs.items():
                if total is not None and count:
                    of_totals[unit], of_given[unit] = total, count
        return cls(months, codes, totals, given, unit_keys)


@dataclass
class Reading:
    """The figures, reasons and dates of one call to ``compute_scores``.

    It also gathers what scoring finds on the way: the problems (values that cannot
    be scored) and the vetoed units, in the order items and rows are scored.
    """

    scheme: Scheme
    values: Values
    reasons: Reasons
    pid: str  # the asked period
    direct: bool  # the asked period is not a month: a value given for it comes first
    months: tuple[str, ...]  # the statistical months from the year's start to the period's end
    elapsed_days: Decimal  # expected progress = target × elapsed_days / year_days
    year_days: Decimal
    sums: YearToDate | None
    # Figures under the asked (non-monthly) period that the caller added up from its
    # months rather than was given: a cumulative read sums the months instead.
    added_up: Collection[ValueKey] = ()
    problems: list[ScoreProblem] = field(default_factory=list)
    vetoed: set[str] = field(default_factory=set)
    _expected: dict[Decimal, Decimal] = field(default_factory=dict)
    _flags: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    _given_here: set[str] | None = None
    _sum_keys: dict[int, list[Any]] = field(default_factory=dict)
    _computed: dict[tuple[str, str, bool], tuple[Decimal | None, bool]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.formulas = self.scheme.formulas  # computed indicator code -> formula

    def expected(self, target: Decimal) -> Decimal:
        """序时进度: the target times the share of the year elapsed (once per distinct target)."""
        found = self._expected.get(target)
        if found is None:
            # multiply first: exact whenever the target is
            found = self._expected[target] = target * self.elapsed_days / self.year_days
        return found

    def flags(self, flags: tuple[str, ...], counted: bool) -> tuple[str, ...]:
        """The flags with ``not_ranked`` added for a unit shown but not ranked; one shared
        tuple per combination (hundreds of thousands of rows, a handful of combinations)."""
        if not counted:
            flags += (NOT_RANKED,)
        return self._flags.setdefault(flags, flags)

    def summed(self, key: str) -> bool:
        """Whether the caller handed in year-to-date sums for this indicator code."""
        return self.sums is not None and key in self.sums.codes

    def sum_keys(self, layout: Layout) -> list[Any]:
        """A layout's rows as the sums are keyed (unit codes, or the caller's unit keys),
        worked out once per layout: items applying to the same units share it."""
        found = self._sum_keys.get(id(layout))
        if found is None:
            unit_keys = self.sums.unit_keys if self.sums is not None else None
            found = layout.units if unit_keys is None else list(map(unit_keys.get, layout.units))
            self._sum_keys[id(layout)] = found
        return found

    def given_for_period(self, key: str) -> bool:
        """Whether some unit has a value of ``key`` given directly for the asked period."""
        if self._given_here is None:
            pid = self.pid
            self._given_here = {k[0] for k in self.values if k[2] == pid} if self.direct else set()
        return key in self._given_here

    def read(self, key: str, unit: str, cumulative: bool) -> tuple[Decimal | None, bool]:
        """(value, some months missing) of one indicator code for one unit."""
        if key in self.formulas:
            return self.computed(key, unit, cumulative)
        get = self.values.get
        if not cumulative:
            return get((key, unit, self.pid)), False
        if self.direct:
            found = get((key, unit, self.pid))
            if found is not None and not (self.added_up and (key, unit, self.pid) in self.added_up):
                return found, False
        sums = self.sums
        if sums is not None and key in sums.codes:
            sum_key = unit if sums.unit_keys is None else sums.unit_keys.get(unit)
            count = sums.given.get(key, NO_SUMS).get(sum_key)
            if not count:  # a unit with no key has no sums: missing, as an absent key
                return None, False
            return sums.totals[key][sum_key], count < len(self.months)
        total: Decimal | None = None
        gaps = False
        for month in self.months:
            found = get((key, unit, month))
            if found is None:
                gaps = True
            elif total is None:
                total = found
            else:
                total += found
        return total, gaps and total is not None

    def computed(self, key: str, unit: str, cumulative: bool) -> tuple[Decimal | None, bool]:
        """A computed indicator: its formula over its inputs' values — for a cumulative item
        over their year-to-date figures, never a sum of monthly results. A value handed in
        under the computed code itself is ignored: rates come from the raw figures. Some
        months of an input missing makes it incomplete; no result (a missing input, a zero
        divisor) is missing."""
        memo = (key, unit, cumulative)
        found = self._computed.get(memo)
        if found is None:
            formula = self.formulas[key]
            scope: dict[str, Decimal | None] = {}
            gaps = False
            for ref in formula.references:
                scope[ref], gap = self.read(ref, unit, cumulative)
                gaps = gaps or gap
            value = formula.evaluate(scope)
            number = value if isinstance(value, Decimal) and value.is_finite() else None
            found = self._computed[memo] = (number, gaps and number is not None)
        return found

    def read_item(
        self, ip: ItemPlan, unit: str
    ) -> tuple[Decimal | None, tuple[Decimal | None, ...] | None, bool]:
        """(value, parts, incomplete): a per-class rule's value is the sum of the classes
        given, with each class as a part; incomplete when a class or a month is missing."""
        cumulative = ip.item.cumulative
        if not ip.rule.per_class:
            value, gaps = self.read(ip.keys[0], unit, cumulative)
            return value, None, gaps
        read = [self.read(key, unit, cumulative) for key in ip.keys]
        parts = tuple(part for part, _ in read)
        present = [part for part in parts if part is not None]
        if not present:
            return None, parts, False
        incomplete = len(present) < len(parts) or any(gap for _, gap in read)
        return sum(present, ZERO), parts, incomplete

    def note(self, item: Item, unit: str) -> str | None:
        """The written reason for the value; a year-to-date item carries the reasons
        written month by month."""
        reasons = self.reasons
        note = reasons.get((item.indicator, unit, self.pid))
        if note is None and item.cumulative:
            given = [reasons.get((item.indicator, unit, month)) for month in self.months]
            note = "；".join(reason for reason in given if reason) or None
        return note

    def problem(self, item: Item, unit: str, code: str, reason: Text) -> ScoreProblem:
        """A value that cannot be scored, naming the item and the unit; kept in order."""
        name = self.scheme.unit_map[unit].name
        message = Text(
            f"指标 {item.code}（{item.name.zh}），单位 {unit}（{name.zh}）：{reason.zh}",
            f"item {item.code} ({item.name.get('en')}), unit {unit} ({name.get('en')}): "
            f"{reason.en}",
        )
        found = ScoreProblem(item.code, unit, code, reason, message)
        self.problems.append(found)
        return found
