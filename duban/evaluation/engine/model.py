"""An evaluation scheme (考评方案) as plain frozen dataclasses.

The YAML loader and, later, the Django app build these same objects (the app
from database rows) and hand them to ``compute_scores``. ``validate_scheme``
holds every cross-reference check so both sources are checked alike.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from duban.errors import Problem
from duban.evaluation.engine.decimals import HUNDRED, ZERO
from duban.evaluation.engine.explain import Text
from duban.evaluation.engine.formulas import Formula, evaluation_order
from duban.evaluation.engine.rules import Rule
from duban.periods import MAX_YEAR, MIN_YEAR, StatisticalCalendar
from duban.text import gettext as _

# Unit codes follow OrgUnit.code; indicator and item codes may be a little longer.
UNIT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STANDARD_LEVELS = ("province", "city", "county", "station")


class Direction(StrEnum):
    HIGHER = "higher"  # more is better (cases solved)
    LOWER = "lower"  # less is better (accidents, cases filed of a crime type)


@dataclass(frozen=True)
class Unit:
    """A unit being evaluated; ``level`` decides "shown, not ranked" and item applicability."""

    code: str
    name: Text
    level: str
    kind: str = ""  # territorial / division / office, informational


@dataclass(frozen=True)
class Sequence:
    """A sub-group (A/B group, 序列) inside a peer group; units are compared within it."""

    code: str
    name: Text
    members: tuple[str, ...]


@dataclass(frozen=True)
class PeerGroup:
    """Units ranked together (territorial bureaus apart from divisions)."""

    code: str
    name: Text
    members: tuple[str, ...]
    sequences: tuple[Sequence, ...] = ()


@dataclass(frozen=True)
class Category:
    code: str
    name: Text
    points: Decimal


@dataclass(frozen=True)
class Item:
    """A scheme item (考核项目): an indicator scored by a rule for some points."""

    code: str
    category: str
    indicator: str
    name: Text
    points: Decimal
    rule: Rule
    direction: Direction = Direction.HIGHER
    cumulative: bool = False  # scored on the year to date
    target: Decimal | None = None  # default target for every unit
    unit_targets: tuple[tuple[str, Decimal], ...] = ()  # per-unit targets, beating the default
    rule_text: str = ""  # the rule as published, verbatim
    not_ranked_levels: tuple[str, ...] = ()  # shown, not ranked (and not counted) at these levels
    levels: tuple[str, ...] = ()  # applies to units of these levels (empty: all)
    groups: tuple[str, ...] = ()  # applies to these peer groups (empty: all)
    higher: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "higher", self.direction is Direction.HIGHER)

    def target_for(self, unit: str) -> Decimal | None:
        for code, target in self.unit_targets:
            if code == unit:
                return target
        return self.target

    def applies_to(self, unit: Unit, group: str) -> bool:
        return (not self.levels or unit.level in self.levels) and (
            not self.groups or group in self.groups
        )

    @property
    def max_score(self) -> Decimal:
        return self.rule.max_score(self.points)


TOTALS = ("sum", "none")  # how an indicator's figures add up over units (``total:``)


@dataclass(frozen=True)
class SchemeIndicator:
    """An entry of the scheme's ``indicators:`` list.

    With a ``formula`` it is computed: its value for a unit and period is the
    formula over its inputs' values (for a cumulative item, over their year-to-date
    sums), never typed in. Without one it is a base indicator whose ``total``
    (``sum`` or ``none``) says whether its figures may be added up over units;
    ``None`` takes the documented default (``engine.totals.how_totalled``).
    """

    code: str
    name: Text
    formula: Formula | None = None
    decimals: int | None = None  # places shown for a computed figure (never rounded to score)
    total: str | None = None  # base indicators: "sum" or "none"; None: the default

    @property
    def computed(self) -> bool:
        return self.formula is not None


@dataclass(frozen=True)
class Quota:
    """优秀 at most 25%: ``at_most`` counts round down, ``at_least`` counts round up."""

    kind: str  # "at_most" or "at_least"
    percent: Decimal

    def places(self, units: int) -> int:
        exact = self.percent * units / HUNDRED
        return math.floor(exact) if self.kind == "at_most" else math.ceil(exact)


@dataclass(frozen=True)
class Grade:
    """A grade band (等次): rounded totals from ``min`` (inclusive) up to the next band."""

    code: str
    name: Text
    min: Decimal
    quota: Quota | None = None


DEFAULT_GRADES: tuple[Grade, ...] = (
    Grade("excellent", Text("优秀", "Excellent"), Decimal(90)),
    Grade("good", Text("良好", "Good"), Decimal(80)),
    Grade("pass", Text("达标", "Satisfactory"), Decimal(60)),
    Grade("warning", Text("诫勉", "Admonished"), ZERO),
)

# The quotas DOMAIN.md quotes; a scheme opts in by stating them.
QUOTA_GRADES: tuple[Grade, ...] = (
    Grade("excellent", Text("优秀", "Excellent"), Decimal(90), Quota("at_most", Decimal(25))),
    Grade("good", Text("良好", "Good"), Decimal(80), Quota("at_most", Decimal(50))),
    Grade("pass", Text("达标", "Satisfactory"), Decimal(60), Quota("at_most", Decimal(20))),
    Grade("warning", Text("诫勉", "Admonished"), ZERO, Quota("at_least", Decimal(5))),
)


@dataclass(frozen=True)
class Scheme:
    """One year's evaluation scheme of one issuing unit."""

    code: str
    name: Text
    year: int
    issuer: str  # code of the issuing unit (the city bureau); not itself scored
    units: tuple[Unit, ...]
    groups: tuple[PeerGroup, ...]
    categories: tuple[Category, ...]
    items: tuple[Item, ...]
    calendar: StatisticalCalendar = field(default_factory=StatisticalCalendar)
    grades: tuple[Grade, ...] = DEFAULT_GRADES
    max_items_per_level: tuple[tuple[str, int], ...] = ()  # a warning, not an error
    indicators: tuple[SchemeIndicator, ...] = ()  # computed indicators, declared base ones
    # Derived data the engine keeps per scheme object (its compiled plan); not part of equality.
    cache: dict[str, object] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @cached_property
    def unit_map(self) -> dict[str, Unit]:
        return {unit.code: unit for unit in self.units}

    @cached_property
    def item_map(self) -> dict[str, Item]:
        return {item.code: item for item in self.items}

    @cached_property
    def category_map(self) -> dict[str, Category]:
        return {category.code: category for category in self.categories}

    @cached_property
    def group_of(self) -> dict[str, str]:
        """Unit code -> peer group code."""
        return {member: group.code for group in self.groups for member in group.members}

    def items_for(self, unit: str) -> list[Item]:
        """The items that apply to a unit, in scheme order."""
        found = self.unit_map.get(unit)
        group = self.group_of.get(unit, "")
        if found is None:
            return []
        return [item for item in self.items if item.applies_to(found, group)]

    @cached_property
    def indicator_map(self) -> dict[str, SchemeIndicator]:
        return {indicator.code: indicator for indicator in self.indicators}

    @cached_property
    def formulas(self) -> dict[str, Formula]:
        """Computed indicator code -> its formula."""
        return {i.code: i.formula for i in self.indicators if i.formula is not None}

    def base_inputs(self, code: str) -> frozenset[str]:
        """The typed-in codes a computed indicator is worked out from (through computed
        inputs); a base code is its own input."""
        formulas = self.formulas
        found: set[str] = set()
        pending, seen = [code], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            formula = formulas.get(current)
            if formula is None:
                found.add(current)
            else:
                pending.extend(formula.references)
        return frozenset(found)

    @cached_property
    def value_keys(self) -> frozenset[str]:
        """Every indicator code a values file may carry (weighted counts: one per class):
        the codes items score and the inputs of computed ones, never a computed code."""
        keys = {key for item in self.items for key in item.rule.keys(item.indicator)}
        keys.update(i.code for i in self.indicators)
        for code in self.formulas:
            keys.update(self.base_inputs(code))
        return frozenset(keys - set(self.formulas))


