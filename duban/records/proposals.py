"""Proposed figures of record indicators: recomputed from the business records, shown in the
unit's form, confirmed or corrected by the reporter.

`recompute_record_indicators` is the one way proposals change: the command (`duban records
recompute`), the background worker (records.jobs) and the tests call it. It runs the one
aggregation of `records.aggregation` in DuckDB over the record store, hands its answer to the
database in bulk as a temporary table, and brings `ProposedFigure` in line with it by three
set statements (update what changed, insert what is new, delete what no
record supports any more), so its queries do not grow with the units or the records, and a
second run over the same records changes nothing. A unit with no records in a computed period
has no row: its proposal is 0 (`ProposalPeriod` says the period was computed).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.audit.services import record
from duban.core.acting import attributed
from duban.errors import DubanError, Problem
from duban.indicators.models import Indicator
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.records import store
from duban.records.aggregation import Rule, aggregate, load_units, rule_for
from duban.records.importing import connect
from duban.records.models import ProposalPeriod, ProposedFigure

if TYPE_CHECKING:
    import duckdb

    from duban.orgs.policy import Actor

FRESH = "records_fresh_proposals"
COVERED = "records_covered_periods"


class RecomputeError(DubanError):
    """A recompute that cannot run (an indicator that counts no records, a bad window)."""


@dataclass
class RecomputeResult:
    indicators: list[str] = field(default_factory=list)
    periods: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted

    def as_dict(self) -> dict[str, object]:
        return {
            "indicators": self.indicators,
            "periods": self.periods,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
        }


def record_indicators(codes: Iterable[str] | None = None) -> list[Indicator]:
    """The active record indicators, or those named; an unknown code or one that counts no
    records is refused by name."""
    qs = Indicator.objects.filter(is_active=True, record_type__isnull=False).select_related(
        "issuer", "record_type"
    )
    if codes is None:
        return list(qs.order_by("code"))
    wanted = list(dict.fromkeys(codes))
    found = {i.code: i for i in qs.filter(code__in=wanted)}
    problems = [
        Problem("indicators", _("%(code)s is not an active record indicator") % {"code": c[:64]})
        for c in wanted
        if c not in found
    ]
    if problems:
        raise RecomputeError(problems)
    return [found[c] for c in wanted]


def _window(
    con: duckdb.DuckDBPyConnection, indicators: Sequence[Indicator]
) -> tuple[date, date] | None:
    """The first and last day any record of these indicators' types falls on."""
    types = ", ".join(str(int(i.record_type_id or 0)) for i in indicators)
    row = con.execute(
        f"SELECT min(occurred_on), max(occurred_on) FROM records WHERE type_id IN ({types})"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


@attributed
def recompute_record_indicators(
    *,
    user: Actor,
    indicators: Sequence[Indicator] | None = None,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> RecomputeResult:
    """Bring the proposed figures of `indicators` (default: every active record indicator)
    in line with the business records, for the whole periods holding `start`..`end`
    (default: the first to the last record of their types), in every unit of the tree.

    All or nothing, in one transaction; one audit entry for a run that changes anything.
    The queries are a fixed handful whatever the number of units, records or periods.
    """
    inds = list(indicators) if indicators is not None else record_indicators()
    for ind in inds:
        if not ind.is_record:
            raise RecomputeError(
                _("%(name)s is not counted from business records") % {"name": ind.name},
                "indicators",
            )
        policy.require(user, Action.MANAGE_EVALUATION, ind.issuer)
    if start is not None and end is not None and start > end:
        raise RecomputeError(_("the window ends before it starts"), "end")
    result = RecomputeResult(indicators=[i.code for i in inds])
    if not inds:
        return result
    con = connect()
    try:
        with transaction.atomic():
            # One recompute of an indicator at a time: a second waits for the first to commit.
            list(Indicator.objects.select_for_update().filter(pk__in=[i.pk for i in inds]))
            store.create_view(con)
            if start is None or end is None:
                found = _window(con, inds)
                if found is None:
                    return result
                start, end = start or found[0], end or found[1]
            rules = [rule_for(ind, start, end) for ind in inds]
            result.periods = sum(len(r.periods) for r in rules)
            stamp = now or timezone.now()
            load_units(con)
            aggregate(con, rules, "records")
            _load_fresh(con)
            _apply(rules, stamp, result)
            if result.changed:
                record(
                    "records.proposals.recomputed",
                    object_type="records.proposedfigure",
                    object_repr=(
                        f"{', '.join(result.indicators)}: {result.changed} proposed figures"
                    )[:200],
                    after={**result.as_dict(), "from": start.isoformat(), "to": end.isoformat()},
                )
    finally:
        con.close()
    return result


def _load_fresh(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's `fresh` into the database's temporary table FRESH, in bulk: COPY on
    PostgreSQL, batches of `executemany` on SQLite."""
    qn = connection.ops.quote_name
    columns = "indicator_id, unit_id, period, value, record_count"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(FRESH)}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {qn(FRESH)} (indicator_id bigint, unit_id bigint, "
            "period varchar(16), value decimal(22, 4), record_count bigint)"
        )
        select = f"SELECT {columns} FROM fresh"
        if connection.vendor == "postgresql":
            fd, name = tempfile.mkstemp(prefix="duban-proposals-", suffix=".csv")
            os.close(fd)
            try:
                con.execute(f"COPY ({select}) TO '{name}' (FORMAT csv, HEADER false)")
                with (
                    open(name, "rb") as fh,
                    cursor.cursor.copy(
                        f"COPY {qn(FRESH)} ({columns}) FROM STDIN (FORMAT csv)"
                    ) as copy,
                ):
                    while data := fh.read(1 << 20):
                        copy.write(data)
            finally:
                os.unlink(name)
            cursor.execute(f"ANALYZE {qn(FRESH)}")
            return
        rows = con.execute(
            "SELECT indicator_id, unit_id, period, CAST(value AS VARCHAR), record_count FROM fresh"
        )
        insert = f"INSERT INTO {qn(FRESH)} ({columns}) VALUES (%s, %s, %s, %s, %s)"
        while batch := rows.fetchmany(50_000):
            cursor.executemany(insert, batch)


def _apply(rules: Sequence[Rule], stamp: datetime, result: RecomputeResult) -> None:
    qn = connection.ops.quote_name
    table = qn(ProposedFigure._meta.db_table)
    covered_table = qn(ProposalPeriod._meta.db_table)
    covered_rows = ", ".join(["(%s, %s)"] * result.periods)
    covered_params: list[Any] = [
        p for rule in rules for period in rule.periods for p in (rule.indicator.pk, period.id)
    ]
    ind_ids = ", ".join(str(int(r.indicator.pk)) for r in rules)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(COVERED)}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {qn(COVERED)} (indicator_id bigint, period varchar(16))"
        )
        cursor.execute(f"INSERT INTO {qn(COVERED)} VALUES {covered_rows}", covered_params)
        # The three statements below look rows up in both tables by the same key.
        cursor.execute(
            f"CREATE INDEX {qn(FRESH + '_key')} ON {qn(FRESH)} (indicator_id, unit_id, period)"
        )
        cursor.execute(
            f"CREATE INDEX {qn(COVERED + '_key')} ON {qn(COVERED)} (indicator_id, period)"
        )
        match = "p.indicator_id = f.indicator_id AND p.unit_id = f.unit_id AND p.period = f.period"
        cursor.execute(
            f"UPDATE {table} AS p SET value = f.value, record_count = f.record_count, "
            f"computed_at = %s FROM {qn(FRESH)} AS f WHERE {match} "
            "AND (p.value <> f.value OR p.record_count <> f.record_count)",
            [stamp],
        )
        result.updated = max(cursor.rowcount, 0)
        cursor.execute(
            f"INSERT INTO {table} (indicator_id, unit_id, period, value, record_count, "
            f"computed_at) SELECT f.indicator_id, f.unit_id, f.period, f.value, f.record_count, "
            f"%s FROM {qn(FRESH)} AS f WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} AS p WHERE {match})",
            [stamp],
        )
        result.created = max(cursor.rowcount, 0)
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT p.id FROM {table} AS p "
            f"JOIN {qn(COVERED)} AS c ON c.indicator_id = p.indicator_id AND c.period = p.period "
            f"LEFT JOIN {qn(FRESH)} AS f ON {match} "
            f"WHERE p.indicator_id IN ({ind_ids}) AND f.indicator_id IS NULL)"
        )
        result.deleted = max(cursor.rowcount, 0)
        cursor.execute(
            f"INSERT INTO {covered_table} (indicator_id, period, computed_at) "
            f"SELECT c.indicator_id, c.period, %s FROM {qn(COVERED)} AS c WHERE NOT EXISTS "
            f"(SELECT 1 FROM {covered_table} AS d WHERE d.indicator_id = c.indicator_id "
            "AND d.period = c.period)",
            [stamp],
        )
        for name in (FRESH, COVERED):
            cursor.execute(f"DROP TABLE {qn(name)}")


# Reading, for the form ------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the records say for one unit, indicator and period."""

    value: Decimal
    record_count: int
    computed_at: object = None


def proposals_for(
    unit: OrgUnit, indicators: Sequence[Indicator], period: str
) -> dict[str, Proposal]:
    """The proposals of the record indicators among `indicators` for the unit and period, by
    code: computed ones (0 from 0 records where the period was computed and the unit has no
    records), none for a period never computed. Two queries, whatever the form's size."""
    inds = {i.pk: i for i in indicators if i.is_record}
    if not inds:
        return {}
    covered = dict(
        ProposalPeriod.objects.filter(indicator_id__in=list(inds), period=period).values_list(
            "indicator_id", "computed_at"
        )
    )
    if not covered:
        return {}
    rows = {
        p.indicator_id: p
        for p in ProposedFigure.objects.filter(
            unit=unit, period=period, indicator_id__in=list(covered)
        )
    }
    out: dict[str, Proposal] = {}
    for ind_id, at in covered.items():
        row = rows.get(ind_id)
        ind = inds[ind_id]
        if row is None:
            out[ind.code] = Proposal(Decimal(0), 0, at)
        else:
            out[ind.code] = Proposal(row.value, row.record_count, row.computed_at)
    return out
