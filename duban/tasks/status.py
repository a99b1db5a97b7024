"""Red-yellow-green status of a task, computed from facts and a date, never typed in.

Plain Python (no Django) so the rules can be table-tested at their boundaries
with hand-worked dates. Anything dated after `today` is ignored, so the same
facts give the status as it stood on any earlier day.

Order of the rules (the first that applies wins):

1. closed off the ledger (对账销号) by the issuing unit  -> CLOSED
2. declared done, awaiting the issuing unit's check     -> DONE
3. before the start date                                -> NOT_STARTED
4. the due date, or a milestone's, has passed unmet     -> OVERDUE (red)
5. at risk (yellow), any of:
   - a milestone falls due within `warn_days` days (today included) and has no
     report: none linked to it and no lead-unit report since the warning window opened;
   - progress is more than `behind_points` points behind 序时进度, the share of
     the task's days elapsed (start and today inclusive) times 100 — except in the
     first `warn_days` days after the task was issued while the lead unit has not
     reported yet (a task just created, even from a meeting held earlier, has time to
     send its first report before it is called behind);
   - caught up late: the latest-due milestone met so far was met after its date
     (a task back from red stays yellow until it meets a milestone on time)
6. otherwise                                            -> ON_TRACK (green)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction


class Status(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    DONE = "done"
    CLOSED = "closed"

    @property
    def colour(self) -> str:
        """The lamp shown beside the task (红黄绿灯)."""
        return {
            Status.ON_TRACK: "green",
            Status.AT_RISK: "yellow",
            Status.OVERDUE: "red",
        }.get(self, "grey")

    @property
    def is_open(self) -> bool:
        return self not in (Status.DONE, Status.CLOSED)


@dataclass(frozen=True)
class Thresholds:
    warn_days: int = 7
    behind_points: int = 20


@dataclass(frozen=True)
class MilestoneFacts:
    seq: int
    due: date
    met_on: date | None = None
    # dates of progress reports written for this milestone
    report_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class TaskFacts:
    start: date
    due: date
    milestones: tuple[MilestoneFacts, ...] = ()
    # the lead unit's reports: (date, percent done); NULL percent means "not stated"
    reports: tuple[tuple[date, int | None], ...] = ()
    completed_on: date | None = None
    closed_on: date | None = None
    # the day the task was issued to the lead unit (None: judged from the start date alone)
    issued_on: date | None = None


@dataclass(frozen=True)
class Reason:
    """Why a task has its colour: a code and the milestone/figures it is about."""

    code: str
    seq: int | None = None
    days: int | None = None
    expected: Fraction | None = None
    actual: int | None = None


@dataclass(frozen=True)
class Assessment:
    status: Status
    reasons: tuple[Reason, ...] = field(default=())
    days_overdue: int = 0
    expected_percent: Fraction = Fraction(0)
    percent: int | None = None


def _on_or_before(value: date | None, today: date) -> bool:
    return value is not None and value <= today


def elapsed_share(start: date, end: date, today: date) -> Fraction:
    """Share of [start, end] elapsed by `today` inclusive, as duban.periods counts it."""
    if today < start:
        return Fraction(0)
    if today >= end:
        return Fraction(1)
    return Fraction((today - start).days + 1, (end - start).days + 1)


def latest_percent(facts: TaskFacts, today: date) -> int | None:
    """Percent done in the newest lead-unit report dated today or earlier that states one."""
    dated = [(d, p) for d, p in facts.reports if d <= today and p is not None]
    return max(dated, key=lambda r: r[0])[1] if dated else None


def days_overdue(facts: TaskFacts, today: date) -> int:
    """Days past the oldest unmet due date (task or milestone); 0 when nothing is late."""
    if _on_or_before(facts.completed_on, today) or _on_or_before(facts.closed_on, today):
        return 0
    dues = [m.due for m in facts.milestones if not _on_or_before(m.met_on, today)]
    dues.append(facts.due)
    late = [(today - d).days for d in dues if d < today]
    return max(late, default=0)


def assess(facts: TaskFacts, today: date, thresholds: Thresholds | None = None) -> Assessment:
    """The status on `today` with every reason for it (see the module docstring)."""
    t = thresholds or Thresholds()
    percent = latest_percent(facts, today)
    expected = elapsed_share(facts.start, facts.due, today) * 100

    def verdict(status: Status, reasons: tuple[Reason, ...] = (), overdue: int = 0) -> Assessment:
        return Assessment(status, reasons, overdue, expected, percent)

    if _on_or_before(facts.closed_on, today):
        return verdict(Status.CLOSED)
    if _on_or_before(facts.completed_on, today):
        return verdict(Status.DONE)
    if today < facts.start:
        return verdict(Status.NOT_STARTED)

    overdue = days_overdue(facts, today)
    red: list[Reason] = []
    if facts.due < today:
        red.append(Reason("task_overdue", days=(today - facts.due).days))
    for m in facts.milestones:
        if m.due < today and not _on_or_before(m.met_on, today):
            red.append(Reason("milestone_overdue", seq=m.seq, days=(today - m.due).days))
    if red:
        return verdict(Status.OVERDUE, tuple(red), overdue)

    yellow: list[Reason] = []
    lead_dates = [d for d, _ in facts.reports if d <= today]
    for m in facts.milestones:
        if _on_or_before(m.met_on, today) or not 0 <= (m.due - today).days <= t.warn_days:
            continue
        window_opens = m.due - timedelta(days=t.warn_days)
        reported = any(d <= today for d in m.report_dates) or any(
            d >= window_opens for d in lead_dates
        )
        if not reported:
            yellow.append(Reason("milestone_due_unreported", seq=m.seq, days=(m.due - today).days))
    behind = expected - (percent or 0)
    new = (
        facts.issued_on is not None
        and not lead_dates
        and (today - facts.issued_on).days < t.warn_days
    )
    if behind > t.behind_points and not new:
        yellow.append(Reason("behind_schedule", expected=expected, actual=percent or 0))
    met = [m for m in facts.milestones if _on_or_before(m.met_on, today)]
    if met:
        last = max(met, key=lambda m: (m.due, m.seq))
        if last.met_on is not None and last.met_on > last.due:
            yellow.append(
                Reason("caught_up_late", seq=last.seq, days=(last.met_on - last.due).days)
            )
    if yellow:
        return verdict(Status.AT_RISK, tuple(yellow))
    return verdict(Status.ON_TRACK)


def task_status(facts: TaskFacts, today: date, thresholds: Thresholds | None = None) -> Status:
    return assess(facts, today, thresholds).status


def on_time(
    milestones: tuple[MilestoneFacts, ...] | list[MilestoneFacts], today: date
) -> tuple[int, int]:
    """(met on time, judged): a milestone is judged once met or once its date has passed."""
    judged = [m for m in milestones if _on_or_before(m.met_on, today) or m.due < today]
    good = [m for m in judged if m.met_on is not None and m.met_on <= today and m.met_on <= m.due]
    return len(good), len(judged)