def _duplicates(codes: list[str], where: str, problems: list[Problem], what: str = "code") -> None:
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code in seen:
            problems.append(
                Problem(
                    f"{where}[{index}].{what}",
                    _("duplicate %(what)s %(code)s") % {"what": what, "code": repr(code)},
                )
            )
        seen.add(code)


def _check_code(code: str, pattern: re.Pattern[str], where: str, problems: list[Problem]) -> None:
    if code and not pattern.match(code):
        problems.append(Problem(where, _("%(code)s is not a valid code") % {"code": repr(code)}))


def validate_scheme(scheme: Scheme) -> list[Problem]:
    """Every cross-reference and consistency problem, each with its path; empty when usable."""
    problems: list[Problem] = []
    add = problems.append
    if not scheme.code:
        add(Problem("code", _("is required")))
    if not MIN_YEAR <= scheme.year <= MAX_YEAR:
        add(
            Problem(
                "year",
                _("must be within %(min_year)s..%(max_year)s")
                % {"min_year": MIN_YEAR, "max_year": MAX_YEAR},
            )
        )
    if not scheme.issuer:
        add(Problem("issuer", _("is required")))
    for key in ("units", "groups", "categories", "items"):
        if not getattr(scheme, key):
            add(Problem(key, _("must list at least one")))

    units = scheme.unit_map
    for index, unit in enumerate(scheme.units):
        _check_code(unit.code, UNIT_CODE, f"units[{index}].code", problems)
        if not unit.level:
            add(Problem(f"units[{index}].level", _("is required")))
    _duplicates([u.code for u in scheme.units], "units", problems)
    levels = set(STANDARD_LEVELS) | {unit.level for unit in scheme.units}

    _duplicates([g.code for g in scheme.groups], "groups", problems)
    placed: dict[str, str] = {}
    for gi, group in enumerate(scheme.groups):
        where = f"groups[{gi}]"
        for mi, member in enumerate(group.members):
            if member not in units:
                add(
                    Problem(
                        f"{where}.members[{mi}]",
                        _("unknown unit %(member)s") % {"member": repr(member)},
                    )
                )
            elif member in placed:
                add(
                    Problem(
                        f"{where}.members[{mi}]",
                        _("%(member)s is already in group %(placed)s")
                        % {"member": repr(member), "placed": repr(placed[member])},
                    )
                )
            else:
                placed[member] = group.code
        if not group.members:
            add(Problem(f"{where}.members", _("must list at least one unit")))
        if group.sequences:
            _duplicates([s.code for s in group.sequences], f"{where}.sequences", problems)
            in_sequence: dict[str, str] = {}
            for si, sequence in enumerate(group.sequences):
                for mi, member in enumerate(sequence.members):
                    path = f"{where}.sequences[{si}].members[{mi}]"
                    if member not in group.members:
                        add(
                            Problem(
                                path,
                                _("%(member)s is not a member of group %(code)s")
                                % {"member": repr(member), "code": repr(group.code)},
                            )
                        )
                    elif member in in_sequence:
                        add(
                            Problem(
                                path,
                                _("%(member)s is already in sequence %(in_sequence)s")
                                % {
                                    "member": repr(member),
                                    "in_sequence": repr(in_sequence[member]),
                                },
                            )
                        )
                    else:
                        in_sequence[member] = sequence.code
            for member in group.members:
                if member in units and member not in in_sequence:
                    add(
                        Problem(
                            f"{where}.sequences",
                            _("unit %(member)s is in no sequence") % {"member": repr(member)},
                        )
                    )
    for index, unit in enumerate(scheme.units):
        if unit.code not in placed:
            add(
                Problem(
                    f"units[{index}]",
                    _("unit %(code)s belongs to no peer group") % {"code": repr(unit.code)},
                )
            )

    _duplicates([c.code for c in scheme.categories], "categories", problems)
    for index, category in enumerate(scheme.categories):
        if category.points < 0:
            add(Problem(f"categories[{index}].points", _("must be at least 0")))

    _duplicates([i.code for i in scheme.items], "items", problems)
    groups = {group.code for group in scheme.groups}
    for index, item in enumerate(scheme.items):
        where = f"items[{index}]"
        _check_code(item.code, CODE, f"{where}.code", problems)
        _check_code(item.indicator, CODE, f"{where}.indicator", problems)
        if item.category not in scheme.category_map:
            add(
                Problem(
                    f"{where}.category",
                    _("unknown category %(category)s") % {"category": repr(item.category)},
                )
            )
        if item.points < 0:
            add(Problem(f"{where}.points", _("must be at least 0")))
        if item.target is not None and item.target < 0:
            add(Problem(f"{where}.target.default", _("must be at least 0")))
        seen_targets: set[str] = set()
        for code, target in item.unit_targets:
            path = f"{where}.target.units.{code}"
            if code not in units:
                add(Problem(path, _("unknown unit %(code)s") % {"code": repr(code)}))
            if code in seen_targets:
                add(Problem(path, _("duplicate target")))
            seen_targets.add(code)
            if target < 0:
                add(Problem(path, _("must be at least 0")))
        for key in ("levels", "not_ranked_levels"):
            for li, level in enumerate(getattr(item, key)):
                if level not in levels:
                    add(
                        Problem(
                            f"{where}.{key}[{li}]",
                            _("unknown level %(level)s") % {"level": repr(level)},
                        )
                    )
        for gi, group_code in enumerate(item.groups):
            if group_code not in groups:
                add(
                    Problem(
                        f"{where}.groups[{gi}]",
                        _("unknown peer group %(group_code)s") % {"group_code": repr(group_code)},
                    )
                )
        for path, message in item.rule.check(item):
            add(Problem(f"{where}.{path}", message))

    problems.extend(indicator_problems(scheme))

    if not scheme.grades:
        add(Problem("grades", _("must list at least one grade")))
    _duplicates([g.code for g in scheme.grades], "grades", problems)
    last = len(scheme.grades) - 1
    for index, grade in enumerate(scheme.grades):
        where = f"grades[{index}]"
        if index > 0 and grade.min >= scheme.grades[index - 1].min:
            add(Problem(f"{where}.min", _("grades must be listed from the highest min down")))
        if index == last and grade.min != 0:
            add(
                Problem(
                    f"{where}.min",
                    _("the lowest grade must start at 0 (it takes every other total)"),
                )
            )
        quota = grade.quota
        if quota is None:
            continue
        if not 0 < quota.percent <= 100:
            add(Problem(f"{where}.quota", _("percent must be above 0 and at most 100")))
        if quota.kind == "at_most" and index == last:
            add(Problem(f"{where}.quota", _("the lowest grade cannot have an at-most quota")))
        if quota.kind == "at_least" and index != last:
            add(Problem(f"{where}.quota", _("only the lowest grade can have an at-least quota")))
        if quota.kind not in ("at_most", "at_least"):
            add(Problem(f"{where}.quota", _("kind must be at_most or at_least")))

    for level, count in scheme.max_items_per_level:
        if level not in levels:
            add(
                Problem(
                    f"max_items_per_level.{level}",
                    _("unknown level %(level)s") % {"level": repr(level)},
                )
            )
        if count < 1:
            add(Problem(f"max_items_per_level.{level}", _("must be at least 1")))
    return problems


