"""The transitions table drives the test: every action from every state, allowed or refused,
and exactly one audit entry — the named one — per transition carried out."""

from __future__ import annotations

import pytest
from django.utils import translation

from duban.audit.models import AuditEntry
from duban.orgs.policy import SYSTEM
from duban.reporting import services, year_to_date
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import TODAY
from duban.reporting.transitions import TRANSITIONS, transition
from duban.reporting.values import set_form_state

CASES = [(action, state) for action in TRANSITIONS for state in State]


def _form_in(form, tree, state: str) -> Submission:
    """COUNTY-A's December form with two figures, put in `state` (its station approved, so
    an approval's precondition holds)."""
    services.save_form(
        form.data_set, tree.county_a, "201712", {"case.filed": "10", "case.solved": "7"},
        user=SYSTEM, today=TODAY,
    )  # fmt: skip
    station = services.get_or_create_submission(form.data_set, tree.station_a1, "201712")
    Submission.objects.filter(pk=station.pk).update(state=State.APPROVED)
    sub = Submission.objects.get(data_set=form.data_set, unit=tree.county_a, period="201712")
    if state != State.DRAFT:  # the set-up, not a transition under test
        Submission.objects.filter(pk=sub.pk).update(state=state)
        set_form_state(sub, state)
    sub.refresh_from_db()
    return sub


@pytest.mark.parametrize(("action", "state"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_each_action_from_each_state(form, tree, action: str, state: str) -> None:
    t = TRANSITIONS[action]
    sub = _form_in(form, tree, state)
    last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    reason = "请核对" if t.reason_required else ""
    if state not in t.sources:
        with pytest.raises(ReportingConflict) as exc:
            transition(sub, action, user=SYSTEM, reason=reason, today=TODAY)
        # The refusal names the state in words, in the user's language.
        with translation.override("zh-hans"):
            said = {
                State.DRAFT: "草稿", State.RETURNED: "已退回", State.SUBMITTED: "正在等待审核",
                State.APPROVED: "已审核通过", State.LOCKED: "已被考评办锁定",
            }[State(state)]  # fmt: skip
        assert said in str(exc.value)
        assert not AuditEntry.objects.filter(pk__gt=last or 0).exists()
        assert Submission.objects.get(pk=sub.pk).state == state
        return
    done = transition(sub, action, user=SYSTEM, reason=reason, today=TODAY)
    assert done.state == t.target == Submission.objects.get(pk=sub.pk).state
    assert set(
        DataValue.objects.filter(unit=tree.county_a, period="201712").values_list(
            "state", flat=True
        )
    ) == {t.target}
    entries = list(AuditEntry.objects.filter(pk__gt=last or 0))
    assert [e.action for e in entries] == [f"reporting.submission.{t.event}"]
    assert entries[0].before["state"] == state and entries[0].after["state"] == t.target
    assert entries[0].after["values"] == 2
    assert year_to_date.verify() == []


@pytest.mark.parametrize("action", [a for a, t in TRANSITIONS.items() if t.reason_required])
def test_an_action_that_needs_a_reason_refuses_none(form, tree, action: str) -> None:
    start = next(iter(sorted(TRANSITIONS[action].sources)))
    sub = _form_in(form, tree, start)
    with pytest.raises(ReportingError):
        transition(sub, action, user=SYSTEM, reason="  ", today=TODAY)
    assert Submission.objects.get(pk=sub.pk).state == start


def test_the_table_names_every_service() -> None:
    assert set(TRANSITIONS) == {
        "submit",
        "withdraw",
        "return",
        "approve",
        "unapprove",
        "lock",
        "unlock",
    }
    assert all(t.target not in t.sources for t in TRANSITIONS.values())
