"""Proposed figures of record indicators: recomputed from the business records, shown in the
unit's form, confirmed or corrected by the reporter.

`recompute_record_indicators` is the one way proposals change: the command (`duban records
recompute`), the background worker (records.jobs) and the tests call it. It runs the one
aggregation of `records.aggregation` into a temporary table and brings `ProposedFigure` in
line with it by three set statements (update what changed, insert what is new, delete what no
record supports any more), so its queries do not grow with the units or the records, and a
second run over the same records changes nothing. A unit with no records in a computed period
has no row: its proposal is 0 (`ProposalPeriod` says the period was computed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.audit.services import record
from duban.core.acting import attributed
from duban.errors import DubanError, Problem
from duban.indicators.models import Indicator
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.records.aggregation import Rule, aggregation_sql, rule_for
from duban.records.models import BusinessRecord, ProposalPeriod, ProposedFigure

if TYPE_CHECKING:
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


def _window(indicators: Sequence[Indicator]) -> tuple[date, date] | None:
    """The first and last day any record of these indicators' types falls on."""
    span = BusinessRecord.objects.filter(
        record_type_id__in={i.record_type_id for i in indicators}
    ).aggregate(lo=Min("occurred_on"), hi=Max("occurred_on"))
    if span["lo"] is None:
        return None
    return span["lo"], span["hi"]


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
    with transaction.atomic():
        # One recompute of an indicator at a time: a second waits for the first to commit.
        list(Indicator.objects.select_for_update().filter(pk__in=[i.pk for i in inds]))
        if start is None or end is None:
            found = _window(inds)
            if found is None:
                return result
            start, end = start or found[0], end or found[1]
        rules = [rule_for(ind, start, end) for ind in inds]
        result.periods = sum(len(r.periods) for r in rules)
        stamp = now or timezone.now()
        _apply(rules, stamp, result)
        if result.changed:
            record(
                "records.proposals.recomputed",
                object_type="records.proposedfigure",
                object_repr=(f"{', '.join(result.indicators)}: {result.changed} proposed figures")[
                    :200
                ],
                after={**result.as_dict(), "from": start.isoformat(), "to": end.isoformat()},
            )
    return result


def _apply(rules: Sequence[Rule], stamp: datetime, result: RecomputeResult) -> None:
    qn = connection.ops.quote_name
    table = qn(ProposedFigure._meta.db_table)
    covered_table = qn(ProposalPeriod._meta.db_table)
    select, params = aggregation_sql(rules)
    covered_rows = ", ".join(["(%s, %s)"] * result.periods)
    covered_params: list[Any] = [
        p for rule in rules for period in rule.periods for p in (rule.indicator.pk, period.id)
    ]
    ind_ids = ", ".join(str(int(r.indicator.pk)) for r in rules)
    with connection.cursor() as cursor:
        for name in (FRESH, COVERED):
            cursor.execute(f"DROP TABLE IF EXISTS {qn(name)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {qn(FRESH)} AS {select}", params)
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
