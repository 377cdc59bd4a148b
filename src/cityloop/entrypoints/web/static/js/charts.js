// Evaluation charts: the page embeds what to draw as JSON (<script type="application/json"
// id="chart-data">{"ranking": {...}, ...}</script>); every <div class="chart" data-chart="ranking">
// gets the chart of that name, drawn by the vendored ECharts (window.echarts). Labels arrive
// translated; colours of grades come from the scoring scheme. The hot-spot map (Leaflet) reads
// #hot-map-data and draws the unit grids' outlines from /api/v1/map/regions.

const echarts = window.echarts;
const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
  + '"Helvetica Neue", Arial, sans-serif';
const PALETTE = ["#1769c4", "#2e7d32", "#f9a825", "#ef6c00", "#c62828", "#6a1b9a", "#00838f",
  "#5d4037", "#546e7a"];
const MUTED = "#64748b";
const LINE = "#d9dee5";

function readJson(id) {
  const element = document.getElementById(id);
  if (!element) return null;
  try { return JSON.parse(element.textContent); } catch (e) { return null; }
}

function base() {
  return {
    textStyle: { fontFamily: FONT, color: "#1f2933" },
    color: PALETTE,
    animationDuration: 300,
  };
}

function go(links) {
  return (params) => {
    const href = links && links[params.dataIndex];
    if (href) window.location.href = href;
  };
}

function fmt(value, unit) {
  if (value === null || value === undefined) return "—";
  if (unit === "percent") return `${value.toFixed(2)}%`;
  if (unit === "score") return value.toFixed(2);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

// Subjects ranked best first, one horizontal bar each, coloured by grade.
function ranking(spec) {
  const values = spec.values.map((v, i) => ({
    value: v,
    itemStyle: { color: spec.colours[i] },
  }));
  const lines = (spec.bands || []).filter((b) => b[1] > 0).map((b) => ({
    xAxis: b[1],
    lineStyle: { color: b[2], type: "dashed", width: 1 },
    label: { formatter: b[0], color: b[2], position: "end" },
  }));
  return {
    ...base(),
    grid: { left: 8, right: 64, top: 24, bottom: 8, containLabel: true },
    tooltip: {
      trigger: "item",
      formatter: (p) => `${p.name}<br>${spec.title}: <b>${fmt(p.value, spec.unit)}</b>`
        + (spec.grades[p.dataIndex] ? ` (${spec.grades[p.dataIndex]})` : ""),
    },
    xAxis: {
      type: "value", max: spec.unit === "score" || spec.unit === "percent" ? 100 : null,
      splitLine: { lineStyle: { color: LINE } }, axisLabel: { color: MUTED },
    },
    yAxis: {
      type: "category", inverse: true, data: spec.names,
      axisLabel: { width: 190, overflow: "truncate", color: "#1f2933" },
      axisTick: { show: false },
    },
    series: [{
      type: "bar", data: values, barMaxWidth: 18, cursor: "pointer",
      label: {
        show: true, position: "right", color: "#1f2933",
        formatter: (p) => fmt(p.value, spec.unit) + (spec.grades[p.dataIndex] && spec.unit === "score"
          ? ` ${spec.grades[p.dataIndex]}` : ""),
      },
      markLine: lines.length ? { silent: true, symbol: "none", data: lines } : undefined,
    }],
  };
}

// The share of each grade among the scored subjects of each kind (stacked to 100 %); the
// labels and the tooltip give the counts.
function grades(spec) {
  const totals = spec.categories.map((_, i) => spec.series.reduce((sum, s) => sum + s.values[i], 0));
  return {
    ...base(),
    legend: { top: 0, itemWidth: 14, itemHeight: 10 },
    grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      formatter: (items) => `${items[0].name}<br>` + items.filter((p) => p.data.count)
        .map((p) => `${p.marker}${p.seriesName}: <b>${p.data.count}</b>`).join("<br>"),
    },
    xAxis: { type: "value", max: 100, splitLine: { lineStyle: { color: LINE } },
      axisLabel: { color: MUTED, formatter: "{value}%" } },
    yAxis: { type: "category", inverse: true, data: spec.categories, axisTick: { show: false } },
    series: spec.series.map((s) => ({
      name: s.name, type: "bar", stack: "grades", cursor: "pointer", barMaxWidth: 20,
      itemStyle: { color: s.colour },
      data: s.values.map((n, i) => ({ value: totals[i] ? (100 * n) / totals[i] : 0, count: n })),
      label: { show: true, color: "#fff", formatter: (p) => (p.data.count && p.value >= 4 ? p.data.count : "") },
    })),
  };
}