def indicator_problems(scheme: Scheme) -> list[Problem]:
    """The ``indicators:`` list: codes, totals, formula inputs, cycles, items on them."""
    problems: list[Problem] = []
    add = problems.append
    _duplicates([i.code for i in scheme.indicators], "indicators", problems)
    scored = {key for item in scheme.items for key in item.rule.keys(item.indicator)}
    known = scored | {i.code for i in scheme.indicators}
    for index, indicator in enumerate(scheme.indicators):
        where = f"indicators[{index}]"
        _check_code(indicator.code, CODE, f"{where}.code", problems)
        if indicator.total is not None and indicator.total not in TOTALS:
            add(
                Problem(
                    f"{where}.total", _("must be one of %(options)s") % {"options": "sum, none"}
                )
            )
        formula = indicator.formula
        if formula is None:
            continue
        if indicator.total is not None:
            add(
                Problem(
                    f"{where}.total",
                    _(
                        "computed indicator %(code)s: its total is its formula over its "
                        "inputs' totals; total: applies to base indicators only"
                    )
                    % {"code": indicator.code},
                )
            )
        if formula.is_condition:
            add(
                Problem(
                    f"{where}.formula",
                    _("computed indicator %(code)s: the formula is a condition, not a value")
                    % {"code": indicator.code},
                )
            )
        for ref in sorted(formula.references - known):
            add(
                Problem(
                    f"{where}.formula",
                    _(
                        "computed indicator %(code)s reads unknown indicator %(ref)s "
                        "(list it under indicators: or score it in an item)"
                    )
                    % {"code": indicator.code, "ref": repr(ref)},
                )
            )
    try:
        evaluation_order(scheme.formulas)
    except ValueError as error:
        add(Problem("indicators", str(error)))
    for index, item in enumerate(scheme.items):
        if item.rule.per_class and item.indicator in scheme.formulas:
            add(
                Problem(
                    f"items[{index}].indicator",
                    _("item %(item)s: a per-class rule cannot score computed indicator %(code)s")
                    % {"item": item.code, "code": item.indicator},
                )
            )
    return problems


