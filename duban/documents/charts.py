"""The cockpit's charts drawn on the server, for the DOCX and the PDF.

The cockpit describes a chart once (``duban.web.charts.BarChart`` / ``LineChart``) and the
browser draws it with ECharts; a document cannot run ECharts, so the same description is drawn
here with matplotlib (Agg, imported on first use: a web process that never writes a document
never loads it), in the cockpit's colours (Okabe–Ito ``PALETTE``), value labels, names on the
y axis of a ranking, with Noto Sans CJK SC registered from its file so matplotlib never falls
back to DejaVu for a Chinese character.

A ranking of many units stays readable by splitting, not shrinking: a horizontal bar chart
puts at most ``BARS_PER_IMAGE`` bars in one image (each image fits one page of the text
block), every part on the same value scale, so 150 units give four images.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from typing import Any

from duban.documents.fonts import ROLES, font_file

MM_PER_INCH = 25.4
#: Bars per image of a horizontal ranking: 40 bars of 4.6 mm and the axes fit in 200 mm,
#: under the text block's 225 mm with the caption.
BARS_PER_IMAGE = 40
BAR_MM = 4.6
#: Document text (Chinese whatever the reader's language, as the format's fixed words).
CUT_NOTE = "注：图中列出前{top}名和后{bottom}名，共{n}个单位，全部单位见表。"
FONT_PT = 8.0  # chart text at 156 mm wide: the size of 小五, readable in print
TEXT_COLOUR = "#333333"
GRID_COLOUR = "#E0E0E0"


@functools.cache
def _pyplot() -> Any:
    """pyplot on the Agg backend with the chart role's font registered by file."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    path, _index = font_file("chart")
    font_manager.fontManager.addfont(str(path))  # every face of the collection, SC among them
    matplotlib.rcParams.update(
        {
            "font.family": [ROLES["chart"].family],
            "font.size": FONT_PT,
            "axes.unicode_minus": False,  # U+2212 is in the font, but keep the ASCII minus
            "axes.edgecolor": "#999999",
            "axes.labelcolor": TEXT_COLOUR,
            "xtick.color": TEXT_COLOUR,
            "ytick.color": TEXT_COLOUR,
            "text.color": TEXT_COLOUR,
            "svg.fonttype": "none",
        }
    )
    return plt


def _floats(values: Sequence[Any]) -> list[float]:
    """None (no value) becomes NaN: matplotlib leaves a gap, never a zero."""
    return [math.nan if v is None else float(v) for v in values]


def _label(value: Any, decimals: int) -> str:
    from duban.web.charts import shown_text

    return str(shown_text(value, decimals))


def _palette() -> list[str]:
    from duban.web.charts import PALETTE

    return PALETTE


def _figure(
    width_mm: float, height_mm: float, *, left: float = 12, bottom: float = 10, top: float = 4
) -> tuple[Any, Any]:
    """A figure with its axes placed by margins in mm (no tight_layout: it draws the whole
    figure a second time, which doubled the time of a 150-bar ranking)."""
    plt = _pyplot()
    fig = plt.figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH))
    right = 4.0
    ax = fig.add_axes(
        (left / width_mm, bottom / height_mm, 1 - (left + right) / width_mm,
         1 - (bottom + top) / height_mm)
    )  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _name_mm(names: Sequence[str]) -> float:
    """Room for the longest name on the y axis: a CJK character one em, Latin about half."""
    import unicodedata

    def ems(name: str) -> float:
        return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in name)

    longest = max((ems(n) for n in names), default=2.0)
    return longest * FONT_PT * MM_PER_INCH / 72 + 3


def _png(fig: Any, dpi: int) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None},
                pil_kwargs={"compress_level": 1})  # fmt: skip
    _pyplot().close(fig)
    return out.getvalue()


def _legend(ax: Any, series: Sequence[Any]) -> None:
    if len(series) > 1:
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(series), frameon=False)


