"""The whole-cohort path: :func:`score_item_fast`, the same results as ``items.score_item``.

The national case is a cumulative item whose year-to-date sums the caller
worked out, every unit ranked, sharing the item's default target, with every
month given. Such a cohort is scored as a whole: its values are read in C, and
each distinct value (or, for rules that compare, each distinct standing) is
scored and flagged once. Whatever this path cannot settle — an item it may not
take (``ItemPlan.whole_cohorts``), a cohort with a month missing or a negative
count — goes to the plain path, row by row. Nothing here decides a score, a
flag or an expected progress itself: it calls the rule, ``progress_flags`` and
``Reading.expected`` as the plain path does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from decimal import Decimal
from typing import cast

from duban.evaluation.engine.items import (
    Evaluate,
    new_column,
    progress_flags,
    score_item,
    score_rows,
)
from duban.evaluation.engine.model import Item
from duban.evaluation.engine.plan import ItemPlan
from duban.evaluation.engine.reading import NO_SUMS, Reading
from duban.evaluation.engine.results import ItemColumn
from duban.evaluation.engine.rules import NO_EXTRA, Extra, Peers, Rule


def score_item_fast(reading: Reading, ip: ItemPlan) -> ItemColumn:
    """One item's results for every unit it applies to, whole cohorts at once where possible."""
    key = ip.keys[0]
    sums = reading.sums
    if (
        sums is None
        or not ip.whole_cohorts
        or not reading.summed(key)
        or reading.given_for_period(key)  # a value given for the period comes first
    ):
        return score_item(reading, ip)
    item, rule = ip.item, ip.rule
    column = new_column(ip)
    target = item.target
    expected = reading.expected(target) if target is not None else None
    flags_of = _Flags(item, target, expected)
    scored_once = _Memo(item, rule.evaluate, target) if not rule.compares else None
    standings: dict[Hashable, Decimal] = {}  # rules that compare: scores by standing
    months = len(reading.months)
    total_of = sums.totals.get(key, NO_SUMS).get
    given_of = sums.given.get(key, NO_SUMS).get
    keys = reading.sum_keys(ip.layout)
    for start, stop in ip.layout.slices:
        cohort_keys = keys[start:stop]
        if list(map(given_of, cohort_keys)).count(months) != stop - start:
            score_rows(reading, ip, column, range(start, stop))  # some unit misses a month
            continue
        full = cast(list[Decimal], list(map(total_of, cohort_keys)))
        if rule.occurrences and min(full) < 0:
            score_rows(reading, ip, column, range(start, stop))  # a negative count: refused
            continue
        column.values[start:stop] = full
        column.expected[start:stop] = [expected] * (stop - start)
        column.flags[start:stop] = map(flags_of.__getitem__, full)
        if scored_once is not None:
            column.scores[start:stop] = map(scored_once.__getitem__, full)
        else:
            _compare_cohort(column, start, stop, item.higher, rule, target, standings)
    return column


class _Memo(dict[Decimal, Decimal]):
    """An item's score by value, for units sharing the item's default target and no extras.

    A rule that does not compare units scores a value the same for every unit with the
    same target, and counts repeat (most units report 0, 1, 2 … cases), so each distinct
    value is evaluated once and looked up in C after that.
    """

    __slots__ = ("evaluate", "item", "target")

    def __init__(self, item: Item, evaluate: Evaluate, target: Decimal | None) -> None:
        super().__init__()
        self.item, self.evaluate, self.target = item, evaluate, target

    def __missing__(self, value: Decimal) -> Decimal:
        found = self[value] = self.evaluate(self.item, value, self.target, NO_EXTRA, None)
        return found


class _Flags(dict[Decimal, tuple[str, ...]]):
    """An item's progress flags by value, for units sharing its target and expected progress."""

    __slots__ = ("expected", "item", "target")

    def __init__(self, item: Item, target: Decimal | None, expected: Decimal | None) -> None:
        super().__init__()
        self.item, self.target, self.expected = item, target, expected

    def __missing__(self, value: Decimal) -> tuple[str, ...]:
        found = self[value] = progress_flags(self.item, value, self.target, self.expected)
        return found


def _compare_cohort(
    column: ItemColumn,
    start: int,
    stop: int,
    higher: bool,
    rule: Rule,
    target: Decimal | None,
    scored: dict[Hashable, Decimal],
) -> None:
    """``items.compare`` for a cohort whose rows all have a value, are all ranked, share
    ``target`` and carry no extras.

    Only the distinct values are sorted and given a standing; rows take theirs and
    their score by value, looked up in C. A value's place is 1 + the number of units
    with a strictly better value, so equal values share the better place. ``scored``
    keeps the item's scores by the rule's ``standing_key`` across its cohorts (a rank
    item scores place 3 the same in every group), so each key is evaluated once.
    """
    values, scores, peer_rows = column.values, column.scores, column.peers
    assert peer_rows is not None
    item, evaluate, key_of = column.item, rule.evaluate, rule.standing_key
    cohort = cast(list[Decimal], values[start:stop])
    counts = Counter(cohort)
    distinct = sorted(counts, reverse=higher)  # best first
    size, best, place = stop - start, distinct[0], 1
    score_of: dict[Decimal, Decimal] = {}
    peers_of: dict[Decimal, Peers] = {}
    for value in distinct:
        times = counts[value]
        peers = peers_of[value] = Peers(place, size, best, times >= 2)
        key = key_of(value, peers)
        score = scored.get(key)
        if score is None:
            score = scored[key] = evaluate(item, value, target, Extra(peers), None)
        score_of[value] = score
        place += times
    scores[start:stop] = map(score_of.__getitem__, cohort)
    peer_rows[start:stop] = map(peers_of.__getitem__, cohort)
