"""The dispatch-meeting screen (调度会): one slide per unit while its chief reports.

For each participating unit, in the meeting's order (territorial bureaus in the tree's order,
then the divisions, the convening unit's own slide last: the city-wide picture the chair
sums up with), the slide holds its figures this week, the last 28 days and the year to date
beside the same span before, its rank and total in the convening unit's published scheme, and
its red (overdue) tasks by name.

The pack is plain JSON holding names (both languages), never codes, built once with the
policy for a reader of the convening unit (`build_screen(..., viewer=...)`): figures only
approved or locked ones he may read (`reporting.figures.readable_values`), ranks only of the
units `evaluation.access` lets him see, tasks only those `tasks.access` lets him see. When the
meeting is held it is frozen (`freeze_screen`) and from then on shown from the store; each
reader sees only the slides of the units he may read (`slides_for`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from duban.cockpit.models import ScreenPack
from duban.cockpit.screen_spans import Span, change_mark, poisson_z, signed, spans
from duban.errors import DubanError
from duban.indicators.formula import evaluate_all
from duban.indicators.models import DataSet, Indicator, TimeAggregation, ValueType, fmt
from duban.meetings.agenda import tasks_in_scope
from duban.meetings.models import Meeting
from duban.meetings.services import can_manage
from duban.orgs import policy
from duban.orgs.models import Kind, OrgUnit
from duban.orgs.policy import Action
from duban.periods import PeriodType, parse_period, periods_between
from duban.reporting.figures import aggregate_over_time, aggregate_over_units, readable_values
from duban.reporting.models import DONE_STATES
from duban.tasks.ledger import ledger_rows
from duban.tasks.status import Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User
    from duban.orgs.policy import Actor

PACK_VERSION = 1
MAX_ROWS = 6  # indicators on a slide: more would not fit at 32 px on 1080 lines
MAX_TASKS = 4  # red tasks named on a slide; the rest counted ("另有 N 项")
SPAN_PERIODS = (PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY)
Json = dict[str, Any]


class ScreenError(DubanError):
    """The screen cannot be frozen; nothing was changed."""


# Figures -----------------------------------------------------------------------------------


def _names(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en or zh}


def dispatch_indicators(meeting: Meeting) -> list[Indicator]:
    """The indicators of the data sets issued at the convening unit or above it, the finest
    period first (daily, weekly, then monthly), each data set's in its order."""
    ancestors = OrgUnit.objects.ancestors_of(meeting.unit)
    sets = DataSet.objects.filter(
        is_active=True, owner__in=[*ancestors, meeting.unit], period_type__in=SPAN_PERIODS
    )
    ordered = sorted(sets, key=lambda ds: (PeriodType(ds.period_type).rank, ds.code))
    return [ind for ds in ordered for ind in ds.members() if ind.is_active]


def with_figures(candidates: Sequence[Indicator], store: FigureStore) -> list[Indicator]:
    """The candidates with figures (a computed one: with figures of an input); of two of the
    same name, the finer one: it is the same measure, and daily figures fit the spans."""
    present = {ind_id for (_unit, ind_id) in store.values}
    codes = {ind.code: ind.pk for ind in store.indicators}
    chosen: list[Indicator] = []
    names: set[str] = set()
    for ind in candidates:
        formula = ind.parsed_formula
        if formula is not None:
            has = any(codes.get(ref) in present for ref in formula.references)
        else:
            has = ind.pk in present
        if has and ind.name_zh not in names:
            names.add(ind.name_zh)
            chosen.append(ind)
    return chosen


@functools.lru_cache(maxsize=256)
def _periods_inside(ptype: str, start: date, end: date) -> tuple[str, ...]:
    """The ids of the periods of a type wholly inside [start, end] (asked for every unit)."""
    return tuple(p.id for p in periods_between(PeriodType(ptype), start, end))


