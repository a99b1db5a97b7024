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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from duban.audit.services import record
from duban.errors import Problem
from duban.indicators.formula import evaluate_all
from duban.indicators.models import DataSet, DataSetMember, Indicator, fmt
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, parse_period
from duban.reporting import year_to_date
from duban.reporting.actor import as_user
from duban.reporting.errors import ReportingConflict, ReportingError
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

if TYPE_CHECKING:
    from duban.accounts.models import User

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
CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits


@dataclass(slots=True)
class RawValue:
    """One figure as read from a source, before any check. `comment=None` keeps the stored one."""

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


class _Problems:
    """Collected problems; the status follows their kind when they are all of one kind:
    403 when every row is outside the user's reach, 409 when every row is settled data."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.conflicts = 0
        self.denied: list[str] = []

    def add(self, where: str, message: str, *, conflict: bool = False) -> None:
        self.items.append(Problem(where, message))
        self.conflicts += conflict

    def deny(self, where: str, unit: str) -> None:
        self.add(where, f"you may not enter figures for {unit}")
        self.denied.append(unit)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.denied) == len(self.items):
            raise PermissionDenied(
                f"you may not enter figures for {', '.join(sorted(set(self.denied)))}"
            )
        if self.conflicts == len(self.items):
            raise ReportingConflict(self.items)
        raise ReportingError(self.items)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_values(
    unit_ids: Iterable[int], indicator_ids: Iterable[int], periods: Iterable[str]
) -> dict[tuple[int, int, str], tuple[int, Decimal | None, str, str]]:
    """(unit, indicator, period) → (pk, value, comment, state), read as plain tuples."""
    units, inds, pers = sorted(set(unit_ids)), sorted(set(indicator_ids)), sorted(set(periods))
    found: dict[tuple[int, int, str], tuple[int, Decimal | None, str, str]] = {}
    if not (units and inds and pers):
        return found
    for unit_chunk in _chunks(units):
        for ind_chunk in _chunks(inds):
            rows = DataValue.objects.filter(
                unit_id__in=unit_chunk, indicator_id__in=ind_chunk, period__in=pers
            ).values_list("unit_id", "indicator_id", "period", "id", "value", "comment", "state")
            for u, i, p, pk, v, c, s in rows.iterator(chunk_size=5000):
                found[(u, i, p)] = (pk, v, c, s)
    return found


@dataclass
class _Form:
    """What is known about one (data set, unit, period) while checking."""

    data_set: DataSet
    unit: OrgUnit
    period: str
    state: str | None
    submission_id: int | None
    wheres: dict[int, str] = field(default_factory=dict)


def write_values(
    rows: Sequence[RawValue],
    *,
    user: User | None,
    today: date | None = None,
    scope: Scope | None = None,
    action: str = "reporting.values.imported",
    reason: str = "",
) -> WriteResult:
    """Check every row, then write them all in one transaction, or raise listing every problem.

    `user=None` is the system (demo loader, benchmark): it skips the policy but
    no other check.
    """
    today = today or timezone.localdate()
    with as_user(user), transaction.atomic():
        plan = _check(rows, user=user, today=today, scope=scope)
        return _apply(plan, user=user, action=action, reason=reason)


@dataclass
class _Plan:
    creates: list[tuple[int, int, str, Decimal | None, str, str]]
    updates: list[tuple[int, Decimal | None, str, str]]
    unchanged: int
    new_forms: list[_Form]
    changes: list[tuple[str, ...]]
    rows: int
    unit_ids: dict[str, int]
    counted: set[tuple[int, int, str]]  # (unit, indicator, month) of year-to-date totals touched


def _check(
    rows: Sequence[RawValue], *, user: User | None, today: date, scope: Scope | None
) -> _Plan:
    problems = _Problems()
    ind_codes = {r.indicator for r in rows}
    unit_codes = {r.unit for r in rows}
    period_ids = {r.period for r in rows}

    indicators = {
        i.code: i for i in Indicator.objects.select_related("issuer").filter(code__in=ind_codes)
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
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=unit_codes)}
    periods: dict[str, Period | str] = {}
    for text in period_ids:
        try:
            periods[text] = parse_period(text)
        except (ValueError, TypeError) as exc:
            periods[text] = str(exc)
    enterable: set[int] | None = None
    if user is not None:
        enterable = set(
            policy.visible_units(user, Action.ENTER_DATA)
            .filter(pk__in=[u.pk for u in units.values()])
            .values_list("pk", flat=True)
        )
    ds_ids = list(data_sets)
    canonical = sorted({p.id for p in periods.values() if isinstance(p, Period)})
    unit_ids = [u.pk for u in units.values()]
    windows = {
        (rp.data_set_id, rp.period): rp
        for rp in ReportingPeriod.objects.filter(data_set_id__in=ds_ids, period__in=canonical)
    }
    exceptions: set[tuple[int, int, str]] = set()
    submissions: dict[tuple[int, int, str], tuple[int, str]] = {}
    for chunk in _chunks(unit_ids):
        exceptions.update(
            LockException.objects.filter(
                data_set_id__in=ds_ids, period__in=canonical, unit_id__in=chunk
            ).values_list("data_set_id", "unit_id", "period")
        )
        for ds_id, unit_id, period, pk, sub_state in Submission.objects.filter(
            data_set_id__in=ds_ids, period__in=canonical, unit_id__in=chunk
        ).values_list("data_set_id", "unit_id", "period", "id", "state"):
            submissions[(ds_id, unit_id, period)] = (pk, sub_state)

    reports: dict[tuple[int, int], bool] = {}
    forms: dict[tuple[int, int, str], _Form] = {}
    blocked: dict[tuple[int, int, str], str | None] = {}
    incoming: dict[tuple[int, int, str], tuple[Decimal | None, str | None, str]] = {}
    ind_by_id: dict[int, Indicator] = {}

    # What depends on (indicator, period) or (indicator, unit) alone is worked out once per pair;
    # each row then costs a few dict lookups, the value check and the duplicate check.
    pairs: dict[tuple[str, str], tuple[Indicator, int, str, DataSet, int] | tuple[str, str]] = {}
    unit_pk = {code: u.pk for code, u in units.items()}
    for row in rows:
        where = row.where
        pair = pairs.get((row.indicator, row.period))
        if pair is None:
            pair = pairs[(row.indicator, row.period)] = _pair(
                indicators.get(row.indicator),
                row.indicator,
                periods.get(row.period),
                row.period,
                member_ds,
                data_sets,
            )
        unit = units.get(row.unit)
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
        unit_id = unit_pk[row.unit]
        ind_by_id[ind_id] = ind
        if scope is not None and (
            ds_id != scope.data_set.pk or period_id != scope.period or row.unit not in scope.units
        ):
            problems.add(
                where,
                f"{row.unit} {ind.code} {period_id} is not on this form "
                f"({scope.data_set.code} {scope.period})",
            )
            continue
        key_r = (ind_id, unit_id)
        reported = reports.get(key_r)
        if reported is None:
            reported = reports[key_r] = ind.reported_by(unit)
        if not reported:
            problems.add(where, f"{row.unit} does not report {ind.code}")
            continue
        if enterable is not None and unit_id not in enterable:
            problems.deny(where, row.unit)
            continue
        form_key = (ds_id, unit_id, period_id)
        form = forms.get(form_key)
        if form is None:
            sub = submissions.get(form_key)
            state = sub[1] if sub else None
            blocked[form_key] = entry_blocker(
                windows.get((ds_id, period_id)),
                form_key in exceptions,
                state,
                today,
                period_id,
                ds.code,
            )
            form = forms[form_key] = _Form(ds, unit, period_id, state, sub[0] if sub else None)
        reason = blocked[form_key]
        if reason is not None:
            problems.add(where, f"{row.unit} {period_id}: {reason}", conflict=True)
            continue
        try:
            value = ind.clean_value(row.value)
        except ValueError as exc:
            problems.add(where, f"{ind.code}: {exc}")
            continue
        comment = row.comment.strip()[:500] if row.comment is not None else None
        key = (unit_id, ind_id, period_id)
        if key in incoming:
            problems.add(
                where, f"{row.unit} {ind.code} {period_id} is also given at {incoming[key][2]}"
            )
            continue
        incoming[key] = (value, comment, where)
        form.wheres[ind_id] = where

    problems.raise_if_any()

    # Validation rules see the figures as they would be after the write.
    rule_ds = {f.data_set.pk: f.data_set for f in forms.values()}
    rules = {ds_id: ds.rules() for ds_id, ds in rule_ds.items()}
    members = {ds_id: ds.members() for ds_id, ds in rule_ds.items() if rules[ds_id]}
    extra_ids = {i.pk for ms in members.values() for i in ms}
    stored = stored_values(
        (k[0] for k in incoming), {k[1] for k in incoming} | extra_ids, {k[2] for k in incoming}
    )
    contexts = {ds_id: _RuleContext.of(members[ds_id], rules[ds_id]) for ds_id in members}
    for (ds_id, _unit_id, _period_id), form in forms.items():
        ctx = contexts.get(ds_id)
        if ctx is not None:
            _check_rules(form, ctx, stored, incoming, problems)
    problems.raise_if_any()

    now_state = {k: (f.state or State.DRAFT) for k, f in forms.items()}
    # Year-to-date totals count approved and locked monthly figures only; a write never makes
    # a figure approved, but a stored row may be (data written outside the forms).
    done_forms = any(s in DONE_STATES for s in now_state.values())
    counted: set[tuple[int, int, str]] = set()
    creates: list[tuple[int, int, str, Decimal | None, str, str]] = []
    updates: list[tuple[int, Decimal | None, str, str]] = []
    changes: list[tuple[str, ...]] = []
    unchanged = 0
    unit_code = {u.pk: u.code for u in units.values()}
    for (unit_id, ind_id, period_id), (value, comment, _where) in incoming.items():
        state = now_state[(member_ds[ind_id], unit_id, period_id)]
        old = stored.get((unit_id, ind_id, period_id))
        code = ind_by_id[ind_id].code
        if old is None:
            if value is None and not comment:
                unchanged += 1
                continue
            creates.append((unit_id, ind_id, period_id, value, comment or "", state))
            if done_forms:
                counted |= year_to_date_key(unit_id, ind_id, period_id, state)
            change: tuple[str, ...] = (unit_code[unit_id], code, period_id, "", fmt(value))
            changes.append((*change, "", comment) if comment else change)
            continue
        pk, old_value, old_comment, old_state = old
        new_comment = old_comment if comment is None else comment
        if (
            old_value == value
            and new_comment == old_comment
            and (old_value is None) == (value is None)
        ):
            unchanged += 1
            continue
        updates.append((pk, value, new_comment, state))
        if old_state in DONE_STATES or state in DONE_STATES:
            counted |= year_to_date_key(unit_id, ind_id, period_id, old_state)
            counted |= year_to_date_key(unit_id, ind_id, period_id, state)
        change = (unit_code[unit_id], code, period_id, fmt(old_value), fmt(value))
        changes.append(
            (*change, old_comment, new_comment) if new_comment != old_comment else change
        )
    new_forms = [f for f in forms.values() if f.submission_id is None]
    return _Plan(
        creates,
        updates,
        unchanged,
        new_forms,
        changes,
        len(rows),
        {u.code: u.pk for u in units.values()},
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


@dataclass(frozen=True)
class _RuleContext:
    """A data set's rules with what evaluating them needs, worked out once per data set."""

    entered: tuple[tuple[str, int], ...]
    formulas: dict[str, Any]
    rules: tuple[Any, ...]

    @staticmethod
    def of(members: list[Indicator], rules: list[Any]) -> _RuleContext:
        return _RuleContext(
            tuple((i.code, i.pk) for i in members if not i.is_computed),
            {i.code: i.parsed_formula for i in members if i.parsed_formula is not None},
            tuple(rules),
        )


