"""A live dashboard in the browser: ``physioemo live --web [--port P]``.

The stack (our choice): Python's own `http.server` in background threads serves one page of
ours (``physioemo/live/dashboard/``: HTML, CSS and a small script) and plotly.js from the
installed `plotly` package, whose wheel ships ``plotly.min.js`` (``pip install
'physioemo[web]'``); nothing third-party is copied into physioemo and nothing is fetched from
the internet. Plotly is well kept (MIT, monthly releases) and draws the four plots the page
needs, and the stdlib server adds no framework, event loop or JS build step to the live path.

The page fetches ``/setup`` once (channels, electrode positions, the topomap's interpolation
matrix, class names), then long-polls ``/frame?after=N``: the server answers as soon as frame
N+1 exists. A thread of this view builds a frame `fps` times a second from the stream's ring
buffer (scrolling traces, band power per electrode) and the latest predictions (quality, class
probabilities over time, latency, dropped samples); the stream thread only appends each
prediction to a queue, so the view adds next to nothing to its latency.
"""

from __future__ import annotations

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


def topomap_setup(ch_names) -> dict | None:
    """Flat electrode positions and the (n_inside, n_placed) thin-plate-spline matrix that
    fills a GRID x GRID map inside the head from the placed channels' values; None with
    fewer than 3 placed channels."""
    from scipy.interpolate import RBFInterpolator

    placed = [i for i, name in enumerate(ch_names) if montage.canonical(name) is not None]
    if len(placed) < 3:
        return None
    xy = montage.flat_positions([ch_names[i] for i in placed])
    radius = max(1.05 * float(np.linalg.norm(xy, axis=1).max()), np.pi / 2)
    axis = np.linspace(-radius, radius, GRID)
    gx, gy = np.meshgrid(axis, axis)
    inside = np.flatnonzero(np.hypot(gx, gy).ravel() <= 0.97 * radius)  # cells within the rim
    points = np.column_stack([gx.ravel()[inside], gy.ravel()[inside]])
    spline = RBFInterpolator(xy, np.eye(len(placed)), kernel="thin_plate_spline")
    return {
        "rows": placed,
        "names": [ch_names[i] for i in placed],
        "x": xy[:, 0].round(4).tolist(),
        "y": xy[:, 1].round(4).tolist(),
        "axis": axis.round(4).tolist(),
        "radius": radius,
        "inside": inside.tolist(),
        "matrix": spline(points).round(5).tolist(),
    }


def band_powers(x: np.ndarray, sfreq: float) -> dict[str, list[float]]:
    """log10 band power (uV^2) per channel of (n_channels, n) samples, Hann-windowed FFT."""
    x = x - x.mean(axis=1, keepdims=True)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.shape[1]), axis=1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1 / sfreq)
    out = {}
    for band, (low, high) in BANDS.items():
        power = spectrum[:, (freqs >= low) & (freqs < high)].sum(axis=1)
        out[band] = np.log10(power + 1e-12).round(3).tolist()
    return out


class WebView:
    """Serves the dashboard of a `stream.LiveStream` at `url` until `close`.

    Args:
        stream: the stream to show. port: TCP port on `host` (0: any free one).
        fps: frames built per second. seconds: span of the scrolling traces.
        history: predictions kept for the probability plot.
    Raises LiveError (one line) when plotly is missing or the port is taken.
    """

    def __init__(self, stream, port=8765, host="127.0.0.1", fps=5.0, seconds=5.0, history=240):
        self.stream, self.fps, self.seconds = stream, fps, seconds
        self.script = plotly_js()
        source = stream.source
        self.trace_rows = list(range(min(MAX_TRACES, len(source.ch_names))))
        self.topomap = topomap_setup(source.ch_names)
        self.setup = json.dumps(self._setup()).encode()
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
        self.url = f"http://{host}:{self.server.server_address[1]}/"
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
            "channels": [source.ch_names[i] for i in self.trace_rows],
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
            total = self.stream.buffer.total
            if total in (shown, 0):  # nothing new (or nothing yet, e.g. while models warm up)
                continue
            shown = total
            body = json.dumps(self._frame(self.frame_id + 1)).encode()
            with self.changed:
                self.frame, self.frame_id = body, self.frame_id + 1
                self.changed.notify_all()

    def _frame(self, number: int) -> dict:
        stream, source = self.stream, self.stream.source
        sfreq, buffer = source.sfreq, stream.buffer
        recent = buffer.latest(int(self.seconds * sfreq))[self.trace_rows]
        step = max(1, recent.shape[1] // 500)
        start = (buffer.total - recent.shape[1]) / sfreq
        traces = recent[:, ::step]
        spread = float(np.median(traces.std(axis=1))) or 1.0
        offsets = np.arange(len(traces))[::-1, None] * 6 * spread
        results = list(self.results)
        last = results[-1] if results else None
        frame = {
            "id": number,
            "t": round(buffer.total / sfreq, 3),
            "traces": {
                "t": (start + np.arange(traces.shape[1]) * step / sfreq).round(4).tolist(),
                "y": (traces - traces.mean(axis=1, keepdims=True) + offsets).round(2).tolist(),
                "spread": spread,
            },
            "probabilities": {
                "t": [round(r.time, 3) for r in results],
                "p": np.array([r.probabilities for r in results]).T.round(4).tolist(),
            },
            "status": self._status(last),
        }
        if last is not None:
            frame["quality"] = {
                "names": source.ch_names,
                "states": last.quality,
                "rms": np.round(last.rms, 2).tolist(),
            }
        if self.topomap and buffer.total >= sfreq:
            powers = band_powers(buffer.latest(int(sfreq))[self.topomap["rows"]], sfreq)
            frame["bands"] = powers
        return frame

    def _status(self, last) -> dict:
        counts = self.stream.counts
        return {
            "prediction": last.label if last else None,
            "latency_ms": round(last.latency_ms, 2) if last else None,
            "latency": percentiles(counts.latency_ms[-1000:]),
            "windows": counts.windows,
            "samples": counts.samples,
            "dropped": counts.dropped,
            "reconnects": counts.reconnects,
        }


def _handler(view: WebView):
    """The request handler class of one view."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # the terminal belongs to the live view
            pass

        def do_GET(self):
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
                self.send_error(404)

        def _send(self, body: bytes, kind: str, cache=False):
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the page went away
                pass

    return Handler
