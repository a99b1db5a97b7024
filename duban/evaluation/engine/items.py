"""The plain scoring path, the reference: one item, unit by unit, as DOMAIN.md reads.

For each unit the item applies to: read the value (year to date for a
cumulative item); a missing value scores 0 and is flagged; a value the rule
rejects, or a unit without the target the rule needs, scores 0 and is listed
as a problem; otherwise the rule scores it, and the unit is flagged short of
target (or, for a cumulative item, of expected progress to date: behind).
Rules that compare units score once every value of the cohort is known.

The whole-cohort path (``cohorts.py``) gives the same results faster for the
common national case and hands every cohort it cannot settle to
:func:`score_rows`; a property test holds the two paths to identical results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from duban.evaluation.engine.decimals import ZERO
from duban.evaluation.engine.explain import Text
from duban.evaluation.engine.model import Item
from duban.evaluation.engine.plan import ItemPlan
from duban.evaluation.engine.ranking import place_among
from duban.evaluation.engine.reading import Reading
from duban.evaluation.engine.results import (
    BEHIND,
    INCOMPLETE,
    MISSING,
    NO_TARGET,
    SHORTFALL,
    VETOED,
    ItemColumn,
)
from duban.evaluation.engine.rules import NO_EXTRA, Extra, Peers, Trace

NO_TARGET_REASON = Text("未设目标", "no target set")
NO_FLAGS: tuple[str, ...] = ()
SHORT = (SHORTFALL,)
SHORT_AND_BEHIND = (SHORTFALL, BEHIND)

Evaluate = Callable[[Item, Decimal, Decimal | None, Extra, Trace], Decimal]


def progress_flags(
    item: Item, value: Decimal, target: Decimal | None, expected: Decimal | None
) -> tuple[str, ...]:
    """短板 and 序时进度: short of target, or (cumulative items) behind expected progress,
    which counts as short of target as well. Nothing without a target."""
    if target is None:
        return NO_FLAGS
    if expected is not None:
        behind = value < expected if item.higher else value > expected
        return SHORT_AND_BEHIND if behind else NO_FLAGS
    short = value < target if item.higher else value > target
    return SHORT if short else NO_FLAGS


def new_column(ip: ItemPlan) -> ItemColumn:
    """An item's result lists, every row unscored (0, no value, no flags) until scored."""
    layout = ip.layout
    size = len(layout.units)
    return ItemColumn(
        ip.item,
        layout.units,
        layout.row_of,
        layout.counted,
        ip.targets,
        [ZERO] * size,
        [None] * size,
        [NO_FLAGS] * size,
        [None] * size,
        [None] * size if ip.rule.compares else None,
        {},
    )


def score_item(reading: Reading, ip: ItemPlan) -> ItemColumn:
    """One item's results for every unit it applies to, on the plain path."""
    column = new_column(ip)
    for start, stop in ip.layout.slices:
        score_rows(reading, ip, column, range(start, stop))
    return column


def score_rows(reading: Reading, ip: ItemPlan, column: ItemColumn, rows: Iterable[int]) -> None:
    """Score the rows of one cohort: value → checks → rule → expected progress and flags."""
    item, rule = ip.item, ip.rule
    pending: list[int] = []  # rules that compare: rows waiting for the cohort's values
    for row in rows:
        unit = column.units[row]
        counted = column.counted[row]
        target = column.targets[row]
        value, parts, incomplete = reading.read_item(ip, unit)
        expected = reading.expected(target) if item.cumulative and target is not None else None
        column.expected[row] = expected
        if value is None:
            column.flags[row] = reading.flags((MISSING,), counted)
            continue
        column.values[row] = value
        note = reading.note(item, unit) if rule.needs_reason else None
        extra = NO_EXTRA if parts is None and note is None else Extra(None, parts, note)
        why = rule.reject(item, value, extra)
        if why is not None:
            problem = reading.problem(item, unit, "invalid", why)
        elif ip.needs_target and target is None:
            problem = reading.problem(item, unit, NO_TARGET, NO_TARGET_REASON)
        else:
            problem = None
        if problem is not None:
            column.flags[row] = reading.flags((problem.code,), counted)
            column.extras[row] = (parts, None, problem)
            continue
        flags = progress_flags(item, value, target, expected)
        if rule.vetoes and value > 0:
            flags = (VETOED, *flags)
            if counted:
                reading.vetoed.add(unit)
        if incomplete:
            flags += (INCOMPLETE,)
        column.flags[row] = reading.flags(flags, counted)
        if extra is not NO_EXTRA:
            column.extras[row] = (parts, note, None)
        if rule.compares:
            pending.append(row)
        else:
            column.scores[row] = rule.evaluate(item, value, target, extra, None)
    if pending:
        compare(column, pending, item.higher, rule.evaluate)


def compare(column: ItemColumn, pending: list[int], higher: bool, evaluate: Evaluate) -> None:
    """Score rank / relative-to-best rows once every value of the cohort is known.

    Only ranked units with a value take a place or set the best; a unit shown
    but not ranked is measured against them without taking a place. Ranked rows
    are walked in order of value, so units with the same value (and the same
    target, and no extras) share one standing and one evaluation.
    """
    values, counted_rows = column.values, column.counted
    peer_rows, scores, extras, targets = column.peers, column.scores, column.extras, column.targets
    assert peer_rows is not None
    item = column.item
    placed = sorted((row for row in pending if counted_rows[row]), key=values.__getitem__)  # type: ignore[arg-type]
    ranked: list[Decimal] = [values[row] for row in placed]  # type: ignore[misc]
    count = len(ranked)
    best = (ranked[-1] if higher else ranked[0]) if ranked else None
    start = 0
    while start < count:
        seen = ranked[start]
        stop = start + 1
        while stop < count and ranked[stop] == seen:
            stop += 1
        peers = Peers((count - stop if higher else start) + 1, count, best, stop - start >= 2)
        plain = Extra(peers)
        last_target: object = plain  # nothing evaluated yet at this value
        last_score = ZERO
        for row in placed[start:stop]:
            peer_rows[row] = peers
            target = targets[row]
            extra = extras.get(row)
            if extra is not None:
                score = evaluate(item, seen, target, Extra(peers, extra[0], extra[1]), None)
            elif target is last_target:
                score = last_score
            else:
                score = last_score = evaluate(item, seen, target, plain, None)
                last_target = target
            scores[row] = score
        start = stop
    for row in pending:
        if counted_rows[row]:
            continue
        value = values[row]
        assert value is not None
        place, equal = place_among(ranked, value, higher=higher)
        peers = peer_rows[row] = Peers(place, count, best, equal >= 1)
        extra = extras.get(row)
        full = Extra(peers) if extra is None else Extra(peers, extra[0], extra[1])
        scores[row] = evaluate(item, value, targets[row], full, None)
