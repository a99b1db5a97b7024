"""Stored year-to-date totals of approved and locked monthly figures (`YearToDateTotal`).

Scoring a scheme reads each unit's sums of monthly figures from the start of the
statistical year. Summing the raw monthly rows at every scoring took seconds at
national scale, so a running total per (unit, indicator, month), anchored on
January of the month's named year, is kept beside the figures: a window of
months starting in January is one row per pair, any other window two or three.

Figures have one writer, `reporting.values` (the model refuses every other save):
whenever it changes an approved or locked monthly figure, or moves one into or out
of those states (`set_form_state`, called by the state transitions), it calls
`refresh` with the (unit, indicator, month) it touched, inside its own transaction.
Drafts never enter the totals, so writing them costs nothing here. `verify`
compares the table with a recomputation and `rebuild` writes it from scratch
(`duban year_to_date verify|rebuild`).
"""

from __future__ import annotations

import decimal
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

from duban.core.bulk import copy_rows
from duban.indicators.models import DECIMAL_PLACES
from duban.logs import timed
from duban.reporting.models import DONE_STATES, DataValue, YearToDateTotal, is_month

log = logging.getLogger(__name__)

Key = tuple[int, int, str]  # (unit id, indicator id, monthly period id changed)
Total = tuple[Decimal, int]  # (sum of the values given, months with a value)
Row = tuple[int, int, str, Decimal, int]  # (unit id, indicator id, month, total, months)
U = TypeVar("U")
I = TypeVar("I")  # noqa: E741

CHUNK = 500  # ids per IN (...) list
BATCH = 5000  # rows per executemany
ID_CHUNK = 5000  # unit or indicator ids per read in `sums`: inside both databases' limits
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _table(model: type[Model] = YearToDateTotal) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _marks(items: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(items))


def _running(
    unit_id: int,
    indicator_id: int,
    year: str,
    values: Mapping[int, Decimal],
    start: int = 1,
    base: Total | None = None,
) -> Iterator[Row]:
    """The rows of one (unit, indicator, year) from month `start` on: `values` maps month
    numbers to the values given (none empty), `base` is the stored row of the month before
    `start` (None: nothing given before it)."""
    if base is None:
        if not values:
            return
        start, (total, given) = min(values), (Decimal(0), 0)
    else:
        total, given = base
    for month in range(start, 13):
        value = values.get(month)
        if value is not None:
            total += value
            given += 1
        yield (unit_id, indicator_id, f"{year}{month:02d}", total, given)


def _insert(rows: Sequence[Row], model: type[Model] = YearToDateTotal) -> None:
    """Insert plain tuples: model instances and bulk_create cost more than the sums. SQLite
    runs one prepared statement many times; PostgreSQL takes a COPY, several times faster
    than executemany or many-row INSERTs."""
    if not rows:
        return
    columns = ", ".join(_q(c) for c in ("unit_id", "indicator_id", "month", "total", "months"))
    if copy_rows(_table(model), columns, rows):
        return
    with connection.cursor() as cursor:
        sql = f"INSERT INTO {_table(model)} ({columns}) VALUES (%s, %s, %s, %s, %s)"
        for batch in _chunks(rows, BATCH):
            cursor.executemany(sql, batch)


def _done_monthly(
    unit_ids: Sequence[int], indicator_ids: Sequence[int], months: Sequence[str]
) -> Iterator[tuple[int, int, str, Decimal | None]]:
    rows = DataValue.objects.filter(
        unit_id__in=unit_ids,
        indicator_id__in=indicator_ids,
        period__in=months,
        state__in=[str(s) for s in DONE_STATES],
        value__isnull=False,
    ).values_list("unit_id", "indicator_id", "period", "value")
    yield from rows.iterator(chunk_size=20000)


def refresh(keys: Iterable[Key]) -> None:
    """Recompute the rows of these (unit, indicator, month) from the approved and locked
    monthly figures: the month changed, and with it every later month of its named year.
    Runs in the caller's transaction.

    Keys are grouped into exact unit × indicator blocks (units sharing one set of
    indicators in one year), each rewritten from its earliest month on: one DELETE, a read
    of the stored row before that month and of the figures from it, one insert. Approving
    a form of 150 indicators for October rewrites 450 rows (October to December).

    Two transactions refreshing one unit's indicator must not interleave (each would
    build on the other's stale rows). Every caller but the demo loaders (which run alone)
    has written an audit entry first, and the audit chain's head row lock serialises
    writers on PostgreSQL until they commit, so the reads here see the other's committed
    figures; SQLite serialises writers anyway.
    """
    by_unit: dict[tuple[str, int], tuple[set[int], list[str]]] = {}
    for unit_id, indicator_id, month in keys:
        entry = by_unit.get((month[:4], unit_id))
        if entry is None:
            entry = by_unit[(month[:4], unit_id)] = (set(), [month])
        entry[0].add(indicator_id)
        entry[1][0] = min(entry[1][0], month)
    blocks: dict[tuple[str, frozenset[int]], list[tuple[int, str]]] = defaultdict(list)
    for (year, unit_id), (indicator_set, first) in by_unit.items():
        blocks[(year, frozenset(indicator_set))].append((unit_id, first[0]))
    for (year, indicator_ids), unit_list in blocks.items():
        for units in _chunks(sorted(unit_list)):
            start = min(month for _unit_id, month in units)
            for indicators in _chunks(sorted(indicator_ids)):
                _refresh_block(year, [u for u, _month in units], indicators, start)


