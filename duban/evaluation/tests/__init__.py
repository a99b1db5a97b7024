"""Tests of the evaluation app; small factories for the engine tests live here.

Every factory has defaults for everything and takes overrides by keyword:
four county units a-d in one peer group, one category, the default grades.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from duban.evaluation.engine import (
    DEFAULT_GRADES,
    Attainment,
    Category,
    Grade,
    Item,
    PeerGroup,
    Rule,
    Scheme,
    Text,
    Unit,
)
from duban.periods import StatisticalCalendar

D = Decimal
UNITS = ("a", "b", "c", "d")


def make_item(
    code: str = "i", rule: Rule | None = None, points: str | int | Decimal = 10, **fields: Any
) -> Item:
    target = fields.pop("target", None)
    unit_targets = fields.pop("unit_targets", {})
    return Item(
        code=code,
        category=fields.pop("category", "c"),
        indicator=fields.pop("indicator", code),
        name=fields.pop("name", Text(f"指标{code}", f"Item {code}")),
        points=D(points),
        rule=rule if rule is not None else Attainment(),
        target=None if target is None else D(target),
        unit_targets=tuple((unit, D(value)) for unit, value in unit_targets.items()),
        **fields,
    )


def make_units(codes: Iterable[str] = UNITS, level: str = "county") -> tuple[Unit, ...]:
    return tuple(Unit(code, Text(f"{code}单位", f"Unit {code}"), level) for code in codes)


def make_scheme(
    items: Iterable[Item],
    *,
    units: tuple[Unit, ...] | None = None,
    groups: tuple[PeerGroup, ...] | None = None,
    grades: tuple[Grade, ...] = DEFAULT_GRADES,
    calendar: StatisticalCalendar | None = None,
    year: int = 2017,
    categories: tuple[Category, ...] | None = None,
) -> Scheme:
    units = units if units is not None else make_units()
    if groups is None:
        groups = (PeerGroup("g", Text("组", "Group"), tuple(unit.code for unit in units)),)
    items = tuple(items)
    if categories is None:
        codes = dict.fromkeys(item.category for item in items)
        categories = tuple(
            Category(code, Text(f"类{code}", f"Category {code}"), D(100)) for code in codes
        )
    return Scheme(
        code="t",
        name=Text("测试方案", "Test scheme"),
        year=year,
        issuer="city",
        units=units,
        groups=groups,
        categories=categories,
        items=items,
        calendar=calendar or StatisticalCalendar(),
        grades=grades,
    )


def values_for(
    indicator: str, period: str, figures: Mapping[str, str | int | None]
) -> dict[tuple[str, str, str], Decimal | None]:
    """{unit: figure} -> compute_scores values; None stays missing."""
    return {
        (indicator, unit, period): None if figure is None else D(figure)
        for unit, figure in figures.items()
    }
