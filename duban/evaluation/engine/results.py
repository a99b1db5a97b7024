"""What ``compute_scores`` returns: per unit, per item, with derived reports on demand.

Item results keep the numbers a rule used; explanations, completion rates,
item places, shortfalls and reconciliation rows are computed when read, so
scoring a whole scheme builds none of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from duban.errors import Problem
from duban.evaluation.engine.decimals import ENGINE_CONTEXT, ZERO, round2
from duban.evaluation.engine.explain import Explanation, Step, Text
from duban.evaluation.engine.model import Grade, Item, Scheme, Unit, scheme_warnings
from duban.evaluation.engine.ranking import competition_ranks, in_bottom_third
from duban.evaluation.engine.rules import Extra, Peers, completion
from duban.periods import Period

if TYPE_CHECKING:
    from duban.evaluation.engine.totals import Totals

MISSING = "missing"  # no value: 0 points, no place
NO_TARGET = "no_target"  # the rule needs a target and the unit has none: 0 points
INVALID = "invalid"  # the value was rejected (negative count, discretionary out of bounds)
INCOMPLETE = "incomplete"  # some months or classes have no value: scored on those given
VETOED = "vetoed"  # this veto item was triggered
NOT_RANKED = "not_ranked"  # shown, not ranked at the unit's level: not in the total
SHORTFALL = "shortfall"  # worse than target (cumulative items: than expected progress)
BEHIND = "behind"  # cumulative item behind expected progress to date (序时进度)

NO_SCORE = frozenset((MISSING, NO_TARGET, INVALID))

# What a flag or a shortfall reason is called on a page; files and the API keep the codes.
LABELS: dict[str, Text] = {
    MISSING: Text("无数据", "no value"),
    NO_TARGET: Text("未设目标", "no target"),
    INVALID: Text("数据无效", "invalid value"),
    INCOMPLETE: Text("数据不全", "incomplete"),
    VETOED: Text("一票否决", "vetoed"),
    NOT_RANKED: Text("不参与排名", "not ranked"),
    SHORTFALL: Text("未达目标", "short of target"),
    BEHIND: Text("落后序时进度", "behind expected progress"),
    "below_target": Text("低于目标", "below target"),
    "bottom_third": Text("居组内后三分之一", "in the bottom third of its group"),
}


def label(code: str, lang: str = "zh") -> str:
    """A flag's or a shortfall reason's name for people; an unknown code as it is."""
    found = LABELS.get(code)
    return code if found is None else found.get(lang)


@dataclass(frozen=True)
class ScoreProblem:
    """A value that could not be scored, naming the item and the unit."""

    item: str
    unit: str
    code: str  # no_target, invalid
    reason: Text
    message: Text

    def text(self, lang: str = "zh") -> str:
        return self.message.get(lang)


@dataclass(slots=True, eq=False)
class ItemResult:
    """One unit's result on one item."""

    item: Item
    unit: str
    score: Decimal  # exact
    value: Decimal | None  # the figure scored (year to date for cumulative items)
    target: Decimal | None
    flags: tuple[str, ...]
    counted: bool  # False: shown, not ranked (not in totals, takes no place)
    expected: Decimal | None = None  # expected progress to date, cumulative items with a target
    parts: tuple[Decimal | None, ...] | None = None  # weighted count: value per class
    peers: Peers | None = None  # rank / relative to best: where the value stood
    note: str | None = None  # discretionary: the written reason
    problem: ScoreProblem | None = None

    @property
    def display(self) -> Decimal:
        return round2(self.score)

    @property
    def max_score(self) -> Decimal:
        return self.item.max_score

    @property
    def points_lost(self) -> Decimal:
        return max(self.item.max_score - self.score, ZERO)

    @property
    def rate(self) -> Decimal | None:
        """Completion (actual/target, or target/actual when lower is better); None without both."""
        if self.value is None or self.target is None:
            return None
        with localcontext(ENGINE_CONTEXT):
            ratio = completion(self.value, self.target, self.item.higher)
        return ratio if ratio.is_finite() else None

    @property
    def explanation(self) -> Explanation:
        """The derivation of the score, re-running the rule with a trace."""
        steps: list[Step] = []
        if not self.counted:
            steps.append(Step("not_ranked"))
        flags = self.flags
        if MISSING in flags:
            steps.append(Step("missing"))
        elif INVALID in flags:
            reason = self.problem.reason if self.problem is not None else Text("")
            steps.append(Step("invalid", {"reason": reason}))
        elif NO_TARGET in flags:
            steps.append(Step("no_target"))
        else:
            assert self.value is not None
            if INCOMPLETE in flags:
                steps.append(Step("incomplete"))
            extra = Extra(self.peers, self.parts, self.note)
            with localcontext(ENGINE_CONTEXT):
                self.item.rule.evaluate(self.item, self.value, self.target, extra, steps)
        return Explanation(tuple(steps))


@dataclass(slots=True, eq=False)
class CategoryResult:
    code: str
    score: Decimal
    rank: int | None  # among the units of the comparison group scored in this category

    @property
    def display(self) -> Decimal:
        return round2(self.score)


