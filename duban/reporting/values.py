"""The one way figures are written: the form, the API, Excel, CSV and DHIS2 all come here.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from duban.audit.services import record
from duban.core.acting import as_user
from duban.indicators.models import DataSet, DataSetMember, Indicator, fmt
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, parse_period
from duban.reporting import year_to_date
from duban.reporting.errors import Problems
from duban.reporting.locking import FormKey, LockedForm, check_version, chunks, lock_forms
from duban.reporting.models import (
    DONE_STATES,
    EDITABLE_STATES,
    DataValue,
    LockException,
    ReportingPeriod,
    State,
    Submission,
    year_to_date_key,
)
from duban.reporting.rules import (
    RuleContext,
    check_rules,
    stored_values,
)
from duban.text import control_character_message

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


class _Unchanged:
    """The value of a row that gives only a comment: the stored figure stays as it is."""

    def __repr__(self) -> str:
        return "UNCHANGED"


# A missing value means "unchanged"; None (an explicit null, an emptied cell) means "clear".
UNCHANGED: Any = _Unchanged()


@dataclass(slots=True)
class RawValue:
    """One figure as read from a source, before any check. `value=UNCHANGED` keeps the stored
    figure, `value=None` clears it; `comment=None` keeps the stored comment."""

    where: str
    indicator: str
    period: str
    unit: str
    value: object
    comment: str | None = None
    # Spreadsheets: the column letter of each field and the row, so a problem names its cell.
    columns: Mapping[str, str] | None = None
    row: int = 0

    def at(self, name: str) -> str:
        if self.columns is not None and name in self.columns:
            return f"{self.columns.get('_sheet', '')}{self.columns[name]}{self.row}"
        return self.where


@dataclass(frozen=True)
class Scope:
    """What an upload at one form may touch: one data set and period, these units."""

    data_set: DataSet
    period: str
    units: frozenset[str]


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


def entry_blocker(
    rp: ReportingPeriod | None,
    excepted: bool,
    state: str | None,
    today: date,
    period: str,
    ds_code: str,
) -> str | None:
    """Why a form cannot be written now, or None. Every reason here answers 409."""
    if state is not None and state not in EDITABLE_STATES:
        return {
            State.SUBMITTED: "the form is submitted and waits for approval; the approver can return it",
            State.APPROVED: "the figures are approved; only an audited unlock by the office reopens them",
            State.LOCKED: "the figures are locked by the evaluation office; only an audited unlock reopens them",
        }[State(state)]
    if rp is None:
        return f"period {period} is not open for data set {ds_code}"
    status = rp.entry_state(today)
    if status == "not_open":
        return f"entry for {period} opens on {rp.opens_on.isoformat()}"
    if status in ("expired", "closed") and not excepted:
        if status == "closed":
            return f"the office closed entry for {period}; it may grant a lock exception"
        assert rp.closes_on is not None
        return (
            f"entry for {period} expired after {rp.closes_on.isoformat()};"
            " the office may grant a lock exception"
        )
    return None


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


@dataclass
class _Loaded:
    """What a write's rows name, loaded once per write in a handful of queries."""

    indicators: dict[str, Indicator]
    member_ds: dict[int, int]  # indicator id → its data set
    data_sets: dict[int, DataSet]
    units: dict[str, OrgUnit]
    periods: dict[str, Period | str]  # the text as given → the period, or why it is none
    enterable: set[int] | None  # units the user may enter; None: the system
    windows: dict[tuple[int, str], ReportingPeriod]
    exceptions: set[FormKey]


