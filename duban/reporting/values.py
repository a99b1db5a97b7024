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
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from duban.audit.services import record
from duban.errors import Problem
from duban.indicators.formula import evaluate_all
from duban.indicators.models import DataSet, DataSetMember, Indicator, fmt
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, parse_period
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import (
    EDITABLE_STATES,
    DataValue,
    LockException,
    ReportingPeriod,
    State,
    Submission,
)

if TYPE_CHECKING:
    from duban.accounts.models import User

AUDIT_CHUNK = 5000
CHANGE_COLUMNS = ("unit", "indicator", "period", "before", "after")
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
    changes: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged}


def entry_blocker(
    rp: ReportingPeriod | None, excepted: bool, state: str | None, today: date, period: str, ds_code: str
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
        return (f"entry for {period} expired after {rp.closes_on.isoformat()};"
                " the office may grant a lock exception")
    return None


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.conflicts = 0

    def add(self, where: str, message: str, *, conflict: bool = False) -> None:
        self.items.append(Problem(where, message))
        self.conflicts += conflict

    def raise_if_any(self) -> None:
        if not self.items:
            return
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
    with transaction.atomic():
        plan = _check(rows, user=user, today=today, scope=scope)
        return _apply(plan, user=user, action=action, reason=reason)


@dataclass
class _Plan:
    creates: list[tuple[int, int, str, Decimal | None, str, str]]
    updates: list[tuple[int, Decimal | None, str, str]]
    unchanged: int
    new_forms: list[_Form]
    changes: list[tuple[str, str, str, str, str]]
    rows: int
    unit_ids: dict[str, int]


def _check(rows: Sequence[RawValue], *, user: User | None, today: date, scope: Scope | None) -> _Plan:
    problems = _Problems()
    ind_codes = {r.indicator for r in rows}
    unit_codes = {r.unit for r in rows}
    period_ids = {r.period for r in rows}

    indicators = {i.code: i for i in Indicator.objects.select_related("issuer").filter(code__in=ind_codes)}
    member_ds = dict(
        DataSetMember.objects.filter(indicator__in=indicators.values()).values_list("indicator_id", "data_set_id")
    )
    data_sets = {d.pk: d for d in DataSet.objects.select_related("owner").filter(pk__in=set(member_ds.values()))}
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
            policy.visible_units(user, Action.ENTER_DATA).filter(pk__in=[u.pk for u in units.values()])
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
            LockException.objects.filter(data_set_id__in=ds_ids, period__in=canonical, unit_id__in=chunk)
            .values_list("data_set_id", "unit_id", "period")
        )
        for ds_id, unit_id, period, pk, state in Submission.objects.filter(
            data_set_id__in=ds_ids, period__in=canonical, unit_id__in=chunk
        ).values_list("data_set_id", "unit_id", "period", "id", "state"):
            submissions[(ds_id, unit_id, period)] = (pk, state)

    reports: dict[tuple[int, int], bool] = {}
    forms: dict[tuple[int, int, str], _Form] = {}
    blocked: dict[tuple[int, int, str], str | None] = {}
    incoming: dict[tuple[int, int, str], tuple[Decimal | None, str | None, str]] = {}
    ind_by_id: dict[int, Indicator] = {}

    for row in rows:
        where = row.where
        ind = indicators.get(row.indicator)
        unit = units.get(row.unit)
        period = periods.get(row.period)
        bad = False
        if ind is None:
            problems.add(row.at("indicator"),
                         f"unknown indicator code {row.indicator!r}" if row.indicator else "no indicator code")
            bad = True
        if unit is None:
            problems.add(row.at("unit"), f"unknown unit code {row.unit!r}" if row.unit else "no unit code")
            bad = True
        if not isinstance(period, Period):
            problems.add(row.at("period"), str(period) if row.period else "no period")
            bad = True
        if bad:
            continue
        assert ind is not None and unit is not None and isinstance(period, Period)
        ind_by_id[ind.pk] = ind
        if ind.is_computed:
            problems.add(where, f"{ind.code} is computed from its formula; it is never entered")
            continue
        if period.type != ind.period_type:
            problems.add(where, f"{ind.code} is reported per {ind.period_type} period, not {period.id!r}")
            continue
        ds_id = member_ds.get(ind.pk)
        if ds_id is None:
            problems.add(where, f"{ind.code} is on no data set, so no unit reports it")
            continue
        ds = data_sets[ds_id]
        if scope is not None and (ds.pk != scope.data_set.pk or period.id != scope.period or unit.code not in scope.units):
            problems.add(where, f"{unit.code} {ind.code} {period.id} is not on this form "
                                f"({scope.data_set.code} {scope.period})")
            continue
        key_r = (ind.pk, unit.pk)
        if key_r not in reports:
            reports[key_r] = ind.reported_by(unit)
        if not reports[key_r]:
            problems.add(where, f"{unit.code} does not report {ind.code}")
            continue
        if enterable is not None and unit.pk not in enterable:
            problems.add(where, f"you may not enter figures for {unit.code}")
            continue
        form_key = (ds.pk, unit.pk, period.id)
        if form_key not in blocked:
            sub = submissions.get(form_key)
            state = sub[1] if sub else None
            blocked[form_key] = entry_blocker(
                windows.get((ds.pk, period.id)), form_key in exceptions, state, today, period.id, ds.code
            )
            forms[form_key] = _Form(ds, unit, period.id, state, sub[0] if sub else None)
        reason = blocked[form_key]
        if reason is not None:
            problems.add(where, f"{unit.code} {period.id}: {reason}", conflict=True)
            continue
        try:
            value = ind.clean_value(row.value)
        except ValueError as exc:
            problems.add(where, f"{ind.code}: {exc}")
            continue
        comment = row.comment.strip()[:500] if row.comment is not None else None
        key = (unit.pk, ind.pk, period.id)
        if key in incoming:
            problems.add(where, f"{unit.code} {ind.code} {period.id} is also given at {incoming[key][2]}")
            continue
        incoming[key] = (value, comment, where)
        forms[form_key].wheres[ind.pk] = where

    problems.raise_if_any()

    # Validation rules see the figures as they would be after the write.
    rule_ds = {f.data_set.pk: f.data_set for f in forms.values()}
    rules = {ds_id: ds.rules() for ds_id, ds in rule_ds.items()}
    members = {ds_id: ds.members() for ds_id, ds in rule_ds.items() if rules[ds_id]}
    extra_ids = {i.pk for ms in members.values() for i in ms}
    stored = stored_values(
        (k[0] for k in incoming), {k[1] for k in incoming} | extra_ids, {k[2] for k in incoming}
    )
    for form_key, form in forms.items():
        if not rules.get(form.data_set.pk):
            continue
        _check_rules(form, members[form.data_set.pk], rules[form.data_set.pk], stored, incoming, problems)
    problems.raise_if_any()

    now_state = {k: (f.state or State.DRAFT) for k, f in forms.items()}
    creates: list[tuple[int, int, str, Decimal | None, str, str]] = []
    updates: list[tuple[int, Decimal | None, str, str]] = []
    changes: list[tuple[str, str, str, str, str]] = []
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
            changes.append((unit_code[unit_id], code, period_id, "", fmt(value)))
            continue
        pk, old_value, old_comment, _old_state = old
        new_comment = old_comment if comment is None else comment
        if old_value == value and new_comment == old_comment and (old_value is None) == (value is None):
            unchanged += 1
            continue
        updates.append((pk, value, new_comment, state))
        changes.append((unit_code[unit_id], code, period_id, fmt(old_value), fmt(value)))
    new_forms = [f for f in forms.values() if f.submission_id is None]
    return _Plan(creates, updates, unchanged, new_forms, changes, len(rows),
                 {u.code: u.pk for u in units.values()})