@dataclass(slots=True, eq=False)
class ItemColumn:
    """One item's results for every unit it applies to, one list per field, row by row.

    Scoring a national scheme yields hundreds of thousands of item results; kept
    as a few lists per item (most shared with the scheme's compiled plan) they
    cost one allocation per figure and nothing for the garbage collector to
    scan. An :class:`ItemResult` is built only when someone reads it.
    """

    item: Item
    units: list[str]  # row -> unit code (shared by items that apply to the same units)
    row_of: dict[str, int]  # unit code -> row (shared likewise)
    counted: list[bool]  # False: shown, not ranked (shared likewise)
    targets: list[Decimal | None]
    scores: list[Decimal]
    values: list[Decimal | None]
    flags: list[tuple[str, ...]]
    expected: list[Decimal | None]
    peers: list[Peers | None] | None = None  # rank / relative-to-best items only
    # rows with a weighted count's parts, a written reason or a problem: (parts, note, problem)
    extras: dict[int, tuple[tuple[Decimal | None, ...] | None, str | None, ScoreProblem | None]] = (
        field(default_factory=dict)
    )

    built: dict[int, ItemResult] = field(default_factory=dict)  # rows read so far, kept

    def result(self, row: int) -> ItemResult:
        """The row's result; the same object each time it is read."""
        found = self.built.get(row)
        if found is not None:
            return found
        extra = self.extras.get(row)
        parts, note, problem = extra if extra is not None else (None, None, None)
        found = self.built[row] = ItemResult(
            self.item,
            self.units[row],
            self.scores[row],
            self.values[row],
            self.targets[row],
            self.flags[row],
            self.counted[row],
            self.expected[row],
            parts,
            self.peers[row] if self.peers is not None else None,
            note,
            problem,
        )
        return found

    def get(self, unit: str) -> ItemResult | None:
        row = self.row_of.get(unit)
        return None if row is None else self.result(row)


class UnitItems(Mapping[str, ItemResult]):
    """A unit's item results (item code -> :class:`ItemResult`), in scheme order, read
    from the item columns on demand."""

    __slots__ = ("_columns", "_unit")

    def __init__(self, unit: str, columns: Mapping[str, ItemColumn]) -> None:
        self._unit = unit
        self._columns = columns

    def __getitem__(self, code: str) -> ItemResult:
        found = self._columns[code].get(self._unit)
        if found is None:
            raise KeyError(code)
        return found

    def __contains__(self, code: object) -> bool:
        column = self._columns.get(code) if isinstance(code, str) else None
        return column is not None and self._unit in column.row_of

    def __iter__(self) -> Iterator[str]:
        unit = self._unit
        return (code for code, column in self._columns.items() if unit in column.row_of)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"UnitItems({self._unit!r}, {list(self)!r})"


@dataclass(slots=True, eq=False)
class UnitResult:
    """A unit's total, rank and grade, with its item and category results."""

    unit: Unit
    group: str
    sequence: str | None
    items: Mapping[str, ItemResult]  # a UnitItems view on the item columns
    categories: dict[str, CategoryResult]
    total: Decimal  # exact
    display: Decimal  # total rounded half-up to 2 places: what is shown and ranked
    rank: int  # within the comparison group (the sequence if the peer group has them)
    group_rank: int  # within the whole peer group
    grade: Grade
    band: Grade  # the grade by score band alone, before quotas and veto
    vetoed: bool


@dataclass(frozen=True)
class ShortfallRow:
    """An item where the unit is weak (短板), and what it costs."""

    item: Item
    result: ItemResult
    reasons: tuple[str, ...]  # vetoed, missing, invalid, no_target, below_target, bottom_third
    points_lost: Decimal
    room: Decimal  # 上升空间: points still obtainable before year end (0 once it cannot move)
    place: int | None
    count: int


@dataclass(frozen=True)
class ReconciliationRow:
    """收官对账: one item, target against actual."""

    item: Item
    target: Decimal | None
    actual: Decimal | None
    gap: Decimal | None  # how far short of target (> 0 short, <= 0 met), None without both
    score: Decimal
    points: Decimal
    points_lost: Decimal
    counted: bool


