/* Charts under the statistics tables (ECharts, vendored under static/vendor/echarts).
   Reads the JSON of <script type="application/json" id="stats-chart-data"> and draws a
   horizontal bar chart per town into #stats-chart. */
(function () {
  "use strict";
  var holder = document.getElementById("stats-chart");
  var source = document.getElementById("stats-chart-data");
  if (!holder || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");
  var categories = (data.categories || []).slice().reverse();
  var series = (data.series || []).map(function (s) {
    return {
      name: s.name, type: "bar", stack: s.stack, barMaxWidth: 18,
      data: (s.data || []).slice().reverse(),
      label: { show: !s.stack, position: "right",
               formatter: function (p) { return p.value ? p.value + (data.percent ? "%" : "") : ""; } }
    };
  });
  holder.style.height = Math.max(260, 60 + categories.length * (data.percent ? 54 : 28)) + "px";
  var chart = echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
               valueFormatter: function (v) { return data.percent ? v + "%" : v; } },
    legend: { top: 0 },
    grid: { left: 8, right: 48, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: data.percent ? 100 : null,
             axisLabel: { formatter: data.percent ? "{value}%" : "{value}" } },
    yAxis: { type: "category", data: categories },
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
  var box = holder.closest ? holder.closest("details") : null;  // the foldable chart box
  if (box) { box.addEventListener("toggle", function () { if (box.open) { chart.resize(); } }); }
})();
