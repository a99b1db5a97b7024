"""Totals of a set of units (a peer group, a sequence, the issuer's whole area) per item.

An official bulletin (通报) prints the parent's own figures above the unit rows
(全市合计: task 21,710, done 8,464, 38.99%). Such a total is worked out from the
**summed raw figures**, never from the units' rates: a summed value, a summed
target and the completion of those sums; a computed indicator is its formula
over its inputs' totals. Which indicators may be summed is stated, never
guessed (``how_totalled``). Missing figures: a total is the sum of the values
given, flagged ``incomplete``. The engine knows no hierarchy: each unit passed is
added once, so pass no unit together with units inside it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

from duban.evaluation.engine.compute import open_reading
from duban.evaluation.engine.decimals import ENGINE_CONTEXT, ZERO
from duban.evaluation.engine.model import Item, Scheme
from duban.evaluation.engine.reading import Reading, ValueKey, Values, YearToDate
from duban.evaluation.engine.rules import completion
from duban.periods import Period

SUM = "sum"  # the units' figures are added up
FORMULA = "formula"  # a computed indicator: its formula over its inputs' totals
NONE = "none"  # not added up over units (a poll score, a rate typed in): no total


def how_totalled(scheme: Scheme, code: str) -> str:
    """How an indicator's figures add up over units: ``sum``, ``formula`` or ``none``.

    A computed indicator is ``formula``. A base indicator's ``total:`` in the scheme's
    ``indicators:`` list says it; without one the default is ``sum`` for an indicator
    scored by a count rule (weighted_count, deduction, bonus, veto) or by a cumulative
    item, or read by a formula, and ``none`` otherwise (a satisfaction poll, a rate typed
    in). A weighted count's classes (``<indicator>.<class>``) follow their indicator.
    """
    if code in scheme.formulas:
        return FORMULA
    declared = scheme.indicator_map.get(code)
    if declared is not None and declared.total is not None:
        return declared.total
    for item in scheme.items:
        if code == item.indicator or code in item.rule.keys(item.indicator):
            owner = scheme.indicator_map.get(item.indicator)
            if code != item.indicator and owner is not None and owner.total is not None:
                return owner.total  # a class follows its indicator
            if item.rule.occurrences or item.cumulative:
                return SUM
    if any(code in formula.references for formula in scheme.formulas.values()):
        return SUM
    return NONE


@dataclass(frozen=True)
class ItemTotal:
    """One item's total over a set of units."""

    item: Item
    how: str  # sum, formula or none (``how_totalled`` of the item's indicator)
    value: Decimal | None  # the summed value, the formula over the summed inputs, or None
    target: Decimal | None  # the summed target (sum), or the target all units share (formula)
    units: tuple[str, ...]  # the units of the set the item applies to
    given: tuple[str, ...]  # those with a value (a computed item: with every input)
    incomplete: bool  # some unit has no value, or misses months or classes
    inputs: Mapping[str, Decimal | None]  # computed: each input's total; per class: each class

    @property
    def completion(self) -> Decimal | None:
        """Completion of the sums (1 = 100%): value ÷ target, or target ÷ value when lower
        is better; None without both, or when unbounded (a zero target)."""
        if self.value is None or self.target is None:
            return None
        with localcontext(ENGINE_CONTEXT):
            ratio = completion(self.value, self.target, self.item.higher)
        return ratio if ratio.is_finite() else None

    @property
    def rate_percent(self) -> Decimal | None:
        ratio = self.completion
        return None if ratio is None else ratio * 100


@dataclass(frozen=True)
class Totals(Mapping[str, ItemTotal]):
    """Item code -> :class:`ItemTotal`, in scheme order, for one period and set of units."""

    period: str
    units: tuple[str, ...]
    by_item: Mapping[str, ItemTotal]
    group: str | None = None  # the peer group added up (None: every unit, the issuer's total)
    sequence: str | None = None

    def __getitem__(self, code: str) -> ItemTotal:
        return self.by_item[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_item)

    def __len__(self) -> int:
        return len(self.by_item)


def totals(
    scheme: Scheme,
    values: Values,
    period_id: str | Period,
    units: Iterable[str] | None = None,
    *,
    year_to_date: YearToDate | None = None,
    added_up: Collection[ValueKey] = (),
) -> Totals:
    """Per item, the total of ``units`` (default: every unit of the scheme, the issuer's
    total) for one period, read exactly as ``compute_scores`` reads the figures (same
    ``values``, ``year_to_date`` and ``added_up``)."""
    reading = open_reading(scheme, values, period_id, year_to_date=year_to_date, added_up=added_up)[
        0
    ]
    chosen = tuple(u.code for u in scheme.units) if units is None else tuple(units)
    unknown = [code for code in chosen if code not in scheme.unit_map]
    if unknown:
        raise ValueError(f"unknown units: {', '.join(unknown)}")
    return sum_reading(reading, chosen)