def _check_rules(
    form: _Form,
    members: list[Indicator],
    rules: list[Any],
    stored: dict[tuple[int, int, str], tuple[int, Decimal | None, str, str]],
    incoming: dict[tuple[int, int, str], tuple[Decimal | None, str | None, str]],
    problems: _Problems,
) -> None:
    values: dict[str, Decimal | None] = {}
    for ind in members:
        if ind.is_computed:
            continue
        key = (form.unit.pk, ind.pk, form.period)
        if key in incoming:
            values[ind.code] = incoming[key][0]
        elif key in stored:
            values[ind.code] = stored[key][1]
    formulas = {i.code: i.parsed_formula for i in members if i.parsed_formula is not None}
    values.update(evaluate_all(formulas, values))
    code_where = {ind.code: form.wheres[ind.pk] for ind in members if ind.pk in form.wheres}
    for rule in rules:
        if rule.parsed.evaluate(values) is False:
            places = [code_where[c] for c in sorted(rule.parsed.references) if c in code_where]
            shown = ", ".join(f"{c} = {fmt(values.get(c)) or '—'}" for c in sorted(rule.parsed.references))
            message = rule.message or f"rule '{rule.name}' is broken: {rule.expression}"
            problems.add(", ".join(places) or f"{form.unit.code} {form.period}",
                         f"{form.unit.code} {form.period}: {message} ({shown})")


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
    _check_rules(form, members, rules, stored, {}, problems)
    return problems.items


def _apply(plan: _Plan, *, user: User | None, action: str, reason: str) -> WriteResult:
    now = timezone.now()
    user_id = user.pk if user is not None else None
    if plan.new_forms:
        Submission.objects.bulk_create(
            [Submission(data_set=f.data_set, unit=f.unit, period=f.period, state=State.DRAFT)
             for f in plan.new_forms],
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
        DataValue.objects.bulk_create(
            [
                DataValue(unit_id=u, indicator_id=i, period=p, value=v, comment=c, state=s,
                          updated_at=now, updated_by_id=user_id)
                for u, i, p, v, c, s in plan.creates
            ],
            batch_size=2000,
        )
    if plan.updates:
        objs = []
        for pk, value, comment, state in plan.updates:
            obj = DataValue(pk=pk, value=value, comment=comment, state=state, updated_at=now, updated_by_id=user_id)
            objs.append(obj)
        DataValue.objects.bulk_update(objs, ["value", "comment", "state", "updated_at", "updated_by"], batch_size=500)
    # One compact entry per unit (and per 5,000 changes), so each unit's history page shows it.
    by_unit: dict[str, list[tuple[str, str, str, str, str]]] = defaultdict(list)
    for change in plan.changes:
        by_unit[change[0]].append(change)
    unit_ids = plan.unit_ids
    for code, changes in by_unit.items():
        for start in range(0, len(changes), AUDIT_CHUNK):
            chunk = changes[start : start + AUDIT_CHUNK]
            record(
                action,
                object_type="reporting.datavalue",
                object_repr=f"{code}: {len(chunk)} figures",
                unit_id=unit_ids.get(code),
                after={"columns": list(CHANGE_COLUMNS), "changes": [list(c) for c in chunk]},
                reason=reason or None,
            )
    created = len(plan.creates)
    return WriteResult(created=created, updated=len(plan.updates), unchanged=plan.unchanged,
                       rows=plan.rows, changes=plan.changes)