def _load(rows: Sequence[RawValue], user: Actor) -> _Loaded:
    indicators = {
        i.code: i
        for codes in chunks(sorted({r.indicator for r in rows}))
        for i in Indicator.objects.select_related("issuer").filter(code__in=codes)
    }
    member_ds = dict(
        DataSetMember.objects.filter(indicator__in=indicators.values()).values_list(
            "indicator_id", "data_set_id"
        )
    )
    data_sets = {
        d.pk: d
        for d in DataSet.objects.select_related("owner").filter(pk__in=set(member_ds.values()))
    }
    units = {
        u.code: u
        for codes in chunks(sorted({r.unit for r in rows}))
        for u in OrgUnit.objects.filter(code__in=codes)
    }
    periods: dict[str, Period | str] = {}
    for text in {r.period for r in rows}:
        try:
            periods[text] = parse_period(text)
        except (ValueError, TypeError) as exc:
            periods[text] = str(exc)
    enterable: set[int] | None = None  # None: the system, which may enter for any unit
    if not policy.is_system(user):
        reach = policy.visible_units(user, Action.ENTER_DATA)
        enterable = {
            pk
            for ids in chunks([u.pk for u in units.values()])
            for pk in reach.filter(pk__in=ids).values_list("pk", flat=True)
        }
    ds_ids = list(data_sets)
    canonical = sorted({p.id for p in periods.values() if isinstance(p, Period)})
    windows = {
        (rp.data_set_id, rp.period): rp
        for rp in ReportingPeriod.objects.filter(data_set_id__in=ds_ids, period__in=canonical)
    }
    exceptions: set[FormKey] = set()
    for chunk in chunks([u.pk for u in units.values()]):
        exceptions.update(
            LockException.objects.filter(
                data_set_id__in=ds_ids, period__in=canonical, unit_id__in=chunk
            ).values_list("data_set_id", "unit_id", "period")
        )
    return _Loaded(indicators, member_ds, data_sets, units, periods, enterable, windows, exceptions)


_Accepted = tuple[RawValue, Indicator, int, FormKey]


def _accept(
    rows: Sequence[RawValue], loaded: _Loaded, scope: Scope | None, problems: Problems
) -> tuple[list[_Accepted], dict[FormKey, tuple[DataSet, OrgUnit]]]:
    """The rows whose codes, period, form and unit the user may write, and their forms."""
    reports: dict[tuple[int, int], bool] = {}
    form_units: dict[FormKey, tuple[DataSet, OrgUnit]] = {}
    accepted: list[_Accepted] = []
    # What depends on (indicator, period) or (indicator, unit) alone is worked out once per pair;
    # each row then costs a few dict lookups.
    pairs: dict[tuple[str, str], tuple[Indicator, int, str, DataSet, int] | tuple[str, str]] = {}
    for row in rows:
        where = row.where
        pair = pairs.get((row.indicator, row.period))
        if pair is None:
            pair = pairs[(row.indicator, row.period)] = _pair(
                loaded.indicators.get(row.indicator),
                row.indicator,
                loaded.periods.get(row.period),
                row.period,
                loaded.member_ds,
                loaded.data_sets,
            )
        unit = loaded.units.get(row.unit)
        if len(pair) == 2 or unit is None:  # a (field, message) pair or no unit
            if len(pair) == 2:
                problems.add(row.at(pair[0]), pair[1])  # type: ignore[arg-type]
            if unit is None:
                problems.add(
                    row.at("unit"),
                    f"unknown unit code {row.unit!r}" if row.unit else "no unit code",
                )
            continue
        ind, ind_id, period_id, ds, ds_id = pair  # type: ignore[misc]
        if scope is not None and (
            ds_id != scope.data_set.pk or period_id != scope.period or row.unit not in scope.units
        ):
            problems.add(
                where,
                f"{row.unit} {ind.code} {period_id} is not on this form "
                f"({scope.data_set.code} {scope.period})",
            )
            continue
        key_r = (ind_id, unit.pk)
        reported = reports.get(key_r)
        if reported is None:
            reported = reports[key_r] = ind.reported_by(unit)
        if not reported:
            problems.add(where, f"{row.unit} does not report {ind.code}")
            continue
        if loaded.enterable is not None and unit.pk not in loaded.enterable:
            problems.deny(where, row.unit)
            continue
        form_key = (ds_id, unit.pk, period_id)
        if form_key not in form_units:
            form_units[form_key] = (ds, unit)
        accepted.append((row, ind, ind_id, form_key))
    return accepted, form_units


