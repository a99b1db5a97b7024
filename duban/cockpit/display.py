"""The cockpit as people read it: numbers formatted, sentences written, links made, charts
declared (through ``duban.web.charts``). Built from ``services.Cockpit``; no query here
except URL reversing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from duban.cockpit import services
from duban.cockpit.standing import Children, Standing
from duban.evaluation.engine.decimals import fixed
from duban.evaluation.engine.results import label
from duban.text import period_in_words
from duban.web.charts import BarChart, HeatmapChart, LineChart, Series


def period_label(period: str) -> str:
    """2017年3月, 2017年第1季度, 2017年上半年, 2017年 (and their English)."""
    return period_in_words(period)


def month_label(period: str) -> str:
    return _("Month %(month)s") % {"month": int(period[4:])} if len(period) == 6 else period


def change_mark(change: int | None) -> str:
    """▲2 moved up two places, ▼1 down one, — unchanged or nothing to compare with."""
    if not change:
        return "—"
    return f"▲{change}" if change > 0 else f"▼{-change}"


def sentence(s: Standing) -> str:
    """The top line in words: 第3名，距第2名差1.25分."""
    if s.gap_next is not None and s.next_rank is not None:
        return _("Rank %(rank)s, %(gap)s points behind rank %(next)s") % {
            "rank": s.rank,
            "gap": fixed(s.gap_next, 2),
            "next": s.next_rank,
        }
    if s.lead is not None:
        return _("Rank 1, %(lead)s points ahead of the next place") % {"lead": fixed(s.lead, 2)}
    return _("Rank %(rank)s") % {"rank": s.rank}


def chart_key(*parts: object) -> str:
    """A chart's key (its element id): lower-case letters, digits and dashes only."""
    text = "-".join(str(p) for p in parts).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def cockpit_url(code: str, period: str | None) -> str:
    url = reverse("cockpit:unit", args=[code])
    return f"{url}?{urlencode({'period': period})}" if period else url


def item_url(scheme: str, unit: str, period: str, item: str) -> str:
    url = reverse("evaluation:unit", args=[scheme, unit])
    return f"{url}?{urlencode({'period': period})}#item-{item}"


@dataclass
class Top:
    """The ten-second line."""

    total: str
    rank: int
    of: int
    change: str
    change_class: str
    gap_first: str
    gap_next: str
    next_rank: int | None
    sentence: str


def top_line(s: Standing) -> Top:
    return Top(
        total=fixed(s.total, 2),
        rank=s.rank,
        of=s.of,
        change=change_mark(s.change),
        change_class="up" if (s.change or 0) > 0 else "down" if (s.change or 0) < 0 else "same",
        gap_first="" if s.gap_first is None else fixed(s.gap_first, 2),
        gap_next="" if s.gap_next is None else fixed(s.gap_next, 2),
        next_rank=s.next_rank,
        sentence=sentence(s),
    )


@dataclass
class SchemeView:
    code: str
    name: str
    scores_url: str
    derivation_url: str
    top: Top | None
    categories: list[dict[str, Any]] = field(default_factory=list)
    shortfalls: list[dict[str, Any]] = field(default_factory=list)
    room: list[dict[str, Any]] = field(default_factory=list)
    charts: list[Any] = field(default_factory=list)  # the unit's own: trend, categories
    trend: list[tuple[str, int | None]] = field(default_factory=list)  # (month, rank)
    children: list[dict[str, Any]] = field(default_factory=list)  # per cohort: rows and charts
    stale: bool = False


def _percent(value: Decimal | None) -> str:
    return "" if value is None else fixed(value, 1)


def own_view(view: SchemeView, s: Standing, scheme: str, period: str, lang: str) -> None:
    """The unit's own panels: trend, categories, 短板 and 上升空间, with their charts."""
    sep = "、" if lang == "zh" else ", "
    view.categories = [
        {
            "name": c.name,
            "score": fixed(c.score, 2),
            "best": fixed(c.best, 2),
            "average": fixed(c.average, 2),
            "maximum": fixed(c.maximum, 2),
        }
        for c in s.categories
    ]
    for rows, source in ((view.shortfalls, s.shortfalls), (view.room, s.room)):
        rows.extend(
            {
                "name": r.name,
                "lost": fixed(r.lost, 2),
                "room": fixed(r.room, 2),
                "reasons": sep.join(label(x, lang) for x in r.reasons),
                "url": item_url(scheme, s.unit, period, r.code),
            }
            for r in source
        )
    view.trend = [(month_label(p.period), p.rank) for p in s.trend]
    if any(p.rank is not None for p in s.trend):
        view.charts.append(
            LineChart(
                key=chart_key("trend", scheme),
                title=_("Rank over the year"),
                categories=[month_label(p.period) for p in s.trend],
                series=[Series(name=_("Rank"), values=[p.rank for p in s.trend])],
                inverse=True,
                value_name=_("place"),
            )
        )
    if s.categories:
        view.charts.append(
            BarChart(
                key=chart_key("categories", scheme),
                title=_("Categories against the group's best and average"),
                categories=[c.name for c in s.categories],
                series=[
                    Series(name=s.name, values=[c.score for c in s.categories]),
                    Series(name=_("Best in the group"), values=[c.best for c in s.categories]),
                    Series(name=_("Group average"), values=[c.average for c in s.categories]),
                ],
                value_name=_("points scored"),
            )
        )


