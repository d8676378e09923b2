// The dashboard's charts (ECharts, served locally). The numbers come from the page's
// json_script block (no inline script: the CSP forbids it); every chart has a table with
// the same numbers on the page, so nothing is carried by a chart alone.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const labels = data.labels;
  const charts = [];
  // Bootstrap's colours, as on the status badges (app.css: .status-*).
  const COLOURS = {
    on_track: "#0a58ca",
    at_risk: "#ffc107",
    blocked: "#b02a37",
    done: "#146c43",
    unrated: "#6c757d",
    missing: "#dee2e6",
  };
  const FONT = "system-ui, -apple-system, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
  // richText tooltips are drawn on the canvas: HTML tooltips carry style attributes,
  // which the CSP (no 'unsafe-inline') refuses.
  const TOOLTIP = { renderMode: "richText", confine: true };

  function draw(element, option) {
    const chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ textStyle: { fontFamily: FONT }, animation: false }, option));
    charts.push(chart);
    return chart;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : value + "%";
  }

  function chapters(element) {
    const c = data.chapters;
    draw(element, {
      tooltip: Object.assign({ trigger: "axis", axisPointer: { type: "shadow" } }, TOOLTIP),
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: {
        type: "category",
        inverse: true,
        data: c.names,
        axisLabel: { width: 150, overflow: "truncate" },
      },
      series: c.series.map((s) => ({
        name: s.name,
        type: "bar",
        stack: "share",
        itemStyle: { color: COLOURS[s.key] },
        data: s.data.map((d) => d.value),
      })),
    });
    element.style.height = Math.max(160, 60 + c.names.length * 34) + "px";
  }

  function trend(element) {
    const t = data.trend;
    const start = t.cycles.length > 24 ? 100 - (24 / t.cycles.length) * 100 : 0;
    draw(element, {
      tooltip: Object.assign({ trigger: "axis", valueFormatter: percent }, TOOLTIP),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 48, containLabel: true },
      xAxis: { type: "category", data: t.cycles },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      dataZoom: [{ type: "inside", start: start }, { type: "slider", start: start, height: 18 }],
      series: [
        { name: labels.completeness, type: "line", data: t.completeness, itemStyle: { color: COLOURS.done } },
        { name: labels.timeliness, type: "line", data: t.timeliness, itemStyle: { color: COLOURS.on_track } },
      ],
    });
  }

  function heat(element) {
    const h = data.heat;
    const measure = element.dataset.measure;
    element.style.height = 90 + h.units.length * 24 + "px";
    draw(element, {
      tooltip: Object.assign(
        {
          formatter: (p) =>
            h.units[p.value[1]] + " · " + h.cycles[p.value[0]] + "：" + percent(p.value[2]),
        },
        TOOLTIP,
      ),
      grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: h.cycles, splitArea: { show: true } },
      yAxis: {
        type: "category",
        data: h.units,
        inverse: true,
        axisLabel: { width: 110, overflow: "truncate" },
      },
      visualMap: {
        min: 0,
        max: 100,
        calculable: false,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        itemHeight: 120,
        text: ["100%", "0%"],
        inRange: { color: ["#b02a37", "#ffc107", "#146c43"] },
      },
      series: [
        {
          name: labels[measure],
          type: "heatmap",
          data: h[measure],
          label: { show: h.cycles.length <= 6, formatter: (p) => Math.round(p.value[2]) },
        },
      ],
    });
  }

  function target(element) {
    const t = data.targets.find((x) => x.id === element.dataset.target);
    if (!t) {
      return;
    }
    const unit = t.unit || "";
    const series = [
      {
        name: labels.value,
        type: "line",
        showSymbol: t.points.length <= 24,
        data: t.points,
        itemStyle: { color: COLOURS.on_track },
      },
    ];
    if (t.path.length) {
      series.push({
        name: labels.path,
        type: "line",
        data: t.path,
        symbol: "none",
        lineStyle: { type: "dashed", color: COLOURS.unrated },
        itemStyle: { color: COLOURS.unrated },
      });
      series.push({
        name: labels.target,
        type: "scatter",
        data: [t.path[t.path.length - 1]],
        symbol: "diamond",
        symbolSize: 10,
        itemStyle: { color: COLOURS.done },
      });
    }
    draw(element, {
      tooltip: Object.assign({ trigger: "axis", valueFormatter: (v) => v + unit }, TOOLTIP),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "time" },
      yAxis: { type: "value", scale: true, axisLabel: { formatter: "{value}" + unit } },
      series: series,
    });
  }

  const makers = { chapters: chapters, trend: trend, heat: heat, target: target };
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const make = makers[element.dataset.chart];
    if (make) {
      make(element);
    }
  });
  // Sizes set after init (chapters, heat) and window changes: let each chart re-measure.
  const resize = () => charts.forEach((chart) => chart.resize());
  resize();
  window.addEventListener("resize", resize);
})();