def _check_rules(
    form: _Form,
    ctx: _RuleContext,
    stored: dict[tuple[int, int, str], tuple[int, Decimal | None, str, str]],
    incoming: dict[tuple[int, int, str], tuple[Decimal | None, str | None, str]],
    problems: _Problems,
) -> None:
    values: dict[str, Decimal | None] = {}
    unit_id, period = form.unit.pk, form.period
    for code, ind_id in ctx.entered:
        key = (unit_id, ind_id, period)
        got = incoming.get(key)
        if got is not None:
            values[code] = got[0]
        else:
            old = stored.get(key)
            if old is not None:
                values[code] = old[1]
    if ctx.formulas:
        values.update(evaluate_all(ctx.formulas, values))
    for rule in ctx.rules:
        if rule.parsed.evaluate(values) is False:
            code_where = {code: form.wheres[i] for code, i in ctx.entered if i in form.wheres}
            refs = sorted(rule.parsed.references)
            places = [code_where[c] for c in refs if c in code_where]
            shown = ", ".join(f"{c} = {fmt(values.get(c)) or '—'}" for c in refs)
            message = rule.message or f"rule '{rule.name}' is broken: {rule.expression}"
            problems.add(
                ", ".join(places) or f"{form.unit.code} {form.period}",
                f"{form.unit.code} {form.period}: {message} ({shown})",
            )


