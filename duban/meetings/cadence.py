"""The recurring mechanisms of seed 004 per issuing unit: which were held, which are due.

一月一研究 (monthly study) and 一季一点评 (quarterly review) count as held when the
unit held a meeting of that kind in the period, or a record says so; 一月一通报
(monthly bulletin) when the bulletins app reports one or a record names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from duban.meetings.models import Cadence, CadenceRecord, Mechanism, Meeting, MeetingKind
from duban.orgs.models import OrgUnit
from duban.periods import Period, PeriodType, periods_between

MEETING_KIND = {
    Mechanism.MONTHLY_STUDY: MeetingKind.MONTHLY_STUDY,
    Mechanism.QUARTERLY_REVIEW: MeetingKind.QUARTERLY_REVIEW,
}
PERIOD_TYPE = {
    Mechanism.MONTHLY_STUDY: PeriodType.MONTHLY,
    Mechanism.MONTHLY_BULLETIN: PeriodType.MONTHLY,
    Mechanism.QUARTERLY_REVIEW: PeriodType.QUARTERLY,
}


#: Set by the bulletins app when it is installed (it sits above meetings): the dates of a
#: unit's issued monthly bulletins in [start, end], each with its document number.
ISSUED_BULLETINS: Callable[[OrgUnit, date, date], list[tuple[date, str]]] | None = None


def bulletins_issued(unit: OrgUnit, start: date, end: date) -> list[tuple[date, str]]:
    """The unit's issued bulletins in [start, end] (date, number), from the documents."""
    return ISSUED_BULLETINS(unit, start, end) if ISSUED_BULLETINS is not None else []


@dataclass(frozen=True)
class CadenceCell:
    period: Period
    state: str  # held | due | missed | upcoming | before (not yet committed)
    held_on: date | None = None
    reference: str = ""


@dataclass(frozen=True)
class CadenceLine:
    cadence: Cadence
    cells: tuple[CadenceCell, ...]

    @property
    def held(self) -> int:
        return sum(1 for c in self.cells if c.state == "held")

    @property
    def missed(self) -> int:
        return sum(1 for c in self.cells if c.state == "missed")


def _cell(
    cadence: Cadence, period: Period, today: date, held: tuple[date, str] | None
) -> CadenceCell:
    if held:
        return CadenceCell(period, "held", held[0], held[1])
    if period.end < cadence.since:
        return CadenceCell(period, "before")
    if period.start > today:
        return CadenceCell(period, "upcoming")
    if period.end >= today:
        return CadenceCell(period, "due")
    return CadenceCell(period, "missed")


def cadence_table(unit: OrgUnit, year: int, today: date) -> list[CadenceLine]:
    """One line per active mechanism of `unit`, one cell per month or quarter of `year`."""
    lines = []
    for cadence in Cadence.objects.filter(unit=unit, active=True).order_by("mechanism"):
        mech = Mechanism(cadence.mechanism)
        periods = periods_between(PERIOD_TYPE[mech], date(year, 1, 1), date(year, 12, 31))
        held: dict[str, tuple[date, str]] = {}
        for rec in CadenceRecord.objects.filter(
            unit=unit, mechanism=mech, period__startswith=str(year)
        ):
            held[rec.period] = (rec.held_on, rec.reference)
        kind = MEETING_KIND.get(mech)
        for p in periods:
            if p.id in held:
                continue
            if kind is not None:
                m = (
                    Meeting.objects.filter(
                        unit=unit, kind=kind, held_on__range=(p.start, min(p.end, today))
                    )
                    .order_by("held_on")
                    .first()
                )
                if m is not None:
                    held[p.id] = (m.held_on, m.title)
            else:
                issued = [b for b in bulletins_issued(unit, p.start, p.end) if b[0] <= today]
                if issued:
                    held[p.id] = min(issued)
        lines.append(
            CadenceLine(cadence, tuple(_cell(cadence, p, today, held.get(p.id)) for p in periods))
        )
    return lines
