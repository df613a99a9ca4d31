// The physioemo live dashboard: fetches /setup once, then long-polls /frame?after=N and
// redraws its Plotly plots. The page's <body> carries data-frames (frames drawn), for the
// last 20 frames data-trace-ends (time of the newest sample) and data-prob-counts
// (predictions plotted), and data-csp-violations, so tests (and curious users) can see it
// updating.
//
// Text is data: names come from checkpoints, files and streams, so they enter the page only
// as textContent, and Plotly (which reads a few HTML tags in its labels) gets them escaped.
"use strict";

const $ = (id) => document.getElementById(id);
const QUALITY_COLOURS = { ok: "#2e9d57", nan: "#e08a00", railed: "#c62d2d" };
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const KINDS = { eda: "EDA", ppg: "PPG", temp: "Temperature", ecg: "ECG", resp: "Respiration", acc: "Accelerometer" };
const CONFIG = { displayModeBar: false, responsive: true };
const MARGIN = { l: 60, r: 10, t: 10, b: 30 };
let setup = null;
let latest = null;
let frames = 0;
const history = { traceEnds: [], probCounts: [] };

// Text for Plotly: its labels read <b>, <a href>, <br> and entities; escaped, they are text.
const esc = (value) => String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const colour = (k) => COLOURS[k % COLOURS.length];

document.addEventListener("securitypolicyviolation", () => {
  document.body.dataset.cspViolations = Number(document.body.dataset.cspViolations) + 1;
});

async function main() {
  setup = await (await fetch("setup")).json();
  $("about").textContent = `${setup.source} → ${setup.model}`;
  $("channels").textContent = `channels: ${setup.channel_map}`;
  $("eeg-section").hidden = !setup.eeg;
  $("eeg-unit").textContent = `(${setup.unit}, offset per channel)`;
  $("track-section").hidden = !setup.truth;
  $("eda-section").hidden = !setup.eda;
  $("topomap-section").hidden = !setup.topomap;
  $("physiology-section").hidden = setup.streams.length === 0;
  setup.streams.forEach((stream, i) => {
    const title = document.createElement("h3");
    title.textContent = `${KINDS[stream.kind] || stream.kind} · ${stream.name} (${stream.unit})`;
    const plot = document.createElement("div");
    plot.id = `physiology-${i}`;
    plot.className = "plot stream";
    plot.dataset.stream = stream.name;
    $("physiology").append(title, plot);
  });
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
  drawWarnings(frame.warnings);
  if (frame.traces) drawTraces(frame.traces);
  drawProbabilities(frame.probabilities);
  if (frame.truth) drawTrack(frame.probabilities.t, frame.truth);
  if (frame.eda) drawEda(frame.eda);
  drawPhysiology(frame.physiology);
  drawTopomap(frame);
  if (frame.quality) drawQuality(frame.quality);
}

function remember(key, value) {
  history[key] = history[key].concat([value]).slice(-20);
  document.body.dataset[key] = history[key].join(" ");
}

