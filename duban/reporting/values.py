"""The one writer of figures: the form, the API, Excel, CSV and DHIS2 all come here, and so do
the state transitions, the demo loaders and test fixtures.

No other code creates, changes or deletes a DataValue: the model refuses it unless this module
has lifted its guard (`models.figure_writer`), so the year-to-date totals, kept here in the
same transaction as every write, can never be forgotten. The ways in:

- `write_values`: rows from a form or a file, every check (below), then one bulk write.
- `set_form_state`: every figure of one form follows the form's new state (transitions).
- `put_figures` / `remove_figures`: figures on no form, written as given by the system actor
  (the office's assessments in the evaluation demo, test fixtures).

`write_values` takes rows already read from any source (each with `where`: a
field, a line, a cell), checks every one of them against the definitions, the
policy, the entry window and the form's state, runs the data sets' validation
rules on the figures as they would be after the write, and then writes all of
them or none. Checks run on plain dicts loaded once per call, so a file of
100,000 figures costs a handful of queries; the write is bulk_create /
bulk_update plus one compact audit entry per 5,000 changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from duban.audit.services import record
from duban.core.acting import as_user
from duban.core.bulk import copy_rows
from duban.indicators.models import DataSet, Indicator, fmt
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.reporting import year_to_date
from duban.reporting.checks import (
    UNCHANGED,
    Incoming,
    Loaded,
    RawValue,
    Scope,
    accept_rows,
    entry_blocker,
    load_rows,
    read_incoming,
)
from duban.reporting.errors import Problems
from duban.reporting.locking import (
    FormKey,
    LockedForm,
    check_version,
    chunks,
    execute_many,
    lock_forms,
)
from duban.reporting.models import (
    DONE_STATES,
    DataValue,
    State,
    Submission,
    figure_writer,
    is_month,
    year_to_date_key,
)
from duban.reporting.rules import (
    RuleContext,
    check_rules,
    stored_values,
)

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

AUDIT_CHUNK = 5000
PER_UNIT_ENTRIES = 50
# A change whose comment changed too carries two more columns: comment before, comment after.
CHANGE_COLUMNS = (
    "unit",
    "indicator",
    "period",
    "before",
    "after",
    "comment_before",
    "comment_after",
)


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    changes: list[tuple[str, ...]] = field(default_factory=list)
    # (data set, unit, period) → the form's version after the write, for each form changed
    versions: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def write_values(
    rows: Sequence[RawValue],
    *,
    user: Actor,
    today: date | None = None,
    scope: Scope | None = None,
    action: str = "reporting.values.imported",
    reason: str = "",
    version: int | None = None,
) -> WriteResult:
    """Check every row, then write them all in one transaction, or raise listing every problem.

    Every form written is locked (its Submission row, created first where missing) before
    its state is read, so a submit, approval or lock of the same form waits for this write
    or makes it fail; it can never slip in between the check and the write.

    `version`, with a scope of one form: the form's version the writer read; when anyone
    changed the form since, nothing is written and `VersionConflict` names every figure
    changed. `user=SYSTEM` (the demo loader, the benchmark, a feed run from the shell): the
    policy allows it every unit; every other check holds.
    """
    today = today or timezone.localdate()
    if version is not None and (scope is None or len(scope.units) != 1):
        raise ValueError("a version is checked for one form at a time")
    with as_user(user), transaction.atomic():
        plan = _check(rows, user=user, today=today, scope=scope, version=version)
        return _apply(plan, user=user, action=action, reason=reason)


@dataclass
class _Plan:
    creates: list[tuple[int, int, str, Decimal | None, str, str, int]]
    updates: list[tuple[int, Decimal | None, str, str, int]]
    unchanged: int
    forms: dict[FormKey, LockedForm]
    changed_forms: set[FormKey]
    changes: list[tuple[str, ...]]
    rows: int
    unit_ids: dict[str, int]
    counted: set[tuple[int, int, str]]  # (unit, indicator, month) of year-to-date totals touched

    @property
    def new_forms(self) -> list[LockedForm]:
        return [f for f in self.forms.values() if f.created]


def _check(
    rows: Sequence[RawValue],
    *,
    user: Actor,
    today: date,
    scope: Scope | None,
    version: int | None = None,
) -> _Plan:
    problems = Problems()
    loaded = load_rows(rows, user)
    accepted, form_units = accept_rows(rows, loaded, scope, problems)
    forms = lock_forms(form_units, write=not problems.count)
    for key, form in forms.items():
        form.blocker = entry_blocker(
            loaded.windows.get((key[0], key[2])),
            key in loaded.exceptions,
            form.state,
            today,
            key[2],
            form.data_set.code,
        )
    if version is not None and scope is not None:
        unit = OrgUnit.objects.get(code=next(iter(scope.units)))
        check_version(scope.data_set, unit, scope.period, version, forms)
    incoming = read_incoming(accepted, forms, problems)
    problems.raise_if_any()

    # Validation rules see the figures as they would be after the write.
    rule_ds = {f.data_set.pk: f.data_set for f in forms.values()}
    rules = {ds_id: ds.rules() for ds_id, ds in rule_ds.items()}
    members = {ds_id: ds.members() for ds_id, ds in rule_ds.items() if rules[ds_id]}
    extra_ids = {i.pk for ms in members.values() for i in ms}
    stored = stored_values(
        (k[0] for k in incoming), {k[1] for k in incoming} | extra_ids, {k[2] for k in incoming}
    )
    contexts = {ds_id: RuleContext.of(members[ds_id], rules[ds_id]) for ds_id in members}
    given = {k: v[0] for k, v in incoming.items() if v[0] is not UNCHANGED}
    for (ds_id, _unit_id, _period_id), form in forms.items():
        ctx = contexts.get(ds_id)
        if ctx is not None:
            check_rules(form, ctx, stored, given, problems)
    problems.raise_if_any()
    return _plan(incoming, stored, forms, loaded, len(rows))


def _plan(
    incoming: Incoming,
    stored: dict[tuple[int, int, str], tuple[int, Decimal | None, str, str]],
    forms: dict[FormKey, LockedForm],
    loaded: Loaded,
    rows: int,
) -> _Plan:
    """What to insert and update, what changed (for the audit trail), which forms move to a
    new version and which year-to-date totals to refresh."""
    # Year-to-date totals count approved and locked monthly figures only; a write never makes
    # a figure approved, but a stored row may be (data written outside the forms).
    done_forms = any(f.state in DONE_STATES for f in forms.values())
    counted: set[tuple[int, int, str]] = set()
    creates: list[tuple[int, int, str, Decimal | None, str, str, int]] = []
    updates: list[tuple[int, Decimal | None, str, str, int]] = []
    changes: list[tuple[str, ...]] = []
    changed_forms: set[FormKey] = set()
    unchanged = 0
    unit_code = {u.pk: u.code for u in loaded.units.values()}
    ind_code = {i.pk: i.code for i in loaded.indicators.values()}
    for (unit_id, ind_id, period_id), (value, comment, _where) in incoming.items():
        form_key = (loaded.member_ds[ind_id], unit_id, period_id)
        form = forms[form_key]
        state = form.state or State.DRAFT
        new_version = form.version + 1
        old = stored.get((unit_id, ind_id, period_id))
        code = ind_code[ind_id]
        if old is None:
            if value is UNCHANGED:
                value = None
            if value is None and not comment:
                unchanged += 1
                continue
            creates.append((unit_id, ind_id, period_id, value, comment or "", state, new_version))
            changed_forms.add(form_key)
            if done_forms:
                counted |= year_to_date_key(unit_id, ind_id, period_id, state)
            change: tuple[str, ...] = (unit_code[unit_id], code, period_id, "", fmt(value))
            changes.append((*change, "", comment) if comment else change)
            continue
        pk, old_value, old_comment, old_state = old
        if value is UNCHANGED:
            value = old_value
        new_comment = old_comment if comment is None else comment
        if (
            old_value == value
            and new_comment == old_comment
            and (old_value is None) == (value is None)
        ):
            unchanged += 1
            continue
        updates.append((pk, value, new_comment, state, new_version))
        changed_forms.add(form_key)
        if old_state in DONE_STATES or state in DONE_STATES:
            counted |= year_to_date_key(unit_id, ind_id, period_id, old_state)
            counted |= year_to_date_key(unit_id, ind_id, period_id, state)
        change = (unit_code[unit_id], code, period_id, fmt(old_value), fmt(value))
        changes.append(
            (*change, old_comment, new_comment) if new_comment != old_comment else change
        )
    return _Plan(
        creates,
        updates,
        unchanged,
        forms,
        changed_forms,
        changes,
        rows,
        {u.code: u.pk for u in loaded.units.values()},
        counted,
    )


def _apply(plan: _Plan, *, user: Actor, action: str, reason: str) -> WriteResult:
    """Write the checked plan. Figures go in through executemany with values prepared by the
    fields themselves: bulk_create's per-object SQL compiling costs more than all the checks."""
    now = timezone.now()
    user_id = user.pk  # None for the system
    meta = DataValue._meta
    prep_now = meta.get_field("updated_at").get_db_prep_save(now, connection)
    # Values are Decimals already checked to fit the column; both drivers take them as they are.
    qn = connection.ops.quote_name
    if plan.new_forms:  # created (and locked) while checking; recorded here with the write
        record(
            "reporting.submissions.created",
            object_type="reporting.submission",
            object_repr=f"{len(plan.new_forms)} draft forms",
            after={"forms": [[f.data_set.code, f.unit.code, f.period] for f in plan.new_forms]},
            reason=reason or None,
        )
    if plan.creates:
        columns = [
            cast(str, cast(Field, meta.get_field(f)).column)
            for f in (
                "unit",
                "indicator",
                "period",
                "value",
                "comment",
                "state",
                "version",
                "updated_at",
                "updated_by",
            )
        ]
        _insert(
            meta.db_table,
            columns,
            [(u, i, p, v, c, s, n, prep_now, user_id) for u, i, p, v, c, s, n in plan.creates],
        )
    if plan.updates:
        cols = ("value", "comment", "state", "version", "updated_at", "updated_by_id")
        sql = (
            f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(c)} = %s' for c in cols)} "
            f"WHERE {qn('id')} = %s"
        )
        execute_many(sql, [(v, c, s, n, prep_now, user_id, pk) for pk, v, c, s, n in plan.updates])
    versions: dict[tuple[str, str, str], int] = {}
    if plan.changed_forms:
        bumped = [plan.forms[k] for k in sorted(plan.changed_forms)]
        # Each form's row is locked since its version was read, so +1 in SQL is the version
        # read + 1; one statement per chunk of ids instead of one per form.
        with connection.cursor() as cursor:
            for ids in chunks(sorted(f.submission_id for f in bumped)):
                cursor.execute(
                    f"UPDATE {qn(Submission._meta.db_table)} "
                    f"SET {qn('version')} = {qn('version')} + 1 "
                    f"WHERE {qn('id')} IN ({', '.join(['%s'] * len(ids))})",
                    list(ids),
                )
        versions = {(f.data_set.code, f.unit.code, f.period): f.version + 1 for f in bumped}
    _audit_changes(plan, action, reason)
    if plan.counted:  # after the audit entries: see year_to_date.refresh on concurrency
        year_to_date.refresh(plan.counted)
    return WriteResult(
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        rows=plan.rows,
        changes=plan.changes,
        versions=versions,
    )