@dataclass
class FigureStore:
    """Approved figures of the subtree, by (unit, indicator) and period id, loaded in one query."""

    units: dict[int, OrgUnit]
    children: dict[int, list[int]]
    values: dict[tuple[int, int], dict[str, Decimal]]
    indicators: list[Indicator]

    def own(self, unit_id: int, ind: Indicator, start: date, end: date) -> Decimal | None:
        per = self.values.get((unit_id, ind.pk), {})
        found = [per.get(p) for p in _periods_inside(ind.period_type, start, end)]
        return aggregate_over_time(ind.time_aggregation, found)

    def figure(self, unit_id: int, ind: Indicator, start: date, end: date) -> Decimal | None:
        """A unit's own figure where it reports the indicator, else its children's aggregate."""
        unit = self.units[unit_id]
        if ind.reported_by(unit):
            return self.own(unit_id, ind, start, end)
        return aggregate_over_units(
            ind.unit_aggregation,
            [self.figure(c, ind, start, end) for c in self.children.get(unit_id, [])],
        )

    def figures(
        self, unit_id: int, indicators: Sequence[Indicator], start: date, end: date
    ) -> dict[str, Decimal | None]:
        """Every indicator over one span; rates from the span's summed inputs."""
        entered = {
            i.code: self.figure(unit_id, i, start, end) for i in indicators if not i.is_computed
        }
        formulas = {i.code: i.parsed_formula for i in indicators if i.parsed_formula is not None}
        computed = evaluate_all(formulas, entered) if formulas else {}
        return {**entered, **computed}


def load_store(
    root: OrgUnit, indicators: Sequence[Indicator], start: date, end: date, *, viewer: Any
) -> FigureStore:
    """The approved figures `viewer` may read of the root's subtree between two days."""
    visible = policy.visible_units(viewer, Action.VIEW_DATA)
    subtree = OrgUnit.objects.subtree_of(root).filter(is_active=True, pk__in=visible)
    units = {u.pk: u for u in subtree.select_related("parent")}
    children: dict[int, list[int]] = defaultdict(list)
    for u in sorted(units.values(), key=lambda u: (u.sort_order, u.code)):
        if u.parent_id in units:
            children[u.parent_id].append(u.pk)
    entered = [i for i in indicators if not i.is_computed]
    wanted = sorted(
        {
            p
            for ptype in {i.period_type for i in entered}
            for p in _periods_inside(ptype, start, end)
        }
    )
    rows = (
        readable_values(viewer)
        .filter(
            unit_id__in=list(units),
            indicator__in=entered,
            period__in=wanted,
            state__in=[str(s) for s in DONE_STATES],
            value__isnull=False,
        )
        .values_list("unit_id", "indicator_id", "period", "value")
    )
    values: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for unit_id, ind_id, period, value in rows.iterator(chunk_size=5000):
        if value is not None:
            values[(unit_id, ind_id)][period] = value
    return FigureStore(units, dict(children), dict(values), list(indicators))


def _needed(indicators: Sequence[Indicator]) -> list[Indicator]:
    """The indicators shown plus the inputs of the computed ones among them."""
    codes = {i.code for i in indicators}
    refs = {
        r for i in indicators if i.parsed_formula is not None for r in i.parsed_formula.references
    }
    extra = list(Indicator.objects.filter(code__in=refs - codes)) if refs - codes else []
    return [*indicators, *extra]


def is_count(ind: Indicator) -> bool:
    """Counts are summed whole numbers: only they get the chance test."""
    return (
        not ind.is_computed
        and ind.value_type == ValueType.INTEGER
        and ind.time_aggregation == TimeAggregation.SUM
    )


def _months_label(ind: Indicator, start: date, end: date) -> list[str]:
    """The whole periods of a coarser indicator inside a span, as the slide names them."""
    if ind.period_type == PeriodType.DAILY:
        return []
    return list(_periods_inside(ind.period_type, start, end))


def _cell(ind: Indicator, span: Span, now: Decimal | None, before: Decimal | None) -> Json:
    cell: Json = {
        "now": fmt(now) if now is None or is_count(ind) else fmt(round(now, 2)),
        "before": fmt(before) if before is None or is_count(ind) else fmt(round(before, 2)),
        "change": "" if now is None or before is None else signed(round(now - before, 2)),
        "mark": change_mark(now, before) if is_count(ind) else "",
    }
    if cell["mark"]:
        assert now is not None and before is not None
        cell["z"] = round(poisson_z(now, before), 1)
    if ind.period_type != PeriodType.DAILY:
        cell["periods"] = _months_label(ind, span.start, span.end)
        cell["periods_before"] = _months_label(ind, span.before_start, span.before_end)
    return cell


