"""The checks `reporting.values.write_values` runs on rows before it writes any of them.

Rows name codes (indicator, unit, period) as read from a form or a file; this module loads
what they name once per write, refuses what is unknown, outside the user's reach, not on
the form, or closed for entry, and reads each value and comment. It writes nothing: the
writing stays in `reporting.values`, the one writer of figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from duban.indicators.models import DataSet, DataSetMember, Indicator
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, parse_period
from duban.reporting.errors import Problems
from duban.reporting.locking import FormKey, LockedForm, chunks
from duban.reporting.models import EDITABLE_STATES, LockException, ReportingPeriod, State
from duban.text import control_character_message

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


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
            State.SUBMITTED: _(
                "the form is submitted and waits for approval; the approver can return it"
            ),
            State.APPROVED: _(
                "the figures are approved; only an audited unlock by the office reopens them"
            ),
            State.LOCKED: _(
                "the figures are locked by the evaluation office; only an audited unlock reopens them"
            ),
        }[State(state)]
    if rp is None:
        return _("period %(period)s is not open for data set %(data_set)s") % {
            "period": period,
            "data_set": ds_code,
        }
    status = rp.entry_state(today)
    if status == "not_open":
        return _("entry for %(period)s opens on %(date)s") % {
            "period": period,
            "date": rp.opens_on.isoformat(),
        }
    if status in ("expired", "closed") and not excepted:
        if status == "closed":
            return _("the office closed entry for %(period)s; it may grant a lock exception") % {
                "period": period
            }
        assert rp.closes_on is not None
        return _(
            "entry for %(period)s expired after %(date)s; the office may grant a lock exception"
        ) % {"period": period, "date": rp.closes_on.isoformat()}
    return None


@dataclass
class Loaded:
    """What a write's rows name, loaded once per write in a handful of queries."""

    indicators: dict[str, Indicator]
    member_ds: dict[int, int]  # indicator id → its data set
    data_sets: dict[int, DataSet]
    units: dict[str, OrgUnit]
    periods: dict[str, Period | str]  # the text as given → the period, or why it is none
    enterable: set[int] | None  # units the user may enter; None: the system
    windows: dict[tuple[int, str], ReportingPeriod]
    exceptions: set[FormKey]


def load_rows(rows: Sequence[RawValue], user: Actor) -> Loaded:
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
        enterable = policy.allowed_units(user, Action.ENTER_DATA, units.values())
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
    return Loaded(indicators, member_ds, data_sets, units, periods, enterable, windows, exceptions)


Accepted = tuple[RawValue, Indicator, int, FormKey]


def accept_rows(
    rows: Sequence[RawValue], loaded: Loaded, scope: Scope | None, problems: Problems
) -> tuple[list[Accepted], dict[FormKey, tuple[DataSet, OrgUnit]]]:
    """The rows whose codes, period, form and unit the user may write, and their forms."""
    reports: dict[tuple[int, int], bool] = {}
    form_units: dict[FormKey, tuple[DataSet, OrgUnit]] = {}
    accepted: list[Accepted] = []
    # What depends on (indicator, period) or (indicator, unit) alone is worked out once per pair;
    # each row then costs a few dict lookups.
    pairs: dict[tuple[str, str], tuple[Indicator, int, str, DataSet, int] | tuple[str, str]] = {}
    units = loaded.units
    unit_ids = {code: u.pk for code, u in units.items()}  # `.pk` is a property: once per unit
    enterable = loaded.enterable
    for row in rows:
        pair = pairs.get((row.indicator, row.period))
        if pair is None:
            pair = pairs[(row.indicator, row.period)] = check_pair(
                loaded.indicators.get(row.indicator),
                row.indicator,
                loaded.periods.get(row.period),
                row.period,
                loaded.member_ds,
                loaded.data_sets,
            )
        unit = units.get(row.unit)
        if len(pair) == 2 or unit is None:  # a (field, message) pair or no unit
            if len(pair) == 2:
                problems.add(row.at(pair[0]), pair[1])  # type: ignore[arg-type]
            if unit is None:
                problems.add(
                    row.at("unit"),
                    _("unknown unit code %(code)s") % {"code": repr(row.unit)}
                    if row.unit
                    else _("no unit code"),
                )
            continue
        ind, ind_id, period_id, ds, ds_id = pair  # type: ignore[misc]
        if scope is not None and (
            ds_id != scope.data_set.pk or period_id != scope.period or row.unit not in scope.units
        ):
            problems.add(
                row.where,
                _(
                    "%(unit)s %(indicator)s %(period)s is not on this form (%(form)s %(form_period)s)"
                )
                % {
                    "unit": row.unit,
                    "indicator": ind.code,
                    "period": period_id,
                    "form": scope.data_set.code,
                    "form_period": scope.period,
                },
            )
            continue
        unit_id = unit_ids[row.unit]
        key_r = (ind_id, unit_id)
        reported = reports.get(key_r)
        if reported is None:
            reported = reports[key_r] = ind.reported_by(unit)
        if not reported:
            problems.add(
                row.where,
                _("%(unit)s does not report %(indicator)s")
                % {"unit": row.unit, "indicator": ind.code},
            )
            continue
        if enterable is not None and unit_id not in enterable:
            problems.deny(row.where, row.unit)
            continue
        form_key = (ds_id, unit_id, period_id)
        if form_key not in form_units:
            form_units[form_key] = (ds, unit)
        accepted.append((row, ind, ind_id, form_key))
    return accepted, form_units


