"""What the monthly bulletin and the quarterly review read from the data, as JSON.

Scores come from the evaluation app (``scoring.score``: every unit's result, the rank change
since the period before); the parent's and the groups' totals from the engine's totals, worked
from the summed raw figures; the key tasks from the ledger. Exact decimals are kept as strings
(``plain``) so a snapshot reads back exactly; builders format them only when they compose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from duban.bulletins.kinds import Json, Source
from duban.errors import DubanError
from duban.evaluation import engine
from duban.evaluation.engine.decimals import plain
from duban.evaluation.engine.results import SchemeResult
from duban.evaluation.models import Scheme, SchemeStatus
from duban.evaluation.scoring import Scored, score
from duban.orgs.models import OrgUnit
from duban.periods import PeriodType, parse_period
from duban.tasks import access as task_access
from duban.tasks.ledger import Filters, ledger_rows
from duban.tasks.status import Status

#: Bands of a progress rate as published bulletins print them: 完成 / 70%以上 / 50%–70% /
#: 50%以下 (bound inclusive below).
BANDS = (("complete", Decimal(100)), ("above70", Decimal(70)), ("above50", Decimal(50)))
BELOW = "below50"
SCOPE_WORDS = {"province": "全省", "city": "全市", "county": "全县"}


def scope_word(unit: OrgUnit) -> str:
    """全省 / 全市 / 全县: how a document names the whole of the issuer's area."""
    return SCOPE_WORDS.get(unit.level, "全") or "全"


def band_of(rate: Decimal | None) -> str | None:
    if rate is None:
        return None
    for code, bound in BANDS:
        if rate >= bound:
            return code
    return BELOW


def scheme_of(source: Source) -> Scheme:
    scheme = source.series.scheme
    if scheme is None or scheme.status != SchemeStatus.PUBLISHED:
        raise DubanError(_("the series names no published evaluation scheme"), "scheme")
    return scheme


def checked_period(source: Source, kind: PeriodType) -> str:
    try:
        period = parse_period(source.period)
    except ValueError as error:
        raise DubanError(str(error), "period") from None
    if period.type is not kind:
        wanted = _("a month (201711)") if kind is PeriodType.MONTHLY else _("a quarter (2017Q4)")
        raise DubanError(_("give %(wanted)s") % {"wanted": wanted}, "period")
    return period.id


def name(names: Any, lang: str = "zh") -> str:
    if isinstance(names, dict):
        return str(names.get(lang) or names.get("zh") or "")
    return str(names)


@dataclass
class Scores:
    scored: Scored

    @property
    def result(self) -> SchemeResult:
        return self.scored.result

    @property
    def previous(self) -> SchemeResult | None:
        return self.scored.previous


def scores(scheme: Scheme, period: str, today: date) -> Scores:
    try:
        return Scores(score(scheme, period, today=today))
    except DubanError:
        raise
    except ValueError as error:
        raise DubanError(str(error), "period") from None


def progress_item(scheme_engine: engine.Scheme, wanted: str) -> engine.Item | None:
    """The item whose completion the bulletin reports as progress: the series' choice, else
    the first item with targets (done ÷ task)."""
    items = scheme_engine.items
    if wanted:
        return next((i for i in items if i.code == wanted), None)
    return next((i for i in items if i.target is not None or i.unit_targets), None)


def ranking(scored: Scored) -> list[Json]:
    """Every ranked unit: rank, change since the period before, total, grade."""
    rows = []
    for code, u in scored.result.units.items():
        change = scored.changes.get(code)
        rows.append(
            {
                "code": code,
                "name": name(u.unit.name),
                "group": u.group,
                "sequence": u.sequence,
                "rank": u.rank,
                "change": change.delta if change is not None else None,
                "total": plain(u.display),
                "grade": name(u.grade.name),
                "vetoed": u.vetoed,
            }
        )
    return rows


def cohorts(scored: Scored) -> list[Json]:
    groups = {g.code: g for g in scored.engine.groups}
    out = []
    for group_code, sequence, members in scored.result.cohorts:
        group = groups[group_code]
        label = name(group.name)
        seq = next((s for s in group.sequences if s.code == sequence), None)
        if seq is not None:
            label = f"{label}·{name(seq.name)}"
        out.append(
            {"group": group_code, "sequence": sequence, "name": label, "units": list(members)}
        )
    return out


def losses(result: SchemeResult, unit: str, limit: int = 3) -> list[Json]:
    """The unit's items losing most points (短板), most first."""
    rows = [
        (r.points_lost, r.item)
        for r in result.units[unit].items.values()
        if r.counted and r.points_lost > 0
    ]
    rows.sort(key=lambda x: (-x[0], x[1].code))
    return [{"item": i.code, "name": name(i.name), "lost": plain(lost)} for lost, i in rows[:limit]]


def task_status(source: Source, units: Iterable[OrgUnit], as_of: date) -> Json:
    """Open key tasks issued by or led within the issuer: counts by lamp, overdue by lead."""
    issuer = source.series.issuer
    rows = ledger_rows(task_access.visible_tasks(source.user), as_of, Filters(scope=issuer))
    counts = {"red": 0, "yellow": 0, "green": 0}
    overdue: dict[str, list[list[str]]] = {}
    for row in rows:
        colour = row.status.colour
        if colour in counts:
            counts[colour] += 1
        if row.status == Status.OVERDUE:
            lead = row.task.lead_unit.name_zh if row.task.lead_unit_id else ""
            overdue.setdefault(lead, []).append(
                [row.task.title, row.task.due_date.isoformat() if row.task.due_date else ""]
            )
    led: dict[str, int] = {}
    by_path = {u.path: u.code for u in units}
    for row in rows:
        if row.status != Status.OVERDUE or not row.task.lead_unit_id:
            continue
        path = row.task.lead_unit.path
        for unit_path, code in by_path.items():
            if path.startswith(unit_path):
                led[code] = led.get(code, 0) + 1
    return {
        "as_of": as_of.isoformat(),
        "counts": counts,
        "overdue": [{"lead": lead, "tasks": tasks} for lead, tasks in sorted(overdue.items())],
        "overdue_by_unit": led,
    }


def units_of(codes: Iterable[str]) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(code__in=list(codes)).select_related("parent"))


def invented(units: Iterable[OrgUnit]) -> bool:
    return any(u.is_demo for u in units)