@dataclass(eq=False)
class SchemeResult:
    """Every unit's result for one period, in display order (group, sequence, rank)."""

    scheme: Scheme
    period: Period
    as_of: date  # the day expected progress is measured at
    elapsed: Fraction  # share of the statistical year elapsed at ``as_of``
    final: bool  # the period reaches the end of the statistical year
    units: dict[str, UnitResult]
    problems: tuple[ScoreProblem, ...]
    cohorts: tuple[tuple[str, str | None, tuple[str, ...]], ...]  # (group, sequence, members)
    columns: Mapping[str, ItemColumn] = field(default_factory=dict, repr=False)  # by item code
    _places: dict[tuple[str, int], tuple[dict[str, int], int]] = field(
        default_factory=dict, repr=False
    )
    _cohort_index: dict[str, int] = field(default_factory=dict, repr=False)
    # Where the figures came from (an engine ``Reading``): what ``totals`` adds up.
    reading: Any = field(default=None, repr=False)
    _totals: dict[tuple[str | None, str | None], Totals] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for index, (_, _, members) in enumerate(self.cohorts):
            for member in members:
                self._cohort_index[member] = index

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The scheme's warnings (too many items, targets not set, …), worked out once."""
        cache = self.scheme.cache
        found = cache.get("warnings")
        if not isinstance(found, tuple):
            found = cache["warnings"] = tuple(scheme_warnings(self.scheme))
        return found

    @property
    def period_id(self) -> str:
        return self.period.id

    def unit(self, code: str) -> UnitResult:
        return self.units[code]

    def ranking(self, group: str, sequence: str | None = None) -> list[UnitResult]:
        """The units of a group (or one of its sequences) best first."""
        found = [
            result
            for result in self.units.values()
            if result.group == group and (sequence is None or result.sequence == sequence)
        ]
        key = (lambda r: r.rank) if sequence is not None else (lambda r: r.group_rank)
        return sorted(found, key=key)

    def item_place(self, unit: str, item: str) -> tuple[int, int] | None:
        """(place, units placed) on one item by rounded score; None when the unit takes no place."""
        index = self._cohort_index[unit]
        cached = self._places.get((item, index))
        if cached is None:
            scores: dict[str, Decimal] = {}
            column = self.columns[item]
            row_of, counted, flags = column.row_of, column.counted, column.flags
            for member in self.cohorts[index][2]:
                row = row_of.get(member)
                if row is not None and counted[row] and not NO_SCORE.intersection(flags[row]):
                    scores[member] = round2(column.scores[row])
            cached = (competition_ranks(scores), len(scores))
            self._places[(item, index)] = cached
        places, count = cached
        place = places.get(unit)
        return None if place is None else (place, count)

    def shortfalls(self, unit: str) -> list[ShortfallRow]:
        """Items below target or in the bottom third of the group, most points lost first.

        Vetoed items come first whatever their points (a veto bars the top grade).
        Items shown but not ranked are left out: they are not part of the unit's score.
        """
        rows: list[ShortfallRow] = []
        order = {item.code: index for index, item in enumerate(self.scheme.items)}
        for code, result in self.units[unit].items.items():
            if not result.counted:
                continue
            reasons: list[str] = [
                f for f in (VETOED, MISSING, INVALID, NO_TARGET) if f in result.flags
            ]
            if SHORTFALL in result.flags:
                reasons.append("below_target")
            placed = self.item_place(unit, code)
            if placed is not None and in_bottom_third(*placed):
                reasons.append("bottom_third")
            if not reasons:
                continue
            lost = result.points_lost
            movable = not self.final and result.item.rule.can_improve
            rows.append(
                ShortfallRow(
                    result.item,
                    result,
                    tuple(reasons),
                    lost,
                    lost if movable else ZERO,
                    placed[0] if placed else None,
                    placed[1] if placed else 0,
                )
            )
        rows.sort(key=lambda r: (VETOED not in r.result.flags, -r.points_lost, order[r.item.code]))
        return rows

    def reconciliation(self, unit: str) -> list[ReconciliationRow]:
        """Year-end reconciliation (收官对账): every item of the unit, target against actual."""
        rows: list[ReconciliationRow] = []
        for result in self.units[unit].items.values():
            gap: Decimal | None = None
            if result.target is not None and result.value is not None:
                gap = (
                    result.target - result.value
                    if result.item.higher
                    else result.value - result.target
                )
            rows.append(
                ReconciliationRow(
                    result.item,
                    result.target,
                    result.value,
                    gap,
                    result.score,
                    result.item.points,
                    result.points_lost,
                    result.counted,
                )
            )
        return rows

    def totals(self, group: str | None = None, sequence: str | None = None) -> Totals:
        """The summed raw figures of a set of units, item by item (``engine.totals``):
        no group, the issuer's total over every unit of the scheme; a group, its members;
        a group and a sequence, that sequence's members. Worked out once each."""
        from duban.evaluation.engine.totals import sum_reading, units_of

        key = (group, sequence)
        found = self._totals.get(key)
        if found is None:
            if self.reading is None:
                raise ValueError("this result carries no figures to add up")
            units = units_of(self.scheme, group, sequence)
            found = self._totals[key] = sum_reading(self.reading, units, group, sequence)
        return found

    def group_totals(self) -> dict[str, Totals]:
        """Each peer group's total, by group code, in the scheme's order."""
        return {group.code: self.totals(group.code) for group in self.scheme.groups}

    def behind_progress(self) -> list[ItemResult]:
        """Cumulative items where a unit is behind expected progress to date (序时进度)."""
        found = [
            (self.units[column.units[row]], index, column.result(row))
            for index, column in enumerate(self.columns.values())
            for row, flags in enumerate(column.flags)
            if BEHIND in flags
        ]
        order = {code: index for index, code in enumerate(self.units)}
        found.sort(key=lambda entry: (order[entry[0].unit.code], entry[1]))
        return [result for _, _, result in found]