def children_view(group: Children, scheme: str, period: str, index: int) -> dict[str, Any]:
    """The issuer's units ranked (a horizontal bar) and units × categories (a heatmap)."""
    links = [cockpit_url(r.code, period) for r in group.rows]
    rows = [
        {
            "name": r.name,
            "total": fixed(r.total, 2),
            "rank": r.rank,
            "of": r.of,
            "change": change_mark(r.change),
            "url": link,
            "cells": [_percent(a) for a in r.attainment],
        }
        for r, link in zip(group.rows, links, strict=True)
    ]
    bar = BarChart(
        key=chart_key("children", scheme, index),
        title=_("%(group)s: total score") % {"group": group.cohort},
        categories=[r.name for r in group.rows],
        series=[Series(name=_("Total score"), values=[r.total for r in group.rows], links=links)],
        horizontal=True,
        value_name=_("points scored"),
        notes=[change_mark(r.change) if r.change else "" for r in group.rows],
    )
    heat = HeatmapChart(
        key=chart_key("attainment", scheme, index),
        title=_("%(group)s: attainment by category") % {"group": group.cohort},
        rows=[r.name for r in group.rows],
        columns=group.categories,
        cells=[list(r.attainment) for r in group.rows],
        links=[[link] * len(group.categories) for link in links],
        value_name="%",
    )
    return {
        "title": group.cohort,
        "categories": group.categories,
        "rows": rows,
        "charts": [bar, heat],
    }


def scheme_view(panel: services.SchemePanel, unit: str, period: str, lang: str) -> SchemeView:
    scheme = panel.scheme
    query = "?" + urlencode({"period": period})
    view = SchemeView(
        code=scheme.code,
        name=scheme.name,
        scores_url=reverse("evaluation:scores", args=[scheme.code]) + query,
        derivation_url=reverse("evaluation:unit", args=[scheme.code, unit]) + query,
        top=top_line(panel.standing) if panel.standing is not None else None,
        stale=panel.year.stale,
    )
    if panel.standing is not None:
        own_view(view, panel.standing, scheme.code, period, lang)
    view.children = [children_view(g, scheme.code, period, n) for n, g in enumerate(panel.children)]
    return view


def issuer_line(schemes: list[SchemeView]) -> dict[str, Any] | None:
    """For a unit no scheme scores but that issues one (a city over its counties): its first
    ranking's first and last place and the spread between them, as its top line."""
    for view in schemes:
        for group in view.children:
            rows = group["rows"]
            if rows:
                first, last = rows[0], rows[-1]
                return {
                    "title": group["title"],
                    "count": len(rows),
                    "first": first,
                    "last": last,
                    "spread": fixed(Decimal(first["total"]) - Decimal(last["total"]), 2),
                }
    return None


def context(data: services.Cockpit, lang: str) -> dict[str, Any]:
    """The template's context: the unit, the period picker, a view per scheme, the panels."""
    period = data.period or ""
    schemes = [scheme_view(p, data.unit.code, period, lang) for p in data.panels]
    return {
        "unit": data.unit,
        "period": period,
        "period_name": period_label(period) if period else "",
        "periods": [(p, period_label(p)) for p in data.periods],
        "schemes": schemes,
        "lead": next((v for v in schemes if v.top is not None), None),
        "issuer": issuer_line(schemes),
        "tasks": data.tasks,
        "forms": [
            {
                "panel": f,
                "reported": _percent(f.reported_percent),
                "on_time": _percent(f.on_time_percent),
                "url": reverse(
                    "reporting:overview", args=[f.data_set.code, data.unit.code, f.period]
                ),
            }
            for f in data.forms
        ],
        "orders": data.orders,
        "orders_total": data.orders_total,
        "publications": data.publications,
        "documents": data.documents,
        "stale": bool(data.stale),
        "charts_ready": any(v.charts or any(g["charts"] for g in v.children) for v in schemes),
    }
