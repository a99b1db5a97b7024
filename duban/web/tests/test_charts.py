"""The chart helper: options and tables from hand-written descriptions, the template tag's
HTML, the scripts it points at, and (marked browser) one chart drawn and clicked in Chromium."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template

from duban.web.charts import BLUES, PALETTE, BarChart, HeatmapChart, LineChart, Series


def ranking() -> BarChart:
    return BarChart(
        key="children-rank",
        title="各县区总分",
        categories=["冷水滩区", "江华瑶族自治县", "双牌县"],
        series=[
            Series(
                name="总分",
                values=[Decimal("91.255"), Decimal("88"), None],
                links=["/cockpit/YZ-LST/", "/cockpit/YZ-JH/", None],
            )
        ],
        horizontal=True,
        value_name="分",
        notes=["▲2", "▼1", ""],
    )


def test_bar_options_keep_order_round_half_up_and_carry_links() -> None:
    options = ranking().options()
    assert options["yAxis"]["type"] == "category"
    assert options["yAxis"]["data"] == ["冷水滩区", "江华瑶族自治县", "双牌县"]
    assert options["yAxis"]["inverse"] is True, "the first category (the laggard) on top"
    assert options["xAxis"]["type"] == "value"
    data = options["series"][0]["data"]
    assert data[0] == {"value": 91.26, "link": "/cockpit/YZ-LST/", "label": {"formatter": "91.26 ▲2"}}  # fmt: skip
    assert data[1] == {"value": 88, "link": "/cockpit/YZ-JH/", "label": {"formatter": "88 ▼1"}}
    assert isinstance(data[1]["value"], int)
    assert data[2] == "-", "a missing figure is a gap, not a zero"
    json.dumps(options)  # no Decimal left: it serialises as it is


def test_bar_options_are_readable_and_accessible() -> None:
    options = ranking().options()
    assert options["aria"]["enabled"] is True
    assert options["color"] == PALETTE and options["color"][:2] == ["#0072B2", "#E69F00"]
    assert options["title"]["show"] is False, "the title is in the page, not in the canvas"
    label = options["yAxis"]["axisLabel"]
    assert label["overflow"] == "truncate" and label["interval"] == 0
    assert label["width"] >= 7 * 12, "江华瑶族自治县 (7 characters at 12 px) is not cut"
    assert options["grid"]["left"] > label["width"], "the names fit left of the bars"
    assert options["tooltip"]["trigger"] == "axis", "the tooltip names the category in full"


def test_bar_table_shows_raw_values_links_and_notes() -> None:
    headers, rows = ranking().table()
    assert headers == ["名称", "总分 (分)", "备注"]
    assert rows == [
        ["冷水滩区", "91.255", "▲2"],
        ["江华瑶族自治县", "88", "▼1"],
        ["双牌县", "—", ""],
    ]
    _, cells = ranking().table_cells()
    assert [c.link for c in cells[0]] == ["/cockpit/YZ-LST/", "/cockpit/YZ-LST/", None]
    assert cells[2][1].link is None


def test_wall_options_use_large_type_and_the_light_palette() -> None:
    options = ranking().options(wall=True)
    assert options["yAxis"]["axisLabel"]["fontSize"] >= 24
    assert options["series"][0]["label"]["fontSize"] >= 24
    assert options["yAxis"]["axisLabel"]["width"] >= 7 * 24
    assert "#000000" not in options["color"], "black vanishes on the dark wall"
    assert ranking().height(wall=True) > ranking().height()


def test_line_chart_inverse_axis_and_gaps() -> None:
    line = LineChart(
        key="rank-trend", title="全年名次", categories=["1月", "2月", "3月", "4月"],
        series=[Series(name="名次", values=[3, 2, None, 1])], inverse=True, value_name="名",
    )  # fmt: skip
    options = line.options()
    assert options["yAxis"]["inverse"] is True and options["yAxis"]["min"] == 1
    assert options["yAxis"]["minInterval"] == 1
    assert options["series"][0]["data"] == [{"value": 3}, {"value": 2}, "-", {"value": 1}]
    assert options["series"][0]["connectNulls"] is False
    assert line.table() == (
        ["名称", "名次 (名)"],
        [["1月", "3"], ["2月", "2"], ["3月", "—"], ["4月", "1"]],
    )


def test_heatmap_single_hue_value_in_cell_links_and_empty_cells() -> None:
    heat = HeatmapChart(
        key="attainment", title="分类完成率", rows=["冷水滩区", "零陵区"],
        columns=["基础工作", "业务工作"],
        cells=[[Decimal("92.54"), None], [Decimal("40"), Decimal("120.5")]],
        links=[["/u/LST/?c=1", None], [None, "/u/LL/?c=2"]], value_name="%",
    )  # fmt: skip
    options = heat.options()
    assert options["visualMap"]["inRange"]["color"] == BLUES
    assert options["visualMap"]["min"] == 0 and options["visualMap"]["max"] == 120.5
    assert options["series"][0]["label"]["show"] is True
    data = options["series"][0]["data"]
    assert [d["value"] for d in data] == [[0, 0, 92.5], [0, 1, 40], [1, 1, 120.5]]
    assert [d.get("link") for d in data] == ["/u/LST/?c=1", None, "/u/LL/?c=2"]
    assert data[0]["label"]["color"] == "#FFFFFF" and data[1]["label"]["color"] == "#08306B"
    assert data[0]["tooltip"]["formatter"] == "冷水滩区 · 基础工作: 92.5 %"
    headers, rows = heat.table()
    assert headers == ["名称", "基础工作 (%)", "业务工作 (%)"]
    assert rows == [["冷水滩区", "92.54", "—"], ["零陵区", "40", "120.5"]]


@pytest.mark.parametrize("link", ["https://example.com/", "//evil.example/", "javascript:alert(1)"])
def test_links_stay_on_the_site(link: str) -> None:
    chart = BarChart(key="x", title="t", categories=["a"], series=[Series("s", [1], [link])])
    with pytest.raises(ValueError, match="path on this site"):
        chart.options()


def test_a_series_must_match_its_categories() -> None:
    with pytest.raises(ValueError, match="2 values for 1 categories"):
        BarChart(key="x", title="t", categories=["a"], series=[Series("s", [1, 2])])
    with pytest.raises(ValueError, match="key"):
        BarChart(key="Bad Key", title="t", categories=[], series=[])


def render(source: str, **context: object) -> str:
    return Template("{% load duban_charts %}" + source).render(Context(context))


def test_chart_tag_renders_figure_json_script_and_table() -> None:
    html = render("{% chart c %}", c=ranking())
    assert html.lstrip().startswith("<figure")
    assert '<figcaption class="chart-title" id="chart-children-rank-title">各县区总分</figcaption>' in html  # fmt: skip
    assert 'data-chart="chart-children-rank-data"' in html
    assert 'id="chart-children-rank"' in html and 'data-chart-unit="分"' in html
    script = re.search(r'<script id="chart-children-rank-data" type="application/json">(.*?)</script>', html, re.S)  # fmt: skip
    assert script is not None
    assert json.loads(script.group(1)) == ranking().options()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script id="chart-children-rank-data" type="application/json">'], "no inline code"  # fmt: skip
    assert "onclick" not in html and "style=" not in html
    assert "<details" in html and "<summary>查看数据表</summary>" in html
    assert "<caption>各县区总分</caption>" in html
    assert '<th scope="row"><a href="/cockpit/YZ-LST/">冷水滩区</a></th>' in html
    assert '<td><a href="/cockpit/YZ-JH/">88</a></td>' in html
    assert "<td>—</td>" in html


def test_chart_tag_wall_theme(english: None) -> None:
    html = render("{% chart c wall=True %}", c=ranking())
    assert 'class="chart chart-wall"' in html and 'data-chart-theme="duban-wall"' in html
    assert "<summary>Show the table</summary>" in html
    script = re.search(r'type="application/json">(.*?)</script>', html, re.S)
    assert script is not None and json.loads(script.group(1))["color"][0] == "#56B4E9"


def test_chart_scripts_point_at_files_the_static_finders_serve(settings) -> None:
    html = render("{% chart_scripts %}")
    paths = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(paths) == 3
    assert all(p.startswith("/" + settings.STATIC_URL.lstrip("/")) for p in paths)
    found = [finders.find(p.removeprefix("/" + settings.STATIC_URL.lstrip("/"))) for p in paths]
    assert all(found), dict(zip(paths, found, strict=True))
    assert any("node_modules" in str(f) and str(f).endswith("echarts.min.js") for f in found)
    assert re.findall(r"<script\b[^>]*>", html) == [
        f'<script defer src="{paths[1]}">',
        f'<script defer src="{paths[2]}">',
    ]


# --- In the browser: a tiny page of its own (a test-only URL conf), drawn by Debian's Chromium.

PAGE = """{% load duban_charts %}<!doctype html><html lang="zh-hans"><head><meta charset="utf-8">
<title>chart</title>{% chart_scripts %}</head><body><main>{% chart c %}</main>
</body></html>"""


def chart_page(request):  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    return HttpResponse(Template(PAGE).render(Context({"c": ranking()})))


def arrived(request, code):  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    return HttpResponse(f"<!doctype html><title>{code}</title><p id=arrived>{code}</p>")


def _urlpatterns() -> list[object]:
    from django.http import HttpResponse
    from django.urls import path

    return [
        path("chart/", chart_page),
        path("cockpit/<str:code>/", arrived),
        path("favicon.ico", lambda request: HttpResponse(status=204)),
    ]


urlpatterns = _urlpatterns()


@pytest.mark.browser
@pytest.mark.urls(__name__)
def test_chart_draws_and_a_click_on_a_bar_opens_its_link(live_server, transactional_db) -> None:
    from duban.testing_browser import CHROMIUM, launch_chromium

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)  # CSP-guarded (duban.testing_browser)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{live_server.url}/chart/")
            page.wait_for_selector("#chart-children-rank canvas")
            inked = page.evaluate(
                """() => { const c = document.querySelector('#chart-children-rank canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
            )
            assert inked > 1000, "the canvas is drawn"
            assert (
                page.locator("#chart-children-rank").get_attribute("aria-label") != "各县区总分"
            ), "ECharts' aria wrote a description of the chart for screen readers"
            # the middle of 江华瑶族自治县's bar (second category, value 88)
            x, y = page.evaluate(
                """() => echarts.getInstanceByDom(document.getElementById('chart-children-rank'))
                .convertToPixel({seriesIndex: 0}, [44, 1])"""
            )
            box = page.locator("#chart-children-rank").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.wait_for_url(f"{live_server.url}/cockpit/YZ-JH/")
            assert page.locator("#arrived").inner_text() == "YZ-JH"
            assert errors == []
            off_box = [u for u in requests if not u.startswith(live_server.url)]
            assert off_box == [], "nothing may load from outside the server"
        finally:
            browser.close()
