"""The state transitions of a form, as one table, and the one function that carries them out.

Each row says, for one action (submit, withdraw, return, approve, unapprove, lock, unlock): the states
it starts from, the state it ends in, the policy action checked at the form's unit, the audit
event (`reporting.submission.<event>`), whether a reason is required, the extra precondition
(a named hook that raises: entry still open, rules hold, units below approved …) and the
columns it stamps. `transition` does every step in the same order for all of them, so the
seven service functions of `reporting.services` are thin wrappers over one code path.

One event, one audit entry: the form row is updated without its generic model diff
(`reporting.submission.updated`), and the named entry carries the state and every column the
transition changed, before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.audit.services import record, snapshot
from duban.core.acting import attributed
from duban.orgs import policy
from duban.orgs.policy import Action
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import DONE_STATES, LockException, ReportingPeriod, State, Submission
from duban.reporting.rules import check_stored_rules
from duban.reporting.values import entry_blocker, form_figures, set_form_state
from duban.text import control_character_message

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

# What the form's state is, in words: every refusal starts from it.
STATE_SAID: Mapping[str, Promise] = {
    State.DRAFT: gettext_lazy("the form is still a draft"),
    State.RETURNED: gettext_lazy("the form was returned to the reporter for correction"),
    State.SUBMITTED: gettext_lazy("the form is submitted and waits for approval"),
    State.APPROVED: gettext_lazy("the form is approved"),
    State.LOCKED: gettext_lazy("the form is locked by the evaluation office"),
}


@dataclass(frozen=True)
class Step:
    """What a precondition hook sees: the locked form, who acts and the day it is."""

    sub: Submission
    user: Actor
    today: date
    now: datetime
    reason: str


Hook = Callable[[Step], None]
Stamp = Callable[[Step], dict[str, Any]]


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    event: str
    permission: Action
    reason_required: bool
    rule: Promise  # which states the action starts from, said after the state in a refusal
    stamp: Stamp
    precondition: Hook | None = None
    reason_missing: Promise | None = None

    @property
    def audit_action(self) -> str:
        return f"reporting.submission.{self.event}"


# Preconditions (named hooks) ---------------------------------------------------------------


def entry_open(step: Step) -> None:
    """Submitting needs the entry window open (or a lock exception) and the rules to hold."""
    sub = step.sub
    rp = ReportingPeriod.objects.filter(data_set=sub.data_set, period=sub.period).first()
    excepted = LockException.objects.filter(
        data_set=sub.data_set, unit=sub.unit, period=sub.period
    ).exists()
    blocker = entry_blocker(rp, excepted, None, step.today, sub.period, sub.data_set.code)
    if blocker:
        raise ReportingConflict(blocker, "state")
    problems = check_stored_rules(sub)
    if problems:
        raise ReportingError(problems)


def submit_ready(step: Step) -> None:
    """Submitting needs the entry window, the rules, and every unit below that must report
    having reported first (`reporting.approval.waiting_below`, which the form page shows)."""
    from duban.reporting.approval import waiting_below, waiting_said

    entry_open(step)
    waiting = waiting_below(step.sub.data_set, step.sub.unit, step.sub.period)
    if waiting:
        raise ReportingConflict(waiting_said(waiting), "state")


def children_approved(step: Step) -> None:
    """A form is approved only after every reporting unit directly below it."""
    from duban.reporting.services import reporting_children

    waiting = [
        (c.unit.name if isinstance(c, Submission) else c.name)
        for c in reporting_children(step.sub)
        if not (isinstance(c, Submission) and c.state in DONE_STATES)
    ]
    if waiting:
        raise ReportingConflict(
            _("units below are not approved yet: %(units)s") % {"units": "、".join(waiting)},
            "state",
        )


def parent_not_done(step: Step) -> None:
    """An approval is taken back only while the form above it is not approved or locked."""
    sub = step.sub
    parent = sub.unit.parent
    if parent is None:
        return
    above = Submission.objects.filter(data_set=sub.data_set, unit=parent, period=sub.period).first()
    if above is not None and above.state in DONE_STATES:
        raise ReportingConflict(
            _("%(unit)s is %(state)s; unapprove there first")
            % {"unit": parent.code, "state": State(above.state).label},
            "state",
        )


# The columns each transition stamps ----------------------------------------------------------


def _submitted(step: Step) -> dict[str, Any]:
    return {
        "submitted_at": step.now,
        "submitted_by": policy.person(step.user),
        # Timeliness counts the first submission: a return for correction does not make it late.
        "first_submitted_at": step.sub.first_submitted_at or step.now,
        "return_reason": "",
    }


def _withdrawn(step: Step) -> dict[str, Any]:
    # first_submitted_at stays: timeliness counts the first submission, as after a return.
    return {"submitted_at": None, "submitted_by": None}


def _returned(step: Step) -> dict[str, Any]:
    return {"return_reason": step.reason}


def _approved(step: Step) -> dict[str, Any]:
    return {"approved_at": step.now, "approved_by": policy.person(step.user)}


def _unapproved(step: Step) -> dict[str, Any]:
    return {"approved_at": None, "approved_by": None}


def _locked(step: Step) -> dict[str, Any]:
    return {"locked_at": step.now, "locked_by": policy.person(step.user)}


def _unlocked(step: Step) -> dict[str, Any]:
    return {
        "return_reason": step.reason,
        "approved_at": None,
        "approved_by": None,
        "locked_at": None,
        "locked_by": None,
    }


EDITABLE = frozenset({State.DRAFT, State.RETURNED})
DONE = frozenset({State.APPROVED, State.LOCKED})

TRANSITIONS: Mapping[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "submit", EDITABLE, State.SUBMITTED, "submitted", Action.ENTER_DATA, False,
            gettext_lazy("only a draft or returned form is submitted"), _submitted,
            precondition=submit_ready,
        ),
        Transition(
            "withdraw", frozenset({State.SUBMITTED}), State.DRAFT, "withdrawn", Action.ENTER_DATA,
            False, gettext_lazy("only a submitted form not yet approved is withdrawn"), _withdrawn,
        ),
        Transition(
            "return", frozenset({State.SUBMITTED}), State.RETURNED, "returned",
            Action.APPROVE_DATA, True, gettext_lazy("only a submitted form is returned"), _returned,
            reason_missing=gettext_lazy("say what the reporter should correct"),
        ),
        Transition(
            "approve", frozenset({State.SUBMITTED}), State.APPROVED, "approved",
            Action.APPROVE_DATA, False, gettext_lazy("only a submitted form is approved"), _approved,
            precondition=children_approved,
        ),
        Transition(
            "unapprove", frozenset({State.APPROVED}), State.SUBMITTED, "unapproved",
            Action.APPROVE_DATA, False, gettext_lazy("only an approved form is unapproved"), _unapproved,
            precondition=parent_not_done,
        ),
        Transition(
            "lock", frozenset({State.APPROVED}), State.LOCKED, "locked",
            Action.MANAGE_EVALUATION, False, gettext_lazy("only approved figures are locked"), _locked,
        ),
        Transition(
            "unlock", DONE, State.RETURNED, "unlocked", Action.MANAGE_EVALUATION, True,
            gettext_lazy("only approved or locked figures are unlocked"), _unlocked,
            reason_missing=gettext_lazy("an unlock needs a reason"),
        ),
    )
}  # fmt: skip


def refusal(t: Transition, state: str) -> str:
    """`该报表已提交，正在等待审核；只有已审核通过的报表才能撤销审核`: the state, then the rule."""
    return _("%(state)s; %(rule)s") % {"state": STATE_SAID[state], "rule": t.rule}


def lock_form(sub: Submission) -> Submission:
    """The form's row, re-read FOR UPDATE (as `locking.lock_forms` takes it for a write):
    a write of its figures and another transition wait for this one."""
    found = (
        Submission.objects.select_related("data_set", "data_set__owner", "unit")
        .select_for_update(of=("self",))
        .filter(data_set=sub.data_set, unit=sub.unit, period=sub.period)
        .first()
    )
    if found is None:
        raise ReportingConflict(
            _("%(unit)s has entered nothing for %(period)s yet")
            % {"unit": sub.unit.code, "period": sub.period},
            "state",
        )
    return found


@attributed
@transaction.atomic
def transition(
    sub: Submission,
    action: str,
    *,
    user: Actor,
    reason: str = "",
    today: date | None = None,
) -> Submission:
    """Carry out one row of TRANSITIONS on the form: policy, reason, lock, state, precondition,
    then the form's new state and columns, ONE audit entry, and the figures with their
    year-to-date totals. Raises ReportingError (400) or ReportingConflict (409)."""
    t = TRANSITIONS[action]
    policy.require(user, t.permission, sub.unit)
    reason = reason.strip()
    if t.reason_required and not reason:
        raise ReportingError(str(t.reason_missing), "reason")
    bad = control_character_message(reason) if reason else None
    if bad is not None:  # the row is updated without its pre_save check: checked here
        raise ReportingError(bad, "reason")
    sub = lock_form(sub)
    if sub.state not in t.sources:
        raise ReportingConflict(refusal(t, sub.state), "state")
    step = Step(sub, user, today or timezone.localdate(), timezone.now(), reason)
    if t.precondition is not None:
        t.precondition(step)
    return _apply(t, step)


def _apply(t: Transition, step: Step) -> Submission:
    sub = step.sub
    before_row = snapshot(sub)
    sub.state = t.target
    for name, value in t.stamp(step).items():
        setattr(sub, name, value)
    after_row = snapshot(sub)
    changed = sorted(k for k in after_row if after_row[k] != before_row.get(k))
    # A queryset update sends no post_save: the named entry below is the change's one entry.
    Submission.objects.filter(pk=sub.pk).update(**{k: getattr(sub, k) for k in changed})
    sub._audit_loaded = after_row
    figures = form_figures(sub).count()
    record(
        f"reporting.submission.{t.event}",
        obj=sub,
        before={k: before_row.get(k) for k in changed},
        after={**{k: after_row[k] for k in changed}, "state": t.target, "values": figures},
        reason=step.reason or None,
    )
    set_form_state(sub, t.target)
    return sub
