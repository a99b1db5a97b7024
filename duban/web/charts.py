"""Charts declared once in Python: the ECharts option and the same data as a table.

A view (or a builder it calls) describes a chart — categories, series, links, notes — and the
template only places it with `{% load duban_charts %}{% chart c %}`; nobody writes chart JSON
by hand. `options()` is what `duban/static/duban/charts.js` hands to ECharts: numbers rounded
half-up for display, links kept on each data item so a click opens them; `table()` and
`table_cells()` are the same figures as shown text, raw and unrounded, for the table under the chart
(screen readers, printing, copying into a report).

Colours are Okabe–Ito (safe for colour-blind readers, and they survive a projector's washed
out greens and reds); the heatmap is one hue, light to dark blue, with the value in each cell.
`wall=True` gives the same chart in large type for the dark dispatch-meeting wall.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

Number = int | float | Decimal
Values = Sequence[Number | None]
Links = Sequence[str | None]

#: Okabe & Ito (2008): blue, orange, bluish green, vermilion, reddish purple, sky blue,
#: yellow, black. No red/green pair sits next to another.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: The same colours on the dark wall: the light ones first, white instead of black.
WALL_PALETTE = [
    "#56B4E9",
    "#E69F00",
    "#009E73",
    "#F0E442",
    "#CC79A7",
    "#D55E00",
    "#0072B2",
    "#FFFFFF",
]
#: One hue, light to dark blue (ColorBrewer Blues), for the heatmap's scale.
BLUES = ["#DEEBF7", "#9ECAE1", "#4292C6", "#08519C", "#08306B"]
EMPTY = "—"
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FONT = {False: 12, True: 24}  # office screens; the wall, read from five metres
#: A name longer than this many wide characters is cut (the tooltip and table hold it whole).
_NAME_CAP = 12


@dataclass(frozen=True)
class Cell:
    """One cell of a chart's table: the text shown and, where the chart has one, its link."""

    text: str
    link: str | None = None


@dataclass(frozen=True)
class Series:
    """One named run of values, one per category; `links` (optional) one per value."""

    name: str
    values: Values
    links: Links | None = None


def display_number(value: Number | None, decimals: int = 2) -> int | float | None:
    """The value as ECharts draws it: rounded half-up (never banker's rounding), an int when
    whole. Only for drawing; tables and rates use the raw value."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    shown = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return int(shown) if shown == shown.to_integral_value() else float(shown)


def raw_text(value: Number | None) -> str:
    """The value as the table shows it: unrounded, without an exponent, a dash when missing."""
    if value is None:
        return EMPTY
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
    else:
        text = str(value)
    return text


def shown_text(value: Number | None, decimals: int = 2) -> str:
    """The rounded value as a label on the chart shows it."""
    shown = display_number(value, decimals)
    return EMPTY if shown is None else str(shown)


def _check_link(link: str | None) -> str | None:
    """Links stay inside the site: a path from the root, never another host or a script."""
    if link is None or link == "":
        return None
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError(f"a chart link must be a path on this site, got {link!r}")
    return link


def _label_text(text: str) -> str:
    """ECharts reads {…} in a label as a template; a literal label must not contain braces."""
    return text.replace("{", "(").replace("}", ")")


def _name_width(names: Sequence[str], font: int) -> int:
    """Pixels for the longest name, a CJK character a full em, Latin about half; capped so a
    very long name is cut (its full text is in the tooltip and the table)."""

    def ems(name: str) -> float:
        return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in name)

    longest = max((ems(n) for n in names), default=2.0)
    return math.ceil(min(longest, _NAME_CAP) * font) + 6


def _base(title: str, wall: bool) -> dict[str, Any]:
    """What every chart's option shares: palette, screen-reader description, type size. The
    title is in the page (the figure's caption), not drawn in the canvas."""
    font = _FONT[wall]
    return {
        "aria": {"enabled": True, "label": {"enabled": True}},
        "color": WALL_PALETTE if wall else PALETTE,
        "textStyle": {"fontSize": font},
        "animationDuration": 300,
        "tooltip": {"confine": True, "textStyle": {"fontSize": font}},
        "title": {"show": False, "text": title},
    }


@dataclass
class _Chart:
    """Fields every chart has: a key (the element's id on the page) and a title."""

    key: str
    title: str

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"a chart key is lower-case letters, digits and dashes: {self.key!r}")

    @property
    def element_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def data_id(self) -> str:
        return f"chart-{self.key}-data"

    def table_cells(self) -> tuple[list[str], list[list[Cell]]]:
        raise NotImplementedError

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Headers and rows as shown text: the same data as the chart, for the <table>."""
        headers, rows = self.table_cells()
        return headers, [[c.text for c in row] for row in rows]

    def height(self, wall: bool = False) -> int:
        """The drawing's height in pixels (set by charts.js: no inline style for the CSP)."""
        return 480 if wall else 320

    def unit(self) -> str:
        return ""