Incoming = dict[tuple[int, int, str], tuple[Any, str | None, str]]


COMMENT_LENGTH = 500  # DataValue.comment's column


def read_incoming(
    accepted: list[Accepted], forms: dict[FormKey, LockedForm], problems: Problems
) -> Incoming:
    """(unit, indicator, period) → (value or UNCHANGED, comment or None, where) of every row
    whose form is open for it and whose value and comment are good."""
    incoming: Incoming = {}
    for row, ind, ind_id, form_key in accepted:
        where = row.where
        form = forms[form_key]
        period_id = form_key[2]
        if form.blocker is not None:
            problems.add(
                where,
                _("%(unit)s %(period)s: %(reason)s")
                % {"unit": row.unit, "period": period_id, "reason": form.blocker},
                conflict=True,
            )
            continue
        value: Any = UNCHANGED
        if row.value is not UNCHANGED:
            try:
                value = ind.clean_value(row.value)
            except ValueError as exc:
                problems.add(where, _("%(code)s: %(problem)s") % {"code": ind.code, "problem": exc})
                continue
        comment = None
        if row.comment is not None:
            bad = control_character_message(row.comment)
            if bad is not None:  # bulk writes never meet the pre_save check: checked here
                problems.add(row.at("comment"), bad)
                continue
            comment = row.comment.strip()
            if len(comment) > COMMENT_LENGTH:  # was cut to fit without a word: refused instead
                problems.add(
                    row.at("comment"), _("at most %(n)d characters") % {"n": COMMENT_LENGTH}
                )
                continue
        key = (form_key[1], ind_id, period_id)
        if key in incoming:
            problems.add(
                where,
                _("%(unit)s %(indicator)s %(period)s is also given at %(where)s")
                % {
                    "unit": row.unit,
                    "indicator": ind.code,
                    "period": period_id,
                    "where": incoming[key][2],
                },
            )
            continue
        incoming[key] = (value, comment, where)
        form.wheres[ind_id] = where
    return incoming


def check_pair(
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
        if not code:
            return ("indicator", _("no indicator code"))
        return ("indicator", _("unknown indicator code %(code)s") % {"code": repr(code)})
    if not isinstance(period, Period):
        return ("period", str(period) if text else _("no period"))
    if ind.is_computed:
        return (
            "value",
            _("%(indicator)s is computed from its formula; it is never entered")
            % {"indicator": ind.code},
        )
    if period.type != ind.period_type:
        return (
            "period",
            _("%(indicator)s is reported per %(type)s period, not %(period)s")
            % {"indicator": ind.code, "type": ind.period_type, "period": repr(period.id)},
        )
    ds_id = member_ds.get(ind.pk)
    if ds_id is None:
        return (
            "indicator",
            _("%(indicator)s is on no data set, so no unit reports it") % {"indicator": ind.code},
        )
    return (ind, ind.pk, period.id, data_sets[ds_id], ds_id)
