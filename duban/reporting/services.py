"""State changes of reporting: open a period, save and submit a form, approve, return,
lock and unlock (thin wrappers over `reporting.transitions`), grant lock exceptions, attach
evidence.

Each function takes the object first and the acting user by keyword, runs in
one transaction, checks the policy, and raises ReportingError (400) or
ReportingConflict (409, the data's state forbids it). Views, API routes, the
demo loader and tests call the same functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from duban.core.acting import attributed
from duban.errors import Problem
from duban.indicators.models import PERIOD_TYPE_LABELS, DataSet, Indicator, fmt
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import PeriodType, parse_period
from duban.records.proposals import proposals_for
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import (
    DONE_STATES,
    EDITABLE_STATES,
    DataValue,
    Evidence,
    LockException,
    ReportingPeriod,
    State,
    Submission,
    default_dates,
)
from duban.reporting.transitions import lock_form, transition
from duban.reporting.values import UNCHANGED, RawValue, Scope, WriteResult, write_values
from duban.text import period_in_words

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

EVIDENCE_TYPES: Mapping[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".txt": ("text/plain", ()),
    ".csv": ("text/csv", ()),
}


def evidence_max_bytes() -> int:
    return int(getattr(settings, "DUBAN_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))


def _period_id(text: str, data_set: DataSet) -> str:
    try:
        period = parse_period(text)
    except (ValueError, TypeError) as exc:
        raise ReportingError(str(exc), "period") from None
    if period.type != data_set.period_type:
        raise ReportingError(
            _("%(data_set)s is a form of type %(period_type)s: give a period of that type")
            % {
                "data_set": data_set.code,
                "period_type": PERIOD_TYPE_LABELS[PeriodType(data_set.period_type)],
            },
            "period",
        )
    return period.id


# Periods and lock exceptions (the evaluation office) -----------------------------------------


@attributed
@transaction.atomic
def open_period(
    data_set: DataSet,
    period: str,
    *,
    user: Actor,
    opens_on: date | None = None,
    deadline: date | None = None,
    closes_on: date | None = None,
) -> ReportingPeriod:
    """Open a data set for one period; dates default from the data set as in DHIS2."""
    policy.require(user, Action.MANAGE_EVALUATION, data_set.owner)
    pid = _period_id(period, data_set)
    if ReportingPeriod.objects.filter(data_set=data_set, period=pid).exists():
        raise ReportingConflict(
            _("%(data_set)s %(period)s is already open")
            % {"data_set": data_set.code, "period": pid},
            "period",
        )
    d_open, d_deadline, d_close = default_dates(data_set, parse_period(pid))
    opens_on, deadline = opens_on or d_open, deadline or d_deadline
    closes_on = closes_on if closes_on is not None else d_close
    problems = []
    if deadline < opens_on:
        problems.append(Problem("deadline", _("the deadline is before the opening")))
    if closes_on is not None and closes_on < deadline:
        problems.append(Problem("closes_on", _("entry would close before the deadline")))
    if problems:
        raise ReportingError(problems)
    return ReportingPeriod.objects.create(
        data_set=data_set,
        period=pid,
        opens_on=opens_on,
        deadline=deadline,
        closes_on=closes_on,
        opened_by=policy.person(user),
    )


@dataclass(frozen=True)
class PeriodsOpened:
    opened: list[ReportingPeriod]
    skipped: list[tuple[DataSet, str]]  # (data set, period) already open: left as they were

    def opened_pairs(self) -> list[tuple[DataSet, str]]:
        return [(rp.data_set, rp.period) for rp in self.opened]


@attributed
@transaction.atomic
def open_periods(
    data_sets: Sequence[DataSet],
    periods: Sequence[str],
    *,
    user: Actor,
    deadline: date | None = None,
    closes_on: date | None = None,
) -> PeriodsOpened:
    """Open many periods of one or more data sets at once, through `open_period`, in one
    transaction: all or nothing. A pair already open is skipped and named, not refused;
    one that cannot be opened refuses the whole batch, naming its data set and period.
    Dates may be given only for a single pair; otherwise each follows its data set."""
    if not data_sets:
        raise ReportingError(_("choose at least one data set"), "data_sets")
    if not periods:
        raise ReportingError(_("choose at least one period"), "periods")
    if (deadline or closes_on) and len(data_sets) * len(periods) > 1:
        raise ReportingError(
            _(
                "a deadline or an expiry can be given only when opening one period of one "
                "data set; leave them empty and each period follows its data set"
            ),
            "deadline" if deadline else "closes_on",
        )
    already = set(
        ReportingPeriod.objects.filter(data_set__in=data_sets, period__in=periods).values_list(
            "data_set_id", "period"
        )
    )
    opened: list[ReportingPeriod] = []
    skipped: list[tuple[DataSet, str]] = []
    for ds in data_sets:
        for period in sorted(set(periods)):
            if (ds.pk, period) in already:
                skipped.append((ds, period))
                continue
            try:
                opened.append(
                    open_period(ds, period, user=user, deadline=deadline, closes_on=closes_on)
                )
            except ReportingError as exc:
                why = "; ".join(p.message for p in exc.problems) or str(exc)
                raise type(exc)(
                    _("%(data_set)s · %(period)s cannot be opened: %(why)s; no period was opened")
                    % {"data_set": ds.name, "period": period_in_words(period), "why": why},
                    "periods",
                ) from exc
    return PeriodsOpened(opened, skipped)


@attributed
@transaction.atomic
def change_period(
    rp: ReportingPeriod,
    *,
    user: Actor,
    is_closed: bool | None = None,
    deadline: date | None = None,
    closes_on: date | None = None,
    reason: str = "",
) -> ReportingPeriod:
    """Close or reopen entry, or move its dates; the reason goes into the audit trail."""
    policy.require(user, Action.MANAGE_EVALUATION, rp.data_set.owner)
    locked = ReportingPeriod.objects.select_for_update().get(pk=rp.pk)
    if is_closed is not None:
        locked.is_closed = is_closed
    if deadline is not None:
        if deadline < locked.opens_on:
            raise ReportingError(_("the deadline is before the opening"), "deadline")
        locked.deadline = deadline
    if closes_on is not None:
        if closes_on < locked.deadline:
            raise ReportingError(_("entry would close before the deadline"), "closes_on")
        locked.closes_on = closes_on
    from duban.audit.context import with_reason

    with with_reason(reason):
        locked.save()
    return locked


@attributed
@transaction.atomic
def grant_lock_exception(
    data_set: DataSet, unit: OrgUnit, period: str, *, user: Actor, reason: str
) -> LockException:
    """Let one unit enter one expired or closed period (the office, at the unit or above)."""
    policy.require(user, Action.MANAGE_EVALUATION, unit)
    if not reason.strip():
        raise ReportingError(_("say why the exception is granted"), "reason")
    pid = _period_id(period, data_set)
    if not unit.path.startswith(data_set.owner.path):
        raise ReportingError(
            _("%(unit)s is outside %(owner)s") % {"unit": unit.code, "owner": data_set.owner.code},
            "unit",
        )
    if LockException.objects.filter(data_set=data_set, unit=unit, period=pid).exists():
        raise ReportingConflict(
            _("%(unit)s already has an exception for %(period)s")
            % {"unit": unit.code, "period": pid},
            "unit",
        )
    return LockException.objects.create(
        data_set=data_set,
        unit=unit,
        period=pid,
        reason=reason.strip(),
        granted_by=policy.person(user),
    )


@attributed
@transaction.atomic
def revoke_lock_exception(exc: LockException, *, user: Actor) -> None:
    policy.require(user, Action.MANAGE_EVALUATION, exc.unit)
    exc.delete()


# Entry ----------------------------------------------------------------------------------------


@attributed
def save_form(
    data_set: DataSet,
    unit: OrgUnit,
    period: str,
    values: Mapping[str, object],
    *,
    user: Actor,
    comments: Mapping[str, str] | None = None,
    today: date | None = None,
    version: int | None = None,
) -> WriteResult:
    """Save a unit's figures for one period as a draft; `values` maps indicator code → raw input.

    Only the figures and comments given are written: a code missing from `values` keeps its
    figure (a comment alone changes only the comment), an explicit None clears it. With
    `version` (the form's version the person read) a save made after someone else changed
    the form is refused with a VersionConflict naming each figure changed since.
    Problems are named by indicator code, the form's field names.
    """
    policy.require(user, Action.ENTER_DATA, unit)
    pid = _period_id(period, data_set)
    comments = comments or {}
    codes = {i.code for i in data_set.members()}
    unknown = sorted(set(values) - codes) + sorted(set(comments) - codes - set(values))
    if unknown:
        raise ReportingError(
            [
                Problem(
                    c, _("%(code)s is not on form %(form)s") % {"code": c, "form": data_set.code}
                )
                for c in unknown
            ]
        )
    check_corrections(data_set, unit, pid, values, comments)
    rows = [
        RawValue(code, code, pid, unit.code, values.get(code, UNCHANGED), comments.get(code))
        for code in sorted(set(values) | set(comments))
    ]
    scope = Scope(data_set, pid, frozenset({unit.code}))
    return write_values(
        rows,
        user=user,
        today=today,
        scope=scope,
        action="reporting.values.saved",
        version=version,
    )


def check_corrections(
    data_set: DataSet,
    unit: OrgUnit,
    period: str,
    values: Mapping[str, object],
    comments: Mapping[str, str],
) -> None:
    """A record indicator's figure is the records' proposal, confirmed, or a correction with
    its reason in the figure's comment: a figure other than the proposal with no comment
    (given now or stored) is refused, naming the figure, and nothing is written.

    A figure that is not a number is left to the writer, which names it; clearing a figure
    (no value) needs no reason."""
    members = {i.code: i for i in data_set.members() if i.is_record}
    touched = [c for c in members if c in values or c in comments]
    if not touched:
        return
    proposed = proposals_for(unit, [members[c] for c in touched], period)
    if not proposed:
        return
    stored = {
        v.indicator.code: v
        for v in DataValue.objects.filter(
            unit=unit, period=period, indicator__code__in=list(proposed)
        ).select_related("indicator")
    }
    problems: list[Problem] = []
    for code, proposal in sorted(proposed.items()):
        ind, old = members[code], stored.get(code)
        if code in values:
            try:
                value = ind.clean_value(values[code])
            except ValueError:
                continue
        else:
            value = old.value if old else None
        comment = comments.get(code, old.comment if old else "")
        if value is None or value == proposal.value or comment.strip():
            continue
        problems.append(
            Problem(
                code,
                _(
                    "%(name)s: the business records give %(proposal)s (%(count)d records); "
                    "say why the figure is %(value)s in its comment"
                )
                % {
                    "name": ind.name,
                    "proposal": fmt(proposal.value),
                    "count": proposal.record_count,
                    "value": fmt(value),
                },
            )
        )
    if problems:
        raise ReportingError(problems)


def get_or_create_submission(data_set: DataSet, unit: OrgUnit, period: str) -> Submission:
    sub, _ = Submission.objects.get_or_create(data_set=data_set, unit=unit, period=period)
    return sub


def reporting_children(sub: Submission) -> list[Submission | OrgUnit]:
    """Direct children of the form's unit that report this data set: their submission, or
    the unit itself where nothing was submitted."""
    children = [c for c in sub.unit.children.filter(is_active=True) if sub.data_set.reported_by(c)]
    subs = {
        s.unit_id: s
        for s in Submission.objects.filter(
            data_set=sub.data_set, period=sub.period, unit__in=children
        ).select_related("unit")
    }
    return [subs.get(c.pk, c) for c in children]


# State changes: each is one row of `reporting.transitions.TRANSITIONS`, carried out by
# `transition` (lock, check, set, one audit entry, figures and totals). These wrappers keep the
# calls views, API routes and commands make.


def submit(sub: Submission, *, user: Actor, today: date | None = None) -> Submission:
    """Send the form to the unit above: the rules must hold and entry must still be open."""
    return transition(sub, "submit", user=user, today=today)


def return_form(sub: Submission, *, user: Actor, reason: str) -> Submission:
    """Send a submitted form back to the reporter with a reason (the unit above)."""
    return transition(sub, "return", user=user, reason=reason)


def approve(sub: Submission, *, user: Actor, reason: str = "") -> Submission:
    """Accept a submitted form (approver above it). Every reporting child must be approved first."""
    return transition(sub, "approve", user=user, reason=reason)


def withdraw(sub: Submission, *, user: Actor) -> Submission:
    """The reporter takes back a submission not yet approved: the form is a draft again."""
    return transition(sub, "withdraw", user=user)


def unapprove(sub: Submission, *, user: Actor, reason: str = "") -> Submission:
    """Take back an approval (approval rights at the unit or above); back to submitted."""
    return transition(sub, "unapprove", user=user, reason=reason)


def lock(sub: Submission, *, user: Actor) -> Submission:
    """Freeze approved figures for evaluation (the office at the unit or above)."""
    return transition(sub, "lock", user=user)


def unlock(sub: Submission, *, user: Actor, reason: str) -> Submission:
    """The one way approved or locked figures change again: the office reopens the form for
    the reporter, with a reason kept in the audit trail."""
    return transition(sub, "unlock", user=user, reason=reason)


@attributed
@transaction.atomic
def lock_period(
    data_set: DataSet, period: str, under: OrgUnit, *, user: Actor
) -> tuple[int, list[str]]:
    """Lock every approved form of a period in a subtree; say which forms were not approved."""
    policy.require(user, Action.MANAGE_EVALUATION, under)
    pid = _period_id(period, data_set)
    subs = Submission.objects.filter(
        data_set=data_set, period=pid, unit__in=OrgUnit.objects.subtree_of(under)
    ).select_related("data_set", "unit")
    done = 0
    for sub in subs.filter(state=State.APPROVED):
        lock(sub, user=user)
        done += 1
    reporting = {u.code for u in data_set.reporting_units(under)}
    ready = set(subs.filter(state__in=DONE_STATES).values_list("unit__code", flat=True))
    return done, sorted(reporting - ready)


# Evidence -------------------------------------------------------------------------------------


@attributed
@transaction.atomic
def attach_evidence(
    sub: Submission,
    name: str,
    data: bytes,
    *,
    user: Actor,
    indicator: Indicator | None = None,
) -> Evidence:
    """Keep a supporting file with the form or one of its figures; checked for type and size."""
    policy.require(user, Action.ENTER_DATA, sub.unit)
    sub = lock_form(sub)
    if sub.state not in EDITABLE_STATES:
        raise ReportingConflict(
            _("the form is %(state)s; evidence is attached before submitting")
            % {"state": State(sub.state).label},
            "file",
        )
    problems = check_evidence(name, data)
    if indicator is not None and not sub.data_set.memberships.filter(indicator=indicator).exists():
        problems.append(
            Problem("indicator", _("%(code)s is not on this form") % {"code": indicator.code})
        )
    if problems:
        raise ReportingError(problems)
    ext = PurePath(name).suffix.lower()
    digest = hashlib.sha256(data).hexdigest()
    ev = Evidence(
        submission=sub,
        indicator=indicator,
        original_name=PurePath(name).name[:200],
        content_type=EVIDENCE_TYPES[ext][0],
        size=len(data),
        sha256=digest,
        uploaded_by=policy.person(user),
    )
    ev.file.save(f"{digest}{ext}", ContentFile(data), save=False)
    ev.save()
    return ev


def check_evidence(name: str, data: bytes) -> list[Problem]:
    """Type by extension and by the file's first bytes (a renamed .exe is not a PDF); size."""
    ext = PurePath(name).suffix.lower()
    limit = evidence_max_bytes()
    problems: list[Problem] = []
    if ext not in EVIDENCE_TYPES:
        allowed = ", ".join(sorted(EVIDENCE_TYPES))
        problems.append(
            Problem(
                "file",
                _("%(name)s: files of type %(ext)s are not accepted (%(allowed)s)")
                % {"name": name, "ext": ext or _("(none)"), "allowed": allowed},
            )
        )
        return problems
    magics = EVIDENCE_TYPES[ext][1]
    if magics and not any(data.startswith(m) for m in magics):
        problems.append(
            Problem(
                "file",
                _("%(name)s does not look like a %(ext)s file") % {"name": name, "ext": ext},
            )
        )
    if not magics and b"\x00" in data[:4096]:
        problems.append(Problem("file", _("%(name)s is not a text file") % {"name": name}))
    if len(data) > limit:
        problems.append(
            Problem(
                "file",
                _("%(name)s has %(size)d bytes; the limit is %(limit)d")
                % {"name": name, "size": len(data), "limit": limit},
            )
        )
    if not data:
        problems.append(Problem("file", _("%(name)s is empty") % {"name": name}))
    return problems
