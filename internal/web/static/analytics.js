// Draws the audience chart of the analytics page with uPlot from the JSON
// the page carries. Without JavaScript the table below it says the same.
(function () {
  "use strict";
  var el = document.getElementById("audience-chart");
  var data = document.getElementById("audience-data");
  if (!el || !data || typeof uPlot === "undefined") return;
  var d = JSON.parse(data.textContent);
  var xs = d.days.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
  var colours = ["#4f46e5", "#0ea5e9", "#16a34a", "#db2777", "#ea580c", "#64748b", "#9333ea", "#ca8a04"];
  var series = [{}];
  var cols = [xs];
  d.series.forEach(function (s, i) {
    series.push({ label: s.platform, stroke: colours[i % colours.length], width: 2, spanGaps: false });
    cols.push(s.series);
  });
  var opts = {
    width: el.clientWidth || 800,
    height: 280,
    series: series,
    axes: [{}, { size: 70 }],
    scales: { x: { time: true } },
  };
  var plot = new uPlot(opts, cols, el);
  window.addEventListener("resize", function () {
    plot.setSize({ width: el.clientWidth, height: 280 });
  });
})();
