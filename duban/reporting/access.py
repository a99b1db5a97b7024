"""Fetching what a route acts on and authorising it, shared by pages and API routes.

404 when a code names nothing (or a unit that does not report the data set),
403 when the policy refuses the action at the unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from duban.indicators.models import DataSet, Indicator
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, parse_period, periods_between
from duban.reporting.errors import ReportingError
from duban.reporting.models import Submission
from duban.web import actor, unit_or_403

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class FormTarget:
    """One form, as its reader may see it: `lines` None for all of it, else only the
    indicators of these lines (a division head reading his line in a county)."""

    data_set: DataSet
    unit: OrgUnit
    period: Period
    lines: frozenset[str] | None = None

    def shows(self, indicator: Indicator) -> bool:
        return self.lines is None or indicator.line in self.lines

    def submission(self) -> Submission | None:
        return (
            Submission.objects.select_related("data_set", "data_set__owner", "unit")
            .filter(data_set=self.data_set, unit=self.unit, period=self.period.id)
            .first()
        )

    def url_args(self) -> tuple[str, str, str]:
        return (self.data_set.code, self.unit.code, self.period.id)


def parse_period_or_404(text: str, data_set: DataSet | None = None) -> Period:
    try:
        period = parse_period(text)
    except (ValueError, TypeError):
        raise Http404(f"no period {text!r}") from None
    if data_set is not None and period.type != data_set.period_type:
        raise Http404(f"{data_set.code} has no period {text!r}")
    return period


unit_for = unit_or_403


def data_set_or_404(code: str) -> DataSet:
    return get_object_or_404(DataSet.objects.select_related("owner"), code=code)


def form_target(
    request: HttpRequest,
    ds_code: str,
    unit_code: str,
    period: str,
    action: Action,
    *,
    coarser: bool = False,
) -> FormTarget:
    """The data set, unit and period of one form, with `action` checked at the unit.

    `coarser` admits a quarter or year of a monthly data set (overviews aggregate).
    """
    ds = data_set_or_404(ds_code)
    lines: frozenset[str] | None = None
    if action == Action.VIEW_DATA:
        unit, lines = readable_unit(request, unit_code, {i.line for i in ds.members()})
    else:
        unit = unit_for(request, unit_code, action)
    p = parse_period_or_404(period, None if coarser else ds)
    if coarser and p.type.rank < parse_period_or_404(_sample(ds.period_type)).type.rank:
        raise Http404(f"{ds.code} has no period {period!r}")
    if not unit.path.startswith(ds.owner.path):
        raise Http404(f"{unit.code} is outside data set {ds.code}")
    return FormTarget(ds, unit, p, lines)


def readable_unit(
    request: HttpRequest, code: str, lines_there: set[str] | None = None
) -> tuple[OrgUnit, frozenset[str] | None]:
    """The unit whose figures are read, and which of them: None for all, else the lines a
    division head follows there (of `lines_there`, when given). 403 when neither."""
    unit = get_object_or_404(OrgUnit.objects.select_related("parent"), code=code)
    lines = policy.lines_at(actor(request), unit)
    if lines is not None:
        if lines_there is not None:
            lines = lines & lines_there
        if not lines:
            raise PermissionDenied(f"view_data not allowed at {unit.code}")
    return unit, lines


def _sample(period_type: str) -> str:
    return {
        "daily": "20170101",
        "weekly": "2017W1",
        "monthly": "201701",
        "quarterly": "2017Q1",
        "sixmonthly": "2017S1",
        "yearly": "2017",
    }[period_type]


def selection_periods(period: str = "", start: str = "", end: str = "") -> tuple[str, ...]:
    """`period=201701,201702` or `start=201701&end=201712` (same period type)."""
    try:
        if period:
            return tuple(parse_period(p).id for p in period.split(",") if p.strip())
        if start and end:
            a, b = parse_period(start), parse_period(end)
            if a.type != b.type:
                raise ReportingError("start and end are periods of different types", "end")
            return tuple(p.id for p in periods_between(a.type, a.start, b.end))
    except ValueError as exc:
        raise ReportingError(str(exc), "period") from None
    raise ReportingError("name a period, or a start and an end", "period")


def template_units(target: FormTarget, children: bool) -> list[OrgUnit]:
    """The units an entry template covers: the form's own, or each active one below that
    reports the data set."""
    if not children:
        return [target.unit]
    kids = [
        c
        for c in target.unit.children.filter(is_active=True).order_by("sort_order", "code")
        if target.data_set.reported_by(c)
    ]
    if not kids:
        raise ReportingError(
            f"no unit below {target.unit.code} reports {target.data_set.code}", "children"
        )
    return kids


def require_reports(target: FormTarget) -> None:
    if not target.data_set.reported_by(target.unit):
        raise Http404(f"{target.unit.code} does not report {target.data_set.code}")


__all__ = [
    "FormTarget",
    "actor",
    "data_set_or_404",
    "form_target",
    "parse_period_or_404",
    "require_reports",
    "selection_periods",
    "template_units",
    "unit_for",
]