// A subject's score over the last periods, grade bands behind, its rank on the right.
function trend(spec) {
  const bands = spec.bands || [];
  const areas = bands.map((b, i) => [
    { yAxis: b[1], itemStyle: { color: b[2], opacity: 0.08 } },
    { yAxis: i === 0 ? 100 : bands[i - 1][1] },
  ]);
  const points = spec.scores.map((v, i) => ({
    value: v,
    itemStyle: { color: spec.colourMap[spec.grades[i]] || MUTED },
  }));
  return {
    ...base(),
    legend: { top: 0, data: [spec.labels.score, spec.labels.rank] },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: spec.periods, axisLabel: { color: MUTED } },
    yAxis: [
      { type: "value", min: 0, max: 100, name: spec.labels.score, nameTextStyle: { color: MUTED },
        splitLine: { lineStyle: { color: LINE } }, axisLabel: { color: MUTED } },
      { type: "value", inverse: true, minInterval: 1, min: 1, max: Math.max(2, ...spec.ranked),
        name: spec.labels.rank,
        nameTextStyle: { color: MUTED }, splitLine: { show: false }, axisLabel: { color: MUTED } },
    ],
    series: [
      {
        name: spec.labels.score, type: "line", data: points, connectNulls: false,
        symbolSize: 9, lineStyle: { color: "#1769c4", width: 2 }, itemStyle: { color: "#1769c4" },
        cursor: "pointer",
        label: { show: true, position: "top", formatter: (p) => (p.value === null ? "" : p.value) },
        markArea: { silent: true, data: areas },
      },
      {
        name: spec.labels.rank, type: "line", yAxisIndex: 1, data: spec.ranks, step: "middle",
        symbol: "emptyCircle", lineStyle: { color: "#9aa5b1", type: "dashed" },
        itemStyle: { color: "#9aa5b1" },
      },
    ],
  };
}

// Throughput per day: one line per step of the loop.
function lines(spec) {
  return {
    ...base(),
    legend: { top: 0, type: "scroll" },
    grid: { left: 8, right: 16, top: 34, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: spec.x, axisLabel: { color: MUTED } },
    yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: LINE } },
      axisLabel: { color: MUTED } },
    series: spec.series.map((s) => ({
      name: s.name, type: "line", data: s.values, symbolSize: 4, smooth: false,
    })),
  };
}

function pie(spec) {
  const colours = spec.items.map((item, i) => item.colour || PALETTE[i % PALETTE.length]);
  const total = spec.items.reduce((sum, item) => sum + (item.value || 0), 0);
  return {
    ...base(),
    color: colours,
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { type: "scroll", orient: "vertical", right: 0, top: "middle" },
    series: [{
      type: "pie", radius: ["38%", "68%"], center: ["38%", "52%"],
      data: spec.items.map((item) => ({ name: item.name, value: item.value })),
      label: { formatter: (p) => (p.value ? `${p.value}` : "") },
      emptyCircleStyle: { color: "#eef2f7" },
      stillShowZeroSum: total === 0,
    }],
  };
}

// Mean and 90th percentile time per stage (hours).
function stages(spec) {
  return {
    ...base(),
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 34, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
      valueFormatter: (v) => (v === null || v === undefined ? "—" : v.toFixed(2)) },
    xAxis: { type: "category", data: spec.names,
      axisLabel: { color: MUTED, interval: 0, width: 64, overflow: "break", lineHeight: 14 } },
    yAxis: { type: "value", splitLine: { lineStyle: { color: LINE } }, axisLabel: { color: MUTED } },
    series: spec.series.map((s, i) => ({
      name: s.name, type: "bar", data: s.values, barMaxWidth: 22,
      itemStyle: { color: i === 0 ? "#1769c4" : "#ef6c00" },
    })),
  };
}

function bars(spec) {
  return {
    ...base(),
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "item", formatter: (p) => `${p.name}<br>${spec.title}: <b>${p.value}</b>` },
    xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: LINE } },
      axisLabel: { color: MUTED } },
    yAxis: { type: "category", inverse: true, data: spec.names,
      axisLabel: { width: 200, overflow: "truncate" }, axisTick: { show: false } },
    series: [{ type: "bar", data: spec.values, barMaxWidth: 18, itemStyle: { color: "#ef6c00" },
      label: { show: true, position: "right" } }],
  };
}