def units_of(scheme: Scheme, group: str | None, sequence: str | None) -> tuple[str, ...]:
    """Every unit (no group), a peer group's members, or one of its sequences'."""
    if group is None:
        return tuple(unit.code for unit in scheme.units)
    found = next((g for g in scheme.groups if g.code == group), None)
    if found is None:
        raise ValueError(f"unknown peer group {group!r}")
    if sequence is None:
        return found.members
    seq = next((s for s in found.sequences if s.code == sequence), None)
    if seq is None:
        raise ValueError(f"group {group!r} has no sequence {sequence!r}")
    return seq.members


def sum_reading(
    reading: Reading,
    units: tuple[str, ...],
    group: str | None = None,
    sequence: str | None = None,
) -> Totals:
    """The totals of ``units`` over the figures of one reading (see ``totals``)."""
    scheme = reading.scheme
    group_of, unit_map = scheme.group_of, scheme.unit_map
    found: dict[str, ItemTotal] = {}
    with localcontext(ENGINE_CONTEXT):
        for item in scheme.items:
            members = tuple(u for u in units if item.applies_to(unit_map[u], group_of.get(u, "")))
            found[item.code] = _item_total(reading, item, members)
    return Totals(reading.pid, units, found, group, sequence)


def _item_total(reading: Reading, item: Item, units: tuple[str, ...]) -> ItemTotal:
    scheme = reading.scheme
    how = how_totalled(scheme, item.indicator)
    cumulative = item.cumulative
    inputs: dict[str, Decimal | None] = {}
    if how == NONE:
        return ItemTotal(item, how, None, None, units, (), False, inputs)
    if how == FORMULA:
        formula = scheme.formulas[item.indicator]
        given = set(units)
        incomplete = False
        for ref in sorted(formula.references):
            total, with_value, gaps = _code_total(reading, ref, units, cumulative)
            inputs[ref] = total
            given &= with_value
            incomplete = incomplete or gaps or len(with_value) < len(units)
        value = formula.evaluate(inputs)
        number = value if isinstance(value, Decimal) and value.is_finite() else None
        target = _common_target(item, units)
        ordered = tuple(u for u in units if u in given)
        return ItemTotal(item, how, number, target, units, ordered, incomplete, inputs)
    if item.rule.per_class:
        given_any: set[str] = set()
        incomplete = False
        parts: list[Decimal] = []
        for key in item.rule.keys(item.indicator):
            total, with_value, gaps = _code_total(reading, key, units, cumulative)
            inputs[key] = total
            given_any |= with_value
            incomplete = incomplete or gaps or len(with_value) < len(units)
            if total is not None:
                parts.append(total)
        value = sum(parts, ZERO) if parts else None
        ordered = tuple(u for u in units if u in given_any)
    else:
        value, with_value, incomplete = _code_total(reading, item.indicator, units, cumulative)
        incomplete = incomplete or len(with_value) < len(units)
        ordered = tuple(u for u in units if u in with_value)
    target = _summed_target(item, units)
    return ItemTotal(item, how, value, target, units, ordered, incomplete, inputs)


def _code_total(
    reading: Reading, code: str, units: tuple[str, ...], cumulative: bool
) -> tuple[Decimal | None, set[str], bool]:
    """(total, units with a value, some months missing) of one code: summed (``sum``), the
    formula over its inputs' totals (``formula``), or None (``none``)."""
    scheme = reading.scheme
    how = how_totalled(scheme, code)
    if how == FORMULA:
        formula = scheme.formulas[code]
        scope: dict[str, Decimal | None] = {}
        given = set(units)
        gaps = False
        for ref in sorted(formula.references):
            scope[ref], with_value, gap = _code_total(reading, ref, units, cumulative)
            given &= with_value
            gaps = gaps or gap or len(with_value) < len(units)
        value = formula.evaluate(scope)
        number = value if isinstance(value, Decimal) and value.is_finite() else None
        return number, given, gaps
    if how == NONE:
        return None, set(), False
    total: Decimal | None = None
    given = set()
    gaps = False
    for unit in units:
        value, gap = reading.read(code, unit, cumulative)
        gaps = gaps or gap
        if value is None:
            continue
        given.add(unit)
        total = value if total is None else total + value
    return total, given, gaps


def _summed_target(item: Item, units: tuple[str, ...]) -> Decimal | None:
    """The sum of the units' targets; None unless every unit has one."""
    targets = [item.target_for(unit) for unit in units]
    if not targets or any(target is None for target in targets):
        return None
    return sum((t for t in targets if t is not None), ZERO)


def _common_target(item: Item, units: tuple[str, ...]) -> Decimal | None:
    """A computed indicator's (a rate's) target for the set: the one every unit shares."""
    targets = {item.target_for(unit) for unit in units}
    if len(targets) != 1:
        return None
    return targets.pop()


__all__ = [
    "FORMULA",
    "NONE",
    "SUM",
    "ItemTotal",
    "Totals",
    "how_totalled",
    "sum_reading",
    "totals",
    "units_of",
]
