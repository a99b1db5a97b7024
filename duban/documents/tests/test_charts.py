"""Server-drawn charts: PNG of the right pixel width, long rankings cut, no font fallback."""

from __future__ import annotations

import warnings

import pytest

from duban.documents import charts
from duban.documents.layout import DocumentError
from duban.web.charts import BarChart, HeatmapChart, LineChart, Series


def ranking(n: int) -> BarChart:
    return BarChart(
        key="r",
        title="排名",
        categories=[f"第{i + 1}县公安局" for i in range(n)],
        series=[Series("得分", [100 - i * 0.3 for i in range(n)])],
        horizontal=True,
        notes=["↑1"] * n,
        target_line=80,
    )


def test_156_mm_at_200_dpi_is_1228_pixels_wide() -> None:
    (png,) = charts.draw(ranking(12), width_mm=156, dpi=200)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert charts.png_size(png)[0] == 1228  # 156 / 25.4 * 200 = 1228.3


def test_a_ranking_grows_with_its_bars() -> None:
    small = charts.png_size(charts.draw(ranking(5), dpi=100)[0])[1]
    large = charts.png_size(charts.draw(ranking(30), dpi=100)[0])[1]
    assert large > 4 * small / 2


def test_150_units_are_cut_to_the_first_and_last_20() -> None:
    assert charts.ranking_rows(150, 40) == [[*range(20), None, *range(130, 150)]]
    assert charts.ranking_rows(40, 40) == [list(range(40))]
    parts = charts.ranking_rows(150, None)
    assert [len(p) for p in parts] == [40, 40, 40, 30]
    assert (
        charts.cut_note(ranking(150)) == "注：图中列出前20名和后20名，共150个单位，全部单位见表。"
    )
    assert charts.cut_note(ranking(12)) == ""


def test_lines_with_gaps_and_inverse_ranks_draw_without_font_warnings() -> None:
    line = LineChart(
        key="t",
        title="名次",
        categories=[f"{m}月" for m in range(1, 13)],
        series=[Series("名次", [3, 2, None, 1, 1, 2, 4, 3, 2, 1, 1, 1])],
        inverse=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise
        (png,) = charts.draw(line, width_mm=100, dpi=100)
        charts.draw(BarChart(key="b", title="分组", categories=["甲", "乙"],
                             series=[Series("一", [1, 2]), Series("二", [None, 3])]))  # fmt: skip
    assert charts.png_size(png)[0] == 393  # 100 / 25.4 * 100 = 393.7, cut down


def test_a_heatmap_is_refused() -> None:
    heat = HeatmapChart(key="h", title="热力", rows=["甲"], columns=["一"], cells=[[1]])
    with pytest.raises(DocumentError):
        charts.draw(heat)
