"""The synthetic nation's business records: made set-based, reproducible, inside each month,
a class only on fugitives caught, and counted by the record indicators like imported ones."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from duban.demo import national
from duban.orgs.models import Level, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.periods import parse_period
from duban.records import store
from duban.records.models import RecordType
from duban.records.proposals import proposals_for, recompute_record_indicators
from duban.records.tests.test_aggregation import make_indicator

SHAPE = national.Shape(provinces=1, cities=2, counties=3, stations=6, years=1)
TODAY = date(2026, 12, 2)


@pytest.fixture
def nation(db):
    return national.build_national(SHAPE, end="202611", today=TODAY, records=True)


def test_records_are_reproducible_and_inside_their_month(nation) -> None:
    levels = dict(OrgUnit.objects.values_list("pk", "level"))
    types = dict(RecordType.objects.values_list("pk", "code"))
    rows = [
        (rid, levels[unit], day, grade, types[kind])
        for rid, kind, unit, day, grade, _q, _a in store.read()
    ]
    assert nation.records == len(rows) > 0
    per_cell = Counter(rid.rsplit("-", 1)[0] for rid, *_ in rows)
    assert max(per_cell.values()) <= national.RECORDS_MAX - 1
    months = {p: parse_period(p) for p in nation.periods}
    for rid, level, day, grade, code in rows:
        assert level == Level.STATION
        month = months[nation.periods[int(rid.split("-")[1])]]
        assert month.start <= day <= month.end
        assert (grade in {"A", "B", "local"}) == (code == "fugitive_caught"), rid
    # The same seed and shape give the same records: the hash, not a random generator, decides.
    expected = sum(
        (u * 2654435761 + p * 40503 + t * 9973 + national.SEED) % national.RECORDS_MAX
        for u in range(SHAPE.stations)
        for p in range(12)
        for t in range(6)
    )
    assert len(rows) == expected


def test_the_record_indicators_count_them_up_the_tree(nation) -> None:
    root = OrgUnit.objects.get(code=national.ROOT)
    ind = make_indicator(type("T", (), {"province": root}), "nat.filed", "case_filed")
    recompute_record_indicators(user=SYSTEM, indicators=[ind])
    filed = RecordType.objects.get(code="case_filed").pk
    first = nation.periods[0]
    in_first = len(store.read("type_id = ? AND occurred_on <= ?", [filed, parse_period(first).end]))
    at_root = proposals_for(root, [ind], first)["nat.filed"]
    assert at_root.value == in_first == at_root.record_count
