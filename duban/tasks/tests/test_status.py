"""The status rules at their boundaries, with hand-worked dates (no database, no wall clock).

The task runs 2017-01-01..2017-12-31 (365 days). Thresholds: warn 7 days, behind 20 points.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from duban.tasks.status import (
    MilestoneFacts,
    Status,
    TaskFacts,
    Thresholds,
    assess,
    days_overdue,
    elapsed_share,
    on_time,
    task_status,
)

D = date
T = Thresholds(warn_days=7, behind_points=20)
START, DUE = D(2017, 1, 1), D(2017, 12, 31)
M_JUNE = MilestoneFacts(seq=1, due=D(2017, 6, 30))


def facts(**kw: object) -> TaskFacts:
    base: dict[str, object] = {"start": START, "due": DUE}
    base.update(kw)
    return TaskFacts(**base)  # type: ignore[arg-type]


def on_pace(day: date) -> tuple[tuple[date, int], ...]:
    """A lead-unit report on `day` exactly on schedule, so the progress rule stays quiet."""
    return ((day, 100),)


CASES = [
    # (what, facts, today, expected)
    ("day before start", facts(), D(2016, 12, 31), Status.NOT_STARTED),
    ("start day, nothing due", facts(), D(2017, 1, 1), Status.ON_TRACK),
    # behind 序时进度: 0% done; day 73 = 73/365 = exactly 20 points -> not "more than"
    ("73 days elapsed, 0%: exactly 20 points behind", facts(), D(2017, 3, 14), Status.ON_TRACK),
    ("74 days elapsed, 0%: 20.27 points behind", facts(), D(2017, 3, 15), Status.AT_RISK),
    # day 90 (2017-03-31): expected 24.66%; 5% -> 19.66 behind, 4% -> 20.66 behind
    ("day 90 at 5%", facts(reports=((D(2017, 3, 1), 5),)), D(2017, 3, 31), Status.ON_TRACK),
    ("day 90 at 4%", facts(reports=((D(2017, 3, 1), 4),)), D(2017, 3, 31), Status.AT_RISK),
    (
        "report dated tomorrow is not yet read",
        facts(reports=((D(2017, 4, 1), 50),)),
        D(2017, 3, 31),
        Status.AT_RISK,
    ),
    (
        "the newest report counts",
        facts(reports=((D(2017, 2, 1), 50), (D(2017, 3, 1), 4))),
        D(2017, 3, 31),
        Status.AT_RISK,
    ),
    # a milestone due 2017-06-30 with no report: warned from 06-23 (7 days) to 06-30 (0 days)
    (
        "milestone 8 days ahead",
        facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 1))),
        D(2017, 6, 22),
        Status.ON_TRACK,
    ),
    (
        "milestone 7 days ahead, unreported",
        facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 1))),
        D(2017, 6, 23),
        Status.AT_RISK,
    ),
    (
        "milestone due today, unreported",
        facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 1))),
        D(2017, 6, 30),
        Status.AT_RISK,
    ),
    (
        "lead report inside the window counts",
        facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 23))),
        D(2017, 6, 25),
        Status.ON_TRACK,
    ),
    (
        "lead report the day before the window does not",
        facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 22))),
        D(2017, 6, 25),
        Status.AT_RISK,
    ),
    (
        "report linked to the milestone counts",
        facts(
            milestones=(MilestoneFacts(1, D(2017, 6, 30), report_dates=(D(2017, 6, 1),)),),
            reports=on_pace(D(2017, 6, 1)),
        ),
        D(2017, 6, 25),
        Status.ON_TRACK,
    ),
    # red the day after the milestone date, unless met
    (
        "milestone one day past, unmet",
        facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 30))),
        D(2017, 7, 1),
        Status.OVERDUE,
    ),
    (
        "milestone met on its date",
        facts(
            milestones=(MilestoneFacts(1, D(2017, 6, 30), met_on=D(2017, 6, 30)),),
            reports=on_pace(D(2017, 6, 30)),
        ),
        D(2017, 7, 1),
        Status.ON_TRACK,
    ),
    (
        "met later than today is not yet met",
        facts(
            milestones=(MilestoneFacts(1, D(2017, 6, 30), met_on=D(2017, 7, 5)),),
            reports=on_pace(D(2017, 6, 30)),
        ),
        D(2017, 7, 2),
        Status.OVERDUE,
    ),
    # caught up: red turns back to yellow, and green once a later milestone is met on time
    (
        "caught up late -> yellow",
        facts(
            milestones=(MilestoneFacts(1, D(2017, 6, 30), met_on=D(2017, 7, 5)),),
            reports=on_pace(D(2017, 7, 5)),
        ),
        D(2017, 7, 6),
        Status.AT_RISK,
    ),
    (
        "next milestone on time -> green",
        facts(
            milestones=(
                MilestoneFacts(1, D(2017, 6, 30), met_on=D(2017, 7, 5)),
                MilestoneFacts(2, D(2017, 9, 30), met_on=D(2017, 9, 20)),
            ),
            reports=on_pace(D(2017, 9, 20)),
        ),
        D(2017, 9, 21),
        Status.ON_TRACK,
    ),
    # the task's own date
    ("due day itself", facts(reports=on_pace(D(2017, 12, 31))), D(2017, 12, 31), Status.ON_TRACK),
    (
        "day after the due date",
        facts(reports=on_pace(D(2017, 12, 31))),
        D(2018, 1, 1),
        Status.OVERDUE,
    ),
    # done and closed beat every colour, from their date on
    ("declared done while overdue", facts(completed_on=D(2018, 1, 3)), D(2018, 1, 3), Status.DONE),
    (
        "done tomorrow is not done today",
        facts(completed_on=D(2018, 1, 4)),
        D(2018, 1, 3),
        Status.OVERDUE,
    ),
    (
        "closed",
        facts(completed_on=D(2017, 12, 1), closed_on=D(2017, 12, 5)),
        D(2017, 12, 5),
        Status.CLOSED,
    ),
    (
        "closed tomorrow: still done today",
        facts(completed_on=D(2017, 12, 1), closed_on=D(2017, 12, 6)),
        D(2017, 12, 5),
        Status.DONE,
    ),
]


@pytest.mark.parametrize(("what", "f", "today", "expected"), CASES, ids=[c[0] for c in CASES])
def test_status_boundaries(what: str, f: TaskFacts, today: date, expected: Status) -> None:
    assert task_status(f, today, T) is expected


def test_thresholds_change_the_boundary() -> None:
    loose = Thresholds(warn_days=3, behind_points=30)
    assert task_status(facts(), D(2017, 3, 15), loose) is Status.ON_TRACK  # 20.27 < 30
    f = facts(milestones=(M_JUNE,), reports=on_pace(D(2017, 6, 1)))
    assert task_status(f, D(2017, 6, 26), loose) is Status.ON_TRACK  # 4 days ahead
    assert task_status(f, D(2017, 6, 27), loose) is Status.AT_RISK  # 3 days ahead


def test_reasons_name_the_milestone_and_figures() -> None:
    f = facts(milestones=(M_JUNE, MilestoneFacts(2, D(2017, 3, 31))))
    a = assess(f, D(2017, 4, 10), T)
    assert a.status is Status.OVERDUE
    assert [(r.code, r.seq, r.days) for r in a.reasons] == [("milestone_overdue", 2, 10)]
    assert a.days_overdue == 10
    b = assess(facts(), D(2017, 3, 15), T)
    assert b.reasons[0].code == "behind_schedule"
    assert b.reasons[0].expected == Fraction(74 * 100, 365)


def test_days_overdue_takes_the_oldest_unmet_date() -> None:
    f = facts(milestones=(MilestoneFacts(1, D(2017, 3, 31)), MilestoneFacts(2, D(2017, 6, 30))))
    assert days_overdue(f, D(2017, 7, 2)) == 93  # 2017-03-31 -> 07-02
    assert days_overdue(f, D(2017, 3, 31)) == 0


def test_elapsed_share_counts_both_ends() -> None:
    assert elapsed_share(START, DUE, D(2017, 1, 1)) == Fraction(1, 365)
    assert elapsed_share(START, DUE, D(2016, 12, 1)) == 0
    assert elapsed_share(START, DUE, D(2018, 1, 1)) == 1


def test_on_time_share_judges_met_or_past_milestones() -> None:
    ms = (
        MilestoneFacts(1, D(2017, 3, 31), met_on=D(2017, 3, 31)),  # on time
        MilestoneFacts(2, D(2017, 4, 30), met_on=D(2017, 5, 2)),  # late
        MilestoneFacts(3, D(2017, 5, 31)),  # missed
        MilestoneFacts(4, D(2017, 6, 30), met_on=D(2017, 6, 1)),  # early
        MilestoneFacts(5, D(2017, 7, 31)),  # not yet judged
    )
    assert on_time(ms, D(2017, 6, 15)) == (2, 4)


def test_a_task_just_issued_with_time_left_is_not_yellow() -> None:
    """Decided at a meeting on 1 November, supervised on 3 December, due 31 December.

    序时进度 on 3 December: (3 Dec - 1 Nov) + 1 = 33 of 61 days = 54.1 %, no report yet:
    54 points behind, but the task is one day old, so green; on 10 December (7 days after
    issue, 40 of 61 days = 65.6 %) still no report: yellow; a report on 5 December saying
    10 % keeps it judged (expected 57.4 % - 10 = 47.4 > 20): yellow on 5 December.
    """
    facts = TaskFacts(start=date(2026, 11, 1), due=date(2026, 12, 31), issued_on=date(2026, 12, 3))
    on_issue = assess(facts, date(2026, 12, 3))
    assert on_issue.status == Status.ON_TRACK
    assert on_issue.expected_percent == Fraction(33 * 100, 61)
    assert assess(facts, date(2026, 12, 9)).status == Status.ON_TRACK
    week = assess(facts, date(2026, 12, 10))
    assert week.status == Status.AT_RISK and week.reasons[0].code == "behind_schedule"
    reported = TaskFacts(
        start=date(2026, 11, 1),
        due=date(2026, 12, 31),
        issued_on=date(2026, 12, 3),
        reports=((date(2026, 12, 5), 10),),
    )
    assert assess(reported, date(2026, 12, 5)).status == Status.AT_RISK
    # without an issue date (the rules alone) the same facts are yellow at once
    assert (
        task_status(TaskFacts(start=date(2026, 11, 1), due=date(2026, 12, 31)), date(2026, 12, 3))
        == Status.AT_RISK
    )
