"""What scoring needs about a scheme, worked out once and kept on the scheme object.

Who is compared with whom (cohorts), which units each item applies to (layouts,
shared by the items that apply to the same units), each unit's target, and what
each item's rule declares it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from duban.evaluation.engine.model import Item, PeerGroup, Scheme, Sequence
from duban.evaluation.engine.rules import Rule


@dataclass(frozen=True)
class Cohort:
    """Units compared with each other: a peer group, or one of its sequences."""

    group: PeerGroup
    sequence: Sequence | None
    members: tuple[str, ...]


@dataclass
class Layout:
    """The rows of the items that apply to the same units, compiled once and shared.

    Rows run cohort by cohort; ``slices`` gives each cohort's rows (cohorts
    holding none of these units are left out).
    """

    units: list[str]
    row_of: dict[str, int]
    counted: list[bool]  # False: shown, not ranked at the unit's level
    slices: list[tuple[int, int]]


@dataclass
class ItemPlan:
    """What the hot loop needs about one item, worked out once per scheme."""

    item: Item
    rule: Rule
    keys: tuple[str, ...]
    needs_target: bool
    layout: Layout
    targets: list[Decimal | None]  # row by row
    uniform: bool  # no unit of the layout has a target of its own: all share the default
    # The whole-cohort path may take this item (when its year-to-date sums are handed in):
    # one value per unit, nothing to refuse but a negative count, no reason to read, no
    # veto to mark, every unit ranked and sharing a target that is set when one is needed.
    whole_cohorts: bool


@dataclass
class Plan:
    cohorts: list[Cohort]
    items: list[ItemPlan]
    categories_of: dict[str, set[str]]  # unit -> categories it is scored in


def compile_plan(scheme: Scheme) -> Plan:
    """Cohorts, item applicability and targets; cached on the scheme object."""
    cached = scheme.cache.get("plan")
    if isinstance(cached, Plan):
        return cached
    cohorts: list[Cohort] = []
    for group in scheme.groups:
        if group.sequences:
            cohorts.extend(Cohort(group, seq, seq.members) for seq in group.sequences)
        else:
            cohorts.append(Cohort(group, None, group.members))
    units = scheme.unit_map
    categories_of: dict[str, set[str]] = {unit.code: set() for unit in scheme.units}
    layouts: dict[tuple[tuple[str, ...], ...], Layout] = {}
    categorised: set[tuple[tuple[tuple[str, ...], ...], str]] = set()
    items: list[ItemPlan] = []
    for item in scheme.items:
        key = (item.levels, item.groups, item.not_ranked_levels)
        layout = layouts.get(key)
        if layout is None:
            members: list[str] = []
            counted: list[bool] = []
            slices: list[tuple[int, int]] = []
            for cohort in cohorts:
                start = len(members)
                for code in cohort.members:
                    if item.applies_to(units[code], cohort.group.code):
                        members.append(code)
                        counted.append(units[code].level not in item.not_ranked_levels)
                if len(members) > start:
                    slices.append((start, len(members)))
            row_of = {code: row for row, code in enumerate(members)}
            layout = layouts[key] = Layout(members, row_of, counted, slices)
        if (key, item.category) not in categorised:
            categorised.add((key, item.category))
            for code, counts in zip(layout.units, layout.counted, strict=True):
                if counts:
                    categories_of[code].add(item.category)
        targets = [item.target] * len(layout.units)
        for code, target in reversed(item.unit_targets):  # the first one listed wins
            row = layout.row_of.get(code)
            if row is not None:
                targets[row] = target
        rule = item.rule
        uniform = not any(code in layout.row_of for code, _ in item.unit_targets)
        items.append(
            ItemPlan(
                item=item,
                rule=rule,
                keys=rule.keys(item.indicator),
                needs_target=rule.needs_target(),
                layout=layout,
                targets=targets,
                uniform=uniform,
                whole_cohorts=(
                    item.cumulative
                    and item.indicator not in scheme.formulas
                    and uniform
                    and all(layout.counted)
                    and not (rule.per_class or rule.needs_reason or rule.checks_values)
                    and not rule.vetoes
                    and not (rule.needs_target() and item.target is None)
                ),
            )
        )
    plan = Plan(cohorts, items, categories_of)
    scheme.cache["plan"] = plan
    return plan