Incoming = dict[tuple[int, int, str], tuple[Any, str | None, str]]


def _read_values(
    accepted: list[_Accepted], forms: dict[FormKey, LockedForm], problems: Problems
) -> Incoming:
    """(unit, indicator, period) → (value or UNCHANGED, comment or None, where) of every row
    whose form is open for it and whose value and comment are good."""
    incoming: Incoming = {}
    for row, ind, ind_id, form_key in accepted:
        where = row.where
        form = forms[form_key]
        period_id = form_key[2]
        if form.blocker is not None:
            problems.add(where, f"{row.unit} {period_id}: {form.blocker}", conflict=True)
            continue
        value: Any = UNCHANGED
        if row.value is not UNCHANGED:
            try:
                value = ind.clean_value(row.value)
            except ValueError as exc:
                problems.add(where, f"{ind.code}: {exc}")
                continue
        comment = None
        if row.comment is not None:
            bad = control_character_message(row.comment)
            if bad is not None:  # bulk writes never meet the pre_save check: checked here
                problems.add(row.at("comment"), bad)
                continue
            comment = row.comment.strip()[:500]
        key = (form_key[1], ind_id, period_id)
        if key in incoming:
            problems.add(
                where, f"{row.unit} {ind.code} {period_id} is also given at {incoming[key][2]}"
            )
            continue
        incoming[key] = (value, comment, where)
        form.wheres[ind_id] = where
    return incoming


def _check(
    rows: Sequence[RawValue],
    *,
    user: Actor,
    today: date,
    scope: Scope | None,
    version: int | None = None,
) -> _Plan:
    problems = Problems()
    loaded = _load(rows, user)
    accepted, form_units = _accept(rows, loaded, scope, problems)
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
    incoming = _read_values(accepted, forms, problems)
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
    loaded: _Loaded,
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


def _pair(
    ind: Indicator | None,
    code: str,
    period: Period | str | None,
    text: str,
    member_ds: dict[int, int],
    data_sets: dict[int, DataSet],
) -> tuple[Indicator, int, str, DataSet, int] | tuple[str, str]:
    """Check an (indicator, period) pair: the indicator, its id, the period id and its data
    set, or the (field, message) of what is wrong."""
    if ind is None:
        return ("indicator", f"unknown indicator code {code!r}" if code else "no indicator code")
    if not isinstance(period, Period):
        return ("period", str(period) if text else "no period")
    if ind.is_computed:
        return ("value", f"{ind.code} is computed from its formula; it is never entered")
    if period.type != ind.period_type:
        return ("period", f"{ind.code} is reported per {ind.period_type} period, not {period.id!r}")
    ds_id = member_ds.get(ind.pk)
    if ds_id is None:
        return ("indicator", f"{ind.code} is on no data set, so no unit reports it")
    return (ind, ind.pk, period.id, data_sets[ds_id], ds_id)


def _execute_many(sql: str, params: list[tuple[Any, ...]], batch: int = 5000) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch):
            cursor.executemany(sql, params[start : start + batch])


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
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        _execute_many(
            sql,
            [(u, i, p, v, c, s, n, prep_now, user_id) for u, i, p, v, c, s, n in plan.creates],
        )
    if plan.updates:
        cols = ("value", "comment", "state", "version", "updated_at", "updated_by_id")
        sql = (
            f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(c)} = %s' for c in cols)} "
            f"WHERE {qn('id')} = %s"
        )
        _execute_many(sql, [(v, c, s, n, prep_now, user_id, pk) for pk, v, c, s, n in plan.updates])
    versions: dict[tuple[str, str, str], int] = {}
    if plan.changed_forms:
        bumped = [plan.forms[k] for k in sorted(plan.changed_forms)]
        _execute_many(
            f"UPDATE {qn(Submission._meta.db_table)} SET {qn('version')} = %s "
            f"WHERE {qn('id')} = %s",
            [(f.version + 1, f.submission_id) for f in bumped],
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
        )