def _bar_part(
    chart: Any, rows: Sequence[int | None], width_mm: float, dpi: int, top: float
) -> bytes:
    """The bars of ``rows`` (category indices; None: the gap of a cut ranking) of a
    horizontal ranking, first on top, values and notes at their ends."""
    colours = _palette()
    n, groups = len(rows), (1 if chart.stacked else len(chart.series))
    names = [chart.categories[i] if i is not None else "……" for i in rows]
    legend = 6.0 if len(chart.series) > 1 else 0.0
    fig, ax = _figure(
        width_mm,
        n * BAR_MM * max(1, groups * 0.7) + 14 + legend,
        left=_name_mm(names),
        top=3 + legend,
    )
    height = 0.8 / groups
    left = [0.0] * n
    for k, s in enumerate(chart.series):
        values = [
            math.nan if i is None else v
            for i, v in zip(
                rows, _floats([s.values[i] if i is not None else None for i in rows]), strict=True
            )
        ]
        ys = [y + (0 if chart.stacked else (k - (groups - 1) / 2) * height) for y in range(n)]
        start = left if chart.stacked else [0.0] * n
        ax.barh(
            ys, values, height=height, left=start, color=colours[k % len(colours)], label=s.name
        )
        last = k == len(chart.series) - 1
        for y, (i, v) in enumerate(zip(rows, values, strict=True)):
            if i is None or math.isnan(v):
                continue
            note = chart.notes[i] if (chart.notes and last) else ""
            text = f"{_label(s.values[i], chart.decimals)} {note}".strip()
            ax.text(start[y] + v + top * 0.01, ys[y], text, va="center", fontsize=FONT_PT - 1)
        if chart.stacked:
            left = [a + (0.0 if math.isnan(b) else b) for a, b in zip(left, values, strict=True)]
    ax.set_yticks(range(n), names)
    ax.set_ylim(n - 0.5, -0.5)  # the first on top, as a ranking reads
    ax.set_xlim(0, top * 1.15)
    ax.xaxis.grid(True, color=GRID_COLOUR)
    ax.set_axisbelow(True)
    if chart.value_name:
        ax.set_xlabel(chart.value_name)
    _target(ax, chart, horizontal=True)
    _legend(ax, chart.series)
    return _png(fig, dpi)