def scheme_warnings(scheme: Scheme) -> list[Problem]:
    """Things worth a look that do not stop scoring (too many items, targets not set, …)."""
    warnings: list[Problem] = []
    group_of = scheme.group_of
    applicable: dict[str, list[Item]] = {
        unit.code: [i for i in scheme.items if i.applies_to(unit, group_of.get(unit.code, ""))]
        for unit in scheme.units
    }
    for level, limit in scheme.max_items_per_level:
        counts = [len(applicable[u.code]) for u in scheme.units if u.level == level]
        if counts and max(counts) > limit:
            message = _("units of level %(level)s have %(n)s items, more than %(limit)s") % {
                "level": level,
                "n": max(counts),
                "limit": limit,
            }
            warnings.append(Problem(f"max_items_per_level.{level}", message))
    codes = {unit: {i.code for i in items} for unit, items in applicable.items()}
    for index, item in enumerate(scheme.items):
        if not item.rule.needs_target():
            continue
        missing = [
            u for u, found in codes.items() if item.code in found and item.target_for(u) is None
        ]
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            warnings.append(
                Problem(f"items[{index}].target", _("no target for %(shown)s") % {"shown": shown})
            )
    for index, category in enumerate(scheme.categories):
        # Units with no item in the category (divisions on crackdown figures) are not odd.
        sums = Counter(
            sum((i.points for i in items if i.category == category.code), ZERO)
            for items in applicable.values()
            if any(i.category == category.code for i in items)
        )
        odd = sorted(total for total in sums if total != category.points)
        if odd:
            totals = ", ".join(str(total) for total in odd)
            message = f"items add up to {totals} for some units, not {category.points}"
            warnings.append(Problem(f"categories[{index}].points", message))
    return warnings
