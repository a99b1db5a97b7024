"""The division head's line (条线) pages: his lines, and one line across the bureaus
(`duban.cockpit.lines`). Thin: ask the service, declare the charts, render."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import pgettext

from duban.cockpit import lines
from duban.evaluation.engine.decimals import figure, fixed
from duban.orgs.models import Line
from duban.text import period_in_words
from duban.web import actor
from duban.web.charts import BarChart, Series

CENT = Decimal("0.01")


@login_required
def line_list(request: HttpRequest) -> HttpResponse:
    """The lines the viewer follows: straight to the line when there is one."""
    heads = lines.require_lines(actor(request))
    picker = list(dict.fromkeys((h.line, h.label) for h in heads))
    if len(picker) == 1:
        return redirect("cockpit:line", line=picker[0][0])
    return render(request, "cockpit/line.html", {"lines": picker, "page": None})


@login_required
def line_detail(request: HttpRequest, line: str) -> HttpResponse:
    """One line's indicators across the bureaus, laggards first: a bar chart and a table each."""
    if line not in Line.values:
        raise Http404(pgettext("line", "There is no such line."))
    page = lines.line_page(actor(request), line)
    sections = [
        {
            "board": board,
            "indicators": [_indicator(board, n, ib) for n, ib in enumerate(board.boards)],
        }
        for board in page.boards
    ]
    context = {"lines": page.lines, "page": page, "sections": sections}
    return render(request, "cockpit/line.html", context)


def _shown(value: Decimal | None) -> str:
    return "—" if value is None else figure(value)


def _indicator(board: lines.LineBoard, n: int, ib: lines.IndicatorBoard) -> dict[str, object]:
    """The chart and table rows of one indicator: attainment when targets are set, else the
    figure the bureaus are ranked on; the rounding is for display, the order is the raw one."""
    on_target = ib.has_targets
    unit = ib.indicator.unit_of_measure
    values: list[Decimal | None] = []
    for r in ib.rows:
        shown = r.attainment if on_target else (r.year_to_date if ib.versus_year else r.figure)
        values.append(None if shown is None else shown.quantize(CENT, rounding=ROUND_HALF_UP))
    if on_target:
        series_name, value_name = pgettext("line", "Attainment"), "%"
    elif ib.versus_year:
        series_name, value_name = pgettext("line", "Year to date"), unit
    else:
        series_name, value_name = ib.indicator.name, unit
    chart = BarChart(
        key=f"line-{board.head.division.code.lower()}-{n}".replace("_", "-"),
        title=f"{ib.indicator.name} · {period_in_words(ib.period.id)}"
        if ib.period
        else ib.indicator.name,
        categories=[r.unit.name for r in ib.rows],
        series=[Series(name=series_name, values=values, links=[r.link for r in ib.rows])],
        horizontal=True,
        value_name=value_name,
        category_name=pgettext("line", "Bureau"),
        notes=[
            pgettext("line", "place %(n)s") % {"n": r.place} if r.place else "" for r in ib.rows
        ],
        target_line=100 if on_target else None,
        target_name=pgettext("line", "target") if on_target else "",
    )
    rows = [
        {
            "row": r,
            "figure": _shown(r.figure),
            "ytd": _shown(r.year_to_date),
            "target": _shown(r.target),
            "attainment": "—" if r.attainment is None else fixed(r.attainment, 1) + "%",
        }
        for r in ib.rows
    ]
    return {"board": ib, "chart": chart, "rows": rows}