def _target(ax: Any, chart: Any, horizontal: bool) -> None:
    if chart.target_line is None:
        return
    value = float(chart.target_line)
    label = chart.target_name or _label(chart.target_line, chart.decimals)
    if horizontal:
        ax.axvline(value, color=TEXT_COLOUR, linestyle="--", linewidth=0.8)
        ax.annotate(label, (value, 0), xycoords=("data", "axes fraction"), xytext=(2, 2),
                    textcoords="offset points", fontsize=FONT_PT - 1)  # fmt: skip
    else:
        ax.axhline(value, color=TEXT_COLOUR, linestyle="--", linewidth=0.8)
        ax.annotate(label, (1, value), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", fontsize=FONT_PT - 1)  # fmt: skip


def _upright_bars(chart: Any, width_mm: float, height_mm: float, dpi: int) -> bytes:
    colours = _palette()
    n = len(chart.categories)
    names_mm = _name_mm(chart.categories) if n > 12 else 0.0
    legend = 6.0 if len(chart.series) > 1 else 4.0
    fig, ax = _figure(width_mm, height_mm, bottom=10 + names_mm, top=legend)
    groups = len(chart.series)
    width = 0.8 / max(1, groups)
    bottom = [0.0] * n
    for k, s in enumerate(chart.series):
        values = _floats(s.values)
        xs = [i + (0 if chart.stacked else (k - (groups - 1) / 2) * width) for i in range(n)]
        start = bottom if chart.stacked else [0.0] * n
        bars = ax.bar(xs, values, width=width if not chart.stacked else 0.8, bottom=start,
                      color=colours[k % len(colours)], label=s.name)  # fmt: skip
        if groups == 1 or chart.stacked:  # grouped labels would print over each other
            labels = [
                "" if math.isnan(v) else _label(s.values[i], chart.decimals)
                for i, v in enumerate(values)
            ]
            ax.bar_label(bars, labels=labels, label_type="center" if chart.stacked else "edge",
                         fontsize=FONT_PT - 1, padding=1)  # fmt: skip
        if chart.stacked:
            bottom = [
                a + (0.0 if math.isnan(b) else b) for a, b in zip(bottom, values, strict=True)
            ]
    ax.set_xticks(range(n), chart.categories, rotation=0 if n <= 12 else 90)
    ax.yaxis.grid(True, color=GRID_COLOUR)
    ax.set_axisbelow(True)
    if chart.value_name:
        ax.set_ylabel(chart.value_name)
    _target(ax, chart, horizontal=False)
    _legend(ax, chart.series)
    return _png(fig, dpi)


def _lines(chart: Any, width_mm: float, height_mm: float, dpi: int) -> bytes:
    from matplotlib.ticker import MaxNLocator

    colours = _palette()
    fig, ax = _figure(width_mm, height_mm, top=6.0 if len(chart.series) > 1 else 4.0)
    xs = list(range(len(chart.categories)))
    for k, s in enumerate(chart.series):
        values = _floats(s.values)
        colour = colours[k % len(colours)]
        ax.plot(xs, values, color=colour, marker="o", markersize=3, linewidth=1.4, label=s.name)
        for x, v, raw in zip(xs, values, s.values, strict=True):
            if not math.isnan(v):
                ax.annotate(_label(raw, chart.decimals), (x, v), xytext=(0, 3),
                            textcoords="offset points", ha="center", fontsize=FONT_PT - 1,
                            color=colour)  # fmt: skip
    ax.set_xticks(xs, chart.categories)
    ax.yaxis.grid(True, color=GRID_COLOUR)
    if chart.inverse:  # a rank: whole places, 1 on top
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        low, high = ax.get_ylim()
        ax.set_ylim(max(high, 1.5), min(low, 1) if low < 1 else 0.5)
    if chart.value_name:
        ax.set_ylabel(chart.value_name)
    _legend(ax, chart.series)
    return _png(fig, dpi)


def ranking_rows(n: int, max_bars: int | None) -> list[list[int | None]]:
    """Which bars of an ``n``-bar ranking each image shows. ``max_bars`` set: one image, and
    past that many bars the first and last ``max_bars // 2`` with a gap row between (the
    table under it holds every unit; a bulletin names the top and the bottom). None: every
    bar, ``BARS_PER_IMAGE`` per image."""
    if max_bars is None:
        return [
            list(range(lo, min(n, lo + BARS_PER_IMAGE)))
            for lo in range(0, max(n, 1), BARS_PER_IMAGE)
        ]
    if n <= max_bars:
        return [list(range(n))]
    half = max_bars // 2
    return [[*range(half), None, *range(n - half, n)]]


def draw(
    chart: Any,
    *,
    width_mm: float = 156.0,
    height_mm: float = 80.0,
    dpi: int = 200,
    max_bars: int | None = BARS_PER_IMAGE,
) -> list[bytes]:
    """A BarChart or LineChart as PNG images ``width_mm`` wide: one, or for a horizontal
    ranking the parts ``ranking_rows`` chooses (all on one value scale)."""
    from duban.web.charts import BarChart, LineChart

    if isinstance(chart, BarChart) and chart.horizontal:
        top = _value_top(chart)
        parts = ranking_rows(len(chart.categories), max_bars)
        return [_bar_part(chart, rows, width_mm, dpi, top) for rows in parts]
    if isinstance(chart, BarChart):
        return [_upright_bars(chart, width_mm, height_mm, dpi)]
    if isinstance(chart, LineChart):
        return [_lines(chart, width_mm, height_mm, dpi)]
    from duban.documents.layout import UNDRAWABLE, DocumentError

    raise DocumentError(str(UNDRAWABLE) % {"kind": type(chart).__name__}, "chart")


def cut_note(chart: Any, max_bars: int | None = BARS_PER_IMAGE) -> str:
    """The line under a cut ranking saying how many units the chart leaves out, or ""."""
    n = len(getattr(chart, "categories", ()))
    if not getattr(chart, "horizontal", False) or max_bars is None or n <= max_bars:
        return ""
    half = max_bars // 2
    return CUT_NOTE.format(top=half, bottom=half, n=n)


def _value_top(chart: Any) -> float:
    """The largest bar end (stacked: the largest sum), and the target line, for one scale."""
    sums: list[float] = []
    for i in range(len(chart.categories)):
        values = [float(s.values[i]) for s in chart.series if s.values[i] is not None]
        sums.append(sum(values) if chart.stacked else max(values, default=0.0))
    candidates = [*sums, float(chart.target_line or 0), 0.0]
    top = max(candidates)
    return top if top > 0 else 1.0


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's IHDR (no image library needed)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


__all__ = ["BARS_PER_IMAGE", "cut_note", "draw", "png_size", "ranking_rows"]


def document_images(doc: Any, *, dpi: int = 200) -> list[list[bytes]]:
    """Every chart of a document drawn once, in order: the DOCX and the PDF of one download
    share them instead of drawing each chart twice."""
    return [draw(c.chart, height_mm=c.height_mm, dpi=dpi) for c in doc.charts()]
