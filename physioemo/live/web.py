"""A live dashboard in the browser: ``physioemo live --web [--port P]``.

The stack (our choice): Python's own `http.server` in background threads serves one page of
ours (``physioemo/live/dashboard/``: HTML, CSS and a small script) and plotly.js from the
installed `plotly` package, whose wheel ships ``plotly.min.js`` (``pip install
'physioemo[web]'``); nothing third-party is copied into physioemo and nothing is fetched from
the internet. Plotly is well kept (MIT, monthly releases) and draws the plots the page needs,
and the stdlib server adds no framework, event loop or JS build step to the live path.

The page fetches ``/setup`` once (channels and their unit, the physiological streams, electrode
positions, the topomap's interpolation matrix, class names), then long-polls
``/frame?after=N``: the server answers as soon as frame N+1 exists. A thread of this view
builds a frame `fps` times a second from the stream's ring buffers (scrolling EEG traces, every
physiological stream, band power per electrode) and the latest predictions (quality, class
probabilities and true labels over time, the PINN's EDA, loud warnings, latency, dropped
samples); the stream thread only appends each prediction to a queue, so the view adds next to
nothing to its latency.

Text is data: the page puts every name (classes, channels, streams, units; they come from
checkpoints, files and streams) into the document as text (`textContent`, and escaped for
Plotly, which reads a few HTML tags in its labels), every response carries a strict
Content-Security-Policy (scripts only from this server, no inline script, no eval), and the
server answers only requests whose ``Host`` is its own loopback address and port (403
otherwise), so a page on another site cannot read the frames by DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlparse

import numpy as np

from .. import montage
from ..features import BANDS
from . import LiveError
from .stream import percentiles

PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}
#: headers of every response. Plotly styles its SVG with style attributes and one <style>
#: element it writes, hence 'unsafe-inline' for styles (styles cannot run code); scripts come
#: only from this server.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: how units are shown (`source.UNITS`' names)
UNIT_LABELS = {"uV": "µV", "uS": "µS", "degC": "°C"}
#: Points of the topomap grid along each axis.
GRID = 41
#: Most traces shown (the first channels of a bigger montage).
MAX_TRACES = 32


def plotly_js():
    """plotly.min.js from the installed plotly package (bytes)."""
    try:
        path = resources.files("plotly") / "package_data" / "plotly.min.js"
        return path.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise LiveError(
            "--web needs plotly (its wheel ships plotly.js): pip install 'physioemo[web]'"
        ) from error


def unit_label(unit: str) -> str:
    """A unit as the page shows it ("uV" -> "µV")."""
    return UNIT_LABELS.get(unit, unit)


def topomap_setup(ch_names) -> dict | None:
    """Flat electrode positions and the (n_inside, n_placed) thin-plate-spline matrix that
    fills the cells of a GRID x GRID map that lie inside the head and inside the convex hull
    of the placed electrodes (no extrapolation where no electrode is: MNE's "local"
    semantics) from the placed channels' values; None with fewer than 3 placed channels or
    electrodes on one line."""
    from scipy.interpolate import RBFInterpolator
    from scipy.spatial import Delaunay, QhullError

    placed = [i for i, name in enumerate(ch_names) if montage.canonical(name) is not None]
    if len(placed) < 3:
        return None
    xy = montage.flat_positions([ch_names[i] for i in placed])
    try:
        hull = Delaunay(xy)
    except QhullError:  # all on one line: nothing to fill
        return None
    radius = max(1.05 * float(np.linalg.norm(xy, axis=1).max()), np.pi / 2)
    axis = np.linspace(-radius, radius, GRID)
    gx, gy = np.meshgrid(axis, axis)
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    within = (np.hypot(*cells.T) <= 0.97 * radius) & (hull.find_simplex(cells) >= 0)
    inside = np.flatnonzero(within)
    spline = RBFInterpolator(xy, np.eye(len(placed)), kernel="thin_plate_spline")
    return {
        "rows": placed,
        "names": [ch_names[i] for i in placed],
        "x": xy[:, 0].round(4).tolist(),
        "y": xy[:, 1].round(4).tolist(),
        "axis": axis.round(4).tolist(),
        "radius": radius,
        "inside": inside.tolist(),
        "matrix": spline(cells[inside]).round(5).tolist(),
    }


def band_powers(x: np.ndarray, sfreq: float) -> dict[str, list[float]]:
    """log10 of the power (in the samples' unit squared, uV^2 for EEG) of each band of
    `features.BANDS` per channel of (n_channels, n) samples: the one-sided power spectral
    density (`scipy.signal.periodogram`, Hann window, mean removed) summed over the band's
    bins times the bin width. A sine of amplitude A inside a band has power A^2 / 2 there."""
    from scipy.signal import periodogram

    freqs, density = periodogram(x, sfreq, window="hann", detrend="constant", axis=-1)
    step = freqs[1] - freqs[0]
    out = {}
    for band, (low, high) in BANDS.items():
        power = density[:, (freqs >= low) & (freqs < high)].sum(axis=1) * step
        out[band] = np.log10(power + 1e-12).round(3).tolist()
    return out


def numbers(values, decimals: int) -> list:
    """An array as (nested) lists of rounded numbers, None where not finite (JSON has no
    NaN)."""
    values = np.round(np.asarray(values, dtype=float), decimals)
    return np.where(np.isfinite(values), values, None).tolist()


class WebView:
    """Serves the dashboard of a `stream.LiveStream` at `url` until `close`.

    Args:
        stream: the stream to show. port: TCP port on `host` (0: any free one).
        host: a loopback address. fps: frames built per second. seconds: span of the
        scrolling EEG traces. history: predictions kept for the probability plot.
    Raises LiveError (one line) when plotly is missing, `host` is not a loopback address or
    the port is taken.
    """

    def __init__(self, stream, port=8765, host="127.0.0.1", fps=5.0, seconds=5.0, history=240):
        if not ipaddress.ip_address(host).is_loopback:
            raise LiveError(f"the dashboard serves a loopback address only, not {host}")
        self.stream, self.fps, self.seconds = stream, fps, seconds
        self.script = plotly_js()
        source = stream.source
        self.trace_rows = list(range(min(MAX_TRACES, len(source.ch_names))))
        self.topomap = topomap_setup(source.ch_names) if stream.main.kind == "eeg" else None
        self.setup = json.dumps(self._setup(), allow_nan=False).encode()
        self.results = deque(maxlen=history)
        self.frame, self.frame_id = b"{}", 0
        self.changed = threading.Condition()
        self.stopped = False
        try:
            self.server = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as error:
            raise LiveError(
                f"--port {port}: cannot serve the dashboard there ({error.strerror}); "
                "pick another port (0: any free one)"
            ) from None
        self.server.daemon_threads = True
        bound = self.server.server_address[1]
        self.url = f"http://{host}:{bound}/"
        self.hosts = {f"{host}:{bound}", f"localhost:{bound}"}  # the Host headers answered
        self._threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._frames, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _setup(self) -> dict:
        stream, source = self.stream, self.stream.source
        return {
            "source": source.name,
            "model": stream.predictor.name,
            "channel_map": stream.map.description,
            "labels": list(stream.predictor.labels),
            "eeg": stream.main.kind == "eeg",
            "channels": [source.ch_names[i] for i in self.trace_rows],
            "unit": unit_label(stream.main.unit),
            "streams": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "unit": unit_label(s.unit),
                    "channels": list(s.ch_names),
                }
                for s in stream.streams
                if s.kind != "eeg"
            ],
            "eda": bool(getattr(stream.predictor, "time_input", False)),
            "truth": stream.labels is not None,
            "bands": list(BANDS),
            "topomap": self.topomap,
        }

    # -------------------------------------------------------------- stream thread
    def update(self, result, stream) -> None:
        """Called for every prediction: queue what the frames show of it."""
        self.results.append(result)

    def close(self) -> None:
        self.stopped = True
        with self.changed:
            self.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # -------------------------------------------------------------- view threads
    def _frames(self) -> None:
        shown = -1
        while not self.stopped:
            time.sleep(1 / self.fps)
            total = sum(self.stream.seen.values())
            if total in (shown, 0):  # nothing new (or nothing yet, e.g. while models warm up)
                continue
            try:
                frame = self._frame(self.frame_id + 1)
            except IndexError:  # the stream pushed while a buffer was read: the next tick
                continue
            shown = total
            body = json.dumps(frame, allow_nan=False).encode()
            with self.changed:
                self.frame, self.frame_id = body, self.frame_id + 1
                self.changed.notify_all()

    def _frame(self, number: int) -> dict:
        stream = self.stream
        results = list(self.results)
        last = results[-1] if results else None
        frame = {
            "id": number,
            "t": round(stream.seen[stream.main.name] / stream.main.sfreq, 3),
            "probabilities": {
                "t": [round(r.time, 3) for r in results],
                "p": numbers([r.probabilities for r in results], 4),
            },
            "physiology": self._physiology(),
            "warnings": list(last.warnings.values()) if last else [],
            "status": self._status(last),
        }
        if self.stream.labels is not None:
            frame["truth"] = [r.true_label for r in results]
        if any(r.eda for r in results):
            frame["eda"] = _eda(results)
        if self.stream.main.kind == "eeg":
            frame.update(self._eeg(last))
        elif last is not None:
            frame["quality"] = _quality(stream.source.ch_names, last)
        return frame

    def _eeg(self, last) -> dict:
        """The scrolling EEG traces, quality and band powers."""
        stream, sfreq, buffer = self.stream, self.stream.main.sfreq, self.stream.buffer
        recent = buffer.latest(int(self.seconds * sfreq))[self.trace_rows]
        step = max(1, recent.shape[1] // 500)
        start = (buffer.total - recent.shape[1]) / sfreq
        traces = recent[:, ::step]
        spread = float(np.nanmedian(traces.std(axis=1))) if traces.size else 0.0
        spread = spread if np.isfinite(spread) and spread > 0 else 1.0
        offsets = np.arange(len(traces))[::-1, None] * 6 * spread
        out = {
            "traces": {
                "t": numbers(start + np.arange(traces.shape[1]) * step / sfreq, 4),
                "y": numbers(traces - traces.mean(axis=1, keepdims=True) + offsets, 2),
                "spread": spread,
            }
        }
        if last is not None:
            out["quality"] = _quality(stream.source.ch_names, last)
        if self.topomap and buffer.total >= sfreq:
            out["bands"] = band_powers(buffer.latest(int(sfreq))[self.topomap["rows"]], sfreq)
        return out

    def _physiology(self) -> dict:
        """Every non-EEG stream's newest samples (`LiveStream.traces`): name -> {"t" (s from
        the stream's start), "y" (n_channels lists)}."""
        out = {}
        for name, trace in (self.stream.traces() or {}).items():
            n = trace["samples"].shape[1]
            t = trace["t"] - (n - 1 - np.arange(n)) / trace["sfreq"]
            out[name] = {"t": numbers(t, 3), "y": numbers(trace["samples"], 4)}
        return out

    def _status(self, last) -> dict:
        counts = self.stream.counts
        return {
            "prediction": last.label if last else None,
            "truth": last.true_label if last else None,
            "agreement": round(counts.agreed / counts.labelled, 4) if counts.labelled else None,
            "labelled": counts.labelled,
            "latency_ms": round(last.latency_ms, 2) if last else None,
            "latency": percentiles(counts.latency_ms[-1000:]),
            "windows": counts.windows,
            "samples": counts.samples,
            "dropped": counts.dropped,
            "reconnects": counts.reconnects,
        }


def _quality(ch_names, last) -> dict:
    return {"names": list(ch_names), "states": last.quality, "rms": numbers(last.rms, 2)}


def _eda(results) -> dict:
    """The PINN's predicted EDA (its training target's per-subject [0, 1] scale) beside the
    measured one (uS, and min-max scaled over the windows shown), per window."""
    shown = [r for r in results if r.eda]
    measured = np.array([r.eda.get("measured", np.nan) for r in shown], dtype=float)
    known = measured[np.isfinite(measured)]
    low, high = (known.min(), known.max()) if known.size else (0.0, 0.0)
    scaled = (measured - low) / (high - low) if high > low else np.zeros_like(measured)
    return {
        "t": [round(r.time, 3) for r in shown],
        "predicted": numbers([r.eda["predicted"] for r in shown], 4),
        "measured": numbers(measured, 4),
        "measured_scaled": numbers(scaled, 4),
    }


def _handler(view: WebView):
    """The request handler class of one view."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # the terminal belongs to the live view
            pass

        def do_GET(self):
            if self.headers.get("Host") not in view.hosts:  # e.g. DNS rebinding
                self._send(b"forbidden: not this dashboard's address\n", "text/plain", 403)
                return
            url = urlparse(self.path)
            if url.path in PAGE_FILES:
                name, kind = PAGE_FILES[url.path]
                body = (resources.files(__package__) / "dashboard" / name).read_bytes()
                self._send(body, kind)
            elif url.path == "/plotly.min.js":
                self._send(view.script, "text/javascript; charset=utf-8", cache=True)
            elif url.path == "/setup":
                self._send(view.setup, "application/json")
            elif url.path == "/frame":
                after = parse_qs(url.query).get("after", ["0"])[0]
                after = int(after) if after.isdigit() else 0
                with view.changed:
                    view.changed.wait_for(lambda: view.frame_id > after or view.stopped, 2.0)
                    body = view.frame
                self._send(body, "application/json")
            else:
                self._send(b"not found\n", "text/plain", 404)

        def _send(self, body: bytes, kind: str, status=200, cache=False):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            for header, value in SECURITY_HEADERS.items():
                self.send_header(header, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the page went away
                pass

    return Handler
