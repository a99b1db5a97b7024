"""Placing a chart declared in Python (`duban.web.charts`): `{% chart c %}`, `{% chart_scripts %}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from duban.web.charts import Chart

register = template.Library()

#: The ECharts theme charts.js registers for the dark dispatch-meeting wall.
WALL_THEME = "duban-wall"


@register.inclusion_tag("includes/chart.html")
def chart(chart: Chart, wall: bool = False) -> dict[str, Any]:
    """The chart's <figure>: its title, the drawing's container, its option as a json_script
    (no inline script: charts.js reads it) and the same data as a table one click away."""
    headers, rows = chart.table_cells()
    suffix = "-wall" if wall else ""  # the same chart may sit on a page and on its wall view
    return {
        "chart": chart,
        "element_id": chart.element_id + suffix,
        "data_id": chart.data_id + suffix,
        "wall": wall,
        "theme": WALL_THEME if wall else "",
        "options": chart.options(wall=wall),
        "height": chart.height(wall=wall),
        "headers": headers,
        "rows": rows,
    }


@register.simple_tag
def chart_scripts() -> SafeString:
    """The chart's stylesheet and scripts, once per page (in `{% block extra_head %}`):
    ECharts served by the site itself (the intranet has no internet), then charts.js."""
    return format_html(
        '<link rel="stylesheet" href="{}">\n'
        '<script defer src="{}"></script>\n<script defer src="{}"></script>',
        static("duban/charts.css"),
        static("vendor/echarts/echarts.min.js"),
        static("duban/charts.js"),
    )