function span(text, className) {
  const element = document.createElement("span");
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

function drawStatus(s) {
  const latency = s.latency ? `${s.latency_ms} ms (p99 ${s.latency.p99} ms)` : "–";
  const parts = [span(s.prediction ?? "…", "prediction")];
  if (setup.truth) {
    parts.push(span(" · true: "), span(s.truth ?? "–", "truth"));
    if (s.agreement !== null) parts.push(span(` · agreement ${Math.round(100 * s.agreement)} % of ${s.labelled}`));
  }
  parts.push(span(
    ` · latency ${latency} · windows ${s.windows} · samples ${s.samples} · ` +
    `dropped ${s.dropped} · reconnects ${s.reconnects}`,
  ));
  $("status").replaceChildren(...parts);
}

function drawWarnings(warnings) {
  $("warnings").hidden = warnings.length === 0;
  $("warnings").replaceChildren(...warnings.map((text) => {
    const line = document.createElement("p");
    line.textContent = `⚠ ${text}`;
    return line;
  }));
}

function drawTraces(traces) {
  const n = traces.y.length;
  const data = traces.y.map((y, i) => ({
    x: traces.t, y, name: esc(setup.channels[i]), type: "scatter", mode: "lines",
    line: { width: 1 }, hoverinfo: "name",
  }));
  const ticks = setup.channels.map((_, i) => (n - 1 - i) * 6 * traces.spread);
  Plotly.react("traces", data, {
    margin: MARGIN, showlegend: false,
    xaxis: { title: { text: "s" }, range: [traces.t[0], traces.t[traces.t.length - 1]] },
    yaxis: { tickvals: ticks, ticktext: setup.channels.map(esc), zeroline: false },
  }, CONFIG);
}

function drawProbabilities(p) {
  const data = setup.labels.map((label, k) => ({
    x: p.t, y: p.p.map((row) => row[k]), name: esc(label), type: "scatter", mode: "lines",
    line: { color: colour(k) },
  }));
  Plotly.react("probabilities", data, {
    margin: MARGIN, yaxis: { range: [0, 1], title: { text: "probability" } },
    xaxis: { title: { text: "s" } }, legend: { orientation: "h", y: 1.12 },
  }, CONFIG);
}

// Two rows of coloured cells, one per window: the true class (blank where the window's
// true label is none of the model's classes) and the predicted one, in the probabilities'
// colours.
function drawTrack(t, truth) {
  const index = new Map(setup.labels.map((label, k) => [label, k]));
  const predicted = latest.probabilities.p.map((row) => row.indexOf(Math.max(...row)));
  const k = setup.labels.length;
  const scale = setup.labels.flatMap((_, i) => [[i / k, colour(i)], [(i + 1) / k, colour(i)]]);
  const shown = (label) => esc(label ?? "(not known)");
  Plotly.react("track", [{
    type: "heatmap", x: t, y: ["predicted", "true"],
    z: [predicted, truth.map((label) => (index.has(label) ? index.get(label) : null))],
    text: [predicted.map((i) => esc(setup.labels[i])), truth.map(shown)],
    hovertemplate: "%{y} at %{x} s: %{text}<extra></extra>",
    colorscale: scale, zmin: -0.5, zmax: k - 0.5, showscale: false, xgap: 0, ygap: 2,
  }], {
    margin: { l: 70, r: 10, t: 5, b: 25 }, xaxis: { title: { text: "" } },
  }, CONFIG);
}

function drawEda(eda) {
  Plotly.react("eda", [
    { x: eda.t, y: eda.measured_scaled, customdata: eda.measured, name: "measured (min–max of the windows shown)",
      type: "scatter", mode: "lines", line: { color: "#444" },
      hovertemplate: "measured %{customdata} µS<extra></extra>" },
    { x: eda.t, y: eda.predicted, name: "predicted (training scale)", type: "scatter",
      mode: "lines", line: { color: "#d62728" }, hovertemplate: "predicted %{y}<extra></extra>" },
  ], {
    margin: MARGIN, legend: { orientation: "h", y: 1.15 },
    yaxis: { title: { text: "EDA, scaled to [0, 1]" } }, xaxis: { title: { text: "s" } },
  }, CONFIG);
}

function drawPhysiology(physiology) {
  setup.streams.forEach((stream, i) => {
    const trace = physiology[stream.name];
    if (!trace) return;
    const data = trace.y.map((y, c) => ({
      x: trace.t, y, name: esc(stream.channels[c]), type: "scatter", mode: "lines",
      line: { width: 1, color: colour(c) },
    }));
    Plotly.react(`physiology-${i}`, data, {
      margin: { l: 60, r: 10, t: 5, b: 25 }, showlegend: stream.channels.length > 1,
      legend: { orientation: "h", y: 1.2 },
      yaxis: { title: { text: esc(stream.unit) } }, xaxis: { title: { text: "" } },
    }, CONFIG);
  });
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
      colorbar: { title: { text: esc(`log10 ${setup.unit}²`) } }, hoverinfo: "skip" },
    { x: topo.x, y: topo.y, text: topo.names.map(esc), type: "scatter", mode: "markers+text",
      textposition: "top center", marker: { color: "#111", size: 5 }, textfont: { size: 9 },
      hovertext: topo.names.map((name, j) => esc(`${name}: ${values[j]}`)), hoverinfo: "text" },
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
    x: q.names.map(esc), y: q.rms, type: "bar", text: q.states, textposition: "outside",
    marker: { color: q.states.map((s) => QUALITY_COLOURS[s] || "#888") },
    hovertemplate: "%{x}: %{y} (RMS) %{text}<extra></extra>",
  }], { margin: MARGIN, yaxis: { title: { text: `RMS (${esc(setup.unit)})` } } }, CONFIG);
}

main();