def check_stored_rules(submission: Submission) -> list[Problem]:
    """The data set's rules over the stored figures of one form (run again on submit)."""
    ds = submission.data_set
    rules = ds.rules()
    if not rules:
        return []
    members = ds.members()
    stored = stored_values([submission.unit_id], [i.pk for i in members], [submission.period])
    form = _Form(ds, submission.unit, submission.period, submission.state, submission.pk)
    problems = _Problems()
    _check_rules(form, _RuleContext.of(members, rules), stored, {}, problems)
    return problems.items


def _execute_many(sql: str, params: list[tuple[Any, ...]], batch: int = 5000) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch):
            cursor.executemany(sql, params[start : start + batch])


def _apply(plan: _Plan, *, user: User | None, action: str, reason: str) -> WriteResult:
    """Write the checked plan. Figures go in through executemany with values prepared by the
    fields themselves: bulk_create's per-object SQL compiling costs more than all the checks."""
    now = timezone.now()
    user_id = user.pk if user is not None else None
    meta = DataValue._meta
    prep_now = meta.get_field("updated_at").get_db_prep_save(now, connection)
    # Values are Decimals already checked to fit the column; both drivers take them as they are.
    qn = connection.ops.quote_name
    if plan.new_forms:
        Submission.objects.bulk_create(
            [
                Submission(data_set=f.data_set, unit=f.unit, period=f.period, state=State.DRAFT)
                for f in plan.new_forms
            ],
            batch_size=1000,
        )
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
                "updated_at",
                "updated_by",
            )
        ]
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        _execute_many(
            sql, [(u, i, p, v, c, s, prep_now, user_id) for u, i, p, v, c, s in plan.creates]
        )
    if plan.updates:
        cols = ("value", "comment", "state", "updated_at", "updated_by_id")
        sql = (
            f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(c)} = %s' for c in cols)} "
            f"WHERE {qn('id')} = %s"
        )
        _execute_many(sql, [(v, c, s, prep_now, user_id, pk) for pk, v, c, s in plan.updates])
    _audit_changes(plan, action, reason)
    if plan.counted:  # after the audit entries: see year_to_date.refresh on concurrency
        year_to_date.refresh(plan.counted)
    created = len(plan.creates)
    return WriteResult(
        created=created,
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        rows=plan.rows,
        changes=plan.changes,
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
        chunks = [chunk for group in by_unit.values() for chunk in _chunks(group, AUDIT_CHUNK)]
    else:
        chunks = list(_chunks(changes, AUDIT_CHUNK))
    for n, chunk in enumerate(chunks, start=1):
        units = sorted({c[0] for c in chunk})
        span = units[0] if len(units) == 1 else f"{units[0]}…{units[-1]} ({len(units)} units)"
        part = f", part {n} of {len(chunks)}" if len(chunks) > 1 else ""
        record(
            action,
            object_type="reporting.datavalue",
            object_repr=f"{span}: {len(chunk)} figures{part}"[:200],
            unit_id=plan.unit_ids.get(units[0]) if len(units) == 1 else None,
            after={"columns": list(CHANGE_COLUMNS), "changes": [list(c) for c in chunk]},
            reason=reason or None,
        )
