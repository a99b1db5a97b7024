"""Period identifiers over HTTP, so forms and scripts share one parser."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema

from duban.errors import DubanError
from duban.periods import parse_period

router = Router(tags=["periods"])


class PeriodOut(Schema):
    id: str
    type: str
    start: date
    end: date
    previous: str
    next: str


@router.get("/{period_id}", response=PeriodOut)
def period_detail(request: HttpRequest, period_id: str) -> PeriodOut:
    try:
        period = parse_period(period_id)
    except ValueError as exc:
        raise DubanError(str(exc), "period") from None
    return PeriodOut(
        id=period.id,
        type=str(period.type),
        start=period.start,
        end=period.end,
        previous=period.previous().id,
        next=period.next().id,
    )
