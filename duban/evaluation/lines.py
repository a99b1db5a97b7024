"""Scores along a line (条线): a division head reads his line's items of a published scheme
in every territorial unit under the division's parent, and nothing else of the scheme.

The scheme's totals, grades and other items stay with the units' own readers: a total mixes
every line, so showing it along one line would show the others too. A line reader sees, per
item of his line, each unit's figure, points and place among the units he sees, weakest
first (the laggards are what a division head phones about).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from duban.evaluation import access
from duban.evaluation.models import Scheme, SchemeItem, SchemeStatus
from duban.evaluation.scoring import Scored
from duban.indicators.models import Indicator
from duban.orgs import policy
from duban.orgs.models import Kind, Line, OrgUnit
from duban.orgs.policy import Action


@dataclass(frozen=True)
class LineRow:
    unit: OrgUnit
    value: Decimal | None
    score: Decimal
    max_score: Decimal
    place: int  # among the units shown, 1 = most points
    behind: bool  # behind expected progress


@dataclass(frozen=True)
class LineItem:
    item: SchemeItem
    rows: list[LineRow]  # weakest first


def line_items(scheme: Scheme, line: str) -> list[SchemeItem]:
    """The scheme's items whose indicator belongs to `line`, in the scheme's order."""
    codes = Indicator.objects.filter(line=line).values_list("code", flat=True)
    return list(
        SchemeItem.objects.filter(scheme=scheme, indicator__in=codes).order_by(
            "category__sort_order", "category_id", "sort_order", "id"
        )
    )


def line_members(user: Any, scheme: Scheme, line: str) -> set[str]:
    """The scheme's member codes whose `line` results the user may read: those he reads in
    full, and the territorial units his division roles on that line reach."""
    members = access.member_codes(scheme)
    if scheme.status != SchemeStatus.PUBLISHED:
        return set()
    seen = access.visible_members(user, scheme, members)
    territories = [
        r.territory for r in policy.line_reaches(user, Action.VIEW_DATA) if r.line == line
    ]
    if territories:
        for code, path in OrgUnit.objects.filter(
            code__in=members, kind=Kind.TERRITORIAL
        ).values_list("code", "path"):
            if any(path.startswith(t) for t in territories):
                seen.add(code)
    return seen


def require_line(user: Any, scheme: Scheme, line: str) -> tuple[list[SchemeItem], set[str]]:
    """The line's items and the members the user reads along it; 403 when either is empty."""
    if line not in Line.values:
        raise PermissionDenied(_("There is no such line."))
    items = line_items(scheme, line)
    seen = line_members(user, scheme, line)
    if not items or not seen:
        raise PermissionDenied(
            _("The scheme %(scheme)s scores nothing of this line that you may see.")
            % {"scheme": scheme.code}
        )
    return items, seen


def line_table(scored: Scored, items: list[SchemeItem], seen: set[str]) -> list[LineItem]:
    """Per item of the line: the seen units' results, weakest first (ties by unit order)."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=seen)}
    tables = []
    for item in items:
        results = [
            scored.result.units[code].items[item.code]
            for code in scored.result.units
            if code in seen and item.code in scored.result.units[code].items
        ]
        by_points = sorted(results, key=lambda r: -r.score)
        # competition places: equal points share a place, the next place skips
        places = {r.unit: 1 + sum(1 for o in by_points if o.score > r.score) for r in by_points}
        rows = [
            LineRow(
                unit=units[r.unit],
                value=r.value,
                score=r.score,
                max_score=r.max_score,
                place=places[r.unit],
                behind="behind" in r.flags,
            )
            for r in by_points
        ]
        rows.reverse()  # weakest first
        tables.append(LineItem(item, rows))
    return tables


def line_schemes(user: Any) -> list[tuple[Scheme, str]]:
    """(published scheme, line) pairs the user reads along a line: schemes scoring an item of
    one of his lines in some unit of that line's territory."""
    pairs = []
    for reach in policy.line_reaches(user, Action.VIEW_DATA):
        codes = Indicator.objects.filter(line=reach.line).values_list("code", flat=True)
        schemes = Scheme.objects.filter(
            status=SchemeStatus.PUBLISHED,
            items__indicator__in=codes,
            groups__members__unit__path__startswith=reach.territory,
            groups__members__unit__kind=Kind.TERRITORIAL,
        ).distinct()
        pairs += [(s, reach.line) for s in schemes]
    unique = {(s.pk, line): (s, line) for s, line in pairs}
    return sorted(unique.values(), key=lambda p: (-p[0].year, p[0].code, p[1]))