def _rows(
    store: FigureStore, unit_id: int, shown: Sequence[Indicator], needed: Sequence[Indicator],
    all_spans: Sequence[Span],
) -> list[Json]:  # fmt: skip
    per_span = [
        (
            store.figures(unit_id, needed, s.start, s.end),
            store.figures(unit_id, needed, s.before_start, s.before_end),
        )
        for s in all_spans
    ]
    rows = []
    for ind in shown:
        cells = [
            _cell(ind, s, now.get(ind.code), before.get(ind.code))
            for s, (now, before) in zip(all_spans, per_span, strict=True)
        ]
        rows.append(
            {
                "name": _names(ind.name_zh, ind.name_en),
                "measure": ind.unit_of_measure,
                "period_type": ind.period_type,
                "direction": ind.direction,
                "cells": cells,
            }
        )
    return rows


# Ranks and red tasks -----------------------------------------------------------------------


def _ranks(meeting: Meeting, as_of: date, viewer: Any) -> tuple[Json | None, dict[str, Json]]:
    """Each unit's rank and total in the convening unit's latest published scheme, at the
    latest month with approved figures of that scheme; only units `viewer` may see."""
    from duban.evaluation import access
    from duban.evaluation.models import Scheme, SchemeItem
    from duban.evaluation.scoring import score

    scheme = (
        Scheme.objects.published()
        .filter(issuer=meeting.unit, year__lte=as_of.year, based_on__isnull=True)
        .order_by("-year", "code")
        .first()
    )
    if scheme is None:
        return None, {}
    codes = set(SchemeItem.objects.filter(scheme=scheme).values_list("indicator", flat=True))
    months = [f"{scheme.year}{m:02d}" for m in range(1, 13)]
    latest = (
        readable_values(viewer)
        .filter(
            indicator__code__in=codes, period__in=months, state__in=[str(s) for s in DONE_STATES]
        )
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    if latest is None:
        return None, {}
    try:
        scored = score(scheme, latest, today=as_of, with_previous=False)
    except DubanError:
        return None, {}
    result = scored.result
    seen = access.visible_members(viewer, scheme, result.units)
    sizes = {m: len(members) for _group, _seq, members in result.cohorts for m in members}
    ranks = {
        code: {
            "rank": r.rank,
            "of": sizes.get(code, 0),
            "total": fmt(r.display),
            "vetoed": r.vetoed,
        }
        for code, r in result.units.items()
        if code in seen
    }
    about = {"scheme": _names(scheme.name_zh, scheme.name_en), "period": latest}
    return about, ranks


def _red_tasks(meeting: Meeting, as_of: date, viewer: Any) -> list[tuple[str, Json]]:
    """(lead unit path, task) of every overdue task in the meeting's scope, longest overdue first."""
    rows = ledger_rows(tasks_in_scope(meeting.unit, viewer), as_of)
    red = sorted(
        (r for r in rows if r.status == Status.OVERDUE),
        key=lambda r: (-r.days_overdue, r.task.title),
    )
    return [(r.task.lead_unit.path, {"title": r.task.title, "days": r.days_overdue}) for r in red]


# The pack ----------------------------------------------------------------------------------


def slide_units(meeting: Meeting) -> list[OrgUnit]:
    """The meeting's order: territorial bureaus in the tree's order, then divisions and other
    units, the convening unit last (its slide is the whole picture the chair sums up with)."""
    units = [p.unit for p in meeting.participants.select_related("unit") if p.unit.is_active]
    units.sort(key=lambda u: (u.kind != Kind.TERRITORIAL, u.sort_order, u.code))
    return [u for u in units if u.pk != meeting.unit_id] + [meeting.unit]


def _slide(
    meeting: Meeting,
    unit: OrgUnit,
    store: FigureStore,
    shown: Sequence[Indicator],
    needed: Sequence[Indicator],
    all_spans: Sequence[Span],
) -> Json:
    """One unit's name and figures. A division heading a line has no figures of its own: its
    slide holds its line's indicators for the whole convening unit (the city-wide picture the
    divisions report at the meeting), and says so."""
    line = unit.line if unit.kind == Kind.DIVISION else ""
    source = unit.pk
    if line:
        shown = [i for i in shown if i.line == line]
        source = meeting.unit_id
    rows = (
        _rows(store, source, shown[:MAX_ROWS], needed, all_spans) if source in store.units else []
    )
    if not any(c["now"] or c["before"] for r in rows for c in r["cells"]):
        rows = []
    return {
        "unit_id": unit.pk,
        "name": _names(unit.name_zh, unit.name_en),
        "chair": unit.pk == meeting.unit_id,
        "line_picture": _names(meeting.unit.name_zh, meeting.unit.name_en)
        if line and rows
        else None,
        "rows": rows,
        "more_rows": max(0, len(shown) - MAX_ROWS) if rows else 0,
    }


def build_screen(meeting: Meeting, today: date, *, viewer: User | AnonymousUser | Actor) -> Json:
    """The screen's content as of the meeting day (or today, for a preview before it), as
    `viewer` may read it: a JSON-ready dict of names and shown figures."""
    as_of = min(meeting.held_on, today)
    all_spans = spans(as_of)
    candidates = dispatch_indicators(meeting)
    needed = _needed(candidates)
    first = min(s.before_start for s in all_spans)
    store = load_store(meeting.unit, needed, first, as_of, viewer=viewer)
    shown = with_figures(candidates, store)
    scheme, ranks = _ranks(meeting, as_of, viewer)
    red = _red_tasks(meeting, as_of, viewer)
    slides = []
    for unit in slide_units(meeting):
        if unit.pk not in store.units and not policy.can(viewer, Action.VIEW_DATA, unit):
            continue
        slide = _slide(meeting, unit, store, shown, needed, all_spans)
        tasks = [t for path, t in red if path.startswith(unit.path)]
        slide.update(
            rank=ranks.get(unit.code),
            red=tasks[:MAX_TASKS],
            more_red=max(0, len(tasks) - MAX_TASKS),
        )
        slides.append(slide)
    return {
        "version": PACK_VERSION,
        "title": meeting.title,
        "held_on": meeting.held_on.isoformat(),
        "as_of": as_of.isoformat(),
        "convener": _names(meeting.unit.name_zh, meeting.unit.name_en),
        "spans": [
            {
                "key": s.key,
                "now": [s.start.isoformat(), s.end.isoformat()],
                "before": [s.before_start.isoformat(), s.before_end.isoformat()],
            }
            for s in all_spans
        ],
        "scheme": scheme,
        "slides": slides,
    }


# Freezing ----------------------------------------------------------------------------------


def may_freeze_for(user: Any, meeting: Meeting) -> bool:
    """A frozen pack is built for the convening unit: only a reader of that unit builds it,
    so what it holds never depends on a participant who happened to open it first."""
    return policy.can(user, Action.VIEW_DATA, meeting.unit)


@transaction.atomic
def freeze_screen(meeting: Meeting, *, user: Actor, today: date) -> ScreenPack:
    """Build the pack and keep it: from now on the screen shows exactly this. Once frozen it
    stays: a second freeze returns the stored pack unchanged (what was shown is kept)."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    stored = ScreenPack.objects.filter(meeting=locked).first()
    if stored is not None:
        return stored
    if not may_freeze_for(user, locked):
        raise ScreenError(
            _("only a reader of the convening unit freezes its meeting's screen"), "meeting"
        )
    pack = build_screen(locked, today, viewer=user)
    frozen = ScreenPack.objects.create(
        meeting=locked,
        pack=pack,
        as_of=date.fromisoformat(pack["as_of"]),
        frozen_by=policy.person(user),
    )
    return frozen


@dataclass
class Screen:
    """What one reader is shown: the pack (frozen or live) and the slides he may read."""

    pack: Json
    frozen: ScreenPack | None
    preview: bool  # before the meeting day: follows the data
    slides: list[Json]
    can_freeze: bool

    @property
    def scheme_text(self) -> str:
        """The scheme the ranks come from and the month they stand at, in the reader's words."""
        about = self.pack.get("scheme")
        if not about:
            return ""
        name = about["scheme"][_lang()]
        month = parse_period(about["period"])
        return _("%(scheme)s, as of %(month)s") % {"scheme": name, "month": f"{month.start:%Y-%m}"}


def screen_for(meeting: Meeting, *, user: Any, today: date) -> Screen:
    """The stored pack once frozen; on or after the meeting day the first showing by a reader
    of the convening unit freezes it; before the day (or for a participant while nothing is
    frozen) a live pack built for the reader."""
    frozen = ScreenPack.objects.filter(meeting=meeting).select_related("frozen_by").first()
    if frozen is None and today >= meeting.held_on and may_freeze_for(user, meeting):
        frozen = freeze_screen(meeting, user=user, today=today)
    pack = frozen.pack if frozen is not None else build_screen(meeting, today, viewer=user)
    return Screen(
        pack=pack,
        frozen=frozen,
        preview=frozen is None and today < meeting.held_on,
        slides=slides_for(pack, user),
        can_freeze=frozen is None and can_manage(user, meeting) and may_freeze_for(user, meeting),
    )


SPAN_WORDS = {
    "week": (gettext_lazy("This week"), gettext_lazy("Week before")),
    "days28": (gettext_lazy("Last 28 days"), gettext_lazy("28 days before")),
    "year": (gettext_lazy("Year to date"), gettext_lazy("Same dates last year")),
}


def span_headers(pack: Json) -> list[Json]:
    """Each span's heading and dates, in the reader's language."""
    this_year = pack["as_of"][:4]
    out = []
    for s in pack["spans"]:
        now, before = SPAN_WORDS[s["key"]]
        out.append(
            {
                "key": s["key"],
                "title": str(now),
                "before_title": str(before),
                "now": _span_dates(s["now"], this_year),
                "before": _span_dates(s["before"], this_year),
            }
        )
    return out


def _span_dates(days: list[str], this_year: str) -> str:
    start, end = days
    if start[:4] == this_year:
        return f"{start[5:]}—{end[5:]}"
    return f"{start}—{end[5:]}"


def _periods_text(ids: list[str]) -> str:
    """The whole months (or weeks) a coarser indicator counts in a span: 2026-01—2026-10."""
    if not ids:
        return _("no whole month")
    first, last = parse_period(ids[0]), parse_period(ids[-1])
    if first.type == PeriodType.WEEKLY:
        return f"{first.start:%m-%d}—{last.end:%m-%d}"
    return f"{first.start:%Y-%m}" if first == last else f"{first.start:%Y-%m}—{last.start:%m}"


def _shown_row(row: Json, lang: str) -> Json:
    cells = [
        {**c, "periods_text": _periods_text(c["periods"])} if "periods" in c else c
        for c in row["cells"]
    ]
    note = ""
    if row["period_type"] == PeriodType.MONTHLY:
        note = _("monthly figures: only the whole months inside each span")
    elif row["period_type"] == PeriodType.WEEKLY:
        note = _("weekly figures: only the whole weeks inside each span")
    worse_up = row["direction"] == "lower"
    return {**row, "label": row["name"][lang], "cells": cells, "note": note, "worse_up": worse_up}


def _lang() -> str:
    return "en" if (get_language() or "zh-hans").startswith("en") else "zh"


def slides_for(pack: Json, user: Any) -> list[Json]:
    """The slides of the units `user` may read, names in his language."""
    ids = [s["unit_id"] for s in pack["slides"]]
    readable = set(
        policy.visible_units(user, Action.VIEW_DATA).filter(pk__in=ids).values_list("pk", flat=True)
    )
    lang = _lang()
    shown = []
    for slide in pack["slides"]:
        if slide["unit_id"] not in readable:
            continue
        rows = [_shown_row(r, lang) for r in slide["rows"]]
        picture = slide.get("line_picture")
        line_label = (
            _("the line's figures for the whole of %(unit)s") % {"unit": picture[lang]}
            if picture
            else ""
        )
        shown.append(
            {**slide, "label": slide["name"][lang], "rows": rows, "line_label": line_label}
        )
    return shown