def _with_unit(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


@dataclass
class _CategoryChart(_Chart):
    """A chart of series over categories (bars, lines): one table row per category."""

    categories: Sequence[str] = ()
    series: Sequence[Series] = ()
    value_name: str = ""
    category_name: str = ""
    decimals: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        self.categories = [str(c) for c in self.categories]
        self.series = list(self.series)
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(
                    f"series {s.name!r} has {len(s.values)} values for {len(self.categories)} categories"
                )
            if s.links is not None and len(s.links) != len(self.categories):
                raise ValueError(
                    f"series {s.name!r} has {len(s.links)} links for {len(self.categories)} categories"
                )

    def unit(self) -> str:
        return self.value_name

    def _data(self, s: Series, notes: Sequence[str] | None = None) -> list[Any]:
        """Each value as a data item carrying its link (and its label text with the note)."""
        items: list[Any] = []
        for i, value in enumerate(s.values):
            shown = display_number(value, self.decimals)
            link = _check_link(s.links[i]) if s.links is not None else None
            if shown is None and link is None:
                items.append("-")  # ECharts' empty value: a gap, not a zero
                continue
            item: dict[str, Any] = {"value": "-" if shown is None else shown}
            if link is not None:
                item["link"] = link
            note = notes[i] if notes is not None else ""
            if note and shown is not None:
                item["label"] = {"formatter": _label_text(f"{shown} {note}")}
            items.append(item)
        return items

    def _category_axis(self, wall: bool, horizontal: bool) -> dict[str, Any]:
        font = _FONT[wall]
        label: dict[str, Any] = {"fontSize": font, "interval": 0}
        if horizontal:
            label |= {"width": _name_width(self.categories, font), "overflow": "truncate"}
        else:
            label |= {"width": 6 * font, "overflow": "truncate", "hideOverlap": True}
        return {
            "type": "category",
            "data": list(self.categories),
            "inverse": horizontal,  # the first category on top, as a ranking reads
            "axisLabel": label,
            "axisTick": {"alignWithLabel": True},
            "triggerEvent": True,  # a click on a name opens its link too (charts.js)
        }

    def _value_axis(self, wall: bool) -> dict[str, Any]:
        font = _FONT[wall]
        return {
            "type": "value",
            "name": self.value_name,
            "nameTextStyle": {"fontSize": font},
            "axisLabel": {"fontSize": font},
        }

    def table_cells(self) -> tuple[list[str], list[list[Cell]]]:
        headers = [self.category_name or _("Name")]
        headers += [_with_unit(s.name, self.value_name) for s in self.series]
        rows: list[list[Cell]] = []
        for i, name in enumerate(self.categories):
            row = [Cell(name, self._row_link(i))]
            for s in self.series:
                link = _check_link(s.links[i]) if s.links is not None else None
                row.append(Cell(raw_text(s.values[i]), link))
            rows.append(row)
        return headers, rows

    def _row_link(self, i: int) -> str | None:
        """The category's name links where its first linked value does."""
        for s in self.series:
            if s.links is not None and (link := _check_link(s.links[i])):
                return link
        return None

    def _legend(self, wall: bool) -> dict[str, Any]:
        return {"show": len(self.series) > 1, "top": 0, "textStyle": {"fontSize": _FONT[wall]}}


@dataclass
class BarChart(_CategoryChart):
    """Bars, one group per category; `horizontal=True` puts the (long Chinese) names on the y
    axis, first on top. `notes` adds a short text per category (▲2) to the label and table;
    `target_line` draws one reference line (100 % attainment, a quota)."""

    horizontal: bool = False
    notes: Sequence[str] | None = None
    stacked: bool = False
    target_line: Number | None = None
    target_name: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.notes is not None:
            self.notes = [str(n) for n in self.notes]
            if len(self.notes) != len(self.categories):
                raise ValueError(f"{len(self.notes)} notes for {len(self.categories)} categories")

    def height(self, wall: bool = False) -> int:
        if not self.horizontal:
            return super().height(wall)
        per_bar = (40 if wall else 28) * max(1, len(self.series) if not self.stacked else 1)
        return max(160, per_bar * len(self.categories) + (110 if wall else 70))

    def options(self, wall: bool = False) -> dict[str, Any]:
        font = _FONT[wall]
        option = _base(self.title, wall)
        category = self._category_axis(wall, self.horizontal)
        value = self._value_axis(wall)
        option["tooltip"] |= {"trigger": "axis", "axisPointer": {"type": "shadow"}}
        option["legend"] = self._legend(wall)
        note_room = max((len(n) for n in self.notes or []), default=0) + self.decimals + 4
        if self.horizontal:
            name_width = category["axisLabel"]["width"]
            option["grid"] = {
                "left": name_width + 14,
                "right": int(note_room * font * 0.7) + 12,
                "top": 36 if len(self.series) > 1 else 24,
                "bottom": 28 if not wall else 48,
            }
            option["yAxis"], option["xAxis"] = category, value
        else:
            option["grid"] = {
                "left": 12,
                "right": 12,
                "top": 110 if wall else 56,  # room for a legend on two lines
                "bottom": 12,
                "containLabel": True,
            }
            option["xAxis"], option["yAxis"] = category, value
        series = []
        for n, s in enumerate(self.series):
            entry: dict[str, Any] = {
                "type": "bar",
                "name": s.name,
                "data": self._data(s, self.notes if n == len(self.series) - 1 else None),
                "label": {
                    # Grouped upright bars would print their numbers over each other: the
                    # tooltip and the table carry them there.
                    "show": self.horizontal or self.stacked or len(self.series) == 1,
                    "position": "right" if self.horizontal else "top",
                    "fontSize": font,
                },
                "cursor": "pointer" if s.links else "default",
            }
            if self.stacked:
                entry["stack"] = "total"
                entry["label"]["position"] = "inside"
            series.append(entry)
        if self.target_line is not None and series:
            series[0]["markLine"] = {
                "symbol": "none",
                "silent": True,
                "label": {
                    "formatter": _label_text(self.target_name or shown_text(self.target_line)),
                    "fontSize": font,
                    # the category axis is turned over (first on top): its start is the top
                    "position": "start" if self.horizontal else "end",
                },
                "lineStyle": {"type": "dashed", "width": 2 if wall else 1},
                "data": [
                    {("xAxis" if self.horizontal else "yAxis"): display_number(self.target_line)}
                ],
            }
        option["series"] = series
        return option

    def table_cells(self) -> tuple[list[str], list[list[Cell]]]:
        headers, rows = super().table_cells()
        if self.notes is not None:
            headers.append(pgettext("chart", "Note"))
            for row, note in zip(rows, self.notes, strict=True):
                row.append(Cell(note))
        return headers, rows


@dataclass
class LineChart(_CategoryChart):
    """Lines over categories (months, weeks); a None is a gap, never a zero. `inverse=True`
    turns the value axis over, so that rank 1 is on top."""

    inverse: bool = False

    def options(self, wall: bool = False) -> dict[str, Any]:
        font = _FONT[wall]
        option = _base(self.title, wall)
        option["tooltip"] |= {"trigger": "axis"}
        option["legend"] = self._legend(wall)
        option["grid"] = {"left": 12, "right": 24, "top": 48, "bottom": 12, "containLabel": True}
        option["xAxis"] = self._category_axis(wall, horizontal=False) | {"boundaryGap": False}
        value = self._value_axis(wall) | {"inverse": self.inverse}
        if self.inverse:  # a rank: whole places, the best (1) on top
            value |= {"min": 1, "minInterval": 1, "nameLocation": "start"}  # name on top
        option["yAxis"] = value
        option["series"] = [
            {
                "type": "line",
                "name": s.name,
                "data": self._data(s),
                "connectNulls": False,
                "symbolSize": 14 if wall else 8,
                "lineStyle": {"width": 4 if wall else 2},
                "label": {"show": True, "position": "top", "fontSize": font},
            }
            for s in self.series
        ]
        return option


@dataclass
class HeatmapChart(_Chart):
    """A grid of values (percent of attainment by unit and category): one blue, darker for
    more, the value printed in each cell; None is an empty cell. `links` one per cell."""

    rows: Sequence[str] = ()
    columns: Sequence[str] = ()
    cells: Sequence[Values] = ()
    links: Sequence[Links] | None = None
    value_name: str = ""
    row_name: str = ""
    decimals: int = 1
    low: Number = 0
    high: Number | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rows, self.columns = [str(r) for r in self.rows], [str(c) for c in self.columns]
        self.cells = [list(r) for r in self.cells]
        shape = [len(r) for r in self.cells]
        if len(self.cells) != len(self.rows) or any(n != len(self.columns) for n in shape):
            raise ValueError(
                f"heatmap {self.key!r}: cells must be {len(self.rows)} rows of {len(self.columns)}"
            )
        if self.links is not None and [len(r) for r in self.links] != [len(self.columns)] * len(
            self.rows
        ):
            raise ValueError(f"heatmap {self.key!r}: links must have the shape of the cells")

    def unit(self) -> str:
        return self.value_name

    def height(self, wall: bool = False) -> int:
        return max(200, (64 if wall else 36) * len(self.rows) + (150 if wall else 100))

    def _link(self, r: int, c: int) -> str | None:
        return _check_link(self.links[r][c]) if self.links is not None else None

    def _top(self) -> float:
        """The dark end of the scale: `high`, else 100 or the largest value beyond it."""
        if self.high is not None:
            return float(self.high)
        values = [float(v) for row in self.cells for v in row if v is not None]
        return max([100.0, *values])

    def options(self, wall: bool = False) -> dict[str, Any]:
        font = _FONT[wall]
        low, top = float(self.low), self._top()
        option = _base(self.title, wall)
        option["tooltip"] |= {"trigger": "item"}
        option["grid"] = {
            "left": _name_width(self.rows, font) + 14,
            "right": 12,
            "top": 12,
            "bottom": (3 if wall else 4) * font + 40,
        }
        option["xAxis"] = {
            "type": "category",
            "data": list(self.columns),
            "position": "top",
            "axisLabel": {
                "fontSize": font,
                "interval": 0,
                "width": 6 * font,
                "overflow": "truncate",
            },
            "splitArea": {"show": True},
        }
        option["yAxis"] = {
            "type": "category",
            "data": list(self.rows),
            "inverse": True,
            "axisLabel": {
                "fontSize": font,
                "interval": 0,
                "overflow": "truncate",
                "width": _name_width(self.rows, font),
            },
        }
        option["visualMap"] = {
            "type": "continuous",
            "min": low,
            "max": top,
            "calculable": False,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "inRange": {"color": BLUES},
            "textStyle": {"fontSize": font},
            "text": [shown_text(top, 0), shown_text(low, 0)],
        }
        option["series"] = [
            {
                "type": "heatmap",
                "name": self.title,
                "data": self._data(low, top),
                "label": {"show": True, "fontSize": font},
                "emphasis": {"itemStyle": {"borderColor": "#E69F00", "borderWidth": 3}},
                "itemStyle": {"borderColor": "#FFFFFF", "borderWidth": 1},
            }
        ]
        return option

    def _data(self, low: float, top: float) -> list[dict[str, Any]]:
        """One item per non-empty cell: [column, row, value], its link, its label's colour
        (white on the dark end of the scale) and a tooltip naming the row and column."""
        data = []
        for r, row in enumerate(self.cells):
            for c, value in enumerate(row):
                shown = display_number(value, self.decimals)
                if shown is None:
                    continue
                dark = (float(shown) - low) / ((top - low) or 1) > 0.55
                unit = f" {self.value_name}" if self.value_name else ""
                item: dict[str, Any] = {
                    "value": [c, r, shown],
                    "label": {"color": "#FFFFFF" if dark else "#08306B"},
                    "tooltip": {
                        "formatter": _label_text(
                            f"{self.rows[r]} · {self.columns[c]}: {shown}{unit}"
                        )
                    },
                }
                if (link := self._link(r, c)) is not None:
                    item["link"] = link
                data.append(item)
        return data

    def table_cells(self) -> tuple[list[str], list[list[Cell]]]:
        unit = f" ({self.value_name})" if self.value_name else ""
        headers = [self.row_name or _("Name"), *(f"{c}{unit}" for c in self.columns)]
        rows = []
        for r, name in enumerate(self.rows):
            row = [Cell(name)]
            row += [Cell(raw_text(v), self._link(r, c)) for c, v in enumerate(self.cells[r])]
            rows.append(row)
        return headers, rows


Chart = BarChart | LineChart | HeatmapChart

__all__ = [
    "BLUES",
    "PALETTE",
    "WALL_PALETTE",
    "BarChart",
    "Cell",
    "Chart",
    "HeatmapChart",
    "LineChart",
    "Series",
    "display_number",
    "raw_text",
]