// Filed cases by weekday (rows) and hour (columns).
function heatmap(spec) {
  return {
    ...base(),
    grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
    tooltip: {
      formatter: (p) => `${spec.days[p.value[1]]} ${spec.hours[p.value[0]]}:00<br>`
        + `${spec.title}: <b>${p.value[2]}</b>`,
    },
    xAxis: { type: "category", data: spec.hours, splitArea: { show: true },
      axisLabel: { color: MUTED } },
    yAxis: { type: "category", data: spec.days, inverse: true, splitArea: { show: true } },
    visualMap: {
      min: 0, max: Math.max(1, spec.max), calculable: true, orient: "horizontal",
      left: "center", bottom: 0, itemHeight: 160,
      inRange: { color: ["#f4f6f9", "#ffe082", "#ef6c00", "#c62828"] },
    },
    series: [{
      type: "heatmap", data: spec.cells,
      label: { show: true, formatter: (p) => (p.value[2] ? p.value[2] : ""), fontSize: 11 },
      emphasis: { itemStyle: { borderColor: "#1f2933", borderWidth: 1 } },
    }],
  };
}

const BUILDERS = { ranking, grades, trend, lines, pie, stages, bars, heatmap };

function draw() {
  const data = readJson("chart-data");
  if (!echarts || !data) return [];
  const drawn = [];
  document.querySelectorAll(".chart[data-chart]").forEach((element) => {
    const spec = data[element.dataset.chart];
    const build = spec && BUILDERS[spec.type];
    if (!build) return;
    const chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(build(spec));
    if (spec.links) chart.on("click", go(spec.links));
    element.dataset.drawn = "1";
    drawn.push(chart);
  });
  return drawn;
}

// -- the hot-spot map: the top unit grids as circles sized by their cases, over the grids'
// outlines (our own layer; no tiles from the internet).

async function outlines(map, layer, hot) {
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6));
  const zoom = Math.round(map.getZoom());
  const level = zoom >= 14 ? "grid" : zoom >= 12 ? "community" : "street";
  const response = await fetch(`/api/v1/map/regions?level=${level}&zoom=${zoom}&bbox=${bbox.join(",")}`);
  if (!response.ok) return;
  const body = await response.json();
  layer.clearLayers();
  layer.addData(body);
  layer.eachLayer((f) => {
    const code = f.feature.properties.code;
    if (hot.has(code)) f.setStyle({ color: "#c62828", weight: 2, fillColor: "#ffcdd2", fillOpacity: 0.5 });
  });
}

function hotMap() {
  const L = window.L;
  const element = document.querySelector("[data-hot-map]");
  const points = readJson("hot-map-data");
  if (!L || !element || !points || !points.length) {
    if (element) element.classList.add("empty");
    return null;
  }
  const map = L.map(element, { attributionControl: false, zoomControl: true });
  const layer = L.geoJSON(null, {
    style: { color: "#90a4ae", weight: 1, fillColor: "#cfd8dc", fillOpacity: 0.15 },
  }).addTo(map);
  const hot = new Set(points.map((p) => p.code));
  const most = Math.max(...points.map((p) => p.filed), 1);
  const query = window.location.search;
  const markers = points.map((p, i) => {
    const marker = L.circleMarker([p.lat, p.lon], {
      radius: 7 + 13 * Math.sqrt(p.filed / most), color: "#fff", weight: 2,
      fillColor: "#c62828", fillOpacity: 0.85,
    }).addTo(map);
    marker.bindTooltip(`${i + 1}. ${p.name} · ${p.filed}`, { direction: "top" });
    marker.on("click", () => { window.location.href = `/evaluation/grid/${p.code}${query}`; });
    return marker;
  });
  const group = L.featureGroup(markers);
  map.fitBounds(group.getBounds().pad(0.25), { maxZoom: 16 });
  map.on("moveend", () => outlines(map, layer, hot));
  outlines(map, layer, hot);
  element.dataset.drawn = "1";
  return map;
}

const charts = draw();
const map = hotMap();
let pending = null;
window.addEventListener("resize", () => {
  clearTimeout(pending);
  pending = setTimeout(() => {
    charts.forEach((chart) => chart.resize());
    if (map) map.invalidateSize();
  }, 120);
});