def _refresh_block(
    year: str, unit_ids: Sequence[int], indicator_ids: Sequence[int], start: str
) -> None:
    """Rewrite the rows of `start` … December from the stored row of the month before (none
    of the earlier figures changed) and the figures of `start` … December."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_table()} WHERE {_q('unit_id')} IN ({_marks(unit_ids)}) "
            f"AND {_q('indicator_id')} IN ({_marks(indicator_ids)}) "
            f"AND {_q('month')} BETWEEN %s AND %s",
            [*unit_ids, *indicator_ids, start, f"{year}12"],
        )
    first = int(start[4:])
    bases: dict[tuple[int, int], Total] = {}
    if first > 1:
        before = (
            YearToDateTotal.objects.filter(
                unit_id__in=unit_ids, indicator_id__in=indicator_ids, month=f"{year}{first - 1:02d}"
            )
            .order_by()
            .values_list("unit_id", "indicator_id", "total", "months")
        )
        bases = {(u, i): (total, given) for u, i, total, given in before}
    months = [f"{year}{m:02d}" for m in range(first, 13)]
    given: dict[tuple[int, int], dict[int, Decimal]] = defaultdict(dict)
    for unit_id, indicator_id, period, value in _done_monthly(unit_ids, indicator_ids, months):
        if value is not None:  # filtered in the query; for the type checker
            given[(unit_id, indicator_id)][int(period[4:])] = value
    rows: list[Row] = []
    for pair in given.keys() | bases.keys():
        rows.extend(_running(*pair, year, given.get(pair, {}), first, bases.get(pair)))
    _insert(rows)


def expected_rows(value_model: type[Model] = DataValue) -> Iterator[Row]:
    """Every row the table should hold, recomputed from the figures, in (unit, indicator,
    month) order; streamed, so national data is never held in memory at once."""
    figures = (
        value_model._default_manager.filter(
            state__in=[str(s) for s in DONE_STATES], value__isnull=False
        )
        .order_by("unit_id", "indicator_id", "period")
        .values_list("unit_id", "indicator_id", "period", "value")
    )
    current: tuple[int, int, str] | None = None
    values: dict[int, Decimal] = {}
    for unit_id, indicator_id, period, value in figures.iterator(chunk_size=20000):
        if not is_month(period):
            continue
        key = (unit_id, indicator_id, period[:4])
        if key != current:
            if current is not None:
                yield from _running(*current, values)
            current, values = key, {}
        values[int(period[4:])] = value
    if current is not None:
        yield from _running(*current, values)


def rebuild(
    value_model: type[Model] = DataValue, total_model: type[Model] = YearToDateTotal
) -> int:
    """Write every row from scratch (in the caller's transaction); the number written.

    The migration that creates the table passes its historical models.
    """
    with timed(log, "year-to-date rebuild") as out:
        out["rows"] = _rebuild(value_model, total_model)
    return int(out["rows"])


def _rebuild(value_model: type[Model], total_model: type[Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(total_model)}")
    written = 0
    batch: list[Row] = []
    for row in expected_rows(value_model):
        batch.append(row)
        if len(batch) >= BATCH:
            _insert(batch, total_model)
            written += len(batch)
            batch = []
    _insert(batch, total_model)
    return written + len(batch)


@dataclass(frozen=True)
class Difference:
    """A stored row that disagrees with the recomputation; None where a row is absent."""

    unit_id: int
    indicator_id: int
    month: str
    stored: Total | None
    expected: Total | None


def _stored_rows() -> Iterator[Row]:
    return (
        YearToDateTotal.objects.order_by("unit_id", "indicator_id", "month")
        .values_list("unit_id", "indicator_id", "month", "total", "months")
        .iterator(chunk_size=20000)
    )


def verify() -> list[Difference]:
    """Compare the stored rows with a recomputation from the figures; [] when they agree.

    Both sides are read in (unit, indicator, month) order and merged, so this runs in
    constant memory. The recomputed totals are compared as the database stores them
    (SQLite keeps 15 significant digits).
    """
    as_stored = _as_stored()
    found: list[Difference] = []
    stored, expected = _stored_rows(), expected_rows()
    s, e = next(stored, None), next(expected, None)
    while s is not None or e is not None:
        if e is None or (s is not None and s[:3] < e[:3]):
            assert s is not None
            found.append(Difference(s[0], s[1], s[2], (s[3], s[4]), None))
            s = next(stored, None)
        elif s is None or e[:3] < s[:3]:
            found.append(Difference(e[0], e[1], e[2], None, (as_stored(e[3]), e[4])))
            e = next(expected, None)
        else:
            want = (as_stored(e[3]), e[4])
            if (s[3], s[4]) != want:
                found.append(Difference(s[0], s[1], s[2], (s[3], s[4]), want))
            s, e = next(stored, None), next(expected, None)
    return found


def _to_decimal() -> Callable[[Any], Decimal]:
    """How a `total` read by a raw cursor becomes the Decimal the ORM would give: SQLite
    returns a float or int, converted as Django's DecimalField converter does; PostgreSQL
    the numeric as text (see `_read`), with its six decimal places."""
    if connection.vendor != "sqlite":
        return Decimal
    create = decimal.Context(prec=15).create_decimal_from_float
    context = YearToDateTotal._meta.get_field("total").context  # type: ignore[attr-defined]
    quantum = _QUANTUM

    def read(value: Any) -> Decimal:
        return create(value).quantize(quantum, context=context)

    return read


class _Converted(dict[Any, Decimal]):
    """`_to_decimal` remembering what it converted: totals repeat and a float costs ~1 µs,
    and a hit is a dictionary lookup made in C (``map(converted.__getitem__, totals)``)."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[Any], Decimal]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, raw: Any) -> Decimal:
        found = self[raw] = self.convert(raw)
        return found


def _as_stored() -> Callable[[Decimal], Decimal]:
    read = _to_decimal()
    if connection.vendor != "sqlite":
        return lambda value: value.quantize(_QUANTUM)
    return lambda value: read(float(value))


def sums(
    unit_ids: Collection[int], indicator_ids: Collection[int], months: Sequence[str]
) -> dict[int, dict[int, Total]]:
    """indicator id → unit id → (sum, months with a value) over the monthly ids `months`.

    Only pairs with at least one value are present (absent = missing). See `keyed_sums`.
    """
    return keyed_sums({u: u for u in unit_ids}, {i: i for i in indicator_ids}, months)


def _segments(months: Sequence[str]) -> list[tuple[str, str]]:
    """Runs of consecutive months inside one named year: (first, last)."""
    ordered = sorted(set(months))
    runs: list[tuple[str, str]] = []
    for month in ordered:
        if not is_month(month) or not 1 <= int(month[4:]) <= 12:
            raise ValueError(f"{month!r} is not a monthly period id")
        if runs:
            first, last = runs[-1]
            if last[:4] == month[:4] and int(last[4:]) + 1 == int(month[4:]):
                runs[-1] = (first, month)
                continue
        runs.append((month, month))
    return runs


def _terms(months: Sequence[str]) -> list[tuple[str, int]]:
    """The stored months to add (+1) and subtract (−1) for the window `months`."""
    runs = _segments(months)
    terms = [(last, 1) for _first, last in runs]
    return terms + [(f"{int(first) - 1}", -1) for first, _last in runs if not first.endswith("01")]


def sum_columns(
    unit_ids: Collection[int], indicators: Mapping[int, I], months: Sequence[str]
) -> tuple[dict[I, dict[int, Decimal]], dict[I, dict[int, int]]]:
    """`keyed_sums` as two columns keyed by unit id: indicator → unit id → sum, and
    indicator → unit id → months with a value. A pair with no value is in neither.

    A window starting in January (the common case) is read one indicator at a time and
    zipped into the answer in C, with no Python statement and no tuple per pair: the
    national year (450,000 pairs) is read in about 0.2 s, most of it the database's.
    """
    terms = _terms(months)
    totals: dict[I, dict[int, Decimal]] = {}
    given: dict[I, dict[int, int]] = {}
    if not terms or not unit_ids or not indicators:
        return totals, given
    if len(terms) > 1:
        for key, pairs in _over_terms({u: u for u in unit_ids}, indicators, terms).items():
            totals[key] = {unit: total for unit, (total, _) in pairs.items()}
            given[key] = {unit: count for unit, (_, count) in pairs.items()}
        return totals, given
    read = _Converted(_to_decimal()).__getitem__
    asked = unit_ids if isinstance(unit_ids, Set) else frozenset(unit_ids)
    for indicator_id, ids, sums, counts in _read(asked, indicators, terms[0][0]):
        of_totals = dict(zip(ids, map(read, sums), strict=True))
        of_given = dict(zip(ids, counts, strict=True))
        if 0 in counts:  # a row can hold 0 months: nothing given yet
            for unit, count in list(of_given.items()):
                if not count:
                    del of_totals[unit], of_given[unit]
        for unit in of_given.keys() - asked:  # inside an id range, not asked
            del of_totals[unit], of_given[unit]
        if of_given:
            key = indicators[indicator_id]
            totals.setdefault(key, {}).update(of_totals)
            given.setdefault(key, {}).update(of_given)
    return totals, given


def keyed_sums(
    units: Mapping[int, U], indicators: Mapping[int, I], months: Sequence[str]
) -> dict[I, dict[U, Total]]:
    """`sums`, keyed by what `units` and `indicators` map the ids to (e.g. their codes).

    Each run of consecutive months a..b inside one named year is R(b) − R(a−1), R the
    stored running total (R(a−1) = 0 when a is January, and an absent row is 0); a window
    spanning two years (a July–June statistical year) is two runs. A window starting in
    January therefore reads one row per pair (see `sum_columns`).
    """
    terms = _terms(months)
    if not terms or not units or not indicators:
        return {}
    found: dict[I, dict[U, Total]] = {}
    if len(terms) == 1:
        totals, given = sum_columns(units.keys(), indicators, months)
        for key, of_given in given.items():
            of_totals = totals[key]
            found[key] = {units[unit]: (of_totals[unit], count) for unit, count in of_given.items()}
        return found
    return _over_terms(units, indicators, terms)


def _over_terms(
    units: Mapping[int, U], indicators: Mapping[int, I], terms: list[tuple[str, int]]
) -> dict[I, dict[U, Total]]:
    """A window of several terms (not starting in January, or spanning two named years):
    the stored rows added and subtracted month by month, per indicator in index order."""
    found: dict[I, dict[U, Total]] = {}
    read = _Converted(_to_decimal()).__getitem__
    unit_of = units.get
    acc: dict[int, dict[U, Total]] = {}
    for month, sign in terms:
        for indicator_id, unit_ids, sums, counts in _read(units, indicators, month):
            of_indicator = acc.get(indicator_id)
            if of_indicator is None:
                of_indicator = acc[indicator_id] = {}
            for unit_id, total, months_given in zip(unit_ids, sums, counts, strict=True):
                unit = unit_of(unit_id)
                if unit is None:
                    continue
                value, old = read(total), of_indicator.get(unit)
                if sign > 0:
                    of_indicator[unit] = (
                        (value, months_given)
                        if old is None
                        else (old[0] + value, old[1] + months_given)
                    )
                else:
                    of_indicator[unit] = (
                        (-value, -months_given)
                        if old is None
                        else (old[0] - value, old[1] - months_given)
                    )
    for indicator_id, of_indicator in acc.items():
        kept = {unit: entry for unit, entry in of_indicator.items() if entry[1]}
        if kept:
            found[indicators[indicator_id]] = kept
    return found


def _read(
    unit_ids: Collection[int], indicator_ids: Collection[int], month: str
) -> Iterator[tuple[int, tuple[int, ...], tuple[Any, ...], tuple[int, ...]]]:
    """(indicator, unit ids, totals, months) columns of one month, one indicator at a time,
    through the covering index (month, indicator, unit, total, months).

    A run of unit ids with few gaps is asked as a range (an index range scan is several
    times cheaper than thousands of IN probes); rows of units inside the range that were
    not asked come back too, and the caller drops them. One query per indicator reads
    three columns instead of four and needs no grouping afterwards: on both databases
    it is faster than one query over every indicator.
    """
    total = _q("total")
    if connection.vendor == "postgresql":  # psycopg's numeric loader costs more than the rest
        total = f"CAST({total} AS TEXT)"
    cols = f"{_q('unit_id')}, {total}, {_q('months')}"
    with connection.cursor() as cursor:
        for units in _chunks(sorted(unit_ids), ID_CHUNK):
            if units[-1] - units[0] < 2 * len(units):
                unit_sql, unit_params = f"{_q('unit_id')} BETWEEN %s AND %s", [units[0], units[-1]]
            else:
                unit_sql, unit_params = f"{_q('unit_id')} IN ({_marks(units)})", list(units)
            sql = (
                f"SELECT {cols} FROM {_table()} WHERE {_q('month')} = %s "
                f"AND {_q('indicator_id')} = %s AND {unit_sql}"
            )
            for indicator_id in sorted(indicator_ids):
                cursor.execute(sql, [month, indicator_id, *unit_params])
                rows = cursor.fetchall()
                if rows:
                    ids, totals, given = zip(*rows, strict=True)
                    yield indicator_id, ids, totals, given
