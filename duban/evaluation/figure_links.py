"""Where an item's figures come from: the reporting form (or overview) of the unit and
period, so the derivation page leads one level further down."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from duban.indicators.models import DataSetMember
from duban.orgs.models import OrgUnit
from duban.periods import parse_period


def figure_links(
    unit: OrgUnit, period: str, indicators: Iterable[str], year_to_date: Iterable[str] = ()
) -> dict[str, str]:
    """Indicator code -> the page of its figures (one query): the unit's own form when it
    reports the figure for this kind of period, else the overview (children, months added
    up); an item scored on the year to date (``year_to_date``) links the year's overview."""
    links: dict[str, str] = {}
    summed = set(year_to_date)
    try:
        ptype = str(parse_period(period).type)
    except ValueError:
        return links
    rows = DataSetMember.objects.filter(indicator__code__in=set(indicators)).select_related(
        "data_set", "indicator__issuer"
    )
    for row in rows:
        code = row.indicator.code
        if code in summed:
            args = [row.data_set.code, unit.code, period[:4]]
            links[code] = reverse("reporting:overview", args=args)
            continue
        own = str(row.data_set.period_type) == ptype and row.indicator.reported_by(unit)
        name = "reporting:form" if own else "reporting:overview"
        links[code] = reverse(name, args=[row.data_set.code, unit.code, period])
    return links
