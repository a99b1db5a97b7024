"""Forms locked for a write, and their versions.

A write of figures locks the Submission row of every form it touches before it reads the
form's state, and every state change (submit, return, approve, lock, unlock) locks the same
row: the two never interleave, so an approved form never gains a draft figure. The row's
`version` counts the writes that changed the form; a save made from an older version is
refused with the figures changed since (no lost update).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from duban.indicators.models import DataSet
from duban.orgs.models import OrgUnit
from duban.reporting.errors import ChangedFigure, VersionConflict, user_name
from duban.reporting.models import DataValue, State, Submission

CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits
FormKey = tuple[int, int, str]  # (data set, unit, period)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def execute_many(sql: str, params: Sequence[tuple[Any, ...]], batch: int = 5000) -> None:
    """One statement over many rows of plain tuples (the ORM's per-object compiling of
    bulk_create cost more than all an import's checks)."""
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch):
            cursor.executemany(sql, params[start : start + batch])


def _create_drafts(keys: Sequence[FormKey]) -> None:
    """Insert a draft Submission for each (data set, unit, period); one that a concurrent
    writer created first is left as it is (it waits on the unique index, then skips)."""
    qn = connection.ops.quote_name
    columns = ("data_set_id", "unit_id", "period", "state", "return_reason", "version")
    one = f"({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for part in chunks(keys):  # one statement of many VALUES rows per chunk
            cursor.execute(
                f"INSERT INTO {qn(Submission._meta.db_table)} "
                f"({', '.join(qn(c) for c in columns)}) VALUES {', '.join([one] * len(part))} "
                "ON CONFLICT DO NOTHING",
                [
                    v
                    for ds_id, unit_id, period in part
                    for v in (ds_id, unit_id, period, State.DRAFT.value, "", 0)
                ],
            )


@dataclass
class LockedForm:
    """One (data set, unit, period) while checking: its Submission row as locked for this
    write (`submission_id` None only when nothing will be written), and what blocks it."""

    data_set: DataSet
    unit: OrgUnit
    period: str
    submission_id: int | None
    state: str | None
    version: int
    created: bool = False
    blocker: str | None = None
    wheres: dict[int, str] = field(default_factory=dict)


def read_forms(keys: Iterable[FormKey], *, lock: bool) -> dict[FormKey, tuple[int, str, int]]:
    """(submission id, state, version) of the forms that exist; `lock` takes their rows
    FOR UPDATE, in id order within each chunk so two writers never deadlock."""
    wanted = set(keys)
    found: dict[FormKey, tuple[int, str, int]] = {}
    if not wanted:
        return found
    ds_ids = sorted({k[0] for k in wanted})
    periods = sorted({k[2] for k in wanted})
    for chunk in chunks(sorted({k[1] for k in wanted})):
        qs = Submission.objects.filter(
            data_set_id__in=ds_ids, period__in=periods, unit_id__in=chunk
        ).order_by("pk")
        if lock:
            qs = qs.select_for_update()
        for ds_id, unit_id, period, pk, state, version in qs.values_list(
            "data_set_id", "unit_id", "period", "id", "state", "version"
        ):
            if (ds_id, unit_id, period) in wanted:
                found[(ds_id, unit_id, period)] = (pk, state, version)
    return found


def lock_forms(
    keys: Mapping[FormKey, tuple[DataSet, OrgUnit]], *, write: bool
) -> dict[FormKey, LockedForm]:
    """The forms a write touches. With `write`, every one is locked for the rest of the
    transaction, and a form never saved before is created as a draft first (so there is a
    row to lock; a concurrent creator waits on the unique index and then finds it).
    Without (the write will be refused anyway), states are only read, for the messages."""
    found = read_forms(keys, lock=write)
    missing = [k for k in keys if k not in found]
    if missing and write:
        _create_drafts(missing)
        found.update(read_forms(missing, lock=True))
    created = set(missing) if write else set()
    forms: dict[FormKey, LockedForm] = {}
    for key, (ds, unit) in keys.items():
        row = found.get(key)
        pk, state, version = row if row is not None else (None, None, 0)
        forms[key] = LockedForm(ds, unit, key[2], pk, state, version, key in created)
    return forms


def check_version(
    data_set: DataSet, unit: OrgUnit, period: str, seen: int, forms: dict[FormKey, LockedForm]
) -> None:
    """Refuse a write made from an older version of the scope's one form, naming each figure
    changed since. Checked even when nothing is written: a person about to submit must see
    what others changed first."""
    key = (data_set.pk, unit.pk, period)
    form = forms.get(key)
    if form is None:
        pk, state, current = read_forms([key], lock=True).get(key, (None, None, 0))
        form = LockedForm(data_set, unit, period, pk, state, current)
    if form.version <= seen:
        return
    rows = (
        DataValue.objects.filter(
            unit=unit,
            period=period,
            indicator__memberships__data_set=data_set,
            version__gt=seen,
        )
        .select_related("indicator", "updated_by")
        .order_by("indicator__sort_order", "indicator__code")
    )
    changed = [
        ChangedFigure(
            dv.indicator.code,
            dv.indicator.name,
            dv.value,
            dv.comment,
            user_name(dv.updated_by),
            dv.updated_at,
        )
        for dv in rows
    ]
    raise VersionConflict(changed, seen=seen, version=form.version)
