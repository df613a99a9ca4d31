// The physioemo live dashboard: fetches /setup once, then long-polls /frame?after=N and
// redraws four Plotly plots. The page's <body> carries data-frames (frames drawn) and, for the
// last 20 frames, data-trace-ends (time of the newest sample shown) and data-prob-counts
// (predictions plotted), so tests (and curious users) can see it updating.
"use strict";

const $ = (id) => document.getElementById(id);
const QUALITY_COLOURS = { ok: "#2e9d57", nan: "#e08a00", railed: "#c62d2d" };
const CONFIG = { displayModeBar: false, responsive: true };
const MARGIN = { l: 60, r: 10, t: 10, b: 30 };
let setup = null;
let latest = null;
let frames = 0;
const history = { traceEnds: [], probCounts: [] };

async function main() {
  setup = await (await fetch("setup")).json();
  $("about").textContent = `${setup.source} → ${setup.model} · channels: ${setup.channel_map}`;
  for (const band of setup.bands) $("band").add(new Option(band, band, band === "alpha", band === "alpha"));
  $("band").onchange = () => latest && drawTopomap(latest);
  poll(0);
}

async function poll(after) {
  let frame;
  try {
    frame = await (await fetch(`frame?after=${after}`)).json();
  } catch (error) {
    $("status").textContent = "stream ended";
    return;
  }
  if (frame.id) draw(frame);
  setTimeout(() => poll(frame.id || after), 100);
}

function draw(frame) {
  latest = frame;
  frames += 1;
  document.body.dataset.frames = frames;
  remember("traceEnds", frame.t);
  remember("probCounts", frame.probabilities.t.length);
  drawStatus(frame.status);
  drawTraces(frame.traces);
  drawProbabilities(frame.probabilities);
  drawTopomap(frame);
  if (frame.quality) drawQuality(frame.quality);
}

function remember(key, value) {
  history[key] = history[key].concat([value]).slice(-20);
  document.body.dataset[key] = history[key].join(" ");
}

function drawStatus(s) {
  const latency = s.latency ? `${s.latency_ms} ms (p99 ${s.latency.p99} ms)` : "–";
  $("status").innerHTML =
    `<span class="prediction">${s.prediction ?? "…"}</span> · latency ${latency} · ` +
    `windows ${s.windows} · samples ${s.samples} · dropped ${s.dropped} · reconnects ${s.reconnects}`;
}

function drawTraces(traces) {
  const n = traces.y.length;
  const data = traces.y.map((y, i) => ({
    x: traces.t, y, name: setup.channels[i], type: "scatter", mode: "lines",
    line: { width: 1 }, hoverinfo: "name",
  }));
  const ticks = setup.channels.map((_, i) => (n - 1 - i) * 6 * traces.spread);
  Plotly.react("traces", data, {
    margin: MARGIN, showlegend: false,
    xaxis: { title: { text: "s" }, range: [traces.t[0], traces.t[traces.t.length - 1]] },
    yaxis: { tickvals: ticks, ticktext: setup.channels, zeroline: false },
  }, CONFIG);
}

function drawProbabilities(p) {
  const data = setup.labels.map((label, k) => ({
    x: p.t, y: p.p[k] || [], name: label, type: "scatter", mode: "lines",
  }));
  Plotly.react("probabilities", data, {
    margin: MARGIN, yaxis: { range: [0, 1], title: { text: "probability" } },
    xaxis: { title: { text: "s" } }, legend: { orientation: "h", y: 1.12 },
  }, CONFIG);
}

function drawTopomap(frame) {
  const topo = setup.topomap;
  if (!topo || !frame.bands) return;
  const values = frame.bands[$("band").value];
  const z = new Array(topo.axis.length * topo.axis.length).fill(null);
  topo.inside.forEach((cell, row) => {
    z[cell] = topo.matrix[row].reduce((sum, w, j) => sum + w * values[j], 0);
  });
  const grid = [];
  for (let i = 0; i < topo.axis.length; i++) grid.push(z.slice(i * topo.axis.length, (i + 1) * topo.axis.length));
  const r = topo.radius;
  Plotly.react("topomap", [
    { z: grid, x: topo.axis, y: topo.axis, type: "contour", colorscale: "RdBu",
      contours: { coloring: "heatmap", showlines: false }, ncontours: 24, connectgaps: false,
      colorbar: { title: { text: "log10 µV²" } }, hoverinfo: "skip" },
    { x: topo.x, y: topo.y, text: topo.names, type: "scatter", mode: "markers+text",
      textposition: "top center", marker: { color: "#111", size: 5 }, textfont: { size: 9 },
      hovertext: topo.names.map((name, j) => `${name}: ${values[j]}`), hoverinfo: "text" },
  ], {
    margin: { l: 10, r: 10, t: 10, b: 10 }, showlegend: false,
    xaxis: { visible: false, range: [-1.15 * r, 1.15 * r] },
    yaxis: { visible: false, range: [-1.15 * r, 1.2 * r], scaleanchor: "x" },
    shapes: [
      { type: "circle", x0: -r, y0: -r, x1: r, y1: r, line: { color: "#333" } },
      { type: "path", path: `M ${-0.12 * r} ${0.99 * r} L 0 ${1.12 * r} L ${0.12 * r} ${0.99 * r}`, line: { color: "#333" } },
    ],
  }, CONFIG);
}

function drawQuality(q) {
  Plotly.react("quality", [{
    x: q.names, y: q.rms, type: "bar", text: q.states, textposition: "outside",
    marker: { color: q.states.map((s) => QUALITY_COLOURS[s] || "#888") },
    hovertemplate: "%{x}: %{y} (RMS) %{text}<extra></extra>",
  }], { margin: MARGIN, yaxis: { title: { text: "RMS (source units)" } } }, CONFIG);
}

main();
