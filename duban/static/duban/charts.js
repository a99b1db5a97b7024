/* Draws every chart a page places with {% chart %} (duban/web/charts.py).
 *
 * Each [data-chart] element names the json_script holding its ECharts option. A click on a
 * bar, a point, a heatmap cell or a category's name opens the link carried by its data item.
 * Charts follow their container's size and are drawn again inside content htmx swaps in.
 * No inline script anywhere: the option is data, this file is the behaviour.
 */
(function () {
  "use strict";

  var WALL = "duban-wall";

  function registerWallTheme() {
    if (typeof echarts === "undefined" || registerWallTheme.done) return;
    registerWallTheme.done = true;
    var light = "#F5F7FA";
    var axis = {
      axisLine: { lineStyle: { color: "#8A96A8" } },
      axisLabel: { color: light },
      splitLine: { lineStyle: { color: "#3A4656" } },
      nameTextStyle: { color: light }
    };
    echarts.registerTheme(WALL, {
      backgroundColor: "#0B1522",
      textStyle: { color: light },
      legend: { textStyle: { color: light } },
      categoryAxis: axis,
      valueAxis: axis,
      tooltip: { backgroundColor: "#1B2838", borderColor: "#56B4E9", textStyle: { color: light } }
    });
  }

  function valueFormatter(unit) {
    return function (v) {
      if (v === null || v === undefined || v === "-") return "—";
      return unit ? v + " " + unit : String(v);
    };
  }

  function safeLink(link) {
    return typeof link === "string" && link.charAt(0) === "/" && link.charAt(1) !== "/" ? link : null;
  }

  /* The link of a category (a click on its name): the first series item there that has one. */
  function categoryLink(option, index) {
    var series = option.series || [];
    for (var i = 0; i < series.length; i++) {
      if (series[i].type === "heatmap") continue;
      var item = (series[i].data || [])[index];
      if (item && typeof item === "object" && safeLink(item.link)) return item.link;
    }
    return null;
  }

  function open(link) {
    if (safeLink(link)) window.location.assign(link);
  }

  /* On a phone the names would leave the bars no room: a horizontal chart's name column
   * shrinks to a third of the width (the tooltip and the table keep each name whole). */
  function fitNarrow(option, width) {
    var axis = option.yAxis;
    if (width >= 560 || !axis || axis.type !== "category" || !axis.axisLabel || !option.grid) return;
    var cap = Math.round(width / 3);
    var wide = axis.axisLabel.width;
    if (typeof wide === "number" && wide > cap && typeof option.grid.left === "number") {
      option.grid.left = option.grid.left - wide + cap;
      axis.axisLabel.width = cap;
    }
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") return;
    var option = JSON.parse(source.textContent);
    var height = parseInt(el.getAttribute("data-chart-height"), 10);
    if (height > 0) el.style.height = height + "px";
    var old = echarts.getInstanceByDom(el);
    if (old) old.dispose();
    var lang = (document.documentElement.lang || "zh").toLowerCase();
    var theme = el.getAttribute("data-chart-theme") === WALL ? WALL : null;
    var chart = echarts.init(el, theme, { renderer: "canvas", locale: lang.indexOf("zh") === 0 ? "ZH" : "EN" });
    fitNarrow(option, el.clientWidth);
    option.tooltip = option.tooltip || {};
    option.tooltip.valueFormatter = valueFormatter(el.getAttribute("data-chart-unit") || "");
    // Drawn on the canvas: ECharts' HTML tooltip writes style="" attributes, which the
    // Content-Security-Policy blocks (it allows no inline style).
    option.tooltip.renderMode = "richText";
    chart.setOption(option);
    chart.on("click", function (p) {
      if (p.targetType === "axisLabel" && typeof p.dataIndex === "number") {
        open(categoryLink(option, p.dataIndex));
      } else if (p.data && typeof p.data === "object") {
        open(p.data.link);
      }
    });
    if (typeof ResizeObserver !== "undefined") {
      if (el._dubanResize) el._dubanResize.disconnect();  // drawn again: one observer only
      el._dubanResize = new ResizeObserver(function () { chart.resize(); });
      el._dubanResize.observe(el);
    }
  }

  function drawAll(root) {
    registerWallTheme();
    var found = root.querySelectorAll ? root.querySelectorAll("[data-chart]") : [];
    for (var i = 0; i < found.length; i++) draw(found[i]);
    if (root.matches && root.matches("[data-chart]")) draw(root);
  }

  if (typeof ResizeObserver === "undefined") {
    window.addEventListener("resize", function () {
      var all = document.querySelectorAll("[data-chart]");
      for (var i = 0; i < all.length; i++) {
        var c = echarts.getInstanceByDom(all[i]);
        if (c) c.resize();
      }
    });
  }
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target || document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
