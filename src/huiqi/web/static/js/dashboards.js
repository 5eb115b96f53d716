/* 统计看板: draws each .dash-chart[data-chart] with the vendored ECharts (canvas, the page's CJK font stack).
   The data comes from the page itself (data-chart, JSON written by the server): no inline script, no request.
   Amounts arrive as exact 万元 strings ("values") with their exact text ("texts", e.g. 1,234.56万元) for the
   tooltip; the bars are only a picture of them. Tooltips are drawn in the canvas (renderMode richText), so no
   HTML with style attributes is made (the Content-Security-Policy forbids them). */
(function () {
  "use strict";

  var COLORS = ["#b3261e", "#f2a33a", "#9fb3c8", "#0b57d0", "#1a7f37"];

  function axisNumber(value) {
    return Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  }

  function option(spec, font, width) {
    var horizontal = spec.kind === "hbar";
    var narrow = width < 560;
    var labelWidth = Math.max(72, Math.min(220, Math.floor(width * 0.3)));
    var categories = {
      type: "category", data: spec.categories, inverse: horizontal,
      axisLabel: horizontal ? { width: labelWidth, overflow: "truncate" }
        : { interval: 0, width: narrow ? 64 : 110, overflow: "break", hideOverlap: true }
    };
    var amounts = horizontal
      ? { type: "value", name: "金额（万元）", nameLocation: "middle", nameGap: 28, splitNumber: narrow ? 3 : 5,
          axisLabel: { formatter: axisNumber, hideOverlap: true } }
      : { type: "value", name: "万元", axisLabel: { formatter: axisNumber } };
    var series = spec.series.map(function (item) {
      return {
        name: item.name, type: "bar", stack: item.stack || undefined, barMaxWidth: 36,
        data: item.values.map(Number), texts: item.texts
      };
    });
    var yAxes = [horizontal ? categories : amounts];
    var drawCounts = spec.counts && spec.counts.drawn && !horizontal;
    if (drawCounts) {
      series.push({
        name: spec.counts.name, type: "line", yAxisIndex: 1, data: spec.counts.values, symbolSize: 8
      });
      yAxes.push({ type: "value", name: "项", minInterval: 1, splitLine: { show: false } });
    }
    var texts = spec.series.map(function (item) { return item.texts; });
    var counts = spec.counts;
    var chartOption = {
      color: COLORS,
      animation: false,
      textStyle: { fontFamily: font },
      grid: { left: 8, right: drawCounts ? 16 : 32, top: 48, bottom: horizontal ? 36 : 8, containLabel: true },
      legend: { top: 0, textStyle: { fontFamily: font } },
      tooltip: {
        trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" },
        textStyle: { fontFamily: font },
        formatter: function (params) {
          var index = params[0].dataIndex;
          var lines = [spec.categories[index]];
          spec.series.forEach(function (item, i) { lines.push(item.name + "：" + texts[i][index]); });
          if (counts) { lines.push(counts.name + "：" + counts.values[index] + "项"); }
          return lines.join("\n");
        }
      },
      xAxis: horizontal ? amounts : categories,
      yAxis: yAxes.length === 1 ? yAxes[0] : yAxes,
      series: series
    };
    return chartOption;
  }

  function draw() {
    if (!window.echarts) { return; }
    var font = window.getComputedStyle(document.body).fontFamily;
    var charts = [];
    document.querySelectorAll(".dash-chart[data-chart]").forEach(function (element) {
      var spec;
      try { spec = JSON.parse(element.getAttribute("data-chart")); } catch (error) { return; }
      var chart = window.echarts.init(element, null, { renderer: "canvas", locale: "ZH" });
      chart.setOption(option(spec, font, element.clientWidth));
      element.setAttribute("data-rendered", "true");
      charts.push({ chart: chart, spec: spec, element: element });
    });
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        charts.forEach(function (c) {
          c.chart.resize();
          c.chart.setOption(option(c.spec, font, c.element.clientWidth), true);
        });
      }, 100);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