INSERT_ROWS = 500  # rows per many-row INSERT on SQLite (within its variable limit, below)


def _insert(table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """New figures as plain tuples. PostgreSQL takes a COPY (as the year-to-date totals do),
    several times faster than executemany. SQLite runs one prepared INSERT of many VALUES
    rows over them: a third less CPU than a statement per row (measured on 100,000 figures:
    0.55 s against 0.80 s), as each row's statement step and reset is most of the cost."""
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    if copy_rows(qn(table), names, rows):
        return
    one = f"({', '.join(['%s'] * len(columns))})"
    size = max(1, min(INSERT_ROWS, _max_params() // len(columns)))
    whole = len(rows) - len(rows) % size
    if whole:
        execute_many(
            f"INSERT INTO {qn(table)} ({names}) VALUES {', '.join([one] * size)}",
            [
                tuple(chain.from_iterable(rows[start : start + size]))
                for start in range(0, whole, size)
            ],
            batch=20,
        )
    if whole < len(rows):
        rest = rows[whole:]
        execute_many(
            f"INSERT INTO {qn(table)} ({names}) VALUES {', '.join([one] * len(rest))}",
            [tuple(chain.from_iterable(rest))],
        )


def _max_params() -> int:
    """How many parameters one statement may carry: SQLite's own limit where the driver can
    say (32,766 since 3.32), else the 999 Django assumes; other databases: Django's figure."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        getlimit = getattr(connection.connection, "getlimit", None)  # Python 3.11+
        if getlimit is not None:
            return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return connection.features.max_query_params or 999


def _audit_changes(plan: _Plan, action: str, reason: str) -> None:
    """Compact audit entries listing every change as (unit, indicator, period, before, after).

    A write touching few units (a form, a template) gets one entry per unit, so
    each unit's history page shows it; a large import gets one entry per 5,000
    changes in unit order, attributed to a unit when a chunk holds only one.
    """
    changes = sorted(plan.changes)
    by_unit: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for change in changes:
        by_unit[change[0]].append(change)
    if len(by_unit) <= PER_UNIT_ENTRIES:
        parts = [part for group in by_unit.values() for part in chunks(group, AUDIT_CHUNK)]
    else:
        parts = list(chunks(changes, AUDIT_CHUNK))
    for n, chunk in enumerate(parts, start=1):
        units = sorted({c[0] for c in chunk})
        span = units[0] if len(units) == 1 else f"{units[0]}…{units[-1]} ({len(units)} units)"
        part = f", part {n} of {len(parts)}" if len(parts) > 1 else ""
        record(
            action,
            object_type="reporting.datavalue",
            object_repr=f"{span}: {len(chunk)} figures{part}"[:200],
            unit_id=plan.unit_ids.get(units[0]) if len(units) == 1 else None,
            after={"columns": list(CHANGE_COLUMNS), "changes": [list(c) for c in chunk]},
            reason=reason or None,
            jsonable=True,  # codes, periods and figures as text
        )


# The writer's other ways in: a form's state, figures on no form --------------------------------


@contextmanager
def _writing() -> Iterator[None]:
    """Lift the model's guard (`models.figure_writer`) for this module's own ORM writes."""
    token = figure_writer.set(True)
    try:
        yield
    finally:
        figure_writer.reset(token)


def form_figures(sub: Submission) -> Any:
    """The figures of one form: its data set's indicators at its unit and period."""
    codes = [i.pk for i in sub.data_set.members()]
    return DataValue.objects.filter(unit=sub.unit, period=sub.period, indicator_id__in=codes)


def set_form_state(sub: Submission, state: str) -> int:
    """Move every figure of the form to `state` (a transition has moved the form); the
    year-to-date totals follow when any figure enters or leaves approved/locked.

    Runs in the transition's transaction, after its audit entry (whose chain lock orders
    concurrent refreshes, see `year_to_date.refresh`). Returns how many figures moved.
    """
    figures = form_figures(sub)
    # A figure's own state may differ from its form's (one put outside the form), so ask
    # the figures, not the form, whether any enters or leaves approved/locked.
    done = [str(s) for s in DONE_STATES]
    crossing = (
        figures.exclude(state__in=done) if state in DONE_STATES else figures.filter(state__in=done)
    )
    moves_totals = is_month(sub.period) and crossing.exists()
    with _writing():
        count = figures.update(state=state)
    if moves_totals:
        codes = [i.pk for i in sub.data_set.members()]
        year_to_date.refresh((sub.unit_id, code, sub.period) for code in codes)
    return count


def set_forms_state(data_set: DataSet, forms: Iterable[tuple[int, str, str]]) -> None:
    """Many forms of one data set at once, (unit id, period, state) each: the reporting demo,
    which sets its invented forms' states in bulk. Totals follow for every monthly form."""
    codes = [i.pk for i in data_set.members()]
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for unit_id, period, state in forms:
        groups[(state, period)].append(unit_id)
    with _writing():
        for (state, period), unit_ids in sorted(groups.items()):
            for chunk in chunks(sorted(unit_ids)):
                DataValue.objects.filter(
                    indicator_id__in=codes, period=period, unit_id__in=chunk
                ).update(state=state)
    year_to_date.refresh(
        (unit_id, code, period)
        for (_state, period), unit_ids in groups.items()
        if is_month(period)
        for unit_id in unit_ids
        for code in codes
    )


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure placed as given, outside any form: `put_figures`."""

    unit: OrgUnit
    indicator: Indicator
    period: str
    value: Decimal | None
    state: str = State.APPROVED
    comment: str = ""


def put_figures(
    figures: Sequence[Figure], *, user: Actor, action: str, reason: str = ""
) -> tuple[int, int]:
    """Create or overwrite figures as given, in the state given, without a form's checks:
    the office's assessed figures of the evaluation demo, and test fixtures (through
    `reporting.tests.conftest.put_figure`). Only the system actor may do this.

    Written as `write_values` writes: compact audit entries naming every (unit, indicator,
    period, before, after, comments), one per state (the replay gives each figure the
    entry's state), then the year-to-date totals. Returns (created, updated).
    """
    if not policy.is_system(user):
        raise PermissionDenied("figures are put outside the forms by the system actor only")
    if not figures:
        return 0, 0
    with transaction.atomic():
        stored = _stored_rows(figures)
        now = timezone.now()
        creates: list[DataValue] = []
        updates: list[DataValue] = []
        changes: dict[str, list[list[str]]] = defaultdict(list)
        counted: set[tuple[int, int, str]] = set()
        for f in figures:
            key = (f.unit.pk, f.indicator.pk, f.period)
            row = stored.get(key)
            before, comment_before = ("", "") if row is None else (fmt(row.value), row.comment)
            if row is None:
                row = DataValue(unit=f.unit, indicator=f.indicator, period=f.period)
                creates.append(row)
            else:
                counted |= year_to_date_key(*key, row.state)
                updates.append(row)
            row.value, row.state, row.comment, row.updated_at = f.value, f.state, f.comment, now
            counted |= year_to_date_key(*key, f.state)
            code = f.indicator.code
            change = [f.unit.code, code, f.period, before, fmt(f.value), comment_before, f.comment]
            changes[f.state].append(change)
        with _writing():
            DataValue.objects.bulk_create(creates, batch_size=1000)
            fields = ["value", "state", "comment", "updated_at"]
            DataValue.objects.bulk_update(updates, fields, batch_size=1000)
        for state, rows in sorted(changes.items()):
            for part in chunks(rows, AUDIT_CHUNK):
                record(
                    action,
                    object_type="reporting.datavalue",
                    object_repr=f"{len(part)} figures ({state}), outside the forms",
                    after={"columns": list(CHANGE_COLUMNS), "changes": part, "state": state},
                    reason=reason or None,
                )
        if counted:
            year_to_date.refresh(counted)
    return len(creates), len(updates)


def remove_figures(
    keys: Collection[tuple[OrgUnit, Indicator, str]], *, user: Actor, reason: str = ""
) -> int:
    """Delete figures outside the forms (system only; test fixtures): each deletion is kept
    in the trail as the row's own `reporting.datavalue.deleted` entry, the totals follow."""
    if not policy.is_system(user):
        raise PermissionDenied("figures are removed outside the forms by the system actor only")
    with transaction.atomic():
        wanted = [Figure(unit, ind, period, None) for unit, ind, period in keys]
        rows = list(_stored_rows(wanted).values())
        counted: set[tuple[int, int, str]] = set()
        with _writing():
            for row in rows:
                counted |= year_to_date_key(row.unit_id, row.indicator_id, row.period, row.state)
                row.delete()
        if counted:
            year_to_date.refresh(counted)
    return len(rows)


def _stored_rows(figures: Iterable[Figure]) -> dict[tuple[int, int, str], DataValue]:
    """The stored rows of these figures, locked for the write, by (unit, indicator, period)."""
    wanted = {(f.unit.pk, f.indicator.pk, f.period) for f in figures}
    found: dict[tuple[int, int, str], DataValue] = {}
    for chunk in chunks(sorted({k[0] for k in wanted})):
        qs = DataValue.objects.select_for_update().filter(
            unit_id__in=chunk,
            indicator_id__in={k[1] for k in wanted},
            period__in={k[2] for k in wanted},
        )
        for row in qs.order_by("pk"):
            key = (row.unit_id, row.indicator_id, row.period)
            if key in wanted:
                found[key] = row
    return found
